// What the load test watches in the cluster: the release's HPAs, its pods and the nodes, parsed
// once from `kubectl get … -o json` into typed snapshots. Shapes: the Kubernetes API reference,
// https://kubernetes.io/docs/reference/kubernetes-api/ (Pod v1, HorizontalPodAutoscaler v2, Node v1).

/** The HPA controller's default tolerance: it does not scale while |utilisation/target − 1| ≤ 0.1. */
export const DEFAULT_HPA_TOLERANCE = 0.1;
/** `spec.behavior.scaleDown.stabilizationWindowSeconds` when the HPA does not set it. */
export const DEFAULT_SCALE_DOWN_WINDOW_SECONDS = 300;

export interface HpaCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

export interface HpaSnapshot {
  name: string;
  /** The Deployment the HPA scales (`spec.scaleTargetRef.name`). */
  target: string;
  minReplicas: number;
  maxReplicas: number;
  currentReplicas: number;
  desiredReplicas: number;
  /** Current average CPU utilisation in percent of the request, or null when the HPA reports none. */
  cpuUtilization: number | null;
  /** The CPU target in the HPA's own spec (percent), or null when it has no CPU utilisation metric. */
  specCpuTarget: number | null;
  metricType: 'ContainerResource' | 'Resource' | null;
  /** The container a ContainerResource metric measures. */
  container: string | null;
  scaleDownWindowSeconds: number;
  scaleDownDisabled: boolean;
  /** `spec.behavior.scaleUp.tolerance` (Kubernetes 1.33+) or the controller default. */
  tolerance: number;
  conditions: HpaCondition[];
}

export interface PodCounts {
  total: number;
  ready: number;
  pending: number;
}

export interface PodSnapshot extends PodCounts {
  /** Keyed by the `app.kubernetes.io/name` label (the Deployment name in this chart). */
  byName: Record<string, PodCounts>;
}

export interface NodeSnapshot {
  total: number;
  ready: number;
}

type Json = Record<string, unknown>;

const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function items(list: unknown, kind: string): Json[] {
  const doc = obj(list);
  if (doc.kind === kind) return [doc];
  if (!Array.isArray(doc.items)) throw new Error(`expected a List of ${kind} objects (kubectl get -o json)`);
  return doc.items.map(obj);
}

/** CPU utilisation from `status.currentMetrics` (ContainerResource or Resource, name cpu). */
function currentCpu(status: Json): number | null {
  for (const m of arr(status.currentMetrics).map(obj)) {
    const source = m.type === 'ContainerResource' ? obj(m.containerResource) : m.type === 'Resource' ? obj(m.resource) : undefined;
    if (!source || source.name !== 'cpu') continue;
    const u = num(obj(source.current).averageUtilization);
    if (u !== null) return u;
  }
  return null;
}

function parseTolerance(v: unknown): number | null {
  // A resource.Quantity: "0.05", "50m" or a number.
  if (typeof v === 'number') return v;
  if (typeof v !== 'string' || !v) return null;
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(v.trim());
  if (!m) return null;
  return Number(m[1]) / (m[2] ? 1000 : 1);
}

