#!/usr/bin/env -S npx zx
// load: runs a k6 scenario from load/ against the app while sampling the HPAs, pods and nodes,
// then judges autoscaling against the plan's criteria and writes a JSON and an HTML report. lib/flows/load.ts.
import { runMain } from './lib/main.ts';
import type { ScriptSpec } from './lib/flags.ts';
import { loadTest } from './lib/flows/load.ts';
import { SCENARIOS } from './lib/load/k6.ts';
import type { Scenario } from './lib/load/k6.ts';
import { DEFAULT_CRITERIA } from './lib/load/verdict.ts';

export const spec: ScriptSpec = {
  name: 'load',
  summary: 'load-test the app with k6 and check that the HPA scales out in time, has room, and scales back in',
  description: [
    'Reads the cluster (context guard applies) and sends real traffic to the URL. Exit 0 when every',
    'criterion holds, 1 when one fails or could not be shown, 3 when k6/kubectl are missing, the kube',
    'context is wrong or the app does not answer. AUTH_TOKEN and other k6 settings that are secrets are',
    'read by k6 from the environment, never from the command line.',
  ].join('\n'),
  flags: [
    { name: 'url', type: 'string', value: 'URL', description: "the app's public URL (default: url: in the environment file)" },
    { name: 'scenario', type: 'string', value: 'NAME', default: 'hpa', choices: SCENARIOS, description: 'k6 scenario: load/<NAME>.ts' },
    { name: 'sample-interval', type: 'number', value: 'SECONDS', default: DEFAULT_CRITERIA.sampleIntervalSeconds, description: 'how often to read the HPAs, pods and nodes' },
    { name: 'scale-out-within', type: 'number', value: 'SECONDS', default: DEFAULT_CRITERIA.scaleOutWithinSeconds, description: 'scale-out must start within this long of CPU crossing the target' },
    { name: 'cpu-target', type: 'number', value: 'PERCENT', default: DEFAULT_CRITERIA.cpuTargetPercent, description: 'average CPU utilisation (of the request) the HPA should scale out above' },
    { name: 'observe-after', type: 'number', value: 'SECONDS', default: 120, description: 'keep sampling this long after k6 ends, to see the scale-in' },
    { name: 'report-dir', type: 'string', value: 'DIR', default: 'reports', description: 'where the JSON and HTML reports (and k6 files) go' },
    { name: 'vus', type: 'number', value: 'N', description: 'peak virtual users (hpa: PEAK_VUS, default 100; smoke: SMOKE_VUS, default 2)' },
    { name: 'ramp-up', type: 'string', value: 'DURATION', description: 'hpa: time to ramp up to the peak (RAMP_UP, default 2m)' },
    { name: 'hold', type: 'string', value: 'DURATION', description: 'hpa: time at the peak (HOLD, default 5m)' },
    { name: 'ramp-down', type: 'string', value: 'DURATION', description: 'hpa: time to ramp down to 0 (RAMP_DOWN, default 1m)' },
    { name: 'duration', type: 'string', value: 'DURATION', description: 'smoke: how long it runs (SMOKE_DURATION, default 30s)' },
    { name: 'rate', type: 'number', value: 'N', description: 'smoke: requests per second (SMOKE_RATE, default 2)' },
    { name: 'k6-env', type: 'list', value: 'NAME=VALUE', description: 'another k6 setting, e.g. MAX_CHAT_REQUESTS=0 (not for secrets)' },
  ],
  examples: [
    'npx zx scripts/load.mts --env production --yes',
    'npx zx scripts/load.mts --env production --vus 20 --ramp-up 30s --hold 2m --ramp-down 15s --k6-env MAX_CHAT_REQUESTS=0 --yes',
    'npx zx scripts/load.mts --env production --scenario smoke',
    'npx zx scripts/load.mts --env production --dry-run',
  ],
};

await runMain(spec, async (ctx) => {
  const { flags } = ctx;
  const url = flags.string('url');
  return loadTest(ctx, {
    ...(url !== undefined ? { url } : {}),
    scenario: flags.string('scenario') as Scenario,
    sampleIntervalSeconds: flags.number('sample-interval'),
    scaleOutWithinSeconds: flags.number('scale-out-within'),
    cpuTargetPercent: flags.number('cpu-target'),
    observeAfterSeconds: flags.number('observe-after'),
    reportDir: flags.string('report-dir') ?? 'reports',
    stages: { vus: flags.number('vus'), rampUp: flags.string('ramp-up'), hold: flags.string('hold'), rampDown: flags.string('ramp-down'), duration: flags.string('duration'), rate: flags.number('rate') },
    k6Env: flags.list('k6-env'),
  });
});
