// The deploy and its safety net, shared by deploy.mts and rollback.mts: image references and the
// tag rules, the registry check, the Dapr and namespace checks, the plan a dry-run prints, the
// summary of rendered manifests, and "roll back to a good revision, watch it, smoke it".
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { parseCliJson } from './cli-json.ts';
import type { Clock } from './clock.ts';
import type { LoadedEnvironment } from './config.ts';
import { ExitCode, OpsError, usageError } from './errors.ts';
import { PodSchema, isPodReady, kubeList } from './kube.ts';
import type { Logger } from './log.ts';
import type { CheckResult } from './preflight.ts';
import type { Redactor } from './redact.ts';
import type { Runner } from './runner.ts';
import type { HelmRevision, ImageRef } from './helm.ts';
import { helmCallFailure, readStatus, rollbackArgs } from './helm.ts';
import type { RolloutResult } from './rollout.ts';
import { waitForRollout } from './rollout.ts';
import type { SmokeReport } from './smoke.ts';
import { planSmokeChecks, runSmokeChecks, smokeOptionsFromEnv, summariseSmoke } from './smoke.ts';
import { ask, UNKNOWN } from './flows/plan.ts';
import type { Unknown } from './flows/plan.ts';

/** The namespace and sidecar-injector label of the Dapr control plane (install-dapr.mts installs it there). */
export const DAPR_NAMESPACE = 'dapr-system';
export const DAPR_INJECTOR_SELECTOR = 'app=dapr-sidecar-injector';

// ---------- tags and images ----------

/** Docker's tag grammar: 1-128 of letters, digits, _ . - ; not starting with . or -. */
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export function validateTag(tag: string, env: LoadedEnvironment): void {
  if (!TAG_RE.test(tag)) throw usageError(`"${tag}" is not a valid image tag (letters, digits, _ . -; at most 128; not starting with . or -)`, 'pass the commit SHA the images were built from: --tag $(git rev-parse HEAD)');
  if (tag.toLowerCase() === 'latest' && !env.release.allowLatestTag) {
    throw usageError(
      `the tag "latest" is refused for ${env.name}: it names no particular build, so a rollback could not bring the old code back`,
      `deploy the commit SHA the images were built from: --tag $(git rev-parse HEAD)   (release.allowLatestTag is false in ${env.file})`,
    );
  }
}

/** The tag to deploy: --tag, else the commit checked out here. */
export async function resolveTag(runner: Runner, flagTag: string | undefined): Promise<{ tag: string; source: string }> {
  if (flagTag !== undefined) return { tag: flagTag.trim(), source: '--tag' };
  const r = await runner.run('git', ['rev-parse', 'HEAD'], { mutating: false, offline: true, attempts: 1, allowFailure: true });
  const sha = r.stdout.trim();
  if (r.exitCode !== 0 || !/^[0-9a-f]{40}$/.test(sha)) {
    throw usageError(`no --tag given and the current git commit cannot be read: ${(r.stderr.trim().split('\n')[0] ?? '') || sha || `exit ${r.exitCode}`}`, 'pass the image tag explicitly: --tag <commit SHA>');
  }
  return { tag: sha, source: 'git rev-parse HEAD' };
}

export function imageRefs(env: LoadedEnvironment, tag: string): { backend: ImageRef; frontend: ImageRef } {
  return { backend: { repository: env.release.images.backend, tag }, frontend: { repository: env.release.images.frontend, tag } };
}

export function imageString(i: ImageRef): string {
  return `${i.repository}:${i.tag}`;
}

/** `hackathontodoacr.azurecr.io/todo-backend` → `todo-backend` (the ACR repository name). */
export function acrRepository(image: string, registry: string): string {
  const prefix = `${registry.toLowerCase()}.azurecr.io/`;
  return image.toLowerCase().startsWith(prefix) ? image.slice(prefix.length) : image;
}

export function showTagsArgs(registry: string, repository: string): string[] {
  return ['acr', 'repository', 'show-tags', '-n', registry, '--repository', repository, '-o', 'json'];
}

