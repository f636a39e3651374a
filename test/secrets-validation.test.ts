// Every validation rule of secrets.mts with an input that breaks it: exit 2, a message naming the
// key (and .env line) and the fix, no value in the output, and no mutating call. Plus the dotenv
// reader's own behaviour.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { parseDotenv } from '../scripts/lib/dotenv.ts';
import { SECRET_CATALOG } from '../scripts/lib/secret-catalog.ts';
import { validateValue } from '../scripts/lib/secrets.ts';
import { repoRoot } from './support/tools.ts';
import type { RunResult } from './support/harness.ts';
import { goodValues, localWorld, mutatingCalls, runSecrets, writeEnvFile } from './support/secrets.ts';
import type { Values } from './support/secrets.ts';

interface Case {
  name: string;
  /** Changes to the valid values (undefined deletes the key), or the whole .env text. */
  env: Partial<Record<string, string | undefined>> | string;
  message: RegExp;
  hint?: RegExp;
  /** Text that must not be printed (the bad value or the malformed line). */
  secret?: string;
}

const good = goodValues('v');
const envText = (changes: Partial<Record<string, string | undefined>>): string => {
  const merged: Record<string, string | undefined> = { ...good, ...changes };
  return `${Object.entries(merged).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`).join('\n')}\n`;
};

const CASES: Case[] = [
  { name: 'a required key is missing', env: { OPENAI_API_KEY: undefined }, message: /OPENAI_API_KEY: is missing: neither \S*\.env has it\n\s+fix: add a line OPENAI_API_KEY=\.\.\. to \S*\.env; format: sk-/ },
  { name: 'a key is empty', env: { OPENAI_API_KEY: '' }, message: /OPENAI_API_KEY \(\S*\.env:2\): is empty\n\s+fix: set a value; format: sk-/ },
  { name: 'DATABASE_URL is not a postgres URL', env: { DATABASE_URL: 'mysql://todo:SeCrEtPw9@db.example.com/todo?sslmode=require' }, message: /DATABASE_URL \(\S*\.env:1\): is not a postgres:\/\/ or postgresql:\/\/ URL with a host\n\s+fix: use the connection string Neon shows/, secret: 'SeCrEtPw9' },
  { name: 'DATABASE_URL without sslmode', env: { DATABASE_URL: 'postgresql://todo:SeCrEtPw9@ep-x.neon.tech/todo' }, message: /DATABASE_URL \(\S*\.env:1\): must require TLS \(Neon refuses plain connections\); it has no sslmode\n\s+fix: add sslmode=require/, secret: 'SeCrEtPw9' },
  { name: 'DATABASE_URL with sslmode=disable', env: { DATABASE_URL: 'postgres://todo:SeCrEtPw9@ep-x.neon.tech/todo?sslmode=disable' }, message: /DATABASE_URL \(\S*\.env:1\): must require TLS .* it has sslmode=disable/, secret: 'SeCrEtPw9' },
  { name: 'DATABASE_URL with a second, weaker sslmode', env: { DATABASE_URL: 'postgresql://todo:SeCrEtPw9@ep-x.neon.tech/todo?sslmode=require&sslmode=prefer' }, message: /DATABASE_URL \(\S*\.env:1\): must require TLS .* it has sslmode=prefer/, secret: 'SeCrEtPw9' },
  { name: 'OPENAI_API_KEY is an Admin API key', env: { OPENAI_API_KEY: 'sk-admin-Qx7Lm2Vb9Kp4Zr8Tn1Wd6Hs3Jf5TestOnlyGa0Ue2Ci7' }, message: /OPENAI_API_KEY \(\S*\.env:2\): is an OpenAI Admin API key \(sk-admin-\.\.\.\): it cannot call the models/, secret: 'Qx7Lm2Vb9Kp4' },
  { name: 'BETTER_AUTH_SECRET shorter than 32 characters', env: { BETTER_AUTH_SECRET: 'short-Secret' }, message: /BETTER_AUTH_SECRET \(\S*\.env:3\): is 12 characters; it needs at least 32\n\s+fix: generate one: openssl rand -base64 32/, secret: 'short-Secret' },
  { name: 'OPENAI_API_KEY not shaped like a key', env: { OPENAI_API_KEY: 'pk-live-0123456789abcdefghijklmnop' }, message: /OPENAI_API_KEY \(\S*\.env:2\): does not look like an OpenAI API key/, hint: /fix the values named above/, secret: 'pk-live-0123456789abcdefghijklmnop' },
  { name: 'REDPANDA_BOOTSTRAP_SERVERS with a space after the comma', env: { REDPANDA_BOOTSTRAP_SERVERS: 'seed-1.rp.example.com:9092, seed-2.rp.example.com:9092' }, message: /REDPANDA_BOOTSTRAP_SERVERS \(\S*\.env:4\): entry 2 of 2 is not host:port \(no spaces; port 1-65535\)/ },
  { name: 'REDPANDA_BOOTSTRAP_SERVERS without a port', env: { REDPANDA_BOOTSTRAP_SERVERS: 'seed-1.rp.example.com' }, message: /REDPANDA_BOOTSTRAP_SERVERS \(\S*\.env:4\): the value is not host:port/ },
  { name: 'REDPANDA_BOOTSTRAP_SERVERS with a scheme', env: { REDPANDA_BOOTSTRAP_SERVERS: 'SASL_SSL://seed-1.rp.example.com:9092' }, message: /REDPANDA_BOOTSTRAP_SERVERS \(\S*\.env:4\): the value has a scheme \(like SASL_SSL:\/\/\)\n\s+fix: give host:port only/ },
  { name: 'a value with a trailing newline', env: { REDPANDA_SASL_PASSWORD: '"pasted-Pw-7788\\n"' }, message: /REDPANDA_SASL_PASSWORD \(\S*\.env:6\): ends with a newline \(left by a copy-paste or `echo`\)/, secret: 'pasted-Pw-7788' },
  { name: 'a value with leading blanks inside quotes', env: { REDPANDA_SASL_PASSWORD: '"  pasted-Pw-7788"' }, message: /REDPANDA_SASL_PASSWORD \(\S*\.env:6\): has leading or trailing whitespace/, secret: 'pasted-Pw-7788' },
  { name: 'a value still wrapped in quotes', env: { REDPANDA_SASL_USERNAME: `"'svc-user-quoted'"` }, message: /REDPANDA_SASL_USERNAME \(\S*\.env:5\): is still wrapped in quotes \(they would become part of the secret\)\n\s+fix: remove the extra pair of quotes/, secret: 'svc-user-quoted' },
  { name: 'a malformed line, by line number and without its content', env: `${envText({}).trimEnd()}\nsk-proj-PastedAloneOnItsLine1234567\n`, message: /\S*\.env:7: not a KEY=VALUE line \(a value pasted onto a line of its own, or a missing "="\)\n\s+fix: edit line 7 of/, secret: 'PastedAloneOnItsLine' },
  { name: 'an invalid variable name', env: `${envText({}).trimEnd()}\n9LIVES=meow-meow-meow\n`, message: /\S*\.env:7: the name before "=" is not a valid variable name/, secret: 'meow-meow' },
  { name: 'a quote that is never closed', env: `DATABASE_URL=${good.DATABASE_URL}\nOPENAI_API_KEY=${good.OPENAI_API_KEY}\nBETTER_AUTH_SECRET="unterminated-Secret-0123456789abcdefghijk\nREDPANDA_BOOTSTRAP_SERVERS=${good.REDPANDA_BOOTSTRAP_SERVERS}\n`, message: /\S*\.env:3: BETTER_AUTH_SECRET: the double quote opened here is never closed/, secret: 'unterminated-Secret' },
  { name: 'a key set twice', env: `${envText({}).trimEnd()}\nOPENAI_API_KEY=sk-proj-secondsecondsecondsecond01\n`, message: /OPENAI_API_KEY \(\S*\.env:7\): is set twice \(lines 2 and 7\)\n\s+fix: delete one of the two lines/, secret: 'secondsecond' },
];

