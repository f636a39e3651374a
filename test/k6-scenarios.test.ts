// The k6 scenarios in load/ without k6: each is built with its `k6` imports swapped for recording
// doubles (test/fixtures/k6/), imported with a chosen __ENV, and its default function driven
// iteration by iteration against the fixture app model. What k6 alone can show (real timing,
// the thresholds' verdict) is left to k6; this proves the options, the mix, the chat cap, the
// checks and the summary file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot } from './support/tools.ts';
import { createAppModel } from './fixtures/app-server.ts';
import type { AppModel, AppServerOptions } from './fixtures/app-server.ts';
import { bundleScenario, importScenario } from './fixtures/k6/bundle.ts';
import type { BundledScenario } from './fixtures/k6/bundle.ts';
import { k6Calls, k6State, resetK6Doubles } from './fixtures/k6/recorder.ts';

interface Stage { duration: string; target: number }
interface ScenarioOptions {
  executor: string;
  stages?: Stage[];
  rate?: number;
  timeUnit?: string;
  duration?: string;
  preAllocatedVUs?: number;
  maxVUs?: number;
  startVUs?: number;
}
interface ScenarioModule {
  options: { scenarios: Record<string, ScenarioOptions>; thresholds: Record<string, string[]> };
  default: () => void;
  handleSummary: (data: unknown) => Record<string, string>;
}

const BASE_URL = 'https://todo.example.test';
let hpa: BundledScenario;
let smoke: BundledScenario;

test.before(async () => {
  hpa = await bundleScenario(join(repoRoot, 'load/hpa.ts'));
  smoke = await bundleScenario(join(repoRoot, 'load/smoke.ts'));
});

test.after(() => {
  for (const s of [hpa, smoke]) rmSync(dirname(s.file), { recursive: true, force: true });
});

function onlyScenario(mod: ScenarioModule): ScenarioOptions {
  const all = Object.values(mod.options.scenarios);
  assert.is(all.length, 1, 'one scenario per script');
  const [only] = all;
  if (!only) throw new Error('no scenario');
  return only;
}

/** Runs `iterations` iterations the way k6 numbers them: unique iterationInTest, VUs taking turns. */
function drive(mod: ScenarioModule, iterations: number, vus = 100): void {
  for (let i = 0; i < iterations; i++) {
    k6State.iterationInTest = i;
    k6State.vuIdInTest = (i % vus) + 1;
    mod.default();
  }
}

async function loadWith(scenario: BundledScenario, env: Record<string, string>, app: AppServerOptions = {}): Promise<{ mod: ScenarioModule; app: AppModel }> {
  const model = createAppModel(app);
  resetK6Doubles(model);
  const mod = await importScenario<ScenarioModule>(scenario, { BASE_URL, ...env });
  return { mod, app: model };
}

const endpointOf = (tags: Record<string, string> | undefined) => tags?.endpoint ?? '(untagged)';
const count = (xs: string[], x: string) => xs.filter((v) => v === x).length;
const failedChecks = () => k6Calls.checks.flatMap((c) => Object.entries(c.results).filter(([, ok]) => !ok).map(([name]) => name));

test('scenarios import only k6 modules and name their local files with .ts (as k6 1.x needs)', () => {
  for (const s of [hpa, smoke]) {
    const bare = s.specifiers.filter((p) => !p.startsWith('.'));
    assert.ok(bare.length > 0);
    for (const p of bare) assert.match(p, /^k6(\/(http|metrics|execution|options))?$/, `unexpected import ${p}`);
    for (const p of s.specifiers.filter((x) => x.startsWith('.'))) assert.match(p, /\.ts$/, `import ${p} lacks .ts`);
  }
});

test('hpa: ramping-vus to 100 VUs over 2m/5m/1m by default, with the plan\'s thresholds', async () => {
  const { mod } = await loadWith(hpa, {});
  const sc = onlyScenario(mod);
  assert.is(sc.executor, 'ramping-vus');
  assert.equal(sc.stages, [
    { duration: '2m', target: 100 },
    { duration: '5m', target: 100 },
    { duration: '1m', target: 0 },
  ]);
  assert.is(Math.max(...(sc.stages ?? []).map((s) => s.target)), 100);
  assert.equal(mod.options.thresholds.http_req_duration, ['p(95)<1000']);
  assert.equal(mod.options.thresholds.http_req_failed, ['rate<0.01']);
  assert.equal(mod.options.thresholds.chat_requests, ['count<=200']);
  for (const e of ['frontend', 'health', 'tasks_list', 'tasks_create', 'chat']) {
    assert.ok(`http_req_duration{endpoint:${e}}` in mod.options.thresholds, `per-endpoint latency for ${e}`);
  }
});

