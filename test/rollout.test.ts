// scripts/lib/rollout.ts: the pure assessment of pods and Deployments, and the watcher polling the fake
// kubectl over simulated time for what a real cluster does not give (container logs to redact, a
// Forbidden read, a progress deadline at a chosen poll). The watcher on real Deployments (healthy, crash
// loop, image pull, config error, never ready, unschedulable): rollout-cluster.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assessRollout, deploymentProgress, describeStuckPods, podFailures, waitForRollout } from '../scripts/lib/rollout.ts';
import type { Deployment, Pod, ReplicaSet } from '../scripts/lib/rollout.ts';
import { createClock } from '../scripts/lib/clock.ts';
import { Logger } from '../scripts/lib/log.ts';
import { Redactor } from '../scripts/lib/redact.ts';
import { Runner } from '../scripts/lib/runner.ts';
import { FakeWorld, podList } from './support/harness.ts';
import { deploymentsJson, HEALTHY_NEW, podsJson, replicaSetsJson, watchRules } from './support/release.ts';
import type { ReleaseState } from './support/release.ts';

const items = <T>(v: unknown) => (v as { items: T[] }).items;
const view = (s: ReleaseState) => [items<Deployment>(deploymentsJson(s)), items<ReplicaSet>(replicaSetsJson(s)), items<Pod>(podsJson(s))] as const;

for (const reason of ['CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull', 'CreateContainerConfigError', 'RunContainerError', 'InvalidImageName']) {
  test(`podFailures: ${reason} in the app container and in daprd`, () => {
    const [app] = items<Pod>(podList([{ name: 'todo-backend-1', app: 'todo-backend', waiting: reason }]));
    assert.equal(podFailures(app!).map((f) => [f.container, f.reason, f.sidecar]), [['backend', reason, false]]);
    const [dapr] = items<Pod>(podList([{ name: 'todo-backend-1', app: 'todo-backend', daprWaiting: reason }]));
    assert.equal(podFailures(dapr!).map((f) => [f.container, f.reason, f.sidecar]), [['daprd', reason, true]]);
  });
}

test('podFailures: daprd as an init container (native sidecar), repeated restarts while Running, and healthy or merely starting pods', () => {
  const [p] = items<Pod>(podsJson({ revision: 2, hash: 'h', backend: { daprWaiting: 'CrashLoopBackOff', daprAsInit: true } }));
  const f = podFailures(p!);
  assert.equal(f.map((x) => [x.container, x.init, x.reason]), [['daprd', true, 'CrashLoopBackOff']]);

  const [r] = items<Pod>(podList([{ name: 'todo-frontend-1', app: 'todo-frontend', restarts: 3 }]));
  assert.equal(podFailures(r!).map((x) => x.reason), ['RepeatedRestarts']);
  const [two] = items<Pod>(podList([{ name: 'todo-frontend-1', app: 'todo-frontend', restarts: 2 }]));
  assert.equal(podFailures(two!), []);
  // ContainerCreating and PodInitializing are normal while a pod starts.
  const [starting] = items<Pod>(podList([{ name: 'todo-backend-1', app: 'todo-backend', waiting: 'ContainerCreating' }]));
  assert.equal(podFailures(starting!), []);
});

