// Azure Resource Manager deployments as typed values: what-if results, deployment results, failed
// deployment operations (followed into nested module deployments), soft-deleted Key Vaults, and the
// .bicepparam inputs setup.mts needs before it can ask ARM anything. Parsed once, here, at the edge;
// the shapes are az's (https://learn.microsoft.com/cli/azure/deployment/sub, and the REST results at
// https://learn.microsoft.com/rest/api/resources/deployments; sources in test/fixtures/cli-samples/README.md).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { parseCliJson } from './cli-json.ts';
import { OpsError } from './errors.ts';
import type { CheckResult } from './preflight.ts';
import type { Runner } from './runner.ts';

// ---------- resource ids ----------

export interface ResourceRef {
  /** e.g. Microsoft.ContainerService/managedClusters, or Microsoft.ContainerService/managedClusters/agentPools */
  type: string;
  /** e.g. my-cluster, or my-cluster/system for a child resource */
  name: string;
  resourceGroup?: string;
}

/** Type and name of an ARM resource id; extension resources (role assignments) are named by their last provider. */
export function parseResourceId(id: string): ResourceRef {
  const parts = id.split('/').filter(Boolean);
  const rgIndex = parts.findIndex((p) => p.toLowerCase() === 'resourcegroups');
  const resourceGroup = rgIndex >= 0 ? parts[rgIndex + 1] : undefined;
  const lastProvider = parts.map((p) => p.toLowerCase()).lastIndexOf('providers');
  if (lastProvider < 0) {
    if (resourceGroup && rgIndex + 2 === parts.length) return { type: 'Microsoft.Resources/resourceGroups', name: resourceGroup, resourceGroup };
    if (parts[0]?.toLowerCase() === 'subscriptions' && parts.length === 2) return { type: 'Microsoft.Resources/subscriptions', name: parts[1] ?? id };
    return { type: 'unknown', name: parts[parts.length - 1] ?? id, ...(resourceGroup ? { resourceGroup } : {}) };
  }
  const namespace = parts[lastProvider + 1] ?? 'unknown';
  const rest = parts.slice(lastProvider + 2);
  const types: string[] = [];
  const names: string[] = [];
  for (let i = 0; i < rest.length; i += 2) {
    types.push(rest[i]!);
    if (rest[i + 1] !== undefined) names.push(rest[i + 1]!);
  }
  return { type: [namespace, ...types].join('/'), name: names.join('/') || (parts[parts.length - 1] ?? id), ...(resourceGroup ? { resourceGroup } : {}) };
}

// ---------- what-if ----------

export const CHANGE_TYPES = ['Create', 'Delete', 'Modify', 'Deploy', 'NoChange', 'Ignore', 'Unsupported'] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

export interface WhatIfChange {
  changeType: ChangeType;
  resourceId: string;
  type: string;
  name: string;
  /** Property paths that change (`delta[].path`, children flattened), for Modify. */
  properties: string[];
  unsupportedReason?: string;
}

export interface WhatIfSummary {
  status: string;
  counts: Record<ChangeType, number>;
  changes: WhatIfChange[];
  deletes: WhatIfChange[];
  modifies: WhatIfChange[];
  /** False when every resource is NoChange or Ignore: deploying would change nothing. */
  hasChanges: boolean;
}

interface RawDelta { path?: unknown; propertyChangeType?: unknown; children?: unknown }
interface RawChange { changeType?: unknown; resourceId?: unknown; delta?: unknown; unsupportedReason?: unknown }
interface RawError { code?: unknown; message?: unknown; details?: unknown; target?: unknown }

