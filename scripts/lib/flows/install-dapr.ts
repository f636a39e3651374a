// install-dapr: installs or upgrades the pinned Dapr control plane (Helm release `dapr` in
// dapr-system), upgrades its CRDs first on a version change (Helm never upgrades CRDs), waits for
// operator, sentry, placement, sidecar injector and scheduler, checks the CRDs, then applies the
// app's components, configuration and resiliency (dapr/) to the app namespace and verifies them.
// Re-running with nothing to change changes nothing and says so. install-dapr.mts parses the flags;
// the Dapr specifics (versions, HA and its cost, readiness) are in ../dapr.ts.
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import type { Outcome, ScriptContext } from '../main.ts';
import { ExitCode, OpsError, usageError } from '../errors.ts';
import { assertKubeContext } from '../preflight.ts';
import { loadDaprManifests, validateDaprManifests } from '../dapr-components.ts';
import type { DaprManifest } from '../dapr-components.ts';
import { helmErrorSummary } from '../helm.ts';
import {
  DAPR_NAMESPACE, DAPR_REPO_NAME, DAPR_REPO_URL,
  applyDaprManifests, countResults, crdFixCommand, daprUpgradeArgs, findMissingCrds, formatControlPlane,
  manifestRefs, planDaprChange, readControlPlane, readInstalledDapr, upgradeDaprCrds, verifyDaprManifests, waitForControlPlane,
} from '../dapr.ts';
import type { AppliedObject, DaprPlan } from '../dapr.ts';
import { ensureNamespace } from '../namespace.ts';
import { UNKNOWN } from '../runner.ts';
import { watchStep } from './plan.ts';
import { loadSecretValues } from '../secrets.ts';
import { localSecretsFor, verifyComponents } from '../verify-components.ts';

export interface InstallDaprInputs {
  skipComponents: boolean;
  componentsOnly: boolean;
  /** --manifests: the folder of Dapr manifests, relative to the repository root or absolute. */
  manifests: string;
  /** --verify-components: run the components on a local daprd instead of touching a cluster. */
  verifyComponents: boolean;
  secretsFile: string;
  /** --timeout: helm --timeout and the readiness wait (default: timeouts.helmSeconds). */
  timeoutMs?: number;
}

/** The manifests, before anything touches the cluster: a bad field is exit 2 with nothing changed. */
async function validatedManifests(ctx: ScriptContext, option: string): Promise<DaprManifest[]> {
  const { root, log } = ctx;
  ctx.setState('validating dapr/');
  const dir = isAbsolute(option) ? option : join(root, option);
  const shown = (relative(root, dir) || '.').startsWith('..') ? dir : relative(root, dir) || '.';
  if (!existsSync(dir)) throw usageError(`--manifests ${option}: ${shown} does not exist`, 'pass the folder that holds components/ and configuration/ (default: dapr)');
  return log.step(`validate the Dapr manifests in ${shown}/`, async () => {
    const docs = loadDaprManifests(dir);
    if (docs.length === 0) throw usageError(`${shown}/ holds no manifests`, 'restore dapr/components/*.yaml and dapr/configuration/*.yaml from git');
    const problems = validateDaprManifests(docs);
    if (problems.length) {
      throw usageError(
        `${problems.length} problem${problems.length > 1 ? 's' : ''} in the Dapr manifests; nothing was changed:\n${problems.map((p) => `  ${shown}/${p.file}: ${p.component}: ${p.field}: ${p.message}`).join('\n')}`,
        problems.map((p) => `${shown}/${p.file} (${p.field}): ${p.fix}`).join('\n      '),
      );
    }
    return docs;
  });
}

