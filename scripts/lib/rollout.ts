// The rollout watcher: after `helm upgrade` or `helm rollback`, polls the release's Deployments,
// ReplicaSets and pods and decides within seconds. It fails fast on a pod of a new ReplicaSet
// whose app container or `daprd` sidecar (containers or initContainers) waits in CrashLoopBackOff,
// ImagePullBackOff, ErrImagePull, CreateContainerConfigError, RunContainerError or
// InvalidImageName, restarts repeatedly, or on a Deployment's ProgressDeadlineExceeded; it
// succeeds when every Deployment of the release is fully rolled out (the rules of
// `kubectl rollout status`); it gives up at the environment's rollout timeout.
import { z } from 'zod';
import type { Clock } from './clock.ts';
import type { ContainerStatus, Pod } from './kube.ts';
import { ConditionSchema, MetadataSchema, PodSchema, isPodReady, kubeList } from './kube.ts';
import { formatDuration } from './clock.ts';
import type { Logger } from './log.ts';
import type { Runner } from './runner.ts';
import { Unanswered } from './runner.ts';

export const FATAL_WAITING_REASONS: ReadonlySet<string> = new Set([
  'CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull', 'CreateContainerConfigError', 'RunContainerError', 'InvalidImageName',
]);

/** Polls in a row that may fail to read the cluster before the watch gives up (and the deploy rolls back). */
export const MAX_READ_ERRORS = 3;

/** A container that restarted this often in a pod of the new ReplicaSet is failing even while Running. */
export const RESTART_LIMIT = 3;

// ---------- the slices of the Kubernetes objects we read (https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/: Deployment v1, ReplicaSet v1); pods in kube.ts ----------

export type { ContainerStatus, Pod } from './kube.ts';

export interface DeploymentCondition { type: string; status: string; reason?: string; message?: string }

export interface Deployment {
  metadata: { name: string; generation?: number; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec?: { replicas?: number; template?: { spec?: { containers?: Array<{ name: string; image?: string }> } } };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    unavailableReplicas?: number;
    conditions?: DeploymentCondition[];
  };
}

export interface ReplicaSet {
  metadata: {
    name: string;
    annotations?: Record<string, string>;
    ownerReferences?: Array<{ kind: string; name: string; controller?: boolean }>;
  };
}

const num = z.number().optional();
const DeploymentSchema: z.ZodType<Deployment> = z.looseObject({
  metadata: MetadataSchema,
  spec: z.looseObject({
    replicas: num,
    template: z.looseObject({ spec: z.looseObject({ containers: z.array(z.looseObject({ name: z.string(), image: z.string().optional() })).optional() }).optional() }).optional(),
  }).optional(),
  status: z.looseObject({
    observedGeneration: num, replicas: num, updatedReplicas: num, readyReplicas: num, availableReplicas: num, unavailableReplicas: num,
    conditions: z.array(ConditionSchema).optional(),
  }).optional(),
});
const ReplicaSetSchema: z.ZodType<ReplicaSet> = z.looseObject({ metadata: MetadataSchema });

const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

// ---------- pure assessment ----------

export interface ContainerFailure {
  pod: string;
  container: string;
  /** True for the Dapr sidecar. */
  sidecar: boolean;
  /** True when it was found in initContainerStatuses (newer Dapr injects daprd as a native sidecar). */
  init: boolean;
  reason: string;
  message: string;
  restarts: number;
  /** Set when the container terminated before: exit code and reason of the last run. */
  lastExit?: string;
}

export interface DeploymentProgress {
  name: string;
  /** The controller has seen the latest spec. */
  observed: boolean;
  desired: number;
  updated: number;
  available: number;
  total: number;
  done: boolean;
  /** `Waiting for ...` in the words of kubectl rollout status, or `rolled out`. */
  message: string;
  deadlineExceeded?: string;
}

export function isSidecar(container: string): boolean {
  return container === 'daprd';
}

function describeLastExit(c: ContainerStatus): string | undefined {
  const t = c.lastState?.terminated;
  if (!t) return undefined;
  return `exit ${t.exitCode ?? '?'}${t.reason ? ` (${t.reason})` : ''}`;
}

/** Failing containers of one pod: a fatal waiting reason, or too many restarts. */
export function podFailures(pod: Pod, restartLimit = RESTART_LIMIT): ContainerFailure[] {
  const out: ContainerFailure[] = [];
  const statuses = [
    ...(pod.status?.initContainerStatuses ?? []).map((c) => ({ c, init: true })),
    ...(pod.status?.containerStatuses ?? []).map((c) => ({ c, init: false })),
  ];
  for (const { c, init } of statuses) {
    const waiting = c.state?.waiting;
    const restarts = c.restartCount ?? 0;
    const lastExit = describeLastExit(c);
    const base = { pod: pod.metadata.name, container: c.name, sidecar: isSidecar(c.name), init, restarts, ...(lastExit ? { lastExit } : {}) };
    if (waiting?.reason && FATAL_WAITING_REASONS.has(waiting.reason)) {
      out.push({ ...base, reason: waiting.reason, message: waiting.message ?? '' });
    } else if (restarts >= restartLimit) {
      out.push({ ...base, reason: 'RepeatedRestarts', message: `restarted ${restarts} times${lastExit ? `; last run ended with ${lastExit}` : ''}` });
    }
  }
  return out;
}