test('hpa: RAMP_UP, HOLD, RAMP_DOWN and PEAK_VUS change the stages', async () => {
  const { mod } = await loadWith(hpa, { RAMP_UP: '30s', HOLD: '1m30s', RAMP_DOWN: '10s', PEAK_VUS: '20' });
  assert.equal(onlyScenario(mod).stages, [
    { duration: '30s', target: 20 },
    { duration: '1m30s', target: 20 },
    { duration: '10s', target: 0 },
  ]);
});

test('hpa and smoke stop at init with a clear message when BASE_URL is missing or a setting is malformed', async () => {
  for (const s of [hpa, smoke]) {
    const err = await importScenario(s, {}).then(() => undefined, (e: Error) => e);
    assert.instance(err, Error);
    assert.match(String(err?.message), /BASE_URL is not set/);
    assert.match(String(err?.message), /k6 run -e BASE_URL=/);
  }
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ BASE_URL: 'todo.example.test' }, /BASE_URL must start with http/],
    [{ BASE_URL, RAMP_UP: 'soon' }, /RAMP_UP must be a k6 duration/],
    [{ BASE_URL, PEAK_VUS: '-5' }, /PEAK_VUS must be a whole number/],
    [{ BASE_URL, CHAT_SHARE: '5' }, /CHAT_SHARE must be a fraction/],
    [{ BASE_URL, MAX_CHAT_REQUESTS: 'lots' }, /MAX_CHAT_REQUESTS must be a whole number/],
    [{ BASE_URL, THINK_TIME_MIN: '3', THINK_TIME_MAX: '1' }, /THINK_TIME_MAX/],
  ];
  for (const [env, message] of bad) {
    const err = await importScenario(hpa, env).then(() => undefined, (e: Error) => e);
    assert.match(String(err?.message), message, JSON.stringify(env));
  }
});

test('hpa: against a healthy app every endpoint of the mix is called, tagged, and every check passes', async () => {
  const { mod, app } = await loadWith(hpa, { CHAT_SHARE: '0.05' });
  drive(mod, 400);
  assert.is(k6Calls.http.length, 400, 'one request per iteration');
  const endpoints = k6Calls.http.map((c) => endpointOf(c.params.tags));
  const counts = Object.fromEntries(['frontend', 'health', 'tasks_list', 'tasks_create', 'chat'].map((e) => [e, count(endpoints, e)]));
  assert.is(counts.chat, 20, 'CHAT_SHARE 0.05 of 400 iterations');
  // Weights 3:4:2:1 over the 380 non-chat iterations, within a few requests.
  const expected: Record<string, number> = { frontend: 114, tasks_list: 152, tasks_create: 76, health: 38 };
  for (const [e, n] of Object.entries(expected)) {
    assert.ok(Math.abs((counts[e] ?? 0) - n) <= 6, `${e}: ${counts[e]} requests, expected about ${n}`);
  }
  assert.is(endpoints.length, Object.values(counts).reduce((a, b) => a + b, 0), 'no untagged request');
  for (const c of k6Calls.http) assert.ok(c.params.tags?.name, 'every request has a name tag');
  assert.equal(failedChecks(), []);
  assert.ok(app.tasks.length > 70, 'tasks were created in the app');
  const create = k6Calls.http.find((c) => c.params.tags?.endpoint === 'tasks_create');
  assert.is(create?.method, 'POST');
  assert.is(create?.params.headers?.['Content-Type'], 'application/json');
  assert.type((JSON.parse(create?.body ?? '{}') as { title?: unknown }).title, 'string');
});

test('hpa and smoke: every response goes through check(), tagged with its endpoint', async () => {
  for (const s of [hpa, smoke]) {
    const { mod } = await loadWith(s, {});
    drive(mod, 120);
    assert.is(k6Calls.checks.length, k6Calls.http.length);
    k6Calls.http.forEach((call, i) => {
      const checked = k6Calls.checks[i];
      assert.ok(checked?.value === call.response, `request ${i} (${call.method} ${call.url}) was checked`);
      assert.is(checked?.tags?.endpoint, call.params.tags?.endpoint);
      assert.ok(Object.keys(checked?.results ?? {}).length >= 2, 'status and body are both checked');
    });
  }
});

test('hpa: think time between requests, within THINK_TIME_MIN..THINK_TIME_MAX', async () => {
  const { mod } = await loadWith(hpa, { THINK_TIME_MIN: '0.5', THINK_TIME_MAX: '2' });
  drive(mod, 50);
  assert.is(k6Calls.sleeps.length, 50);
  for (const s of k6Calls.sleeps) assert.ok(s >= 0.5 && s <= 2, `slept ${s}`);
  const defaults = await loadWith(hpa, {});
  drive(defaults.mod, 50);
  assert.is(k6Calls.sleeps.length, 50, 'the defaults think between requests too');
  for (const s of k6Calls.sleeps) assert.ok(s >= 1 && s <= 3, `slept ${s}`);
});

