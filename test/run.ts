// `npm test`: installs the test tools, then type-checks, lints and runs every uvu suite (two at a
// time, one per core), prints the wall and CPU time and ends with the line `N passed, N failed`.
// `npm test -- <word>` runs only the suites whose path contains <word> (and skips typecheck and lint).
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { ensureAllTools, repoRoot } from './support/tools.ts';
import { ensureBinaries } from '../scripts/lib/rehearsal/toolchain.ts';

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

const timesFile = join(repoRoot, '.cache', 'test-times.json');

/** How long each suite took last time (ms), for the order of the queue; {} when unknown. */
function readTimes(): Record<string, number> {
  try {
    return JSON.parse(readFileSync(timesFile, 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}

function writeTimes(times: Record<string, number>): void {
  try {
    mkdirSync(dirname(timesFile), { recursive: true });
    writeFileSync(timesFile, `${JSON.stringify(times, null, 1)}\n`);
  } catch { /* only an ordering hint */ }
}

/** CPU seconds of this process and every child it has waited for (which counts theirs): /proc/self/stat. */
function cpuSeconds(): number | undefined {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /s, '').split(' ');
    // After "(comm) ": state is field 3, so utime..cstime (fields 14-17) are at 11..14 here; clock ticks of 1/100 s.
    return fields.slice(11, 15).reduce((n, f) => n + Number(f), 0) / 100;
  } catch {
    return undefined;
  }
}

function minutes(seconds: number): string {
  const s = Math.round(seconds);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
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

  // Type-check and lint go in the same queue as the suites (first: they take longest), so the two
  // workers keep both cores busy. tsc and eslint keep their own caches in .cache/ (tsc's incremental
  // build info; eslint's per-file results keyed by content and config), so unchanged files are not
  // checked again; a changed file is.
  type Job = { kind: 'check'; name: string; cmd: string; args: string[] } | { kind: 'suite'; file: string };
  const checks: Job[] = filter.length ? [] : [
    { kind: 'check', name: 'typecheck (tsc, scripts and tests)', cmd: 'npx', args: ['tsc', '-p', 'tsconfig.json', '--noEmit', '--incremental', '--tsBuildInfoFile', '.cache/tsc/scripts.tsbuildinfo'] },
    { kind: 'check', name: 'typecheck (tsc, k6 scenarios against @types/k6)', cmd: 'npx', args: ['tsc', '-p', 'load/tsconfig.json', '--noEmit', '--incremental', '--tsBuildInfoFile', '.cache/tsc/load.tsbuildinfo'] },
    { kind: 'check', name: 'lint (eslint)', cmd: 'npx', args: ['eslint', '--max-warnings', '0', '--cache', '--cache-strategy', 'content', '--cache-location', '.cache/eslint/', '.'] },
  ];

  let suites = findSuites(join(repoRoot, 'test'));
  if (filter.length) suites = suites.filter((s) => filter.some((f) => s.includes(f)));

  // The rehearsal suites need the local control plane: built once here (minutes on a cold Go cache,
  // with progress), so the suites running in parallel do not race to build it.
  if (suites.some((s) => s.includes('rehearsal'))) {
    const t1 = Date.now();
    try {
      const b = await ensureBinaries({ root: repoRoot, bicepParameters: 'bicep/production.bicepparam', progress: (l) => console.log(`     ${l}`) });
      report({ name: `tools: rehearsal control plane (Kubernetes ${b.versions.kubernetes}, kwok ${b.versions.kwok}, metrics-server ${b.versions.metricsServer}) ${b.built ? 'built' : 'cached'}`, passed: 1, failed: 0, skipped: 0, output: '', ms: Date.now() - t1 });
    } catch (e) {
      report({ name: 'tools: rehearsal control plane', passed: 0, failed: 1, skipped: 0, output: `${(e as Error).message}\n${(e as { hint?: string }).hint ?? ''}`, ms: Date.now() - t1 });
    }
  }
  // Longest first, so no long suite starts last while the other core idles: by the last run's times
  // in .cache/, or, on a fresh checkout (as in CI), by the size of the test file.
  const lastTimes = readTimes();
  const timed = suites.every((f) => relative(repoRoot, f) in lastTimes);
  // A rehearsal suite's file is small but each runs a whole release cycle on a real control plane
  // (minutes): on a fresh checkout they go first whatever their size.
  const expected = (file: string) => (timed ? lastTimes[relative(repoRoot, file)]! : statSync(file).size * (file.includes('rehearsal') ? 1000 : 1));
  suites = [...suites].sort((a, b) => expected(b) - expected(a) || (a < b ? -1 : 1));
  const queue: Job[] = [...checks, ...suites.map((file): Job => ({ kind: 'suite', file }))];
  const workers = Array.from({ length: 2 }, async () => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      if (job.kind === 'suite') {
        report(await runSuite(job.file));
      } else {
        const r = await runCommand(job.name, job.cmd, job.args);
        report({ name: job.name, passed: r.code === 0 ? 1 : 0, failed: r.code === 0 ? 0 : 1, skipped: 0, output: r.output, ms: r.ms });
      }
    }
  });
  await Promise.all(workers);

  writeTimes({ ...lastTimes, ...Object.fromEntries(outcomes.filter((o) => o.name.startsWith('test/')).map((o) => [o.name, o.ms])) });
  const passed = outcomes.reduce((n, o) => n + o.passed, 0);
  const failed = outcomes.reduce((n, o) => n + o.failed, 0);
  const wall = (Date.now() - t0) / 1000;
  const cpu = cpuSeconds();
  const slowest = outcomes.filter((o) => o.ms >= 500).sort((a, b) => b.ms - a.ms).slice(0, 5).map((o) => `${o.name} ${(o.ms / 1000).toFixed(0)}s`);
  console.log(`\nslowest: ${slowest.join(', ')}`);
  // The time goes on the line before the counts: CI reads `N passed, N failed` alone on the last line.
  console.log(`${suites.length} suite${suites.length === 1 ? '' : 's'}${checks.length ? ', typecheck and lint' : ''} in ${minutes(wall)} wall${cpu === undefined ? '' : `, ${minutes(cpu)} CPU`}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

await main();
