// A stand-in for k6 on the rehearsal cluster, where k6 cannot load the app: kwok's pods run no
// process, so requests to them would cost no CPU and the HPA would have nothing to react to. The
// rehearsal's load step puts this file on PATH as `k6` for scripts/load.mts, which runs it unchanged.
//
// It speaks the part of k6's command line load.mts uses: `k6 version`, and `k6 run [--quiet]
// [-e NAME=VALUE]... [--out json=PATH] SCRIPT`. What it writes copies k6's own shapes:
//   SUMMARY_PATH (-e): the handleSummary data that load/hpa.ts writes there
//     (https://grafana.com/docs/k6/latest/results-output/end-of-test/custom-summary/);
//   --out json=PATH: one JSON Point per line, gzip when PATH ends in .gz
//     (https://grafana.com/docs/k6/latest/results-output/real-time/json/).
// The load itself is simulated as the CPU it would cost: REHEARSAL_LOAD_MILLICORES at the peak,
// following the scenario's ramp (RAMP_UP, HOLD, RAMP_DOWN), split evenly over the ready pods matched
// by REHEARSAL_LOAD_SELECTOR in REHEARSAL_LOAD_NAMESPACE (as their Service spreads requests), and
// written for container REHEARSAL_LOAD_CONTAINER as kwok ResourceUsage objects, one per pod, which
// kwok reports to metrics-server. Real requests go to BASE_URL/api/health (the rehearsal's app
// stand-in) meanwhile, and the summary reports their timings. At the end, or on SIGINT/SIGTERM,
// the ResourceUsage objects are deleted: the pods fall back to the cluster's idle usage.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { percentile, k6DurationSeconds, SCENARIO_DEFAULTS } from '../load/k6.ts';

/** The label on every ResourceUsage this stand-in writes, so it deletes exactly those. */
export const LOAD_LABEL = 'aks-todo-ops.rehearsal/load';
/** How often the demand is recomputed and the pods re-read. */
const TICK_MS = 2000;

export interface Ramp { rampUp: number; hold: number; rampDown: number }

/** The share of the peak load at `t` seconds: up linearly, hold, down linearly (load/hpa.ts's stages). */
export function loadShare(t: number, r: Ramp): number {
  if (t < 0) return 0;
  if (t < r.rampUp) return t / r.rampUp;
  if (t < r.rampUp + r.hold) return 1;
  const down = t - r.rampUp - r.hold;
  return down < r.rampDown ? 1 - down / r.rampDown : 0;
}

interface PodDoc { metadata: { name: string; deletionTimestamp?: string }; status?: { conditions?: Array<{ type: string; status: string }> } }
type Usage = Record<string, { value: string }>;
interface UsageEntry { containers?: string[]; usage: Usage }

/** Names of the pods a Service would send requests to: Ready and not terminating. */
export function readyPods(pods: readonly PodDoc[]): string[] {
  return pods.filter((p) => !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')).map((p) => p.metadata.name).sort();
}

/**
 * One kwok ResourceUsage per ready pod: `millicores` shared evenly, on `container`; every other
 * resource and container keeps `idle` (the cluster's default usage), since a ResourceUsage replaces
 * it for its pod.
 */
export function resourceUsages(o: { namespace: string; pods: readonly string[]; container: string; millicores: number; idle?: UsageEntry }): unknown {
  const each = o.pods.length ? Math.ceil(o.millicores / o.pods.length) : 0;
  const usages: UsageEntry[] = [{ containers: [o.container], usage: { ...o.idle?.usage, cpu: { value: `${each}m` } } }, ...(o.idle ? [{ usage: o.idle.usage }] : [])];
  return {
    apiVersion: 'v1',
    kind: 'List',
    items: o.pods.map((name) => ({
      apiVersion: 'kwok.x-k8s.io/v1alpha1',
      kind: 'ResourceUsage',
      metadata: { name, namespace: o.namespace, labels: { [LOAD_LABEL]: 'k6-standin' } },
      spec: { usages },
    })),
  };
}

/** k6's handleSummary data for the requests sent: the metrics and thresholds load/hpa.ts declares. */
export function summaryData(o: { durationsMs: readonly number[]; failed: number; seconds: number; peakVus: number }): unknown {
  const d = o.durationsMs;
  const count = d.length;
  const p95 = percentile(d, 95) ?? 0;
  const failedRate = count ? o.failed / count : 0;
  return {
    state: { testRunDurationMs: Math.round(o.seconds * 1000) },
    metrics: {
      http_reqs: { type: 'counter', contains: 'default', values: { count, rate: o.seconds > 0 ? count / o.seconds : 0 } },
      http_req_duration: {
        type: 'trend', contains: 'time',
        values: { avg: count ? d.reduce((a, b) => a + b, 0) / count : 0, min: count ? Math.min(...d) : 0, med: percentile(d, 50) ?? 0, max: count ? Math.max(...d) : 0, 'p(90)': percentile(d, 90) ?? 0, 'p(95)': p95 },
        thresholds: { 'p(95)<1000': { ok: p95 < 1000 } },
      },
      http_req_failed: { type: 'rate', contains: 'default', values: { rate: failedRate, passes: o.failed, fails: count - o.failed }, thresholds: { 'rate<0.01': { ok: failedRate < 0.01 } } },
      vus_max: { type: 'gauge', contains: 'default', values: { value: o.peakVus, min: o.peakVus, max: o.peakVus } },
    },
  };
}

function kubectl(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile('kubectl', args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
    child.stdin?.end(input ?? '');
  });
}

