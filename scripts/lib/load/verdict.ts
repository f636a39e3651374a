// The verdict: did the app hold the load, and did the HPA react as the plan says (scale out within
// 60 s of average CPU crossing 70%, reach what the load needed, not hit its ceiling, keep
// ScalingActive true, scale back in after the load)? Each criterion states its measured numbers.
import { blockingConditions, diagnoseBlocked, scaleOutThreshold } from './cluster.ts';
import type { HpaSnapshot } from './cluster.ts';
import { thresholdMeasure } from './k6.ts';
import type { K6Summary, Scenario } from './k6.ts';
import type { K6Run, Sample } from './observe.ts';

export interface Criteria {
  /** Average CPU utilisation (percent of request) the HPA should scale out above. */
  cpuTargetPercent: number;
  /** Scale-out must start within this many seconds of CPU crossing the target. */
  scaleOutWithinSeconds: number;
  /** The sampling interval, stated as the measurement's resolution. */
  sampleIntervalSeconds: number;
}

export const DEFAULT_CRITERIA: Criteria = { cpuTargetPercent: 70, scaleOutWithinSeconds: 60, sampleIntervalSeconds: 5 };

export type CriterionId = 'k6-thresholds' | 'scaling-active' | 'scale-out' | 'replicas' | 'capacity' | 'scale-in';
/** inconclusive: the run could not show it either way (e.g. the load never pushed CPU over the target). */
export type Status = 'pass' | 'fail' | 'inconclusive' | 'skipped';

export interface CriterionResult {
  id: CriterionId;
  title: string;
  status: Status;
  /** One or more sentences with the measured numbers. */
  explanation: string;
  /** What to do about a failure. */
  fix?: string;
  measured: Record<string, number | string | boolean | null>;
}

export interface Verdict {
  ok: boolean;
  criteria: CriterionResult[];
  /** Moments worth marking on the chart: CPU crossing and scale-out start per HPA. */
  markers: Array<{ t: number; label: string }>;
}

export interface VerdictInput {
  scenario: Scenario;
  samples: readonly Sample[];
  k6: Pick<K6Run, 'exitCode' | 'timedOut' | 'stderr' | 'endedT'>;
  summary: K6Summary | { error: string };
  criteria: Criteria;
}

const TITLES: Record<CriterionId, string> = {
  'k6-thresholds': 'k6 thresholds held',
  'scaling-active': 'HPA able to scale (ScalingActive, AbleToScale)',
  'scale-out': 'scale-out started in time',
  replicas: 'replicas reached what the load needed',
  capacity: 'below max replicas under load',
  'scale-in': 'scale-in after the load',
};

const s = (n: number) => `${Math.round(n)} s`;
const pct = (n: number | null) => (n === null ? 'n/a' : `${Math.round(n)}%`);

/** Every HPA's snapshots over time: name → [(sample, snapshot)]. */
function timelines(samples: readonly Sample[]): Map<string, Array<{ sample: Sample; hpa: HpaSnapshot }>> {
  const out = new Map<string, Array<{ sample: Sample; hpa: HpaSnapshot }>>();
  for (const sample of samples) {
    for (const hpa of sample.hpas ?? []) {
      const list = out.get(hpa.name) ?? [];
      list.push({ sample, hpa });
      out.set(hpa.name, list);
    }
  }
  return out;
}

interface HpaStory {
  name: string;
  target: string;
  /** The CPU target the HPA acts on: its own spec's, or the criteria's when it states none. */
  cpuTarget: number;
  /** The HPA's own CPU target when it differs from the criteria's. */
  targetMismatch: number | null;
  /** Samples during and after the load in which this HPA could be read. */
  readDuring: number;
  threshold: number;
  tolerance: number;
  peakCpu: number | null;
  crossedAt: number | null;
  cpuAtCrossing: number | null;
  replicasAtCrossing: number | null;
  /** When the HPA's desired count first rose above the replicas at crossing. */
  scaleStartAt: number | null;
  scaleStartTo: number | null;
  /** Scaled out with no sample above the threshold: CPU crossed it between `prevT` and `scaleT`. */
  unseen: { prevT: number; scaleT: number; to: number } | null;
  peakDesired: number;
  startReplicas: number;
  maxReplicas: number;
  minReplicas: number;
  /** Most pods of the target Deployment ready in any sample at or after the peak desired count. */
  maxReadyAfterPeak: number | null;
  readyReachedAt: number | null;
  capacityHits: Array<{ t: number; cpu: number; replicas: number }>;
  scaleInAt: number | null;
  calmAt: number | null;
  window: number;
  scaleDownDisabled: boolean;
  lastT: number;
  everScaled: boolean;
}

