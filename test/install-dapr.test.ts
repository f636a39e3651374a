// install-dapr.mts against the fakes: fresh install, upgrade (CRDs before the chart), idempotent
// re-run, a control plane that never becomes ready, missing CRDs, an invalid component, the wrong
// kube context, and a dry run that changes nothing: the Dapr chart and its images cannot run offline.
// --components-only on the real API server: install-dapr-cluster.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeWorld, line } from './support/harness.ts';
import type { Call, Respond, Scenario } from './support/harness.ts';
import { repoRoot } from './support/tools.ts';
import { PROD, rx } from './support/names.ts';
import { assertPlanIsRun, dryRunPlan } from './support/release.ts';
import { classifyMutating, formatCommand } from '../scripts/lib/runner.ts';
import { stringify } from 'yaml';

const VERSION = '1.18.2';
const CRDS = ['components.dapr.io', 'configurations.dapr.io', 'httpendpoints.dapr.io', 'resiliencies.dapr.io', 'subscriptions.dapr.io'];
const REQUIRED = ['components.dapr.io', 'configurations.dapr.io', 'resiliencies.dapr.io', 'subscriptions.dapr.io'];
const CONTROL_PLANE = ['dapr-operator', 'dapr-sentry', 'dapr-sidecar-injector', 'dapr-placement-server', 'dapr-scheduler-server'];
/** Verbs that change a cluster or local Helm config (what --dry-run must never run). */
const MUTATING = /^(helm (repo add|repo update|upgrade|install|rollback|uninstall)|kubectl (apply|create|replace|delete|patch))\b/;

function crd(name: string, version: string): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name, labels: { 'app.kubernetes.io/part-of': 'dapr', 'app.kubernetes.io/version': version } },
    spec: { group: 'dapr.io', names: { kind: name.split('.')[0], plural: name.split('.')[0] }, scope: 'Namespaced', versions: [{ name: 'v1alpha1', served: true, storage: true }] },
  };
}

/** What `helm show crds dapr/dapr --version X` prints: the chart's crds/ files, concatenated. */
function crdYaml(version: string): string {
  return CRDS.map((n) => `---\n${stringify(crd(n, version))}`).join('');
}

interface PodSpec { app: string; suffix?: string; ready?: boolean; waiting?: string; message?: string; restarts?: number; pending?: string }

