// The secret catalog (scripts/lib/secret-catalog.ts) is the one declaration of the app's secrets:
// the chart's values, the rendered chart, the Dapr components and .env.example must name the same
// Secrets and keys, and the catalog's consumers must be exactly the workloads that read them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { SECRET_CATALOG, secretNames } from '../scripts/lib/secret-catalog.ts';
import { render, valuesFile } from './helm-render.ts';
import { repoRoot } from './support/tools.ts';

interface ValuesSecret { secretName: string; key: string; containers: string[] }
interface Workload { name: string; dapr?: { enabled?: boolean; appId?: string } }
interface SecretKeyRef { name: string; key: string }
interface Component {
  kind: string;
  metadata: { name: string };
  spec: { type: string; metadata?: Array<{ name: string; value?: string; secretKeyRef?: SecretKeyRef }> };
  auth?: { secretStore?: string };
  scopes?: string[];
}

const values = parse(readFileSync(valuesFile, 'utf8')) as { secrets: Record<string, ValuesSecret>; backend: Workload; frontend: Workload } & Record<string, unknown>;
const componentsDir = join(repoRoot, 'dapr', 'components');
const components: Component[] = readdirSync(componentsDir)
  .filter((f) => /\.ya?ml$/.test(f))
  .flatMap((f) => parseAllDocuments(readFileSync(join(componentsDir, f), 'utf8')).map((d) => d.toJS() as Component))
  .filter((c) => c && c.kind === 'Component');
const ref = (s: string, k: string) => `${s}/${k}`;

/** Workload key in values (backend, frontend) -> its Deployment name. */
function deploymentOf(workloadKey: string): string {
  const w = values[workloadKey] as Workload | undefined;
  assert.ok(w?.name, `values.yaml has no ${workloadKey}.name`);
  return w.name;
}

test('catalog: unique names and keys, valid for Kubernetes and Key Vault', () => {
  const envVars = SECRET_CATALOG.map((e) => e.envVar);
  assert.is(new Set(envVars).size, envVars.length, 'environment variable names are unique');
  const refs = SECRET_CATALOG.map((e) => ref(e.secret, e.key));
  assert.is(new Set(refs).size, refs.length, 'Secret/key pairs are unique');
  const kv = SECRET_CATALOG.map((e) => e.keyVaultName);
  assert.is(new Set(kv).size, kv.length, 'Key Vault names are unique');
  for (const e of SECRET_CATALOG) {
    assert.match(e.envVar, /^[A-Z][A-Z0-9_]*$/);
    assert.match(e.keyVaultName, /^[0-9a-zA-Z-]{1,127}$/, `${e.keyVaultName} is a valid Key Vault secret name`);
    assert.match(e.secret, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, `${e.secret} is a DNS subdomain`);
    assert.match(e.key, /^[-._a-zA-Z0-9]+$/, `${e.key} is a valid Secret data key`);
    assert.ok(e.consumers.length > 0, `${e.envVar} has a consumer to restart`);
    assert.ok(e.format.length > 0);
  }
  // The plan's Secrets are all there.
  for (const r of ['database-credentials/connection-string', 'openai-credentials/api-key', 'auth-credentials/secret', 'redpanda-credentials/username', 'redpanda-credentials/password']) {
    assert.ok(refs.includes(r), r);
  }
});

test('helm/values.yaml secrets: the same variables, Secrets and keys as the catalog', () => {
  assert.ok(values.secrets && typeof values.secrets === 'object', 'values.yaml has a secrets: map');
  assert.equal(Object.keys(values.secrets).sort(), SECRET_CATALOG.map((e) => e.envVar).sort());
  for (const e of SECRET_CATALOG) {
    const v = values.secrets[e.envVar]!;
    assert.is(v.secretName, e.secret, `${e.envVar}.secretName`);
    assert.is(v.key, e.key, `${e.envVar}.key`);
    assert.ok(Array.isArray(v.containers), `${e.envVar}.containers is a list`);
  }
});

