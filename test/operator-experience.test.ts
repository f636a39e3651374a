// What an operator paged at night sees: every usage error carries a hint, every script's last line
// starts with its own name, and a rollback that did not restore service says what to run next.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startAppServer } from './fixtures/app-server.ts';
import type { AppServer } from './fixtures/app-server.ts';
import { FakeWorld } from './support/harness.ts';
import type { RunResult } from './support/harness.ts';
import { addWatch, productionEnvFile, productionWorld, REL, ROLLED_BACK, seedHistory, TAG } from './support/release.ts';

let app: AppServer;
let envFile: string;
test.before(async () => {
  app = await startAppServer();
  envFile = productionEnvFile(app.url);
});
test.after(async () => { await app.close(); });
test.before.each(() => { app.setMode('healthy'); });

const run = (w: FakeWorld, script: string, args: string[]): Promise<RunResult> =>
  w.run(script, ['--env', envFile, ...args], { timeScale: 1, killAfterMs: 90_000 });
const lastLine = (text: string) => text.trim().split('\n').pop() ?? '';

test('load: every bad flag value exits 2 with an error: line and a hint: line, and runs nothing', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--cpu-target', '0'], /hint: pass a number of percent from 1 to 1000/],
    [['--observe-after', '99999'], /hint: pass a number of seconds from 0 to 7200/],
    [['--url', 'ftp://x'], /hint: e\.g\. --url https:\/\/todo\.example\.com/],
    [['--ramp-up', 'banana'], /hint: e\.g\. --ramp-up 2m/],
    [['--duration', '30s'], /hint: add --scenario smoke/],
    [['--scenario', 'smoke', '--hold', '1m'], /hint: drop --scenario smoke/],
    [['--vus', '0'], /hint: e\.g\. --vus 20/],
    [['--k6-env', 'foo=1'], /hint: e\.g\. --k6-env MAX_CHAT_REQUESTS=0/],
  ];
  for (const [args, hint] of cases) {
    const w = productionWorld();
    const r = await run(w, 'load', [...args, '--dry-run']);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.output}`);
    assert.match(r.stderr, /^error: /m, args.join(' '));
    assert.match(r.stderr, hint, args.join(' '));
    assert.not.match(r.output, /\n\s+at /, 'no stack trace');
    assert.equal(r.calls.filter((c) => c.tool === 'k6'), [], 'k6 not started');
  }
});

test('deploy and rollback: the last line starts with the script name, like every other script', async () => {
  const dry = await run(productionWorld(), 'deploy', ['--tag', TAG, '--dry-run']);
  assert.is(dry.code, 0, dry.output);
  assert.match(lastLine(dry.stdout), /^deploy: dry-run: would deploy hackathon-todo /);

  const rbDry = await run(seedHistory(productionWorld(), ['superseded', 'superseded', 'deployed']), 'rollback', ['--dry-run']);
  assert.is(rbDry.code, 0, rbDry.output);
  assert.match(lastLine(rbDry.stdout), /^rollback: dry-run: would roll back hackathon-todo from revision 3 to 2/);

  const rb = await run(addWatch(seedHistory(productionWorld(), ['superseded', 'superseded', 'deployed']), 'rollback', [{ at: 0, state: ROLLED_BACK }]), 'rollback', ['--yes']);
  assert.is(rb.code, 0, rb.output);
  assert.match(lastLine(rb.stdout), /^rollback: rolled back hackathon-todo to revision 2 \(now revision 4\)/);
});

test('rollback that does not restore service: the summary, then a hint: line with the next commands, and the hint in --json', async () => {
  const w = addWatch(seedHistory(productionWorld(), ['superseded', 'superseded', 'deployed']), 'rollback', [{ at: 0, state: { ...ROLLED_BACK, backend: { waiting: 'CreateContainerConfigError' } } }]);
  w.on('kubectl', ['logs'], { stderr: 'Error from server (BadRequest): container "backend" is waiting to start', exit: 1 });
  const r = await run(w, 'rollback', ['--yes']);
  assert.is(r.code, 1, r.output);
  assert.match(r.stderr, new RegExp(`\\nhint: manual action needed, the app may be down: .*kubectl get pods -n todo -l app\\.kubernetes\\.io/instance=${REL};.*npx zx scripts/rollback\\.mts --env \\S+ --to <REV>`));
  assert.match(lastLine(r.stdout), /^rollback: rollback of hackathon-todo to revision 2 did not restore service: rollout: /);

  const j = await run(w, 'rollback', ['--yes', '--json']);
  assert.is(j.code, 1, j.output);
  const doc = JSON.parse(j.stdout) as { ok: boolean; hint?: string; summary: string };
  assert.is(doc.ok, false);
  assert.match(doc.hint ?? '', /npx zx scripts\/rollback\.mts --env \S+ --to <REV>/);
});

test('a failure reported as an outcome (doctor exit 3) still ends with a hint: line, and --json carries it', async () => {
  const w = new FakeWorld({ kube: { context: 'minikube' } });
  const r = await w.run('doctor', ['--env', 'production', '--skip-azure']);
  assert.is(r.code, 3, r.output);
  assert.match(lastLine(r.stdout), /^doctor: 1 of \d+ checks failed for production/);
  assert.match(r.stderr, /^hint: run the fix: line under each FAILED check, then npx zx scripts\/doctor\.mts again$/m);
  const j = await w.run('doctor', ['--env', 'production', '--skip-azure', '--json']);
  assert.match((JSON.parse(j.stdout) as { hint?: string }).hint ?? '', /run the fix: line/);
  const ok = await new FakeWorld({ kube: { context: 'minikube' } }).run('doctor', ['--env', 'local']);
  assert.is(ok.code, 0, ok.output);
  assert.not.match(ok.stderr, /hint:/, 'no hint on success');
});

test.run();
