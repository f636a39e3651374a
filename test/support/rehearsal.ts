// Runs scripts/rehearse.mts as a user would, with real helm 3 or 4 and real kubectl first on PATH,
// and reads back its JSON report. Shared by the rehearsal suites, which run in parallel.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as assert from 'uvu/assert';
import { suiteNamespace } from './cluster.ts';
import type { TestCluster } from './cluster.ts';
import { helmPath, kubectlPath, repoRoot } from './tools.ts';
import { typeScriptArgs } from '../../scripts/lib/typescript-runtime.ts';

export interface RehearsalRun { code: number | null; stdout: string; stderr: string; report?: { ok: boolean; notRun: string[]; steps: Array<{ step: string; ok: boolean; observed: string; seconds: number }> } }

export function rehearse(args: string[], helmMajor: 3 | 4, extraEnv: NodeJS.ProcessEnv = {}): Promise<RehearsalRun> {
  const dir = mkdtempSync(join(tmpdir(), 'rehearsal-test-'));
  const reportPath = join(dir, 'report.json');
  const helm = helmPath(helmMajor);
  const env = {
    ...process.env,
    // The scripts call `helm` and `kubectl` from PATH, as on a user's machine.
    PATH: [dirname(helm), dirname(kubectlPath()), process.env.PATH].join(':'),
    NODE_OPTIONS: '',
    ...extraEnv,
  };
  return new Promise((done) => {
    const child = spawn(process.execPath, [...typeScriptArgs(), join(repoRoot, 'scripts', 'rehearse.mts'), '--yes', '--helm', helm, '--report', reportPath, ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('close', (code) => {
      let report: RehearsalRun['report'];
      try { report = JSON.parse(readFileSync(reportPath, 'utf8')) as RehearsalRun['report']; } catch { /* none written */ }
      done({ code, stdout, stderr, ...(report ? { report } : {}) });
    });
  });
}

/**
 * rehearse.mts on a test cluster (support/cluster.ts) as on any kept rehearsal cluster: --context with
 * its kubeconfig, in a namespace of this run's own, so suites rehearsing at once never meet.
 */
export function rehearseOn(cluster: TestCluster, suite: string, args: string[], helmMajor: 3 | 4): Promise<RehearsalRun> {
  return rehearse([...args, '--context', cluster.context, '--namespace', suiteNamespace(suite)], helmMajor, { KUBECONFIG: cluster.kubeconfig });
}

/** The report's steps, or the output's tail: the assertion message of a failed rehearsal test. */
export const table = (r: RehearsalRun): string => (r.report?.steps ?? []).map((s) => `${s.ok ? 'ok  ' : 'FAIL'} ${s.step}: ${s.observed}`).join('\n') || `${r.stdout}\n${r.stderr}`.slice(-4000);

/** How many steps a rehearsal has (scripts/rehearse.mts --dry-run lists them). */
export const STEPS = 15;

/**
 * The rehearsal's assertions: every step ran (or, with `skipped`, was left out by --steps) and came out
 * as expected; the outcomes come from the cluster, each failure caught for its own reason and rolled back.
 */
export function assertRehearsal(r: RehearsalRun, skipped: readonly number[] = []): void {
  assert.is(r.code, 0, table(r));
  assert.ok(r.report?.ok, table(r));
  const steps = r.report!.steps;
  assert.is(steps.length, STEPS, table(r));
  assert.ok(steps.every((s) => s.ok), table(r));
  assert.equal(steps.flatMap((s, i) => (s.observed.startsWith('skipped') ? [i + 1] : [])), [...skipped], table(r));
  const ran = (n: number) => !skipped.includes(n);
  const expect: Array<[number, RegExp]> = [
    [5, /^exit 4; .*CrashLoopBackOff.*rolled back to revision 2 \(expected 2\), running rehearse-good-2/],
    [6, /is forbidden: ValidatingAdmissionPolicy .*history .*:failed$/],
    [7, /rolled back to revision 4 \(expected 4\)/],
    [8, /ImagePullBackOff|ErrImagePull/],
    [9, /CreateContainerConfigError: couldn't find key /],
    [10, /running but not ready/],
    [11, /pending-upgrade$/],
    [12, /^exit 0; revision \d+ deployed, running rehearse-good-3 .*history .*pending-upgrade/],
    [13, /^exit 0; running rehearse-good-2$/],
    [14, /^exit 0; --to \d+; running rehearse-good-3$/],
    // The real HPA controller, fed by metrics-server from kwok's simulated CPU, took the backend from its
    // minimum to its maximum, and load.mts's verdict read that from the HPA's status.
    [15, /^exit [01]; todo-backend-hpa 2→5 of max 5 \(load \d+m over backend's \d+m request\); k6-thresholds pass, scaling-active pass, scale-out pass, replicas pass, /],
    // load.mts's own wait for the new pods' metrics (it runs right after a deploy), reported by load.mts.
    [15, /; load\.mts waited \d+ s for the HPAs' metrics first;/],
    [15, /the HPA asked for 5 replicas \(from 2\) and 5 were ready at \d+ s/],
  ];
  for (const [n, re] of expect) if (ran(n)) assert.match(steps[n - 1]!.observed, re, table(r));
  assert.match(r.stdout, new RegExp(`^rehearse: ${STEPS - skipped.length} steps passed${skipped.length ? `, ${skipped.length} skipped` : ''} in \\d+s; report `, 'm'));
}
