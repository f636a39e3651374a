// A fake production world for deploy/rollback tests: an environment file pointing at the fixture
// app server, the Azure account and registry tags, Dapr, the Secrets, a Helm history, and the
// release's Deployments, ReplicaSets and pods as kubectl prints them, changing after each Helm event.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { FakeWorld, podList } from './harness.ts';
import type { Rule, Scenario } from './harness.ts';
import { APP_NAMESPACE, repoRoot } from './tools.ts';
import { PROD } from './names.ts';
import { ingressHostOf } from '../../scripts/lib/helm.ts';
import { ingressHostValues } from '../../scripts/lib/rehearsal/scenarios.ts';

export const REL = 'hackathon-todo';
export const NS = APP_NAMESPACE;
export const TAG = '3f9c2ab71d04e5f6a7b8c9d0e1f2a3b4c5d6e7f8';
export const OLD_TAG = '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b';
export const SELECTOR = `app.kubernetes.io/instance=${REL}`;
const REPO = PROD.loginServer;

export const account = {
  environmentName: 'AzureCloud', homeTenantId: 't-1', id: '11111111-2222-3333-4444-555555555555', isDefault: true, managedByTenants: [],
  name: 'Hackathon Prod', state: 'Enabled', tenantDefaultDomain: 'contoso.onmicrosoft.com', tenantDisplayName: 'Contoso', tenantId: 't-1',
  user: { name: 'dev@contoso.com', type: 'user' },
};

/**
 * environments/production.yaml with the URL (and optionally more) changed, written to a temp file. A
 * stand-in URL on 127.0.0.1 gives deploy no Ingress host, so production's host comes in a values file
 * beside it, as the rehearsal does it (ingressHostValues).
 */
export function productionEnvFile(url: string, edit: (doc: Record<string, any>) => void = () => undefined): string {
  const doc = parseDocument(readFileSync(join(repoRoot, 'environments', 'production.yaml'), 'utf8')).toJS() as Record<string, any>;
  const dir = mkdtempSync(join(tmpdir(), 'aks-todo-ops-env-'));
  if (!ingressHostOf(url)) doc.release.valuesFiles = [...doc.release.valuesFiles, ...ingressHostValues(dir, { url: doc.url }, { write: true })];
  doc.url = url;
  // One fake call is one node start-up (tens of real ms); give the per-command timeout room on a busy machine.
  doc.timeouts.commandSeconds = 3600;
  edit(doc);
  const file = join(dir, 'production-test.yaml');
  writeFileSync(file, JSON.stringify(doc, null, 2));
  return file;
}

const secretObjects = [
  { secret: 'database-credentials', keys: ['connection-string'] },
  { secret: 'openai-credentials', keys: ['api-key'] },
  { secret: 'auth-credentials', keys: ['secret'] },
  { secret: 'redpanda-credentials', keys: ['bootstrap-servers', 'username', 'password'] },
].map(({ secret, keys }) => ({
  apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: secret, namespace: NS },
  data: Object.fromEntries(keys.map((k) => [k, Buffer.from(`value-of-${k}`).toString('base64')])),
}));

const daprCrd = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'components.dapr.io' } };

export const injectorPods = {
  apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' },
  items: [{
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'dapr-sidecar-injector-7d9f8c6b5-abcde', namespace: 'dapr-system', labels: { app: 'dapr-sidecar-injector' } },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  }],
};

export interface WorldOptions {
  secrets?: boolean;
  dapr?: boolean;
  context?: string;
  tags?: string[];
  helmVersion?: string;
  upgrades?: NonNullable<Scenario['helm']>['upgrades'];
}

/** Production world with everything a deploy needs in place, and no release yet. */
export function productionWorld(o: WorldOptions = {}): FakeWorld {
  const tags = o.tags ?? [OLD_TAG, TAG];
  const w = new FakeWorld({
    kube: { context: o.context ?? PROD.context, objects: [...(o.dapr === false ? [] : [daprCrd]), ...(o.secrets === false ? [] : secretObjects)] },
    az: { account, tags: { 'todo-backend': tags, 'todo-frontend': tags } },
    helm: { ...(o.helmVersion ? { version: o.helmVersion } : {}), ...(o.upgrades ? { upgrades: o.upgrades } : {}) },
  });
  if (o.dapr !== false) w.on('kubectl', ['get', 'pods', '-n', 'dapr-system'], { json: injectorPods });
  return w;
}

