// Security review checks: untrusted workflow input never becomes script text, a dispatched image tag
// is validated before anything uses it, Dapr's secrets API is shut to the app, and the rendered
// NetworkPolicies let only the flows the app needs through.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { repoRoot } from './support/tools.ts';
import { loadEnvironment } from '../scripts/lib/config.ts';
import { NAMESPACE, find, hostArgs, productionValuesFile, render, tagArgs, valuesFile, type K8sObject } from './helm-render.ts';

const workflowsDir = join(repoRoot, '.github', 'workflows');
const workflows = readdirSync(workflowsDir).filter((f) => f.endsWith('.yml')).map((f) => join(workflowsDir, f));

interface Step { name?: string; uses?: string; run?: string; if?: string; env?: Record<string, string>; with?: Record<string, string> }
interface Job { if?: string; steps?: Step[]; env?: Record<string, string> }

test('no workflow interpolates inputs or event data into a run: script (they go through env)', () => {
  // `${{ }}` in run: is pasted into the script before the shell sees it: a quote in the value is code.
  const untrusted = /\$\{\{[^}]*\b(inputs\.|github\.event\.|github\.head_ref)/;
  for (const f of workflows) {
    const wf = parse(readFileSync(f, 'utf8')) as { jobs: Record<string, Job> };
    for (const [id, job] of Object.entries(wf.jobs)) {
      for (const step of job.steps ?? []) {
        if (step.run) assert.not.match(step.run, untrusted, `${relative(repoRoot, f)} job ${id} step ${step.name ?? step.run}`);
      }
    }
  }
});

const deploy = (parse(readFileSync(join(workflowsDir, 'deploy-production.yml'), 'utf8')) as { jobs: Record<string, Job> }).jobs.deploy!;

test('the deploy job validates the image tag before it checks out code or logs in to Azure', () => {
  assert.match(deploy.env?.IMAGE_TAG ?? '', /inputs\.image-tag/);
  const steps = deploy.steps ?? [];
  const v = steps.findIndex((s) => /IMAGE_TAG/.test(s.run ?? '') && /exit [1-9]/.test(s.run ?? ''));
  assert.ok(v >= 0, 'a step that rejects a bad IMAGE_TAG');
  const firstUse = steps.findIndex((s) => s.uses !== undefined || (s.run !== undefined && !/IMAGE_TAG/.test(s.run)));
  assert.ok(v < firstUse, 'validation runs first');
  const script = steps[v]!.run!;
  const run = (tag: string) => spawnSync('bash', ['-c', script], { env: { PATH: process.env.PATH, IMAGE_TAG: tag }, encoding: 'utf8' });
  for (const good of ['3f9c2ab', '3f9c2ab71d04', 'a'.repeat(40)]) assert.is(run(good).status, 0, good);
  for (const bad of ['', 'latest', '3F9C2AB', 'abc', 'a'.repeat(41), '3f9c2ab;id', '$(id)', '3f9c2ab\n::set-env name=X::1', '../x']) {
    const r = run(bad);
    assert.is.not(r.status, 0, JSON.stringify(bad));
    assert.not.ok(bad && r.stdout.includes(bad), `the rejected value is not echoed: ${JSON.stringify(bad)}`);
  }
});

test('the production deploy job runs only for the main branch', () => {
  assert.match(deploy.if ?? '', /github\.ref == 'refs\/heads\/main'/);
});

// ---- API server access for the GitHub-hosted deploy runner ----

const accessScript = join(repoRoot, '.github/scripts/aks-runner-access.sh');
const { resourceGroup: RG, cluster: CLUSTER } = loadEnvironment(repoRoot, 'production').azure!;

/** Runs aks-runner-access.sh against a fake az (ranges in, updates logged) and a fake curl (the runner's address). */
function runAccess(action: string, o: { ranges: string[]; ip?: string; cidr?: string }) {
  const dir = mkdtempSync(join(tmpdir(), 'aks-access-'));
  const log = join(dir, 'az.log');
  writeFileSync(log, '');
  writeFileSync(join(dir, 'ranges'), o.ranges.map((r) => `${r}\n`).join(''));
  writeFileSync(join(dir, 'az'), `#!/usr/bin/env bash\necho "$*" >> "${log}"\nif [ "$2" = show ]; then cat "${join(dir, 'ranges')}"; fi\n`);
  writeFileSync(join(dir, 'curl'), `#!/usr/bin/env bash\nprintf '%s' "${o.ip ?? ''}"\n`);
  for (const f of ['az', 'curl']) chmodSync(join(dir, f), 0o755);
  const githubEnv = join(dir, 'github-env');
  writeFileSync(githubEnv, '');
  const r = spawnSync('bash', [accessScript, action], {
    encoding: 'utf8',
    env: { PATH: `${dir}:${process.env.PATH}`, AKS_RESOURCE_GROUP: RG, AKS_CLUSTER: CLUSTER, GITHUB_ENV: githubEnv, ...(o.cidr ? { RUNNER_API_CIDR: o.cidr } : {}) },
  });
  const updates = readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('aks update'));
  return { ...r, updates, githubEnv: readFileSync(githubEnv, 'utf8') };
}

