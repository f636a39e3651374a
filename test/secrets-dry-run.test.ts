// secrets.mts --dry-run by construction: on each fake-cluster scenario, the plan --dry-run --json
// prints is exactly the changes a real run then makes, in order, apart from the steps marked "when".
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { classifyMutating, formatCommand } from '../scripts/lib/runner.ts';
import type { FakeWorld } from './support/harness.ts';
import { assertPlanIsRun, dryRunPlan } from './support/release.ts';
import { goodValues, localWorld, runSecrets, withRotatedOpenAiKey, writeEnvFile } from './support/secrets.ts';

const ROTATED = withRotatedOpenAiKey();
const seeded = async (): Promise<FakeWorld> => {
  const w = localWorld();
  assert.is((await runSecrets(w, ['--env', 'local', '--secrets-file', writeEnvFile(goodValues()), '--yes'])).code, 0);
  return w;
};
const equivalence: Array<{ name: string; world: () => FakeWorld | Promise<FakeWorld>; values: Record<string, string>; args: string[]; changes?: false }> = [
  { name: 'fresh cluster: every Secret created, both consumers restarted and awaited', world: () => localWorld(), values: goodValues(), args: [] },
  { name: 'one changed value: its Secret applied, its consumer restarted', world: seeded, values: ROTATED, args: [] },
  { name: 'no namespace and no consumer deployed yet', world: () => localWorld({ kube: { context: 'minikube', objects: [] } }), values: goodValues(), args: [] },
  { name: '--no-restart', world: seeded, values: ROTATED, args: ['--no-restart'] },
  { name: 'nothing changed', world: seeded, values: goodValues(), args: [], changes: false },
];

for (const s of equivalence) {
  test(`--dry-run plans exactly the changes the real run makes: ${s.name}`, async () => {
    const w = await s.world();
    const file = writeEnvFile(s.values);
    const before = w.calls.length;
    const plan = await dryRunPlan(w, 'secrets', ['--env', 'local', '--secrets-file', file, ...s.args]);
    const changed = (from: number) => w.calls.slice(from).filter((c) => classifyMutating(c.tool, c.args)).map((c) => formatCommand(c.tool, c.args));
    assert.equal(changed(before), [], 'the dry-run changed nothing');
    const start = w.calls.length;
    const r = await runSecrets(w, ['--env', 'local', '--secrets-file', file, '--yes', ...s.args]);
    assert.is(r.code, 0, r.output);
    const real = changed(start);
    assert.is(real.length > 0, s.changes !== false, real.join('\n'));
    assertPlanIsRun(plan, real);
  });
}

test.run();