// What cli-json.ts checks of each az answer before the parsers below map it; the parsers read every
// nested field defensively (ARM documents vary by resource provider), so the schemas stop at the top.
/** `az deployment sub what-if --no-pretty-print -o json`: an object (changes at the top or under properties). */
export const WhatIfAnswerSchema = z.looseObject({ status: z.string().nullish() });
/** `az deployment sub create|show -o json`. */
export const DeploymentAnswerSchema = z.looseObject({ name: z.string().nullish(), properties: z.looseObject({}) });
/** `az deployment operation sub|group list -o json` and `az keyvault list-deleted -o json`: lists. */
export const ListAnswerSchema = z.array(z.unknown());

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function deltaPaths(delta: unknown, prefix = ''): string[] {
  if (!Array.isArray(delta)) return [];
  const out: string[] = [];
  for (const d of delta as RawDelta[]) {
    if (!isObject(d)) continue;
    if (d.propertyChangeType === 'NoEffect') continue;
    const path = str(d.path) ?? '';
    const full = prefix && path ? `${prefix}.${path}` : prefix || path;
    const children = deltaPaths(d.children, full);
    if (children.length) out.push(...children);
    else if (full) out.push(full);
  }
  return out;
}

/** `az deployment sub what-if --no-pretty-print -o json` → counts by change type, deletes and modifies by name. */
export function parseWhatIf(doc: unknown): WhatIfSummary {
  if (!isObject(doc)) throw new OpsError('az deployment sub what-if did not return a JSON object', { hint: 'check the az version with npx zx scripts/doctor.mts' });
  const status = str(doc.status) ?? 'Succeeded';
  if (status === 'Failed' || (isObject(doc.error) && doc.error.code)) {
    throw new OpsError(`what-if failed: ${formatArmError(doc.error)}`, { hint: 'fix the template or parameters named above; az bicep build --file bicep/main.bicep shows compile errors locally' });
  }
  const rawChanges = Array.isArray(doc.changes) ? (doc.changes as RawChange[]) : Array.isArray((doc.properties as { changes?: unknown } | undefined)?.changes) ? ((doc.properties as { changes: RawChange[] }).changes) : undefined;
  if (!rawChanges) throw new OpsError('az deployment sub what-if printed no "changes" list', { hint: 'run it with --no-pretty-print -o json; check the az version with npx zx scripts/doctor.mts' });
  const counts = Object.fromEntries(CHANGE_TYPES.map((t) => [t, 0])) as Record<ChangeType, number>;
  const changes: WhatIfChange[] = [];
  for (const c of rawChanges) {
    if (!isObject(c)) continue;
    const changeType = CHANGE_TYPES.find((t) => t === c.changeType);
    if (!changeType) throw new OpsError(`what-if returned an unknown changeType ${JSON.stringify(c.changeType)}`, { hint: 'update aks-todo-ops: this az version reports a change type it does not know' });
    const resourceId = str(c.resourceId) ?? '';
    const ref = parseResourceId(resourceId);
    counts[changeType]++;
    changes.push({
      changeType,
      resourceId,
      type: ref.type,
      name: ref.name,
      properties: changeType === 'Modify' ? deltaPaths(c.delta) : [],
      ...(str(c.unsupportedReason) ? { unsupportedReason: str(c.unsupportedReason)! } : {}),
    });
  }
  return {
    status,
    counts,
    changes,
    deletes: changes.filter((c) => c.changeType === 'Delete'),
    modifies: changes.filter((c) => c.changeType === 'Modify'),
    hasChanges: changes.some((c) => c.changeType !== 'NoChange' && c.changeType !== 'Ignore'),
  };
}

/** "3 to create, 1 to modify, 12 unchanged" — only the types present. */
export function describeCounts(s: WhatIfSummary): string {
  const label: Record<ChangeType, string> = {
    Create: 'to create', Delete: 'to delete', Modify: 'to modify', Deploy: 'to redeploy (changes unknown)',
    NoChange: 'unchanged', Ignore: 'ignored (not in the template)', Unsupported: 'not predictable',
  };
  const parts = CHANGE_TYPES.filter((t) => s.counts[t] > 0).map((t) => `${s.counts[t]} ${label[t]}`);
  return parts.length ? parts.join(', ') : 'no resources';
}

