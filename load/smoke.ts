// Post-deploy check at a low, fixed rate: the frontend, health, the task list and a few chat
// messages, read-only (no task is created). Same thresholds as the hpa scenario.
// Run: k6 run -e BASE_URL=https://<app-host> load/smoke.ts   (see load/README.md)
import exec from 'k6/execution';
import type { Options } from 'k6/options';
import { readDuration, readInt, readScenarioConfig } from './lib/config.ts';
import { callEndpoint, ENDPOINTS, scenarioThresholds } from './lib/endpoints.ts';
import { SMOKE_WEIGHTS, planIteration } from './lib/mix.ts';
import { summaryOutputs } from './lib/summary.ts';
import type { SummaryData } from './lib/summary.ts';

const config = readScenarioConfig(__ENV, {
  script: 'load/smoke.ts',
  chatShare: 0.1,
  maxChatRequests: 5,
  summaryPath: 'reports/k6-smoke-summary.json',
});

const vus = readInt(__ENV, 'SMOKE_VUS', 2, 1, 50);
const rate = readInt(__ENV, 'SMOKE_RATE', 2, 1, 100);
const duration = readDuration(__ENV, 'SMOKE_DURATION', '30s');


export const options: Options = {
  scenarios: {
    smoke: {
      // A fixed arrival rate: a slow app shows as latency, not as fewer requests.
      executor: 'constant-arrival-rate',
      rate,
      timeUnit: '1s',
      duration,
      preAllocatedVUs: vus,
      maxVUs: vus,
    },
  },
  // Smoke never creates tasks, so it reports no latency for that endpoint.
  thresholds: scenarioThresholds(ENDPOINTS.filter((e) => e !== 'tasks_create'), config.maxChatRequests),
};

export default function (): void {
  const iteration = exec.scenario.iterationInTest;
  const endpoint = planIteration(iteration, SMOKE_WEIGHTS, config.chatShare, config.maxChatRequests);
  callEndpoint(endpoint, { config, iteration });
}

export function handleSummary(data: SummaryData): Record<string, string> {
  return summaryOutputs('smoke', data, config.summaryPath, config.maxChatRequests);
}
