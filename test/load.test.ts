// load.mts against the fakes: k6 writes its real summary JSON and points, kubectl serves an HPA
// timeline counted from the start of `k6 run` (virtual simulated time: see TIME_SCALE below),
// and the app's URL is the fixture server on 127.0.0.1. Each test names the verdict it proves.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startAppServer } from './fixtures/app-server.ts';
import type { AppServer } from './fixtures/app-server.ts';
import { FakeWorld } from './support/harness.ts';
import type { RunResult } from './support/harness.ts';
import { LOAD_SECONDS, STAGE_FLAGS, k6Points, k6Summary, loadWorld } from './support/load-fixtures.ts';
import type { HpaState, ReportJson, TimelineEntry } from './support/load-fixtures.ts';
import { parseK6Summary, percentile, planK6, readK6Points } from '../scripts/lib/load/k6.ts';
import { evaluate, DEFAULT_CRITERIA } from '../scripts/lib/load/verdict.ts';
import type { Sample } from '../scripts/lib/load/observe.ts';
import { awaitingMetrics, parseHpa } from '../scripts/lib/load/cluster.ts';
import { hpa as hpaObject, hpa, list } from './support/load-fixtures.ts';
import { PROD, rx } from './support/names.ts';

// Virtual time (harness `virtualTime`): the script's clock moves only when it sleeps, and the fake
// kubectl answers from the timeline at the simulated moment it was called, so a sample taken on a busy
// machine sees what it would see on an idle one. TIME_SCALE only paces the sleeps (1 simulated
// second = 40 real ms), which lets the fake k6 end between two samples.
const TIME_SCALE = 0.04;
let app: AppServer;

test.before(async () => {
  app = await startAppServer();
  await app.whenListening();
});
test.after(async () => { await app.close(); });

const be = (current: number, desired: number, cpu: number | null, extra: Partial<HpaState> = {}): HpaState => ({ current, desired, cpu, ...extra });
const fe = (cpu: number): HpaState => ({ name: 'todo-frontend-hpa', target: 'todo-frontend', container: 'frontend', current: 2, desired: 2, cpu });
const podsOf = (ready: number, pending = 0) => ({ 'todo-backend': { ready, pending }, 'todo-frontend': { ready: 2 } });

/** The HPA crosses 77% at 30 s and asks for 4 replicas at 45 s; 4 ready at 90 s; scale-in after the load. */
function inTime(opts: { window?: number } = {}): TimelineEntry[] {
  const w = { scaleDownWindow: opts.window ?? 30 };
  return [
    { at: 0, hpas: [be(2, 2, 15, w), fe(10)], pods: podsOf(2), nodes: 2 },
    { at: 30, hpas: [be(2, 2, 88, w), fe(30)], pods: podsOf(2), nodes: 2 },
    { at: 45, hpas: [be(2, 4, 92, w), fe(35)], pods: podsOf(2, 2), nodes: 2 },
    { at: 90, hpas: [be(4, 4, 66, w), fe(35)], pods: podsOf(4), nodes: 3 },
    { at: LOAD_SECONDS + 5, hpas: [be(4, 4, 12, w), fe(8)], pods: podsOf(4), nodes: 3 },
    { at: LOAD_SECONDS + 15, hpas: [be(4, 3, 6, w), fe(5)], pods: podsOf(4), nodes: 3 },
  ];
}

async function runLoad(w: FakeWorld, extra: string[] = [], opts: { missing?: Array<'k6' | 'kubectl'> } = {}): Promise<{ r: RunResult; dir: string; report: ReportJson | undefined; html: string | undefined }> {
  const dir = mkdtempSync(join(tmpdir(), 'load-report-'));
  const r = await w.run('load', ['--env', 'local', '--url', app.url, ...STAGE_FLAGS, '--sample-interval', '5', '--observe-after', '40', '--report-dir', dir, '--yes', ...extra], { timeScale: TIME_SCALE, virtualTime: true, killAfterMs: 300_000, ...(opts.missing ? { missing: opts.missing } : {}) });
  const json = readdirSync(dir).find((f) => /^load-\d{8}-\d{6}\.json$/.test(f));
  const html = readdirSync(dir).find((f) => /^load-\d{8}-\d{6}\.html$/.test(f));
  return {
    r,
    dir,
    report: json ? (JSON.parse(readFileSync(join(dir, json), 'utf8')) as ReportJson) : undefined,
    html: html ? readFileSync(join(dir, html), 'utf8') : undefined,
  };
}

const criterion = (report: ReportJson | undefined, id: string) => {
  const c = report?.verdict.criteria.find((x) => x.id === id);
  if (!c) throw new Error(`no criterion ${id} in the report`);
  return c;
};