function need(name: string): string {
  const v = process.env[name];
  if (!v) {
    process.stderr.write(`k6 stand-in: ${name} is not set (the rehearsal's load step sets it)\n`);
    process.exit(2);
  }
  return v;
}

async function run(argv: readonly string[]): Promise<number> {
  const vars = new Map<string, string>();
  let outPath: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '-e') { const [k, ...v] = argv[++i]!.split('='); vars.set(k!, v.join('=')); }
    else if (argv[i] === '--out' && argv[i + 1]!.startsWith('json=')) outPath = argv[++i]!.slice(5);
  }
  const d = SCENARIO_DEFAULTS.hpa;
  const secs = (name: keyof typeof d) => k6DurationSeconds(vars.get(name) ?? d[name]) ?? 0;
  const ramp: Ramp = { rampUp: secs('RAMP_UP'), hold: secs('HOLD'), rampDown: secs('RAMP_DOWN') };
  const peakVus = Number(vars.get('PEAK_VUS') ?? d.PEAK_VUS);
  const baseUrl = (vars.get('BASE_URL') ?? '').replace(/\/+$/, '');
  const namespace = need('REHEARSAL_LOAD_NAMESPACE');
  const selector = need('REHEARSAL_LOAD_SELECTOR');
  const container = need('REHEARSAL_LOAD_CONTAINER');
  const peak = Number(need('REHEARSAL_LOAD_MILLICORES'));

  const idleDoc = await kubectl(['get', 'clusterresourceusages.kwok.x-k8s.io', '-o', 'json']);
  const idle = idleDoc.code === 0
    ? (JSON.parse(idleDoc.stdout) as { items: Array<{ spec?: { usages?: UsageEntry[] } }> }).items.flatMap((i) => i.spec?.usages ?? []).find((u) => !u.containers?.length)
    : undefined;
  const cleanup = () => kubectl(['delete', 'resourceusages.kwok.x-k8s.io', '-n', namespace, '-l', LOAD_LABEL, '--ignore-not-found']);
  const stop = () => { void cleanup().then(() => process.exit(130)); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  const points: string[] = [];
  const point = (metric: string, value: number, at = new Date()) => points.push(JSON.stringify({ type: 'Point', metric, data: { time: at.toISOString(), value, tags: {} } }));
  const durations: number[] = [];
  let failed = 0;
  let written = '';
  let loaded: string[] = [];
  const started = Date.now();
  const total = ramp.rampUp + ramp.hold + ramp.rampDown;
  for (let t = 0; t <= total; t = (Date.now() - started) / 1000) {
    const share = loadShare(t, ramp);
    point('vus', Math.round(peakVus * share));
    const pods = await kubectl(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json']);
    if (pods.code === 0) {
      const ready = readyPods((JSON.parse(pods.stdout) as { items: PodDoc[] }).items);
      const doc = JSON.stringify(resourceUsages({ namespace, pods: ready, container, millicores: Math.round(peak * share), idle }));
      if (doc !== written) {
        const r = await kubectl(['apply', '-f', '-'], doc);
        if (r.code === 0) written = doc;
        else process.stderr.write(`k6 stand-in: kubectl apply: ${r.stderr.trim()}\n`);
        // Pods that left the ready set get no requests: their ResourceUsage goes, and they idle.
        const gone = loaded.filter((n) => !ready.includes(n));
        if (gone.length) await kubectl(['delete', 'resourceusages.kwok.x-k8s.io', '-n', namespace, '--ignore-not-found', ...gone]);
        loaded = ready;
      }
    }
    if (baseUrl) {
      const t0 = performance.now();
      let ok = false;
      try { const res = await fetch(`${baseUrl}/api/health`, { signal: AbortSignal.timeout(5000) }); await res.arrayBuffer(); ok = res.status < 400; } catch { /* counted as failed */ }
      const ms = performance.now() - t0;
      durations.push(ms);
      if (!ok) failed++;
      point('http_reqs', 1); point('http_req_duration', ms); point('http_req_failed', ok ? 0 : 1);
    }
    await sleep(Math.max(0, TICK_MS - ((Date.now() - started) % TICK_MS)));
  }
  await cleanup();
  const seconds = (Date.now() - started) / 1000;
  const summaryPath = vars.get('SUMMARY_PATH');
  if (summaryPath) writeFileSync(summaryPath, `${JSON.stringify(summaryData({ durationsMs: durations, failed, seconds, peakVus }), null, 2)}\n`);
  if (outPath) {
    const text = `${points.join('\n')}\n`;
    writeFileSync(outPath, outPath.endsWith('.gz') ? gzipSync(text) : text);
  }
  return failed / Math.max(1, durations.length) >= 0.01 ? 99 : 0;
}

/** `k6 version`, `k6 run ...`; anything else is not what load.mts calls. */
export async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === 'version') {
    // The k6 release whose command line and summary shape this copies; load.mts's preflight wants 1.x.
    process.stdout.write('k6 v1.3.0 (aks-todo-ops rehearsal stand-in: scripts/lib/rehearsal/k6-standin.ts)\n');
    return 0;
  }
  if (argv[0] === 'run') return run(argv.slice(1));
  process.stderr.write(`k6 stand-in: only "k6 version" and "k6 run" are simulated (got: k6 ${argv.join(' ')})\n`);
  return 2;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exit(await main(process.argv.slice(2)));
}
