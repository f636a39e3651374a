// setup: provisions an Azure environment from bicep/ and fetches kube credentials for it.
// preflight (tools, login, subscription, providers, quota, Key Vault name, parameter inputs)
// → what-if, summarised → confirmation → az deployment sub create → outputs → az aks get-credentials
// (+ kubelogin when local accounts are disabled) → summary and the next command. setup.mts parses the flags.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Outcome, ScriptContext } from '../main.ts';
import { assertChecks, checkAzureLogin, checkKubeContext, checkProviders, checkQuota, checkTool } from '../preflight.ts';
import { ExitCode, OpsError, usageError } from '../errors.ts';
import { formatCommand } from '../runner.ts';
import { parseCliJson } from '../cli-json.ts';
import type { DeploymentResult, WhatIfSummary } from '../azure.ts';
import {
  DeploymentAnswerSchema, WhatIfAnswerSchema, checkDeletedKeyVault, checkParamsEnvironment, checkParamsMatchEnvironment, deploymentName, describeCounts, explainDeploymentFailure,
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

export async function setupEnvironment(ctx: ScriptContext, options: SetupInputs): Promise<Outcome> {
  const { env, runner, log, flags } = ctx;
  if (env.platform !== 'aks' || !env.azure) {
    throw usageError(
      `setup provisions Azure, but ${env.file} is platform: ${env.platform}; nothing was changed`,
      'for a local cluster start minikube (minikube start) and go on with npx zx scripts/install-dapr.mts --env local; for Azure: npx zx scripts/setup.mts --env production',
    );
  }
  const azure = env.azure;
  const { whatIfOnly, skipCredentials } = options;
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

  log.info(`deployment ${name} in ${azure.location}: template ${TEMPLATE}, parameters ${azure.bicepParameters}`);
  log.info(`  inputs read from the environment: ${Object.entries(inputs).map(([k, v]) => `${k}=${v ?? '(unset)'}`).join(', ') || 'none'}`);
  log.info('  overrides: none (every value comes from the parameters file)');

  // ---------- preflight ----------
  ctx.setState('preflight');
  const { checks, report, failed: failedChecks } = checkReport(log);
  let azReady = false;
  await log.step('preflight', async () => {
    report(await checkTool(runner, 'az', true));
    // kubectl and kubelogin are needed only when credentials are fetched (and by every script after setup).
    const needCredentials = !skipCredentials && !whatIfOnly;
    report(await checkTool(runner, 'kubectl', needCredentials));
    if (!azure.localAccounts) report(await checkTool(runner, 'kubelogin', needCredentials));
    report(checkParamsMatchEnvironment(params, azure, env.file, env.kube.namespace));
    report(checkParamsEnvironment(params, { ...process.env, ...childEnv }));
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
    if (vaultName) report(await checkDeletedKeyVault(runner, vaultName, env.file));
  });
  const failed = failedChecks();
  // --dry-run shows the whole plan even when preflight fails; a real run stops here (exit 3).
  if (!flags.dryRun) assertChecks(checks);
  else if (failed.length) log.warn(`preflight: ${failed.length} check${failed.length > 1 ? 's' : ''} failed (shown above); a real run would stop here with exit 3`);

  // ---------- what-if ----------
  const whatIfArgs = ['deployment', 'sub', 'what-if', ...deployArgs, '--no-pretty-print', '-o', 'json'];
  let whatIf: WhatIfSummary | undefined;
  if (azReady) {
    ctx.setState('what-if');
    whatIf = await log.step('what-if', async () => parseWhatIf(await runner.json(WhatIfAnswerSchema, 'az', whatIfArgs, { mutating: false, env: childEnv, timeoutMs: WHAT_IF_TIMEOUT_MS })));
    for (const l of formatWhatIf(whatIf)) log.info(l);
  } else {
    log.plan(formatCommand('az', whatIfArgs), 'read-only; skipped because az is not logged in to the expected subscription');
    log.skip('what-if', 'az is not logged in to the expected subscription');
  }
  const counts = whatIf ? describeCounts(whatIf) : 'unknown (what-if skipped)';
  const baseResult = {
    deploymentName: name,
    parameters: { template: TEMPLATE, file: azure.bicepParameters, inputs, overrides: {} },
    checks,
    whatIf: whatIf ? { counts: whatIf.counts, hasChanges: whatIf.hasChanges, deletes: whatIf.deletes, modifies: whatIf.modifies } : null,
  };
  const markdown = whatIf
    ? ['| change | count |', '|---|---|', ...Object.entries(whatIf.counts).filter(([, n]) => n > 0).map(([t, n]) => `| ${t} | ${n} |`), ...whatIf.deletes.map((d) => `\n⚠️ delete: \`${d.type} ${d.name}\``)].join('\n')
    : '';

  if (whatIfOnly) {
    return { summary: `setup: what-if for ${env.name}: ${counts}; nothing was changed`, result: baseResult, markdown };
  }

  // ---------- deploy ----------
  let deployment: DeploymentResult | undefined;
  let deployed = false;
  if (whatIf && !whatIf.hasChanges) {
    log.info(`no changes: every resource in ${TEMPLATE} already matches Azure; the deployment is skipped`);
    log.skip('deploy', 'what-if shows no changes');
    // The outputs of the last run of this deployment name, for the credentials and the summary.
    const last = await runner.run('az', ['deployment', 'sub', 'show', '--name', name, '-o', 'json'], { allowFailure: true, mutating: false });
    if (last.exitCode === 0) {
      try { deployment = parseDeployment(parseCliJson(last, DeploymentAnswerSchema)); } catch { deployment = undefined; }
    }
  } else {
    const deletes = whatIf?.deletes ?? [];
    const question = deletes.length
      ? `The deployment would DELETE ${deletes.length} resource${deletes.length > 1 ? 's' : ''}: ${deletes.map((d) => `${d.type} ${d.name}`).join(', ')}. Apply ${name} (${counts})?`
      : `Apply ${name} to Azure (${counts})?`;
    await ctx.confirm(question);
    if (deletes.length && flags.yes && !flags.dryRun) log.warn(`--yes given: ${deletes.length} resource${deletes.length > 1 ? 's' : ''} will be deleted (${deletes.map((d) => d.name).join(', ')})`);
    ctx.setState(`az deployment sub create ${name}`);
    deployment = await log.step('deploy', async () => {
      const r = await runner.run('az', ['deployment', 'sub', 'create', ...deployArgs, '-o', 'json'], {
        allowFailure: true, env: childEnv, timeoutMs: DEPLOY_TIMEOUT_MS, note: `parameters ${azure.bicepParameters}`,
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
    deployed = !flags.dryRun;
  }

  // ---------- credentials ----------
  const out = (key: string) => (deployment ? outputString(deployment, key) : undefined);
  const rg = out('resourceGroupName') ?? azure.resourceGroup;
  const cluster = out('clusterName') ?? azure.cluster;
  if (cluster !== azure.cluster || rg !== azure.resourceGroup) {
    log.warn(`the deployment created ${cluster} in ${rg}, but ${env.file} names ${azure.cluster} in ${azure.resourceGroup}: fix the environment file so the other scripts find the cluster`);
  }
  let context: string | undefined;
  if (skipCredentials) {
    log.skip('kube credentials', '--skip-credentials');
  } else {
    ctx.setState('fetching kube credentials');
    const mode = kubeloginMode(process.env);
    await log.step('kube credentials', async () => {
      await runner.run('az', ['aks', 'get-credentials', '--resource-group', rg, '--name', cluster, '--overwrite-existing'], { note: 'merges the context into ~/.kube/config' });
      if (!azure.localAccounts) {
        await runner.run('kubelogin', ['convert-kubeconfig', '-l', mode], { note: `local accounts are disabled: kubectl authenticates through kubelogin (${mode})` });
      }
    });
    if (!flags.dryRun) {
      const c = await checkKubeContext(runner, env);
      context = c.ok ? env.kube.context : undefined;
      if (!c.ok) log.warn(`after get-credentials: ${c.detail}, but ${env.file} names "${env.kube.context}" (set kube.context to the cluster name)`);
    }
  }

  // ---------- summary ----------
  const outputs = {
    resourceGroup: rg,
    cluster,
    registryLoginServer: out('registryLoginServer') ?? null,
    githubIdentityClientId: out('githubIdentityClientId') ?? null,
    keyVaultUri: out('keyVaultUri') ?? null,
    logAnalyticsWorkspace: out('logAnalyticsWorkspaceName') ?? null,
  };
  const next = `npx zx scripts/install-dapr.mts --env ${env.name}`;
  if (!flags.dryRun) {
    const row = (label: string, value: string | null, note = '') => log.info(`  ${label.padEnd(24)}${value ?? '(not available)'}${note}`);
    log.info('outputs:');
    row('resource group', outputs.resourceGroup);
    row('cluster', outputs.cluster, context ? `   (kube context ${context})` : '');
    row('registry login server', outputs.registryLoginServer);
    row('GitHub OIDC client id', outputs.githubIdentityClientId, outputs.githubIdentityClientId ? '   (repository variable AZURE_CLIENT_ID)' : '');
    row('Key Vault URI', outputs.keyVaultUri ?? (vaultName ? null : '(none: no Key Vault configured)'));
    row('Log Analytics workspace', outputs.logAnalyticsWorkspace);
    if (outputs.githubIdentityClientId) {
      log.info('GitHub OIDC, once per repository (docs/azure-setup.md):');
      log.info(`  gh variable set AZURE_CLIENT_ID --body ${outputs.githubIdentityClientId}`);
      log.info('  gh variable set AZURE_TENANT_ID --body "$(az account show --query tenantId -o tsv)"');
      log.info('  gh variable set AZURE_SUBSCRIPTION_ID --body "$(az account show --query id -o tsv)"');
    }
    log.info(`next: ${next}`);
  }

  const result = { ...baseResult, deployed, outputs, next };
  if (flags.dryRun) {
    const problems = failed.length ? `; preflight: ${failed.length} failed check${failed.length > 1 ? 's' : ''}` : '';
    return { summary: `setup (dry-run): nothing was changed for ${env.name}; what-if: ${counts}${problems}`, result, markdown };
  }
  const what = deployed ? `deployed ${name} (${counts}${deployment?.duration ? `, ${deployment.duration}` : ''})` : `no changes, deployment skipped`;
  const creds = skipCredentials ? 'credentials not fetched' : `kube credentials for ${cluster} ${context ? 'are current' : 'fetched'}`;
  return { summary: `setup: ${env.name}: ${what}; ${creds}; next: ${next}`, exitCode: ExitCode.ok, result, markdown };
}