/** --verify-components: the same manifests on a local daprd against the real services; no cluster. */
async function verifyOnLocalDaprd(ctx: ScriptContext, inputs: InstallDaprInputs, manifests: DaprManifest[]): Promise<Outcome> {
  const { root, log } = ctx;
  ctx.setState('reading the secrets');
  const values = await log.step('read the credentials the components use', () => loadSecretValues(ctx, inputs.secretsFile));
  // The parts of the connection string too: a driver error may quote the user or host alone.
  for (const v of values) {
    if (v.entry.envVar !== 'DATABASE_URL') continue;
    try {
      const u = new URL(v.value);
      for (const part of [u.username, decodeURIComponent(u.password), u.hostname]) ctx.redactor.register(part || undefined);
    } catch { /* validated already */ }
  }
  const { secrets, missing } = localSecretsFor(manifests, values.map((v) => ({ secret: v.entry.secret, key: v.entry.key, value: v.value })));
  if (missing.length) throw usageError(`the components read secrets no catalog entry provides: ${missing.join(', ')}`, 'add them to scripts/lib/secret-catalog.ts');
  ctx.setState('running the components on a local daprd');
  const checks = await verifyComponents({
    // The folder validated above (--manifests, relative to the repository root or absolute).
    root, manifestsDir: isAbsolute(inputs.manifests) ? inputs.manifests : join(root, inputs.manifests), secrets,
    redact: (t) => ctx.redactor.redact(t),
    onProgress: (m) => log.info(m),
    ...(inputs.timeoutMs !== undefined ? { timeoutMs: inputs.timeoutMs } : {}),
  });
  for (const c of checks) log.info(`${c.ok ? 'ok    ' : 'FAILED'} ${c.name}: ${c.detail.split('\n').join('\n         ')}`);
  const failed = checks.filter((c) => !c.ok);
  return {
    summary: failed.length
      ? `install-dapr: --verify-components FAILED: ${failed.map((c) => c.name).join('; ')}`
      : `install-dapr: --verify-components: the components load on daprd, publish to Redpanda and read and write Neon (${checks.length} checks ok)`,
    ...(failed.length ? { exitCode: ExitCode.failed, hint: 'docs/troubleshooting.md (Dapr, Kafka and the database) explains each daprd error above' } : {}),
    result: { verify: checks },
  };
}

/** Waits for the control plane to be ready and prints its state; a dry-run plans the wait (watchStep). */
async function waitStep(ctx: ScriptContext, title: string, highAvailability: boolean, timeoutSeconds: number): Promise<void> {
  const { runner, log, clock } = ctx;
  const report = await watchStep(ctx, `${title} (up to ${timeoutSeconds}s)`, () =>
    waitForControlPlane(runner, clock, {
      highAvailability,
      timeoutMs: timeoutSeconds * 1000,
      onProgress: (rep) => log.detail(formatControlPlane(rep)),
    }), title);
  if (report !== UNKNOWN) log.info(formatControlPlane(report));
}

/** One `helm upgrade --install` of the chart at `step`; a failure names the control plane's pods. */
async function helmUpgradeStep(ctx: ScriptContext, plan: DaprPlan, step: string, label: string, timeoutSeconds: number): Promise<void> {
  const { runner, log, env } = ctx;
  const { highAvailability } = env.dapr;
  ctx.setState(`helm ${plan.action} of Dapr ${step}`);
  await log.step(`${plan.action} Dapr ${label} (HA ${highAvailability ? 'on' : 'off'})`, async () => {
    const r = await runner.run('helm', daprUpgradeArgs(step, highAvailability, timeoutSeconds), {
      allowFailure: true,
      attempts: 2,
      timeoutMs: (timeoutSeconds + 120) * 1000,
      note: `Helm --wait up to ${timeoutSeconds}s`,
    });
    if (r.exitCode !== 0) {
      // Helm's own wait says only "context deadline exceeded": name the pods instead.
      let pods = '';
      try {
        pods = `\n${formatControlPlane(await readControlPlane(runner, highAvailability))}`;
      } catch {
        /* the Helm error alone still explains the failure */
      }
      throw new OpsError(`helm ${plan.action} of Dapr ${step} failed: ${helmErrorSummary(r.stderr)}${pods}`, {
        hint: `helm history dapr -n ${DAPR_NAMESPACE}; kubectl get pods -n ${DAPR_NAMESPACE}; fix the cause and re-run (see docs/runbooks.md#install-or-upgrade-dapr)`,
      });
    }
  });
}

