// scripts/lib/helm.ts: Helm 3.17 and 4.x output parsed into typed values, the rollback target
// (never blindly current-1), the pending-lock recovery plan, and the command lines (no --wait,
// no --atomic/--rollback-on-failure) on both majors.
import { compareVersions, TOOLS } from '../scripts/lib/preflight.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  currentRevision, formatHistoryTable, helmCallFailure, helmErrorSummary, ingressHostOf, isLockError, isReleaseNotFound, parseHelmVersion, parseHistory,
  parseStatus, parseUpgradeRevision, pickRollbackRevision, planPendingRecovery, readHistory, readStatus, rollbackArgs, rollbackTarget, templateArgs, upgradeArgs,
} from '../scripts/lib/helm.ts';
import type { HelmRevision } from '../scripts/lib/helm.ts';
import { OpsError } from '../scripts/lib/errors.ts';
import { createClock } from '../scripts/lib/clock.ts';
import { Logger } from '../scripts/lib/log.ts';
import { Redactor } from '../scripts/lib/redact.ts';
import { Runner } from '../scripts/lib/runner.ts';
import { FakeWorld } from './support/harness.ts';

// Golden shapes from helm/helm's own test goldens, v3.17.4 cmd/helm/testdata/output and v4.0.4
// pkg/cmd/testdata/output (test/fixtures/cli-samples/README.md#helm).
const HISTORY_JSON = '[{"revision":1,"updated":"2025-05-01T10:00:00.123456789Z","status":"superseded","chart":"orders-1.4.1","app_version":"1.4.1","description":"Install complete"},{"revision":2,"updated":"2025-05-02T09:00:00.5Z","status":"failed","chart":"orders-1.4.2","app_version":"1.4.2","description":"Upgrade \\"orders\\" failed: context deadline exceeded"}]\n';
const STATUS_V3 = '{"name":"orders","info":{"first_deployed":"2025-05-01T10:00:00.1Z","last_deployed":"2025-05-02T09:00:00.5Z","deleted":"","description":"Upgrade complete","status":"deployed","notes":"…"},"config":{"image":{"tag":"1.4.2"}},"manifest":"---\\n# Source: …","version":2,"namespace":"shop"}\n';
const STATUS_V4 = '{"name":"orders","info":{"first_deployed":"2025-05-01T10:00:00.1Z","last_deployed":"2025-05-02T09:00:00.5Z","description":"Upgrade complete","status":"deployed"},"config":{},"manifest":"","version":2,"namespace":"shop","apply_method":"ssa"}\n';

function rev(revision: number, status: HelmRevision['status'], updated = '2026-11-20T09:00:00.000000000Z', description?: string): HelmRevision {
  return { revision, status, updated, chart: 'hackathon-todo-0.1.0', appVersion: '0.1.0', description: description ?? (status === 'failed' ? 'Upgrade "hackathon-todo" failed: x' : 'Upgrade complete') };
}

test('parseHistory: Helm golden JSON into typed revisions, oldest first; an unknown status is an error', () => {
  const h = parseHistory(HISTORY_JSON);
  assert.equal(h.map((r) => [r.revision, r.status, r.appVersion]), [[1, 'superseded', '1.4.1'], [2, 'failed', '1.4.2']]);
  assert.is(h[1]!.description, 'Upgrade "orders" failed: context deadline exceeded');
  assert.equal(parseHistory('[{"revision":3,"status":"deployed"},{"revision":1,"status":"superseded"}]').map((r) => r.revision), [1, 3]);
  assert.throws(() => parseHistory('[{"revision":1,"status":"exploded"}]'), /unknown Helm release status "exploded"/);
  assert.throws(() => parseHistory('Error: nope'), (e: unknown) => e instanceof OpsError);
});

test('parseStatus: Helm 3 (deleted "") and Helm 4 (zero times omitted, apply_method) both parse', () => {
  const v3 = parseStatus(STATUS_V3);
  assert.is(v3.revision, 2);
  assert.is(v3.status, 'deployed');
  assert.is(v3.namespace, 'shop');
  assert.equal(v3.config, { image: { tag: '1.4.2' } });
  assert.is(v3.applyMethod, undefined);
  const v4 = parseStatus(STATUS_V4);
  assert.is(v4.revision, 2);
  assert.is(v4.applyMethod, 'ssa');
  assert.is(v4.firstDeployed, '2025-05-01T10:00:00.1Z');
});