function story(name: string, points: Array<{ sample: Sample; hpa: HpaSnapshot }>, criteria: Criteria): HpaStory {
  const first = points[0]!.hpa;
  const tolerance = first.tolerance;
  // The HPA scales on its own target, whatever the criteria expect: judge its timing against that.
  const cpuTarget = first.specCpuTarget ?? criteria.cpuTargetPercent;
  const threshold = scaleOutThreshold(cpuTarget, tolerance);
  const during = points.filter((p) => p.sample.phase !== 'before');
  const startReplicas = (points.find((p) => p.sample.phase === 'before') ?? points[0]!).hpa.currentReplicas;
  let peakCpu: number | null = null;
  for (const p of during) if (p.hpa.cpuUtilization !== null) peakCpu = Math.max(peakCpu ?? 0, p.hpa.cpuUtilization);

  const crossIdx = during.findIndex((p) => p.hpa.cpuUtilization !== null && p.hpa.cpuUtilization > threshold);
  const crossing = crossIdx >= 0 ? during[crossIdx]! : undefined;
  let scaleStartAt: number | null = null;
  let scaleStartTo: number | null = null;
  if (crossing) {
    const base = crossing.hpa.currentReplicas;
    // The HPA may already have reacted between two samples: desired above current at the crossing counts as 0 s.
    for (const p of during.slice(crossIdx)) {
      if (p.hpa.desiredReplicas > base || p.hpa.currentReplicas > base) {
        scaleStartAt = p.sample.t;
        scaleStartTo = Math.max(p.hpa.desiredReplicas, p.hpa.currentReplicas);
        break;
      }
    }
  }
  let unseen: HpaStory['unseen'] = null;
  if (!crossing) {
    const all = points;
    const idx = all.findIndex((p) => p.sample.phase !== 'before' && p.hpa.desiredReplicas > startReplicas);
    if (idx > 0) unseen = { prevT: all[idx - 1]!.sample.t, scaleT: all[idx]!.sample.t, to: all[idx]!.hpa.desiredReplicas };
  }
  let peakDesired = startReplicas;
  let peakIdx = -1;
  during.forEach((p, i) => {
    const d = Math.max(p.hpa.desiredReplicas, p.hpa.currentReplicas);
    if (d > peakDesired) { peakDesired = d; peakIdx = i; }
  });
  const everScaled = peakIdx >= 0;
  const ready = (p: { sample: Sample; hpa: HpaSnapshot }): number | null => {
    if (!p.sample.pods) return null;
    return p.sample.pods.byName[p.hpa.target]?.ready ?? 0;
  };
  let maxReadyAfterPeak: number | null = null;
  let readyReachedAt: number | null = null;
  if (everScaled) {
    for (const p of during.slice(peakIdx)) {
      const r = ready(p) ?? p.hpa.currentReplicas;
      maxReadyAfterPeak = Math.max(maxReadyAfterPeak ?? 0, r);
      if (readyReachedAt === null && r >= peakDesired) readyReachedAt = p.sample.t;
    }
  }
  const capacityHits: HpaStory['capacityHits'] = [];
  for (const p of during.filter((q) => q.sample.phase === 'load')) {
    const cpu = p.hpa.cpuUtilization;
    const atMax = p.hpa.currentReplicas >= p.hpa.maxReplicas && (ready(p) ?? p.hpa.currentReplicas) >= p.hpa.maxReplicas;
    if (cpu !== null && atMax && cpu > threshold) capacityHits.push({ t: p.sample.t, cpu, replicas: p.hpa.currentReplicas });
  }
  let scaleInAt: number | null = null;
  let calmAt: number | null = null;
  if (everScaled) {
    for (const p of during.slice(peakIdx + 1)) {
      if (calmAt === null && p.hpa.cpuUtilization !== null && p.hpa.cpuUtilization <= cpuTarget) calmAt = p.sample.t;
      if (p.hpa.desiredReplicas < peakDesired) { scaleInAt = p.sample.t; break; }
    }
  }
  const last = points[points.length - 1]!;
  return {
    name,
    target: first.target,
    cpuTarget,
    targetMismatch: cpuTarget !== criteria.cpuTargetPercent ? cpuTarget : null,
    readDuring: during.length,
    threshold,
    tolerance,
    peakCpu,
    crossedAt: crossing?.sample.t ?? null,
    cpuAtCrossing: crossing?.hpa.cpuUtilization ?? null,
    replicasAtCrossing: crossing?.hpa.currentReplicas ?? null,
    scaleStartAt,
    scaleStartTo,
    unseen,
    peakDesired,
    startReplicas,
    maxReplicas: last.hpa.maxReplicas,
    minReplicas: last.hpa.minReplicas,
    maxReadyAfterPeak,
    readyReachedAt,
    capacityHits,
    scaleInAt,
    calmAt,
    window: last.hpa.scaleDownWindowSeconds,
    scaleDownDisabled: last.hpa.scaleDownDisabled,
    lastT: last.sample.t,
    everScaled,
  };
}

