// k6 from the orchestrator's side: the command line for load/<scenario>.ts, its summary file
// (handleSummary data, https://grafana.com/docs/k6/latest/results-output/end-of-test/custom-summary/,
// or the older --summary-export shape, https://grafana.com/docs/k6/latest/using-k6/k6-options/reference/#summary-export),
// and its `--out json=<file>` stream of points (https://grafana.com/docs/k6/latest/results-output/real-time/json/),
// turned into a time series the report can chart.
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { parseDuration } from '../clock.ts';
import { usageError } from '../errors.ts';

export type Scenario = 'hpa' | 'smoke';
export const SCENARIOS: readonly Scenario[] = ['hpa', 'smoke'];

/** Stage overrides, each passed to k6 as `-e NAME=value` (the names load/hpa.ts and load/smoke.ts read). */
export interface StageOverrides {
  vus?: number;
  rampUp?: string;
  hold?: string;
  rampDown?: string;
  duration?: string;
  rate?: number;
}

export interface K6Plan {
  scenario: Scenario;
  scenarioFile: string;
  args: string[];
  /** The `-e` variables in the order passed (BASE_URL first). */
  vars: Array<[string, string]>;
  /** How long the run should take, from the stages (k6's own defaults where not overridden). */
  expectedSeconds: number;
  /** Peak virtual users. */
  peakVus: number;
  summaryPath: string;
  pointsPath: string;
}

/** k6's defaults in load/hpa.ts and load/smoke.ts; keep in step with those files. */
export const SCENARIO_DEFAULTS = {
  hpa: { PEAK_VUS: '100', RAMP_UP: '2m', HOLD: '5m', RAMP_DOWN: '1m' },
  smoke: { SMOKE_VUS: '2', SMOKE_RATE: '2', SMOKE_DURATION: '30s' },
} as const;

/** load/hpa.ts ramps down with gracefulRampDown 30s: iterations may run that much longer. */
const GRACEFUL_RAMP_DOWN_SECONDS = 30;

/** `1m30s` → 90. k6 durations are sums of number+unit pieces. */
export function k6DurationSeconds(text: string): number | undefined {
  const pieces = text.trim().match(/\d+(?:\.\d+)?(?:ms|s|m|h)/g);
  if (!pieces || pieces.join('') !== text.trim()) return undefined;
  return pieces.reduce((sum, p) => sum + (parseDuration(p) ?? 0) / 1000, 0);
}

function checkDuration(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (k6DurationSeconds(value) === undefined) throw usageError(`--${flag} must be a k6 duration such as 30s, 2m or 1m30s (got "${value}")`, `e.g. --${flag} 2m`);
  return value;
}

export function planK6(opts: {
  scenario: Scenario;
  url: string;
  summaryPath: string;
  pointsPath: string;
  stages: StageOverrides;
  /** Extra `-e NAME=value` pairs (e.g. MAX_CHAT_REQUESTS=0). */
  extraVars?: Array<[string, string]>;
}): K6Plan {
  const { scenario, stages } = opts;
  const vars: Array<[string, string]> = [['BASE_URL', opts.url], ['SUMMARY_PATH', opts.summaryPath]];
  let expectedSeconds: number;
  let peakVus: number;
  if (scenario === 'hpa') {
    if (stages.duration !== undefined || stages.rate !== undefined) {
      throw usageError('--duration and --rate apply to --scenario smoke; for hpa use --ramp-up, --hold and --ramp-down', 'add --scenario smoke, or replace them with --ramp-up, --hold and --ramp-down');
    }
    const d = SCENARIO_DEFAULTS.hpa;
    const rampUp = checkDuration('ramp-up', stages.rampUp) ?? d.RAMP_UP;
    const hold = checkDuration('hold', stages.hold) ?? d.HOLD;
    const rampDown = checkDuration('ramp-down', stages.rampDown) ?? d.RAMP_DOWN;
    if (stages.vus !== undefined) vars.push(['PEAK_VUS', String(stages.vus)]);
    if (stages.rampUp !== undefined) vars.push(['RAMP_UP', rampUp]);
    if (stages.hold !== undefined) vars.push(['HOLD', hold]);
    if (stages.rampDown !== undefined) vars.push(['RAMP_DOWN', rampDown]);
    peakVus = stages.vus ?? Number(d.PEAK_VUS);
    expectedSeconds = (k6DurationSeconds(rampUp) ?? 0) + (k6DurationSeconds(hold) ?? 0) + (k6DurationSeconds(rampDown) ?? 0) + GRACEFUL_RAMP_DOWN_SECONDS;
  } else {
    if (stages.rampUp !== undefined || stages.hold !== undefined || stages.rampDown !== undefined) {
      throw usageError('--ramp-up, --hold and --ramp-down apply to --scenario hpa; for smoke use --duration, --rate and --vus', 'drop --scenario smoke, or replace them with --duration, --rate and --vus');
    }
    const d = SCENARIO_DEFAULTS.smoke;
    const duration = checkDuration('duration', stages.duration) ?? d.SMOKE_DURATION;
    if (stages.vus !== undefined) vars.push(['SMOKE_VUS', String(stages.vus)]);
    if (stages.rate !== undefined) vars.push(['SMOKE_RATE', String(stages.rate)]);
    if (stages.duration !== undefined) vars.push(['SMOKE_DURATION', duration]);
    peakVus = stages.vus ?? Number(d.SMOKE_VUS);
    expectedSeconds = (k6DurationSeconds(duration) ?? 0) + GRACEFUL_RAMP_DOWN_SECONDS;
  }
  for (const v of [stages.vus, stages.rate]) {
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw usageError(`--vus and --rate need a whole number of at least 1 (got ${v})`, 'e.g. --vus 20 or --rate 2');
  }
  for (const [name, value] of opts.extraVars ?? []) vars.push([name, value]);
  const scenarioFile = `load/${scenario}.ts`;
  const args = ['run', '--quiet', ...vars.flatMap(([k, v]) => ['-e', `${k}=${v}`]), '--out', `json=${opts.pointsPath}`, scenarioFile];
  return { scenario, scenarioFile, args, vars, expectedSeconds, peakVus, summaryPath: opts.summaryPath, pointsPath: opts.pointsPath };
}