test('parseHelmVersion: --template, --short and BuildInfo forms on 3 and 4; 3.17+ and 4.x supported only', () => {
  assert.equal(parseHelmVersion('v3.17.3'), { version: '3.17.3', major: 3, minor: 17, patch: 3 });
  assert.is(parseHelmVersion('v3.17.2+gcc0bbbd\n').version, '3.17.2');
  assert.is(parseHelmVersion('version.BuildInfo{Version:"v4.1.4", GitCommit:"x", GitTreeState:"clean", GoVersion:"go1.24"}').major, 4);
  // The supported range is the preflight's minimum (doctor and deploy check it).
  const supported = (text: string) => compareVersions(parseHelmVersion(text).version, TOOLS.helm.minimum) >= 0;
  assert.ok(supported('v4.1.4'));
  assert.ok(supported('v3.17.0'));
  assert.not.ok(supported('v3.16.4'));
  assert.not.ok(supported('v2.17.0'));
  assert.throws(() => parseHelmVersion('garbage'), /cannot read the Helm version/);
});

test('pickRollbackRevision: newest deployed/superseded before the current one, skipping failed ones (not current-1)', () => {
  const h = [rev(1, 'superseded'), rev(2, 'deployed'), rev(3, 'failed'), rev(4, 'failed')];
  assert.is(pickRollbackRevision(h, 4)?.revision, 2, 'current-1 (3) failed: skip it');
  assert.is(pickRollbackRevision(h, 2)?.revision, 1);
  assert.is(pickRollbackRevision(h, 1), undefined, 'nothing before the first revision');
  assert.is(pickRollbackRevision([rev(1, 'failed'), rev(2, 'deployed')], 2), undefined, 'only failed revisions before it');
  // A history trimmed by --history-max: revision 6 is the one before 9 that is good.
  assert.is(pickRollbackRevision([rev(6, 'superseded'), rev(7, 'pending-upgrade'), rev(8, 'uninstalled'), rev(9, 'deployed')], 9)?.revision, 6);
  // Never a revision newer than the current one.
  assert.is(pickRollbackRevision([rev(1, 'superseded'), rev(2, 'deployed'), rev(3, 'superseded')], 2)?.revision, 1);
  assert.is(currentRevision(h)?.revision, 4);
});

test('pickRollbackRevision: after a rollback, skips the superseded revision it moved away from and the one already running', () => {
  // Without --wait, Helm recorded the crash-looping upgrade 3 as deployed; the deploy's rollback (4) superseded it.
  const h = [rev(1, 'superseded', undefined, 'Install complete'), rev(2, 'superseded'), rev(3, 'superseded'), rev(4, 'deployed', undefined, 'Rollback to 2')];
  assert.is(rollbackTarget(h[3]), 2);
  assert.is(rollbackTarget(h[2]), undefined);
  assert.is(pickRollbackRevision(h, 4)?.revision, 1, 'not 3 (rolled back from), not 2 (what 4 runs)');
  // A later deploy that fails goes back to the rollback revision itself: it runs the good manifest.
  assert.is(pickRollbackRevision([...h, rev(5, 'deployed')], 5)?.revision, 4);
  // Chains of rollbacks resolve to the original revision.
  assert.is(pickRollbackRevision([...h, rev(5, 'superseded'), rev(6, 'deployed', undefined, 'Rollback to 4')], 6)?.revision, 1);
});

