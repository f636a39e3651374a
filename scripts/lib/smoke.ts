// Smoke checks: real HTTP against the app's public URL, proving that what users reach works.
// Used alone (scripts/smoke.mts) and after a rollout (deploy.mts, rollback.mts).
//
// The checks, in order (one shared deadline; each check is tried until it passes or the deadline
// passes, and always gets at least one attempt so the report says how every part is doing):
//   frontend  GET  /                 200 with an HTML content type (redirects are followed, as a browser would)
//   health    GET  /api/health       200, JSON, {"status":"healthy"}; the backend's health includes the database
//   chat      POST /api/chat         200, JSON object with a non-empty string `reply`, `response` or `message`
//                                    (tried in that order: FastAPI chat endpoints name it one of these)
//   auth      GET  /api/auth/session 200 with a JSON body (off by default; proves the auth route is mounted
//                                    and its secret and store work; it does not log in)
//
// What is retried: connection errors (refused, reset, DNS), per-attempt timeouts, 5xx, 404, 408, 425,
// 429 and 200s of the wrong shape, since a freshly rolled pod, an ingress that has not picked up the
// new endpoints, or an old pod still draining all answer like that for a few seconds. Any other 4xx
// (400, 401, 403, 405, 422, ...) is a configuration problem that waiting will not fix: it fails at once.
import type { Clock } from './clock.ts';
import { formatDuration } from './clock.ts';
import type { LoadedEnvironment } from './config.ts';
import { usageError } from './errors.ts';
import type { Logger } from './log.ts';
import type { Redactor } from './redact.ts';

export interface SmokeOptions {
  baseUrl: string;
  /** Simulated milliseconds from the start of the run after which no new attempt starts. */
  deadlineMs: number;
  /** Simulated milliseconds one attempt may take (request and body). */
  checkTimeoutMs: number;
  /** null skips the chat check. authHeader is the whole Authorization header value, e.g. "Bearer …". */
  chat: { path: string; message: string; authHeader?: string } | null;
  clock: Clock;
  redactor: Redactor;
  log: Logger;
  /** Off unless given. */
  authFlow?: { path: string } | null;
}

export interface SmokeCheckResult {
  name: string;
  ok: boolean;
  /** HTTP status of the last attempt; absent when no response came (refused, timed out). */
  status?: number;
  /** Simulated milliseconds of the last attempt. */
  latencyMs: number;
  attempts: number;
  detail: string;
  /** The first 200 bytes of the last unexpected body, redacted. */
  bodyStart?: string;
  /** e.g. "GET http://127.0.0.1:8080/api/health". */
  request?: string;
}

export interface SmokeReport {
  ok: boolean;
  url: string;
  checks: SmokeCheckResult[];
  durationMs: number;
}

export interface PlannedCheck {
  name: string;
  method: 'GET' | 'POST';
  url: string;
  /** The JSON body sent, if any. */
  body?: string;
  /** The Authorization header, already masked. */
  authorization?: string;
  expect: string;
}

/** Bytes of an unexpected body kept for the report. */
export const BODY_START_BYTES = 200;
/** Fields that may carry the chat reply, tried in this order. */
export const CHAT_REPLY_FIELDS = ['reply', 'response', 'message'] as const;
export const DEFAULT_CHAT_PATH = '/api/chat';
export const DEFAULT_CHAT_MESSAGE = 'aks-todo-ops smoke test: list my tasks';
export const DEFAULT_AUTH_PATH = '/api/auth/session';
export const DEFAULT_CHECK_TIMEOUT_MS = 10_000;
/** The environment variable holding the token the chat (and auth) checks send. */
export const SMOKE_AUTH_TOKEN_VAR = 'SMOKE_AUTH_TOKEN';

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 5_000;
/** Later attempts get at least this long, even when the deadline is closer. */
const MIN_ATTEMPT_MS = 1_000;

export interface SmokeOverrides {
  /** Replaces the environment's URL. */
  url?: string;
  deadlineMs?: number;
  checkTimeoutMs?: number;
  chatPath?: string;
  chatMessage?: string;
  /** false skips the chat check. */
  chat?: boolean;
  /** true adds the auth check. */
  authCheck?: boolean;
  authPath?: string;
  /** Where SMOKE_AUTH_TOKEN is read from; default process.env. */
  processEnv?: Readonly<Record<string, string | undefined>>;
}

/** "Bearer <token>" unless the value already names a scheme ("Basic …", "Bearer …"). */
export function authorizationFromToken(token: string): string {
  const t = token.trim();
  return /^[A-Za-z][\w-]*\s+\S/.test(t) ? t : `Bearer ${t}`;
}

