// A stand-in for the deployed todo chatbot, on 127.0.0.1: what smoke checks hit during a rehearsal
// (scripts/rehearse.mts), and the fixture app server of the smoke and load tests (test/fixtures).
// The routing lives in `createAppModel` (synchronous, no sockets) so the same app can answer
// both real HTTP (`startAppServer`) and the k6 test doubles, which call it in-process.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freeLocalPort } from './ports.ts';

export type AppMode =
  | 'healthy'
  | 'unhealthy'
  | 'error500'
  | 'slowThenHealthy'
  | 'wrongContentType'
  | 'chatMalformed'
  | 'flapping'
  | 'refusedThenHealthy';

export const APP_MODES: readonly AppMode[] = [
  'healthy', 'unhealthy', 'error500', 'slowThenHealthy', 'wrongContentType', 'chatMalformed', 'flapping', 'refusedThenHealthy',
];

export interface AppServerOptions {
  /** Initial mode; default `healthy` (or `refusedThenHealthy` when `listenAfterMs` is given). */
  mode?: AppMode;
  /** When set, `/api/chat` and `/api/tasks` answer 401 unless `Authorization: Bearer <token>` is sent. */
  requiredToken?: string;
  /** slowThenHealthy: how many requests (any route, counted from when the mode is set) are delayed. Default 2. */
  slowRequests?: number;
  /** slowThenHealthy: how long each of those requests is held before the answer. Default 300 ms. */
  slowDelayMs?: number;
  /** refusedThenHealthy: how long the port stays closed (connections refused). Default 200 ms. */
  listenAfterMs?: number;
}

export interface RecordedRequest {
  method: string;
  /** The request target as sent, query string included. */
  path: string;
  /** Lower-case names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  body: string;
}

export interface AppResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** How long the server holds the response before sending it. */
  delayMs: number;
}

export interface Task {
  id: number;
  title: string;
  description: string;
  completed: boolean;
  created_at: string;
}

export interface AppModel {
  readonly mode: AppMode;
  setMode(mode: AppMode): void;
  readonly requests: readonly RecordedRequest[];
  readonly tasks: readonly Task[];
  handle(request: RecordedRequest): AppResponse;
}

export interface AppServer {
  /** `http://127.0.0.1:<port>`, no trailing slash; known at once, even before listening. */
  url: string;
  readonly mode: AppMode;
  /**
   * Switches the behaviour for the next requests. `refusedThenHealthy` closes the port for
   * `listenAfterMs` and cuts open connections: a client that reuses a keep-alive connection sees
   * that as a socket error (undici: UND_ERR_SOCKET) once, then connections are refused.
   */
  setMode(mode: AppMode): void;
  /** Every request seen, in order of arrival. */
  readonly requests: readonly RecordedRequest[];
  /** Resolves once the server accepts connections (at once unless the port is being held closed). */
  whenListening(): Promise<void>;
  /**
   * Opens a port that is being held closed now, instead of when `listenAfterMs` runs out, so a test
   * can open it on an event (the client reported a refusal) rather than after a guess at real time.
   * Resolves once listening; does nothing when the port is open already.
   */
  openNow(): Promise<void>;
  close(): Promise<void>;
}

const HTML = '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Todo Chatbot</title></head>' +
  '<body><div id="__next"><h1>Todo Chatbot</h1></div></body></html>\n';

const json = (status: number, value: unknown): AppResponse => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(value),
  delayMs: 0,
});

const text = (status: number, contentType: string, body: string): AppResponse => ({
  status,
  headers: { 'content-type': contentType },
  body,
  delayMs: 0,
});

