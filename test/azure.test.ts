// scripts/lib/azure.ts: ARM what-if, deployment and operation JSON parsed into typed values.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  checkParamsEnvironment, checkParamsReadEnvironment, deploymentName, formatFailedOperations, formatWhatIf, kubeloginMode,
  outputString, parseCliError, parseDeployment, parseOperations, parseResourceId, parseWhatIf, readBicepParams,
} from '../scripts/lib/azure.ts';
import { loadEnvironment } from '../scripts/lib/config.ts';
import { repoRoot } from './support/tools.ts';

const RG = '/subscriptions/s-1/resourceGroups/shop-rg';

test('resource ids: resource groups, child resources and extension resources get a type and a name', () => {
  assert.equal(parseResourceId(RG), { type: 'Microsoft.Resources/resourceGroups', name: 'shop-rg', resourceGroup: 'shop-rg' });
  assert.equal(parseResourceId(`${RG}/providers/Microsoft.ContainerService/managedClusters/aks/agentPools/system`), { type: 'Microsoft.ContainerService/managedClusters/agentPools', name: 'aks/system', resourceGroup: 'shop-rg' });
  assert.equal(parseResourceId(`${RG}/providers/Microsoft.ContainerRegistry/registries/acr/providers/Microsoft.Authorization/roleAssignments/g-1`).type, 'Microsoft.Authorization/roleAssignments');
  assert.equal(parseResourceId('/subscriptions/s-1/providers/Microsoft.Consumption/budgets/b-50'), { type: 'Microsoft.Consumption/budgets', name: 'b-50' });
});

test('what-if: counts, deletes, modified property paths; NoChange and Ignore alone mean no changes; Deploy and Unsupported count as changes', () => {
  const s = parseWhatIf({ status: 'Succeeded', error: null, changes: [
    { changeType: 'NoChange', resourceId: RG },
    { changeType: 'Modify', resourceId: `${RG}/providers/Microsoft.Storage/storageAccounts/st`, delta: [{ path: 'sku.name', propertyChangeType: 'Modify', before: 'Standard_LRS', after: 'Standard_GRS', children: null }, { path: 'tags', propertyChangeType: 'NoEffect', children: null }] },
    { changeType: 'Delete', resourceId: `${RG}/providers/Microsoft.Insights/metricAlerts/old` },
  ] });
  assert.is(s.counts.Modify, 1);
  assert.is(s.counts.Delete, 1);
  assert.equal(s.modifies[0]!.properties, ['sku.name']);
  assert.equal(s.deletes.map((d) => d.name), ['old']);
  assert.ok(s.hasChanges);
  assert.ok(formatWhatIf(s).includes('  - DELETE  Microsoft.Insights/metricAlerts old'));
  assert.not.ok(parseWhatIf({ changes: [{ changeType: 'NoChange', resourceId: RG }, { changeType: 'Ignore', resourceId: `${RG}/providers/X.Y/z/q` }] }).hasChanges);
  assert.ok(parseWhatIf({ changes: [{ changeType: 'Deploy', resourceId: RG }] }).hasChanges);
  assert.ok(parseWhatIf({ changes: [{ changeType: 'Unsupported', resourceId: RG, unsupportedReason: 'nested template' }] }).hasChanges);
});

test('what-if: a failed status, a missing changes list and an unknown change type are errors, not "no changes"', () => {
  assert.throws(() => parseWhatIf({ status: 'Failed', error: { code: 'InvalidTemplate', message: 'bad', details: [{ code: 'X', message: 'inner' }] }, changes: null }), /what-if failed: InvalidTemplate: bad\n +- X: inner/);
  assert.throws(() => parseWhatIf({ status: 'Succeeded' }), /no "changes" list/);
  assert.throws(() => parseWhatIf({ changes: [{ changeType: 'Replace', resourceId: RG }] }), /unknown changeType "Replace"/);
});

test('deployment result: outputs by name (case-insensitive), empty strings as absent; failure JSON on stderr read', () => {
  const d = parseDeployment({ name: 'n', properties: { provisioningState: 'Succeeded', duration: 'PT2M', outputs: { clusterName: { type: 'String', value: 'aks' }, keyVaultUri: { type: 'String', value: '' } } } });
  assert.is(outputString(d, 'CLUSTERNAME'), 'aks');
  assert.is(outputString(d, 'keyVaultUri'), undefined);
  assert.equal(parseDeployment({ properties: { provisioningState: 'Succeeded', outputs: null } }).outputs, {});
  assert.is(parseCliError('WARNING: x\nERROR: {"status":"Failed","error":{"code":"DeploymentFailed","message":"At least one"}}'), 'DeploymentFailed: At least one');
  assert.is(parseCliError("ERROR: Please run 'az login' to setup account."), undefined);
});

