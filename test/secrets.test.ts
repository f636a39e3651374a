// secrets.mts against the fake kubectl, for what a real cluster does not produce on demand or what needs
// no cluster: a restart refused (Forbidden), a rollout past its deadline, the wrong context, --dry-run,
// no --yes, a user name that is an ordinary word, --help; findMissingSecrets and syncSecrets for
// deploy.mts. Applying, idempotence, the restarts of exactly the consumers of a changed value and
// --check run against the real API server in secrets-cluster.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SECRET_CATALOG, secretNames } from '../scripts/lib/secret-catalog.ts';
import { findMissingSecrets, syncSecrets } from '../scripts/lib/secrets.ts';
import { line } from './support/harness.ts';
import { clusterSecret, goodValues, localWorld, makeContext, mutatingCalls, runSecrets, secretData, writeEnvFile } from './support/secrets.ts';
import type { Values } from './support/secrets.ts';
import { join } from 'node:path';
import { repoRoot } from './support/tools.ts';
import { PROD, rx } from './support/names.ts';

const restarts = (w: ReturnType<typeof localWorld>) => w.calls.filter((c) => c.args[0] === 'rollout' && c.args[1] === 'restart').map((c) => c.args[2]);
const applies = (w: ReturnType<typeof localWorld>) => w.calls.filter((c) => c.tool === 'kubectl' && c.args[0] === 'apply');
function noValueIn(text: string, values: Values): void {
  for (const [k, v] of Object.entries(values)) {
    assert.not.ok(text.includes(v), `${k} value printed`);
    assert.not.ok(text.includes(Buffer.from(v).toString('base64')), `${k} base64 printed`);
  }
}

test('a SASL user name that is an ordinary word ("backend") does not block commands naming todo-backend', async () => {
  const values = { ...goodValues(), REDPANDA_SASL_USERNAME: 'backend' };
  const w = localWorld();
  const r = await runSecrets(w, ['--env', 'local', '--secrets-file', writeEnvFile(values), '--yes']);
  assert.is(r.code, 0, r.output);
  assert.equal(restarts(w), ['deployment/todo-backend', 'deployment/todo-frontend']);
  assert.is(secretData(w, 'redpanda-credentials')?.username, 'backend');
});

test('--dry-run: prints the plan and the mutating commands, applies and restarts nothing', async () => {
  const values = goodValues();
  const w = localWorld();
  const r = await runSecrets(w, ['--env', 'local', '--secrets-file', writeEnvFile(values), '--dry-run']);
  assert.is(r.code, 0, r.output);
  assert.equal(mutatingCalls(w), []);
  assert.is(w.callsOf('kubectl', 'status').length, 0, 'nothing restarted, so nothing awaited');
  assert.not.ok(Object.keys(w.state().kube?.objects ?? {}).some((k) => k.startsWith('Secret/')));
  assert.match(r.stdout, /would create secret\/database-credentials in todo \(keys: connection-string\)/);
  assert.match(r.stdout, /\[dry-run\] would run: kubectl apply -n todo -f - < \(stdin\)/);
  assert.match(r.stdout, /\[dry-run\] would run: kubectl rollout restart deployment\/todo-backend -n todo/);
  assert.match(r.stdout, /\[dry-run\] would run: kubectl rollout restart deployment\/todo-frontend -n todo/);
  assert.match(r.stdout, /secrets \(dry run\): would apply 6 keys .*nothing was changed/);
  noValueIn(r.output, values);
});

test('wrong kube context: exit 3 before any Secret is read or written', async () => {
  const w = localWorld({ kube: { context: PROD.context, objects: [] } });
  const r = await runSecrets(w, ['--env', 'local', '--secrets-file', writeEnvFile(goodValues()), '--yes']);
  assert.is(r.code, 3, r.output);
  assert.match(r.stderr, new RegExp(`refusing to touch the cluster: current context is "${rx(PROD.context)}"`));
  assert.match(r.stderr, /hint: kubectl config use-context minikube/);
  assert.equal(w.calls.map(line), ['kubectl config current-context']);
});

