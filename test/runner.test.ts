// The CLI runner and the logger: dry-run, redaction, stdin-only secrets, retries and timeouts,
// exercised against the fake CLIs from this process.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import { checkCliAnswer, commandName, parseCliJson } from '../scripts/lib/cli-json.ts';
import { createClock } from '../scripts/lib/clock.ts';
import { ExitCode, OpsError } from '../scripts/lib/errors.ts';
import { Logger } from '../scripts/lib/log.ts';
import { Redactor } from '../scripts/lib/redact.ts';
import { Runner, UNKNOWN, classifyMutating, isTransient, retryAfterSeconds } from '../scripts/lib/runner.ts';
import { FakeWorld } from './support/harness.ts';

const SECRET = 'canary-Zq8xT3-very-secret-value';

function setup(world: FakeWorld, opts: { dryRun?: boolean; json?: boolean; timeoutMs?: number } = {}) {
  const restore = world.activate();
  const redactor = new Redactor();
  redactor.register(SECRET);
  const clock = createClock(0.001);
  const lines: string[] = [];
  const log = new Logger({ script: 'test', json: opts.json ?? false, verbose: true, redactor, clock, interactive: false, out: (t) => lines.push(t), err: (t) => lines.push(t) });
  const runner = new Runner({ dryRun: opts.dryRun ?? false, redactor, logger: log, clock, defaultTimeoutMs: opts.timeoutMs ?? 60_000 });
  return { runner, lines, restore, log, redactor };
}