test('aks-runner-access.sh open adds the runner\'s /32 to the existing ranges, and refuses to touch an open API server', () => {
  const r = runAccess('open', { ranges: ['198.51.100.0/24', '192.0.2.10/32'], ip: '203.0.113.7' });
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.equal(r.updates, [`aks update --resource-group ${RG} --name ${CLUSTER} --api-server-authorized-ip-ranges 198.51.100.0/24,192.0.2.10/32,203.0.113.7/32 --only-show-errors -o none`]);
  assert.is(r.githubEnv, 'RUNNER_API_CIDR=203.0.113.7/32\n', 'close learns the address even if the update fails');
  const again = runAccess('open', { ranges: ['198.51.100.0/24', '203.0.113.7/32'], ip: '203.0.113.7' });
  assert.is(again.status, 0);
  assert.equal(again.updates, [], 'already authorized: no update');
  const open = runAccess('open', { ranges: [], ip: '203.0.113.7' });
  assert.is.not(open.status, 0, 'no ranges means every address may connect: stop, do not narrow it to the runner');
  assert.equal(open.updates, []);
  assert.match(open.stdout, /accepts any address/);
  const garbage = runAccess('open', { ranges: ['198.51.100.0/24'], ip: '<html>rate limited</html>' });
  assert.is.not(garbage.status, 0);
  assert.equal(garbage.updates, []);
});

test('aks-runner-access.sh close removes only the runner\'s range and never writes an empty list', () => {
  const r = runAccess('close', { ranges: ['198.51.100.0/24', '203.0.113.7/32'], cidr: '203.0.113.7/32' });
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.equal(r.updates, [`aks update --resource-group ${RG} --name ${CLUSTER} --api-server-authorized-ip-ranges 198.51.100.0/24 --only-show-errors -o none`]);
  const gone = runAccess('close', { ranges: ['198.51.100.0/24'], cidr: '203.0.113.7/32' });
  assert.is(gone.status, 0);
  assert.equal(gone.updates, [], 'nothing to remove');
  const last = runAccess('close', { ranges: ['203.0.113.7/32'], cidr: '203.0.113.7/32' });
  assert.is.not(last.status, 0, 'removing the last range would open the API server to all');
  assert.equal(last.updates, []);
  const unset = runAccess('close', { ranges: ['198.51.100.0/24'] });
  assert.is.not(unset.status, 0);
  assert.equal(unset.updates, []);
});