test('changes without --yes in a non-interactive run are refused (exit 2) before anything is applied', async () => {
  const w = localWorld();
  const r = await runSecrets(w, ['--env', 'local', '--secrets-file', writeEnvFile(goodValues())]);
  assert.is(r.code, 2, r.output);
  assert.match(r.stderr, /without --yes/);
  assert.equal(mutatingCalls(w), []);
});

test('a rollout that does not finish fails the run (exit 1) with the pods command as the hint', async () => {
  const w = localWorld().on('kubectl', ['rollout', 'status', 'deployment/todo-backend'], { stderr: 'error: deployment "todo-backend" exceeded its progress deadline', exit: 1 });
  const r = await runSecrets(w, ['--env', 'local', '--secrets-file', writeEnvFile(goodValues()), '--yes']);
  assert.is(r.code, 1, r.output);
  assert.match(r.stderr, /error: deployment\/todo-backend did not finish restarting within 180s .*exceeded its progress deadline/);
  assert.match(r.stderr, /hint: the new values are applied; .*kubectl get pods -n todo -l app\.kubernetes\.io\/name=todo-backend/);
});

test('a restart that fails after the apply: exit 1, and the hint gives the restart to run by hand (a re-run would restart nothing)', async () => {
  const w = localWorld().on('kubectl', ['rollout', 'restart', 'deployment/todo-frontend'], { stderr: 'Error from server (Forbidden): deployments.apps "todo-frontend" is forbidden: User "ci" cannot patch resource "deployments"', exit: 1 });
  const r = await runSecrets(w, ['--env', 'local', '--secrets-file', writeEnvFile(goodValues()), '--yes']);
  assert.is(r.code, 1, r.output);
  assert.match(r.stderr, /error: could not restart deployment\/todo-frontend after the Secrets changed: Error from server \(Forbidden\)/);
  assert.match(r.stderr, /hint: the new values are applied, .*kubectl rollout restart deployment\/todo-backend -n todo; kubectl rollout restart deployment\/todo-frontend -n todo/);
  assert.is(applies(w).length, 1);
});

test('--help lists the script\'s own flags and the check exit codes', async () => {
  const r = await runSecrets(localWorld(), ['--help']);
  assert.is(r.code, 0);
  for (const f of ['--secrets-file PATH', '--check', '--no-restart', '--dry-run', '--json']) assert.ok(r.stdout.includes(f), f);
  assert.match(r.stdout, /exit 0 when every key in the cluster equals the source, 1 when any is different or missing/);
});

test('lib: findMissingSecrets lists absent Secrets and keys by name; syncSecrets returns changed and restarted', async () => {
  const values = goodValues();
  const w = localWorld({}, [clusterSecret('redpanda-credentials', { username: 'u-1234', password: 'p-12345678' })]);
  const restore = w.activate({ timeScale: 1 });
  try {
    const { ctx, output } = makeContext(join(repoRoot, 'environments', 'local.yaml'), { verbose: true });
    const missing = await findMissingSecrets(ctx.runner, 'todo');
    assert.equal(missing, ['database-credentials/connection-string', 'openai-credentials/api-key', 'auth-credentials/secret', 'redpanda-credentials/bootstrap-servers']);
    // Key names only: with a verbose runner nothing of the existing values was printed.
    assert.not.ok(output().includes('p-12345678') || output().includes(Buffer.from('p-12345678').toString('base64')), output());

    const result = await syncSecrets(ctx, { envFile: writeEnvFile(values), restart: true });
    assert.equal(result.changed, SECRET_CATALOG.map((e) => `${e.secret}/${e.key}`));
    assert.equal(result.restarted, ['todo-backend', 'todo-frontend']);
    assert.equal(await findMissingSecrets(ctx.runner, 'todo'), []);
    const again = await syncSecrets(ctx, { envFile: writeEnvFile(values), restart: true });
    assert.equal([again.changed, again.restarted], [[], []]);
    noValueIn(output(), { ...values, oldUser: 'u-1234', oldPassword: 'p-12345678' });
  } finally {
    restore();
  }
  assert.is(secretNames().length, 4);
});

test.run();