/** The what-if summary an operator reads before confirming. */
export function formatWhatIf(s: WhatIfSummary): string[] {
  const lines = [`what-if: ${describeCounts(s)}`];
  const show = (c: WhatIfChange) => `${c.type} ${c.name}`;
  for (const c of s.changes.filter((x) => x.changeType === 'Create')) lines.push(`  + create  ${show(c)}`);
  for (const c of s.modifies) lines.push(`  ~ modify  ${show(c)}${c.properties.length ? ` (${c.properties.slice(0, 6).join(', ')}${c.properties.length > 6 ? ', …' : ''})` : ''}`);
  for (const c of s.changes.filter((x) => x.changeType === 'Deploy')) lines.push(`  = deploy  ${show(c)}`);
  for (const c of s.deletes) lines.push(`  - DELETE  ${show(c)}`);
  for (const c of s.changes.filter((x) => x.changeType === 'Unsupported')) lines.push(`  ? unknown ${show(c)}${c.unsupportedReason ? ` (${c.unsupportedReason})` : ''}`);
  return lines;
}

// ---------- deployment results ----------

export interface DeploymentResult {
  name: string;
  provisioningState: string;
  duration?: string;
  /** properties.outputs.<name>.value, by the output's name as declared. */
  outputs: Record<string, unknown>;
  error?: string;
}

/** `az deployment sub create|show -o json` → state, duration and outputs. */
export function parseDeployment(doc: unknown): DeploymentResult {
  if (!isObject(doc) || !isObject(doc.properties)) throw new OpsError('the deployment result has no "properties"', { hint: 'check the az version with npx zx scripts/doctor.mts' });
  const p = doc.properties;
  const outputs: Record<string, unknown> = {};
  if (isObject(p.outputs)) {
    for (const [k, v] of Object.entries(p.outputs)) outputs[k] = isObject(v) ? v.value : v;
  }
  return {
    name: str(doc.name) ?? '',
    provisioningState: str(p.provisioningState) ?? 'Unknown',
    ...(str(p.duration) ? { duration: str(p.duration)! } : {}),
    outputs,
    ...(isObject(p.error) ? { error: formatArmError(p.error) } : {}),
  };
}