// ---------- the summary file ----------

export interface ThresholdResult {
  metric: string;
  threshold: string;
  ok: boolean;
}

export interface K6Summary {
  /** Which shape the file had. */
  format: 'handleSummary' | 'summary-export';
  durationSeconds: number | null;
  requests: number | null;
  requestRate: number | null;
  p95Ms: number | null;
  p90Ms: number | null;
  avgMs: number | null;
  maxMs: number | null;
  failedRate: number | null;
  checksRate: number | null;
  vusMax: number | null;
  thresholds: ThresholdResult[];
  /** Every metric's values, flattened to name → key → number (both shapes end up the same here). */
  metrics: Record<string, Record<string, number>>;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});

function numbers(o: Json): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(o)) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  return out;
}

/**
 * Parses k6's summary data. The handleSummary shape has `metrics.<m>.values` and
 * `thresholds.<src>.ok`; the --summary-export shape is flat and its threshold booleans are
 * inverted (true means the threshold FAILED), and a rate's `rate` is called `value`.
 */
export function parseK6Summary(doc: unknown): K6Summary {
  const root = obj(doc);
  const metricsIn = obj(root.metrics);
  if (Object.keys(metricsIn).length === 0) throw new Error('the k6 summary has no metrics');
  const legacy = Object.values(metricsIn).some((m) => 'values' in obj(m) || 'type' in obj(m));
  const metrics: Record<string, Record<string, number>> = {};
  const thresholds: ThresholdResult[] = [];
  for (const [name, raw] of Object.entries(metricsIn)) {
    const m = obj(raw);
    if (legacy) {
      metrics[name] = numbers(obj(m.values));
      for (const [src, r] of Object.entries(obj(m.thresholds))) thresholds.push({ metric: name, threshold: src, ok: obj(r).ok === true });
    } else {
      const values = numbers(m);
      // A rate's value is `value` here and `rate` in handleSummary data; a gauge's is also `value`.
      if ('passes' in values && 'fails' in values && 'value' in values) values.rate = values.value!;
      metrics[name] = values;
      for (const [src, failed] of Object.entries(obj(m.thresholds))) thresholds.push({ metric: name, threshold: src, ok: failed === false });
    }
  }
  const get = (metric: string, key: string): number | null => metrics[metric]?.[key] ?? null;
  const durationMs = obj(root.state).testRunDurationMs;
  return {
    format: legacy ? 'handleSummary' : 'summary-export',
    durationSeconds: typeof durationMs === 'number' ? durationMs / 1000 : null,
    requests: get('http_reqs', 'count'),
    requestRate: get('http_reqs', 'rate'),
    p95Ms: get('http_req_duration', 'p(95)'),
    p90Ms: get('http_req_duration', 'p(90)'),
    avgMs: get('http_req_duration', 'avg'),
    maxMs: get('http_req_duration', 'max'),
    failedRate: get('http_req_failed', 'rate'),
    checksRate: get('checks', 'rate'),
    vusMax: get('vus_max', 'max') ?? get('vus_max', 'value') ?? get('vus', 'max'),
    thresholds,
    metrics,
  };
}

export function readK6Summary(path: string): K6Summary | { error: string } {
  if (!existsSync(path)) return { error: `k6 wrote no summary file at ${path}` };
  try {
    return parseK6Summary(JSON.parse(readFileSync(path, 'utf8')));
  } catch (e) {
    return { error: `cannot read the k6 summary ${path}: ${(e as Error).message}` };
  }
}

