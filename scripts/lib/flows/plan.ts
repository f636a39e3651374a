// How a flow runs under --dry-run without a cluster (deploy.mts): the runner records every call
// instead of running it (Runner.planWithoutCluster), so a read has no answer. A flow wraps each read
// in ask(): its answer, or UNKNOWN in such a dry-run. A branch taken on an answer the dry-run does
// not have goes through onlyIf(): a real run takes it or not; a dry-run takes it with every call
// inside marked "# when <condition>". The printed plan is what the flow itself called, in order.
import type { PlannedCall, Runner } from '../runner.ts';
import { Unanswered } from '../runner.ts';

export const UNKNOWN: unique symbol = Symbol('unknown: --dry-run planned the read instead of running it');
export type Unknown = typeof UNKNOWN;

/** The read's answer, or UNKNOWN when a planning dry-run recorded the read instead of running it. */
export async function ask<T>(read: Promise<T>): Promise<T | Unknown> {
  try {
    return await read;
  } catch (e) {
    if (e instanceof Unanswered) return UNKNOWN;
    throw e;
  }
}

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

function comment(s: PlannedCall): string {
  const parts = [s.when ? `when ${s.when}` : '', s.note ?? ''].filter(Boolean);
  return parts.length ? `   # ${parts.join('; ')}` : '';
}

/** The numbered plan --dry-run prints: read or CHANGE, the command, and when it runs if not always. */
export function formatPlan(plan: readonly PlannedCall[]): string {
  return plan.map((s, i) => `  ${String(i + 1).padStart(2)}. [${s.mutating ? 'CHANGE' : 'read'}] ${s.command}${comment(s)}`).join('\n');
}
