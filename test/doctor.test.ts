// doctor.mts against the fakes: each failing check prints its fix; exit codes as documented.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChildProcess } from 'node:child_process';
import { FakeWorld } from './support/harness.ts';
import type { Scenario } from './support/harness.ts';
import { PROD, rx } from './support/names.ts';

const account = {
  environmentName: 'AzureCloud', homeTenantId: 't-1', id: '11111111-2222-3333-4444-555555555555', isDefault: true, managedByTenants: [],
  name: 'Hackathon Prod', state: 'Enabled', tenantDefaultDomain: 'contoso.onmicrosoft.com', tenantDisplayName: 'Contoso', tenantId: 't-1',
  user: { name: 'dev@contoso.com', type: 'user' },
};

function prodWorld(extra: Partial<Scenario> = {}): FakeWorld {
  return new FakeWorld({ kube: { context: PROD.context }, az: { account }, ...extra });
}

test('production: every check passes, exit 0, one line per check', async () => {
  const r = await prodWorld().run('doctor', ['--env', 'production']);
  assert.is(r.code, 0, r.output);
  for (const name of ['az 2.61.0', 'helm 3.17.0', 'kubectl 1.30.0', 'kubelogin', 'az logged in', 'provider Microsoft.ContainerService registered', 'vCPU quota for 5 × Standard_D2s_v3 in eastus', `kube context is ${PROD.context}`]) {
    assert.match(r.stdout, new RegExp(`ok +${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  }
  assert.match(r.stdout, /warn +k6 1\.0\.0 or newer: k6 is not installed|ok +k6/);
  assert.match(r.stdout.trim().split('\n').pop()!, /^doctor: all \d+ required checks passed for production/);
  assert.is(r.calls.filter((c) => c.tool === 'az' && ['create', 'set', 'register'].some((v) => c.args.includes(v))).length, 0, 'read-only');
});

test('not logged in: exit 3 with az login as the fix, providers not queried', async () => {
  const r = await prodWorld({ az: {} }).run('doctor', ['--env', 'production']);
  assert.is(r.code, 3);
  assert.match(r.stdout, /FAILED az logged in: az is not logged in\n +fix: az login/);
  assert.is(r.calls.filter((c) => c.args.includes('provider')).length, 0);
  assert.match(r.stdout, /doctor: 1 of \d+ checks failed for production \(az logged in\)/);
});

test('wrong subscription: names both and the az account set fix', async () => {
  const r = await prodWorld().run('doctor', ['--env', 'production'], { env: { AZURE_SUBSCRIPTION_ID: 'Other Sub' } });
  assert.is(r.code, 3);
  assert.match(r.stdout, /az is on "Hackathon Prod".*expects "Other Sub"/);
  assert.match(r.stdout, /fix: az account set --subscription "Other Sub"/);
});

test('unregistered provider and too little quota: both fixes shown', async () => {
  const r = await prodWorld({
    az: {
      account,
      providers: { 'Microsoft.ContainerService': 'NotRegistered' },
      usage: [{ currentValue: '6', limit: '10', localName: 'Standard DSv3 Family vCPUs', unit: 'Count', name: { localizedValue: 'Standard DSv3 Family vCPUs', value: 'standardDSv3Family' } }],
    },
  }).run('doctor', ['--env', 'production']);
  assert.is(r.code, 3);
  assert.match(r.stdout, /FAILED provider Microsoft\.ContainerService registered: NotRegistered\n +fix: az provider register --namespace Microsoft\.ContainerService --wait/);
  assert.match(r.stdout, /FAILED vCPU quota .*standardDSv3Family: 4 of 10 vCPUs free, 10 needed/);
});

test('an unexpected answer ({} from az vm list-usage) is a clean preflight failure: exit 3, no stack trace', async () => {
  const r = await prodWorld({ az: { account, usage: {} as unknown as unknown[] } }).run('doctor', ['--env', 'production']);
  assert.is(r.code, 3, r.output);
  assert.match(r.stderr, /^error: unexpected answer from az vm list-usage: expected an array at the top level, got an object$/m);
  assert.match(r.stderr, /^hint: check the az version with npx zx scripts\/doctor\.mts/m);
  assert.not.match(r.output, /TypeError|is not a function|bug in aks-todo-ops|\n +at /);
  // --verbose adds the stack, for a report.
  const v = await prodWorld({ az: { account, usage: {} as unknown as unknown[] } }).run('doctor', ['--env', 'production', '--verbose']);
  assert.is(v.code, 3);
  assert.match(v.stderr, /OpsError: unexpected answer from az vm list-usage[^\n]*\n +at /);
});

test('wrong kube context: exit 3 with get-credentials as the fix', async () => {
  const r = await prodWorld({ kube: { context: 'minikube' } }).run('doctor', ['--env', 'production']);
  assert.is(r.code, 3);
  assert.match(r.stdout, new RegExp(`FAILED kube context is ${rx(PROD.context)}: current context is "minikube"\\n +fix: az aks get-credentials --resource-group ${rx(PROD.resourceGroup)} --name ${rx(PROD.cluster)}`));
});

test('an unreadable kubeconfig is reported as such, not as "no context set"', async () => {
  const r = await prodWorld().on('kubectl', ['config', 'current-context'], { stderr: 'error: open /home/u/.kube/config: permission denied', exit: 1 }).run('doctor', ['--env', 'production']);
  assert.is(r.code, 3);
  assert.match(r.stdout, new RegExp(`FAILED kube context is ${rx(PROD.context)}: kubectl config current-context failed: error: open /home/u/\\.kube/config: permission denied`));
});

test('missing kubelogin (local accounts disabled) and an old helm are required failures', async () => {
  const r = await prodWorld({ helm: { version: 'v3.14.4' } }).run('doctor', ['--env', 'production'], { missing: ['kubelogin'] });
  assert.is(r.code, 3);
  assert.match(r.stdout, /FAILED helm 3\.17\.0 or newer: helm 3\.14\.4 is too old/);
  assert.match(r.stdout, /FAILED kubelogin .*not installed.*\n +fix: az aks install-cli/);
});

test('local environment: no Azure calls at all; k6 missing is only a warning', async () => {
  // az stays on PATH (the fake records every call): a missing az could not record the calls this test forbids.
  const r = await new FakeWorld({ kube: { context: 'minikube' } }).run('doctor', ['--env', 'local'], { missing: ['k6'] });
  assert.is(r.code, 0, r.output);
  assert.ok(r.calls.some((c) => c.tool === 'kubectl'), 'the fakes record calls in this run');
  assert.equal(r.calls.filter((c) => c.tool === 'az').map((c) => c.args.join(' ')), []);
  assert.match(r.stdout, /warn +k6 1\.0\.0 or newer: k6 is not installed/);
});

test('kubectl missing: the context check is skipped, not crashed, and the run fails with exit 3', async () => {
  const r = await new FakeWorld({ kube: { context: 'minikube' } }).run('doctor', ['--env', 'local'], { missing: ['kubectl'] });
  assert.is(r.code, 3);
  assert.match(r.stdout, /FAILED kubectl .*not installed/);
  assert.match(r.stdout, /kube context: skipped/);
});

test('--json: one JSON document on stdout with every check', async () => {
  const r = await prodWorld().run('doctor', ['--env', 'production', '--json']);
  assert.is(r.code, 0, r.output);
  const doc = JSON.parse(r.stdout) as { ok: boolean; checks: Array<{ name: string; ok: boolean }>; exitCode: number };
  assert.ok(doc.ok);
  assert.is(doc.exitCode, 0);
  assert.ok(doc.checks.length >= 10);
  for (const l of r.stderr.trim().split('\n').filter(Boolean)) JSON.parse(l);
});

test('flags: unknown flag exits 2 with the help hint; --help lists every flag; --help --json lists them as data', async () => {
  const w = new FakeWorld();
  const bad = await w.run('doctor', ['--dryrun']);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /error: unknown flag --dryrun \(did you mean --dry-run\?\)/);
  const help = await w.run('doctor', ['--help']);
  assert.is(help.code, 0);
  for (const f of ['--env NAME', '--dry-run', '--yes', '--json', '--verbose', '--help', '--skip-azure']) assert.ok(help.stdout.includes(f), f);
  const data = await w.run('doctor', ['--help', '--json']);
  const doc = JSON.parse(data.stdout) as { script: string; flags: Array<{ name: string }> };
  assert.is(doc.script, 'doctor');
  assert.ok(doc.flags.some((f) => f.name === 'skip-cluster'));
  assert.is(w.calls.length, 0);
});

test('GITHUB_STEP_SUMMARY gets a markdown summary of the steps and the outcome', async () => {
  const { mkdtempSync, readFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const file = join(mkdtempSync(join(tmpdir(), 'summary-')), 'summary.md');
  const r = await prodWorld({ kube: { context: 'minikube' } }).run('doctor', ['--env', 'production'], { env: { GITHUB_STEP_SUMMARY: file } });
  assert.is(r.code, 3);
  const md = readFileSync(file, 'utf8');
  assert.match(md, new RegExp(`^### ❌ doctor: 1 of \\d+ checks failed for production \\(kube context is ${rx(PROD.context)}\\)`, 'm'));
  assert.match(md, /\| ✅ \| tools \| \d/);
  assert.match(md, /\| ✅ \| azure account \|/);
});

test('runs as the README says: npx zx scripts/doctor.mts (Node loads tsx through .npmrc)', async () => {
  const w = new FakeWorld({ kube: { context: 'minikube' } });
  const help = await w.run('doctor', ['--help'], { viaNpxZx: true });
  assert.is(help.code, 0, help.output);
  assert.match(help.stdout, /Usage: npx zx scripts\/doctor\.mts/);
  const r = await w.run('doctor', ['--env', 'local'], { viaNpxZx: true });
  assert.is(r.code, 0, r.output);
  assert.match(r.stdout, /ok +kube context is minikube/);
});

test('SIGTERM during a slow call stops it and exits 130 saying what was running', async () => {
  const w = prodWorld().on('az', ['account', 'show'], { json: account, delayMs: 3_600_000 });
  let child: ChildProcess | undefined;
  const p = w.run('doctor', ['--env', 'production'], { killAfterMs: 20_000, onSpawn: (c) => { child = c; } });
  // Wait until the slow call is recorded, then interrupt the script.
  const started = Date.now();
  while (!w.calls.some((c) => c.args.includes('account')) && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 50));
  assert.ok(w.calls.some((c) => c.args.includes('account')), 'the slow call started before the signal');
  // Measured from the signal, not from spawn: Node and tsx start-up on a busy machine is not the script's doing.
  const signalled = Date.now();
  child!.kill('SIGTERM');
  const r = await p;
  assert.is(r.code, 130, r.output);
  assert.match(r.stderr, /error: interrupted by SIGTERM while: azure account/);
  // The slow call lasts an hour of real time and the harness SIGKILLs at 20 s; a prompt exit is far below both.
  assert.ok(Date.now() - signalled < 10_000, `exited ${Date.now() - signalled} ms after SIGTERM: it waited for the slow call`);
});

test.run();
