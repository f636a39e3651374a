// The same rehearsal with real Helm 3 (v3.17): both majors must drive deploy and rollback the same way.
import { test } from 'uvu';
import { assertFullRehearsal, rehearse } from './support/rehearsal.ts';

test('the whole rehearsal passes on the real control plane (Helm 3, production values): every step as expected', async () => {
  assertFullRehearsal(await rehearse(['--env', 'production'], 3));
});

test.run();