// Start the runs four at a time up front; each test awaits its own.
function limit(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: Array<() => void> = [];
  const next = () => {
    if (active >= n) return;
    const job = queue.shift();
    if (job) { active++; job(); }
  };
  return <T>(fn: () => Promise<T>) => new Promise<T>((resolve, reject) => {
    queue.push(() => { fn().then(resolve, reject).finally(() => { active--; next(); }); });
    next();
  });
}
const pool = limit(4);
const results = new Map<string, Promise<{ r: RunResult; mutating: string[] }>>(CASES.map((c) => {
  const p = pool(async () => {
    const w = localWorld();
    const r = await runSecrets(w, ['--env', 'local', '--secrets-file', writeEnvFile(typeof c.env === 'string' ? c.env : envText(c.env)), '--yes']);
    return { r, mutating: mutatingCalls(w) };
  });
  p.catch(() => undefined); // reported by the test that awaits it
  return [c.name, p];
}));
const resultOf = (name: string) => results.get(name)!;

for (const c of CASES) {
  test(`exit 2, nothing applied: ${c.name}`, async () => {
    const { r, mutating } = await resultOf(c.name);
    assert.is(r.code, 2, r.output);
    assert.match(r.stderr, /^error: \d+ problems? with the secrets; nothing was applied:/);
    assert.match(r.stderr, c.message);
    assert.match(r.stderr, c.hint ?? /\nhint: /);
    assert.equal(mutating, []);
    // Validation comes before the cluster's Secrets are even read.
    assert.is(r.calls.filter((x) => x.args[0] === 'get' && x.args[1] === 'secret').length, 0);
    if (c.secret) assert.not.ok(r.output.includes(c.secret), 'the bad value is not printed');
    for (const v of Object.values(good)) assert.not.ok(r.output.includes(v), 'no value is printed');
  });
}

