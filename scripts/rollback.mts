#!/usr/bin/env -S npx zx
// rollback: show the release history, roll back to --to REV or the newest good revision before the
// current one, then watch the rollout and run smoke, exactly as a failed deploy does. lib/flows/rollback.ts.
import { runMain } from './lib/main.ts';
import type { ScriptSpec } from './lib/flags.ts';
import { rollbackRelease } from './lib/flows/rollback.ts';

export const spec: ScriptSpec = {
  name: 'rollback',
  summary: 'roll the release back to a good revision, watch the rollout and smoke-test it',
  description: [
    'Prints the history (revision, time, status, chart, app version, description). Without --to it picks the',
    'newest deployed/superseded revision before the current one (never blindly current-1). A failed or pending',
    'revision is refused unless --force. Exit codes: 0 rolled back and verified; 1 the rollback or its',
    'verification failed, or there is nothing good to roll back to; 2 usage (bad --to, failed revision without',
    '--force, no --yes in a non-interactive run); 3 preflight (tools, kube context).',
  ].join('\n'),
  flags: [
    { name: 'to', type: 'number', value: 'REV', description: 'revision to roll back to (default: the newest deployed/superseded revision before the current one)' },
    { name: 'force', type: 'boolean', description: 'allow a target revision whose status is failed or pending-*' },
    { name: 'skip-smoke', type: 'boolean', description: 'do not run the smoke checks after the rollout' },
    { name: 'timeout', type: 'duration', value: 'DURATION', description: 'how long the rollout may take, e.g. 300s or 5m (default: timeouts.rolloutSeconds)' },
  ],
  examples: [
    'npx zx scripts/rollback.mts --env production --dry-run',
    'npx zx scripts/rollback.mts --env production --yes',
    'npx zx scripts/rollback.mts --env production --to 7 --yes',
  ],
};

await runMain(spec, async (ctx) => {
  const { flags } = ctx;
  const rolloutTimeoutMs = flags.duration('timeout');
  const to = flags.number('to');
  return rollbackRelease(ctx, {
    force: flags.boolean('force'),
    skipSmoke: flags.boolean('skip-smoke'),
    ...(to !== undefined ? { to } : {}),
    ...(rolloutTimeoutMs !== undefined ? { rolloutTimeoutMs } : {}),
  });
});