/** The control plane: read the release, plan, confirm, then CRDs and chart one minor release at a time, then wait. */
async function installControlPlane(ctx: ScriptContext, timeoutSeconds: number): Promise<{ plan: DaprPlan; crds: AppliedObject[] }> {
  const { env, runner, log } = ctx;
  const { version, highAvailability } = env.dapr;
  const ha = `HA ${highAvailability ? 'on' : 'off'}`;
  ctx.setState('reading the installed Dapr release');
  const installed = await log.step(`read the Dapr release in ${DAPR_NAMESPACE}`, () => readInstalledDapr(runner));
  const p = planDaprChange(installed, version, highAvailability);
  let crds: AppliedObject[] = [];
  log.info(p.action === 'none' ? `${p.reason}: nothing to install or upgrade` : `${p.action} Dapr ${version} (${ha}): ${p.reason}`);

  if (p.action === 'none') {
    log.skip(`install or upgrade Dapr ${version}`, 'already at the pinned version and values');
  } else {
    await ctx.confirm(`${p.action === 'install' ? 'Install' : 'Upgrade'} Dapr ${version} (${ha}) in ${DAPR_NAMESPACE} on ${env.kube.context}?`);
    ctx.setState('adding the Dapr Helm repository');
    await log.step('add and refresh the Dapr Helm repository', async () => {
      await runner.run('helm', ['repo', 'add', DAPR_REPO_NAME, DAPR_REPO_URL, '--force-update']);
      await runner.run('helm', ['repo', 'update', DAPR_REPO_NAME]);
    });
    // One minor release at a time (DAPR_UPGRADE_STOPS): each stop gets its CRDs, its chart and a
    // ready control plane before the next; the last step is the pinned version. A run that fails
    // half way resumes from the stop the cluster reached.
    for (const [i, step] of p.steps.entries()) {
      const last = i === p.steps.length - 1;
      const label = last ? version : `${step} (upgrade stop ${i + 1} of ${p.steps.length - 1} on the way to ${version})`;
      if (p.upgradeCrds) {
        ctx.setState(`upgrading the Dapr CRDs to ${step}`);
        const results = await log.step(`upgrade the Dapr CRDs to ${label} (before the chart)`, () => upgradeDaprCrds(runner, step));
        for (const c of results) log.info(`  ${c.resource} ${c.result}`);
        crds = [...crds.filter((c) => !results.some((r) => r.resource === c.resource)), ...results];
      } else if (p.action === 'upgrade') {
        log.skip('upgrade the Dapr CRDs', p.from === version ? 'same version' : 'not moving to a newer version');
      }
      await helmUpgradeStep(ctx, p, step, label, timeoutSeconds);
      if (!last) {
        ctx.setState(`waiting for the Dapr ${step} control plane`);
        await waitStep(ctx, `wait for the Dapr ${step} control plane before the next minor release`, highAvailability, timeoutSeconds);
      }
    }
  }

  ctx.setState('waiting for the Dapr control plane');
  await waitStep(ctx, 'wait for the Dapr control plane', highAvailability, timeoutSeconds);
  return { plan: p, crds };
}

/** The app's components, configuration and resiliency, applied to its namespace and verified. */
async function applyManifests(ctx: ScriptContext, manifests: DaprManifest[]): Promise<AppliedObject[]> {
  const { env, runner, log } = ctx;
  const namespace = env.kube.namespace;
  ctx.setState(`applying the Dapr manifests to ${namespace}`);
  await ensureNamespace(runner, log, namespace);
  const applied = await log.step(`apply ${manifests.length} Dapr manifests to namespace ${namespace}`, () => applyDaprManifests(runner, namespace, manifests));
  // What kubectl reported; a dry-run, which planned the apply, names what it would send.
  if (runner.dryRun) for (const m of manifestRefs(manifests)) log.info(`  would apply ${m.kind}/${m.name} (${m.file})`);
  for (const a of applied) log.info(`  ${a.resource} ${a.result}`);
  const missing = await watchStep(ctx, `verify the Dapr objects in ${namespace}`, () => verifyDaprManifests(runner, namespace, manifests));
  if (missing !== UNKNOWN && missing.length) {
    throw new OpsError(`applied, but not listed in ${namespace}: ${missing.map((m) => `${m.kind}/${m.name}`).join(', ')}`, {
      hint: `kubectl get components.dapr.io,configurations.dapr.io,resiliencies.dapr.io -n ${namespace}; check the Dapr operator logs (kubectl logs -n ${DAPR_NAMESPACE} -l app=dapr-operator)`,
    });
  }
  return applied;
}

