// bicep/: every template parses with the real tree-sitter-bicep grammar, and the policy values the
// infrastructure must hold (the plan's sizes, roles and budgets; the Bicep conventions) are asserted on
// the parse trees, never by matching text. Each policy check is a function that returns its violations,
// so the mutation tests at the end can show that each one fails when it should.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse as parseYamlDoc } from 'yaml';
import {
  arrayItems,
  bicepDir,
  callsOf,
  descendants,
  listBicepFiles,
  literalValue,
  modules,
  objectEntries,
  outputs,
  params,
  parseBicep,
  parseBicepFile,
  parseBicepParam,
  parseBicepParamFile,
  paramExpressionValue,
  paramValue,
  propertyAt,
  resolve,
  resources,
  stringValue,
  syntaxProblems,
  targetScope,
  variables,
} from './support/bicep.ts';
import type { BicepFile, BicepParamFile, Literal, Node, ParamDecl } from './support/bicep.ts';
import { repoRoot } from './support/tools.ts';
import { loadEnvironment } from '../scripts/lib/config.ts';
import type { LoadedEnvironment } from '../scripts/lib/config.ts';

const mainPath = join(bicepDir, 'main.bicep');
const modulePath = (name: string) => join(bicepDir, 'modules', `${name}.bicep`);
const rel = (p: string) => relative(repoRoot, p);
/** environments/production.yaml, whose node pool production.bicepparam reads. */
const PRODUCTION_ENV = loadEnvironment(repoRoot, 'production');
const productionParams = () => parseBicepParamFile(join(bicepDir, 'production.bicepparam'));

const ROLE = {
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d',
  acrPush: '8311e382-0749-4cb8-b61a-304f252e45ec',
  aksRbacAdmin: '3498e952-d568-435e-9b2c-8d77e338d7f7',
  aksClusterUser: '4abbcc35-e782-43d8-92c5-2d3f1bd2253f',
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  // "Monitoring Metrics Publisher": sends any telemetry to an Application Insights component with Entra ID.
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
} as const;

/**
 * The API version each resource type is pinned to: the newest stable (non-preview) version in
 * azure-rest-api-specs (the stable/<version> folders and TypeSpec `Versions` enums under
 * specification/<service>/resource-manager), checked on 2026-11-30. One table, so two files cannot
 * drift to different versions of one type.
 */
const PINNED_API_VERSIONS: Record<string, string> = {
  'Microsoft.Resources/resourceGroups': '2025-04-01',
  'Microsoft.ContainerService/managedClusters': '2025-10-01',
  'Microsoft.ContainerService/managedClusters/maintenanceConfigurations': '2025-10-01',
  'Microsoft.ContainerRegistry/registries': '2025-04-01',
  'Microsoft.OperationalInsights/workspaces': '2025-02-01',
  'Microsoft.Insights/dataCollectionRules': '2024-03-11',
  'Microsoft.Insights/dataCollectionRuleAssociations': '2024-03-11',
  'Microsoft.KeyVault/vaults': '2025-05-01',
  'Microsoft.ManagedIdentity/userAssignedIdentities': '2026-05-31',
  'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials': '2026-05-31',
  'Microsoft.Authorization/roleAssignments': '2022-04-01',
  'Microsoft.Consumption/budgets': '2026-06-01',
  'Microsoft.Insights/actionGroups': '2026-09-01',
  'Microsoft.Insights/metricAlerts': '2026-06-01',
  'Microsoft.Insights/scheduledQueryRules': '2026-03-01',
  'Microsoft.Insights/components': '2020-02-02',
  'Microsoft.Insights/webtests': '2022-06-15',
};

/**
 * Types allowed past the age limit because no newer stable version exists: each names the version
 * it applies to (a move to another version ends the exception) and why. Re-check them when the
 * table above is reviewed.
 */
const NO_NEWER_STABLE: Record<string, { version: string; reason: string }> = {
  'Microsoft.Authorization/roleAssignments': {
    version: '2022-04-01',
    reason: 'the newest stable Microsoft.Authorization version that has roleAssignments; everything later (up to 2025-12-01-preview) is a preview',
  },
  'Microsoft.Insights/dataCollectionRules': {
    version: '2024-03-11',
    reason: "the only stable version in the Data Collection TypeSpec's Versions enum; later ones are previews",
  },
  'Microsoft.Insights/dataCollectionRuleAssociations': {
    version: '2024-03-11',
    reason: 'shipped with dataCollectionRules; same API, same versions',
  },
  'Microsoft.Insights/components': {
    version: '2020-02-02',
    reason: 'the newest stable/<version> folder of applicationinsights/resource-manager with components_API.json; later component versions are previews',
  },
  'Microsoft.Insights/webtests': {
    version: '2022-06-15',
    reason: 'the newest stable/<version> folder of applicationinsights/resource-manager with webTests_API.json, and the first with kind standard',
  },
};

/** The linter's limit, read from bicepconfig.json so the test and `az bicep lint` cannot disagree. */
const MAX_API_AGE_DAYS = (JSON.parse(readFileSync(join(bicepDir, 'bicepconfig.json'), 'utf8')) as {
  analyzers: { core: { rules: Record<string, { maxAllowedAgeInDays?: number }> } };
}).analyzers.core.rules['use-recent-api-versions']!.maxAllowedAgeInDays!;

const DAY_MS = 86_400_000;
/** Whole days from an API version's date to `today`. */
const ageInDays = (apiVersion: string, today: Date) => Math.floor((Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()) - Date.parse(`${apiVersion.slice(0, 10)}T00:00:00Z`)) / DAY_MS);

const SECRET_NAME = /(password|passwd|pwd|secret|token|apikey|accesskey|connectionstring|credential|privatekey|sas)/i;
/** Names that identify a secret or its holder without being one (keyVaultName, vaultReaderNamespace, ...). */
const SECRET_IDENTIFIER = /(name|names|namespace|serviceaccount|id|ids|principalid|clientid|uri|url)$/i;

function looksSecret(name: string): boolean {
  return SECRET_NAME.test(name) && !SECRET_IDENTIFIER.test(name);
}

const hasDecorator = (d: { decorators: Array<{ name: string }> }, name: string) => d.decorators.some((x) => x.name === name);

function decoratorArg(p: ParamDecl, name: string): Literal | undefined {
  return literalValue(p.decorators.find((d) => d.name === name)?.args[0]);
}

async function loadAll(): Promise<BicepFile[]> {
  return Promise.all(listBicepFiles('.bicep').map((f) => parseBicepFile(f)));
}

// ----------------------------------------------------------------------------------------------
// Policy checks: each returns human-readable violations ([] when the file complies).
// ----------------------------------------------------------------------------------------------

function checkParses(f: BicepFile): string[] {
  return syntaxProblems(f).map((p) => `${rel(f.path)}:${p.line}:${p.column} ${p.kind} near ${JSON.stringify(p.text)}`);
}

function checkApiVersions(f: BicepFile, today = new Date(), pinned: Record<string, string> = PINNED_API_VERSIONS): string[] {
  const out: string[] = [];
  for (const r of resources(f)) {
    const where = `${rel(f.path)} resource ${r.symbol} (${r.type}@${r.apiVersion})`;
    if (/preview/i.test(r.apiVersion)) out.push(`${where}: preview API version`);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(r.apiVersion)) out.push(`${where}: API version not pinned to a GA date`);
    const want = pinned[r.type];
    if (want === undefined) out.push(`${where}: type missing from PINNED_API_VERSIONS`);
    else if (want !== r.apiVersion) out.push(`${where}: expected ${want}`);
    const age = ageInDays(r.apiVersion, today);
    if (age > MAX_API_AGE_DAYS && NO_NEWER_STABLE[r.type]?.version !== r.apiVersion) {
      out.push(`${where}: ${age} days old, over the ${MAX_API_AGE_DAYS} of bicepconfig.json: move to the newest stable version, or add it to NO_NEWER_STABLE with the reason`);
    }
  }
  return out;
}

/** Exceptions that no longer apply: their type moved to another version, or is within the limit. */
function staleAgeExceptions(today = new Date(), pinned: Record<string, string> = PINNED_API_VERSIONS): string[] {
  return Object.entries(NO_NEWER_STABLE).flatMap(([type, e]) => {
    if (pinned[type] !== e.version) return [`${type}: excepted at ${e.version} but pinned at ${pinned[type] ?? 'nothing'}`];
    if (ageInDays(e.version, today) <= MAX_API_AGE_DAYS) return [`${type}@${e.version} is within ${MAX_API_AGE_DAYS} days: the exception is not needed`];
    return e.reason.length < 20 ? [`${type}: no reason given`] : [];
  });
}

function checkNoLiteralLocation(f: BicepFile): string[] {
  const out: string[] = [];
  for (const r of resources(f)) {
    const loc = propertyAt(r.body, ['location']);
    if (!loc) continue;
    const value = literalValue(loc);
    // 'global' is not a region: action groups and metric alerts live there by definition.
    if (typeof value === 'string' && value.toLowerCase() !== 'global') out.push(`${rel(f.path)} resource ${r.symbol}: literal location '${value}'`);
  }
  for (const p of params(f)) {
    if (/location/i.test(p.name) && typeof literalValue(p.defaultValue) === 'string') out.push(`${rel(f.path)} param ${p.name}: literal default`);
  }
  for (const m of modules(f)) {
    const loc = propertyAt(m.body, ['params', 'location']);
    if (loc && typeof literalValue(loc) === 'string') out.push(`${rel(f.path)} module ${m.symbol}: literal location`);
  }
  return out;
}

function checkDescriptions(f: BicepFile): string[] {
  const out: string[] = [];
  for (const p of params(f)) if (!hasDecorator(p, 'description')) out.push(`${rel(f.path)} param ${p.name}: no @description`);
  for (const o of outputs(f)) if (!hasDecorator(o, 'description')) out.push(`${rel(f.path)} output ${o.name}: no @description`);
  return out;
}

function checkSecureParams(f: BicepFile): string[] {
  const out: string[] = [];
  for (const p of params(f)) {
    if (looksSecret(p.name) && !hasDecorator(p, 'secure')) out.push(`${rel(f.path)} param ${p.name}: looks secret but has no @secure()`);
    if (hasDecorator(p, 'secure') && p.defaultValue && literalValue(p.defaultValue) !== '' && literalValue(p.defaultValue) !== undefined) {
      out.push(`${rel(f.path)} param ${p.name}: @secure() param with a literal default`);
    }
  }
  return out;
}

