// `npm run bench:rollback` (second half): the same question as bench/rollback.ts, on the real local
// control plane (scripts/lib/rehearsal) in real time, with real helm and kubectl on PATH.
//
// Measured, in wall-clock seconds, for a crash-looping backend and an image that cannot be pulled:
//   detection: from the moment the failing container status reaches the API server (seen by a
//              `kubectl get pods --watch` running beside the deploy) to deploy.mts reporting it
//   restored:  from that same moment to deploy.mts exiting (rollback rolled out, smoke green)
// kwok's failure timing (rehearsal/kwok/stages.yaml): a crash-looping container runs 2 s after its pod is
// scheduled + ~2 s, then is marked terminated (exit 1) and waiting in CrashLoopBackOff; an unpullable
// image shows ErrImagePull ~2 s after scheduling and ImagePullBackOff 5 s later. deploy.mts polls every 3 s.
// Not a test: it prints a table and writes reports/bench-rollback-cluster.json.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startAppServer } from '../test/fixtures/app-server.ts';
import { helmPath, kubectlPath, repoRoot } from '../test/support/tools.ts';
import { loadEnvironment } from '../scripts/lib/config.ts';
import { startLocalCluster } from '../scripts/lib/rehearsal/cluster.ts';
import { FAILURE_TAGS, ingressHostValues, rehearsalEnvironment, runScript, writeDummyDotenv, writeRehearsalEnvironment } from '../scripts/lib/rehearsal/scenarios.ts';
import type { RehearsalTarget } from '../scripts/lib/rehearsal/scenarios.ts';
import { ensureBinaries } from '../scripts/lib/rehearsal/toolchain.ts';
import { writeBenchReport } from './reports.ts';

const TARGET_DETECTION_S = 15;
const TARGET_RESTORED_S = 60;

const env = loadEnvironment(repoRoot, 'production');
const helm = helmPath(4);
const PATH = [dirname(helm), dirname(kubectlPath()), process.env.PATH].join(':');
// The cluster start-up calls kubectl too: the same real one.
process.env.PATH = PATH;
const log = (l: string) => process.stderr.write(`${l}\n`);

const binaries = await ensureBinaries({ root: repoRoot, environmentFile: 'environments/production.yaml', progress: log });
const cluster = await startLocalCluster({ binaries, root: repoRoot, nodes: env.azure?.nodeCount.min ?? 2, nodeSize: env.azure?.nodeSize ?? 'Standard_D2s_v3', progress: log });
const app = await startAppServer();
const tls = { ca: readFileSync(join(cluster.dir, 'ca.crt')), cert: readFileSync(join(cluster.dir, 'admin.crt')), key: readFileSync(join(cluster.dir, 'admin.key')) };
const work = mkdtempSync(join(tmpdir(), 'bench-rollback-cluster-'));

interface Row { name: string; detectionS: number; restoredS: number; exit: number | null; failure: string }
const rows: Row[] = [];
try {
  // The stand-in's url carries no host name, so the production values' TLS ingress gets the environment's host from a file (as rehearse.mts does).
  const renv = rehearsalEnvironment(env, { context: cluster.context, url: app.url, extraValuesFiles: ingressHostValues(work, env, { write: true }) });
  const t: RehearsalTarget = {
    root: repoRoot, env: renv, envFile: writeRehearsalEnvironment(work, renv), helm, dotenv: writeDummyDotenv(work),
    childEnv: { ...process.env, PATH, KUBECONFIG: cluster.kubeconfig, NODE_OPTIONS: '' }, goodTags: ['rehearse-good-1', 'rehearse-good-2', 'rehearse-good-3'], simulated: true, progress: log,
  };
  for (const [name, args] of [['secrets', ['--secrets-file', t.dotenv]], ['install-dapr', ['--components-only']], ['deploy', ['--tag', 'rehearse-good-1']], ['deploy', ['--tag', 'rehearse-good-2']]] as const) {
    const r = await runScript(t, name, [...args]);
    if (r.code !== 0) throw new Error(`${name} ${args.join(' ')} failed: ${r.stderr.slice(-800)}`);
    log(`${name} ${args.join(' ')}: ok (${r.seconds.toFixed(1)}s)`);
  }

  for (const [name, tag, reason] of [['crash loop (backend and frontend)', FAILURE_TAGS.crashloop, /CrashLoopBackOff/], ['image pull error', FAILURE_TAGS.pullfail, /ErrImagePull|ImagePullBackOff/]] as const) {
    // The moment the failing status reaches the API server, as a watch on it sees it (one JSON event a line).
    let failedAt = 0;
    let seen = '';
    const selector = encodeURIComponent(`app.kubernetes.io/instance=${renv.release.name}`);
    const watch = request(`${cluster.server}/api/v1/namespaces/${renv.kube.namespace}/pods?watch=1&labelSelector=${selector}`, tls, (res) => {
      res.on('data', (d: Buffer) => {
        seen += d.toString();
        if (!failedAt && /"containerStatuses"/.test(d.toString()) && reason.test(d.toString())) failedAt = Date.now();
      });
    });
    watch.on('error', () => { /* closed at the end of the case */ });
    watch.end();
    let detectedAt = 0;
    const run = await runScript(t, 'deploy', ['--tag', tag], {});
    const end = Date.now();
    watch.destroy();
    // deploy.mts --json prints one JSON line per event on stderr, each with its time.
    for (const line of run.stderr.split('\n')) {
      if (!line.startsWith('{') || !reason.test(line)) continue;
      const ev = JSON.parse(line) as { time?: string };
      if (ev.time) { detectedAt = Date.parse(ev.time); break; }
    }
    const failure = String((run.json as { failure?: string } | undefined)?.failure ?? '').slice(0, 90);
    rows.push({ name, detectionS: failedAt && detectedAt ? (detectedAt - failedAt) / 1000 : NaN, restoredS: failedAt ? (end - failedAt) / 1000 : NaN, exit: run.code, failure });
    log(`${name}: exit ${run.code}`);
    if (!failedAt || !detectedAt) log(`could not time it: watch saw ${JSON.stringify(seen.slice(-400))}; deploy's events: ${run.stderr.split('\n').filter((l) => reason.test(l)).slice(0, 2).join(' | ').slice(0, 600)}`);
  }
} finally {
  await app.close();
  await cluster.stop();
  rmSync(work, { recursive: true, force: true });
}

const header = ['case', 'detection', 'restored', 'exit', 'failure reported'];
const body = rows.map((r) => [r.name, `${r.detectionS.toFixed(1)}s`, `${r.restoredS.toFixed(1)}s`, String(r.exit), r.failure]);
const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
console.log(`\nRollback benchmark on the real control plane (Kubernetes ${binaries.versions.kubernetes}, kwok ${binaries.versions.kwok}, helm 4; wall-clock seconds)\n`);
console.log([fmt(header), widths.map((n) => '-'.repeat(n)).join('  '), ...body.map(fmt)].join('\n'));
console.log(`\ntargets: detected within ${TARGET_DETECTION_S}s of the failing status, service restored within ${TARGET_RESTORED_S}s: ${rows.every((r) => r.detectionS <= TARGET_DETECTION_S && r.restoredS <= TARGET_RESTORED_S) ? 'met' : 'NOT met'}`);
console.log(`written: ${writeBenchReport('bench-rollback-cluster.json', { kubernetes: binaries.versions.kubernetes, kwok: binaries.versions.kwok, rows })}`);
