// The rehearsal, step by step: what scripts/rehearse.mts runs against the local control plane (or an
// existing cluster) and how each step's outcome is judged. Expected outcomes come from what the
// rehearsal itself did (which revision it deployed with which tag), never from the scripts' own logic.
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { upgradeArgs } from '../helm.ts';
import { loadStep } from './load-step.ts';
import { FAILURE_TAGS, history, historyLine, lastLines, readyDeployments, runCli, runningTags, runScript } from './scenarios.ts';
import type { HistoryEntry, RehearsalTarget, ScriptRun, StepResult } from './scenarios.ts';

interface DeployJson { revision?: number; rolledBack?: boolean; failure?: string; rollback?: { to?: number; revision?: number | null; ok?: boolean } }

/** What a step checks once its script has run. */
type Judge = (run: ScriptRun) => Promise<{ ok: boolean; observed: string }>;

const exitWord = (run: ScriptRun) => `exit ${run.code ?? 'killed'}`;
/** The script's error message from its --json document (first line), else its last line of output. */
const scriptError = (run: ScriptRun): string => {
  const err = run.json?.error as { message?: string } | undefined;
  return (err?.message ?? lastLines(run, 1)).split('\n')[0]!.slice(0, 400);
};

export interface RehearsalPlanStep { step: string; expected: string; simulatedOnly: boolean }

/** The steps in order, for --dry-run and the docs (the run below follows the same list). */
export function planSteps(t: Pick<RehearsalTarget, 'goodTags' | 'env'>): RehearsalPlanStep[] {
  const [g1, g2, g3] = t.goodTags;
  return [
    { step: 'secrets.mts from a generated .env', expected: 'exit 0; every Secret of the catalog in the namespace', simulatedOnly: false },
    { step: 'install-dapr.mts --components-only', expected: 'exit 0; the Dapr components, configuration and resiliency stored by the API server', simulatedOnly: false },
    { step: `deploy.mts --tag ${g1} (first install)`, expected: 'exit 0; revision 1 deployed, all replicas available, smoke green', simulatedOnly: false },
    { step: `deploy.mts --tag ${g2}`, expected: `exit 0; revision 2 deployed, running ${g2}`, simulatedOnly: false },
    { step: `deploy.mts --tag ${FAILURE_TAGS.crashloop}`, expected: `exit 4; CrashLoopBackOff detected, rolled back to revision 2, running ${g2}`, simulatedOnly: true },
    { step: `helm upgrade --tag ${FAILURE_TAGS.denied} by hand (refused by admission)`, expected: 'helm fails; the newest revision is FAILED', simulatedOnly: true },
    { step: `deploy.mts --tag ${FAILURE_TAGS.crashloop} over the FAILED revision`, expected: `exit 4; the rollback skips the FAILED revision, running ${g2}`, simulatedOnly: true },
    { step: `deploy.mts --tag ${FAILURE_TAGS.pullfail}`, expected: `exit 4; ErrImagePull/ImagePullBackOff detected, running ${g2}`, simulatedOnly: false },
    { step: `deploy.mts --tag ${FAILURE_TAGS.configerror}`, expected: `exit 4; CreateContainerConfigError detected, running ${g2}`, simulatedOnly: true },
    { step: `deploy.mts --tag ${FAILURE_TAGS.neverready} --timeout 15s`, expected: `exit 4; readiness never came within 15s, running ${g2}`, simulatedOnly: true },
    { step: 'helm upgrade --wait killed mid-flight', expected: 'the newest revision is left pending-upgrade', simulatedOnly: false },
    { step: `deploy.mts --tag ${g3} over the pending-upgrade lock`, expected: `exit 0; lock recovered by a rollback, then ${g3} deployed`, simulatedOnly: false },
    { step: 'rollback.mts (newest good revision)', expected: `exit 0; running ${g2} again`, simulatedOnly: false },
    { step: `rollback.mts --to <the revision that ran ${g3}>`, expected: `exit 0; running ${g3} again`, simulatedOnly: false },
    {
      step: 'load.mts --scenario hpa (k6 stand-in: simulated CPU on the backend)',
      expected: 'the real HPA scales the backend from its minimum to maxReplicas; load.mts\'s verdict: able to scale, scale-out in time, replicas reached',
      simulatedOnly: true,
    },
  ];
}

