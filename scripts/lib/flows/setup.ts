// setup: provisions an Azure environment from bicep/ and fetches kube credentials for it.
// preflight (tools, login, subscription, providers, quota, Key Vault name, parameter inputs)
// → what-if, summarised → confirmation → az deployment sub create → outputs → az aks get-credentials
// (+ kubelogin when local accounts are disabled) → summary and the next command. setup.mts parses the flags.
// setupEnvironment reads as the list of those steps; each step is a function below, named for what it does.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AzureSettings, LoadedEnvironment } from '../config.ts';
import type { Outcome, ScriptContext } from '../main.ts';
import type { CheckResult } from '../preflight.ts';
import { assertChecks, checkAzureLogin, checkKubeContext, checkProviders, checkQuota, checkTool } from '../preflight.ts';
import { ExitCode, OpsError, usageError } from '../errors.ts';
import { formatCommand } from '../runner.ts';
import { parseCliJson } from '../cli-json.ts';
import type { BicepParamFile, DeploymentResult, WhatIfSummary } from '../azure.ts';
import {
  DeploymentAnswerSchema, WhatIfAnswerSchema, checkDeletedKeyVault, checkParamsEnvironment, checkParamsReadEnvironment, deploymentName, describeCounts, explainDeploymentFailure,
  formatWhatIf, kubeloginMode, outputString, parseCliError, parseDeployment, parseWhatIf, readBicepParams,
} from '../azure.ts';
import { checkReport } from './checks.ts';

const TEMPLATE = 'bicep/main.bicep';
// ARM deployments of a new AKS cluster take 10-20 minutes; what-if a minute or two.
const WHAT_IF_TIMEOUT_MS = 15 * 60_000;
const DEPLOY_TIMEOUT_MS = 90 * 60_000;

export interface SetupInputs {
  /** --what-if-only: stop after the what-if summary. */
  whatIfOnly: boolean;
  /** --skip-credentials: no az aks get-credentials / kubelogin afterwards. */
  skipCredentials: boolean;
  /** --deployment-name (default: aks-todo-ops-<env>-<location>). */
  deploymentName?: string;
}

/** What every step works from: the environment's Azure settings and the deployment's arguments. */
interface SetupPlan {
  env: LoadedEnvironment;
  azure: AzureSettings;
  name: string;
  params: BicepParamFile;
  /** The Key Vault name the parameters file gets (azure.keyVault, else AZURE_KEY_VAULT_NAME). */
  vaultName: string | undefined;
  /** Variables set for az on top of the shell's. */
  childEnv: Record<string, string>;
  /** Each variable the parameters file reads, with the value it will see. */
  inputs: Record<string, string | null>;
  deployArgs: string[];
}

interface Preflight {
  checks: CheckResult[];
  failed: CheckResult[];
  /** az is there and logged in to the expected subscription: the what-if can run. */
  azReady: boolean;
}

interface Applied {
  deployment: DeploymentResult | undefined;
  deployed: boolean;
}

export async function setupEnvironment(ctx: ScriptContext, options: SetupInputs): Promise<Outcome> {
  const plan = resolvePlan(ctx, options);
  describePlan(ctx, plan);
  const preflight = await runPreflight(ctx, plan, options);
  const whatIf = await runWhatIf(ctx, plan, preflight.azReady);
  const counts = whatIf ? describeCounts(whatIf) : 'unknown (what-if skipped)';
  const baseResult = {
    deploymentName: plan.name,
    parameters: { template: TEMPLATE, file: plan.azure.bicepParameters, inputs: plan.inputs, overrides: {} },
    checks: preflight.checks,
    whatIf: whatIf ? { counts: whatIf.counts, hasChanges: whatIf.hasChanges, deletes: whatIf.deletes, modifies: whatIf.modifies } : null,
  };
  const markdown = whatIfMarkdown(whatIf);
  if (options.whatIfOnly) {
    return { summary: `setup: what-if for ${plan.env.name}: ${counts}; nothing was changed`, result: baseResult, markdown };
  }
  const applied = whatIf && !whatIf.hasChanges ? await readLastDeployment(ctx, plan) : await applyDeployment(ctx, plan, whatIf, counts);
  const context = options.skipCredentials ? skipCredentials(ctx) : await fetchCredentials(ctx, plan);
  const outputs = deploymentOutputs(plan, applied.deployment);
  const next = `npx zx scripts/install-dapr.mts --env ${plan.env.name}`;
  if (!ctx.flags.dryRun) printOutputs(ctx, plan, outputs, context, next);
  const result = { ...baseResult, deployed: applied.deployed, outputs, next };
  return summarise(ctx, plan, { counts, preflight, applied, context, skipCredentials: options.skipCredentials, next, result, markdown });
}

