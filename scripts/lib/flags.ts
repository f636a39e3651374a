// Flags declared once per script: parsing, validation and the generated --help.
import { parseDuration } from './clock.ts';
import { usageError } from './errors.ts';

/** `duration` takes 90s, 5m, 1h or a plain number of seconds, and is read back in milliseconds. */
export type FlagType = 'boolean' | 'string' | 'number' | 'duration' | 'list';

export interface FlagSpec {
  name: string;
  type: FlagType;
  description: string;
  /** Placeholder shown in --help, e.g. REV. */
  value?: string;
  default?: string | number | boolean;
  /** Allowed values for a string flag. */
  choices?: readonly string[];
  /**
   * Old names still accepted for this flag; using one prints a one-line notice with `why`. --help
   * shows them, --help --json does not, so the docs and workflows cannot go back to using them.
   */
  renamedFrom?: { names: readonly string[]; why: string };
  /** Shortest value a duration flag accepts, e.g. '1s' (default: DURATION_MIN). */
  min?: string;
  /** Longest value a duration flag accepts, e.g. '10m' (default: DURATION_MAX). */
  max?: string;
}

/** The shortest duration a flag accepts unless it declares its own `min`. */
export const DURATION_MIN = '1ms';
/**
 * The longest duration a flag accepts unless it declares its own `max`: longer than any wait these
 * scripts do, and far below the longest delay a Node timer can hold (2^31-1 ms, about 24.8 days).
 * A longer delay does not wait at all: Node warns (TimeoutOverflowWarning) and fires it after 1 ms,
 * so every attempt would "time out" at once. https://nodejs.org/api/timers.html#settimeoutcallback-delay-args
 */
export const DURATION_MAX = '24h';

/** A duration flag's accepted range in milliseconds, with the bounds as written for messages. */
export function durationRange(f: FlagSpec): { minMs: number; maxMs: number; min: string; max: string } {
  const min = f.min ?? DURATION_MIN;
  const max = f.max ?? DURATION_MAX;
  const minMs = parseDuration(min);
  const maxMs = parseDuration(max);
  // A mistake in a script's own flag table, never an operator's: fail loudly.
  if (minMs === undefined || maxMs === undefined || !(minMs > 0) || minMs > maxMs || maxMs > 2 ** 31 - 1) {
    throw new Error(`flag --${f.name}: invalid duration range ${min} to ${max}`);
  }
  return { minMs, maxMs, min, max };
}

export interface ScriptSpec {
  /** File name without extension, e.g. deploy. */
  name: string;
  summary: string;
  /** Longer text after the usage line. */
  description?: string;
  flags: readonly FlagSpec[];
  /** Words that are not flags, in order (e.g. env.mts's `get KEY`); without it any is refused. */
  arguments?: readonly ArgumentSpec[];
  examples?: readonly string[];
}

export interface ArgumentSpec {
  /** As shown in the usage line, e.g. KEY. */
  name: string;
  description: string;
  /** The only words accepted here, e.g. ['get']. */
  choices?: readonly string[];
}

export const COMMON_FLAGS: readonly FlagSpec[] = [
  { name: 'env', type: 'string', value: 'NAME', default: 'local', description: 'environment: environments/NAME.yaml, or a path to a YAML file' },
  { name: 'dry-run', type: 'boolean', description: 'print the exact plan and every mutating command; change nothing' },
  { name: 'yes', type: 'boolean', description: 'answer yes to confirmations (required for non-interactive runs that change things)' },
  { name: 'json', type: 'boolean', description: 'progress as JSON lines on stderr, the result as one JSON document on stdout' },
  { name: 'verbose', type: 'boolean', description: 'show every command, its output and stack traces' },
  { name: 'help', type: 'boolean', description: 'show this help' },
];

export type FlagValue = string | number | boolean | string[] | undefined;

export interface ParsedFlags {
  env: string;
  dryRun: boolean;
  yes: boolean;
  json: boolean;
  verbose: boolean;
  help: boolean;
  /** Every flag by name (without dashes), defaults applied. */
  values: Readonly<Record<string, FlagValue>>;
  /** Arguments that are not flags. */
  positionals: string[];
  /** One line per deprecated flag name used, for runMain to print as a warning. */
  deprecations: string[];
  string(name: string): string | undefined;
  number(name: string): number | undefined;
  boolean(name: string): boolean;
  list(name: string): string[];
  /** A duration flag's value in milliseconds. */
  duration(name: string): number | undefined;
}

