// The rehearsal's load step: scripts/load.mts, unchanged, against the release's real HPA on the local
// control plane. k6 is the stand-in in k6-standin.ts (kwok's pods run no app to load), which turns the
// load into the CPU it would cost; metrics-server and the HPA controller do the rest for real.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { lastLines, runCli, runScript } from './scenarios.ts';
import type { RehearsalTarget, StepResult } from './scenarios.ts';
import { typeScriptArgs } from '../typescript-runtime.ts';

/** The load: ramps and holds long enough for the HPA's 15 s loop and metrics-server's 15 s scrapes. */
export const LOAD_ARGS = ['--scenario', 'hpa', '--vus', '20', '--ramp-up', '5s', '--hold', '120s', '--ramp-down', '5s', '--observe-after', '20', '--sample-interval', '5'];

export interface LoadTarget {
  hpa: string;
  deployment: string;
  container: string;
  /** The container's CPU request in millicores, from the rendered Deployment. */
  requestMillicores: number;
  cpuTarget: number;
  minReplicas: number;
  maxReplicas: number;
  /** Labels of the Deployment's pods (its selector). */
  selector: string;
  /** The simulated load at its peak, in millicores (see loadMillicores). */
  millicores: number;
}

/** `250m` → 250, `1` → 1000, `0.5` → 500. */
export function cpuMillicores(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(q.trim());
  if (!m) throw new Error(`not a CPU quantity: "${q}"`);
  return m[2] ? Number(m[1]) : Number(m[1]) * 1000;
}

/**
 * The load that should take the HPA to exactly maxReplicas and keep it there: (max − 0.4) pods' worth
 * of CPU at the target. The HPA's formula, desired = ceil(current × utilisation / target), then asks
 * for max from any smaller count (from max−1 the ratio is above its 10% tolerance), and at max each
 * pod runs at (max − 0.4)/max of the target (92% of it for 5 pods), inside the tolerance: no flapping.
 */
export function loadMillicores(requestMillicores: number, cpuTarget: number, maxReplicas: number): number {
  return Math.round(requestMillicores * (cpuTarget / 100) * (maxReplicas - 0.4));
}

/** The fields read here of `kubectl get deployments/hpa -o json` (apps/v1 Deployment, autoscaling/v2 HPA). */
interface ContainerDoc { name: string; image: string; resources?: { requests?: { cpu?: string } } }
interface DeploymentDoc { metadata: { name: string }; spec: { selector: { matchLabels: Record<string, string> }; template: { spec: { containers: ContainerDoc[] } } } }
interface MetricSource { name?: string; container?: string; target?: { averageUtilization?: number } }
interface HpaDoc { metadata: { name: string }; spec: { scaleTargetRef?: { name?: string }; minReplicas?: number; maxReplicas: number; metrics?: Array<{ containerResource?: MetricSource; resource?: MetricSource }> } }

/**
 * The backend's HPA and what it scales, read from the release as Helm rendered it: the Deployment that
 * runs the environment's backend image, its HPA (scaleTargetRef), the container the HPA measures and
 * that container's CPU request.
 */
export async function readLoadTarget(t: RehearsalTarget): Promise<LoadTarget> {
  const ns = t.env.kube.namespace;
  const sel = `app.kubernetes.io/instance=${t.env.release.name}`;
  const get = async <T>(kind: string): Promise<T[]> => {
    const r = await runCli(t, 'kubectl', ['get', kind, '-n', ns, '-l', sel, '-o', 'json']);
    if (r.code !== 0) throw new Error(`kubectl get ${kind}: ${r.stderr.trim()}`);
    return (JSON.parse(r.stdout) as { items: T[] }).items;
  };
  const [deployments, hpas] = await Promise.all([get<DeploymentDoc>('deployments'), get<HpaDoc>('hpa')]);
  const backendImage = t.env.release.images.backend;
  const deployment = deployments.find((d) => d.spec.template.spec.containers.some((c) => c.image.startsWith(`${backendImage}:`)));
  if (!deployment) throw new Error(`no Deployment of the release runs ${backendImage}`);
  const name = deployment.metadata.name;
  const hpa = hpas.find((h) => h.spec.scaleTargetRef?.name === name);
  if (!hpa) throw new Error(`no HorizontalPodAutoscaler targets ${name} (autoscaling off in the values files?)`);
  const metric = (hpa.spec.metrics ?? []).find((m) => (m.containerResource ?? m.resource)?.name === 'cpu');
  const cpuTarget = Number((metric?.containerResource ?? metric?.resource)?.target?.averageUtilization);
  if (!cpuTarget) throw new Error(`${hpa.metadata.name} has no CPU utilisation target`);
  const containers = deployment.spec.template.spec.containers;
  const container = containers.find((c) => c.name === (metric?.containerResource?.container ?? containers[0]!.name));
  const request = container?.resources?.requests?.cpu;
  if (!container || !request) throw new Error(`the container the HPA measures in ${name} has no CPU request`);
  const requestMillicores = cpuMillicores(request);
  const maxReplicas = hpa.spec.maxReplicas;
  return {
    hpa: hpa.metadata.name, deployment: name, container: container.name, requestMillicores, cpuTarget,
    minReplicas: hpa.spec.minReplicas ?? 1, maxReplicas,
    selector: Object.entries(deployment.spec.selector.matchLabels).map(([k, v]) => `${k}=${v}`).join(','),
    millicores: loadMillicores(requestMillicores, cpuTarget, maxReplicas),
  };
}