/** Refuses what setup cannot do (a local environment, a bad deployment name, no template) and resolves the deployment's inputs. */
function resolvePlan(ctx: ScriptContext, options: SetupInputs): SetupPlan {
  const { env } = ctx;
  if (env.platform !== 'aks' || !env.azure) {
    throw usageError(
      `setup provisions Azure, but ${env.file} is platform: ${env.platform}; nothing was changed`,
      'for a local cluster start minikube (minikube start) and go on with npx zx scripts/install-dapr.mts --env local; for Azure: npx zx scripts/setup.mts --env production',
    );
  }
  const azure = env.azure;
  const name = options.deploymentName ?? deploymentName(env.name, azure.location);
  if (!/^[-\w.()]{1,64}$/.test(name)) {
    throw usageError(`--deployment-name "${name}" is not a valid ARM deployment name`, 'use 1-64 letters, digits, "-", "_", ".", "(" or ")"');
  }
  if (!existsSync(join(ctx.root, TEMPLATE))) throw usageError(`${TEMPLATE} does not exist`, 'run setup from a full checkout of the repository');
  const params = readBicepParams(ctx.root, azure.bicepParameters);
  // The parameters file reads AZURE_KEY_VAULT_NAME; the environment file's azure.keyVault wins over the shell.
  const vaultName = azure.keyVault ?? (process.env.AZURE_KEY_VAULT_NAME || undefined);
  const childEnv: Record<string, string> = vaultName ? { AZURE_KEY_VAULT_NAME: vaultName } : {};
  const inputs = Object.fromEntries([...params.requiredEnv, ...params.optionalEnv].map((n) => [n, childEnv[n] ?? process.env[n] ?? null]));
  const deployArgs = ['--name', name, '--location', azure.location, '--template-file', TEMPLATE, '--parameters', azure.bicepParameters];
  return { env, azure, name, params, vaultName, childEnv, inputs, deployArgs };
}

function describePlan(ctx: ScriptContext, plan: SetupPlan): void {
  const { log } = ctx;
  log.info(`deployment ${plan.name} in ${plan.azure.location}: template ${TEMPLATE}, parameters ${plan.azure.bicepParameters} (names and sizes from ${plan.env.file})`);
  log.info(`  inputs read from the environment: ${Object.entries(plan.inputs).map(([k, v]) => `${k}=${v ?? '(unset)'}`).join(', ') || 'none'}`);
  log.info('  overrides: none (every value comes from the parameters file)');
}

/**
 * Tools, the parameters file's inputs, then (when az is there) login and subscription, providers, quota
 * and the Key Vault name. A real run stops on a failed required check (exit 3); --dry-run shows the
 * whole plan anyway and says where a real run would stop.
 */
