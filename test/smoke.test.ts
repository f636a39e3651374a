// smoke.mts as a subprocess, making real HTTP requests to the fixture app server on 127.0.0.1.
// Time is scaled (0.01 unless a test says otherwise): a "100 s" deadline is one real second. A test
// that needs a retry gives the deadline at least that: one attempt, on a busy 2-core machine, can take
// 100 real ms (10 simulated seconds) or more, and shorter deadlines pass before a second attempt.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAppServer } from './fixtures/app-server.ts';
import type { AppServer, AppServerOptions } from './fixtures/app-server.ts';
import { FakeWorld } from './support/harness.ts';
import type { RunOptions, RunResult } from './support/harness.ts';
import { repoRoot } from './support/tools.ts';

const servers: AppServer[] = [];
const extraServers: Server[] = [];

async function app(options: AppServerOptions = {}): Promise<AppServer> {
  const server = await startAppServer(options);
  servers.push(server);
  return server;
}

test.after.each(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(extraServers.splice(0).map((s) => new Promise<void>((done) => { s.close(() => done()); s.closeAllConnections(); })));
});

interface Check { name: string; ok: boolean; status?: number; latencyMs: number; attempts: number; detail: string; bodyStart?: string; request?: string }
interface SmokeDoc { script: string; ok: boolean; exitCode: number; summary: string; url: string; checks: Check[]; planned?: Array<{ name: string; method: string; url: string; authorization?: string }> }

/** Runs smoke.mts; every run also proves smoke never calls az, helm or kubectl. */
async function smoke(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await new FakeWorld().run('smoke', args, { timeScale: 0.01, killAfterMs: 30_000, ...opts });
  assert.is(r.calls.length, 0, `smoke called a CLI: ${JSON.stringify(r.calls)}`);
  return r;
}

function doc(r: RunResult): SmokeDoc {
  try {
    return JSON.parse(r.stdout) as SmokeDoc;
  } catch {
    throw new Error(`stdout is not one JSON document:\n${r.output}`);
  }
}

function check(d: SmokeDoc, name: string): Check {
  const c = d.checks.find((x) => x.name === name);
  if (!c) throw new Error(`no ${name} check in ${JSON.stringify(d.checks)}`);
  return c;
}

const lastLine = (text: string) => text.trim().split('\n').pop() ?? '';
const paths = (s: AppServer) => s.requests.map((r) => `${r.method} ${r.path}`);