test('operations: only failed ones, with nested details flattened', () => {
  const ops = parseOperations([
    { properties: { provisioningState: 'Succeeded', targetResource: { resourceType: 'A/b', resourceName: 'ok' } } },
    { properties: { provisioningOperation: 'Create', provisioningState: 'Failed', statusCode: 'BadRequest', statusMessage: { status: 'Failed', error: { code: 'InvalidAccountType', message: 'The AccountType Standard_LRS1 is invalid.', details: [{ code: 'Inner', message: 'deeper', details: [{ code: 'Innermost', message: 'root cause' }] }] } }, targetResource: { id: `${RG}/providers/Microsoft.Storage/storageAccounts/st1`, resourceName: 'st1', resourceType: 'Microsoft.Storage/storageAccounts' } } },
  ]);
  assert.is(ops.length, 1);
  assert.equal(ops[0]!.details, ['Inner: deeper', 'Innermost: root cause']);
  assert.equal(formatFailedOperations(ops), ['Microsoft.Storage/storageAccounts st1: InvalidAccountType: The AccountType Standard_LRS1 is invalid.', '  - Inner: deeper', '  - Innermost: root cause']);
  assert.throws(() => parseOperations({ value: [] }), /JSON array/);
});

test('parameters file: each reads its own environment file and GITHUB_REPOSITORY, ALERT_EMAIL and AKS_API_AUTHORIZED_IP_RANGES (required)', () => {
  for (const name of ['production', 'staging']) {
    const env = loadEnvironment(repoRoot, name);
    const own = readBicepParams(repoRoot, env.azure!.bicepParameters);
    assert.equal(own.yamlFiles, [env.file]);
    assert.ok(checkParamsReadEnvironment(own, env.file).ok, checkParamsReadEnvironment(own, env.file).detail);
  }
  const env = loadEnvironment(repoRoot, 'production');
  const p = readBicepParams(repoRoot, env.azure!.bicepParameters);
  assert.equal(p.requiredEnv.sort(), ['AKS_API_AUTHORIZED_IP_RANGES', 'ALERT_EMAIL', 'GITHUB_REPOSITORY']);
  assert.ok(p.optionalEnv.includes('AZURE_KEY_VAULT_NAME'));
  // An environment file pointed at another environment's parameters file would deploy that one's names.
  const crossed = checkParamsReadEnvironment(readBicepParams(repoRoot, 'bicep/staging.bicepparam'), env.file);
  assert.not.ok(crossed.ok);
  assert.is(crossed.detail, 'it reads environments/staging.yaml');
  assert.match(crossed.fix ?? '', /loadYamlContent\('\.\.\/environments\/production\.yaml'\)/);
  assert.match(checkParamsEnvironment(p, { GITHUB_REPOSITORY: 'a/b', AKS_API_AUTHORIZED_IP_RANGES: '203.0.113.7/32' }).detail, /ALERT_EMAIL is not set/);
  // Empty counts as unset: an empty list of ranges would open the API server to every address.
  assert.match(checkParamsEnvironment(p, { GITHUB_REPOSITORY: 'a/b', ALERT_EMAIL: 'x@y.z', AKS_API_AUTHORIZED_IP_RANGES: '' }).detail, /AKS_API_AUTHORIZED_IP_RANGES is not set/);
});

test('names and modes: deterministic deployment name; kubelogin workloadidentity only with a federated token file', () => {
  assert.is(deploymentName('production', 'eastus'), 'aks-todo-ops-production-eastus');
  assert.ok(deploymentName('x'.repeat(80), 'eastus').length <= 64);
  assert.is(kubeloginMode({}), 'azurecli');
  assert.is(kubeloginMode({ AZURE_CLIENT_ID: 'c', AZURE_TENANT_ID: 't' }), 'azurecli');
  assert.is(kubeloginMode({ AZURE_CLIENT_ID: 'c', AZURE_TENANT_ID: 't', AZURE_FEDERATED_TOKEN_FILE: '/f' }), 'workloadidentity');
});

test.run();
