// The deploy: preflight -> secrets? -> pending-lock recovery -> helm upgrade --install -> rollout
// watch -> smoke -> automatic rollback to the newest good revision on failure. deploy.mts parses the
// flags and calls deployRelease. --dry-run runs this same flow, planning its calls (./plan.ts).
import type { ScriptContext, Outcome } from '../main.ts';
import { ExitCode, OpsError, usageError } from '../errors.ts';
import { assertChecks, checkAzureLogin, checkDapr, checkKubeContext, checkTool, formatCheck, kubeContextRefusal, toolsFor } from '../preflight.ts';
import type { CheckResult } from '../preflight.ts';
import { SECRET_CATALOG } from '../secret-catalog.ts';
import { applySecretsCall, findMissingSecrets, keepSecretsFromChildren, missingSecretsSource, syncSecrets } from '../secrets.ts';
import type { HelmRevision, HelmVersion, UpgradeArgs } from '../helm.ts';
import {
  currentRevision, GOOD_STATUSES, helmCallFailure, historyLine, ingressHostOf, isLockError, parseHelmVersion, parseUpgradeRevision,
  pickRollbackRevision, planPendingRecovery, readHistory, readStatus, rollbackArgs, templateArgs, upgradeArgs,
} from '../helm.ts';
import { checkImagesInRegistry, imageRefs, imageString, imagesFromConfig, resolveTag, validateTag } from '../images.ts';
import type { ManifestSummary } from '../manifests.ts';
import { formatManifestTable, summariseManifests } from '../manifests.ts';
import { createNamespaceArgs, namespaceExists } from '../namespace.ts';
import { ask, formatPlan, onlyIf, UNKNOWN } from './plan.ts';
import type { Unknown } from './plan.ts';
import type { RollbackOutcome, VerifyResult } from './verify.ts';
import { checkedStep, rollBackTo, verifyRelease } from './verify.ts';

export interface DeployInputs {
  tag?: string;
  withSecrets: boolean;
  envFile?: string;
  skipSmoke: boolean;
  /** --timeout: overrides timeouts.rolloutSeconds for the rollout watches. */
  rolloutTimeoutMs?: number;
}

/**
 * The app's secrets found in the process environment (a CI job or a shell may export them) are
 * registered, so a pod log line echoing one is masked, and removed from the environment, so no
 * helm, kubectl or az child inherits them (the secrets' sources are .env and Key Vault only).
 */
/** Tools and the Azure login (Azure environments); exit 3 on a failure. A planning dry-run only lists the reads. */
async function preflightChecks(ctx: ScriptContext): Promise<{ checks: CheckResult[]; helm?: HelmVersion }> {
  const { env, runner } = ctx;
  // Independent version reads: in parallel, one round trip.
  const tools = await ask(Promise.all(toolsFor(env).map(({ tool, required }) => checkTool(runner, tool, required))));
  const checks: CheckResult[] = tools === UNKNOWN ? [] : tools;
  const helmCheck = checks.find((c) => c.name.startsWith('helm '));
  const helm = helmCheck?.ok ? parseHelmVersion(helmCheck.detail) : undefined;
  assertChecks(checks);
  if (env.platform === 'aks') {
    const az = await ask(checkAzureLogin(runner, env));
    if (az !== UNKNOWN) {
      checks.push(...az);
      assertChecks(az);
    }
  }
  return { checks, ...(helm ? { helm } : {}) };
}

/** The context guard (it reads the local kubeconfig only). A dry-run warns where a real deploy stops, and goes on. */
async function guardKubeContext(ctx: ScriptContext, verb: string): Promise<CheckResult> {
  const c = await checkKubeContext(ctx.runner, ctx.env);
  if (c.ok) return c;
  if (!ctx.runner.plansReads) throw kubeContextRefusal(c, ctx.env, verb);
  ctx.log.warn(`a real ${verb} would stop here: ${c.detail}; expected "${ctx.env.kube.context}". fix: ${c.fix}`);
  return c;
}