test('planPendingRecovery: rollback past a stale pending-upgrade, uninstall a stuck first install, stop on a fresh lock', () => {
  const ctx = { release: 'hackathon-todo', namespace: 'default', nowMs: Date.parse('2026-11-25T12:00:00Z'), liveWindowMs: 600_000 };
  assert.equal(planPendingRecovery([rev(1, 'deployed')], ctx), { action: 'none' });
  assert.equal(planPendingRecovery([], ctx), { action: 'none' });

  const up = planPendingRecovery([rev(1, 'superseded'), rev(2, 'deployed'), rev(3, 'failed'), rev(4, 'pending-upgrade')], ctx);
  assert.is(up.action, 'rollback');
  if (up.action === 'rollback') assert.is(up.to.revision, 2);
  assert.is(planPendingRecovery([rev(1, 'deployed'), rev(2, 'pending-rollback')], ctx).action, 'rollback');

  const first = planPendingRecovery([rev(1, 'pending-install')], ctx);
  assert.is(first.action, 'uninstall');

  const noGood = planPendingRecovery([rev(1, 'failed'), rev(2, 'pending-upgrade')], ctx);
  assert.is(noGood.action, 'stop');
  if (noGood.action === 'stop') assert.match(noGood.command, /^helm uninstall hackathon-todo -n default/);

  // Written by a runner whose clock is ahead of ours: as recent as can be, never "stale".
  const ahead = planPendingRecovery([rev(1, 'deployed'), rev(2, 'pending-upgrade', '2026-11-25T12:00:30.000000000Z')], ctx);
  assert.is(ahead.action, 'stop');
  if (ahead.action === 'stop') assert.match(ahead.reason, /ahead of this machine's clock: another deploy may still be running/);

  // Two minutes old, with a 10 minute Helm timeout: another deploy may still hold the lock.
  const fresh = planPendingRecovery([rev(1, 'deployed'), rev(2, 'pending-upgrade', '2026-11-25T11:58:00.123456789Z')], ctx);
  assert.is(fresh.action, 'stop');
  if (fresh.action === 'stop') {
    assert.match(fresh.reason, /another deploy may still be running/);
    assert.match(fresh.command, /helm history hackathon-todo -n default/);
  }
});

test('upgradeArgs: -f per values file, image repositories and --set-string tags, --timeout; never --wait, --atomic or --rollback-on-failure', () => {
  const a = upgradeArgs({
    release: 'hackathon-todo', chart: 'helm', namespace: 'default', valuesFiles: ['helm/values.yaml', 'helm/values-production.yaml'], timeoutSeconds: 600,
    images: { backend: { repository: 'acr.azurecr.io/todo-backend', tag: '1234e56' }, frontend: { repository: 'acr.azurecr.io/todo-frontend', tag: '1234e56' } },
  });
  assert.equal(a, [
    'upgrade', '--install', 'hackathon-todo', 'helm', '-n', 'default', '-f', 'helm/values.yaml', '-f', 'helm/values-production.yaml',
    '--set', 'backend.image.repository=acr.azurecr.io/todo-backend', '--set-string', 'backend.image.tag=1234e56',
    '--set', 'frontend.image.repository=acr.azurecr.io/todo-frontend', '--set-string', 'frontend.image.tag=1234e56',
    '--timeout', '600s',
  ]);
  for (const banned of ['--wait', '--atomic', '--rollback-on-failure', '--wait-for-jobs']) assert.not.ok(a.some((x) => x.startsWith(banned)), banned);
  const t = templateArgs({ release: 'r', chart: 'helm', namespace: 'ns', valuesFiles: ['v.yaml'], timeoutSeconds: 1, images: { backend: { repository: 'b', tag: 't' }, frontend: { repository: 'f', tag: 't' } } });
  assert.equal(t, ['template', 'r', 'helm', '-n', 'ns', '-f', 'v.yaml', '--set', 'backend.image.repository=b', '--set-string', 'backend.image.tag=t', '--set', 'frontend.image.repository=f', '--set-string', 'frontend.image.tag=t']);
  // The environment's url host becomes ingress.host, after the images and before --timeout (so template has it too).
  const hosted = upgradeArgs({ release: 'r', chart: 'helm', namespace: 'ns', valuesFiles: [], timeoutSeconds: 1, images: { backend: { repository: 'b', tag: 't' }, frontend: { repository: 'f', tag: 't' } }, ingressHost: 'todo.example.com' });
  assert.equal(hosted.slice(-4), ['--set-string', 'ingress.host=todo.example.com', '--timeout', '1s']);
  assert.equal(templateArgs({ release: 'r', chart: 'helm', namespace: 'ns', valuesFiles: [], timeoutSeconds: 1, images: { backend: { repository: 'b', tag: 't' }, frontend: { repository: 'f', tag: 't' } }, ingressHost: 'todo.example.com' }).slice(-2), ['--set-string', 'ingress.host=todo.example.com']);
  assert.equal(rollbackArgs('hackathon-todo', 'default', 6, 600), ['rollback', 'hackathon-todo', '6', '-n', 'default', '--timeout', '600s']);
});

test('ingressHostOf: the url\'s DNS host name; none for an IP address or localhost (Kubernetes refuses an IP as an Ingress host)', () => {
  assert.is(ingressHostOf('https://todo.example.com'), 'todo.example.com');
  assert.is(ingressHostOf('https://Staging.Todo.Example.com:8443/app'), 'staging.todo.example.com');
  for (const url of ['http://127.0.0.1:8080', 'http://[::1]:3000', 'http://localhost:8080', 'http://app.localhost', 'https://10.0.0.4']) {
    assert.is(ingressHostOf(url), undefined, url);
  }
});

test('upgrade output and errors: REVISION on 3 and 4 (4 adds DESCRIPTION), lock and not-found messages, Helm 4 multi-line wait error', () => {
  const v3 = 'Release "orders" has been upgraded. Happy Helming!\nNAME: orders\nLAST DEPLOYED: Fri May  2 09:00:00 2025\nNAMESPACE: shop\nSTATUS: deployed\nREVISION: 2\nTEST SUITE: None\n';
  const v4 = 'Release "orders" does not exist. Installing it now.\nNAME: orders\nLAST DEPLOYED: Fri May  2 09:00:00 2025\nNAMESPACE: shop\nSTATUS: deployed\nREVISION: 1\nDESCRIPTION: Install complete\nTEST SUITE: None\n';
  assert.is(parseUpgradeRevision(v3), 2);
  assert.is(parseUpgradeRevision(v4), 1);
  assert.is(parseUpgradeRevision('nothing'), undefined);
  assert.ok(isLockError('Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress'));
  assert.ok(isReleaseNotFound('Error: release: not found'));
  // Stopped by the runner's timeout: say so, instead of "(no error output)".
  assert.is(helmCallFailure({ stderr: '', timedOut: true, durationMs: 660_000 }), 'helm did not finish within 11m0s and was stopped');
  assert.is(helmCallFailure({ stderr: 'Error: release: not found\n', timedOut: false, durationMs: 10 }), 'Error: release: not found');
  assert.is(
    helmErrorSummary('Error: UPGRADE FAILED: resource not ready, name: orders, kind: Deployment, status: InProgress\ncontext deadline exceeded\n'),
    'Error: UPGRADE FAILED: resource not ready, name: orders, kind: Deployment, status: InProgress; context deadline exceeded',
  );
});

test('formatHistoryTable: the columns rollback.mts prints, with marks', () => {
  const table = formatHistoryTable([rev(1, 'superseded'), rev(2, 'failed')], { 1: '(target)', 2: '(current)' });
  const lines = table.split('\n');
  assert.match(lines[0]!, /^REVISION +UPDATED +STATUS +CHART +APP VERSION +DESCRIPTION$/);
  assert.match(lines[1]!, /^1 \(target\) +2026-11-20 09:00:00Z +superseded +hackathon-todo-0\.1\.0 +0\.1\.0 +Upgrade complete$/);
  assert.match(lines[2]!, /^2 \(current\) .* failed /);
});

for (const version of ['v3.17.3', 'v4.1.4']) {
  test(`readHistory/readStatus against the fake Helm ${version}: a missing release is [] / undefined, not an error`, async () => {
    const world = new FakeWorld({ helm: { version } });
    world.seedRelease('hackathon-todo', [{ status: 'superseded' }, { status: 'deployed' }]);
    const restore = world.activate();
    try {
      const redactor = new Redactor();
      // Real time: nothing sleeps here, and a scaled clock would only shrink the runner's timeout.
      const clock = createClock(1);
      const log = new Logger({ script: 't', json: false, verbose: false, redactor, clock, interactive: false, out: () => undefined, err: () => undefined });
      const runner = new Runner({ dryRun: false, redactor, logger: log, clock, defaultTimeoutMs: 600_000 });
      const h = await readHistory(runner, 'hackathon-todo', 'default');
      assert.equal(h.map((r) => r.status), ['superseded', 'deployed']);
      const s = await readStatus(runner, 'hackathon-todo', 'default');
      assert.is(s?.revision, 2);
      assert.equal(await readHistory(runner, 'nope', 'default'), []);
      assert.is(await readStatus(runner, 'nope', 'default'), undefined);
    } finally {
      restore();
    }
  });
}

test.run();
