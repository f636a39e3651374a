// The flag parser every script shares: types, defaults, --no-X, durations, and errors that name the flag.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OpsError } from '../scripts/lib/errors.ts';
import { describeFlags, parseFlags, renderHelp } from '../scripts/lib/flags.ts';
import type { ScriptSpec } from '../scripts/lib/flags.ts';

const spec: ScriptSpec = {
  name: 'example',
  summary: 'an example',
  flags: [
    { name: 'tag', type: 'string', value: 'TAG', description: 'image tag' },
    { name: 'to', type: 'number', value: 'REV', description: 'revision' },
    { name: 'timeout', type: 'duration', value: 'DURATION', default: '10s', description: 'how long' },
    { name: 'restart', type: 'boolean', default: true, description: 'restart consumers' },
    { name: 'only', type: 'list', description: 'names' },
    { name: 'scenario', type: 'string', choices: ['hpa', 'smoke'], default: 'hpa', description: 'which' },
  ],
};

function usage(argv: string[]): string {
  try {
    parseFlags(spec, argv);
  } catch (e) {
    assert.instance(e, OpsError);
    assert.is((e as OpsError).exitCode, 2);
    return (e as Error).message;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
}

test('defaults, common flags and typed values', () => {
  const f = parseFlags(spec, ['--env', 'production', '--dry-run', '--tag=abc', '--to', '3', '--only', 'a,b', '--only', 'c']);
  assert.is(f.env, 'production');
  assert.ok(f.dryRun);
  assert.not.ok(f.yes);
  assert.is(f.string('tag'), 'abc');
  assert.is(f.number('to'), 3);
  assert.is(f.duration('timeout'), 10_000, 'the default duration, in ms');
  assert.ok(f.boolean('restart'));
  assert.equal(f.list('only'), ['a', 'b', 'c']);
  assert.is(f.string('scenario'), 'hpa');
  assert.is(parseFlags(spec, []).env, 'local', 'production is never a default');
});

test('durations: units, plain seconds, and errors', () => {
  assert.is(parseFlags(spec, ['--timeout', '5m']).duration('timeout'), 300_000);
  assert.is(parseFlags(spec, ['--timeout', '90']).duration('timeout'), 90_000);
  assert.is(parseFlags(spec, ['--timeout=1h']).duration('timeout'), 3_600_000);
  assert.match(usage(['--timeout', 'soon']), /--timeout needs a duration such as 90s, 5m or 300 \(seconds\) \(got "soon"\)/);
  assert.match(usage(['--timeout', '0']), /--timeout needs a duration/);
  assert.is(parseFlags(spec, ['--timeout', '5m']).number('timeout'), undefined, 'a duration is not read as a number');
});

test('--no-X turns a boolean off; a value on a boolean is an error', () => {
  assert.not.ok(parseFlags(spec, ['--no-restart']).boolean('restart'));
  assert.match(usage(['--restart=maybe']), /--restart takes no value/);
  assert.match(usage(['--no-tag']), /unknown flag --no-tag|--no-tag is not a flag/);
});

test('errors name the flag: unknown (with a suggestion), missing value, bad number, bad choice, stray argument', () => {
  assert.match(usage(['--tga', 'x']), /unknown flag --tga/);
  assert.match(usage(['--dryrun']), /unknown flag --dryrun \(did you mean --dry-run\?\)/);
  assert.match(usage(['--tag']), /--tag needs a value \(TAG\)/);
  assert.match(usage(['--tag', '--yes']), /--tag needs a value/);
  assert.match(usage(['--to', 'three']), /--to needs a number \(got "three"\)/);
  assert.match(usage(['--scenario', 'soak']), /--scenario must be one of hpa, smoke \(got "soak"\)/);
  assert.match(usage(['deploy']), /unexpected argument "deploy"/);
  assert.match(usage(['-x']), /unknown flag -x/);
});

test('--help text and --help --json list every flag, common ones included', () => {
  const help = renderHelp(spec);
  for (const f of ['--tag TAG', '--to REV', '--timeout DURATION', '--restart', '--only', '--scenario', '--env NAME', '--dry-run', '--yes', '--json', '--verbose', '--help']) {
    assert.ok(help.includes(f), f);
  }
  assert.match(help, /one of: hpa, smoke; default: hpa/);
  assert.match(help, /Exit codes: 0 ok, 1 failed, 2 usage or configuration error, 3 preflight failed, 4 deploy failed and rolled back/);
  assert.equal(describeFlags(spec).flags.map((f) => f.name), ['env', 'dry-run', 'yes', 'json', 'verbose', 'help', 'tag', 'to', 'timeout', 'restart', 'only', 'scenario']);
});

test('a renamed flag: the old name still sets the new one, once-per-name notice; --help names it, --help --json does not', () => {
  const renamed: ScriptSpec = { name: 'example', summary: 'x', flags: [{ name: 'secrets-file', type: 'string', value: 'PATH', description: 'dotenv', renamedFrom: { names: ['env-file'], why: 'Node takes that name' } }] };
  const old = parseFlags(renamed, ['--env-file', 'a.env', '--env-file=b.env']);
  assert.is(old.string('secrets-file'), 'b.env');
  assert.equal(old.deprecations, ['--env-file is deprecated, use --secrets-file: Node takes that name']);
  const current = parseFlags(renamed, ['--secrets-file', 'c.env']);
  assert.is(current.string('secrets-file'), 'c.env');
  assert.equal(current.deprecations, []);
  assert.match(renderHelp(renamed), /--secrets-file PATH +dotenv \(formerly --env-file, deprecated\)/);
  assert.equal(describeFlags(renamed).flags.map((f) => f.name).filter((n) => n.includes('file')), ['secrets-file']);
  assert.throws(() => parseFlags(renamed, ['--env-file']), /--secrets-file needs a value/);
});

test.run();