/** Progress of one Deployment, with kubectl rollout status's rules. */
export function deploymentProgress(d: Deployment): DeploymentProgress {
  const s = d.status ?? {};
  const desired = d.spec?.replicas ?? 1;
  // Every DeploymentStatus count is omitempty: absent means 0.
  const updated = s.updatedReplicas ?? 0;
  const available = s.availableReplicas ?? 0;
  const total = s.replicas ?? 0;
  const observed = (d.metadata.generation ?? 0) <= (s.observedGeneration ?? 0);
  const progressing = (s.conditions ?? []).find((c) => c.type === 'Progressing');
  const base = { name: d.metadata.name, observed, desired, updated, available, total };
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return { ...base, done: false, message: `exceeded its progress deadline`, deadlineExceeded: progressing.message ?? 'ProgressDeadlineExceeded' };
  }
  if (!observed) return { ...base, done: false, message: 'waiting for the deployment spec update to be observed' };
  if (updated < desired) return { ...base, done: false, message: `${updated} out of ${desired} new replicas have been updated` };
  if (total > updated) return { ...base, done: false, message: `${total - updated} old replicas are pending termination` };
  if (available < updated) return { ...base, done: false, message: `${available} of ${updated} updated replicas are available` };
  return { ...base, done: true, message: 'rolled out' };
}

/**
 * The ReplicaSet each Deployment is rolling out now: the one it owns whose revision annotation
 * equals the Deployment's. Undefined until the controller has observed the new spec, so pods of
 * the ReplicaSet being replaced (for example crash-looping pods during a rollback) never count.
 */
export function newReplicaSets(deployments: readonly Deployment[], replicaSets: readonly ReplicaSet[]): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (const d of deployments) {
    const rev = d.metadata.annotations?.[REVISION_ANNOTATION];
    const observed = (d.metadata.generation ?? 0) <= (d.status?.observedGeneration ?? 0);
    const rs = observed && rev !== undefined
      ? replicaSets.find((r) => r.metadata.annotations?.[REVISION_ANNOTATION] === rev
        && (r.metadata.ownerReferences ?? []).some((o) => o.kind === 'Deployment' && o.name === d.metadata.name))
      : undefined;
    out.set(d.metadata.name, rs?.metadata.name);
  }
  return out;
}

function ownerReplicaSet(pod: Pod): string | undefined {
  return (pod.metadata.ownerReferences ?? []).find((o) => o.kind === 'ReplicaSet')?.name;
}

export interface Assessment {
  state: 'progressing' | 'done' | 'failed';
  deployments: DeploymentProgress[];
  failures: ContainerFailure[];
  /** Pods of the new ReplicaSets that were looked at. */
  newPods: string[];
}

/** One look at the release: failed, done or still progressing. Pure, so tests can feed it shapes. */
export function assessRollout(deployments: readonly Deployment[], replicaSets: readonly ReplicaSet[], pods: readonly Pod[], restartLimit = RESTART_LIMIT): Assessment {
  const progress = deployments.map(deploymentProgress);
  const newRs = new Set([...newReplicaSets(deployments, replicaSets).values()].filter((n): n is string => Boolean(n)));
  const candidates = pods.filter((p) => !p.metadata.deletionTimestamp && newRs.has(ownerReplicaSet(p) ?? ''));
  const failures = candidates.flatMap((p) => podFailures(p, restartLimit));
  const deadline = progress.some((p) => p.deadlineExceeded);
  const state = failures.length || deadline ? 'failed' : progress.length > 0 && progress.every((p) => p.done) ? 'done' : 'progressing';
  return { state, deployments: progress, failures, newPods: candidates.map((p) => p.metadata.name) };
}

// ---------- the watcher ----------

export interface WatchOptions {
  runner: Runner;
  clock: Clock;
  log: Logger;
  release: string;
  namespace: string;
  /** Give up after this many simulated milliseconds (env.timeouts.rolloutSeconds). */
  timeoutMs: number;
  /** Between polls; default 3 s. */
  pollMs?: number;
  /** Log lines shown per failing container (kubectl logs --tail). */
  logLines?: number;
  restartLimit?: number;
}

