// scripts/rehearse.mts's flow: build (or reuse) and start the local control plane, or take an existing
// kube context; start the app stand-in for smoke; run the steps; print the table; write the report.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { startAppServer } from '../app-standin.ts';
import { ExitCode, OpsError, usageError } from '../errors.ts';
import type { Outcome, ScriptContext } from '../main.ts';
import { REHEARSAL_CONTEXT, REHEARSAL_POLICY, startLocalCluster } from './cluster.ts';
import type { LocalCluster } from './cluster.ts';
import { formatRehearsalTable, planSteps, runRehearsal } from './flow.ts';
import { ingressHostValues, rehearsalEnvironment, writeDummyDotenv, writeRehearsalEnvironment } from './scenarios.ts';
import type { RehearsalTarget } from './scenarios.ts';
import { ensureBinaries, readVersions } from './toolchain.ts';

export interface RehearseInputs {
  keep: boolean;
  context?: string;
  /** With --context: three tags of images that run on that cluster (the steps tell revisions apart by tag). */
  goodTags?: string[];
  helm: string;
  extraValues?: string;
  /** Rehearse in this namespace instead of the environment's kube.namespace. */
  namespace?: string;
  /** Only these steps (--steps, numbered from 1); the rest are skipped. */
  steps?: string[];
  report?: string;
}

/** A Kubernetes namespace name: an RFC 1123 label. */
const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * Whether a kube context is a rehearsal control plane (one left running by --keep, or the one `npm test`
 * shares between its suites): every node is a kwok node and the rehearsal's admission policy is in place.
 * Then the simulated failures can run there too, and any tag runs.
 */
async function isRehearsalCluster(ctx: ScriptContext, context: string): Promise<boolean> {
  const read = (args: string[]) => ctx.runner.run('kubectl', ['--context', context, ...args], { mutating: false, allowFailure: true });
  const [nodes, policy] = await Promise.all([read(['get', 'nodes', '-o', 'json']), read(['get', 'validatingadmissionpolicy', REHEARSAL_POLICY, '-o', 'name'])]);
  if (nodes.exitCode !== 0 || policy.exitCode !== 0) return false;
  try {
    const items = (JSON.parse(nodes.stdout) as { items: Array<{ metadata: { annotations?: Record<string, string> } }> }).items;
    return items.length > 0 && items.every((n) => n.metadata.annotations?.['kwok.x-k8s.io/node'] === 'fake');
  } catch {
    return false;
  }
}

/** The environment file whose azure.kubernetesVersion the control plane is built at: this one, or production's for a local one. */
function kubernetesVersionSource(ctx: ScriptContext): string {
  return ctx.env.azure ? ctx.env.file : 'environments/production.yaml';
}

