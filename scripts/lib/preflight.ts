// Preflight checks shared by doctor, setup, deploy and the others: tools and versions, Azure login
// and subscription, resource providers, vCPU quota, and the kube context guard.
import { z } from 'zod';
import { parseCliJson } from './cli-json.ts';
import type { LoadedEnvironment } from './config.ts';
import { ExitCode, OpsError } from './errors.ts';
import type { Runner } from './runner.ts';
import { PodSchema, isPodReady, kubeList } from './kube.ts';

export interface CheckResult {
  name: string;
  ok: boolean;
  /** A failed required check fails the run (exit 3); a failed optional one is a warning. */
  required: boolean;
  detail: string;
  /** The command or edit that fixes a failure. */
  fix?: string;
}

/** A check as one line (`ok`, `FAILED` or `warn`, name, detail), with its fix on the next line when it failed. */
export function formatCheck(c: CheckResult): string {
  const mark = c.ok ? 'ok    ' : c.required ? 'FAILED' : 'warn  ';
  return `${mark} ${c.name}: ${c.detail}${!c.ok && c.fix ? `\n       fix: ${c.fix}` : ''}`;
}

export type ToolName = 'az' | 'helm' | 'kubectl' | 'kubelogin' | 'k6';

interface ToolInfo {
  minimum: string;
  versionArgs: string[];
  parse(stdout: string): string | undefined;
  install: string;
}

const semver = (text: string) => /v?(\d+\.\d+\.\d+)/.exec(text)?.[1];

/** `az version -o json`: {"azure-cli": "2.72.0", "azure-cli-core": …, "extensions": {…}}. */
const AzVersionSchema = z.looseObject({ 'azure-cli': z.string() });
/** `kubectl version --client -o json`: {"clientVersion": {"gitVersion": "v1.33.9", …}, "kustomizeVersion": …}. */
const KubectlVersionSchema = z.looseObject({ clientVersion: z.looseObject({ gitVersion: z.string() }) });

export const TOOLS: Record<ToolName, ToolInfo> = {
  // 2.61 is the first az with `az aks` workload identity and what-if output this toolkit parses.
  az: {
    minimum: '2.61.0',
    versionArgs: ['version', '-o', 'json'],
    parse: (out) => parseCliJson({ command: 'az version', stdout: out }, AzVersionSchema, { exitCode: ExitCode.preflight })['azure-cli'],
    install: 'install the Azure CLI: https://learn.microsoft.com/cli/azure/install-azure-cli',
  },
  // Helm 3.17 is the oldest supported; Helm 4 renamed --atomic, and the scripts handle both.
  helm: {
    minimum: '3.17.0',
    versionArgs: ['version', '--template', '{{.Version}}'],
    parse: semver,
    install: 'install Helm 3.17+ or 4.x: https://helm.sh/docs/intro/install/',
  },
  // Kubernetes supports clients within one minor version of the server; AKS runs 1.30+.
  kubectl: {
    minimum: '1.30.0',
    versionArgs: ['version', '--client', '-o', 'json'],
    parse: (out) => semver(parseCliJson({ command: 'kubectl version', stdout: out }, KubectlVersionSchema, { exitCode: ExitCode.preflight }).clientVersion.gitVersion),
    install: 'az aks install-cli   (installs kubectl and kubelogin)',
  },
  kubelogin: {
    minimum: '0.1.0',
    versionArgs: ['--version'],
    parse: semver,
    install: 'az aks install-cli   (installs kubectl and kubelogin)',
  },
  k6: {
    minimum: '1.0.0',
    versionArgs: ['version'],
    parse: semver,
    install: 'install k6 1.x: https://grafana.com/docs/k6/latest/set-up/install-k6/',
  },
};

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export async function checkTool(runner: Runner, tool: ToolName, required = true): Promise<CheckResult> {
  const info = TOOLS[tool];
  const name = `${tool} ${info.minimum} or newer`;
  const r = await runner.run(tool, info.versionArgs, { allowFailure: true, attempts: 1, mutating: false, timeoutMs: 20_000 });
  if (r.exitCode === 127 || /command not found|not found/i.test(r.stderr) && r.exitCode !== 0 && !r.stdout) {
    return { name, ok: false, required, detail: `${tool} is not installed (not on PATH)`, fix: info.install };
  }
  let version: string | undefined;
  let unreadable: string | undefined;
  try {
    version = info.parse(r.stdout || r.stderr);
  } catch (e) {
    unreadable = (e as Error).message;
  }
  if (r.exitCode !== 0 || !version) {
    const why = r.exitCode === 0 && unreadable ? unreadable : (r.stderr || r.stdout).trim().split('\n')[0] ?? '';
    return { name, ok: false, required, detail: `could not read the ${tool} version (exit ${r.exitCode}): ${why}`, fix: info.install };
  }
  const v = version.replace(/^v/, '');
  if (compareVersions(v, info.minimum) < 0) {
    return { name, ok: false, required, detail: `${tool} ${v} is too old`, fix: `upgrade: ${info.install}` };
  }
  return { name, ok: true, required, detail: `${tool} ${v}` };
}