// Every command line the scripts run, as each call site builds it, with what it must classify as:
// the read-only allow-list must keep each read a read and each change a change.
const CALL_SITES: Array<[boolean, string, string[]]> = [
  // preflight.ts: tool versions, login, providers, quota, kube context
  [false, 'az', ['version', '-o', 'json']],
  [false, 'helm', ['version', '--template', '{{.Version}}']],
  [false, 'kubectl', ['version', '--client', '-o', 'json']],
  [false, 'kubelogin', ['--version']],
  [false, 'k6', ['version']],
  [false, 'az', ['account', 'show', '-o', 'json']],
  [false, 'az', ['provider', 'show', '-n', 'Microsoft.ContainerService', '--query', 'registrationState', '-o', 'tsv']],
  [false, 'az', ['vm', 'list-usage', '-l', 'eastus', '-o', 'json']],
  [false, 'kubectl', ['config', 'current-context']],
  // azure.ts and setup.mts
  [false, 'az', ['deployment', 'sub', 'what-if', '--name', 'd', '--location', 'eastus', '--template-file', 'bicep/main.bicep', '--no-pretty-print', '-o', 'json']],
  [false, 'az', ['deployment', 'sub', 'show', '--name', 'd', '-o', 'json']],
  [false, 'az', ['deployment', 'operation', 'sub', 'list', '--name', 'd', '-o', 'json']],
  [false, 'az', ['deployment', 'operation', 'group', 'list', '--resource-group', 'rg', '--name', 'd', '-o', 'json']],
  [false, 'az', ['keyvault', 'list-deleted', '-o', 'json']],
  [true, 'az', ['deployment', 'sub', 'create', '--name', 'd', '--location', 'eastus', '-o', 'json']],
  [true, 'az', ['aks', 'get-credentials', '--resource-group', 'rg', '--name', 'c', '--overwrite-existing']],
  [true, 'kubelogin', ['convert-kubeconfig', '-l', 'azurecli']],
  // images.ts, flows/deploy.ts, flows/rollback.ts, helm.ts, rollout.ts, secrets.ts
  [false, 'git', ['rev-parse', 'HEAD']],
  [false, 'az', ['acr', 'repository', 'show-tags', '-n', 'acr', '--repository', 'todo-backend', '-o', 'json']],
  [false, 'kubectl', ['get', 'namespace', 'todo', '-o', 'name']],
  [false, 'kubectl', ['get', 'crd', 'components.dapr.io', '-o', 'name']],
  [false, 'kubectl', ['get', 'pods', '-n', 'dapr-system', '-l', 'app=dapr-sidecar-injector', '-o', 'json']],
  [false, 'kubectl', ['get', 'deployments', '-l', 'app.kubernetes.io/instance=r', '-n', 'todo', '-o', 'json']],
  [false, 'kubectl', ['get', 'secret', 'db', '-n', 'todo', '--ignore-not-found', '-o', 'go-template={{range $k, $v := .data}}{{$k}}{{"\\n"}}{{end}}']],
  [false, 'kubectl', ['get', 'hpa', '-l', 'app.kubernetes.io/instance=r', '-n', 'todo', '-o', 'json', '--request-timeout=10s']],
  [false, 'kubectl', ['logs', 'p', '-c', 'backend', '-n', 'todo', '--tail=20', '--previous']],
  [false, 'kubectl', ['rollout', 'status', 'deployment/todo-backend', '-n', 'todo', '--timeout=300s']],
  [false, 'helm', ['history', 'hackathon-todo', '-n', 'todo', '--max', '50', '-o', 'json']],
  [false, 'helm', ['status', 'hackathon-todo', '-n', 'todo', '-o', 'json']],
  [false, 'helm', ['template', 'hackathon-todo', 'helm', '-n', 'todo']],
  [true, 'kubectl', ['create', 'namespace', 'todo']],
  [true, 'kubectl', ['apply', '-n', 'todo', '-f', '-']],
  [true, 'kubectl', ['rollout', 'restart', 'deployment/todo-backend', '-n', 'todo']],
  [true, 'helm', ['upgrade', '--install', 'hackathon-todo', 'helm', '-n', 'todo']],
  [true, 'helm', ['rollback', 'hackathon-todo', '3', '-n', 'todo', '--timeout', '300s']],
  [true, 'helm', ['uninstall', 'hackathon-todo', '-n', 'todo']],
  // dapr.ts and install-dapr.mts
  [false, 'helm', ['show', 'crds', 'dapr/dapr', '--version', '1.14.4']],
  [false, 'kubectl', ['get', 'crd', 'components.dapr.io', 'configurations.dapr.io', '-o', 'name']],
  [false, 'kubectl', ['get', 'components.dapr.io', '-n', 'todo', '-o', 'json']],
  [true, 'kubectl', ['apply', '--server-side', '--force-conflicts', '-f', '-']],
  [true, 'helm', ['repo', 'add', 'dapr', 'https://dapr.github.io/helm-charts/', '--force-update']],
  [true, 'helm', ['repo', 'update', 'dapr']],
  [true, 'helm', ['upgrade', '--install', 'dapr', 'dapr/dapr', '--version', '1.14.4', '-n', 'dapr-system']],
  // load.mts: both callers declare it (the dry-run plans it as a change; the real run samples while it runs)
  [true, 'k6', ['run', 'load/hpa.ts']],
];

test('classifies every call the scripts make as before: reads are reads, changes are changes', () => {
  for (const [mutating, cmd, args] of CALL_SITES) {
    assert.is(classifyMutating(cmd, args), mutating, `${cmd} ${args.join(' ')}`);
  }
});

test('fail-closed: a verb, flag order or CLI not on the read-only list counts as a change', () => {
  for (const [cmd, args] of [
    ['az', ['aks', 'nodepool', 'add', '-g', 'rg', '--cluster-name', 'c', '-n', 'np2']],
    ['az', ['aks', 'get-credentials', '-g', 'rg', '-n', 'c']],
    ['az', ['role', 'assignment', 'create', '--role', 'Reader']],
    ['az', ['group', 'delete', '-n', 'show']],
    ['kubectl', ['frobnicate', 'pods']],
    ['kubectl', ['exec', 'p', '--', 'rm', '-rf', '/data']],
    ['kubectl', ['-n', 'todo', 'get', 'pods']],
    ['kubectl', ['config', 'use-context', 'prod']],
    ['kubectl', ['rollout', 'undo', 'deployment/x']],
    ['helm', ['dependency', 'update', 'helm']],
    ['helm', ['plugin', 'install', 'x']],
    ['kubectl', []],
    ['terraform', ['show']],
  ] as Array<[string, string[]]>) {
    assert.ok(classifyMutating(cmd, args), `${cmd} ${args.join(' ')} must count as a change`);
  }
});

