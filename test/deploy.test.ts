// deploy.mts against the fakes and the fixture app server for smoke: the exact call sequences and the
// dry-run's plan of a success and a crash-loop rollback, what a local cluster cannot produce (Azure and
// ACR, daprd's logs, Helm refusing mid-way, locks of a given age, a deploy's own upgrade killed), first
// installs, preflight refusals, and a dry-run that needs no cluster. The image pull failure, the FAILED
// previous revision, the stale pending-upgrade lock and Helm 3 run on the real control plane
// (rehearsal-helm4.test.ts, rehearsal-helm3.test.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startAppServer } from './fixtures/app-server.ts';
import type { AppServer } from './fixtures/app-server.ts';
import { FakeWorld, line } from './support/harness.ts';
import type { Call, RunResult } from './support/harness.ts';
import { PROD, rx } from './support/names.ts';
import { classifyMutating, formatCommand } from '../scripts/lib/runner.ts';
import {
  addWatch, assertPlanIsRun, dryRunPlan, HEALTHY_NEW, NS, OLD_TAG, productionEnvFile, productionWorld, REL, ROLLED_BACK, seedHistory, TAG,
} from './support/release.ts';
import type { ReleaseState } from './support/release.ts';

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

// Real time (scale 1). Every timeline here is decided on the first poll after a Helm event and every
// smoke passes at once, so nothing sleeps, and scaled time would only shrink the scripts' own timeouts
// toward what a fake call costs on a busy 2-core machine.
// Where a deadline has to pass (smoke failing), the environment file shortens it instead.
const SCALE = 1;
const deploy = (w: FakeWorld, extra: string[] = [], env: Record<string, string> = {}, file = envFile): Promise<RunResult> =>
  w.run('deploy', ['--env', file, '--tag', TAG, '--yes', ...extra], { timeScale: SCALE, env, killAfterMs: 90_000 });

const mutating = (calls: Call[]) => calls.filter((c) => classifyMutating(c.tool, c.args));
const helmCalls = (calls: Call[], verb: string) => calls.filter((c) => c.tool === 'helm' && c.args[0] === verb);
const index = (calls: Call[], pred: (c: Call) => boolean) => calls.findIndex(pred);
/**
 * Dry-run by construction: `--dry-run` of the same deploy on the same world plans exactly the changes
 * this real run made, in order, modulo the steps it marks "# when ..." (support/release.ts).
 */
const assertDryRunPlanned = async (w: FakeWorld, r: RunResult): Promise<void> =>
  assertPlanIsRun(await dryRunPlan(w, 'deploy', ['--env', envFile, '--tag', TAG]), mutating(r.calls).map((c) => formatCommand(c.tool, c.args)));
const podReadsBetween = (calls: Call[], from: number, to: number) => calls.slice(from, to).filter((c) => c.tool === 'kubectl' && c.args[0] === 'get' && c.args[1] === 'pods' && c.args.includes('-l') && !c.args.includes('dapr-system')).length;

const CRASH: ReleaseState = { ...HEALTHY_NEW, backend: { waiting: 'CrashLoopBackOff' } };
/** After the rollback the crash-looping pods of the failed revision are still terminating. */
const RESTORED: ReleaseState = { ...ROLLED_BACK, oldPods: { hash: HEALTHY_NEW.hash, revision: 8, backend: { waiting: 'CrashLoopBackOff' } } };

function existing(o: Parameters<typeof productionWorld>[0] = {}, statuses: Parameters<typeof seedHistory>[1] = ['superseded', 'deployed']): FakeWorld {
  return seedHistory(productionWorld(o), statuses);
}

