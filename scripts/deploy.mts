#!/usr/bin/env -S npx zx
// deploy: preflight -> secrets? -> pending-lock recovery -> helm upgrade --install -> rollout watch
// -> smoke -> automatic rollback to the newest good revision on failure. The flow is in lib/flows/deploy.ts;
// --dry-run runs that same flow with the runner recording the calls (lib/flows/plan.ts).
import { runMain } from './lib/main.ts';
import type { ScriptSpec } from './lib/flags.ts';
import { deployRelease } from './lib/flows/deploy.ts';
import { SECRETS_FILE_RENAME } from './lib/secrets.ts';

export const spec: ScriptSpec = {
  name: 'deploy',
  summary: 'deploy the todo chatbot with Helm, watch the rollout, smoke-test it, and roll back automatically on failure',
  description: [
    'Steps: preflight (tools, Azure login, kube context, namespace, Dapr, Secrets) -> images in the registry ->',
    'recover a release stuck in pending-* -> helm upgrade --install -> rollout watch (fails within seconds on',
    'CrashLoopBackOff, ImagePullBackOff, ... in the app or daprd) -> smoke -> on failure: helm rollback to the',
    'newest deployed/superseded revision, watch, smoke again, exit 4.',
    '--dry-run needs no cluster and no Azure login: it prints the resolved config, images, every command in order',
    'and a summary of the rendered manifests.',
  ].join('\n'),
  flags: [
    { name: 'tag', type: 'string', value: 'TAG', description: 'image tag for backend and frontend (default: git rev-parse HEAD); "latest" is refused where the environment forbids it' },
    { name: 'with-secrets', type: 'boolean', description: 'create or update the Kubernetes Secrets from --secrets-file (and Key Vault) before the upgrade' },
    { name: 'secrets-file', type: 'string', value: 'PATH', description: 'dotenv file for --with-secrets (default: .env)', renamedFrom: SECRETS_FILE_RENAME },
    { name: 'skip-smoke', type: 'boolean', description: 'do not run the smoke checks after the rollout (or after a rollback)' },
    { name: 'timeout', type: 'duration', value: 'DURATION', description: 'how long the rollout may take before it counts as failed, e.g. 300s or 5m (default: timeouts.rolloutSeconds)' },
  ],
  examples: [
    'npx zx scripts/deploy.mts --dry-run',
    'npx zx scripts/deploy.mts --env production --tag $(git rev-parse HEAD) --yes',
    'npx zx scripts/deploy.mts --env production --with-secrets --secrets-file .env.production',
  ],
};

await runMain(spec, async (ctx) => {
  const { flags } = ctx;
  const rolloutTimeoutMs = flags.duration('timeout');
  const tag = flags.string('tag');
  const envFile = flags.string('secrets-file');
  return deployRelease(ctx, {
    withSecrets: flags.boolean('with-secrets'),
    skipSmoke: flags.boolean('skip-smoke'),
    ...(tag !== undefined ? { tag } : {}),
    ...(envFile !== undefined ? { envFile } : {}),
    ...(rolloutTimeoutMs !== undefined ? { rolloutTimeoutMs } : {}),
  });
});
