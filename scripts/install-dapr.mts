#!/usr/bin/env -S npx zx
// install-dapr: installs or upgrades the pinned Dapr control plane (Helm release `dapr` in
// dapr-system), upgrades its CRDs first on a version change (Helm never upgrades CRDs), waits for
// operator, sentry, placement, sidecar injector and scheduler, checks the CRDs, then applies the
// app's components, configuration and resiliency (dapr/) to the app namespace and verifies them.
// Re-running with nothing to change changes nothing and says so. The flow is in lib/flows/install-dapr.ts.
import { runMain } from './lib/main.ts';
import type { ScriptSpec } from './lib/flags.ts';
import { installDapr } from './lib/flows/install-dapr.ts';

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
  const { flags } = ctx;
  const timeoutMs = flags.duration('timeout');
  return installDapr(ctx, {
    skipComponents: flags.boolean('skip-components'),
    componentsOnly: flags.boolean('components-only'),
    manifests: flags.string('manifests') ?? 'dapr',
    verifyComponents: flags.boolean('verify-components'),
    secretsFile: flags.string('secrets-file') ?? '.env',
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  });
});
