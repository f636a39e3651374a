// `npm run bench:rollback`: how fast does deploy.mts notice a broken release and restore service,
// next to `helm upgrade --atomic --timeout 5m` on the same pod timeline?
//
// Runs the real scripts/deploy.mts against the fake cluster (test/fakes) with time scaled, twice:
// a crash-looping backend and an image that cannot be pulled. Smoke runs against the fixture app
// server. Every fake CLI call costs a real node start-up, which the scaled clock counts as
// simulated time too (about what a kubectl round trip to AKS costs), so the numbers include it.
//
// Measured, in simulated seconds:
//   detection: from the first failing container status in the timeline to the start of `helm rollback`
//   restored:  from that same moment to the end of the run (rollback rolled out and smoke green)
// The --atomic column is computed from the same timeline: Helm waits its whole --timeout (300 s)
// because the pods never become ready, then rolls back and waits for the old pods again; it never
// runs HTTP checks, and it rolls back to the previous revision even when that one failed.
// Not a test: it prints a table and writes reports/bench-rollback.json.
import { startAppServer } from '../test/fixtures/app-server.ts';
import { addWatch, HEALTHY_NEW, productionEnvFile, productionWorld, ROLLED_BACK, seedHistory, TAG } from '../test/support/release.ts';
import type { ReleaseState } from '../test/support/release.ts';
import { writeBenchReport } from './reports.ts';

/** Real ms per simulated ms: 1 simulated second = 100 real ms. */
const SCALE = 0.1;
const ATOMIC_TIMEOUT_S = 300;
const TARGET_DETECTION_S = 15;
const TARGET_RESTORED_S = 60;
/** After `helm rollback` the previous pods are ready this many seconds later (both columns use it). */
const ROLLBACK_READY_S = 6;

interface Case {
  name: string;
  /** Seconds after the upgrade at which the first container status shows the failure. */
  firstFailureS: number;
  timeline: Array<{ at: number; state: ReleaseState }>;
}

const starting: ReleaseState = { ...HEALTHY_NEW, backend: { waiting: 'ContainerCreating' }, frontend: { waiting: 'ContainerCreating' } };
const CASES: Case[] = [
  {
    name: 'crash loop (backend exits 1 on start)',
    // Created, started and crashed once (restart 1, still not fatal), then CrashLoopBackOff at 10 s.
    firstFailureS: 10,
    timeline: [
      { at: 0, state: starting },
      { at: 4, state: { ...HEALTHY_NEW, backend: { restarts: 1, ready: false }, frontend: { ready: false } } },
      { at: 10, state: { ...HEALTHY_NEW, backend: { waiting: 'CrashLoopBackOff', restarts: 2 } } },
    ],
  },
  {
    name: 'image pull failure (tag not pullable)',
    // ErrImagePull on the first pull attempt, ImagePullBackOff after it.
    firstFailureS: 3,
    timeline: [
      { at: 0, state: starting },
      { at: 3, state: { ...HEALTHY_NEW, backend: { waiting: 'ErrImagePull' }, frontend: { waiting: 'ErrImagePull' } } },
      { at: 15, state: { ...HEALTHY_NEW, backend: { waiting: 'ImagePullBackOff' }, frontend: { waiting: 'ImagePullBackOff' } } },
    ],
  },
];

interface Row {
  case: string;
  exitCode: number;
  detectionS: number;
  restoredS: number;
  atomicDetectionS: number;
  /** When --atomic's rollback would finish: to current-1, which here failed too, so nothing is restored. */
  atomicRolledBackS: number;
  detectionTargetMet: boolean;
  restoredTargetMet: boolean;
  rollbackTo: string;
}

const round = (n: number) => Math.round(n * 10) / 10;