export async function rehearse(ctx: ScriptContext, inputs: RehearseInputs): Promise<Outcome> {
  const { env, log, root } = ctx;
  if (inputs.context && inputs.keep) throw usageError('--keep applies to the local control plane only; with --context the cluster is yours already', 'drop --keep');
  const tags = inputs.goodTags ?? [];
  const needTags = () => usageError('--context needs --good-tags with three different tags: on a real cluster a pod runs only an image that exists, and the steps tell revisions apart by tag (a rehearsal control plane left running by --keep needs none)',
    'tag one working build three times and load it, e.g. for kind: docker tag todo-backend:dev todo-backend:dev2 (and dev3, and the same for todo-frontend); kind load docker-image ...; then --good-tags dev,dev2,dev3');
  if (tags.length && !inputs.context) throw usageError('--good-tags applies to --context only: on the local control plane any tag runs', 'drop --good-tags');
  if (inputs.context && tags.length && (tags.length !== 3 || new Set(tags).size !== 3)) throw needTags();
  if (inputs.namespace !== undefined && !NAMESPACE_NAME.test(inputs.namespace)) {
    throw usageError(`--namespace ${inputs.namespace} is not a namespace name: lower-case letters, digits and '-', at most 63, starting and ending with a letter or digit`, 'e.g. --namespace rehearsal-2');
  }
  const stepCount = planSteps({ goodTags: ['a', 'b', 'c'], env: rehearsalEnvironment(env, { context: REHEARSAL_CONTEXT, url: '' }) }).length;
  const only = inputs.steps ? new Set(inputs.steps.map(Number)) : undefined;
  const badStep = inputs.steps?.find((n) => !/^\d+$/.test(n) || Number(n) < 1 || Number(n) > stepCount);
  if (badStep !== undefined) throw usageError(`--steps ${inputs.steps!.join(',')}: "${badStep}" is not a step number from 1 to ${stepCount}`, 'npx zx scripts/rehearse.mts --env production --dry-run lists the steps');
  const extraValues = inputs.extraValues ? relative(root, resolve(process.cwd(), inputs.extraValues)) : undefined;
  // An existing cluster without --good-tags must be a rehearsal control plane (kwok runs any tag there);
  // only reads so far, so a refusal changes nothing.
  const onRehearsalCluster = inputs.context !== undefined && tags.length === 0 && await isRehearsalCluster(ctx, inputs.context);
  if (inputs.context && !tags.length && !onRehearsalCluster) throw needTags();
  /** kwok plays the kubelet: the simulated failures can run, and any tag runs. */
  const simulated = !inputs.context || onRehearsalCluster;
  const goodTags: [string, string, string] = tags.length ? [tags[0]!, tags[1]!, tags[2]!] : ['rehearse-good-1', 'rehearse-good-2', 'rehearse-good-3'];
  const versions = inputs.context ? undefined : readVersions(root, kubernetesVersionSource(ctx));
  const where = { ...(extraValues ? { extraValuesFiles: [extraValues] } : {}), ...(inputs.namespace ? { namespace: inputs.namespace } : {}) };

  if (ctx.flags.dryRun) {
    const planEnv = rehearsalEnvironment(env, { context: inputs.context ?? REHEARSAL_CONTEXT, url: 'http://127.0.0.1:PORT', ...where, extraValuesFiles: [...ingressHostValues('<work dir>', env, { write: false }), ...where.extraValuesFiles ?? []] });
    const plan = planSteps({ goodTags, env: planEnv });
    log.info([
      versions
        ? `Plan: build (or reuse from .cache/rehearsal) Kubernetes ${versions.kubernetes} (production runs ${versions.aksMinor}), etcd ${versions.etcd}, kwok ${versions.kwok} and metrics-server ${versions.metricsServer}; start them on 127.0.0.1 with a kubeconfig of their own; ${env.azure?.nodeCount.min ?? 2} simulated ${env.azure?.nodeSize ?? 'Standard_D2s_v3'} nodes`
        : `Plan: use kube context ${inputs.context} as it is${onRehearsalCluster ? ' (a rehearsal control plane: kwok simulates the failures there too)' : ''}`,
      `Release ${planEnv.release.name} from ${planEnv.release.chart} with ${planEnv.release.valuesFiles.join(', ')} in namespace ${planEnv.kube.namespace}; helm: ${inputs.helm}`,
      'Steps:',
      ...plan.map((p, i) => `  ${String(i + 1).padStart(2)}. ${p.step}   # ${p.expected}${only && !only.has(i + 1) ? ' (skipped: not in --steps)' : p.simulatedOnly && !simulated ? ' (skipped on an existing cluster)' : ''}`),
    ].join('\n'));
    return { summary: `rehearse: dry-run: would run ${plan.length} steps on ${inputs.context ?? 'a local control plane'}; nothing was built, started or changed`, result: { plan } };
  }

  const work = mkdtempSync(join(tmpdir(), 'aks-todo-ops-rehearse-'));
  let cluster: LocalCluster | undefined;
  const app = await startAppServer();
  const started = Date.now();
  try {
    let childEnv: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };
    if (!inputs.context) {
      ctx.setState('building the rehearsal control plane');
      const binaries = await log.step('build or reuse the control plane', () => ensureBinaries({ root, environmentFile: kubernetesVersionSource(ctx), progress: (l) => log.info(l) }));
      ctx.setState('starting the rehearsal control plane');
      cluster = await log.step(`start Kubernetes ${binaries.versions.kubernetes} on loopback`, () => startLocalCluster({
        binaries, root, nodes: env.azure?.nodeCount.min ?? 2, nodeSize: env.azure?.nodeSize ?? 'Standard_D2s_v3', keep: inputs.keep, progress: (l) => log.info(l),
      }));
      childEnv = { ...childEnv, KUBECONFIG: cluster.kubeconfig };
    } else {
      // The scripts' context guard reads the current context: give them a kubeconfig of that one context
      // instead of switching the user's (theirs is never written).
      const r = await ctx.runner.run('kubectl', ['config', 'view', '--minify', '--flatten', '--context', inputs.context!], { mutating: false, allowFailure: true, outputHoldsSecrets: true });
      if (r.exitCode !== 0) throw new OpsError(`kube context ${inputs.context} not found: ${r.stderr.trim().split('\n')[0] ?? ''}`, { hint: 'kubectl config get-contexts lists them', exitCode: ExitCode.preflight });
      const kubeconfig = join(work, 'kubeconfig');
      writeFileSync(kubeconfig, r.stdout, { mode: 0o600 });
      childEnv = { ...childEnv, KUBECONFIG: kubeconfig };
    }
    const renv = rehearsalEnvironment(env, { context: cluster?.context ?? inputs.context!, url: app.url, ...where, extraValuesFiles: [...ingressHostValues(work, env, { write: true }), ...where.extraValuesFiles ?? []] });
    const target: RehearsalTarget = {
      root, env: renv, envFile: writeRehearsalEnvironment(work, renv), childEnv, helm: inputs.helm, dotenv: writeDummyDotenv(work), goodTags, simulated, ...(only ? { only } : {}),
      progress: (l) => log.info(l),
    };
    ctx.setState('running the rehearsal steps');
    const run = await runRehearsal(target, (r) => {
      if (r.ok) log.info(`${r.observed.startsWith('skipped') ? 'skip' : 'ok  '} ${r.step}: ${r.observed} (${r.seconds.toFixed(1)}s)`);
      else log.warn(`FAILED ${r.step}: expected ${r.expected}; observed ${r.observed}${r.detail ? `\n${r.detail.split('\n').map((l) => `    ${l}`).join('\n')}` : ''}`);
    });
    const table = formatRehearsalTable(run.steps, run.notRun);
    log.info(`Rehearsal of ${env.release.name} (${env.name}) in namespace ${renv.kube.namespace} on ${cluster ? 'a local Kubernetes control plane' : inputs.context}:\n${table}`);
    const reportPath = resolve(process.cwd(), inputs.report ?? join(root, 'reports', `rehearsal-${new Date().toISOString().replace(/[:.]/g, '-')}.json`));
    const report = {
      environment: env.name, namespace: renv.kube.namespace, kubernetes: versions?.kubernetes ?? null, kwok: versions?.kwok ?? null, context: cluster?.context ?? inputs.context, helm: inputs.helm,
      valuesFiles: renv.release.valuesFiles, ok: run.ok, seconds: Math.round((Date.now() - started) / 100) / 10, steps: run.steps, notRun: run.notRun,
    };
    mkdirSync(dirname(reportPath), { recursive: true });
    writeFileSync(reportPath, `${JSON.stringify(ctx.redactor.redactDeep(report), null, 2)}\n`);
    if (cluster && inputs.keep) {
      log.info(`The cluster keeps running (pids ${Object.entries(cluster.pids).map(([n, p]) => `${n} ${p}`).join(', ')}). Look around with:\n  export KUBECONFIG=${cluster.kubeconfig}\nRehearse again on it (no start-up), in a fresh namespace:\n  KUBECONFIG=${cluster.kubeconfig} npx zx scripts/rehearse.mts --env ${env.name} --context ${cluster.context} --namespace rehearsal-2\nStop it with: kill ${Object.values(cluster.pids).join(' ')}; rm -rf ${cluster.dir}`);
    }
    const failed = run.steps.filter((s) => !s.ok);
    const passed = run.steps.filter((s) => s.ok && !s.observed.startsWith('skipped')).length;
    return {
      summary: failed.length
        ? `rehearse: step ${run.steps.indexOf(failed[0]!) + 1} of ${run.steps.length + run.notRun.length} failed (${failed[0]!.step}: ${failed[0]!.observed.slice(0, 200)}); ${run.notRun.length} later steps not run; report ${relative(process.cwd(), reportPath)}`
        : `rehearse: ${passed} steps passed${run.steps.length > passed ? `, ${run.steps.length - passed} skipped` : ''} in ${Math.round((Date.now() - started) / 1000)}s; report ${relative(process.cwd(), reportPath)}`,
      result: { report: reportPath, steps: run.steps, ...(cluster && inputs.keep ? { kubeconfig: cluster.kubeconfig } : {}) },
      ...(failed.length ? { exitCode: ExitCode.failed, hint: 'the table above names the step and what it observed; the report holds each failed script\'s last lines' } : {}),
    };
  } catch (e) {
    if (e instanceof OpsError) throw e;
    throw new OpsError(`rehearsal stopped: ${(e as Error).message}`, { cause: e });
  } finally {
    await app.close();
    if (cluster && !inputs.keep) await cluster.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
