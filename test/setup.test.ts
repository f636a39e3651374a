// setup.mts against the fake az/kubectl/kubelogin: preflight failures, what-if, confirmation,
// deployment, failure explanation, retries, dry-run and the credentials step.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { FakeWorld, line } from './support/harness.ts';
import type { Call, Scenario } from './support/harness.ts';
import { repoRoot } from './support/tools.ts';
import { PROD, rx } from './support/names.ts';

const SUB = '11111111-2222-3333-4444-555555555555';
const RG_ID = `/subscriptions/${SUB}/resourceGroups/${PROD.resourceGroup}`;
const NAME = 'aks-todo-ops-production-eastus';

const account = {
  environmentName: 'AzureCloud', homeTenantId: 't-1', id: SUB, isDefault: true, managedByTenants: [],
  name: 'Hackathon Prod', state: 'Enabled', tenantDefaultDomain: 'contoso.onmicrosoft.com', tenantDisplayName: 'Contoso', tenantId: 't-1',
  user: { name: 'dev@contoso.com', type: 'user' },
};

/** What the production parameters file reads from the environment. */
const INPUTS = { GITHUB_REPOSITORY: 'contoso/hackathon-todo', ALERT_EMAIL: 'ops@contoso.com', AKS_API_AUTHORIZED_IP_RANGES: '203.0.113.7/32' };

const ids = {
  rg: RG_ID,
  aks: `${RG_ID}/providers/Microsoft.ContainerService/managedClusters/${PROD.cluster}`,
  acr: `${RG_ID}/providers/Microsoft.ContainerRegistry/registries/${PROD.registry}`,
  logs: `${RG_ID}/providers/Microsoft.OperationalInsights/workspaces/${PROD.workspace}`,
  acrPull: `${RG_ID}/providers/Microsoft.ContainerRegistry/registries/${PROD.registry}/providers/Microsoft.Authorization/roleAssignments/0d3c9ac7-52c5-5d4b-b3e5-2d1f0e4b6a11`,
  oldAlert: `${RG_ID}/providers/Microsoft.Insights/metricAlerts/node-disk-high`,
  stray: `${RG_ID}/providers/Microsoft.Storage/storageAccounts/strayhackathon`,
};

/** `az deployment sub what-if --no-pretty-print -o json` (test/fixtures/cli-samples/README.md#az-what-if). */
function whatIf(changes: Array<{ changeType: string; resourceId: string; delta?: unknown[] }>): unknown {
  return {
    status: 'Succeeded',
    error: null,
    changes: changes.map((c) => ({
      changeType: c.changeType,
      resourceId: c.resourceId,
      before: c.changeType === 'Create' ? null : { name: c.resourceId.split('/').pop() },
      after: c.changeType === 'Delete' ? null : { name: c.resourceId.split('/').pop() },
      delta: c.delta ?? null,
    })),
  };
}

const firstRun = whatIf([
  { changeType: 'Create', resourceId: ids.rg },
  { changeType: 'Create', resourceId: ids.aks },
  { changeType: 'Create', resourceId: ids.acr },
  { changeType: 'Create', resourceId: ids.logs },
  { changeType: 'Create', resourceId: ids.acrPull },
]);
const unchanged = whatIf([
  { changeType: 'NoChange', resourceId: ids.rg },
  { changeType: 'NoChange', resourceId: ids.aks },
  { changeType: 'NoChange', resourceId: ids.acr },
  { changeType: 'NoChange', resourceId: ids.logs },
  { changeType: 'Ignore', resourceId: ids.stray },
]);

const outputs = {
  resourceGroupName: { type: 'String', value: PROD.resourceGroup },
  clusterName: { type: 'String', value: PROD.cluster },
  registryName: { type: 'String', value: PROD.registry },
  registryLoginServer: { type: 'String', value: PROD.loginServer },
  githubIdentityClientId: { type: 'String', value: '9f8e7d6c-5b4a-3210-fedc-ba9876543210' },
  keyVaultUri: { type: 'String', value: '' },
  logAnalyticsWorkspaceName: { type: 'String', value: PROD.workspace },
};

