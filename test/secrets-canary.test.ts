// The canary test: distinctive secret values go through every mode of secrets.mts, and none of
// them (raw or base64) may appear in stdout, stderr, the argv of any call, the stdin of any call but
// `kubectl apply`, the step summary, or any file the run wrote. Only `kubectl apply`'s stdin may
// carry them, and the test checks that it does, so the search is known to work.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { FakeWorld } from './support/harness.ts';
import type { RunResult } from './support/harness.ts';
import { clusterSecret, localWorld, runSecrets, writeEnvFile } from './support/secrets.ts';
import type { Values } from './support/secrets.ts';
import { repoRoot } from './support/tools.ts';
import { typeScriptArgs } from '../scripts/lib/typescript-runtime.ts';

/** Valid values, each unmistakable. OLD is what the cluster holds before; NEW what .env holds. */
function canaries(tag: string): Values {
  return {
    DATABASE_URL: `postgresql://canary${tag}user:CANARYpw${tag}9f3kQ@canary${tag}.eastus2.azure.neon.tech/canarydb?sslmode=require`,
    OPENAI_API_KEY: `sk-proj-CANARYopenai${tag}x7Vb2Lq9Wm4Zr8Tn1TestOnlyk5Pd0`,
    BETTER_AUTH_SECRET: `CANARYauth${tag}-Hp3Jd8Ks0Lw5Nq2Rt7Vx9Yz4`,
    REDPANDA_BOOTSTRAP_SERVERS: `canary${tag}-seed1.cloud.redpanda.com:9092,canary${tag}-seed2.cloud.redpanda.com:9092`,
    REDPANDA_SASL_USERNAME: `CANARYuser${tag}Qm5`,
    REDPANDA_SASL_PASSWORD: `CANARYpass${tag}Zt8Wq3Xy6`,
  };
}
const OLD = canaries('old');
const NEW = canaries('new');
const BAD = { ...canaries('bad'), DATABASE_URL: 'postgresql://canarybaduser:CANARYpwbad9f3kQ@canarybad.neon.tech/canarydb?sslmode=disable' };

/** Every form a canary could leak in: the value, its base64, and its distinctive inner tokens. */
function needles(values: Values): string[] {
  const out: string[] = [];
  for (const v of Object.values(values)) {
    out.push(v, Buffer.from(v).toString('base64'));
    for (const token of v.match(/CANARY[A-Za-z0-9]+|canary[a-z]+(?:user|-seed\d)/g) ?? []) out.push(token);
  }
  return out;
}
const ALL = [...needles(OLD), ...needles(NEW), ...needles(BAD), 'CANARY', 'canaryold', 'canarynew', 'canarybad'];

function leaks(text: string): string[] {
  return ALL.filter((n) => text.includes(n));
}

function oldCluster(): unknown[] {
  return [
    clusterSecret('database-credentials', { 'connection-string': OLD.DATABASE_URL! }),
    clusterSecret('openai-credentials', { 'api-key': OLD.OPENAI_API_KEY! }),
    clusterSecret('auth-credentials', { secret: OLD.BETTER_AUTH_SECRET! }),
    clusterSecret('redpanda-credentials', { 'bootstrap-servers': OLD.REDPANDA_BOOTSTRAP_SERVERS!, username: OLD.REDPANDA_SASL_USERNAME!, password: OLD.REDPANDA_SASL_PASSWORD! }),
  ];
}

interface Mode { name: string; args: string[]; world: () => FakeWorld; values: Values; code: number }

const echoBack = (w: FakeWorld) => w.on('kubectl', ['apply'], {
  // A kubectl that echoes what it was given (as some admission webhooks and old versions do).
  stderr: `Error from server (Invalid): error when creating "STDIN": Secret "database-credentials" is invalid: data: ${Object.values(NEW).join(' ')} ${Object.values(NEW).map((v) => Buffer.from(v).toString('base64')).join(' ')} ${Object.values(OLD).join(' ')}`,
  exit: 1,
});