export function allFlags(spec: ScriptSpec): FlagSpec[] {
  return [...COMMON_FLAGS.filter((c) => !spec.flags.some((f) => f.name === c.name)), ...spec.flags];
}

export function parseFlags(spec: ScriptSpec, argv: readonly string[]): ParsedFlags {
  const flags = allFlags(spec);
  const byName = new Map(flags.map((f) => [f.name, f]));
  const byOldName = new Map(flags.flatMap((f) => (f.renamedFrom?.names ?? []).map((old) => [old, { flag: f, why: f.renamedFrom?.why ?? '' }] as const)));
  const deprecations = new Map<string, string>();
  const values: Record<string, FlagValue> = {};
  for (const f of flags) {
    values[f.name] = f.type === 'list' ? [] : f.type === 'boolean' ? (f.default ?? false) : f.type === 'duration' && f.default !== undefined ? parseDuration(String(f.default)) : f.default;
    if (f.type === 'duration') {
      const { minMs, maxMs } = durationRange(f);
      const d = values[f.name];
      if (d !== undefined && !(typeof d === 'number' && d >= minMs && d <= maxMs)) throw new Error(`flag --${f.name}: default ${String(f.default)} is outside its own range`);
    }
  }
  const positionals: string[] = [];
  const hint = `run: npx zx scripts/${spec.name}.mts --help`;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') { positionals.push(...argv.slice(i + 1)); break; }
    if (!arg.startsWith('--')) {
      if (arg.startsWith('-') && arg.length > 1) {
        if (arg === '-h') { values.help = true; continue; }
        throw usageError(`unknown flag ${arg}`, hint);
      }
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    let name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    let inline: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    let negated = false;
    if (!byName.has(name) && name.startsWith('no-') && byName.get(name.slice(3))?.type === 'boolean') {
      name = name.slice(3);
      negated = true;
    }
    const renamed = byName.has(name) ? undefined : byOldName.get(name);
    if (renamed) {
      deprecations.set(name, `--${name} is deprecated, use --${renamed.flag.name}: ${renamed.why}`);
      name = renamed.flag.name;
    }
    const spec_ = byName.get(name);
    if (!spec_) {
      const near = flags.find((f) => f.name.startsWith(name.slice(0, 3)));
      throw usageError(`unknown flag --${name}${near ? ` (did you mean --${near.name}?)` : ''}`, hint);
    }
    if (spec_.type === 'boolean') {
      if (inline !== undefined && !['true', 'false'].includes(inline)) throw usageError(`--${name} takes no value (got "${inline}")`, hint);
      values[name] = negated ? false : inline !== 'false';
      continue;
    }
    if (negated) throw usageError(`--no-${name} is not a flag`, hint);
    if (inline === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) throw usageError(`--${name} needs a value${spec_.value ? ` (${spec_.value})` : ''}`, hint);
      inline = next;
      i++;
    }
    if (spec_.choices && !spec_.choices.includes(inline)) {
      throw usageError(`--${name} must be one of ${spec_.choices.join(', ')} (got "${inline}")`, hint);
    }
    if (spec_.type === 'duration') {
      const ms = parseDuration(inline);
      if (ms === undefined || ms <= 0) throw usageError(`--${name} needs a duration such as 90s, 5m or 300 (seconds) (got "${inline}")`, hint);
      const range = durationRange(spec_);
      if (ms < range.minMs || ms > range.maxMs) throw usageError(`--${name} must be between ${range.min} and ${range.max} (got "${inline}")`, hint);
      values[name] = ms;
    } else if (spec_.type === 'number') {
      const n = Number(inline);
      if (inline.trim() === '' || !Number.isFinite(n)) throw usageError(`--${name} needs a number (got "${inline}")`, hint);
      values[name] = n;
    } else if (spec_.type === 'list') {
      (values[name] as string[]).push(...inline.split(',').map((s) => s.trim()).filter(Boolean));
    } else {
      values[name] = inline;
    }
  }
  const args = spec.arguments ?? [];
  if (positionals.length > args.length) throw usageError(`unexpected argument "${positionals[args.length]}"`, hint);
  for (const [i, a] of args.entries()) {
    const word = positionals[i];
    // A missing argument is the script's to report (--help needs none); a wrong word is refused here.
    if (word !== undefined && a.choices && !a.choices.includes(word)) throw usageError(`${a.name} must be one of: ${a.choices.join(', ')} (got "${word}")`, hint);
  }

  const get = (n: string) => {
    if (!byName.has(n)) throw new Error(`flag --${n} is not declared by ${spec.name}`);
    return values[n];
  };
  return {
    env: String(values.env ?? 'local'),
    dryRun: values['dry-run'] === true,
    yes: values.yes === true,
    json: values.json === true,
    verbose: values.verbose === true,
    help: values.help === true,
    values,
    positionals,
    deprecations: [...deprecations.values()],
    string: (n) => { const v = get(n); return typeof v === 'string' ? v : undefined; },
    number: (n) => { const v = get(n); return typeof v === 'number' && byName.get(n)?.type === 'number' ? v : undefined; },
    boolean: (n) => get(n) === true,
    list: (n) => { const v = get(n); return Array.isArray(v) ? v : []; },
    duration: (n) => { const v = get(n); return typeof v === 'number' && byName.get(n)?.type === 'duration' ? v : undefined; },
  };
}

