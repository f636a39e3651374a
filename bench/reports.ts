// Where the benchmarks write their JSON: reports/ in the repository, or $AKS_TODO_OPS_BENCH_REPORTS
// (test/bench.test.ts runs bench/rollback.ts into a folder of its own, so a test never overwrites
// the numbers someone measured).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from '../test/support/tools.ts';

/** Writes `doc` as `<reports>/<name>` and returns the path as printed (relative to the repository when inside it). */
export function writeBenchReport(name: string, doc: unknown): string {
  const dir = process.env.AKS_TODO_OPS_BENCH_REPORTS ?? join(repoRoot, 'reports');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  const rel = relative(repoRoot, file);
  return rel === '..' || rel.startsWith('../') ? file : rel;
}
