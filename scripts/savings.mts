#!/usr/bin/env -S npx zx
// savings: the scheduled cost savings an environment opted into (costSavings in environments/<env>.yaml).
// off-hours: stop a non-production cluster (az aks stop), or lower the autoscaler minimum of its node
// pools; on-hours: start it again, or restore the minimum. Run by .github/workflows/cost-savings.yml.
// The flow is in lib/flows/savings.ts.
import { runMain } from './lib/main.ts';
import type { ScriptSpec } from './lib/flags.ts';
import { applySavings } from './lib/flows/savings.ts';
import { PHASES } from './lib/savings.ts';
import type { Phase } from './lib/savings.ts';

export const spec: ScriptSpec = {
  name: 'savings',
  summary: 'apply the scheduled cost savings an environment opted into: off-hours scale-down or a nightly stop, and their undoing',
  description: [
    'costSavings.nightlyStop (never production): off-hours runs az aks stop, on-hours az aks start.',
    'costSavings.offHours: off-hours lowers every autoscaled node pool\'s minimum to minNodes, on-hours restores azure.nodeCount.min.',
    'Reads the current state first and changes only what differs; an environment without costSavings changes nothing.',
  ].join('\n'),
  flags: [
    { name: 'phase', type: 'string', value: 'PHASE', choices: PHASES, description: 'off-hours (save) or on-hours (restore)' },
    { name: 'list', type: 'boolean', description: 'only list the environments that opted in (reads environments/*.yaml; no az call)' },
  ],
  examples: [
    'npx zx scripts/savings.mts --env staging --phase off-hours --dry-run',
    'npx zx scripts/savings.mts --env staging --phase on-hours --yes',
    'npx zx scripts/savings.mts --list --json',
  ],
};

await runMain(spec, (ctx) => {
  const phase = ctx.flags.string('phase') as Phase | undefined;
  return applySavings(ctx, { list: ctx.flags.boolean('list'), ...(phase ? { phase } : {}) });
});