test('transient errors are recognised, real errors are not', () => {
  assert.ok(isTransient("ERROR: (TooManyRequests) The request is being throttled. Please try again after '23' seconds."));
  assert.ok(isTransient('Unable to connect to the server: net/http: TLS handshake timeout'));
  assert.ok(isTransient('The connection to the server 10.0.0.1:443 was refused - did you specify the right host or port?'));
  assert.not.ok(isTransient('Error from server (NotFound): secrets "db" not found'));
  assert.not.ok(isTransient('Error: UPGRADE FAILED: context deadline exceeded'));
  assert.is(retryAfterSeconds("Please try again after '23' seconds."), 23);
});

test('dry-run: mutating calls are printed and never reach the fake; read-only calls do', async () => {
  const world = new FakeWorld({ kube: { context: 'minikube' } });
  const { runner, lines, restore } = setup(world, { dryRun: true });
  try {
    const ro = await runner.run('kubectl', ['config', 'current-context']);
    assert.is(ro.stdout.trim(), 'minikube');
    const mut = await runner.run('kubectl', ['apply', '-f', '-'], { stdin: 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n' });
    assert.ok(mut.dryRun);
    const h = await runner.run('helm', ['upgrade', '--install', 'hackathon-todo', 'helm']);
    assert.ok(h.dryRun);
  } finally { restore(); }
  assert.equal(world.calls.map((c) => c.args.join(' ')), ['config current-context']);
  const text = lines.join('');
  assert.match(text, /\[dry-run\] would run: kubectl apply -f - < \(stdin\)/);
  assert.match(text, /\[dry-run\] would run: helm upgrade --install hackathon-todo helm/);
});

test('afterChange: a real run reads; a dry-run plans the reads of a change it did not make (printed only when shown) and answers UNKNOWN', async () => {
  const world = new FakeWorld({ kube: { context: 'minikube' } });
  const real = setup(world);
  try {
    const r = await real.runner.afterChange(() => real.runner.run('kubectl', ['config', 'current-context']));
    assert.ok(r !== UNKNOWN && r.stdout.trim() === 'minikube', 'a real run reads');
  } finally { real.restore(); }
  const before = world.calls.length;
  const dry = setup(world, { dryRun: true });
  try {
    await dry.runner.run('helm', ['repo', 'add', 'dapr', 'https://dapr.github.io/helm-charts/']);
    const crds = await dry.runner.afterChange(() => dry.runner.run('helm', ['show', 'crds', 'dapr/dapr'], { mutating: false, note: 'the CRDs' }), { show: true });
    const pods = await dry.runner.afterChange(() => dry.runner.run('kubectl', ['get', 'pods', '-n', 'dapr-system', '-o', 'json'], { mutating: false }));
    assert.is(crds, UNKNOWN);
    assert.is(pods, UNKNOWN);
    // Outside afterChange a dry-run's read runs again.
    assert.is((await dry.runner.run('kubectl', ['config', 'current-context'])).stdout.trim(), 'minikube');
    assert.equal(dry.runner.plan.map((c) => [c.command, c.mutating]), [
      ['helm repo add dapr https://dapr.github.io/helm-charts/', true],
      ['helm show crds dapr/dapr', false],
      ['kubectl get pods -n dapr-system -o json', false],
    ]);
  } finally { dry.restore(); }
  assert.equal(world.calls.slice(before).map((c) => c.args.join(' ')), ['config current-context'], 'the dry-run ran only the read outside afterChange');
  const text = dry.lines.join('');
  assert.match(text, /\[dry-run\] would run: helm show crds dapr\/dapr {3}# the CRDs/);
  assert.not.match(text, /would run: kubectl get pods/);
});

test('dry-run is fail-closed: a verb nobody declared read-only is printed as a change, never run', async () => {
  const world = new FakeWorld({ kube: { context: 'minikube' } });
  const { runner, lines, restore } = setup(world, { dryRun: true, json: true });
  try {
    assert.ok((await runner.run('az', ['aks', 'nodepool', 'add', '-g', 'rg', '--cluster-name', 'c', '-n', 'np2'])).dryRun);
    assert.ok((await runner.run('kubectl', ['frobnicate', 'deployment/todo-backend'])).dryRun);
    // A caller may declare a call read-only; then --dry-run runs it.
    assert.not.ok((await runner.run('kubectl', ['config', 'current-context'], { mutating: false })).dryRun);
    assert.not.ok((await runner.run('kubectl', ['config', 'current-context'])).dryRun);
  } finally { restore(); }
  assert.equal(world.calls.map((c) => [c.tool, ...c.args].join(' ')), ['kubectl config current-context', 'kubectl config current-context']);
  const plans = lines.join('').trim().split('\n').map((l) => JSON.parse(l) as { event: string; command?: string }).filter((e) => e.event === 'plan');
  assert.equal(plans.map((p) => p.command), ['az aks nodepool add -g rg --cluster-name c -n np2', 'kubectl frobnicate deployment/todo-backend']);
  assert.equal(runner.history.map((h) => [h.command.split(' ').slice(0, 3).join(' '), h.mutating, h.dryRun]), [
    ['az aks nodepool', true, true],
    ['kubectl frobnicate deployment/todo-backend', true, true],
    ['kubectl config current-context', false, false],
    ['kubectl config current-context', false, false],
  ]);
});

test('a secret on a command line is refused before anything runs', async () => {
  const world = new FakeWorld();
  const { runner, restore } = setup(world);
  try {
    await runner.run('kubectl', ['create', 'secret', 'generic', 'x', `--from-literal=k=${SECRET}`]);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, OpsError);
    assert.match((e as Error).message, /refusing to put a secret on the command line/);
    assert.not.match((e as Error).message, /canary/);
  } finally { restore(); }
  assert.is(world.calls.length, 0);
});

test('an identifier is masked in output but may appear on a command line; a secret may not', async () => {
  const world = new FakeWorld().on('kubectl', ['rollout', 'restart'], { stdout: 'deployment.apps/todo-backend restarted\n' });
  const { runner, restore, redactor } = setup(world);
  redactor.register('backend', { identifier: true });
  let refused = '';
  try {
    const r = await runner.run('kubectl', ['rollout', 'restart', 'deployment/todo-backend']);
    assert.is(r.exitCode, 0);
    assert.is(redactor.redact(r.stdout), 'deployment.apps/todo-*** restarted\n');
    redactor.register('todo-backend');
    await runner.run('kubectl', ['rollout', 'restart', 'deployment/todo-backend']).catch((e: Error) => { refused = e.message; });
  } finally { restore(); }
  assert.match(refused, /refusing to put a secret on the command line/);
  assert.is(world.calls.length, 1);
});

test('secrets travel on stdin, and a CLI that echoes them back in an error is redacted', async () => {
  const world = new FakeWorld().on('kubectl', ['apply'], { stderr: `Error from server (Invalid): Secret "db" is invalid: data[connection-string]: ${SECRET} and ${Buffer.from(SECRET).toString('base64')}`, exit: 1 });
  const { runner, lines, restore } = setup(world, { json: true });
  let message = '';
  try {
    await runner.run('kubectl', ['apply', '-f', '-'], { stdin: `stringData: {v: ${SECRET}}` });
  } catch (e) {
    message = (e as Error).message;
  } finally { restore(); }
  assert.match(message, /Secret "db" is invalid/);
  assert.not.ok(message.includes(SECRET), 'error message is redacted');
  assert.not.ok(message.includes(Buffer.from(SECRET).toString('base64')), 'base64 form is redacted');
  assert.match(message, /\*\*\*/);
  const logged = lines.join('');
  assert.not.ok(logged.includes(SECRET), 'verbose JSON log lines are redacted');
  const [call] = world.calls;
  assert.ok(call!.stdin.includes(SECRET), 'the secret reached the CLI on stdin');
  assert.not.ok(call!.args.join(' ').includes(SECRET));
});

test('retry: a 429 then success makes two calls, honouring Retry-After', async () => {
  const world = new FakeWorld()
    .on('az', ['account', 'show'], { stderr: "ERROR: (TooManyRequests) The request is being throttled. Please try again after '7' seconds.\nCode: TooManyRequests\nMessage: throttled", exit: 1 }, { times: 1 })
    .on('az', ['account', 'show'], { json: { id: 'sub', name: 'Sub' } });
  const { runner, lines, restore } = setup(world);
  try {
    const r = await runner.json(z.looseObject({ id: z.string() }), 'az', ['account', 'show', '-o', 'json']);
    assert.is(r.id, 'sub');
  } finally { restore(); }
  const calls = world.calls;
  assert.is(calls.length, 2);
  // Retry-After of 7 s, in simulated time (0.001 scale); allow scheduling slack.
  const gap = calls[1]!.t - calls[0]!.t;
  assert.ok(gap >= 6000, `waited ${gap} simulated ms`);
  assert.match(lines.join(''), /retrying in 7\.0s \(attempt 2 of 4\)/);
});

test('retry: a non-transient error makes one call', async () => {
  const world = new FakeWorld().on('kubectl', ['get', 'secret'], { stderr: 'Error from server (Forbidden): secrets "x" is forbidden', exit: 1 });
  const { runner, restore } = setup(world);
  try {
    await runner.run('kubectl', ['get', 'secret', 'x']);
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /Forbidden/);
  } finally { restore(); }
  assert.is(world.calls.length, 1);
});

test('retry: gives up after the attempts with a hint', async () => {
  const world = new FakeWorld().on('kubectl', ['get', 'pods'], { stderr: 'Unable to connect to the server: net/http: TLS handshake timeout', exit: 1 });
  const { runner, restore } = setup(world);
  try {
    await runner.run('kubectl', ['get', 'pods'], { attempts: 3 });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, OpsError);
    assert.match((e as Error).message, /gave up after 3 attempts/);
    assert.match((e as OpsError).hint ?? '', /transient/);
  } finally { restore(); }
  assert.is(world.calls.length, 3);
});

