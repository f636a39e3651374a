#!/usr/bin/env -S npx zx
// setup: provisions an Azure environment from bicep/ and fetches kube credentials for it.
// preflight (tools, login, subscription, providers, quota, Key Vault name, parameter inputs)
// → what-if, summarised → confirmation → az deployment sub create → outputs → az aks get-credentials
// (+ kubelogin when local accounts are disabled) → summary and the next command. lib/flows/setup.ts.
import { runMain } from './lib/main.ts';
import type { ScriptSpec } from './lib/flags.ts';
import { setupEnvironment } from './lib/flows/setup.ts';

export const spec: ScriptSpec = {
  name: 'setup',
  summary: 'provision the Azure resources of an environment from bicep/ (what-if, confirm, deploy) and fetch kube credentials',
  description: [
    'Refuses local environments (exit 2). Runs every preflight check and lists every failure (exit 3), then',
    'az deployment sub what-if and prints what would be created, modified and deleted. Nothing to change: the',
    'deployment is skipped and only the kube credentials are refreshed. Deletes need --yes in a non-interactive',
    'run (exit 2 otherwise). A failed deployment shows the failing operations (exit 1).',
    '--dry-run runs the read-only checks and the what-if when az is logged in, prints every mutating command',
    'and changes nothing; without a login it still prints the plan and says the what-if was skipped.',
  ].join('\n'),
  flags: [
    { name: 'what-if-only', type: 'boolean', description: 'stop after the what-if summary (exit 0); changes nothing' },
    { name: 'skip-credentials', type: 'boolean', description: 'do not run az aks get-credentials / kubelogin afterwards' },
    { name: 'deployment-name', type: 'string', value: 'NAME', description: 'ARM deployment name (default: aks-todo-ops-<env>-<location>, the same on every run)' },
  ],
  examples: [
    'npx zx scripts/setup.mts --env production --what-if-only',
    'npx zx scripts/setup.mts --env production',
    'npx zx scripts/setup.mts --env production --yes --json   # CI',
  ],
};

await runMain(spec, async (ctx) => {
  const { flags } = ctx;
  const deploymentName = flags.string('deployment-name');
  return setupEnvironment(ctx, {
    whatIfOnly: flags.boolean('what-if-only'),
    skipCredentials: flags.boolean('skip-credentials'),
    ...(deploymentName !== undefined ? { deploymentName } : {}),
  });
});
