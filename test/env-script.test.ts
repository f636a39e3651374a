// env.mts: one value of a validated environment file, as workflows read names. Runs the real script
// on the real environment files; it reads files only, so no fake answers anything (and none is called).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEnvironment, listEnvironments } from '../scripts/lib/config.ts';
import { FakeWorld } from './support/harness.ts';
import { repoRoot } from './support/tools.ts';

const get = (args: string[]) => new FakeWorld().run('env', ['get', ...args]);

test('prints each name the workflows read, alone on one line, from every environment file', async () => {
  for (const name of listEnvironments(repoRoot)) {
    const env = loadEnvironment(repoRoot, name);
    const keys: Array<[string, unknown]> = [['kube.context', env.kube.context], ['kube.namespace', env.kube.namespace], ['url', env.url]];
    if (env.azure) keys.push(['azure.resourceGroup', env.azure.resourceGroup], ['azure.cluster', env.azure.cluster], ['azure.registry', env.azure.registry], ['azure.nodeCount.max', env.azure.nodeCount.max]);
    for (const [key, want] of keys) {
      const w = new FakeWorld();
      const r = await w.run('env', ['get', key, '--env', name]);
      assert.is(r.code, 0, r.output);
      assert.is(r.stdout, `${String(want)}\n`, `${name} ${key}`);
      assert.is(r.stderr, '', 'nothing else is printed');
      assert.equal(r.calls, [], 'read-only: no CLI is called');
    }
  }
});

test('a mapping prints as JSON, an empty value as an empty line; --json gives key, value and file', async () => {
  const prod = loadEnvironment(repoRoot, 'production');
  assert.is((await get(['azure.nodeCount', '--env', 'production'])).stdout, `${JSON.stringify(prod.azure!.nodeCount)}\n`);
  assert.is((await get(['azure.keyVault', '--env', 'production'])).stdout, '\n');
  const r = await get(['azure.cluster', '--env', 'production', '--json']);
  const doc = JSON.parse(r.stdout) as { key: string; value: unknown; file: string; ok: boolean };
  assert.equal([doc.ok, doc.key, doc.value, doc.file], [true, 'azure.cluster', prod.azure!.cluster, 'environments/production.yaml']);
});

test('an unknown key exits 2 naming the file, the key and the keys that exist; so does a key under a value', async () => {
  const typo = await get(['azure.clustr', '--env', 'production']);
  assert.is(typo.code, 2);
  assert.is(typo.stdout, '');
  assert.match(typo.stderr, /^error: environments\/production\.yaml: no key "azure\.clustr"\nhint: keys under azure: .*azure\.cluster,/m);
  const local = await get(['azure.cluster', '--env', 'local']);
  assert.is(local.code, 2);
  assert.match(local.stderr, /environments\/local\.yaml: no key "azure\.cluster"/);
  const under = await get(['url.host', '--env', 'production']);
  assert.match(under.stderr, /no key "url\.host" \(url holds a value, not keys\)/);
  // The loader's own fields are not keys of the file.
  assert.match((await get(['root', '--env', 'production'])).stderr, /no key "root"/);
});

test('the file is validated first: a broken environment file is the loader\'s exit 2, not a value', async () => {
  const doc = readFileSync(join(repoRoot, 'environments', 'production.yaml'), 'utf8').replace(/^ {2}cluster: .*$/m, '  cluster: Not_A_Name');
  const file = join(mkdtempSync(join(tmpdir(), 'env-get-')), 'broken.yaml');
  writeFileSync(file, doc);
  const r = await get(['azure.cluster', '--env', file]);
  assert.is(r.code, 2);
  assert.match(r.stderr, /broken\.yaml: azure\.cluster: lowercase letters, digits and dashes/);
});

test('usage: no KEY, another verb or an extra word exit 2; --help lists the arguments', async () => {
  for (const args of [['--env', 'production'], ['put', 'x', '--env', 'production'], ['azure.cluster', 'extra', '--env', 'production']]) {
    const r = await new FakeWorld().run('env', args);
    assert.is(r.code, 2, args.join(' '));
  }
  const help = await new FakeWorld().run('env', ['--help']);
  assert.match(help.stdout, /Usage: npx zx scripts\/env\.mts get KEY \[flags\]/);
  const described = JSON.parse((await new FakeWorld().run('env', ['--help', '--json'])).stdout) as { arguments: Array<{ name: string }> };
  assert.equal(described.arguments.map((a) => a.name), ['get', 'KEY']);
});

test.run();
