// rollback.mts against the fakes (Helm 3 and 4) and the fixture app server: the history table,
// the default target (newest good revision before the current one), --to and --force, the watch
// and smoke afterwards, and each documented exit code.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startAppServer } from './fixtures/app-server.ts';
import type { AppServer } from './fixtures/app-server.ts';
import type { Call, FakeWorld, RunResult } from './support/harness.ts';
import { classifyMutating, formatCommand } from '../scripts/lib/runner.ts';
import { addWatch, assertPlanIsRun, dryRunPlan, OLD_TAG, productionEnvFile, productionWorld, REL, ROLLED_BACK, seedHistory } from './support/release.ts';
import { PROD, rx } from './support/names.ts';

let app: AppServer;
let envFile: string;
/** The same, with a 2 s smoke deadline, for the tests where smoke fails until it gives up. */
let shortSmokeEnvFile: string;
test.before(async () => {
  app = await startAppServer();
  envFile = productionEnvFile(app.url);
  shortSmokeEnvFile = productionEnvFile(app.url, (d) => { d.timeouts.smokeSeconds = 2; });
});
test.after(async () => { await app.close(); });
test.before.each(() => { app.setMode('healthy'); });

// Real time (scale 1), as in deploy.test.ts: nothing here waits except a failing smoke, whose deadline
// the environment file shortens; scaled time would only shrink the scripts' own timeouts.
const SCALE = 1;
const rollback = (w: FakeWorld, extra: string[] = ['--yes'], file = envFile): Promise<RunResult> =>
  w.run('rollback', ['--env', file, ...extra], { timeScale: SCALE, killAfterMs: 90_000 });
const mutating = (calls: Call[]) => calls.filter((c) => classifyMutating(c.tool, c.args));
const rollbacks = (calls: Call[]) => calls.filter((c) => c.tool === 'helm' && c.args[0] === 'rollback').map((c) => c.args.slice(0, 3).join(' '));

function world(statuses: Parameters<typeof seedHistory>[1], helmVersion?: string): FakeWorld {
  return seedHistory(productionWorld(helmVersion ? { helmVersion } : {}), statuses);
}

// rollback.mts on the real control plane: to the default target with Helm 3 and 4 (rehearsal-helm3.test.ts,
// rehearsal-helm4.test.ts, step 13) and to --to (rehearsal-helm4.test.ts, step 14). Here the table and the plan.
for (const helmVersion of ['v4.1.4']) {
  test(`default target (Helm ${helmVersion}): the history table, rollback to the newest good revision before the current one, watch, smoke, exit 0`, async () => {
    const w = addWatch(world(['superseded', 'superseded', 'deployed'], helmVersion), 'rollback', [{ at: 0, state: ROLLED_BACK }]);
    // Dry-run by construction: before the real run (which changes the history), the plan of the same rollback.
    const plan = await dryRunPlan(w, 'rollback', ['--env', envFile]);
    const r = await rollback(w);
    assert.is(r.code, 0, r.output);
    assertPlanIsRun(plan, mutating(r.calls).map((c) => formatCommand(c.tool, c.args)));
    assert.match(r.stdout, /REVISION +UPDATED +STATUS +CHART +APP VERSION +DESCRIPTION/);
    assert.match(r.stdout, /2 \(target\) +2026-11-21 09:00:00Z +superseded +hackathon-todo-0\.1\.0 +0\.1\.0 +Upgrade complete/);
    assert.match(r.stdout, /3 \(current\) .* deployed /);
    assert.equal(rollbacks(r.calls), [`rollback ${REL} 2`]);
    assert.equal(mutating(r.calls).length, 1);
    const rb = r.calls.findIndex((c) => c.args[0] === 'rollback');
    assert.ok(r.calls.slice(rb).some((c) => c.tool === 'kubectl' && c.args[1] === 'pods'), 'watched after the rollback');
    assert.equal(app.requests.slice(-3).map((q) => q.path), ['/', '/api/health', '/api/chat']);
    assert.match(r.stdout, new RegExp(`rolled back ${REL} to revision 2 \\(now revision 4\\), running ${rx(PROD.images.backend)}:${OLD_TAG}, .*; smoke green`));
  });
}