async function runPreflight(ctx: ScriptContext, plan: SetupPlan, options: SetupInputs): Promise<Preflight> {
  const { env, runner, log, flags } = ctx;
  const { azure } = plan;
  ctx.setState('preflight');
  const { checks, report, failed: failedChecks } = checkReport(log);
  let azReady = false;
  await log.step('preflight', async () => {
    report(await checkTool(runner, 'az', true));
    // kubectl and kubelogin are needed only when credentials are fetched (and by every script after setup).
    const needCredentials = !options.skipCredentials && !options.whatIfOnly;
    report(await checkTool(runner, 'kubectl', needCredentials));
    if (!azure.localAccounts) report(await checkTool(runner, 'kubelogin', needCredentials));
    report(checkParamsReadEnvironment(plan.params, env.file));
    report(checkParamsEnvironment(plan.params, { ...process.env, ...plan.childEnv }));
    if (!checks[0]!.ok) {
      log.skip('azure checks', 'az is not available');
      return;
    }
    const login = await checkAzureLogin(runner, env);
    login.forEach(report);
    if (!login.every((c) => c.ok || !c.required)) {
      log.skip('providers, quota and Key Vault checks', 'az is not logged in to the expected subscription');
      return;
    }
    azReady = true;
    (await checkProviders(runner)).forEach(report);
    try {
      report(await checkQuota(runner, azure.location, azure.nodeSize, azure.nodeCount.max));
    } catch (e) {
      report({ name: `vCPU quota for ${azure.nodeCount.max} × ${azure.nodeSize} in ${azure.location}`, ok: false, required: false, detail: `could not read usage: ${(e as Error).message.split('\n')[0] ?? ''}` });
    }
    if (plan.vaultName) report(await checkDeletedKeyVault(runner, plan.vaultName, env.file));
  });
  const failed = failedChecks();
  if (!flags.dryRun) assertChecks(checks);
  else if (failed.length) log.warn(`preflight: ${failed.length} check${failed.length > 1 ? 's' : ''} failed (shown above); a real run would stop here with exit 3`);
  return { checks, failed, azReady };
}

/** az deployment sub what-if, summarised; without a login only printed as the command it would be. */
async function runWhatIf(ctx: ScriptContext, plan: SetupPlan, azReady: boolean): Promise<WhatIfSummary | undefined> {
  const { runner, log } = ctx;
  const whatIfArgs = ['deployment', 'sub', 'what-if', ...plan.deployArgs, '--no-pretty-print', '-o', 'json'];
  if (!azReady) {
    log.plan(formatCommand('az', whatIfArgs), 'read-only; skipped because az is not logged in to the expected subscription');
    log.skip('what-if', 'az is not logged in to the expected subscription');
    return undefined;
  }
  ctx.setState('what-if');
  const whatIf = await log.step('what-if', async () => parseWhatIf(await runner.json(WhatIfAnswerSchema, 'az', whatIfArgs, { mutating: false, env: plan.childEnv, timeoutMs: WHAT_IF_TIMEOUT_MS })));
  for (const l of formatWhatIf(whatIf)) log.info(l);
  return whatIf;
}

/** The what-if as a Markdown table for the job summary, deletes flagged. */
function whatIfMarkdown(whatIf: WhatIfSummary | undefined): string {
  if (!whatIf) return '';
  return [
    '| change | count |', '|---|---|',
    ...Object.entries(whatIf.counts).filter(([, n]) => n > 0).map(([t, n]) => `| ${t} | ${n} |`),
    ...whatIf.deletes.map((d) => `\n⚠️ delete: \`${d.type} ${d.name}\``),
  ].join('\n');
}

/** Nothing to change: no deployment; the outputs of the last run of this deployment name, for the credentials and the summary. */
async function readLastDeployment(ctx: ScriptContext, plan: SetupPlan): Promise<Applied> {
  const { runner, log } = ctx;
  log.info(`no changes: every resource in ${TEMPLATE} already matches Azure; the deployment is skipped`);
  log.skip('deploy', 'what-if shows no changes');
  const last = await runner.run('az', ['deployment', 'sub', 'show', '--name', plan.name, '-o', 'json'], { allowFailure: true, mutating: false });
  if (last.exitCode !== 0) return { deployment: undefined, deployed: false };
  try {
    return { deployment: parseDeployment(parseCliJson(last, DeploymentAnswerSchema)), deployed: false };
  } catch {
    return { deployment: undefined, deployed: false };
  }
}