test('scales in time: every criterion passes, exit 0, k6 run with the stage overrides, HPAs sampled during and after the load', async () => {
  const { r, report } = await runLoad(loadWorld(inTime()));
  assert.is(r.code, 0, r.output);
  assert.ok(report, 'JSON report written');
  for (const id of ['k6-thresholds', 'scaling-active', 'scale-out', 'replicas', 'capacity', 'scale-in']) {
    assert.is(criterion(report, id).status, 'pass', `${id}: ${criterion(report, id).explanation}`);
  }
  const scaleOut = criterion(report, 'scale-out');
  const delay = scaleOut.measured['todo-backend-hpa.delaySeconds'] as number;
  // 15 s in the timeline, sampled every 5 s on the virtual clock: exactly that, on any machine.
  assert.is(delay, 15, `measured delay ${delay}`);
  assert.match(scaleOut.explanation, /todo-frontend-hpa: CPU peaked at \d+%, below the scale-out point/);
  assert.match(criterion(report, 'scale-in').explanation, /todo-backend-hpa: scale-in started at \d+ s/);
  // The k6 command: the scenario file, the contract's variables, the stage overrides, the points output.
  const k6 = r.calls.filter((c) => c.tool === 'k6' && c.args[0] === 'run');
  assert.is(k6.length, 1);
  const args = k6[0]!.args;
  assert.is(args[args.length - 1], 'load/hpa.ts');
  for (const v of [`BASE_URL=${app.url}`, 'PEAK_VUS=100', 'RAMP_UP=30s', 'HOLD=100s', 'RAMP_DOWN=20s']) assert.ok(args.includes(v), v);
  assert.ok(args.some((a) => /^SUMMARY_PATH=.*load-\d{8}-\d{6}-k6-summary\.json$/.test(a)));
  assert.ok(args.some((a) => /^json=.*-k6-points\.json\.gz$/.test(a)));
  // Sampling: a baseline, several during the load, several after; the selector is the release.
  const phases = report!.samples.map((s) => s.phase);
  assert.is(phases[0], 'before');
  // Every 5 s over the 150 s run: 0, 5, ..., 145, and one at 150 when k6's end is seen after it.
  const loadSamples = phases.filter((p) => p === 'load').length;
  assert.ok(loadSamples === 30 || loadSamples === 31, `load samples: ${phases.join(',')}`);
  assert.ok(phases.filter((p) => p === 'after').length >= 1, `after samples: ${phases.join(',')}`);
  const last = report!.samples[report!.samples.length - 1]!;
  assert.ok(last.t >= report!.k6.durationSeconds + 40, `observed until ${last.t}`);
  const hpaCalls = r.calls.filter((c) => c.tool === 'kubectl' && c.args.includes('hpa'));
  assert.ok(hpaCalls.every((c) => c.args.includes('app.kubernetes.io/instance=hackathon-todo') && c.args.includes('todo') && c.args.includes('json')));
  assert.ok(r.calls.some((c) => c.tool === 'kubectl' && c.args.join(' ') === 'get nodes -o json --request-timeout=10s'));
  // Nothing mutating was sent to the cluster.
  assert.not.ok(r.calls.some((c) => c.tool === 'kubectl' && ['apply', 'delete', 'scale', 'patch'].includes(c.args[0]!)));
  // Terminal: one line per criterion, the report paths, and the closing summary.
  assert.match(r.stdout, /PASS +scale-out started in time: todo-backend-hpa: CPU crossed 77% at \d+ s/);
  assert.match(r.stdout, /report: .*load-\d{8}-\d{6}\.html/);
  assert.match(r.stdout.trim().split('\n').pop()!, /^load: all criteria hold for hpa against http:\/\/127\.0\.0\.1:\d+/);
  // k6 time series parsed from the points file and aligned to k6's start.
  assert.ok(Array.isArray(report!.k6.series) && report!.k6.series.length > 20);
});