test('default target skips a failed revision (not current-1)', async () => {
  const w = addWatch(world(['superseded', 'failed', 'deployed']), 'rollback', [{ at: 0, state: ROLLED_BACK }]);
  const r = await rollback(w);
  assert.is(r.code, 0, r.output);
  assert.equal(rollbacks(r.calls), [`rollback ${REL} 1`]);
});

test('after an automatic rollback, the default target is neither the broken revision it left (superseded) nor the one running again', async () => {
  // 3 crash-looped (Helm, without --wait, recorded it deployed); the deploy rolled back to 2, creating 4.
  const w = productionWorld();
  w.seedRelease(REL, [{ status: 'superseded' }, { status: 'superseded' }, { status: 'superseded' }, { status: 'deployed', description: 'Rollback to 2' }]);
  addWatch(w, 'rollback', [{ at: 0, state: ROLLED_BACK }]);
  const r = await rollback(w);
  assert.is(r.code, 0, r.output);
  assert.equal(rollbacks(r.calls), [`rollback ${REL} 1`]);
  assert.match(r.stdout, /1 \(target\) /);
});

test('--to a failed revision: refused with exit 2 and nothing changed; with --force it goes ahead', async () => {
  const refused = await rollback(world(['superseded', 'failed', 'deployed']), ['--to', '2', '--yes']);
  assert.is(refused.code, 2, refused.output);
  assert.match(refused.stderr, /error: revision 2 is failed \(Upgrade "hackathon-todo" failed: context deadline exceeded\)/);
  assert.match(refused.stderr, /hint: .*--force/);
  assert.equal(mutating(refused.calls), []);

  const w = addWatch(world(['superseded', 'failed', 'deployed']), 'rollback', [{ at: 0, state: ROLLED_BACK }]);
  const forced = await rollback(w, ['--to', '2', '--force', '--yes']);
  assert.is(forced.code, 0, forced.output);
  assert.equal(rollbacks(forced.calls), [`rollback ${REL} 2`]);
});

test('--to a revision not in the history, or the current one: exit 2, nothing changed', async () => {
  const missing = await rollback(world(['superseded', 'deployed']), ['--to', '7', '--yes']);
  assert.is(missing.code, 2, missing.output);
  assert.match(missing.stderr, /revision 7 is not in the history of hackathon-todo \(revisions: 1, 2\)/);
  const current = await rollback(world(['superseded', 'deployed']), ['--to', '2', '--yes']);
  assert.is(current.code, 2, current.output);
  assert.match(current.stderr, /revision 2 is the current revision already/);
  assert.equal(mutating([...missing.calls, ...current.calls]), []);
});

test('--to 99 (not in the history): the history table is printed, so the hint\'s "history above" is there to pick from; exit 2, nothing changed', async () => {
  const r = await rollback(world(['superseded', 'failed', 'deployed']), ['--to', '99', '--yes']);
  assert.is(r.code, 2, r.output);
  assert.match(r.stdout, /History of hackathon-todo in todo:\n +REVISION +UPDATED +STATUS +CHART +APP VERSION +DESCRIPTION\n +1 +2026-11-20 09:00:00Z +superseded .*\n +2 +.* failed .*\n +3 \(current\) .* deployed /);
  assert.not.match(r.stdout, /\(target\)/);
  assert.match(r.stderr, /^error: revision 99 is not in the history of hackathon-todo \(revisions: 1, 2, 3\)$/m);
  assert.match(r.stderr, /^hint: pick a revision from the history above: npx zx scripts\/rollback\.mts --env .*production-test\.yaml --to REV$/m);
  assert.not.match(r.output, /table above/);
  assert.equal(rollbacks(r.calls), []);
  assert.equal(mutating(r.calls), []);
});

test('nothing good to roll back to: exit 1 with the history and the way out', async () => {
  const r = await rollback(world(['failed', 'deployed']));
  assert.is(r.code, 1, r.output);
  assert.match(r.stderr, /no revision before 2 ever deployed successfully \(history: 1:failed, 2:deployed\)/);
  assert.match(r.stderr, /hint: .*--to REV --force/);
  assert.match(r.stdout, /REVISION +UPDATED +STATUS[^\n]*\n +1 +[^\n]* failed [^\n]*\n +2 \(current\) /, 'the table to pick --to REV from');
  assert.equal(mutating(r.calls), []);
});

test('release not found: exit 1', async () => {
  const r = await rollback(productionWorld());
  assert.is(r.code, 1, r.output);
  assert.match(r.stderr, /release hackathon-todo does not exist in namespace todo/);
});