/** `az deployment sub create|show -o json` (test/fixtures/cli-samples/README.md#az-deployment). */
function deployment(state = 'Succeeded'): unknown {
  return {
    id: `/subscriptions/${SUB}/providers/Microsoft.Resources/deployments/${NAME}`, location: 'eastus', name: NAME,
    properties: {
      correlationId: 'c0ffee00-0000-4000-8000-000000000001', debugSetting: null, dependencies: [], duration: 'PT12M3.5S', error: null, mode: 'Incremental',
      onErrorDeployment: null, outputResources: [{ id: ids.aks, resourceGroup: PROD.resourceGroup }], outputs,
      parameters: { environmentName: { type: 'String', value: 'production' } }, parametersLink: null,
      providers: [{ namespace: 'Microsoft.ContainerService', resourceTypes: [] }], provisioningState: state, templateHash: '1234567890', templateLink: null,
      timestamp: '2026-11-25T09:12:00.000000+00:00', validatedResources: null,
    },
    tags: null, type: 'Microsoft.Resources/deployments',
  };
}

function world(extra: Partial<Scenario> = {}): FakeWorld {
  return new FakeWorld({ kube: { context: 'minikube' }, az: { account }, ...extra });
}

const run = (w: FakeWorld, args: string[], env: Record<string, string> = {}) => w.run('setup', args, { env: { ...INPUTS, ...env } });
const azCalls = (calls: Call[], ...words: string[]) => calls.filter((c) => c.tool === 'az' && words.every((w) => c.args.includes(w)));
const mutatingAz = (calls: Call[]) => calls.filter((c) => c.tool === 'az' && (c.args.includes('create') || c.args.includes('get-credentials') || c.args.includes('purge') || c.args.includes('register')));

/**
 * A copy of environments/production.yaml with changed keys, passed as --env <file>, with a copy of
 * production.bicepparam beside it that reads it (a parameters file reads its own environment file).
 */
function tempEnvironment(change: (doc: any) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'aks-todo-ops-env-'));
  const params = join(dir, 'production-kv.bicepparam');
  writeFileSync(params, readFileSync(join(repoRoot, 'bicep', 'production.bicepparam'), 'utf8')
    .replace("using './main.bicep'", `using '${join(repoRoot, 'bicep', 'main.bicep')}'`)
    .replace("loadYamlContent('../environments/production.yaml')", "loadYamlContent('./production-kv.yaml')"));
  const doc = parse(readFileSync(join(repoRoot, 'environments', 'production.yaml'), 'utf8'));
  doc.azure.bicepParameters = params;
  change(doc);
  const file = join(dir, 'production-kv.yaml');
  writeFileSync(file, stringify(doc));
  return file;
}

test('happy path: preflight, what-if, create with the same name and parameters, get-credentials, kubelogin azurecli, summary', async () => {
  const w = world()
    .on('az', ['deployment', 'sub', 'what-if'], { json: firstRun })
    .on('az', ['deployment', 'sub', 'create'], { json: deployment() });
  const r = await run(w, ['--env', 'production', '--yes']);
  assert.is(r.code, 0, r.output);

  // The order of the calls that matter.
  const seq = r.calls.map(line).filter((l) => /what-if|sub create|get-credentials|convert-kubeconfig|account show|list-usage|current-context/.test(l));
  assert.equal(seq.map((l) => l.split(' --')[0]), [
    'az account show -o json'.split(' --')[0],
    'az vm list-usage -l eastus -o json',
    'az deployment sub what-if',
    'az deployment sub create',
    'az aks get-credentials',
    'kubelogin convert-kubeconfig -l azurecli',
    'kubectl config current-context',
  ]);
  const wi = azCalls(r.calls, 'what-if')[0]!;
  const create = azCalls(r.calls, 'sub', 'create')[0]!;
  for (const c of [wi, create]) {
    const a = c.args.join(' ');
    assert.ok(a.includes(`--name ${NAME} --location eastus --template-file bicep/main.bicep --parameters bicep/production.bicepparam`), a);
    assert.ok(a.endsWith('-o json'), a);
  }
  assert.ok(wi.args.includes('--no-pretty-print'));
  assert.equal(azCalls(r.calls, 'get-credentials')[0]!.args, ['aks', 'get-credentials', '--resource-group', PROD.resourceGroup, '--name', PROD.cluster, '--overwrite-existing']);
  assert.is(azCalls(r.calls, 'provider', 'show').length, 7, 'every required provider checked');
  assert.is(azCalls(r.calls, 'keyvault').length, 0, 'no Key Vault configured: no soft-delete lookup');

  assert.match(r.stdout, /what-if: 5 to create/);
  assert.match(r.stdout, new RegExp(String.raw`\+ create +Microsoft\.ContainerService\/managedClusters ${rx(PROD.cluster)}`));
  assert.match(r.stdout, /\+ create +Microsoft\.Authorization\/roleAssignments 0d3c9ac7/);
  assert.match(r.stdout, new RegExp(String.raw`registry login server +${rx(PROD.loginServer)}`));
  assert.match(r.stdout, /GitHub OIDC client id +9f8e7d6c-5b4a-3210-fedc-ba9876543210 +\(repository variable AZURE_CLIENT_ID\)/);
  assert.match(r.stdout, /gh variable set AZURE_CLIENT_ID --body 9f8e7d6c-5b4a-3210-fedc-ba9876543210/);
  assert.match(r.stdout, new RegExp(String.raw`cluster +${rx(PROD.cluster)} +\(kube context ${rx(PROD.context)}\)`));
  const last = r.stdout.trim().split('\n').pop()!;
  assert.match(last, new RegExp(String.raw`^setup: production: deployed aks-todo-ops-production-eastus \(5 to create, PT12M3\.5S\); kube credentials for ${rx(PROD.cluster)} are current; next: npx zx scripts\/install-dapr\.mts --env production$`));
  assert.is(w.state().kube?.context, PROD.context, 'get-credentials switched the context');
});

