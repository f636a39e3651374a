// scripts/rehearse.mts's flow: build (or reuse) and start the local control plane, or take an existing
// kube context; start the app stand-in for smoke; run the steps; print the table; write the report.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { startAppServer } from '../app-standin.ts';
import { ExitCode, OpsError, usageError } from '../errors.ts';
import type { Outcome, ScriptContext } from '../main.ts';
import { startLocalCluster } from './cluster.ts';
import type { LocalCluster } from './cluster.ts';
import { formatRehearsalTable, planSteps, runRehearsal } from './flow.ts';
import { rehearsalEnvironment, writeDummyDotenv, writeRehearsalEnvironment } from './scenarios.ts';
import type { RehearsalTarget } from './scenarios.ts';
import { ensureBinaries, readVersions } from './toolchain.ts';

export interface RehearseInputs {
  keep: boolean;
  context?: string;
  /** With --context: three tags of images that run on that cluster (the steps tell revisions apart by tag). */
  goodTags?: string[];
  helm: string;
  extraValues?: string;
  report?: string;
}

/** The Bicep parameter file whose kubernetesVersion the control plane is built at. */
function bicepParametersOf(ctx: ScriptContext): string {
  return ctx.env.azure?.bicepParameters ?? 'bicep/production.bicepparam';
}

export async function rehearse(ctx: ScriptContext, inputs: RehearseInputs): Promise<Outcome> {
  const { env, log, root } = ctx;
  if (inputs.context && inputs.keep) throw usageError('--keep applies to the local control plane only; with --context the cluster is yours already', 'drop --keep');
  const tags = inputs.goodTags ?? [];
  if (inputs.context && (tags.length !== 3 || new Set(tags).size !== 3)) {
    throw usageError('--context needs --good-tags with three different tags: on a real cluster a pod runs only an image that exists, and the steps tell revisions apart by tag',
      'tag one working build three times and load it, e.g. for kind: docker tag todo-backend:dev todo-backend:dev2 (and dev3, and the same for todo-frontend); kind load docker-image ...; then --good-tags dev,dev2,dev3');
  }
  if (tags.length && !inputs.context) throw usageError('--good-tags applies to --context only: on the local control plane any tag runs', 'drop --good-tags');
  const extraValues = inputs.extraValues ? relative(root, resolve(process.cwd(), inputs.extraValues)) : undefined;
  const simulated = !inputs.context;
  const goodTags: [string, string, string] = inputs.context ? [tags[0]!, tags[1]!, tags[2]!] : ['rehearse-good-1', 'rehearse-good-2', 'rehearse-good-3'];
  const versions = simulated ? readVersions(root, bicepParametersOf(ctx)) : undefined;

  if (ctx.flags.dryRun) {
    const plan = planSteps({ goodTags, env: rehearsalEnvironment(env, { context: inputs.context ?? 'aks-todo-ops-rehearsal', url: 'http://127.0.0.1:PORT' }) });
    log.info([
      simulated
        ? `Plan: build (or reuse from .cache/rehearsal) Kubernetes ${versions!.kubernetes} (production runs ${versions!.aksMinor}), etcd ${versions!.etcd}, kwok ${versions!.kwok} and metrics-server ${versions!.metricsServer}; start them on 127.0.0.1 with a kubeconfig of their own; ${env.azure?.nodeCount.min ?? 2} simulated ${env.azure?.nodeSize ?? 'Standard_D2s_v3'} nodes`
        : `Plan: use kube context ${inputs.context} as it is`,
      `Release ${env.release.name} from ${env.release.chart} with ${[...env.release.valuesFiles, ...(extraValues ? [extraValues] : [])].join(', ')} in namespace ${env.kube.namespace}; helm: ${inputs.helm}`,
      'Steps:',
      ...plan.map((p, i) => `  ${String(i + 1).padStart(2)}. ${p.step}   # ${p.expected}${p.simulatedOnly && !simulated ? ' (skipped on an existing cluster)' : ''}`),
    ].join('\n'));
    return { summary: `rehearse: dry-run: would run ${plan.length} steps on ${simulated ? 'a local control plane' : inputs.context}; nothing was built, started or changed`, result: { plan } };
  }

  const work = mkdtempSync(join(tmpdir(), 'aks-todo-ops-rehearse-'));
  let cluster: LocalCluster | undefined;
  const app = await startAppServer();
  const started = Date.now();
  try {
    let childEnv: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };
    if (simulated) {
      ctx.setState('building the rehearsal control plane');
      const binaries = await log.step('build or reuse the control plane', () => ensureBinaries({ root, bicepParameters: bicepParametersOf(ctx), progress: (l) => log.info(l) }));
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
    const renv = rehearsalEnvironment(env, { context: cluster?.context ?? inputs.context!, url: app.url, ...(extraValues ? { extraValuesFiles: [extraValues] } : {}) });
    const target: RehearsalTarget = {
      root, env: renv, envFile: writeRehearsalEnvironment(work, renv), childEnv, helm: inputs.helm, dotenv: writeDummyDotenv(work), goodTags, simulated,
      progress: (l) => log.info(l),
    };
    ctx.setState('running the rehearsal steps');
    const run = await runRehearsal(target, (r) => {
      if (r.ok) log.info(`${r.observed.startsWith('skipped') ? 'skip' : 'ok  '} ${r.step}: ${r.observed} (${r.seconds.toFixed(1)}s)`);
      else log.warn(`FAILED ${r.step}: expected ${r.expected}; observed ${r.observed}${r.detail ? `\n${r.detail.split('\n').map((l) => `    ${l}`).join('\n')}` : ''}`);
    });
    const table = formatRehearsalTable(run.steps, run.notRun);
    log.info(`Rehearsal of ${env.release.name} (${env.name}) on ${simulated ? `a local Kubernetes ${cluster ? 'control plane' : ''}` : inputs.context}:\n${table}`);
    const reportPath = resolve(process.cwd(), inputs.report ?? join(root, 'reports', `rehearsal-${new Date().toISOString().replace(/[:.]/g, '-')}.json`));
    const report = {
      environment: env.name, kubernetes: versions?.kubernetes ?? null, kwok: versions?.kwok ?? null, context: cluster?.context ?? inputs.context, helm: inputs.helm,
      valuesFiles: renv.release.valuesFiles, ok: run.ok, seconds: Math.round((Date.now() - started) / 100) / 10, steps: run.steps, notRun: run.notRun,
    };
    mkdirSync(dirname(reportPath), { recursive: true });
    writeFileSync(reportPath, `${JSON.stringify(ctx.redactor.redactDeep(report), null, 2)}\n`);
    if (cluster && inputs.keep) {
      log.info(`The cluster keeps running (pids ${Object.entries(cluster.pids).map(([n, p]) => `${n} ${p}`).join(', ')}). Look around with:\n  export KUBECONFIG=${cluster.kubeconfig}\nStop it with: kill ${Object.values(cluster.pids).join(' ')}; rm -rf ${cluster.dir}`);
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