/** Checks a base URL: http(s), no credentials, no query. Returns it without a trailing slash. */
export function normaliseBaseUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw usageError(`not a URL: "${raw}"`, 'pass the app URL with its scheme, e.g. --url https://todo.example.com');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw usageError(`the smoke URL must be http or https (got ${u.protocol})`, 'e.g. --url https://todo.example.com');
  if (u.username || u.password) throw usageError('the smoke URL must not carry credentials', `set ${SMOKE_AUTH_TOKEN_VAR} for the chat check's Authorization header instead`);
  if (u.search || u.hash) throw usageError(`the smoke URL must not have a query or fragment (got ${raw})`, 'pass only the scheme, host and optional base path');
  return u.toString().replace(/\/+$/, '');
}

/** The options every caller shares: deadline from the environment, chat at /api/chat, token from SMOKE_AUTH_TOKEN. */
export function smokeOptionsFromEnv(
  env: LoadedEnvironment,
  ctx: { clock: Clock; redactor: Redactor; log: Logger },
  overrides: SmokeOverrides = {},
): SmokeOptions {
  const token = (overrides.processEnv ?? process.env)[SMOKE_AUTH_TOKEN_VAR]?.trim() || undefined;
  let authHeader: string | undefined;
  if (token) {
    ctx.redactor.register(token);
    authHeader = authorizationFromToken(token);
    ctx.redactor.register(authHeader);
  }
  const deadlineMs = overrides.deadlineMs ?? env.timeouts.smokeSeconds * 1000;
  const checkTimeoutMs = overrides.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  if (!(deadlineMs > 0)) throw usageError(`the smoke deadline must be more than 0 seconds (got ${deadlineMs / 1000})`, 'e.g. --deadline 90');
  if (!(checkTimeoutMs > 0)) throw usageError(`the per-check timeout must be more than 0 seconds (got ${checkTimeoutMs / 1000})`, 'e.g. --check-timeout 10');
  const chatPath = overrides.chatPath ?? DEFAULT_CHAT_PATH;
  const authPath = overrides.authPath ?? DEFAULT_AUTH_PATH;
  for (const [flag, p] of [['--chat-path', chatPath], ['--auth-path', authPath]] as const) {
    if (!p.startsWith('/')) throw usageError(`${flag} must start with / (got "${p}")`, `e.g. ${flag} ${flag === '--chat-path' ? DEFAULT_CHAT_PATH : DEFAULT_AUTH_PATH}`);
  }
  const message = overrides.chatMessage ?? DEFAULT_CHAT_MESSAGE;
  if (message.trim() === '') throw usageError('--chat-message must not be empty', `e.g. --chat-message "${DEFAULT_CHAT_MESSAGE}"`);
  return {
    baseUrl: normaliseBaseUrl(overrides.url ?? env.url),
    deadlineMs,
    checkTimeoutMs,
    chat: overrides.chat === false ? null : { path: chatPath, message, ...(authHeader ? { authHeader } : {}) },
    clock: ctx.clock,
    redactor: ctx.redactor,
    log: ctx.log,
    authFlow: overrides.authCheck ? { path: authPath } : null,
  };
}

// ---------------------------------------------------------------------------------------------
// One attempt

interface Attempt {
  ok: boolean;
  /** Worth another attempt before the deadline. */
  retryable: boolean;
  status?: number;
  latencyMs: number;
  detail: string;
  bodyStart?: string;
}

interface Response {
  status: number;
  contentType: string;
  bytes: Uint8Array;
  text: string;
}

type Verdict = { ok: boolean; detail: string };

interface CheckDefinition {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
  expect: string;
  judge(res: Response): Verdict;
}