async function runCase(c: Case, url: string): Promise<Row> {
  const envFile = productionEnvFile(url);
  const w = seedHistory(productionWorld(), ['superseded', 'deployed', 'failed']);
  addWatch(w, 'upgrade', c.timeline);
  addWatch(w, 'rollback', [
    { at: 0, state: { ...ROLLED_BACK, backend: { ready: false }, frontend: { ready: false }, oldPods: { hash: HEALTHY_NEW.hash, revision: HEALTHY_NEW.revision, backend: { waiting: 'CrashLoopBackOff' } } } },
    { at: ROLLBACK_READY_S, state: ROLLED_BACK },
  ]);
  w.on('kubectl', ['logs'], { stdout: 'Traceback (most recent call last):\nRuntimeError: DATABASE_URL is not set\n' });
  const t0 = Date.now();
  const r = await w.run('deploy', ['--env', envFile, '--tag', TAG, '--yes', '--json'], { timeScale: SCALE, killAfterMs: 600_000 });
  const endS = (Date.now() - t0) / SCALE / 1000;
  const upgrade = (w.state().events ?? []).find((e) => e.name === 'upgrade');
  const rollbackCall = r.calls.find((call) => call.tool === 'helm' && call.args[0] === 'rollback');
  if (r.code !== 4 || !upgrade || !rollbackCall) {
    throw new Error(`${c.name}: expected exit 4 with an upgrade and a rollback, got exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  }
  const failAtS = upgrade.at / 1000 + c.firstFailureS;
  const detectionS = rollbackCall.t / 1000 - failAtS;
  const restoredS = endS - failAtS;
  const atomicDetectionS = ATOMIC_TIMEOUT_S - c.firstFailureS;
  return {
    case: c.name,
    exitCode: r.code,
    detectionS: round(detectionS),
    restoredS: round(restoredS),
    atomicDetectionS,
    atomicRolledBackS: atomicDetectionS + ROLLBACK_READY_S,
    detectionTargetMet: detectionS <= TARGET_DETECTION_S,
    restoredTargetMet: restoredS <= TARGET_RESTORED_S,
    rollbackTo: rollbackCall.args.slice(0, 3).join(' '),
  };
}

const app = await startAppServer();
const rows: Row[] = [];
try {
  for (const c of CASES) rows.push(await runCase(c, app.url));
} finally {
  await app.close();
}

const header = ['case', 'detect (s)', 'restored (s)', '--atomic detect (s)', '--atomic rolled back (s)', 'targets', 'rollback'];
const body = rows.map((r) => [
  r.case, String(r.detectionS), String(r.restoredS), String(r.atomicDetectionS), String(r.atomicRolledBackS),
  `${r.detectionTargetMet ? 'ok' : 'MISSED'} ≤${TARGET_DETECTION_S}s / ${r.restoredTargetMet ? 'ok' : 'MISSED'} ≤${TARGET_RESTORED_S}s`, r.rollbackTo,
]);
const widths = header.map((_, i) => Math.max(...[header, ...body].map((row) => row[i]!.length)));
const fmt = (row: string[]) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
console.log(`Rollback benchmark (simulated seconds, time scale ${SCALE}; previous revision failed too, so the target is revision 2)\n`);
console.log([fmt(header), widths.map((n) => '-'.repeat(n)).join('  '), ...body.map(fmt)].join('\n'));
console.log(`\n--atomic: helm waits the whole --timeout ${ATOMIC_TIMEOUT_S}s, then rolls back to current-1 (here revision 3, itself failed) and never runs smoke.`);

const report = {
  generatedAt: new Date().toISOString(),
  timeScale: SCALE,
  targets: { detectionSeconds: TARGET_DETECTION_S, restoredSeconds: TARGET_RESTORED_S },
  atomicModel: { timeoutSeconds: ATOMIC_TIMEOUT_S, rollbackReadySeconds: ROLLBACK_READY_S, rollsBackTo: 'current-1', smoke: false },
  cases: rows,
};
console.log(`\nwritten: ${writeBenchReport('bench-rollback.json', report)}`);
if (rows.some((r) => !r.detectionTargetMet || !r.restoredTargetMet)) process.exitCode = 1;
