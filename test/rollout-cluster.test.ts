// The rollout watcher (scripts/lib/rollout.ts, waitForRollout) against real Deployments on the real API
// server (the test cluster, support/cluster.ts), with the real Deployment and ReplicaSet controllers,
// scheduler and kwok's pods, in real time, through the real kubectl: a healthy rollout that the watcher
// waits through, and each failure a cluster produces (crash loop, image pull, a missing Secret key,
// readiness that never comes, a pod no node can hold). The five scenarios run at once, one release
// each. What only a fake can give (container logs, a Forbidden read, a progress deadline at a chosen
// poll) stays in rollout.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dirname } from 'node:path';
import { waitForRollout } from '../scripts/lib/rollout.ts';
import type { RolloutResult } from '../scripts/lib/rollout.ts';
import { createClock } from '../scripts/lib/clock.ts';
import { Logger } from '../scripts/lib/log.ts';
import { Redactor } from '../scripts/lib/redact.ts';
import { Runner } from '../scripts/lib/runner.ts';
import { FAILURE_TAGS } from '../scripts/lib/rehearsal/scenarios.ts';
import { ClusterNamespace, testCluster } from './support/cluster.ts';
import type { TestCluster } from './support/cluster.ts';
import { kubectlPath } from './support/tools.ts';

let cluster: TestCluster;
let ns: ClusterNamespace;

/** Two Deployments of one release, as the chart names and labels them, running `tag`. */
function release(name: string, tag: string, o: { cpu?: string } = {}) {
  return ['backend', 'frontend'].map((app) => {
    const labels = { 'app.kubernetes.io/instance': name, 'app.kubernetes.io/name': `${name}-${app}` };
    return {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: `${name}-${app}`, labels },
      spec: {
        replicas: 2, selector: { matchLabels: labels }, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        template: {
          metadata: { labels },
          spec: {
            containers: [{
              name: app, image: `rehearsal.invalid/todo-${app}:${tag}`,
              // Read by the pod: kwok's config-error stage names the key, as a kubelet would.
              env: [{ name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'database-credentials', key: 'connection-string' } } }],
              ...(o.cpu ? { resources: { requests: { cpu: o.cpu } } } : {}),
            }],
          },
        },
      },
    };
  });
}

interface Watched { result: RolloutResult; out: string }
const scenarios: Record<string, { tag: string; cpu?: string; timeoutMs: number }> = {
  healthy: { tag: 'v1', timeoutMs: 60_000 },
  crashloop: { tag: FAILURE_TAGS.crashloop, timeoutMs: 60_000 },
  pullfail: { tag: FAILURE_TAGS.pullfail, timeoutMs: 60_000 },
  configerror: { tag: FAILURE_TAGS.configerror, timeoutMs: 60_000 },
  // The watcher can only time out on these: 15 s is several polls past kwok's 2-3 s to run a pod.
  neverready: { tag: FAILURE_TAGS.neverready, timeoutMs: 15_000 },
  unschedulable: { tag: 'v1', cpu: '4', timeoutMs: 15_000 },
};
const watched: Record<string, Promise<Watched>> = {};

function watch(name: string, timeoutMs: number, onLine: (text: string) => void = () => undefined): Promise<Watched> {
  const redactor = new Redactor();
  const clock = createClock(1);
  let out = '';
  const log = new Logger({ script: 'test', json: false, verbose: false, redactor, clock, interactive: false, out: (t) => { out += t; onLine(t); }, err: (t) => { out += t; } });
  const runner = new Runner({ dryRun: false, redactor, logger: log, clock, defaultTimeoutMs: 60_000 });
  return waitForRollout({ runner, clock, log, release: name, namespace: ns.namespace, timeoutMs }).then((result) => ({ result, out }));
}

test.before(async () => {
  cluster = await testCluster();
  ns = new ClusterNamespace(cluster, 'rollout');
  // The watcher calls kubectl from PATH with the environment's KUBECONFIG, as in a script.
  process.env.KUBECONFIG = cluster.kubeconfig;
  process.env.PATH = [dirname(kubectlPath()), process.env.PATH].join(':');
  await ns.apply(JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'database-credentials' }, stringData: { other: 'x' } }));
  const { healthy, ...failing } = scenarios;
  await ns.apply(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: Object.entries(failing).flatMap(([name, s]) => release(name, s.tag, s)) }));
  for (const [name, s] of Object.entries(failing)) watched[name] = watch(name, s.timeoutMs);
  // The healthy release is applied once the watcher's first poll has found nothing: so it must wait
  // and poll again whatever the machine's speed (on a busy one, one poll can outlast kwok's start-up).
  let applied: Promise<void> | undefined;
  watched.healthy = watch('healthy', healthy!.timeoutMs, (t) => {
    if (!applied && /waiting: no Deployment with label app\.kubernetes\.io\/instance=healthy yet/.test(t)) applied = ns.apply(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: release('healthy', healthy!.tag) }));
  }).then(async (w) => { await applied; return w; });
});
test.after(async () => { await cluster.stop(); });

test('a healthy rollout: waits while there is nothing yet, then while the controllers and kwok bring the pods up, and succeeds once every Deployment is rolled out', async () => {
  const { result, out } = await watched.healthy!;
  assert.ok(result.ok, out);
  assert.ok(result.polls >= 2, `waited: ${result.polls} polls\n${out}`);
  assert.ok(out.indexOf('waiting: no Deployment') < out.indexOf('rolled out: healthy-backend 2/2, healthy-frontend 2/2'), out);
});

for (const [name, reason, hint] of [
  ['crashloop', /CrashLoopBackOff/, /container (backend|frontend) is CrashLoopBackOff/],
  ['pullfail', /ErrImagePull|ImagePullBackOff/, /container (backend|frontend) is (ErrImagePull|ImagePullBackOff)/],
  ['configerror', /CreateContainerConfigError/, /couldn't find key connection-string in Secret \S+\/database-credentials/],
] as const) {
  test(`${name}: the watch fails on the container's reason, names the pod, and stops long before its timeout`, async () => {
    const { result, out } = await watched[name]!;
    assert.not.ok(result.ok, out);
    assert.is(result.failure?.kind, 'container', out);
    assert.match(result.failure?.container?.reason ?? '', reason);
    assert.match(result.failure?.container?.pod ?? '', new RegExp(`^${name}-(backend|frontend)-`));
    assert.match(out, hint);
    assert.ok(result.durationMs < 45_000, `${result.durationMs} ms`);
  });
}

test('readiness that never comes: the watch gives up at its timeout and says the probe does not pass', async () => {
  const { result, out } = await watched.neverready!;
  assert.is(result.failure?.kind, 'timeout', out);
  assert.match(out, /container (backend|frontend) running but not ready \(its readiness probe does not pass\)/);
});

test('a pod no node can hold: the timeout quotes the real scheduler', async () => {
  const { result, out } = await watched.unschedulable!;
  assert.is(result.failure?.kind, 'timeout', out);
  assert.match(out, /is not scheduled \(Unschedulable: 0\/\d+ nodes are available: \d+ Insufficient cpu/);
});

test.run();
