// The flag parser every script shares: types, defaults, --no-X, durations and their bounds, errors that
// name the flag; and formatDuration, the form durations are printed in.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatDuration } from '../scripts/lib/clock.ts';
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
    { name: 'wait', type: 'duration', value: 'DURATION', min: '1s', max: '10m', description: 'bounded both ways' },
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

test('durations are bounded: 24h unless the flag says otherwise, and the error names the flag and the range', () => {
  assert.is(parseFlags(spec, ['--timeout', '24h']).duration('timeout'), 86_400_000, 'the default maximum itself is allowed');
  assert.match(usage(['--timeout', '1000h']), /^--timeout must be between 1ms and 24h \(got "1000h"\)$/);
  // Past Node's timer limit (2^31-1 ms) a timeout would fire at once; the bound keeps every value far below it.
  assert.match(usage(['--timeout', String(2 ** 31)]), /--timeout must be between 1ms and 24h/);
  assert.match(usage(['--timeout', '0.5ms']), /--timeout must be between 1ms and 24h \(got "0\.5ms"\)/);
  assert.is(parseFlags(spec, ['--wait', '10m']).duration('wait'), 600_000);
  assert.is(parseFlags(spec, ['--wait', '1s']).duration('wait'), 1000);
  assert.match(usage(['--wait', '601']), /^--wait must be between 1s and 10m \(got "601"\)$/);
  assert.match(usage(['--wait=500ms']), /^--wait must be between 1s and 10m \(got "500ms"\)$/);
  assert.match(renderHelp(spec), /--wait DURATION +bounded both ways \(1s to 10m\)/);
  assert.match(renderHelp(spec), /--timeout DURATION +how long \(default: 10s; 1ms to 24h\)/);
});

test('a flag table with a default outside its range, or a bound Node cannot time, is a programming error', () => {
  const bad = (flag: ScriptSpec['flags'][number]) => () => parseFlags({ ...spec, flags: [flag] }, []);
  assert.throws(bad({ name: 'd', type: 'duration', default: '2h', max: '1h', description: '' }), /flag --d: default 2h is outside its own range/);
  assert.throws(bad({ name: 'd', type: 'duration', max: '30d', description: '' }), /flag --d: invalid duration range 1ms to 30d/);
  assert.throws(bad({ name: 'd', type: 'duration', max: '600h', description: '' }), /flag --d: invalid duration range 1ms to 600h/);
  assert.throws(bad({ name: 'd', type: 'duration', min: '2m', max: '1m', description: '' }), /flag --d: invalid duration range 2m to 1m/);
});

test('formatDuration rounds once, so no unit ever shows 60, at any size', () => {
  const cases: Array<[number, string]> = [
    [0, '0ms'], [250, '250ms'], [999.4, '999ms'], [999.6, '1.0s'], [1000, '1.0s'], [7_500, '7.5s'],
    [59_940, '59.9s'], [59_960, '1m0s'], [60_000, '1m0s'], [90_000, '1m30s'], [119_600, '2m0s'],
    [599_990, '10m0s'], [660_000, '11m0s'], [3_599_600, '1h0m0s'], [3_600_000, '1h0m0s'],
    [35_999_990, '10h0m0s'], [7_500_000, '2h5m0s'], [86_400_000, '24h0m0s'], [-1500, '-1.5s'],
  ];
  for (const [ms, text] of cases) assert.is(formatDuration(ms), text, `${ms} ms`);
  for (let ms = 0; ms < 4 * 3_600_000; ms += 997.3) {
    const text = formatDuration(ms);
    assert.not.match(text, /(^|[^\d])60(\.\d)?[ms]/, `${ms} ms → ${text}`);
  }
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
  assert.equal(describeFlags(spec).flags.map((f) => f.name), ['env', 'dry-run', 'yes', 'json', 'verbose', 'help', 'tag', 'to', 'timeout', 'wait', 'restart', 'only', 'scenario']);
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
