// The slices of the Kubernetes pod objects the scripts read (`kubectl get pods -o json`, https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/),
// shared by the rollout watcher, the Dapr control-plane wait and the deploy preflight.
import { z } from 'zod';

export interface ContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: { exitCode?: number; reason?: string; message?: string };
}

export interface ContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  started?: boolean;
  image?: string;
  state?: ContainerState;
  lastState?: ContainerState;
}

export interface Pod {
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    ownerReferences?: Array<{ kind: string; name: string; controller?: boolean }>;
    deletionTimestamp?: string;
  };
  spec?: { containers?: Array<{ name: string; image?: string }>; initContainers?: Array<{ name: string; image?: string }> };
  status?: {
    phase?: string;
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
}

// The same slices as zod schemas, for cli-json.ts: every field the scripts read is checked, every
// other field passes (kubectl prints far more). Typed against the interfaces above, so the two agree.
const str = z.string().optional();
const ContainerStateSchema = z.looseObject({
  waiting: z.looseObject({ reason: str, message: str }).optional(),
  running: z.looseObject({ startedAt: str }).optional(),
  terminated: z.looseObject({ exitCode: z.number().optional(), reason: str, message: str }).optional(),
});
const ContainerStatusSchema = z.looseObject({
  name: z.string(),
  ready: z.boolean().optional(),
  restartCount: z.number().optional(),
  started: z.boolean().optional(),
  image: str,
  state: ContainerStateSchema.optional(),
  lastState: ContainerStateSchema.optional(),
});
const ContainerSchema = z.looseObject({ name: z.string(), image: str });
/** Object metadata: name, labels, annotations and owners, as the scripts read them. */
export const MetadataSchema = z.looseObject({
  name: z.string(),
  namespace: str,
  generation: z.number().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  ownerReferences: z.array(z.looseObject({ kind: z.string(), name: z.string(), controller: z.boolean().optional() })).optional(),
  deletionTimestamp: str,
});
export const ConditionSchema = z.looseObject({ type: z.string(), status: z.string(), reason: str, message: str });
export const PodSchema: z.ZodType<Pod> = z.looseObject({
  metadata: MetadataSchema,
  spec: z.looseObject({ containers: z.array(ContainerSchema).optional(), initContainers: z.array(ContainerSchema).optional() }).optional(),
  status: z.looseObject({
    phase: str,
    conditions: z.array(ConditionSchema).optional(),
    containerStatuses: z.array(ContainerStatusSchema).optional(),
    initContainerStatuses: z.array(ContainerStatusSchema).optional(),
  }).optional(),
});

/** `kubectl get KIND -o json` of several objects: a List whose `items` are checked with `item`. */
export function kubeList<T>(item: z.ZodType<T>) {
  return z.looseObject({ items: z.array(item) });
}

/** The pod's Ready condition is True (every container ready, readiness probes passing). */
export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}