// ---------------------------------------------------------------- dry-run

/*
 * deploy.mts --dry-run runs deployRelease itself (flows/plan.ts): the runner records every call
 * instead of running it, except the reads that need no cluster and no login (the kube context, helm
 * template). A read's answer is then unknown, so each branch taken on one is planned with its
 * condition: "# when namespace todo does not exist", "# when the latest revision is pending-upgrade
 * ...", "# when the rollout or smoke fails". The printed plan is what the flow called, in order.
 */

interface DryRunConfig {
  config: Record<string, unknown>;
  images: { backend: string; frontend: string };
}

/** The resolved config and images, printed before the flow plans its calls. */
function showDryRunConfig(ctx: ScriptContext, upgrade: UpgradeArgs, tagSource: string, rolloutTimeoutMs: number): DryRunConfig {
  const { env, log } = ctx;
  const config = {
    environment: env.name,
    file: env.file,
    platform: env.platform,
    kubeContext: env.kube.context,
    namespace: env.kube.namespace,
    release: env.release.name,
    chart: env.release.chart,
    valuesFiles: env.release.valuesFiles,
    registry: env.azure?.registry ?? null,
    url: env.url,
    ingressHost: upgrade.ingressHost ?? null,
    timeouts: { ...env.timeouts, rolloutWatchSeconds: Math.round(rolloutTimeoutMs / 1000) },
  };
  const images = { backend: imageString(upgrade.images.backend), frontend: imageString(upgrade.images.frontend) };
  log.info([
    `Plan for ${env.name} (${env.file}), nothing will be changed:`,
    `  release ${config.release} from chart ${config.chart} in namespace ${config.namespace}, kube context ${config.kubeContext}`,
    `  values files: ${config.valuesFiles.join(', ')}`,
    `  URL: ${config.url}`,
    `  ingress host: ${config.ingressHost ?? 'none set (the url\'s host is an IP address or localhost)'}`,
    `  timeouts: helm ${env.timeouts.helmSeconds}s, rollout watch ${Math.round(rolloutTimeoutMs / 1000)}s, smoke ${env.timeouts.smokeSeconds}s`,
    `  images (tag from ${tagSource}):`,
    `    backend  ${images.backend}`,
    `    frontend ${images.frontend}`,
  ].join('\n'));
  return { config, images };
}

/** After the flow: the calls it planned, the rendered manifests, and the plan document. */
async function dryRunReport(ctx: ScriptContext, shown: DryRunConfig, upgrade: UpgradeArgs, tagSource: string, kube: CheckResult): Promise<Outcome> {
  const { env, runner, log } = ctx;
  const commands = [...runner.plan];
  log.planning = false;
  log.info(`Commands, in order (read = read-only, CHANGE = changes the cluster; "# when" = only if the cluster's answer, which a dry-run does not read, says so):\n${formatPlan(commands)}`);

  let manifests: ManifestSummary[] = [];
  const rendered = await log.step('render the chart (helm template)', async () => {
    const r = await runner.run('helm', templateArgs(upgrade), { mutating: false, offline: true, attempts: 1, allowFailure: true });
    if (r.exitCode === 127) return { ok: false, why: 'helm is not installed: install Helm 3.17+ or 4.x to see the rendered manifests' };
    if (r.exitCode !== 0) {
      throw usageError(`helm template failed, so the deploy would fail too: ${helmCallFailure(r)}`, `fix the chart or values (${env.release.valuesFiles.join(', ')}), then re-run with --dry-run`);
    }
    manifests = summariseManifests(r.stdout);
    return { ok: true, why: '' };
  });
  if (rendered.ok) log.info(`Rendered manifests (${manifests.length} objects):\n${formatManifestTable(manifests).split('\n').map((l) => `  ${l}`).join('\n')}`);
  else log.warn(rendered.why);

  return {
    summary: `deploy: dry-run: would deploy ${env.release.name} (${shown.images.backend}, ${shown.images.frontend}) to ${env.name}; ${commands.filter((s) => s.mutating).length} changing commands planned, none run`,
    result: { plan: { config: shown.config, images: shown.images, tagSource, commands, manifests, kubeContext: { ok: kube.ok, detail: kube.detail } } },
  };
}

