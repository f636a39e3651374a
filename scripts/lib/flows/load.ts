// load: a k6 scenario from load/ against the app while the HPAs, pods and nodes are sampled, then
// the verdict on autoscaling and the JSON and HTML reports. load.mts parses the flags; this checks
// them, runs the test (../load/run.ts) and turns the verdict into the outcome.
import type { Outcome, ScriptContext } from '../main.ts';
import { ExitCode, usageError } from '../errors.ts';
import type { Scenario, StageOverrides } from '../load/k6.ts';
import { parseExtraVars, runLoadTest } from '../load/run.ts';

export interface LoadInputs {
  /** --url, or undefined for the environment's url. */
  url?: string;
  scenario: Scenario;
  sampleIntervalSeconds: number | undefined;
  scaleOutWithinSeconds: number | undefined;
  cpuTargetPercent: number | undefined;
  observeAfterSeconds: number | undefined;
  reportDir: string;
  stages: StageOverrides;
  /** --k6-env NAME=VALUE pairs, unparsed. */
  k6Env: readonly string[];
}

function positive(flag: string, value: number | undefined, min: number, max: number): number {
  if (value === undefined || !(value >= min && value <= max)) {
    throw usageError(`--${flag} must be between ${min} and ${max} (got ${value})`, `pass a number of ${flag === 'cpu-target' ? 'percent' : 'seconds'} from ${min} to ${max}, or leave --${flag} out for its default`);
  }
  return value;
}

export async function loadTest(ctx: ScriptContext, inputs: LoadInputs): Promise<Outcome> {
  const url = (inputs.url ?? ctx.env.url).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/\s]+/.test(url)) throw usageError(`--url must start with http:// or https:// and name a host (got "${url}")`, 'e.g. --url https://todo.example.com, or set url: in the environment file');
  const { scenario } = inputs;
  const criteria = {
    sampleIntervalSeconds: positive('sample-interval', inputs.sampleIntervalSeconds, 1, 300),
    scaleOutWithinSeconds: positive('scale-out-within', inputs.scaleOutWithinSeconds, 1, 3600),
    cpuTargetPercent: positive('cpu-target', inputs.cpuTargetPercent, 1, 1000),
  };
  const observeAfterSeconds = positive('observe-after', inputs.observeAfterSeconds, 0, 7200);
  // k6 reads AUTH_TOKEN from the environment; keep it out of everything printed.
  ctx.redactor.register(process.env.AUTH_TOKEN);

  const result = await runLoadTest(ctx, {
    url,
    scenario,
    criteria,
    observeAfterSeconds,
    reportDir: inputs.reportDir,
    stages: inputs.stages,
    extraVars: parseExtraVars(inputs.k6Env),
  });

  if (!result.verdict || !result.report || !result.files) {
    return { summary: `load: dry run of ${scenario} against ${url}; nothing was run`, result: { k6Args: result.plan.args } };
  }
  const v = result.verdict;
  const notMet = v.criteria.filter((c) => c.status === 'fail' || c.status === 'inconclusive');
  const markdown = [
    '| status | criterion | measured |',
    '|---|---|---|',
    ...v.criteria.map((c) => `| ${c.status} | ${c.title} | ${c.explanation.replace(/\|/g, '\\|')} |`),
  ].join('\n');
  return {
    summary: v.ok
      ? `load: all criteria hold for ${scenario} against ${url} (report: ${result.files.html})`
      : `load: ${notMet.length} ${notMet.length === 1 ? 'criterion' : 'criteria'} not met (${notMet.map((c) => c.id).join(', ')}) for ${scenario} against ${url} (report: ${result.files.html})`,
    exitCode: v.ok ? ExitCode.ok : ExitCode.failed,
    ...(v.ok ? {} : { hint: `open ${result.files.html}; what to do for each criterion: docs/runbooks.md#load-test` }),
    result: { reports: result.files, verdict: v, ...(result.metricsWait ? { metricsWait: result.metricsWait } : {}) },
    markdown,
  };
}
