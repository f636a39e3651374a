// The rehearsal's load step (15) on the real control plane, in a namespace of its own beside
// rehearsal-helm4.test.ts's steps 1-14: the real HPA controller, fed by metrics-server from kwok's
// simulated CPU, against a release that steps 1 and 3 (its Secrets, a first install) put there. It
// needs nothing else from the other steps, and holding the load for two minutes is the longest step,
// so it runs beside them rather than after them.
import { test } from 'uvu';
import { testCluster } from './support/cluster.ts';
import type { TestCluster } from './support/cluster.ts';
import { assertRehearsal, rehearseOn } from './support/rehearsal.ts';

let cluster: TestCluster;
test.before(async () => { cluster = await testCluster(); });
test.after(async () => { await cluster.stop(); });

test('load.mts against the real HPA: the backend scales from its minimum to its maximum, and load.mts says so', async () => {
  assertRehearsal(await rehearseOn(cluster, 'hpa', ['--env', 'production', '--steps', '1,3,15'], 4), [2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
});

test.run();