export interface RolloutFailure {
  kind: 'container' | 'deadline' | 'timeout' | 'unreadable';
  /** One line: what failed. */
  summary: string;
  container?: ContainerFailure;
  /** Redacted last log lines of the failing container (or why they could not be read). */
  logs?: string;
  deployment?: string;
}

export interface RolloutResult {
  ok: boolean;
  durationMs: number;
  polls: number;
  deployments: DeploymentProgress[];
  failure?: RolloutFailure;
  /** Simulated time of the poll that saw the failure (for the benchmark and the summary). */
  detectedAt?: number;
}

function selector(release: string): string {
  return `app.kubernetes.io/instance=${release}`;
}

/** The read-only kubectl calls one poll makes, for dry-run plans. */
export function pollCommands(release: string, namespace: string): string[][] {
  return [
    ['get', 'deployments', '-l', selector(release), '-n', namespace, '-o', 'json'],
    ['get', 'replicasets', '-l', selector(release), '-n', namespace, '-o', 'json'],
    ['get', 'pods', '-l', selector(release), '-n', namespace, '-o', 'json'],
  ];
}

export function logsArgs(pod: string, container: string, namespace: string, tail: number, previous: boolean): string[] {
  return ['logs', pod, '-c', container, '-n', namespace, `--tail=${tail}`, ...(previous ? ['--previous'] : [])];
}

async function readLogs(o: WatchOptions, f: ContainerFailure): Promise<string> {
  const tail = o.logLines ?? 20;
  // A crashed container's own output is in the previous instance; a waiting one has none yet.
  const previous = f.restarts > 0 && Boolean(f.lastExit);
  const r = await o.runner.run('kubectl', logsArgs(f.pod, f.container, o.namespace, tail, previous), { allowFailure: true, mutating: false, attempts: 1 });
  if (r.exitCode !== 0) return `(no logs: ${r.stderr.trim().split('\n')[0] ?? `exit ${r.exitCode}`})`;
  const lines = r.stdout.trimEnd().split('\n').slice(-tail);
  return lines.join('\n').trim() ? lines.join('\n') : '(the container printed nothing)';
}

export function describeFailure(f: ContainerFailure): string {
  const what = f.sidecar ? `the Dapr sidecar container daprd${f.init ? ' (init container)' : ''}` : `container ${f.container}${f.init ? ' (init container)' : ''}`;
  return `pod ${f.pod}: ${what} is ${f.reason}${f.message ? `: ${f.message}` : ''}${f.restarts ? ` (${f.restarts} restarts${f.lastExit ? `, last ${f.lastExit}` : ''})` : ''}`;
}

/** A hint for the common causes of each reason. */
export function failureHint(f: ContainerFailure, namespace: string): string {
  const describe = `kubectl describe pod ${f.pod} -n ${namespace}`;
  switch (f.reason) {
    case 'ImagePullBackOff':
    case 'ErrImagePull':
    case 'InvalidImageName':
      return `the image cannot be pulled: check the tag exists (az acr repository show-tags) and that the cluster may pull from the registry (az aks check-acr); ${describe}`;
    case 'CreateContainerConfigError':
      return `a Secret or ConfigMap the pod reads is missing: npx zx scripts/secrets.mts --env <env>; ${describe}`;
    default:
      return f.sidecar
        ? `daprd fails: check its components and configuration (kubectl get components.dapr.io -n ${namespace}) and kubectl logs ${f.pod} -c daprd -n ${namespace}`
        : `kubectl logs ${f.pod} -c ${f.container} -n ${namespace} --previous; ${describe}`;
  }
}

/** How often the watch repeats a poll, for a dry-run's plan. */
function pollNote(o: WatchOptions): string {
  return `every ${formatDuration(o.pollMs ?? 3000)} until rolled out, a pod fails, or ${formatDuration(o.timeoutMs)}`;
}

async function poll(o: WatchOptions): Promise<Assessment & { pods: Pod[] }> {
  const [deployCmd, rsCmd, podCmd] = pollCommands(o.release, o.namespace) as [string[], string[], string[]];
  // Three reads in parallel: one poll costs one round trip.
  const [deployments, replicaSets, pods] = await Promise.all([
    o.runner.json(kubeList(DeploymentSchema), 'kubectl', deployCmd, { mutating: false, note: pollNote(o) }),
    o.runner.json(kubeList(ReplicaSetSchema), 'kubectl', rsCmd, { mutating: false, note: pollNote(o) }),
    o.runner.json(kubeList(PodSchema), 'kubectl', podCmd, { mutating: false, note: pollNote(o) }),
  ]);
  return { ...assessRollout(deployments.items, replicaSets.items, pods.items, o.restartLimit), pods: pods.items };
}

