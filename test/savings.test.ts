// savings.mts against the fake az: the nightly stop (staging), the off-hours autoscaler minimum
// (production, when opted in), and the config rules that keep production running.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeWorld, line } from './support/harness.ts';
import { repoRoot } from './support/tools.ts';
import { PROD, STAGING, rx } from './support/names.ts';

// `az aks show -o json`, trimmed to what savings.mts reads and a little around it.
const cluster = (code: 'Running' | 'Stopped') => ({ name: STAGING.cluster, provisioningState: 'Succeeded', powerState: { code } });
// `az aks nodepool list -o json`.
const pools = (min: number) => [{ name: 'system', mode: 'System', count: 2, enableAutoScaling: true, minCount: min, maxCount: 5, vmSize: 'Standard_D2s_v3' }];

/** environments/production.yaml with its costSavings block replaced, as a file --env can name. */
function productionWith(costSavings: string): string {
  const text = readFileSync(join(repoRoot, 'environments', 'production.yaml'), 'utf8').replace(/^costSavings:\n(?:[ #].*\n)*/m, costSavings);
  const path = join(mkdtempSync(join(tmpdir(), 'savings-env-')), 'production.yaml');
  writeFileSync(path, text);
  return path;
}

test('staging off-hours: a running cluster is stopped (after reading its power state)', async () => {
  const w = new FakeWorld().on('az', ['aks', 'show'], { json: cluster('Running') }).on('az', ['aks', 'stop'], { stdout: '' });
  const r = await w.run('savings', ['--env', 'staging', '--phase', 'off-hours', '--yes']);
  assert.is(r.code, 0, r.output);
  assert.equal(w.calls.filter((c) => c.tool === 'az').map(line), [
    `az aks show --resource-group ${STAGING.resourceGroup} --name ${STAGING.cluster} -o json`,
    `az aks stop --resource-group ${STAGING.resourceGroup} --name ${STAGING.cluster}`,
  ]);
  assert.match(r.stdout, new RegExp(`savings: off-hours for staging: stop ${rx(STAGING.cluster)} \\(now Running\\)`));
});

test('staging on-hours starts a stopped cluster; a cluster already in place is left alone', async () => {
  const w = new FakeWorld().on('az', ['aks', 'show'], { json: cluster('Stopped') }).on('az', ['aks', 'start'], { stdout: '' });
  const r = await w.run('savings', ['--env', 'staging', '--phase', 'on-hours', '--yes']);
  assert.is(r.code, 0, r.output);
  assert.is(w.callsOf('az', 'aks', 'start').length, 1);
  const idle = new FakeWorld().on('az', ['aks', 'show'], { json: cluster('Stopped') });
  const again = await idle.run('savings', ['--env', 'staging', '--phase', 'off-hours', '--yes']);
  assert.is(again.code, 0, again.output);
  assert.is(idle.callsOf('az', 'aks', 'stop').length, 0);
  assert.match(again.stdout, /already in place, nothing changed/);
});

test('--dry-run reads the state and plans the stop without running it; without --yes a non-interactive run is refused', async () => {
  const w = new FakeWorld().on('az', ['aks', 'show'], { json: cluster('Running') });
  const r = await w.run('savings', ['--env', 'staging', '--phase', 'off-hours', '--dry-run']);
  assert.is(r.code, 0, r.output);
  assert.is(w.callsOf('az', 'aks', 'stop').length, 0);
  assert.match(r.output, new RegExp(`az aks stop --resource-group ${rx(STAGING.resourceGroup)} --name ${rx(STAGING.cluster)}`));
  const refused = await new FakeWorld().on('az', ['aks', 'show'], { json: cluster('Running') }).run('savings', ['--env', 'staging', '--phase', 'off-hours']);
  assert.is(refused.code, 2, refused.output);
});

test('production as committed has not opted in: nothing is read or changed', async () => {
  const w = new FakeWorld();
  const r = await w.run('savings', ['--env', 'production', '--phase', 'off-hours', '--yes']);
  assert.is(r.code, 0, r.output);
  assert.is(w.calls.length, 0);
  assert.match(r.stdout, /production has not opted into scheduled savings/);
});

test('production opted into off-hours: the autoscaler minimum goes to minNodes at night and back to azure.nodeCount.min', async () => {
  const env = productionWith('costSavings:\n  offHours:\n    enabled: true\n    minNodes: 1\n');
  const night = new FakeWorld().on('az', ['aks', 'nodepool', 'list'], { json: pools(2) }).on('az', ['aks', 'nodepool', 'update'], { stdout: '{}' });
  const r = await night.run('savings', ['--env', env, '--phase', 'off-hours', '--yes']);
  assert.is(r.code, 0, r.output);
  assert.equal(night.callsOf('az', 'update').map(line), [`az aks nodepool update --resource-group ${PROD.resourceGroup} --cluster-name ${PROD.cluster} --name system --update-cluster-autoscaler --min-count 1 --max-count 5`]);
  const day = new FakeWorld().on('az', ['aks', 'nodepool', 'list'], { json: pools(1) }).on('az', ['aks', 'nodepool', 'update'], { stdout: '{}' });
  const d = await day.run('savings', ['--env', env, '--phase', 'on-hours', '--yes']);
  assert.is(d.code, 0, d.output);
  assert.match(line(day.callsOf('az', 'update')[0]!), /--min-count 2 --max-count 5$/);
  assert.is(night.callsOf('az', 'aks', 'stop').length, 0, 'production is scaled, never stopped');
});

test('config: a nightly stop for production, and an off-hours minimum above the daytime one, are refused (exit 2)', async () => {
  const stop = await new FakeWorld().run('savings', ['--env', productionWith('costSavings:\n  nightlyStop:\n    enabled: true\n'), '--phase', 'off-hours', '--yes']);
  assert.is(stop.code, 2, stop.output);
  assert.match(stop.stderr, /costSavings\.nightlyStop\.enabled: production is never stopped at night/);
  const high = await new FakeWorld().run('savings', ['--env', productionWith('costSavings:\n  offHours:\n    enabled: true\n    minNodes: 3\n'), '--phase', 'off-hours', '--yes']);
  assert.is(high.code, 2, high.output);
  assert.match(high.stderr, /costSavings\.offHours\.minNodes: is 3, above azure\.nodeCount\.min \(2\)/);
  const typo = await new FakeWorld().run('savings', ['--env', productionWith('costSavings:\n  nightlyStops:\n    enabled: true\n'), '--phase', 'off-hours']);
  assert.is(typo.code, 2);
  assert.match(typo.stderr, /costSavings\.nightlyStops: unknown key/);
});

test('--list names the environments that opted in, from environments/*.yaml alone', async () => {
  const w = new FakeWorld();
  const r = await w.run('savings', ['--list', '--json']);
  assert.is(r.code, 0, r.output);
  assert.equal((JSON.parse(r.stdout) as { environments: string[] }).environments, ['staging']);
  assert.is(w.calls.length, 0);
});

test.run();
