#!/usr/bin/env -S npx zx
// env: prints one value of a validated environment file, for workflows and shell scripts that need a
// name (cluster, registry, resource group) without writing it a second time. Read-only.
import { runMain } from './lib/main.ts';
import type { ScriptSpec } from './lib/flags.ts';
import { environmentValue } from './lib/config.ts';
import { usageError } from './lib/errors.ts';

export const spec: ScriptSpec = {
  name: 'env',
  summary: 'print one value of an environment file (environments/NAME.yaml), validated like every script reads it',
  description: [
    'Read-only: calls nothing and changes nothing, with or without --dry-run. Prints the value alone on stdout',
    '(a mapping or list as JSON, an empty value as an empty line), so $(...) captures it; --json prints',
    '{ key, value, file } instead. An unknown key exits 2 naming the file and the keys that exist.',
  ].join('\n'),
  arguments: [
    { name: 'get', description: 'what to do', choices: ['get'] },
    { name: 'KEY', description: 'a dotted key, e.g. azure.cluster, azure.resourceGroup, azure.registry, kube.context, url' },
  ],
  flags: [],
  examples: [
    'npx zx scripts/env.mts get azure.cluster --env production',
    'REGISTRY="$(npx zx scripts/env.mts get azure.registry --env production)"',
  ],
};

await runMain(spec, async (ctx) => {
  const [, key] = ctx.flags.positionals;
  if (ctx.flags.positionals[0] !== 'get' || !key) throw usageError('env needs: get KEY', 'e.g. npx zx scripts/env.mts get azure.cluster --env production');
  const value = environmentValue(ctx.env, key);
  const text = value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return { summary: text, result: { key, value: value ?? null, file: ctx.env.file } };
});