/** Every image must exist in the registry before anything changes (Azure environments). Exit 3 otherwise. */
export async function checkImagesInRegistry(runner: Runner, env: LoadedEnvironment, images: readonly ImageRef[]): Promise<string[]> {
  const registry = env.azure?.registry;
  if (!registry) return [];
  const found: string[] = [];
  const problems: string[] = [];
  const results = await Promise.all(images.map((img) => runner.run('az', showTagsArgs(registry, acrRepository(img.repository, registry)), { mutating: false, allowFailure: true })));
  for (const [i, img] of images.entries()) {
    const repo = acrRepository(img.repository, registry);
    const r = results[i]!;
    if (r.exitCode !== 0) {
      const notFound = /RepositoryNotFound|was not found/i.test(r.stderr);
      problems.push(notFound ? `repository ${repo} does not exist in ${registry}` : `cannot list the tags of ${repo} in ${registry}: ${r.stderr.trim().split('\n')[0] ?? ''}`);
      continue;
    }
    let tags: string[];
    try {
      tags = parseCliJson(r, z.array(z.string()));
    } catch (e) {
      problems.push(`cannot list the tags of ${repo} in ${registry}: ${(e as Error).message}`);
      continue;
    }
    if (tags.includes(img.tag)) found.push(imageString(img));
    else problems.push(`${imageString(img)} is not in ${registry} (${tags.length} tags in ${repo})`);
  }
  if (problems.length) {
    throw new OpsError(`images missing, nothing was changed: ${problems.join('; ')}`, {
      hint: `build and push the images for this commit first (the build-images workflow, or: az acr build -r ${registry} -t ${acrRepository(images[0]!.repository, registry)}:${images[0]!.tag} .), or pass the tag that was pushed: --tag <sha>`,
      exitCode: ExitCode.preflight,
    });
  }
  return found;
}

// ---------- cluster preconditions ----------

export { createNamespaceArgs, ensureNamespace, namespaceExists } from './namespace.ts';

/** Dapr CRDs (Helm does not create Components without them) and a ready sidecar injector (no daprd otherwise). */
export async function checkDapr(runner: Runner, envName: string): Promise<CheckResult[]> {
  const fix = `npx zx scripts/install-dapr.mts --env ${envName}`;
  const [crd, pods] = await Promise.all([
    runner.run('kubectl', ['get', 'crd', 'components.dapr.io', '-o', 'name'], { mutating: false, allowFailure: true }),
    runner.run('kubectl', ['get', 'pods', '-n', DAPR_NAMESPACE, '-l', DAPR_INJECTOR_SELECTOR, '-o', 'json'], { mutating: false, allowFailure: true }),
  ]);
  const crdOk = crd.exitCode === 0;
  // AKS's built-in Azure RBAC roles do not cover CRDs, so the deploy identity may not read them:
  // then the injector check below stands in for this one.
  const forbidden = !crdOk && /\(Forbidden\)/.test(crd.stderr);
  const out: CheckResult[] = [{
    name: 'Dapr CRDs installed',
    ok: crdOk,
    required: !forbidden,
    detail: crdOk
      ? 'components.dapr.io exists'
      : forbidden
        ? 'this identity may not read CRDs (AKS built-in roles do not cover them); relying on the sidecar injector check'
        : /NotFound/.test(crd.stderr) ? 'the CRD components.dapr.io does not exist: Dapr is not installed' : `cannot read the Dapr CRD: ${crd.stderr.trim().split('\n')[0] ?? ''}`,
    ...(crdOk || forbidden ? {} : { fix }),
  }];
  let ready = 0;
  let total = 0;
  let unreadable: string | undefined;
  if (pods.exitCode === 0) {
    try {
      const { items } = parseCliJson(pods, kubeList(PodSchema));
      total = items.length;
      ready = items.filter((p) => p.status?.phase === 'Running' && isPodReady(p)).length;
    } catch (e) {
      unreadable = (e as Error).message;
    }
  }
  out.push({
    name: 'Dapr sidecar injector ready',
    ok: ready > 0,
    required: true,
    detail: unreadable ?? (ready > 0 ? `${ready}/${total} dapr-sidecar-injector pods ready in ${DAPR_NAMESPACE}` : total ? `0/${total} dapr-sidecar-injector pods ready in ${DAPR_NAMESPACE}` : `no dapr-sidecar-injector pod in ${DAPR_NAMESPACE}: pods would start without their daprd sidecar`),
    ...(ready > 0 ? {} : { fix }),
  });
  return out;
}

// ---------- the rendered manifests ----------

export interface ManifestSummary {
  kind: string;
  name: string;
  /** Deployment replicas, or "HPA min-max" for an autoscaled one. */
  replicas?: string;
  images: string[];
}

