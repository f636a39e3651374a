// How a flow runs under --dry-run without a cluster (deploy.mts): the runner records every call
// instead of running it (Runner.planWithoutCluster), so a read has no answer. A flow wraps each read
// in ask(): its answer, or UNKNOWN in such a dry-run. A branch taken on an answer the dry-run does
// not have goes through onlyIf(): a real run takes it or not; a dry-run takes it with every call
// inside marked "# when <condition>". The printed plan is what the flow itself called, in order.
// A dry-run that reads the cluster (rollback, install-dapr, secrets) answers its reads, but not one
// that looks at what a change it only planned did: watchStep() and Runner.afterChange() plan those.
import type { Logger } from '../log.ts';
import type { PlannedCall, Runner } from '../runner.ts';
import { ask, UNKNOWN } from '../runner.ts';
import type { Unknown } from '../runner.ts';

// The answer a dry-run does not have, and ask(), live with the runner (lib modules use them too).
export { ask, UNKNOWN } from '../runner.ts';
export type { Unknown } from '../runner.ts';

/**
 * Runs fn when `condition` is true; when it is UNKNOWN (a dry-run), runs it too with every planned
 * call marked "when <when>", and answers UNKNOWN. Reads inside fn answer UNKNOWN as well.
 */
export async function onlyIf<T>(runner: Runner, condition: boolean | Unknown, when: string, fn: () => Promise<T>): Promise<T | Unknown | undefined> {
  if (condition === UNKNOWN) {
    await runner.when(when, () => ask(fn()));
    return UNKNOWN;
  }
  return condition ? fn() : undefined;
}

/**
 * A logged step that watches what a change just before it did (Runner.afterChange): the control
 * plane after a helm upgrade, the objects after an apply. A dry-run did not make the change, so
 * the step's reads are planned, the step is shown as skipped under `short` (its title without what
 * only a run that waits has, such as the time limit), and it answers UNKNOWN.
 */
export async function watchStep<T>(ctx: { runner: Runner; log: Logger }, title: string, fn: () => Promise<T>, short = title): Promise<T | Unknown> {
  const { runner, log } = ctx;
  if (!runner.dryRun) return log.step(title, fn);
  const answer = await runner.afterChange(fn);
  if (answer === UNKNOWN) log.skip(short, 'dry run');
  return answer;
}

function comment(s: PlannedCall): string {
  const parts = [s.when ? `when ${s.when}` : '', s.note ?? ''].filter(Boolean);
  return parts.length ? `   # ${parts.join('; ')}` : '';
}

/** The numbered plan --dry-run prints: read or CHANGE, the command, and when it runs if not always. */
export function formatPlan(plan: readonly PlannedCall[]): string {
  return plan.map((s, i) => `  ${String(i + 1).padStart(2)}. [${s.mutating ? 'CHANGE' : 'read'}] ${s.command}${comment(s)}`).join('\n');
}