export function renderHelp(spec: ScriptSpec): string {
  const flags = allFlags(spec);
  const left = (f: FlagSpec) => `--${f.name}${f.type === 'boolean' ? '' : ` ${f.value ?? f.type.toUpperCase()}`}`;
  const width = Math.max(...flags.map((f) => left(f).length)) + 2;
  const line = (f: FlagSpec) => {
    const extra = [
      f.choices ? `one of: ${f.choices.join(', ')}` : '',
      f.default !== undefined && f.type !== 'boolean' ? `default: ${f.default}` : '',
      f.type === 'list' ? 'repeatable, or comma-separated' : '',
      f.renamedFrom ? `formerly ${f.renamedFrom.names.map((n) => `--${n}`).join(', ')}, deprecated` : '',
      f.type === 'duration' ? `${durationRange(f).min} to ${durationRange(f).max}` : '',
    ].filter(Boolean).join('; ');
    return `  ${left(f).padEnd(width)}${f.description}${extra ? ` (${extra})` : ''}`;
  };
  const own = flags.filter((f) => !COMMON_FLAGS.some((c) => c.name === f.name));
  const common = flags.filter((f) => COMMON_FLAGS.some((c) => c.name === f.name));
  const parts = [
    `${spec.name}: ${spec.summary}`,
    '',
    `Usage: npx zx scripts/${spec.name}.mts ${(spec.arguments ?? []).map((a) => `${a.name} `).join('')}[flags]`,
  ];
  if (spec.description) parts.push('', spec.description);
  if (spec.arguments?.length) {
    const width = Math.max(...spec.arguments.map((a) => a.name.length)) + 2;
    parts.push('', 'Arguments:', ...spec.arguments.map((a) => `  ${a.name.padEnd(width)}${a.description}${a.choices ? ` (one of: ${a.choices.join(', ')})` : ''}`));
  }
  if (own.length) parts.push('', 'Flags:', ...own.map(line));
  parts.push('', 'Common flags:', ...common.map(line));
  if (spec.examples?.length) parts.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  parts.push('', 'Exit codes: 0 ok, 1 failed, 2 usage or configuration error, 3 preflight failed, 4 deploy failed and rolled back, 130 interrupted.');
  return parts.join('\n');
}

/** The declared flags as data, printed by `--help --json` so docs and workflows can be checked against them. */
export function describeFlags(spec: ScriptSpec): { script: string; flags: Array<Pick<FlagSpec, 'name' | 'type' | 'choices'>>; arguments?: ArgumentSpec[] } {
  return {
    script: spec.name,
    flags: allFlags(spec).map((f) => ({ name: f.name, type: f.type, ...(f.choices ? { choices: f.choices } : {}) })),
    ...(spec.arguments?.length ? { arguments: [...spec.arguments] } : {}),
  };
}