test('timeout: a call slower than its timeout is killed and reported', async () => {
  // The fake takes ten hours of simulated time (36 real s); the timeout is 10 simulated seconds,
  // to which a scaled clock adds five real seconds for process start-up.
  const world = new FakeWorld().on('helm', ['history'], { stdout: '[]', delayMs: 36_000_000 });
  const { runner, restore } = setup(world);
  const started = Date.now();
  try {
    await runner.run('helm', ['history', 'hackathon-todo', '-o', 'json'], { timeoutMs: 10_000 });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, OpsError);
    assert.match((e as Error).message, /did not finish within 10\.0s and was stopped/);
  } finally { restore(); }
  assert.ok(Date.now() - started < 15_000, `killed after ${Date.now() - started} ms, before the fake finished`);
});

/** The OpsError fn throws; fails the test when it throws nothing or something else (a TypeError). */
function opsError(fn: () => unknown): OpsError {
  try {
    fn();
  } catch (e) {
    assert.instance(e, OpsError, `not an OpsError: ${String(e)}`);
    return e as OpsError;
  }
  throw new Error('no OpsError thrown');
}

const Usage = z.array(z.looseObject({ currentValue: z.union([z.string(), z.number()]), name: z.looseObject({ value: z.string() }) }));
const usageAnswer = (stdout: string) => ({ command: 'az vm list-usage -l eastus -o json', stdout });