test('the rolled-back revision crash-loops too: the watcher fails it, exit 1 naming the pod', async () => {
  const w = addWatch(world(['superseded', 'superseded', 'deployed']), 'rollback', [{ at: 0, state: { ...ROLLED_BACK, backend: { waiting: 'CreateContainerConfigError' } } }]);
  w.on('kubectl', ['logs'], { stderr: 'Error from server (BadRequest): container "backend" is waiting to start: CreateContainerConfigError', exit: 1 });
  const r = await rollback(w);
  assert.is(r.code, 1, r.output);
  assert.match(r.output, /container backend is CreateContainerConfigError/);
  assert.match(r.output, /hint: a Secret or ConfigMap the pod reads is missing/);
  assert.match(r.stdout, /rollback of hackathon-todo to revision 2 did not restore service: rollout: /);
});

test('smoke still failing after the rollback: exit 1 naming the failed check', async () => {
  const w = addWatch(world(['superseded', 'superseded', 'deployed']), 'rollback', [{ at: 0, state: ROLLED_BACK }]);
  app.setMode('error500');
  const r = await rollback(w, ['--yes'], shortSmokeEnvFile);
  assert.is(r.code, 1, r.output);
  assert.match(r.stdout, /rollback of hackathon-todo to revision 2 did not restore service: smoke: .*\(failed: frontend, health, chat\)/);
});

test('helm rollback itself fails: exit 1 with Helm\'s error', async () => {
  const w = world(['superseded', 'superseded', 'deployed']);
  w.scenario.helm = { ...w.scenario.helm, rollbackOutcome: 'failed' };
  const r = await rollback(w);
  assert.is(r.code, 1, r.output);
  assert.match(r.stdout, /did not restore service: helm rollback hackathon-todo 2 failed: Error: release hackathon-todo failed: context deadline exceeded/);
});

test('--dry-run: shows the history, the target and the command; changes nothing; exit 0', async () => {
  const w = world(['superseded', 'failed', 'deployed']);
  const r = await rollback(w, ['--dry-run']);
  assert.is(r.code, 0, r.output);
  assert.match(r.stdout, /1 \(target\)/);
  assert.match(r.stdout, /\[dry-run\] would run: helm rollback hackathon-todo 1 -n todo --timeout 600s/);
  assert.match(r.stdout, /dry-run: would roll back hackathon-todo from revision 3 to 1/);
  assert.equal(mutating(r.calls), []);
});

test('--json: one document with from, to, revision, images, history and smoke', async () => {
  const w = addWatch(world(['superseded', 'superseded', 'deployed']), 'rollback', [{ at: 0, state: ROLLED_BACK }]);
  const r = await rollback(w, ['--yes', '--json']);
  assert.is(r.code, 0, r.output);
  const doc = JSON.parse(r.stdout) as Record<string, any>;
  assert.equal([doc.from, doc.to, doc.revision], [3, 2, 4]);
  assert.is(doc.images.backend, `${PROD.images.backend}:${OLD_TAG}`);
  assert.is(doc.history.length, 3);
  assert.ok(doc.smoke.ok);
});

test('non-interactive without --yes: exit 2 before the rollback', async () => {
  const r = await rollback(world(['superseded', 'deployed']), []);
  assert.is(r.code, 2, r.output);
  assert.match(r.stderr, /Refusing to continue without --yes/);
  assert.equal(mutating(r.calls), []);
});

test('wrong kube context: exit 3 before reading the release', async () => {
  const r = await rollback(seedHistory(productionWorld({ context: 'minikube' }), ['superseded', 'deployed']));
  assert.is(r.code, 3, r.output);
  assert.match(r.stderr, /refusing to roll back: current context is "minikube"/);
  assert.not.ok(r.calls.some((c) => c.tool === 'helm' && c.args[0] !== 'version'));
});

test('bad --to and --timeout values: exit 2', async () => {
  const a = await rollback(world(['superseded', 'deployed']), ['--to', '0', '--yes']);
  assert.is(a.code, 2);
  const b = await rollback(world(['superseded', 'deployed']), ['--timeout', 'soon', '--yes']);
  assert.is(b.code, 2);
  assert.match(b.stderr, /--timeout needs a duration/);
});

test.run();