test('deploymentProgress: counts absent from JSON mean 0; unobserved spec, old replicas, availability and the progress deadline', () => {
  assert.is(deploymentProgress({ metadata: { name: 'd', generation: 2 }, spec: { replicas: 2 }, status: { observedGeneration: 2 } }).message, '0 out of 2 new replicas have been updated');
  assert.is(deploymentProgress({ metadata: { name: 'd', generation: 3 }, spec: { replicas: 2 }, status: { observedGeneration: 2, updatedReplicas: 2, replicas: 2, availableReplicas: 2 } }).done, false);
  assert.is(deploymentProgress({ metadata: { name: 'd', generation: 2 }, spec: { replicas: 2 }, status: { observedGeneration: 2, updatedReplicas: 2, replicas: 3, availableReplicas: 2 } }).message, '1 old replicas are pending termination');
  assert.is(deploymentProgress({ metadata: { name: 'd', generation: 2 }, spec: { replicas: 2 }, status: { observedGeneration: 2, updatedReplicas: 2, replicas: 2, availableReplicas: 1 } }).message, '1 of 2 updated replicas are available');
  assert.ok(deploymentProgress({ metadata: { name: 'd', generation: 2 }, spec: { replicas: 2 }, status: { observedGeneration: 2, updatedReplicas: 2, replicas: 2, availableReplicas: 2 } }).done);
  // spec.replicas absent (HPA-managed, defaulted by the API server) counts as 1.
  assert.ok(deploymentProgress({ metadata: { name: 'd', generation: 1 }, status: { observedGeneration: 1, updatedReplicas: 1, replicas: 1, availableReplicas: 1 } }).done);
  const dl = deploymentProgress(items<Deployment>(deploymentsJson({ revision: 2, hash: 'h', deadline: true, backend: { ready: false } }))[0]!);
  assert.match(dl.deadlineExceeded ?? '', /ReplicaSet "todo-backend-h" has timed out progressing/);
});

test('assessRollout: only pods of the new ReplicaSets count; crash-looping pods being replaced by a rollback do not fail it', () => {
  const rollingBack: ReleaseState = { ...HEALTHY_NEW, oldPods: { hash: 'bad', revision: 7, backend: { waiting: 'CrashLoopBackOff' } } };
  const a = assessRollout(...view(rollingBack));
  assert.is(a.state, 'done');
  assert.ok(a.newPods.every((n) => n.includes(HEALTHY_NEW.hash)));
  const broken = assessRollout(...view({ ...HEALTHY_NEW, backend: { waiting: 'ImagePullBackOff' } }));
  assert.is(broken.state, 'failed');
  assert.is(broken.failures[0]?.reason, 'ImagePullBackOff');
  // Before the controller observed the new spec, the "new" ReplicaSet is unknown: no verdict on any pod.
  const unobserved = assessRollout(...view({ ...HEALTHY_NEW, unobserved: true, backend: { waiting: 'CrashLoopBackOff' } }));
  assert.is(unobserved.state, 'progressing');
  assert.equal(assessRollout([], [], []).state, 'progressing');
  assert.is(assessRollout(...view({ ...HEALTHY_NEW, deadline: true, backend: { ready: false } })).state, 'failed');
});

function watcher(world: FakeWorld, timeoutMs: number) {
  const restore = world.activate({ timeScale: 0.01 });
  const redactor = new Redactor();
  redactor.register('sk-canary-Zq8xT3abcdef');
  const clock = createClock(0.01);
  const lines: string[] = [];
  const log = new Logger({ script: 'test', json: false, verbose: false, redactor, clock, interactive: false, out: (t) => lines.push(t), err: (t) => lines.push(t) });
  const runner = new Runner({ dryRun: false, redactor, logger: log, clock, defaultTimeoutMs: 3_600_000 });
  return { restore, lines, run: () => waitForRollout({ runner, clock, log, release: 'hackathon-todo', namespace: 'default', timeoutMs }) };
}

/** The watch rules without a Helm phase: timeline seconds count from the start of the test. */
function plainRules(timeline: Array<{ at: number; state: ReleaseState }>) {
  return watchRules('upgrade', timeline).map(({ phase: _p, ...r }) => r);
}