function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path.startsWith('/') ? path : `/${path}`}`;
}

function isJson(contentType: string): boolean {
  return /^application\/([\w.-]+\+)?json\b/i.test(contentType.trim());
}

function mediaType(contentType: string): string {
  return contentType.split(';')[0]?.trim() || '(none)';
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function short(text: string, max = 60): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** Statuses a rolling deploy or an ingress catching up answers with for a while. */
function retryableStatus(status: number): boolean {
  return status >= 500 || status === 404 || status === 408 || status === 425 || status === 429;
}

function definitions(options: SmokeOptions): CheckDefinition[] {
  const defs: CheckDefinition[] = [
    {
      name: 'frontend',
      method: 'GET',
      path: '/',
      headers: { accept: 'text/html' },
      expect: '200 with an HTML content type',
      judge: (res) => (/^text\/html\b/i.test(res.contentType.trim())
        ? { ok: true, detail: `${res.status} ${mediaType(res.contentType)}` }
        : { ok: false, detail: `${res.status} but the content type is ${mediaType(res.contentType)} (expected text/html)` }),
    },
    {
      name: 'health',
      method: 'GET',
      path: '/api/health',
      headers: { accept: 'application/json' },
      expect: '200 with JSON {"status":"healthy"}',
      judge: (res) => {
        if (!isJson(res.contentType)) return { ok: false, detail: `${res.status} but the content type is ${mediaType(res.contentType)} (expected JSON)` };
        const parsed = parseJson(res.text);
        if (!parsed.ok) return { ok: false, detail: `${res.status} but the body is not valid JSON` };
        if (!isObject(parsed.value) || parsed.value.status !== 'healthy') {
          const got = isObject(parsed.value) && 'status' in parsed.value ? JSON.stringify(parsed.value.status) : 'no status field';
          return { ok: false, detail: `${res.status} but status is ${got} (expected "healthy")` };
        }
        return { ok: true, detail: `${res.status} {"status":"healthy"}` };
      },
    },
  ];
  if (options.chat) {
    const headers: Record<string, string> = { accept: 'application/json', 'content-type': 'application/json' };
    if (options.chat.authHeader) headers.authorization = options.chat.authHeader;
    defs.push({
      name: 'chat',
      method: 'POST',
      path: options.chat.path,
      headers,
      body: JSON.stringify({ message: options.chat.message }),
      expect: `200 with JSON carrying a non-empty string ${CHAT_REPLY_FIELDS.join(', ').replace(/, (?=[^,]*$)/, ' or ')}`,
      judge: (res) => {
        if (!isJson(res.contentType)) return { ok: false, detail: `${res.status} but the content type is ${mediaType(res.contentType)} (expected JSON)` };
        const parsed = parseJson(res.text);
        if (!parsed.ok) return { ok: false, detail: `${res.status} but the body is not valid JSON` };
        const value = parsed.value;
        const field = isObject(value) ? CHAT_REPLY_FIELDS.find((f) => typeof value[f] === 'string' && (value[f] as string).trim() !== '') : undefined;
        if (!field || !isObject(value)) {
          return { ok: false, detail: `${res.status} but the reply has no non-empty string field ${CHAT_REPLY_FIELDS.join(', ')}` };
        }
        return { ok: true, detail: `${res.status} ${field}: "${short(String(value[field]))}"` };
      },
    });
  }
  if (options.authFlow) {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.chat?.authHeader) headers.authorization = options.chat.authHeader;
    defs.push({
      name: 'auth',
      method: 'GET',
      path: options.authFlow.path,
      headers,
      expect: '200 with a JSON body',
      judge: (res) => {
        if (!isJson(res.contentType)) return { ok: false, detail: `${res.status} but the content type is ${mediaType(res.contentType)} (expected JSON)` };
        if (!parseJson(res.text).ok) return { ok: false, detail: `${res.status} but the body is not valid JSON` };
        return { ok: true, detail: `${res.status} ${mediaType(res.contentType)}` };
      },
    });
  }
  return defs;
}

/** What runSmokeChecks would request, for --dry-run: no request is made. */
export function planSmokeChecks(options: SmokeOptions): PlannedCheck[] {
  return definitions(options).map((d) => ({
    name: d.name,
    method: d.method,
    url: joinUrl(options.baseUrl, d.path),
    ...(d.body !== undefined ? { body: d.body } : {}),
    ...(d.headers.authorization ? { authorization: options.redactor.redact(d.headers.authorization) } : {}),
    expect: d.expect,
  }));
}

/** fetch's "fetch failed" hides the reason in `cause`: say it plainly. */
function describeFetchError(e: unknown, timeoutMs: number): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string; name?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer within ${formatDuration(timeoutMs)} (timed out)`;
  const code = err.cause?.code ?? '';
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    ENOTFOUND: 'host not found (DNS)',
    EAI_AGAIN: 'DNS lookup failed (temporary)',
    ETIMEDOUT: 'connection timed out',
    EHOSTUNREACH: 'host unreachable',
    UND_ERR_SOCKET: 'connection closed by the server',
    UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  };
  const plain = known[code];
  if (plain) return plain;
  const why = err.cause?.message ?? err.message ?? String(e);
  return code ? `${code}: ${why}` : why;
}

function firstBytes(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, BODY_START_BYTES));
}