test('healthy: three checks pass, one line each, summary names the URL; the chat check POSTs the test message', async () => {
  const s = await app();
  const r = await smoke(['--url', s.url]);
  assert.is(r.code, 0, r.output);
  assert.match(r.stdout, new RegExp(`ok +frontend: GET ${s.url}/ → 200 text/html`));
  assert.match(r.stdout, /ok +health: GET .*\/api\/health → 200 \{"status":"healthy"\}/);
  assert.match(r.stdout, /ok +chat: POST .*\/api\/chat → 200 reply: "You said: /);
  assert.match(lastLine(r.stdout), new RegExp(`^smoke: 3/3 checks passed against ${s.url.replace(/[.]/g, '\\.')} in \\d`));
  assert.equal(paths(s), ['GET /', 'GET /api/health', 'POST /api/chat']);
  const chat = s.requests[2]!;
  assert.match(chat.headers['content-type'] ?? '', /^application\/json/);
  assert.equal(JSON.parse(chat.body), { message: 'aks-todo-ops smoke test: list my tasks' });
  assert.is(chat.headers.authorization, undefined, 'no Authorization header without SMOKE_AUTH_TOKEN');
});

test('unhealthy JSON: health fails with 503 and the start of the body; the other checks still run; exit 1', async () => {
  const s = await app({ mode: 'unhealthy' });
  const r = await smoke(['--url', s.url, '--deadline', '100']);
  assert.is(r.code, 1, r.output);
  assert.match(r.stdout, /FAILED health: GET .*\/api\/health → 503 \(expected 200\); gave up at the deadline after \d+ attempts?/);
  assert.match(r.stdout, /body: "\{\\"status\\":\\"unhealthy\\",\\"database\\":\\"unreachable\\"\}"/);
  assert.match(r.stdout, /ok +frontend/);
  assert.match(r.stdout, /ok +chat/);
  assert.match(lastLine(r.stdout), /^smoke: 2\/3 checks passed against .* \(failed: health\)$/);
  assert.ok(s.requests.filter((q) => q.path === '/api/health').length > 1, 'health was retried');
});

test('500 everywhere: every check fails with status 500 and its body, after retrying', async () => {
  const s = await app({ mode: 'error500' });
  const r = await smoke(['--url', s.url, '--deadline', '100', '--json']);
  assert.is(r.code, 1, r.output);
  const d = doc(r);
  assert.is(d.ok, false);
  assert.is(d.exitCode, 1);
  assert.equal(d.checks.map((c) => [c.name, c.ok, c.status]), [['frontend', false, 500], ['health', false, 500], ['chat', false, 500]]);
  assert.is(check(d, 'frontend').bodyStart, 'Internal Server Error');
  assert.is(check(d, 'health').bodyStart, '{"detail":"Internal Server Error"}');
  assert.ok(check(d, 'frontend').attempts > 1, 'a 500 is retried until the deadline');
  assert.match(d.summary, /^smoke: 0\/3 checks passed .*\(failed: frontend, health, chat\)$/);
});

test('slow then healthy: an attempt past --check-timeout is abandoned and the retry passes', async () => {
  // Real time here (scale 1): the per-attempt timeout must be shorter than the fixture's delay.
  const s = await app({ mode: 'slowThenHealthy', slowRequests: 1, slowDelayMs: 5000 });
  const r = await smoke(['--url', s.url, '--check-timeout', '0.3', '--deadline', '10', '--json'], { timeScale: 1 });
  assert.is(r.code, 0, r.output);
  const d = doc(r);
  // The script's own duration (Node's start-up, slow on a busy machine, is not in it).
  // Waiting for the held answer would take 5 s by itself; the attempt count below is the main proof.
  const durationMs = (d as unknown as { durationMs: number }).durationMs;
  assert.ok(durationMs < 5000, `took ${durationMs} ms: waited for the 5 s answer`);
  const frontend = check(d, 'frontend');
  assert.is(frontend.ok, true);
  assert.is(frontend.attempts, 2);
  assert.is(check(d, 'health').attempts, 1);
  assert.match(r.stderr, /waiting: frontend \(GET [^)]+\) attempt 1: no answer within 300ms \(timed out\)/);
});

test('connection refused, then healthy: refusals are retried until the port opens', async () => {
  // The port stays closed until the script reports the first refusal, however long it takes to start
  // (the 60 s fallback is never reached), then opens; the deadline leaves time for any number of retries.
  const s = await app({ listenAfterMs: 60_000 });
  let seen = '';
  const r = await smoke(['--url', s.url, '--deadline', '30m', '--json'], {
    onSpawn: (child) => child.stderr?.on('data', (d: Buffer) => {
      seen += d.toString();
      if (/attempt 1: connection refused/.test(seen)) void s.openNow();
    }),
  });
  assert.is(r.code, 0, r.output);
  const frontend = check(doc(r), 'frontend');
  assert.is(frontend.ok, true);
  assert.ok(frontend.attempts > 1, `attempts: ${frontend.attempts}`);
  assert.match(r.stderr, /waiting: frontend \(GET [^)]+\) attempt 1: connection refused/);
  assert.equal(paths(s), ['GET /', 'GET /api/health', 'POST /api/chat'], 'the refused attempts never reached the server');
});

