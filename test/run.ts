// `npm test`: installs the test tools, then type-checks, lints and runs every uvu suite (two at a
// time, one per core) on the test Node (support/tools.ts: one that strips TypeScript types itself),
// prints each suite's wall and CPU time and the totals, and ends with the line `N passed, N failed`.
// `npm test -- <word>` runs only the suites whose path contains <word> (and skips typecheck and lint).
// The suites that need a Kubernetes control plane (they call testCluster(), test/support/cluster.ts) share one,
// started here once and stopped at the end, on failure and on Ctrl-C/SIGTERM; they run beside the two
// workers, because they mostly wait for the cluster (kwok's pod timings, the scripts' polls), not compute.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { dirname, join, relative } from 'node:path';
import { cpuOf, cpuOfProcesses } from './support/cpu.ts';
import { ensureAllTools, repoRoot, suiteProcess, testNode } from './support/tools.ts';
import type { TestNode } from './support/tools.ts';
import { processesIn, SHARED_KUBECONFIG, startTestCluster, usesClusterPattern } from './support/cluster.ts';
import type { TestCluster } from './support/cluster.ts';
import { typeScriptArgs } from '../scripts/lib/typescript-runtime.ts';

interface Outcome { name: string; passed: number; failed: number; skipped: number; output: string; ms: number; cpu?: number }

/** The suites and checks running now, so a signal can stop them before the cluster goes. */
const running = new Set<ChildProcess>();