test('parseCliJson: a matching answer comes back typed, with the fields the schema does not name kept', () => {
  const real = '[{"currentValue": "0", "limit": "10", "localName": "Standard DSv3 Family vCPUs", "unit": "Count", "name": {"localizedValue": "x", "value": "standardDSv3Family"}}]';
  const [u] = parseCliJson(usageAnswer(real), Usage);
  assert.is(u!.name.value, 'standardDSv3Family');
  assert.is((u as Record<string, unknown>).unit, 'Count', 'loose objects let the CLI\'s other fields through');
  assert.is(commandName('kubectl get pods -n dapr-system -o json'), 'kubectl get pods');
  assert.is(commandName('az version'), 'az version');
});

test('parseCliJson: another shape is an OpsError naming the command, the path and what was found', () => {
  const top = opsError(() => parseCliJson(usageAnswer('{}'), Usage));
  assert.is(top.message, 'unexpected answer from az vm list-usage: expected an array at the top level, got an object');
  assert.is(top.exitCode, ExitCode.failed, 'exit 1 unless the caller is a preflight check');
  assert.match(top.hint ?? '', /check the az version with npx zx scripts\/doctor\.mts/);
  assert.is(opsError(() => parseCliJson(usageAnswer('{}'), Usage, { exitCode: ExitCode.preflight })).exitCode, 3);
  assert.is(opsError(() => parseCliJson(usageAnswer('[{"currentValue": "1", "name": {"value": 7}}]'), Usage)).message,
    'unexpected answer from az vm list-usage: expected a string at [0].name.value, got a number');
  assert.is(opsError(() => parseCliJson(usageAnswer('[{"currentValue": true, "name": {"value": "cores"}}]'), Usage)).message,
    'unexpected answer from az vm list-usage: expected a string or a number at [0].currentValue, got a boolean');
  assert.is(opsError(() => parseCliJson(usageAnswer('[{"currentValue": 1}]'), Usage)).message,
    'unexpected answer from az vm list-usage: expected an object at [0].name, got nothing');
  assert.is(opsError(() => checkCliAnswer('az version', {}, z.looseObject({ 'azure-cli': z.string() }))).message,
    'unexpected answer from az version: expected a string at ["azure-cli"], got nothing');
  assert.is(opsError(() => checkCliAnswer('helm status', { s: 'exploded' }, z.object({ s: z.enum(['deployed', 'failed']) }))).message,
    'unexpected answer from helm status: expected one of "deployed", "failed" at s');
});