test('wrong content type: JSON at / and text at /api/health both fail and say what came back', async () => {
  const s = await app({ mode: 'wrongContentType' });
  const r = await smoke(['--url', s.url, '--deadline', '5']);
  assert.is(r.code, 1, r.output);
  assert.match(r.stdout, /FAILED frontend: .*→ 200 but the content type is application\/json \(expected text\/html\)/);
  assert.match(r.stdout, /body: "\{\\"message\\":\\"this is the API, not the frontend\\"\}"/);
  assert.match(r.stdout, /FAILED health: .*→ 200 but the content type is text\/plain \(expected JSON\)/);
  assert.match(r.stdout, /body: "status: healthy"/);
  assert.match(r.stdout, /ok +chat/);
});

test('chat reply malformed: a 200 without reply/response/message fails the chat check only', async () => {
  const s = await app({ mode: 'chatMalformed' });
  const r = await smoke(['--url', s.url, '--deadline', '5', '--json']);
  assert.is(r.code, 1, r.output);
  const d = doc(r);
  assert.is(check(d, 'frontend').ok, true);
  assert.is(check(d, 'health').ok, true);
  const chat = check(d, 'chat');
  assert.is(chat.ok, false);
  assert.is(chat.status, 200);
  assert.match(chat.detail, /no non-empty string field reply, response, message/);
  assert.is(chat.bodyStart, '{"oops":true}');
});

test('deadline expiry reports the last status seen, not the first', async () => {
  const s = await app({ mode: 'error500' });
  // Once the first request arrives, the app turns from 500 to 503-unhealthy.
  const watcher = (async () => {
    const t0 = Date.now();
    while (s.requests.length === 0 && Date.now() - t0 < 20_000) await new Promise((done) => setTimeout(done, 2));
    s.setMode('unhealthy');
  })();
  const r = await smoke(['--url', s.url, '--deadline', '100', '--json']);
  await watcher;
  assert.is(r.code, 1, r.output);
  const d = doc(r);
  const frontend = check(d, 'frontend');
  assert.is(frontend.ok, true, 'the frontend recovered after the 500s');
  assert.ok(frontend.attempts > 1);
  assert.match(r.stderr, /waiting: frontend \(GET [^)]+\) attempt 1: 500 \(expected 200\)/);
  const health = check(d, 'health');
  assert.is(health.ok, false);
  assert.is(health.status, 503);
  assert.match(health.detail, /^503 \(expected 200\); gave up at the deadline after \d+ attempts over /);
  assert.match(health.bodyStart ?? '', /"status":"unhealthy"/);
  assert.ok((doc(r) as unknown as { durationMs: number }).durationMs >= 100_000, 'ran until the deadline');
});