function runCommand(name: string, cmd: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number; output: string; ms: number }> {
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn(cmd, args, {
      cwd: repoRoot,
      // NODE_OPTIONS from .npmrc would load tsx into every fake CLI the suites spawn; suites add it where needed.
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', NODE_OPTIONS: '', ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    child.on('close', (code) => { running.delete(child); done({ code: code ?? 1, output, ms: Date.now() - started }); });
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

/** Where each suite writes its CPU seconds when it exits (support/cpu-at-exit.mjs). */
const cpuDir = mkdtempSync(join(tmpdir(), 'aks-todo-ops-test-cpu-'));
let suiteCount = 0;
const cpuHook = join(repoRoot, 'test', 'support', 'cpu-at-exit.mjs');
const readCpu = (file: string): number | undefined => {
  try { return Number(readFileSync(file, 'utf8')); } catch { return undefined; /* killed before exit, or no /proc */ }
};

/** The Node that runs the suites (support/tools.ts's testNode), set once the tools are in place. */
let node: TestNode = { path: process.execPath, version: process.versions.node, tsArgs: typeScriptArgs() };
async function runSuite(file: string): Promise<Outcome> {
  const name = relative(repoRoot, file);
  const cpuFile = join(cpuDir, String(++suiteCount));
  const p = suiteProcess(file, node);
  const r = await runCommand(name, p.cmd, ['--import', cpuHook, ...p.args], { ...p.env, AKS_TODO_OPS_SUITE_CPU_FILE: cpuFile });
  const cpu = readCpu(cpuFile);
  const num = (label: string) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(r.output)?.[1] ?? NaN);
  const total = num('Total');
  const passed = num('Passed');
  const skipped = num('Skipped') || 0;
  if (Number.isNaN(total) || Number.isNaN(passed)) {
    return { name, passed: 0, failed: 1, skipped: 0, output: r.output || `exit ${r.code}`, ms: r.ms, cpu };
  }
  const failed = total - passed - skipped + (r.code !== 0 && total === passed + skipped ? 1 : 0);
  return { name, passed, failed, skipped, output: r.output, ms: r.ms, cpu };
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
    const cpu = o.cpu === undefined ? '' : `, ${o.cpu.toFixed(1)}s CPU`;
    console.log(`${mark} ${o.name}  (${o.passed} passed${o.failed ? `, ${o.failed} failed` : ''}, ${(o.ms / 1000).toFixed(1)}s${cpu})`);
    if (o.failed) console.log(o.output.split('\n').map((l) => `     ${l}`).join('\n'));
  };

  const t0 = Date.now();
  try {
    ensureAllTools();
    node = testNode();
    report({ name: `tools: helm 3, helm 4, kubectl, checkov, chromium installed; suites on Node ${node.version}${node.tsArgs.length ? ' with tsx' : ''}`, passed: 1, failed: 0, skipped: 0, output: '', ms: Date.now() - t0 });
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

  // Longest first, so no long suite starts last while the other core idles: by the last run's times
  // in .cache/, or, on a fresh checkout (as in CI), by the size of the test file.
  const lastTimes = readTimes();
  const timed = suites.every((f) => relative(repoRoot, f) in lastTimes);
  const onCluster = new Set(suites.filter((f) => usesClusterPattern.test(readFileSync(f, 'utf8'))));
  // A cluster suite's file is small but each runs release cycles on a real control plane (minutes):
  // on a fresh checkout they go first whatever their size.
  const expected = (file: string) => (timed ? lastTimes[relative(repoRoot, file)]! : statSync(file).size * (onCluster.has(file) ? 1000 : 1));
  suites = [...suites].sort((a, b) => expected(b) - expected(a) || (a < b ? -1 : 1));

  // The control plane: built once (minutes on a cold Go cache, with progress) and started once, while
  // the workers already run the other suites.
  let cluster: (TestCluster & { dir: string }) | undefined;
  /** The control plane's own CPU (API server, etcd, controllers, scheduler, kwok, metrics-server), read just before it stops. */
  let clusterCpu: number | undefined;
  const stopCluster = async () => {
    const c = cluster;
    cluster = undefined;
    if (c) clusterCpu = cpuOfProcesses(processesIn(c.dir));
    await c?.stop();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.log(`\n${signal}: stopping the running suites and the test cluster`);
      for (const child of running) child.kill('SIGTERM');
      rmSync(cpuDir, { recursive: true, force: true });
      void stopCluster().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
  const clusterReady: Promise<boolean> = onCluster.size === 0 ? Promise.resolve(false) : (async () => {
    const t1 = Date.now();
    try {
      const c = await startTestCluster((l) => console.log(`     ${l}`));
      cluster = c;
      process.env[SHARED_KUBECONFIG] = c.kubeconfig;
      report({ name: `tools: test cluster started (${c.dir}), shared by ${onCluster.size} suite${onCluster.size === 1 ? '' : 's'}`, passed: 1, failed: 0, skipped: 0, output: '', ms: Date.now() - t1 });
      return true;
    } catch (e) {
      report({ name: 'tools: test cluster', passed: 0, failed: 1, skipped: 0, output: `${(e as Error).message}\n${(e as { hint?: string }).hint ?? ''}`, ms: Date.now() - t1 });
      return false;
    }
  })();

  const queue: Job[] = [...checks, ...suites.filter((f) => !onCluster.has(f)).map((file): Job => ({ kind: 'suite', file }))];
  const workers = Array.from({ length: 2 }, async () => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      if (job.kind === 'suite') {
        report(await runSuite(job.file));
      } else {
        // npx and the tool it runs are both Node: the CPU hook goes in through NODE_OPTIONS (only npx writes).
        const cpuFile = join(cpuDir, String(++suiteCount));
        const r = await runCommand(job.name, job.cmd, job.args, { NODE_OPTIONS: `--import=${pathToFileURL(cpuHook).href}`, AKS_TODO_OPS_SUITE_CPU_FILE: cpuFile });
        report({ name: job.name, passed: r.code === 0 ? 1 : 0, failed: r.code === 0 ? 0 : 1, skipped: 0, output: r.output, ms: r.ms, cpu: readCpu(cpuFile) });
      }
    }
  });
  // The cluster suites, CLUSTER_LANES at a time beside the workers. Four: each spends most of its time
  // waiting on the cluster, so four keep the cores busy without queueing behind each other for long.
  const CLUSTER_LANES = 4;
  const clusterQueue = suites.filter((f) => onCluster.has(f));
  const lanes = Array.from({ length: CLUSTER_LANES }, async () => {
    const ready = await clusterReady;
    for (let file = clusterQueue.shift(); file; file = clusterQueue.shift()) {
      report(ready ? await runSuite(file) : { name: relative(repoRoot, file), passed: 0, failed: 1, skipped: 0, output: 'not run: the test cluster did not start', ms: 0 });
    }
  });
  try {
    await Promise.all([...workers, ...lanes]);
  } finally {
    await stopCluster();
  }

  writeTimes({ ...lastTimes, ...Object.fromEntries(outcomes.filter((o) => o.name.startsWith('test/')).map((o) => [o.name, o.ms])) });
  const passed = outcomes.reduce((n, o) => n + o.passed, 0);
  const failed = outcomes.reduce((n, o) => n + o.failed, 0);
  const wall = (Date.now() - t0) / 1000;
  rmSync(cpuDir, { recursive: true, force: true });
  // This process's CPU with every child it waited for: the suites, the checks and the control plane.
  const cpu = cpuOf('self', true);
  const sum = (pick: (o: Outcome) => boolean) => outcomes.filter(pick).reduce((n, o) => n + (o.cpu ?? 0), 0);
  const parts = [`suites ${minutes(sum((o) => o.name.startsWith('test/')))}`, ...(checks.length ? [`typecheck and lint ${minutes(sum((o) => !o.name.startsWith('test/')))}`] : []), ...(clusterCpu === undefined ? [] : [`test cluster ${minutes(clusterCpu)}`])];
  const slowest = outcomes.filter((o) => o.ms >= 500).sort((a, b) => b.ms - a.ms).slice(0, 5).map((o) => `${o.name} ${(o.ms / 1000).toFixed(0)}s`);
  console.log(`\nslowest: ${slowest.join(', ')}`);
  // The time goes on the line before the counts: CI reads `N passed, N failed` alone on the last line.
  console.log(`${suites.length} suite${suites.length === 1 ? '' : 's'}${checks.length ? ', typecheck and lint' : ''} in ${minutes(wall)} wall, ${minutes(cpu)} CPU (${parts.join(', ')})`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

await main();