function parseJsonObject(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function unprocessable(field: string): AppResponse {
  // FastAPI's validation error shape.
  return json(422, { detail: [{ loc: ['body', field], msg: 'Field required', type: 'missing' }] });
}

export function createAppModel(options: AppServerOptions = {}): AppModel {
  const slowRequests = options.slowRequests ?? 2;
  const slowDelayMs = options.slowDelayMs ?? 300;
  const requests: RecordedRequest[] = [];
  const tasks: Task[] = [
    { id: 1, title: 'Buy milk', description: '', completed: false, created_at: '2025-01-01T09:00:00Z' },
  ];
  let mode: AppMode = options.mode ?? (options.listenAfterMs !== undefined ? 'refusedThenHealthy' : 'healthy');
  let sinceModeSet = 0;
  let healthChecks = 0;
  let conversations = 0;

  const authorised = (request: RecordedRequest): boolean =>
    options.requiredToken === undefined || request.headers.authorization === `Bearer ${options.requiredToken}`;

  function route(request: RecordedRequest): AppResponse {
    const path = request.path.split('?')[0] ?? '';
    const known = ['/', '/api/health', '/api/chat', '/api/tasks'];
    if (!known.includes(path)) return json(404, { detail: 'Not Found' });
    if (mode === 'error500') {
      return path === '/' ? text(500, 'text/plain; charset=utf-8', 'Internal Server Error') : json(500, { detail: 'Internal Server Error' });
    }
    const allowed: Record<string, string[]> = { '/': ['GET'], '/api/health': ['GET'], '/api/chat': ['POST'], '/api/tasks': ['GET', 'POST'] };
    if (!(allowed[path] ?? []).includes(request.method)) return json(405, { detail: 'Method Not Allowed' });

    if (path === '/') {
      return mode === 'wrongContentType'
        ? json(200, { message: 'this is the API, not the frontend' })
        : text(200, 'text/html; charset=utf-8', HTML);
    }
    if (path === '/api/health') {
      healthChecks += 1;
      if (mode === 'wrongContentType') return text(200, 'text/plain; charset=utf-8', 'status: healthy');
      const down = mode === 'unhealthy' || (mode === 'flapping' && healthChecks % 2 === 0);
      return down ? json(503, { status: 'unhealthy', database: 'unreachable' }) : json(200, { status: 'healthy', database: 'ok' });
    }
    if (!authorised(request)) return json(401, { detail: 'Not authenticated' });
    if (path === '/api/chat') {
      const body = parseJsonObject(request.body);
      const message = body?.message;
      if (typeof message !== 'string' || message.trim() === '') return unprocessable('message');
      if (mode === 'chatMalformed') return json(200, { oops: true });
      const given = body?.conversation_id;
      conversations += typeof given === 'string' ? 0 : 1;
      return json(200, {
        reply: `You said: ${message}. You have ${tasks.filter((t) => !t.completed).length} open task(s).`,
        conversation_id: typeof given === 'string' ? given : `conv-${conversations}`,
      });
    }
    if (request.method === 'GET') return json(200, tasks);
    const body = parseJsonObject(request.body);
    const title = body?.title;
    if (typeof title !== 'string' || title.trim() === '') return unprocessable('title');
    const description = typeof body?.description === 'string' ? body.description : '';
    const task: Task = { id: tasks.length + 1, title, description, completed: false, created_at: new Date().toISOString() };
    tasks.push(task);
    return json(201, task);
  }

  return {
    get mode() { return mode; },
    setMode(next: AppMode) {
      mode = next;
      sinceModeSet = 0;
      healthChecks = 0;
    },
    requests,
    tasks,
    handle(request: RecordedRequest): AppResponse {
      requests.push(request);
      sinceModeSet += 1;
      const response = route(request);
      if (mode === 'slowThenHealthy' && sinceModeSet <= slowRequests) return { ...response, delayMs: slowDelayMs };
      return response;
    },
  };
}

function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

export async function startAppServer(options: AppServerOptions = {}): Promise<AppServer> {
  const model = createAppModel(options);
  const listenAfterMs = options.listenAfterMs ?? 200;
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = model.handle({
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: flattenHeaders(req),
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const send = () => {
        res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
        res.end(answer.body);
      };
      if (answer.delayMs <= 0) return send();
      const timer = setTimeout(() => { timers.delete(timer); send(); }, answer.delayMs);
      timers.add(timer);
    });
  });

  const listenOn = (port: number) => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });

  /** Keeps the port closed for `ms` (or until openNow()), then listens on it. */
  let openEarly: (() => void) | undefined;
  const listenLater = (port: number, ms: number) => new Promise<void>((resolve, reject) => {
    const open = () => {
      clearTimeout(timer);
      timers.delete(timer);
      openEarly = undefined;
      if (closed) return resolve();
      listenOn(port).then(resolve, reject);
    };
    const timer = setTimeout(open, ms);
    timers.add(timer);
    openEarly = open;
  });

  let port: number;
  let listening: Promise<void>;
  if (model.mode === 'refusedThenHealthy') {
    port = await freeLocalPort();
    listening = listenLater(port, listenAfterMs);
  } else {
    await listenOn(0);
    port = (server.address() as AddressInfo).port;
    listening = Promise.resolve();
  }
  // Callers that never await it must not see an unhandled rejection; whenListening() still reports it.
  listening.catch(() => undefined);

  return {
    url: `http://127.0.0.1:${port}`,
    get mode() { return model.mode; },
    get requests() { return model.requests; },
    setMode(mode: AppMode) {
      model.setMode(mode);
      if (mode === 'refusedThenHealthy' && server.listening) {
        // close() stops accepting at once; open keep-alive connections are cut so they are refused too.
        server.close();
        server.closeAllConnections();
        listening = listenLater(port, listenAfterMs);
        listening.catch(() => undefined);
      }
    },
    whenListening: () => listening,
    openNow() {
      openEarly?.();
      return listening;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      if (!server.listening) return;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