/** `az account show -o json`: the fields the login check reads (tenantId, state, … pass through). */
const AzAccountSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  user: z.looseObject({ name: z.string(), type: z.string().optional() }).optional(),
});
export type AzAccount = z.infer<typeof AzAccountSchema>;

export function expectedSubscription(env: LoadedEnvironment): string | undefined {
  return process.env.AZURE_SUBSCRIPTION_ID || env.azure?.subscription || undefined;
}

export async function checkAzureLogin(runner: Runner, env: LoadedEnvironment): Promise<CheckResult[]> {
  const r = await runner.run('az', ['account', 'show', '-o', 'json'], { allowFailure: true, mutating: false });
  if (r.exitCode !== 0) {
    const notLoggedIn = /az login/.test(r.stderr);
    return [{
      name: 'az logged in',
      ok: false,
      required: true,
      detail: notLoggedIn ? 'az is not logged in' : `az account show failed: ${r.stderr.trim().split('\n')[0] ?? ''}`,
      fix: notLoggedIn ? 'az login   (in GitHub Actions: azure/login with OIDC)' : 'az login, then re-run',
    }];
  }
  const account = parseCliJson(r, AzAccountSchema, { exitCode: ExitCode.preflight });
  const login: CheckResult = { name: 'az logged in', ok: true, required: true, detail: `${account.user?.name ?? 'unknown user'} on "${account.name}" (${account.id})` };
  const expected = expectedSubscription(env);
  if (!expected) {
    return [login, { name: 'expected subscription', ok: true, required: false, detail: `no subscription pinned in ${env.file}; using "${account.name}"`, fix: `set azure.subscription in ${env.file} or AZURE_SUBSCRIPTION_ID` }];
  }
  const matches = [account.id, account.name].map((s) => s.toLowerCase()).includes(expected.toLowerCase());
  return [login, {
    name: 'expected subscription',
    ok: matches,
    required: true,
    detail: matches ? `subscription "${account.name}"` : `az is on "${account.name}" (${account.id}), but ${env.file} expects "${expected}"`,
    fix: matches ? undefined : `az account set --subscription "${expected}"`,
  }];
}

/** Resource providers AKS, ACR, monitoring, Key Vault, identities and budgets need. */
export const REQUIRED_PROVIDERS = [
  'Microsoft.ContainerService',
  'Microsoft.ContainerRegistry',
  'Microsoft.OperationalInsights',
  'Microsoft.Insights',
  'Microsoft.KeyVault',
  'Microsoft.ManagedIdentity',
  'Microsoft.Consumption',
] as const;

export async function checkProviders(runner: Runner, providers: readonly string[] = REQUIRED_PROVIDERS): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const p of providers) {
    const r = await runner.run('az', ['provider', 'show', '-n', p, '--query', 'registrationState', '-o', 'tsv'], { allowFailure: true, mutating: false });
    const state = r.stdout.trim().replace(/^"|"$/g, '');
    const ok = r.exitCode === 0 && state === 'Registered';
    out.push({
      name: `provider ${p} registered`,
      ok,
      required: true,
      detail: r.exitCode === 0 ? state : `could not read: ${r.stderr.trim().split('\n')[0] ?? ''}`,
      fix: ok ? undefined : `az provider register --namespace ${p} --wait`,
    });
  }
  return out;
}

