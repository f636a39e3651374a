#!/usr/bin/env -S npx zx
// doctor: preflight only. Checks tools and versions, Azure login and subscription, resource
// providers and vCPU quota (Azure environments), and the kube context. Changes nothing.
import { runMain } from './lib/main.ts';
import type { ScriptSpec } from './lib/flags.ts';
import type { CheckResult } from './lib/preflight.ts';
import { checkAzureLogin, formatCheck, checkKubeContext, checkProviders, checkQuota, checkTool, toolsFor } from './lib/preflight.ts';
import { ExitCode } from './lib/errors.ts';

export const spec: ScriptSpec = {
  name: 'doctor',
  summary: 'check that this machine and account can run the other scripts against an environment',
  description: 'Read-only. One line per check; a failed required check exits 3 and shows its fix.',
  flags: [
    { name: 'skip-azure', type: 'boolean', description: 'skip the Azure login, provider and quota checks' },
    { name: 'skip-cluster', type: 'boolean', description: 'skip the kube context check' },
  ],
  examples: ['npx zx scripts/doctor.mts --env local', 'npx zx scripts/doctor.mts --env production'],
};

await runMain(spec, async ({ env, runner, log, flags }) => {
  const checks: CheckResult[] = [];
  const report = (c: CheckResult) => {
    checks.push(c);
    log.info(formatCheck(c));
  };

  await log.step('tools', async () => {
    for (const { tool, required } of toolsFor(env)) report(await checkTool(runner, tool, required));
    // k6 is needed only by load.mts.
    report(await checkTool(runner, 'k6', false));
  });

  const azOk = checks.find((c) => c.name.startsWith('az '))?.ok === true;
  if (env.platform === 'aks' && env.azure && !flags.boolean('skip-azure')) {
    if (!azOk) {
      log.skip('azure', 'az is not available');
    } else {
      await log.step('azure account', async () => {
        const login = await checkAzureLogin(runner, env);
        login.forEach(report);
        if (login.every((c) => c.ok || !c.required)) {
          (await checkProviders(runner)).forEach(report);
          report(await checkQuota(runner, env.azure!.location, env.azure!.nodeSize, env.azure!.nodeCount.max));
        }
      });
    }
  }

  if (!flags.boolean('skip-cluster')) {
    const kubectlOk = checks.find((c) => c.name.startsWith('kubectl '))?.ok === true;
    if (kubectlOk) await log.step('kube context', async () => report(await checkKubeContext(runner, env)));
    else log.skip('kube context', 'kubectl is not available');
  }

  const failed = checks.filter((c) => !c.ok && c.required);
  const warned = checks.filter((c) => !c.ok && !c.required);
  return {
    summary: failed.length
      ? `doctor: ${failed.length} of ${checks.length} checks failed for ${env.name} (${failed.map((c) => c.name).join(', ')})`
      : `doctor: all ${checks.length - warned.length} required checks passed for ${env.name}${warned.length ? ` (${warned.length} warning${warned.length > 1 ? 's' : ''})` : ''}`,
    exitCode: failed.length ? ExitCode.preflight : ExitCode.ok,
    ...(failed.length ? { hint: 'run the fix: line under each FAILED check, then npx zx scripts/doctor.mts again' } : {}),
    result: { checks },
  };
});