test('hpa: MAX_CHAT_REQUESTS is a hard cap on chat requests, whatever CHAT_SHARE asks for', async () => {
  const { mod } = await loadWith(hpa, { CHAT_SHARE: '0.5', MAX_CHAT_REQUESTS: '7' });
  drive(mod, 300);
  const chats = k6Calls.http.filter((c) => c.url.endsWith('/api/chat'));
  assert.is(chats.length, 7);
  const lastChat = k6Calls.http.lastIndexOf(chats[chats.length - 1] as (typeof chats)[number]);
  assert.ok(lastChat < 20, 'the budget is spent early at share 0.5, and nothing is sent after it');
  const counted = k6Calls.samples.filter((s) => s.metric === 'chat_requests');
  assert.is(counted.reduce((n, s) => n + s.value, 0), 7, 'the chat_requests counter matches');
  assert.ok(k6Calls.metricsCreated.some((m) => m.metric === 'chat_requests' && m.kind === 'counter'));
  assert.equal(mod.options.thresholds.chat_requests, ['count<=7']);

  const none = await loadWith(hpa, { CHAT_SHARE: '1', MAX_CHAT_REQUESTS: '0' });
  drive(none.mod, 100);
  assert.is(k6Calls.http.filter((c) => c.url.endsWith('/api/chat')).length, 0, 'MAX_CHAT_REQUESTS=0 sends no chat');
  const off = await loadWith(hpa, { CHAT_SHARE: '0' });
  drive(off.mod, 100);
  assert.is(k6Calls.http.filter((c) => c.url.endsWith('/api/chat')).length, 0, 'CHAT_SHARE=0 sends no chat');
});

test('hpa: the cap holds for the whole run, not per VU (1000 VUs, cap 10)', async () => {
  const { mod } = await loadWith(hpa, { CHAT_SHARE: '1', MAX_CHAT_REQUESTS: '10', PEAK_VUS: '1000' });
  drive(mod, 2000, 1000);
  assert.is(k6Calls.http.filter((c) => c.url.endsWith('/api/chat')).length, 10);
});

test('AUTH_TOKEN is sent as a bearer token on /api requests only; without it a protected app fails the checks', async () => {
  const { mod, app } = await loadWith(hpa, { AUTH_TOKEN: 'tok-123', CHAT_SHARE: '0.2' }, { requiredToken: 'tok-123' });
  drive(mod, 100);
  assert.equal(failedChecks(), []);
  for (const r of app.requests) {
    const expected = r.path.startsWith('/api/') ? 'Bearer tok-123' : undefined;
    assert.is(r.headers.authorization, expected, `${r.method} ${r.path}`);
  }
  const without = await loadWith(hpa, { CHAT_SHARE: '0.2' }, { requiredToken: 'tok-123' });
  drive(without.mod, 100);
  const failed = failedChecks();
  assert.ok(failed.includes('chat: status 200'));
  assert.ok(failed.includes('tasks list: status 200'));
  assert.not.ok(failed.some((n) => n.startsWith('health') || n.startsWith('frontend')));
  assert.ok(without.app.requests.every((r) => r.headers.authorization === undefined));
});

test('checks catch a broken app: unhealthy health, malformed chat, wrong content types, 500s', async () => {
  const cases: Array<[AppServerOptions['mode'], string[]]> = [
    ['unhealthy', ['health: status 200', 'health: status is healthy']],
    ['chatMalformed', ['chat: reply is text']],
    ['wrongContentType', ['frontend: served as HTML', 'health: status is healthy']],
  ];
  for (const [mode, expected] of cases) {
    const { mod } = await loadWith(hpa, { CHAT_SHARE: '0.1' }, { mode });
    drive(mod, 200);
    const failed = new Set(failedChecks());
    assert.equal([...failed].sort(), [...expected].sort(), `mode ${mode}`);
  }
  const { mod } = await loadWith(hpa, { CHAT_SHARE: '0.1' }, { mode: 'error500' });
  drive(mod, 200);
  assert.is(k6Calls.checks.length, 200);
  assert.ok(k6Calls.checks.every((c) => Object.values(c.results).every((ok) => !ok)), 'error500: every check of every request fails');
});