/** vCPUs of a VM size (Standard_D2s_v3 → 2) and its quota family name (standardDSv3Family). */
export function vmSizeInfo(size: string): { vcpus: number; family: string } | undefined {
  const m = /^Standard_([A-Z]+)(\d+)([a-z]*)_v(\d+)$/.exec(size) ?? /^Standard_([A-Z]+)(\d+)([a-z]*)$/.exec(size);
  if (!m) return undefined;
  const [, series, cpus, suffix, gen] = m;
  const letters = (suffix ?? '').replace(/[^as]/g, '').toUpperCase();
  return { vcpus: Number(cpus), family: `standard${series}${letters}${gen ? `v${gen}` : ''}Family` };
}

/** `az vm list-usage -o json`: one entry per quota; az prints the counts as strings ("10"), the REST API as numbers. */
const VmUsageSchema = z.array(z.looseObject({
  currentValue: z.union([z.string(), z.number()]),
  limit: z.union([z.string(), z.number()]),
  name: z.looseObject({ value: z.string(), localizedValue: z.string().optional() }),
}));

export async function checkQuota(runner: Runner, location: string, vmSize: string, maxNodes: number): Promise<CheckResult> {
  const info = vmSizeInfo(vmSize);
  const name = `vCPU quota for ${maxNodes} × ${vmSize} in ${location}`;
  if (!info) return { name, ok: true, required: false, detail: `cannot tell the quota family of ${vmSize}; check it in the portal` };
  const usage = await runner.json(VmUsageSchema, 'az', ['vm', 'list-usage', '-l', location, '-o', 'json'], { mutating: false, unexpected: { exitCode: ExitCode.preflight } });
  const need = info.vcpus * maxNodes;
  const find = (value: string) => usage.find((u) => u.name.value.toLowerCase() === value.toLowerCase());
  const problems: string[] = [];
  for (const [label, entry] of [[info.family, find(info.family)], ['regional total', find('cores')]] as const) {
    if (!entry) continue;
    const free = Number(entry.limit) - Number(entry.currentValue);
    if (free < need) problems.push(`${label}: ${free} of ${entry.limit} vCPUs free, ${need} needed`);
  }
  if (!find(info.family)) return { name, ok: true, required: false, detail: `no quota entry named ${info.family} in ${location}; check it in the portal` };
  return problems.length
    ? { name, ok: false, required: true, detail: problems.join('; '), fix: `request more quota: az quota create ... or the portal (Subscriptions > Usage + quotas), or lower azure.nodeCount.max` }
    : { name, ok: true, required: true, detail: `${need} vCPUs available` };
}

export async function checkKubeContext(runner: Runner, env: LoadedEnvironment): Promise<CheckResult> {
  const r = await runner.run('kubectl', ['config', 'current-context'], { allowFailure: true, mutating: false, offline: true, attempts: 1 });
  const current = r.stdout.trim();
  const fix = env.azure
    ? `az aks get-credentials --resource-group ${env.azure.resourceGroup} --name ${env.azure.cluster}   (or: kubectl config use-context ${env.kube.context})`
    : `kubectl config use-context ${env.kube.context}`;
  if (r.exitCode !== 0 || !current) {
    const detail = r.timedOut
      ? 'kubectl config current-context did not answer in time'
      : /current-context is not set/.test(r.stderr) || (r.exitCode === 0 && !current)
        ? 'no current kube context is set'
        : `kubectl config current-context failed: ${r.stderr.trim().split('\n')[0] ?? `exit ${r.exitCode}`}`;
    return { name: `kube context is ${env.kube.context}`, ok: false, required: true, detail, fix };
  }
  const ok = current === env.kube.context;
  return { name: `kube context is ${env.kube.context}`, ok, required: true, detail: ok ? current : `current context is "${current}"`, fix: ok ? undefined : fix };
}

/**
 * The context guard: scripts that change a cluster call this first and stop (exit 3) on the wrong
 * context. `verb` says what was refused ("deploy", "roll back"); nothing has been changed yet.
 */
export async function assertKubeContext(runner: Runner, env: LoadedEnvironment, verb = 'touch the cluster'): Promise<void> {
  const c = await checkKubeContext(runner, env);
  if (!c.ok) throw kubeContextRefusal(c, env, verb);
}