export interface RehearsalRun {
  steps: StepResult[];
  /** Steps left out because an earlier one failed. */
  notRun: string[];
  ok: boolean;
}

export async function runRehearsal(t: RehearsalTarget, onStep: (r: StepResult) => void): Promise<RehearsalRun> {
  const plan = planSteps(t);
  const results: StepResult[] = [];
  const ns = t.env.kube.namespace;
  const [g1, g2, g3] = t.goodTags;
  let index = 0;
  /** The revision that runs g2 (the rollback target the failures must land on). */
  let goodRevision = 0;

  // A failed step stops the rehearsal: the later steps build on its outcome and would only fail after it.
  let failed = false;
  const record = (r: StepResult) => { results.push(r); onStep(r); if (!r.ok) failed = true; };
  const notRun: string[] = [];
  const next = () => plan[index++]!;
  /** After a failure: true, and the step is listed as not run. */
  const stopped = (p: RehearsalPlanStep) => { if (failed) notRun.push(p.step); return failed; };
  const skip = (why: string) => {
    const p = next();
    if (stopped(p)) return;
    record({ step: p.step, expected: p.expected, observed: `skipped: ${why}`, ok: true, seconds: 0, exitCode: null });
  };
  /** A step left out of a chosen subset (t.only): recorded as skipped, and true. */
  const leftOut = (p: RehearsalPlanStep) => {
    if (!t.only || t.only.has(index)) return false;
    record({ step: p.step, expected: p.expected, observed: 'skipped: not in this subset', ok: true, seconds: 0, exitCode: null });
    return true;
  };
  const script = async (name: string, args: string[], judge: Judge) => {
    const p = next();
    if (stopped(p) || leftOut(p)) return undefined;
    t.progress(`${p.step} ...`);
    const run = await runScript(t, name, args);
    let verdict: { ok: boolean; observed: string };
    try {
      verdict = await judge(run);
    } catch (e) {
      verdict = { ok: false, observed: `${exitWord(run)}; could not read the outcome: ${(e as Error).message}` };
    }
    record({ step: p.step, expected: p.expected, observed: verdict.observed, ok: verdict.ok, seconds: run.seconds, exitCode: run.code, ...(verdict.ok ? {} : { detail: lastLines(run) }) });
    return run;
  };
  const latest = (h: readonly HistoryEntry[]) => h[h.length - 1];
  const deployed = (want: string) => async (run: ScriptRun) => {
    const [h, tags, ready] = await Promise.all([history(t), runningTags(t), readyDeployments(t)]);
    const top = latest(h);
    const ok = run.code === 0 && top?.status === 'deployed' && tags.length === 1 && tags[0] === want;
    // A failed deploy's own words come first: they say why (the rollout watcher names pods and reasons).
    const why = run.code === 0 ? '' : `${scriptError(run)}; `;
    return { ok, observed: `${exitWord(run)}; ${why}revision ${top?.revision ?? '?'} ${top?.status ?? 'missing'}, running ${tags.join(', ') || 'nothing'} (${ready})` };
  };
  const rolledBack = (reason: RegExp) => async (run: ScriptRun) => {
    const doc = (run.json ?? {}) as DeployJson;
    const [h, tags] = await Promise.all([history(t), runningTags(t)]);
    const top = latest(h);
    const ok = run.code === 4 && reason.test(doc.failure ?? '') && doc.rollback?.to === goodRevision && top?.status === 'deployed' && tags.length === 1 && tags[0] === g2;
    const failure = (doc.failure ?? scriptError(run)).split('\n')[0]!.slice(0, 400);
    return { ok, observed: `${exitWord(run)}; ${failure}; rolled back to revision ${doc.rollback?.to ?? 'none'} (expected ${goodRevision}), running ${tags.join(', ') || 'nothing'}; history ${historyLine(h)}` };
  };

  // 1. Secrets, from dummy values in the real formats.
  await script('secrets', ['--secrets-file', t.dotenv], async (run) => {
    const r = await runCli(t, 'kubectl', ['get', 'secrets', '-n', ns, '-l', 'app.kubernetes.io/managed-by=aks-todo-ops', '-o', 'name']);
    const names = r.stdout.trim().split('\n').filter(Boolean).map((n) => n.replace(/^secret\//, ''));
    return { ok: run.code === 0 && names.length > 0, observed: `${exitWord(run)}; Secrets in ${ns}: ${names.join(', ') || 'none'}` };
  });
  // 2. The Dapr manifests on the real API server (the rehearsal's own CRDs on a local cluster).
  await script('install-dapr', ['--components-only'], async (run) => {
    const r = await runCli(t, 'kubectl', ['get', 'components.dapr.io,configurations.dapr.io,resiliencies.dapr.io', '-n', ns, '-o', 'name']);
    const names = r.stdout.trim().split('\n').filter(Boolean);
    return { ok: run.code === 0 && names.length >= 3, observed: `${exitWord(run)}; ${names.length} Dapr objects in ${ns}: ${names.map((n) => n.split('/').pop()).join(', ')}` };
  });
  // 3-4. Two good deploys: a first install, then an upgrade.
  await script('deploy', ['--tag', g1], deployed(g1));
  await script('deploy', ['--tag', g2], deployed(g2));
  goodRevision = latest(await history(t))?.revision ?? 0;

  // 5. A crash-looping release is caught and rolled back.
  if (t.simulated) {
    await script('deploy', ['--tag', FAILURE_TAGS.crashloop], rolledBack(/CrashLoopBackOff/));
    goodRevision = latest(await history(t))?.revision ?? goodRevision;
  } else skip('needs kwok\'s simulated crash (local control plane only)');

  // 6-7. A FAILED revision on top (Helm could not apply it), then another crash: the rollback skips it.
  if (t.simulated) {
    const p = next();
    if (!stopped(p) && !leftOut(p)) record(await failedUpgradeByHand(t, p));
    await script('deploy', ['--tag', FAILURE_TAGS.crashloop], rolledBack(/CrashLoopBackOff/));
    goodRevision = latest(await history(t))?.revision ?? goodRevision;
  } else {
    skip('needs the rehearsal cluster\'s admission policy (local control plane only)');
    skip('needs kwok\'s simulated crash (local control plane only)');
  }

  // 8. A tag that is not in the registry.
  await script('deploy', ['--tag', FAILURE_TAGS.pullfail], rolledBack(/ImagePullBackOff|ErrImagePull/));
  goodRevision = latest(await history(t))?.revision ?? goodRevision;

  // 9-10. A missing Secret key, and readiness that never comes.
  if (t.simulated) {
    await script('deploy', ['--tag', FAILURE_TAGS.configerror], rolledBack(/CreateContainerConfigError/));
    goodRevision = latest(await history(t))?.revision ?? goodRevision;
    await script('deploy', ['--tag', FAILURE_TAGS.neverready, '--timeout', '15s'], rolledBack(/running but not ready/));
    goodRevision = latest(await history(t))?.revision ?? goodRevision;
  } else {
    skip('needs kwok\'s simulated kubelet (local control plane only)');
    skip('needs kwok\'s simulated kubelet (local control plane only)');
  }

  // 11. `helm upgrade --wait` killed while it waits: the release is left locked in pending-upgrade.
  const killStep = next();
  if (!stopped(killStep) && !leftOut(killStep)) {
    record(await killedUpgrade(t, killStep));
    // deploy.mts leaves a lock younger than the Helm timeout alone (another deploy may be running): wait it out.
    await sleep(t.env.timeouts.helmSeconds * 1000 + 1000);
  }
  // 12. The next deploy recovers the lock and deploys.
  let g3Revision = 0;
  await script('deploy', ['--tag', g3], async (run) => {
    const base = await deployed(g3)(run);
    const h = await history(t);
    g3Revision = latest(h)?.revision ?? 0;
    // Helm leaves the killed revision marked pending-upgrade; the recovery is the rollback revision after it.
    const pending = h.findIndex((e) => e.status === 'pending-upgrade');
    const recovered = pending >= 0 && /^Rollback to/.test(h[pending + 1]?.description ?? '');
    return { ok: base.ok && recovered, observed: `${base.observed}; history ${historyLine(h)}` };
  });

  // 13-14. rollback.mts: the newest good revision, then an explicit one.
  await script('rollback', [], async (run) => {
    const tags = await runningTags(t);
    return { ok: run.code === 0 && tags.length === 1 && tags[0] === g2, observed: `${exitWord(run)}; running ${tags.join(', ') || 'nothing'}` };
  });
  // Helm keeps ten revisions (--history-max), so revision 1 is long gone by now: go back to the g3 one.
  await script('rollback', ['--to', String(g3Revision)], async (run) => {
    const tags = await runningTags(t);
    return { ok: run.code === 0 && tags.length === 1 && tags[0] === g3, observed: `${exitWord(run)}; --to ${g3Revision}; running ${tags.join(', ') || 'nothing'}` };
  });

  // 15. load.mts against the real HPA, with kwok's simulated CPU. Last: the HPA keeps the extra
  // replicas for its 5-minute scale-down window, which would slow every rollout after it.
  if (t.simulated) {
    const p = next();
    if (!stopped(p) && !leftOut(p)) { t.progress(`${p.step} ...`); record(await loadStep(t, p)); }
  } else skip('needs kwok\'s simulated CPU usage (local control plane only)');

  return { steps: results, notRun, ok: !failed };
}

/** `helm upgrade --wait` killed (SIGKILL) once it has recorded its revision: the release is left pending-upgrade. */
async function killedUpgrade(t: RehearsalTarget, p: RehearsalPlanStep): Promise<StepResult> {
  const started = Date.now();
  const { release } = t.env;
  const up = upgradeArgs({
    release: release.name, chart: release.chart, namespace: t.env.kube.namespace, valuesFiles: release.valuesFiles, timeoutSeconds: 300,
    images: { backend: { repository: release.images.backend, tag: FAILURE_TAGS.pullfail }, frontend: { repository: release.images.frontend, tag: FAILURE_TAGS.pullfail } },
  });
  const child = spawn(t.helm, [...up, '--wait'], { cwd: t.root, env: t.childEnv, stdio: 'ignore' });
  const closed = new Promise((r) => child.once('close', r));
  let h: HistoryEntry[] = [];
  for (let i = 0; i < 240 && h[h.length - 1]?.status !== 'pending-upgrade'; i++) {
    await sleep(250);
    h = await history(t);
  }
  child.kill('SIGKILL');
  await closed;
  h = await history(t);
  const ok = h[h.length - 1]?.status === 'pending-upgrade';
  return { step: p.step, expected: p.expected, observed: `helm killed; history ${historyLine(h)}`, ok, seconds: (Date.now() - started) / 1000, exitCode: null };
}

/** `helm upgrade` of a tag the cluster's admission policy refuses: Helm records the revision as FAILED. */
async function failedUpgradeByHand(t: RehearsalTarget, p: RehearsalPlanStep): Promise<StepResult> {
  const started = Date.now();
  const { release } = t.env;
  const up = upgradeArgs({
    release: release.name, chart: release.chart, namespace: t.env.kube.namespace, valuesFiles: release.valuesFiles, timeoutSeconds: t.env.timeouts.helmSeconds,
    images: { backend: { repository: release.images.backend, tag: FAILURE_TAGS.denied }, frontend: { repository: release.images.frontend, tag: FAILURE_TAGS.denied } },
  });
  const r = await runCli(t, t.helm, up);
  const h = await history(t);
  const ok = r.code !== 0 && h[h.length - 1]?.status === 'failed';
  const err = r.stderr.trim().split('\n').pop() ?? '';
  return {
    step: p.step, expected: p.expected, observed: `helm exit ${r.code}; ${err.slice(0, 160)}; history ${historyLine(h)}`, ok,
    seconds: (Date.now() - started) / 1000, exitCode: r.code, ...(ok ? {} : { detail: r.stderr.slice(-1500) }),
  };
}

/** The closing table: step, expected, observed, time. */
export function formatRehearsalTable(steps: readonly StepResult[], notRun: readonly string[] = []): string {
  const rows = steps.map((s, i) => [`${i + 1}.`, s.ok ? (s.observed.startsWith('skipped') ? 'skip' : 'ok') : 'FAIL', s.step, s.expected, s.observed, `${s.seconds.toFixed(1)}s`]);
  notRun.forEach((step, i) => rows.push([`${steps.length + i + 1}.`, '-', step, '', 'not run: an earlier step failed', '']));
  const head = ['#', '', 'step', 'expected', 'observed', 'time'];
  const widths = head.map((h, c) => Math.min(c === 4 ? 90 : 60, Math.max(h.length, ...rows.map((r) => r[c]!.length))));
  const cell = (v: string, w: number) => (v.length > w ? `${v.slice(0, w - 1)}…` : v.padEnd(w));
  return [head, ...rows].map((r) => r.map((v, c) => cell(v, widths[c]!)).join('  ').trimEnd()).join('\n');
}
