// secrets.mts against the fake kubectl: apply, idempotence, restarts of exactly the consumers of a
// changed value, --check, --dry-run, the context guard; findMissingSecrets and syncSecrets for deploy.mts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SECRET_CATALOG, secretNames } from '../scripts/lib/secret-catalog.ts';
import { findMissingSecrets, syncSecrets, HASH_ANNOTATION, sha256 } from '../scripts/lib/secrets.ts';
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

test('happy path: four Secrets created from .env through stdin, every consumer restarted and awaited', async () => {
  const values = goodValues();
  const w = localWorld();
  const r = await runSecrets(w, ['--env', 'local', '--secrets-file', writeEnvFile(values), '--yes']);
  assert.is(r.code, 0, r.output);

  // The context guard came before anything else.
  assert.equal(w.calls[0]!.args, ['config', 'current-context']);
  // One apply, on stdin, with the namespace; the values are in the cluster.
  const [apply, ...more] = applies(w);
  assert.is(more.length, 0);
  assert.equal(apply!.args, ['apply', '-n', 'todo', '-f', '-']);
  for (const e of SECRET_CATALOG) assert.is(secretData(w, e.secret)?.[e.key], values[e.envVar], `${e.secret}/${e.key}`);
  const db = w.state().kube!.objects!['Secret/todo/database-credentials'] as { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; type: string };
  assert.is(db.type, 'Opaque');
  assert.is(db.metadata.labels['app.kubernetes.io/managed-by'], 'aks-todo-ops');
  assert.equal(JSON.parse(db.metadata.annotations[HASH_ANNOTATION]!), { 'connection-string': sha256(values.DATABASE_URL!) });

  // Consumers restarted once each (deduplicated) and awaited with the environment's rollout timeout.
  assert.equal(restarts(w), ['deployment/todo-backend', 'deployment/todo-frontend']);
  const statuses = w.calls.filter((c) => c.args[0] === 'rollout' && c.args[1] === 'status').map(line);
  assert.equal(statuses, ['kubectl rollout status deployment/todo-backend -n todo --timeout=180s', 'kubectl rollout status deployment/todo-frontend -n todo --timeout=180s']);
  const lastRestart = w.calls.findLastIndex((c) => c.args[1] === 'restart');
  assert.ok(w.calls.findIndex((c) => c.args[1] === 'status') > lastRestart, 'awaited after restarting');

  // Output names sources and Secrets, never values.
  assert.match(r.stdout, /source: DATABASE_URL from .*\.env:1/);
  assert.match(r.stdout, /create secret\/redpanda-credentials in todo \(keys: bootstrap-servers, username, password\)/);
  assert.match(r.stdout, /secret\/database-credentials created/);
  assert.match(r.stdout.trim().split('\n').pop()!, /^secrets: applied 6 keys .* to 4 Secret\(s\) in todo; restarted todo-backend, todo-frontend$/);
  noValueIn(r.output, values);
  for (const c of w.calls) noValueIn(c.args.join(' '), values);
});

test('a SASL user name that is an ordinary word ("backend") does not block commands naming todo-backend', async () => {
  const values = { ...goodValues(), REDPANDA_SASL_USERNAME: 'backend' };
  const w = localWorld();
  const r = await runSecrets(w, ['--env', 'local', '--secrets-file', writeEnvFile(values), '--yes']);
  assert.is(r.code, 0, r.output);
  assert.equal(restarts(w), ['deployment/todo-backend', 'deployment/todo-frontend']);
  assert.is(secretData(w, 'redpanda-credentials')?.username, 'backend');
});

test('idempotent: a re-run with the same values applies nothing and restarts nothing', async () => {
  const values = goodValues();
  const env = writeEnvFile(values);
  const w = localWorld();
  assert.is((await runSecrets(w, ['--env', 'local', '--secrets-file', env, '--yes'])).code, 0);
  const before = w.calls.length;
  // No --yes: nothing changes, so nothing needs confirming.
  const r = await runSecrets(w, ['--env', 'local', '--secrets-file', env]);
  assert.is(r.code, 0, r.output);
  const second = w.calls.slice(before);
  assert.is(second.filter((c) => c.args[0] === 'apply' || c.args[0] === 'rollout').length, 0, second.map(line).join('\n'));
  assert.match(r.stdout, /keep {3}secret\/database-credentials \(unchanged\)/);
  assert.match(r.stdout, /secrets: all 6 keys in todo already up to date; nothing applied, nothing restarted/);
});