async function attemptOnce(def: CheckDefinition, url: string, timeoutMs: number, options: SmokeOptions): Promise<Attempt> {
  const { clock, redactor } = options;
  const started = clock.now();
  const signal = AbortSignal.timeout(clock.realMs(timeoutMs));
  let res: Response;
  try {
    const r = await fetch(url, { method: def.method, headers: def.headers, signal, redirect: 'follow', ...(def.body !== undefined ? { body: def.body } : {}) });
    const bytes = new Uint8Array(await r.arrayBuffer());
    res = { status: r.status, contentType: r.headers.get('content-type') ?? '', bytes, text: new TextDecoder().decode(bytes) };
  } catch (e) {
    return { ok: false, retryable: true, latencyMs: clock.now() - started, detail: redactor.redact(describeFetchError(e, timeoutMs)) };
  }
  const latencyMs = clock.now() - started;
  const bodyStart = redactor.redact(firstBytes(res.bytes));
  if (res.status !== 200) {
    const retryable = retryableStatus(res.status);
    return {
      ok: false,
      retryable,
      status: res.status,
      latencyMs,
      detail: `${res.status} (expected 200)${retryable ? '' : '; not retried: waiting does not fix this status'}`,
      bodyStart,
    };
  }
  const verdict = def.judge(res);
  if (verdict.ok) return { ok: true, retryable: false, status: res.status, latencyMs, detail: redactor.redact(verdict.detail) };
  return { ok: false, retryable: true, status: res.status, latencyMs, detail: redactor.redact(verdict.detail), bodyStart };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

async function runCheck(def: CheckDefinition, options: SmokeOptions, deadlineAt: number): Promise<SmokeCheckResult> {
  const { clock, log } = options;
  const url = joinUrl(options.baseUrl, def.path);
  const request = `${def.method} ${url}`;
  const started = clock.now();
  let attempts = 0;
  let waitMs = FIRST_RETRY_MS;
  let lastShown = '';
  for (;;) {
    // The first attempt always gets the full timeout; later ones stop at the deadline (but not too short).
    const timeoutMs = attempts === 0 ? options.checkTimeoutMs : Math.min(options.checkTimeoutMs, Math.max(MIN_ATTEMPT_MS, deadlineAt - clock.now()));
    const a = await attemptOnce(def, url, timeoutMs, options);
    attempts += 1;
    const result = (ok: boolean, detail: string, bodyStart?: string): SmokeCheckResult => ({
      name: def.name,
      ok,
      ...(a.status !== undefined ? { status: a.status } : {}),
      latencyMs: Math.round(a.latencyMs),
      attempts,
      detail,
      ...(bodyStart ? { bodyStart } : {}),
      request,
    });
    if (a.ok) return result(true, a.detail);
    const remaining = deadlineAt - clock.now();
    if (!a.retryable || remaining <= 0) {
      const waited = clock.now() - started;
      const why = !a.retryable ? a.detail : `${a.detail}; gave up at the deadline after ${plural(attempts, 'attempt')} over ${formatDuration(waited)}`;
      return result(false, why, a.bodyStart);
    }
    const sleepMs = Math.min(waitMs, remaining);
    // Say it once per kind of failure, so a 90 s wait shows progress without a line per attempt.
    const shown = `${a.status ?? ''} ${a.detail}`;
    const line = `waiting: ${def.name} (${request}) attempt ${attempts}: ${a.detail}; retrying for up to ${formatDuration(remaining)}`;
    if (shown !== lastShown) log.info(line);
    else log.detail(line);
    lastShown = shown;
    await clock.sleep(sleepMs);
    waitMs = Math.min(MAX_RETRY_MS, waitMs * 2);
  }
}

/** One line (two with a body) per check, as the scripts print it. */
export function formatCheck(c: SmokeCheckResult): string {
  const mark = c.ok ? 'ok    ' : 'FAILED';
  const head = `${mark} ${c.name}: ${c.request ?? ''} → ${c.detail} (${formatDuration(c.latencyMs)}, ${plural(c.attempts, 'attempt')})`;
  return c.bodyStart ? `${head}\n       body: ${JSON.stringify(c.bodyStart)}` : head;
}

/** Runs every check in order against one shared deadline and reports each. Never throws for a failed check. */
export async function runSmokeChecks(options: SmokeOptions): Promise<SmokeReport> {
  const { clock, redactor, log } = options;
  // Options may be built by hand: make sure the header never reaches output.
  if (options.chat?.authHeader) {
    redactor.register(options.chat.authHeader);
    redactor.register(options.chat.authHeader.replace(/^[A-Za-z][\w-]*\s+/, ''));
  }
  const started = clock.now();
  const deadlineAt = started + options.deadlineMs;
  const checks: SmokeCheckResult[] = [];
  for (const def of definitions(options)) {
    const result = redactor.redactDeep(await runCheck(def, options, deadlineAt));
    checks.push(result);
    log.info(formatCheck(result));
  }
  return { ok: checks.every((c) => c.ok), url: options.baseUrl, checks, durationMs: Math.round(clock.now() - started) };
}

/** "smoke: 3/3 checks passed against https://… in 1.2s" (and which failed, when any did). */
export function summariseSmoke(report: SmokeReport): string {
  const passed = report.checks.filter((c) => c.ok).length;
  const failed = report.checks.filter((c) => !c.ok).map((c) => c.name);
  return `smoke: ${passed}/${report.checks.length} checks passed against ${report.url} in ${formatDuration(report.durationMs)}${failed.length ? ` (failed: ${failed.join(', ')})` : ''}`;
}
