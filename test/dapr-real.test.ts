// dapr/components and dapr/configuration on a real daprd (built from the pinned github.com/dapr/dapr
// module), against a real Kafka with SASL/SCRAM over TLS and a real PostgreSQL with SSL, all on
// 127.0.0.1. The only change to the manifests is the secret store (a local file instead of
// Kubernetes Secrets), and that change is tested here too. The suite talks to daprd's HTTP API the
// way the backend does: publish, subscribe as app-id todo-backend, save/get/delete state.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { daprdErrors, ensureDaprd, localDaprFiles, pinnedDaprdVersion, startDaprd, writeLocalDapr } from '../scripts/lib/daprd.ts';
import type { Daprd, LocalDaprDir, LocalSecrets } from '../scripts/lib/daprd.ts';
import { ensurePostgres, makeTls, startKafka, startPostgres } from './support/brokers.ts';
import type { Kafka, Postgres, Tls } from './support/brokers.ts';
import { repoRoot } from './support/tools.ts';
import { typeScriptArgs } from '../scripts/lib/typescript-runtime.ts';

const manifests = join(repoRoot, 'dapr');
const work = mkdtempSync(join(tmpdir(), 'dapr-real-'));
let tls: Tls;
let kafka: Kafka;
let pg: Postgres;
let daprdBin: string;
const started: Daprd[] = [];

function secretsFor(user: { username: string; password: string }, overrides: Partial<{ brokers: string }> = {}): LocalSecrets {
  return {
    'redpanda-credentials': { 'bootstrap-servers': overrides.brokers ?? kafka.bootstrap, username: user.username, password: user.password },
    'database-credentials': { 'connection-string': pg.connectionString },
  };
}

/** A copy of dapr/ for one daprd, the pub/sub component's metadata changed by `edit` when given. */
function localCopy(name: string, secrets: LocalSecrets, edit?: Record<string, string>): LocalDaprDir {
  const local = writeLocalDapr(manifests, join(work, name), secrets);
  if (edit) {
    const file = join(local.resourcesPath, 'pubsub-kafka.yaml');
    let text = readFileSync(file, 'utf8');
    for (const [k, v] of Object.entries(edit)) {
      const re = new RegExp(`(- name: ${k}\\n\\s+value: ).*`);
      assert.ok(re.test(text), `pubsub-kafka.yaml has ${k}`);
      text = text.replace(re, `$1${JSON.stringify(v)}`);
    }
    writeFileSync(file, text);
  }
  return local;
}

async function daprd(appId: string, local: LocalDaprDir, appPort?: number): Promise<Daprd> {
  const d = await startDaprd({ binary: daprdBin, appId, local, ...(appPort ? { appPort } : {}), env: { SSL_CERT_FILE: tls.caPem } });
  started.push(d);
  return d;
}

const dump = (d: Daprd) => d.logs().map((l) => l.raw).join('\n');

test.before(async () => {
  tls = makeTls(join(work, 'tls'));
  // The three start together: the daprd build (first run only) overlaps the brokers' start.
  const [k, p, bin] = await Promise.all([startKafka(tls), startPostgres(tls), ensureDaprd(repoRoot, (m) => console.log(m))]);
  kafka = k;
  pg = p;
  daprdBin = bin;
});

