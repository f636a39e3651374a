// Helm, typed: `helm history|status -o json` and `helm version` parsed once at the edge, the
// rollback target picked from the history (never blindly current-1), pending-lock detection and
// its recovery plan, and the exact command lines deploy and rollback run on Helm 3.17+ and 4.x.
//
// Helm 3 vs 4, and why neither `--atomic`/`--rollback-on-failure` nor `--wait` is passed:
// - Helm 4 renamed `--atomic` to `--rollback-on-failure`, and both roll back only after the whole
//   `--timeout` has passed: a crash-looping pod costs 5 minutes (default) before anything happens,
//   and the rollback goes to the previous revision even when that one failed too.
// - `--wait` differs: Helm 3 waits for every resource to be ready (its own readiness rules);
//   Helm 4's bare `--wait` means `--wait=watcher` (kstatus), `legacy` is the Helm 3 logic, and
//   with no `--wait` at all Helm 4 waits for hooks only (`hookOnly`). Without `--wait` both majors
//   do the same thing: apply the manifests, run hooks, record the revision as deployed, return.
//   We therefore never pass `--wait`: the same command line means the same on 3 and 4, and our
//   own watcher (rollout.ts) reads pod and Deployment status and fails within seconds.
//   `--timeout` still bounds hooks and API calls on both.
// - Helm 4 may apply server-side (`apply_method: ssa` in `status -o json`) and omits zero times
//   (`deleted`) there; the parser tolerates both.
import { isIP } from 'node:net';
import { z } from 'zod';
import { parseCliJson } from './cli-json.ts';
import { OpsError } from './errors.ts';
import { formatDuration } from './clock.ts';
import type { Runner, RunResult } from './runner.ts';

export const HELM_STATUSES = [
  'unknown', 'deployed', 'uninstalled', 'superseded', 'failed', 'uninstalling', 'pending-install', 'pending-upgrade', 'pending-rollback',
] as const;
export type HelmReleaseStatus = (typeof HELM_STATUSES)[number];

export interface HelmRevision {
  revision: number;
  /** ISO time as Helm wrote it (nanoseconds kept in the string). */
  updated: string;
  status: HelmReleaseStatus;
  chart: string;
  appVersion: string;
  description: string;
}

export interface HelmReleaseInfo {
  name: string;
  namespace: string;
  revision: number;
  status: HelmReleaseStatus;
  description: string;
  firstDeployed?: string;
  lastDeployed?: string;
  /** The user-supplied values of the current revision (`--set`/`-f`), as Helm recorded them. */
  config: Record<string, unknown>;
  /** Helm 4 only: server-side or client-side apply. */
  applyMethod?: 'ssa' | 'csa';
}

export interface HelmVersion {
  /** Without the leading v, e.g. 3.17.3. */
  version: string;
  major: number;
  minor: number;
  patch: number;
}

/** Statuses a rollback may target without --force: the revision ran successfully at some point. */
export const GOOD_STATUSES: ReadonlySet<HelmReleaseStatus> = new Set(['deployed', 'superseded']);

export function isPending(status: HelmReleaseStatus): boolean {
  return status === 'pending-install' || status === 'pending-upgrade' || status === 'pending-rollback';
}

function asStatus(value: unknown, where: string): HelmReleaseStatus {
  if (typeof value === 'string' && (HELM_STATUSES as readonly string[]).includes(value)) return value as HelmReleaseStatus;
  throw new OpsError(`${where}: unknown Helm release status ${JSON.stringify(value)}`, { hint: 'check the helm version with npx zx scripts/doctor.mts (3.17+ or 4.x)' });
}

/** `helm history REL -o json`: one entry per revision (Helm prints the revision as a number). */
const HistorySchema = z.array(z.looseObject({
  revision: z.union([z.number(), z.string()]),
  status: z.string(),
  updated: z.string().optional(),
  chart: z.string().optional(),
  app_version: z.string().optional(),
  description: z.string().optional(),
}));

/** `helm status REL -o json`; `info` times are omitted when zero on Helm 4, `config` is null without user values. */
const StatusSchema = z.looseObject({
  name: z.string().optional(),
  namespace: z.string().optional(),
  version: z.number(),
  info: z.looseObject({
    status: z.string(),
    description: z.string().optional(),
    first_deployed: z.string().optional(),
    last_deployed: z.string().optional(),
    apply_method: z.string().optional(),
  }),
  config: z.record(z.string(), z.unknown()).nullish(),
  apply_method: z.string().optional(),
});

