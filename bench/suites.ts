// `npm run bench:suites [-- WORD ...]`: what each test suite costs, in wall and CPU seconds, measured one
// suite at a time so no other suite's work is counted in. `npm test` runs suites side by side and can
// only print the totals; this says where they come from. With no WORD every suite runs (the sum of
// their walls, so long); WORD keeps the suites whose path contains it, as `npm test -- WORD` does.
// The cluster suites share one control plane started first, as under `npm test`; its own CPU (the
// API server, etcd, controllers, scheduler and kwok, read from /proc before it stops) is a row too.
// Not a test: it prints a table and writes reports/bench-suites.json. Numbers from a busy machine are
// the machine's, not the suites': read the CPU column, which load barely moves, before the wall column.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { processesIn, SHARED_KUBECONFIG, startTestCluster, usesClusterPattern } from '../test/support/cluster.ts';
import { cpuOf, cpuOfProcesses } from '../test/support/cpu.ts';
import { repoRoot, suiteProcess, testNode } from '../test/support/tools.ts';
import { writeBenchReport } from './reports.ts';

const words = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const suites = readdirSync(join(repoRoot, 'test')).filter((f) => f.endsWith('.test.ts')).map((f) => join(repoRoot, 'test', f))
  .filter((f) => !words.length || words.some((w) => f.includes(w))).sort();
const onCluster = suites.filter((f) => usesClusterPattern.test(readFileSync(f, 'utf8')));

// The Node npm test runs the suites on (support/tools.ts), so the numbers are npm test's.
const node = testNode();
const rows: Array<{ suite: string; wallS: number; cpuS: number; ok: boolean }> = [];
const clusterStarted = Date.now();
const cpuBefore = cpuOf('self', true);
const cluster = onCluster.length ? await startTestCluster() : undefined;
if (cluster) {
  process.env[SHARED_KUBECONFIG] = cluster.kubeconfig;
  rows.push({ suite: 'test cluster start-up (this process and its kubectl calls)', wallS: (Date.now() - clusterStarted) / 1000, cpuS: cpuOf('self', true) - cpuBefore, ok: true });
}

try {
  for (const file of suites) {
    const started = Date.now();
    const before = cpuOf('self', true);
    const code = await new Promise<number | null>((done) => {
      const p = suiteProcess(file, node);
      const child = spawn(p.cmd, p.args, { cwd: repoRoot, env: { ...process.env, ...p.env, NODE_OPTIONS: '' }, stdio: 'ignore' });
      child.on('close', done);
    });
    // The child has been waited for, so its CPU (and its children's) is in this process's cutime/cstime.
    rows.push({ suite: relative(repoRoot, file), wallS: (Date.now() - started) / 1000, cpuS: cpuOf('self', true) - before, ok: code === 0 });
    process.stderr.write(`${rows.at(-1)!.suite}: ${rows.at(-1)!.wallS.toFixed(1)}s wall, ${rows.at(-1)!.cpuS.toFixed(1)}s CPU${code === 0 ? '' : ` (exit ${code})`}\n`);
  }
} finally {
  if (cluster) {
    rows.push({ suite: 'test cluster while the suites ran (kube-apiserver, etcd, controllers, scheduler, kwok)', wallS: (Date.now() - clusterStarted) / 1000, cpuS: cpuOfProcesses(processesIn(cluster.dir)), ok: true });
    await cluster.stop();
  }
}

const width = Math.max(...rows.map((r) => r.suite.length));
console.log(`${'suite'.padEnd(width)}  ${'wall s'.padStart(7)}  ${'CPU s'.padStart(7)}`);
for (const r of rows) console.log(`${r.suite.padEnd(width)}  ${r.wallS.toFixed(1).padStart(7)}  ${r.cpuS.toFixed(1).padStart(7)}${r.ok ? '' : '  FAILED'}`);
console.log(`${'total'.padEnd(width)}  ${rows.filter((r) => r.suite.startsWith('test/')).reduce((n, r) => n + r.wallS, 0).toFixed(1).padStart(7)}  ${rows.reduce((n, r) => n + r.cpuS, 0).toFixed(1).padStart(7)}`);
console.log(`written: ${writeBenchReport('bench-suites.json', { machine: { loadAverage: (await import('node:os')).loadavg() }, rows })}`);
