#!/usr/bin/env -S npx zx
// smoke: HTTP checks against the app's public URL (frontend, API health with the database, chat,
// optionally auth). Read-only, and makes no az/helm/kubectl call: usable against any URL. lib/flows/smoke.ts.
import { runMain } from './lib/main.ts';
import type { ScriptSpec } from './lib/flags.ts';
import { smokeTest } from './lib/flows/smoke.ts';
import { DEFAULT_AUTH_PATH, DEFAULT_CHAT_MESSAGE, DEFAULT_CHAT_PATH, DEFAULT_CHECK_TIMEOUT_MS, SMOKE_AUTH_TOKEN_VAR } from './lib/smoke.ts';

export const spec: ScriptSpec = {
  name: 'smoke',
  summary: 'check over HTTP that the deployed app answers: frontend, API health (with the database), chat',
  description: [
    'Each check is retried until the deadline (a freshly rolled pod may need seconds); every attempt has its own timeout.',
    `The chat and auth checks send "Authorization: Bearer <token>" when ${SMOKE_AUTH_TOKEN_VAR} is set (the value is never printed).`,
    'Exit 0 when every check passes, 1 when any fails. --dry-run prints the requests it would make and makes none.',
  ].join('\n'),
  flags: [
    { name: 'url', type: 'string', value: 'URL', description: "the app's base URL (default: the environment's url)" },
    { name: 'chat-path', type: 'string', value: 'PATH', default: DEFAULT_CHAT_PATH, description: 'where the chat check POSTs {"message": ...}' },
    { name: 'chat-message', type: 'string', value: 'TEXT', default: DEFAULT_CHAT_MESSAGE, description: 'the test message the chat check sends' },
    { name: 'no-chat', type: 'boolean', description: 'skip the chat check' },
    { name: 'auth-check', type: 'boolean', description: 'also check that the auth route answers 200 JSON' },
    { name: 'auth-path', type: 'string', value: 'PATH', default: DEFAULT_AUTH_PATH, description: 'the route the auth check GETs' },
    // Bounded so a typo (1000h for 1000s) is a usage error, not a timer Node cannot hold or hours of retries.
    { name: 'deadline', type: 'duration', value: 'DURATION', max: '1h', description: "how long checks are retried in all, e.g. 30s or 2m (default: the environment's timeouts.smokeSeconds)" },
    { name: 'check-timeout', type: 'duration', value: 'DURATION', max: '10m', default: `${DEFAULT_CHECK_TIMEOUT_MS / 1000}s`, description: 'how long one attempt may take' },
  ],
  examples: [
    'npx zx scripts/smoke.mts --env production',
    'npx zx scripts/smoke.mts --url https://todo.example.com --deadline 30',
    `${SMOKE_AUTH_TOKEN_VAR}=… npx zx scripts/smoke.mts --env production --auth-check --json`,
  ],
};

await runMain(spec, async (ctx) => {
  const { flags } = ctx;
  const deadlineMs = flags.duration('deadline');
  const checkTimeoutMs = flags.duration('check-timeout');
  return smokeTest(ctx, {
    ...(flags.string('url') !== undefined ? { url: flags.string('url') } : {}),
    ...(deadlineMs !== undefined ? { deadlineMs } : {}),
    ...(checkTimeoutMs !== undefined ? { checkTimeoutMs } : {}),
    ...(flags.string('chat-path') !== undefined ? { chatPath: flags.string('chat-path') } : {}),
    ...(flags.string('chat-message') !== undefined ? { chatMessage: flags.string('chat-message') } : {}),
    chat: !flags.boolean('no-chat'),
    authCheck: flags.boolean('auth-check'),
    ...(flags.string('auth-path') !== undefined ? { authPath: flags.string('auth-path') } : {}),
  });
});