/** `helm history REL -o json`: oldest first, as Helm prints it (sorted again to be safe). */
export function parseHistory(stdout: string): HelmRevision[] {
  const raw = parseCliJson({ command: 'helm history', stdout }, HistorySchema);
  return raw
    .map((e, i) => {
      const revision = Number(e.revision);
      if (!Number.isInteger(revision) || revision < 1) throw new OpsError(`helm history entry ${i}: revision ${JSON.stringify(e.revision)} is not a positive integer`);
      return {
        revision,
        updated: e.updated ?? '',
        status: asStatus(e.status, `helm history revision ${revision}`),
        chart: e.chart ?? '',
        appVersion: e.app_version ?? '',
        description: e.description ?? '',
      };
    })
    .sort((a, b) => a.revision - b.revision);
}

/** `helm status REL -o json` on Helm 3 (`deleted: ""`) or 4 (zero times omitted, `apply_method`). */
export function parseStatus(stdout: string): HelmReleaseInfo {
  const raw = parseCliJson({ command: 'helm status', stdout }, StatusSchema);
  const info = raw.info;
  const revision = raw.version;
  if (!Number.isInteger(revision)) throw new OpsError(`helm status -o json: revision ("version") ${revision} is not an integer`);
  const str = (v: string | undefined) => (v !== undefined && v !== '' ? v : undefined);
  const method = raw.apply_method ?? info.apply_method;
  return {
    name: raw.name ?? '',
    namespace: raw.namespace ?? '',
    revision,
    status: asStatus(info.status, 'helm status'),
    description: info.description ?? '',
    firstDeployed: str(info.first_deployed),
    lastDeployed: str(info.last_deployed),
    config: raw.config ?? {},
    ...(method === 'ssa' || method === 'csa' ? { applyMethod: method } : {}),
  };
}

/**
 * Any `helm version` form: `--template '{{.Version}}'` (`v3.17.3`, no newline), `--short`
 * (`v3.17.3+ge4da497`) or the full `version.BuildInfo{Version:"v4.1.4", ...}`.
 */
export function parseHelmVersion(stdout: string): HelmVersion {
  const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(stdout);
  if (!m) throw new OpsError(`cannot read the Helm version from: ${stdout.trim().slice(0, 80) || '(empty)'}`, { hint: 'install Helm 3.17+ or 4.x: https://helm.sh/docs/intro/install/' });
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return { version: `${major}.${minor}.${patch}`, major, minor, patch };
}

/** True for the Helm majors and minors this toolkit supports (3.17+ and 4.x). */
/** The revision number of the release's latest entry (what `helm status` calls current). */
export function currentRevision(history: readonly HelmRevision[]): HelmRevision | undefined {
  return history.reduce<HelmRevision | undefined>((latest, h) => (!latest || h.revision > latest.revision ? h : latest), undefined);
}

/**
 * The revision to roll back to: the newest `deployed` or `superseded` revision older than
 * `current`. Never current-1 by arithmetic: that one may have failed too, or may be missing
 * from a history trimmed by `--history-max`. Two kinds of superseded revision are skipped: one a
 * rollback moved away from (a broken upgrade that Helm, without --wait, recorded as deployed),
 * and one that runs what `current` runs already (current is "Rollback to N": N changes nothing).
 */
export function pickRollbackRevision(history: readonly HelmRevision[], current: number): HelmRevision | undefined {
  const byRevision = new Map(history.map((h) => [h.revision, h]));
  // A rollback revision runs the manifest of the revision it names: follow "Rollback to N" to the original.
  const origin = (revision: number): number => {
    const seen = new Set<number>();
    let r = revision;
    for (;;) {
      const to = rollbackTarget(byRevision.get(r));
      if (to === undefined || seen.has(r)) return r;
      seen.add(r);
      r = to;
    }
  };
  // Without --wait Helm records a crash-looping upgrade as deployed, then superseded: the revision
  // a rollback moved away from (the one right before each "Rollback to N") is not a good target.
  const abandoned = new Set(history.filter((h) => rollbackTarget(h) !== undefined).map((h) => h.revision - 1));
  const running = origin(current);
  return [...history]
    .filter((h) => h.revision < current && GOOD_STATUSES.has(h.status) && !abandoned.has(h.revision) && origin(h.revision) !== running)
    .sort((a, b) => b.revision - a.revision)[0];
}

/** N of a revision Helm created with `helm rollback REL N` (description "Rollback to N"). */
export function rollbackTarget(h: HelmRevision | undefined): number | undefined {
  const m = h ? /^Rollback to (\d+)$/.exec(h.description) : null;
  return m ? Number(m[1]) : undefined;
}

export type PendingRecovery =
  | { action: 'none' }
  | { action: 'rollback'; pending: HelmRevision; to: HelmRevision; reason: string }
  | { action: 'uninstall'; pending: HelmRevision; reason: string }
  | { action: 'stop'; pending: HelmRevision; reason: string; command: string };

export interface PendingContext {
  release: string;
  namespace: string;
  /** Simulated now, to tell a stale lock from an operation still running. */
  nowMs: number;
  /** A lock younger than this may belong to a Helm call still running (the helm --timeout). */
  liveWindowMs: number;
}

