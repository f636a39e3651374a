#!/usr/bin/env -S npx zx
// install-dapr: installs or upgrades the pinned Dapr control plane (Helm release `dapr` in
// dapr-system), upgrades its CRDs first on a version change (Helm never upgrades CRDs), waits for
// operator, sentry, placement, sidecar injector and scheduler, checks the CRDs, then applies the
// app's components, configuration and resiliency (dapr/) to the app namespace and verifies them.
// Re-running with nothing to change changes nothing and says so. HA and its cost: scripts/lib/dapr.ts.
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { runMain } from './lib/main.ts';
import type { ScriptSpec } from './lib/flags.ts';
import { ExitCode, OpsError, usageError } from './lib/errors.ts';
import { assertKubeContext } from './lib/preflight.ts';
import { loadDaprManifests, validateDaprManifests } from './lib/dapr-components.ts';
import type { DaprManifest } from './lib/dapr-components.ts';
import { helmErrorSummary } from './lib/helm.ts';
import {
  DAPR_NAMESPACE, DAPR_REPO_NAME, DAPR_REPO_URL,
  applyDaprManifests, countResults, crdFixCommand, daprUpgradeArgs, findMissingCrds, formatControlPlane,
  manifestRefs, planDaprChange, readControlPlane, readInstalledDapr, upgradeDaprCrds, verifyDaprManifests, waitForControlPlane,
} from './lib/dapr.ts';
import type { AppliedObject, DaprPlan } from './lib/dapr.ts';
import { ensureNamespace } from './lib/namespace.ts';
import { loadSecretValues } from './lib/secrets.ts';
import { localSecretsFor, verifyComponents } from './lib/verify-components.ts';

export const spec: ScriptSpec = {
  name: 'install-dapr',
  summary: 'install or upgrade the pinned Dapr control plane, then apply the app\'s Dapr components, configuration and resiliency',
  description: [
    'Version and HA come from the environment file (dapr.version, dapr.highAvailability). On a version change the',
    'CRDs of the new chart are applied before the chart (Helm does not upgrade CRDs). A re-run with nothing to change',
    'is a no-op. The manifests in dapr/ are validated first: a bad field stops the run with exit 2 before anything changes.',
  ].join('\n'),
  flags: [
    { name: 'skip-components', type: 'boolean', description: 'install or upgrade the control plane only; do not apply dapr/ manifests' },
    { name: 'components-only', type: 'boolean', description: 'leave the control plane alone; check the CRDs and apply dapr/ manifests only' },
    { name: 'manifests', type: 'string', value: 'DIR', default: 'dapr', description: 'folder of Dapr manifests to validate and apply (relative to the repository root)' },
    { name: 'verify-components', type: 'boolean', description: 'touch no cluster: run the components on a local daprd against the Redpanda and Neon in --secrets-file, publish one event, write and delete one state key, report' },
    { name: 'secrets-file', type: 'string', value: 'PATH', default: '.env', description: 'with --verify-components: dotenv file with the credentials (as for secrets.mts; Key Vault too when the environment names one)' },
    // At least 1s: helm --timeout takes whole seconds.
    { name: 'timeout', type: 'duration', value: 'DURATION', min: '1s', description: 'helm --timeout and the control-plane readiness wait, e.g. 900s or 15m (default: timeouts.helmSeconds of the environment)' },
  ],
  examples: [
    'npx zx scripts/install-dapr.mts --env production --dry-run',
    'npx zx scripts/install-dapr.mts --env production --yes',
    'npx zx scripts/install-dapr.mts --env production --components-only --yes',
    'npx zx scripts/install-dapr.mts --env production --verify-components',
  ],
};