test('never scales because the CPU request is missing: fail, FailedGetResourceMetric named as a missing CPU request', async () => {
  const inactive = {
    reason: 'FailedGetResourceMetric',
    message: 'the HPA was unable to compute the replica count: failed to get cpu utilization: missing request for cpu in container daprd of Pod todo-backend-5d8f7c9b6d-p0',
  };
  const h = be(2, 2, null, { metricType: 'Resource', inactive });
  // A short run is enough to show an HPA that never gets a metric.
  const { r, report } = await runLoad(loadWorld([{ at: 0, hpas: [h], pods: podsOf(2), nodes: 2 }], { seconds: 50 }), ['--observe-after', '10']);
  assert.is(r.code, 1, r.output);
  const active = criterion(report, 'scaling-active');
  assert.is(active.status, 'fail');
  assert.match(active.explanation, /todo-backend-hpa: ScalingActive False \(FailedGetResourceMetric\) in \d+ of \d+ samples/);
  assert.match(active.explanation, /missing CPU request \(container daprd has no resources\.requests\.cpu/);
  assert.match(active.fix ?? '', /dapr\.io\/sidecar-cpu-request/);
  assert.is(criterion(report, 'scale-out').status, 'fail');
  assert.match(criterion(report, 'scale-out').explanation, /never reported a CPU utilisation/);
  assert.match(r.stdout, /FAIL +HPA able to scale \(ScalingActive, AbleToScale\): .*FailedGetResourceMetric.*missing CPU request/);
  assert.match(r.stdout.trim().split('\n').pop()!, /^load: 2 criteria not met \(scaling-active, scale-out\)/);
  // A missing request does not pass by itself: no wait for metrics before the load.
  assert.not.match(r.output, /no CPU metrics yet|waiting up to/);
});

/** What the HPA controller said of pods with no metrics yet, on the rehearsal cluster (Kubernetes 1.34) after a first install. */
const NO_METRICS_YET = {
  reason: 'FailedGetContainerResourceMetric',
  message: 'the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API',
};

test('right after a deploy, new pods without metrics: load.mts waits on its clock until the HPA has them, then loads, and every criterion passes', async () => {
  const w = loadWorld(inTime());
  // The first four reads of the HPAs (0, 5, 10 and 15 s), in the order seen on the rehearsal cluster:
  // not synced yet (twice), then the backend's new pods without metrics (twice).
  w.scenario.rules.unshift(
    { tool: 'kubectl', args: ['get', 'hpa'], respond: { json: list([hpa(be(0, 0, null, { neverSynced: true })), hpa(fe(10))]) }, times: 2 },
    { tool: 'kubectl', args: ['get', 'hpa'], respond: { json: list([hpa(be(2, 2, null, { inactive: NO_METRICS_YET })), hpa(fe(10))]) }, times: 2 },
  );
  const { r, report } = await runLoad(w);
  assert.is(r.code, 0, r.output);
  assert.match(r.stdout, /todo-backend-hpa: no CPU metrics yet \(pods started by a recent deploy\); waiting up to 180 s before sending load/);
  // Read every 5 s on the virtual clock: the fifth read, at 20 s, finds the metrics, on any machine.
  assert.match(r.stdout, /the HPAs have metrics after 20 s/);
  for (const id of ['scaling-active', 'scale-out', 'replicas']) assert.is(criterion(report, id).status, 'pass', criterion(report, id).explanation);
  const calls = r.calls.map((c) => `${c.tool} ${c.tool === 'k6' ? c.args[0] : c.args.slice(0, 2).join(' ')}`);
  const k6At = calls.indexOf('k6 run');
  assert.ok(k6At > 0, calls.join('\n'));
  // Five reads while waiting, then the baseline sample, all before k6. (At least: the fake k6 may write
  // its call down after the first sample taken under load, which starts beside it.)
  const before = calls.slice(0, k6At).filter((c) => c === 'kubectl get hpa').length;
  assert.ok(before >= 6, `${before} reads of the HPAs before k6 ran:\n${calls.join('\n')}`);
});

test('awaitingMetrics: only an HPA not synced yet or whose pods have no metrics yet is waited for', () => {
  const snap = (s: HpaState) => parseHpa(hpaObject(s) as Record<string, unknown>);
  assert.ok(awaitingMetrics(snap(be(0, 0, null, { neverSynced: true }))), 'not synced yet');
  assert.ok(awaitingMetrics(snap(be(2, 2, null, { inactive: NO_METRICS_YET }))), 'no metrics returned');
  assert.not.ok(awaitingMetrics(snap(be(2, 2, 40))), 'healthy');
  assert.not.ok(awaitingMetrics(snap(be(2, 2, null, { inactive: { reason: 'FailedGetResourceMetric', message: 'the HPA was unable to compute the replica count: failed to get cpu utilization: missing request for cpu in container daprd of Pod p' } }))), 'missing request');
  assert.not.ok(awaitingMetrics(snap(be(2, 2, null, { inactive: { reason: 'FailedGetResourceMetric', message: 'the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: unable to fetch metrics from resource metrics API: the server could not find the requested resource (get pods.metrics.k8s.io)' } }))), 'no metrics API');
  assert.not.ok(awaitingMetrics(snap(be(2, 2, 40, { unable: { reason: 'FailedGetScale', message: 'the HPA controller was unable to get the target\'s current scale: deployments/scale.apps "todo-backend" not found' } }))), 'AbleToScale False');
});

test('HPAs that never get metrics: after 180 s load.mts loads anyway, and the verdict fails "able to scale" with the cause', async () => {
  const h = be(2, 2, null, { inactive: NO_METRICS_YET });
  const { r, report } = await runLoad(loadWorld([{ at: 0, hpas: [h], pods: podsOf(2), nodes: 2 }], { seconds: 50 }), ['--observe-after', '10']);
  assert.is(r.code, 1, r.output);
  assert.match(r.output, /todo-backend-hpa still without CPU metrics after 180 s; loading anyway/);
  assert.is(r.calls.filter((c) => c.tool === 'k6' && c.args[0] === 'run').length, 1);
  const active = criterion(report, 'scaling-active');
  assert.is(active.status, 'fail');
  assert.match(active.explanation, /todo-backend-hpa: ScalingActive False \(FailedGetContainerResourceMetric\)/);
  assert.match(active.explanation, /no CPU metrics for the pods of todo-backend/);
});

test('scales too late: fail with the measured delay between CPU crossing and scale-out', async () => {
  const { r, report } = await runLoad(loadWorld([
    { at: 0, hpas: [be(2, 2, 15)], pods: podsOf(2), nodes: 2 },
    { at: 15, hpas: [be(2, 2, 90)], pods: podsOf(2), nodes: 2 },
    { at: 125, hpas: [be(2, 4, 95)], pods: podsOf(2, 2), nodes: 2 },
    { at: 145, hpas: [be(4, 4, 68)], pods: podsOf(4), nodes: 2 },
  ]));
  assert.is(r.code, 1, r.output);
  const c = criterion(report, 'scale-out');
  assert.is(c.status, 'fail');
  const delay = c.measured['todo-backend-hpa.delaySeconds'] as number;
  // 110 s in the timeline, sampled every 5 s on the virtual clock: exactly that, on any machine.
  assert.is(delay, 110, `measured delay ${delay}`);
  assert.match(c.explanation, new RegExp(`scale-out to 4 started at \\d+ s, ${delay} s later \\(too late: limit 60 s, sampled every 5 s\\)`));
  // The rest held: this run fails on timing alone.
  for (const id of ['k6-thresholds', 'scaling-active', 'replicas', 'capacity']) assert.is(criterion(report, id).status, 'pass', id);
  assert.match(r.stdout.trim().split('\n').pop()!, /load: 1 criterion not met \(scale-out\)/);
});

test('hits max replicas under load: fail with "capacity limit reached" and the numbers', async () => {
  const { r, report } = await runLoad(loadWorld([
    { at: 0, hpas: [be(2, 2, 15)], pods: podsOf(2), nodes: 2 },
    { at: 15, hpas: [be(2, 2, 90)], pods: podsOf(2), nodes: 2 },
    { at: 30, hpas: [be(2, 4, 95)], pods: podsOf(2, 2), nodes: 2 },
    { at: 45, hpas: [be(4, 5, 93)], pods: podsOf(4, 1), nodes: 3 },
    { at: 60, hpas: [be(5, 5, 96)], pods: podsOf(5), nodes: 3 },
    { at: LOAD_SECONDS + 5, hpas: [be(5, 5, 10)], pods: podsOf(5), nodes: 3 },
  ]));
  assert.is(r.code, 1, r.output);
  const c = criterion(report, 'capacity');
  assert.is(c.status, 'fail');
  assert.match(c.explanation, /capacity limit reached: todo-backend-hpa at its maximum of 5 replicas with CPU at up to 96% \(target 70%\) in \d+ samples from \d+ s to \d+ s; the load needed about 7 replicas/);
  assert.is(c.measured.maxReplicas, 5);
  // At max (5 ready) from 60 s until the load ends at 150 s: the samples at 60, 65, ..., 145, and the one
  // at 150 when k6's end is seen after it. Virtual time: the same count on any machine.
  const atMax = c.measured.samplesAtMax as number;
  assert.ok(atMax === 18 || atMax === 19, `samples at max: ${atMax}`);
  assert.is(criterion(report, 'scale-out').status, 'pass');
  assert.is(criterion(report, 'replicas').status, 'pass');
  // 60 s observed after the load is inside the default 300 s window: stated, not failed.
  assert.is(criterion(report, 'scale-in').status, 'pass');
  assert.match(criterion(report, 'scale-in').explanation, /inside its 300 s scale-down stabilisation window/);
  assert.match(r.stdout, /FAIL +below max replicas under load: capacity limit reached/);
});

test('k6 thresholds fail (exit 99): fail naming the threshold and the measured p95, the scaling criteria still judged', async () => {
  const stderr = 'time="2026-11-25T09:04:30Z" level=error msg="thresholds on metrics \'http_req_duration\' have been crossed"\n';
  const { r, report } = await runLoad(loadWorld(inTime(), { exit: 99, stderr, summary: k6Summary({ p95: 1450 }) }));
  assert.is(r.code, 1, r.output);
  assert.is(report!.k6.exitCode, 99);
  const c = criterion(report, 'k6-thresholds');
  assert.is(c.status, 'fail');
  assert.match(c.explanation, /1 k6 threshold crossed \(k6 exit 99\): http_req_duration 'p\(95\)<1000' \(p\(95\)=1450 ms\)/);
  for (const id of ['scaling-active', 'scale-out', 'replicas', 'capacity', 'scale-in']) assert.is(criterion(report, id).status, 'pass', id);
  assert.match(r.stdout.trim().split('\n').pop()!, /load: 1 criterion not met \(k6-thresholds\)/);
});

test('k6 not installed: exit 3 with how to install it; no load sent, the cluster not sampled', async () => {
  const { r, report } = await runLoad(loadWorld(inTime()), [], { missing: ['k6'] });
  assert.is(r.code, 3, r.output);
  assert.match(r.stderr, /error: preflight failed: k6 1\.0\.0 or newer: k6 is not installed/);
  assert.match(r.stderr, /hint: install k6 1\.x: https:\/\/grafana\.com\/docs\/k6\/latest\/set-up\/install-k6\//);
  assert.is(report, undefined);
  assert.is(r.calls.filter((c) => c.tool === 'kubectl' && c.args[0] === 'get').length, 0);
});

test('wrong kube context: exit 3 before any load; unhealthy app: exit 3 naming the health answer', async () => {
  const w = loadWorld(inTime());
  w.scenario.kube = { context: PROD.context };
  // The unhealthy app is a server of its own, so the two runs can go side by side.
  const sickApp = await startAppServer({ mode: 'unhealthy' });
  try {
    await sickApp.whenListening();
    const [wrong, sick] = await Promise.all([runLoad(w), runLoad(loadWorld(inTime()), ['--url', sickApp.url])]);
    assert.is(wrong.r.code, 3, wrong.r.output);
    assert.match(wrong.r.stderr, new RegExp(`refusing to touch the cluster: current context is "${rx(PROD.context)}", but environments/local\\.yaml names "minikube"`));
    assert.is(wrong.r.calls.filter((c) => c.tool === 'k6' && c.args[0] === 'run').length, 0);
    assert.is(sick.r.code, 3, sick.r.output);
    assert.match(sick.r.stderr, /the app is not healthy: http:\/\/127\.0\.0\.1:\d+\/api\/health answered 503/);
    assert.is(sick.r.calls.filter((c) => c.tool === 'k6' && c.args[0] === 'run').length, 0);
  } finally {
    await sickApp.close();
  }
});

test('--dry-run prints the k6 command and the sampling plan and runs nothing', async () => {
  const w = loadWorld(inTime());
  const { r, dir } = await runLoad(w, ['--dry-run']);
  assert.is(r.code, 0, r.output);
  assert.match(r.stdout, /\[dry-run\] would run: k6 run --quiet -e BASE_URL=http:\/\/127\.0\.0\.1:\d+ -e SUMMARY_PATH=\S+-k6-summary\.json -e PEAK_VUS=100 -e RAMP_UP=30s -e HOLD=100s -e RAMP_DOWN=20s --out json=\S+ load\/hpa\.ts/);
  // The wait comes first, as in a real run, with the exact read it repeats.
  assert.match(r.stdout, /would first wait up to 180 s while an HPA's new pods have no CPU metrics yet, every 5 s \(read-only\): kubectl get hpa -l app\.kubernetes\.io\/instance=hackathon-todo -n todo -o json --request-timeout=10s\n[^\n]*would run: k6 run/);
  assert.match(r.stdout, /would sample every 5 s while k6 runs and for 40 s after/);
  assert.match(r.stdout, /kubectl get hpa -l app\.kubernetes\.io\/instance=hackathon-todo -n todo -o json --request-timeout=10s/);
  assert.is(w.calls.length, 0);
  assert.equal(readdirSync(dir), []);
});

test('usage errors exit 2: hpa with --duration, a secret in --k6-env, a bad --ramp-up', async () => {
  const w = new FakeWorld({ kube: { context: 'minikube' } });
  const cases: Array<[string[], RegExp]> = [
    [['--duration', '1m'], /--duration and --rate apply to --scenario smoke/],
    [['--k6-env', 'AUTH_TOKEN=abc123'], /--k6-env AUTH_TOKEN: a secret must not go on the command line/],
    [['--ramp-up', 'soon'], /--ramp-up must be a k6 duration/],
    [['--cpu-target', '0'], /--cpu-target must be between 1 and 1000/],
  ];
  // Each stops before any call: run them side by side.
  const results = await Promise.all(cases.map(([args]) => w.run('load', ['--env', 'local', '--url', app.url, '--yes', ...args])));
  cases.forEach(([args, re], i) => {
    assert.is(results[i]!.code, 2, `${args.join(' ')}: ${results[i]!.output}`);
    assert.match(results[i]!.stderr, re);
  });
  assert.is(w.calls.length, 0);
});

// ---------- the library, on its own ----------

test('summary parsing: the handleSummary shape and the old --summary-export shape (inverted booleans) give the same verdict', () => {
  const fresh = parseK6Summary(k6Summary({ p95: 1450 }));
  assert.is(fresh.format, 'handleSummary');
  assert.is(fresh.p95Ms, 1450);
  assert.equal(fresh.thresholds.find((t) => t.metric === 'http_req_duration'), { metric: 'http_req_duration', threshold: 'p(95)<1000', ok: false });
  // --summary-export (test/fixtures/cli-samples/README.md#k6-summary-export): flat values, `value` for a rate, and `true` meaning the threshold FAILED.
  const old = parseK6Summary({
    root_group: { name: '', path: '', id: 'd41d', groups: {}, checks: {} },
    metrics: {
      checks: { value: 0.75, passes: 45, fails: 15, thresholds: { 'rate>0.9': true } },
      http_req_duration: { avg: 268, min: 135, med: 240, max: 846, 'p(90)': 410, 'p(95)': 520.7, thresholds: { 'p(95)<500': true, 'p(90)<1000': false } },
      http_req_failed: { value: 0.002, passes: 1, fails: 499 },
      http_reqs: { count: 500, rate: 16.2 },
    },
  });
  assert.is(old.format, 'summary-export');
  assert.is(old.failedRate, 0.002);
  assert.is(old.checksRate, 0.75);
  assert.equal(old.thresholds.map((t) => [t.threshold, t.ok]), [['rate>0.9', false], ['p(95)<500', false], ['p(90)<1000', true]]);
});

test('k6 points: gzip and plain files read the same; buckets give VUs, rate and p95 per interval', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'k6-points-'));
  const text = k6Points({ rampUp: 10, hold: 10, rampDown: 10, peak: 20, p95: 400 });
  writeFileSync(join(dir, 'p.json'), text);
  writeFileSync(join(dir, 'p.json.gz'), gzipSync(text));
  const plain = await readK6Points(join(dir, 'p.json'), 5);
  const gz = await readK6Points(join(dir, 'p.json.gz'), 5);
  assert.equal(plain, gz);
  if ('error' in plain) throw new Error(plain.error);
  assert.is(plain.buckets[0]!.t, 0);
  assert.is(plain.buckets[2]!.vus, 20);
  assert.is(plain.buckets[2]!.requestRate, 2);
  assert.ok(plain.buckets[2]!.p95Ms! > 300 && plain.buckets[2]!.p95Ms! <= 440);
  assert.is(percentile([1, 2, 3, 4, 5], 50), 3);
  const missing = await readK6Points(join(dir, 'nope.json'), 5);
  assert.ok('error' in missing);
});