/** `kubectl get pods -n dapr-system -o json` for the control plane. */
function pods(specs: PodSpec[]): Respond {
  return {
    json: {
      apiVersion: 'v1',
      kind: 'List',
      metadata: { resourceVersion: '' },
      items: specs.map((p) => {
        const name = `${p.app}-${p.suffix ?? (p.app.endsWith('-server') ? '0' : '6d5c8b7f9c-x2kq4')}`;
        const ready = p.ready ?? (!p.waiting && !p.pending);
        return {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, namespace: 'dapr-system', labels: { app: p.app, 'app.kubernetes.io/part-of': 'dapr' } },
          spec: { containers: [{ name: p.app, image: `ghcr.io/dapr/${p.app.replace(/^dapr-|-server$/g, '')}:${VERSION}` }] },
          status: p.pending
            ? { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: p.pending }] }
            : {
                phase: 'Running',
                conditions: [ready ? { type: 'Ready', status: 'True' } : { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${p.app}]` }],
                containerStatuses: [{
                  name: p.app,
                  ready,
                  restartCount: p.restarts ?? 0,
                  started: !p.waiting,
                  image: `ghcr.io/dapr/${p.app}:${VERSION}`,
                  imageID: '',
                  state: p.waiting ? { waiting: { reason: p.waiting, ...(p.message ? { message: p.message } : {}) } } : { running: { startedAt: '2026-11-25T09:00:00Z' } },
                  lastState: {},
                }],
              },
        };
      }),
    },
  };
}
const allReady = (): Respond => pods(CONTROL_PLANE.map((app) => ({ app })));

/** The local environment's cluster (minikube), Helm answering for the dapr chart. */
function world(extra: Partial<Scenario> = {}): FakeWorld {
  return new FakeWorld({ kube: { context: 'minikube' }, helm: { chart: `dapr-${VERSION}`, appVersion: VERSION }, ...extra });
}

function seedDapr(w: FakeWorld, chartVersion: string, config: Record<string, unknown> = { 'global.ha.enabled': 'false', 'global.mtls.enabled': 'true' }): FakeWorld {
  return w.seedRelease('dapr', [{ status: 'deployed', chart: `dapr-${chartVersion}`, app_version: chartVersion, config }], 'dapr-system');
}

const lines = (calls: Call[]) => calls.map(line);
function indexOf(calls: Call[], re: RegExp): number {
  return lines(calls).findIndex((l) => re.test(l));
}
const mutating = (calls: Call[]) => lines(calls).filter((l) => MUTATING.test(l));

test('fresh install: repo, helm upgrade --install with the pinned version and HA off, wait, CRD check, then components applied and verified', async () => {
  const w = world()
    // The chart's install creates the CRDs (Helm installs crds/ on first install only).
    .on('kubectl', ['get', 'crd'], { stdout: REQUIRED.map((n) => `customresourcedefinition.apiextensions.k8s.io/${n}`).join('\n') + '\n' }, { phase: 'install' })
    // The first poll after the install finds the pods still being created, every later one ready.
    // By count, not by simulated time: on a busy machine one fake call can outlast any time window.
    .on('kubectl', ['get', 'pods', '-n', 'dapr-system'], pods(CONTROL_PLANE.map((app) => ({ app, waiting: 'ContainerCreating' }))), { phase: 'install', times: 1 })
    .on('kubectl', ['get', 'pods', '-n', 'dapr-system'], allReady(), { phase: 'install' });
  // 1 simulated second = 10 real ms and a 1800 s wait: 18 real seconds for the two polls, however slow
  // the machine (at the default 0.001 a 300 s wait is 0.3 real seconds, less than one busy fake call).
  const r = await w.run('install-dapr', ['--env', 'local', '--yes', '--timeout', '1800'], { timeScale: 0.01 });
  assert.is(r.code, 0, r.output);
  const seq = [
    /^kubectl config current-context$/,
    /^helm history dapr -n dapr-system/,
    /^helm repo add dapr https:\/\/dapr\.github\.io\/helm-charts\/ --force-update$/,
    /^helm repo update dapr$/,
    /^helm upgrade --install dapr dapr\/dapr --version 1\.18\.2 --namespace dapr-system --create-namespace --wait --timeout 1800s --set global\.ha\.enabled=false --set global\.mtls\.enabled=true$/,
    /^kubectl get pods -n dapr-system -o json$/,
    /^kubectl get crd components\.dapr\.io configurations\.dapr\.io resiliencies\.dapr\.io subscriptions\.dapr\.io -o name$/,
    /^kubectl apply -n todo -f -$/,
    /^kubectl get components\.dapr\.io -n todo -o json$/,
  ];
  const at = seq.map((re) => indexOf(r.calls, re));
  assert.ok(at.every((i) => i >= 0), `missing call: ${seq[at.indexOf(-1)]}\n${lines(r.calls).join('\n')}`);
  assert.equal([...at].sort((a, b) => a - b), at, `calls out of order:\n${lines(r.calls).join('\n')}`);
  // A fresh install lets the chart create the CRDs: no explicit CRD apply.
  assert.is(indexOf(r.calls, /^helm show crds|--server-side/), -1);
  // It waited for the pods: polled more than once, through simulated time.
  assert.ok(r.calls.filter((c) => line(c).startsWith('kubectl get pods')).length >= 2, 'polled until ready');
  // Everything in dapr/ went to the app namespace in one apply, and is on the (fake) cluster.
  const apply = r.calls.find((c) => line(c) === 'kubectl apply -n todo -f -')!;
  for (const name of ['task-events-pubsub', 'task-state', 'kubernetes-secrets', 'dapr-config', 'todo-resiliency']) assert.ok(apply.stdin.includes(`name: ${name}`), name);
  const objects = Object.keys(w.state().kube?.objects ?? {});
  for (const key of ['Component/todo/task-events-pubsub', 'Component/todo/task-state', 'Component/todo/kubernetes-secrets', 'Configuration/todo/dapr-config', 'Resiliency/todo/todo-resiliency']) {
    assert.ok(objects.includes(key), key);
  }
  const release = w.state().helm?.releases.dapr;
  assert.is(release?.namespace, 'dapr-system');
  assert.is(release?.history.at(-1)?.chart, 'dapr-1.18.2');
  assert.match(r.stdout, /component\.dapr\.io\/task-events-pubsub created/);
  assert.match(r.stdout.trim().split('\n').pop()!, /^install-dapr: installed Dapr 1\.18\.2 \(HA off\); 5 manifests in todo: 5 created$/);
});

test('upgrade 1.18.0 → 1.18.2: the new chart\'s CRDs are applied server-side before the chart is upgraded', async () => {
  const w = seedDapr(world({ kube: { context: 'minikube', objects: CRDS.map((n) => crd(n, '1.18.0')) } }), '1.18.0')
    .on('helm', ['show', 'crds', 'dapr/dapr', '--version', VERSION], { stdout: crdYaml(VERSION) })
    .on('kubectl', ['get', 'pods', '-n', 'dapr-system'], allReady());
  const r = await w.run('install-dapr', ['--env', 'local', '--yes']);
  assert.is(r.code, 0, r.output);
  const show = indexOf(r.calls, /^helm show crds dapr\/dapr --version 1\.18\.2$/);
  const crdApply = indexOf(r.calls, /^kubectl apply --server-side --force-conflicts -f -$/);
  const upgrade = indexOf(r.calls, /^helm upgrade --install dapr dapr\/dapr --version 1\.18\.2 /);
  const repo = indexOf(r.calls, /^helm repo update dapr$/);
  assert.ok(repo >= 0 && show > repo && crdApply > show && upgrade > crdApply, `order: repo ${repo}, show ${show}, crd apply ${crdApply}, upgrade ${upgrade}\n${lines(r.calls).join('\n')}`);
  assert.ok(r.calls[crdApply]!.stdin.includes('CustomResourceDefinition'), 'the CRDs travel on stdin');
  // The cluster now has the 1.18.2 CRDs, every one of them (httpendpoints too).
  const objects = (w.state().kube?.objects ?? {}) as Record<string, { metadata: { labels?: Record<string, string> } }>;
  for (const n of CRDS) assert.is(objects[`CustomResourceDefinition//${n}`]?.metadata.labels?.['app.kubernetes.io/version'], VERSION, n);
  const history = w.state().helm?.releases.dapr?.history ?? [];
  assert.equal(history.map((h) => [h.revision, h.status, h.chart]), [[1, 'superseded', 'dapr-1.18.0'], [2, 'deployed', 'dapr-1.18.2']]);
  assert.match(r.stdout, /upgrade Dapr 1\.18\.2 \(HA off\): Dapr 1\.18\.0 is installed, 1\.18\.2 is pinned/);
  assert.match(r.stdout.trim().split('\n').pop()!, /^install-dapr: upgraded Dapr 1\.18\.0 → 1\.18\.2 \(HA off\), CRDs first; 5 manifests in todo: 5 created$/);
});

test('upgrade from 1.14.4: one minor release at a time (1.15, 1.16, 1.17, then 1.18.2), CRDs before each chart, control plane ready before the next', async () => {
  const w = seedDapr(world({ kube: { context: 'minikube', objects: CRDS.map((n) => crd(n, '1.14.4')) } }), '1.14.4')
    .on('kubectl', ['get', 'pods', '-n', 'dapr-system'], allReady());
  for (const v of ['1.15.4', '1.16.8', '1.17.11', VERSION]) w.on('helm', ['show', 'crds', 'dapr/dapr', '--version', v], { stdout: crdYaml(v) });
  const r = await w.run('install-dapr', ['--env', 'local', '--yes']);
  assert.is(r.code, 0, r.output);
  const all = lines(r.calls);
  const seq: RegExp[] = [];
  for (const v of ['1.15.4', '1.16.8', '1.17.11', VERSION]) {
    const e = v.replace(/\./g, '\\.');
    seq.push(new RegExp(`^helm show crds dapr/dapr --version ${e}$`), /^kubectl apply --server-side --force-conflicts -f -$/, new RegExp(`^helm upgrade --install dapr dapr/dapr --version ${e} `), /^kubectl get pods -n dapr-system -o json$/);
  }
  // Walk the calls in order: every expected call after the previous one.
  let from = 0;
  for (const re of seq) {
    const i = all.findIndex((l, k) => k >= from && re.test(l));
    assert.ok(i >= 0, `missing ${re} after call ${from}:\n${all.join('\n')}`);
    from = i + 1;
  }
  assert.is(all.filter((l) => l.startsWith('helm upgrade --install dapr ')).length, 4, 'one helm upgrade per minor release');
  assert.match(r.stdout, /upgrade Dapr 1\.18\.2 \(HA off\): Dapr 1\.14\.4 is installed, 1\.18\.2 is pinned; one minor release at a time: 1\.15\.4 → 1\.16\.8 → 1\.17\.11 → 1\.18\.2/);
  assert.match(r.stdout.trim().split('\n').pop()!, /^install-dapr: upgraded Dapr 1\.14\.4 → 1\.15\.4 → 1\.16\.8 → 1\.17\.11 → 1\.18\.2 \(HA off\), CRDs first; 5 manifests in todo: 5 created$/);
});

test('upgradeSteps: same or next minor is one step; a downgrade is one step; 1.14 → 1.18 stops at each minor; an unknown stop is an error', async () => {
  const { upgradeSteps } = await import('../scripts/lib/dapr.ts');
  assert.equal(upgradeSteps('1.18.0', '1.18.2'), ['1.18.2']);
  assert.equal(upgradeSteps('1.17.5', '1.18.2'), ['1.18.2']);
  assert.equal(upgradeSteps('1.18.2', '1.16.8'), ['1.16.8']);
  assert.equal(upgradeSteps(undefined, '1.18.2'), ['1.18.2']);
  assert.equal(upgradeSteps('1.14.4', '1.18.2'), ['1.15.4', '1.16.8', '1.17.11', '1.18.2']);
  assert.equal(upgradeSteps('1.16.8', '1.18.2'), ['1.17.11', '1.18.2'], 'a half-done upgrade resumes from where it stopped');
  assert.throws(() => upgradeSteps('1.18.2', '1.20.0'), /no upgrade stop is known for Dapr 1\.19/);
});

test('re-run with nothing to change: no repo, CRD or Helm call that changes anything, every manifest unchanged, says so', async () => {
  const w = seedDapr(world({ kube: { context: 'minikube', objects: CRDS.map((n) => crd(n, VERSION)) } }), VERSION)
    .on('kubectl', ['get', 'pods', '-n', 'dapr-system'], allReady());
  const first = await w.run('install-dapr', ['--env', 'local', '--yes']);
  assert.is(first.code, 0, first.output);
  assert.match(first.stdout, /5 created/);
  const before = w.calls.length;
  const again = await w.run('install-dapr', ['--env', 'local']);
  assert.is(again.code, 0, again.output);
  const second = again.calls.slice(before);
  // Only the idempotent apply may "mutate"; no Helm change, no CRD apply, no confirmation needed.
  assert.equal(mutating(second), ['kubectl apply -n todo -f -'], lines(second).join('\n'));
  assert.match(again.stdout, /Dapr 1\.18\.2 \(HA off\) is already installed \(revision 1\): nothing to install or upgrade/);
  for (const n of ['task-events-pubsub', 'task-state', 'kubernetes-secrets']) assert.match(again.stdout, new RegExp(`component\\.dapr\\.io/${n} unchanged`));
  assert.match(again.stdout.trim().split('\n').pop()!, /^install-dapr: nothing to change: Dapr 1\.18\.2 \(HA off\) already installed; 5 manifests in todo: 5 unchanged$/);
  assert.is(w.state().helm?.releases.dapr?.history.length, 1, 'no new Helm revision');
});

test('HA setting differs from the release: an upgrade at the same version, without touching the CRDs', async () => {
  const w = seedDapr(world({ kube: { context: 'minikube', objects: CRDS.map((n) => crd(n, VERSION)) } }), VERSION, { global: { ha: { enabled: true }, mtls: { enabled: true } } })
    .on('kubectl', ['get', 'pods', '-n', 'dapr-system'], allReady());
  const r = await w.run('install-dapr', ['--env', 'local', '--yes', '--skip-components']);
  assert.is(r.code, 0, r.output);
  assert.match(r.stdout, /values differ: global\.ha\.enabled true → false/);
  assert.ok(indexOf(r.calls, /^helm upgrade --install dapr .*--set global\.ha\.enabled=false/) >= 0);
  assert.is(indexOf(r.calls, /^helm show crds|--server-side/), -1);
  assert.is(indexOf(r.calls, /^kubectl apply -n todo/), -1, '--skip-components applies nothing');
});

test('control plane never ready: exit 1 within the timeout, naming every pod\'s state; no manifests applied', async () => {
  const w = world()
    .on('kubectl', ['get', 'pods', '-n', 'dapr-system'], pods([
      { app: 'dapr-operator', waiting: 'CrashLoopBackOff', restarts: 2, message: 'back-off 40s restarting failed container=dapr-operator' },
      { app: 'dapr-sentry', ready: false },
      { app: 'dapr-sidecar-injector' },
      { app: 'dapr-placement-server', pending: '0/2 nodes are available: 2 Insufficient cpu.' },
      { app: 'dapr-scheduler-server', waiting: 'ContainerCreating' },
    ]));
  // 1 simulated second = 10 real ms: the 600 s wait lasts 6 real seconds, room for several polls even
  // when a busy machine makes each fake call take a second (at the default 0.001 one call can eat it all).
  const started = Date.now();
  const r = await w.run('install-dapr', ['--env', 'local', '--yes', '--timeout', '600'], { timeScale: 0.01 });
  const realMs = Date.now() - started;
  assert.is(r.code, 1, r.output);
  assert.match(r.stderr, /error: the Dapr control plane is not ready: not ready after \d+m\d+s \(dapr-operator, dapr-sentry, dapr-placement-server, dapr-scheduler-server\)/);
  assert.match(r.stderr, /dapr-operator-6d5c8b7f9c-x2kq4 \(Running, not ready; dapr-operator waiting: CrashLoopBackOff, 2 restarts \(back-off 40s/);
  assert.match(r.stderr, /dapr-sentry-6d5c8b7f9c-x2kq4 \(Running, not ready; dapr-sentry running, not ready\)/);
  assert.match(r.stderr, /ok +dapr-sidecar-injector: 1\/1 ready: dapr-sidecar-injector-6d5c8b7f9c-x2kq4 \(Ready\)/);
  assert.match(r.stderr, /dapr-placement-server-0 \(Pending, not ready; Unschedulable: 0\/2 nodes are available: 2 Insufficient cpu\.\)/);
  assert.match(r.stderr, /dapr-scheduler-server-0 \(Running, not ready; dapr-scheduler-server waiting: ContainerCreating\)/);
  assert.match(r.stderr, /hint: kubectl get pods -n dapr-system -o wide/);
  assert.ok(r.calls.filter((c) => line(c).startsWith('kubectl get pods')).length >= 2, 'polled more than once');
  assert.is(indexOf(r.calls, /^kubectl apply/), -1, 'stopped before the manifests');
  // Unscaled it would be 600 000 ms; the bound leaves room for a loaded CI machine.
  assert.ok(realMs < 90_000, `scaled time: a 600 s wait took ${realMs} ms`);
});

test('a pod stuck in ImagePullBackOff ends the wait early, long before the timeout', async () => {
  const w = world()
    .on('kubectl', ['get', 'pods', '-n', 'dapr-system'], pods([
      ...CONTROL_PLANE.filter((a) => a !== 'dapr-sentry').map((app) => ({ app })),
      { app: 'dapr-sentry', waiting: 'ImagePullBackOff', message: 'Back-off pulling image "ghcr.io/dapr/sentry:1.18.2"' },
    ]));
  // Scaled 0.01: the hour-long timeout is 36 real seconds, so only the stuck pod can end the wait.
  const r = await w.run('install-dapr', ['--env', 'local', '--yes', '--timeout', '3600'], { timeScale: 0.01 });
  assert.is(r.code, 1, r.output);
  assert.match(r.stderr, /pod dapr-sentry-6d5c8b7f9c-x2kq4 will not become ready by waiting \(dapr-sentry\)/);
  assert.ok(r.calls.filter((c) => line(c).startsWith('kubectl get pods')).length <= 3, 'gave up after two polls saw it stuck');
});

test('CRDs missing after the control plane is up: exit 1 naming them and the exact fix; nothing applied', async () => {
  const w = seedDapr(world({ kube: { context: 'minikube', objects: [crd('components.dapr.io', VERSION), crd('subscriptions.dapr.io', VERSION)] } }), VERSION)
    .on('kubectl', ['get', 'pods', '-n', 'dapr-system'], allReady());
  const r = await w.run('install-dapr', ['--env', 'local', '--yes']);
  assert.is(r.code, 1, r.output);
  assert.match(r.stderr, /error: Dapr CRDs missing from the cluster: configurations\.dapr\.io, resiliencies\.dapr\.io\n/);
  assert.ok(r.stderr.includes('hint: helm repo add dapr https://dapr.github.io/helm-charts/ --force-update && helm show crds dapr/dapr --version 1.18.2 | kubectl apply --server-side --force-conflicts -f -'), r.stderr);
  assert.match(r.stderr, /then re-run: npx zx scripts\/install-dapr\.mts --env local/);
  assert.equal(mutating(r.calls), [], 'no Helm change (already at 1.18.2) and no apply');
});

test('invalid component: exit 2 naming the file, the field and the fix; not one call to a cluster tool', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dapr-manifests-'));
  cpSync(join(repoRoot, 'dapr'), dir, { recursive: true });
  const file = join(dir, 'components', 'pubsub-kafka.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/value: SHA-256/, 'value: SCRAM-SHA-256'));
  const w = world();
  const r = await w.run('install-dapr', ['--env', 'local', '--yes', '--manifests', dir]);
  assert.is(r.code, 2, r.output);
  assert.match(r.stderr, /error: \d+ problems? in the Dapr manifests; nothing was changed:\n/);
  assert.ok(r.stderr.includes(`${file}: Component/task-events-pubsub: saslMechanism: saslMechanism "SCRAM-SHA-256" makes Dapr use SASL PLAIN`), r.stderr);
  assert.match(r.stderr, /hint: (.|\n)*\/components\/pubsub-kafka\.yaml \(saslMechanism\): set saslMechanism: SHA-256 or SHA-512/);
  assert.equal(r.calls, [], 'validation comes before any kubectl or helm call');
});

test('wrong kube context: exit 3 with the fix, before any Helm or cluster change', async () => {
  const w = world({ kube: { context: PROD.context } });
  const r = await w.run('install-dapr', ['--env', 'local', '--yes']);
  assert.is(r.code, 3, r.output);
  assert.match(r.stderr, new RegExp(`error: refusing to touch the cluster: current context is "${rx(PROD.context)}", but environments/local\\.yaml names "minikube"`));
  assert.match(r.stderr, /hint: kubectl config use-context minikube/);
  assert.equal(lines(r.calls), ['kubectl config current-context']);
});

test('--dry-run prints every change (repo, CRDs before chart, helm upgrade, apply) and makes none', async () => {
  const w = seedDapr(world({ kube: { context: 'minikube', objects: CRDS.map((n) => crd(n, '1.18.0')) } }), '1.18.0');
  const r = await w.run('install-dapr', ['--env', 'local', '--dry-run']);
  assert.is(r.code, 0, r.output);
  const plan = r.stdout.split('\n').filter((l) => l.startsWith('[dry-run] would run: '));
  const expect = [
    /helm repo add dapr https:\/\/dapr\.github\.io\/helm-charts\/ --force-update$/,
    /helm repo update dapr$/,
    /helm show crds dapr\/dapr --version 1\.18\.2 /,
    /kubectl apply --server-side --force-conflicts -f - < \(stdin\)/,
    /helm upgrade --install dapr dapr\/dapr --version 1\.18\.2 --namespace dapr-system --create-namespace --wait --timeout 300s --set global\.ha\.enabled=false --set global\.mtls\.enabled=true/,
    // The app's namespace does not exist in this cluster yet: install-dapr creates it before applying.
    /kubectl create namespace todo$/,
    /kubectl apply -n todo -f - < \(stdin\) {3}# Component\/kubernetes-secrets, Component\/pubsub-kafka|kubectl apply -n todo -f - < \(stdin\)/,
  ];
  assert.is(plan.length, expect.length, plan.join('\n'));
  expect.forEach((re, i) => assert.match(plan[i]!, re));
  assert.match(r.stdout, /would apply Component\/task-events-pubsub \(components\/pubsub-kafka\.yaml\)/);
  assert.match(r.stdout, /wait for the Dapr control plane: skipped \(dry run\)/);
  assert.match(r.stdout.trim().split('\n').pop()!, /^install-dapr: dry run: would upgrade Dapr 1\.18\.0 → 1\.18\.2 \(HA off\), CRDs first; would apply 5 manifests to todo; nothing was changed$/);
  assert.equal(mutating(r.calls), [], 'the fakes saw no mutating call');
  assert.is(w.state().helm?.releases.dapr?.history.length, 1);
  assert.ok(!Object.keys(w.state().kube?.objects ?? {}).some((k) => k.startsWith('Component/')), 'no Component on the cluster');
});

test('flags: --skip-components with --components-only is a usage error; --timeout must be a duration of at least 1s', async () => {
  const w = world();
  const both = await w.run('install-dapr', ['--env', 'local', '--skip-components', '--components-only']);
  assert.is(both.code, 2);
  assert.match(both.stderr, /error: --skip-components and --components-only together would do nothing/);
  const bad = await w.run('install-dapr', ['--env', 'local', '--timeout', 'soon']);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /--timeout needs a duration such as 90s, 5m or 300 \(seconds\) \(got "soon"\)/);
  const short = await w.run('install-dapr', ['--env', 'local', '--timeout', '500ms']);
  assert.is(short.code, 2);
  assert.match(short.stderr, /--timeout must be between 1s and 24h \(got "500ms"\)/);
  assert.equal(w.calls, []);
});

// Dry-run by construction: `--dry-run --json` on a world, then the real run on the same world (the
// dry-run reads the cluster, so it goes first): the dry-run planned exactly the changes the real run
// made, in order, apart from the steps it marks "when" (support/release.ts).
const equivalence: Array<{ name: string; world: () => FakeWorld; args: string[] }> = [
  {
    name: 'fresh install',
    world: () => world()
      .on('kubectl', ['get', 'crd'], { stdout: REQUIRED.map((n) => `customresourcedefinition.apiextensions.k8s.io/${n}`).join('\n') + '\n' }, { phase: 'install' })
      .on('kubectl', ['get', 'pods', '-n', 'dapr-system'], allReady(), { phase: 'install' }),
    args: [],
  },
  {
    name: 'upgrade 1.18.0 → 1.18.2, CRDs first',
    world: () => seedDapr(world({ kube: { context: 'minikube', objects: CRDS.map((n) => crd(n, '1.18.0')) } }), '1.18.0')
      .on('helm', ['show', 'crds', 'dapr/dapr', '--version', VERSION], { stdout: crdYaml(VERSION) })
      .on('kubectl', ['get', 'pods', '-n', 'dapr-system'], allReady()),
    args: [],
  },
  {
    name: 'upgrade from 1.14.4 one minor release at a time',
    world: () => {
      const w = seedDapr(world({ kube: { context: 'minikube', objects: CRDS.map((n) => crd(n, '1.14.4')) } }), '1.14.4')
        .on('kubectl', ['get', 'pods', '-n', 'dapr-system'], allReady());
      for (const v of ['1.15.4', '1.16.8', '1.17.11', VERSION]) w.on('helm', ['show', 'crds', 'dapr/dapr', '--version', v], { stdout: crdYaml(v) });
      return w;
    },
    args: [],
  },
  {
    name: 'nothing to change',
    world: () => seedDapr(world({ kube: { context: 'minikube', objects: CRDS.map((n) => crd(n, VERSION)) } }), VERSION)
      .on('kubectl', ['get', 'pods', '-n', 'dapr-system'], allReady()),
    args: [],
  },
  {
    name: 'HA differs, --skip-components',
    world: () => seedDapr(world({ kube: { context: 'minikube', objects: CRDS.map((n) => crd(n, VERSION)) } }), VERSION, { global: { ha: { enabled: true }, mtls: { enabled: true } } })
      .on('kubectl', ['get', 'pods', '-n', 'dapr-system'], allReady()),
    args: ['--skip-components'],
  },
  {
    name: '--components-only',
    world: () => world({ kube: { context: 'minikube', objects: CRDS.map((n) => crd(n, VERSION)) } }),
    args: ['--components-only'],
  },
];

for (const s of equivalence) {
  test(`--dry-run plans exactly the changes the real run makes: ${s.name}`, async () => {
    const w = s.world();
    const plan = await dryRunPlan(w, 'install-dapr', ['--env', 'local', ...s.args]);
    assert.equal(mutating(w.calls), [], 'the dry-run changed nothing');
    const before = w.calls.length;
    const r = await w.run('install-dapr', ['--env', 'local', '--yes', ...s.args], { timeScale: 0.01 });
    assert.is(r.code, 0, r.output);
    const changes = r.calls.slice(before).filter((c) => classifyMutating(c.tool, c.args)).map((c) => formatCommand(c.tool, c.args));
    assert.ok(changes.length > 0, 'the real run changed something');
    assertPlanIsRun(plan, changes);
  });
}

test.run();
