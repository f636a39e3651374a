// doctor: preflight only. Checks tools and versions, Azure login and subscription, resource
// providers and vCPU quota (Azure environments), and the kube context. Changes nothing. doctor.mts parses the flags.
import type { Outcome, ScriptContext } from '../main.ts';
import { checkAzureLogin, checkKubeContext, checkProviders, checkQuota, checkTool, toolsFor } from '../preflight.ts';
import { ExitCode } from '../errors.ts';
import { checkReport } from './checks.ts';

export interface DoctorInputs {
  skipAzure: boolean;
  skipCluster: boolean;
}

export async function runDoctor(ctx: ScriptContext, inputs: DoctorInputs): Promise<Outcome> {
  const { env, runner, log } = ctx;
  const { checks, report } = checkReport(log);

  await log.step('tools', async () => {
    for (const { tool, required } of toolsFor(env)) report(await checkTool(runner, tool, required));
    // k6 is needed only by load.mts.
    report(await checkTool(runner, 'k6', false));
  });

  const azOk = checks.find((c) => c.name.startsWith('az '))?.ok === true;
  if (env.platform === 'aks' && env.azure && !inputs.skipAzure) {
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

  if (!inputs.skipCluster) {
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
}