/** Confirms (naming any deletes), then az deployment sub create; a failure is explained from the deployment's operations. */
async function applyDeployment(ctx: ScriptContext, plan: SetupPlan, whatIf: WhatIfSummary | undefined, counts: string): Promise<Applied> {
  const { runner, log, flags } = ctx;
  const { name } = plan;
  const deletes = whatIf?.deletes ?? [];
  const question = deletes.length
    ? `The deployment would DELETE ${deletes.length} resource${deletes.length > 1 ? 's' : ''}: ${deletes.map((d) => `${d.type} ${d.name}`).join(', ')}. Apply ${name} (${counts})?`
    : `Apply ${name} to Azure (${counts})?`;
  await ctx.confirm(question);
  if (deletes.length && flags.yes && !flags.dryRun) log.warn(`--yes given: ${deletes.length} resource${deletes.length > 1 ? 's' : ''} will be deleted (${deletes.map((d) => d.name).join(', ')})`);
  ctx.setState(`az deployment sub create ${name}`);
  const deployment = await log.step('deploy', async () => {
    const r = await runner.run('az', ['deployment', 'sub', 'create', ...plan.deployArgs, '-o', 'json'], {
      allowFailure: true, env: plan.childEnv, timeoutMs: DEPLOY_TIMEOUT_MS, note: `parameters ${plan.azure.bicepParameters}`,
    });
    if (r.dryRun) return undefined;
    let result: DeploymentResult | undefined;
    if (r.exitCode === 0) {
      try { result = parseDeployment(parseCliJson(r, DeploymentAnswerSchema)); } catch { result = undefined; }
    }
    if (r.exitCode === 0 && result?.provisioningState === 'Succeeded') return result;
    if (r.timedOut) {
      throw new OpsError(`az deployment sub create ${name} did not finish within ${DEPLOY_TIMEOUT_MS / 60_000} minutes and was stopped; the deployment may still be running in Azure`, {
        hint: `az deployment sub show --name ${name} --query properties.provisioningState -o tsv   (re-run setup once it is no longer Running)`,
      });
    }
    const why = await explainDeploymentFailure(runner, name);
    const headline = parseCliError(r.stderr)?.split('\n')[0] ?? result?.error?.split('\n')[0] ?? (r.stderr.trim().split('\n')[0] || `provisioningState ${result?.provisioningState ?? 'unknown'}`);
    throw new OpsError(`deployment ${name} failed: ${headline}\n${why.lines.map((l) => `  ${l}`).join('\n')}`, {
      hint: `fix the cause above and re-run setup (deployments are incremental: what succeeded stays). Raw operations: az deployment operation sub list --name ${name} -o json`,
    });
  });
  return { deployment, deployed: !flags.dryRun };
}

function skipCredentials(ctx: ScriptContext): undefined {
  ctx.log.skip('kube credentials', '--skip-credentials');
  return undefined;
}

/**
 * az aks get-credentials for the environment's cluster (the parameters file deployed exactly the names
 * the environment file holds), kubelogin when local accounts are off, then the context check.
 * Returns the kube context when it is the one the environment file names.
 */
async function fetchCredentials(ctx: ScriptContext, plan: SetupPlan): Promise<string | undefined> {
  const { env, runner, log, flags } = ctx;
  const { azure } = plan;
  ctx.setState('fetching kube credentials');
  const mode = kubeloginMode(process.env);
  await log.step('kube credentials', async () => {
    await runner.run('az', ['aks', 'get-credentials', '--resource-group', azure.resourceGroup, '--name', azure.cluster, '--overwrite-existing'], { note: 'merges the context into ~/.kube/config' });
    if (!azure.localAccounts) {
      await runner.run('kubelogin', ['convert-kubeconfig', '-l', mode], { note: `local accounts are disabled: kubectl authenticates through kubelogin (${mode})` });
    }
  });
  if (flags.dryRun) return undefined;
  const c = await checkKubeContext(runner, env);
  if (!c.ok) log.warn(`after get-credentials: ${c.detail}, but ${env.file} names "${env.kube.context}" (set kube.context to the cluster name)`);
  return c.ok ? env.kube.context : undefined;
}