function checkOutputsHoldNoSecret(f: BicepFile): string[] {
  const out: string[] = [];
  const secureParams = new Set(params(f).filter((p) => hasDecorator(p, 'secure')).map((p) => p.name));
  for (const o of outputs(f)) {
    const where = `${rel(f.path)} output ${o.name}`;
    if (looksSecret(o.name)) out.push(`${where}: name looks like a secret`);
    if (hasDecorator(o, 'secure')) out.push(`${where}: @secure() output`);
    if (!o.value) continue;
    for (const call of descendants(o.value, ['call_expression'])) {
      const fn = call.childForFieldName('function');
      const name = fn?.type === 'member_expression' ? fn.childForFieldName('property')?.text : fn?.text;
      if (name && /^list/i.test(name)) out.push(`${where}: calls ${name}() (returns keys or credentials)`);
    }
    for (const id of descendants(o.value, ['identifier'])) {
      if (secureParams.has(id.text)) out.push(`${where}: returns the @secure() param ${id.text}`);
    }
  }
  return out;
}

function checkRoleAssignmentNames(f: BicepFile): string[] {
  const out: string[] = [];
  for (const r of resources(f).filter((x) => x.type === 'Microsoft.Authorization/roleAssignments' && !x.existing)) {
    const name = propertyAt(r.body, ['name']);
    const isGuid = name?.type === 'call_expression' && name.childForFieldName('function')?.text === 'guid';
    const args = isGuid ? (name.childForFieldName('arguments')?.namedChildren ?? []) : [];
    // guid(scope, principal, role): all three, so neither a second principal nor a second role collides.
    if (!isGuid || args.length < 3) out.push(`${rel(f.path)} resource ${r.symbol}: name is not guid(scope, principal, role)`);
  }
  return out;
}

/** Follows a module param back through main.bicep's module call to a value main.bicep gives it. */
function resolveThroughMain(main: BicepFile, moduleFile: BicepFile, moduleSymbol: string, n: Node | undefined): Node | undefined {
  const local = resolve(moduleFile, n);
  if (!n || n.type !== 'identifier') return local;
  const declared = params(moduleFile).find((p) => p.name === n.text);
  if (!declared) return local;
  const call = modules(main).find((m) => m.symbol === moduleSymbol);
  const passed = propertyAt(call?.body, ['params', n.text]);
  return passed ? resolve(main, passed) : local;
}

/** The value a template param ends up with for one .bicepparam file: what the file computes (environment file included), else the default. */
function effectiveParam(main: BicepFile, paramFile: BicepParamFile | null, name: string): Literal | undefined {
  if (paramFile?.assignments.some((a) => a.name === name)) return paramValue(paramFile, name);
  return literalValue(params(main).find((p) => p.name === name)?.defaultValue);
}

/**
 * The AKS cluster as `paramFile` deploys it: the node pool's counts and size, followed from aks.bicep
 * through main.bicep to the parameter file, are the environment file's azure.nodeCount and azure.nodeSize.
 */
function checkAks(main: BicepFile, aks: BicepFile, paramFile: BicepParamFile, env: LoadedEnvironment = PRODUCTION_ENV): string[] {
  const out: string[] = [];
  const expect = (what: string, actual: unknown, wanted: unknown) => {
    if (JSON.stringify(actual) !== JSON.stringify(wanted)) out.push(`${what}: ${JSON.stringify(actual)}, expected ${JSON.stringify(wanted)}`);
  };
  const cluster = resources(aks).find((r) => r.type === 'Microsoft.ContainerService/managedClusters' && !r.existing);
  if (!cluster?.body) return ['aks.bicep declares no managed cluster'];
  const at = (...path: Array<string | number>) => propertyAt(cluster.body, path);
  const viaMain = (n: Node | undefined): Literal | undefined => {
    // A module param named in main.bicep resolves to main's param, which a .bicepparam may set.
    if (n?.type === 'identifier') {
      const passed = propertyAt(modules(main).find((m) => m.symbol === 'aks')?.body, ['params', n.text]);
      if (passed?.type === 'identifier' && params(main).some((p) => p.name === passed.text)) return effectiveParam(main, paramFile, passed.text);
    }
    return literalValue(resolveThroughMain(main, aks, 'aks', n));
  };

  const pool = at('properties', 'agentPoolProfiles', 0);
  expect('agent pool enableAutoScaling', literalValue(propertyAt(pool, ['enableAutoScaling'])), true);
  expect('agent pool minCount', viaMain(propertyAt(pool, ['minCount'])), env.azure?.nodeCount.min);
  expect('agent pool maxCount', viaMain(propertyAt(pool, ['maxCount'])), env.azure?.nodeCount.max);
  expect('agent pool vmSize', viaMain(propertyAt(pool, ['vmSize'])), env.azure?.nodeSize);
  const zones = propertyAt(pool, ['availabilityZones']);
  if (!zones || !descendants(zones, ['identifier']).some((i) => i.text === 'availabilityZones')) out.push('availability zones do not come from a parameter');
  if (objectEntries(at('properties', 'autoScalerProfile')).length < 3) out.push('autoScalerProfile is missing or nearly empty');
  expect('networkPlugin', literalValue(at('properties', 'networkProfile', 'networkPlugin')), 'azure');
  expect('networkPluginMode', literalValue(at('properties', 'networkProfile', 'networkPluginMode')), 'overlay');
  const policy = literalValue(at('properties', 'networkProfile', 'networkPolicy'));
  if (!['azure', 'calico', 'cilium'].includes(String(policy))) out.push(`networkPolicy: ${JSON.stringify(policy)} is no policy engine`);
  expect('loadBalancerSku', literalValue(at('properties', 'networkProfile', 'loadBalancerSku')), 'standard');
  expect('sku.tier', viaMain(at('sku', 'tier')), 'Standard');
  expect('identity.type', literalValue(at('identity', 'type')), 'UserAssigned');
  expect('oidcIssuerProfile.enabled', literalValue(at('properties', 'oidcIssuerProfile', 'enabled')), true);
  expect('workloadIdentity.enabled', literalValue(at('properties', 'securityProfile', 'workloadIdentity', 'enabled')), true);
  expect('aadProfile.managed', literalValue(at('properties', 'aadProfile', 'managed')), true);
  expect('aadProfile.enableAzureRBAC', literalValue(at('properties', 'aadProfile', 'enableAzureRBAC')), true);
  expect('enableRBAC', literalValue(at('properties', 'enableRBAC')), true);
  expect('apiServerAccessProfile.enablePrivateCluster', literalValue(at('properties', 'apiServerAccessProfile', 'enablePrivateCluster')), false);
  expect('omsagent enabled', literalValue(at('properties', 'addonProfiles', 'omsagent', 'enabled')), true);

  // Parameters, not pins: Kubernetes version, local accounts, authorized ranges, upgrade channel.
  for (const [path, paramName] of [
    [['properties', 'kubernetesVersion'], 'kubernetesVersion'],
    [['properties', 'disableLocalAccounts'], 'disableLocalAccounts'],
    [['properties', 'apiServerAccessProfile', 'authorizedIPRanges'], 'apiServerAuthorizedIpRanges'],
    [['properties', 'autoUpgradeProfile', 'upgradeChannel'], 'upgradeChannel'],
  ] as const) {
    const n = at(...path);
    const passed = n?.type === 'identifier' ? propertyAt(modules(main).find((m) => m.symbol === 'aks')?.body, ['params', n.text]) : undefined;
    if (passed?.type !== 'identifier' || passed.text !== paramName) out.push(`${path.join('.')} is not main.bicep's ${paramName} parameter`);
  }
  const k8s = params(main).find((p) => p.name === 'kubernetesVersion');
  if (!k8s || k8s.defaultValue) out.push('kubernetesVersion must be a main.bicep parameter without a pinned default');
  if (paramFile) {
    const v = effectiveParam(main, paramFile, 'kubernetesVersion');
    if (typeof v !== 'string' || !/^1\.\d{2}$/.test(v)) out.push(`kubernetesVersion in ${rel(paramFile.file.path)} is ${JSON.stringify(v)}, not a minor version like 1.34`);
  }

  const maintenance = resources(aks).filter((r) => r.type === 'Microsoft.ContainerService/managedClusters/maintenanceConfigurations');
  const names = maintenance.map((r) => literalValue(propertyAt(r.body, ['name'])));
  if (!names.includes('aksManagedAutoUpgradeSchedule')) out.push('no aksManagedAutoUpgradeSchedule maintenance configuration');
  const dcra = resources(aks).find((r) => r.type === 'Microsoft.Insights/dataCollectionRuleAssociations');
  if (propertyAt(dcra?.body, ['scope'])?.text !== cluster.symbol) out.push('no data collection rule association scoped to the cluster');
  return out;
}

/** CIDRs that let every address in; an authorized range that contains one protects nothing. */
const ANY_ADDRESS = new Set(['0.0.0.0/0', '::/0', '*']);

/**
 * The API server must never accept any address: main.bicep's apiServerAuthorizedIpRanges has no
 * default and @minLength(1) (so does the aks module's), and each parameter file sets it, either to
 * a non-empty literal list without 0.0.0.0/0 or from an environment variable read without default
 * (setup's preflight and Bicep refuse an unset one). Production must be given, staging too.
 */
function checkApiServerAccess(main: BicepFile, aks: BicepFile, paramFile: BicepParamFile): string[] {
  const out: string[] = [];
  const where = rel(paramFile.file.path);
  for (const [file, p] of [[main, params(main).find((x) => x.name === 'apiServerAuthorizedIpRanges')], [aks, params(aks).find((x) => x.name === 'apiServerAuthorizedIpRanges')]] as const) {
    if (!p) { out.push(`${rel(file.path)}: no apiServerAuthorizedIpRanges parameter`); continue; }
    if (p.defaultValue) out.push(`${rel(file.path)}: apiServerAuthorizedIpRanges has a default (${p.defaultValue.text}); it must be given`);
    const min = decoratorArg(p, 'minLength');
    if (typeof min !== 'number' || min < 1) out.push(`${rel(file.path)}: apiServerAuthorizedIpRanges lacks @minLength(1): an empty list lets any address reach the API server`);
  }
  const set = paramFile.assignments.find((a) => a.name === 'apiServerAuthorizedIpRanges');
  if (!set) return [...out, `${where}: does not set apiServerAuthorizedIpRanges`];
  const v = literalValue(set.value);
  if (Array.isArray(v)) {
    if (v.length === 0) out.push(`${where}: apiServerAuthorizedIpRanges is empty: the API server would accept any address`);
    for (const r of v) if (typeof r !== 'string' || ANY_ADDRESS.has(r.trim())) out.push(`${where}: apiServerAuthorizedIpRanges contains ${JSON.stringify(r)}, which lets any address in`);
    return out;
  }
  const reads = callsOf(set.value, 'readEnvironmentVariable');
  if (reads.length !== 1) return [...out, `${where}: apiServerAuthorizedIpRanges is neither a literal list nor read from one environment variable`];
  if ((reads[0]!.childForFieldName('arguments')?.namedChildren.length ?? 0) > 1) out.push(`${where}: apiServerAuthorizedIpRanges reads its variable with a default; it must be required`);
  return out;
}

// ----------------------------------------------------------------------------------------------
// Parsing and file-wide policies
// ----------------------------------------------------------------------------------------------

