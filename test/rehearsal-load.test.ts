// The rehearsal's load step without a cluster: the simulated load against the chart's real HPA settings
// (rendered by real helm), and the k6 stand-in's outputs read by load.mts's own parsers. The step itself,
// on the real HPA controller and metrics-server, runs in rehearsal-helm4.test.ts and rehearsal-helm3.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseK6Summary } from '../scripts/lib/load/k6.ts';
import { TOOLS } from '../scripts/lib/preflight.ts';
import { LOAD_LABEL, loadShare, readyPods, resourceUsages, summaryData } from '../scripts/lib/rehearsal/k6-standin.ts';
import { cpuMillicores, loadMillicores } from '../scripts/lib/rehearsal/load-step.ts';
import { hostArgs, productionValuesFile, render, tagArgs, valuesFile } from './helm-render.ts';
import { repoRoot } from './support/tools.ts';
import { typeScriptArgs } from '../scripts/lib/typescript-runtime.ts';

type Obj = Record<string, any>;

test('the simulated load takes the backend HPA (as the production values render it) to maxReplicas from any count, and holds it there', () => {
  const { objects } = render(4, [valuesFile, productionValuesFile], [...tagArgs, ...hostArgs]);
  const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler' && (o.spec as Obj).scaleTargetRef.name === 'todo-backend') as Obj;
  const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'todo-backend') as Obj;
  const metric = (hpa.spec.metrics as Obj[]).find((m) => m.type === 'ContainerResource')!.containerResource;
  const container = (deployment.spec.template.spec.containers as Obj[]).find((c) => c.name === metric.container)!;
  const request = cpuMillicores(container.resources.requests.cpu as string);
  const target = metric.target.averageUtilization as number;
  const { minReplicas, maxReplicas } = hpa.spec as { minReplicas: number; maxReplicas: number };
  const load = loadMillicores(request, target, maxReplicas);
  // The HPA controller's rule: no change while |ratio − 1| ≤ 0.1, else desired = ceil(current × ratio).
  const desired = (current: number) => {
    const ratio = load / current / request / (target / 100);
    return Math.abs(ratio - 1) <= 0.1 ? current : Math.min(maxReplicas, Math.ceil(current * ratio));
  };
  for (let n = minReplicas; n < maxReplicas; n++) assert.is(desired(n), maxReplicas, `from ${n} replicas`);
  assert.is(desired(maxReplicas), maxReplicas, 'at the maximum it stays');
  // And the verdict's capacity criterion holds at the maximum: below the scale-out point (target + 10%).
  assert.ok((load / maxReplicas / request) * 100 < target * 1.1, `${load}m over ${maxReplicas} pods`);
});

test('cpuMillicores reads the quantities a CPU request is written in; anything else is an error', () => {
  assert.is(cpuMillicores('250m'), 250);
  assert.is(cpuMillicores('1'), 1000);
  assert.is(cpuMillicores('0.5'), 500);
  assert.throws(() => cpuMillicores('1Gi'), /not a CPU quantity/);
});

test('the stand-in follows the scenario\'s ramp: up, hold, down, then nothing', () => {
  const r = { rampUp: 10, hold: 20, rampDown: 10 };
  assert.equal([-1, 0, 5, 10, 29, 30, 35, 40, 50].map((t) => loadShare(t, r)), [0, 0, 0.5, 1, 1, 1, 0.5, 0, 0]);
});

test('the load is shared by the ready pods only, one ResourceUsage each; other containers and memory keep the idle usage', () => {
  const pod = (name: string, ready: boolean, deleting = false) => ({
    metadata: { name, ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  });
  const ready = readyPods([pod('b', true), pod('a', true), pod('c', false), pod('d', true, true), pod('e', true)]);
  assert.equal(ready, ['a', 'b', 'e']);
  const idle = { usage: { cpu: { value: '5m' }, memory: { value: '64Mi' } } };
  const list = resourceUsages({ namespace: 'todo', pods: ready, container: 'backend', millicores: 805, idle }) as { items: Obj[] };
  assert.equal(list.items.map((i) => [i.kind, i.metadata.namespace, i.metadata.name, i.metadata.labels[LOAD_LABEL]]), [
    ['ResourceUsage', 'todo', 'a', 'k6-standin'], ['ResourceUsage', 'todo', 'b', 'k6-standin'], ['ResourceUsage', 'todo', 'e', 'k6-standin'],
  ]);
  assert.equal(list.items[0]!.spec.usages, [
    { containers: ['backend'], usage: { cpu: { value: '269m' }, memory: { value: '64Mi' } } },
    { usage: { cpu: { value: '5m' }, memory: { value: '64Mi' } } },
  ]);
  assert.equal((resourceUsages({ namespace: 'todo', pods: [], container: 'backend', millicores: 805 }) as { items: Obj[] }).items, []);
});

test('the stand-in\'s summary is k6\'s handleSummary shape: load.mts\'s parser reads the counts, p95 and thresholds from it', () => {
  const ok = parseK6Summary(summaryData({ durationsMs: [10, 20, 30, 40], failed: 0, seconds: 8, peakVus: 20 }));
  assert.is(ok.format, 'handleSummary');
  assert.is(ok.requests, 4);
  assert.is(ok.requestRate, 0.5);
  assert.is(ok.p95Ms, 38.5);
  assert.is(ok.failedRate, 0);
  assert.is(ok.vusMax, 20);
  assert.equal(ok.thresholds, [
    { metric: 'http_req_duration', threshold: 'p(95)<1000', ok: true },
    { metric: 'http_req_failed', threshold: 'rate<0.01', ok: true },
  ]);
  const bad = parseK6Summary(summaryData({ durationsMs: [10, 2000], failed: 1, seconds: 2, peakVus: 20 }));
  assert.is(bad.failedRate, 0.5);
  assert.equal(bad.thresholds.map((t) => t.ok), [false, false]);
});

test('the stand-in answers `k6 version` in a shape load.mts\'s preflight accepts, and refuses what it does not simulate', () => {
  const standin = join(repoRoot, 'scripts', 'lib', 'rehearsal', 'k6-standin.ts');
  const v = spawnSync(process.execPath, [...typeScriptArgs(), standin, 'version'], { cwd: repoRoot, encoding: 'utf8' });
  assert.is(v.status, 0, v.stderr);
  assert.match(v.stdout, /rehearsal stand-in/);
  assert.ok(TOOLS.k6.parse(v.stdout), v.stdout);
  const other = spawnSync(process.execPath, [...typeScriptArgs(), standin, 'cloud', 'login'], { cwd: repoRoot, encoding: 'utf8' });
  assert.is(other.status, 2);
  assert.match(other.stderr, /only "k6 version" and "k6 run" are simulated/);
});

test.run();
