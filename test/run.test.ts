// test/run.ts, the runner behind `npm test`: it starts the shared control plane only when a selected
// suite needs it, and a SIGTERM (a cancelled CI job) or Ctrl-C stops the running suites and the cluster.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { processesIn, SHARED_KUBECONFIG } from './support/cluster.ts';
import { repoRoot } from './support/tools.ts';
import { typeScriptArgs } from '../scripts/lib/typescript-runtime.ts';

/** run.ts with a filter, as `npm test -- WORD`; `until` ends the wait for output early (then the caller signals). */
function runner(words: string[], until?: RegExp): { out: () => string; reached: Promise<void>; exited: Promise<number | null>; kill: (s: NodeJS.Signals) => void } {
  // Without the variable a parent `npm test` set: this run.ts starts a cluster of its own.
  const { [SHARED_KUBECONFIG]: _shared, ...env } = process.env;
  const child = spawn(process.execPath, [...typeScriptArgs(), join(repoRoot, 'test', 'run.ts'), ...words], { cwd: repoRoot, env: { ...env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let reach: () => void = () => undefined;
  const reached = new Promise<void>((r) => { reach = r; });
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); if (until?.test(out)) reach(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((done) => child.on('close', (code) => { reach(); done(code); }));
  return { out: () => out, reached, exited, kill: (s) => child.kill(s) };
}

test('a selection without a cluster suite starts no cluster; each suite\'s wall and CPU time are printed, and the totals', async () => {
  const r = runner(['self-contained']);
  assert.is(await r.exited, 0, r.out());
  assert.not.match(r.out(), /test cluster|cluster folder/);
  // The suite's CPU comes from the suite process itself as it exits (support/cpu-at-exit.mjs).
  const line = /^ok {3}test\/self-contained\.test\.ts {2}\(\d+ passed, \d+\.\ds, (\d+\.\d)s CPU\)$/m.exec(r.out());
  assert.ok(line, r.out());
  assert.ok(Number(line![1]) > 0, line![0]);
  assert.match(r.out(), /^1 suite in \d+s wall, \d+s CPU \(suites \d+s\)$/m);
  assert.match(r.out(), /^\d+ passed, 0 failed$/m);
});

test('SIGTERM while a cluster suite runs: exit 143, the suite and the shared cluster stopped, the cluster folder removed', async () => {
  const r = runner(['install-dapr-cluster'], /tools: test cluster started \(\S+\)/);
  await r.reached;
  const dir = /tools: test cluster started \((\S+)\)/.exec(r.out())?.[1] ?? '';
  assert.ok(dir, r.out());
  r.kill('SIGTERM');
  assert.is(await r.exited, 143, r.out());
  assert.match(r.out(), /SIGTERM: stopping the running suites and the test cluster/);
  assert.not.ok(existsSync(dir), `${dir} is still there`);
  assert.equal(processesIn(dir), [], `processes still running for ${dir}`);
});

test.run();