test('every .bicep file parses with tree-sitter-bicep with no ERROR or MISSING nodes', async () => {
  const files = await loadAll();
  const names = files.map((f) => rel(f.path));
  for (const m of ['main', 'modules/aks', 'modules/acr', 'modules/monitoring', 'modules/identity', 'modules/keyvault', 'modules/budget', 'modules/alerts', 'modules/availability', 'modules/deploy-events']) {
    assert.ok(names.includes(`bicep/${m}.bicep`), `bicep/${m}.bicep exists`);
  }
  assert.equal(files.flatMap(checkParses), []);
  assert.ok(files.every((f) => resources(f).length + modules(f).length > 0), 'each file declares something (the parse is not empty)');
});

test('main.bicep targets the subscription, creates the resource group and calls one module per concern', async () => {
  const main = await parseBicepFile(mainPath);
  assert.is(targetScope(main), 'subscription');
  assert.ok(resources(main).some((r) => r.type === 'Microsoft.Resources/resourceGroups' && !r.existing), 'resource group resource');
  const paths = modules(main).map((m) => m.path).sort();
  for (const m of ['aks', 'acr', 'monitoring', 'identity', 'keyvault', 'budget', 'alerts', 'availability', 'deploy-events']) assert.ok(paths.includes(`modules/${m}.bicep`), `module ${m}`);
  assert.ok(modules(main).find((m) => m.path === 'modules/keyvault.bicep')?.conditional, 'Key Vault module is conditional');
});

test('every resource uses a pinned, non-preview API version at most bicepconfig.json\'s age (730 days), or a documented exception', async () => {
  assert.is(MAX_API_AGE_DAYS, 730);
  assert.equal((await loadAll()).flatMap((f) => checkApiVersions(f)), []);
  assert.equal(staleAgeExceptions(), []);
});

test('no resource, module call or location param uses a literal region', async () => {
  assert.equal((await loadAll()).flatMap(checkNoLiteralLocation), []);
});

test('every param and output has @description', async () => {
  assert.equal((await loadAll()).flatMap(checkDescriptions), []);
});

test('every secret-looking param is @secure() and no output returns a secret', async () => {
  const files = await loadAll();
  assert.equal(files.flatMap(checkSecureParams), []);
  assert.equal(files.flatMap(checkOutputsHoldNoSecret), []);
});

test('every role assignment is named guid(scope, principal, role)', async () => {
  const files = await loadAll();
  const count = files.flatMap((f) => resources(f)).filter((r) => r.type === 'Microsoft.Authorization/roleAssignments').length;
  assert.ok(count >= 5, `expected the role assignments, found ${count}`);
  assert.equal(files.flatMap(checkRoleAssignmentNames), []);
});

test('main.bicep params are constrained: @allowed, @minValue/@maxValue or @minLength on every string and int', async () => {
  const main = await parseBicepFile(mainPath);
  const loose = params(main)
    .filter((p) => p.type === 'string' || p.type === 'int')
    .filter((p) => !['allowed', 'minValue', 'maxValue', 'minLength', 'maxLength'].some((d) => hasDecorator(p, d)))
    .map((p) => p.name);
  assert.equal(loose, []);
});

// ----------------------------------------------------------------------------------------------
// The policy values: sizes, network, roles, budgets, API versions
// ----------------------------------------------------------------------------------------------

test('AKS: autoscaler 2-5 on Standard_D2s_v3, Azure CNI overlay + policy engine, Standard tier, Entra ID + Azure RBAC, workload identity', async () => {
  const main = await parseBicepFile(mainPath);
  const aks = await parseBicepFile(modulePath('aks'));
  assert.equal(checkAks(main, aks, await productionParams()), [], 'with production.bicepparam');
  // No default repeats the environment file: a parameters file that forgot one fails to deploy instead.
  for (const name of ['resourceGroupName', 'clusterName', 'registryName', 'logAnalyticsWorkspaceName', 'nodeVmSize', 'nodeMinCount', 'nodeMaxCount', 'vaultReaderNamespace', 'appNamespace']) {
    assert.is(params(main).find((p) => p.name === name)?.defaultValue, null, `main.bicep param ${name} has no default`);
  }
});

test('ACR: admin user off, and the kubelet identity gets AcrPull (7f951dda-...) on the registry', async () => {
  const acr = await parseBicepFile(modulePath('acr'));
  const registry = resources(acr).find((r) => r.type === 'Microsoft.ContainerRegistry/registries' && !r.existing);
  assert.is(literalValue(propertyAt(registry?.body, ['properties', 'adminUserEnabled'])), false);
  assert.is(literalValue(propertyAt(registry?.body, ['properties', 'anonymousPullEnabled'])), false);

  const ra = await parseBicepFile(modulePath('role-assignments'));
  const acrPull = assignmentsWithRole(ra, ROLE.acrPull);
  assert.is(acrPull.length, 1, 'one AcrPull assignment');
  assert.is(propertyAt(acrPull[0], ['properties', 'principalId'])?.text, 'kubeletObjectId');
  assert.is(propertyAt(acrPull[0], ['scope'])?.text, 'registry');
});

/** Role assignment bodies whose roleDefinitionId resolves to the given built-in role id. */
function assignmentsWithRole(f: BicepFile, roleId: string): Node[] {
  const roleVars = variables(f).find((v) => v.name === 'roleIds')?.value;
  return resources(f)
    .filter((r) => r.type === 'Microsoft.Authorization/roleAssignments' && r.body)
    .map((r) => r.body as Node)
    .filter((body) => {
      const def = propertyAt(body, ['properties', 'roleDefinitionId']);
      if (!def) return false;
      const call = callsOf(def, 'subscriptionResourceId')[0] ?? def;
      const last = call.childForFieldName('arguments')?.namedChildren.at(-1);
      if (!last) return false;
      const literal = stringValue(last);
      if (literal) return literal === roleId;
      // roleIds.<name> → the roleIds object's entry
      const key = last.type === 'member_expression' ? last.childForFieldName('property')?.text : undefined;
      return key !== undefined && literalValue(propertyAt(roleVars, [key])) === roleId;
    });
}

