// dapr/: the real manifests pass scripts/lib/dapr-components.ts; mutated copies fail with the right problem;
// the manifests agree with the chart and the secret catalog.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DAPR_METADATA, loadDaprManifests, validateDaprManifests, type DaprManifest, type DaprProblem } from '../scripts/lib/dapr-components.ts';
import { parseDuration } from '../scripts/lib/clock.ts';
import { OpsError } from '../scripts/lib/errors.ts';
import { SECRET_CATALOG } from '../scripts/lib/secret-catalog.ts';
import { repoRoot } from './support/tools.ts';

const daprDir = join(repoRoot, 'dapr');
const real = loadDaprManifests(daprDir);

interface Entry { name: string; value?: unknown; secretKeyRef?: { name: string; key: string } }
interface ComponentDoc { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec: { type: string; version: string; metadata: Entry[] }; auth?: { secretStore: string }; scopes?: string[] }

const byName = (name: string): DaprManifest => {
  const m = real.find((x) => (x.doc as ComponentDoc).metadata.name === name);
  if (!m) throw new Error(`no manifest named ${name}`);
  return m;
};
/** A copy of all manifests with one document changed. */
const mutate = (name: string, change: (d: ComponentDoc) => void): DaprManifest[] =>
  real.map((m) => {
    const doc = structuredClone(m.doc) as ComponentDoc;
    if (doc.metadata.name === name) change(doc);
    return { ...m, doc };
  });
const entry = (d: ComponentDoc, name: string): Entry => {
  const e = d.spec.metadata.find((x) => x.name === name);
  if (!e) throw new Error(`no ${name}`);
  return e;
};
const only = (problems: DaprProblem[], field: string): DaprProblem => {
  const p = problems.filter((x) => x.field === field);
  assert.is(p.length, 1, `expected one problem on ${field}, got ${JSON.stringify(problems, null, 1)}`);
  return p[0]!;
};

test('the real dapr/ manifests load (5 objects) and pass the validator with no problem', () => {
  assert.equal(real.map((m) => m.file), [
    'components/pubsub-kafka.yaml', 'components/secrets-kubernetes.yaml', 'components/statestore-postgres.yaml',
    'configuration/dapr-config.yaml', 'configuration/resiliency.yaml',
  ]);
  assert.equal(validateDaprManifests(real), []);
});

test('the field table names its components-contrib source and commit for each component', () => {
  for (const key of ['pubsub.kafka/v1', 'state.postgresql/v1', 'state.postgresql/v2', 'secretstores.kubernetes/v1']) {
    const c = DAPR_METADATA.components[key];
    assert.ok(c, key);
    assert.match(c.source, /^dapr\/components-contrib \S+metadata\.yaml @ [0-9a-f]{40}$/);
  }
});

test('an unknown metadata field is reported with the likely intended name', () => {
  const p = only(validateDaprManifests(mutate('task-events-pubsub', (d) => { entry(d, 'consumerGroup').name = 'consumerGroupID'; })), 'consumerGroupID');
  assert.match(p.message, /unknown metadata field "consumerGroupID" for pubsub\.kafka v1/);
  assert.match(p.fix, /did you mean "consumerGroup"/);
  assert.is(p.file, 'components/pubsub-kafka.yaml');
  assert.is(p.component, 'Component/task-events-pubsub');
});

test('a v1-only field on state.postgresql v2 is unknown (the table is per version)', () => {
  const problems = validateDaprManifests(mutate('task-state', (d) => { d.spec.version = 'v2'; }));
  assert.match(only(problems, 'tableName').message, /unknown metadata field "tableName" for state\.postgresql v2/);
});

for (const mech of ['PLAIN', 'SCRAM-SHA-256', 'sha-256', 'PLAINTEXT']) {
  test(`saslMechanism ${mech} is refused: Dapr would silently use PLAIN`, () => {
    const p = validateDaprManifests(mutate('task-events-pubsub', (d) => { entry(d, 'saslMechanism').value = mech; })).filter((x) => x.field === 'saslMechanism');
    assert.ok(p.some((x) => /silently falls back to PLAIN/.test(x.message)), JSON.stringify(p));
    assert.ok(p.every((x) => /SHA-256 or SHA-512|one of/.test(x.fix)));
  });
}

test('saslMechanism SHA-512 is accepted', () => {
  assert.equal(validateDaprManifests(mutate('task-events-pubsub', (d) => { entry(d, 'saslMechanism').value = 'SHA-512'; })), []);
});

