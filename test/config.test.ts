// The environment loader: the real files load, and each kind of malformed file stops a script
// with exit 2 and a message naming the file and the key.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { imageRepositoryProblem, listEnvironments, loadEnvironment } from '../scripts/lib/config.ts';
import { OpsError } from '../scripts/lib/errors.ts';
import { FakeWorld } from './support/harness.ts';
import { repoRoot } from './support/tools.ts';
import { PROD, rx } from './support/names.ts';

const production = parse(readFileSync(join(repoRoot, 'environments/production.yaml'), 'utf8')) as Record<string, unknown>;
const dir = mkdtempSync(join(tmpdir(), 'env-'));

function variant(name: string, mutate: (doc: Record<string, any>) => void): string {
  const doc = structuredClone(production) as Record<string, any>;
  mutate(doc);
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(doc));
  return file;
}

test('the shipped environments load and carry the plan\'s names', () => {
  assert.equal(listEnvironments(repoRoot).includes('production'), true);
  const prod = loadEnvironment(repoRoot, 'production');
  // `az aks get-credentials` names the context after the cluster; no two environments share an Azure name.
  assert.is(prod.kube.context, prod.azure?.cluster);
  const staging = loadEnvironment(repoRoot, 'staging');
  for (const key of ['resourceGroup', 'cluster', 'registry', 'logAnalyticsWorkspace'] as const) assert.is.not(staging.azure?.[key], prod.azure?.[key], key);
  assert.is(prod.release.images.backend, `${prod.azure?.registry}.azurecr.io/todo-backend`, 'production pulls from its own registry');
  assert.is(prod.release.name, 'hackathon-todo');
  assert.is(prod.azure?.nodeSize, 'Standard_D2s_v3');
  assert.equal(prod.azure?.nodeCount, { min: 2, max: 5 });
  const local = loadEnvironment(repoRoot, 'local');
  assert.is(local.platform, 'local');
  assert.is(local.azure, undefined);
});

