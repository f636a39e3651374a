// The step logger: what every script prints while it works, in one of three forms:
// plain lines (CI and pipes), a spinner on a terminal, or JSON lines on stderr with --json.
// Everything passes through the redactor first. With GITHUB_STEP_SUMMARY set, a markdown
// summary of the steps is appended there at the end.
import { appendFileSync } from 'node:fs';
import { spinner } from 'zx';
import type { Clock } from './clock.ts';
import { formatDuration } from './clock.ts';
import type { Redactor } from './redact.ts';

export interface StepRecord {
  title: string;
  status: 'ok' | 'failed' | 'skipped';
  durationMs: number;
  detail?: string;
}

export interface LoggerOptions {
  script: string;
  json: boolean;
  verbose: boolean;
  redactor: Redactor;
  clock: Clock;
  /** Spinner and colours only on a terminal outside CI. */
  interactive?: boolean;
  out?: (text: string) => void;
  err?: (text: string) => void;
  summaryFile?: string | undefined;
}

export class Logger {
  readonly steps: StepRecord[] = [];
  /** Titles of the steps running now, innermost last. */
  readonly running: string[] = [];
  private readonly out: (text: string) => void;
  private readonly err: (text: string) => void;
  private readonly interactive: boolean;

  /** Set by a dry-run that plans without a cluster: steps run their bodies silently and are not recorded. */
  planning = false;

  private readonly options: LoggerOptions;

  constructor(options: LoggerOptions) {
    this.options = options;
    this.out = options.out ?? ((t) => process.stdout.write(t));
    this.err = options.err ?? ((t) => process.stderr.write(t));
    this.interactive = options.interactive ?? (Boolean(process.stderr.isTTY) && !process.env.CI && !options.json);
  }

  get json(): boolean { return this.options.json; }
  get verbose(): boolean { return this.options.verbose; }

  private clean(text: string): string {
    return this.options.redactor.redact(text);
  }

  private event(kind: string, fields: Record<string, unknown>): void {
    const doc = this.options.redactor.redactDeep({ event: kind, script: this.options.script, time: new Date(this.options.clock.now()).toISOString(), ...fields });
    this.err(`${JSON.stringify(doc)}\n`);
  }

  /** A line of progress for the operator. */
  info(message: string): void {
    if (this.json) this.event('info', { message });
    else this.out(`${this.clean(message)}\n`);
  }

  warn(message: string): void {
    if (this.json) this.event('warning', { message });
    else this.err(`warning: ${this.clean(message)}\n`);
  }

  /** Shown only with --verbose. */
  detail(message: string): void {
    if (!this.verbose) return;
    if (this.json) this.event('detail', { message });
    else this.err(`  ${this.clean(message).split('\n').join('\n  ')}\n`);
  }

  /** A command --dry-run does not run: a change, or a read a change's input comes from (Runner.afterChange). */
  plan(commandLine: string, note?: string): void {
    if (this.json) this.event('plan', { command: commandLine, ...(note ? { note } : {}) });
    else this.out(`[dry-run] would run: ${this.clean(commandLine)}${note ? `   # ${this.clean(note)}` : ''}\n`);
  }

  /** Runs fn as a named step: start and end lines, its duration, and a record for the summary. */
  async step<T>(title: string, fn: () => Promise<T>): Promise<T> {
    // A planning dry-run prints the plan, not steps that did not run (see flows/plan.ts).
    if (this.planning) return fn();
    const started = this.options.clock.now();
    this.running.push(title);
    if (this.json) this.event('step-start', { step: title });
    else if (!this.interactive) this.out(`→ ${this.clean(title)}\n`);
    try {
      const result = this.interactive ? await spinner(this.clean(title), fn) : await fn();
      const durationMs = this.options.clock.now() - started;
      this.steps.push({ title, status: 'ok', durationMs });
      if (this.json) this.event('step-end', { step: title, status: 'ok', durationMs: Math.round(durationMs) });
      else this.out(`✓ ${this.clean(title)} (${formatDuration(durationMs)})\n`);
      return result;
    } catch (e) {
      const durationMs = this.options.clock.now() - started;
      const detail = e instanceof Error ? e.message : String(e);
      this.steps.push({ title, status: 'failed', durationMs, detail });
      if (this.json) this.event('step-end', { step: title, status: 'failed', durationMs: Math.round(durationMs), message: detail });
      else this.out(`✗ ${this.clean(title)} (${formatDuration(durationMs)})\n`);
      throw e;
    } finally {
      this.running.splice(this.running.lastIndexOf(title), 1);
    }
  }

  /** The steps so far, one a line with status and duration: the table a summary ends with. */
  stepTable(): string {
    return this.steps.map((s) => `  ${s.status === 'ok' ? 'ok     ' : s.status === 'failed' ? 'FAILED ' : 'skipped'} ${s.title.padEnd(44)} ${formatDuration(s.durationMs)}`).join('\n');
  }

  /** The steps so far with their durations in seconds, for a --json document. */
  stepDurations(): Array<{ step: string; status: string; seconds: number }> {
    return this.steps.map((s) => ({ step: s.title, status: s.status, seconds: Math.round(s.durationMs / 100) / 10 }));
  }

  /** Records a step that was deliberately not run. */
  skip(title: string, reason: string): void {
    this.steps.push({ title, status: 'skipped', durationMs: 0, detail: reason });
    if (this.json) this.event('step-skipped', { step: title, reason });
    else this.out(`- ${this.clean(title)}: skipped (${this.clean(reason)})\n`);
  }

  /** Appends a markdown summary to $GITHUB_STEP_SUMMARY when it is set. */
  writeStepSummary(summaryLine: string, ok: boolean, extraMarkdown = ''): void {
    const file = this.options.summaryFile;
    if (!file) return;
    const icon = { ok: '✅', failed: '❌', skipped: '⏭️' } as const;
    const rows = this.steps.map((s) => `| ${icon[s.status]} | ${s.title.replace(/\|/g, '\\|')} | ${formatDuration(s.durationMs)} |`);
    const md = [
      `### ${ok ? '✅' : '❌'} ${summaryLine.startsWith(`${this.options.script}`) ? summaryLine : `${this.options.script}: ${summaryLine}`}`,
      '',
      ...(rows.length ? ['| | step | duration |', '|---|---|---|', ...rows, ''] : []),
      extraMarkdown,
      '',
    ].join('\n');
    appendFileSync(file, this.clean(md));
  }
}