test('waitForRollout: fails on the first poll that sees CrashLoopBackOff, names pod and container, prints redacted --previous logs', async () => {
  const world = new FakeWorld();
  world.scenario.rules.push(...plainRules([{ at: 0, state: { ...HEALTHY_NEW, backend: { waiting: 'CrashLoopBackOff' } } }]));
  world.on('kubectl', ['logs', 'todo-backend-new5d8f7c9-x7k2p', '-c', 'backend', '--previous'], { stdout: 'starting\nconnecting with key sk-canary-Zq8xT3abcdef\nKeyError: DATABASE_URL\n' });
  const w = watcher(world, 300_000);
  try {
    const r = await w.run();
    assert.not.ok(r.ok);
    assert.is(r.polls, 1);
    assert.is(r.failure?.kind, 'container');
    assert.is(r.failure?.container?.pod, 'todo-backend-new5d8f7c9-x7k2p');
    assert.is(r.failure?.container?.container, 'backend');
    const out = w.lines.join('');
    assert.match(out, /pod todo-backend-new5d8f7c9-x7k2p: container backend is CrashLoopBackOff/);
    assert.match(out, /\| KeyError: DATABASE_URL/);
    assert.match(out, /connecting with key \*\*\*/);
    assert.not.match(out, /sk-canary/);
  } finally { w.restore(); }
  const logs = world.callsOf('kubectl', 'logs');
  assert.equal(logs[0]?.args, ['logs', 'todo-backend-new5d8f7c9-x7k2p', '-c', 'backend', '-n', 'default', '--tail=20', '--previous']);
});

test('waitForRollout: ProgressDeadlineExceeded fails it; a rollout that never finishes gives up at the timeout', async () => {
  const dl = new FakeWorld();
  dl.scenario.rules.push(...plainRules([{ at: 0, state: { ...HEALTHY_NEW, deadline: true, backend: { ready: false } } }]));
  let w = watcher(dl, 300_000);
  try {
    const r = await w.run();
    assert.is(r.failure?.kind, 'deadline');
    assert.match(r.failure?.summary ?? '', /todo-backend exceeded its progress deadline/);
  } finally { w.restore(); }

  const slow = new FakeWorld();
  slow.scenario.rules.push(...plainRules([{ at: 0, state: { ...HEALTHY_NEW, frontend: { ready: false } } }]));
  w = watcher(slow, 20_000);
  try {
    const r = await w.run();
    assert.is(r.failure?.kind, 'timeout');
    assert.match(r.failure?.summary ?? '', /did not finish within 20\.0s: todo-frontend \(1 out of 2 new replicas have been updated\)/);
  } finally { w.restore(); }
});

test('waitForRollout: a cluster it cannot read for 3 polls in a row fails the watch (so the deploy rolls back) instead of hanging or crashing', async () => {
  const world = new FakeWorld();
  world.on('kubectl', ['get', 'deployments'], { stderr: 'Error from server (Forbidden): deployments.apps is forbidden: User "dev@contoso.com" cannot list resource "deployments"', exit: 1 });
  world.scenario.rules.push(...plainRules([{ at: 0, state: HEALTHY_NEW }]));
  const w = watcher(world, 300_000);
  try {
    const r = await w.run();
    assert.is(r.failure?.kind, 'unreadable');
    assert.is(r.polls, 3);
    assert.match(r.failure?.summary ?? '', /cannot read the release's pods and Deployments \(3 polls failed\): .*Forbidden/);
  } finally { w.restore(); }
});

test('a timeout names why the pods are not ready: the scheduler\'s words for an unschedulable pod, a probe that never passes', () => {
  // Shapes as the real kube-scheduler and a kubelet (kwok on the rehearsal cluster) write them.
  const pods: Pod[] = [
    { metadata: { name: 'todo-backend-1' }, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.' }] } },
    { metadata: { name: 'todo-frontend-1' }, status: { phase: 'Running', conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False', reason: 'ContainersNotReady' }], containerStatuses: [{ name: 'frontend', ready: false, restartCount: 0, state: { running: { startedAt: '2026-11-30T14:00:00Z' } } }] } },
    { metadata: { name: 'todo-frontend-2' }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'frontend', ready: true, restartCount: 0, state: { running: {} } }] } },
  ];
  assert.equal(describeStuckPods(pods), [
    'pod todo-backend-1 is not scheduled (Unschedulable: 0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.)',
    'pod todo-frontend-1: container frontend running but not ready (its readiness probe does not pass)',
  ]);
  assert.equal(describeStuckPods([pods[1]!, pods[1]!, pods[1]!, pods[1]!], 2).slice(-1), ['and 2 more']);
});

test.run();
