// Runs k6 and, while it runs and for a while after, samples the HPAs, the release's pods and the
// nodes every few seconds. The three kubectl reads of one sample run side by side; a read that
// fails is recorded in the sample and the watch goes on (a load test must not stop because one
// API call timed out).
import { z } from 'zod';
import { parseCliJson } from '../cli-json.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import { firstLine } from '../runner.ts';
import type { Runner, RunResult } from '../runner.ts';
import { awaitingMetrics, parseHpaList, parseNodeList, parsePodList } from './cluster.ts';
import type { HpaSnapshot, NodeSnapshot, PodSnapshot } from './cluster.ts';
import type { K6Plan } from './k6.ts';

/** `kubectl get hpa|pods|nodes -l … -o json`: a List of objects; cluster.ts reads each field defensively. */
const SampleListSchema = z.looseObject({ items: z.array(z.looseObject({})) });

export type Phase = 'before' | 'load' | 'after';

export interface Sample {
  /** Seconds since k6 was started (negative for the baseline taken before it). */
  t: number;
  /** Wall-clock time of the sample (the scripts' clock). */
  at: string;
  phase: Phase;
  hpas: HpaSnapshot[] | null;
  pods: PodSnapshot | null;
  nodes: NodeSnapshot | null;
  /** Reads that failed in this sample, one line each. */
  errors: string[];
}

export interface WatchTarget {
  namespace: string;
  release: string;
}

export interface ObserveOptions extends WatchTarget {
  intervalSeconds: number;
  observeAfterSeconds: number;
  /** Simulated ms before k6 is stopped. */
  k6TimeoutMs: number;
}

export interface K6Run {
  exitCode: number;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** Seconds since k6 was started (0) at which it ended. */
  endedT: number;
  startedAt: string;
  endedAt: string;
}

export interface Observation {
  samples: Sample[];
  k6: K6Run;
}

/**
 * The three read-only kubectl calls of one sample. kubectl's own `--request-timeout` (one
 * interval, at least 10 s) bounds each API request, so a slow API server makes a gap in the
 * samples, not a pile-up; the runner's timeout (the environment's commandSeconds) only stops a
 * kubectl that hangs outright.
 */
export function sampleCommands(target: WatchTarget, intervalSeconds: number): Array<{ what: 'hpas' | 'pods' | 'nodes'; args: string[] }> {
  const selector = `app.kubernetes.io/instance=${target.release}`;
  const limit = `--request-timeout=${Math.max(10, intervalSeconds)}s`;
  return [
    { what: 'hpas', args: ['get', 'hpa', '-l', selector, '-n', target.namespace, '-o', 'json', limit] },
    { what: 'pods', args: ['get', 'pods', '-l', selector, '-n', target.namespace, '-o', 'json', limit] },
    { what: 'nodes', args: ['get', 'nodes', '-o', 'json', limit] },
  ];
}


/** One read-only `kubectl get … -o json` List: the document, or why there is none (one line). */
async function readList(runner: Runner, args: string[]): Promise<{ doc: unknown } | { error: string }> {
  let r: RunResult;
  try {
    r = await runner.run('kubectl', args, { allowFailure: true, attempts: 1, mutating: false });
  } catch (e) {
    return { error: `kubectl get ${args[1]}: ${(e as Error).message}` };
  }
  if (r.exitCode !== 0) return { error: `kubectl get ${args[1]}: ${r.timedOut ? 'timed out' : `exit ${r.exitCode}: ${firstLine(r.stderr)}`}` };
  try {
    return { doc: parseCliJson(r, SampleListSchema) };
  } catch (e) {
    return { error: `kubectl get ${args[1]}: unreadable output: ${(e as Error).message}` };
  }
}

export async function takeSample(runner: Runner, clock: Clock, target: WatchTarget, t0: number, phase: Phase, intervalSeconds: number): Promise<Sample> {
  const at = clock.now();
  const sample: Sample = { t: Number(((at - t0) / 1000).toFixed(1)), at: new Date(at).toISOString(), phase, hpas: null, pods: null, nodes: null, errors: [] };
  await Promise.all(sampleCommands(target, intervalSeconds).map(async ({ what, args }) => {
    const read = await readList(runner, args);
    if ('error' in read) {
      sample.errors.push(read.error);
      return;
    }
    if (what === 'hpas') sample.hpas = parseHpaList(read.doc);
    else if (what === 'pods') sample.pods = parsePodList(read.doc);
    else sample.nodes = parseNodeList(read.doc);
  }));
  return sample;
}

/**
 * How long load.mts waits, before it sends any load, for HPAs whose pods have no CPU metrics yet (a
 * load test right after a deploy): metrics-server scrapes every 15 s on AKS and the HPA syncs every
 * 15 s, so new pods usually have metrics within a minute; three leave room for a slow first scrape.
 */
export const METRICS_WAIT_SECONDS = 180;