await runMain(spec, async (ctx) => {
  const { env, runner, log, clock, flags, root } = ctx;
  const skipComponents = flags.boolean('skip-components');
  const componentsOnly = flags.boolean('components-only');
  if (skipComponents && componentsOnly) {
    throw usageError('--skip-components and --components-only together would do nothing', 'pass at most one of them');
  }
  const verify = flags.boolean('verify-components');
  if (verify && (skipComponents || componentsOnly || runner.dryRun)) {
    throw usageError('--verify-components runs on this machine and changes no cluster: it takes no --skip-components, --components-only or --dry-run', 'npx zx scripts/install-dapr.mts --env <env> --verify-components');
  }
  const timeoutMs = flags.duration('timeout');
  // helm --timeout takes whole seconds.
  const timeoutSeconds = timeoutMs !== undefined ? Math.ceil(timeoutMs / 1000) : env.timeouts.helmSeconds;
  const { version, highAvailability } = env.dapr;
  const namespace = env.kube.namespace;
  const ha = `HA ${highAvailability ? 'on' : 'off'}`;

  // 1. The manifests, before anything touches the cluster: a bad field is exit 2 with nothing changed.
  let manifests: DaprManifest[] = [];
  if (!skipComponents) {
    ctx.setState('validating dapr/');
    const option = flags.string('manifests') ?? 'dapr';
    const dir = isAbsolute(option) ? option : join(root, option);
    const shown = (relative(root, dir) || '.').startsWith('..') ? dir : relative(root, dir) || '.';
    if (!existsSync(dir)) throw usageError(`--manifests ${option}: ${shown} does not exist`, 'pass the folder that holds components/ and configuration/ (default: dapr)');
    manifests = await log.step(`validate the Dapr manifests in ${shown}/`, async () => {
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

  // --verify-components: the same manifests on a local daprd against the real services; no cluster.
  if (verify) {
    ctx.setState('reading the secrets');
    const values = await log.step('read the credentials the components use', () => loadSecretValues(ctx, flags.string('secrets-file') ?? '.env'));
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
    const dir = join(root, flags.string('manifests') ?? 'dapr');
    const checks = await verifyComponents({
      root, manifestsDir: isAbsolute(dir) ? dir : join(root, dir), secrets,
      redact: (t) => ctx.redactor.redact(t),
      onProgress: (m) => log.info(m),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
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

  // 2. The context guard: exit 3 on the wrong cluster.
  ctx.setState('checking the kube context');
  await log.step(`kube context is ${env.kube.context}`, () => assertKubeContext(runner, env));

  // 3. The control plane.
  let plan: DaprPlan | undefined;
  let crdResults: AppliedObject[] = [];
  if (componentsOnly) {
    log.skip('Dapr control plane', '--components-only');
  } else {
    ctx.setState('reading the installed Dapr release');
    const installed = await log.step(`read the Dapr release in ${DAPR_NAMESPACE}`, () => readInstalledDapr(runner));
    const p = planDaprChange(installed, version, highAvailability);
    plan = p;
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
          crdResults = [...crdResults.filter((c) => !results.some((r) => r.resource === c.resource)), ...results];
        } else if (p.action === 'upgrade') {
          log.skip('upgrade the Dapr CRDs', p.from === version ? 'same version' : 'not moving to a newer version');
        }
        ctx.setState(`helm ${p.action} of Dapr ${step}`);
        await log.step(`${p.action} Dapr ${label} (${ha})`, async () => {
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
            throw new OpsError(`helm ${p.action} of Dapr ${step} failed: ${helmErrorSummary(r.stderr)}${pods}`, {
              hint: `helm history dapr -n ${DAPR_NAMESPACE}; kubectl get pods -n ${DAPR_NAMESPACE}; fix the cause and re-run (see docs/runbooks.md#install-or-upgrade-dapr)`,
            });
          }
        });
        if (!last && !runner.dryRun) {
          ctx.setState(`waiting for the Dapr ${step} control plane`);
          const report = await log.step(`wait for the Dapr ${step} control plane before the next minor release (up to ${timeoutSeconds}s)`, () =>
            waitForControlPlane(runner, clock, {
              highAvailability,
              timeoutMs: timeoutSeconds * 1000,
              onProgress: (rep) => log.detail(formatControlPlane(rep)),
            }));
          log.info(formatControlPlane(report));
        }
      }
    }

    if (runner.dryRun) {
      log.skip('wait for the Dapr control plane', 'dry run');
    } else {
      ctx.setState('waiting for the Dapr control plane');
      const report = await log.step(`wait for the Dapr control plane (up to ${timeoutSeconds}s)`, () =>
        waitForControlPlane(runner, clock, {
          highAvailability,
          timeoutMs: timeoutSeconds * 1000,
          onProgress: (rep) => log.detail(formatControlPlane(rep)),
        }));
      log.info(formatControlPlane(report));
    }
  }

  // 4. The CRDs the manifests need. In a dry run an install or upgrade would still create them.
  ctx.setState('checking the Dapr CRDs');
  await log.step('check the Dapr CRDs exist', async () => {
    const missing = await findMissingCrds(runner);
    if (missing.length === 0) return;
    if (runner.dryRun && plan && plan.action !== 'none') {
      log.info(`not on the cluster yet, created by the planned ${plan.action}: ${missing.join(', ')}`);
      return;
    }
    throw new OpsError(`Dapr CRDs missing from the cluster: ${missing.join(', ')}`, {
      hint: `${crdFixCommand(version)}\n      then re-run: npx zx scripts/install-dapr.mts --env ${env.name}`,
      exitCode: ExitCode.failed,
    });
  });

  // 5. Components, configuration and resiliency.
  let applied: AppliedObject[] = [];
  if (skipComponents) {
    log.skip('apply the Dapr manifests', '--skip-components');
  } else {
    ctx.setState(`applying the Dapr manifests to ${namespace}`);
    await ensureNamespace(runner, log, namespace);
    applied = await log.step(`apply ${manifests.length} Dapr manifests to namespace ${namespace}`, () => applyDaprManifests(runner, namespace, manifests));
    if (runner.dryRun) {
      for (const m of manifestRefs(manifests)) log.info(`  would apply ${m.kind}/${m.name} (${m.file})`);
    } else {
      for (const a of applied) log.info(`  ${a.resource} ${a.result}`);
      const missing = await log.step(`verify the Dapr objects in ${namespace}`, () => verifyDaprManifests(runner, namespace, manifests));
      if (missing.length) {
        throw new OpsError(`applied, but not listed in ${namespace}: ${missing.map((m) => `${m.kind}/${m.name}`).join(', ')}`, {
          hint: `kubectl get components.dapr.io,configurations.dapr.io,resiliencies.dapr.io -n ${namespace}; check the Dapr operator logs (kubectl logs -n ${DAPR_NAMESPACE} -l app=dapr-operator)`,
        });
      }
    }
  }

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
  const changed = !dry && ((plan !== undefined && plan.action !== 'none') || applied.some((a) => a.result !== 'unchanged'));
  const summary = dry
    ? `install-dapr: dry run: ${parts.join('; ')}; nothing was changed`
    : changed
      ? `install-dapr: ${parts.join('; ')}`
      : `install-dapr: nothing to change: ${parts.join('; ')}`;
  return {
    summary,
    result: {
      dapr: { version, highAvailability, action: plan?.action ?? 'skipped', ...(plan?.action === 'upgrade' ? { from: plan.from ?? null, steps: plan.steps } : {}), crdsUpgraded: crdResults.map((c) => c.resource) },
      manifests: applied,
      changed,
    },
  };
});