/** A `k6` on PATH that runs k6-standin.ts, and the environment load.mts (and so the stand-in) gets. */
export function standinEnv(t: RehearsalTarget, dir: string, target: LoadTarget): NodeJS.ProcessEnv {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const k6 = join(bin, 'k6');
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  writeFileSync(k6, `#!/bin/sh\n# The rehearsal's k6 stand-in (scripts/lib/rehearsal/k6-standin.ts).\nexec ${[process.execPath, ...typeScriptArgs()].map(q).join(' ')} ${q(join(t.root, 'scripts', 'lib', 'rehearsal', 'k6-standin.ts'))} "$@"\n`);
  chmodSync(k6, 0o755);
  return {
    ...t.childEnv,
    PATH: `${bin}:${t.childEnv.PATH ?? ''}`,
    REHEARSAL_LOAD_NAMESPACE: t.env.kube.namespace,
    REHEARSAL_LOAD_SELECTOR: target.selector,
    REHEARSAL_LOAD_CONTAINER: target.container,
    REHEARSAL_LOAD_MILLICORES: String(target.millicores),
  };
}

interface Criterion { id: string; status: string; explanation: string; measured?: Record<string, unknown> }

/**
 * The step's verdict, read from load.mts's own: its HPA criteria say the HPA was able to scale, scaled
 * out in time and reached max ready replicas. Capacity and scale-in are shown, not required: the first
 * samples at max replicas can still carry the CPU measured before the last pod took its share.
 */
export function judgeLoad(doc: Record<string, unknown> | undefined, target: LoadTarget): { ok: boolean; observed: string } {
  const criteria = ((doc?.verdict as { criteria?: Criterion[] } | undefined)?.criteria ?? []);
  const by = (id: string) => criteria.find((c) => c.id === id);
  const peak = Number(by('replicas')?.measured?.[`${target.hpa}.peakDesired`] ?? 0);
  const required = ['scaling-active', 'scale-out', 'replicas'];
  const ok = required.every((id) => by(id)?.status === 'pass') && peak === target.maxReplicas;
  const statuses = criteria.map((c) => `${c.id} ${c.status}`).join(', ') || 'no verdict';
  const said = (id: string) => by(id)?.explanation.split(/(?<=\.) /).find((s) => s.startsWith(`${target.hpa}:`));
  const story = [said('scale-out'), said('replicas')].filter(Boolean).map((s) => s!.slice(target.hpa.length + 2)).join(' ');
  const wait = doc?.metricsWait as { waitedSeconds?: number } | undefined;
  const waited = wait?.waitedSeconds === undefined ? '' : `; load.mts waited ${wait.waitedSeconds} s for the HPAs' metrics first`;
  return { ok, observed: `${target.hpa} ${target.minReplicas}→${peak || '?'} of max ${target.maxReplicas} (load ${target.millicores}m over ${target.container}'s ${target.requestMillicores}m request); ${statuses}${waited}${story ? `; ${story}` : ''}` };
}

/** Step 15: load.mts with the k6 stand-in; the HPA read back from load.mts's verdict. */
export async function loadStep(t: RehearsalTarget, p: { step: string; expected: string }): Promise<StepResult> {
  const started = Date.now();
  let target: LoadTarget;
  try {
    target = await readLoadTarget(t);
  } catch (e) {
    return { step: p.step, expected: p.expected, observed: `could not read the backend's HPA: ${(e as Error).message}`, ok: false, seconds: (Date.now() - started) / 1000, exitCode: null };
  }
  // Pods that a deploy or rollback has just replaced have no metrics for their first scrapes: load.mts
  // itself waits for them before it sends load (load/observe.ts, awaitHpaMetrics), so this step, run
  // right after a deploy, also proves that wait against the real HPA controller and metrics-server.
  const dir = join(dirname(t.envFile), 'load');
  const env = standinEnv(t, dir, target);
  t.progress(`${p.step}: ${target.millicores}m of simulated CPU over the ready pods of ${target.deployment} ...`);
  const run = await runScript({ ...t, childEnv: env }, 'load', [...LOAD_ARGS, '--report-dir', dir]);
  const verdict = judgeLoad(run.json, target);
  return {
    step: p.step, expected: p.expected, observed: `exit ${run.code ?? 'killed'}; ${verdict.observed}`, ok: verdict.ok, seconds: run.seconds, exitCode: run.code,
    ...(verdict.ok ? {} : { detail: lastLines(run) }),
  };
}