/** The slice of a rendered object the summary reads. */
interface RenderedObject {
  kind?: string;
  metadata?: { name?: string };
  spec?: {
    replicas?: number;
    minReplicas?: number;
    maxReplicas?: number;
    scaleTargetRef?: { kind?: string; name?: string };
    containers?: Array<{ image?: string }>;
    initContainers?: Array<{ image?: string }>;
    template?: { spec?: { containers?: Array<{ image?: string }>; initContainers?: Array<{ image?: string }> } };
  };
}

/** kind, name, replicas and images of each object `helm template` rendered. */
export function summariseManifests(yamlText: string): ManifestSummary[] {
  const objects = parseAllDocuments(yamlText).map((d) => d.toJS() as RenderedObject | null).filter((o): o is RenderedObject => Boolean(o?.kind));
  const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler');
  return objects.map((o) => {
    const podSpec = o.kind === 'Pod' ? o.spec : o.spec?.template?.spec;
    const containers = [...(podSpec?.initContainers ?? []), ...(podSpec?.containers ?? [])];
    const out: ManifestSummary = { kind: String(o.kind), name: String(o.metadata?.name ?? ''), images: containers.map((c) => String(c.image ?? '')).filter(Boolean) };
    if (['Deployment', 'StatefulSet', 'ReplicaSet'].includes(out.kind)) {
      const hpa = hpas.find((h) => h.spec?.scaleTargetRef?.kind === out.kind && h.spec?.scaleTargetRef?.name === out.name);
      out.replicas = hpa ? `HPA ${hpa.spec?.minReplicas ?? 1}-${hpa.spec?.maxReplicas ?? '?'}` : String(o.spec?.replicas ?? 1);
    }
    return out;
  });
}