test.after(async () => {
  await Promise.all(started.map((d) => d.stop()));
  await Promise.all([kafka?.stop(), pg?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

test('the local copy changes only the secret store: same name and scopes, local file, 0600 secrets; every other file byte for byte', () => {
  const dir = join(work, 'copy');
  const local = writeLocalDapr(manifests, dir, { s: { k: 'v' } });
  const originals = [...readdirSync(join(manifests, 'components')).map((f) => join('components', f)), ...readdirSync(join(manifests, 'configuration')).map((f) => join('configuration', f))];
  let swapped = 0;
  for (const rel of originals) {
    const name = rel.split('/').pop()!;
    const copy = [join(local.resourcesPath, name), join(dir, 'config', name)].find((p) => { try { statSync(p); return true; } catch { return false; } });
    assert.ok(copy, `${rel} copied`);
    const before = readFileSync(join(manifests, rel), 'utf8');
    const after = readFileSync(copy!, 'utf8');
    const doc = parse(before) as { spec?: { type?: string }; metadata: { name: string }; scopes?: string[] };
    if (doc.spec?.type === 'secretstores.kubernetes') {
      swapped++;
      const now = parse(after) as { spec: { type: string; metadata: Array<{ name: string; value: string }> }; metadata: { name: string }; scopes?: string[] };
      assert.is(now.metadata.name, doc.metadata.name);
      assert.equal(now.scopes, doc.scopes);
      assert.is(now.spec.type, 'secretstores.local.file');
      assert.equal(now.spec.metadata, [{ name: 'secretsFile', value: local.secretsFile }, { name: 'multiValued', value: 'true' }]);
    } else {
      assert.is(after, before, `${rel} unchanged`);
    }
  }
  assert.is(swapped, 1);
  assert.is(local.configPath, join(dir, 'config', 'dapr-config.yaml'));
  assert.equal(readdirSync(join(dir, 'config')), ['dapr-config.yaml'], 'no Configuration added to the copy');
  // The one addition, outside the copy: name resolution without multicast, nothing else.
  assert.equal(parse(readFileSync(local.localOnlyConfigPath, 'utf8')), { apiVersion: 'dapr.io/v1alpha1', kind: 'Configuration', metadata: { name: 'local-only' }, spec: { nameResolution: { component: 'kubernetes' } } });
  assert.is(statSync(local.secretsFile).mode & 0o777, 0o600);
  assert.equal(JSON.parse(readFileSync(local.secretsFile, 'utf8')), { s: { k: 'v' } });
  // The Configuration goes to --config, not into --resources-path.
  assert.ok(!localDaprFiles(manifests, 'x').resources.some((f) => f.name === 'dapr-config.yaml'));
});

test('todo-backend: components, resiliency and configuration load with no error; publish reaches the subscription; state saved, read, deleted', async () => {
  const received: unknown[] = [];
  const app: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => { body += d.toString(); });
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'GET' && req.url === '/dapr/subscribe') {
        res.end(JSON.stringify([{ pubsubname: 'task-events-pubsub', topic: 'task-events', route: '/events' }]));
      } else if (req.method === 'POST' && req.url === '/events') {
        received.push(JSON.parse(body));
        res.end(JSON.stringify({ status: 'SUCCESS' }));
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const appPort = (app.address() as { port: number }).port;
  try {
    const d = await daprd('todo-backend', localCopy('backend', secretsFor(kafka.sha256)), appPort);
    assert.is(await d.ready(90_000), 'ready', dump(d));
    // The credentials reach daprd through the 0600 file only: not its argv, not its environment.
    const proc = readFileSync(`/proc/${d.pid}/cmdline`, 'utf8') + readFileSync(`/proc/${d.pid}/environ`, 'utf8');
    for (const secret of [kafka.sha256.password, pg.password]) assert.not.ok(proc.includes(secret), 'a password in daprd\'s argv or environment');
    const base = `http://127.0.0.1:${d.httpPort}/v1.0`;

    const meta = await (await fetch(`${base}/metadata`)).json() as { runtimeVersion?: string; components?: Array<{ name: string; type: string }>; subscriptions?: Array<{ topic: string }> };
    assert.is(meta.runtimeVersion, pinnedDaprdVersion(repoRoot));
    assert.equal((meta.components ?? []).map((c) => `${c.name}=${c.type}`).sort(), ['kubernetes-secrets=secretstores.local.file', 'task-events-pubsub=pubsub.kafka', 'task-state=state.postgresql']);
    assert.ok((meta.subscriptions ?? []).some((s) => s.topic === 'task-events'), JSON.stringify(meta.subscriptions));
    // Resiliency and Configuration: loaded (the sampler has the Configuration's rate), and nothing
    // logged at error level about anything.
    assert.ok(d.logs().some((l) => l.msg === 'Loading Resiliency configuration: todo-resiliency'), dump(d));
    assert.ok(d.logs().some((l) => l.msg.startsWith('Dapr trace sampler initialized: ParentBased{root:TraceIDRatioBased{0.1}')), dump(d));
    // Local runs send nothing beyond 127.0.0.1: no mDNS announcement (LOCAL_ONLY_CONFIG).
    assert.ok(d.logs().some((l) => l.msg === 'Initialized name resolution to kubernetes'), dump(d));
    assert.not.ok(d.logs().some((l) => /mdns|service entry announced/i.test(l.msg)), dump(d));
    assert.equal(daprdErrors(d.logs()).map((l) => l.msg), []);

    // Publish as the backend does; the subscription of todo-backend receives it.
    const id = `task-${Date.now()}`;
    const pub = await fetch(`${base}/publish/task-events-pubsub/task-events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id, event: 'created' }) });
    assert.is(pub.status, 204, await pub.text());
    const deadline = Date.now() + 60_000;
    while (!received.some((e) => (e as { data?: { id?: string } }).data?.id === id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const event = received.find((e) => (e as { data?: { id?: string } }).data?.id === id) as { topic?: string; pubsubname?: string } | undefined;
    assert.ok(event, `no event with id ${id} delivered; got ${JSON.stringify(received)}\n${dump(d)}`);
    assert.is(event!.topic, 'task-events');
    assert.is(event!.pubsubname, 'task-events-pubsub');

    // State: save, read back, see the row in PostgreSQL, delete, gone.
    const key = `k-${Date.now()}`;
    const save = await fetch(`${base}/state/task-state`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ key, value: { title: 'write the tests' } }]) });
    assert.is(save.status, 204, await save.text());
    const got = await fetch(`${base}/state/task-state/${key}`);
    assert.is(got.status, 200);
    assert.equal(await got.json(), { title: 'write the tests' });
    const psql = join(ensurePostgres(), 'psql');
    const rows = () => execFileSync(psql, ['-h', '127.0.0.1', '-p', String(pg.port), '-U', pg.user, '-d', pg.database, '-Atc', 'select key from dapr_state'], {
      env: { ...process.env, PGPASSWORD: pg.password, PGSSLMODE: 'require' },
    }).toString().trim().split('\n');
    assert.ok(rows().includes(`todo-backend||${key}`), rows().join(','));
    const del = await fetch(`${base}/state/task-state/${key}`, { method: 'DELETE' });
    assert.is(del.status, 204);
    assert.is((await fetch(`${base}/state/task-state/${key}`)).status, 204, 'deleted: no content');
    assert.ok(!rows().includes(`todo-backend||${key}`));
    for (const secret of [kafka.sha256.password, pg.password]) assert.not.ok(dump(d).includes(secret), 'a password in daprd\'s log');
  } finally {
    app.close();
  }
});

test('scopes hold: a sidecar with another app-id loads none of the scoped components', async () => {
  const d = await daprd('other-app', localCopy('other', secretsFor(kafka.sha256)));
  assert.is(await d.ready(90_000), 'ready', dump(d));
  const meta = await (await fetch(`http://127.0.0.1:${d.httpPort}/v1.0/metadata`)).json() as { components?: Array<{ name: string }> };
  assert.equal((meta.components ?? []).map((c) => c.name), []);
  const pub = await fetch(`http://127.0.0.1:${d.httpPort}/v1.0/publish/task-events-pubsub/task-events`, { method: 'POST', body: '{}' });
  assert.is(pub.status, 404);
  await d.stop();
});

/** Starts a todo-backend sidecar with a broken pub/sub and returns daprd's error lines once it gave up. */
async function failing(name: string, secrets: LocalSecrets, edit?: Record<string, string>): Promise<string> {
  const d = await daprd('todo-backend', localCopy(name, secrets, edit));
  const outcome = await d.ready(120_000);
  await d.stop();
  assert.is(outcome, 'exited', `${name}: daprd started although it should not have:\n${dump(d)}`);
  // Whatever went wrong, no credential reached daprd's log.
  for (const secret of [kafka.sha256.password, pg.password, 'not-the-password']) assert.not.ok(dump(d).includes(secret), `${name}: a password in daprd's log`);
  return daprdErrors(d.logs()).map((l) => l.msg).join('\n');
}

// What daprd 1.18 says, word for word; docs/troubleshooting.md quotes the same text.
const FATAL = 'Fatal error from runtime: process component task-events-pubsub error: [INIT_COMPONENT_FAILURE]: initialization error occurred for task-events-pubsub (pubsub.kafka/v1): ';
const EXPECTED: Record<string, RegExp> = {
  'authtype-sasl': /kafka error: invalid value for 'authType' attribute$/m,
  // PLAIN against a SCRAM-only listener: the broker hangs up, and the client says only this.
  plain: /failed to get latest Kafka clients for initialization: kafka: client has run out of available brokers to talk to$/m,
  'wrong-password': /failed to get latest Kafka clients for initialization: kafka: client has run out of available brokers to talk to: kafka server: SASL Authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256$/m,
  'tls-off': /failed to get latest Kafka clients for initialization: kafka: client has run out of available brokers to talk to: unexpected EOF$/m,
  'wrong-brokers': /failed to get latest Kafka clients for initialization: kafka: client has run out of available brokers to talk to: dial tcp 127\.0\.0\.1:\d+: connect: connection refused$/m,
};

test('negative, on the same broker: the plan\'s authType sasl, saslMechanism PLAIN, a wrong password, TLS off, a wrong address each stop daprd with the error the troubleshooting page quotes', async () => {
  const closed = await (await import('./support/brokers.ts')).freePort();
  const names = Object.keys(EXPECTED);
  const results = await Promise.all([
    failing('authtype-sasl', secretsFor(kafka.sha256), { authType: 'sasl' }),
    failing('plain', secretsFor(kafka.sha256), { saslMechanism: 'PLAIN' }),
    failing('wrong-password', secretsFor({ username: kafka.sha256.username, password: 'not-the-password' })),
    failing('tls-off', secretsFor(kafka.sha256), { disableTls: 'true' }),
    failing('wrong-brokers', secretsFor(kafka.sha256, { brokers: `127.0.0.1:${closed}` })),
  ]);
  const doc = readFileSync(join(repoRoot, 'docs', 'troubleshooting.md'), 'utf8');
  assert.ok(doc.includes(FATAL.trim().replace(/: $/, '')), 'troubleshooting.md quotes the fatal line');
  for (const [i, r] of results.entries()) {
    const name = names[i]!;
    assert.ok(r.includes(FATAL), `${name}:\n${r}`);
    assert.match(r, EXPECTED[name]!, `${name}:\n${r}`);
    // The distinguishing end of the line, as the troubleshooting page quotes it.
    const tail = EXPECTED[name]!.exec(r)![0].replace(/^failed to get latest Kafka clients for initialization: /, '').replace(/dial tcp .*/, 'dial tcp');
    assert.ok(doc.includes(tail), `docs/troubleshooting.md does not quote: ${tail}`);
  }
});

test('SCRAM-SHA-512: saslMechanism SHA-512 with a SHA-512 user connects; the SHA-256 setting with that user is refused', async () => {
  const d = await daprd('todo-backend', localCopy('sha512', secretsFor(kafka.sha512), { saslMechanism: 'SHA-512' }));
  const ok = await d.ready(90_000);
  await d.stop();
  assert.is(ok, 'ready', dump(d));
  const errors = await failing('sha256-with-512-user', secretsFor(kafka.sha512));
  assert.match(errors, /SASL Authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256$/m);
});

test('negative: the state store without TLS (sslmode=disable) is refused by a server that requires it, and daprd stops', async () => {
  const secrets = secretsFor(kafka.sha256);
  secrets['database-credentials']!['connection-string'] = pg.connectionString.replace('sslmode=require', 'sslmode=disable');
  const errors = await failing('pg-no-ssl', secrets);
  const fatal = /^Fatal error from runtime: process component task-state error: \[INIT_COMPONENT_FAILURE\]: initialization error occurred for task-state \(state\.postgresql\/v1\): .*failed to ping the database: failed to connect to `user=todo database=todo`: 127\.0\.0\.1:\d+ \(127\.0\.0\.1\): server error: FATAL: pg_hba\.conf rejects connection for host "127\.0\.0\.1", user "todo", database "todo", no encryption \(SQLSTATE 28000\)$/m;
  assert.match(errors, fatal);
  const doc = readFileSync(join(repoRoot, 'docs', 'troubleshooting.md'), 'utf8');
  assert.ok(doc.includes('initialization error occurred for task-state (state.postgresql/v1): failed to ping the database: failed to connect to `user='), 'troubleshooting.md quotes it');
});

/** Runs install-dapr --verify-components with a .env of the given values; its output and exit code. */
function verifyRun(values: Record<string, string>, extra: string[] = []): { code: number; out: string } {
  const dir = mkdtempSync(join(work, 'env-'));
  const file = join(dir, '.env');
  writeFileSync(file, Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', { mode: 0o600 });
  const before = readdirSync(tmpdir()).filter((f) => f.startsWith('verify-components-')).length;
  const r = spawnSync(process.execPath, [...typeScriptArgs(), join(repoRoot, 'scripts', 'install-dapr.mts'), '--env', 'local', '--verify-components', '--secrets-file', file, ...extra], {
    cwd: repoRoot, encoding: 'utf8', timeout: 300_000,
    // Only the test CA: the broker's certificate is signed by it, as Redpanda Cloud's is by a public CA.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', SSL_CERT_FILE: tls.caPem, NO_COLOR: '1' },
  });
  assert.is(readdirSync(tmpdir()).filter((f) => f.startsWith('verify-components-')).length, before, 'the folder with the secrets file is removed');
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

function dotenv(password: string): Record<string, string> {
  return {
    DATABASE_URL: `postgresql://${pg.user}:${pg.password}@127.0.0.1:${pg.port}/${pg.database}?sslmode=require`,
    OPENAI_API_KEY: 'sk-proj-CANARYopenaiverify7Vb2Lq9Wm4Zr8Tn1TestOnlyk5Pd0',
    BETTER_AUTH_SECRET: 'CANARYauthverify-Hp3Jd8Ks0Lw5Nq2Rt7Vx9Yz4',
    REDPANDA_BOOTSTRAP_SERVERS: kafka.bootstrap,
    REDPANDA_SASL_USERNAME: kafka.sha256.username,
    REDPANDA_SASL_PASSWORD: password,
  };
}

test('install-dapr --verify-components: with good credentials every check passes; the secrets reach neither output nor argv', () => {
  const r = verifyRun(dotenv(kafka.sha256.password));
  assert.is(r.code, 0, r.out);
  assert.match(r.out, /ok {4} daprd loads the components: daprd 1\.18\.\d+: /);
  assert.match(r.out, /ok {4} publish one event to task-events: task-events-pubsub accepted it/);
  assert.match(r.out, /ok {4} write and delete one key in task-state: wrote, read back and deleted verify-components-[0-9a-f]+/);
  assert.match(r.out, /install-dapr: --verify-components: the components load on daprd, publish to Redpanda and read and write Neon \(3 checks ok\)/);
  for (const secret of [kafka.sha256.password, pg.password, 'CANARY']) assert.not.ok(r.out.includes(secret), `leaked: ${secret}`);
});

test('install-dapr --verify-components --manifests /absolute/path: daprd runs the folder that was validated', () => {
  const dir = mkdtempSync(join(work, 'manifests-'));
  cpSync(join(repoRoot, 'dapr'), dir, { recursive: true });
  const r = verifyRun(dotenv(kafka.sha256.password), ['--manifests', dir]);
  assert.is(r.code, 0, r.out);
  assert.match(r.out, /install-dapr: --verify-components: the components load on daprd, publish to Redpanda and read and write Neon \(3 checks ok\)/);
});

test('install-dapr --verify-components: a wrong Redpanda password fails (exit 1) with daprd\'s SASL error, redacted', () => {
  const r = verifyRun(dotenv('CANARYwrongpassZt8Wq3'));
  assert.is(r.code, 1, r.out);
  assert.match(r.out, /FAILED daprd loads the components: .*SASL Authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256/);
  assert.match(r.out, /install-dapr: --verify-components FAILED: daprd loads the components/);
  for (const secret of [pg.password, 'CANARY']) assert.not.ok(r.out.includes(secret), `leaked: ${secret}`);
});

test.run();
