// The rollback: history -> target (--to REV, or the newest good revision before the current one)
// -> helm rollback -> the same rollout watch and smoke as a deploy. rollback.mts parses the flags
// and calls rollbackRelease.
import type { ScriptContext, Outcome } from '../main.ts';
import { ExitCode, OpsError, usageError } from '../errors.ts';
import { assertChecks, assertKubeContext, checkTool, toolsFor } from '../preflight.ts';
import { formatCommand } from '../runner.ts';
import { keepSecretsFromChildren } from '../secrets.ts';
import type { HelmRevision } from '../helm.ts';
import { currentRevision, formatHistoryTable, GOOD_STATUSES, historyLine, pickRollbackRevision, readHistory, rollbackArgs } from '../helm.ts';
import { rollBackTo } from './verify.ts';

export interface RollbackInputs {
  to?: number;
  force: boolean;
  skipSmoke: boolean;
  rolloutTimeoutMs?: number;
}

export async function rollbackRelease(ctx: ScriptContext, inputs: RollbackInputs): Promise<Outcome> {
  const { env, runner, log } = ctx;
  keepSecretsFromChildren(ctx.redactor);
  const ns = env.kube.namespace;
  const rel = env.release.name;
  const rolloutTimeoutMs = inputs.rolloutTimeoutMs ?? env.timeouts.rolloutSeconds * 1000;
  if (inputs.to !== undefined && (!Number.isInteger(inputs.to) || inputs.to < 1)) throw usageError(`--to must be a revision number (got ${inputs.to})`, `see the revisions: helm history ${rel} -n ${ns}`);

  await log.step('preflight: tools, kube context', async () => {
    const checks = await Promise.all(toolsFor(env).filter((t) => t.tool !== 'az').map(({ tool, required }) => checkTool(runner, tool, required)));
    assertChecks(checks);
    await assertKubeContext(ctx.runner, ctx.env, 'roll back');
  });
  const history = await log.step('release history (helm history)', () => readHistory(runner, rel, ns));
  const current = currentRevision(history);
  if (!current) throw new OpsError(`release ${rel} does not exist in namespace ${ns}: nothing to roll back`, { hint: `helm list -n ${ns} -a`, exitCode: ExitCode.failed });

  const showHistory = (marks: Record<number, string>) => log.info(`History of ${rel} in ${ns}:\n${formatHistoryTable(history, marks).split('\n').map((l) => `  ${l}`).join('\n')}`);
  const pickAgain = `pick a revision from the history above: npx zx scripts/rollback.mts --env ${ctx.flags.env} --to REV`;

  let target: HelmRevision | undefined;
  try {
    if (inputs.to !== undefined) {
      target = history.find((h) => h.revision === inputs.to);
      if (!target) throw usageError(`revision ${inputs.to} is not in the history of ${rel} (revisions: ${history.map((h) => h.revision).join(', ')})`, pickAgain);
      if (target.revision === current.revision) throw usageError(`revision ${target.revision} is the current revision already`, `${pickAgain}, or omit --to for the newest good revision before it`);
      if (!GOOD_STATUSES.has(target.status) && !inputs.force) {
        throw usageError(`revision ${target.revision} is ${target.status} (${target.description}): rolling back to it would most likely fail the same way`, `pick a deployed or superseded revision, or pass --force if you know why it failed and want it anyway`);
      }
    } else {
      target = pickRollbackRevision(history, current.revision);
      if (!target) throw new OpsError(`no revision before ${current.revision} ever deployed successfully (history: ${historyLine(history)}): nothing good to roll back to`, { hint: `pick one explicitly with --to REV --force, or redeploy a known-good tag: npx zx scripts/deploy.mts --env ${ctx.flags.env} --tag <sha>`, exitCode: ExitCode.failed });
    }
  } catch (e) {
    // Every refusal's hint sends the operator to the history: print it first, so it is there to pick from.
    showHistory({ [current.revision]: '(current)' });
    throw e;
  }
  showHistory({ [current.revision]: '(current)', [target.revision]: '(target)' });
  log.info(`rolling back ${rel} from revision ${current.revision} (${current.status}) to revision ${target.revision} (${target.status}, ${target.description})`);
  log.info(`command: ${formatCommand('helm', rollbackArgs(rel, ns, target.revision, env.timeouts.helmSeconds))}`);

  await ctx.confirm(`Roll back ${rel} in ${env.name} from revision ${current.revision} to revision ${target.revision}?`);
  ctx.setState(`rollback to revision ${target.revision}`);
  const rb = await rollBackTo(ctx, target, { rolloutTimeoutMs, skipSmoke: inputs.skipSmoke, label: '' });
  const result = {
    release: rel, namespace: ns, from: current.revision, to: target.revision, revision: rb.revision ?? null, images: rb.images, url: env.url,
    history, rollout: rb.verify?.rollout ?? null, smoke: rb.verify?.smoke ?? null, failure: rb.failure ?? null, durations: ctx.log.stepDurations(),
  };
  if (runner.dryRun) {
    return { summary: `rollback: dry-run: would roll back ${rel} from revision ${current.revision} to ${target.revision}, then watch the rollout and run smoke`, result: { ...result, plan: { commands: runner.plan } } };
  }
  const running = [rb.images.backend, rb.images.frontend].filter(Boolean).join(', ') || 'unknown images';
  log.info(`steps:\n${ctx.log.stepTable()}`);
  if (!rb.ok) {
    const hint = `kubectl get pods -n ${ns} -l app.kubernetes.io/instance=${rel}; if the cause is outside the release (Secrets, database, Redpanda, DNS) see docs/runbooks.md#roll-back, else pick another revision: npx zx scripts/rollback.mts --env ${ctx.flags.env} --to <REV>`;
      return {
      summary: `rollback: rollback of ${rel} to revision ${target.revision} did not restore service: ${rb.failure ?? 'unknown'}`,
      exitCode: ExitCode.failed,
      result,
    hint: `manual action needed, the app may be down: ${hint}`,
      markdown: `Manual action needed: ${hint.replace(/; /g, '\n- ')}`,
    };
  }
  return { summary: `rollback: rolled back ${rel} to revision ${target.revision} (now revision ${rb.revision ?? '?'}), running ${running}; ${rb.verify?.smoke ? 'smoke green' : 'smoke skipped'}; ${env.url}`, result };
}
