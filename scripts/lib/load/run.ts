// The load test from start to verdict, for flows/load.ts (load.mts): preflight (k6, kubectl, context, the
// app answering), k6 + sampling, then the summary, the time series, the verdict and the reports.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { ScriptContext } from '../main.ts';
import { ExitCode, OpsError, usageError } from '../errors.ts';
import { formatCommand } from '../runner.ts';
import { assertChecks, assertKubeContext, checkTool } from '../preflight.ts';
import { planK6, readK6Points, readK6Summary } from './k6.ts';
import type { K6Plan, Scenario, StageOverrides } from './k6.ts';
import { METRICS_WAIT_SECONDS, awaitHpaMetrics, metricsWaitCommand, observeLoad, sampleCommands } from './observe.ts';
import { REPORT_SCHEMA, renderHtml, terminalLines } from './report.ts';
import type { LoadReport } from './report.ts';
import { evaluate } from './verdict.ts';
import type { Criteria, Verdict } from './verdict.ts';

export interface LoadOptions {
  url: string;
  scenario: Scenario;
  criteria: Criteria;
  observeAfterSeconds: number;
  reportDir: string;
  stages: StageOverrides;
  extraVars: Array<[string, string]>;
}

export interface LoadResult {
  report: LoadReport | null;
  files: { json: string; html: string } | null;
  verdict: Verdict | null;
  plan: K6Plan;
  /** The wait for the HPAs' CPU metrics before the load (hpa scenario only). */
  metricsWait?: { waitedSeconds: number; stillWaiting: string[] };
}

/** `2026-11-25T09:00:00.000Z` → `20261125-090000`. */
export function reportStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, '').replace(/[-:]/g, '').replace('T', '-');
}

/** Values from --k6-env NAME=VALUE; secrets must not travel on a command line. */
export function parseExtraVars(pairs: readonly string[]): Array<[string, string]> {
  return pairs.map((p) => {
    const eq = p.indexOf('=');
    const name = eq > 0 ? p.slice(0, eq) : '';
    if (!/^[A-Z][A-Z0-9_]*$/.test(name)) throw usageError(`--k6-env needs NAME=VALUE with an upper-case name (got "${p}")`, 'e.g. --k6-env MAX_CHAT_REQUESTS=0');
    if (['BASE_URL', 'SUMMARY_PATH'].includes(name)) throw usageError(`--k6-env ${name} is set by load.mts itself`, name === 'BASE_URL' ? 'use --url' : 'use --report-dir');
    if (/TOKEN|SECRET|PASSWORD|KEY/.test(name)) {
      throw usageError(`--k6-env ${name}: a secret must not go on the command line`, `export ${name} in the environment instead; k6 reads system environment variables (e.g. AUTH_TOKEN)`);
    }
    return [name, p.slice(eq + 1)] as [string, string];
  });
}

async function checkAppAnswers(ctx: ScriptContext, url: string): Promise<void> {
  const target = `${url.replace(/\/+$/, '')}/api/health`;
  let status: number;
  try {
    const res = await fetch(target, { signal: AbortSignal.timeout(ctx.clock.realMs(15_000)), redirect: 'follow' });
    status = res.status;
    await res.arrayBuffer();
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
    throw new OpsError(`the app does not answer at ${target} (${cause}); nothing was loaded`, { exitCode: ExitCode.preflight, hint: 'check the URL (--url or url: in the environment file) and run npx zx scripts/smoke.mts' });
  }
  if (status !== 200) {
    throw new OpsError(`the app is not healthy: ${target} answered ${status}; a load test would only measure errors`, { exitCode: ExitCode.preflight, hint: 'fix the app first: npx zx scripts/smoke.mts, then re-run' });
  }
}

