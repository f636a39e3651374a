// The one place a CLI's JSON answer is read: parsed, then shape-checked against a zod schema
// before any caller touches it. An answer of another shape (another CLI version, `{}` where a list
// belongs) then stops the script with one clear error naming the command and what was wrong,
// instead of a TypeError and a stack trace from deep inside a caller.
// Schemas describe only what the scripts read and let every other field through (z.looseObject),
// so the real CLIs' fuller answers always pass: https://zod.dev/api#objects
import type { z } from 'zod';
import { ExitCode, OpsError } from './errors.ts';

export interface CliAnswerOptions {
  /** Exit code of the error an unexpected answer raises: ExitCode.preflight from a preflight check (default: failed). */
  exitCode?: number;
  /** The fix to show; by default, checking the CLI's version with doctor. */
  hint?: string;
  /** The answer may hold secret values: the error never quotes it. */
  outputHoldsSecrets?: boolean;
  /** Masks known secrets in the quoted output (the runner passes its redactor). */
  redact?: (text: string) => string;
}

/** What a CLI printed: the command line (as shown to the operator) and its stdout. A RunResult fits. */
export interface CliOutput {
  command: string;
  stdout: string;
}

/** `az vm list-usage -l eastus -o json` → `az vm list-usage`: the command without its flags, for messages. */
export function commandName(command: string): string {
  const words = command.trim().split(/\s+/);
  const at = words.findIndex((w, i) => i > 0 && w.startsWith('-'));
  return (at === -1 ? words : words.slice(0, at)).join(' ');
}

/** Parses a CLI's stdout as JSON and checks it against `schema`; any mismatch is an OpsError. */
export function parseCliJson<S extends z.ZodType>(out: CliOutput, schema: S, opts: CliAnswerOptions = {}): z.output<S> {
  const name = commandName(out.command);
  let doc: unknown;
  try {
    doc = JSON.parse(out.stdout);
  } catch {
    const first = out.stdout.split('\n').find((l) => l.trim())?.trim().slice(0, 120) ?? '';
    const quoted = !first ? '(empty output)' : opts.outputHoldsSecrets ? '(output not shown: it may hold secret values)' : (opts.redact ?? ((t: string) => t))(first);
    throw new OpsError(`${name} did not print JSON: ${quoted}`, { exitCode: opts.exitCode ?? ExitCode.failed, hint: opts.hint ?? versionHint(name) });
  }
  return checkCliAnswer(name, doc, schema, opts);
}

/** Checks an already parsed answer of `name` (e.g. `az deployment sub what-if`) against `schema`. */
export function checkCliAnswer<S extends z.ZodType>(name: string, doc: unknown, schema: S, opts: CliAnswerOptions = {}): z.output<S> {
  const r = schema.safeParse(doc);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new OpsError(`unexpected answer from ${name}: ${describeIssue(issue, doc)}`, {
    exitCode: opts.exitCode ?? ExitCode.failed,
    hint: opts.hint ?? versionHint(name),
  });
}

function versionHint(name: string): string {
  const cli = name.split(' ')[0] ?? name;
  return `check the ${cli} version with npx zx scripts/doctor.mts; --verbose shows the whole answer`;
}

/** `items[0].metadata.name`, `["azure-cli"]`; the top level for an empty path. */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'the top level';
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : typeof p === 'string' && /^[A-Za-z_$][\w$]*$/.test(p) ? `.${p}` : `[${JSON.stringify(String(p))}]`))
    .join('')
    .replace(/^\./, '');
}

/** What was found, by type only: an error message never quotes a value from the answer. */
function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return withArticle(typeof v);
}

function withArticle(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function valueAt(doc: unknown, path: readonly PropertyKey[]): unknown {
  let v = doc;
  for (const p of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v;
}

function describeIssue(issue: z.core.$ZodIssue, doc: unknown): string {
  const at = formatPath(issue.path);
  const got = describeValue(valueAt(doc, issue.path));
  if (issue.code === 'invalid_type') return `expected ${withArticle(issue.expected)} at ${at}, got ${got}`;
  if (issue.code === 'invalid_union') {
    // z.union([z.string(), z.number()]): name every type the branches accept.
    const expected = issue.errors.map((branch) => branch[0]).filter((b) => b?.code === 'invalid_type' && b.path.length === 0).map((b) => withArticle((b as z.core.$ZodIssueInvalidType).expected));
    if (expected.length === issue.errors.length) return `expected ${expected.join(' or ')} at ${at}, got ${got}`;
  }
  if (issue.code === 'invalid_value') return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')} at ${at}`;
  return `${issue.message.charAt(0).toLowerCase()}${issue.message.slice(1)} at ${at}`;
}
