// Runs the pinned checkov (test/support/tools.ts) and keeps its verdict by content: the key is the
// sha256 of checkov's version, its arguments and the path and content of every file it is given
// (`-d DIR` walks the directory, `-f FILE` reads the file). A re-run with the same inputs reads
// .cache/checkov/<key>.json instead of scanning again; any change to an input, the arguments or the
// checkov version scans afresh. Input paths are stored as placeholders, so a scan of a fresh temporary
// copy with the same content is a hit too, and the report names the paths of this run.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CHECKOV_VERSION, checkovPath, repoRoot } from './tools.ts';

export interface CheckovRun {
  /** checkov's exit code: 0 all passed, 1 some check failed. */
  status: number;
  stdout: string;
  stderr: string;
  /** true when the verdict came from .cache/checkov. */
  cached: boolean;
}

export const checkovCacheDir = join(repoRoot, '.cache', 'checkov');
/** Bump to drop every cached verdict (e.g. when what is stored changes). */
const CACHE_FORMAT = 1;

function filesUnder(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((e) => (e.isDirectory() ? filesUnder(join(path, e.name)) : e.isFile() ? [join(path, e.name)] : []));
}

/** The paths checkov reads: the values of -d/--directory and -f/--file. */
export function checkovInputs(args: readonly string[]): string[] {
  const inputs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (['-d', '--directory', '-f', '--file'].includes(args[i]!) && args[i + 1] !== undefined) inputs.push(args[++i]!);
  }
  return inputs;
}

/** The cache key of a scan: checkov's version, the arguments (inputs as placeholders) and every input file's path and content. */
export function checkovKey(args: readonly string[]): string {
  const inputs = checkovInputs(args);
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ format: CACHE_FORMAT, checkov: CHECKOV_VERSION, args: args.map((a) => (inputs.includes(a) ? `<input ${inputs.indexOf(a)}>` : a)) }));
  inputs.forEach((input, n) => {
    for (const file of filesUnder(input)) {
      hash.update(`\0input ${n} ${relative(input, file)}\0`);
      hash.update(readFileSync(file));
    }
  });
  return hash.digest('hex');
}

/** Replaces each input path with its placeholder (longest first, so no path is cut inside another). */
function swap(text: string, pairs: Array<[string, string]>): string {
  return [...pairs].sort((a, b) => b[0].length - a[0].length).reduce((t, [from, to]) => t.split(from).join(to), text);
}

/**
 * checkov with `args` (which name their inputs with -d/-f), offline (--skip-download is added).
 * Exit 0 and 1 are verdicts and are cached; any other exit is returned as it is and not kept.
 */
export function checkov(args: readonly string[]): CheckovRun {
  const full = [...args, '--skip-download'];
  const inputs = checkovInputs(full);
  for (const i of inputs) if (!existsSync(i)) throw new Error(`checkov input ${i} does not exist`);
  const key = checkovKey(full);
  const file = join(checkovCacheDir, `${key}.json`);
  const toPlaceholders = inputs.map((p, n): [string, string] => [p, `<<checkov-input-${n}>>`]);
  const fromPlaceholders = toPlaceholders.map(([p, h]): [string, string] => [h, p]);
  if (existsSync(file)) {
    try {
      const stored = JSON.parse(readFileSync(file, 'utf8')) as Omit<CheckovRun, 'cached'>;
      return { status: stored.status, stdout: swap(stored.stdout, fromPlaceholders), stderr: swap(stored.stderr, fromPlaceholders), cached: true };
    } catch { /* unreadable: scan again and overwrite */ }
  }
  const r = spawnSync(checkovPath(), full, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  const run = { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error ? String(r.error) : '') };
  if (run.status === 0 || run.status === 1) {
    mkdirSync(checkovCacheDir, { recursive: true });
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify({ status: run.status, stdout: swap(run.stdout, toPlaceholders), stderr: swap(run.stderr, toPlaceholders), args: full.map((a) => swap(a, toPlaceholders)) }));
    renameSync(tmp, file);
  }
  return { ...run, cached: false };
}