/** Seeds a history whose revisions carried OLD_TAG, nested as Helm records --set values (`helm status -o json` .config). */
export function seedHistory(w: FakeWorld, statuses: Array<'deployed' | 'superseded' | 'failed' | 'pending-upgrade' | 'pending-install' | 'pending-rollback'>, tag = OLD_TAG): FakeWorld {
  return w.seedRelease(REL, statuses.map((status) => ({
    status,
    ...(status === 'failed' ? { description: `Upgrade "${REL}" failed: context deadline exceeded` } : {}),
    config: { backend: { image: { repository: `${REPO}/todo-backend`, tag } }, frontend: { image: { repository: `${REPO}/todo-frontend`, tag } } },
  })));
}

// ---------- the release's objects ----------

export interface PodState {
  waiting?: string;
  daprWaiting?: string;
  restarts?: number;
  ready?: boolean;
  /** Put daprd under initContainerStatuses (native sidecar). */
  daprAsInit?: boolean;
}

export interface ReleaseState {
  /** Deployment revision (annotation) and generation. */
  revision: number;
  /** pod-template-hash of the ReplicaSet being rolled out. */
  hash: string;
  backend?: PodState;
  frontend?: PodState;
  /** The controller has not observed the new spec yet. */
  unobserved?: boolean;
  /** Progressing=False/ProgressDeadlineExceeded on todo-backend. */
  deadline?: boolean;
  /** Pods of a previous ReplicaSet still present, with their state (e.g. crash-looping while being replaced). */
  oldPods?: { hash: string; revision: number; backend?: PodState; frontend?: PodState };
}

const APPS = ['todo-backend', 'todo-frontend'] as const;

function stateOf(s: ReleaseState, app: (typeof APPS)[number]): PodState {
  return (app === 'todo-backend' ? s.backend : s.frontend) ?? {};
}

function failing(p: PodState): boolean {
  return Boolean(p.waiting || p.daprWaiting || p.ready === false);
}

