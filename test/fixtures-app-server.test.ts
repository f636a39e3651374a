// The fixture app server answers real HTTP on 127.0.0.1 the way each mode promises.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startAppServer } from './fixtures/app-server.ts';
import type { AppServer } from './fixtures/app-server.ts';

const servers: AppServer[] = [];
async function start(...args: Parameters<typeof startAppServer>): Promise<AppServer> {
  const server = await startAppServer(...args);
  servers.push(server);
  return server;
}

test.after.each(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

/** The error code under fetch's generic "fetch failed", e.g. ECONNREFUSED. */
async function fetchErrorCode(url: string, init?: RequestInit): Promise<string> {
  try {
    const res = await fetch(url, init);
    return `HTTP ${res.status}`;
  } catch (e) {
    const cause = (e as { cause?: { code?: string; name?: string } }).cause;
    return cause?.code ?? (e as Error).name;
  }
}

test('healthy: / is HTML, health is healthy JSON, on a random 127.0.0.1 port', async () => {
  const app = await start();
  assert.match(app.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const page = await fetch(`${app.url}/`);
  assert.is(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(await page.text(), /<html/);
  const health = await fetch(`${app.url}/api/health`);
  assert.is(health.status, 200);
  assert.match(health.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(await health.json(), { status: 'healthy', database: 'ok' });
});

test('healthy: chat answers {reply, conversation_id} and keeps a given conversation id', async () => {
  const app = await start();
  const first = await post(`${app.url}/api/chat`, { message: 'hello' });
  assert.is(first.status, 200);
  const body = await first.json() as { reply: unknown; conversation_id: unknown };
  assert.type(body.reply, 'string');
  assert.match(String(body.reply), /hello/);
  assert.type(body.conversation_id, 'string');
  const again = await post(`${app.url}/api/chat`, { message: 'more', conversation_id: body.conversation_id });
  assert.is((await again.json() as { conversation_id: unknown }).conversation_id, body.conversation_id);
});

test('healthy: chat without a message is a 422 validation error', async () => {
  const app = await start();
  assert.is((await post(`${app.url}/api/chat`, {})).status, 422);
  assert.is((await fetch(`${app.url}/api/chat`, { method: 'POST', body: 'not json' })).status, 422);
});

test('healthy: tasks list is a JSON array; create answers 201 with the task, which then is listed', async () => {
  const app = await start();
  const before = await (await fetch(`${app.url}/api/tasks`)).json() as unknown[];
  assert.ok(Array.isArray(before));
  const created = await post(`${app.url}/api/tasks`, { title: 'Write runbook', description: 'deploy + rollback' });
  assert.is(created.status, 201);
  const task = await created.json() as { id: unknown; title: unknown; completed: unknown };
  assert.type(task.id, 'number');
  assert.is(task.title, 'Write runbook');
  assert.is(task.completed, false);
  const after = await (await fetch(`${app.url}/api/tasks`)).json() as Array<{ id: unknown }>;
  assert.is(after.length, before.length + 1);
  assert.ok(after.some((t) => t.id === task.id));
  assert.is((await post(`${app.url}/api/tasks`, { description: 'no title' })).status, 422);
});

test('unknown routes are 404 and wrong methods 405, as FastAPI answers', async () => {
  const app = await start();
  assert.is((await fetch(`${app.url}/api/nope`)).status, 404);
  assert.is((await fetch(`${app.url}/api/chat`)).status, 405);
  assert.is((await fetch(`${app.url}/api/health`, { method: 'POST' })).status, 405);
});

test('requests are recorded: method, path with query, lower-case headers, body', async () => {
  const app = await start();
  await fetch(`${app.url}/api/health?probe=1`, { headers: { 'X-Probe': 'yes' } });
  await post(`${app.url}/api/chat`, { message: 'recorded' }, { Authorization: 'Bearer abc' });
  assert.is(app.requests.length, 2);
  const [health, chat] = app.requests;
  assert.is(health?.method, 'GET');
  assert.is(health?.path, '/api/health?probe=1');
  assert.is(health?.headers['x-probe'], 'yes');
  assert.is(chat?.method, 'POST');
  assert.is(chat?.path, '/api/chat');
  assert.is(chat?.headers.authorization, 'Bearer abc');
  assert.equal(JSON.parse(chat?.body ?? ''), { message: 'recorded' });
});

test('requiredToken: chat and tasks are 401 without the bearer token or with a wrong one; health and / stay public', async () => {
  const app = await start({ requiredToken: 's3cret' });
  assert.is((await post(`${app.url}/api/chat`, { message: 'hi' })).status, 401);
  assert.is((await post(`${app.url}/api/chat`, { message: 'hi' }, { Authorization: 'Bearer wrong' })).status, 401);
  assert.is((await fetch(`${app.url}/api/tasks`)).status, 401);
  assert.is((await post(`${app.url}/api/chat`, { message: 'hi' }, { Authorization: 'Bearer s3cret' })).status, 200);
  assert.is((await fetch(`${app.url}/api/tasks`, { headers: { Authorization: 'Bearer s3cret' } })).status, 200);
  assert.is((await fetch(`${app.url}/api/health`)).status, 200);
  assert.is((await fetch(`${app.url}/`)).status, 200);
});

test('unhealthy: health is 503 {"status":"unhealthy","database":"unreachable"}; the rest still works', async () => {
  const app = await start({ mode: 'unhealthy' });
  const health = await fetch(`${app.url}/api/health`);
  assert.is(health.status, 503);
  assert.equal(await health.json(), { status: 'unhealthy', database: 'unreachable' });
  assert.is((await fetch(`${app.url}/`)).status, 200);
  assert.is((await post(`${app.url}/api/chat`, { message: 'hi' })).status, 200);
});

test('error500: every route answers 500', async () => {
  const app = await start({ mode: 'error500' });
  const answers = await Promise.all([
    fetch(`${app.url}/`),
    fetch(`${app.url}/api/health`),
    fetch(`${app.url}/api/tasks`),
    post(`${app.url}/api/tasks`, { title: 'x' }),
    post(`${app.url}/api/chat`, { message: 'hi' }),
  ]);
  assert.equal(answers.map((r) => r.status), [500, 500, 500, 500, 500]);
});

test('slowThenHealthy: the first N requests are held past the delay, then answers are immediate', async () => {
  // A delay long enough that "immediate" can be told from "held" with seconds of room on a busy machine.
  const DELAY = 1500;
  const app = await start({ mode: 'slowThenHealthy', slowRequests: 2, slowDelayMs: DELAY });
  let t = Date.now();
  assert.is(await fetchErrorCode(`${app.url}/api/health`, { signal: AbortSignal.timeout(60) }), 'TimeoutError');
  const second = await fetch(`${app.url}/api/health`);
  assert.is(second.status, 200);
  // A lower bound: timers never fire much early, however busy the machine.
  assert.ok(Date.now() - t >= DELAY - 10, `second request answered after ${Date.now() - t} ms, expected the delay`);
  t = Date.now();
  // A held answer would take the whole delay; anything clearly below it was not held.
  const third = await fetch(`${app.url}/api/health`);
  const thirdMs = Date.now() - t;
  assert.is(third.status, 200);
  assert.equal(await third.json(), { status: 'healthy', database: 'ok' });
  assert.ok(thirdMs < DELAY - 300, `third request answered after ${thirdMs} ms: it was held like the first two`);
  assert.is(app.requests.length, 3);
});

test('wrongContentType: / is served as application/json and health as text/plain', async () => {
  const app = await start({ mode: 'wrongContentType' });
  const page = await fetch(`${app.url}/`);
  assert.is(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^application\/json/);
  const health = await fetch(`${app.url}/api/health`);
  assert.is(health.status, 200);
  assert.match(health.headers.get('content-type') ?? '', /^text\/plain/);
  assert.not.match(await health.text(), /^\{/);
});

test('chatMalformed: chat answers 200 with {"oops":true}; health stays healthy', async () => {
  const app = await start({ mode: 'chatMalformed' });
  const chat = await post(`${app.url}/api/chat`, { message: 'hi' });
  assert.is(chat.status, 200);
  assert.equal(await chat.json(), { oops: true });
  assert.is((await fetch(`${app.url}/api/health`)).status, 200);
});

test('flapping: health alternates healthy, unhealthy, healthy, unhealthy', async () => {
  const app = await start({ mode: 'flapping' });
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push((await fetch(`${app.url}/api/health`)).status);
  assert.equal(statuses, [200, 503, 200, 503]);
});

test('refusedThenHealthy: the URL is known at once, connections are refused until listenAfterMs, then healthy', async () => {
  const t = Date.now();
  const app = await start({ listenAfterMs: 300 });
  assert.is(app.mode, 'refusedThenHealthy');
  assert.match(app.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.is(await fetchErrorCode(`${app.url}/api/health`), 'ECONNREFUSED');
  await app.whenListening();
  assert.ok(Date.now() - t >= 290, `listening after ${Date.now() - t} ms`);
  const health = await fetch(`${app.url}/api/health`);
  assert.is(health.status, 200);
  assert.equal(await health.json(), { status: 'healthy', database: 'ok' });
  assert.is(app.requests.length, 1, 'the refused attempt never reached the app');
});

test('setMode switches a running server, refusedThenHealthy included (same URL afterwards)', async () => {
  const app = await start({ listenAfterMs: 300, mode: 'healthy' });
  assert.is((await fetch(`${app.url}/api/health`)).status, 200);
  app.setMode('unhealthy');
  assert.is(app.mode, 'unhealthy');
  assert.is((await fetch(`${app.url}/api/health`)).status, 503);
  app.setMode('refusedThenHealthy');
  // fetch may first reuse the keep-alive connection the server just cut; the next attempt is refused.
  assert.ok(['ECONNREFUSED', 'UND_ERR_SOCKET'].includes(await fetchErrorCode(`${app.url}/api/health`)));
  assert.is(await fetchErrorCode(`${app.url}/api/health`), 'ECONNREFUSED');
  await app.whenListening();
  assert.is((await fetch(`${app.url}/api/health`)).status, 200);
  app.setMode('error500');
  assert.is((await fetch(`${app.url}/`)).status, 500);
});

test('close() ends promptly even with a held response, and is idempotent', async () => {
  const app = await start({ mode: 'slowThenHealthy', slowRequests: 1, slowDelayMs: 5_000 });
  const pending = fetchErrorCode(`${app.url}/api/health`);
  while (app.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
  const t = Date.now();
  await app.close();
  await app.close();
  // The held response would end after 5 s; well below that, with room for a busy machine.
  assert.ok(Date.now() - t < 3_000, `close() took ${Date.now() - t} ms: it waited for the held response`);
  assert.is.not(await pending, 'HTTP 200');
  assert.is(await fetchErrorCode(`${app.url}/`), 'ECONNREFUSED');
});

test.run();
