// One Dapr version everywhere: the environments' dapr.version (what install-dapr puts on the
// cluster), the github.com/dapr/dapr module tools/daprd builds the local daprd from (what the
// component suites and --verify-components run), and the chart image the tests' fake pods report.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { pinnedDaprdVersion } from '../scripts/lib/daprd.ts';
import { DAPR_UPGRADE_STOPS } from '../scripts/lib/dapr.ts';
import { repoRoot } from './support/tools.ts';

const envs = readdirSync(join(repoRoot, 'environments')).filter((f) => f.endsWith('.yaml'));
const versions = envs.map((f) => (parse(readFileSync(join(repoRoot, 'environments', f), 'utf8')) as { dapr: { version: string } }).dapr.version);

test('every environment pins the same Dapr version as tools/daprd/go.mod', () => {
  assert.ok(envs.length >= 3, envs.join(','));
  for (const [i, v] of versions.entries()) assert.is(v, pinnedDaprdVersion(repoRoot), envs[i]);
});

test('the pin is a 1.18 release, and the upgrade stops lead there from 1.14 one minor at a time', () => {
  const v = pinnedDaprdVersion(repoRoot);
  assert.match(v, /^1\.18\.\d+$/);
  assert.equal(Object.keys(DAPR_UPGRADE_STOPS), ['1.15', '1.16', '1.17']);
  for (const [minor, stop] of Object.entries(DAPR_UPGRADE_STOPS)) assert.ok(stop.startsWith(`${minor}.`), `${minor} → ${stop}`);
});

test('go.mod repeats the replace directives of github.com/dapr/dapr and go.sum pins the module', () => {
  const mod = readFileSync(join(repoRoot, 'tools', 'daprd', 'go.mod'), 'utf8');
  assert.match(mod, /dubbo\.apache\.org\/dubbo-go\/v3 => /);
  assert.match(mod, /github\.com\/toolkits\/concurrent => /);
  const sum = readFileSync(join(repoRoot, 'tools', 'daprd', 'go.sum'), 'utf8');
  assert.ok(sum.includes(`github.com/dapr/dapr v${pinnedDaprdVersion(repoRoot)} h1:`));
});

test.run();
