// The chart (helm/), rendered and linted by real Helm 3.17 and Helm 4.1, every object checked against
// the Kubernetes schemas (kubernetes-models), and each production requirement asserted on the output.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ConfigMap, Pod, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import type { IContainer } from 'kubernetes-models/v1';
import { SECRET_CATALOG } from '../scripts/lib/secret-catalog.ts';
import {
  NAMESPACE, PRODUCTION, RELEASE, SHA, chartDir, find, helm, hostArgs, productionSetArgs, productionValuesFile, render, tagArgs, valuesFile, type K8sObject,
} from './helm-render.ts';

const helms = [3, 4] as const;
const valueSets = { default: [valuesFile], production: [valuesFile, productionValuesFile] } as const;
// The --set flags each value set renders with: production's values turn TLS on and name no host (deploy sets it).
const setArgs: Record<keyof typeof valueSets, string[]> = { default: tagArgs, production: [...tagArgs, ...hostArgs] };

const models: Record<string, new (o: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap, 'v1/Pod': Pod, 'v1/Service': Service, 'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment, 'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/Ingress': Ingress, 'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'rbac.authorization.k8s.io/v1/Role': Role, 'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
};

const dev = render(3, [...valueSets.default]);
// As a production deploy renders it: the environment file's image repositories, set by helm.ts.
const prod = render(3, [...valueSets.production], productionSetArgs);
const deployment = (objs: K8sObject[], name: string) => new Deployment(find(objs, 'Deployment', name) as never);
const appContainer = (d: Deployment, name: string): IContainer => {
  const c = d.spec?.template.spec?.containers.find((x) => x.name === name);
  if (!c) throw new Error(`no container ${name} in ${d.metadata?.name}`);
  return c;
};

