// Autoscaling load test: ramps to PEAK_VUS concurrent users (the plan's 100), holds, ramps down,
// with a realistic mix of page views, task reads and writes, health polls and a capped share of
// chat messages. Run: k6 run -e BASE_URL=https://<app-host> load/hpa.ts   (see load/README.md)
import { sleep } from 'k6';
import exec from 'k6/execution';
import type { Options } from 'k6/options';
import { readDuration, readInt, readScenarioConfig, readSeconds, ConfigError } from './lib/config.ts';
import { callEndpoint, ENDPOINTS, scenarioThresholds } from './lib/endpoints.ts';
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
  thresholds: scenarioThresholds(ENDPOINTS, config.maxChatRequests),
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