// ---------------------------------------------------------------- deploy

/** What a dry-run names the revision a rollback goes to, when it cannot read the history. */
const NEWEST_GOOD = '<newest deployed/superseded revision>';
const NEWEST_GOOD_BEFORE_NEW = '<newest deployed/superseded revision before the new one>';

/** Clears a pending-upgrade/-rollback lock: helm rollback to the newest good revision. Returns the revision it recorded. */
async function recoverByRollback(ctx: ScriptContext, pending: string, to: number | string): Promise<HelmRevision | undefined> {
  const { env, runner, log } = ctx;
  const rel = env.release.name;
  const ns = env.kube.namespace;
  await log.step(`recover: roll back the ${pending} to ${to}`, async () => {
    const r = await runner.run('helm', rollbackArgs(rel, ns, to, env.timeouts.helmSeconds), { allowFailure: true, attempts: 1, timeoutMs: (env.timeouts.helmSeconds + 60) * 1000 });
    if (r.exitCode !== 0) throw new OpsError(`could not clear the pending lock: ${helmCallFailure(r)}`, { hint: `helm rollback ${rel} ${to} -n ${ns}` });
  });
  return currentRevision(await readHistory(runner, rel, ns));
}

/** Clears a stuck first install (pending-install): helm uninstall. */
async function recoverByUninstall(ctx: ScriptContext, pending: string): Promise<void> {
  const { env, runner, log } = ctx;
  const rel = env.release.name;
  const ns = env.kube.namespace;
  await log.step(`recover: uninstall the stuck first install (${pending})`, async () => {
    const r = await runner.run('helm', ['uninstall', rel, '-n', ns], { allowFailure: true, attempts: 1, timeoutMs: (env.timeouts.helmSeconds + 60) * 1000 });
    if (r.exitCode !== 0) throw new OpsError(`could not uninstall the stuck first install: ${helmCallFailure(r)}`, { hint: `helm uninstall ${rel} -n ${ns}` });
  });
}

/** Creates or updates the Secrets from their sources before the upgrade (--with-secrets). */
async function syncSecretsBeforeUpgrade(ctx: ScriptContext, inputs: DeployInputs, sameTag: boolean): Promise<{ changed: string[]; restarted: string[] }> {
  const { env, runner, log } = ctx;
  const ns = env.kube.namespace;
  const envFile = inputs.envFile ?? '.env';
  if (runner.plansReads) {
    // The sync compares the sources with the cluster's Secrets, which a dry-run does not read: it
    // plans the one apply the sync makes when they differ (the same call, see secrets.ts).
    await runner.when(`a Secret differs from ${envFile}${env.azure?.keyVault ? ` or Key Vault ${env.azure.keyVault}` : ''}`, () => applySecretsCall(runner, ns, '', 'Secrets from their sources, values on stdin only'));
    return { changed: [], restarted: [] };
  }
  // Pods roll with this upgrade when the tag changes; with the same tag nothing would roll, so
  // the consumers of changed values are restarted by the sync itself.
  const result = await log.step('secrets: sync from the sources', () => syncSecrets(ctx, { envFile, restart: sameTag }));
  const missing = await findMissingSecrets(runner, ns);
  if (missing.length) throw new OpsError(`Secrets still missing after the sync: ${missing.join(', ')}`, { hint: `add them to ${envFile}${env.azure?.keyVault ? ` or Key Vault ${env.azure.keyVault}` : ''} (see .env.example)`, exitCode: ExitCode.preflight });
  return result;
}

