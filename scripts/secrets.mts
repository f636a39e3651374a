#!/usr/bin/env -S npx zx
// secrets: .env or Azure Key Vault -> the Kubernetes Secrets in scripts/lib/secret-catalog.ts.
// Values travel only on the standard input of `kubectl apply -f -`; see docs/secrets-configuration.md.
import { runMain } from './lib/main.ts';
import type { ScriptSpec } from './lib/flags.ts';
import { ExitCode } from './lib/errors.ts';
import { applySecretsPlan, describeActions, describeKeys, dropSecretsFromProcessEnv, keysMarkdown, planSecrets, SECRETS_FILE_RENAME } from './lib/secrets.ts';

export const spec: ScriptSpec = {
  name: 'secrets',
  summary: 'create or update the app\'s Kubernetes Secrets from .env or Azure Key Vault, and restart what reads them',
  description: [
    'Sources: the dotenv file, and Key Vault when the environment sets azure.keyVault (Key Vault wins per key; .env fills gaps).',
    'Every value is validated first; a problem exits 2 with nothing applied. Values are never printed, only names and SHA-256 comparisons.',
    'With --check: exit 0 when every key in the cluster equals the source, 1 when any is different or missing.',
  ].join('\n'),
  flags: [
    { name: 'secrets-file', type: 'string', value: 'PATH', default: '.env', description: 'dotenv file with the secret values', renamedFrom: SECRETS_FILE_RENAME },
    { name: 'check', type: 'boolean', description: 'compare the cluster with the sources (missing / equal / different per key) and change nothing' },
    { name: 'no-restart', type: 'boolean', description: 'do not restart the deployments that read a changed value' },
  ],
  examples: [
    'npx zx scripts/secrets.mts --env production --check',
    'npx zx scripts/secrets.mts --env production --dry-run',
    'npx zx scripts/secrets.mts --env production --secrets-file .env.production --yes',
  ],
};

await runMain(spec, async (ctx) => {
  const { flags, log, env } = ctx;
  const envFile = flags.string('secrets-file') ?? '.env';
  const dropped = dropSecretsFromProcessEnv(ctx.redactor);
  if (dropped.length) log.detail(`ignoring ${dropped.join(', ')} from the shell environment (sources are --secrets-file and Key Vault only; child processes do not inherit them)`);
  const plan = await planSecrets(ctx, { envFile });
  const counts = { equal: 0, different: 0, missing: 0 };
  for (const k of plan.keys) counts[k.status]++;
  const keysResult = plan.keys.map(({ secret, key, envVar, source, where, status }) => ({ secret, key, envVar, source, from: where, status }));

  if (flags.boolean('check')) {
    for (const l of describeKeys(plan.keys)) log.info(l);
    const off = plan.keys.filter((k) => k.status !== 'equal');
    return {
      summary: off.length === 0
        ? `secrets: check: all ${plan.keys.length} keys in ${plan.namespace} equal the sources`
        : `secrets: check: ${counts.different} different, ${counts.missing} missing of ${plan.keys.length} keys in ${plan.namespace} (${off.map((k) => `${k.secret}/${k.key}`).join(', ')})`,
      exitCode: off.length === 0 ? ExitCode.ok : ExitCode.failed,
      ...(off.length ? { hint: `apply the sources: npx zx scripts/secrets.mts --env ${ctx.flags.env}` } : {}),
      result: { mode: 'check', keys: keysResult },
      markdown: keysMarkdown(plan.keys),
    };
  }

  for (const l of describeActions(plan)) log.info(flags.dryRun ? `would ${l}` : l);
  const restart = !flags.boolean('no-restart');
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
    result: { mode: flags.dryRun ? 'dry-run' : 'apply', keys: keysResult, actions: plan.actions, changed: report.changed, restarted: report.restarted, notDeployed: report.notDeployed },
    markdown: keysMarkdown(plan.keys),
  };
});
