// The checks around the rehearsal: a broken chart value fails it naming the step and the scheduler's
// reason (on a control plane of its own, started and stopped as a user's run does), Ctrl-C and SIGTERM
// during start-up, --context on an existing cluster (the test cluster, with the user's tags), the
// Kubernetes version guard, missing Go, the dummy secrets, bad flags.
// The full rehearsals are rehearsal-helm3.test.ts and rehearsal-helm4.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { assertSameMinor, checkGo, readAksMinor, readVersions, requiredGo } from '../scripts/lib/rehearsal/toolchain.ts';
import { dummySecretValues } from '../scripts/lib/rehearsal/scenarios.ts';
import { OpsError } from '../scripts/lib/errors.ts';
import { processesIn, testCluster } from './support/cluster.ts';
import type { TestCluster } from './support/cluster.ts';
import { rehearse, rehearseOn, STEPS, table } from './support/rehearsal.ts';
import { helmPath, kubectlPath, repoRoot } from './support/tools.ts';
import { typeScriptArgs } from '../scripts/lib/typescript-runtime.ts';

let cluster: TestCluster;
test.before(async () => { cluster = await testCluster(); });
test.after(async () => { await cluster.stop(); });

/** The rehearsal cluster folders in the temp folder. */
const clusterFolders = () => readdirSync(tmpdir()).filter((d) => d.startsWith('aks-todo-ops-rehearsal-')).map((d) => join(tmpdir(), d));

test('a broken chart value (requests no node can hold) fails the rehearsal at the first deploy, naming the step and the cause; its own cluster is stopped and removed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rehearsal-values-'));
  const values = join(dir, 'too-big.yaml');
  // A Standard_D2s_v3 node has 1900m allocatable: the real scheduler leaves these pods Pending.
  writeFileSync(values, 'backend:\n  resources:\n    requests:\n      cpu: "4"\n    limits:\n      cpu: "4"\n');
  // No --context: the documented run, which starts a control plane of its own and stops it at the end.
  const before = new Set(clusterFolders());
  const r = await rehearse(['--env', 'production', '--values', values], 4);
  const own = /cluster folder (\S+)/.exec(r.stdout + r.stderr)?.[1] ?? '';
  assert.ok(own && !before.has(own), r.stdout);
  assert.not.ok(existsSync(own), `${own} is still there`);
  assert.equal(processesIn(own), [], `processes still running for ${own}`);
  assert.is(r.code, 1, table(r));
  const failed = r.report!.steps.filter((s) => !s.ok);
  assert.is(failed.length, 1, table(r));
  assert.match(failed[0]!.step, /^deploy\.mts --tag rehearse-good-1/, table(r));
  // The deploy's own timeout message quotes the real scheduler.
  assert.match(failed[0]!.observed, /is not scheduled \(Unschedulable: 0\/2 nodes are available: 2 Insufficient cpu/, table(r));
  assert.is(r.report!.notRun.length, 12, table(r));
  assert.match(r.stdout + r.stderr, /rehearse: step 3 of 15 failed \(deploy\.mts --tag rehearse-good-1.*\); 12 later steps not run/);
});

test('the control plane is built at the Kubernetes minor production deploys; a mismatch is a usage error naming both files', () => {
  const v = readVersions(repoRoot, 'environments/production.yaml');
  assert.ok(v.kubernetes.startsWith(`v${v.aksMinor}.`), `${v.kubernetes} vs ${v.aksMinor}`);
  const dir = mkdtempSync(join(tmpdir(), 'rehearsal-env-'));
  writeFileSync(join(dir, 'p.yaml'), "azure:\n  kubernetesVersion: '1.99'\n");
  assert.is(readAksMinor(dir, 'p.yaml'), '1.99');
  // Unquoted, YAML reads 1.30 as the number 1.3: refused, with the fix.
  writeFileSync(join(dir, 'unquoted.yaml'), 'azure:\n  kubernetesVersion: 1.30\n');
  const unquoted = (() => { try { readAksMinor(dir, 'unquoted.yaml'); } catch (e) { return e; } return undefined; })();
  assert.instance(unquoted, OpsError);
  assert.match((unquoted as OpsError).message, /unquoted\.yaml: azure\.kubernetesVersion is 1\.3, not a minor version/);
  assert.match((unquoted as OpsError).hint ?? '', /in quotes/);
  const err = (() => { try { assertSameMinor({ kubernetes: v.kubernetes, aksMinor: '1.99' }, 'p.yaml'); } catch (e) { return e; } return undefined; })();
  assert.instance(err, OpsError);
  assert.match((err as OpsError).message, /rehearsal\/controlplane\/go\.mod builds Kubernetes v1\.\d+\.\d+, but p\.yaml deploys 1\.99/);
  assert.match((err as OpsError).hint ?? '', /newest v1\.99\.x.*v0\.99\.x/);
  assert.is((err as OpsError).exitCode, 2);
});

test('no Go on PATH: exit 3 with the install hint, not a stack trace', async () => {
  const err = await checkGo(repoRoot, { PATH: '/nonexistent' }).then(() => undefined, (e: unknown) => e);
  assert.instance(err, OpsError);
  assert.is((err as OpsError).exitCode, 3);
  assert.match((err as OpsError).message, /Go is not installed/);
  // The version the modules' go.mod files ask for (the highest go directive), not a number kept here.
  const need = requiredGo(repoRoot);
  assert.ok(need.version[0] === 1 && need.version[1] >= 25, JSON.stringify(need));
  assert.match((err as OpsError).hint ?? '', new RegExp(`install Go ${need.version.join('\\.')} or newer \\(https://go\\.dev/doc/install`));
});

