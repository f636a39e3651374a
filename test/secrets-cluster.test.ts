// secrets.mts against the real API server (the test cluster, support/cluster.ts) with real kubectl:
// a missing namespace created, the Secrets applied on stdin and read back, idempotence, exactly the
// consumers of a changed value restarted (the Deployment controller's restartedAt) and awaited, and
// --check. What a cluster cannot produce on demand (a Forbidden restart, a rollout past its deadline,
// the wrong context) stays in secrets.test.ts on the fake kubectl.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SECRET_CATALOG } from '../scripts/lib/secret-catalog.ts';
import { HASH_ANNOTATION, sha256 } from '../scripts/lib/secrets.ts';
import { ClusterNamespace, testCluster } from './support/cluster.ts';
import type { RecordedCall, TestCluster } from './support/cluster.ts';
import { goodValues, withRotatedOpenAiKey, writeEnvFile } from './support/secrets.ts';
import type { Values } from './support/secrets.ts';

let cluster: TestCluster;
let ns: ClusterNamespace;
test.before(async () => {
  cluster = await testCluster();
  ns = new ClusterNamespace(cluster, 'secrets');
});
test.after(async () => { await cluster.stop(); });

interface SecretJson { type: string; data: Record<string, string>; metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } }
interface DeploymentJson { spec: { template: { metadata?: { annotations?: Record<string, string> } } } }

const secretValue = async (secret: string, key: string) => Buffer.from((await ns.getJson<SecretJson>(['secret', secret])).data[key] ?? '', 'base64').toString();
const restartedAt = async (name: string) => (await ns.getJson<DeploymentJson>(['deployment', name])).spec.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'];
const kubectlCalls = (calls: RecordedCall[]) => calls.filter((c) => c.tool === 'kubectl').map((c) => c.args.join(' '));
const changes = (calls: RecordedCall[]) => kubectlCalls(calls).filter((c) => /^(apply|create|delete|patch|rollout restart)\b/.test(c));
/** The Secret names an apply sent on stdin. */
const appliedSecrets = (calls: RecordedCall[]) => calls.filter((c) => c.args[0] === 'apply').flatMap((c) => (JSON.parse(c.stdin) as { items: Array<{ metadata: { name: string } }> }).items.map((i) => i.metadata.name));
function noValueIn(text: string, values: Values): void {
  for (const [k, v] of Object.entries(values)) {
    assert.not.ok(text.includes(v), `${k} value printed`);
    assert.not.ok(text.includes(Buffer.from(v).toString('base64')), `${k} base64 printed`);
  }
}

/** The chart's two consumers, as small Deployments kwok runs. */
const consumers = ['todo-backend', 'todo-frontend'].map((name) => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, labels: { 'app.kubernetes.io/name': name } },
  spec: {
    replicas: 1, selector: { matchLabels: { 'app.kubernetes.io/name': name } },
    template: { metadata: { labels: { 'app.kubernetes.io/name': name } }, spec: { containers: [{ name: name.replace('todo-', ''), image: `rehearsal.invalid/${name}:1` }] } },
  },
}));

const values = goodValues();
const rotated = withRotatedOpenAiKey(values);

test('a namespace that does not exist is created first; the four Secrets go to kubectl on stdin and the API server stores every value; consumers not deployed yet are skipped', async () => {
  const r = await ns.run('secrets', ['--secrets-file', writeEnvFile(values), '--yes']);
  assert.is(r.code, 0, r.output);
  const calls = kubectlCalls(r.calls);
  assert.is(calls[0], 'config current-context', 'the context guard first');
  const created = calls.indexOf(`create namespace ${ns.namespace}`);
  const applied = calls.indexOf(`apply -n ${ns.namespace} -f -`);
  assert.ok(created > 0 && applied > created, calls.join('\n'));
  assert.equal(appliedSecrets(r.calls), ['database-credentials', 'openai-credentials', 'auth-credentials', 'redpanda-credentials']);
  for (const e of SECRET_CATALOG) assert.is(await secretValue(e.secret, e.key), values[e.envVar], `${e.secret}/${e.key}`);
  const db = await ns.getJson<SecretJson>(['secret', 'database-credentials']);
  assert.is(db.type, 'Opaque');
  assert.is(db.metadata.labels?.['app.kubernetes.io/managed-by'], 'aks-todo-ops');
  assert.equal(JSON.parse(db.metadata.annotations?.[HASH_ANNOTATION] ?? '{}'), { 'connection-string': sha256(values.DATABASE_URL!) });
  assert.match(r.stdout, new RegExp(`deployment/todo-backend is not deployed in ${ns.namespace} yet`));
  assert.not.ok(calls.some((c) => c.startsWith('rollout')), 'nothing to restart');
  noValueIn(r.output, values);
  for (const c of r.calls) noValueIn(c.args.join(' '), values);
});

