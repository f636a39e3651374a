// The frame of every entry script: flags, environment, runner, logger, the one-line summary,
// `error:`/`hint:` on failure, documented exit codes, and SIGINT/SIGTERM handling.
import { fileURLToPath } from 'node:url';
import { basename, resolve } from 'node:path';
import { question } from 'zx';
import { createClock } from './clock.ts';
import type { Clock } from './clock.ts';
import { loadEnvironment } from './config.ts';
import type { LoadedEnvironment } from './config.ts';
import { ExitCode, OpsError, usageError } from './errors.ts';
import { describeFlags, parseFlags, renderHelp } from './flags.ts';
import type { ParsedFlags, ScriptSpec } from './flags.ts';
import { Logger } from './log.ts';
import { Redactor } from './redact.ts';
import { Runner } from './runner.ts';

export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface ScriptContext {
  spec: ScriptSpec;
  flags: ParsedFlags;
  root: string;
  env: LoadedEnvironment;
  runner: Runner;
  log: Logger;
  clock: Clock;
  redactor: Redactor;
  /** Asks before a change; --yes and --dry-run skip it; a non-interactive run without --yes is refused (exit 2). */
  confirm(question: string): Promise<void>;
  /** What the script is doing now, for the interruption message. */
  setState(state: string): void;
}

export interface Outcome {
  /** The one-line summary printed at the end. */
  summary: string;
  exitCode?: number;
  /** Merged into the --json result document. */
  result?: Record<string, unknown>;
  /** Extra markdown for $GITHUB_STEP_SUMMARY. */
  markdown?: string;
  /** For a non-zero outcome: what to do next, printed as `hint:` after the summary (and in --json). */
  hint?: string;
}

export interface MainOptions {
  argv?: readonly string[];
}

/**
 * The script's own arguments. `node scripts/x.mts …` puts them after argv[1]; `npx zx scripts/x.mts …`
 * puts zx's CLI at argv[1] and the script path at argv[2]. Take whatever follows the script's file.
 */
export function scriptArguments(spec: ScriptSpec, argv: readonly string[] = process.argv): string[] {
  const at = argv.findIndex((a, i) => i >= 1 && basename(a) === `${spec.name}.mts`);
  return argv.slice(at >= 1 ? at + 1 : 2);
}

function exitWith(code: number): never {
  process.exit(code);
}

/** Parses flags, builds the context, runs body, prints the summary, and exits with the documented code. */
export async function runMain(spec: ScriptSpec, body: (ctx: ScriptContext) => Promise<Outcome>, options: MainOptions = {}): Promise<never> {
  const argv = options.argv ?? scriptArguments(spec);
  const redactor = new Redactor();
  let flags: ParsedFlags;
  try {
    flags = parseFlags(spec, argv);
  } catch (e) {
    const err = e as OpsError;
    process.stderr.write(`error: ${err.message}\n${err.hint ? `hint: ${err.hint}\n` : ''}`);
    return exitWith(err.exitCode ?? ExitCode.usage);
  }
  if (flags.help) {
    process.stdout.write(flags.json ? `${JSON.stringify(describeFlags(spec))}\n` : `${renderHelp(spec)}\n`);
    return exitWith(ExitCode.ok);
  }

  const clock = createClock();
  const log = new Logger({
    script: spec.name,
    json: flags.json,
    verbose: flags.verbose,
    redactor,
    clock,
    summaryFile: process.env.GITHUB_STEP_SUMMARY || undefined,
  });
  for (const notice of flags.deprecations) log.warn(notice);
  let state = 'starting';
  let runner: Runner | undefined;
  const started = clock.now();

  const finish = (ok: boolean, code: number, summary: string, result: Record<string, unknown> = {}, markdown = '', error?: OpsError | Error, hint?: string): never => {
    const durationMs = Math.round(clock.now() - started);
    if (flags.json) {
      const doc = redactor.redactDeep({
        script: spec.name,
        env: flags.env,
        dryRun: flags.dryRun,
        ok,
        exitCode: code,
        summary,
        durationMs,
        steps: log.steps.map((s) => ({ ...s, durationMs: Math.round(s.durationMs) })),
        ...(error ? { error: { message: error.message, hint: (error as OpsError).hint ?? null } } : {}),
        ...(hint && !error ? { hint } : {}),
        ...result,
      });
      process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    } else if (!error) {
      process.stdout.write(`${redactor.redact(summary)}\n`);
      if (hint && !ok) process.stderr.write(`hint: ${redactor.redact(hint)}\n`);
    }
    if (error && !flags.json) {
      process.stderr.write(`error: ${redactor.redact(error.message)}\n`);
      const hint = (error as OpsError).hint;
      if (hint) process.stderr.write(`hint: ${redactor.redact(hint)}\n`);
      if (flags.verbose && error.stack) process.stderr.write(`${redactor.redact(error.stack)}\n`);
    }
    try {
      log.writeStepSummary(summary, ok, markdown);
    } catch {
      /* a summary that cannot be written must not change the outcome */
    }
    return exitWith(code);
  };

  const onSignal = (signal: NodeJS.Signals) => {
    runner?.abort();
    const doing = log.running.length ? log.running.join(' > ') : state;
    const msg = `interrupted by ${signal} while: ${doing}. Nothing further was started; check the state with the commands in docs/runbooks.md before re-running.`;
    finish(false, ExitCode.interrupted, msg, {}, '', new OpsError(msg, { exitCode: ExitCode.interrupted }));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const env = loadEnvironment(repoRoot, flags.env);
    runner = new Runner({
      dryRun: flags.dryRun,
      redactor,
      logger: log,
      clock,
      defaultTimeoutMs: env.timeouts.commandSeconds * 1000,
      cwd: repoRoot,
    });
    const ctx: ScriptContext = {
      spec,
      flags,
      root: repoRoot,
      env,
      runner,
      log,
      clock,
      redactor,
      setState: (s) => { state = s; },
      confirm: async (q) => {
        if (flags.yes || flags.dryRun) return;
        if (!process.stdin.isTTY) {
          throw usageError(`${q} Refusing to continue without --yes in a non-interactive run; nothing was changed.`, 're-run with --yes once you have reviewed the plan (try --dry-run first)');
        }
        const answer = (await question(`${q} [y/N] `)).trim().toLowerCase();
        if (answer !== 'y' && answer !== 'yes') throw new OpsError('cancelled by the operator; nothing was changed', { exitCode: ExitCode.failed });
      },
    };
    const outcome = await body(ctx);
    const code = outcome.exitCode ?? ExitCode.ok;
    return finish(code === ExitCode.ok, code, outcome.summary, outcome.result, outcome.markdown, undefined, outcome.hint);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const code = err instanceof OpsError ? err.exitCode : ExitCode.failed;
    if (!(err instanceof OpsError)) {
      // An unexpected error: show the stack so it can be reported.
      return finish(false, code, `${spec.name} failed: ${err.message}`, {}, '', Object.assign(new OpsError(`${err.message}\n${err.stack ?? ''}`), { hint: 'this is a bug in aks-todo-ops; please report it with the output above' }));
    }
    return finish(false, code, `${spec.name} failed: ${err.message}`, {}, '', err);
  }
}