test('GitHub OIDC identity: federated credentials for main and the environment; AKS RBAC Admin (the chart has a Role and RoleBinding), Cluster User and AcrPush', async () => {
  const identity = await parseBicepFile(modulePath('identity'));
  const fics = resources(identity).filter((r) => r.type === 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials');
  const subjects = fics.map((r) => stringValue(propertyAt(r.body, ['properties', 'subject'])));
  assert.ok(subjects.includes('repo:${githubRepository}:ref:refs/heads/main'), `main branch subject in ${JSON.stringify(subjects)}`);
  assert.ok(subjects.includes('repo:${githubRepository}:environment:${githubEnvironment}'), 'environment subject');
  for (const r of fics) {
    assert.is(resolve(identity, propertyAt(r.body, ['properties', 'issuer'])) && literalValue(resolve(identity, propertyAt(r.body, ['properties', 'issuer']))), 'https://token.actions.githubusercontent.com');
  }
  assert.ok(params(identity).every((p) => !looksSecret(p.name)), 'no client secret parameter');
  const prod = await parseBicepParamFile(join(bicepDir, 'production.bicepparam'));
  assert.is(paramValue(prod, 'githubEnvironment'), 'production', 'the GitHub environment deploy-production.yml runs in');

  const ra = await parseBicepFile(modulePath('role-assignments'));
  for (const [role, scope] of [[ROLE.aksRbacAdmin, 'cluster'], [ROLE.aksClusterUser, 'cluster'], [ROLE.acrPush, 'registry']] as const) {
    const found = assignmentsWithRole(ra, role);
    assert.is(found.length, 1, `one assignment of ${role}`);
    assert.is(propertyAt(found[0], ['properties', 'principalId'])?.text, 'githubPrincipalId');
    assert.is(propertyAt(found[0], ['scope'])?.text, scope);
  }
});

test('Key Vault: RBAC authorisation, soft delete, purge protection; Key Vault Secrets User for the vault-reader identity', async () => {
  const kv = await parseBicepFile(modulePath('keyvault'));
  const vault = resources(kv).find((r) => r.type === 'Microsoft.KeyVault/vaults' && !r.existing);
  for (const key of ['enableRbacAuthorization', 'enableSoftDelete', 'enablePurgeProtection']) {
    assert.is(literalValue(propertyAt(vault?.body, ['properties', key])), true, key);
  }
  const ra = await parseBicepFile(modulePath('role-assignments'));
  const readers = assignmentsWithRole(ra, ROLE.keyVaultSecretsUser).map((b) => propertyAt(b, ['properties', 'principalId'])?.text);
  assert.ok(readers.includes('vaultReaderPrincipalId'), `Secrets User principals: ${JSON.stringify(readers)}`);
  const main = await parseBicepFile(mainPath);
  assert.is(literalValue(params(main).find((p) => p.name === 'keyVaultName')?.defaultValue), '', 'no vault unless a name is given');
});

test('Log Analytics: retention and daily cap are bounded parameters; Container Insights has a data collection rule', async () => {
  const mon = await parseBicepFile(modulePath('monitoring'));
  const ws = resources(mon).find((r) => r.type === 'Microsoft.OperationalInsights/workspaces');
  assert.is(propertyAt(ws?.body, ['properties', 'retentionInDays'])?.text, 'retentionInDays');
  assert.is(propertyAt(ws?.body, ['properties', 'workspaceCapping', 'dailyQuotaGb'])?.text, 'dailyCapGb');
  const main = await parseBicepFile(mainPath);
  const retention = params(main).find((p) => p.name === 'logRetentionDays');
  assert.ok(retention, 'logRetentionDays');
  // PerGB2018 workspaces accept 30-730 days; 7 (the plan's figure) is refused by Azure.
  assert.is(decoratorArg(retention, 'minValue'), 30);
  assert.ok(Number(decoratorArg(retention, 'maxValue')) <= 730);
  assert.ok(params(main).some((p) => p.name === 'logDailyCapGb' && hasDecorator(p, 'maxValue')), 'daily cap param');
  const dcr = resources(mon).find((r) => r.type === 'Microsoft.Insights/dataCollectionRules');
  const streams = arrayItems(propertyAt(dcr?.body, ['properties', 'dataFlows', 0, 'streams'])).map(literalValue);
  assert.ok(streams.includes('Microsoft-ContainerInsights-Group-Default'), 'Container Insights stream flows to the workspace');
});

test('budgets at $50/$100/$150 e-mail the alert address from a fixed start date', async () => {
  const main = await parseBicepFile(mainPath);
  assert.equal(literalValue(params(main).find((p) => p.name === 'budgetAmounts')?.defaultValue), [50, 100, 150]);
  const prod = await parseBicepParamFile(join(bicepDir, 'production.bicepparam'));
  assert.equal(effectiveParam(main, prod, 'budgetAmounts'), [50, 100, 150]);
  const start = effectiveParam(main, prod, 'budgetStartDate');
  assert.ok(typeof start === 'string' && /^\d{4}-\d{2}-01$/.test(start), `budgetStartDate ${JSON.stringify(start)} is a literal first of a month`);
  assert.is(params(main).find((p) => p.name === 'budgetStartDate')?.defaultValue, null, 'no moving default such as utcNow()');

  const budget = await parseBicepFile(modulePath('budget'));
  assert.is(targetScope(budget), 'subscription');
  const b = resources(budget).find((r) => r.type === 'Microsoft.Consumption/budgets');
  assert.ok(b?.loop, 'one budget per amount');
  assert.is(propertyAt(b?.body, ['properties', 'amount'])?.text, 'amount');
  assert.is(propertyAt(b?.body, ['properties', 'timePeriod', 'startDate'])?.text, 'startDate');
  const notifications = objectEntries(propertyAt(b?.body, ['properties', 'notifications']));
  assert.ok(notifications.length >= 1);
  for (const [, n] of notifications) assert.is(arrayItems(propertyAt(n, ['contactEmails']))[0]?.text, 'contactEmail');
  assert.equal(checkForecastBudget(main, budget, prod), []);
});

/** The estimate from docs/cost.md's "Azure total" row (the upper end of "~$270-330"). */
function costEstimate(doc = readFileSync(join(repoRoot, 'docs', 'cost.md'), 'utf8')): number | undefined {
  const m = /\*\*Azure total\*\*.*\*\*~\$(\d+)(?:-(\d+))?\*\*/.exec(doc);
  return m ? Number(m[2] ?? m[1]) : undefined;
}

/** A forecast-only budget at docs/cost.md's estimate, on top of the plan's three. */
function checkForecastBudget(main: BicepFile, budget: BicepFile, prod: BicepParamFile, estimate = costEstimate()): string[] {
  const out: string[] = [];
  const r = resources(budget).find((x) => x.type === 'Microsoft.Consumption/budgets' && !x.loop);
  if (!r?.body) return ['no forecast budget in budget.bicep'];
  if (propertyAt(r.body, ['properties', 'amount'])?.text !== 'forecastAmount') out.push('the forecast budget\'s amount is not forecastAmount');
  const notes = objectEntries(propertyAt(r.body, ['properties', 'notifications']));
  if (notes.length !== 1 || literalValue(propertyAt(notes[0]?.[1], ['thresholdType'])) !== 'Forecasted') out.push('the forecast budget must notify on the forecast only');
  if (propertyAt(modules(main).find((m) => m.path === 'modules/budget.bicep')?.body, ['params', 'forecastAmount'])?.text !== 'budgetForecastAmount') out.push('main.bicep does not pass budgetForecastAmount');
  const amount = effectiveParam(main, prod, 'budgetForecastAmount');
  if (estimate === undefined) out.push('docs/cost.md has no "**Azure total**" estimate');
  else if (amount !== estimate) out.push(`production budgetForecastAmount ${JSON.stringify(amount)} is not docs/cost.md's estimate ${estimate}`);
  return out;
}

test('mutation: a forecast budget off the estimate, or one that also fires on actual spend, fails', async () => {
  const main = await parseBicepFile(mainPath);
  const budget = await parseBicepFile(modulePath('budget'));
  const prod = await parseBicepParamFile(join(bicepDir, 'production.bicepparam'));
  assert.equal(checkForecastBudget(main, budget, prod, 330), []);
  assert.match(checkForecastBudget(main, budget, prod, 300).join(), /330 is not docs\/cost\.md's estimate 300/);
  assert.is(costEstimate('| **Azure total** | | **~$270-330** |'), 330);
  const actual = await mutated(modulePath('budget'), "thresholdType: 'Forecasted'\n        contactEmails: [\n          contactEmail\n        ]\n      }\n    }\n  }\n}\n\n@description", "thresholdType: 'Forecasted'\n        contactEmails: [\n          contactEmail\n        ]\n      }\n      actual: {\n        enabled: true\n        operator: 'GreaterThan'\n        threshold: 100\n        thresholdType: 'Actual'\n        contactEmails: [\n          contactEmail\n        ]\n      }\n    }\n  }\n}\n\n@description");
  assert.match(checkForecastBudget(main, actual, prod, 330).join(), /forecast only/);
});

test('metric alerts: node CPU > 80% and memory > 85% over 10 minutes, failed pods, nodes not ready; crash-loop log alert; one action group', async () => {
  const alerts = await parseBicepFile(modulePath('alerts'));
  const defs = literalValue(variables(alerts).find((v) => v.name === 'metricAlerts')?.value);
  assert.ok(Array.isArray(defs), 'metricAlerts is a literal list');
  const byMetric = new Map((defs as Array<Record<string, Literal>>).map((d) => [d.metricName, d]));
  assert.is(byMetric.get('node_cpu_usage_percentage')?.threshold, 80);
  // "For 10 minutes": PT10M is no metric-alert window, PT15M the nearest sustained one.
  assert.is(byMetric.get('node_cpu_usage_percentage')?.windowSize, 'PT15M');
  assert.is(byMetric.get('node_memory_working_set_percentage')?.threshold, 85);
  assert.is(byMetric.get('node_memory_working_set_percentage')?.windowSize, 'PT15M');
  assert.equal(byMetric.get('kube_pod_status_phase')?.dimensions, [
    { name: 'phase', operator: 'Include', values: ['Failed'] },
    { name: 'namespace', operator: 'Include', values: ['*'] },
  ]);
  assert.ok(JSON.stringify(byMetric.get('kube_node_status_condition')?.dimensions).includes('NotReady'));

  const rule = resources(alerts).find((r) => r.type === 'Microsoft.Insights/metricAlerts');
  assert.ok(rule?.loop, 'one metric alert per definition');
  assert.is(propertyAt(rule?.body, ['properties', 'actions', 0, 'actionGroupId'])?.text, 'actionGroup.id');
  const log = resources(alerts).find((r) => r.type === 'Microsoft.Insights/scheduledQueryRules');
  assert.ok(stringValue(propertyAt(log?.body, ['properties', 'criteria', 'allOf', 0, 'query']))?.includes('CrashLoopBackOff'));
  assert.is(resources(alerts).filter((r) => r.type === 'Microsoft.Insights/actionGroups').length, 1);
});

/** The longest progressDeadlineSeconds of the chart's Deployments (helm/values.yaml). */
function chartProgressDeadlineSeconds(): number {
  const values = parseYamlDoc(readFileSync(join(repoRoot, 'helm', 'values.yaml'), 'utf8')) as Record<string, { progressDeadlineSeconds?: number }>;
  const deadlines = Object.values(values).map((v) => v?.progressDeadlineSeconds).filter((n): n is number => typeof n === 'number');
  assert.ok(deadlines.length >= 2, 'helm/values.yaml sets progressDeadlineSeconds for the backend and the frontend');
  return Math.max(...deadlines);
}

/**
 * The rollout-failure rule: new pods of the release's ReplicaSets that crash-loop, stay Pending, or
 * run without ever becoming ready, per ReplicaSet. A never-ready pod counts only after its readiness
 * failures outlast the chart's own progress deadline, so a rolling update that Kubernetes would still
 * let finish cannot fire it.
 */
function checkRolloutFailureAlert(main: BicepFile, alerts: BicepFile, progressDeadlineSeconds = chartProgressDeadlineSeconds()): string[] {
  const out: string[] = [];
  const rule = resources(alerts).find((r) => r.type === 'Microsoft.Insights/scheduledQueryRules' && /rollout/i.test(propertyAt(r.body, ['name'])?.text ?? ''));
  if (!rule?.body) return ['no rollout-failure scheduled query rule in alerts.bicep'];
  const queryNode = resolve(alerts, propertyAt(rule.body, ['properties', 'criteria', 'allOf', 0, 'query']));
  // A literal string, or join([...lines], ' ') of literal lines.
  const joined = queryNode?.type === 'call_expression' && queryNode.childForFieldName('function')?.text === 'join'
    ? arrayItems(queryNode.childForFieldName('arguments')?.namedChildren[0]).map((n) => stringValue(n) ?? '').join(' ')
    : stringValue(queryNode) ?? '';
  for (const [what, re] of [
    ['reads KubePodInventory', /^KubePodInventory\b/],
    ['filters on the release namespace parameter', /^KubePodInventory \| where Namespace == '\$\{appNamespace\}'/],
    ['only Deployment pods (ReplicaSets)', /ControllerKind == 'ReplicaSet'/],
    ['only pods of a recent change', /PodCreationTimeStamp > ago\(1h\)/],
    ['latest state per pod', /arg_max\(TimeGenerated/],
    ['crash loops', /'CrashLoopBackOff'/],
    ['image pulls', /'ImagePullBackOff'/],
    ['stuck Pending pods', /PodStatus == 'Pending' and PodCreationTimeStamp < ago\(10m\)/],
    ['counts failing pods per ReplicaSet', /summarize FailingPods = dcount\(PodUid\) by ControllerName/],
    ['never-ready pods: the kubelet\'s readiness probe failures in the release namespace', /join kind=leftouter \(KubeEvents \| where Namespace == '\$\{appNamespace\}' and ObjectKind =~ 'Pod' and Reason == 'Unhealthy' and Message startswith 'Readiness probe' \| summarize FirstUnready = min\(FirstSeen\), LastUnready = max\(LastSeen\) by Name\) on Name/],
    ['a never-ready pod is Running, failing readiness for minutes and still failing lately', /\(PodStatus == 'Running' and LastUnready - FirstUnready > \d+m and LastUnready > ago\(10m\)\)/],
  ] as const) if (!re.test(joined)) out.push(`rollout-failure query: ${what}: ${JSON.stringify(joined)}`);
  const unready = /LastUnready - FirstUnready > (\d+)m/.exec(joined);
  if (unready && Number(unready[1]) * 60 <= progressDeadlineSeconds) {
    out.push(`rollout-failure query: ${unready[1]} minutes of readiness failures is within the chart's progressDeadlineSeconds (${progressDeadlineSeconds} s): a rolling update still in progress would fire it`);
  }
  const c = (...path: Array<string | number>) => literalValue(propertyAt(rule.body, ['properties', 'criteria', 'allOf', 0, ...path]));
  if (c('threshold') !== 0 || c('operator') !== 'GreaterThan') out.push(`rollout-failure threshold: ${String(c('operator'))} ${String(c('threshold'))}, expected GreaterThan 0`);
  if (c('metricMeasureColumn') !== 'FailingPods' || c('timeAggregation') !== 'Total') out.push('rollout-failure rule does not total FailingPods');
  if (c('dimensions', 0, 'name') !== 'ControllerName') out.push('rollout-failure rule is not split by ControllerName');
  if (propertyAt(rule.body, ['properties', 'actions', 'actionGroups', 0])?.text !== 'actionGroup.id') out.push('rollout-failure rule notifies no action group');
  const passed = propertyAt(modules(main).find((m) => m.path === 'modules/alerts.bicep')?.body, ['params', 'appNamespace'])?.text;
  if (passed !== 'appNamespace') out.push(`main.bicep passes appNamespace: ${String(passed)}`);
  if (params(main).find((p) => p.name === 'appNamespace')?.defaultValue) out.push('main.bicep appNamespace has a default: the namespace is kube.namespace in the environment file');
  return out;
}

test('rollout-failure alert: new release pods crash-looping, failing to start, Pending 10 minutes or never ready, per ReplicaSet, in the app namespace', async () => {
  assert.equal(checkRolloutFailureAlert(await parseBicepFile(mainPath), await parseBicepFile(modulePath('alerts'))), []);
  // The environments name the same namespace main.bicep defaults to.
  const { parse: parseYaml } = await import('yaml');
  for (const env of ['production', 'staging']) {
    const yaml = parseYaml(readFileSync(join(repoRoot, 'environments', `${env}.yaml`), 'utf8')) as { kube: { namespace: string } };
    assert.is(yaml.kube.namespace, 'todo', env);
  }
});

test('mutation: another namespace, no Pending check, a threshold of 5 fail the rollout-failure check', async () => {
  const main = await parseBicepFile(mainPath);
  const check = async (from: string, to: string) => checkRolloutFailureAlert(main, await mutated(modulePath('alerts'), from, to)).join('\n');
  assert.match(await check("Namespace == \\'${appNamespace}\\'", "Namespace == \\'default\\'"), /release namespace/);
  assert.match(await check(" or (PodStatus == \\'Pending\\' and PodCreationTimeStamp < ago(10m))", ''), /stuck Pending/);
  assert.match(await check("metricMeasureColumn: 'FailingPods'\n          operator: 'GreaterThan'\n          threshold: 0", "metricMeasureColumn: 'FailingPods'\n          operator: 'GreaterThan'\n          threshold: 5"), /GreaterThan 5/);
  // The never-ready case: dropped, or so short that a rolling update in progress would fire it.
  assert.match(await check(" or (PodStatus == \\'Running\\' and LastUnready - FirstUnready > 5m and LastUnready > ago(10m))", ''), /never-ready pod is Running/);
  assert.match(await check("Message startswith \\'Readiness probe\\'", "Message startswith \\'Liveness probe\\'"), /readiness probe failures/);
  assert.match(await check('LastUnready - FirstUnready > 5m', 'LastUnready - FirstUnready > 3m'), /3 minutes of readiness failures is within the chart's progressDeadlineSeconds \(240 s\)/);
  // The comparison follows the chart: a progress deadline raised to 10 minutes makes 5 too short.
  assert.match(checkRolloutFailureAlert(main, await parseBicepFile(modulePath('alerts')), 600).join('\n'), /5 minutes of readiness failures is within the chart's progressDeadlineSeconds \(600 s\)/);
});

// Platform metrics of Microsoft.ContainerService/managedClusters as "Supported metrics for
// Microsoft.ContainerService/managedClusters" (learn.microsoft.com, azure-monitor reference) lists them,
// and the windows and frequencies a metric alert accepts (Azure Monitor refuses others, e.g. PT10M).
const AKS_METRICS: Record<string, { aggregations: string[]; dimensions: string[] }> = {
  node_cpu_usage_percentage: { aggregations: ['Maximum', 'Average'], dimensions: ['node', 'nodepool'] },
  node_memory_working_set_percentage: { aggregations: ['Maximum', 'Average'], dimensions: ['node', 'nodepool'] },
  kube_pod_status_phase: { aggregations: ['Total', 'Average'], dimensions: ['phase', 'namespace', 'pod'] },
  kube_node_status_condition: { aggregations: ['Total', 'Average'], dimensions: ['condition', 'status', 'status2', 'node'] },
};
const METRIC_ALERT_WINDOWS = ['PT1M', 'PT5M', 'PT15M', 'PT30M', 'PT1H', 'PT6H', 'PT12H', 'P1D'];
const METRIC_ALERT_FREQUENCIES = ['PT1M', 'PT5M', 'PT15M', 'PT30M', 'PT1H'];

test('metric alerts use real AKS platform metrics: namespace, names, aggregations, dimensions, windows Azure accepts', async () => {
  const alerts = await parseBicepFile(modulePath('alerts'));
  assert.is(literalValue(variables(alerts).find((v) => v.name === 'aksMetricNamespace')?.value), 'Microsoft.ContainerService/managedClusters');
  const defs = literalValue(variables(alerts).find((v) => v.name === 'metricAlerts')?.value) as Array<Record<string, Literal>>;
  for (const d of defs) {
    const name = String(d.name);
    const metric = AKS_METRICS[String(d.metricName)];
    assert.ok(metric, `${name}: ${String(d.metricName)} is not a Microsoft.ContainerService/managedClusters metric`);
    assert.ok(metric.aggregations.includes(String(d.timeAggregation)), `${name}: aggregation ${String(d.timeAggregation)} not one of ${metric.aggregations.join(', ')}`);
    for (const dim of (d.dimensions ?? []) as Array<Record<string, Literal>>) {
      assert.ok(metric.dimensions.includes(String(dim.name)), `${name}: dimension ${String(dim.name)} not one of ${metric.dimensions.join(', ')}`);
    }
    assert.ok(METRIC_ALERT_WINDOWS.includes(String(d.windowSize)), `${name}: windowSize ${String(d.windowSize)} is not one Azure Monitor accepts`);
    assert.ok(METRIC_ALERT_FREQUENCIES.includes(String(d.evaluationFrequency)), `${name}: evaluationFrequency ${String(d.evaluationFrequency)}`);
  }
  const rule = resources(alerts).find((r) => r.type === 'Microsoft.Insights/metricAlerts');
  assert.is(stringValue(propertyAt(rule?.body, ['properties', 'criteria', 'odata.type'])), 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria');
  assert.is(stringValue(propertyAt(rule?.body, ['properties', 'criteria', 'allOf', 0, 'criterionType'])), 'StaticThresholdCriterion');
  assert.is(propertyAt(rule?.body, ['properties', 'criteria', 'allOf', 0, 'metricNamespace'])?.text, 'aksMetricNamespace');
  // The action group's short name is what SMS and e-mail show; Azure refuses more than 12 characters.
  const group = resources(alerts).find((r) => r.type === 'Microsoft.Insights/actionGroups');
  assert.ok((stringValue(propertyAt(group?.body, ['properties', 'groupShortName'])) ?? '').length <= 12, 'groupShortName at most 12 characters');
});

test('main.bicep outputs exactly what setup.mts reads, described, with an empty keyVaultUri when there is no vault', async () => {
  const main = await parseBicepFile(mainPath);
  const names = outputs(main).map((o) => o.name);
  for (const n of ['resourceGroupName', 'clusterName', 'registryName', 'registryLoginServer', 'githubIdentityClientId', 'keyVaultUri', 'logAnalyticsWorkspaceName']) {
    assert.ok(names.includes(n), `output ${n}`);
  }
  const kv = outputs(main).find((o) => o.name === 'keyVaultUri');
  assert.is(kv?.value?.type, 'ternary_expression');
  assert.is(literalValue(kv?.value?.childForFieldName('alternative')), '');
});

// ----------------------------------------------------------------------------------------------
// Availability: Application Insights, the standard web test and the plan's health-check alert
// ----------------------------------------------------------------------------------------------

/**
 * The availability module: a workspace-based Application Insights on main's workspace; a standard
 * web test GETting healthCheckUrl, expecting 200 and "healthy", from at least three locations every
 * 5 minutes; and a log alert that fires when more than 3 of its checks fail in 5 minutes.
 */
function checkAvailability(main: BicepFile, avail: BicepFile): string[] {
  const out: string[] = [];
  const expect = (what: string, actual: unknown, wanted: unknown) => {
    if (JSON.stringify(actual) !== JSON.stringify(wanted)) out.push(`${what}: ${JSON.stringify(actual)}, expected ${JSON.stringify(wanted)}`);
  };
  const call = modules(main).find((m) => m.path === 'modules/availability.bicep');
  if (!call) return ['main.bicep does not call modules/availability.bicep'];
  expect('availability workspaceId', propertyAt(call.body, ['params', 'workspaceId'])?.text, 'monitoring.outputs.workspaceId');
  expect('availability healthCheckUrl', propertyAt(call.body, ['params', 'healthCheckUrl'])?.text, 'healthCheckUrl');

  const ai = resources(avail).find((r) => r.type === 'Microsoft.Insights/components');
  expect('components WorkspaceResourceId', propertyAt(ai?.body, ['properties', 'WorkspaceResourceId'])?.text, 'workspaceId');
  expect('components IngestionMode', literalValue(propertyAt(ai?.body, ['properties', 'IngestionMode'])), 'LogAnalytics');

  const wt = resources(avail).find((r) => r.type === 'Microsoft.Insights/webtests');
  if (!wt?.body) return [...out, 'no web test'];
  const at = (...path: Array<string | number>) => propertyAt(wt.body, path);
  expect('webtest kind', literalValue(at('kind')), 'standard');
  expect('webtest properties.Kind', literalValue(at('properties', 'Kind')), 'standard');
  expect('webtest Enabled', literalValue(at('properties', 'Enabled')), true);
  expect('webtest Frequency (seconds)', literalValue(at('properties', 'Frequency')), 300);
  expect('webtest RequestUrl', at('properties', 'Request', 'RequestUrl')?.text, 'healthCheckUrl');
  expect('webtest HttpVerb', literalValue(at('properties', 'Request', 'HttpVerb')), 'GET');
  expect('webtest ExpectedHttpStatusCode', literalValue(at('properties', 'ValidationRules', 'ExpectedHttpStatusCode')), 200);
  expect('webtest ContentMatch', literalValue(at('properties', 'ValidationRules', 'ContentValidation', 'ContentMatch')), 'healthy');
  expect('webtest PassIfTextFound', literalValue(at('properties', 'ValidationRules', 'ContentValidation', 'PassIfTextFound')), true);
  // Locations: a literal list, or a for-expression over a var holding one.
  const locNode = at('properties', 'Locations');
  const loopVar = locNode ? descendants(locNode, ['identifier']).map((i) => variables(avail).find((v) => v.name === i.text)).find(Boolean) : undefined;
  const locs = loopVar ? literalValue(loopVar.value) : (literalValue(locNode) as Array<{ Id: string }> | undefined)?.map((l) => l.Id);
  if (!Array.isArray(locs) || new Set(locs).size < 3) out.push(`webtest Locations: ${JSON.stringify(locs)}, expected at least three distinct locations`);

  const rule = resources(avail).find((r) => r.type === 'Microsoft.Insights/scheduledQueryRules');
  if (!rule?.body) return [...out, 'no availability alert rule'];
  const q = stringValue(propertyAt(rule.body, ['properties', 'criteria', 'allOf', 0, 'query'])) ?? '';
  if (!/AppAvailabilityResults/.test(q) || !/Success == false/.test(q)) out.push(`alert query ${JSON.stringify(q)} does not count failed AppAvailabilityResults`);
  expect('alert scope', propertyAt(rule.body, ['properties', 'scopes', 0])?.text, 'workspaceId');
  expect('alert windowSize', literalValue(propertyAt(rule.body, ['properties', 'windowSize'])), 'PT5M');
  expect('alert timeAggregation', literalValue(propertyAt(rule.body, ['properties', 'criteria', 'allOf', 0, 'timeAggregation'])), 'Count');
  expect('alert operator', literalValue(propertyAt(rule.body, ['properties', 'criteria', 'allOf', 0, 'operator'])), 'GreaterThan');
  expect('alert threshold', literalValue(propertyAt(rule.body, ['properties', 'criteria', 'allOf', 0, 'threshold'])), 3);
  expect('alert action group', propertyAt(rule.body, ['properties', 'actions', 'actionGroups', 0])?.text, 'actionGroupId');
  // With fewer than four locations per 5-minute window, "more than 3 failed" could never happen.
  if (Array.isArray(locs) && locs.length <= 3) out.push(`${locs.length} locations give at most ${locs.length} results per 5 minutes: the "> 3 failures" alert could never fire`);
  return out;
}

test('availability: workspace-based App Insights, a standard web test of /api/health (200, "healthy", 5 locations, 5 minutes), alert on > 3 failures in 5 minutes', async () => {
  assert.equal(checkAvailability(await parseBicepFile(mainPath), await parseBicepFile(modulePath('availability'))), []);
  const main = await parseBicepFile(mainPath);
  for (const o of ['appInsightsName', 'webTestName']) assert.ok(outputs(main).some((x) => x.name === o), `main.bicep output ${o} (slo.mts reads it)`);
});

test('each parameter file reads its environment file: every name, size and the URL resolve to the YAML\'s values', async () => {
  for (const f of listBicepFiles('.bicepparam')) {
    const pf = await parseBicepParamFile(f);
    const envName = paramValue(pf, 'environmentName');
    const env = loadEnvironment(repoRoot, String(envName));
    assert.is(env.azure?.bicepParameters, rel(f), `${env.file} names ${rel(f)} as its parameters file`);
    const azure = env.azure!;
    assert.equal({
      environmentName: paramValue(pf, 'environmentName'),
      location: paramValue(pf, 'location'),
      resourceGroupName: paramValue(pf, 'resourceGroupName'),
      clusterName: paramValue(pf, 'clusterName'),
      registryName: paramValue(pf, 'registryName'),
      logAnalyticsWorkspaceName: paramValue(pf, 'logAnalyticsWorkspaceName'),
      vaultReaderNamespace: paramValue(pf, 'vaultReaderNamespace'),
      appNamespace: paramValue(pf, 'appNamespace'),
      kubernetesVersion: paramValue(pf, 'kubernetesVersion'),
      nodeVmSize: paramValue(pf, 'nodeVmSize'),
      nodeMinCount: paramValue(pf, 'nodeMinCount'),
      nodeMaxCount: paramValue(pf, 'nodeMaxCount'),
      disableLocalAccounts: paramValue(pf, 'disableLocalAccounts'),
      githubEnvironment: paramValue(pf, 'githubEnvironment'),
      healthCheckUrl: paramValue(pf, 'healthCheckUrl'),
    }, {
      environmentName: env.name,
      location: azure.location,
      resourceGroupName: azure.resourceGroup,
      clusterName: azure.cluster,
      registryName: azure.registry,
      logAnalyticsWorkspaceName: azure.logAnalyticsWorkspace,
      vaultReaderNamespace: env.kube.namespace,
      appNamespace: env.kube.namespace,
      kubernetesVersion: azure.kubernetesVersion,
      nodeVmSize: azure.nodeSize,
      nodeMinCount: azure.nodeCount.min,
      nodeMaxCount: azure.nodeCount.max,
      disableLocalAccounts: !azure.localAccounts,
      githubEnvironment: env.name,
      healthCheckUrl: `${env.url}/api/health`,
    }, rel(f));
    // No literal copy: each of those is an expression over the loaded file, not a value written twice.
    for (const a of pf.assignments) {
      if (['environmentName', 'location', 'resourceGroupName', 'clusterName', 'registryName', 'logAnalyticsWorkspaceName', 'vaultReaderNamespace', 'appNamespace', 'kubernetesVersion', 'nodeVmSize', 'nodeMinCount', 'nodeMaxCount', 'githubEnvironment'].includes(a.name)) {
        assert.is(literalValue(a.value), undefined, `${rel(f)}: ${a.name} is written as a literal; read it from the environment file`);
      }
    }
  }
});

test('mutation: a misspelt key, a missing environment file and a property the YAML lacks fail the parameter file check', async () => {
  const main = await parseBicepFile(mainPath);
  const source = readFileSync(join(bicepDir, 'production.bicepparam'), 'utf8');
  const typo = await parseBicepParam(source.replace('env.azure.cluster', 'env.azure.clustr'), 'bicep/production.bicepparam');
  assert.ok(checkParamFile(main, typo).some((v) => /env\.azure\.clustr: the loaded value has no property clustr/.test(v)), checkParamFile(main, typo).join('\n'));
  const missing = await parseBicepParam(source.replace('../environments/production.yaml', '../environments/prod.yaml'), 'bicep/production.bicepparam');
  assert.ok(checkParamFile(main, missing).some((v) => /environments\/prod\.yaml does not exist/.test(v)));
  // A value the template refuses is caught through the YAML too: @allowed on nodeVmSize.
  const bigVm = await parseBicepParam(source.replace('param nodeVmSize = env.azure.nodeSize', "param nodeVmSize = 'Standard_M416ms_v2'"), 'bicep/production.bicepparam');
  assert.ok(checkParamFile(main, bigVm).some((v) => /nodeVmSize = "Standard_M416ms_v2" is not in @allowed/.test(v)));
});

test('mutation: a ping test, three locations, a 15-minute frequency, another path check or threshold fail the availability check', async () => {
  const main = await parseBicepFile(mainPath);
  const check = async (from: string | RegExp, to: string) => checkAvailability(main, await mutated(modulePath('availability'), from, to)).join('\n');
  assert.match(await check("kind: 'standard'", "kind: 'ping'"), /webtest kind/);
  assert.match(await check('Frequency: 300', 'Frequency: 900'), /Frequency/);
  assert.match(await check("  'emea-gb-db3-azr'\n  'emea-nl-ams-azr'\n", ''), /could never fire/);
  assert.match(await check("  'us-ca-sjc-azr'\n  'us-tx-sn1-azr'\n  'emea-gb-db3-azr'\n  'emea-nl-ams-azr'\n", ''), /at least three distinct locations/);
  assert.match(await check("ContentMatch: 'healthy'", "ContentMatch: 'ok'"), /ContentMatch/);
  assert.match(await check('ExpectedHttpStatusCode: 200', 'ExpectedHttpStatusCode: 0'), /ExpectedHttpStatusCode/);
  assert.match(await check('threshold: 3', 'threshold: 5'), /alert threshold/);
  assert.match(await check("windowSize: 'PT5M'", "windowSize: 'PT15M'"), /alert windowSize/);
  assert.match(await check('Success == false', 'Success == true'), /does not count failed/);
});

// ----------------------------------------------------------------------------------------------
// Deploy outcome e-mail: the deploy workflow's custom event, one log alert e-mail per run
// ----------------------------------------------------------------------------------------------

/** A query given as a literal string or as join([...lines], ' ') of literal lines. */
function joinedQuery(file: BicepFile, n: Node | undefined): string {
  const q = resolve(file, n);
  return q?.type === 'call_expression' && q.childForFieldName('function')?.text === 'join'
    ? arrayItems(q.childForFieldName('arguments')?.namedChildren[0]).map((x) => stringValue(x) ?? '').join(' ')
    : stringValue(q) ?? '';
}

/** The condition of a `resource/module x '...' = if (cond) {...}` declaration, without parentheses. */
function conditionOf(decl: Node): string | undefined {
  const ifs = descendants(decl, ['if_statement'])[0];
  const cond = ifs?.namedChildren.find((c) => c?.type === 'parenthesized_expression');
  return cond?.text.replace(/^\(\s*|\s*\)$/g, '');
}

/** ISO 8601 PTnM / PTnH durations in minutes. */
function minutes(iso: Literal | undefined): number | undefined {
  const m = typeof iso === 'string' ? /^PT(?:(\d+)H)?(?:(\d+)M)?$/.exec(iso) : null;
  return m && (m[1] || m[2]) ? Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0) : undefined;
}

/**
 * main.bicep calls modules/deploy-events.bicep when deployOutcomeEmails is true, with the workspace,
 * Application Insights and the action group. Its rule e-mails each AppEvents row of the event exactly
 * once: stateless (a stateful rule would also e-mail "Resolved"), each row counted by the evaluation
 * after its ingestion (ingestion_time() within one evaluation period), a query range longer than that
 * period for late rows, one alert per Outcome/Commit/Run. The deploy identity may send the event
 * (Monitoring Metrics Publisher on the component), under the same switch.
 */
function checkDeployOutcome(main: BicepFile, events: BicepFile, ra: BicepFile): string[] {
  const out: string[] = [];
  const expect = (what: string, actual: unknown, wanted: unknown) => {
    if (JSON.stringify(actual) !== JSON.stringify(wanted)) out.push(`${what}: ${JSON.stringify(actual)}, expected ${JSON.stringify(wanted)}`);
  };
  const call = modules(main).find((m) => m.path === 'modules/deploy-events.bicep');
  if (!call?.body) return ['main.bicep does not call modules/deploy-events.bicep'];
  expect('deploy-events condition', conditionOf(call.node), 'deployOutcomeEmails');
  expect('deploy-events workspaceId', propertyAt(call.body, ['params', 'workspaceId'])?.text, 'monitoring.outputs.workspaceId');
  expect('deploy-events appInsightsId', propertyAt(call.body, ['params', 'appInsightsId'])?.text, 'availability.outputs.appInsightsId');
  expect('deploy-events actionGroupId', propertyAt(call.body, ['params', 'actionGroupId'])?.text, 'alerts.outputs.actionGroupId');
  if (literalValue(params(main).find((p) => p.name === 'deployOutcomeEmails')?.defaultValue) !== true) out.push('deployOutcomeEmails is not on by default');

  const rule = resources(events).find((r) => r.type === 'Microsoft.Insights/scheduledQueryRules');
  if (!rule?.body) return [...out, 'no deploy outcome rule in deploy-events.bicep'];
  const at = (...path: Array<string | number>) => propertyAt(rule.body, ['properties', ...path]);
  expect('rule scope', at('scopes', 0)?.text, 'workspaceId');
  expect('rule action group', at('actions', 'actionGroups', 0)?.text, 'actionGroupId');
  expect('rule autoMitigate (stateless: no "Resolved" e-mail)', literalValue(at('autoMitigate')), false);
  expect('rule counts rows', [literalValue(at('criteria', 'allOf', 0, 'timeAggregation')), literalValue(at('criteria', 'allOf', 0, 'operator')), literalValue(at('criteria', 'allOf', 0, 'threshold'))], ['Count', 'GreaterThan', 0]);
  const dims = arrayItems(at('criteria', 'allOf', 0, 'dimensions')).map((d) => literalValue(propertyAt(d, ['name'])));
  expect('rule dimensions (one alert per run)', dims, ['Outcome', 'Commit', 'Run']);
  const frequency = minutes(literalValue(at('evaluationFrequency')));
  const window = minutes(literalValue(at('windowSize')));
  const q = joinedQuery(events, at('criteria', 'allOf', 0, 'query'));
  if (!/^AppEvents \| where Name == '\$\{eventName\}' and _ResourceId =~ '\$\{appInsightsId\}'/.test(q)) out.push(`rule query does not read the event from AppEvents of this component: ${JSON.stringify(q)}`);
  const ingested = /ingestion_time\(\) > ago\((\d+)m\)/.exec(q);
  if (!ingested) out.push('rule query does not select by ingestion_time(): rows ingested late would be missed or e-mailed twice');
  else if (Number(ingested[1]) !== frequency) out.push(`ingestion_time() span ${ingested[1]}m differs from the evaluation frequency ${String(frequency)}m: rows would be e-mailed twice or never`);
  if (frequency === undefined || frequency < 5) out.push(`evaluationFrequency ${String(frequency)}m: ingestion_time() needs 5 minutes or more`);
  if (window === undefined || frequency === undefined || window <= frequency) out.push(`windowSize ${String(window)}m leaves no room for ingestion delay beyond the ${String(frequency)}m frequency`);
  for (const d of dims) if (!new RegExp(`\\b${String(d)} = tostring\\(Properties\\.${String(d)}\\)`).test(q)) out.push(`rule query does not project the dimension ${String(d)} from the event's properties`);

  const publisherBodies = assignmentsWithRole(ra, ROLE.monitoringMetricsPublisher).map((b) => b.startIndex);
  const publisher = resources(ra).find((r) => r.type === 'Microsoft.Authorization/roleAssignments' && r.body && publisherBodies.includes(r.body.startIndex));
  if (!publisher) out.push('no Monitoring Metrics Publisher assignment in role-assignments.bicep');
  else {
    expect('publisher principal', propertyAt(publisher.body, ['properties', 'principalId'])?.text, 'githubPrincipalId');
    expect('publisher scope', propertyAt(publisher.body, ['scope'])?.text, 'appInsights');
    expect('publisher condition', conditionOf(publisher.node), 'deployOutcomeEvents');
  }
  const raCall = modules(main).find((m) => m.path === 'modules/role-assignments.bicep');
  expect('role-assignments deployOutcomeEvents', propertyAt(raCall?.body, ['params', 'deployOutcomeEvents'])?.text, 'deployOutcomeEmails');
  expect('role-assignments appInsightsName', propertyAt(raCall?.body, ['params', 'appInsightsName'])?.text, 'availability.outputs.appInsightsName');
  return out;
}

test('deploy outcome e-mail: one stateless log alert per run over the workflow\'s AppEvents, to the action group; the deploy identity may send the event', async () => {
  assert.equal(checkDeployOutcome(await parseBicepFile(mainPath), await parseBicepFile(modulePath('deploy-events')), await parseBicepFile(modulePath('role-assignments'))), []);
});

test('mutation: a stateful rule, windows of 5 and 5, no ingestion_time(), a missing dimension or no publisher role fail the deploy outcome check', async () => {
  const main = await parseBicepFile(mainPath);
  const ra = await parseBicepFile(modulePath('role-assignments'));
  const events = (from: string | RegExp, to: string) => mutated(modulePath('deploy-events'), from, to);
  const check = async (e: Promise<BicepFile>, r: BicepFile = ra) => checkDeployOutcome(main, await e, r).join('\n');
  assert.match(await check(events('autoMitigate: false', 'autoMitigate: true')), /autoMitigate/);
  assert.match(await check(events("windowSize: 'PT15M'", "windowSize: 'PT5M'")), /windowSize 5m leaves no room/);
  assert.match(await check(events("  '| where ingestion_time() > ago(5m)'\n", '')), /does not select by ingestion_time/);
  assert.match(await check(events('ingestion_time() > ago(5m)', 'ingestion_time() > ago(15m)')), /span 15m differs/);
  assert.match(await check(events("evaluationFrequency: 'PT5M'", "evaluationFrequency: 'PT1M'")), /needs 5 minutes or more/);
  assert.match(await check(events(', Run = tostring(Properties.Run)', '')), /project the dimension Run/);
  const noRole = await mutated(modulePath('role-assignments'), "roleDefinitions', roleIds.monitoringMetricsPublisher)", "roleDefinitions', roleIds.keyVaultSecretsUser)");
  const unconditional = await mutated(modulePath('role-assignments'), "githubTelemetryPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (deployOutcomeEvents) {", "githubTelemetryPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {");
  assert.match(checkDeployOutcome(main, await parseBicepFile(modulePath('deploy-events')), unconditional).join('\n'), /publisher condition/);
  assert.match(checkDeployOutcome(main, await parseBicepFile(modulePath('deploy-events')), noRole).join('\n'), /no Monitoring Metrics Publisher/);
});

/** Alert rules whose description names a runbook entry that docs/runbooks.md does not have. */
function checkRunbookLinks(files: BicepFile[], runbooks: string): string[] {
  const headings = new Set(runbooks.split('\n').filter((l) => /^#{2,4} /.test(l)).map((l) => l.replace(/^#+ /, '').trim()));
  const out: string[] = [];
  for (const f of files) {
    for (const r of resources(f).filter((x) => x.type === 'Microsoft.Insights/scheduledQueryRules')) {
      const d = stringValue(propertyAt(r.body, ['properties', 'description'])) ?? '';
      for (const m of d.matchAll(/Runbook: docs\/runbooks\.md, "([^"]+)"/g)) if (!headings.has(m[1]!)) out.push(`${rel(f.path)} ${r.symbol}: no runbook heading "${m[1]!}"`);
    }
  }
  return out;
}

test('every alert rule that names a runbook entry names one docs/runbooks.md has', async () => {
  const files = await loadAll();
  const runbooks = readFileSync(join(repoRoot, 'docs', 'runbooks.md'), 'utf8');
  const named = files.flatMap((f) => resources(f)).filter((r) => /Runbook: docs\/runbooks\.md/.test(stringValue(propertyAt(r.body, ['properties', 'description'])) ?? ''));
  assert.ok(named.length >= 3, `rollout, availability and deploy outcome rules name their runbook (${named.length})`);
  assert.equal(checkRunbookLinks(files, runbooks), []);
  assert.match(checkRunbookLinks(files, runbooks.replace('### Deploy outcome e-mail', '### Deploy outcome mail')).join(), /no runbook heading "Deploy outcome e-mail"/);
});

// ----------------------------------------------------------------------------------------------
// .bicepparam files, checked against the parsed template
// ----------------------------------------------------------------------------------------------

function checkParamFile(main: BicepFile, pf: BicepParamFile): string[] {
  const out: string[] = [];
  const where = rel(pf.file.path);
  const declared = new Map(params(main).map((p) => [p.name, p]));
  out.push(...syntaxProblems(pf.file).map((p) => `${where}:${p.line} ${p.kind}`));
  if (pf.using !== './main.bicep') out.push(`${where}: using ${JSON.stringify(pf.using)}, expected './main.bicep'`);
  for (const a of pf.assignments) {
    const decl = declared.get(a.name);
    if (!decl) {
      out.push(`${where}: sets ${a.name}, which main.bicep does not declare`);
      continue;
    }
    const fromOutside = a.value.type === 'call_expression' && ['readEnvironmentVariable', 'az.getSecret'].includes(a.value.childForFieldName('function')?.text ?? '');
    if ((hasDecorator(decl, 'secure') || looksSecret(a.name)) && !fromOutside) out.push(`${where}: secret ${a.name} is set literally`);
    let v: Literal | undefined;
    try {
      v = paramExpressionValue(pf, a.value);
    } catch (e) {
      out.push((e as Error).message);
      continue;
    }
    const allowed = decoratorArg(decl, 'allowed');
    if (v !== undefined && Array.isArray(allowed) && !allowed.includes(v)) out.push(`${where}: ${a.name} = ${JSON.stringify(v)} is not in @allowed`);
    const min = decoratorArg(decl, 'minValue');
    const max = decoratorArg(decl, 'maxValue');
    if (typeof v === 'number' && ((typeof min === 'number' && v < min) || (typeof max === 'number' && v > max))) out.push(`${where}: ${a.name} = ${v} is out of range`);
    const len = typeof v === 'string' || Array.isArray(v) ? v.length : undefined;
    const minLen = decoratorArg(decl, 'minLength');
    const maxLen = decoratorArg(decl, 'maxLength');
    if (len !== undefined && ((typeof minLen === 'number' && len < minLen) || (typeof maxLen === 'number' && len > maxLen))) out.push(`${where}: ${a.name} has length ${len}, outside its bounds`);
  }
  const set = new Set(pf.assignments.map((a) => a.name));
  for (const p of params(main)) if (!p.defaultValue && !set.has(p.name)) out.push(`${where}: required param ${p.name} is not set`);
  return out;
}

test('each .bicepparam sets only declared params, sets every required one, and no secret literally', async () => {
  const main = await parseBicepFile(mainPath);
  const files = listBicepFiles('.bicepparam').map((f) => rel(f));
  assert.equal(files, ['bicep/production.bicepparam', 'bicep/staging.bicepparam']);
  for (const f of listBicepFiles('.bicepparam')) assert.equal(checkParamFile(main, await parseBicepParamFile(f)), [], rel(f));
});

test('API server access: authorized ranges required, never empty, in main.bicep, the aks module and every parameter file', async () => {
  const main = await parseBicepFile(mainPath);
  const aks = await parseBicepFile(modulePath('aks'));
  const files = listBicepFiles('.bicepparam');
  assert.ok(files.some((f) => f.endsWith('production.bicepparam')));
  for (const f of files) assert.equal(checkApiServerAccess(main, aks, await parseBicepParamFile(f)), [], rel(f));
  const prod = await parseBicepParamFile(join(bicepDir, 'production.bicepparam'));
  const reads = callsOf(prod.assignments.find((a) => a.name === 'apiServerAuthorizedIpRanges')!.value, 'readEnvironmentVariable');
  assert.is(stringValue(reads[0]!.childForFieldName('arguments')!.namedChildren[0]), 'AKS_API_AUTHORIZED_IP_RANGES');
});

test('mutation: an empty or open list in production, a default or a missing @minLength(1) fail the API server check', async () => {
  const main = await parseBicepFile(mainPath);
  const aks = await parseBicepFile(modulePath('aks'));
  const prodSource = readFileSync(join(bicepDir, 'production.bicepparam'), 'utf8');
  const withRanges = (value: string) => parseBicepParam(prodSource.replace(/^param apiServerAuthorizedIpRanges = .*$/m, `param apiServerAuthorizedIpRanges = ${value}`), 'bicep/production.bicepparam');
  assert.equal(checkApiServerAccess(main, aks, await withRanges("[\n  '203.0.113.7/32'\n]")), []);
  assert.match(checkApiServerAccess(main, aks, await withRanges('[]')).join(), /is empty: the API server would accept any address/);
  assert.ok(checkParamFile(main, await withRanges('[]')).some((v) => /apiServerAuthorizedIpRanges has length 0/.test(v)), '@minLength(1) refuses it in the param file check too');
  assert.match(checkApiServerAccess(main, aks, await withRanges("[\n  '0.0.0.0/0'\n]")).join(), /"0\.0\.0\.0\/0", which lets any address in/);
  assert.match(checkApiServerAccess(main, aks, await withRanges("split(readEnvironmentVariable('AKS_API_AUTHORIZED_IP_RANGES', ''), ',')")).join(), /with a default/);
  const unset = await parseBicepParam(prodSource.replace(/^param apiServerAuthorizedIpRanges = .*$/m, ''), 'bicep/production.bicepparam');
  assert.match(checkApiServerAccess(main, aks, unset).join(), /does not set apiServerAuthorizedIpRanges/);
  assert.ok(checkParamFile(main, unset).includes('bicep/production.bicepparam: required param apiServerAuthorizedIpRanges is not set'));
  const prod = await parseBicepParamFile(join(bicepDir, 'production.bicepparam'));
  const defaulted = await mutated(mainPath, /@minLength\(1\)\nparam apiServerAuthorizedIpRanges array/, 'param apiServerAuthorizedIpRanges array = []');
  const problems = checkApiServerAccess(defaulted, aks, prod).join('\n');
  assert.match(problems, /bicep\/main\.bicep: apiServerAuthorizedIpRanges has a default/);
  assert.match(problems, /bicep\/main\.bicep: apiServerAuthorizedIpRanges lacks @minLength\(1\)/);
  const aksOpen = await mutated(modulePath('aks'), /@minLength\(1\)\nparam apiServerAuthorizedIpRanges array/, 'param apiServerAuthorizedIpRanges array');
  assert.match(checkApiServerAccess(main, aksOpen, prod).join(), /modules\/aks\.bicep: apiServerAuthorizedIpRanges lacks @minLength\(1\)/);
});

test('production.bicepparam keeps the plan\'s tier and local accounts off', async () => {
  const main = await parseBicepFile(mainPath);
  const prod = await parseBicepParamFile(join(bicepDir, 'production.bicepparam'));
  assert.is(effectiveParam(main, prod, 'aksTier'), 'Standard');
  assert.is(effectiveParam(main, prod, 'disableLocalAccounts'), true);
});

test('docs/azure-setup.md has a row for every main.bicep parameter', async () => {
  const main = await parseBicepFile(mainPath);
  const doc = readFileSync(join(repoRoot, 'docs', 'azure-setup.md'), 'utf8');
  const rows = new Set([...doc.matchAll(/^\| `([A-Za-z]+)` \|/gm)].map((m) => m[1]));
  assert.equal(params(main).map((p) => p.name).filter((n) => !rows.has(n)), []);
});

// ----------------------------------------------------------------------------------------------
// Mutations: each check above catches the fault it exists for.
// ----------------------------------------------------------------------------------------------

async function mutated(path: string, from: string | RegExp, to: string): Promise<BicepFile> {
  const source = readFileSync(path, 'utf8');
  const changed = source.replace(from, to);
  assert.not.equal(changed, source, `mutation ${String(from)} applies to ${rel(path)}`);
  return parseBicep(changed, path);
}

test('mutation: a maxCount other than the environment file\'s (param file or YAML) and a kubenet network plugin fail the AKS check', async () => {
  const aks = await parseBicepFile(modulePath('aks'));
  const main = await parseBicepFile(mainPath);
  const prod = await productionParams();
  const azure = PRODUCTION_ENV.azure!;
  const bigger = { ...PRODUCTION_ENV, azure: { ...azure, nodeCount: { ...azure.nodeCount, max: azure.nodeCount.max + 1 } } };
  assert.ok(checkAks(main, aks, prod, bigger).some((v) => v.startsWith('agent pool maxCount')));
  const resized = { ...PRODUCTION_ENV, azure: { ...azure, nodeSize: 'Standard_D4s_v5' } };
  assert.ok(checkAks(main, aks, prod, resized).some((v) => v.startsWith('agent pool vmSize')));
  const prodSource = readFileSync(join(bicepDir, 'production.bicepparam'), 'utf8').replace(/^param nodeMaxCount = .*$/m, 'param nodeMaxCount = 6');
  assert.ok(checkAks(main, aks, await parseBicepParam(prodSource, 'bicep/production.bicepparam')).some((v) => v.startsWith('agent pool maxCount')));
  const kubenet = await mutated(modulePath('aks'), "networkPlugin: 'azure'", "networkPlugin: 'kubenet'");
  assert.ok(checkAks(main, kubenet, prod).some((v) => v.startsWith('networkPlugin')));
  const pinned = await mutated(modulePath('aks'), 'kubernetesVersion: kubernetesVersion', "kubernetesVersion: '1.28'");
  assert.ok(checkAks(main, pinned, prod).some((v) => v.includes('kubernetesVersion')));
});

test('mutation: a -preview API version, an unlisted version, an over-age version and stale exceptions are caught', async () => {
  const preview = await mutated(modulePath('aks'), "managedClusters@2025-10-01' = {", "managedClusters@2025-10-02-preview' = {");
  assert.ok(checkApiVersions(preview).some((v) => v.includes('preview API version')));
  const old = await mutated(modulePath('acr'), 'registries@2025-04-01', 'registries@2019-05-01');
  assert.ok(checkApiVersions(old).some((v) => v.includes('expected 2025-04-01')));
  // Listed in the table, but over the limit: 731 days after 2025-04-01 it fails, 730 days after it passes.
  const acr = await parseBicepFile(modulePath('acr'));
  assert.equal(checkApiVersions(acr, new Date('2027-04-01T12:00:00Z')), []);
  assert.match(checkApiVersions(acr, new Date('2027-04-02T00:00:00Z')).join(), /731 days old, over the 730 of bicepconfig\.json/);
  // The exception covers only its own version: roleAssignments moved to another old version fails.
  const ra = await mutated(modulePath('role-assignments'), /roleAssignments@2022-04-01/g, 'roleAssignments@2020-04-01');
  const pinnedRa = { ...PINNED_API_VERSIONS, 'Microsoft.Authorization/roleAssignments': '2020-04-01' };
  assert.ok(checkApiVersions(ra, new Date(), pinnedRa).some((v) => /roleAssignments@2020-04-01\).*days old/.test(v)));
  assert.match(staleAgeExceptions(new Date(), pinnedRa).join(), /excepted at 2022-04-01 but pinned at 2020-04-01/);
  assert.match(staleAgeExceptions(new Date('2023-06-01T00:00:00Z')).join(), /roleAssignments@2022-04-01 is within 730 days/);
});

test('mutation: a missing @description, a literal location and a non-guid role assignment name are caught', async () => {
  const noDesc = await mutated(modulePath('acr'), "@description('Registry SKU.')\n", '');
  assert.equal(checkDescriptions(noDesc), ['bicep/modules/acr.bicep param sku: no @description']);
  const literal = await mutated(modulePath('acr'), /location: location/, "location: 'eastus'");
  assert.equal(checkNoLiteralLocation(literal).length, 1);
  const noGuid = await mutated(modulePath('role-assignments'), 'name: guid(registry.id, kubeletObjectId, roleIds.acrPull)', "name: 'kubelet-acr-pull'");
  assert.equal(checkRoleAssignmentNames(noGuid).length, 1);
});

test('mutation: a secret param without @secure(), an output of listKeys() and a literal secret in a param file are caught', async () => {
  const main = await parseBicepFile(mainPath);
  const withSecret = await mutated(mainPath, 'param tags object = {}', "@description('OpenAI key')\nparam openAiApiKey string\n\n@description('Tags.')\nparam tags object = {}");
  assert.equal(checkSecureParams(withSecret), ['bicep/main.bicep param openAiApiKey: looks secret but has no @secure()']);
  const leaky = await mutated(modulePath('acr'), "@description('Registry name.')", "@description('Keys.')\noutput keys object = registry.listCredentials()\n\n@description('Registry name.')");
  assert.ok(checkOutputsHoldNoSecret(leaky).some((v) => v.includes('listCredentials')));
  const prodSource = readFileSync(join(bicepDir, 'production.bicepparam'), 'utf8');
  const secureMain = await mutated(mainPath, 'param tags object = {}', "@secure()\n@description('OpenAI key')\nparam openAiApiKey string = ''\n\n@description('Tags.')\nparam tags object = {}");
  const literalSecret = await parseBicepParam(`${prodSource}\nparam openAiApiKey = 'sk-live-123'\n`, 'bicep/production.bicepparam');
  assert.ok(checkParamFile(secureMain, literalSecret).includes('bicep/production.bicepparam: secret openAiApiKey is set literally'));
  const fromEnv = await parseBicepParam(`${prodSource}\nparam openAiApiKey = readEnvironmentVariable('OPENAI_API_KEY')\n`, 'bicep/production.bicepparam');
  assert.equal(checkParamFile(secureMain, fromEnv), []);
  const unknown = await parseBicepParam(`${prodSource}\nparam nodeCount = 3\n`, 'bicep/production.bicepparam');
  assert.ok(checkParamFile(main, unknown).includes('bicep/production.bicepparam: sets nodeCount, which main.bicep does not declare'));
  const missing = await parseBicepParam(prodSource.replace(/^param kubernetesVersion = .*$/m, ''), 'bicep/production.bicepparam');
  assert.ok(checkParamFile(main, missing).includes('bicep/production.bicepparam: required param kubernetesVersion is not set'));
});

test('mutation: a syntax error is reported with its position', async () => {
  const broken = await mutated(modulePath('acr'), 'adminUserEnabled: false', 'adminUserEnabled: = false');
  const problems = checkParses(broken);
  assert.ok(problems.length > 0 && problems.every((p) => p.startsWith('bicep/modules/acr.bicep:')), JSON.stringify(problems));
});

test.run();