test('handleSummary writes k6\'s data unchanged as JSON to SUMMARY_PATH and prints a short verdict', async () => {
  const data = {
    root_group: { name: '', path: '', id: 'd41d8cd98f00b204e9800998ecf8427e', groups: [], checks: [] },
    options: { summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'], summaryTimeUnit: '', noColor: false },
    state: { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: 480123.4 },
    metrics: {
      http_req_duration: { type: 'trend', contains: 'time', values: { avg: 268, min: 135, med: 240, max: 1846, 'p(90)': 910, 'p(95)': 1320.7 }, thresholds: { 'p(95)<1000': { ok: false } } },
      http_req_failed: { type: 'rate', contains: 'default', values: { rate: 0.002, passes: 10, fails: 4990 } , thresholds: { 'rate<0.01': { ok: true } } },
      http_reqs: { type: 'counter', contains: 'default', values: { count: 5000, rate: 10.41 } },
      chat_requests: { type: 'counter', contains: 'default', values: { count: 100, rate: 0.2 }, thresholds: { 'count<=200': { ok: true } } },
      vus_max: { type: 'gauge', contains: 'default', values: { value: 100, min: 100, max: 100 } },
    },
  };
  const { mod } = await loadWith(hpa, { SUMMARY_PATH: 'out/run-42.json' });
  const out = mod.handleSummary(data);
  assert.equal(Object.keys(out).sort(), ['out/run-42.json', 'stdout']);
  assert.equal(JSON.parse(out['out/run-42.json'] ?? ''), data);
  const stdout = out.stdout ?? '';
  assert.match(stdout, /5000 requests/);
  assert.match(stdout, /p\(95\) 1321 ms/);
  assert.match(stdout, /FAILED http_req_duration p\(95\)<1000/);
  assert.match(stdout, /ok\s+http_req_failed rate<0\.01/);
  assert.match(stdout, /1 threshold\(s\) failed/);
  assert.match(stdout, /out\/run-42\.json/);
  assert.ok(stdout.split('\n').length < 15, 'short');

  const passing = { ...data, metrics: { ...data.metrics, http_req_duration: { ...data.metrics.http_req_duration, thresholds: { 'p(95)<1000': { ok: true } } } } };
  assert.match(mod.handleSummary(passing).stdout ?? '', /all thresholds passed/);

  const defaults = await loadWith(hpa, {});
  assert.ok('reports/k6-summary.json' in defaults.mod.handleSummary(data));
  const smokeDefaults = await loadWith(smoke, {});
  assert.ok('reports/k6-smoke-summary.json' in smokeDefaults.mod.handleSummary(data));
  const smokeCustom = await loadWith(smoke, { SUMMARY_PATH: 'reports/post-deploy.json' });
  assert.equal(JSON.parse(smokeCustom.mod.handleSummary(data)['reports/post-deploy.json'] ?? ''), data);
});

test('smoke: 2 VUs at a constant arrival rate for 30 s, same thresholds, env overrides', async () => {
  const { mod } = await loadWith(smoke, {});
  const sc = onlyScenario(mod);
  assert.is(sc.executor, 'constant-arrival-rate');
  assert.is(sc.duration, '30s');
  assert.is(sc.rate, 2);
  assert.is(sc.timeUnit, '1s');
  assert.is(sc.preAllocatedVUs, 2);
  assert.is(sc.maxVUs, 2);
  assert.equal(mod.options.thresholds.http_req_duration, ['p(95)<1000']);
  assert.equal(mod.options.thresholds.http_req_failed, ['rate<0.01']);
  const custom = await loadWith(smoke, { SMOKE_VUS: '4', SMOKE_RATE: '5', SMOKE_DURATION: '1m' });
  const c = onlyScenario(custom.mod);
  assert.equal([c.preAllocatedVUs, c.maxVUs, c.rate, c.duration], [4, 4, 5, '1m']);
});

test('smoke: reads only (no task created), covers frontend, health, tasks and a few capped chats', async () => {
  const { mod, app } = await loadWith(smoke, {});
  const tasksBefore = app.tasks.length;
  drive(mod, 60, 2);
  const endpoints = k6Calls.http.map((c) => endpointOf(c.params.tags));
  assert.is(count(endpoints, 'tasks_create'), 0);
  assert.is(app.tasks.length, tasksBefore);
  for (const e of ['frontend', 'health', 'tasks_list']) assert.ok(count(endpoints, e) >= 10, `${e} covered`);
  assert.is(count(endpoints, 'chat'), 5, 'default smoke chat cap');
  assert.equal(failedChecks(), []);
  assert.is(k6Calls.sleeps.length, 0, 'the arrival rate paces the smoke test, not sleeps');
  // Every endpoint shows up within the first iterations, so even a short run covers them.
  const firstSix = new Set(endpoints.slice(0, 6));
  for (const e of ['frontend', 'health', 'tasks_list']) assert.ok(firstSix.has(e), `${e} in the first iterations`);
});

test.run();
