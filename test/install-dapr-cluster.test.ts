// install-dapr.mts --components-only against the real API server (the test cluster, support/cluster.ts,
// whose Dapr CRDs are the rehearsal's own: rehearsal/cluster/dapr-crds.yaml) with real kubectl: the CRD
// check, the namespace created, every manifest of dapr/ stored, a re-run that changes nothing. The
// Helm side of install-dapr (the Dapr chart, upgrades one minor at a time, a control plane that never
// gets ready) needs Dapr's chart and images, which no offline cluster has: install-dapr.test.ts, on fakes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ClusterNamespace, testCluster } from './support/cluster.ts';
import type { TestCluster } from './support/cluster.ts';

let cluster: TestCluster;
let ns: ClusterNamespace;
test.before(async () => {
  cluster = await testCluster();
  ns = new ClusterNamespace(cluster, 'dapr');
});
test.after(async () => { await cluster.stop(); });

const names = async (kind: string) => (await ns.getJson<{ items: Array<{ metadata: { name: string } }> }>([kind])).items.map((i) => i.metadata.name).sort();

test('--components-only: the CRDs checked, the namespace created, every manifest stored by the API server; Helm never called; a re-run leaves all unchanged', async () => {
  const r = await ns.run('install-dapr', ['--components-only', '--yes']);
  assert.is(r.code, 0, r.output);
  assert.not.ok(r.calls.some((c) => c.tool === 'helm'), 'Helm left alone');
  const calls = r.calls.map((c) => c.args.join(' '));
  const crdCheck = calls.findIndex((c) => c.startsWith('get crd '));
  const apply = calls.indexOf(`apply -n ${ns.namespace} -f -`);
  assert.ok(crdCheck >= 0 && apply > crdCheck, calls.join('\n'));
  assert.ok(calls.indexOf(`create namespace ${ns.namespace}`) < apply, calls.join('\n'));
  assert.equal(await names('components.dapr.io'), ['kubernetes-secrets', 'task-events-pubsub', 'task-state']);
  assert.equal(await names('configurations.dapr.io'), ['dapr-config']);
  assert.equal(await names('resiliencies.dapr.io'), ['todo-resiliency']);
  assert.match(r.stdout.trim().split('\n').pop()!, new RegExp(`^install-dapr: 5 manifests in ${ns.namespace}: 5 created$`));

  const again = await ns.run('install-dapr', ['--components-only']);
  assert.is(again.code, 0, again.output);
  assert.match(again.stdout.trim().split('\n').pop()!, new RegExp(`^install-dapr: nothing to change: 5 manifests in ${ns.namespace}: 5 unchanged$`), again.stdout);
});

test.run();
