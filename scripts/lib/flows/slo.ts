// slo: the 99.9% availability objective, measured by the availability test (bicep/modules/availability.bicep).
// Read-only: one `az deployment sub show` for the names, one `az monitor app-insights query`. slo.mts
// parses the flags; the query and the arithmetic are in ../slo.ts.
import type { Outcome, ScriptContext } from '../main.ts';
import { ExitCode, usageError } from '../errors.ts';
import { DeploymentAnswerSchema, deploymentName, outputString, parseDeployment } from '../azure.ts';
import {
  AppInsightsQueryAnswerSchema, DEFAULT_OBJECTIVE_PERCENT, WINDOWS_DAYS,
  availabilityQuery, computeSlo, formatWindow, parseAvailabilityResults, summariseSlo,
} from '../slo.ts';

export interface SloInputs {
  /** --objective in percent (default DEFAULT_OBJECTIVE_PERCENT). */
  objective?: number;
  /** --app-insights and --web-test: the names, instead of the deployment's outputs. */
  appInsights?: string;
  webTest?: string;
}

export async function reportSlo({ env, flags, runner, log }: ScriptContext, inputs: SloInputs): Promise<Outcome> {
  const azure = env.azure;
  if (env.platform !== 'aks' || !azure) throw usageError(`slo reads Application Insights in Azure; ${env.name} has no azure: section`, 'use --env production or --env staging');
  const objective = inputs.objective ?? DEFAULT_OBJECTIVE_PERCENT;
  if (!(objective > 0 && objective < 100)) throw usageError(`--objective ${objective} must be between 0 and 100 (exclusive)`, 'e.g. --objective 99.9');

  let app = inputs.appInsights;
  let webTest = inputs.webTest;
  const deployment = deploymentName(env.name, azure.location);
  if (!app || !webTest) {
    if (flags.dryRun) {
      log.plan(`az deployment sub show --name ${deployment} -o json`, 'reads the outputs appInsightsName and webTestName');
    } else {
      const d = parseDeployment(await log.step('names from the deployment', () => runner.json(DeploymentAnswerSchema, 'az', ['deployment', 'sub', 'show', '--name', deployment, '-o', 'json'], {
        mutating: false,
        unexpected: { hint: `run npx zx scripts/setup.mts --env ${env.name} first; the deployment ${deployment} holds the names` },
      })));
      app ??= outputString(d, 'appInsightsName');
      webTest ??= outputString(d, 'webTestName');
      if (!app || !webTest) {
        throw usageError(`the deployment ${deployment} has no appInsightsName/webTestName output: the availability test is not deployed yet`, `run npx zx scripts/setup.mts --env ${env.name}, or pass --app-insights and --web-test`);
      }
    }
  }

  const query = availabilityQuery(webTest ?? '<webTestName>');
  const args = ['monitor', 'app-insights', 'query', '--app', app ?? '<appInsightsName>', '--resource-group', azure.resourceGroup, '--analytics-query', query, '-o', 'json'];
  if (flags.dryRun) {
    log.plan(`az ${args.join(' ')}`, 'reads the availability results; nothing changes');
    return {
      summary: `slo: dry run for ${env.name}; no query was made`,
      result: { dryRun: true, deployment, appInsights: app ?? null, webTest: webTest ?? null, query },
    };
  }

  const answer = await log.step('availability results', () => runner.json(AppInsightsQueryAnswerSchema, 'az', args, {
    mutating: false,
    // The command lives in the application-insights extension; az asks before installing it, which a
    // non-interactive run cannot answer ("Unable to prompt for extension install confirmation as no
    // tty available"). The az config values extension.use_dynamic_install=yes_without_prompt and
    // extension.run_after_dynamic_install=yes (Azure CLI docs, "Install extensions automatically"),
    // set through their AZURE_<SECTION>_<NAME> environment variables, install it and carry on.
    env: { AZURE_EXTENSION_USE_DYNAMIC_INSTALL: 'yes_without_prompt', AZURE_EXTENSION_RUN_AFTER_DYNAMIC_INSTALL: 'yes' },
  }));
  const report = computeSlo(parseAvailabilityResults(answer), objective);
  for (const w of report.windows) log.info(formatWindow(w, objective));
  if (report.worstIncidents.length) {
    log.info('worst incidents:');
    for (const i of report.worstIncidents) log.info(`  ${i.start} → ${i.end}  ~${i.downtimeMinutes} min down (${i.failedChecks} of ${i.checks} checks failed)`);
  } else if (!report.noData) {
    log.info(`no failed check in the last ${WINDOWS_DAYS[WINDOWS_DAYS.length - 1]} days`);
  }

  const ok = !report.budgetSpent;
  return {
    summary: summariseSlo(report, env.name),
    exitCode: ok ? ExitCode.ok : ExitCode.failed,
    ...(ok ? {} : {
      hint: report.noData
        ? 'check that the availability test runs (Application Insights > Availability in the portal) and that --web-test names it; docs/runbooks.md#availability-alert-fired'
        : 'freeze risky changes until the budget recovers; find the causes with docs/runbooks.md#availability-alert-fired',
    }),
    result: { appInsights: app, webTest, ...report },
    markdown: [
      `| window | availability | failed checks | budget (min) | spent | left |`,
      '|---|---|---|---|---|---|',
      ...report.windows.map((w) => `| ${w.days}d | ${w.availabilityPercent === null ? 'no checks' : `${w.availabilityPercent}%`} | ${w.failedChecks} of ${w.checks} | ${w.budgetMinutes} | ${w.spentMinutes} | ${w.leftMinutes} |`),
    ].join('\n'),
  };
}