test('planK6: smoke takes --duration/--rate/--vus; hpa refuses them; expected duration from the stages', () => {
  const smoke = planK6({ scenario: 'smoke', url: 'https://x', summaryPath: '/r/s.json', pointsPath: '/r/p.gz', stages: { duration: '45s', rate: 3, vus: 4 } });
  assert.ok(smoke.args.includes('SMOKE_DURATION=45s') && smoke.args.includes('SMOKE_RATE=3') && smoke.args.includes('SMOKE_VUS=4'));
  assert.is(smoke.scenarioFile, 'load/smoke.ts');
  assert.is(smoke.expectedSeconds, 75);
  const hpa = planK6({ scenario: 'hpa', url: 'https://x', summaryPath: '/r/s.json', pointsPath: '/r/p.gz', stages: { rampUp: '1m30s' } });
  assert.is(hpa.expectedSeconds, 90 + 300 + 60 + 30);
  assert.ok(!hpa.args.some((a) => a.startsWith('PEAK_VUS=')), 'only overrides are passed');
  assert.throws(() => planK6({ scenario: 'hpa', url: 'https://x', summaryPath: 's', pointsPath: 'p', stages: { rate: 2 } }), /apply to --scenario smoke/);
});

function sample(t: number, phase: Sample['phase'], s: HpaState, ready?: number): Sample {
  return { t, at: new Date(t * 1000).toISOString(), phase, hpas: [parseHpa(hpaObject(s) as Record<string, unknown>)], pods: { total: ready ?? s.current, ready: ready ?? s.current, pending: 0, byName: { 'todo-backend': { total: ready ?? s.current, ready: ready ?? s.current, pending: 0 } } }, nodes: { total: 2, ready: 2 }, errors: [] };
}