test('idempotent re-run: what-if all NoChange/Ignore → no create call, says so, still refreshes credentials with the last outputs', async () => {
  const w = world()
    .on('az', ['deployment', 'sub', 'what-if'], { json: unchanged })
    .on('az', ['deployment', 'sub', 'show', '--name', NAME], { json: deployment() });
  const r = await run(w, ['--env', 'production']);
  assert.is(r.code, 0, r.output);
  assert.is(azCalls(r.calls, 'sub', 'create').length, 0, 'no deployment');
  assert.match(r.stdout, /what-if: 4 unchanged, 1 ignored/);
  assert.match(r.stdout, /no changes: every resource .* already matches Azure; the deployment is skipped/);
  assert.is(azCalls(r.calls, 'get-credentials').length, 1);
  assert.match(r.stdout, new RegExp(String.raw`registry login server +${rx(PROD.loginServer)}`));
  assert.match(r.stdout.trim().split('\n').pop()!, new RegExp(String.raw`^setup: production: no changes, deployment skipped; kube credentials for ${rx(PROD.cluster)} are current`));
  // No confirmation was needed (no --yes, non-interactive), since nothing changes.
});

test('not logged in: exit 3 with the az login fix; no provider, what-if or create call', async () => {
  const r = await run(world({ az: {} }), ['--env', 'production', '--yes']);
  assert.is(r.code, 3, r.output);
  assert.match(r.stdout, /FAILED az logged in: az is not logged in\n +fix: az login/);
  assert.match(r.stderr, /error: preflight failed: az logged in: az is not logged in/);
  assert.match(r.stderr, /hint: az login/);
  assert.is(azCalls(r.calls, 'provider').length + azCalls(r.calls, 'what-if').length, 0);
  assert.is(mutatingAz(r.calls).length, 0);
});

test('wrong subscription: exit 3 naming both subscriptions and az account set', async () => {
  const r = await run(world(), ['--env', 'production', '--yes'], { AZURE_SUBSCRIPTION_ID: 'Other Sub' });
  assert.is(r.code, 3, r.output);
  assert.match(r.stderr, /expected subscription: az is on "Hackathon Prod" \(11111111-2222-3333-4444-555555555555\), but environments\/production\.yaml expects "Other Sub"/);
  assert.match(r.stderr, /hint: az account set --subscription "Other Sub"/);
  assert.is(azCalls(r.calls, 'what-if').length, 0);
  assert.is(mutatingAz(r.calls).length, 0);
});

test('unregistered provider: exit 3 with the register command; no what-if', async () => {
  const r = await run(world({ az: { account, providers: { 'Microsoft.ContainerService': 'NotRegistered', 'Microsoft.Consumption': 'Registering' } } }), ['--env', 'production', '--yes']);
  assert.is(r.code, 3, r.output);
  assert.match(r.stderr, /provider Microsoft\.ContainerService registered: NotRegistered/);
  assert.match(r.stderr, /provider Microsoft\.Consumption registered: Registering/);
  assert.match(r.stderr, /az provider register --namespace Microsoft\.ContainerService --wait/);
  assert.is(azCalls(r.calls, 'what-if').length, 0);
});