for (const major of helms) {
  for (const [label, files] of Object.entries(valueSets)) {
    test(`helm ${major}: lint --strict passes with ${label} values`, () => {
      const r = helm(major, ['lint', '--strict', chartDir, ...files.flatMap((f) => ['-f', f]), ...setArgs[label as keyof typeof valueSets]]);
      assert.is(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    });

    test(`helm ${major}: every object rendered with ${label} values validates against the Kubernetes schema`, () => {
      const { objects } = render(major, [...files], setArgs[label as keyof typeof valueSets]);
      assert.ok(objects.length >= 12, `only ${objects.length} objects`);
      for (const o of objects) {
        const Model = models[`${o.apiVersion}/${o.kind}`];
        assert.ok(Model, `no schema model for ${o.apiVersion}/${o.kind}`);
        try {
          new Model(o as never).validate();
        } catch (e) {
          assert.unreachable(`${o.kind}/${o.metadata.name}: ${(e as Error).message}`);
        }
      }
    });
  }
}

test('a schema model rejects a broken object (the validation above is not a no-op)', () => {
  const d = structuredClone(find(dev.objects, 'Deployment', 'todo-backend')) as K8sObject & { spec: { replicas: unknown } };
  d.spec.replicas = 'two';
  assert.throws(() => new Deployment(d as never).validate());
});

test('helm 3 and helm 4 render the same manifests', () => {
  for (const [label, files] of Object.entries(valueSets)) {
    const sets = setArgs[label as keyof typeof valueSets];
    assert.is(render(4, [...files], sets).text, render(3, [...files], sets).text);
  }
});

test('Deployments, containers and pod labels keep the contract other scripts rely on', () => {
  for (const [name, container, port] of [['todo-backend', 'backend', 8000], ['todo-frontend', 'frontend', 3000]] as const) {
    const d = deployment(dev.objects, name);
    const labels = d.spec?.template.metadata?.labels ?? {};
    assert.is(labels['app.kubernetes.io/instance'], RELEASE);
    assert.is(labels['app.kubernetes.io/name'], name);
    assert.equal(d.spec?.selector.matchLabels, { 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': RELEASE });
    const c = appContainer(d, container);
    assert.is(c.image, `${name}:${SHA}`);
    assert.is(c.ports?.[0]?.containerPort, port);
    const svc = new Service(find(dev.objects, 'Service', name) as never);
    assert.is(svc.spec?.ports?.[0]?.port, port);
    assert.equal(svc.spec?.selector, d.spec?.selector.matchLabels);
    assert.is(new ServiceAccount(find(dev.objects, 'ServiceAccount', name) as never).metadata?.name, d.spec?.template.spec?.serviceAccountName);
  }
});

test('rolling updates have zero downtime and a progress deadline the rollout watcher can read', () => {
  for (const name of ['todo-backend', 'todo-frontend']) {
    const d = deployment(dev.objects, name);
    assert.is(d.spec?.strategy?.type, 'RollingUpdate');
    assert.is(d.spec?.strategy?.rollingUpdate?.maxUnavailable, 0);
    assert.ok((d.spec?.progressDeadlineSeconds ?? 0) > 0);
    assert.is(appContainer(d, name.replace('todo-', '')).lifecycle?.preStop?.sleep?.seconds, 5);
  }
});

test('the backend has startup, liveness and readiness probes on /api/health', () => {
  const c = appContainer(deployment(dev.objects, 'todo-backend'), 'backend');
  for (const p of [c.startupProbe, c.livenessProbe, c.readinessProbe]) {
    assert.is(p?.httpGet?.path, '/api/health');
    assert.is(p?.httpGet?.port, 'http');
  }
  const f = appContainer(deployment(dev.objects, 'todo-frontend'), 'frontend');
  assert.ok(f.startupProbe?.httpGet && f.livenessProbe?.httpGet && f.readinessProbe?.httpGet);
});

test('every container has CPU and memory requests and limits; the backend has the plan sizing', () => {
  for (const { objects } of [dev, prod]) {
    for (const o of objects.filter((x) => x.kind === 'Deployment' || x.kind === 'Pod')) {
      const spec = o.kind === 'Pod' ? new Pod(o as never).spec : new Deployment(o as never).spec?.template.spec;
      for (const c of spec?.containers ?? []) {
        for (const k of ['requests', 'limits'] as const) {
          for (const r of ['cpu', 'memory']) assert.ok(c.resources?.[k]?.[r], `${o.metadata.name}/${c.name} has no ${k}.${r}`);
        }
      }
    }
  }
  assert.equal(appContainer(deployment(dev.objects, 'todo-backend'), 'backend').resources, {
    requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '500m', memory: '512Mi' },
  });
});

test('every pod runs hardened: non-root, no privilege escalation, drop ALL, seccomp, read-only root with a writable /tmp', () => {
  const pods = [
    ...['todo-backend', 'todo-frontend'].map((n) => deployment(dev.objects, n).spec!.template.spec!),
    new Pod(find(dev.objects, 'Pod', `${RELEASE}-test-backend-health`) as never).spec!,
  ];
  for (const spec of pods) {
    assert.is(spec.securityContext?.runAsNonRoot, true);
    assert.is(spec.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    for (const c of spec.containers) {
      const sc = c.securityContext;
      assert.is(sc?.runAsNonRoot, true, c.name);
      assert.is(sc?.allowPrivilegeEscalation, false, c.name);
      assert.is(sc?.readOnlyRootFilesystem, true, c.name);
      assert.equal(sc?.capabilities?.drop, ['ALL'], c.name);
      assert.is(sc?.seccompProfile?.type, 'RuntimeDefault', c.name);
    }
  }
  for (const [name, container] of [['todo-backend', 'backend'], ['todo-frontend', 'frontend']] as const) {
    const spec = deployment(dev.objects, name).spec!.template.spec!;
    const tmp = appContainer(deployment(dev.objects, name), container).volumeMounts?.find((m) => m.mountPath === '/tmp');
    assert.ok(tmp, `${name} mounts no /tmp`);
    assert.ok(spec.volumes?.find((v) => v.name === tmp.name)?.emptyDir, `${name} /tmp is not an emptyDir`);
  }
});

test('secrets reach the app only through secretKeyRef, for exactly the catalog entries each workload reads', () => {
  const expected = (workload: string) => new Map(
    SECRET_CATALOG.filter((e) => ['DATABASE_URL', 'OPENAI_API_KEY', 'BETTER_AUTH_SECRET'].includes(e.envVar) && e.consumers.includes(workload))
      .map((e) => [e.envVar, `${e.secret}/${e.key}`]),
  );
  for (const [name, container] of [['todo-backend', 'backend'], ['todo-frontend', 'frontend']] as const) {
    const env = appContainer(deployment(dev.objects, name), container).env ?? [];
    for (const e of env) assert.ok(e.valueFrom?.secretKeyRef && e.value === undefined, `${name} env ${e.name} is a literal`);
    const got = new Map(env.map((e) => [e.name, `${e.valueFrom?.secretKeyRef?.name}/${e.valueFrom?.secretKeyRef?.key}`]));
    assert.equal(got, expected(name));
  }
});

test('values.yaml `secrets:` names every Secret and key of scripts/lib/secret-catalog.ts', () => {
  const values = parse(readFileSync(valuesFile, 'utf8')) as { secrets: Record<string, { secretName: string; key: string }> };
  const fromValues = Object.entries(values.secrets).map(([env, s]) => `${env}=${s.secretName}/${s.key}`).sort();
  assert.equal(fromValues, SECRET_CATALOG.map((e) => `${e.envVar}=${e.secret}/${e.key}`).sort());
});

test('the backend carries the Dapr annotations (quoted app-port, config, sidecar resources, app health check)', () => {
  const a = deployment(dev.objects, 'todo-backend').spec?.template.metadata?.annotations ?? {};
  const expected: Record<string, string> = {
    'dapr.io/enabled': 'true', 'dapr.io/app-id': 'todo-backend', 'dapr.io/app-port': '8000', 'dapr.io/config': 'dapr-config',
    'dapr.io/log-level': 'info', 'dapr.io/sidecar-cpu-request': '100m', 'dapr.io/sidecar-cpu-limit': '300m',
    'dapr.io/sidecar-memory-request': '64Mi', 'dapr.io/sidecar-memory-limit': '256Mi',
    'dapr.io/enable-app-health-check': 'true', 'dapr.io/app-health-check-path': '/api/health',
  };
  for (const [k, v] of Object.entries(expected)) assert.is(a[k], v, k);
  // The raw text shows app-port is a quoted string, as Kubernetes requires for annotation values.
  assert.match(dev.text, /dapr\.io\/app-port: "8000"/);
  const f = deployment(dev.objects, 'todo-frontend').spec?.template.metadata?.annotations ?? {};
  assert.is(f['dapr.io/enabled'], undefined, 'the frontend does not use Dapr by default');
});

test('checksum annotations change when the config changes, so pods roll', () => {
  const sum = (objs: K8sObject[]) => deployment(objs, 'todo-backend').spec?.template.metadata?.annotations?.['checksum/config'];
  const before = sum(dev.objects);
  assert.match(before ?? '', /^[0-9a-f]{64}$/);
  assert.ok(deployment(dev.objects, 'todo-backend').spec?.template.metadata?.annotations?.['checksum/secret-refs']);
  const after = sum(render(3, [valuesFile], [...tagArgs, '--set', 'backend.env.LOG_LEVEL=debug']).objects);
  assert.is.not(after, before);
});

test('pods spread over nodes and zones without blocking scheduling', () => {
  const t = deployment(dev.objects, 'todo-backend').spec?.template.spec?.topologySpreadConstraints ?? [];
  assert.equal(t.map((c) => c.topologyKey).sort(), ['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
  for (const c of t) assert.is(c.whenUnsatisfiable, 'ScheduleAnyway');
});

test('production: HPAs scale the app container (ContainerResource) 2..5 at 70%, out within 60 s, in slowly', () => {
  assert.not.ok(dev.objects.some((o) => o.kind === 'HorizontalPodAutoscaler'), 'no HPA by default');
  for (const [name, container] of [['todo-backend', 'backend'], ['todo-frontend', 'frontend']] as const) {
    const h = new HorizontalPodAutoscaler(find(prod.objects, 'HorizontalPodAutoscaler', `${name}-hpa`) as never);
    assert.is(h.spec?.scaleTargetRef.name, name);
    assert.is(h.spec?.minReplicas, 2);
    assert.is(h.spec?.maxReplicas, 5);
    const m = h.spec?.metrics?.[0];
    assert.is(m?.type, 'ContainerResource');
    assert.is(m?.containerResource?.container, container);
    assert.is(m?.containerResource?.name, 'cpu');
    assert.is(m?.containerResource?.target.averageUtilization, 70);
    // Simulate the scale-up policies (selectPolicy Max): from min to max within 60 s.
    const up = h.spec?.behavior?.scaleUp;
    assert.is(up?.stabilizationWindowSeconds, 0);
    let replicas = h.spec?.minReplicas ?? 1;
    for (let t = 0; t < 60 && replicas < 5; t += 15) {
      const steps = (up?.policies ?? []).filter((p) => 15 % p.periodSeconds === 0 || p.periodSeconds <= 15)
        .map((p) => (p.type === 'Percent' ? Math.ceil((replicas * p.value) / 100) : p.value));
      replicas = Math.min(5, replicas + Math.max(0, ...steps));
    }
    assert.is(replicas, 5, 'cannot reach maxReplicas within 60 s');
    const down = h.spec?.behavior?.scaleDown;
    assert.ok((down?.stabilizationWindowSeconds ?? 0) >= 300, 'scale-in must wait at least 5 minutes');
    assert.ok((down?.policies ?? []).every((p) => p.type === 'Pods' && p.value === 1), 'scale in one pod at a time');
    // The HPA owns the replica count: the Deployment must not fight it on every upgrade.
    assert.is(deployment(prod.objects, name).spec?.replicas, undefined);
  }
});

test('PodDisruptionBudgets keep one pod of each workload and select its pods', () => {
  for (const name of ['todo-backend', 'todo-frontend']) {
    const p = new PodDisruptionBudget(find(dev.objects, 'PodDisruptionBudget', name) as never);
    assert.is(p.spec?.minAvailable, 1);
    assert.equal(p.spec?.selector?.matchLabels, deployment(dev.objects, name).spec?.selector.matchLabels);
  }
});

test('NetworkPolicies: only the ingress controller, the frontend and the test reach the backend; egress is DNS, Dapr, 5432, 9092, 443', () => {
  const b = new NetworkPolicy(find(dev.objects, 'NetworkPolicy', 'todo-backend') as never);
  assert.equal(b.spec?.policyTypes, ['Ingress', 'Egress']);
  assert.equal(b.spec?.podSelector.matchLabels, deployment(dev.objects, 'todo-backend').spec?.selector.matchLabels);
  const http = b.spec?.ingress?.find((r) => r.ports?.some((p) => p.port === 8000));
  const peers = (http?.from ?? []).map((p) => p.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] ?? p.podSelector?.matchLabels?.['app.kubernetes.io/name'] ?? p.podSelector?.matchLabels?.['app.kubernetes.io/component']);
  assert.equal(peers, ['ingress-nginx', 'todo-frontend', 'helm-test']);
  const externalPorts = (b.spec?.egress ?? []).filter((r) => r.to?.some((t) => t.ipBlock)).flatMap((r) => r.ports?.map((p) => p.port) ?? []);
  assert.equal(externalPorts.sort(), [443, 5432, 9092]);
  const dns = (b.spec?.egress ?? []).find((r) => r.ports?.some((p) => p.port === 53));
  assert.ok(dns?.ports?.some((p) => p.protocol === 'UDP'));
  assert.ok((b.spec?.egress ?? []).some((r) => r.to?.some((t) => t.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'dapr-system')));

  const f = new NetworkPolicy(find(dev.objects, 'NetworkPolicy', 'todo-frontend') as never);
  assert.equal(f.spec?.ingress?.flatMap((r) => r.ports?.map((p) => p.port) ?? []), [3000]);
  assert.not.ok((f.spec?.egress ?? []).some((r) => r.to?.some((t) => t.ipBlock)), 'the frontend reaches nothing outside the cluster');
  assert.ok((f.spec?.egress ?? []).some((r) => r.to?.some((t) => t.podSelector?.matchLabels?.['app.kubernetes.io/name'] === 'todo-backend') && r.ports?.some((p) => p.port === 8000)));
});

test('production: the Ingress terminates TLS for the host and routes /api to the backend, / to the frontend', () => {
  assert.not.ok(dev.objects.some((o) => o.kind === 'Ingress'), 'no Ingress by default');
  const i = new Ingress(find(prod.objects, 'Ingress', RELEASE) as never);
  assert.is(i.spec?.ingressClassName, 'nginx');
  assert.equal(i.spec?.tls, [{ hosts: ['todo.example.com'], secretName: 'tls-cert' }]);
  const rule = i.spec?.rules?.[0];
  assert.is(rule?.host, 'todo.example.com');
  const route = Object.fromEntries((rule?.http?.paths ?? []).map((p) => [p.path, `${p.backend.service?.name}:${p.backend.service?.port?.number}`]));
  assert.equal(route, { '/api': 'todo-backend:8000', '/': 'todo-frontend:3000' });
});

test('ingress.className is a value', () => {
  const r = render(3, [...valueSets.production], [...setArgs.production, '--set', 'ingress.className=webapprouting.kubernetes.azure.com']);
  assert.is(new Ingress(find(r.objects, 'Ingress', RELEASE) as never).spec?.ingressClassName, 'webapprouting.kubernetes.azure.com');
});

test('production: images come from the environment file\'s registry at the given SHA, the values files name none, and nothing says latest', () => {
  assert.is(appContainer(deployment(prod.objects, 'todo-backend'), 'backend').image, `${PRODUCTION.release.images.backend}:${SHA}`);
  assert.is(appContainer(deployment(prod.objects, 'todo-frontend'), 'frontend').image, `${PRODUCTION.release.images.frontend}:${SHA}`);
  // Without the deploy's --set, production values alone give the chart's local default: no registry copy.
  const bare = render(3, [...valueSets.production], setArgs.production);
  assert.is(appContainer(deployment(bare.objects, 'todo-backend'), 'backend').image, `todo-backend:${SHA}`);
  assert.not.match(prod.text, /:latest\b/);
});

for (const major of helms) {
  test(`helm ${major}: an empty image tag stops the render with the command that fixes it`, () => {
    for (const files of Object.values(valueSets)) {
      const r = helm(major, ['template', RELEASE, chartDir, ...files.flatMap((f) => ['-f', f]), '--set-string', `frontend.image.tag=${SHA}`, ...hostArgs]);
      assert.is.not(r.code, 0);
      assert.match(r.stderr, /backend\.image\.tag is required/);
      assert.match(r.stderr, /--set-string backend\.image\.tag=/);
    }
  });

  test(`helm ${major}: "latest" is refused in production (any case) but allowed in development`, () => {
    for (const tag of ['latest', 'LATEST']) {
      const r = helm(major, ['template', RELEASE, chartDir, '-f', valuesFile, '-f', productionValuesFile, '--set-string', `backend.image.tag=${SHA}`, '--set-string', `frontend.image.tag=${tag}`, ...hostArgs]);
      assert.is.not(r.code, 0);
      assert.match(r.stderr, /frontend\.image\.tag "(latest|LATEST)" is refused when global\.environment is production/);
    }
    const ok = helm(major, ['template', RELEASE, chartDir, '-f', valuesFile, '--set-string', 'backend.image.tag=latest', '--set-string', 'frontend.image.tag=latest']);
    assert.is(ok.code, 0, ok.stderr);
  });
}

test('TLS without a host or secret name is refused', () => {
  const r = helm(3, ['template', RELEASE, chartDir, '-f', valuesFile, ...tagArgs, '--set', 'ingress.enabled=true', '--set', 'ingress.tls.enabled=true', '--set', 'ingress.tls.secretName=x']);
  assert.is.not(r.code, 0);
  assert.match(r.stderr, /ingress\.tls\.enabled needs ingress\.host/);
});

test('the helm test hook Pod checks /api/health on the backend Service and may reach only it', () => {
  const p = new Pod(find(dev.objects, 'Pod', `${RELEASE}-test-backend-health`) as never);
  assert.is(p.metadata?.annotations?.['helm.sh/hook'], 'test');
  assert.is(p.spec?.restartPolicy, 'Never');
  const script = (p.spec?.containers[0]?.args ?? []).join(' ');
  assert.match(script, /curl --fail .*http:\/\/todo-backend:8000\/api\/health/);
  assert.match(script, /"status"/);
  const np = new NetworkPolicy(find(dev.objects, 'NetworkPolicy', `${RELEASE}-test-backend-health`) as never);
  assert.equal(np.spec?.podSelector.matchLabels, { 'app.kubernetes.io/instance': RELEASE, 'app.kubernetes.io/component': 'helm-test' });
});

test('the backend ServiceAccount may get only the named Secrets (for the Dapr kubernetes-secrets store)', () => {
  const role = new Role(find(dev.objects, 'Role', 'todo-backend-secret-reader') as never);
  assert.equal(role.rules, [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['auth-credentials', 'database-credentials', 'openai-credentials', 'redpanda-credentials'], verbs: ['get'] }]);
  const rb = new RoleBinding(find(dev.objects, 'RoleBinding', 'todo-backend-secret-reader') as never);
  assert.equal(rb.subjects, [{ kind: 'ServiceAccount', name: 'todo-backend', namespace: NAMESPACE }]);
});

test('the app has its own namespace: every object names the release namespace, none is in default', () => {
  assert.is.not(NAMESPACE, 'default', 'environments/production.yaml kube.namespace');
  for (const env of ['local', 'staging', 'production']) {
    const ns = (parse(readFileSync(new URL(`../environments/${env}.yaml`, import.meta.url), 'utf8')) as { kube: { namespace: string } }).kube.namespace;
    assert.is(ns, 'todo', `environments/${env}.yaml kube.namespace`);
  }
  for (const objects of [dev.objects, prod.objects, render(3, [...valueSets.production], setArgs.production, 'elsewhere').objects]) {
    const wanted = objects === dev.objects || objects === prod.objects ? NAMESPACE : 'elsewhere';
    for (const o of objects) assert.is(o.metadata.namespace, wanted, `${o.kind}/${o.metadata.name}`);
  }
  // No object carries a checkov skip for the default-namespace check any more: it passes instead.
  assert.not.match(prod.text, /CKV_K8S_21/);
});

test.run();