export function formatManifestTable(rows: readonly ManifestSummary[]): string {
  const table = [['KIND', 'NAME', 'REPLICAS', 'IMAGES'], ...rows.map((r) => [r.kind, r.name, r.replicas ?? '', r.images.join(', ')])];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
  return table.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

// ---------- what runs now ----------

function lookup(config: Record<string, unknown>, path: string): unknown {
  // Helm records --set values nested; tolerate a flat "a.b.c" key as well.
  if (path in config) return config[path];
  let cur: unknown = config;
  for (const k of path.split('.')) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** The images a release revision runs, from the values Helm recorded for it. */
export function imagesFromConfig(config: Record<string, unknown>): { backend?: string; frontend?: string } {
  const one = (w: 'backend' | 'frontend') => {
    const repo = lookup(config, `${w}.image.repository`);
    const tag = lookup(config, `${w}.image.tag`);
    return repo !== undefined && tag !== undefined ? `${String(repo)}:${String(tag)}` : undefined;
  };
  const backend = one('backend');
  const frontend = one('frontend');
  return { ...(backend ? { backend } : {}), ...(frontend ? { frontend } : {}) };
}

// ---------- roll back, watch, smoke ----------

export interface VerifyContext {
  env: LoadedEnvironment;
  runner: Runner;
  log: Logger;
  clock: Clock;
  redactor: Redactor;
}

export interface VerifyOptions {
  rolloutTimeoutMs: number;
  skipSmoke: boolean;
  /** Suffix of the step titles, e.g. " (after rollback)". */
  label?: string;
  pollMs?: number;
}

export interface VerifyResult {
  ok: boolean;
  rollout: RolloutResult;
  smoke?: SmokeReport;
  /** What failed, one line. */
  failure?: string;
}

/** Thrown inside a step to mark it failed while keeping its result. */
class StepFailed<T> extends OpsError {
  constructor(message: string, readonly value: T) { super(message); }
}

/** Runs fn as a logged step; a result with ok false marks the step failed and is returned, not thrown. */
export async function checkedStep<T>(log: Logger, title: string, fn: () => Promise<{ ok: boolean; value: T; failure?: string }>): Promise<{ ok: boolean; value: T; failure?: string }> {
  try {
    return await log.step(title, async () => {
      const r = await fn();
      if (!r.ok) throw new StepFailed(r.failure ?? `${title} failed`, r.value);
      return r;
    });
  } catch (e) {
    if (e instanceof StepFailed) return { ok: false, value: e.value as T, failure: e.message };
    throw e;
  }
}

/** The rollout watch, then smoke (unless skipped or the rollout failed). */
export async function verifyRelease(ctx: VerifyContext, o: VerifyOptions): Promise<VerifyResult | Unknown> {
  const { env, runner, log, clock, redactor } = ctx;
  const label = o.label ?? '';
  const rollout = await ask(checkedStep(log, `rollout${label}`, async () => {
    const r = await waitForRollout({ runner, clock, log, release: env.release.name, namespace: env.kube.namespace, timeoutMs: o.rolloutTimeoutMs, ...(o.pollMs ? { pollMs: o.pollMs } : {}) });
    return { ok: r.ok, value: r, ...(r.failure ? { failure: r.failure.summary } : {}) };
  }));
  if (rollout === UNKNOWN) {
    // A dry-run: the watch's polls are in the plan; smoke's requests are added to it (not CLI calls).
    if (o.skipSmoke) log.skip(`smoke${label}`, '--skip-smoke');
    else for (const c of planSmokeChecks(smokeOptionsFromEnv(env, { clock, redactor, log }))) runner.planStep(`${c.method} ${c.url}`, { note: `smoke: expects ${c.expect}` });
    return UNKNOWN;
  }
  if (!rollout.ok) return { ok: false, rollout: rollout.value, failure: `rollout${label}: ${rollout.failure ?? 'failed'}` };
  if (o.skipSmoke) {
    log.skip(`smoke${label}`, '--skip-smoke');
    return { ok: true, rollout: rollout.value };
  }
  const smoke = await checkedStep(log, `smoke${label}`, async () => {
    const report = await runSmokeChecks(smokeOptionsFromEnv(env, { clock, redactor, log }));
    return { ok: report.ok, value: report, failure: summariseSmoke(report) };
  });
  return { ok: smoke.ok, rollout: rollout.value, smoke: smoke.value, ...(smoke.ok ? {} : { failure: `smoke${label}: ${smoke.failure ?? 'failed'}` }) };
}

export interface RollbackOutcome {
  /** Restored: the rollback ran, rolled out and passed smoke. */
  ok: boolean;
  /** The revision, or a description of it in a dry-run that cannot read the history. */
  target: HelmRevision | string;
  /** The revision the rollback created. */
  revision?: number;
  images: { backend?: string; frontend?: string };
  verify?: VerifyResult;
  failure?: string;
}

/**
 * `helm rollback REL <target>` (explicit revision), then the same watch and smoke as a deploy. A
 * dry-run without a cluster passes a description of the target instead of a revision.
 */
export async function rollBackTo(ctx: VerifyContext, target: HelmRevision | string, o: VerifyOptions): Promise<RollbackOutcome> {
  const { env, runner, log } = ctx;
  const ns = env.kube.namespace;
  const rel = env.release.name;
  const to = typeof target === 'string' ? target : target.revision;
  const r = await checkedStep(log, `helm rollback to revision ${to}`, async () => {
    const res = await runner.run('helm', rollbackArgs(rel, ns, to, env.timeouts.helmSeconds), { allowFailure: true, timeoutMs: (env.timeouts.helmSeconds + 60) * 1000, attempts: 1 });
    return { ok: res.exitCode === 0, value: res, failure: `helm rollback ${rel} ${to} failed: ${helmCallFailure(res)}` };
  });
  if (!r.ok) return { ok: false, target, images: {}, failure: r.failure ?? 'helm rollback failed' };
  // rollback.mts --dry-run reads the cluster and stops at the change; deploy.mts --dry-run plans on.
  if (runner.dryRun && !runner.plansReads) return { ok: true, target, images: {} };
  const status = await ask(readStatus(runner, rel, ns));
  const verify = await verifyRelease(ctx, { ...o, label: o.label ?? ' (after rollback)' });
  if (status === UNKNOWN || verify === UNKNOWN) return { ok: false, target, images: {}, failure: 'unknown: --dry-run' };
  const images = imagesFromConfig(status?.config ?? {});
  return { ok: verify.ok, target, images, verify, ...(status ? { revision: status.revision } : {}), ...(verify.failure ? { failure: verify.failure } : {}) };
}

/** The history as one line per revision, newest last, for error messages. */
export function historyLine(history: readonly HelmRevision[]): string {
  return history.map((h) => `${h.revision}:${h.status}`).join(', ');
}