test('SMOKE_AUTH_TOKEN is sent as a Bearer header and never printed, even when the app echoes it back', async () => {
  const token = 'smk_live_9f8e7d6c5b4a39281706';
  const s = await app({ requiredToken: token });
  for (const extra of [[], ['--verbose'], ['--json', '--verbose'], ['--dry-run']]) {
    const r = await smoke(['--url', s.url, ...extra], { env: { SMOKE_AUTH_TOKEN: token } });
    assert.is(r.code, 0, r.output);
    assert.not.ok(r.output.includes(token), `token printed with ${extra.join(' ')}`);
    assert.not.ok(r.output.includes(Buffer.from(token).toString('base64')));
  }
  const chats = s.requests.filter((q) => q.path === '/api/chat');
  assert.is(chats.length, 3, 'the dry run sent nothing');
  for (const c of chats) assert.is(c.headers.authorization, `Bearer ${token}`);

  // An app that puts the header into an error body: the report keeps the body, masked.
  const echo = createServer((req, res) => {
    if (req.url === '/') { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<html></html>'); return; }
    if (req.url === '/api/health') { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"status":"healthy"}'); return; }
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(`upstream rejected header: ${req.headers.authorization ?? ''}`);
  });
  extraServers.push(echo);
  await new Promise<void>((done) => echo.listen(0, '127.0.0.1', () => done()));
  const echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
  const r = await smoke(['--url', echoUrl, '--deadline', '3', '--json'], { env: { SMOKE_AUTH_TOKEN: token } });
  assert.is(r.code, 1, r.output);
  assert.not.ok(r.output.includes(token), 'token printed from an echoed body');
  assert.is(check(doc(r), 'chat').bodyStart, 'upstream rejected header: ***');
});

test('a rejected token (401) fails at once instead of waiting for the deadline', async () => {
  const s = await app({ requiredToken: 'the-right-token' });
  const r = await smoke(['--url', s.url, '--deadline', '600', '--json'], { env: { SMOKE_AUTH_TOKEN: 'the-wrong-token' } });
  assert.is(r.code, 1, r.output);
  const chat = check(doc(r), 'chat');
  assert.is(chat.status, 401);
  assert.is(chat.attempts, 1);
  assert.match(chat.detail, /^401 \(expected 200\); not retried/);
  assert.not.ok(r.output.includes('the-wrong-token'));
  assert.is(s.requests.filter((q) => q.path === '/api/chat').length, 1);
});

test('--json: one document on stdout with url and every check; progress as JSON lines on stderr', async () => {
  const s = await app();
  const r = await smoke(['--url', s.url, '--json']);
  assert.is(r.code, 0, r.output);
  const d = doc(r);
  assert.is(d.script, 'smoke');
  assert.is(d.ok, true);
  assert.is(d.exitCode, 0);
  assert.is(d.url, s.url);
  assert.match(d.summary, /^smoke: 3\/3 checks passed against /);
  assert.equal(d.checks.map((c) => c.name), ['frontend', 'health', 'chat']);
  for (const c of d.checks) {
    assert.equal(Object.keys(c).sort(), ['attempts', 'detail', 'latencyMs', 'name', 'ok', 'request', 'status']);
    assert.is(c.ok, true);
    assert.is(c.status, 200);
    assert.is(c.attempts, 1);
    assert.type(c.latencyMs, 'number');
    assert.ok(c.latencyMs >= 0);
  }
  assert.is(check(d, 'chat').request, `POST ${s.url}/api/chat`);
  const events = r.stderr.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: string; message?: string });
  assert.is(events.filter((e) => e.event === 'info' && /^ok +/.test(e.message ?? '')).length, 3);
});