/**
 * Why pods that are not failing are not ready either, for the timeout message: unschedulable (the
 * scheduler's own words, e.g. "0/2 nodes are available: 2 Insufficient cpu"), or running but never
 * passing the readiness probe. A timeout that names neither leaves the operator to guess.
 */
export function describeStuckPods(pods: readonly Pod[], limit = 3): string[] {
  const out: string[] = [];
  for (const p of pods) {
    if (p.metadata.deletionTimestamp || isPodReady(p)) continue;
    const scheduled = p.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (scheduled?.status === 'False') {
      out.push(`pod ${p.metadata.name} is not scheduled (${scheduled.reason ?? 'Pending'}${scheduled.message ? `: ${scheduled.message}` : ''})`);
      continue;
    }
    const unready = (p.status?.containerStatuses ?? []).filter((c) => c.state?.running && c.ready === false).map((c) => c.name);
    if (unready.length) out.push(`pod ${p.metadata.name}: ${unready.map((n) => `container ${n}`).join(', ')} running but not ready (its readiness probe does not pass)`);
  }
  return out.length > limit ? [...out.slice(0, limit), `and ${out.length - limit} more`] : out;
}

/** Polls until the release's Deployments are rolled out, something fails, or the timeout passes. */
export async function waitForRollout(o: WatchOptions): Promise<RolloutResult> {
  const pollMs = o.pollMs ?? 3000;
  const started = o.clock.now();
  let polls = 0;
  let lastLine = '';
  let last: (Assessment & { pods: Pod[] }) | undefined;
  let readErrors = 0;
  for (;;) {
    polls += 1;
    let a: Assessment & { pods: Pod[] };
    try {
      a = await poll(o);
      readErrors = 0;
    } catch (e) {
      // A planning dry-run has no answers: the poll is in the plan, and the watch's outcome is unknown.
      if (e instanceof Unanswered) throw e;
      // The runner already retried transient API errors; a few failed polls in a row mean we are blind.
      readErrors += 1;
      const why = e instanceof Error ? e.message : String(e);
      if (readErrors >= MAX_READ_ERRORS) {
        const summary = `cannot read the release's pods and Deployments (${readErrors} polls failed): ${why}`;
        o.log.warn(summary);
        return { ok: false, durationMs: o.clock.now() - started, polls, deployments: last?.deployments ?? [], failure: { kind: 'unreadable', summary } };
      }
      o.log.warn(`poll ${polls} failed, trying again: ${why}`);
      await o.clock.sleep(pollMs);
      continue;
    }
    last = a;
    const now = o.clock.now();
    if (a.state === 'failed') {
      const detectedAt = now;
      const f = a.failures[0];
      if (f) {
        const logs = await readLogs(o, f);
        o.log.warn(`${describeFailure(f)}\n  last log lines of ${f.pod} -c ${f.container}:\n${logs.split('\n').map((l) => `    | ${l}`).join('\n')}\n  hint: ${failureHint(f, o.namespace)}`);
        for (const other of a.failures.slice(1, 4)) o.log.warn(describeFailure(other));
        return { ok: false, durationMs: now - started, polls, deployments: a.deployments, detectedAt, failure: { kind: 'container', summary: describeFailure(f), container: f, logs } };
      }
      const d = a.deployments.find((p) => p.deadlineExceeded)!;
      const summary = `deployment ${d.name} exceeded its progress deadline: ${d.deadlineExceeded}`;
      o.log.warn(summary);
      return { ok: false, durationMs: now - started, polls, deployments: a.deployments, detectedAt, failure: { kind: 'deadline', summary, deployment: d.name } };
    }
    if (a.state === 'done') {
      o.log.info(`rolled out: ${a.deployments.map((d) => `${d.name} ${d.available}/${d.desired}`).join(', ')} (${formatDuration(now - started)})`);
      return { ok: true, durationMs: now - started, polls, deployments: a.deployments };
    }
    const line = a.deployments.length
      ? a.deployments.filter((d) => !d.done).map((d) => `${d.name}: ${d.message}`).join('; ')
      : `no Deployment with label ${selector(o.release)} yet`;
    if (line !== lastLine) o.log.info(`waiting: ${line}`);
    lastLine = line;
    if (now - started + pollMs > o.timeoutMs) break;
    await o.clock.sleep(pollMs);
  }
  const pending = (last?.deployments ?? []).filter((d) => !d.done);
  const stuck = describeStuckPods(last?.pods ?? []);
  const summary = `the rollout did not finish within ${formatDuration(o.timeoutMs)}: ${pending.map((d) => `${d.name} (${d.message})`).join('; ') || `no Deployment of release ${o.release} found`}${stuck.length ? `; ${stuck.join('; ')}` : ''}`;
  o.log.warn(summary);
  return { ok: false, durationMs: o.clock.now() - started, polls, deployments: last?.deployments ?? [], failure: { kind: 'timeout', summary } };
}
