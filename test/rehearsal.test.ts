// The checks around the rehearsal: a broken chart value fails it naming the step and the scheduler's
// reason (on the real control plane), the Kubernetes version guard, missing Go, the dummy secrets.
// The full rehearsals are rehearsal-helm3.test.ts and rehearsal-helm4.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { assertSameMinor, checkGo, ensureBinaries, readAksMinor, readVersions } from '../scripts/lib/rehearsal/toolchain.ts';
import { startLocalCluster } from '../scripts/lib/rehearsal/cluster.ts';
import { dummySecretValues } from '../scripts/lib/rehearsal/scenarios.ts';
import { OpsError } from '../scripts/lib/errors.ts';
import { rehearse, table } from './support/rehearsal.ts';
import { helmPath, kubectlPath, repoRoot } from './support/tools.ts';

test('a broken chart value (requests no node can hold) fails the rehearsal at the first deploy, naming the step and the cause', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rehearsal-values-'));
  const values = join(dir, 'too-big.yaml');
  // A Standard_D2s_v3 node has 1900m allocatable: the real scheduler leaves these pods Pending.
  writeFileSync(values, 'backend:\n  resources:\n    requests:\n      cpu: "4"\n    limits:\n      cpu: "4"\n');
  const r = await rehearse(['--env', 'production', '--values', values], 4);
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
  const v = readVersions(repoRoot, 'bicep/production.bicepparam');
  assert.ok(v.kubernetes.startsWith(`v${v.aksMinor}.`), `${v.kubernetes} vs ${v.aksMinor}`);
  const dir = mkdtempSync(join(tmpdir(), 'rehearsal-bicep-'));
  writeFileSync(join(dir, 'p.bicepparam'), "using './main.bicep'\nparam kubernetesVersion = '1.99'\n");
  assert.is(readAksMinor(dir, 'p.bicepparam'), '1.99');
  const err = (() => { try { assertSameMinor({ kubernetes: v.kubernetes, aksMinor: '1.99' }, 'p.bicepparam'); } catch (e) { return e; } return undefined; })();
  assert.instance(err, OpsError);
  assert.match((err as OpsError).message, /rehearsal\/controlplane\/go\.mod builds Kubernetes v1\.\d+\.\d+, but p\.bicepparam deploys 1\.99/);
  assert.match((err as OpsError).hint ?? '', /newest v1\.99\.x.*v0\.99\.x/);
  assert.is((err as OpsError).exitCode, 2);
});

test('no Go on PATH: exit 3 with the install hint, not a stack trace', async () => {
  const err = await checkGo({ PATH: '/nonexistent' }).then(() => undefined, (e: unknown) => e);
  assert.instance(err, OpsError);
  assert.is((err as OpsError).exitCode, 3);
  assert.match((err as OpsError).message, /Go is not installed/);
  assert.match((err as OpsError).hint ?? '', /go\.dev\/doc\/install/);
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
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts', 'rehearse.mts'), '--env', 'production', '--yes', '--report', join(dir, 'r.json')], {
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
  const left = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(clusterDir); } catch { return false; }
  });
  assert.equal(left, [], `processes still running for ${clusterDir}`);
});

test('--context: the rehearsal on an existing cluster (here a second local control plane), its kubeconfig untouched; the kwok-only failures skipped', async () => {
  const binaries = await ensureBinaries({ root: repoRoot, bicepParameters: 'bicep/production.bicepparam', progress: () => undefined });
  const savedPath = process.env.PATH;
  process.env.PATH = [dirname(kubectlPath()), savedPath].join(':');
  const cluster = await startLocalCluster({ binaries, root: repoRoot, nodes: 2, nodeSize: 'Standard_D2s_v3', progress: () => undefined });
  process.env.PATH = savedPath;
  try {
    const before = readFileSync(cluster.kubeconfig, 'utf8');
    const r = await rehearse(['--env', 'production', '--context', cluster.context, '--good-tags', 'v1,v2,v3'], 4, { KUBECONFIG: cluster.kubeconfig });
    assert.is(r.code, 0, table(r));
    const steps = r.report!.steps;
    assert.is(steps.length, 15, table(r));
    assert.equal(steps.filter((s) => s.observed.startsWith('skipped')).map((s) => steps.indexOf(s) + 1), [5, 6, 7, 9, 10, 15], table(r));
    assert.match(steps[2]!.observed, /^exit 0; revision 1 deployed, running v1/, table(r));
    assert.match(steps[7]!.observed, /^exit 4; .*ErrImagePull/, table(r));
    assert.match(steps[13]!.observed, /running v3$/, table(r));
    assert.is(readFileSync(cluster.kubeconfig, 'utf8'), before, 'the user\'s kubeconfig is never written');
  } finally {
    await cluster.stop();
  }
});

test('--context without three good tags, or --good-tags without --context: exit 2 before anything runs', async () => {
  const a = await rehearse(['--env', 'production', '--context', 'kind-kind', '--good-tags', 'dev'], 4);
  assert.is(a.code, 2, a.stderr);
  assert.match(a.stderr, /--context needs --good-tags with three different tags/);
  const b = await rehearse(['--env', 'production', '--good-tags', 'a,b,c'], 4);
  assert.is(b.code, 2, b.stderr);
  assert.match(b.stderr, /--good-tags applies to --context only/);
});

test.run();