export function parseHpa(o: Json): HpaSnapshot {
  const metadata = obj(o.metadata);
  const spec = obj(o.spec);
  const status = obj(o.status);
  let specCpuTarget: number | null = null;
  let metricType: HpaSnapshot['metricType'] = null;
  let container: string | null = null;
  for (const m of arr(spec.metrics).map(obj)) {
    const isContainer = m.type === 'ContainerResource';
    const source = isContainer ? obj(m.containerResource) : m.type === 'Resource' ? obj(m.resource) : undefined;
    if (!source || source.name !== 'cpu') continue;
    const target = obj(source.target);
    if (target.type !== 'Utilization') continue;
    specCpuTarget = num(target.averageUtilization);
    metricType = isContainer ? 'ContainerResource' : 'Resource';
    container = isContainer ? str(source.container) || null : null;
    break;
  }
  const behavior = obj(spec.behavior);
  const scaleDown = obj(behavior.scaleDown);
  const window = num(scaleDown.stabilizationWindowSeconds);
  return {
    name: str(metadata.name),
    target: str(obj(spec.scaleTargetRef).name),
    minReplicas: num(spec.minReplicas) ?? 1,
    maxReplicas: num(spec.maxReplicas) ?? 1,
    // Both are plain ints in the API, but currentReplicas is omitempty (0 is absent).
    currentReplicas: num(status.currentReplicas) ?? 0,
    desiredReplicas: num(status.desiredReplicas) ?? 0,
    cpuUtilization: currentCpu(status),
    specCpuTarget,
    metricType,
    container,
    scaleDownWindowSeconds: window ?? DEFAULT_SCALE_DOWN_WINDOW_SECONDS,
    scaleDownDisabled: scaleDown.selectPolicy === 'Disabled',
    tolerance: parseTolerance(obj(behavior.scaleUp).tolerance) ?? DEFAULT_HPA_TOLERANCE,
    conditions: arr(status.conditions).map(obj).map((c) => ({ type: str(c.type), status: str(c.status), reason: str(c.reason), message: str(c.message) })),
  };
}

/** `kubectl get hpa -o json` (a List, or one object) → snapshots, sorted by name. */
export function parseHpaList(doc: unknown): HpaSnapshot[] {
  return items(doc, 'HorizontalPodAutoscaler').map(parseHpa).sort((a, b) => a.name.localeCompare(b.name));
}