export async function installDapr(ctx: ScriptContext, inputs: InstallDaprInputs): Promise<Outcome> {
  const { env, runner, log } = ctx;
  const { skipComponents, componentsOnly } = inputs;
  if (skipComponents && componentsOnly) {
    throw usageError('--skip-components and --components-only together would do nothing', 'pass at most one of them');
  }
  if (inputs.verifyComponents && (skipComponents || componentsOnly || runner.dryRun)) {
    throw usageError('--verify-components runs on this machine and changes no cluster: it takes no --skip-components, --components-only or --dry-run', 'npx zx scripts/install-dapr.mts --env <env> --verify-components');
  }
  // helm --timeout takes whole seconds.
  const timeoutSeconds = inputs.timeoutMs !== undefined ? Math.ceil(inputs.timeoutMs / 1000) : env.timeouts.helmSeconds;
  const { version, highAvailability } = env.dapr;
  const namespace = env.kube.namespace;
  const ha = `HA ${highAvailability ? 'on' : 'off'}`;

  // 1. The manifests, before anything touches the cluster.
  const manifests = skipComponents ? [] : await validatedManifests(ctx, inputs.manifests);
  if (inputs.verifyComponents) return verifyOnLocalDaprd(ctx, inputs, manifests);

  // 2. The context guard: exit 3 on the wrong cluster.
  ctx.setState('checking the kube context');
  await log.step(`kube context is ${env.kube.context}`, () => assertKubeContext(runner, env));

  // 3. The control plane.
  let plan: DaprPlan | undefined;
  let crdResults: AppliedObject[] = [];
  if (componentsOnly) {
    log.skip('Dapr control plane', '--components-only');
  } else {
    ({ plan, crds: crdResults } = await installControlPlane(ctx, timeoutSeconds));
  }

  // 4. The CRDs the manifests need: after an install or upgrade, a check of what it created.
  ctx.setState('checking the Dapr CRDs');
  const changed = plan !== undefined && plan.action !== 'none';
  await log.step('check the Dapr CRDs exist', async () => {
    const missing = changed ? await runner.afterChange(() => findMissingCrds(runner)) : await findMissingCrds(runner);
    if (missing === UNKNOWN) {
      log.info(`created or updated by the planned ${plan?.action ?? 'change'}; a real run checks them after it`);
      return;
    }
    if (missing.length === 0) return;
    throw new OpsError(`Dapr CRDs missing from the cluster: ${missing.join(', ')}`, {
      hint: `${crdFixCommand(version)}\n      then re-run: npx zx scripts/install-dapr.mts --env ${env.name}`,
      exitCode: ExitCode.failed,
    });
  });

  // 5. Components, configuration and resiliency.
  let applied: AppliedObject[] = [];
  if (skipComponents) log.skip('apply the Dapr manifests', '--skip-components');
  else applied = await applyManifests(ctx, manifests);

  // The one-line summary.
  const parts: string[] = [];
  const dry = runner.dryRun;
  if (plan) {
    if (plan.action === 'none') parts.push(`Dapr ${version} (${ha}) already installed`);
    else parts.push(`${dry ? 'would ' : ''}${plan.action === 'install' ? (dry ? 'install' : 'installed') : dry ? 'upgrade' : 'upgraded'} Dapr ${plan.action === 'upgrade' && plan.from && plan.from !== version ? `${[plan.from, ...plan.steps].join(' → ')}` : version} (${ha})${plan.upgradeCrds ? ', CRDs first' : ''}`);
  }
  if (!skipComponents) {
    parts.push(dry ? `would apply ${manifests.length} manifests to ${namespace}` : `${manifests.length} manifests in ${namespace}: ${countResults(applied)}`);
  }
  const changedAnything = !dry && (changed || applied.some((a) => a.result !== 'unchanged'));
  const summary = dry
    ? `install-dapr: dry run: ${parts.join('; ')}; nothing was changed`
    : changedAnything
      ? `install-dapr: ${parts.join('; ')}`
      : `install-dapr: nothing to change: ${parts.join('; ')}`;
  return {
    summary,
    result: {
      dapr: { version, highAvailability, action: plan?.action ?? 'skipped', ...(plan?.action === 'upgrade' ? { from: plan.from ?? null, steps: plan.steps } : {}), crdsUpgraded: crdResults.map((c) => c.resource) },
      manifests: applied,
      changed: changedAnything,
      // A dry-run's plan: every change, and the reads it could not answer, in order (Runner.plan).
      ...(dry ? { plan: { commands: runner.plan } } : {}),
    },
  };
}