function judgeK6(input: VerdictInput): CriterionResult {
  const base = { id: 'k6-thresholds' as const, title: TITLES['k6-thresholds'] };
  const { k6, summary } = input;
  const measured: CriterionResult['measured'] = { k6ExitCode: k6.exitCode };
  if ('error' in summary) {
    const why = k6.timedOut ? 'k6 ran past its time limit and was stopped' : k6.exitCode === 0 ? 'k6 exited 0' : `k6 exited ${k6.exitCode}`;
    const stderr = k6.stderr.trim().split('\n').filter(Boolean).slice(-3).join(' | ');
    return { ...base, status: 'fail', measured, explanation: `${why} and ${summary.error}, so no threshold can be judged.${stderr ? ` k6 said: ${stderr}` : ''}`, fix: 'run the scenario by hand (see load/README.md) and fix what k6 reports' };
  }
  Object.assign(measured, { p95Ms: summary.p95Ms, failedRate: summary.failedRate, requests: summary.requests, vusMax: summary.vusMax });
  const failed = summary.thresholds.filter((t) => !t.ok);
  const describe = (t: (typeof failed)[number]) => `${t.metric} '${t.threshold}'${thresholdMeasure(summary, t) ? ` (${thresholdMeasure(summary, t)})` : ''}`;
  const totals = `p95 ${summary.p95Ms === null ? 'n/a' : `${Math.round(summary.p95Ms)} ms`}, ${summary.failedRate === null ? 'failed n/a' : `${(summary.failedRate * 100).toFixed(2)}% failed`}, ${summary.requests ?? 'n/a'} requests`;
  if (k6.exitCode === 99 || failed.length > 0) {
    return {
      ...base,
      status: 'fail',
      measured: { ...measured, failedThresholds: failed.map(describe).join('; ') || null },
      explanation: `${failed.length || 'some'} k6 threshold${failed.length === 1 ? '' : 's'} crossed${k6.exitCode === 99 ? ' (k6 exit 99)' : ''}: ${failed.map(describe).join('; ') || 'see the k6 output'}. Totals: ${totals}.`,
      fix: 'read http_req_duration{endpoint:…} in the k6 summary to find the slow endpoint; if the HPA lagged, fix scaling first (below)',
    };
  }
  if (k6.exitCode !== 0) {
    return { ...base, status: 'fail', measured, explanation: `k6 exited ${k6.exitCode}${k6.timedOut ? ' (stopped: it ran past its time limit)' : ''}, which is not a threshold verdict. Totals: ${totals}.`, fix: 'run the scenario by hand (see load/README.md) and fix what k6 reports' };
  }
  return { ...base, status: 'pass', measured, explanation: `all ${summary.thresholds.length} thresholds held: ${totals}.` };
}