// Helm 3 drives the same deploys, crash-loop rollbacks and lock recoveries on the real control plane
// (rehearsal-helm3.test.ts); here Helm 4 with the exact call sequence and the dry-run's plan.
for (const helmVersion of ['v4.1.4']) {
  test(`success (Helm ${helmVersion}): preflight, images, upgrade with the tag, watch, smoke; exit 0 and the summary`, async () => {
    const w = addWatch(existing({ helmVersion }), 'upgrade', [{ at: 0, state: HEALTHY_NEW }]);
    const r = await deploy(w);
    assert.is(r.code, 0, r.output);
    const calls = r.calls;
    const upgrade = helmCalls(calls, 'upgrade');
    assert.is(upgrade.length, 1);
    assert.equal(upgrade[0]!.args, [
      'upgrade', '--install', REL, 'helm', '-n', NS, '-f', 'helm/values.yaml', '-f', 'helm/values-production.yaml',
      // The stand-in url names no host, so production's host comes in a values file (support/release.ts).
      '-f', join(dirname(envFile), 'ingress-host.yaml'),
      '--set', `backend.image.repository=${PROD.images.backend}`, '--set-string', `backend.image.tag=${TAG}`,
      '--set', `frontend.image.repository=${PROD.images.frontend}`, '--set-string', `frontend.image.tag=${TAG}`,
      '--timeout', '600s',
    ]);
    // Order: context guard, Dapr, Secrets and both image checks all happen before the first change.
    const up = index(calls, (c) => c.tool === 'helm' && c.args[0] === 'upgrade');
    for (const [what, pred] of [
      ['context', (c: Call) => c.args.join(' ') === 'config current-context'],
      ['dapr crd', (c: Call) => c.args.includes('components.dapr.io')],
      ['secrets', (c: Call) => c.args[1] === 'secret'],
      ['acr backend', (c: Call) => c.tool === 'az' && c.args.includes('todo-backend')],
      ['acr frontend', (c: Call) => c.tool === 'az' && c.args.includes('todo-frontend')],
      ['history', (c: Call) => c.tool === 'helm' && c.args[0] === 'history'],
    ] as const) {
      const i = index(calls, pred);
      assert.ok(i >= 0 && i < up, `${what} before the upgrade (${i} < ${up})`);
    }
    assert.equal(mutating(calls).map(line), [line(upgrade[0]!)], 'the upgrade is the only change');
    assert.is(helmCalls(calls, 'rollback').length, 0);
    assert.ok(podReadsBetween(calls, up, calls.length) >= 1);
    assert.equal(app.requests.slice(-3).map((q) => `${q.method} ${q.path}`), ['GET /', 'GET /api/health', 'POST /api/chat']);
    assert.match(r.stdout, new RegExp(`deployed ${REL} revision 3 to production: ${rx(PROD.images.backend)}:${TAG}, ${rx(PROD.images.frontend)}:${TAG}; ${app.url.replace(/[.:/]/g, '\\$&')}`));
    assert.match(r.stdout, /steps:\n(.*\n)*.*helm upgrade --install hackathon-todo +\d/);
    assert.match(r.stdout, new RegExp(`helm: ${helmVersion.slice(1).replace(/\./g, '\\.')}`));
    await assertDryRunPlanned(w, r);
  });
}

test('success --json: one JSON document with release, revision, images, per-step durations and URL; progress on stderr', async () => {
  const w = addWatch(existing({ helmVersion: 'v4.1.4' }), 'upgrade', [{ at: 0, state: HEALTHY_NEW }]);
  const r = await deploy(w, ['--json']);
  assert.is(r.code, 0, r.output);
  const doc = JSON.parse(r.stdout) as Record<string, any>;
  assert.is(doc.ok, true);
  assert.is(doc.release, REL);
  assert.is(doc.revision, 3);
  assert.is(doc.images.backend, `${PROD.images.backend}:${TAG}`);
  assert.is(doc.url, app.url);
  assert.is(doc.helmVersion, '4.1.4');
  assert.is(doc.rolledBack, false);
  assert.ok(doc.durations.some((d: { step: string; seconds: number }) => d.step.startsWith('helm upgrade') && typeof d.seconds === 'number'));
  assert.ok(doc.smoke.ok);
  for (const l of r.stderr.trim().split('\n').filter(Boolean)) JSON.parse(l);
});

