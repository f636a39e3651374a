// `npm test`: installs the test tools, type-checks, lints, then runs every uvu suite
// (two at a time, one per core) and ends with the line `N passed, N failed`.
// `npm test -- <word>` runs only the suites whose path contains <word> (and skips typecheck and lint).
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ensureAllTools, repoRoot } from './support/tools.ts';

interface Outcome { name: string; passed: number; failed: number; skipped: number; output: string; ms: number }

function runCommand(name: string, cmd: string, args: string[]): Promise<{ code: number; output: string; ms: number }> {
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn(cmd, args, {
      cwd: repoRoot,
      // NODE_OPTIONS from .npmrc would load tsx into every fake CLI the suites spawn; suites add it where needed.
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    child.on('close', (code) => done({ code: code ?? 1, output, ms: Date.now() - started }));
    child.on('error', (e) => done({ code: 1, output: `${name}: ${e.message}`, ms: Date.now() - started }));
  });
}

function findSuites(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory() && e.name !== 'fixtures' && e.name !== 'fakes') out.push(...findSuites(p));
    else if (e.isFile() && e.name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

async function runSuite(file: string): Promise<Outcome> {
  const name = relative(repoRoot, file);
  const r = await runCommand(name, process.execPath, ['--import', 'tsx', file]);
  const num = (label: string) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(r.output)?.[1] ?? NaN);
  const total = num('Total');
  const passed = num('Passed');
  const skipped = num('Skipped') || 0;
  if (Number.isNaN(total) || Number.isNaN(passed)) {
    return { name, passed: 0, failed: 1, skipped: 0, output: r.output || `exit ${r.code}`, ms: r.ms };
  }
  const failed = total - passed - skipped + (r.code !== 0 && total === passed + skipped ? 1 : 0);
  return { name, passed, failed, skipped, output: r.output, ms: r.ms };
}

async function main(): Promise<void> {
  const filter = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const outcomes: Outcome[] = [];
  const report = (o: Outcome) => {
    outcomes.push(o);
    const mark = o.failed ? 'FAIL' : 'ok  ';
    console.log(`${mark} ${o.name}  (${o.passed} passed${o.failed ? `, ${o.failed} failed` : ''}, ${(o.ms / 1000).toFixed(1)}s)`);
    if (o.failed) console.log(o.output.split('\n').map((l) => `     ${l}`).join('\n'));
  };

  const t0 = Date.now();
  try {
    ensureAllTools();
    report({ name: 'tools: helm 3, helm 4, kubectl, checkov, chromium installed', passed: 1, failed: 0, skipped: 0, output: '', ms: Date.now() - t0 });
  } catch (e) {
    report({ name: 'tools', passed: 0, failed: 1, skipped: 0, output: String(e), ms: Date.now() - t0 });
  }

  if (filter.length === 0) {
    const checks: Array<[string, string, string[]]> = [
      ['typecheck (tsc, scripts and tests)', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']],
      ['typecheck (tsc, k6 scenarios against @types/k6)', 'npx', ['tsc', '-p', 'load/tsconfig.json', '--noEmit']],
      ['lint (eslint)', 'npx', ['eslint', '--max-warnings', '0', '.']],
    ];
    for (const [name, cmd, args] of checks) {
      const r = await runCommand(name, cmd, args);
      report({ name, passed: r.code === 0 ? 1 : 0, failed: r.code === 0 ? 0 : 1, skipped: 0, output: r.output, ms: r.ms });
    }
  }

  let suites = findSuites(join(repoRoot, 'test'));
  if (filter.length) suites = suites.filter((s) => filter.some((f) => s.includes(f)));
  const queue = [...suites];
  const workers = Array.from({ length: 2 }, async () => {
    for (let f = queue.shift(); f; f = queue.shift()) report(await runSuite(f));
  });
  await Promise.all(workers);

  const passed = outcomes.reduce((n, o) => n + o.passed, 0);
  const failed = outcomes.reduce((n, o) => n + o.failed, 0);
  console.log(`\n${suites.length} suites in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

await main();