function judgeScalingActive(input: VerdictInput, hpaNames: string[]): CriterionResult {
  const base = { id: 'scaling-active' as const, title: TITLES['scaling-active'] };
  const relevant = input.samples.filter((x) => x.phase !== 'before');
  const read = relevant.filter((x) => x.hpas !== null);
  const readErrors = relevant.flatMap((x) => x.errors.filter((e) => e.startsWith('kubectl get hpa')));
  if (read.length === 0) {
    // Not one HPA read during or after the load: nothing shows the HPA could (or could not) scale.
    return {
      ...base,
      status: 'inconclusive',
      measured: { samples: relevant.length, samplesRead: 0 },
      explanation: `the HPAs could not be read in any of ${relevant.length} samples during or after the load${readErrors[0] ? `: ${readErrors[0]}` : ''}.`,
      fix: 'check access to the cluster (npx zx scripts/doctor.mts) and re-run',
    };
  }
  if (hpaNames.length === 0) {
    return {
      ...base,
      status: 'fail',
      measured: { samples: read.length, hpas: 0 },
      explanation: `no HPA of the release was found in ${read.length} samples, so nothing could scale.`,
      fix: 'enable autoscaling in the chart values (backend.autoscaling.enabled: true) and redeploy; check kubectl get hpa -n <namespace>',
    };
  }
  const problems = new Map<string, { hpa: HpaSnapshot; type: string; reason: string; message: string; count: number; first: number; last: number }>();
  for (const x of read) {
    for (const h of x.hpas!) {
      for (const c of blockingConditions(h)) {
        const key = `${h.name}|${c.type}|${c.reason}`;
        const p = problems.get(key) ?? { hpa: h, type: c.type, reason: c.reason, message: c.message, count: 0, first: x.t, last: x.t };
        p.count += 1;
        p.last = x.t;
        problems.set(key, p);
      }
    }
  }
  const gaps = read.length < relevant.length ? ` (${relevant.length - read.length} of ${relevant.length} samples could not read the HPAs)` : '';
  if (problems.size === 0) {
    return { ...base, status: 'pass', measured: { samples: read.length, hpas: hpaNames.length }, explanation: `ScalingActive and AbleToScale were True in all ${read.length} samples of ${hpaNames.join(', ')}${gaps}.` };
  }
  const lines: string[] = [];
  const fixes: string[] = [];
  for (const p of problems.values()) {
    const d = diagnoseBlocked({ type: p.type, status: 'False', reason: p.reason, message: p.message }, p.hpa);
    const span = p.first === p.last ? `at ${s(p.first)}` : `from ${s(p.first)} to ${s(p.last)}`;
    lines.push(`${p.hpa.name}: ${p.type} False (${p.reason}) in ${p.count} of ${read.length} samples ${span}: ${d.cause}. The HPA said: "${p.message}"`);
    fixes.push(d.fix);
  }
  const first = [...problems.values()][0]!;
  return {
    ...base,
    status: 'fail',
    measured: { samples: read.length, hpas: hpaNames.length, condition: first.type, reason: first.reason, samplesInactive: first.count },
    explanation: lines.join(' '),
    fix: [...new Set(fixes)].join('; '),
  };
}