test('authType "sasl" (the plan\'s value) is refused with the Dapr value to use', () => {
  const problems = validateDaprManifests(mutate('task-events-pubsub', (d) => { entry(d, 'authType').value = 'sasl'; }));
  const p = problems.filter((x) => x.field === 'authType');
  assert.ok(p.some((x) => /"sasl" is not a Dapr authType/.test(x.message) && /authType: password/.test(x.fix)), JSON.stringify(p));
});

test('a literal saslPassword is refused: sensitive fields only through secretKeyRef', () => {
  const p = only(validateDaprManifests(mutate('task-events-pubsub', (d) => {
    const e = entry(d, 'saslPassword');
    delete e.secretKeyRef;
    e.value = 'not-a-real-password';
  })), 'saslPassword');
  assert.match(p.message, /sensitive field "saslPassword" is given as a literal value/);
  assert.match(p.fix, /secretKeyRef/);
});

test('a literal connectionString is refused too', () => {
  const p = only(validateDaprManifests(mutate('task-state', (d) => {
    const e = entry(d, 'connectionString');
    delete e.secretKeyRef;
    e.value = 'host=localhost';
  })), 'connectionString');
  assert.match(p.message, /sensitive field/);
});

test('a missing required field is reported: brokers (pub/sub) and connectionString (state store)', () => {
  const p1 = only(validateDaprManifests(mutate('task-events-pubsub', (d) => { d.spec.metadata = d.spec.metadata.filter((e) => e.name !== 'brokers'); })), 'brokers');
  assert.match(p1.message, /required field "brokers" is missing/);
  const p2 = only(validateDaprManifests(mutate('task-state', (d) => { d.spec.metadata = d.spec.metadata.filter((e) => e.name !== 'connectionString'); })), 'connectionString');
  assert.match(p2.message, /required field "connectionString" is missing \(authentication profile "Connection string"\)/);
  const p3 = only(validateDaprManifests(mutate('task-events-pubsub', (d) => { d.spec.metadata = d.spec.metadata.filter((e) => e.name !== 'saslUsername'); })), 'saslUsername');
  assert.match(p3.message, /authentication profile "SASL Authentication"/);
});

test('a value outside the allowed values is refused (queryExecMode)', () => {
  const p = only(validateDaprManifests(mutate('task-state', (d) => { entry(d, 'queryExecMode').value = 'pgbouncer'; })), 'queryExecMode');
  assert.match(p.message, /not one of .*simple_protocol/);
});

test('metadata.namespace, a missing auth.secretStore and an unknown type are each reported', () => {
  assert.match(only(validateDaprManifests(mutate('task-state', (d) => { d.metadata.namespace = 'default'; })), 'metadata.namespace').fix, /-n <namespace>/);
  assert.match(only(validateDaprManifests(mutate('task-state', (d) => { delete d.auth; })), 'auth.secretStore').message, /auth\.secretStore is not set/);
  assert.match(only(validateDaprManifests(mutate('task-state', (d) => { d.spec.version = 'v3'; })), 'spec.type').message, /no field table for state\.postgresql v3/);
});

test('a Resiliency target naming a component that does not exist is reported', () => {
  const problems = validateDaprManifests(real.map((m) => {
    const doc = structuredClone(m.doc) as { kind: string; spec: { targets: { components: Record<string, unknown> } } };
    if (doc.kind === 'Resiliency') {
      doc.spec.targets.components['task-statestore'] = doc.spec.targets.components['task-state'];
      delete doc.spec.targets.components['task-state'];
    }
    return { ...m, doc };
  }));
  assert.match(only(problems, 'spec.targets.components.task-statestore').message, /no Component in these manifests defines/);
});

