#!/usr/bin/env -S npx zx
// savings: the scheduled cost savings an environment opted into (costSavings in environments/<env>.yaml).
// off-hours: stop a non-production cluster (az aks stop), or lower the autoscaler minimum of its node
// pools; on-hours: start it again, or restore the minimum. Run by .github/workflows/cost-savings.yml.
import { runMain } from './lib/main.ts';
import type { ScriptSpec } from './lib/flags.ts';
import { usageError } from './lib/errors.ts';
import { PHASES, optedIn, optedInEnvironments, planSavings } from './lib/savings.ts';
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

await runMain(spec, async ({ env, flags, runner, log, confirm, root }) => {
  if (flags.boolean('list')) {
    const environments = optedInEnvironments(root);
    return { summary: `savings: ${environments.length ? environments.join(', ') : 'no environment'} opted into scheduled savings`, result: { environments } };
  }
  const phase = flags.string('phase') as Phase | undefined;
  if (!phase) throw usageError('--phase is required', 'use --phase off-hours or --phase on-hours');
  if (!env.azure) throw usageError(`${env.name} has no azure: section: there is no cluster to scale or stop`, 'use --env staging or --env production');
  if (!optedIn(env)) {
    return { summary: `savings: ${env.name} has not opted into scheduled savings (costSavings in ${env.file}); nothing to do`, result: { phase, changes: [] } };
  }
  const { changes, notes } = await log.step('current state', () => planSavings(env, runner, phase));
  for (const n of notes) log.info(n);
  if (!changes.length) return { summary: `savings: ${phase} for ${env.name}: already in place, nothing changed`, result: { phase, changes: [], notes } };
  for (const c of changes) log.info(`will ${c.what}`);
  await confirm(`Apply ${changes.length} change${changes.length > 1 ? 's' : ''} to ${env.azure.cluster}?`);
  for (const c of changes) {
    // stop/start and pool updates take minutes; the environment's command timeout is too short for them.
    await log.step(c.what, () => runner.run('az', c.args, { timeoutMs: 30 * 60_000, attempts: 2, note: c.what }));
  }
  return {
    summary: flags.dryRun
      ? `savings: dry run of ${phase} for ${env.name}: ${changes.length} change${changes.length > 1 ? 's' : ''} planned, none made`
      : `savings: ${phase} for ${env.name}: ${changes.map((c) => c.what).join('; ')}`,
    result: { phase, changes: changes.map((c) => c.what), notes },
  };
});