/** An output as a string; ARM output names compare case-insensitively. */
export function outputString(d: DeploymentResult, name: string): string | undefined {
  const key = Object.keys(d.outputs).find((k) => k.toLowerCase() === name.toLowerCase());
  const v = key === undefined ? undefined : d.outputs[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** "Code: message" with nested details indented, for any ARM error object. */
export function formatArmError(e: unknown, depth = 0): string {
  if (!isObject(e)) return 'unknown error';
  const err = e as RawError;
  const head = [str(err.code), str(err.message)].filter(Boolean).join(': ') || 'unknown error';
  const details = Array.isArray(err.details) ? err.details.filter(isObject) : [];
  if (!details.length || depth > 4) return head;
  return [head, ...details.map((d) => `${'  '.repeat(depth + 1)}- ${formatArmError(d, depth + 1)}`)].join('\n');
}

/** The JSON az prints after `ERROR: ` when a deployment fails (the ARM error, https://learn.microsoft.com/azure/azure-resource-manager/troubleshooting/common-deployment-errors); undefined for other errors. */
export function parseCliError(stderr: string): string | undefined {
  for (const line of stderr.split('\n')) {
    const m = /^ERROR:\s*(\{.*\})\s*$/.exec(line.trim());
    if (!m) continue;
    try {
      const doc = JSON.parse(m[1]!) as { error?: unknown };
      return formatArmError(doc.error ?? doc);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

// ---------- deployment operations ----------

export interface FailedOperation {
  resourceType: string;
  resourceName: string;
  resourceId: string;
  provisioningOperation: string;
  statusCode?: string;
  code: string;
  message: string;
  /** Nested `error.details`, flattened to "code: message". */
  details: string[];
  /** Operations of a nested (module) deployment that failed, when they could be read. */
  nested: FailedOperation[];
}

function flattenDetails(e: unknown, out: string[] = []): string[] {
  if (!isObject(e) || !Array.isArray(e.details)) return out;
  for (const d of e.details) {
    if (!isObject(d)) continue;
    out.push([str(d.code), str(d.message)].filter(Boolean).join(': '));
    flattenDetails(d, out);
  }
  return out;
}

/** `az deployment operation sub|group list -o json` → the failed operations with their errors. */
export function parseOperations(doc: unknown): FailedOperation[] {
  if (!Array.isArray(doc)) throw new OpsError('az deployment operation list did not return a JSON array', { hint: 'check the az version with npx zx scripts/doctor.mts' });
  const failed: FailedOperation[] = [];
  for (const op of doc) {
    if (!isObject(op) || !isObject(op.properties)) continue;
    const p = op.properties;
    if (p.provisioningState !== 'Failed') continue;
    const target = isObject(p.targetResource) ? p.targetResource : {};
    const sm = isObject(p.statusMessage) ? p.statusMessage : {};
    // statusMessage is usually {status, error}; some providers put the error object at the top.
    const error = isObject(sm.error) ? sm.error : sm;
    const resourceId = str(target.id) ?? '';
    const ref = resourceId ? parseResourceId(resourceId) : undefined;
    failed.push({
      resourceType: str(target.resourceType) ?? ref?.type ?? 'unknown',
      resourceName: str(target.resourceName) ?? ref?.name ?? 'unknown',
      resourceId,
      provisioningOperation: str(p.provisioningOperation) ?? '',
      ...(str(p.statusCode) ? { statusCode: str(p.statusCode)! } : {}),
      code: str(error.code) ?? str(p.statusCode) ?? 'unknown',
      message: str(error.message) ?? '',
      details: flattenDetails(error),
      nested: [],
    });
  }
  return failed;
}

export function isNestedDeployment(op: FailedOperation): boolean {
  return op.resourceType.toLowerCase() === 'microsoft.resources/deployments';
}

/** A readable account of why a deployment failed, innermost causes included. */
export function formatFailedOperations(ops: readonly FailedOperation[], indent = ''): string[] {
  const lines: string[] = [];
  for (const op of ops) {
    // A module's own "DeploymentFailed" says nothing its operations do not say better.
    if (isNestedDeployment(op) && op.nested.length) {
      lines.push(`${indent}module deployment ${op.resourceName}:`);
      lines.push(...formatFailedOperations(op.nested, `${indent}  `));
      continue;
    }
    lines.push(`${indent}${op.resourceType} ${op.resourceName}: ${op.code}${op.message ? `: ${op.message}` : ''}`);
    for (const d of op.details) lines.push(`${indent}  - ${d}`);
  }
  return lines;
}

/**
 * Reads the failed operations of a subscription deployment and follows failed module deployments
 * (Bicep modules are nested deployments) down to the resource that failed. Never throws: a failure
 * to read the operations is itself reported.
 */
export async function explainDeploymentFailure(runner: Runner, deploymentName: string): Promise<{ operations: FailedOperation[]; lines: string[] }> {
  const read = async (args: string[]): Promise<FailedOperation[] | string> => {
    const r = await runner.run('az', [...args, '-o', 'json'], { allowFailure: true, mutating: false });
    if (r.exitCode !== 0) return r.stderr.trim().split('\n')[0] ?? `exit ${r.exitCode}`;
    try {
      return parseOperations(parseCliJson(r, ListAnswerSchema));
    } catch (e) {
      return (e as Error).message;
    }
  };
  const follow = async (ops: FailedOperation[], depth: number): Promise<void> => {
    if (depth >= 4) return;
    for (const op of ops) {
      if (!isNestedDeployment(op)) continue;
      const ref = parseResourceId(op.resourceId);
      const name = ref.name || op.resourceName;
      const nested = await read(ref.resourceGroup
        ? ['deployment', 'operation', 'group', 'list', '--resource-group', ref.resourceGroup, '--name', name]
        : ['deployment', 'operation', 'sub', 'list', '--name', name]);
      if (typeof nested === 'string') continue;
      op.nested = nested;
      await follow(nested, depth + 1);
    }
  };
  const top = await read(['deployment', 'operation', 'sub', 'list', '--name', deploymentName]);
  if (typeof top === 'string') return { operations: [], lines: [`(could not read the deployment operations: ${top})`] };
  await follow(top, 0);
  return { operations: top, lines: top.length ? formatFailedOperations(top) : ['(no failed operation was recorded)'] };
}

// ---------- Key Vault soft delete ----------

export interface DeletedVault {
  name: string;
  location: string;
  deletionDate?: string;
  scheduledPurgeDate?: string;
  purgeProtectionEnabled: boolean;
}

/** `az keyvault list-deleted -o json` → the deleted vaults. */
export function parseDeletedVaults(doc: unknown): DeletedVault[] {
  if (!Array.isArray(doc)) throw new OpsError('az keyvault list-deleted did not return a JSON array');
  return doc.filter(isObject).map((v) => {
    const p = isObject(v.properties) ? v.properties : {};
    return {
      name: str(v.name) ?? '',
      location: str(p.location) ?? '',
      ...(str(p.deletionDate) ? { deletionDate: str(p.deletionDate)! } : {}),
      ...(str(p.scheduledPurgeDate) ? { scheduledPurgeDate: str(p.scheduledPurgeDate)! } : {}),
      purgeProtectionEnabled: p.purgeProtectionEnabled === true,
    };
  });
}

/** A vault name held by a soft-deleted vault cannot be created again until the vault is recovered or purged. */
export async function checkDeletedKeyVault(runner: Runner, vaultName: string, envFile: string): Promise<CheckResult> {
  const name = `Key Vault name ${vaultName} is free of soft-deleted vaults`;
  const r = await runner.run('az', ['keyvault', 'list-deleted', '-o', 'json'], { allowFailure: true, mutating: false });
  if (r.exitCode !== 0) {
    return { name, ok: false, required: false, detail: `could not list deleted vaults: ${r.stderr.trim().split('\n')[0] ?? ''}`, fix: 'needs Microsoft.KeyVault/locations/deletedVaults/read on the subscription' };
  }
  let vaults: DeletedVault[];
  try {
    vaults = parseDeletedVaults(parseCliJson(r, ListAnswerSchema));
  } catch (e) {
    return { name, ok: false, required: false, detail: (e as Error).message };
  }
  const hit = vaults.find((v) => v.name.toLowerCase() === vaultName.toLowerCase());
  if (!hit) return { name, ok: true, required: true, detail: `no soft-deleted vault named ${vaultName}` };
  const when = [hit.deletionDate ? `deleted ${hit.deletionDate}` : '', hit.scheduledPurgeDate ? `purged automatically ${hit.scheduledPurgeDate}` : ''].filter(Boolean).join(', ');
  const fixes = [
    `az keyvault recover --name ${hit.name}   (brings the old vault back; the deployment then updates it)`,
    hit.purgeProtectionEnabled
      ? `purge protection is on, so it cannot be purged before ${hit.scheduledPurgeDate ?? 'its scheduled purge date'}`
      : `az keyvault purge --name ${hit.name} --location ${hit.location}   (destroys it and its secrets for good)`,
    `or pick another name in azure.keyVault in ${envFile}`,
  ];
  return {
    name,
    ok: false,
    required: true,
    detail: `a soft-deleted vault in ${hit.location} still holds the name ${hit.name}${when ? ` (${when})` : ''}${hit.purgeProtectionEnabled ? '; purge protection is on' : ''}`,
    fix: fixes.join('\n      '),
  };
}

// ---------- parameters file ----------

export interface BicepParamFile {
  path: string;
  /** The files it reads with loadYamlContent('<path>'), relative to the repository root. */
  yamlFiles: string[];
  /** readEnvironmentVariable('NAME') without a default: the deployment fails when NAME is unset. */
  requiredEnv: string[];
  /** readEnvironmentVariable('NAME', 'default'). */
  optionalEnv: string[];
}

/** Reads what setup needs from a .bicepparam: the environment file it loads and the shell variables it reads. */
export function readBicepParams(root: string, file: string): BicepParamFile {
  const path = isAbsolute(file) ? file : join(root, file);
  if (!existsSync(path)) throw new OpsError(`the parameters file ${file} does not exist`, { exitCode: 2, hint: 'set azure.bicepParameters in the environment file to a file under bicep/' });
  const text = readFileSync(path, 'utf8');
  // Bicep resolves a loaded file's path against the .bicepparam's own folder.
  // Named as config.ts names an environment file: relative to the repository root when inside it.
  const shown = (p: string) => (p.startsWith(`${root}/`) ? relative(root, p) : p);
  const yamlFiles = [...text.matchAll(/loadYamlContent\(\s*'([^']+)'/g)].map((m) => shown(resolve(dirname(path), m[1]!)));
  const requiredEnv: string[] = [];
  const optionalEnv: string[] = [];
  for (const m of text.matchAll(/readEnvironmentVariable\(\s*'([A-Za-z_][A-Za-z0-9_]*)'\s*(,)?/g)) {
    const list = m[2] ? optionalEnv : requiredEnv;
    if (!list.includes(m[1]!)) list.push(m[1]!);
  }
  return { path: file, yamlFiles, requiredEnv, optionalEnv };
}

/**
 * The parameters file takes its names and sizes from an environment file (loadYamlContent): it must be
 * this one, or setup would deploy another environment's cluster under this one's name.
 */
export function checkParamsReadEnvironment(params: BicepParamFile, envFile: string): CheckResult {
  const ok = params.yamlFiles.length === 1 && params.yamlFiles[0] === envFile;
  const reads = params.yamlFiles.length ? params.yamlFiles.join(', ') : 'no environment file';
  return {
    name: `${params.path} reads ${envFile}`,
    ok,
    required: true,
    detail: ok ? 'names, region and sizes come from the environment file' : `it reads ${reads}`,
    ...(ok ? {} : { fix: `in ${params.path}: var env = loadYamlContent('${relative(dirname(params.path), envFile)}'), or point azure.bicepParameters in ${envFile} at the parameters file of this environment` }),
  };
}

/** Every variable the parameters file reads without a default must be set, or the deployment fails to compile. */
export function checkParamsEnvironment(params: BicepParamFile, env: NodeJS.ProcessEnv): CheckResult {
  const missing = params.requiredEnv.filter((n) => !env[n]);
  return {
    name: `inputs of ${params.path} are set`,
    ok: missing.length === 0,
    required: true,
    detail: missing.length ? `${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not set` : params.requiredEnv.length ? params.requiredEnv.join(', ') : 'none needed',
    ...(missing.length ? { fix: missing.map((n) => `export ${n}=…   (see docs/azure-setup.md, "Bicep parameters")`).join('\n      ') } : {}),
  };
}

// ---------- names and modes ----------

/**
 * One deployment name per environment and region, so a re-run updates the same deployment record
 * (and `az deployment operation sub list -n` finds it). ARM refuses to reuse a subscription
 * deployment name in another region, hence the region in the name. At most 64 characters.
 */
export function deploymentName(envName: string, location: string): string {
  return `aks-todo-ops-${envName}-${location}`.slice(0, 64);
}

/**
 * kubelogin's login mode for a converted kubeconfig. `workloadidentity` needs a federated token
 * file (AZURE_FEDERATED_TOKEN_FILE with AZURE_CLIENT_ID and AZURE_TENANT_ID), as in a pod with
 * workload identity. Everywhere else, GitHub Actions after azure/login with OIDC included, the
 * az CLI holds the login, and `azurecli` reuses it.
 */
export function kubeloginMode(env: NodeJS.ProcessEnv): 'azurecli' | 'workloadidentity' {
  return env.AZURE_FEDERATED_TOKEN_FILE && env.AZURE_CLIENT_ID && env.AZURE_TENANT_ID ? 'workloadidentity' : 'azurecli';
}