test('the plan\'s own pub/sub component is caught on every point components-contrib\'s metadata rules out', () => {
  const plan = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: task-events-pubsub
  namespace: default
spec:
  type: pubsub.kafka
  version: v1
  metadata:
  - name: brokers
    value: "[REDPANDA_BOOTSTRAP_SERVERS]"
  - name: authType
    value: "sasl"
  - name: saslUsername
    secretKeyRef: {name: redpanda-credentials, key: username}
  - name: saslPassword
    secretKeyRef: {name: redpanda-credentials, key: password}
  - name: saslMechanism
    value: "PLAIN"
`;
  const dir = mkdtempSync(join(tmpdir(), 'dapr-plan-'));
  try {
    mkdirSync(join(dir, 'components'));
    writeFileSync(join(dir, 'components', 'pubsub-kafka.yaml'), plan);
    const fields = validateDaprManifests(loadDaprManifests(dir)).map((p) => p.field);
    for (const f of ['metadata.namespace', 'brokers', 'authType', 'auth.secretStore']) assert.ok(fields.includes(f), `${f} not reported: ${fields.join(', ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file that is not valid YAML is a usage error naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dapr-bad-'));
  try {
    writeFileSync(join(dir, 'broken.yaml'), 'kind: Component\nmetadata: [unclosed\n');
    assert.throws(() => loadDaprManifests(dir), (e: unknown) => e instanceof OpsError && e.exitCode === 2 && /broken\.yaml: not valid YAML/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the components agree with the chart: scoped to the backend app-id, config and component names match', () => {
  const values = parse(readFileSync(join(repoRoot, 'helm', 'values.yaml'), 'utf8')) as {
    dapr: { config: string }; backend: { dapr: { appId: string }; env: Record<string, string> };
  };
  for (const m of real.filter((x) => (x.doc as ComponentDoc).kind === 'Component')) {
    assert.equal((m.doc as ComponentDoc).scopes, [values.backend.dapr.appId], m.file);
  }
  assert.is((byName(values.dapr.config).doc as ComponentDoc).kind, 'Configuration');
  assert.is((byName(values.backend.env.DAPR_PUBSUB_NAME!).doc as ComponentDoc).spec.type, 'pubsub.kafka');
  assert.is((byName(values.backend.env.DAPR_STATESTORE_NAME!).doc as ComponentDoc).spec.type, 'state.postgresql');
});

test('every secretKeyRef names a Secret and key from scripts/lib/secret-catalog.ts', () => {
  const catalog = new Set(SECRET_CATALOG.map((e) => `${e.secret}/${e.key}`));
  const refs = real.flatMap((m) => ((m.doc as ComponentDoc).spec?.metadata ?? []).flatMap((e) => (e.secretKeyRef ? [`${e.secretKeyRef.name}/${e.secretKeyRef.key}`] : [])));
  assert.equal(refs.sort(), ['database-credentials/connection-string', 'redpanda-credentials/bootstrap-servers', 'redpanda-credentials/password', 'redpanda-credentials/username']);
  for (const r of refs) assert.ok(catalog.has(r), `${r} is not in the catalog`);
});

test('the Configuration turns on mTLS, tracing, metrics and API logging without health checks', () => {
  const c = byName('dapr-config').doc as { spec: { mtls: { enabled: boolean }; tracing: { samplingRate: string }; metric: { enabled: boolean }; logging: { apiLogging: { enabled: boolean; omitHealthChecks: boolean } } } };
  assert.is(c.spec.mtls.enabled, true);
  assert.ok(Number(c.spec.tracing.samplingRate) > 0);
  assert.is(c.spec.metric.enabled, true);
  assert.equal(c.spec.logging.apiLogging, { ...c.spec.logging.apiLogging, enabled: true, omitHealthChecks: true });
});

test('the Resiliency gives the pub/sub and the state store a retry and a circuit breaker', () => {
  const r = byName('todo-resiliency').doc as { spec: { targets: { components: Record<string, { outbound: { retry?: string; circuitBreaker?: string } }> } } };
  for (const c of ['task-events-pubsub', 'task-state']) {
    assert.ok(r.spec.targets.components[c]?.outbound.retry, `${c} has no retry`);
    assert.ok(r.spec.targets.components[c]?.outbound.circuitBreaker, `${c} has no circuit breaker`);
  }
});

test('the state store uses a query mode that works through PgBouncer transaction pooling', () => {
  const e = entry(byName('task-state').doc as ComponentDoc, 'queryExecMode');
  assert.ok(['exec', 'simple_protocol'].includes(String(e.value)));
});

test('the state store\'s own timeout is not longer than the Resiliency timeout that wraps it', () => {
  const store = entry(byName('task-state').doc as ComponentDoc, 'timeout');
  const resiliency = parse(readFileSync(join(repoRoot, 'dapr/configuration/resiliency.yaml'), 'utf8')) as any;
  const policy = resiliency.spec.targets.components['task-state'].outbound.timeout as string;
  const wrapping = parseDuration(resiliency.spec.policies.timeouts[policy]);
  assert.ok(wrapping, `resiliency timeout policy ${policy}`);
  assert.ok(parseDuration(String(store.value))! <= wrapping!, `store ${store.value} vs resiliency ${resiliency.spec.policies.timeouts[policy]}`);
});

test.run();
