// smoke: HTTP checks against the app's public URL (frontend, API health with the database, chat,
// optionally auth). Read-only, and makes no az/helm/kubectl call. smoke.mts parses the flags; the
// checks themselves are in ../smoke.ts (deploy and rollback run them after a rollout too).
import type { Outcome, ScriptContext } from '../main.ts';
import { ExitCode } from '../errors.ts';
import { planSmokeChecks, runSmokeChecks, smokeOptionsFromEnv, summariseSmoke } from '../smoke.ts';
import type { SmokeOverrides } from '../smoke.ts';

export async function smokeTest(ctx: ScriptContext, overrides: SmokeOverrides): Promise<Outcome> {
  const { env, flags, clock, redactor, log } = ctx;
  const options = smokeOptionsFromEnv(env, { clock, redactor, log }, overrides);

  if (flags.dryRun) {
    const planned = planSmokeChecks(options);
    for (const p of planned) {
      const extra = [p.body !== undefined ? `body ${p.body}` : '', p.authorization ? `Authorization: ${p.authorization}` : ''].filter(Boolean).join(', ');
      log.plan(`${p.method} ${p.url}${extra ? ` (${extra})` : ''}`, `${p.name}: expects ${p.expect}`);
    }
    return {
      summary: `smoke: dry run, ${planned.length} checks planned against ${options.baseUrl} (deadline ${options.deadlineMs / 1000}s); no request was made`,
      result: { url: options.baseUrl, planned },
    };
  }

  const report = await runSmokeChecks(options);
  const failed = report.checks.filter((c) => !c.ok);
  return {
    summary: summariseSmoke(report),
    exitCode: report.ok ? ExitCode.ok : ExitCode.failed,
    ...(report.ok ? {} : { hint: 'each failed check above shows its status and body; what they mean: docs/runbooks.md#smoke-test' }),
    result: { url: report.url, checks: report.checks },
    markdown: [
      '| check | result | status | attempts | latency |',
      '|---|---|---|---|---|',
      ...report.checks.map((c) => `| ${c.name} | ${c.ok ? 'ok' : 'FAILED'}: ${c.detail.replace(/\|/g, '\\|')} | ${c.status ?? '-'} | ${c.attempts} | ${c.latencyMs}ms |`),
      ...(failed.length ? ['', `Failed: ${failed.map((c) => c.name).join(', ')}`] : []),
    ].join('\n'),
  };
}