const MODES: Mode[] = [
  { name: 'apply (fresh cluster)', args: ['--yes'], world: () => localWorld(), values: NEW, code: 0 },
  { name: 'apply over old values, verbose', args: ['--yes', '--verbose'], world: () => localWorld({}, oldCluster()), values: NEW, code: 0 },
  { name: 'apply over old values, json', args: ['--yes', '--json'], world: () => localWorld({}, oldCluster()), values: NEW, code: 0 },
  { name: 'check, verbose', args: ['--check', '--verbose'], world: () => localWorld({}, oldCluster()), values: NEW, code: 1 },
  { name: 'check, json', args: ['--check', '--json', '--verbose'], world: () => localWorld({}, oldCluster()), values: NEW, code: 1 },
  { name: 'dry-run, verbose', args: ['--dry-run', '--verbose'], world: () => localWorld({}, oldCluster()), values: NEW, code: 0 },
  { name: 'dry-run, json', args: ['--dry-run', '--json'], world: () => localWorld(), values: NEW, code: 0 },
  { name: 'failing kubectl echoing stdin', args: ['--yes'], world: () => echoBack(localWorld({}, oldCluster())), values: NEW, code: 1 },
  { name: 'failing kubectl echoing stdin, verbose', args: ['--yes', '--verbose'], world: () => echoBack(localWorld({}, oldCluster())), values: NEW, code: 1 },
  { name: 'failing kubectl echoing stdin, json', args: ['--yes', '--json', '--verbose'], world: () => echoBack(localWorld({}, oldCluster())), values: NEW, code: 1 },
  { name: 'validation failure, verbose', args: ['--yes', '--verbose'], world: () => localWorld({}, oldCluster()), values: BAD, code: 2 },
];

const SKIP_IN_WORLD = new Set(['calls.jsonl', 'state.json', 'scenario.json']);

for (const mode of MODES) {
  test(`no canary escapes: ${mode.name}`, async () => {
    const started = Date.now() - 1000;
    const w = mode.world();
    const summary = join(w.dir, 'home', 'step-summary.md');
    const r: RunResult = await runSecrets(w, ['--env', 'local', '--secrets-file', writeEnvFile(mode.values), ...mode.args], { env: { GITHUB_STEP_SUMMARY: summary } });
    assert.is(r.code, mode.code, r.output);

    assert.equal(leaks(r.stdout), [], 'stdout');
    assert.equal(leaks(r.stderr), [], 'stderr');
    for (const c of r.calls) {
      assert.equal(leaks(c.args.join('\n')), [], `argv of ${c.tool} ${c.args.slice(0, 3).join(' ')}`);
      assert.equal(leaks(JSON.stringify(c.env)), [], 'recorded environment');
      const isApply = c.tool === 'kubectl' && c.args[0] === 'apply';
      if (!isApply) assert.equal(leaks(c.stdin), [], `stdin of ${c.tool} ${c.args.slice(0, 3).join(' ')}`);
    }
    // Positive control: the values did travel, on apply's stdin (except where nothing is applied).
    const applyStdin = r.calls.filter((c) => c.args[0] === 'apply').map((c) => c.stdin).join('\n');
    if (mode.code === 0 && !mode.args.includes('--dry-run') && !mode.args.includes('--check')) {
      assert.ok(applyStdin.includes(Buffer.from(NEW.OPENAI_API_KEY!).toString('base64')), 'apply stdin carries the values');
    } else if (mode.name.startsWith('failing')) {
      assert.ok(leaks(applyStdin).length > 0, 'the search finds canaries where they legitimately are');
    } else {
      assert.is(applyStdin, '', 'nothing applied');
    }

    // Files the run wrote: everything in the world directory but the fakes' own records
    // (checked above, or the simulated cluster itself), and any report in the repository.
    const files = [
      ...FakeWorld.filesUnder(w.dir).filter((f) => !SKIP_IN_WORLD.has(basename(f))),
      ...FakeWorld.filesUnder(join(repoRoot, 'reports')).filter((f) => statSync(f).mtimeMs >= started),
    ];
    for (const f of files) assert.equal(leaks(readFileSync(f, 'utf8')), [], f);
    assert.ok(files.includes(summary), 'the step summary was written and checked');
  });
}