test('dapr/components: every secretKeyRef is in the catalog, through the kubernetes-secrets store', () => {
  const catalogRefs = new Set(SECRET_CATALOG.map((e) => ref(e.secret, e.key)));
  const stores = new Set(components.filter((c) => c.spec.type === 'secretstores.kubernetes').map((c) => c.metadata.name));
  let seen = 0;
  for (const c of components) {
    for (const m of c.spec.metadata ?? []) {
      if (!m.secretKeyRef) continue;
      seen++;
      assert.ok(catalogRefs.has(ref(m.secretKeyRef.name, m.secretKeyRef.key)), `${c.metadata.name}.${m.name} -> ${ref(m.secretKeyRef.name, m.secretKeyRef.key)} is in the catalog`);
      assert.ok(c.auth?.secretStore && stores.has(c.auth.secretStore), `${c.metadata.name} resolves its secretKeyRefs through a secretstores.kubernetes component`);
    }
  }
  assert.ok(seen >= 4, 'the components read their credentials from Secrets');
  // A catalog value that no container reads must be read by a component, or it is dead weight.
  for (const e of SECRET_CATALOG) {
    if ((values.secrets[e.envVar]?.containers ?? []).length > 0) continue;
    assert.ok(components.some((c) => (c.spec.metadata ?? []).some((m) => m.secretKeyRef?.name === e.secret && m.secretKeyRef.key === e.key)), `${e.envVar} is read by a Dapr component`);
  }
});

test('consumers: exactly the deployments whose containers or Dapr sidecars read each value', () => {
  // Dapr app ID -> Deployment, for the component scopes.
  const byAppId = new Map<string, string>();
  for (const key of ['backend', 'frontend']) {
    const w = values[key] as Workload;
    if (w.dapr?.enabled && w.dapr.appId) byAppId.set(w.dapr.appId, w.name);
  }
  for (const e of SECRET_CATALOG) {
    const expected = new Set<string>((values.secrets[e.envVar]?.containers ?? []).map(deploymentOf));
    for (const c of components) {
      if (!(c.spec.metadata ?? []).some((m) => m.secretKeyRef?.name === e.secret && m.secretKeyRef.key === e.key)) continue;
      assert.ok(c.scopes?.length, `${c.metadata.name} is scoped to the app IDs that use it`);
      for (const appId of c.scopes ?? []) {
        const d = byAppId.get(appId);
        assert.ok(d, `${c.metadata.name} scope ${appId} is a Dapr-enabled workload`);
        expected.add(d);
      }
    }
    assert.equal([...e.consumers].sort(), [...expected].sort(), `${e.envVar} consumers`);
  }
});

test('the rendered chart: each Deployment reads exactly its catalog values, and the Role covers every catalog Secret', () => {
  const { objects } = render(3, [valuesFile]);
  for (const key of ['backend', 'frontend']) {
    const name = deploymentOf(key);
    const d = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name);
    assert.ok(d, `Deployment ${name} rendered`);
    const containers = ((d.spec as { template: { spec: { containers: Array<{ env?: Array<{ name: string; valueFrom?: { secretKeyRef?: SecretKeyRef } }> }> } } }).template.spec.containers);
    const rendered = containers.flatMap((c) => c.env ?? []).filter((v) => v.valueFrom?.secretKeyRef).map((v) => `${v.name}=${ref(v.valueFrom!.secretKeyRef!.name, v.valueFrom!.secretKeyRef!.key)}`).sort();
    const expected = SECRET_CATALOG.filter((e) => (values.secrets[e.envVar]?.containers ?? []).includes(key)).map((e) => `${e.envVar}=${ref(e.secret, e.key)}`).sort();
    assert.equal(rendered, expected, `${name} secretKeyRefs`);
  }
  const role = objects.find((o) => o.kind === 'Role' && /secret-reader$/.test(o.metadata.name)) as { rules?: Array<{ resources: string[]; resourceNames?: string[] }> } | undefined;
  assert.ok(role, 'a secret-reader Role is rendered for the Dapr sidecar');
  const names = (role.rules ?? []).filter((r) => r.resources.includes('secrets')).flatMap((r) => r.resourceNames ?? []);
  assert.equal([...names].sort(), [...secretNames()].sort());
});

test('.env.example names exactly the catalog variables', () => {
  const keys = readFileSync(join(repoRoot, '.env.example'), 'utf8').split('\n').map((l) => /^([A-Z][A-Z0-9_]*)=/.exec(l)?.[1]).filter((k): k is string => Boolean(k));
  assert.equal(keys.sort(), SECRET_CATALOG.map((e) => e.envVar).sort());
});

test.run();
