// Real Helm 3 (v3.17) on the real control plane: what differs between Helm 3 and 4 is Helm's own part
// of the cycle (its release records and statuses, upgrade, rollback, a FAILED revision, a killed
// upgrade's pending-upgrade lock, rollback.mts reading the history), so those steps run here; detecting
// an image pull failure, a config error or a pod that never gets ready is kubectl's and the watcher's
// part, and `rollback.mts --to` is the same `helm rollback` with another number: the same for both
// majors, rehearsal-helm4.test.ts runs them. Step 1 stays: a deploy needs its Secrets.
import { test } from 'uvu';
import { testCluster } from './support/cluster.ts';
import type { TestCluster } from './support/cluster.ts';
import { assertRehearsal, rehearseOn } from './support/rehearsal.ts';

let cluster: TestCluster;
test.before(async () => { cluster = await testCluster(); });
test.after(async () => { await cluster.stop(); });

test('Helm 3: install, upgrade, crash loop rolled back, FAILED revision skipped, killed upgrade recovered, rollback.mts', async () => {
  assertRehearsal(await rehearseOn(cluster, 'helm3', ['--env', 'production', '--steps', '1,3,4,5,6,7,11,12,13'], 3), [2, 8, 9, 10, 14, 15]);
});

test.run();
