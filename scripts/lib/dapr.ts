// The Dapr control plane on a cluster: what is installed (Helm release `dapr` in dapr-system), what
// has to change to reach the pinned version and HA choice, the CRD upgrade Helm does not do, the
// readiness of the five control-plane services, and the app's components, configuration and
// resiliency applied to the app namespace. flows/install-dapr.ts strings these together.
//
// High availability and what it costs (environments/*.yaml `dapr.highAvailability`):
// HA (`global.ha.enabled=true`) runs 3 replicas of each control-plane pod (operator, sentry,
// sidecar injector, placement, scheduler) instead of 1: 10 more pods. The chart sets no resource
// requests by default (docs.dapr.io, "Production guidelines on Kubernetes"), so on paper HA reserves
// nothing; sized as those guidelines recommend (operator 100m/100Mi, injector 100m/30Mi, sentry
// 100m/30Mi, placement 250m/75Mi, and, our assumption since the guide gives no figure, scheduler
// 100m/128Mi for its embedded etcd) one set is 650m CPU / 363Mi, so HA adds 1300m CPU and 726Mi of
// requests. Two Standard_D2s_v3 nodes (2 vCPU / 8 GiB each) have about 3.8 vCPU and at least 10 GiB
// allocatable between them, of which the AKS system pods already request a good part: HA's extra
// 1.3 vCPU is a third of the cluster's CPU, taken before the app (2-5 backend replicas, each with
// a sidecar) gets any. It also buys little on two nodes: placement and scheduler are
// Raft/etcd quorums of three whose anti-affinity is only preferred, so two members share a node and
// losing that node loses the quorum anyway; and HA adds two more scheduler volumes (Azure disks; a
// D2s_v3 attaches at most 4). Hence HA is off by default; turn it on with three or more nodes.
import { stringify } from 'yaml';
import { z } from 'zod';
import type { Clock } from './clock.ts';
import { formatDuration } from './clock.ts';
import type { DaprManifest } from './dapr-components.ts';
import { ExitCode, OpsError } from './errors.ts';
import { currentRevision, isPending, pickRollbackRevision, readHistory, readStatus } from './helm.ts';
import type { HelmRevision } from './helm.ts';
import { MetadataSchema, PodSchema, isPodReady, kubeList } from './kube.ts';
import type { Pod } from './kube.ts';
import { compareVersions } from './preflight.ts';
import type { Runner } from './runner.ts';
import { UNKNOWN } from './runner.ts';

export const DAPR_NAMESPACE = 'dapr-system';
export const DAPR_RELEASE = 'dapr';
export const DAPR_REPO_NAME = 'dapr';
export const DAPR_REPO_URL = 'https://dapr.github.io/helm-charts/';
export const DAPR_CHART = 'dapr/dapr';

/** The control-plane workloads, by the `app` label the chart puts on their pods. */
export const CONTROL_PLANE = [
  { app: 'dapr-operator', kind: 'Deployment', service: 'operator' },
  { app: 'dapr-sentry', kind: 'Deployment', service: 'sentry' },
  { app: 'dapr-sidecar-injector', kind: 'Deployment', service: 'sidecar injector' },
  { app: 'dapr-placement-server', kind: 'StatefulSet', service: 'placement' },
  { app: 'dapr-scheduler-server', kind: 'StatefulSet', service: 'scheduler' },
] as const;

/** CRDs the app's manifests (and Dapr's subscriptions) need before anything can be applied. */
export const REQUIRED_CRDS = ['components.dapr.io', 'configurations.dapr.io', 'resiliencies.dapr.io', 'subscriptions.dapr.io'] as const;

/** The Helm values this toolkit owns; every install/upgrade passes all of them. */
export function desiredValues(highAvailability: boolean): Record<string, boolean> {
  return {
    'global.ha.enabled': highAvailability,
    // The plan: sidecar-to-sidecar mTLS on (the chart's default, stated so a re-run restores it).
    'global.mtls.enabled': true,
  };
}

/** `dapr-1.18.2` (the `chart` column of helm list/history) → `1.18.2`. */
export function chartVersion(chart: string): string | undefined {
  return /^dapr-(\d+\.\d+\.\d+(?:-[\w.]+)?)$/.exec(chart.trim())?.[1];
}