export async function runLoadTest(ctx: ScriptContext, opts: LoadOptions): Promise<LoadResult> {
  const { runner, clock, log, env } = ctx;
  const reportDir = resolve(process.cwd(), opts.reportDir);
  const stamp = reportStamp(clock.now());
  const base = join(reportDir, `load-${stamp}`);
  const files = { json: `${base}.json`, html: `${base}.html` };
  const plan = planK6({
    scenario: opts.scenario,
    url: opts.url,
    summaryPath: `${base}-k6-summary.json`,
    // A .gz path makes k6 compress the points: a full hpa run writes hundreds of thousands of lines.
    pointsPath: `${base}-k6-points.json.gz`,
    stages: opts.stages,
    extraVars: opts.extraVars,
  });
  const target = { namespace: env.kube.namespace, release: env.release.name };
  const interval = opts.criteria.sampleIntervalSeconds;
  const shown = (p: string) => (p.startsWith(process.cwd()) ? relative(process.cwd(), p) || '.' : p);

  // Only the hpa scenario judges the HPAs, so only it waits for their metrics first.
  const waitsForMetrics = opts.scenario === 'hpa';
  if (runner.dryRun) {
    if (waitsForMetrics) log.info(`[dry-run] would first wait up to ${METRICS_WAIT_SECONDS} s while an HPA's new pods have no CPU metrics yet, every ${interval} s (read-only): ${formatCommand('kubectl', metricsWaitCommand(target, interval))}`);
    await runner.run('k6', plan.args, { mutating: true, note: `about ${Math.round(plan.expectedSeconds)} s, up to ${plan.peakVus} VUs` });
    log.info(`[dry-run] would sample every ${interval} s while k6 runs and for ${opts.observeAfterSeconds} s after (read-only):`);
    for (const c of sampleCommands(target, interval)) log.info(`[dry-run]   ${formatCommand('kubectl', c.args)}`);
    log.info(`[dry-run] would write ${shown(files.json)} and ${shown(files.html)}`);
    return { report: null, files: null, verdict: null, plan };
  }

  await log.step('preflight: k6, kubectl, kube context, the app answers', async () => {
    assertChecks([await checkTool(runner, 'k6'), await checkTool(runner, 'kubectl')]);
    await assertKubeContext(runner, env);
    await checkAppAnswers(ctx, opts.url);
  });
  if (opts.scenario === 'hpa') {
    await ctx.confirm(`Send up to ${plan.peakVus} virtual users to ${opts.url} for about ${Math.round(plan.expectedSeconds / 60)} min (it creates tasks titled "k6 load test task N")?`);
  }

  let metricsWait: LoadResult['metricsWait'];
  if (waitsForMetrics) {
    ctx.setState('waiting for the HPAs\' CPU metrics before the load');
    metricsWait = await awaitHpaMetrics({ runner, clock, log }, target, interval);
  }

  mkdirSync(reportDir, { recursive: true });
  ctx.setState(`load test (${opts.scenario}) against ${opts.url}`);
  const observation = await log.step(`k6 ${opts.scenario} against ${opts.url} (about ${Math.round(plan.expectedSeconds)} s) with the HPAs sampled every ${interval} s`, () =>
    observeLoad({ runner, clock, log }, plan, {
      ...target,
      intervalSeconds: interval,
      observeAfterSeconds: opts.observeAfterSeconds,
      k6TimeoutMs: (plan.expectedSeconds + Math.max(300, plan.expectedSeconds / 2)) * 1000,
    }));

  const summary = readK6Summary(plan.summaryPath);
  const points = await readK6Points(plan.pointsPath, interval);
  const verdict = evaluate({ scenario: opts.scenario, samples: observation.samples, k6: observation.k6, summary, criteria: opts.criteria });
  const report: LoadReport = {
    schema: REPORT_SCHEMA,
    generatedAt: new Date(clock.now()).toISOString(),
    environment: env.name,
    namespace: target.namespace,
    release: target.release,
    url: opts.url,
    scenario: opts.scenario,
    criteria: { ...opts.criteria, observeAfterSeconds: opts.observeAfterSeconds },
    k6: {
      command: ctx.redactor.redact(formatCommand('k6', plan.args)),
      exitCode: observation.k6.exitCode,
      timedOut: observation.k6.timedOut,
      startedAt: observation.k6.startedAt,
      endedAt: observation.k6.endedAt,
      durationSeconds: observation.k6.endedT,
      summaryFile: plan.summaryPath,
      pointsFile: plan.pointsPath,
      summary,
      series: 'error' in points ? { error: points.error } : points.buckets,
    },
    samples: observation.samples,
    verdict,
  };
  const clean = ctx.redactor.redactDeep(report);
  writeFileSync(files.json, `${JSON.stringify(clean, null, 2)}\n`);
  writeFileSync(files.html, renderHtml(clean));
  for (const line of terminalLines(clean, { json: shown(files.json), html: shown(files.html) })) log.info(line);
  return { report: clean, files, verdict, plan, ...(metricsWait ? { metricsWait } : {}) };
}