test('verdict: scale-in overdue past the stabilisation window fails; the HPA tolerance moves the crossing point; no crossing is inconclusive', () => {
  const summary = parseK6Summary(k6Summary());
  const k6 = { exitCode: 0, timedOut: false, stderr: '', endedT: 300 };
  const w = { scaleDownWindow: 60 };
  const samples = [
    sample(-1, 'before', be(2, 2, 10, w)),
    sample(30, 'load', be(2, 2, 75, w)), // above 70 but inside the 10% tolerance: the HPA rightly waits
    sample(60, 'load', be(2, 2, 80, w)),
    sample(75, 'load', be(2, 4, 85, w)),
    sample(90, 'load', be(4, 4, 60, w)),
    sample(310, 'after', be(4, 4, 5, w)),
    sample(500, 'after', be(4, 4, 5, w)),
  ];
  const v = evaluate({ scenario: 'hpa', samples, k6, summary, criteria: DEFAULT_CRITERIA });
  const out = v.criteria.find((c) => c.id === 'scale-out')!;
  assert.is(out.status, 'pass');
  assert.is(out.measured['todo-backend-hpa.crossedAt'], 60);
  assert.is(out.measured['todo-backend-hpa.delaySeconds'], 15);
  const scaleIn = v.criteria.find((c) => c.id === 'scale-in')!;
  assert.is(scaleIn.status, 'fail');
  assert.match(scaleIn.explanation, /still at 4 replicas 410 s after CPU fell below target at 90 s, longer than its 60 s stabilisation window/);
  assert.not.ok(v.ok);

  const calm = evaluate({ scenario: 'hpa', samples: samples.map((s) => sample(s.t, s.phase, be(2, 2, 40))), k6, summary, criteria: DEFAULT_CRITERIA });
  assert.is(calm.criteria.find((c) => c.id === 'scale-out')!.status, 'inconclusive');
  assert.not.ok(calm.ok);
  const smoke = evaluate({ scenario: 'smoke', samples: samples.map((s) => sample(s.t, s.phase, be(2, 2, 20))), k6, summary, criteria: DEFAULT_CRITERIA });
  assert.ok(smoke.ok, JSON.stringify(smoke.criteria));
  assert.equal(smoke.criteria.map((c) => c.status), ['pass', 'pass', 'skipped', 'skipped', 'pass', 'skipped']);
});

