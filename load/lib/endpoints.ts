// One function per endpoint of the todo chatbot. Every request is tagged with its endpoint
// (so the summary can break latency down per endpoint) and every response goes through check().
import { check } from 'k6';
import http from 'k6/http';
import type { Response } from 'k6/http';
import { Counter } from 'k6/metrics';
import type { ScenarioConfig } from './config.ts';
import type { Endpoint } from './mix.ts';

export const ENDPOINTS: readonly Endpoint[] = ['frontend', 'health', 'tasks_list', 'tasks_create', 'chat'];

/**
 * Chat requests sent (each one costs an OpenAI call). k6 creates custom metrics only in the
 * init context, which is when this module is evaluated.
 */
export const chatRequests = new Counter('chat_requests');

export interface RequestContext {
  config: ScenarioConfig;
  /** The iteration's number in the whole test, used to make created task titles unique. */
  iteration: number;
}

function headerValue(res: Response, name: string): string {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(res.headers)) {
    if (key.toLowerCase() === wanted) return value;
  }
  return '';
}

function jsonBody(res: Response): unknown {
  if (typeof res.body !== 'string' || res.body === '') return undefined;
  try {
    return JSON.parse(res.body) as unknown;
  } catch {
    return undefined;
  }
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function isTaskList(value: unknown): boolean {
  return Array.isArray(value) || Array.isArray(field(value, 'tasks')) || Array.isArray(field(value, 'items'));
}

/** `page` is the frontend (no token); `api` and `api-body` go to the backend, the latter with a JSON body. */
type RequestKind = 'page' | 'api' | 'api-body';

function params(config: ScenarioConfig, endpoint: Endpoint, name: string, kind: RequestKind) {
  const headers: Record<string, string> = { Accept: kind === 'page' ? 'text/html' : 'application/json' };
  if (kind === 'api-body') headers['Content-Type'] = 'application/json';
  if (kind !== 'page' && config.authToken) headers.Authorization = `Bearer ${config.authToken}`;
  // `name` groups the URL in k6's metrics; `endpoint` is the tag the thresholds and summary use.
  return { headers, tags: { endpoint, name } };
}

export function visitFrontend({ config }: RequestContext): boolean {
  const res = http.get(`${config.baseUrl}/`, params(config, 'frontend', 'GET /', 'page'));
  return check(res, {
    'frontend: status 200': (r) => r.status === 200,
    'frontend: served as HTML': (r) => headerValue(r, 'Content-Type').includes('text/html'),
  }, { endpoint: 'frontend' });
}

export function getHealth({ config }: RequestContext): boolean {
  const res = http.get(`${config.baseUrl}/api/health`, params(config, 'health', 'GET /api/health', 'api'));
  return check(res, {
    'health: status 200': (r) => r.status === 200,
    'health: status is healthy': (r) => field(jsonBody(r), 'status') === 'healthy',
  }, { endpoint: 'health' });
}

export function listTasks({ config }: RequestContext): boolean {
  const res = http.get(`${config.baseUrl}/api/tasks`, params(config, 'tasks_list', 'GET /api/tasks', 'api'));
  return check(res, {
    'tasks list: status 200': (r) => r.status === 200,
    'tasks list: JSON list of tasks': (r) => isTaskList(jsonBody(r)),
  }, { endpoint: 'tasks_list' });
}

export function createTask({ config, iteration }: RequestContext): boolean {
  const body = JSON.stringify({
    title: `k6 load test task ${iteration}`,
    description: 'Created by load/hpa.ts; safe to delete.',
  });
  const res = http.post(`${config.baseUrl}/api/tasks`, body, params(config, 'tasks_create', 'POST /api/tasks', 'api-body'));
  return check(res, {
    'tasks create: status 201 or 200': (r) => r.status === 201 || r.status === 200,
    'tasks create: task has an id': (r) => {
      const id = field(jsonBody(r), 'id');
      return typeof id === 'number' || (typeof id === 'string' && id !== '');
    },
  }, { endpoint: 'tasks_create' });
}

export function sendChat({ config }: RequestContext): boolean {
  chatRequests.add(1);
  const body = JSON.stringify({ message: config.chatMessage });
  const res = http.post(`${config.baseUrl}/api/chat`, body, params(config, 'chat', 'POST /api/chat', 'api-body'));
  return check(res, {
    'chat: status 200': (r) => r.status === 200,
    'chat: reply is text': (r) => {
      const reply = field(jsonBody(r), 'reply');
      return typeof reply === 'string' && reply.trim() !== '';
    },
  }, { endpoint: 'chat' });
}

const handlers: Record<Endpoint, (ctx: RequestContext) => boolean> = {
  frontend: visitFrontend,
  health: getHealth,
  tasks_list: listTasks,
  tasks_create: createTask,
  chat: sendChat,
};

export function callEndpoint(endpoint: Endpoint, ctx: RequestContext): boolean {
  return handlers[endpoint](ctx);
}

/**
 * The thresholds both scenarios hold (the plan: responses under 1 second, fewer than 1% errors), plus
 * an empty list per endpoint, which makes k6 report that endpoint's latency without judging it.
 */
export function scenarioThresholds(endpoints: readonly Endpoint[], maxChatRequests: number): Record<string, string[]> {
  const thresholds: Record<string, string[]> = {
    // p95 under 1 s for 100 concurrent users.
    http_req_duration: ['p(95)<1000'],
    // Fewer than 1% failed requests (k6 counts status >= 400 and network errors).
    http_req_failed: ['rate<0.01'],
    // Cannot fail by construction (see lib/mix.ts); here so the cap is visible in the summary.
    chat_requests: [`count<=${maxChatRequests}`],
  };
  for (const endpoint of endpoints) thresholds[`http_req_duration{endpoint:${endpoint}}`] = [];
  return thresholds;
}
