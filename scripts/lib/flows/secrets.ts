// secrets: .env or Azure Key Vault -> the Kubernetes Secrets in ../secret-catalog.ts, then a restart of
// what reads a changed value; or, with --check, only the comparison. secrets.mts parses the flags; the
// sources, validation, comparison and the apply are in ../secrets.ts (deploy --with-secrets uses them too).
import type { Outcome, ScriptContext } from '../main.ts';
import { ExitCode } from '../errors.ts';
import { applySecretsPlan, describeActions, describeKeys, dropSecretsFromProcessEnv, keysMarkdown, planSecrets } from '../secrets.ts';

export interface SecretsInputs {
  envFile: string;
  /** --check: compare the cluster with the sources and change nothing. */
  check: boolean;
  /** false with --no-restart. */
  restart: boolean;
}

export async function manageSecrets(ctx: ScriptContext, inputs: SecretsInputs): Promise<Outcome> {
  const { flags, log, env } = ctx;
  const { envFile, restart } = inputs;
  const dropped = dropSecretsFromProcessEnv(ctx.redactor);
  if (dropped.length) log.detail(`ignoring ${dropped.join(', ')} from the shell environment (sources are --secrets-file and Key Vault only; child processes do not inherit them)`);
  const plan = await planSecrets(ctx, { envFile });
  const counts = { equal: 0, different: 0, missing: 0 };
  for (const k of plan.keys) counts[k.status]++;
  const keysResult = plan.keys.map(({ secret, key, envVar, source, where, status }) => ({ secret, key, envVar, source, from: where, status }));

  if (inputs.check) {
    for (const l of describeKeys(plan.keys)) log.info(l);
    const off = plan.keys.filter((k) => k.status !== 'equal');
    return {
      summary: off.length === 0
        ? `secrets: check: all ${plan.keys.length} keys in ${plan.namespace} equal the sources`
        : `secrets: check: ${counts.different} different, ${counts.missing} missing of ${plan.keys.length} keys in ${plan.namespace} (${off.map((k) => `${k.secret}/${k.key}`).join(', ')})`,
      exitCode: off.length === 0 ? ExitCode.ok : ExitCode.failed,
      ...(off.length ? { hint: `apply the sources: npx zx scripts/secrets.mts --env ${flags.env}` } : {}),
      result: { mode: 'check', keys: keysResult },
      markdown: keysMarkdown(plan.keys),
    };
  }

  for (const l of describeActions(plan)) log.info(flags.dryRun ? `would ${l}` : l);
  if (plan.manifests.length > 0) {
    const restarting = restart && plan.consumers.length ? ` and restart ${plan.consumers.join(', ')}` : '';
    const what = plan.changed.length ? `${plan.changed.length} changed key${plan.changed.length === 1 ? '' : 's'}` : 'labels and hash annotations';
    await ctx.confirm(`Apply ${what} to ${plan.manifests.length} Secret(s) in ${plan.namespace} (context ${env.kube.context})${restarting}?`);
  }
  const report = await applySecretsPlan(ctx, plan, { restart });
  const changedText = plan.changed.length ? `${plan.changed.length} key${plan.changed.length > 1 ? 's' : ''} (${plan.changed.join(', ')})` : 'no values';
  const restartedText = report.restarted.length ? `${report.restarted.join(', ')}` : 'nothing';
  const summary = plan.manifests.length === 0
    ? `secrets: all ${plan.keys.length} keys in ${plan.namespace} already up to date; nothing applied, nothing restarted`
    : flags.dryRun
      ? `secrets (dry run): would apply ${changedText} to ${plan.manifests.length} Secret(s) in ${plan.namespace} and restart ${restart ? restartedText : 'nothing (--no-restart)'}; nothing was changed`
      : `secrets: applied ${changedText} to ${plan.manifests.length} Secret(s) in ${plan.namespace}; restarted ${restartedText}${!restart && plan.consumers.length ? ` (--no-restart: ${plan.consumers.join(', ')} still run with the old values)` : ''}`;
  return {
    summary,
    result: {
      mode: flags.dryRun ? 'dry-run' : 'apply', keys: keysResult, actions: plan.actions, changed: report.changed, restarted: report.restarted, notDeployed: report.notDeployed,
      // A dry-run's plan: every change, and the reads it could not answer, in order (Runner.plan).
      ...(flags.dryRun ? { plan: { commands: ctx.runner.plan } } : {}),
    },
    markdown: keysMarkdown(plan.keys),
  };
}
