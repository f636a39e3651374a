// The repository's own text files, for the suites that read all of them (test/self-contained.test.ts,
// test/one-source.test.ts): every file below the root but installed, cached, generated and binary ones.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from './tools.ts';

const SKIP = new Set(['node_modules', '.cache', '.git', 'reports']);
const BINARY = /\.(png|jpe?g|gif|ico|zip|gz|br|tgz|wasm|woff2?)$/i;

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (e.isFile() && !BINARY.test(e.name)) out.push(p);
  }
  return out;
}

/** Each text file's path (relative to the repository root) and content. */
export function repoFiles(): Array<{ path: string; text: string }> {
  return walk(repoRoot).map((p) => ({ path: relative(repoRoot, p), text: readFileSync(p, 'utf8') }));
}