test('the deploy job authorizes its runner before any cluster access, as the applier signed out before npm ci, and always removes it', () => {
  const steps = deploy.steps ?? [];
  const idx = (pred: (s: Step) => boolean, what: string) => {
    const i = steps.findIndex(pred);
    assert.ok(i >= 0, what);
    return i;
  };
  const open = idx((s) => s.run === '.github/scripts/aks-runner-access.sh open', 'open step');
  const signOut = idx((s) => s.run === 'az account clear', 'applier sign-out');
  const npmCi = idx((s) => s.run === 'npm ci', 'npm ci');
  const creds = idx((s) => /az aks get-credentials/.test(s.run ?? ''), 'get-credentials');
  const deployStep = idx((s) => /scripts\/deploy\.mts/.test(s.run ?? ''), 'deploy');
  const close = idx((s) => s.run === '.github/scripts/aks-runner-access.sh close', 'close step');
  const logins = steps.map((s, i) => ({ s, i })).filter(({ s }) => String(s.uses ?? '').startsWith('azure/login@'));
  const loginBefore = (i: number) => logins.filter((l) => l.i < i).at(-1)?.s.with?.['client-id'];
  assert.is(loginBefore(open), '${{ vars.AZURE_INFRA_CLIENT_ID }}', 'open runs as the applier');
  assert.is(loginBefore(close), '${{ vars.AZURE_INFRA_CLIENT_ID }}', 'close runs as the applier');
  assert.is(loginBefore(creds), '${{ vars.AZURE_CLIENT_ID }}', 'the deploy runs as the deploy identity');
  assert.ok(open < signOut && signOut < npmCi && npmCi < creds && creds < deployStep && deployStep < close, 'order');
  assert.ok(!logins.some((l) => l.i > signOut && l.i < deployStep && l.s.with?.['client-id'] !== '${{ vars.AZURE_CLIENT_ID }}'), 'no applier sign-in between npm ci and the deploy');
  for (const s of [steps[close]!, logins.find((l) => l.i > deployStep)!.s]) assert.match(s.if ?? '', /^always\(\) && env\.RUNNER_API_CIDR != ''$/);
});

test('the Azure names reach the deploy job from environments/production.yaml through env.mts, read on a runner no identity signs in to', () => {
  const wf = parse(readFileSync(join(workflowsDir, 'deploy-production.yml'), 'utf8')) as { jobs: Record<string, Job & { needs?: string[]; outputs?: Record<string, string>; with?: Record<string, string>; permissions?: Record<string, string> }> };
  const names = wf.jobs.names!;
  assert.equal(names.permissions, { contents: 'read' }, 'no id-token: the names job cannot sign in to Azure');
  assert.not.ok((names.steps ?? []).some((s) => String(s.uses ?? '').startsWith('azure/login@')));
  const read = (names.steps ?? []).find((s) => /scripts\/env\.mts/.test(s.run ?? ''))!.run!;
  // Each output is what env.mts prints for its key: the step's own lines, run with the real script.
  const outputFile = join(mkdtempSync(join(tmpdir(), 'names-')), 'github-output');
  writeFileSync(outputFile, '');
  const r = spawnSync('bash', ['-e', '-c', read], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, GITHUB_OUTPUT: outputFile } });
  assert.is(r.status, 0, r.stderr);
  const azure = loadEnvironment(repoRoot, 'production').azure!;
  const written = Object.fromEntries(readFileSync(outputFile, 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  assert.equal(written, { 'resource-group': azure.resourceGroup, cluster: azure.cluster, registry: azure.registry });
  assert.equal(names.outputs, {
    'resource-group': '${{ steps.read.outputs.resource-group }}', cluster: '${{ steps.read.outputs.cluster }}', registry: '${{ steps.read.outputs.registry }}',
  });
  assert.equal([deploy.env?.AKS_RESOURCE_GROUP, deploy.env?.AKS_CLUSTER], ['${{ needs.names.outputs.resource-group }}', '${{ needs.names.outputs.cluster }}']);
  assert.is(wf.jobs['build-images']!.with?.registry, '${{ needs.names.outputs.registry }}');
  assert.ok(wf.jobs.deploy!.needs?.includes('names') && /needs\.names\.result == 'success'/.test(deploy.if ?? ''), 'the deploy waits for the names');
});

