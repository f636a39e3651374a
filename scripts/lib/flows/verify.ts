// After a helm upgrade or rollback: the rollout watch, then smoke; and "roll back to a good revision,
// watch it, smoke it", shared by the deploy (its automatic rollback) and the rollback flow.
import type { Clock } from '../clock.ts';
import type { LoadedEnvironment } from '../config.ts';
import { OpsError } from '../errors.ts';
import type { HelmRevision } from '../helm.ts';
import { helmCallFailure, readStatus, rollbackArgs } from '../helm.ts';
import { imagesFromConfig } from '../images.ts';
import type { Logger } from '../log.ts';
import type { Redactor } from '../redact.ts';
import type { Runner } from '../runner.ts';
import type { RolloutResult } from '../rollout.ts';
import { waitForRollout } from '../rollout.ts';
import type { SmokeReport } from '../smoke.ts';
import { planSmokeChecks, runSmokeChecks, smokeOptionsFromEnv, summariseSmoke } from '../smoke.ts';
import { ask, UNKNOWN } from './plan.ts';
import type { Unknown } from './plan.ts';

export interface VerifyContext {
  env: LoadedEnvironment;
  runner: Runner;
  log: Logger;
  clock: Clock;
  redactor: Redactor;
}

export interface VerifyOptions {
  rolloutTimeoutMs: number;
  skipSmoke: boolean;
  /** Suffix of the step titles, e.g. " (after rollback)". */
  label?: string;
  pollMs?: number;
}

export interface VerifyResult {
  ok: boolean;
  rollout: RolloutResult;
  smoke?: SmokeReport;
  /** What failed, one line. */
  failure?: string;
}

/** Thrown inside a step to mark it failed while keeping its result. */
class StepFailed<T> extends OpsError {
  readonly value: T;
  constructor(message: string, value: T) { super(message); this.value = value; }
}

/** Runs fn as a logged step; a result with ok false marks the step failed and is returned, not thrown. */
export async function checkedStep<T>(log: Logger, title: string, fn: () => Promise<{ ok: boolean; value: T; failure?: string }>): Promise<{ ok: boolean; value: T; failure?: string }> {
  try {
    return await log.step(title, async () => {
      const r = await fn();
      if (!r.ok) throw new StepFailed(r.failure ?? `${title} failed`, r.value);
      return r;
    });
  } catch (e) {
    if (e instanceof StepFailed) return { ok: false, value: e.value as T, failure: e.message };
    throw e;
  }
}

/** The rollout watch, then smoke (unless skipped or the rollout failed). */
export async function verifyRelease(ctx: VerifyContext, o: VerifyOptions): Promise<VerifyResult | Unknown> {
  const { env, runner, log, clock, redactor } = ctx;
  const label = o.label ?? '';
  const rollout = await ask(checkedStep(log, `rollout${label}`, async () => {
    const r = await waitForRollout({ runner, clock, log, release: env.release.name, namespace: env.kube.namespace, timeoutMs: o.rolloutTimeoutMs, ...(o.pollMs ? { pollMs: o.pollMs } : {}) });
    return { ok: r.ok, value: r, ...(r.failure ? { failure: r.failure.summary } : {}) };
  }));
  if (rollout === UNKNOWN) {
    // A dry-run: the watch's polls are in the plan; smoke's requests are added to it (not CLI calls).
    if (o.skipSmoke) log.skip(`smoke${label}`, '--skip-smoke');
    else for (const c of planSmokeChecks(smokeOptionsFromEnv(env, { clock, redactor, log }))) runner.planStep(`${c.method} ${c.url}`, { note: `smoke: expects ${c.expect}` });
    return UNKNOWN;
  }
  if (!rollout.ok) return { ok: false, rollout: rollout.value, failure: `rollout${label}: ${rollout.failure ?? 'failed'}` };
  if (o.skipSmoke) {
    log.skip(`smoke${label}`, '--skip-smoke');
    return { ok: true, rollout: rollout.value };
  }
  const smoke = await checkedStep(log, `smoke${label}`, async () => {
    const report = await runSmokeChecks(smokeOptionsFromEnv(env, { clock, redactor, log }));
    return { ok: report.ok, value: report, failure: summariseSmoke(report) };
  });
  return { ok: smoke.ok, rollout: rollout.value, smoke: smoke.value, ...(smoke.ok ? {} : { failure: `smoke${label}: ${smoke.failure ?? 'failed'}` }) };
}

export interface RollbackOutcome {
  /** Restored: the rollback ran, rolled out and passed smoke. */
  ok: boolean;
  /** The revision, or a description of it in a dry-run that cannot read the history. */
  target: HelmRevision | string;
  /** The revision the rollback created. */
  revision?: number;
  images: { backend?: string; frontend?: string };
  verify?: VerifyResult;
  failure?: string;
}

/**
 * `helm rollback REL <target>` (explicit revision), then the same watch and smoke as a deploy. A
 * dry-run without a cluster passes a description of the target instead of a revision.
 */
export async function rollBackTo(ctx: VerifyContext, target: HelmRevision | string, o: VerifyOptions): Promise<RollbackOutcome> {
  const { env, runner, log } = ctx;
  const ns = env.kube.namespace;
  const rel = env.release.name;
  const to = typeof target === 'string' ? target : target.revision;
  const r = await checkedStep(log, `helm rollback to revision ${to}`, async () => {
    const res = await runner.run('helm', rollbackArgs(rel, ns, to, env.timeouts.helmSeconds), { allowFailure: true, timeoutMs: (env.timeouts.helmSeconds + 60) * 1000, attempts: 1 });
    return { ok: res.exitCode === 0, value: res, failure: `helm rollback ${rel} ${to} failed: ${helmCallFailure(res)}` };
  });
  if (!r.ok) return { ok: false, target, images: {}, failure: r.failure ?? 'helm rollback failed' };
  // rollback.mts --dry-run reads the cluster and stops at the change; deploy.mts --dry-run plans on.
  if (runner.dryRun && !runner.plansReads) return { ok: true, target, images: {} };
  const status = await ask(readStatus(runner, rel, ns));
  const verify = await verifyRelease(ctx, { ...o, label: o.label ?? ' (after rollback)' });
  if (status === UNKNOWN || verify === UNKNOWN) return { ok: false, target, images: {}, failure: 'unknown: --dry-run' };
  const images = imagesFromConfig(status?.config ?? {});
  return { ok: verify.ok, target, images, verify, ...(status ? { revision: status.revision } : {}), ...(verify.failure ? { failure: verify.failure } : {}) };
}