const cases: Array<[string, string, RegExp]> = [
  ['unknown top-level key', variant('unknown-top', (d) => { d.clusterName = 'x'; }), /clusterName: unknown key/],
  ['unknown nested key', variant('unknown-nested', (d) => { d.azure.nodeSku = 'x'; }), /azure\.nodeSku: unknown key/],
  ['missing required key', variant('missing-url', (d) => { delete d.url; }), /url: is required/],
  ['missing nested key', variant('missing-ns', (d) => { delete d.kube.namespace; }), /kube\.namespace: is required/],
  ['wrong type: string for a number', variant('wrong-type', (d) => { d.timeouts.rolloutSeconds = '5m'; }), /timeouts\.rolloutSeconds: expected a number, got a string$/],
  ['wrong type: a quoted number', variant('quoted-number', (d) => { d.timeouts.helmSeconds = '300'; }), /^[^;]*quoted-number\.yaml: timeouts\.helmSeconds: expected a number, got a string \(remove the quotes\)$/],
  ['wrong type: a quoted boolean', variant('quoted-bool', (d) => { d.release.allowLatestTag = 'false'; }), /release\.allowLatestTag: expected true or false, got a string \(remove the quotes\)$/],
  ['wrong type: an empty value', variant('empty-value', (d) => { d.timeouts.smokeSeconds = null; }), /timeouts\.smokeSeconds: expected a number, got an empty value$/],
  ['wrong type: a mapping for a string', variant('map-for-string', (d) => { d.kube.context = { name: 'x' }; }), /kube\.context: expected a string, got a mapping of keys$/],
  ['wrong type: list expected', variant('values-not-list', (d) => { d.release.valuesFiles = 'helm/values.yaml'; }), /release\.valuesFiles/],
  ['node count min above max', variant('min-max', (d) => { d.azure.nodeCount = { min: 6, max: 5 }; }), /azure\.nodeCount\.min: min must not exceed max/],
  ['bad platform', variant('platform', (d) => { d.platform = 'gke'; }), /platform/],
  ['aks without azure block', variant('no-azure', (d) => { delete d.azure; }), /azure: is required when platform is aks/],
  ['bad URL', variant('bad-url', (d) => { d.url = 'todo.example.com'; }), /url/],
  ['an image outside the environment\'s registry', variant('image-registry', (d) => { d.release.images.frontend = 'otheracr.azurecr.io/todo-frontend'; }), new RegExp(`release\\.images\\.frontend: is "otheracr\\.azurecr\\.io/todo-frontend", outside azure\\.registry's ${rx(PROD.loginServer)} .*: write ${rx(PROD.loginServer)}/todo-frontend$`)],
  ['an image in a nested path of another registry', variant('image-nested', (d) => { d.release.images.backend = 'other.example.com:5000/team/todo-backend'; }), new RegExp(`release\\.images\\.backend: .*: write ${rx(PROD.loginServer)}/team/todo-backend$`)],
  ['registry name with dashes', variant('acr', (d) => { d.azure.registry = 'hackathon-todo-acr'; }), /azure\.registry: .*ACR name/],
  ['Dapr older than 1.14', variant('dapr', (d) => { d.dapr.version = '1.13.0'; }), /dapr\.version/],
  ['negative timeout', variant('neg', (d) => { d.timeouts.smokeSeconds = -1; }), /timeouts\.smokeSeconds/],
  ['an unquoted Kubernetes version', variant('k8s-number', (d) => { d.azure.kubernetesVersion = 1.34; }), /azure\.kubernetesVersion: expected a string, got a number \(put it in quotes, e\.g\. '1\.34'\)$/],
  ['a Kubernetes patch version', variant('k8s-patch', (d) => { d.azure.kubernetesVersion = '1.34.2'; }), /azure\.kubernetesVersion: a Kubernetes minor version in quotes/],
  ['a workspace name with underscores', variant('workspace', (d) => { d.azure.logAnalyticsWorkspace = 'todo_logs'; }), /azure\.logAnalyticsWorkspace: .*Log Analytics workspace name/],
  ['a URL ending in a slash', variant('url-slash', (d) => { d.url = 'https://todo.example.com/'; }), /url: ends with "\/": write the site's root without it, e\.g\. https:\/\/todo\.example\.com$/],
];

for (const [name, file, pattern] of cases) {
  test(`loader rejects ${name} naming the key`, () => {
    try {
      loadEnvironment(repoRoot, file);
      assert.unreachable('should have thrown');
    } catch (e) {
      assert.instance(e, OpsError);
      const err = e as OpsError;
      assert.is(err.exitCode, 2);
      assert.match(err.message, pattern);
      assert.match(err.message, /\.yaml/);
      assert.ok(err.hint, 'has a hint');
    }
  });
}

// release.chart, release.valuesFiles and release.images.* reach `helm upgrade` as they are: checked on load.
const releaseCases: Array<[string, string, RegExp, RegExp]> = [
  ['a chart folder that does not exist', variant('no-chart', (d) => { d.release.chart = 'charts/todo'; }),
    /no-chart\.yaml: release\.chart: charts\/todo does not exist \(paths are relative to the repository root, /, /set release\.chart to the chart's folder, e\.g\. helm/],
  ['a chart folder without Chart.yaml', variant('not-chart', (d) => { d.release.chart = 'helm/templates'; }),
    /release\.chart: helm\/templates is not a Helm chart: it has no Chart\.yaml/, /the folder that holds Chart\.yaml/],
  ['a chart that is a file but no packaged chart', variant('chart-file', (d) => { d.release.chart = 'helm/Chart.yaml'; }),
    /release\.chart: helm\/Chart\.yaml is not a folder/, /set release\.chart/],
  ['a values file that does not exist', variant('no-values', (d) => { d.release.valuesFiles = ['helm/values.yaml', 'helm/values-prod.yaml']; }),
    /no-values\.yaml: release\.valuesFiles: helm\/values-prod\.yaml does not exist \(paths are relative to the repository root, [^)]*\)$/, /correct or remove helm\/values-prod\.yaml in release\.valuesFiles, or create it/],
  ['a values file that is a folder', variant('values-dir', (d) => { d.release.valuesFiles = ['helm']; }),
    /release\.valuesFiles: helm is not a file/, /release\.valuesFiles/],
  ['an image name with a shell metacharacter', variant('image-semicolon', (d) => { d.release.images.backend = 'shopacr.azurecr.io/todo-backend;rm -rf /'; }),
    /image-semicolon\.yaml: release\.images\.backend: "shopacr\.azurecr\.io\/todo-backend;rm -rf \/" is not an image repository name: write \[registry\[:port\]\/\]name, lowercase/, /fix the key/],
  ['an image name with a tag', variant('image-tag', (d) => { d.release.images.frontend = 'shopacr.azurecr.io/todo-frontend:v1'; }),
    /release\.images\.frontend: "shopacr\.azurecr\.io\/todo-frontend:v1" carries a tag or digest: .*write the repository name alone, e\.g\. "shopacr\.azurecr\.io\/todo-frontend"/, /fix the key/],
  ['an image name in upper case', variant('image-upper', (d) => { d.release.images.backend = 'shopacr.azurecr.io/Todo-Backend'; }),
    /release\.images\.backend: .* repository paths are lowercase/, /fix the key/],
];

for (const [name, file, message, hint] of releaseCases) {
  test(`loader rejects ${name}, naming the file, the key and the fix`, () => {
    try {
      loadEnvironment(repoRoot, file);
      assert.unreachable('should have thrown');
    } catch (e) {
      assert.instance(e, OpsError);
      assert.is((e as OpsError).exitCode, 2);
      assert.match((e as Error).message, message);
      assert.match((e as OpsError).hint ?? '', hint);
    }
  });
}

test('image names: the OCI reference grammar (registry host[:port], lowercase path components, separators)', () => {
  for (const ok of ['todo-backend', 'shopacr.azurecr.io/todo-backend', 'localhost:5000/team/app', 'Registry.Example.com/a/b', '10.0.0.1:5000/a', '[::1]:5000/a', 'a__b', 'a.b_c--d', 'ghcr.io/o/r/sub']) {
    assert.is(imageRepositoryProblem(ok), undefined, ok);
  }
  for (const bad of ['', 'a;b', 'a b', 'app:1.0', 'a@sha256:abc', 'A', 'a..b', 'a___b', '-a', 'a-', '/a', 'a/', 'a//b', 'reg.io/a$(id)', 'x'.repeat(256)]) {
    assert.type(imageRepositoryProblem(bad), 'string', bad);
  }
});

test('a deploy given an environment with a bad release entry exits 2 before any command runs', async () => {
  const world = new FakeWorld();
  const bad = releaseCases.find(([name]) => name.includes('shell metacharacter'))![1];
  const r = await world.run('deploy', ['--env', bad, '--tag', '3f9c2ab71d04e5f6a7b8c9d0e1f2a3b4c5d6e7f8', '--yes']);
  assert.is(r.code, 2, r.output);
  assert.match(r.stderr, /^error: .*image-semicolon\.yaml: release\.images\.backend: .* is not an image repository name/m);
  assert.match(r.stderr, /^hint: edit .*image-semicolon\.yaml/m);
  assert.equal(r.calls, [], 'no CLI call (no helm, kubectl or az)');
  const missingValues = await world.run('deploy', ['--env', releaseCases.find(([name]) => name.includes('values file that does not'))![1], '--tag', '3f9c2ab71d04e5f6a7b8c9d0e1f2a3b4c5d6e7f8', '--yes']);
  assert.is(missingValues.code, 2, missingValues.output);
  assert.match(missingValues.stderr, /release\.valuesFiles: helm\/values-prod\.yaml does not exist/);
  assert.equal(missingValues.calls, []);
});

test('unreadable YAML names the file and the line', () => {
  const file = join(dir, 'broken.yaml');
  writeFileSync(file, 'name: production\nazure:\n  location: [eastus\n');
  try {
    loadEnvironment(repoRoot, file);
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /broken\.yaml(:\d+)?: not valid YAML/);
  }
});

test('a duplicate key is an error, not a silent override', () => {
  const file = join(dir, 'dup.yaml');
  writeFileSync(file, `${stringify(production)}\nurl: https://other.example.com\n`);
  assert.throws(() => loadEnvironment(repoRoot, file), /not valid YAML/);
});

test('a url ending in "/" is refused with the url to write instead (paths are joined to it)', () => {
  const file = variant('slash', (d) => { d.url = 'https://todo.example.com/'; });
  assert.throws(() => loadEnvironment(repoRoot, file), (e: Error) => /slash\.yaml: url: ends with "\/": write the site's root without it, e\.g\. https:\/\/todo\.example\.com$/m.test(e.message));
  const ok = variant('no-slash', (d) => { d.url = 'https://todo.example.com'; });
  assert.is(loadEnvironment(repoRoot, ok).url, 'https://todo.example.com');
});

test('unknown environment name lists the known ones', () => {
  try {
    loadEnvironment(repoRoot, 'prod');
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /unknown environment "prod"/);
    assert.match((e as OpsError).hint ?? '', /production/);
  }
});

test('a script given a malformed environment exits 2 with file and key, and calls nothing', async () => {
  const world = new FakeWorld();
  const bad = cases[1]![1];
  const r = await world.run('doctor', ['--env', bad]);
  assert.is(r.code, 2);
  assert.match(r.stderr, /error: .*unknown-nested\.yaml: azure\.nodeSku: unknown key/);
  assert.match(r.stderr, /hint: /);
  assert.is(r.calls.length, 0);
});

test('a script given an unknown environment exits 2', async () => {
  const r = await new FakeWorld().run('doctor', ['--env', 'staging-eu']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /unknown environment "staging-eu"/);
});

test.run();