const entry = (envVar: string) => SECRET_CATALOG.find((e) => e.envVar === envVar)!;
const problemsOf = (envVar: string, value: string) => validateValue(entry(envVar), value).map((p) => p.message);

test('OPENAI_API_KEY: project, service account and legacy keys pass; admin keys, placeholders and junk fail', () => {
  const random = 'Bq7xK2mN9pLw4Rt8Vz1Yc6Hd3Jf5TestOnlys0Ga9Ue2Wi7';
  for (const ok of [
    `sk-proj-${random}${random}_-${random}`, // project keys are long and use - and _
    `sk-svcacct-${random}`,
    `sk-${random}`, // legacy user key: sk- and 48 characters
    `sk-None-${random}`, // legacy user key created after projects
  ]) assert.equal(problemsOf('OPENAI_API_KEY', ok), [], ok);
  for (const bad of [
    `sk-admin-${random}`, // Admin API key: cannot call the models
    'sk-...', 'sk-proj-...', 'sk-your-openai-api-key-here',
    'sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', // a placeholder: no digit
    'sk-proj-0123456789012345678901234567890123456789', // no letter
    `sk-proj-${random.slice(0, 15)}`, // truncated copy
    `pk-${random}`, `Bearer sk-${random}`, `sk-proj-${random}.${random}`, `${random}`,
  ]) assert.equal(problemsOf('OPENAI_API_KEY', bad).length, 1, bad);
});

test('DATABASE_URL: sslmode require, verify-ca or verify-full pass, with Neon\'s channel_binding; anything weaker fails', () => {
  const base = 'postgresql://todo_owner:pw@ep-cool-1.eastus2.azure.neon.tech/todo';
  for (const ok of [
    `${base}?sslmode=require`,
    `${base}?sslmode=require&channel_binding=require`, // what Neon's console shows
    `${base}?channel_binding=require&sslmode=verify-full`,
    `${base}?sslmode=verify-ca`,
    'postgres://todo_owner:pw@ep-cool-1.eastus2.azure.neon.tech:5432/todo?sslmode=require',
  ]) assert.equal(problemsOf('DATABASE_URL', ok), [], ok);
  for (const [bad, says] of [
    [`${base}`, /no sslmode/],
    [`${base}?channel_binding=require`, /no sslmode/],
    [`${base}?sslmode=prefer`, /sslmode=prefer/],
    [`${base}?sslmode=require&sslmode=disable`, /sslmode=disable/],
    [`${base}?sslmode=REQUIRE`, /an unknown sslmode/],
    [`${base}?ssl=true`, /no sslmode/],
  ] as const) assert.match(problemsOf('DATABASE_URL', bad).join('\n'), says, bad);
});

test('every problem is reported in one run, not one per attempt', async () => {
  const w = localWorld();
  const r = await runSecrets(w, ['--env', 'local', '--secrets-file', writeEnvFile(envText({ OPENAI_API_KEY: 'nope', BETTER_AUTH_SECRET: 'short', REDPANDA_SASL_USERNAME: undefined })), '--yes']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /^error: 3 problems with the secrets; nothing was applied:/);
  for (const key of ['OPENAI_API_KEY', 'BETTER_AUTH_SECRET', 'REDPANDA_SASL_USERNAME']) assert.match(r.stderr, new RegExp(`- ${key}`));
  assert.equal(mutatingCalls(w), []);
});