export function evaluate(input: VerdictInput): Verdict {
  const { criteria, scenario } = input;
  const lines = timelines(input.samples);
  const hpaNames = [...lines.keys()].sort();
  const stories = hpaNames.map((n) => story(n, lines.get(n)!, criteria));
  const results: CriterionResult[] = [judgeK6(input), judgeScalingActive(input, hpaNames)];
  const markers: Verdict['markers'] = [];
  for (const st of stories) {
    if (st.crossedAt !== null) markers.push({ t: st.crossedAt, label: `${st.name}: CPU > ${Math.round(st.threshold)}%` });
    if (st.scaleStartAt !== null) markers.push({ t: st.scaleStartAt, label: `${st.name}: scale-out` });
    if (st.unseen) markers.push({ t: st.unseen.scaleT, label: `${st.name}: scale-out` });
  }
  const smoke = scenario === 'smoke';
  const skip = (id: CriterionId, why: string): CriterionResult => ({ id, title: TITLES[id], status: 'skipped', explanation: why, measured: {} });
  const resolution = `sampled every ${criteria.sampleIntervalSeconds} s`;

  // ---- scale-out in time ----
  const crossed = stories.filter((st) => st.crossedAt !== null || st.unseen !== null);
  if (stories.length === 0) {
    results.push(skip('scale-out', 'no HPA to judge (see ScalingActive).'));
  } else if (crossed.length === 0) {
    const unread = stories.filter((st) => st.readDuring === 0);
    const noCpu = stories.filter((st) => st.readDuring > 0 && st.peakCpu === null);
    const peak = stories.map((st) => `${st.name} peaked at ${pct(st.peakCpu)}`).join(', ');
    if (unread.length > 0 && noCpu.length === 0) {
      results.push({ id: 'scale-out', title: TITLES['scale-out'], status: 'inconclusive', measured: { peakCpu: null }, explanation: `${unread.map((st) => st.name).join(', ')} could not be read during the load, so the scale-out was not seen.`, fix: 'check access to the cluster (npx zx scripts/doctor.mts) and re-run' });
    } else if (noCpu.length > 0) {
      results.push({ id: 'scale-out', title: TITLES['scale-out'], status: 'fail', measured: { peakCpu: null }, explanation: `${noCpu.map((st) => st.name).join(', ')} never reported a CPU utilisation during the load, so ${noCpu.length === 1 ? 'it' : 'they'} could not scale out (see ScalingActive). ${peak}.`, fix: 'fix the ScalingActive problem first' });
    } else if (smoke) {
      results.push(skip('scale-out', `the smoke scenario is not meant to push CPU over the target; ${peak}.`));
    } else {
      const top = Math.max(...stories.map((st) => st.peakCpu ?? 0));
      results.push({
        id: 'scale-out', title: TITLES['scale-out'], status: 'inconclusive', measured: { peakCpu: top, cpuTarget: criteria.cpuTargetPercent },
        explanation: `the load never pushed average CPU above the scale-out point (${Math.round(stories[0]!.threshold)}%: the ${stories[0]!.cpuTarget}% target plus the HPA's ${Math.round(stories[0]!.tolerance * 100)}% tolerance): ${peak}. Scale-out was not exercised.`,
        fix: 'run a heavier load (--vus, --hold) or check that the CPU request is not far above what the app uses',
      });
    }
  } else {
    const parts: string[] = [];
    let worst: Status = 'pass';
    const measured: CriterionResult['measured'] = { withinSeconds: criteria.scaleOutWithinSeconds };
    for (const st of crossed) {
      if (st.crossedAt === null && st.unseen) {
        // The HPA scaled out although no sample showed CPU above the threshold: it crossed between two samples.
        const bound = Math.round(st.unseen.scaleT - st.unseen.prevT);
        measured[`${st.name}.delaySeconds`] = null;
        measured[`${st.name}.delayAtMostSeconds`] = bound;
        if (bound <= criteria.scaleOutWithinSeconds) {
          parts.push(`${st.name}: CPU crossed the scale-out point between the samples at ${s(st.unseen.prevT)} and ${s(st.unseen.scaleT)}, and scale-out to ${st.unseen.to} had started by ${s(st.unseen.scaleT)}: at most ${s(bound)} later (limit ${criteria.scaleOutWithinSeconds} s).`);
        } else {
          if (worst === 'pass') worst = 'inconclusive';
          parts.push(`${st.name}: scaled out to ${st.unseen.to} by ${s(st.unseen.scaleT)}, but no sample between ${s(st.unseen.prevT)} and then showed when CPU crossed: the ${s(bound)} gap is longer than the ${criteria.scaleOutWithinSeconds} s limit, so the delay is unknown (the cluster reads were slow).`);
        }
        continue;
      }
      const head = `${st.name}: CPU crossed ${Math.round(st.threshold)}% at ${s(st.crossedAt!)} (${pct(st.cpuAtCrossing)}, ${st.replicasAtCrossing} replicas)`;
      if (st.scaleStartAt === null) {
        worst = 'fail';
        measured[`${st.name}.delaySeconds`] = null;
        parts.push(`${head} and the HPA never scaled out in the ${s(st.lastT - st.crossedAt!)} observed after (needed within ${criteria.scaleOutWithinSeconds} s).`);
        continue;
      }
      const delay = Math.round(st.scaleStartAt - st.crossedAt!);
      measured[`${st.name}.delaySeconds`] = delay;
      measured[`${st.name}.crossedAt`] = st.crossedAt;
      measured[`${st.name}.scaleStartAt`] = st.scaleStartAt;
      const late = delay > criteria.scaleOutWithinSeconds;
      if (late) worst = 'fail';
      parts.push(`${head}; scale-out to ${st.scaleStartTo} started at ${s(st.scaleStartAt)}, ${s(delay)} later (${late ? 'too late: ' : ''}limit ${criteria.scaleOutWithinSeconds} s, ${resolution}).`);
    }
    for (const st of stories.filter((x) => x.crossedAt === null && x.unseen === null)) parts.push(`${st.name}: CPU peaked at ${pct(st.peakCpu)}, below the scale-out point; no scale-out needed.`);
    results.push({
      id: 'scale-out', title: TITLES['scale-out'], status: worst, measured, explanation: parts.join(' '),
      ...(worst === 'inconclusive' ? { fix: 'use a shorter --sample-interval, or check why kubectl reads are slow (npx zx scripts/doctor.mts)' } : {}),
      ...(worst === 'fail' ? { fix: 'check scaleUp.stabilizationWindowSeconds and policies in the HPA, and that metrics-server reports fresh CPU (kubectl top pods); see ScalingActive' } : {}),
    });
  }

  // The plan names the CPU level the HPA must react at; an HPA configured for another one fails it,
  // however well it kept to its own target.
  const mismatched = stories.filter((st) => st.targetMismatch !== null);
  if (mismatched.length > 0 && !smoke) {
    const r = results.find((x) => x.id === 'scale-out')!;
    const said = mismatched.map((st) => `${st.name} scales on ${st.targetMismatch}% CPU, not the ${criteria.cpuTargetPercent}% the criteria expect (--cpu-target)`).join('; ');
    Object.assign(r, {
      status: 'fail',
      explanation: `${said}; its timing below is judged against its own target. ${r.explanation}`,
      fix: `set the HPA's averageUtilization to ${criteria.cpuTargetPercent} in the chart values, or pass --cpu-target with the intended value`,
    });
    r.measured[`${mismatched[0]!.name}.specCpuTarget`] = mismatched[0]!.targetMismatch;
  }

  // ---- replicas reached what the load needed ----
  const scaled = stories.filter((st) => st.everScaled);
  if (scaled.length === 0) {
    results.push(skip('replicas', stories.length ? 'no HPA asked for more replicas than it started with.' : 'no HPA to judge.'));
  } else {
    const parts: string[] = [];
    let status: Status = 'pass';
    const measured: CriterionResult['measured'] = {};
    for (const st of scaled) {
      measured[`${st.name}.peakDesired`] = st.peakDesired;
      measured[`${st.name}.maxReady`] = st.maxReadyAfterPeak;
      if (st.readyReachedAt !== null) {
        parts.push(`${st.name}: the HPA asked for ${st.peakDesired} replicas (from ${st.startReplicas}) and ${st.peakDesired} were ready at ${s(st.readyReachedAt)}.`);
      } else {
        status = 'fail';
        const nodeSamples = input.samples.filter((x) => x.nodes && x.phase !== 'before');
        const nodes = nodeSamples.length ? `nodes ${nodeSamples[0]!.nodes!.total}→${Math.max(...nodeSamples.map((x) => x.nodes!.total))}` : 'node count unknown';
        const pending = Math.max(0, ...input.samples.map((x) => x.pods?.byName[st.target]?.pending ?? 0));
        parts.push(`${st.name}: the HPA asked for ${st.peakDesired} replicas but at most ${st.maxReadyAfterPeak} were ready; up to ${pending} pods of ${st.target} Pending; ${nodes}.`);
      }
    }
    results.push({
      id: 'replicas', title: TITLES.replicas, status, measured, explanation: parts.join(' '),
      ...(status === 'fail' ? { fix: 'kubectl describe pod <pending pod> (Insufficient cpu means the cluster autoscaler must add nodes: check its max count and vCPU quota with npx zx scripts/doctor.mts)' } : {}),
    });
  }

  // ---- capacity: max replicas not hit with CPU still above target ----
  if (stories.length === 0) {
    results.push(skip('capacity', 'no HPA to judge.'));
  } else {
    const hit = stories.filter((st) => st.capacityHits.length > 0);
    if (hit.length === 0) {
      const peaks = stories.map((st) => `${st.name} peaked at ${st.peakDesired} of max ${st.maxReplicas} replicas`).join(', ');
      results.push({ id: 'capacity', title: TITLES.capacity, status: 'pass', measured: Object.fromEntries(stories.map((st) => [`${st.name}.peakReplicas`, st.peakDesired])), explanation: `${peaks}; never at the maximum with CPU above the scale-out point.` });
    } else {
      const parts = hit.map((st) => {
        const first = st.capacityHits[0]!;
        const last = st.capacityHits[st.capacityHits.length - 1]!;
        const top = Math.max(...st.capacityHits.map((h) => h.cpu));
        // The HPA's own formula: desired = ceil(current × utilisation / target).
        const needed = Math.ceil((st.maxReplicas * top) / st.cpuTarget);
        return `capacity limit reached: ${st.name} at its maximum of ${st.maxReplicas} replicas with CPU at up to ${Math.round(top)}% (target ${st.cpuTarget}%) in ${st.capacityHits.length} samples from ${s(first.t)} to ${s(last.t)}; the load needed about ${needed} replicas.`;
      });
      const st0 = hit[0]!;
      results.push({
        id: 'capacity', title: TITLES.capacity, status: 'fail',
        measured: { hpa: st0.name, maxReplicas: st0.maxReplicas, peakCpu: Math.max(...st0.capacityHits.map((h) => h.cpu)), samplesAtMax: st0.capacityHits.length },
        explanation: parts.join(' '),
        fix: 'raise <workload>.autoscaling.maxReplicas in the chart values (and azure.nodeCount.max if nodes are full), or make requests cheaper; re-run the load test',
      });
    }
  }

  // ---- scale-in after the load ----
  if (scaled.length === 0) {
    results.push(skip('scale-in', 'nothing scaled out, so nothing to scale in.'));
  } else {
    const parts: string[] = [];
    let status: Status = 'pass';
    const measured: CriterionResult['measured'] = { loadEndedAt: input.k6.endedT };
    for (const st of scaled) {
      measured[`${st.name}.stabilizationWindowSeconds`] = st.window;
      if (st.scaleDownDisabled) {
        parts.push(`${st.name}: scale-down is disabled in the HPA (selectPolicy Disabled); stays at ${st.peakDesired}.`);
        continue;
      }
      if (st.scaleInAt !== null) {
        measured[`${st.name}.scaleInAt`] = st.scaleInAt;
        const gap = st.scaleInAt - input.k6.endedT;
        // Scale-in can begin during k6's ramp-down, before the last virtual user stops.
        const when = gap >= 0 ? `${s(gap)} after the load ended at ${s(input.k6.endedT)}` : `${s(-gap)} before the load ended at ${s(input.k6.endedT)}, during the ramp-down`;
        parts.push(`${st.name}: scale-in started at ${s(st.scaleInAt)} (${when}).`);
        continue;
      }
      // The window runs from when the HPA's recommendations fell, i.e. when CPU fell below target.
      const calm = st.calmAt ?? input.k6.endedT;
      const since = st.lastT - calm;
      // The HPA acts on a 15 s loop; allow that plus one sample of slack.
      const slack = 15 + criteria.sampleIntervalSeconds;
      measured[`${st.name}.secondsSinceCalm`] = since;
      if (since <= st.window + slack) {
        parts.push(`${st.name}: still at ${st.peakDesired} replicas, inside its ${st.window} s scale-down stabilisation window (CPU below target since ${s(calm)}, observed ${s(since)}); scale-in expected from about ${s(calm + st.window)}.`);
      } else {
        status = 'fail';
        parts.push(`${st.name}: still at ${st.peakDesired} replicas ${s(since)} after CPU fell below target at ${s(calm)}, longer than its ${st.window} s stabilisation window.`);
      }
    }
    results.push({
      id: 'scale-in', title: TITLES['scale-in'], status, measured, explanation: parts.join(' '),
      ...(status === 'fail' ? { fix: 'kubectl describe hpa: check the scaleDown policies and that CPU really fell (kubectl top pods); background work can keep CPU up' } : {}),
    });
  }

  const order: CriterionId[] = ['k6-thresholds', 'scaling-active', 'scale-out', 'replicas', 'capacity', 'scale-in'];
  results.sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
  return { ok: results.every((r) => r.status === 'pass' || r.status === 'skipped'), criteria: results, markers: markers.sort((a, b) => a.t - b.t) };
}
