#!/usr/bin/env -S npx zx
// secrets: .env or Azure Key Vault -> the Kubernetes Secrets in scripts/lib/secret-catalog.ts.
// Values travel only on the standard input of `kubectl apply -f -`; see docs/secrets-configuration.md.
// The flow is in lib/flows/secrets.ts.
import { runMain } from './lib/main.ts';
import type { ScriptSpec } from './lib/flags.ts';
import { manageSecrets } from './lib/flows/secrets.ts';
import { SECRETS_FILE_RENAME } from './lib/secrets.ts';

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

await runMain(spec, (ctx) => manageSecrets(ctx, {
  envFile: ctx.flags.string('secrets-file') ?? '.env',
  check: ctx.flags.boolean('check'),
  restart: !ctx.flags.boolean('no-restart'),
}));