test('no .env and no Key Vault: exit 2 with the cp .env.example fix', async () => {
  // The default --secrets-file is .env in the current directory; test/fixtures has none.
  const w = localWorld();
  const r = await runSecrets(w, ['--env', 'local', '--yes'], { cwd: join(repoRoot, 'test', 'fixtures') });
  assert.is(r.code, 2, r.output);
  assert.match(r.stderr, /error: \.env does not exist and environments\/local\.yaml names no Key Vault/);
  assert.match(r.stderr, /hint: cp \.env\.example \.env, fill in every value/);
  assert.equal(mutatingCalls(w), []);
});

test('--secrets-file naming a missing file, started as the README does (npx zx): the script\'s own exit 2 and fix, not Node\'s exit 9', async () => {
  // Under its old name, --env-file, Node 20 stopped first: `node: /nonexistent/.env: not found`, exit 9.
  const w = localWorld();
  const r = await runSecrets(w, ['--env', 'local', '--secrets-file', '/nonexistent/.env', '--yes'], { viaNpxZx: true });
  assert.is(r.code, 2, r.output);
  assert.match(r.stderr, /^error: \/nonexistent\/\.env does not exist and environments\/local\.yaml names no Key Vault, so there is no source for the secrets$/m);
  assert.match(r.stderr, /^hint: cp \.env\.example \/nonexistent\/\.env, fill in every value .*; or pass --secrets-file PATH$/m);
  assert.not.match(r.output, /node: .*not found/);
  assert.equal(mutatingCalls(w), []);
});

test('--env-file, the old name, still reads the file where Node 20 lets it through (the file exists), with one deprecation line', async () => {
  const w = localWorld();
  const r = await runSecrets(w, ['--env', 'local', '--env-file', writeEnvFile(envText({ OPENAI_API_KEY: 'nope' })), '--yes']);
  // The file was read: its bad key is reported, so the alias reached --secrets-file.
  assert.is(r.code, 2, r.output);
  assert.match(r.stderr, /- OPENAI_API_KEY/);
  assert.equal(r.stderr.match(/^warning: --env-file is deprecated, use --secrets-file: .*$/gm)?.length, 1, r.stderr);
  assert.equal(mutatingCalls(w), []);
});

test('dotenv: comments, export, quotes, escapes as the dotenv package reads them (only \\n and \\r expand), inline comments, CRLF and multi-line values', () => {
  const text = [
    '# comment', '', 'export A=plain', 'B = spaced  # inline comment', 'C="double # not a comment"', "D='single \\n literal'",
    'E="esc\\n\\"q\\""', 'F=pass#word', 'G="multi', 'line"', 'H=`tick`', 'I=trailing-cr\r', 'J=',
  ].join('\n');
  const r = parseDotenv(text);
  assert.equal(r.problems, []);
  const map = Object.fromEntries(r.entries.map((e) => [e.key, [e.value, e.line]]));
  assert.equal(map, {
    A: ['plain', 3], B: ['spaced', 4], C: ['double # not a comment', 5], D: ['single \\n literal', 6], E: ['esc\n\\"q\\"', 7],
    F: ['pass#word', 8], G: ['multi\nline', 9], H: ['tick', 11], I: ['trailing-cr', 12], J: ['', 13],
  });
});

test('dotenv: problems carry line numbers and never the line', () => {
  const r = parseDotenv('A=1\nthis-is-a-secret-alone\nB="open\nC=3\n');
  assert.equal(r.problems.map((p) => p.line), [2, 3]);
  assert.not.ok(JSON.stringify(r.problems).includes('this-is-a-secret-alone'));
  assert.equal(r.entries.map((e) => e.key), ['A']);
  assert.equal(parseDotenv('A="x" trailing\n').problems.map((p) => p.line), [1]);
});

test('.env.example parses cleanly and names every catalog variable', async () => {
  const { readFileSync } = await import('node:fs');
  const { SECRET_CATALOG } = await import('../scripts/lib/secret-catalog.ts');
  const r = parseDotenv(readFileSync(new URL('../.env.example', import.meta.url), 'utf8'));
  assert.equal(r.problems, []);
  assert.equal(r.entries.map((e) => e.key).sort(), SECRET_CATALOG.map((e) => e.envVar).sort());
  const values: Values = Object.fromEntries(r.entries.map((e) => [e.key, e.value]));
  assert.ok(Object.values(values).every((v) => v === ''), '.env.example holds no values');
});

test.run();