/**
 * What to do about a release stuck in pending-install|pending-upgrade|pending-rollback, which
 * blocks every upgrade with "another operation (install/upgrade/rollback) is in progress":
 * - younger than the Helm timeout: another deploy may still be running; stop and say how to check;
 * - a pending upgrade or rollback with a good revision before it: roll back to that revision;
 * - a pending first install (no good revision at all): uninstall it, nothing ever served from it;
 * - anything else: stop with the exact command for the operator to choose.
 */
export function planPendingRecovery(history: readonly HelmRevision[], ctx: PendingContext): PendingRecovery {
  const latest = currentRevision(history);
  if (!latest || !isPending(latest.status)) return { action: 'none' };
  const ns = `-n ${ctx.namespace}`;
  const updatedMs = Date.parse(latest.updated.replace(/\.(\d{3})\d*Z$/, '.$1Z'));
  const ageMs = Number.isFinite(updatedMs) ? ctx.nowMs - updatedMs : Number.POSITIVE_INFINITY;
  // A time ahead of ours (another runner's clock, which wrote it, is ahead) counts as recent too:
  // taking it for a stale lock would roll back or uninstall under a Helm call that is still running.
  if (ageMs < 0) {
    return {
      action: 'stop',
      pending: latest,
      reason: `revision ${latest.revision} is ${latest.status} since ${latest.updated}, which is ahead of this machine's clock: another deploy may still be running`,
      command: `helm history ${ctx.release} ${ns}   (wait for it to finish; if nothing is running, check this machine's clock, then re-run this deploy)`,
    };
  }
  if (ageMs < ctx.liveWindowMs) {
    return {
      action: 'stop',
      pending: latest,
      reason: `revision ${latest.revision} is ${latest.status} since ${latest.updated}, less than the Helm timeout ago: another deploy may still be running`,
      command: `helm history ${ctx.release} ${ns}   (wait for it to finish; if nothing is running, re-run this deploy after ${Math.ceil((ctx.liveWindowMs - ageMs) / 1000)}s)`,
    };
  }
  const good = pickRollbackRevision(history, latest.revision);
  if (good && latest.status !== 'pending-install') {
    return { action: 'rollback', pending: latest, to: good, reason: `revision ${latest.revision} is stuck in ${latest.status}; revision ${good.revision} (${good.status}) is the newest good one` };
  }
  const everGood = history.some((h) => GOOD_STATUSES.has(h.status));
  if (latest.status === 'pending-install' && !everGood) {
    return { action: 'uninstall', pending: latest, reason: `the first install (revision ${latest.revision}) is stuck in pending-install and never served traffic` };
  }
  return {
    action: 'stop',
    pending: latest,
    reason: `revision ${latest.revision} is stuck in ${latest.status} and no earlier revision ever deployed successfully`,
    command: `helm uninstall ${ctx.release} ${ns}   (removes the release and its objects; then re-run the deploy)`,
  };
}

/** Matches Helm's lock error, same text in 3.17 and 4.x. */
export function isLockError(stderr: string): boolean {
  return /another operation \(install\/upgrade\/rollback\) is in progress/.test(stderr);
}

/** `Error: release: not found` (status, history, rollback), 3 and 4. */
export function isReleaseNotFound(stderr: string): boolean {
  return /release: not found/.test(stderr);
}

/** The REVISION line of `helm upgrade --install` / `install` output (3.17 and 4.x print it the same). */
export function parseUpgradeRevision(stdout: string): number | undefined {
  const m = /^REVISION:\s*(\d+)\s*$/m.exec(stdout);
  return m ? Number(m[1]) : undefined;
}

/** Why a helm call failed: Helm's error, or that the runner stopped it at its timeout (no Helm error then). */
export function helmCallFailure(r: Pick<RunResult, 'stderr' | 'timedOut' | 'durationMs'>): string {
  if (!r.timedOut) return helmErrorSummary(r.stderr);
  const said = r.stderr.trim() ? `; ${helmErrorSummary(r.stderr)}` : '';
  return `helm did not finish within ${formatDuration(r.durationMs)} and was stopped${said}`;
}

/**
 * The first useful line of a failed helm call. Helm 4 prints one line per unready resource
 * and then the context error; Helm 3 one `Error: ...` line.
 */
export function helmErrorSummary(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const errLine = lines.find((l) => l.startsWith('Error:')) ?? lines[0] ?? '(no error output)';
  const extra = lines.filter((l) => l !== errLine && !l.startsWith('WARNING')).slice(0, 3);
  return [errLine, ...extra].join('; ');
}

export interface ImageRef {
  repository: string;
  tag: string;
}