test('parseCliJson: output that is not JSON is quoted (redacted), unless it may hold secrets', () => {
  const e = opsError(() => parseCliJson(usageAnswer(`\nERROR: nope ${SECRET}\nmore`), Usage, { redact: (t) => t.replaceAll(SECRET, '***') }));
  assert.is(e.message, 'az vm list-usage did not print JSON: ERROR: nope ***');
  assert.is(opsError(() => parseCliJson(usageAnswer(''), Usage)).message, 'az vm list-usage did not print JSON: (empty output)');
  const secret = opsError(() => parseCliJson({ command: 'kubectl get secret db -o json', stdout: `password: ${SECRET}` }, z.looseObject({}), { outputHoldsSecrets: true }));
  assert.not.ok(secret.message.includes(SECRET));
  assert.match(secret.message, /^kubectl get secret db did not print JSON: \(output not shown/);
  // A value that does not match is described by its type only, never quoted.
  const shape = opsError(() => parseCliJson({ command: 'kubectl get secret db -o json', stdout: JSON.stringify({ data: { k: 42, s: SECRET } }) }, z.looseObject({ data: z.record(z.string(), z.boolean()) })));
  assert.not.ok(shape.message.includes(SECRET));
});

test('runner.json: the fake answering {} where a list belongs is an OpsError with the caller\'s exit code, not a TypeError', async () => {
  const world = new FakeWorld({ az: { usage: {} as unknown as unknown[] } });
  const { runner, restore } = setup(world);
  let err: unknown;
  try {
    await runner.json(Usage, 'az', ['vm', 'list-usage', '-l', 'eastus', '-o', 'json'], { mutating: false, unexpected: { exitCode: ExitCode.preflight } });
  } catch (e) {
    err = e;
  } finally { restore(); }
  assert.instance(err, OpsError);
  assert.is((err as OpsError).message, 'unexpected answer from az vm list-usage: expected an array at the top level, got an object');
  assert.is((err as OpsError).exitCode, ExitCode.preflight);
});

test('logger: --json progress is JSON lines, redacted', async () => {
  const world = new FakeWorld();
  const { log, lines, restore } = setup(world, { json: true });
  restore();
  await log.step(`apply ${SECRET}`, async () => undefined);
  log.info(`value is ${SECRET}`);
  const docs = lines.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  // The events are there, with the secret masked rather than the lines dropped.
  assert.equal(docs.map((d) => [d.event, d.step ?? d.message]), [
    ['step-start', 'apply ***'],
    ['step-end', 'apply ***'],
    ['info', 'value is ***'],
  ]);
  assert.is(docs[1]!.status, 'ok');
  assert.not.ok(lines.join('').includes(SECRET));
});

test.run();