test('verdict: a crossing between two samples counts with its upper bound; a gap longer than the limit is inconclusive', () => {
  const summary = parseK6Summary(k6Summary());
  const k6 = { exitCode: 0, timedOut: false, stderr: '', endedT: 200 };
  const run = (gap: number) => evaluate({
    scenario: 'hpa',
    samples: [sample(-1, 'before', be(2, 2, 10)), sample(30, 'load', be(2, 2, 60)), sample(30 + gap, 'load', be(2, 4, 70)), sample(210, 'after', be(4, 4, 10))],
    k6, summary, criteria: DEFAULT_CRITERIA,
  }).criteria.find((c) => c.id === 'scale-out')!;
  const close = run(20);
  assert.is(close.status, 'pass');
  assert.match(close.explanation, /between the samples at 30 s and 50 s, and scale-out to 4 had started by 50 s: at most 20 s later/);
  const coarse = run(100);
  assert.is(coarse.status, 'inconclusive');
  assert.match(coarse.explanation, /the 100 s gap is longer than the 60 s limit, so the delay is unknown/);
});

test('verdict: pods stuck Pending (no node room) fail "replicas reached"; no HPA at all fails ScalingActive', () => {
  const summary = parseK6Summary(k6Summary());
  const k6 = { exitCode: 0, timedOut: false, stderr: '', endedT: 200 };
  const samples = [
    sample(-1, 'before', be(2, 2, 10)),
    sample(20, 'load', be(2, 2, 90)),
    sample(30, 'load', be(4, 4, 92), 2),
    sample(120, 'load', be(4, 4, 90), 2),
    sample(210, 'after', be(4, 3, 10), 2),
  ];
  for (const s of samples.slice(2)) s.pods!.byName['todo-backend']!.pending = 2;
  const v = evaluate({ scenario: 'hpa', samples, k6, summary, criteria: DEFAULT_CRITERIA });
  const c = v.criteria.find((x) => x.id === 'replicas')!;
  assert.is(c.status, 'fail');
  assert.match(c.explanation, /asked for 4 replicas but at most 2 were ready; up to 2 pods of todo-backend Pending; nodes 2→2/);
  const none = evaluate({ scenario: 'hpa', samples: samples.map((s) => ({ ...s, hpas: [] })), k6, summary, criteria: DEFAULT_CRITERIA });
  assert.is(none.criteria.find((x) => x.id === 'scaling-active')!.status, 'fail');
  assert.match(none.criteria.find((x) => x.id === 'scaling-active')!.explanation, /no HPA of the release was found/);
});