function podReady(pod: Json): boolean {
  return arr(obj(pod.status).conditions).map(obj).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** `kubectl get pods -o json` → ready and pending counts, overall and per `app.kubernetes.io/name`. */
export function parsePodList(doc: unknown): PodSnapshot {
  const out: PodSnapshot = { total: 0, ready: 0, pending: 0, byName: {} };
  for (const pod of items(doc, 'Pod')) {
    const metadata = obj(pod.metadata);
    // Terminating pods still count toward neither side of a scale decision.
    if (metadata.deletionTimestamp) continue;
    const phase = str(obj(pod.status).phase);
    if (phase === 'Succeeded' || phase === 'Failed') continue;
    const name = str(obj(metadata.labels)['app.kubernetes.io/name']) || '(unlabelled)';
    const bucket = (out.byName[name] ??= { total: 0, ready: 0, pending: 0 });
    const ready = podReady(pod);
    const pending = phase === 'Pending';
    for (const b of [out, bucket]) {
      b.total += 1;
      if (ready) b.ready += 1;
      if (pending) b.pending += 1;
    }
  }
  return out;
}

/** `kubectl get nodes -o json` → how many nodes, and how many are Ready. */
export function parseNodeList(doc: unknown): NodeSnapshot {
  const nodes = items(doc, 'Node');
  return { total: nodes.length, ready: nodes.filter(podReady).length };
}

/**
 * The conditions that stop an HPA from scaling: ScalingActive False (it cannot compute a replica
 * count) and AbleToScale False (it cannot read or update its target's scale). ScalingLimited is
 * not one of them: it says the HPA was capped (min/max or a behavior policy), which the capacity
 * and scale-out criteria judge from the numbers.
 */
export function blockingConditions(h: HpaSnapshot): HpaCondition[] {
  return h.conditions.filter((c) => (c.type === 'ScalingActive' || c.type === 'AbleToScale') && c.status === 'False');
}

/**
 * An HPA that has not yet computed a replica count from its pods' CPU for a reason that passes by
 * itself: it has no ScalingActive condition at all (the controller has not synced it yet, or has only
 * moved its target up to minReplicas), or ScalingActive is False with "no metrics returned", which is
 * what it says of pods a deploy has just started until metrics-server has scraped them. On the
 * rehearsal cluster, after a first install: no conditions, then AbleToScale only, then "no metrics
 * returned", then ScalingActive True, within about 40 s. A missing CPU request or a missing metrics
 * API is not in passing: those stay, and the verdict names them.
 */
export function awaitingMetrics(h: HpaSnapshot): boolean {
  if (!h.conditions.some((c) => c.type === 'ScalingActive')) return !h.conditions.some((c) => c.type === 'AbleToScale' && c.status === 'False');
  const blocked = blockingConditions(h);
  return blocked.length > 0 && blocked.every((c) => c.type === 'ScalingActive' && /no metrics returned/i.test(c.message) && !/missing request/i.test(c.message));
}

/** The CPU utilisation above which the HPA actually scales out: target × (1 + tolerance). */
export function scaleOutThreshold(cpuTarget: number, tolerance: number): number {
  return cpuTarget * (1 + tolerance);
}

/** Why an HPA cannot scale (a blocking condition), in words an operator can act on. */
export function diagnoseBlocked(c: HpaCondition, h: Pick<HpaSnapshot, 'metricType' | 'container' | 'target' | 'name'>): { cause: string; fix: string } {
  const msg = c.message;
  if (c.type === 'AbleToScale') {
    return c.reason === 'FailedGetScale'
      ? { cause: `the HPA cannot read the scale of its target ${h.target} (wrong scaleTargetRef, or the Deployment is missing)`, fix: `check spec.scaleTargetRef of ${h.name} against kubectl get deploy ${h.target}` }
      : { cause: `the HPA could not change the replica count of ${h.target} (${c.reason || 'AbleToScale False'}: an admission webhook, a ResourceQuota or RBAC refused the update)`, fix: `kubectl describe hpa ${h.name} and read its events (FailedRescale)` };
  }
  const container = h.container ?? 'the app container';
  if (/missing request for cpu/i.test(msg)) {
    const which = /in container (\S+)/.exec(msg)?.[1] ?? container;
    return {
      cause: `missing CPU request (container ${which} has no resources.requests.cpu, so utilisation cannot be computed)`,
      fix: which === 'daprd'
        ? 'set the Dapr sidecar request (annotation dapr.io/sidecar-cpu-request) or use a ContainerResource metric for the app container'
        : `set resources.requests.cpu for ${which} in the chart values and redeploy`,
    };
  }
  if (/could not find the requested resource|pods\.metrics\.k8s\.io|unable to fetch metrics from resource metrics API/i.test(msg)) {
    return { cause: 'metrics-server is not installed or not serving the resource metrics API', fix: 'kubectl get apiservice v1beta1.metrics.k8s.io; on AKS metrics-server is built in: check kubectl -n kube-system get pods -l k8s-app=metrics-server' };
  }
  if (/no metrics returned/i.test(msg)) {
    return {
      cause: `missing CPU request or no CPU metrics for the pods of ${h.target} (metrics-server returned none${h.metricType === 'ContainerResource' ? ` for container ${container}` : ''})`,
      fix: `check resources.requests.cpu of ${container} and kubectl top pods -n <namespace>; new pods need about a minute before metrics appear`,
    };
  }
  if (c.reason === 'FailedGetResourceMetric' || c.reason === 'FailedGetContainerResourceMetric') {
    return { cause: 'missing CPU request or CPU metrics unavailable', fix: `kubectl describe hpa ${h.name} and check resources.requests.cpu of ${container}` };
  }
  if (c.reason === 'InvalidSelector') return { cause: 'the HPA selector matches no pods or overlaps another workload', fix: 'check spec.scaleTargetRef and the Deployment selector' };
  if (c.reason === 'ScalingDisabled') return { cause: 'scaling is disabled (the target was scaled to zero replicas)', fix: `kubectl scale deployment ${h.target} --replicas=<min>` };
  return { cause: c.reason || 'the HPA cannot compute a replica count', fix: 'kubectl describe hpa and read its events' };
}