test('secrets exported in the shell reach no child process: dropped, and said so by name', async () => {
  // The fakes record only a few variables, so a wrapper in front of them dumps each child's whole environment.
  const w = localWorld({}, oldCluster());
  const spy = mkdtempSync(join(tmpdir(), 'aks-todo-ops-envspy-'));
  const dumps = join(spy, 'environments.txt');
  for (const tool of ['kubectl', 'az']) {
    writeFileSync(join(spy, tool), `#!/bin/sh\nenv >> "${dumps}"\necho ---- >> "${dumps}"\nexec "${join(w.dir, 'bin', tool)}" "$@"\n`);
    chmodSync(join(spy, tool), 0o755);
  }
  const r = await runSecrets(w, ['--env', 'local', '--secrets-file', writeEnvFile(NEW), '--yes', '--verbose'], {
    env: { ...OLD, PATH: [spy, join(w.dir, 'bin'), dirname(process.execPath), '/usr/bin', '/bin'].join(':') },
  });
  assert.is(r.code, 0, r.output);
  const seen = readFileSync(dumps, 'utf8');
  assert.ok(seen.split('----').length > 5, 'every kubectl call went through the spy');
  assert.ok(seen.includes(`FAKE_DIR=${w.dir}`), 'the spy sees the environment the script passes on');
  assert.equal(leaks(seen), [], 'a child process inherited a secret');
  assert.match(r.stderr, /ignoring DATABASE_URL, OPENAI_API_KEY, BETTER_AUTH_SECRET, REDPANDA_BOOTSTRAP_SERVERS, REDPANDA_SASL_USERNAME, REDPANDA_SASL_PASSWORD from the shell environment/);
  assert.equal(leaks(r.output), []);
  // The .env values were applied, not the exported ones.
  assert.ok(r.calls.some((c) => c.args[0] === 'apply' && c.stdin.includes(Buffer.from(NEW.OPENAI_API_KEY!).toString('base64'))));
});

test('install-dapr --verify-components: no canary escapes when daprd fails to reach the brokers (plain, verbose, json)', async () => {
  // Real daprd (built once, cached), pointed at closed ports on 127.0.0.1: it fails without any traffic
  // leaving this machine, and its error lines go through the redactor before they are printed.
  const { freePort } = await import('./support/brokers.ts');
  const [kafkaPort, pgPort] = [await freePort(), await freePort()];
  const values: Values = {
    ...canaries('verify'),
    DATABASE_URL: `postgresql://canaryverifyuser:CANARYpwverify9f3kQ@127.0.0.1:${pgPort}/canarydb?sslmode=require`,
    REDPANDA_BOOTSTRAP_SERVERS: `127.0.0.1:${kafkaPort}`,
  };
  const verifyNeedles = [...needles(values).filter((n) => !n.startsWith('127.0.0.1')), 'CANARY', 'canaryverify'];
  for (const extra of [[], ['--verbose'], ['--json', '--verbose']]) {
    const r = spawnSync(process.execPath, [...typeScriptArgs(), join(repoRoot, 'scripts', 'install-dapr.mts'), '--env', 'local', '--verify-components', '--secrets-file', writeEnvFile(values), ...extra], {
      cwd: repoRoot, encoding: 'utf8', timeout: 1_800_000,
      // Exported in the shell as well: the script must not hand them to daprd either.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...values },
    });
    const out = `${r.stdout}${r.stderr}`;
    assert.is(r.status, 1, out);
    // Positive control: the run got as far as daprd's own error (the broker address is a registered
    // identifier, so it is masked too).
    assert.match(out, /kafka: client has run out of available brokers to talk to: dial tcp \*\*\*: connect: connection refused/);
    assert.equal(verifyNeedles.filter((n) => out.includes(n)), [], `${extra.join(' ')}:\n${out}`);
  }
});

test('the canary search itself finds a leak (control)', () => {
  assert.ok(leaks(`x ${Buffer.from(NEW.REDPANDA_SASL_PASSWORD!).toString('base64')} y`).length > 0);
  assert.ok(leaks('prefix CANARYpassnewZt8Wq3Xy6 suffix').length > 0);
  assert.equal(leaks('secret/redpanda-credentials configured'), []);
});

test.run();
