// Builders for the load-test suites: HPA, pod and node Lists in kubectl's shapes, k6's handleSummary
// data and its `--out json` points (sources: test/fixtures/cli-samples/README.md), and a FakeWorld
// that serves an HPA timeline counted from the moment `k6 run` starts.
import { FakeWorld, podList } from './harness.ts';
import type { Respond } from './harness.ts';
import { APP_NAMESPACE } from './tools.ts';

export const RELEASE = 'hackathon-todo';

export interface HpaState {
  name?: string;
  target?: string;
  container?: string;
  metricType?: 'ContainerResource' | 'Resource';
  min?: number;
  max?: number;
  current: number;
  desired: number;
  /** null: the HPA reports no CPU (currentMetrics null). */
  cpu: number | null;
  /** ScalingActive False with this reason and message. */
  inactive?: { reason: string; message: string };
  /** AbleToScale False with this reason and message. */
  unable?: { reason: string; message: string };
  /**
   * Not synced yet: no conditions and desiredReplicas 0, as a new HPA reads before the controller's
   * first pass (seen on the rehearsal cluster, Kubernetes 1.34, seconds after a first install).
   */
  neverSynced?: boolean;
  /** spec's averageUtilization (default 70). */
  cpuTarget?: number;
  scaleDownWindow?: number;
}

export function hpa(s: HpaState): Record<string, unknown> {
  const name = s.name ?? 'todo-backend-hpa';
  const target = s.target ?? 'todo-backend';
  const container = s.container ?? 'backend';
  const type = s.metricType ?? 'ContainerResource';
  const max = s.max ?? 5;
  const source = (extra: Record<string, unknown>) =>
    type === 'ContainerResource' ? { type, containerResource: { container, name: 'cpu', ...extra } } : { type, resource: { name: 'cpu', ...extra } };
  const cpuTarget = s.cpuTarget ?? 70;
  const limited = s.desired >= max && s.cpu !== null && s.cpu > cpuTarget;
  const conditions = [
    s.unable
      ? { type: 'AbleToScale', status: 'False', reason: s.unable.reason, message: s.unable.message, lastTransitionTime: '2026-11-25T09:00:00Z' }
      : { type: 'AbleToScale', status: 'True', reason: s.current === s.desired ? 'ReadyForNewScale' : 'SucceededRescale', message: s.current === s.desired ? 'recommended size matches current size' : `the HPA controller was able to update the target scale to ${s.desired}`, lastTransitionTime: '2026-11-25T09:00:00Z' },
    s.inactive
      ? { type: 'ScalingActive', status: 'False', reason: s.inactive.reason, message: s.inactive.message, lastTransitionTime: '2026-11-25T09:00:00Z' }
      : { type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: `the HPA was able to successfully calculate a replica count from cpu ${type === 'ContainerResource' ? 'container ' : ''}resource utilization (percentage of request)`, lastTransitionTime: '2026-11-25T09:00:00Z' },
    limited
      ? { type: 'ScalingLimited', status: 'True', reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count', lastTransitionTime: '2026-11-25T09:00:00Z' }
      : { type: 'ScalingLimited', status: 'False', reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range', lastTransitionTime: '2026-11-25T09:00:00Z' },
  ];
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name, namespace: APP_NAMESPACE, labels: { 'app.kubernetes.io/instance': RELEASE, 'app.kubernetes.io/name': target } },
    spec: {
      minReplicas: s.min ?? 2,
      maxReplicas: max,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target },
      metrics: [source({ target: { type: 'Utilization', averageUtilization: cpuTarget } })],
      behavior: {
        scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
        scaleDown: { stabilizationWindowSeconds: s.scaleDownWindow ?? 300, selectPolicy: 'Min', policies: [{ type: 'Pods', value: 1, periodSeconds: 120 }] },
      },
    },
    status: s.neverSynced ? { desiredReplicas: 0, currentMetrics: null } : {
      currentReplicas: s.current,
      desiredReplicas: s.desired,
      lastScaleTime: '2026-11-25T09:00:00Z',
      currentMetrics: s.cpu === null ? null : [source({ current: { averageUtilization: s.cpu, averageValue: `${Math.round(2.5 * s.cpu)}m` } })],
      conditions,
    },
  };
}

export function list(items: unknown[]): unknown {
  return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items };
}