/** The measured value a threshold judges, e.g. `p(95)=1234 ms` for `p(95)<1000` on http_req_duration. */
export function thresholdMeasure(summary: K6Summary, t: ThresholdResult): string {
  const stat = /^\s*([a-z]+(?:\(\d+(?:\.\d+)?\))?)/.exec(t.threshold)?.[1];
  const values = summary.metrics[t.metric] ?? {};
  if (!stat) return '';
  const v = values[stat] ?? (stat === 'rate' ? values.value : undefined);
  if (v === undefined) return '';
  if (stat === 'rate') return `rate=${(v * 100).toFixed(2)}%`;
  const isTime = t.metric.startsWith('http_req_') && t.metric !== 'http_req_failed' && t.metric !== 'http_reqs';
  return `${stat}=${isTime ? `${Math.round(v)} ms` : Number(v.toFixed(2))}`;
}

// ---------- the --out json stream ----------

export interface K6Bucket {
  /** Seconds since the first point (the start of k6's test run), bucket start. */
  t: number;
  /** Highest `vus` gauge value in the bucket. */
  vus: number | null;
  /** http_reqs per second in the bucket. */
  requestRate: number;
  /** 95th percentile of http_req_duration (ms) in the bucket, null without requests. */
  p95Ms: number | null;
  /** Share of failed requests (http_req_failed) in the bucket. */
  failedRate: number | null;
}

export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  // k6's own method: linear interpolation between closest ranks.
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

interface Accumulator { vus: number | null; reqs: number; durations: number[]; failed: number; failedSeen: number }

const CHARTED = new Set(['vus', 'http_reqs', 'http_req_duration', 'http_req_failed']);

/**
 * Reads k6's JSON output (one object per line; gzip when k6 was given a .gz path) and buckets the
 * points: vus, http_reqs, http_req_duration and http_req_failed. Reads line by line and keeps only
 * those four metrics' (time, value) pairs, since k6 flushes metrics slightly out of time order.
 */
export async function readK6Points(path: string, bucketSeconds: number): Promise<{ buckets: K6Bucket[]; points: number; startedAt: string | null } | { error: string }> {
  if (!existsSync(path)) return { error: `k6 wrote no points file at ${path}` };
  const head = readFileSync(path).subarray(0, 2);
  const raw = createReadStream(path);
  const input: Readable = head[0] === 0x1f && head[1] === 0x8b ? raw.pipe(createGunzip()) : raw;
  const rl = createInterface({ input, crlfDelay: Infinity });
  const kept: Array<{ ms: number; metric: string; value: number }> = [];
  try {
    for await (const line of rl) {
      if (!line.trim()) continue;
      let p: { type?: string; metric?: string; data?: { time?: string; value?: number } };
      try {
        p = JSON.parse(line) as typeof p;
      } catch {
        continue; // a line cut short when k6 was killed
      }
      if (p.type !== 'Point' || !p.metric || !CHARTED.has(p.metric) || !p.data?.time || typeof p.data.value !== 'number') continue;
      const ms = Date.parse(p.data.time);
      if (Number.isFinite(ms)) kept.push({ ms, metric: p.metric, value: p.data.value });
    }
  } catch (e) {
    return { error: `cannot read the k6 points ${path}: ${(e as Error).message}` };
  }
  if (kept.length === 0) return { buckets: [], points: 0, startedAt: null };
  const t0 = kept.reduce((min, p) => Math.min(min, p.ms), Infinity);
  const acc = new Map<number, Accumulator>();
  for (const { ms, metric, value } of kept) {
    const key = Math.floor((ms - t0) / 1000 / bucketSeconds);
    const a = acc.get(key) ?? { vus: null, reqs: 0, durations: [], failed: 0, failedSeen: 0 };
    acc.set(key, a);
    if (metric === 'vus') a.vus = Math.max(a.vus ?? 0, value);
    else if (metric === 'http_reqs') a.reqs += value;
    else if (metric === 'http_req_duration') a.durations.push(value);
    else { a.failedSeen += 1; a.failed += value; }
  }
  const startedAt = new Date(t0).toISOString();
  const points = kept.length;
  const keys = [...acc.keys()].sort((a, b) => a - b);
  const buckets = keys.map((k) => {
    const a = acc.get(k)!;
    return {
      t: k * bucketSeconds,
      vus: a.vus,
      requestRate: Number((a.reqs / bucketSeconds).toFixed(3)),
      p95Ms: a.durations.length ? Number(percentile(a.durations, 95)!.toFixed(2)) : null,
      failedRate: a.failedSeen ? Number((a.failed / a.failedSeen).toFixed(4)) : null,
    };
  });
  return { buckets, points, startedAt };
}