/**
 * A value from Helm's recorded user values. `helm get values`/`status -o json` nest them
 * (`{"global":{"ha":{"enabled":true}}}`); a dotted key (`{"global.ha.enabled":"true"}`) is read too.
 * `--set` values may come back as strings.
 */
export function lookupValue(config: Record<string, unknown>, path: string): unknown {
  if (path in config) return config[path];
  let cur: unknown = config;
  for (const part of path.split('.')) {
    if (!cur || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function asBool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return undefined;
}

/** Chart defaults for the values we own, when a release was installed without setting them. */
const CHART_DEFAULTS: Record<string, boolean> = { 'global.ha.enabled': false, 'global.mtls.enabled': true };

export interface InstalledDapr {
  revision: number;
  status: HelmRevision['status'];
  chart: string;
  /** Undefined when the chart column is not `dapr-<version>`. */
  version: string | undefined;
  /** The values we own as the release has them (chart defaults where unset). */
  values: Record<string, boolean>;
  history: HelmRevision[];
}

/** Reads the `dapr` release: its latest revision, chart version and the values we own. Undefined when not installed. */
export async function readInstalledDapr(runner: Runner): Promise<InstalledDapr | undefined> {
  const history = await readHistory(runner, DAPR_RELEASE, DAPR_NAMESPACE);
  const latest = currentRevision(history);
  if (!latest) return undefined;
  const values: Record<string, boolean> = { ...CHART_DEFAULTS };
  if (!isPending(latest.status)) {
    const status = await readStatus(runner, DAPR_RELEASE, DAPR_NAMESPACE);
    for (const key of Object.keys(CHART_DEFAULTS)) {
      const v = asBool(lookupValue(status?.config ?? {}, key));
      if (v !== undefined) values[key] = v;
    }
  }
  return { revision: latest.revision, status: latest.status, chart: latest.chart, version: chartVersion(latest.chart), values, history };
}

export type DaprPlan =
  | { action: 'install'; to: string; reason: string; upgradeCrds: false; steps: string[] }
  | { action: 'upgrade'; from: string | undefined; to: string; reason: string; upgradeCrds: boolean; steps: string[] }
  | { action: 'none'; to: string; reason: string; upgradeCrds: false; steps: string[] };

/**
 * Where an upgrade stops on the way to a newer minor release. Dapr supports upgrading one minor
 * release at a time: every row of the upgrade-path table in its support policy goes from a
 * minor to the next one (1.14.x → 1.15.x → 1.16.x …), and only the newest three minors are
 * supported at all. A cluster still on 1.14 therefore passes through 1.15, 1.16 and 1.17 on its
 * way to 1.18, each one installed (CRDs first) and its control plane ready before the next.
 * Each stop is a released patch of that minor, pinned so that a re-run takes the same path.
 */
export const DAPR_UPGRADE_STOPS: Readonly<Record<string, string>> = {
  '1.15': '1.15.4',
  '1.16': '1.16.8',
  '1.17': '1.17.11',
};

function minorOf(version: string): number {
  return Number(/^1\.(\d+)\./.exec(version)?.[1] ?? Number.NaN);
}

/**
 * The versions to install in turn to get from `from` to `to`, ending with `to`: one per minor
 * release in between. A downgrade, an unknown `from` (a chart name we cannot read) or a move
 * within one or to the next minor is a single step.
 */
export function upgradeSteps(from: string | undefined, to: string): string[] {
  if (from === undefined || compareVersions(to, from) <= 0) return [to];
  const a = minorOf(from);
  const b = minorOf(to);
  if (!Number.isFinite(a) || !Number.isFinite(b) || b - a <= 1) return [to];
  const stops: string[] = [];
  for (let m = a + 1; m < b; m++) {
    const stop = DAPR_UPGRADE_STOPS[`1.${m}`];
    if (!stop) {
      throw new OpsError(`no upgrade stop is known for Dapr 1.${m} on the way from ${from} to ${to}; Dapr upgrades one minor release at a time`, {
        hint: `add a released 1.${m}.x to DAPR_UPGRADE_STOPS in scripts/lib/dapr.ts (see docs/runbooks.md#upgrading-from-dapr-114)`,
        exitCode: ExitCode.failed,
      });
    }
    stops.push(stop);
  }
  return [...stops, to];
}

/**
 * What to do to reach `version` with `highAvailability`. A release stuck in pending-* blocks every
 * upgrade: that is an error naming the exact command (exit 1), never guessed at here.
 * CRDs are upgraded only when moving to a newer version: Dapr's CRDs are backward compatible and
 * "should only be installed forward", so a downgrade keeps the newer ones.
 */
export function planDaprChange(installed: InstalledDapr | undefined, version: string, highAvailability: boolean): DaprPlan {
  if (!installed) return { action: 'install', to: version, reason: `Dapr is not installed in ${DAPR_NAMESPACE}`, upgradeCrds: false, steps: [version] };
  if (isPending(installed.status)) {
    const good = pickRollbackRevision(installed.history, installed.revision);
    const everGood = installed.history.some((h) => h.status === 'deployed' || h.status === 'superseded');
    const command = good
      ? `helm rollback ${DAPR_RELEASE} ${good.revision} -n ${DAPR_NAMESPACE} --wait`
      : `helm uninstall ${DAPR_RELEASE} -n ${DAPR_NAMESPACE}`;
    throw new OpsError(
      `the Dapr release is stuck in ${installed.status} (revision ${installed.revision}, ${installed.chart}); Helm refuses every upgrade until that is resolved`,
      { hint: `check nothing else is installing Dapr (helm history ${DAPR_RELEASE} -n ${DAPR_NAMESPACE}), then run: ${command}${everGood ? '' : '   (the first install never completed)'} and re-run this script`, exitCode: ExitCode.failed },
    );
  }
  const want = desiredValues(highAvailability);
  const drift = Object.entries(want).filter(([k, v]) => installed.values[k] !== v).map(([k, v]) => `${k} ${String(installed.values[k])} → ${String(v)}`);
  const from = installed.version;
  if (from !== version) {
    const newer = from === undefined || compareVersions(version, from) > 0;
    const steps = upgradeSteps(from, version);
    return {
      action: 'upgrade',
      from,
      to: version,
      reason: `${from ? `Dapr ${from}` : `chart ${installed.chart}`} is installed, ${version} is pinned${newer ? '' : ' (a downgrade: the newer CRDs stay, they are backward compatible)'}${steps.length > 1 ? `; one minor release at a time: ${steps.join(' → ')}` : ''}`,
      upgradeCrds: newer,
      steps,
    };
  }
  if (installed.status !== 'deployed') {
    return { action: 'upgrade', from, to: version, reason: `the latest revision ${installed.revision} is ${installed.status}`, upgradeCrds: false, steps: [version] };
  }
  if (drift.length) return { action: 'upgrade', from, to: version, reason: `values differ: ${drift.join(', ')}`, upgradeCrds: false, steps: [version] };
  return { action: 'none', to: version, reason: `Dapr ${version} (HA ${highAvailability ? 'on' : 'off'}) is already installed (revision ${installed.revision})`, upgradeCrds: false, steps: [] };
}

/** `helm upgrade --install` for the pinned chart. --wait: the control plane must be up before components apply. */
export function daprUpgradeArgs(version: string, highAvailability: boolean, timeoutSeconds: number): string[] {
  const sets = Object.entries(desiredValues(highAvailability)).flatMap(([k, v]) => ['--set', `${k}=${String(v)}`]);
  return [
    'upgrade', '--install', DAPR_RELEASE, DAPR_CHART,
    '--version', version,
    '--namespace', DAPR_NAMESPACE, '--create-namespace',
    '--wait', '--timeout', `${timeoutSeconds}s`,
    ...sets,
  ];
}

/**
 * The CRDs of the target chart version, piped to a server-side apply, before the chart upgrade.
 *
 * Why `helm show crds` + `kubectl apply --server-side` rather than Dapr's documented
 * `kubectl replace -f https://raw.githubusercontent.com/dapr/dapr/v<version>/charts/dapr/crds/<file>.yaml`:
 * - the CRDs come from the very chart tarball (repo and version) the upgrade installs, so no list of
 *   file names to keep in step with Dapr (1.14 ships components, configuration, httpendpoints,
 *   resiliency, subscription; later versions add more) and no second download source;
 * - `replace` fails for a CRD that a new version adds, `apply` creates or updates;
 * - server-side, because client-side apply stores the whole object in the last-applied annotation
 *   and Dapr's configuration CRD is too large for it (the reason Dapr's docs say `replace`);
 *   `--force-conflicts` because Helm's original install owns those fields and we are taking them over;
 * - it is testable offline: the CRDs travel on stdin, where the fake cluster reads them.
 */
export function crdShowArgs(version: string): string[] {
  return ['show', 'crds', DAPR_CHART, '--version', version];
}
export const CRD_APPLY_ARGS = ['apply', '--server-side', '--force-conflicts', '-f', '-'] as const;

/** The exact commands that put the CRDs of `version` on the cluster by hand. */
export function crdFixCommand(version: string): string {
  return `helm repo add ${DAPR_REPO_NAME} ${DAPR_REPO_URL} --force-update && helm show crds ${DAPR_CHART} --version ${version} | kubectl apply --server-side --force-conflicts -f -`;
}

export interface AppliedObject { resource: string; result: string }

/** `kubectl apply` output lines (`component.dapr.io/task-state unchanged`) → typed results. */
export function parseApplyOutput(stdout: string): AppliedObject[] {
  const out: AppliedObject[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^(\S+\/\S+)\s+(created|configured|unchanged|serverside-applied)\b/.exec(line.trim());
    if (m) out.push({ resource: m[1]!, result: m[2]! });
  }
  return out;
}

/**
 * Applies the target version's CRDs; returns what kubectl reported. `helm show crds` reads the chart
 * that `helm repo add` just made available: a dry-run, which did not add it, plans that read (shown
 * with the changes) and the apply without the CRDs, and returns [].
 */
export async function upgradeDaprCrds(runner: Runner, version: string): Promise<AppliedObject[]> {
  const crds = await runner.afterChange(() => runner.run('helm', crdShowArgs(version), { mutating: false, note: 'read the CRDs of the target chart version' }), { show: true });
  if (crds !== UNKNOWN && !/kind:\s*CustomResourceDefinition/.test(crds.stdout)) {
    throw new OpsError(`helm show crds ${DAPR_CHART} --version ${version} printed no CustomResourceDefinition`, {
      hint: `check the chart: helm repo update ${DAPR_REPO_NAME} && helm show crds ${DAPR_CHART} --version ${version}`,
    });
  }
  const applied = await runner.run('kubectl', [...CRD_APPLY_ARGS], {
    stdin: crds === UNKNOWN ? '' : crds.stdout,
    note: `the CRDs from dapr/dapr ${version}, before the chart upgrade (Helm never upgrades CRDs)`,
  });
  return parseApplyOutput(applied.stdout);
}

/** Which of the required CRDs the cluster lacks (read-only). */
export async function findMissingCrds(runner: Runner, names: readonly string[] = REQUIRED_CRDS): Promise<string[]> {
  const r = await runner.run('kubectl', ['get', 'crd', ...names, '-o', 'name'], { allowFailure: true, mutating: false });
  if (r.exitCode === 0) {
    const found = new Set(r.stdout.split('\n').map((l) => l.trim().split('/').pop() ?? '').filter(Boolean));
    return names.filter((n) => !found.has(n));
  }
  const missing = names.filter((n) => new RegExp(`NotFound\\).*"${n.replace(/\./g, '\\.')}" not found`).test(r.stderr));
  if (missing.length === 0) {
    throw new OpsError(`kubectl get crd failed (exit ${r.exitCode}): ${r.stderr.trim().split('\n')[0] ?? ''}`, {
      hint: 'check cluster access: npx zx scripts/doctor.mts',
    });
  }
  return missing;
}

// ---------- control-plane readiness ----------

/** Waiting reasons that do not fix themselves; seen twice in a row they end the wait early. */
const STUCK_REASONS = new Set(['ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'CreateContainerConfigError', 'RunContainerError']);
/** A crash loop is expected briefly while sentry issues the first certificates; this many restarts is not. */
export const CRASH_LOOP_RESTARTS = 5;


/** One pod's state in words: `dapr-operator-7c9 (Running, not ready; dapr-operator waiting: CrashLoopBackOff, 3 restarts)`. */
export function describePod(pod: Pod): string {
  const name = pod.metadata.name;
  if (pod.metadata.deletionTimestamp) return `${name} (Terminating)`;
  const phase = pod.status?.phase ?? 'Unknown';
  if (isPodReady(pod)) return `${name} (Ready)`;
  const parts: string[] = [];
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled && scheduled.status === 'False') parts.push(`${scheduled.reason ?? 'not scheduled'}: ${scheduled.message ?? ''}`.trim());
  for (const c of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    const restarts = c.restartCount ? `, ${c.restartCount} restarts` : '';
    if (c.state?.waiting) parts.push(`${c.name} waiting: ${c.state.waiting.reason ?? 'unknown'}${restarts}${c.state.waiting.message ? ` (${c.state.waiting.message})` : ''}`);
    else if (c.state?.terminated) parts.push(`${c.name} terminated: ${c.state.terminated.reason ?? `exit ${c.state.terminated.exitCode ?? '?'}`}${restarts}`);
    else if (c.ready === false) parts.push(`${c.name} running, not ready${restarts}`);
  }
  return `${name} (${phase}, not ready${parts.length ? `; ${parts.join('; ')}` : ''})`;
}

export interface ComponentReadiness {
  app: string;
  service: string;
  ready: number;
  total: number;
  /** Minimum ready pods this component needs: 3 with HA, else 1. */
  want: number;
  ok: boolean;
  pods: string[];
}

export interface ControlPlaneReport {
  ready: boolean;
  components: ComponentReadiness[];
  /** Pods stuck for a reason that does not resolve by waiting (this poll). */
  stuck: string[];
}

/**
 * Ready when each control-plane service has at least `want` ready pods and every pod of it that is
 * not terminating is ready (so a rolling update counts only once the new pods are up). The pod count
 * comes from the cluster, not from a guess per Dapr version (1.14's scheduler replica count differs
 * between patch releases).
 */
export function assessControlPlane(pods: readonly Pod[], highAvailability: boolean): ControlPlaneReport {
  const want = highAvailability ? 3 : 1;
  const stuck: string[] = [];
  const components = CONTROL_PLANE.map(({ app, service }) => {
    const mine = pods.filter((p) => p.metadata.labels?.app === app && !p.metadata.deletionTimestamp);
    const ready = mine.filter(isPodReady).length;
    for (const p of mine) {
      for (const c of p.status?.containerStatuses ?? []) {
        const reason = c.state?.waiting?.reason ?? '';
        if (STUCK_REASONS.has(reason) || (reason === 'CrashLoopBackOff' && (c.restartCount ?? 0) >= CRASH_LOOP_RESTARTS)) stuck.push(p.metadata.name);
      }
    }
    const ok = ready >= want && ready === mine.length;
    return { app, service, ready, total: mine.length, want, ok, pods: mine.map(describePod) };
  });
  return { ready: components.every((c) => c.ok), components, stuck };
}

/** Multi-line: one line per service, its pods' states. */
export function formatControlPlane(report: ControlPlaneReport): string {
  return report.components
    .map((c) => `  ${c.ok ? 'ok ' : 'NOT'} ${c.app}: ${c.ready}/${Math.max(c.total, c.want)} ready${c.total === 0 ? ' (no pods)' : `: ${c.pods.join(', ')}`}`)
    .join('\n');
}

export async function readControlPlane(runner: Runner, highAvailability: boolean): Promise<ControlPlaneReport> {
  const list = await runner.json(kubeList(PodSchema), 'kubectl', ['get', 'pods', '-n', DAPR_NAMESPACE, '-o', 'json'], { mutating: false });
  return assessControlPlane(list.items, highAvailability);
}

export interface WaitOptions {
  highAvailability: boolean;
  timeoutMs: number;
  /** Simulated milliseconds between polls. */
  pollMs?: number;
  onProgress?: (report: ControlPlaneReport) => void;
}

/**
 * Polls the control-plane pods until all five services are ready. Gives up at the deadline, or
 * early when a pod is stuck (image pull, bad config, a long crash loop) on two polls in a row,
 * naming every pod's state and the commands to look further.
 */
export async function waitForControlPlane(runner: Runner, clock: Clock, opts: WaitOptions): Promise<ControlPlaneReport> {
  const started = clock.now();
  const deadline = started + opts.timeoutMs;
  const pollMs = opts.pollMs ?? 5000;
  let previousStuck = new Set<string>();
  for (;;) {
    const report = await readControlPlane(runner, opts.highAvailability);
    if (report.ready) return report;
    opts.onProgress?.(report);
    const stuckTwice = report.stuck.filter((p) => previousStuck.has(p));
    const now = clock.now();
    if (stuckTwice.length || now >= deadline) {
      const why = stuckTwice.length
        ? `pod${stuckTwice.length > 1 ? 's' : ''} ${stuckTwice.join(', ')} will not become ready by waiting`
        : `not ready after ${formatDuration(now - started)}`;
      const notReady = report.components.filter((c) => !c.ok).map((c) => c.app);
      throw new OpsError(`the Dapr control plane is not ready: ${why} (${notReady.join(', ')})\n${formatControlPlane(report)}`, {
        hint: [
          `kubectl get pods -n ${DAPR_NAMESPACE} -o wide; kubectl describe pod -n ${DAPR_NAMESPACE} <pod>; kubectl logs -n ${DAPR_NAMESPACE} <pod>`,
          'Pending/Unschedulable: the nodes lack CPU or memory (kubectl describe nodes); ImagePullBackOff: the nodes cannot reach ghcr.io/docker.io;',
          'CrashLoopBackOff in operator/injector: usually sentry is not ready yet or its certificates are broken (kubectl logs -n dapr-system -l app=dapr-sentry).',
          'Fix the cause, then re-run this script (it resumes; pass --timeout SECONDS for a slow cluster). See docs/runbooks.md#install-or-upgrade-dapr.',
        ].join('\n      '),
        exitCode: ExitCode.failed,
      });
    }
    previousStuck = new Set(report.stuck);
    await clock.sleep(Math.min(pollMs, Math.max(0, deadline - now)));
  }
}

// ---------- components, configuration, resiliency ----------

/** Multi-document YAML of the manifests, as sent to `kubectl apply -f -` (comments dropped). */
export function renderManifests(manifests: readonly DaprManifest[]): string {
  return manifests.map((m) => stringify(m.doc, { lineWidth: 0 })).join('---\n');
}

export interface ManifestRef { kind: string; name: string; file: string }

export function manifestRefs(manifests: readonly DaprManifest[]): ManifestRef[] {
  return manifests.map((m) => {
    const d = (m.doc ?? {}) as { kind?: unknown; metadata?: { name?: unknown } };
    return { kind: String(d.kind ?? ''), name: String(d.metadata?.name ?? ''), file: m.file };
  });
}

const RESOURCE_OF_KIND: Record<string, string> = {
  Component: 'components.dapr.io',
  Configuration: 'configurations.dapr.io',
  Resiliency: 'resiliencies.dapr.io',
};

/** `kubectl apply -n NS -f -` of every manifest in one call; the per-object results. */
export async function applyDaprManifests(runner: Runner, namespace: string, manifests: readonly DaprManifest[]): Promise<AppliedObject[]> {
  const r = await runner.run('kubectl', ['apply', '-n', namespace, '-f', '-'], {
    stdin: renderManifests(manifests),
    note: manifestRefs(manifests).map((m) => `${m.kind}/${m.name}`).join(', '),
  });
  return r.dryRun ? [] : parseApplyOutput(r.stdout);
}

/** Lists each kind in the namespace and returns the manifests the cluster does not show. */
export async function verifyDaprManifests(runner: Runner, namespace: string, manifests: readonly DaprManifest[]): Promise<ManifestRef[]> {
  const refs = manifestRefs(manifests);
  const missing: ManifestRef[] = [];
  for (const kind of [...new Set(refs.map((r) => r.kind))]) {
    const resource = RESOURCE_OF_KIND[kind];
    if (!resource) continue;
    const list = await runner.json(kubeList(z.looseObject({ metadata: MetadataSchema })), 'kubectl', ['get', resource, '-n', namespace, '-o', 'json'], { mutating: false });
    const names = new Set(list.items.map((i) => i.metadata.name));
    missing.push(...refs.filter((r) => r.kind === kind && !names.has(r.name)));
  }
  return missing;
}

/** `3 created, 2 unchanged`. */
export function countResults(applied: readonly AppliedObject[]): string {
  const counts = new Map<string, number>();
  for (const a of applied) counts.set(a.result, (counts.get(a.result) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${n} ${k}`).join(', ') || 'nothing applied';
}