/** The context guard's error for a failed checkKubeContext (exit 3). */
export function kubeContextRefusal(c: CheckResult, env: LoadedEnvironment, verb: string): OpsError {
  return new OpsError(`refusing to ${verb}: ${c.detail}, but ${env.file} names "${env.kube.context}"; nothing was changed`, { hint: c.fix, exitCode: ExitCode.preflight });
}

/** The tools an environment needs for the cluster scripts. */
export function toolsFor(env: LoadedEnvironment): Array<{ tool: ToolName; required: boolean }> {
  const tools: Array<{ tool: ToolName; required: boolean }> = [];
  if (env.platform === 'aks') tools.push({ tool: 'az', required: true });
  tools.push({ tool: 'helm', required: true }, { tool: 'kubectl', required: true });
  if (env.platform === 'aks' && env.azure && !env.azure.localAccounts) tools.push({ tool: 'kubelogin', required: true });
  return tools;
}

/** Throws a preflight error (exit 3) listing every failed required check and its fix. */
export function assertChecks(checks: readonly CheckResult[]): void {
  const failed = checks.filter((c) => c.required && !c.ok);
  if (failed.length === 0) return;
  throw new OpsError(`preflight failed: ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ')}`, {
    hint: failed.map((c) => c.fix).filter(Boolean).join('\n      '),
    exitCode: ExitCode.preflight,
  });
}

// ---------- Dapr in the cluster ----------


/** The namespace and sidecar-injector label of the Dapr control plane (install-dapr.mts installs it there). */
export const DAPR_NAMESPACE = 'dapr-system';
export const DAPR_INJECTOR_SELECTOR = 'app=dapr-sidecar-injector';

/** Dapr CRDs (Helm does not create Components without them) and a ready sidecar injector (no daprd otherwise). */
export async function checkDapr(runner: Runner, envName: string): Promise<CheckResult[]> {
  const fix = `npx zx scripts/install-dapr.mts --env ${envName}`;
  const [crd, pods] = await Promise.all([
    runner.run('kubectl', ['get', 'crd', 'components.dapr.io', '-o', 'name'], { mutating: false, allowFailure: true }),
    runner.run('kubectl', ['get', 'pods', '-n', DAPR_NAMESPACE, '-l', DAPR_INJECTOR_SELECTOR, '-o', 'json'], { mutating: false, allowFailure: true }),
  ]);
  const crdOk = crd.exitCode === 0;
  // AKS's built-in Azure RBAC roles do not cover CRDs, so the deploy identity may not read them:
  // then the injector check below stands in for this one.
  const forbidden = !crdOk && /\(Forbidden\)/.test(crd.stderr);
  const out: CheckResult[] = [{
    name: 'Dapr CRDs installed',
    ok: crdOk,
    required: !forbidden,
    detail: crdOk
      ? 'components.dapr.io exists'
      : forbidden
        ? 'this identity may not read CRDs (AKS built-in roles do not cover them); relying on the sidecar injector check'
        : /NotFound/.test(crd.stderr) ? 'the CRD components.dapr.io does not exist: Dapr is not installed' : `cannot read the Dapr CRD: ${crd.stderr.trim().split('\n')[0] ?? ''}`,
    ...(crdOk || forbidden ? {} : { fix }),
  }];
  let ready = 0;
  let total = 0;
  let unreadable: string | undefined;
  if (pods.exitCode === 0) {
    try {
      const { items } = parseCliJson(pods, kubeList(PodSchema));
      total = items.length;
      ready = items.filter((p) => p.status?.phase === 'Running' && isPodReady(p)).length;
    } catch (e) {
      unreadable = (e as Error).message;
    }
  }
  out.push({
    name: 'Dapr sidecar injector ready',
    ok: ready > 0,
    required: true,
    detail: unreadable ?? (ready > 0 ? `${ready}/${total} dapr-sidecar-injector pods ready in ${DAPR_NAMESPACE}` : total ? `0/${total} dapr-sidecar-injector pods ready in ${DAPR_NAMESPACE}` : `no dapr-sidecar-injector pod in ${DAPR_NAMESPACE}: pods would start without their daprd sidecar`),
    ...(ready > 0 ? {} : { fix }),
  });
  return out;
}