export function deploymentsJson(s: ReleaseState): unknown {
  return {
    apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' },
    items: APPS.map((name) => {
      const bad = failing(stateOf(s, name));
      const status: Record<string, unknown> = {
        observedGeneration: s.unobserved ? s.revision - 1 : s.revision,
        replicas: bad ? 3 : 2,
        updatedReplicas: bad ? 1 : 2,
        readyReplicas: 2,
        availableReplicas: 2,
        conditions: [
          { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' },
          s.deadline && name === 'todo-backend'
            ? { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${name}-${s.hash}" has timed out progressing.` }
            : bad
              ? { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${name}-${s.hash}" is progressing.` }
              : { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${name}-${s.hash}" has successfully progressed.` },
        ],
      };
      if (bad) status.unavailableReplicas = 1;
      return {
        apiVersion: 'apps/v1', kind: 'Deployment',
        metadata: { name, namespace: NS, generation: s.revision, annotations: { 'deployment.kubernetes.io/revision': String(s.revision) }, labels: { 'app.kubernetes.io/instance': REL, 'app.kubernetes.io/name': name } },
        spec: { replicas: 2 },
        status,
      };
    }),
  };
}

export function replicaSetsJson(s: ReleaseState): unknown {
  const rs = (name: string, hash: string, revision: number) => ({
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: {
      name: `${name}-${hash}`, namespace: NS,
      annotations: { 'deployment.kubernetes.io/desired-replicas': '2', 'deployment.kubernetes.io/max-replicas': '3', 'deployment.kubernetes.io/revision': String(revision) },
      labels: { 'app.kubernetes.io/instance': REL, 'app.kubernetes.io/name': name, 'pod-template-hash': hash },
      ownerReferences: [{ apiVersion: 'apps/v1', blockOwnerDeletion: true, controller: true, kind: 'Deployment', name, uid: `uid-${name}` }],
    },
    spec: { replicas: 2 },
    status: { replicas: 2, availableReplicas: 2, readyReplicas: 2, fullyLabeledReplicas: 2, observedGeneration: 1 },
  });
  const items = APPS.flatMap((name) => [
    rs(name, s.hash, s.revision),
    ...(s.oldPods ? [rs(name, s.oldPods.hash, s.oldPods.revision)] : []),
  ]);
  return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items };
}

export function podsJson(s: ReleaseState): unknown {
  const pods = (hash: string, get: (app: (typeof APPS)[number]) => PodState) => APPS.flatMap((app) => [0, 1].map((i) => {
    const p = get(app);
    return { name: `${app}-${hash}-${i === 0 ? 'x7k2p' : 'q9m4z'}`, app, hash, ...(p.waiting ? { waiting: p.waiting } : {}), ...(p.daprWaiting ? { daprWaiting: p.daprWaiting } : {}), ...(p.restarts !== undefined ? { restarts: p.restarts } : {}), ...(p.ready !== undefined ? { ready: p.ready } : {}), _init: p.daprAsInit };
  }));
  const spec = [...pods(s.hash, (a) => stateOf(s, a)), ...(s.oldPods ? pods(s.oldPods.hash, (a) => (a === 'todo-backend' ? s.oldPods!.backend : s.oldPods!.frontend) ?? {}) : [])];
  const list = podList(spec.map(({ _init: _i, ...rest }) => rest)) as { items: Array<{ status: { containerStatuses: unknown[]; initContainerStatuses?: unknown[] } }> };
  spec.forEach((p, i) => {
    if (!p._init) return;
    const st = list.items[i]!.status;
    const dapr = st.containerStatuses.shift();
    st.initContainerStatuses = [dapr];
  });
  return list;
}

/** Rules answering the watcher's three reads after a Helm event, over simulated time. */
export function watchRules(phase: NonNullable<Rule['phase']>, timeline: Array<{ at: number; state: ReleaseState }>): Rule[] {
  const mk = (what: string, build: (s: ReleaseState) => unknown): Rule => ({
    tool: 'kubectl', args: ['get', what, '-l', SELECTOR], phase,
    timeline: timeline.map((t) => ({ at: t.at, respond: { json: build(t.state) } })),
  });
  return [mk('deployments', deploymentsJson), mk('replicasets', replicaSetsJson), mk('pods', podsJson)];
}

export function addWatch(w: FakeWorld, phase: NonNullable<Rule['phase']>, timeline: Array<{ at: number; state: ReleaseState }>): FakeWorld {
  w.scenario.rules.push(...watchRules(phase, timeline));
  return w;
}

export const HEALTHY_NEW: ReleaseState = { revision: 8, hash: 'new5d8f7c9', backend: {}, frontend: {} };
/** After a rollback: the old template is the newest revision again; the bad pods may still linger. */
export const ROLLED_BACK: ReleaseState = { revision: 9, hash: 'old7c9d8b6', backend: {}, frontend: {} };

// ---------- a dry-run's plan against what a real run changed ----------

/** One call of the plan a `--dry-run --json` document carries (scripts/lib/runner.ts PlannedCall). */
export interface PlanEntry { command: string; mutating: boolean; when?: string }

/**
 * Runs `script --dry-run --json` with `args` on w and returns the plan's calls (plan.commands). The
 * dry-run changes nothing; deploy's needs no cluster, so it may run before or after the real run,
 * while one that reads the cluster (install-dapr, secrets) runs before the real run that changes it.
 */
export async function dryRunPlan(w: FakeWorld, script: 'deploy' | 'rollback' | 'install-dapr' | 'secrets', args: string[]): Promise<PlanEntry[]> {
  const r = await w.run(script, [...args, '--dry-run', '--json'], { timeScale: 1, killAfterMs: 90_000 });
  if (r.code !== 0) throw new Error(`${script} --dry-run exited ${r.code}:\n${r.output}`);
  return (JSON.parse(r.stdout) as { plan: { commands: PlanEntry[] } }).plan.commands;
}

/**
 * The dry-run's plan equals the changes a real run made, in order, modulo the conditional steps: every
 * change the real run made is the plan's next matching change, and every planned change it skipped is
 * marked "when". A placeholder the dry-run could not know (`'<newest … revision>'`) matches one word.
 */
export function assertPlanIsRun(plan: readonly PlanEntry[], realChanges: readonly string[]): void {
  const changes = plan.filter((s) => s.mutating);
  const pattern = (command: string) => new RegExp(`^${command.replace(/ < \(stdin\)$/, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/'<[^']*>'/g, '\\S+')}$`);
  let at = 0;
  for (const step of changes) {
    if (at < realChanges.length && pattern(step.command).test(realChanges[at]!)) {
      at += 1;
      continue;
    }
    if (!step.when) throw new Error(`the plan's unconditional change "${step.command}" is not what the real run did next ("${realChanges[at] ?? '(nothing)'}")\nplan:\n${changes.map((c) => `  ${c.command}${c.when ? `   # when ${c.when}` : ''}`).join('\n')}\nreal:\n${realChanges.map((c) => `  ${c}`).join('\n')}`);
  }
  if (at !== realChanges.length) throw new Error(`the real run made changes the plan does not list: ${realChanges.slice(at).join('; ')}\nplan:\n${changes.map((c) => `  ${c.command}`).join('\n')}`);
}
