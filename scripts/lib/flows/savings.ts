// savings: the scheduled cost savings an environment opted into (costSavings in environments/<env>.yaml).
// off-hours: stop a non-production cluster (az aks stop), or lower the autoscaler minimum of its node
// pools; on-hours: start it again, or restore the minimum. savings.mts parses the flags; what to change
// is decided in ../savings.ts.
import type { Outcome, ScriptContext } from '../main.ts';
import { usageError } from '../errors.ts';
import { optedIn, optedInEnvironments, planSavings } from '../savings.ts';
import type { Phase } from '../savings.ts';

export interface SavingsInputs {
  /** --phase; required unless --list. */
  phase?: Phase;
  /** --list: only name the environments that opted in. */
  list: boolean;
}

export async function applySavings({ env, flags, runner, log, confirm, root }: ScriptContext, inputs: SavingsInputs): Promise<Outcome> {
  if (inputs.list) {
    const environments = optedInEnvironments(root);
    return { summary: `savings: ${environments.length ? environments.join(', ') : 'no environment'} opted into scheduled savings`, result: { environments } };
  }
  const { phase } = inputs;
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
}