interface SetupOutputs {
  resourceGroup: string;
  cluster: string;
  registryLoginServer: string | null;
  githubIdentityClientId: string | null;
  keyVaultUri: string | null;
  logAnalyticsWorkspace: string | null;
}

/** The deployment's outputs an operator needs next; names fall back to the environment file's. */
function deploymentOutputs(plan: SetupPlan, deployment: DeploymentResult | undefined): SetupOutputs {
  const out = (key: string) => (deployment ? outputString(deployment, key) : undefined);
  return {
    resourceGroup: out('resourceGroupName') ?? plan.azure.resourceGroup,
    cluster: out('clusterName') ?? plan.azure.cluster,
    registryLoginServer: out('registryLoginServer') ?? null,
    githubIdentityClientId: out('githubIdentityClientId') ?? null,
    keyVaultUri: out('keyVaultUri') ?? null,
    logAnalyticsWorkspace: out('logAnalyticsWorkspaceName') ?? null,
  };
}

/** The outputs table, the GitHub OIDC variables to set once, and the next command. */
function printOutputs(ctx: ScriptContext, plan: SetupPlan, outputs: SetupOutputs, context: string | undefined, next: string): void {
  const { log } = ctx;
  const row = (label: string, value: string | null, note = '') => log.info(`  ${label.padEnd(24)}${value ?? '(not available)'}${note}`);
  log.info('outputs:');
  row('resource group', outputs.resourceGroup);
  row('cluster', outputs.cluster, context ? `   (kube context ${context})` : '');
  row('registry login server', outputs.registryLoginServer);
  row('GitHub OIDC client id', outputs.githubIdentityClientId, outputs.githubIdentityClientId ? '   (repository variable AZURE_CLIENT_ID)' : '');
  row('Key Vault URI', outputs.keyVaultUri ?? (plan.vaultName ? null : '(none: no Key Vault configured)'));
  row('Log Analytics workspace', outputs.logAnalyticsWorkspace);
  if (outputs.githubIdentityClientId) {
    log.info('GitHub OIDC, once per repository (docs/azure-setup.md):');
    log.info(`  gh variable set AZURE_CLIENT_ID --body ${outputs.githubIdentityClientId}`);
    log.info('  gh variable set AZURE_TENANT_ID --body "$(az account show --query tenantId -o tsv)"');
    log.info('  gh variable set AZURE_SUBSCRIPTION_ID --body "$(az account show --query id -o tsv)"');
  }
  log.info(`next: ${next}`);
}

/** The summary line and exit code. */
function summarise(ctx: ScriptContext, plan: SetupPlan, o: {
  counts: string; preflight: Preflight; applied: Applied; context: string | undefined; skipCredentials: boolean; next: string; result: Record<string, unknown>; markdown: string;
}): Outcome {
  const { env, flags } = ctx;
  const { result, markdown } = o;
  if (flags.dryRun) {
    const failed = o.preflight.failed.length;
    const problems = failed ? `; preflight: ${failed} failed check${failed > 1 ? 's' : ''}` : '';
    return { summary: `setup (dry-run): nothing was changed for ${env.name}; what-if: ${o.counts}${problems}`, result, markdown };
  }
  const duration = o.applied.deployment?.duration;
  const what = o.applied.deployed ? `deployed ${plan.name} (${o.counts}${duration ? `, ${duration}` : ''})` : 'no changes, deployment skipped';
  const creds = o.skipCredentials ? 'credentials not fetched' : `kube credentials for ${plan.azure.cluster} ${o.context ? 'are current' : 'fetched'}`;
  return { summary: `setup: ${env.name}: ${what}; ${creds}; next: ${o.next}`, exitCode: ExitCode.ok, result, markdown };
}
