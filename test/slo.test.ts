// slo.mts against the fake az, answering with recorded `az monitor app-insights query` responses
// (test/fixtures/slo/README.md): a healthy month, a spent budget and an empty result, through the
// real script: names from the deployment outputs, the query, the arithmetic, the exit code.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { FakeWorld } from './support/harness.ts';
import { repoRoot } from './support/tools.ts';
import { PROD, rx } from './support/names.ts';

const fixture = (name: string): unknown => {
  const path = join(repoRoot, 'test', 'fixtures', 'slo', name);
  const raw = readFileSync(path);
  return JSON.parse((name.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8'));
};

// `az deployment sub show -o json` of the infrastructure deployment: the outputs slo.mts reads.
const deployment = {
  id: '/subscriptions/11111111-2222-3333-4444-555555555555/providers/Microsoft.Resources/deployments/aks-todo-ops-production-eastus',
  location: 'eastus',
  name: 'aks-todo-ops-production-eastus',
  properties: {
    provisioningState: 'Succeeded',
    outputs: {
      appInsightsName: { type: 'String', value: 'hackathon-todo-production-insights' },
      webTestName: { type: 'String', value: 'hackathon-todo-production-insights-api-health' },
      resourceGroupName: { type: 'String', value: PROD.resourceGroup },
    },
  },
};

// The 30-day answers are ~1 MB of JSON, printed by the fake and parsed by the script: a slower
// simulated clock (0.1 real ms per simulated ms) keeps the runner's 120 s command timeout (12 real
// seconds) above what a loaded machine takes, so a timeout cannot cut the answer short.
const SLOW = { timeScale: 0.1 };

function world(answer: unknown): FakeWorld {
  return new FakeWorld()
    .on('az', ['deployment', 'sub', 'show'], { json: deployment })
    .on('az', ['monitor', 'app-insights', 'query'], { json: answer });
}

test('a healthy month: availability per window, budget left, worst incidents first; exit 0', async () => {
  const w = world(fixture('healthy-month.json.gz'));
  const r = await w.run('slo', ['--env', 'production'], SLOW);
  assert.is(r.code, 0, r.output);
  assert.match(r.stdout, / 1d {2}ok {3}99\.931% of 99\.9% {2}\(1 of 1440 checks failed; budget 1\.4 min, spent 1, left 0\.4\)/);
  assert.match(r.stdout, / 7d {2}ok {3}99\.990% of 99\.9%/);
  assert.match(r.stdout, /30d {2}ok {3}99\.981% of 99\.9% {2}\(8 of 43200 checks failed; budget 43\.2 min, spent 8, left 35\.2\)/);
  // The 10-minute incident (7 min equivalent) before the single failed check (1 min).
  assert.match(r.stdout, /worst incidents:\n.*2026-11-20T12:00:00\.000Z → 2026-11-20T12:10:00\.000Z {2}~7 min down \(7 of 10 checks failed\)\n.*2026-11-30T09:00:00\.000Z → 2026-11-30T09:05:00\.000Z {2}~1 min down/);
  assert.match(r.stdout.trim().split('\n').pop()!, /^slo: production meets 99\.9%: 99\.981% over 30 days, 35\.2 of 43\.2 budget minutes left$/);

  const [show] = w.callsOf('az', 'deployment', 'show');
  assert.equal(show!.args, ['deployment', 'sub', 'show', '--name', 'aks-todo-ops-production-eastus', '-o', 'json']);
  const [query] = w.callsOf('az', 'app-insights', 'query');
  const at = (flag: string) => query!.args[query!.args.indexOf(flag) + 1];
  assert.is(at('--app'), 'hackathon-todo-production-insights');
  assert.is(at('--resource-group'), PROD.resourceGroup);
  assert.ok(!query!.args.some((a) => a.includes('dynamic')), 'the extension setting travels in the environment, not argv');
  assert.match(at('--analytics-query')!, /^availabilityResults \| where timestamp > ago\(30d\) and name == 'hackathon-todo-production-insights-api-health' \| summarize total = count\(\), failed = countif\(.*\) by bin\(timestamp, 5m\)/);
});

test('--json: the windows, budget and incidents as one document', async () => {
  const r = await world(fixture('healthy-month.json.gz')).run('slo', ['--env', 'production', '--json'], SLOW);
  assert.is(r.code, 0, r.output);
  const doc = JSON.parse(r.stdout) as { ok: boolean; budgetSpent: boolean; measuredAt: string; windows: Array<{ days: number; availabilityPercent: number; leftMinutes: number }>; worstIncidents: Array<{ downtimeMinutes: number }> };
  assert.is(doc.ok, true);
  assert.is(doc.budgetSpent, false);
  assert.is(doc.measuredAt, '2026-11-30T12:00:00.000Z');
  assert.equal(doc.windows.map((x) => [x.days, x.availabilityPercent, x.leftMinutes]), [[1, 99.931, 0.4], [7, 99.99, 9.1], [30, 99.981, 35.2]]);
  assert.equal(doc.worstIncidents.map((i) => i.downtimeMinutes), [7, 1]);
});

test('a spent budget: 70 of 43.2 minutes used, the 50-minute outage listed first; exit 1 with a hint', async () => {
  const r = await world(fixture('budget-spent.json.gz')).run('slo', ['--env', 'production'], SLOW);
  assert.is(r.code, 1, r.output);
  assert.match(r.stdout, / 1d {2}ok {3}100\.000%/);
  assert.match(r.stdout, / 7d {2}MISS 99\.504% of 99\.9% {2}\(50 of 10080 checks failed; budget 10\.1 min, spent 50, left -39\.9\)/);
  assert.match(r.stdout, /30d {2}MISS 99\.838%/);
  assert.match(r.stdout, /worst incidents:\n.*2026-11-28T12:00:00\.000Z → 2026-11-28T12:50:00\.000Z {2}~50 min down \(50 of 50 checks failed\)\n.*2026-11-10T12:00:00\.000Z → 2026-11-10T12:20:00\.000Z {2}~20 min down/);
  assert.match(r.stdout, /^slo: error budget spent for production: 99\.838% over 30 days against 99\.9% \(70 of 43\.2 minutes used\)$/m);
  assert.match(r.stderr, /^hint: freeze risky changes until the budget recovers/m);
});

test('an empty result: nothing measured, so nothing claimed; exit 1 pointing at the test', async () => {
  const r = await world(fixture('empty.json')).run('slo', ['--env', 'production', '--json'], SLOW);
  assert.is(r.code, 1, r.output);
  const doc = JSON.parse(r.stdout) as { summary: string; noData: boolean; hint: string; windows: Array<{ checks: number; availabilityPercent: null }> };
  assert.is(doc.noData, true);
  assert.match(doc.summary, /no availability results for production in the last 30 days/);
  assert.ok(doc.windows.every((x) => x.checks === 0 && x.availabilityPercent === null));
  assert.match(doc.hint, /availability test runs/);
});

test('--objective 99.99 turns the healthy month into a spent budget (the objective is really used)', async () => {
  const r = await world(fixture('healthy-month.json.gz')).run('slo', ['--env', 'production', '--objective', '99.99'], SLOW);
  assert.is(r.code, 1, r.output);
  assert.match(r.stdout, /error budget spent .* against 99\.99% \(8 of 4\.3 minutes used\)/);
});

test('--dry-run queries nothing and prints the query it would run', async () => {
  const w = world(fixture('healthy-month.json.gz'));
  const r = await w.run('slo', ['--env', 'production', '--dry-run'], SLOW);
  assert.is(r.code, 0, r.output);
  assert.is(w.callsOf('az', 'app-insights').length, 0);
  assert.is(w.callsOf('az', 'deployment').length, 0);
  assert.match(r.output, new RegExp(`az monitor app-insights query --app <appInsightsName> --resource-group ${rx(PROD.resourceGroup)}`));
  assert.match(r.stdout, /slo: dry run for production; no query was made/);
});

test('an answer of another shape is a clean error, and a deployment without the outputs is exit 2', async () => {
  const bad = await world({ value: [] }).run('slo', ['--env', 'production'], SLOW);
  assert.is(bad.code, 1, bad.output);
  assert.match(bad.stderr, /^error: unexpected answer from az monitor app-insights query: expected an array at tables, got nothing$/m);
  assert.not.match(bad.output, /TypeError|\n +at /);

  const noOutputs = new FakeWorld()
    .on('az', ['deployment', 'sub', 'show'], { json: { ...deployment, properties: { provisioningState: 'Succeeded', outputs: {} } } });
  const r = await noOutputs.run('slo', ['--env', 'production'], SLOW);
  assert.is(r.code, 2, r.output);
  assert.match(r.stderr, /no appInsightsName\/webTestName output: the availability test is not deployed yet/);
  // --app-insights and --web-test skip the deployment lookup.
  const w = new FakeWorld().on('az', ['monitor', 'app-insights', 'query'], { json: fixture('empty.json') });
  const direct = await w.run('slo', ['--env', 'production', '--app-insights', 'my-ai', '--web-test', 'my-test'], SLOW);
  assert.is(direct.code, 1);
  assert.is(w.callsOf('az', 'deployment').length, 0);
  assert.match(w.callsOf('az', 'app-insights')[0]!.args.join(' '), /--app my-ai .*name == 'my-test'/);
});

test('a local environment is a usage error: slo reads Azure', async () => {
  const r = await new FakeWorld().run('slo', ['--env', 'local'], SLOW);
  assert.is(r.code, 2, r.output);
  assert.match(r.stderr, /local has no azure: section/);
});

test.run();