/** The read the wait repeats: the release's HPAs, the same command as in every sample. */
export function metricsWaitCommand(target: WatchTarget, intervalSeconds: number): string[] {
  return sampleCommands(target, intervalSeconds).find((c) => c.what === 'hpas')!.args;
}

/**
 * Before the load: while an HPA of the release only waits for its new pods' metrics (or the HPAs
 * cannot be read), read them again every interval, for up to METRICS_WAIT_SECONDS. A load sent
 * meanwhile would measure the wait, and the verdict would fail "able to scale" for a reason that is
 * gone a minute later. Any other blocked HPA is left to the verdict, which names the cause.
 */
export async function awaitHpaMetrics(deps: { runner: Runner; clock: Clock; log: Logger }, target: WatchTarget, intervalSeconds: number): Promise<{ waitedSeconds: number; stillWaiting: string[] }> {
  const { runner, clock, log } = deps;
  const args = metricsWaitCommand(target, intervalSeconds);
  const started = clock.now();
  let told = false;
  for (;;) {
    const read = await readList(runner, args);
    // Unread is not "ready": keep reading until the deadline.
    const waiting = 'error' in read ? [`the HPAs (${read.error})`] : parseHpaList(read.doc).filter(awaitingMetrics).map((h) => h.name);
    const waitedSeconds = Math.round((clock.now() - started) / 1000);
    if (!waiting.length) {
      if (told) log.info(`the HPAs have metrics after ${waitedSeconds} s`);
      return { waitedSeconds, stillWaiting: [] };
    }
    if (waitedSeconds >= METRICS_WAIT_SECONDS) {
      log.warn(`${waiting.join(', ')} still without CPU metrics after ${waitedSeconds} s; loading anyway (the verdict says why it could not scale)`);
      return { waitedSeconds, stillWaiting: waiting };
    }
    if (!told) log.info(`${waiting.join(', ')}: no CPU metrics yet (pods started by a recent deploy); waiting up to ${METRICS_WAIT_SECONDS} s before sending load`);
    told = true;
    await clock.sleep(intervalSeconds * 1000);
  }
}

/**
 * Takes a baseline sample, starts k6, samples every `intervalSeconds` until it ends, then keeps
 * sampling for `observeAfterSeconds` to see the scale-in begin. k6's exit 99 (thresholds crossed)
 * and every other exit are returned, never thrown: the verdict decides what they mean.
 */
export async function observeLoad(deps: { runner: Runner; clock: Clock; log: Logger }, k6: K6Plan, opts: ObserveOptions): Promise<Observation> {
  const { runner, clock, log } = deps;
  const interval = opts.intervalSeconds;
  const intervalMs = interval * 1000;
  const samples: Sample[] = [];
  const baselineT0 = clock.now();
  const baseline = await takeSample(runner, clock, opts, baselineT0, 'before', interval);

  const t0 = clock.now();
  baseline.t = Number(((baselineT0 - t0) / 1000).toFixed(1));
  samples.push(baseline);
  let done = false;
  let endedAtMs = 0;
  const k6Promise = runner
    .run('k6', k6.args, { allowFailure: true, attempts: 1, mutating: false, timeoutMs: opts.k6TimeoutMs })
    .finally(() => { done = true; endedAtMs = clock.now(); });

  const sampler = (async () => {
    let next = t0;
    while (!done) {
      samples.push(await takeSample(runner, clock, opts, t0, 'load', interval));
      next += intervalMs;
      const wait = next - clock.now();
      // Wake at the next tick or as soon as k6 ends, whichever is first.
      if (wait > 0 && !done) await Promise.race([clock.sleep(wait), k6Promise.then(() => undefined, () => undefined)]);
      else if (wait <= 0) next = clock.now();
    }
  })();

  const [r] = await Promise.all([k6Promise, sampler]);
  const endedT = Number(((endedAtMs - t0) / 1000).toFixed(1));
  log.info(`k6 finished after ${Math.round(endedT)} s (exit ${r.exitCode}${r.timedOut ? ', stopped: took too long' : ''}); watching the scale-in for ${opts.observeAfterSeconds} s`);

  const until = endedAtMs + opts.observeAfterSeconds * 1000;
  let next = endedAtMs;
  // At least one sample after k6, the last one at or past the end of the observation window.
  for (;;) {
    const startedAt = clock.now();
    samples.push(await takeSample(runner, clock, opts, t0, 'after', interval));
    if (startedAt >= until) break;
    next = Math.min(next + intervalMs, until);
    const wait = next - clock.now();
    if (wait > 0) await clock.sleep(wait);
  }
  return {
    samples,
    k6: {
      exitCode: r.exitCode,
      timedOut: r.timedOut,
      stdout: r.stdout,
      stderr: r.stderr,
      endedT,
      startedAt: new Date(t0).toISOString(),
      endedAt: new Date(endedAtMs).toISOString(),
    },
  };
}