export interface UpgradeArgs {
  release: string;
  chart: string;
  namespace: string;
  valuesFiles: readonly string[];
  images: { backend: ImageRef; frontend: ImageRef };
  timeoutSeconds: number;
  /** The chart's ingress.host: the environment's `url` host name (ingressHostOf), absent when it has none. */
  ingressHost?: string | undefined;
}

/**
 * The Ingress host of an environment: its `url`'s host name, so the public host is written once
 * (environments/*.yaml) and the values files name none. Undefined for an IP address or localhost:
 * Kubernetes refuses an IP as an Ingress host, and a url on localhost (the local environment, or the
 * rehearsal's stand-in on 127.0.0.1) is reached by a port-forward, not through an Ingress host rule.
 */
export function ingressHostOf(url: string): string | undefined {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) || host === 'localhost' || host.endsWith('.localhost')) return undefined;
  return host;
}

/**
 * `helm upgrade --install` for both majors. No --wait (see the top of this file) and no --atomic.
 * Tags go through --set-string: a commit SHA such as 1234e56 would otherwise be read as a number.
 */
export function upgradeArgs(a: UpgradeArgs): string[] {
  return [
    'upgrade', '--install', a.release, a.chart,
    '-n', a.namespace,
    ...a.valuesFiles.flatMap((f) => ['-f', f]),
    '--set', `backend.image.repository=${a.images.backend.repository}`,
    '--set-string', `backend.image.tag=${a.images.backend.tag}`,
    '--set', `frontend.image.repository=${a.images.frontend.repository}`,
    '--set-string', `frontend.image.tag=${a.images.frontend.tag}`,
    ...(a.ingressHost ? ['--set-string', `ingress.host=${a.ingressHost}`] : []),
    '--timeout', `${a.timeoutSeconds}s`,
  ];
}

/** `helm template` with the same values as the upgrade: the dry-run's view of what would be applied. */
export function templateArgs(a: UpgradeArgs): string[] {
  const up = upgradeArgs(a);
  // Same release, chart, namespace, values and --set flags; template has no --install or --timeout.
  const sets = up.slice(up.indexOf('-n'), up.indexOf('--timeout'));
  return ['template', a.release, a.chart, ...sets];
}

/**
 * An explicit revision always: `helm rollback REL` alone goes to current-1. No --wait: we watch.
 * A dry-run that cannot read the history passes a description ("<newest good revision>") instead.
 */
export function rollbackArgs(release: string, namespace: string, revision: number | string, timeoutSeconds: number): string[] {
  return ['rollback', release, String(revision), '-n', namespace, '--timeout', `${timeoutSeconds}s`];
}

export function historyArgs(release: string, namespace: string): string[] {
  return ['history', release, '-n', namespace, '--max', '50', '-o', 'json'];
}

/** The release's history, or [] when it does not exist yet. */
export async function readHistory(runner: Runner, release: string, namespace: string): Promise<HelmRevision[]> {
  const r = await runner.run('helm', historyArgs(release, namespace), { allowFailure: true, mutating: false });
  if (r.exitCode !== 0) {
    if (isReleaseNotFound(r.stderr)) return [];
    throw new OpsError(`helm history ${release} -n ${namespace} failed: ${helmCallFailure(r)}`, {
      hint: 'check cluster access: kubectl get ns (npx zx scripts/doctor.mts)',
    });
  }
  return parseHistory(r.stdout);
}

export async function readStatus(runner: Runner, release: string, namespace: string): Promise<HelmReleaseInfo | undefined> {
  const r = await runner.run('helm', ['status', release, '-n', namespace, '-o', 'json'], { allowFailure: true, mutating: false });
  if (r.exitCode !== 0) {
    if (isReleaseNotFound(r.stderr)) return undefined;
    throw new OpsError(`helm status ${release} -n ${namespace} failed: ${helmCallFailure(r)}`, {
      hint: 'check cluster access: kubectl get ns (npx zx scripts/doctor.mts)',
    });
  }
  return parseStatus(r.stdout);
}

/** `helm history` as the table rollback.mts prints: revision, time, status, chart, app version, description. */
export function formatHistoryTable(history: readonly HelmRevision[], marks: Record<number, string> = {}): string {
  const rows = [['REVISION', 'UPDATED', 'STATUS', 'CHART', 'APP VERSION', 'DESCRIPTION'], ...history.map((h) => [
    `${String(h.revision)}${marks[h.revision] ? ` ${marks[h.revision]}` : ''}`,
    h.updated.replace(/\.\d+Z$/, 'Z').replace('T', ' '),
    h.status,
    h.chart,
    h.appVersion,
    h.description,
  ])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

/** The history as one line per revision, newest last, for error messages. */
export function historyLine(history: readonly HelmRevision[]): string {
  return history.map((h) => `${h.revision}:${h.status}`).join(', ');
}