test('the Dapr Configuration denies the secrets API on every store the components use, and the built-in one', () => {
  const config = parse(readFileSync(join(repoRoot, 'dapr/configuration/dapr-config.yaml'), 'utf8')) as {
    spec: { secrets?: { scopes?: Array<{ storeName: string; defaultAccess?: string; allowedSecrets?: string[] }> } };
  };
  const scopes = config.spec.secrets?.scopes ?? [];
  const componentsDir = join(repoRoot, 'dapr/components');
  const stores = new Set<string>(['kubernetes']);
  for (const f of readdirSync(componentsDir)) {
    for (const doc of parseAllDocuments(readFileSync(join(componentsDir, f), 'utf8'))) {
      const c = doc.toJS() as { spec?: { type?: string }; metadata?: { name?: string }; auth?: { secretStore?: string } } | null;
      if (c?.auth?.secretStore) stores.add(c.auth.secretStore);
      if (c?.spec?.type?.startsWith('secretstores.') && c.metadata?.name) stores.add(c.metadata.name);
    }
  }
  for (const store of stores) {
    const s = scopes.find((x) => x.storeName === store);
    assert.ok(s, `a secrets scope for ${store}`);
    assert.is(s.defaultAccess, 'deny', store);
    assert.equal(s.allowedSecrets ?? [], [], `${store} allows no secret through the API`);
  }
});

// ---- NetworkPolicies, evaluated like a CNI would for the production render ----

interface Peer { namespace: string; labels: Record<string, string>; ip?: string }
type Rule = { ports?: Array<{ port: number; protocol?: string }>; from?: unknown[]; to?: unknown[] };
type NP = K8sObject & { spec: { podSelector: { matchLabels?: Record<string, string> }; ingress?: Rule[]; egress?: Rule[] } };

const matches = (sel: { matchLabels?: Record<string, string> } | undefined, labels: Record<string, string>) =>
  Object.entries(sel?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);

function peerMatches(p: Record<string, any>, peer: Peer, policyNs: string): boolean {
  if (p.ipBlock) return peer.ip !== undefined && p.ipBlock.cidr === '0.0.0.0/0';
  const nsOk = p.namespaceSelector ? matches(p.namespaceSelector, { 'kubernetes.io/metadata.name': peer.namespace }) : peer.namespace === policyNs;
  const podOk = p.podSelector ? matches(p.podSelector, peer.labels) : true;
  return peer.ip === undefined && nsOk && podOk;
}

function allowed(rules: Rule[] | undefined, peer: Peer, port: number, protocol = 'TCP'): boolean {
  return (rules ?? []).some((r) => {
    const peers = (r.from ?? r.to) as Array<Record<string, any>> | undefined;
    const peerOk = !peers || peers.some((p) => peerMatches(p, peer, NAMESPACE));
    const portOk = !r.ports || r.ports.some((x) => x.port === port && (x.protocol ?? 'TCP') === protocol);
    return peerOk && portOk;
  });
}

const prod = render(3, [valuesFile, productionValuesFile], [...tagArgs, ...hostArgs]).objects;
const np = (name: string) => find(prod, 'NetworkPolicy', name) as NP;
const backend = np('todo-backend');
const frontend = np('todo-frontend');
const backendPod: Peer = { namespace: NAMESPACE, labels: { 'app.kubernetes.io/name': 'todo-backend', 'app.kubernetes.io/instance': 'hackathon-todo' } };
const frontendPod: Peer = { namespace: NAMESPACE, labels: { 'app.kubernetes.io/name': 'todo-frontend', 'app.kubernetes.io/instance': 'hackathon-todo' } };
const nginx: Peer = { namespace: 'ingress-nginx', labels: { 'app.kubernetes.io/name': 'ingress-nginx' } };
const dns: Peer = { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } };
const dapr: Peer = { namespace: 'dapr-system', labels: {} };
const internet: Peer = { namespace: '', labels: {}, ip: '203.0.113.7' };
const otherPod: Peer = { namespace: NAMESPACE, labels: { app: 'something-else' } };