test('verdict: when no HPA read succeeds during the load, ScalingActive and scale-out are inconclusive, never passed', () => {
  const summary = parseK6Summary(k6Summary());
  const k6 = { exitCode: 0, timedOut: false, stderr: '', endedT: 200 };
  const unread = (t: number, phase: Sample['phase']): Sample => ({ ...sample(t, phase, be(2, 2, 10)), hpas: null, errors: ['kubectl get hpa: timed out'] });
  const v = evaluate({ scenario: 'hpa', samples: [sample(-1, 'before', be(2, 2, 10)), unread(20, 'load'), unread(120, 'load'), unread(210, 'after')], k6, summary, criteria: DEFAULT_CRITERIA });
  const active = v.criteria.find((c) => c.id === 'scaling-active')!;
  assert.is(active.status, 'inconclusive', active.explanation);
  assert.match(active.explanation, /could not be read in any of 3 samples during or after the load: kubectl get hpa: timed out/);
  assert.is(v.criteria.find((c) => c.id === 'scale-out')!.status, 'inconclusive');
  assert.not.ok(v.ok);
});

test('verdict: AbleToScale False (FailedUpdateScale) fails "able to scale", named with its reason', () => {
  const summary = parseK6Summary(k6Summary());
  const k6 = { exitCode: 0, timedOut: false, stderr: '', endedT: 200 };
  const unable = { reason: 'FailedUpdateScale', message: 'the HPA controller was unable to update the target scale: admission webhook "quota.example" denied the request' };
  const v = evaluate({ scenario: 'hpa', samples: [sample(-1, 'before', be(2, 2, 10)), sample(20, 'load', be(2, 4, 90, { unable })), sample(120, 'load', be(2, 4, 95, { unable })), sample(210, 'after', be(2, 4, 20, { unable }))], k6, summary, criteria: DEFAULT_CRITERIA });
  const active = v.criteria.find((c) => c.id === 'scaling-active')!;
  assert.is(active.status, 'fail');
  assert.match(active.explanation, /todo-backend-hpa: AbleToScale False \(FailedUpdateScale\) in 3 of 3 samples from 20 s to 210 s: the HPA could not change the replica count of todo-backend/);
  assert.match(active.fix ?? '', /kubectl describe hpa todo-backend-hpa/);
});