export async function deployRelease(ctx: ScriptContext, inputs: DeployInputs): Promise<Outcome> {
  const { env, runner, log, clock, flags } = ctx;
  keepSecretsFromChildren(ctx.redactor);
  const ns = env.kube.namespace;
  const rel = env.release.name;
  const rolloutTimeoutMs = inputs.rolloutTimeoutMs ?? env.timeouts.rolloutSeconds * 1000;
  if (inputs.envFile && !inputs.withSecrets) throw usageError('--secrets-file is only read with --with-secrets', 'add --with-secrets to load the Secrets from that file before the deploy');
  // A missing --secrets-file would otherwise surface only in the sync, after the namespace was created.
  const noSource = inputs.withSecrets ? missingSecretsSource(env, inputs.envFile ?? '.env') : undefined;
  if (noSource) throw noSource;

  // 2. The tag first: a wrong tag is a usage error whether or not there is a cluster.
  const { tag, source: tagSource } = await resolveTag(runner, inputs.tag);
  validateTag(tag, env);
  const images = imageRefs(env, tag);
  const upgrade: UpgradeArgs = { release: rel, chart: env.release.chart, namespace: ns, valuesFiles: env.release.valuesFiles, images, timeoutSeconds: env.timeouts.helmSeconds, ingressHost: ingressHostOf(env.url) };

  // 7. --dry-run: no cluster, no Azure login; the flow below plans its calls instead of making them.
  const dryRun = flags.dryRun ? showDryRunConfig(ctx, upgrade, tagSource, rolloutTimeoutMs) : undefined;
  if (dryRun) {
    runner.planWithoutCluster();
    log.planning = true;
  }

  // 1. Preflight: reads only.
  ctx.setState('preflight');
  const { pre, kube } = await log.step('preflight: tools, Azure login, kube context', async () => {
    const p = await preflightChecks(ctx);
    return { pre: p, kube: await guardKubeContext(ctx, 'deploy') };
  });
  const nsExists = await log.step(`cluster: namespace ${ns}, Dapr, Secrets`, async () => {
    const [exists, dapr] = await Promise.all([ask(namespaceExists(runner, ns)), ask(checkDapr(runner, env.name))]);
    if (dapr !== UNKNOWN) {
      for (const c of dapr) log.info(formatCheck(c));
      assertChecks(dapr);
    }
    const missing = exists === false ? SECRET_CATALOG.map((e) => `${e.secret}/${e.key}`) : await onlyIf(runner, exists, `namespace ${ns} exists`, () => findMissingSecrets(runner, ns));
    if (missing !== UNKNOWN && missing?.length && !inputs.withSecrets) {
      throw new OpsError(`required Secrets are missing in ${ns}: ${missing.join(', ')}; nothing was changed`, {
        hint: `load them first: npx zx scripts/secrets.mts --env ${flags.env}   (or re-run this deploy with --with-secrets [--secrets-file .env])`,
        exitCode: ExitCode.preflight,
      });
    }
    if (missing !== UNKNOWN && missing?.length) log.info(`Secrets missing (${missing.join(', ')}): --with-secrets will create them`);
    return exists;
  });

  // 2. The images must exist before anything changes.
  if (env.platform === 'aks') {
    await log.step(`images ${tag} in registry ${env.azure?.registry ?? ''}`, async () => {
      const found = await ask(checkImagesInRegistry(runner, env, [images.backend, images.frontend]));
      if (found !== UNKNOWN) for (const f of found) log.info(`ok     ${f}`);
    });
  } else {
    log.skip('images in registry', `platform ${env.platform}: images are built into the local cluster`);
  }

  // 3. The release's state: a pending lock is recovered after the confirmation below.
  const before = await log.step('release state (helm history)', () => ask(readHistory(runner, rel, ns)));
  const beforeCurrent = before === UNKNOWN ? UNKNOWN : currentRevision(before);
  const recovery = before === UNKNOWN ? UNKNOWN : planPendingRecovery(before, { release: rel, namespace: ns, nowMs: clock.now(), liveWindowMs: env.timeouts.helmSeconds * 1000 });
  if (recovery !== UNKNOWN && recovery.action === 'stop') {
    throw new OpsError(`release ${rel} is locked: ${recovery.reason}; nothing was changed`, { hint: recovery.command, exitCode: ExitCode.failed });
  }
  if (recovery !== UNKNOWN && recovery.action !== 'none') log.warn(`release ${rel}: ${recovery.reason}; the deploy will ${recovery.action === 'rollback' ? `roll back to revision ${recovery.to.revision}` : 'uninstall it'} first`);
  const status = await ask(readStatus(runner, rel, ns)).catch(() => undefined);
  const previousImages = status === UNKNOWN ? {} : imagesFromConfig(status?.config ?? {});
  if (beforeCurrent !== UNKNOWN) log.info(beforeCurrent ? `current: revision ${beforeCurrent.revision} (${beforeCurrent.status}), ${[previousImages.backend, previousImages.frontend].filter(Boolean).join(', ') || 'images unknown'}` : `release ${rel} does not exist yet: first install`);

  await ctx.confirm(`Deploy ${rel} (${imageString(images.backend)}, ${imageString(images.frontend)}) to ${env.name} (context ${env.kube.context}, namespace ${ns})?`);

  // Changes start here.
  await onlyIf(runner, nsExists === UNKNOWN ? UNKNOWN : !nsExists, `namespace ${ns} does not exist`, () => log.step(`create namespace ${ns}`, () => runner.run('kubectl', createNamespaceArgs(ns))));
  const sameTag = previousImages.backend === imageString(images.backend) && previousImages.frontend === imageString(images.frontend);
  const secretsResult = inputs.withSecrets ? await syncSecretsBeforeUpgrade(ctx, inputs, sameTag) : undefined;
  let recoveredTo: HelmRevision | undefined;
  if (recovery === UNKNOWN) {
    await onlyIf(runner, UNKNOWN, 'the latest revision is pending-upgrade or pending-rollback, older than the Helm timeout', () => recoverByRollback(ctx, 'pending revision', NEWEST_GOOD));
    await onlyIf(runner, UNKNOWN, 'a first install is stuck in pending-install, older than the Helm timeout', () => recoverByUninstall(ctx, 'the pending-install revision'));
  } else if (recovery.action === 'rollback') {
    recoveredTo = await recoverByRollback(ctx, `${recovery.pending.status} revision ${recovery.pending.revision}`, recovery.to.revision);
  } else if (recovery.action === 'uninstall') {
    await recoverByUninstall(ctx, `revision ${recovery.pending.revision}`);
  }

  // 4. helm upgrade --install: no --wait, no --atomic (see lib/helm.ts); the watcher decides.
  ctx.setState('helm upgrade');
  const up = await checkedStep(log, `helm upgrade --install ${rel}`, async () => {
    const r = await runner.run('helm', upgradeArgs(upgrade), { allowFailure: true, attempts: 1, timeoutMs: (env.timeouts.helmSeconds + 60) * 1000 });
    return { ok: r.exitCode === 0, value: r, failure: helmCallFailure(r) };
  });
  if (!up.ok && isLockError(up.value.stderr)) {
    throw new OpsError(`helm upgrade refused: another operation on ${rel} started meanwhile; nothing was changed by this deploy`, { hint: `helm history ${rel} -n ${ns}; wait for it to finish, then re-run` });
  }
  const afterUpgrade = await ask(readHistory(runner, rel, ns));
  let revision = 0;
  if (afterUpgrade !== UNKNOWN && recovery !== UNKNOWN && beforeCurrent !== UNKNOWN) {
    const newRev = currentRevision(afterUpgrade);
    // Did the upgrade record a revision? Compare with the latest one just before it: a recovery
    // rollback added one, and a recovery uninstall removed them all (the new install is revision 1 again).
    const baseline = recovery.action === 'none' ? beforeCurrent : recoveredTo;
    const recorded = newRev !== undefined && (!baseline || newRev.revision > baseline.revision);
    if (!up.ok && !recorded) {
      throw new OpsError(`helm upgrade failed before changing anything: ${up.failure ?? ''}`, { hint: `helm template ${rel} ${env.release.chart} ${env.release.valuesFiles.map((f) => `-f ${f}`).join(' ')} shows the rendering; npx zx scripts/deploy.mts --env ${flags.env} --dry-run` });
    }
    revision = (up.ok ? parseUpgradeRevision(up.value.stdout) : undefined) ?? newRev?.revision ?? 0;
  }

  // 5 and 6: watch, then smoke.
  let verify: VerifyResult | undefined;
  let failure: string;
  if (up.ok) {
    ctx.setState('rollout watch');
    const watched = await verifyRelease(ctx, { rolloutTimeoutMs, skipSmoke: inputs.skipSmoke });
    if (watched === UNKNOWN) {
      // A dry-run: the automatic rollback runs only when the watch or smoke fails.
      await runner.when('the rollout or smoke fails', () => ask(rollBackFailedDeploy(ctx, { revision, before: UNKNOWN, beforeCurrent: UNKNOWN, failure: '', base: {}, rolloutTimeoutMs, skipSmoke: inputs.skipSmoke })));
      return dryRunReport(ctx, dryRun!, upgrade, tagSource, kube);
    }
    verify = watched;
    if (verify.ok) {
      const summaryText = [
        `Deployed ${rel} revision ${revision} to ${env.name}`,
        `  images: ${imageString(images.backend)}, ${imageString(images.frontend)}`,
        `  URL: ${env.url}${verify.smoke ? ` (smoke ${verify.smoke.checks.filter((c) => c.ok).length}/${verify.smoke.checks.length} green)` : ' (smoke skipped)'}`,
        `  helm: ${pre.helm?.version ?? 'unknown'}`,
        'steps:',
        ctx.log.stepTable(),
      ].join('\n');
      log.info(summaryText);
      return {
        summary: `deploy: deployed ${rel} revision ${revision} to ${env.name}: ${imageString(images.backend)}, ${imageString(images.frontend)}; ${env.url}`,
        result: {
          release: rel, namespace: ns, revision, images: { backend: imageString(images.backend), frontend: imageString(images.frontend) }, url: env.url,
          helmVersion: pre.helm?.version ?? null, tagSource, rollout: verify.rollout, smoke: verify.smoke ?? null, secrets: secretsResult ?? null,
          durations: ctx.log.stepDurations(), rolledBack: false,
        },
      };
    }
    failure = verify.failure ?? 'the new revision failed';
  } else {
    failure = `helm upgrade failed: ${up.failure ?? ''}`;
  }

  const base = {
    release: rel, namespace: ns, revision, images: { backend: imageString(images.backend), frontend: imageString(images.frontend) }, url: env.url,
    helmVersion: pre.helm?.version ?? null, tagSource, failure, rollout: verify?.rollout ?? null, smoke: verify?.smoke ?? null,
  };
  // Known here: a dry-run returned above.
  return (await rollBackFailedDeploy(ctx, { revision, before: before as HelmRevision[], beforeCurrent: beforeCurrent as HelmRevision | undefined, failure, base, rolloutTimeoutMs, skipSmoke: inputs.skipSmoke }))!;
}

