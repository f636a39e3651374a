// Runs scripts/rehearse.mts as a user would, with real helm 3 or 4 and real kubectl first on PATH,
// and reads back its JSON report. Shared by the rehearsal suites, which run in parallel.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as assert from 'uvu/assert';
import { helmPath, kubectlPath, repoRoot } from './tools.ts';

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
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts', 'rehearse.mts'), '--yes', '--helm', helm, '--report', reportPath, ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
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

/** The report's steps, or the output's tail: the assertion message of a failed rehearsal test. */
export const table = (r: RehearsalRun): string => (r.report?.steps ?? []).map((s) => `${s.ok ? 'ok  ' : 'FAIL'} ${s.step}: ${s.observed}`).join('\n') || `${r.stdout}\n${r.stderr}`.slice(-4000);

/** The full rehearsal's assertions, for Helm 3 and Helm 4 alike: every step ran and came out as expected. */
export function assertFullRehearsal(r: RehearsalRun): void {
  assert.is(r.code, 0, table(r));
  assert.ok(r.report?.ok, table(r));
  const steps = r.report!.steps;
  assert.is(steps.length, 15, table(r));
  assert.ok(steps.every((s) => s.ok && !s.observed.startsWith('skipped')), table(r));
  // The outcomes come from the cluster: each failure was caught for its own reason and rolled back.
  assert.match(steps[4]!.observed, /^exit 4; .*CrashLoopBackOff.*rolled back to revision 2 \(expected 2\), running rehearse-good-2/, table(r));
  assert.match(steps[5]!.observed, /is forbidden: ValidatingAdmissionPolicy .*history .*:failed$/, table(r));
  assert.match(steps[6]!.observed, /rolled back to revision 4 \(expected 4\)/, table(r));
  assert.match(steps[7]!.observed, /ImagePullBackOff|ErrImagePull/, table(r));
  assert.match(steps[8]!.observed, /CreateContainerConfigError: couldn't find key /, table(r));
  assert.match(steps[9]!.observed, /running but not ready/, table(r));
  assert.match(steps[10]!.observed, /pending-upgrade$/, table(r));
  // The real HPA controller, fed by metrics-server from kwok's simulated CPU, took the backend from its
  // minimum to its maximum, and load.mts's verdict read that from the HPA's status.
  assert.match(steps[14]!.observed, /^exit [01]; todo-backend-hpa 2→5 of max 5 \(load \d+m over backend's \d+m request\); k6-thresholds pass, scaling-active pass, scale-out pass, replicas pass, /, table(r));
  assert.match(steps[14]!.observed, /the HPA asked for 5 replicas \(from 2\) and 5 were ready at \d+ s/, table(r));
  assert.match(r.stdout, /^rehearse: 15 steps passed in \d+s; report /m);
}
