// The rehearsal on the real control plane (kube-apiserver, kube-controller-manager, kube-scheduler,
// etcd, kwok) with real Helm 4 and kubectl: deploy, rollback, secrets and install-dapr, unchanged,
// against Kubernetes itself, on the production values files; steps 1-14, on the test cluster
// (support/cluster.ts) in a namespace of its own. Step 15, the load on the real HPA, runs beside it
// in rehearsal-hpa.test.ts. Plus --dry-run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readVersions } from '../scripts/lib/rehearsal/toolchain.ts';
import { testCluster } from './support/cluster.ts';
import type { TestCluster } from './support/cluster.ts';
import { assertRehearsal, rehearse, rehearseOn } from './support/rehearsal.ts';
import { repoRoot } from './support/tools.ts';

let cluster: TestCluster;
test.before(async () => { cluster = await testCluster(); });
test.after(async () => { await cluster.stop(); });

test('the rehearsal passes on the real control plane (Helm 4, production values): steps 1-14 as expected', async () => {
  assertRehearsal(await rehearseOn(cluster, 'helm4', ['--env', 'production', '--steps', '1,2,3,4,5,6,7,8,9,10,11,12,13,14'], 4), [15]);
});

test('--dry-run prints the versions and the steps, and builds and starts nothing', async () => {
  const r = await rehearse(['--env', 'production', '--dry-run'], 4);
  assert.is(r.code, 0, r.stderr);
  const v = readVersions(repoRoot, 'environments/production.yaml');
  assert.match(r.stdout, new RegExp(`Kubernetes ${v.kubernetes.replace(/\./g, '\\.')} \\(production runs ${v.aksMinor.replace('.', '\\.')}\\)`));
  assert.match(r.stdout, /14\. rollback\.mts --to <the revision that ran rehearse-good-3>/);
  assert.match(r.stdout, /15\. load\.mts --scenario hpa \(k6 stand-in: simulated CPU on the backend\)/);
  assert.match(r.stdout, /^rehearse: dry-run: would run 15 steps on a local control plane; nothing was built, started or changed$/m);
  assert.is(r.report, undefined, 'a dry run writes no report');
});

test.run();
