// The one way scripts call az, helm, kubectl and k6. It knows which calls change things
// (--dry-run prints those instead of running them), keeps secrets off command lines and out of
// output, applies a timeout to every call, and retries only failures known to be transient.
import { $ } from 'zx';
import type { ProcessPromise } from 'zx';
import type { z } from 'zod';
import { parseCliJson } from './cli-json.ts';
import type { CliAnswerOptions } from './cli-json.ts';
import type { Clock } from './clock.ts';
import { formatDuration } from './clock.ts';
import { OpsError, ExitCode } from './errors.ts';
import type { Logger } from './log.ts';
import type { Redactor } from './redact.ts';

export interface RunOptions {
  /**
   * Does this call change a cluster, Azure or local config? Defaults to classifyMutating(), which
   * counts every call not on its read-only allow-list as a change: pass false only for a call that
   * reads (--dry-run runs it), true for one that only looks like a read.
   */
  mutating?: boolean;
  /** Sent on standard input: the only way a secret may travel to a CLI. */
  stdin?: string;
  /** Simulated milliseconds before the call is killed; defaults to the runner's. */
  timeoutMs?: number;
  /** Total attempts for transient failures (default 4; 1 disables retries). */
  attempts?: number;
  /** Return a failed result instead of throwing. */
  allowFailure?: boolean;
  /** Shown in dry-run plans next to the command. */
  note?: string;
  /**
   * A read that needs neither a cluster nor an Azure login (git rev-parse, kubectl config
   * current-context, helm template): it runs even in a planning dry-run (Runner.planWithoutCluster).
   */
  offline?: boolean;
  /** Extra environment variables for the child. */
  env?: Record<string, string>;
  /**
   * The call's stdout may hold secret values the redactor does not know yet (e.g. a Secret read
   * from the cluster): --verbose then shows the command but not its output.
   */
  outputHoldsSecrets?: boolean;
}

export interface RunResult {
  command: string;
  stdout: string;
  stderr: string;
  exitCode: number;
  durationMs: number;
  attempts: number;
  /** True when --dry-run skipped a mutating call. */
  dryRun: boolean;
  timedOut: boolean;
}

/** One call of a dry-run's plan: what a real run would call, in order. */
export interface PlannedCall {
  command: string;
  mutating: boolean;
  /** Runs only under this condition, which the dry-run could not decide (the answer needs the cluster). */
  when?: string;
  note?: string;
}

/**
 * Thrown by a read that a planning dry-run recorded instead of running: it has no answer. The flows
 * catch it with `ask()` (flows/plan.ts) and take the read's answer as unknown.
 */
export class Unanswered extends Error {
  readonly command: string;
  constructor(command: string) { super(`--dry-run planned this read instead of running it: ${command}`); this.command = command; }
}

export const UNKNOWN: unique symbol = Symbol('unknown: --dry-run planned the read instead of running it');
export type Unknown = typeof UNKNOWN;

/** The read's answer, or UNKNOWN when a dry-run recorded the read instead of running it (Unanswered). */
export async function ask<T>(read: Promise<T>): Promise<T | Unknown> {
  try {
    return await read;
  } catch (e) {
    if (e instanceof Unanswered) return UNKNOWN;
    throw e;
  }
}

export interface RunnerOptions {
  dryRun: boolean;
  redactor: Redactor;
  logger: Logger;
  clock: Clock;
  defaultTimeoutMs: number;
  cwd?: string;
}

/** stderr patterns of failures worth retrying: throttling, API server and network blips. Never real errors. */
const TRANSIENT: readonly RegExp[] = [
  /\(TooManyRequests\)|\bTooManyRequests\b|SubscriptionRequestsThrottled|ResourceRequestsThrottled|\b429\b.*(Too Many|throttl)/i,
  /TLS handshake timeout/i,
  /i\/o timeout/i,
  /connection reset by peer/i,
  /connect: connection refused/i,
  /was refused - did you specify the right host or port/i,
  /Client\.Timeout exceeded while awaiting headers/i,
  /the server was unable to return a response in the time allotted/i,
  /etcdserver: request timed out/i,
  /http2: client connection lost/i,
  /\(ServiceUnavailable\)|\b503 Service Unavailable\b/i,
];

export function isTransient(stderr: string): boolean {
  return TRANSIENT.some((re) => re.test(stderr));
}