/** Pods of the release: `ready` Running and Ready, `pending` Pending (unschedulable), per Deployment. */
export function pods(spec: Record<string, { ready: number; pending?: number }>): unknown {
  const all: Array<Record<string, unknown>> = [];
  for (const [app, { ready, pending = 0 }] of Object.entries(spec)) {
    const doc = podList(Array.from({ length: ready + pending }, (_, i) => ({ name: `${app}-5d8f7c9b6d-p${i}`, app, ready: i < ready, waiting: i < ready ? undefined : 'ContainerCreating', instance: RELEASE }))) as { items: Array<Record<string, any>> };
    doc.items.forEach((p, i) => {
      if (i >= ready) {
        p.status = {
          phase: 'Pending',
          conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/2 nodes are available: 2 Insufficient cpu.' }],
        };
      }
    });
    all.push(...doc.items);
  }
  return list(all);
}

export function nodes(total: number, ready = total): unknown {
  return list(Array.from({ length: total }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: `aks-system-12345678-vmss00000${i}` },
    status: {
      allocatable: { cpu: '1900m', memory: '5000000Ki', pods: '110' },
      conditions: [{ type: 'Ready', status: i < ready ? 'True' : 'False', reason: i < ready ? 'KubeletReady' : 'KubeletNotReady', message: i < ready ? 'kubelet is posting ready status' : 'container runtime network not ready', lastHeartbeatTime: '2026-11-25T09:00:00Z', lastTransitionTime: '2026-11-25T09:00:00Z' }],
      nodeInfo: { kubeletVersion: 'v1.31.7', osImage: 'Ubuntu 22.04.5 LTS', operatingSystem: 'linux', architecture: 'amd64' },
    },
  })));
}

export interface SummaryOptions {
  p95?: number;
  failedRate?: number;
  requests?: number;
  durationMs?: number;
  vusMax?: number;
}

/** k6 1.x handleSummary data (test/fixtures/cli-samples/README.md#k6-summary), as load/lib/summary.ts writes it, thresholds judged from the values. */
export function k6Summary(o: SummaryOptions = {}): Record<string, unknown> {
  const p95 = o.p95 ?? 412;
  const failedRate = o.failedRate ?? 0.0004;
  const requests = o.requests ?? 18912;
  const durationMs = o.durationMs ?? 270_400;
  const vusMax = o.vusMax ?? 100;
  const fails = Math.round(requests * failedRate);
  return {
    root_group: { name: '', path: '', id: 'd41d8cd98f00b204e9800998ecf8427e', groups: [], checks: [{ name: 'health: status 200', path: '::health: status 200', id: 'c1', passes: 1890, fails: 0 }] },
    options: { summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'], summaryTimeUnit: '', noColor: false },
    state: { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: durationMs },
    metrics: {
      http_req_duration: { type: 'trend', contains: 'time', values: { avg: p95 * 0.55, min: 12, med: p95 * 0.45, max: p95 * 2.1, 'p(90)': p95 * 0.82, 'p(95)': p95 }, thresholds: { 'p(95)<1000': { ok: p95 < 1000 } } },
      'http_req_duration{endpoint:chat}': { type: 'trend', contains: 'time', values: { avg: 900, min: 400, med: 850, max: 2400, 'p(90)': 1500, 'p(95)': 1800 } },
      http_req_failed: { type: 'rate', contains: 'default', values: { rate: failedRate, passes: fails, fails: requests - fails }, thresholds: { 'rate<0.01': { ok: failedRate < 0.01 } } },
      http_reqs: { type: 'counter', contains: 'default', values: { count: requests, rate: requests / (durationMs / 1000) } },
      chat_requests: { type: 'counter', contains: 'default', values: { count: 200, rate: 0.74 }, thresholds: { 'count<=200': { ok: true } } },
      checks: { type: 'rate', contains: 'default', values: { rate: 1 - failedRate, passes: requests - fails, fails } },
      vus: { type: 'gauge', contains: 'default', values: { value: 1, min: 1, max: vusMax } },
      vus_max: { type: 'gauge', contains: 'default', values: { value: vusMax, min: vusMax, max: vusMax } },
    },
  };
}

/**
 * k6's `--out json` lines (Metric declarations, then Points every second): VUs ramping
 * 0 → peak → 0, requests proportional to VUs, latency rising with load.
 */
export function k6Points(stages: { rampUp: number; hold: number; rampDown: number; peak: number; p95?: number }): string {
  const start = Date.UTC(2026, 10, 25, 9, 0, 0);
  const lines: string[] = [
    JSON.stringify({ type: 'Metric', data: { type: 'gauge', contains: 'default', tainted: null, thresholds: [], submetrics: null }, metric: 'vus' }),
    JSON.stringify({ type: 'Metric', data: { type: 'counter', contains: 'default', tainted: null, thresholds: [], submetrics: null }, metric: 'http_reqs' }),
    JSON.stringify({ type: 'Metric', data: { type: 'trend', contains: 'time', tainted: null, thresholds: ['p(95)<1000'], submetrics: null }, metric: 'http_req_duration' }),
  ];
  const total = stages.rampUp + stages.hold + stages.rampDown;
  const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '000000Z');
  for (let s = 0; s <= total; s++) {
    const vus = s < stages.rampUp ? Math.round((stages.peak * s) / stages.rampUp) : s < stages.rampUp + stages.hold ? stages.peak : Math.round((stages.peak * (total - s)) / stages.rampDown);
    const at = start + s * 1000;
    lines.push(JSON.stringify({ type: 'Point', data: { time: iso(at), value: vus, tags: null }, metric: 'vus' }));
    const reqs = Math.max(0, Math.round(vus / 10));
    for (let r = 0; r < reqs; r++) {
      const tags = { endpoint: 'tasks_list', expected_response: 'true', method: 'GET', name: 'GET /api/tasks', proto: 'HTTP/1.1', scenario: 'hpa', status: '200' };
      const t = iso(at + r * 10);
      lines.push(JSON.stringify({ type: 'Point', data: { time: t, value: 1, tags }, metric: 'http_reqs' }));
      lines.push(JSON.stringify({ type: 'Point', data: { time: t, value: 40 + (vus / stages.peak) * (stages.p95 ?? 400) * (r / Math.max(1, reqs - 1)), tags }, metric: 'http_req_duration' }));
      lines.push(JSON.stringify({ type: 'Point', data: { time: t, value: 0, tags }, metric: 'http_req_failed' }));
    }
  }
  return `${lines.join('\n')}\n`;
}