for (const helmVersion of ['v4.1.4']) {
  test(`crash loop in the app container (Helm ${helmVersion}): fails on the first poll, shows pod/container/reason/logs, rolls back to revision 2, smoke green, exit 4`, async () => {
    const w = existing({ helmVersion });
    addWatch(w, 'upgrade', [{ at: 0, state: CRASH }]);
    addWatch(w, 'rollback', [{ at: 0, state: RESTORED }]);
    w.on('kubectl', ['logs', 'todo-backend-new5d8f7c9-x7k2p', '-c', 'backend'], { stdout: 'INFO starting uvicorn\nERROR could not connect: password authentication failed\n' });
    const r = await deploy(w);
    assert.is(r.code, 4, r.output);
    const calls = r.calls;
    const up = index(calls, (c) => c.tool === 'helm' && c.args[0] === 'upgrade');
    const rb = index(calls, (c) => c.tool === 'helm' && c.args[0] === 'rollback');
    assert.ok(up >= 0 && rb > up);
    assert.equal(calls[rb]!.args.slice(0, 3), ['rollback', REL, '2'], 'explicit revision, the newest good one');
    assert.is(podReadsBetween(calls, up, rb), 1, 'one poll was enough to see the crash loop');
    assert.match(r.output, /pod todo-backend-new5d8f7c9-x7k2p: container backend is CrashLoopBackOff/);
    assert.match(r.output, /\| ERROR could not connect: password authentication failed/);
    assert.ok(calls.some((c) => c.tool === 'kubectl' && c.args[0] === 'logs' && c.args.includes('--tail=20')));
    // After the rollback: watched again (the lingering crash-looping pods do not count) and smoked.
    assert.ok(podReadsBetween(calls, rb, calls.length) >= 1);
    assert.equal(app.requests.slice(-3).map((q) => q.path), ['/', '/api/health', '/api/chat']);
    assert.match(r.stdout, new RegExp(`deploy of ${REL} revision 3 failed \\(rollout: pod todo-backend-new5d8f7c9-x7k2p: container backend is CrashLoopBackOff.*\\); rolled back to revision 2 \\(now revision 4\\), which runs ${rx(PROD.images.backend)}:${OLD_TAG}, ${rx(PROD.images.frontend)}:${OLD_TAG} and passes smoke`));
    const history = w.state().helm!.releases[REL]!.history;
    assert.equal(history.map((h) => `${h.revision}:${h.status}`), ['1:superseded', '2:superseded', '3:superseded', '4:deployed']);
    await assertDryRunPlanned(w, r);
  });
}