/** Seconds Azure asked us to wait ("Please try again after '23' seconds" / Retry-After: 23). */
export function retryAfterSeconds(stderr: string): number | undefined {
  const m = /try again after '?(\d+)'? seconds/i.exec(stderr) ?? /Retry-After:?\s*(\d+)/i.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

/**
 * The calls known to change nothing, per CLI, matched against the command's leading words (those
 * before the first flag: `az vm list-usage`, `kubectl get pods`, `helm history REL`). This is an
 * allow-list on purpose: a call is read-only only when it is listed here or its caller passes
 * `mutating: false`. Anything else counts as a change, so --dry-run prints it instead of running
 * it, and a verb added later (`az aks nodepool add`, a new kubectl plugin) can never slip through
 * a dry run because nobody thought to list it as mutating.
 */
const READ_ONLY: Record<string, (words: readonly string[]) => boolean> = {
  // https://kubernetes.io/docs/reference/kubectl/ (get/describe/logs read; rollout status|history only watch).
  kubectl: (w) => ['get', 'describe', 'logs', 'version', 'explain', 'api-resources', 'api-versions', 'cluster-info', 'top'].includes(w[0] ?? '')
    || (w[0] === 'config' && ['current-context', 'view', 'get-contexts'].includes(w[1] ?? ''))
    || (w[0] === 'rollout' && ['status', 'history'].includes(w[1] ?? ''))
    || (w[0] === 'auth' && w[1] === 'can-i'),
  // https://helm.sh/docs/helm/ (template renders locally; show/get/status/history/list only read).
  helm: (w) => ['version', 'history', 'status', 'list', 'ls', 'get', 'show', 'template', 'lint', 'search', 'env'].includes(w[0] ?? '')
    || (w[0] === 'repo' && w[1] === 'list')
    || (w[0] === 'dependency' && w[1] === 'list'),
  // az commands end in their verb (https://learn.microsoft.com/cli/azure/reference-index): `az deployment
  // sub what-if`, `az acr repository show-tags`. Note get-credentials is not here: it writes ~/.kube/config.
  az: (w) => w.length > 0 && ['show', 'list', 'list-usage', 'list-deleted', 'show-tags', 'what-if', 'version'].includes(w[w.length - 1]!),
  k6: (w) => w[0] === 'version',
  kubelogin: (w) => w[0] === 'version',
  git: (w) => ['rev-parse', 'status', 'log', 'show', 'diff', 'describe'].includes(w[0] ?? ''),
};

/** The words before the first flag: the command path and its leading operands (`get pods`, `vm list-usage`). */
export function commandWords(args: readonly string[]): string[] {
  const at = args.findIndex((a) => a.startsWith('-'));
  return [...(at === -1 ? args : args.slice(0, at))];
}

/**
 * Decides from the command line whether a call may change anything: true unless the call is on
 * the read-only allow-list above (or is a bare `--version`). Unknown CLIs and verbs count as changes.
 */
export function classifyMutating(cmd: string, args: readonly string[]): boolean {
  if (args.length === 1 && args[0] === '--version') return false;
  const readOnly = READ_ONLY[cmd];
  return !(readOnly?.(commandWords(args)) ?? false);
}

export function formatCommand(cmd: string, args: readonly string[]): string {
  const q = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return [cmd, ...args].map(q).join(' ');
}

export class Runner {
  private readonly running = new Set<ProcessPromise>();
  /** Every call made (or planned, in dry-run), redacted: what a summary or a test can report. */
  readonly history: Array<{ command: string; mutating: boolean; exitCode: number; dryRun: boolean }> = [];
  /**
   * Every call a dry-run did not run, in order, with the condition it runs under when that is
   * undecided: the plan --dry-run prints. Filled only in a dry-run.
   */
  readonly plan: PlannedCall[] = [];
  private aborted = false;
  private planning = false;
  private conditions: string[] = [];
  /** Open afterChange scopes of a dry-run, innermost last: whether their planned reads are printed. */
  private readsAfterChange: boolean[] = [];

  private readonly options: RunnerOptions;

  constructor(options: RunnerOptions) { this.options = options; }

  get dryRun(): boolean { return this.options.dryRun; }

  /** True in a dry-run that plans the cluster's reads too (see planWithoutCluster). */
  get plansReads(): boolean { return this.options.dryRun && this.planning; }

  /**
   * In a dry-run, record the reads that need a cluster or a login too, instead of running them (a
   * read marked `offline` still runs): the flow then runs with no cluster and no Azure login, and
   * every read answers by throwing Unanswered. No effect outside a dry-run.
   */
  planWithoutCluster(): void { this.planning = true; }

  /**
   * Runs fn with every call it plans marked as running only `when` the condition holds: how a
   * dry-run prints a branch whose condition needs the cluster's answer (nested conditions join).
   */
  async when<T>(condition: string, fn: () => Promise<T>): Promise<T> {
    this.conditions.push(condition);
    try {
      return await fn();
    } finally {
      this.conditions.splice(this.conditions.lastIndexOf(condition), 1);
    }
  }

  /**
   * Runs fn, whose reads look at what a change just before it did: the chart `helm repo add` made
   * available, the pods a `helm upgrade` started, the rollout a `kubectl rollout restart` began. A
   * dry-run did not make that change, so there is nothing to read yet: each read is added to the
   * plan instead of run (and printed with the changes when `show` is set, for a read whose output a
   * change consumes) and answers by throwing Unanswered, and afterChange answers UNKNOWN. Outside a
   * dry-run fn simply runs. So the same code path makes the change, then watches it or plans both.
   */
  async afterChange<T>(fn: () => Promise<T>, opts: { show?: boolean } = {}): Promise<T | Unknown> {
    if (!this.options.dryRun) return fn();
    this.readsAfterChange.push(opts.show === true);
    try {
      return await ask(fn());
    } finally {
      this.readsAfterChange.pop();
    }
  }

  /** Adds a step that is not a CLI call (an HTTP request of smoke) to a dry-run's plan. */
  planStep(command: string, opts: { mutating?: boolean; note?: string } = {}): void {
    this.record(command, opts.mutating ?? false, opts.note);
  }

  private record(command: string, mutating: boolean, note?: string): void {
    const when = this.conditions.length ? this.conditions.join('; and ') : undefined;
    this.plan.push({ command, mutating, ...(when ? { when } : {}), ...(note ? { note } : {}) });
  }

  /** Kills every running call (SIGINT/SIGTERM handling). */
  abort(): void {
    this.aborted = true;
    for (const p of this.running) void p.kill('SIGTERM').catch(() => undefined);
  }

  async run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const { redactor, logger, clock } = this.options;
    for (const a of [cmd, ...args]) {
      if (redactor.forbidsOnCommandLine(a)) {
        // A programming error, never an operator's: secrets travel on stdin only.
        throw new OpsError(`refusing to put a secret on the command line of ${cmd}`, { hint: 'pass it on standard input (RunOptions.stdin)' });
      }
    }
    const command = formatCommand(cmd, args);
    const shown = redactor.redact(command);
    const mutating = opts.mutating ?? classifyMutating(cmd, args);
    if (mutating && this.options.dryRun) {
      // A planning dry-run prints its whole plan at the end, in order; a plain one prints each change here.
      if (!this.planning) logger.plan(shown + (opts.stdin !== undefined ? ' < (stdin)' : ''), opts.note);
      this.record(shown + (opts.stdin !== undefined ? ' < (stdin)' : ''), true, opts.note);
      this.history.push({ command: shown, mutating, exitCode: 0, dryRun: true });
      return { command: shown, stdout: '', stderr: '', exitCode: 0, durationMs: 0, attempts: 0, dryRun: true, timedOut: false };
    }
    const afterChange = this.readsAfterChange.length > 0;
    if (this.plansReads || afterChange) {
      // Every read is in the plan; one that needs no cluster and no login also runs, unless it
      // looks at a change the dry-run did not make.
      this.record(shown, false, opts.note);
      if (afterChange && this.readsAfterChange.at(-1) && !this.planning) logger.plan(shown, opts.note);
      if (afterChange || !opts.offline) {
        this.history.push({ command: shown, mutating, exitCode: 0, dryRun: true });
        throw new Unanswered(shown);
      }
    }

    const attempts = Math.max(1, opts.attempts ?? 4);
    const timeoutMs = opts.timeoutMs ?? this.options.defaultTimeoutMs;
    let result: RunResult | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (this.aborted) throw new OpsError(`interrupted before: ${shown}`, { exitCode: ExitCode.interrupted });
      logger.detail(`$ ${shown}`);
      result = await this.once(cmd, args, shown, opts, timeoutMs, attempt);
      logger.detail(opts.outputHoldsSecrets
        ? `(exit ${result.exitCode}; output not shown: it may hold secret values)`
        : [result.stdout.trimEnd(), result.stderr.trimEnd()].filter(Boolean).join('\n') || `(exit ${result.exitCode}, no output)`);
      if (result.exitCode === 0 || result.timedOut || !isTransient(result.stderr) || attempt === attempts) break;
      // Exponential backoff (2 s, 4 s, 8 s, capped at 30 s) unless Azure said how long to wait.
      const waitMs = Math.min(120_000, (retryAfterSeconds(result.stderr) ?? Math.min(30, 2 ** attempt)) * 1000);
      logger.warn(`${cmd} failed with a transient error; retrying in ${formatDuration(waitMs)} (attempt ${attempt + 1} of ${attempts}): ${firstLine(redactor.redact(result.stderr))}`);
      await clock.sleep(waitMs);
    }
    const r = result!;
    this.history.push({ command: shown, mutating, exitCode: r.exitCode, dryRun: false });
    if (r.exitCode !== 0 && !opts.allowFailure) {
      const stderr = redactor.redact(r.stderr.trim());
      if (r.timedOut) {
        throw new OpsError(`${cmd} did not finish within ${formatDuration(timeoutMs)} and was stopped: ${shown}`, {
          hint: 'check connectivity to the cluster or Azure (npx zx scripts/doctor.mts), or raise timeouts.commandSeconds in the environment file',
        });
      }
      const transientNote = isTransient(r.stderr) && r.attempts > 1 ? ` (gave up after ${r.attempts} attempts)` : '';
      throw new OpsError(`${shown} failed (exit ${r.exitCode})${transientNote}: ${stderr || '(no error output)'}`, {
        hint: transientNote ? 'the service kept failing with transient errors; wait a minute and re-run' : undefined,
      });
    }
    return r;
  }

  /**
   * Runs a read and returns its JSON answer, checked against `schema` (cli-json.ts): an answer of
   * another shape is an OpsError naming the command, with `unexpected.exitCode` (default 1).
   */
  async json<S extends z.ZodType>(schema: S, cmd: string, args: readonly string[], opts: RunOptions & { unexpected?: Pick<CliAnswerOptions, 'exitCode' | 'hint'> } = {}): Promise<z.output<S>> {
    const { unexpected, ...runOpts } = opts;
    const r = await this.run(cmd, args, runOpts);
    // A programming error: only a read has an answer, and --dry-run does not run a change.
    if (r.dryRun) throw new Error(`${r.command} counts as a change, so --dry-run did not run it and there is no answer to read; declare the read with mutating: false`);
    return parseCliJson(r, schema, { ...unexpected, outputHoldsSecrets: opts.outputHoldsSecrets === true, redact: (t) => this.options.redactor.redact(t) });
  }

  private async once(cmd: string, args: readonly string[], shown: string, opts: RunOptions, timeoutMs: number, attempt: number): Promise<RunResult> {
    const started = this.options.clock.now();
    let timedOut = false;
    const p = $({
      quiet: true,
      nothrow: true,
      input: opts.stdin ?? '',
      cwd: this.options.cwd,
      env: { ...process.env, ...opts.env },
    })`${cmd} ${args}`;
    this.running.add(p);
    const timer = setTimeout(() => {
      timedOut = true;
      void p.kill('SIGTERM').catch(() => undefined);
    }, this.options.clock.realMs(timeoutMs));
    try {
      const out = await p;
      return {
        command: shown,
        stdout: out.stdout,
        stderr: out.stderr,
        exitCode: timedOut ? 124 : (out.exitCode ?? 1),
        durationMs: this.options.clock.now() - started,
        attempts: attempt,
        dryRun: false,
        timedOut,
      };
    } finally {
      clearTimeout(timer);
      this.running.delete(p);
    }
  }
}

/** The first non-blank line, trimmed: what an error message quotes of a CLI's output. */
export function firstLine(text: string): string {
  return text.split('\n').find((l) => l.trim())?.trim() ?? '';
}