test('NetworkPolicy: the flows the app needs are allowed', () => {
  assert.ok(allowed(backend.spec.ingress, nginx, 8000), 'ingress controller -> backend');
  assert.ok(allowed(frontend.spec.ingress, nginx, 3000), 'ingress controller -> frontend');
  assert.ok(allowed(backend.spec.ingress, frontendPod, 8000) && allowed(frontend.spec.egress, backendPod, 8000), 'frontend -> backend');
  for (const p of [frontend, backend]) {
    assert.ok(allowed(p.spec.egress, dns, 53, 'UDP') && allowed(p.spec.egress, dns, 53, 'TCP'), `${p.metadata.name} -> DNS`);
  }
  // PostgreSQL, Kafka, and 443 for OpenAI and the AKS API server (public FQDN) that daprd's secret store calls.
  for (const port of [5432, 9092, 443]) assert.ok(allowed(backend.spec.egress, internet, port), `backend -> internet:${port}`);
  // Dapr 1.14 control-plane container ports (NetworkPolicy sees the pod port after Service translation):
  // sentry 50001 (Service 443), operator 6500 (Service 443), placement 50005, scheduler 50006.
  for (const port of [50001, 6500, 50005, 50006]) assert.ok(allowed(backend.spec.egress, dapr, port), `backend -> dapr-system:${port}`);
});

test('NetworkPolicy: a compromised frontend reaches neither the database, Kafka, the internet, nor the backend sidecar', () => {
  for (const port of [5432, 9092, 443, 80]) assert.not.ok(allowed(frontend.spec.egress, internet, port), `frontend -> internet:${port}`);
  for (const port of [3500, 50001, 50002, 9090]) assert.not.ok(allowed(frontend.spec.egress, backendPod, port), `frontend -> backend:${port}`);
  assert.not.ok(allowed(frontend.spec.egress, dapr, 50001), 'frontend -> dapr-system');
  assert.not.ok(allowed(frontend.spec.ingress, otherPod, 3000), 'any pod -> frontend');
  assert.not.ok(allowed(backend.spec.ingress, otherPod, 8000), 'any pod -> backend');
  assert.not.ok(allowed(backend.spec.egress, internet, 80), 'backend -> internet:80 (IMDS, wireserver)');
  assert.not.ok(allowed(backend.spec.egress, internet, 22), 'backend -> internet:22');
});

test('every container and init container in the chart, the test hook included, is hardened; only the backend mounts a token', () => {
  const pods = prod.flatMap((o) => {
    if (o.kind === 'Pod') return [{ name: o.metadata.name, spec: o.spec as any }];
    if (o.kind === 'Deployment') return [{ name: o.metadata.name, spec: (o.spec as any).template.spec }];
    return [];
  });
  assert.ok(pods.length >= 3);
  for (const { name, spec } of pods) {
    assert.is(spec.automountServiceAccountToken, name === 'todo-backend', `${name} automountServiceAccountToken`);
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      const sc = c.securityContext ?? {};
      assert.is(sc.allowPrivilegeEscalation, false, `${name}/${c.name}`);
      assert.is(sc.readOnlyRootFilesystem, true, `${name}/${c.name}`);
      assert.is(sc.runAsNonRoot, true, `${name}/${c.name}`);
      assert.equal(sc.capabilities?.drop, ['ALL'], `${name}/${c.name}`);
      assert.is(sc.seccompProfile?.type ?? spec.securityContext?.seccompProfile?.type, 'RuntimeDefault', `${name}/${c.name}`);
    }
  }
});

test.run();