test('crash loop in the daprd sidecar: named as the Dapr sidecar, with its logs (a secret in them masked); rolled back, exit 4', async () => {
  const w = existing();
  addWatch(w, 'upgrade', [{ at: 0, state: { ...HEALTHY_NEW, frontend: { daprWaiting: 'CrashLoopBackOff' } } }]);
  addWatch(w, 'rollback', [{ at: 0, state: ROLLED_BACK }]);
  const key = 'sk-canaryDeployLog0123456789abcdef';
  w.on('kubectl', ['logs', '-c', 'daprd'], { stdout: `level=info msg="openai key ${key}"\nlevel=fatal msg="error loading components: pubsub.kafka: saslMechanism"\n` });
  const r = await deploy(w, [], { OPENAI_API_KEY: key });
  assert.is(r.code, 4, r.output);
  assert.not.ok(r.output.includes(key), 'a secret from the environment echoed in pod logs is masked');
  assert.match(r.output, /\| level=info msg="openai key \*\*\*"/);
  assert.match(r.output, /pod todo-frontend-new5d8f7c9-x7k2p: the Dapr sidecar container daprd is CrashLoopBackOff/);
  assert.match(r.output, /\| level=fatal msg="error loading components/);
  assert.equal(helmCalls(r.calls, 'rollback')[0]!.args.slice(0, 3), ['rollback', REL, '2']);
});

test('smoke failure after a good rollout: rolled back to revision 2, smoke green again, exit 4 naming the failed check', async () => {
  const w = existing();
  addWatch(w, 'upgrade', [{ at: 0, state: HEALTHY_NEW }]);
  addWatch(w, 'rollback', [{ at: 0, state: ROLLED_BACK }]);
  app.setMode('unhealthy');
  const running = deploy(w, [], {}, shortSmokeEnvFile);
  // The fixture app plays the new revision: unhealthy until the rollback is issued.
  const started = Date.now();
  while (!w.calls.some((c) => c.tool === 'helm' && c.args[0] === 'rollback') && Date.now() - started < 60_000) await new Promise((d) => setTimeout(d, 10));
  app.setMode('healthy');
  const r = await running;
  assert.is(r.code, 4, r.output);
  assert.match(r.output, /FAILED health: GET .*\/api\/health → 503/);
  assert.match(r.stdout, /deploy of hackathon-todo revision 3 failed \(smoke: smoke: 2\/3 checks passed .*\(failed: health\)\); rolled back to revision 2/);
  assert.equal(helmCalls(r.calls, 'rollback')[0]!.args.slice(0, 3), ['rollback', REL, '2']);
});

test('helm upgrade itself fails on an existing release: the failed revision is rolled back too, exit 4', async () => {
  const w = existing({ upgrades: [{ status: 'failed', error: 'admission webhook "validate.nginx.ingress.kubernetes.io" denied the request' }] });
  addWatch(w, 'rollback', [{ at: 0, state: ROLLED_BACK }]);
  const r = await deploy(w);
  assert.is(r.code, 4, r.output);
  assert.match(r.stdout, /helm upgrade failed: Error: UPGRADE FAILED: admission webhook/);
  assert.equal(helmCalls(r.calls, 'rollback')[0]!.args.slice(0, 3), ['rollback', REL, '2']);
});

test('first install fails: nothing to roll back to; left in place for inspection with the uninstall command stated; exit 1', async () => {
  const w = productionWorld();
  addWatch(w, 'install', [{ at: 0, state: { ...HEALTHY_NEW, revision: 1, backend: { waiting: 'CrashLoopBackOff' } } }]);
  const r = await deploy(w);
  assert.is(r.code, 1, r.output);
  assert.match(r.stderr, /error: deploy of hackathon-todo revision 1 failed: rollout: .*CrashLoopBackOff.*this was the first install of hackathon-todo, so there is no earlier revision to roll back to\. It is left in place/);
  assert.match(r.stderr, /helm uninstall hackathon-todo -n todo/);
  assert.is(helmCalls(r.calls, 'rollback').length, 0);
  assert.is(helmCalls(r.calls, 'uninstall').length, 0);
  assert.equal(w.state().helm!.releases[REL]!.history.map((h) => h.status), ['deployed']);
  await assertDryRunPlanned(w, r);
});

test('pending-install lock of a first install (stale): uninstalled, then installed afresh as revision 1', async () => {
  const w = seedHistory(productionWorld(), ['pending-install']);
  addWatch(w, 'install', [{ at: 0, state: { ...HEALTHY_NEW, revision: 1 } }]);
  const r = await deploy(w);
  assert.is(r.code, 0, r.output);
  assert.match(r.output, /the first install \(revision 1\) is stuck in pending-install and never served traffic/);
  assert.equal(mutating(r.calls).map((c) => c.args.slice(0, 2).join(' ')), [`uninstall ${REL}`, 'upgrade --install']);
  assert.match(r.stdout, /deployed hackathon-todo revision 1 to production/);
  await assertDryRunPlanned(w, r);
});

test('helm upgrade interrupted (killed mid-upgrade, its revision left pending-upgrade): rolled back to the last good revision, which clears the lock; exit 4', async () => {
  const w = existing({ upgrades: [{ status: 'pending-upgrade', error: 'context canceled' }] });
  addWatch(w, 'rollback', [{ at: 0, state: ROLLED_BACK }]);
  const r = await deploy(w);
  assert.is(r.code, 4, r.output);
  assert.match(r.stdout, /deploy of hackathon-todo revision 3 failed \(helm upgrade failed: Error: context canceled\); rolled back to revision 2 \(now revision 4\)/);
  assert.equal(mutating(r.calls).map((c) => c.args.slice(0, 3).join(' ')), [`upgrade --install ${REL}`, `rollback ${REL} 2`]);
  assert.equal(w.state().helm!.releases[REL]!.history.map((h) => `${h.revision}:${h.status}`), ['1:superseded', '2:superseded', '3:pending-upgrade', '4:deployed']);
  await assertDryRunPlanned(w, r);
});

test('pending-upgrade recovered, then helm upgrade refuses before recording a revision: the recovery revision is not mistaken for a failed deploy; exit 1, no second rollback', async () => {
  const w = existing({}, ['superseded', 'deployed', 'pending-upgrade']);
  w.on('helm', ['upgrade'], { stderr: 'Error: UPGRADE FAILED: template: hackathon-todo/templates/backend-deployment.yaml:31:20: executing "hackathon-todo/templates/backend-deployment.yaml" at <.Values.backend.port>: nil pointer evaluating interface {}.port', exit: 1 });
  const r = await deploy(w);
  assert.is(r.code, 1, r.output);
  assert.match(r.stderr, /error: helm upgrade failed before changing anything: Error: UPGRADE FAILED: template:/);
  assert.equal(mutating(r.calls).map((c) => c.args.slice(0, 3).join(' ')), [`rollback ${REL} 2`, `upgrade --install ${REL}`]);
});

test('pending-install of a first install uninstalled, then the fresh install fails in Helm: reported as a failed first install (left in place), exit 1', async () => {
  const w = seedHistory(productionWorld({ upgrades: [{ status: 'failed', error: 'context deadline exceeded' }] }), ['pending-install']);
  const r = await deploy(w);
  assert.is(r.code, 1, r.output);
  assert.match(r.stderr, /error: deploy of hackathon-todo revision 1 failed: helm upgrade failed: Error: context deadline exceeded\. this was the first install/);
  assert.equal(mutating(r.calls).map((c) => c.args.slice(0, 2).join(' ')), [`uninstall ${REL}`, 'upgrade --install']);
  assert.equal(w.state().helm!.releases[REL]!.history.map((h) => `${h.revision}:${h.status}`), ['1:failed']);
});

test('pending lock younger than the Helm timeout: stops with the command to check, changes nothing, exit 1', async () => {
  const w = productionWorld();
  w.seedRelease(REL, [{ status: 'deployed' }, { status: 'pending-upgrade', updated: new Date().toISOString().replace('Z', '000000Z') }]);
  const r = await deploy(w);
  assert.is(r.code, 1, r.output);
  assert.match(r.stderr, /error: release hackathon-todo is locked: revision 2 is pending-upgrade since .* another deploy may still be running; nothing was changed/);
  assert.match(r.stderr, /hint: helm history hackathon-todo -n todo/);
  assert.equal(mutating(r.calls), []);
});

test('missing secrets: exit 3 listing them, with the secrets.mts fix; nothing changed', async () => {
  const r = await deploy(existing({ secrets: false }));
  assert.is(r.code, 3, r.output);
  assert.match(r.stderr, /error: required Secrets are missing in todo: database-credentials\/connection-string, openai-credentials\/api-key, .*redpanda-credentials\/password; nothing was changed/);
  assert.match(r.stderr, /hint: load them first: npx zx scripts\/secrets\.mts --env .*--with-secrets/);
  assert.equal(mutating(r.calls), []);
});

test('--with-secrets --secrets-file: Secrets applied on stdin before the upgrade, values never on a command line or in the output', async () => {
  const values = {
    DATABASE_URL: 'postgresql://todo:canaryPw9Zx@ep-cool.neon.tech/todo?sslmode=require',
    OPENAI_API_KEY: 'sk-canaryKey0123456789abcdefXYZ',
    BETTER_AUTH_SECRET: 'canary-auth-secret-0123456789-abcdefghij',
    REDPANDA_BOOTSTRAP_SERVERS: 'seed-1.redpanda.example:9092',
    REDPANDA_SASL_USERNAME: 'todo-canary-user',
    REDPANDA_SASL_PASSWORD: 'canary-sasl-password-77',
  };
  const dir = mkdtempSync(join(tmpdir(), 'aks-todo-ops-dotenv-'));
  const dotenv = join(dir, '.env');
  writeFileSync(dotenv, Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  const w = addWatch(existing({ secrets: false }), 'upgrade', [{ at: 0, state: HEALTHY_NEW }]);
  const r = await deploy(w, ['--with-secrets', '--secrets-file', dotenv, '--verbose']);
  assert.is(r.code, 0, r.output);
  const calls = r.calls;
  const apply = index(calls, (c) => c.tool === 'kubectl' && c.args[0] === 'apply');
  const up = index(calls, (c) => c.tool === 'helm' && c.args[0] === 'upgrade');
  assert.ok(apply >= 0 && apply < up, 'Secrets applied before the upgrade');
  assert.ok(calls[apply]!.stdin.includes(Buffer.from(values.OPENAI_API_KEY).toString('base64')));
  for (const v of Object.values(values)) {
    assert.not.ok(r.output.includes(v), 'a secret value in the output');
    assert.not.ok(calls.some((c) => c.args.some((a) => a.includes(v))), 'a secret value on a command line');
  }
});

test('--secrets-file without --with-secrets is a usage error (exit 2), nothing called', async () => {
  const dotenv = join(mkdtempSync(join(tmpdir(), 'aks-todo-ops-dotenv-')), '.env');
  writeFileSync(dotenv, 'DATABASE_URL=\n');
  const w = existing();
  const r = await deploy(w, ['--secrets-file', dotenv]);
  assert.is(r.code, 2, r.output);
  assert.match(r.stderr, /--secrets-file is only read with --with-secrets/);
  assert.equal(r.calls, []);
});

test('--with-secrets --secrets-file naming a missing file: exit 2 from the script (not Node), before any call, so no namespace is created', async () => {
  const missing = join(mkdtempSync(join(tmpdir(), 'aks-todo-ops-dotenv-')), 'nonexistent.env');
  const w = existing({ secrets: false });
  const r = await deploy(w, ['--with-secrets', '--secrets-file', missing]);
  assert.is(r.code, 2, r.output);
  assert.match(r.stderr, /^error: .*nonexistent\.env does not exist and .*production-test\.yaml names no Key Vault, so there is no source for the secrets$/m);
  assert.match(r.stderr, /^hint: cp \.env\.example .*nonexistent\.env, .*--secrets-file PATH$/m);
  assert.not.match(r.output, /not found/);
  assert.equal(r.calls, []);
});

test('--env-file, the old name, still works where Node 20 lets it through (the file exists), with a one-line deprecation notice', async () => {
  const dotenv = join(mkdtempSync(join(tmpdir(), 'aks-todo-ops-dotenv-')), '.env');
  writeFileSync(dotenv, 'DATABASE_URL=\n');
  const r = await deploy(existing(), ['--env-file', dotenv]);
  // Read as --secrets-file: the same refusal as above, now under the new name.
  assert.is(r.code, 2, r.output);
  assert.match(r.stderr, /--secrets-file is only read with --with-secrets/);
  assert.equal(r.stderr.match(/^warning: --env-file is deprecated, use --secrets-file: Node 20 .*exit 9.*$/gm)?.length, 1, r.stderr);
  assert.equal(r.calls, []);
});

test('wrong kube context: exit 3, refuses before reading the cluster or changing anything', async () => {
  const r = await deploy(existing({ context: 'minikube' }));
  assert.is(r.code, 3, r.output);
  assert.match(r.stderr, new RegExp(`error: refusing to deploy: current context is "minikube", but .* names "${rx(PROD.context)}"; nothing was changed`));
  assert.match(r.stderr, new RegExp(`hint: az aks get-credentials --resource-group ${rx(PROD.resourceGroup)} --name ${rx(PROD.cluster)}`));
  assert.equal(mutating(r.calls), []);
  assert.not.ok(r.calls.some((c) => c.tool === 'helm' && c.args[0] !== 'version'));
});

test('latest in production: exit 2 before any call reaches a tool', async () => {
  const w = existing();
  const r = await w.run('deploy', ['--env', envFile, '--tag', 'latest', '--yes'], { timeScale: SCALE });
  assert.is(r.code, 2, r.output);
  assert.match(r.stderr, /error: the tag "latest" is refused for production/);
  assert.match(r.stderr, /hint: deploy the commit SHA .*--tag \$\(git rev-parse HEAD\)/);
  assert.equal(r.calls, []);
});

test('image not in the registry: exit 3 before any change, naming the missing image', async () => {
  const r = await deploy(existing({ tags: [OLD_TAG] }));
  assert.is(r.code, 3, r.output);
  assert.match(r.stderr, new RegExp(`images missing, nothing was changed: ${rx(PROD.images.backend)}:${TAG} is not in ${PROD.registry}`));
  assert.equal(mutating(r.calls), []);
});

test('Dapr missing: exit 3 with the install-dapr hint', async () => {
  const r = await deploy(existing({ dapr: false }));
  assert.is(r.code, 3, r.output);
  assert.match(r.stdout, /FAILED Dapr CRDs installed: the CRD components\.dapr\.io does not exist/);
  assert.match(r.stderr, /hint: npx zx scripts\/install-dapr\.mts --env /);
  assert.equal(mutating(r.calls), []);
});

test('an identity that may not read CRDs (AKS built-in roles) still deploys when the sidecar injector is ready', async () => {
  const w = addWatch(existing(), 'upgrade', [{ at: 0, state: HEALTHY_NEW }]);
  // Rules are tried in order, so this answer wins over the world's own CRD answer.
  w.scenario.rules.unshift({ tool: 'kubectl', args: ['get', 'crd', 'components.dapr.io'], respond: { stderr: 'Error from server (Forbidden): customresourcedefinitions.apiextensions.k8s.io "components.dapr.io" is forbidden: User "github" cannot get resource "customresourcedefinitions" in API group "apiextensions.k8s.io" at the cluster scope', exit: 1 } });
  const r = await deploy(w);
  assert.is(r.code, 0, r.output);
  assert.match(r.stdout, /warn +Dapr CRDs installed: this identity may not read CRDs/);
  assert.match(r.stdout, /ok +Dapr sidecar injector ready/);
  assert.is(helmCalls(r.calls, 'upgrade').length, 1);
});

for (const helmVersion of ['v3.17.3', 'v4.1.4']) {
  test(`dry-run with no cluster and no Azure login (Helm ${helmVersion}): config, images, commands in order, rendered manifests; only read-only calls; exit 0`, async () => {
    const w = new FakeWorld({ kube: { context: null }, helm: { version: helmVersion } });
    const r = await w.run('deploy', ['--env', 'production', '--dry-run'], { timeScale: SCALE, env: { SMOKE_AUTH_TOKEN: 'canary-smoke-token-4242' } });
    assert.is(r.code, 0, r.output);
    assert.equal(mutating(r.calls), [], 'no mutating call reached a fake');
    assert.equal([...new Set(r.calls.map((c) => `${c.tool} ${c.args[0]}`))].sort(), ['helm template', 'kubectl config']);
    assert.not.ok(r.calls.some((c) => c.tool === 'az'));
    const sha = new RegExp(`images \\(tag from git rev-parse HEAD\\):\\n +backend +${rx(PROD.images.backend)}:([0-9a-f]{40})`).exec(r.stdout);
    assert.ok(sha, r.stdout);
    assert.match(r.stdout, new RegExp(`release hackathon-todo from chart helm in namespace todo, kube context ${rx(PROD.context)}`));
    assert.match(r.output, /a real deploy would stop here: no current kube context is set/);
    const order = ['az account show', 'kubectl config current-context', 'kubectl get crd components.dapr.io', 'az acr repository show-tags', 'helm history', 'helm upgrade --install hackathon-todo helm -n todo -f helm/values.yaml -f helm/values-production.yaml', 'kubectl get pods -l app.kubernetes.io/instance=hackathon-todo', 'GET https://todo.example.com/api/health', 'helm rollback hackathon-todo'];
    let at = 0;
    for (const o of order) {
      const i = r.stdout.indexOf(o, at);
      assert.ok(i > 0, `"${o}" after position ${at}`);
      at = i;
    }
    assert.match(r.stdout, new RegExp(`\\[CHANGE\\] helm upgrade --install .*--set-string backend\\.image\\.tag=${sha[1]}.* --set-string ingress\\.host=${rx(PROD.host)} `));
    // The Ingress host comes from the environment's url (the values files name none), shown before the commands.
    assert.match(r.stdout, new RegExp(`\\n +ingress host: ${rx(PROD.host)}\\n`));
    assert.match(r.stdout, new RegExp(`Deployment +todo-backend +HPA 2-5 +${rx(PROD.images.backend)}:[0-9a-f]{40}`));
    assert.match(r.stdout, /Deployment +todo-frontend +HPA 2-5 /);
    assert.match(r.stdout, /dry-run: would deploy hackathon-todo .* to production; \d+ changing commands planned, none run/);
    assert.not.ok(r.output.includes('canary-smoke-token-4242'));
  });
}

test('dry-run --json: the plan as one document', async () => {
  const w = new FakeWorld({ kube: { context: PROD.context } });
  const r = await w.run('deploy', ['--env', 'production', '--dry-run', '--json', '--tag', TAG], { timeScale: SCALE });
  assert.is(r.code, 0, r.output);
  const doc = JSON.parse(r.stdout) as { plan: { config: { ingressHost: string | null }; images: Record<string, string>; commands: Array<{ command: string; mutating: boolean }>; manifests: Array<{ kind: string; name: string }> } };
  assert.is(doc.plan.images.frontend, `${PROD.images.frontend}:${TAG}`);
  assert.is(doc.plan.config.ingressHost, PROD.host);
  assert.ok(doc.plan.commands.some((c) => c.mutating && c.command.startsWith('helm upgrade --install')));
  assert.ok(doc.plan.manifests.some((m) => m.kind === 'Ingress' && m.name === 'hackathon-todo'));
  assert.equal(mutating(r.calls), []);
});

test('non-interactive without --yes: exit 2 after the read-only checks, nothing changed', async () => {
  const w = existing();
  const r = await w.run('deploy', ['--env', envFile, '--tag', TAG], { timeScale: SCALE });
  assert.is(r.code, 2, r.output);
  assert.match(r.stderr, /Refusing to continue without --yes/);
  assert.equal(mutating(r.calls), []);
});

test.run();