test('quota too low and an unset parameters-file input: exit 3 listing both failures', async () => {
  const usage = [
    { currentValue: '4', limit: '10', localName: 'Standard DSv3 Family vCPUs', unit: 'Count', name: { localizedValue: 'Standard DSv3 Family vCPUs', value: 'standardDSv3Family' } },
    { currentValue: '4', limit: '20', localName: 'Total Regional vCPUs', unit: 'Count', name: { localizedValue: 'Total Regional vCPUs', value: 'cores' } },
  ];
  const w = world({ az: { account, usage } });
  const r = await w.run('setup', ['--env', 'production', '--yes'], { env: { GITHUB_REPOSITORY: 'contoso/hackathon-todo', AKS_API_AUTHORIZED_IP_RANGES: '203.0.113.7/32' } });
  assert.is(r.code, 3, r.output);
  assert.match(r.stderr, /vCPU quota for 5 × Standard_D2s_v3 in eastus: standardDSv3Family: 6 of 10 vCPUs free, 10 needed/);
  assert.match(r.stderr, /inputs of bicep\/production\.bicepparam are set: ALERT_EMAIL is not set/);
  assert.match(r.stderr, /export ALERT_EMAIL=/);
  assert.is(azCalls(r.calls, 'what-if').length, 0);
});

