#!/usr/bin/env -S npx zx
// rehearse: the whole release cycle on a real Kubernetes control plane, before touching Azure. The
// flow is in lib/rehearsal/rehearse.ts; the control plane in lib/rehearsal/{toolchain,cluster,metrics}.ts.
import { runMain } from './lib/main.ts';
import type { ScriptSpec } from './lib/flags.ts';
import { rehearse } from './lib/rehearsal/rehearse.ts';

export const spec: ScriptSpec = {
  name: 'rehearse',
  summary: 'rehearse secrets, Dapr manifests, deploys, automatic rollbacks, rollback.mts and the HPA on a real local Kubernetes control plane',
  description: [
    'Builds (first run only, cached in .cache/rehearsal) kube-apiserver, kube-controller-manager, kube-scheduler and',
    'etcd at the Kubernetes version production runs (azure.kubernetesVersion, environments/production.yaml), plus kwok to simulate nodes and pods;',
    'starts them on 127.0.0.1 with a kubeconfig of their own; then runs the real scripts, unchanged, against it: secrets,',
    'install-dapr --components-only, good deploys, crash loop / image pull / config error / never-ready deploys that must',
    'roll back (exit 4), a FAILED revision the rollback must skip, a helm upgrade killed mid-flight, rollback.mts, and',
    'load.mts with a k6 stand-in whose load is kwok\'s simulated CPU: the real HPA (metrics-server built too) scales the backend.',
    'Ends with a table (step, expected, observed, time) and a JSON report. Needs Go for the first build (the version the go.mod files in rehearsal/ ask for).',
    '--env picks the environment whose chart, values files and names are rehearsed (production: its values files).',
    'Exit codes: 0 every step as expected; 1 a step was not; 2 usage; 3 preflight (no Go, build failed).',
  ].join('\n'),
  flags: [
    { name: 'keep', type: 'boolean', description: 'leave the local cluster running afterwards and print its KUBECONFIG line' },
    { name: 'context', type: 'string', value: 'NAME', description: 'rehearse on this existing kube context (kind, minikube, k3d, or a rehearsal cluster kept with --keep) instead; nothing is built' },
    { name: 'good-tags', type: 'list', value: 'T1,T2,T3', description: 'with --context: three tags of images that run on that cluster (not needed on a rehearsal cluster)' },
    { name: 'steps', type: 'list', value: 'N,N,...', description: 'run only these steps (numbered as --dry-run lists them); a later step may need an earlier one, e.g. a deploy needs step 1\'s Secrets' },
    { name: 'namespace', type: 'string', value: 'NAME', description: 'rehearse in this namespace instead of the environment\'s kube.namespace (e.g. a fresh one on a kept cluster)' },
    { name: 'helm', type: 'string', value: 'PATH', default: 'helm', description: 'the helm binary the rehearsal\'s own helm calls use (the scripts use the first helm on PATH)' },
    { name: 'values', type: 'string', value: 'FILE', description: 'one more values file after the environment\'s, e.g. to try a change before committing it' },
    { name: 'report', type: 'string', value: 'PATH', description: 'where to write the JSON report (default: reports/rehearsal-<time>.json)' },
  ],
  examples: [
    'npx zx scripts/rehearse.mts --env production',
    'npx zx scripts/rehearse.mts --env production --keep',
    'npx zx scripts/rehearse.mts --env production --values my-change.yaml',
    'npx zx scripts/rehearse.mts --env production --dry-run',
    'KUBECONFIG=/tmp/aks-todo-ops-rehearsal-XXXX/kubeconfig npx zx scripts/rehearse.mts --env production --context aks-todo-ops-rehearsal --namespace rehearsal-2',
  ],
};

await runMain(spec, async (ctx) => {
  const { flags } = ctx;
  const context = flags.string('context');
  const extraValues = flags.string('values');
  const report = flags.string('report');
  const namespace = flags.string('namespace');
  const steps = flags.list('steps');
  return rehearse(ctx, {
    keep: flags.boolean('keep'),
    helm: flags.string('helm') ?? 'helm',
    goodTags: flags.list('good-tags'),
    ...(context !== undefined ? { context } : {}),
    ...(extraValues !== undefined ? { extraValues } : {}),
    ...(report !== undefined ? { report } : {}),
    ...(namespace !== undefined ? { namespace } : {}),
    ...(steps.length ? { steps } : {}),
  });
});
