// The resource metrics API (metrics.k8s.io) on the rehearsal cluster, so that the real HPA controller
// scales on simulated CPU usage as it does on AKS:
//   kwok serves each simulated node's kubelet /metrics/resource endpoint (rehearsal/kwok/metrics.yaml),
//   with the CPU and memory kwok's usage objects give each container (rehearsal/kwok/usage-idle.yaml,
//   and the load step's ResourceUsage objects);
//   metrics-server (built by toolchain.ts) scrapes those endpoints every 15 s;
//   kube-apiserver's aggregator proxies /apis/metrics.k8s.io to metrics-server.
// The aggregator reaches an APIService through its Service. A ClusterIP Service leads nowhere here (no
// kube-proxy, and Endpoints refuse loopback addresses), but for a Service of type ExternalName the
// aggregator dials the external name itself (k8s.io/apiserver/pkg/util/proxy ResolveCluster) at the
// APIService's port: `localhost` and the port metrics-server listens on.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * kube-apiserver flags for the aggregator. It proxies each request with a client certificate and the
 * caller's identity in X-Remote-* headers; metrics-server (reading these settings from the
 * kube-system/extension-apiserver-authentication ConfigMap) trusts the headers from that certificate
 * and authorises the caller itself, as on AKS. The certificate is the rehearsal's admin one, signed
 * by the cluster CA, instead of a separate front-proxy CA: the admin is system:masters already, so
 * letting it assert identities grants nothing new, and the certificate writer stays as it is.
 */
export function aggregatorFlags(dir: string): string[] {
  return [
    `--proxy-client-cert-file=${join(dir, 'admin.crt')}`,
    `--proxy-client-key-file=${join(dir, 'admin.key')}`,
    `--requestheader-client-ca-file=${join(dir, 'ca.crt')}`,
    '--requestheader-allowed-names=rehearsal-admin',
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
  ];
}

/**
 * kube-controller-manager's HPA controller timing, written out at the values AKS runs (the upstream
 * defaults) so the rehearsal's scale-out takes the time production's does and tests the chart's
 * behavior policies against it: a 15 s sync loop; pods count toward CPU only once their first
 * metric is newer than their readiness (5 min initialisation period); scale-in after 5 min of
 * lower recommendations (the chart's HPA sets its own window too).
 */
export const HPA_CONTROLLER_FLAGS = [
  '--horizontal-pod-autoscaler-sync-period=15s',
  '--horizontal-pod-autoscaler-cpu-initialization-period=5m0s',
  '--horizontal-pod-autoscaler-initial-readiness-delay=30s',
  '--horizontal-pod-autoscaler-downscale-stabilization=5m0s',
];

/** kwok reads its Metric and usage objects from the API server (the CRDs are applied before kwok starts). */
export const KWOK_USAGE_FLAGS = ['--enable-crds=Metric,ClusterResourceUsage,ResourceUsage'];

/** Where kwok serves a node's kubelet metrics (the Metric's path, rehearsal/kwok/metrics.yaml). */
export function nodeMetricsAnnotation(node: string): Record<string, string> {
  return { 'metrics.k8s.io/resource-metrics-path': `/metrics/nodes/${node}/metrics/resource` };
}

/** metrics-server's flags: kwok's kubelets answer plain HTTP on loopback, at the port kwok serves. */
export function metricsServerArgs(o: { dir: string; kubeconfig: string; port: number; kwokPort: number }): string[] {
  return [
    `--kubeconfig=${o.kubeconfig}`,
    `--authentication-kubeconfig=${o.kubeconfig}`,
    `--authorization-kubeconfig=${o.kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${o.port}`,
    // A self-signed serving certificate, written here (the APIService skips its verification).
    `--cert-dir=${join(o.dir, 'metrics-server')}`,
    // Every simulated node's kubelet is kwok's one server: its InternalDNS address (localhost, see
    // rehearsal/kwok/stages.yaml) at kwok's port, over HTTP, the only scheme kwok's server speaks here.
    '--kubelet-preferred-address-types=InternalDNS',
    `--kubelet-port=${o.kwokPort}`,
    '--deprecated-kubelet-completely-insecure',
    // metrics-server's own recommended resolution (its release manifests); the HPA reads a new value every 15 s.
    '--metric-resolution=15s',
  ];
}

export const METRICS_API = 'v1beta1.metrics.k8s.io';

/** The Service and APIService that route metrics.k8s.io to metrics-server on loopback. */
export function metricsApiManifests(port: number): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'metrics-server', namespace: 'kube-system' },
        spec: { type: 'ExternalName', externalName: 'localhost' },
      },
      {
        apiVersion: 'apiregistration.k8s.io/v1',
        kind: 'APIService',
        metadata: { name: METRICS_API },
        spec: {
          group: 'metrics.k8s.io',
          version: 'v1beta1',
          groupPriorityMinimum: 100,
          versionPriority: 100,
          // metrics-server's serving certificate is self-signed (metrics-server's own manifests do the same).
          insecureSkipTLSVerify: true,
          service: { name: 'metrics-server', namespace: 'kube-system', port },
        },
      },
    ],
  });
}

/** The files kwok reads its kubelet metrics and idle usage from, applied when the cluster starts. */
export const KWOK_METRICS_FILES = ['rehearsal/kwok/metrics.yaml', 'rehearsal/kwok/usage-idle.yaml'];

/** What metrics.ts needs of the cluster start-up in cluster.ts. */
export interface StartHooks {
  kubectl: (args: string[], input?: string) => Promise<{ status: number | null; stdout: string; stderr: string }>;
  start: (name: string, bin: string, args: string[]) => unknown;
  fail: (what: string, log?: string) => Promise<never>;
  logs: Record<string, string>;
}

/** kwok's usage CRDs, applied and Established before kwok starts (with --enable-crds it watches them). */
export async function applyKwokUsageCrds(h: StartHooks, crdFiles: readonly string[]): Promise<void> {
  const applied = await h.kubectl(['apply', ...crdFiles.flatMap((f) => ['-f', f])]);
  if (applied.status !== 0) await h.fail(`applying kwok's usage CRDs: ${applied.stderr.trim()}`);
  const names = ['metrics', 'clusterresourceusages', 'resourceusages'].map((n) => `crd/${n}.kwok.x-k8s.io`);
  const est = await h.kubectl(['wait', '--for=condition=Established', ...names, '--timeout=60s']);
  if (est.status !== 0) await h.fail(`kwok's usage CRDs were not established: ${est.stderr.trim()}`);
}

/** Starts metrics-server, gives kwok its Metric and idle usage, registers the APIService and waits until it is Available. */
export async function startMetricsServer(h: StartHooks, o: { root: string; bin: string; dir: string; kubeconfig: string; port: number; kwokPort: number }): Promise<void> {
  h.start('metrics-server', o.bin, metricsServerArgs(o));
  const docs = [...KWOK_METRICS_FILES.map((f) => [f, readFileSync(join(o.root, f), 'utf8')]), [`the ${METRICS_API} APIService`, metricsApiManifests(o.port)]];
  for (const [what, doc] of docs) {
    const r = await h.kubectl(['apply', '-f', '-'], doc);
    if (r.status !== 0) await h.fail(`applying ${what}: ${r.stderr.trim()}`);
  }
  // Available: the aggregator reached metrics-server's discovery document through the ExternalName Service.
  const ready = await h.kubectl(['wait', '--for=condition=Available', `apiservice/${METRICS_API}`, '--timeout=90s']);
  if (ready.status !== 0) await h.fail(`the metrics API (${METRICS_API}) did not become Available: ${ready.stderr.trim()}`, h.logs['metrics-server']);
}