test('--dry-run prints each request it would make and makes none', async () => {
  const s = await app();
  const r = await smoke(['--url', s.url, '--dry-run', '--auth-check']);
  assert.is(r.code, 0, r.output);
  assert.match(r.stdout, new RegExp(`\\[dry-run\\] would run: GET ${s.url}/ +# frontend: expects 200 with an HTML content type`));
  assert.match(r.stdout, /would run: GET \S+\/api\/health +# health: expects 200 with JSON \{"status":"healthy"\}/);
  assert.match(r.stdout, /would run: POST \S+\/api\/chat \(body \{"message":"aks-todo-ops smoke test: list my tasks"\}\)/);
  assert.match(r.stdout, /would run: GET \S+\/api\/auth\/session/);
  assert.match(lastLine(r.stdout), /^smoke: dry run, 4 checks planned against .*; no request was made$/);
  const j = await smoke(['--url', s.url, '--dry-run', '--json']);
  assert.equal(doc(j).planned?.map((p) => `${p.method} ${p.url}`), [`GET ${s.url}/`, `GET ${s.url}/api/health`, `POST ${s.url}/api/chat`]);
  assert.is(s.requests.length, 0, `the fixture server saw: ${paths(s).join(', ')}`);
});

test("without --url the environment's url is used", async () => {
  const s = await app();
  const w = new FakeWorld();
  const file = join(w.dir, 'smoke-env.yaml');
  writeFileSync(file, readFileSync(join(repoRoot, 'environments', 'local.yaml'), 'utf8').replace(/^url: .*$/m, `url: ${s.url}`));
  const r = await w.run('smoke', ['--env', file], { timeScale: 0.01 });
  assert.is(r.code, 0, r.output);
  assert.match(lastLine(r.stdout), new RegExp(`against ${s.url.replace(/[.]/g, '\\.')} in`));
  assert.equal(paths(s), ['GET /', 'GET /api/health', 'POST /api/chat']);
});

test('--no-chat skips the chat check; --chat-path and --chat-message are what is sent; a 422 fails at once', async () => {
  const s = await app();
  const noChat = await smoke(['--url', s.url, '--no-chat']);
  assert.is(noChat.code, 0, noChat.output);
  assert.match(lastLine(noChat.stdout), /^smoke: 2\/2 checks passed/);
  assert.equal(paths(s), ['GET /', 'GET /api/health']);

  const custom = await smoke(['--url', s.url, '--no-chat=false', '--chat-message', 'how many tasks?', '--json']);
  assert.is(custom.code, 0, custom.output);
  assert.equal(JSON.parse(s.requests.at(-1)!.body), { message: 'how many tasks?' });
  assert.match(check(doc(custom), 'chat').detail, /reply: "You said: how many tasks\?/);

  // /api/tasks wants a title, so the fixture answers 422: a request the app refuses is not retried.
  const wrongPath = await smoke(['--url', s.url, '--chat-path', '/api/tasks', '--deadline', '600', '--json']);
  assert.is(wrongPath.code, 1, wrongPath.output);
  const chat = check(doc(wrongPath), 'chat');
  assert.is(chat.request, `POST ${s.url}/api/tasks`);
  assert.is(chat.status, 422);
  assert.is(chat.attempts, 1);
  assert.match(chat.bodyStart ?? '', /Field required/);
});

test('--auth-check adds a check of the auth route; --auth-path moves it', async () => {
  const s = await app();
  // The fixture app has no auth route: 404 is retried (an ingress may not route yet), then fails.
  const missing = await smoke(['--url', s.url, '--auth-check', '--deadline', '5', '--json']);
  assert.is(missing.code, 1, missing.output);
  const auth = check(doc(missing), 'auth');
  assert.is(auth.request, `GET ${s.url}/api/auth/session`);
  assert.is(auth.status, 404);
  assert.match(auth.detail, /^404 \(expected 200\); gave up at the deadline/);
  const present = await smoke(['--url', s.url, '--auth-check', '--auth-path', '/api/tasks']);
  assert.is(present.code, 0, present.output);
  assert.match(present.stdout, /ok +auth: GET \S+\/api\/tasks → 200 application\/json/);
  assert.match(lastLine(present.stdout), /^smoke: 4\/4 checks passed/);
});

test('usage errors exit 2 before any request: bad URL, zero deadline, out-of-range durations, relative chat path', async () => {
  const s = await app();
  for (const [args, message] of [
    [['--url', 'ftp://127.0.0.1/'], /error: the smoke URL must be http or https/],
    [['--url', 'not a url'], /error: not a URL: "not a url"/],
    [['--url', s.url, '--deadline', '0'], /error: --deadline needs a duration such as 90s, 5m or 300 \(seconds\) \(got "0"\)/],
    // 1000 h is past Node's timer limit: unbounded, every attempt "timed out" at once and smoke retried for ten hours.
    [['--url', s.url, '--check-timeout', '1000h', '--deadline', '10h'], /error: --check-timeout must be between 1ms and 10m \(got "1000h"\)/],
    [['--url', s.url, '--deadline', '10h'], /error: --deadline must be between 1ms and 1h \(got "10h"\)/],
    [['--url', s.url, '--chat-path', 'api/chat'], /error: --chat-path must start with \//],
  ] as const) {
    const r = await smoke([...args]);
    assert.is(r.code, 2, r.output);
    assert.match(r.stderr, message);
    assert.match(r.stderr, /hint: /);
    assert.not.match(r.stderr, /TimeoutOverflowWarning/);
  }
  assert.is(s.requests.length, 0);
});

test.run();
