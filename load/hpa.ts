// Autoscaling load test: ramps to PEAK_VUS concurrent users (the plan's 100), holds, ramps down,
// with a realistic mix of page views, task reads and writes, health polls and a capped share of
// chat messages. Run: k6 run -e BASE_URL=https://<app-host> load/hpa.ts   (see load/README.md)
import { sleep } from 'k6';
import exec from 'k6/execution';
import type { Options } from 'k6/options';
import { readDuration, readInt, readScenarioConfig, readSeconds, ConfigError } from './lib/config.ts';
import { callEndpoint, ENDPOINTS } from './lib/endpoints.ts';
import { HPA_WEIGHTS, planIteration } from './lib/mix.ts';
import { summaryOutputs } from './lib/summary.ts';
import type { SummaryData } from './lib/summary.ts';

const config = readScenarioConfig(__ENV, {
  script: 'load/hpa.ts',
  chatShare: 0.02,
  maxChatRequests: 200,
  summaryPath: 'reports/k6-summary.json',
});

const peakVUs = readInt(__ENV, 'PEAK_VUS', 100, 1, 10_000);
const rampUp = readDuration(__ENV, 'RAMP_UP', '2m');
const hold = readDuration(__ENV, 'HOLD', '5m');
const rampDown = readDuration(__ENV, 'RAMP_DOWN', '1m');
const thinkMin = readSeconds(__ENV, 'THINK_TIME_MIN', 1);
const thinkMax = readSeconds(__ENV, 'THINK_TIME_MAX', 3);
if (thinkMax < thinkMin) {
  throw new ConfigError(`THINK_TIME_MAX (${thinkMax}) must not be below THINK_TIME_MIN (${thinkMin})`);
}

// An empty threshold list makes k6 report the per-endpoint sub-metric without judging it.
const perEndpoint: Record<string, string[]> = {};
for (const endpoint of ENDPOINTS) perEndpoint[`http_req_duration{endpoint:${endpoint}}`] = [];

export const options: Options = {
  scenarios: {
    hpa: {
      executor: 'ramping-vus',
      startVUs: 0,
      stages: [
        { duration: rampUp, target: peakVUs },
        { duration: hold, target: peakVUs },
        { duration: rampDown, target: 0 },
      ],
      gracefulRampDown: '30s',
    },
  },
  thresholds: {
    // The plan: response times under 1 second for 100 concurrent users.
    http_req_duration: ['p(95)<1000'],
    // Fewer than 1% failed requests (k6 counts status >= 400 and network errors).
    http_req_failed: ['rate<0.01'],
    // Cannot fail by construction (see lib/mix.ts); here so the cap is visible in the summary.
    chat_requests: [`count<=${config.maxChatRequests}`],
    ...perEndpoint,
  },
};

export default function (): void {
  const iteration = exec.scenario.iterationInTest;
  const endpoint = planIteration(iteration, HPA_WEIGHTS, config.chatShare, config.maxChatRequests);
  callEndpoint(endpoint, { config, iteration });
  // Think time: a person reads the page before the next click.
  sleep(thinkMin + Math.random() * (thinkMax - thinkMin));
}

export function handleSummary(data: SummaryData): Record<string, string> {
  return summaryOutputs('hpa', data, config.summaryPath, config.maxChatRequests);
}