export interface TimelineEntry {
  /** Seconds since `k6 run` started. */
  at: number;
  hpas: HpaState[];
  pods: Record<string, { ready: number; pending?: number }>;
  nodes: number;
}

export const STAGES = { rampUp: 30, hold: 100, rampDown: 20, peak: 100 };
export const LOAD_SECONDS = STAGES.rampUp + STAGES.hold + STAGES.rampDown;

/** The flags that shape the test's k6 run to STAGES (the fake k6 takes LOAD_SECONDS either way). */
export const STAGE_FLAGS = ['--vus', String(STAGES.peak), '--ramp-up', `${STAGES.rampUp}s`, '--hold', `${STAGES.hold}s`, '--ramp-down', `${STAGES.rampDown}s`];

/**
 * A world with the local environment's context, a k6 that runs `seconds` (default LOAD_SECONDS)
 * and writes its summary and points, and kubectl answering from the timeline (the first entry
 * before k6 starts).
 */
export function loadWorld(timeline: TimelineEntry[], k6: { exit?: number; stderr?: string; summary?: Record<string, unknown> | string; points?: string | null; seconds?: number } = {}): FakeWorld {
  const w = new FakeWorld({ kube: { context: 'minikube' } });
  const files: NonNullable<Respond['files']> = [{ path: '${e:SUMMARY_PATH}', content: k6.summary ?? k6Summary() }];
  if (k6.points !== null) files.push({ path: '${out:json}', content: k6.points ?? k6Points(STAGES) });
  w.on('k6', ['run'], {
    delayMs: (k6.seconds ?? LOAD_SECONDS) * 1000,
    files,
    stdout: 'k6 hpa: 18912 requests in 270.4s (69.9/s), peak 100 VUs\n',
    ...(k6.stderr ? { stderr: k6.stderr } : {}),
    exit: k6.exit ?? 0,
  });
  const kinds: Array<[string, (e: TimelineEntry) => unknown]> = [
    ['hpa', (e) => list(e.hpas.map(hpa))],
    ['pods', (e) => pods(e.pods)],
    ['nodes', (e) => nodes(e.nodes)],
  ];
  for (const [kind, render] of kinds) {
    w.timeline('kubectl', ['get', kind], timeline.map((e) => ({ at: e.at, respond: { json: render(e) } })), { phase: 'k6-run' });
    // Before k6 starts (the baseline sample): the first entry.
    w.on('kubectl', ['get', kind], { json: render(timeline[0]!) });
  }
  return w;
}

export interface ReportJson {
  schema: string;
  k6: { exitCode: number; command: string; summary: Record<string, unknown>; series: Array<Record<string, number | null>> | { error: string }; durationSeconds: number };
  samples: Array<{ t: number; phase: string; hpas: Array<Record<string, unknown>> | null; pods: Record<string, unknown> | null; nodes: { total: number; ready: number } | null; errors: string[] }>;
  verdict: { ok: boolean; criteria: Array<{ id: string; status: string; explanation: string; fix?: string; measured: Record<string, unknown> }>; markers: Array<{ t: number; label: string }> };
}