test('one changed value: only its Secret is applied and only its consumers restart', async () => {
  const values = goodValues();
  const w = localWorld();
  assert.is((await runSecrets(w, ['--env', 'local', '--secrets-file', writeEnvFile(values), '--yes'])).code, 0);

  // OPENAI_API_KEY is read by the backend only.
  const before = w.calls.length;
  const rotated = { ...values, OPENAI_API_KEY: 'sk-proj-R0tated9Kq2Xw7Ln4Pz8Vb3Mc6TestOnlyHj1Sd5Gf0Ua2' };
  const r = await runSecrets(w, ['--env', 'local', '--secrets-file', writeEnvFile(rotated), '--yes']);
  assert.is(r.code, 0, r.output);
  const calls = w.calls.slice(before);
  const apply = calls.filter((c) => c.args[0] === 'apply');
  assert.is(apply.length, 1);
  const items = (JSON.parse(apply[0]!.stdin) as { items: Array<{ metadata: { name: string } }> }).items.map((i) => i.metadata.name);
  assert.equal(items, ['openai-credentials']);
  assert.equal(calls.filter((c) => c.args[1] === 'restart').map((c) => c.args[2]), ['deployment/todo-backend']);
  assert.is(secretData(w, 'openai-credentials')?.['api-key'], rotated.OPENAI_API_KEY);
  assert.match(r.stdout, /update secret\/openai-credentials in todo \(changed: api-key\)/);
  assert.match(r.stdout, /applied 1 key \(openai-credentials\/api-key\) .*; restarted todo-backend$/m);

  // BETTER_AUTH_SECRET is read by both; --no-restart restarts neither and says so.
  const mid = w.calls.length;
  const again = { ...rotated, BETTER_AUTH_SECRET: 'rotated-auth-secret-0123456789abcdefghij' };
  const r2 = await runSecrets(w, ['--env', 'local', '--secrets-file', writeEnvFile(again), '--yes', '--no-restart']);
  assert.is(r2.code, 0, r2.output);
  assert.is(w.calls.slice(mid).filter((c) => c.args[0] === 'rollout').length, 0);
  assert.match(r2.stdout, /--no-restart: todo-backend, todo-frontend still run with the old values/);
  const mid2 = w.calls.length;
  // The next run without --no-restart finds nothing changed, so it cannot restart either: the docs say to restart by hand.
  assert.is((await runSecrets(w, ['--env', 'local', '--secrets-file', writeEnvFile(again)])).code, 0);
  assert.is(w.calls.slice(mid2).filter((c) => c.args[0] === 'rollout').length, 0);
});

test('a consumer that is not deployed yet is skipped, not an error; a missing namespace is created first', async () => {
  const w = localWorld({ kube: { context: 'minikube', objects: [] } });
  const r = await runSecrets(w, ['--env', 'local', '--secrets-file', writeEnvFile(goodValues()), '--yes']);
  assert.is(r.code, 0, r.output);
  assert.is(restarts(w).length, 0);
  assert.match(r.stdout, /deployment\/todo-backend is not deployed in todo yet/);
  const kubectl = w.calls.filter((c) => c.tool === 'kubectl').map((c) => c.args.join(' '));
  const created = kubectl.indexOf('create namespace todo');
  assert.ok(created >= 0 && created < kubectl.indexOf('apply -n todo -f -'), kubectl.join('\n'));
  assert.ok(w.state().kube!.objects!['Namespace//todo'], 'the namespace exists afterwards');
});

test('--check: missing / equal / different per key, no value, no change; exit 0 only when all equal', async () => {
  const values = goodValues();
  const w = localWorld({}, [
    clusterSecret('database-credentials', { 'connection-string': values.DATABASE_URL! }),
    clusterSecret('openai-credentials', { 'api-key': 'sk-proj-oldoldoldoldoldoldoldoldold0000' }),
    clusterSecret('redpanda-credentials', { username: values.REDPANDA_SASL_USERNAME!, password: values.REDPANDA_SASL_PASSWORD! }),
  ]);
  const env = writeEnvFile(values);
  const r = await runSecrets(w, ['--env', 'local', '--secrets-file', env, '--check']);
  assert.is(r.code, 1, r.output);
  assert.match(r.stdout, /^equal +database-credentials\/connection-string +<- DATABASE_URL from .*\.env:1$/m);
  assert.match(r.stdout, /^different +openai-credentials\/api-key +<- OPENAI_API_KEY/m);
  assert.match(r.stdout, /^missing +auth-credentials\/secret/m);
  assert.match(r.stdout, /^missing +redpanda-credentials\/bootstrap-servers/m);
  assert.match(r.stdout, /^equal +redpanda-credentials\/password/m);
  assert.match(r.stdout, /secrets: check: 1 different, 2 missing of 6 keys in todo \(openai-credentials\/api-key, auth-credentials\/secret, redpanda-credentials\/bootstrap-servers\)/);
  assert.equal(mutatingCalls(w), []);
  noValueIn(r.output, { ...values, old: 'sk-proj-oldoldoldoldoldoldoldoldold0000' });

  const j = await runSecrets(w, ['--env', 'local', '--secrets-file', env, '--check', '--json']);
  assert.is(j.code, 1);
  const doc = JSON.parse(j.stdout) as { mode: string; keys: Array<{ secret: string; key: string; status: string; source: string }> };
  assert.is(doc.mode, 'check');
  assert.equal(doc.keys.map((k) => `${k.secret}/${k.key}=${k.status}`), [
    'database-credentials/connection-string=equal', 'openai-credentials/api-key=different', 'auth-credentials/secret=missing',
    'redpanda-credentials/bootstrap-servers=missing', 'redpanda-credentials/username=equal', 'redpanda-credentials/password=equal',
  ]);
  assert.ok(doc.keys.every((k) => k.source === 'dotenv'));

  // After an apply, the check passes with exit 0.
  assert.is((await runSecrets(w, ['--env', 'local', '--secrets-file', env, '--yes'])).code, 0);
  const ok = await runSecrets(w, ['--env', 'local', '--secrets-file', env, '--check']);
  assert.is(ok.code, 0, ok.output);
  assert.match(ok.stdout, /secrets: check: all 6 keys in todo equal the sources/);
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
