#!/usr/bin/env -S npx zx
// slo: the 99.9% availability objective, measured by the availability test (bicep/modules/availability.bicep).
// Read-only: one `az deployment sub show` for the names, one `az monitor app-insights query`. lib/flows/slo.ts.
import { runMain } from './lib/main.ts';
import type { ScriptSpec } from './lib/flags.ts';
import { reportSlo } from './lib/flows/slo.ts';
import { DEFAULT_OBJECTIVE_PERCENT } from './lib/slo.ts';

export const spec: ScriptSpec = {
  name: 'slo',
  summary: 'report availability over 1, 7 and 30 days against 99.9%, the error budget left, and the worst incidents',
  description: [
    'Reads the availability test\'s results from Application Insights (az monitor app-insights query; the application-insights az extension installs itself on first use).',
    'The Application Insights name and the test name come from the infrastructure deployment\'s outputs (appInsightsName, webTestName).',
    'Availability is passed checks / all checks; the budget spent is its time equivalent over the window.',
    'Exit 0 while the 30-day budget lasts, 1 when it is spent or no result was recorded. Changes nothing.',
  ].join('\n'),
  flags: [
    { name: 'objective', type: 'number', value: 'PERCENT', default: String(DEFAULT_OBJECTIVE_PERCENT), description: 'availability objective in percent' },
    { name: 'app-insights', type: 'string', value: 'NAME', description: 'Application Insights name (default: the deployment output appInsightsName)' },
    { name: 'web-test', type: 'string', value: 'NAME', description: 'availability test name (default: the deployment output webTestName)' },
  ],
  examples: [
    'npx zx scripts/slo.mts --env production',
    'npx zx scripts/slo.mts --env production --json',
  ],
};

await runMain(spec, (ctx) => {
  const { flags } = ctx;
  const [objective, appInsights, webTest] = [flags.number('objective'), flags.string('app-insights'), flags.string('web-test')];
  return reportSlo(ctx, {
    ...(objective !== undefined ? { objective } : {}),
    ...(appInsights !== undefined ? { appInsights } : {}),
    ...(webTest !== undefined ? { webTest } : {}),
  });
});