test('with the consumers deployed: the same values change nothing; one changed value applies only its Secret and restarts only its consumer, awaited; --no-restart restarts none', async () => {
  await ns.apply(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: consumers }));
  const again = await ns.run('secrets', ['--secrets-file', writeEnvFile(values)]);
  assert.is(again.code, 0, again.output);
  assert.equal(changes(again.calls), [], 'no --yes needed: nothing changes');
  assert.match(again.stdout, new RegExp(`secrets: all 6 keys in ${ns.namespace} already up to date; nothing applied, nothing restarted`));

  // OPENAI_API_KEY is read by the backend only.
  const r = await ns.run('secrets', ['--secrets-file', writeEnvFile(rotated), '--yes']);
  assert.is(r.code, 0, r.output);
  assert.equal(appliedSecrets(r.calls), ['openai-credentials']);
  assert.equal(changes(r.calls), [`apply -n ${ns.namespace} -f -`, `rollout restart deployment/todo-backend -n ${ns.namespace}`]);
  const calls = kubectlCalls(r.calls);
  assert.ok(calls.indexOf(`rollout status deployment/todo-backend -n ${ns.namespace} --timeout=60s`) > calls.indexOf(`rollout restart deployment/todo-backend -n ${ns.namespace}`), 'awaited after the restart');
  assert.ok(await restartedAt('todo-backend'), 'the backend\'s pod template was restarted');
  assert.is(await restartedAt('todo-frontend'), undefined, 'the frontend reads no changed value');
  assert.is(await secretValue('openai-credentials', 'api-key'), rotated.OPENAI_API_KEY);
  assert.match(r.stdout, /applied 1 key \(openai-credentials\/api-key\) .*; restarted todo-backend$/m);

  // Two changed values read by the backend (one of them by the frontend too): each consumer restarts once.
  const both = { ...values, BETTER_AUTH_SECRET: 'rotated-auth-secret-0123456789abcdefghij' };
  const twice = await ns.run('secrets', ['--secrets-file', writeEnvFile(both), '--yes']);
  assert.is(twice.code, 0, twice.output);
  assert.equal(appliedSecrets(twice.calls), ['openai-credentials', 'auth-credentials']);
  assert.equal(changes(twice.calls), [`apply -n ${ns.namespace} -f -`, `rollout restart deployment/todo-backend -n ${ns.namespace}`, `rollout restart deployment/todo-frontend -n ${ns.namespace}`]);
  assert.ok(await restartedAt('todo-frontend'));

  // --no-restart restarts nothing and says who still runs the old values.
  const quiet = await ns.run('secrets', ['--secrets-file', writeEnvFile({ ...both, DATABASE_URL: values.DATABASE_URL!.replace('todo?', 'todo2?') }), '--yes', '--no-restart']);
  assert.is(quiet.code, 0, quiet.output);
  assert.equal(changes(quiet.calls), [`apply -n ${ns.namespace} -f -`]);
  assert.match(quiet.stdout, /\(--no-restart: todo-backend[a-z, -]* still run with the old values\)/);
  noValueIn(r.output + twice.output + quiet.output, both);
});

test('--check reads the cluster: equal, different and missing per key, exit 1 and no change; after an apply, exit 0', async () => {
  // The cluster now holds another auth secret and database URL; one Secret goes missing.
  assert.is((await ns.kubectl(['delete', 'secret', 'redpanda-credentials', '-n', ns.namespace])).code, 0);
  const env = writeEnvFile(values);
  const r = await ns.run('secrets', ['--secrets-file', env, '--check', '--json']);
  assert.is(r.code, 1, r.output);
  const doc = JSON.parse(r.stdout) as { mode: string; keys: Array<{ secret: string; key: string; status: string }> };
  assert.is(doc.mode, 'check');
  assert.equal(doc.keys.map((k) => `${k.secret}/${k.key}=${k.status}`), [
    'database-credentials/connection-string=different', 'openai-credentials/api-key=equal', 'auth-credentials/secret=different',
    'redpanda-credentials/bootstrap-servers=missing', 'redpanda-credentials/username=missing', 'redpanda-credentials/password=missing',
  ]);
  assert.equal(changes(r.calls), []);
  noValueIn(r.output, { ...values, ...rotated });

  assert.is((await ns.run('secrets', ['--secrets-file', env, '--yes'])).code, 0);
  const ok = await ns.run('secrets', ['--secrets-file', env, '--check']);
  assert.is(ok.code, 0, ok.output);
  assert.match(ok.stdout, new RegExp(`secrets: check: all 6 keys in ${ns.namespace} equal the sources`));
});

test.run();