test('the dummy secrets pass the same format rules as real ones and are random each time', () => {
  const a = dummySecretValues();
  const b = dummySecretValues();
  assert.ok(Object.keys(a).length >= 6);
  for (const k of Object.keys(a)) assert.is.not(a[k], b[k], k);
});

for (const [signal, when, moment] of [
  ['SIGINT', /kube-apiserver v\S+ ready at/, 'once the API server is up (Ctrl-C)'],
  // During the waits for nodes, CRDs and the injector stand-in: those must not block the handler.
  ['SIGTERM', /kube-controller-manager, kube-scheduler and kwok \S+ started/, 'while it waits for the nodes (a CI job cancelled)'],
] as const) test(`${signal} ${moment}: exit 130, every component stopped, the cluster folder removed`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rehearsal-sigint-'));
  const child = spawn(process.execPath, [...typeScriptArgs(), join(repoRoot, 'scripts', 'rehearse.mts'), '--env', 'production', '--yes', '--report', join(dir, 'r.json')], {
    cwd: repoRoot, env: { ...process.env, PATH: [dirname(helmPath(4)), dirname(kubectlPath()), process.env.PATH].join(':'), NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let clusterDir = '';
  const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  await new Promise<void>((ready) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      clusterDir ||= /cluster folder (\S+)/.exec(out)?.[1] ?? '';
      if (when.test(out)) ready();
    });
  });
  child.kill(signal);
  const code = await exited;
  assert.is(code, 130, out);
  assert.ok(clusterDir, out);
  assert.not.ok(existsSync(clusterDir), `${clusterDir} is still there`);
  assert.equal(processesIn(clusterDir), [], `processes still running for ${clusterDir}`);
});

test('--context with --good-tags: the rehearsal on an existing cluster (the test cluster, as a user\'s kind) with the user\'s tags, its kubeconfig untouched; the kwok-only failures skipped', async () => {
  const before = readFileSync(cluster.kubeconfig, 'utf8');
  // The steps that tell this path apart: the user's tags deployed, and the one failure a real kubelet
  // gives on demand (a tag that is not in the registry); the full cycle runs in rehearsal-helm4.test.ts.
  const r = await rehearseOn(cluster, 'context', ['--env', 'production', '--good-tags', 'v1,v2,v3', '--steps', '1,3,4,8'], 4);
  assert.is(r.code, 0, table(r));
  const steps = r.report!.steps;
  assert.is(steps.length, STEPS, table(r));
  const skipped = (why: RegExp) => steps.flatMap((s, i) => (why.test(s.observed) ? [i + 1] : []));
  assert.equal(skipped(/^skipped: needs /), [5, 6, 7, 9, 10, 15], table(r));
  assert.equal(skipped(/^skipped: not in this subset/), [2, 11, 12, 13, 14], table(r));
  assert.match(steps[2]!.observed, /^exit 0; revision 1 deployed, running v1/, table(r));
  assert.match(steps[3]!.observed, /^exit 0; revision 2 deployed, running v2/, table(r));
  assert.match(steps[7]!.observed, /^exit 4; .*ErrImagePull.*running v2/, table(r));
  assert.is(readFileSync(cluster.kubeconfig, 'utf8'), before, 'the user\'s kubeconfig is never written');
});

test('--context without three good tags, or --good-tags without --context: exit 2 before anything runs', async () => {
  const a = await rehearse(['--env', 'production', '--context', 'kind-kind', '--good-tags', 'dev'], 4);
  assert.is(a.code, 2, a.stderr);
  assert.match(a.stderr, /--context needs --good-tags with three different tags/);
  const b = await rehearse(['--env', 'production', '--good-tags', 'a,b,c'], 4);
  assert.is(b.code, 2, b.stderr);
  assert.match(b.stderr, /--good-tags applies to --context only/);
  // No tags on a cluster that is not a rehearsal control plane (here: a context that does not exist).
  const c = await rehearse(['--env', 'production', '--context', 'kind-kind'], 4);
  assert.is(c.code, 2, c.stderr);
  assert.match(c.stderr, /--context needs --good-tags .*a rehearsal control plane left running by --keep needs none/);
});

test('--steps and --namespace are checked before anything starts: exit 2 naming the value', async () => {
  const a = await rehearse(['--env', 'production', '--steps', `3,${STEPS + 1}`], 4);
  assert.is(a.code, 2, a.stderr);
  assert.match(a.stderr, new RegExp(`--steps 3,${STEPS + 1}: "${STEPS + 1}" is not a step number from 1 to ${STEPS}`));
  const b = await rehearse(['--env', 'production', '--namespace', 'Not_A_Name'], 4);
  assert.is(b.code, 2, b.stderr);
  assert.match(b.stderr, /--namespace Not_A_Name is not a namespace name/);
  const plan = await rehearse(['--env', 'production', '--steps', '1,3', '--namespace', 'rehearsal-2', '--dry-run'], 4);
  assert.is(plan.code, 0, plan.stderr);
  assert.match(plan.stdout, /in namespace rehearsal-2;/);
  assert.match(plan.stdout, / 2\. install-dapr\.mts --components-only .*\(skipped: not in --steps\)/);
  assert.not.match(plan.stdout, / 3\. .*skipped/);
});

test.run();