test("verdict: the HPA's own CPU target sets the scale-out point; one other than --cpu-target fails scale-out", () => {
  const summary = parseK6Summary(k6Summary());
  const k6 = { exitCode: 0, timedOut: false, stderr: '', endedT: 300 };
  const t = { cpuTarget: 80 };
  // 85% is over 70% × 1.1 but under 80% × 1.1: an HPA targeting 80% rightly waits until 95%.
  const samples = [
    sample(-1, 'before', be(2, 2, 10, t)),
    sample(30, 'load', be(2, 2, 85, t)),
    sample(120, 'load', be(2, 2, 95, t)),
    sample(135, 'load', be(2, 3, 95, t)),
    sample(310, 'after', be(3, 2, 10, t)),
  ];
  const out = evaluate({ scenario: 'hpa', samples, k6, summary, criteria: DEFAULT_CRITERIA }).criteria.find((c) => c.id === 'scale-out')!;
  assert.is(out.measured['todo-backend-hpa.crossedAt'], 120);
  assert.is(out.measured['todo-backend-hpa.delaySeconds'], 15);
  assert.is(out.status, 'fail');
  assert.match(out.explanation, /^todo-backend-hpa scales on 80% CPU, not the 70% the criteria expect \(--cpu-target\)/);
  assert.match(out.explanation, /CPU crossed 88% at 120 s/);
  // Told the intended target, the same run passes.
  const ok = evaluate({ scenario: 'hpa', samples, k6, summary, criteria: { ...DEFAULT_CRITERIA, cpuTargetPercent: 80 } }).criteria.find((c) => c.id === 'scale-out')!;
  assert.is(ok.status, 'pass', ok.explanation);
});

test.run();