interface FailedDeploy {
  /** The revision Helm recorded for the failed deploy (0 in a dry-run). */
  revision: number;
  before: HelmRevision[] | Unknown;
  beforeCurrent: HelmRevision | undefined | Unknown;
  failure: string;
  /** The result document's fields so far. */
  base: Record<string, unknown>;
  rolloutTimeoutMs: number;
  skipSmoke: boolean;
}

/**
 * The deploy failed after Helm recorded revision `revision`: roll back to the newest good one
 * before it, watch and smoke. In a dry-run (history unknown) it plans the rollback and answers undefined.
 */
async function rollBackFailedDeploy(ctx: ScriptContext, d: FailedDeploy): Promise<Outcome | undefined> {
  const { env, runner, log } = ctx;
  const ns = env.kube.namespace;
  const rel = env.release.name;
  const { revision, failure, base } = d;
  ctx.setState('automatic rollback');
  const history = await ask(readHistory(runner, rel, ns));
  const opts = { rolloutTimeoutMs: d.rolloutTimeoutMs, skipSmoke: d.skipSmoke };
  if (history === UNKNOWN || d.before === UNKNOWN || d.beforeCurrent === UNKNOWN) {
    await rollBackTo(ctx, NEWEST_GOOD_BEFORE_NEW, opts);
    return undefined;
  }
  const target = pickRollbackRevision(history, revision);
  if (!target) {
    const firstInstall = !d.beforeCurrent || d.before.every((h) => !GOOD_STATUSES.has(h.status));
    const why = firstInstall
      ? `this was the first install of ${rel}, so there is no earlier revision to roll back to. It is left in place (revision ${revision}) so its pods and events can be inspected; nothing served users before. The next deploy upgrades over it, or remove it with: helm uninstall ${rel} -n ${ns}`
      : `no earlier revision of ${rel} ever deployed successfully (history: ${historyLine(history)}); nothing to roll back to`;
    log.info(`steps:\n${ctx.log.stepTable()}`);
    throw new OpsError(`deploy of ${rel} revision ${revision} failed: ${failure}. ${why}`, {
      hint: firstInstall ? `inspect: kubectl get pods -n ${ns} -l app.kubernetes.io/instance=${rel}; then fix and re-deploy, or: helm uninstall ${rel} -n ${ns}` : `helm history ${rel} -n ${ns}`,
      exitCode: ExitCode.failed,
    });
  }
  log.warn(`deploy failed (${failure}); rolling back to revision ${target.revision} (${target.status}, ${target.description}), the newest good revision before ${revision}`);
  const rb: RollbackOutcome = await rollBackTo(ctx, target, opts);
  const running = [rb.images.backend, rb.images.frontend].filter(Boolean).join(', ') || 'unknown images';
  const result = { ...base, rolledBack: rb.ok, rollback: { to: target.revision, revision: rb.revision ?? null, images: rb.images, ok: rb.ok, failure: rb.failure ?? null, smoke: rb.verify?.smoke ?? null }, durations: ctx.log.stepDurations() };
  if (rb.ok) {
    const text = `deploy: deploy of ${rel} revision ${revision} failed (${failure}); rolled back to revision ${target.revision} (now revision ${rb.revision ?? '?'}), which runs ${running}${rb.verify?.smoke ? ' and passes smoke' : ''}`;
    log.info(`steps:\n${ctx.log.stepTable()}`);
    return {
      summary: text,
      exitCode: ExitCode.rolledBack,
      result,
      hint: `the previous good revision serves traffic now; fix what failed (above), then deploy again (docs/runbooks.md#failed-rollout)`,
    };
  }
  const text = `deploy: deploy of ${rel} revision ${revision} failed (${failure}) AND the rollback to revision ${target.revision} did not restore service: ${rb.failure ?? 'unknown'}`;
  log.info(`steps:\n${ctx.log.stepTable()}`);
  // The worst case: the app may be down. Say what to do on the terminal, not only in the CI step summary.
  const hint = `helm history ${rel} -n ${ns}; kubectl get pods -n ${ns} -l app.kubernetes.io/instance=${rel}; then roll back by hand: npx zx scripts/rollback.mts --env ${ctx.flags.env} --to <REV> (docs/runbooks.md#roll-back)`;
  return {
    summary: text,
    exitCode: ExitCode.failed,
    result,
    hint: `manual action needed, the app may be down: ${hint}`,
    markdown: `Manual action needed: \`helm history ${rel} -n ${ns}\`, \`kubectl get pods -n ${ns} -l app.kubernetes.io/instance=${rel}\`, see docs/runbooks.md#roll-back`,
  };
}