test('soft-deleted Key Vault holding the name: exit 3 with recover/purge fixes; a free name deploys with AZURE_KEY_VAULT_NAME set', async () => {
  const envFile = tempEnvironment((d) => { d.azure.keyVault = 'kv-todo-prod'; });
  const deleted = [{
    id: `/subscriptions/${SUB}/providers/Microsoft.KeyVault/locations/eastus/deletedVaults/kv-todo-prod`, name: 'kv-todo-prod', type: 'Microsoft.KeyVault/deletedVaults',
    properties: { vaultId: `${RG_ID}/providers/Microsoft.KeyVault/vaults/kv-todo-prod`, location: 'eastus', tags: {}, deletionDate: '2026-11-20T10:00:00+00:00', scheduledPurgeDate: '2027-02-18T10:00:00+00:00', purgeProtectionEnabled: false },
  }];
  const blocked = await run(world({ az: { account, deletedVaults: deleted } }), ['--env', envFile, '--yes']);
  assert.is(blocked.code, 3, blocked.output);
  assert.match(blocked.stderr, /Key Vault name kv-todo-prod is free of soft-deleted vaults: a soft-deleted vault in eastus still holds the name kv-todo-prod \(deleted 2026-11-20/);
  assert.match(blocked.stderr, /az keyvault purge --name kv-todo-prod --location eastus/);
  assert.match(blocked.stderr, /az keyvault recover --name kv-todo-prod/);
  assert.match(blocked.stderr, /pick another name in azure\.keyVault/);
  assert.is(azCalls(blocked.calls, 'what-if').length, 0);

  const w = world({ az: { account, deletedVaults: [{ ...deleted[0], name: 'kv-someone-else' }] } })
    .on('az', ['deployment', 'sub', 'what-if'], { json: firstRun })
    .on('az', ['deployment', 'sub', 'create'], { json: deployment() });
  const ok = await run(w, ['--env', envFile, '--yes']);
  assert.is(ok.code, 0, ok.output);
  assert.is(azCalls(ok.calls, 'keyvault', 'list-deleted').length, 1);
  // The parameters file reads the vault name from AZURE_KEY_VAULT_NAME; the environment file supplies it.
  assert.is(azCalls(ok.calls, 'what-if')[0]!.env.AZURE_KEY_VAULT_NAME, 'kv-todo-prod');
  assert.is(azCalls(ok.calls, 'sub', 'create')[0]!.env.AZURE_KEY_VAULT_NAME, 'kv-todo-prod');
});

test('an environment file pointed at another environment\'s parameters file: exit 3 naming the file it reads, no what-if', async () => {
  const envFile = tempEnvironment((d) => { d.azure.bicepParameters = 'bicep/staging.bicepparam'; });
  const r = await run(world(), ['--env', envFile, '--yes']);
  assert.is(r.code, 3, r.output);
  assert.match(r.output, /bicep\/staging\.bicepparam reads \/.*production-kv\.yaml: it reads environments\/staging\.yaml/);
  assert.is(azCalls(r.calls, 'what-if').length, 0);
  assert.is(azCalls(r.calls, 'sub', 'create').length, 0);
});

test('what-if shows deletes and --yes is absent in a non-interactive run: exit 2 naming the deletes, no create', async () => {
  const w = world().on('az', ['deployment', 'sub', 'what-if'], {
    json: whatIf([
      { changeType: 'NoChange', resourceId: ids.rg },
      { changeType: 'Modify', resourceId: ids.aks, delta: [{ path: 'properties.agentPoolProfiles', propertyChangeType: 'Array', before: null, after: null, children: [{ path: '0.maxCount', propertyChangeType: 'Modify', before: 5, after: 4, children: null }] }] },
      { changeType: 'Delete', resourceId: ids.oldAlert },
      { changeType: 'Delete', resourceId: ids.stray },
    ]),
  });
  const r = await run(w, ['--env', 'production']);
  assert.is(r.code, 2, r.output);
  assert.match(r.stdout, /what-if: 2 to delete, 1 to modify, 1 unchanged\n/);
  assert.match(r.stdout, new RegExp(String.raw`~ modify +Microsoft\.ContainerService\/managedClusters ${rx(PROD.cluster)} \(properties\.agentPoolProfiles\.0\.maxCount\)`));
  assert.match(r.stdout, /- DELETE +Microsoft\.Insights\/metricAlerts node-disk-high/);
  assert.match(r.stderr, /error: The deployment would DELETE 2 resources: Microsoft\.Insights\/metricAlerts node-disk-high, Microsoft\.Storage\/storageAccounts strayhackathon\..*Refusing to continue without --yes/);
  assert.match(r.stderr, /hint: re-run with --yes/);
  assert.is(azCalls(r.calls, 'sub', 'create').length, 0);
  assert.is(mutatingAz(r.calls).length, 0);
});

test('failed deployment: the failing resource\'s error from the operations (followed into the module deployment), exit 1, no credentials', async () => {
  const createError = { status: 'Failed', error: { code: 'DeploymentFailed', target: `/subscriptions/${SUB}/providers/Microsoft.Resources/deployments/${NAME}`, message: 'At least one resource deployment operation failed. Please list deployment operations for details. Please see https://aka.ms/arm-deployment-operations for usage details.', details: [{ code: 'ResourceDeploymentFailure', message: "The resource write operation failed to complete successfully, because it reached terminal provisioning state 'Failed'." }] } };
  const subOps = [
    { id: `/subscriptions/${SUB}/providers/Microsoft.Resources/deployments/${NAME}/operations/AAAA`, operationId: 'AAAA', properties: { provisioningOperation: 'Create', provisioningState: 'Succeeded', duration: 'PT3S', serviceRequestId: 'r-1', statusCode: 'OK', timestamp: '2026-11-25T09:01:00Z', targetResource: { id: RG_ID, resourceName: PROD.resourceGroup, resourceType: 'Microsoft.Resources/resourceGroups' } } },
    { id: `/subscriptions/${SUB}/providers/Microsoft.Resources/deployments/${NAME}/operations/BBBB`, operationId: 'BBBB', properties: { provisioningOperation: 'Create', provisioningState: 'Failed', duration: 'PT41S', serviceRequestId: 'r-2', statusCode: 'Conflict', timestamp: '2026-11-25T09:02:00Z',
      statusMessage: { status: 'Failed', error: { code: 'DeploymentFailed', message: 'At least one resource deployment operation failed.', details: [{ code: 'Conflict', message: 'see the operations of aks' }] } },
      targetResource: { id: `${RG_ID}/providers/Microsoft.Resources/deployments/aks`, resourceName: 'aks', resourceType: 'Microsoft.Resources/deployments' } } },
  ];
  const groupOps = [
    { id: `${RG_ID}/providers/Microsoft.Resources/deployments/aks/operations/CCCC`, operationId: 'CCCC', properties: { provisioningOperation: 'Create', provisioningState: 'Failed', duration: 'PT21S', serviceRequestId: 'r-3', statusCode: 'BadRequest', timestamp: '2026-11-25T09:02:30Z',
      statusMessage: { error: { code: 'K8sVersionNotSupported', message: `Managed cluster ${PROD.cluster} is on version 1.34.0, which is not supported in this region.`, details: [{ code: 'UnsupportedVersion', message: 'Use az aks get-versions to list the supported versions.' }] } },
      targetResource: { id: ids.aks, resourceName: PROD.cluster, resourceType: 'Microsoft.ContainerService/managedClusters' } } },
  ];
  const w = world()
    .on('az', ['deployment', 'sub', 'what-if'], { json: firstRun })
    .on('az', ['deployment', 'sub', 'create'], { stderr: `ERROR: ${JSON.stringify(createError)}`, exit: 1 })
    .on('az', ['deployment', 'operation', 'sub', 'list', '--name', NAME], { json: subOps })
    .on('az', ['deployment', 'operation', 'group', 'list', '--resource-group', PROD.resourceGroup, '--name', 'aks'], { json: groupOps });
  const r = await run(w, ['--env', 'production', '--yes']);
  assert.is(r.code, 1, r.output);
  assert.match(r.stderr, /error: deployment aks-todo-ops-production-eastus failed: DeploymentFailed: At least one resource deployment operation failed/);
  assert.match(r.stderr, new RegExp(String.raw`module deployment aks:\n +Microsoft\.ContainerService\/managedClusters ${rx(PROD.cluster)}: K8sVersionNotSupported: Managed cluster ${rx(PROD.cluster)} is on version 1\.34\.0`));
  assert.match(r.stderr, /- UnsupportedVersion: Use az aks get-versions/);
  assert.match(r.stderr, /hint: .*az deployment operation sub list --name aks-todo-ops-production-eastus -o json/);
  assert.not.match(r.stderr, /at .*\.ts:\d+/, 'no stack trace for an expected failure');
  assert.is(azCalls(r.calls, 'get-credentials').length, 0);
});

test('throttled what-if: a 429 is retried after the seconds Azure asks for, then succeeds', async () => {
  const w = world()
    .on('az', ['deployment', 'sub', 'what-if'], {
      stderr: "ERROR: (TooManyRequests) The request is being throttled as the limit has been reached for operation type - Read. Please try again after '7' seconds.\nCode: TooManyRequests\nMessage: The request is being throttled as the limit has been reached for operation type - Read. Please try again after '7' seconds.",
      exit: 1,
    }, { times: 1 })
    .on('az', ['deployment', 'sub', 'what-if'], { json: unchanged })
    .on('az', ['deployment', 'sub', 'show'], { json: deployment() });
  const r = await run(w, ['--env', 'production', '--what-if-only']);
  assert.is(r.code, 0, r.output);
  const calls = azCalls(r.calls, 'what-if');
  assert.is(calls.length, 2);
  assert.ok(calls[1]!.t - calls[0]!.t >= 7000, `waited ${calls[1]!.t - calls[0]!.t} simulated ms`);
  assert.match(r.stderr, /warning: az failed with a transient error; retrying in 7\.0s \(attempt 2 of 4\)/);
  assert.match(r.stdout, /what-if: 4 unchanged, 1 ignored/);
});

test('--what-if-only: prints the summary and stops, exit 0, even with --yes and changes pending', async () => {
  const w = world().on('az', ['deployment', 'sub', 'what-if'], { json: firstRun });
  const r = await run(w, ['--env', 'production', '--what-if-only', '--yes']);
  assert.is(r.code, 0, r.output);
  assert.match(r.stdout.trim().split('\n').pop()!, /^setup: what-if for production: 5 to create; nothing was changed$/);
  assert.is(mutatingAz(r.calls).length, 0);
  assert.is(r.calls.filter((c) => c.tool === 'kubelogin' && c.args[0] === 'convert-kubeconfig').length, 0);
});

test('--dry-run (logged in): what-if runs, every mutating command is printed with the parameter set, nothing mutates', async () => {
  const w = world().on('az', ['deployment', 'sub', 'what-if'], { json: firstRun });
  const r = await run(w, ['--env', 'production', '--dry-run']);
  assert.is(r.code, 0, r.output);
  assert.is(azCalls(r.calls, 'what-if').length, 1, 'what-if is read-only and runs');
  assert.is(mutatingAz(r.calls).length, 0);
  assert.is(r.calls.filter((c) => c.tool === 'kubelogin' && c.args[0] === 'convert-kubeconfig').length, 0);
  assert.match(r.stdout, /parameters bicep\/production\.bicepparam/);
  assert.match(r.stdout, /inputs read from the environment: AKS_API_AUTHORIZED_IP_RANGES=203\.0\.113\.7\/32, GITHUB_REPOSITORY=contoso\/hackathon-todo, ALERT_EMAIL=ops@contoso\.com, AZURE_KEY_VAULT_NAME=\(unset\)/);
  assert.match(r.stdout, /\[dry-run\] would run: az deployment sub create --name aks-todo-ops-production-eastus --location eastus --template-file bicep\/main\.bicep --parameters bicep\/production\.bicepparam -o json/);
  assert.match(r.stdout, new RegExp(String.raw`\[dry-run\] would run: az aks get-credentials --resource-group ${rx(PROD.resourceGroup)} --name ${rx(PROD.cluster)} --overwrite-existing`));
  assert.match(r.stdout, /\[dry-run\] would run: kubelogin convert-kubeconfig -l azurecli/);
  assert.match(r.stdout.trim().split('\n').pop()!, /^setup \(dry-run\): nothing was changed for production; what-if: 5 to create$/);
  assert.is(w.state().kube?.context, undefined, 'kube context untouched');
});

test('--dry-run (not logged in): still prints the plan, says the what-if was skipped, exit 0', async () => {
  const r = await run(world({ az: {} }), ['--env', 'production', '--dry-run']);
  assert.is(r.code, 0, r.output);
  assert.is(azCalls(r.calls, 'what-if').length, 0);
  assert.is(mutatingAz(r.calls).length, 0);
  assert.match(r.stdout, /\[dry-run\] would run: az deployment sub what-if .*--no-pretty-print -o json +# read-only; skipped because az is not logged in/);
  assert.match(r.stdout, /what-if: skipped \(az is not logged in/);
  assert.match(r.stdout, /\[dry-run\] would run: az deployment sub create/);
  assert.match(r.stderr, /warning: preflight: 1 check failed \(shown above\); a real run would stop here with exit 3/);
  assert.match(r.stdout.trim().split('\n').pop()!, /what-if: unknown \(what-if skipped\); preflight: 1 failed check$/);
});

test('local environment: refused with exit 2 and a hint, no CLI called', async () => {
  const w = world();
  const r = await run(w, ['--env', 'local', '--yes']);
  assert.is(r.code, 2, r.output);
  assert.match(r.stderr, /error: setup provisions Azure, but environments\/local\.yaml is platform: local; nothing was changed/);
  assert.match(r.stderr, /hint: .*minikube start/);
  assert.is(w.calls.length, 0);
});

test('kubelogin uses workloadidentity only when a federated token file is available', async () => {
  const w = world()
    .on('az', ['deployment', 'sub', 'what-if'], { json: unchanged })
    .on('az', ['deployment', 'sub', 'show'], { json: deployment() });
  const r = await run(w, ['--env', 'production'], { AZURE_CLIENT_ID: 'c-1', AZURE_TENANT_ID: 't-1', AZURE_FEDERATED_TOKEN_FILE: '/var/run/secrets/azure/tokens/azure-identity-token' });
  assert.is(r.code, 0, r.output);
  assert.equal(r.calls.filter((c) => c.tool === 'kubelogin' && c.args[0] === 'convert-kubeconfig').map((c) => c.args), [['convert-kubeconfig', '-l', 'workloadidentity']]);
});

test('--skip-credentials: no get-credentials, no kubelogin; missing kubelogin is then only a warning', async () => {
  const w = world()
    .on('az', ['deployment', 'sub', 'what-if'], { json: firstRun })
    .on('az', ['deployment', 'sub', 'create'], { json: deployment() });
  const r = await w.run('setup', ['--env', 'production', '--yes', '--skip-credentials'], { env: INPUTS, missing: ['kubelogin'] });
  assert.is(r.code, 0, r.output);
  assert.match(r.stdout, /warn +kubelogin/);
  assert.is(azCalls(r.calls, 'get-credentials').length, 0);
  assert.is(azCalls(r.calls, 'sub', 'create').length, 1);
  assert.match(r.stdout, /kube credentials: skipped \(--skip-credentials\)/);
});

test.run();
