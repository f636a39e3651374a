// Secrets from .env or Azure Key Vault into the Kubernetes Secrets the catalog declares.
// A value travels only on the standard input of `kubectl apply -f -`: never on a command line,
// in a file, or in a log line. Every value is registered with the redactor as soon as it is read,
// including the old values read back from the cluster, and compared by SHA-256 only.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { z } from 'zod';
import { parseCliJson } from './cli-json.ts';
import type { ScriptContext } from './main.ts';
import { ExitCode, OpsError, usageError } from './errors.ts';
import type { Redactor } from './redact.ts';
import { assertKubeContext } from './preflight.ts';
import type { Runner, RunResult } from './runner.ts';
import { UNKNOWN } from './runner.ts';
import { SECRET_CATALOG, registerCatalogValue, secretNames } from './secret-catalog.ts';
import type { SecretEntry } from './secret-catalog.ts';
import { parseDotenv } from './dotenv.ts';
import { azureSecretClientFactory, readKeyVaultSecrets } from './keyvault.ts';
import type { SecretClientFactory } from './keyvault.ts';
import { ensureNamespace } from './namespace.ts';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'aks-todo-ops';
/** JSON map key -> SHA-256 (hex) of the value: lets people and scripts compare without reading values. */
export const HASH_ANNOTATION = 'aks-todo-ops/data-sha256';

export type SourceKind = 'dotenv' | 'keyvault';
export type KeyState = 'missing' | 'equal' | 'different';

export interface ResolvedValue {
  entry: SecretEntry;
  value: string;
  source: SourceKind;
  /** Where the winning value came from: ".env:3" or "Key Vault kv-todo (database-url)". */
  where: string;
  /** Where a losing value for the same key was, if both sources had one. */
  shadowed?: string;
}

export interface SecretProblem {
  envVar: string;
  where?: string;
  message: string;
  fix: string;
}

export interface KeyStatus {
  secret: string;
  key: string;
  envVar: string;
  source: SourceKind;
  where: string;
  status: KeyState;
}

export interface SecretAction {
  secret: string;
  action: 'create' | 'update' | 'unchanged';
  /** Keys whose value is new or different. */
  changedKeys: string[];
}

export interface SecretsPlan {
  namespace: string;
  keys: KeyStatus[];
  actions: SecretAction[];
  /** The Secret objects to apply (only those whose action is not unchanged). */
  manifests: SecretObject[];
  /** "secret/key" of every value that is new or different. */
  changed: string[];
  /** Deployments that read a changed value (catalog order, no repeats). */
  consumers: string[];
}

export interface SyncReport {
  /** "secret/key" of every value that was (or, in a dry run, would be) changed. */
  changed: string[];
  /** Deployments restarted (or, in a dry run, that would be). */
  restarted: string[];
  plan: SecretsPlan;
  /** Consumers that do not exist in the namespace yet (nothing to restart). */
  notDeployed: string[];
}

export interface SecretObject {
  apiVersion: 'v1';
  kind: 'Secret';
  type: 'Opaque';
  metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string> };
  data: Record<string, string>;
}

export interface SecretsDeps {
  /** Key Vault client factory; tests pass a double. */
  secretClient?: SecretClientFactory;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

// ---------------------------------------------------------------- sources

/**
 * --secrets-file of secrets.mts and deploy.mts was --env-file. Node 20 reads --env-file anywhere on
 * its command line, even after the script name, and exits 9 (`node: PATH: not found`) before the
 * script starts when the file is missing, so the old name survives only as an alias.
 */
export const SECRETS_FILE_RENAME = {
  names: ['env-file'],
  why: 'Node 20 treats --env-file as its own flag and stops with exit 9 when that file is missing',
} as const;

/**
 * The error for a dotenv file that does not exist where nothing else could supply the values (no
 * Key Vault), or undefined. deploy.mts asks before its first change; loadSecretValues throws it.
 */
export function missingSecretsSource(env: ScriptContext['env'], envFile: string): OpsError | undefined {
  const path = isAbsolute(envFile) ? envFile : resolve(process.cwd(), envFile);
  if (existsSync(path) || env.azure?.keyVault) return undefined;
  const shown = shownPath(path);
  return usageError(`${shown} does not exist and ${env.file} names no Key Vault, so there is no source for the secrets`, `cp .env.example ${shown}, fill in every value (formats in .env.example), chmod 600 ${shown}; or pass --secrets-file PATH`);
}

/**
 * Reads the catalog's values from the dotenv file and, when the environment names one, Key Vault.
 * Key Vault wins where both have a key (it is the production source of truth; a stale .env must
 * not roll a rotated value back); .env fills the gaps. Validates everything and throws one usage
 * error (exit 2) listing every problem before anything is applied.
 */
export async function loadSecretValues(ctx: Pick<ScriptContext, 'env' | 'log' | 'redactor'>, envFile: string, deps: SecretsDeps = {}): Promise<ResolvedValue[]> {
  const { env, log, redactor } = ctx;
  const vault = env.azure?.keyVault ?? null;
  const path = isAbsolute(envFile) ? envFile : resolve(process.cwd(), envFile);
  const shown = shownPath(path);
  const problems: SecretProblem[] = [];
  const fromFile = new Map<string, { value: string; line: number }>();
  const catalogVars = new Set(SECRET_CATALOG.map((e) => e.envVar));
  const noSource = missingSecretsSource(env, envFile);
  if (noSource) throw noSource;

  if (existsSync(path)) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw usageError(`${shown}: cannot read the file: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, `check the permissions of ${shown}`);
    }
    const parsed = parseDotenv(text);
    // Register before anything else can print: the values are secrets from this moment on.
    for (const e of parsed.entries) {
      const entry = SECRET_CATALOG.find((c) => c.envVar === e.key);
      if (entry) registerCatalogValue(redactor, entry, e.value);
    }
    for (const p of parsed.problems) {
      problems.push({ envVar: '(line)', where: `${shown}:${p.line}`, message: p.message, fix: `edit line ${p.line} of ${shown}: one KEY=VALUE per line, see .env.example` });
    }
    for (const e of parsed.entries) {
      if (!catalogVars.has(e.key)) continue;
      const first = fromFile.get(e.key);
      if (first) {
        problems.push({ envVar: e.key, where: `${shown}:${e.line}`, message: `is set twice (lines ${first.line} and ${e.line})`, fix: `delete one of the two lines in ${shown}` });
        continue;
      }
      fromFile.set(e.key, { value: e.value, line: e.line });
    }
    try {
      if ((statSync(path).mode & 0o077) !== 0) log.warn(`${shown} is readable by other users of this machine; restrict it: chmod 600 ${shown}`);
    } catch { /* the mode is advice only */ }
  } else {
    log.info(`no ${shown}: every secret must come from Key Vault ${vault}`);
  }

  const fromVault = vault
    ? await readKeyVaultSecrets(vault, SECRET_CATALOG.map((e) => e.keyVaultName), deps.secretClient ?? azureSecretClientFactory, redactor)
    : new Map<string, string>();

  const resolved: ResolvedValue[] = [];
  for (const entry of SECRET_CATALOG) {
    const kv = fromVault.get(entry.keyVaultName);
    const file = fromFile.get(entry.envVar);
    const fileWhere = file ? `${shown}:${file.line}` : undefined;
    if (kv !== undefined) {
      resolved.push({ entry, value: kv, source: 'keyvault', where: `Key Vault ${vault} (${entry.keyVaultName})`, ...(fileWhere ? { shadowed: fileWhere } : {}) });
    } else if (file) {
      if (vault) log.warn(`${entry.envVar}: not in Key Vault ${vault} as "${entry.keyVaultName}"; using ${fileWhere}`);
      resolved.push({ entry, value: file.value, source: 'dotenv', where: fileWhere! });
    } else {
      const sources = vault ? `${shown} nor Key Vault ${vault} (as "${entry.keyVaultName}")` : shown;
      problems.push({
        envVar: entry.envVar,
        message: `is missing: neither ${sources} has it`,
        fix: vault
          ? `add it to the vault (printf '%s' "$VALUE" | az keyvault secret set --vault-name ${vault} --name ${entry.keyVaultName} --file /dev/stdin) or a line ${entry.envVar}=... to ${shown}; format: ${entry.format}`
          : `add a line ${entry.envVar}=... to ${shown}; format: ${entry.format}`,
      });
    }
  }

  for (const r of resolved) problems.push(...validateValue(r.entry, r.value, r.where));
  if (problems.length > 0) throw validationError(problems);

  for (const r of resolved) {
    log.info(`source: ${r.entry.envVar} from ${r.where}${r.shadowed ? ` (Key Vault wins over ${r.shadowed})` : ''}`);
  }
  return resolved;
}

function validationError(problems: readonly SecretProblem[]): OpsError {
  const lines = problems.map((p) => `  - ${p.envVar === '(line)' ? p.where : `${p.envVar}${p.where ? ` (${p.where})` : ''}`}: ${p.message}\n    fix: ${p.fix}`);
  return usageError(
    `${problems.length} problem${problems.length > 1 ? 's' : ''} with the secrets; nothing was applied:\n${lines.join('\n')}`,
    'fix the values named above (formats: .env.example), then re-run; --check compares with the cluster without changing it',
  );
}

const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];
const TLS_SSL_MODES = ['require', 'verify-ca', 'verify-full'];
// OpenAI keys: project (sk-proj-), service account (sk-svcacct-), legacy user (sk-, sk-None-).
// The random part is base62 with - and _ (48 characters in legacy keys, far more in project
// keys) and always holds a digit and a letter, which placeholders such as sk-proj-xxxx... or
// sk-your-key-here do not.
const OPENAI_KEY = /^sk-(?:proj-|svcacct-|None-)?(.*)$/s;

/** Why a value is not a usable OpenAI API key (empty when it is one). Never quotes the value. */
export function openAiKeyProblems(value: string): string[] {
  // Admin keys manage the organisation and cannot call the models: wrong key, and far too powerful for a pod.
  if (value.startsWith('sk-admin-')) return ['is an OpenAI Admin API key (sk-admin-...): it cannot call the models, and a pod must not hold organisation-wide admin rights'];
  // The kind prefix, when present, is not part of the random body (a greedy optional group does not backtrack here).
  const body = OPENAI_KEY.exec(value)?.[1];
  if (body === undefined || !/^[A-Za-z0-9_-]{20,}$/.test(body) || !/[0-9]/.test(body) || !/[A-Za-z]/.test(body)) {
    return ['does not look like an OpenAI API key (sk-proj-, sk-svcacct- or sk- followed by at least 20 random letters and digits, - or _)'];
  }
  return [];
}

const HOST_PORT = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/;

/** The catalog's format rules. Messages name the key and what is wrong, never the value or a part of it. */
export function validateValue(entry: SecretEntry, value: string, where?: string): SecretProblem[] {
  const problem = (message: string, fix: string): SecretProblem => ({ envVar: entry.envVar, ...(where ? { where } : {}), message, fix });
  if (value.length === 0) return [problem('is empty', `set a value; format: ${entry.format}`)];
  const out: SecretProblem[] = [];
  if (/[\r\n]$/.test(value)) {
    out.push(problem('ends with a newline (left by a copy-paste or `echo`)', "remove the trailing newline (in Key Vault: set it with printf '%s', not echo)"));
  } else if (value !== value.trim()) {
    out.push(problem('has leading or trailing whitespace', 'remove the blanks around the value'));
  }
  if (/^(["'`]).*\1$/s.test(value.trim()) && value.trim().length >= 2) {
    out.push(problem('is still wrapped in quotes (they would become part of the secret)', 'remove the extra pair of quotes'));
  }
  if (out.length > 0) return out;

  switch (entry.envVar) {
    case 'DATABASE_URL': {
      let url: URL | undefined;
      try {
        url = new URL(value);
      } catch {
        url = undefined;
      }
      if (!url || !['postgres:', 'postgresql:'].includes(url.protocol) || !url.hostname) {
        out.push(problem('is not a postgres:// or postgresql:// URL with a host', `use the connection string Neon shows: ${entry.format}`));
        break;
      }
      // Every sslmode must insist on TLS: drivers disagree on which of two repeated ones wins.
      // verify-ca/verify-full are stricter than require (Neon's certificates chain to public CAs).
      // Other parameters, such as Neon's channel_binding=require, are the driver's business.
      const modes = url.searchParams.getAll('sslmode');
      const weak = modes.find((m) => !TLS_SSL_MODES.includes(m));
      if (modes.length === 0 || weak !== undefined) {
        const found = weak === undefined ? 'no sslmode' : SSL_MODES.includes(weak) ? `sslmode=${weak}` : 'an unknown sslmode';
        out.push(problem(`must require TLS (Neon refuses plain connections); it has ${found}`, 'add sslmode=require to the query string: ...?sslmode=require'));
      }
      break;
    }
    case 'BETTER_AUTH_SECRET':
      if (value.length < 32) out.push(problem(`is ${value.length} characters; it needs at least 32`, 'generate one: openssl rand -base64 32'));
      break;
    case 'OPENAI_API_KEY':
      out.push(...openAiKeyProblems(value).map((p) => problem(p, 'copy a project key (sk-proj-...) or a service account key (sk-svcacct-...) again from https://platform.openai.com/api-keys')));
      break;
    case 'REDPANDA_BOOTSTRAP_SERVERS': {
      const parts = value.split(',');
      parts.forEach((part, i) => {
        const label = parts.length > 1 ? `entry ${i + 1} of ${parts.length}` : 'the value';
        if (/^[a-z][a-z0-9+_-]*:\/\//i.test(part)) {
          out.push(problem(`${label} has a scheme (like SASL_SSL://)`, `give host:port only; format: ${entry.format}`));
          return;
        }
        const m = HOST_PORT.exec(part);
        const port = m ? Number(m[1]) : 0;
        if (!m || port < 1 || port > 65535) out.push(problem(`${label} is not host:port (no spaces; port 1-65535)`, `format: ${entry.format}`));
      });
      break;
    }
    default:
      break;
  }
  return out;
}

// ---------------------------------------------------------------- cluster side

/** `kubectl get secret NAME -o json`: base64 values under `data` (absent or null when empty). */
const ClusterSecretSchema = z.looseObject({
  metadata: z.looseObject({ labels: z.record(z.string(), z.string()).optional(), annotations: z.record(z.string(), z.string()).optional() }).optional(),
  data: z.record(z.string(), z.string()).nullish(),
});

interface ClusterSecret {
  /** key -> SHA-256 of the decoded value. */
  hashes: Map<string, string>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

async function readClusterSecret(ctx: ScriptContext, namespace: string, name: string): Promise<ClusterSecret | undefined> {
  const args = ['get', 'secret', name, '-n', namespace, '-o', 'json', '--ignore-not-found'];
  // The old values are not registered with the redactor until they have been read: --verbose must not echo them.
  const r = await ctx.runner.run('kubectl', args, { mutating: false, outputHoldsSecrets: true });
  if (!r.stdout.trim()) return undefined;
  const doc = parseCliJson(r, ClusterSecretSchema, { outputHoldsSecrets: true });
  const hashes = new Map<string, string>();
  for (const [key, b64] of Object.entries(doc.data ?? {})) {
    const value = Buffer.from(b64, 'base64').toString('utf8');
    // Old values are secrets too: keep them out of anything printed later.
    const entry = SECRET_CATALOG.find((c) => c.secret === name && c.key === key);
    const identifier = entry?.identifier === true;
    ctx.redactor.register(value, { identifier });
    ctx.redactor.register(b64, { identifier });
    hashes.set(key, sha256(value));
  }
  return { hashes, labels: doc.metadata?.labels ?? {}, annotations: doc.metadata?.annotations ?? {} };
}

/** The Secret objects for the resolved values, one per catalog Secret, with labels and a per-key hash annotation. */
export function buildSecretManifests(values: readonly ResolvedValue[], namespace: string, partOf?: string): SecretObject[] {
  return secretNames().map((name) => {
    const mine = values.filter((v) => v.entry.secret === name).sort((a, b) => a.entry.key.localeCompare(b.entry.key));
    const data: Record<string, string> = {};
    const hashes: Record<string, string> = {};
    for (const v of mine) {
      data[v.entry.key] = Buffer.from(v.value, 'utf8').toString('base64');
      hashes[v.entry.key] = sha256(v.value);
    }
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: {
        name,
        namespace,
        labels: { [MANAGED_BY_LABEL]: MANAGED_BY, ...(partOf ? { 'app.kubernetes.io/part-of': partOf } : {}) },
        annotations: { [HASH_ANNOTATION]: JSON.stringify(hashes) },
      },
      data,
    };
  });
}

/** Compares source values with what the cluster holds, by hash. */
export function compareWithCluster(values: readonly ResolvedValue[], cluster: ReadonlyMap<string, ClusterSecret | undefined>): KeyStatus[] {
  return values.map((v) => {
    const have = cluster.get(v.entry.secret)?.hashes.get(v.entry.key);
    const status: KeyState = have === undefined ? 'missing' : have === sha256(v.value) ? 'equal' : 'different';
    return { secret: v.entry.secret, key: v.entry.key, envVar: v.entry.envVar, source: v.source, where: v.where, status };
  });
}

/**
 * Everything before a change: the context guard, the sources (validated), the cluster's current
 * Secrets, and what would change. Reads only.
 */
export async function planSecrets(ctx: ScriptContext, options: { envFile: string }, deps: SecretsDeps = {}): Promise<SecretsPlan> {
  const namespace = ctx.env.kube.namespace;
  await ctx.log.step(`kube context is ${ctx.env.kube.context}`, () => assertKubeContext(ctx.runner, ctx.env));
  const values = await ctx.log.step('read and validate the secret sources', () => loadSecretValues(ctx, options.envFile, deps));
  const cluster = new Map<string, ClusterSecret | undefined>();
  await ctx.log.step(`read the current Secrets in ${namespace}`, async () => {
    for (const name of secretNames()) cluster.set(name, await readClusterSecret(ctx, namespace, name));
  });
  const keys = compareWithCluster(values, cluster);
  const manifests = buildSecretManifests(values, namespace, ctx.env.release.name);
  const actions: SecretAction[] = manifests.map((m) => {
    const current = cluster.get(m.metadata.name);
    const changedKeys = keys.filter((k) => k.secret === m.metadata.name && k.status !== 'equal').map((k) => k.key);
    if (!current) return { secret: m.metadata.name, action: 'create', changedKeys };
    const metadataDrift = current.labels[MANAGED_BY_LABEL] !== MANAGED_BY || current.annotations[HASH_ANNOTATION] !== m.metadata.annotations[HASH_ANNOTATION];
    return { secret: m.metadata.name, action: changedKeys.length > 0 || metadataDrift ? 'update' : 'unchanged', changedKeys };
  });
  const changedEntries = SECRET_CATALOG.filter((e) => keys.some((k) => k.secret === e.secret && k.key === e.key && k.status !== 'equal'));
  return {
    namespace,
    keys,
    actions,
    manifests: manifests.filter((m) => actions.find((a) => a.secret === m.metadata.name)?.action !== 'unchanged'),
    changed: changedEntries.map((e) => `${e.secret}/${e.key}`),
    consumers: [...new Set(changedEntries.flatMap((e) => e.consumers))],
  };
}

/** One line per Secret key: its state and where its value comes from (names only). */
export function describeKeys(keys: readonly KeyStatus[]): string[] {
  const width = Math.max(...keys.map((k) => `${k.secret}/${k.key}`.length));
  return keys.map((k) => `${k.status.padEnd(9)} ${`${k.secret}/${k.key}`.padEnd(width)}  <- ${k.envVar} from ${k.where}`);
}

export function describeActions(plan: SecretsPlan): string[] {
  const lines = plan.actions.map((a) => {
    if (a.action === 'create') return `create secret/${a.secret} in ${plan.namespace} (keys: ${a.changedKeys.join(', ')})`;
    if (a.action === 'update') return a.changedKeys.length ? `update secret/${a.secret} in ${plan.namespace} (changed: ${a.changedKeys.join(', ')})` : `update secret/${a.secret} in ${plan.namespace} (labels and hash annotation only; values unchanged)`;
    return `keep   secret/${a.secret} (unchanged)`;
  });
  return lines;
}

/** The one call that writes Secrets: their manifests on the standard input of `kubectl apply -f -`. */
export function applySecretsCall(runner: Runner, namespace: string, stdin: string, note: string): Promise<RunResult> {
  return runner.run('kubectl', ['apply', '-n', namespace, '-f', '-'], { stdin, note });
}

/** Applies a plan: one `kubectl apply -f -` with the manifests on stdin, then restarts and awaits the consumers. */
export async function applySecretsPlan(ctx: ScriptContext, plan: SecretsPlan, options: { restart: boolean }): Promise<SyncReport> {
  const { runner, log } = ctx;
  const ns = plan.namespace;
  const report: SyncReport = { plan, changed: plan.changed, restarted: [], notDeployed: [] };
  if (plan.manifests.length === 0) {
    log.skip('apply Secrets', 'every Secret already holds these values');
    return report;
  }
  const stdin = `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: plan.manifests }, null, 2)}\n`;
  await ensureNamespace(runner, log, ns);
  await log.step(`apply ${plan.manifests.length} Secret${plan.manifests.length > 1 ? 's' : ''} to ${ns}`, async () => {
    const r = await applySecretsCall(runner, ns, stdin, `Secrets ${plan.manifests.map((m) => m.metadata.name).join(', ')} (values on stdin only)`);
    if (!r.dryRun) for (const l of r.stdout.trim().split('\n').filter(Boolean)) log.info(`  ${l.trim()}`);
  });

  if (plan.consumers.length === 0) return report;
  if (!options.restart) {
    log.skip(`restart ${plan.consumers.join(', ')}`, `--no-restart: the pods keep the old values until they restart (kubectl rollout restart deployment/<name> -n ${ns})`);
    return report;
  }
  await log.step(`restart the consumers of the changed values: ${plan.consumers.join(', ')}`, async () => {
    const present: string[] = [];
    for (const name of plan.consumers) {
      const r = await runner.run('kubectl', ['get', 'deployment', name, '-n', ns, '-o', 'name', '--ignore-not-found'], { mutating: false });
      if (r.stdout.trim()) present.push(name);
      else {
        report.notDeployed.push(name);
        log.info(`  deployment/${name} is not deployed in ${ns} yet; it will read the new values when it starts`);
      }
    }
    for (const name of present) {
      const r = await runner.run('kubectl', ['rollout', 'restart', `deployment/${name}`, '-n', ns], { attempts: 2, allowFailure: true });
      // The values are applied now, so a re-run finds nothing changed and restarts nothing: say what to run.
      if (r.exitCode !== 0) {
        throw new OpsError(`could not restart deployment/${name} after the Secrets changed: ${ctx.redactor.redact(r.stderr.trim()) || `exit ${r.exitCode}`}`, {
          hint: `the new values are applied, but ${present.join(', ')} may still run with the old ones; once the cause is fixed, restart by hand: ${present.map((d) => `kubectl rollout restart deployment/${d} -n ${ns}`).join('; ')}`,
          exitCode: ExitCode.failed,
        });
      }
    }
    report.restarted = present;
    const seconds = ctx.env.timeouts.rolloutSeconds;
    for (const name of present) {
      // Watches the restart just made: a dry-run, which only planned the restart, plans the watch too.
      const r = await runner.afterChange(() => runner.run('kubectl', ['rollout', 'status', `deployment/${name}`, '-n', ns, `--timeout=${seconds}s`], {
        allowFailure: true,
        attempts: 1,
        timeoutMs: (seconds + 30) * 1000,
      }));
      if (r === UNKNOWN) continue;
      if (r.exitCode !== 0) {
        throw new OpsError(`deployment/${name} did not finish restarting within ${seconds}s after the Secrets changed: ${ctx.redactor.redact(r.stderr.trim()) || `exit ${r.exitCode}`}`, {
          hint: `the new values are applied; see why the pods do not become ready: kubectl get pods -n ${ns} -l app.kubernetes.io/name=${name}; kubectl logs -n ${ns} deployment/${name} --all-containers (a wrong value? fix it and re-run secrets.mts)`,
          exitCode: ExitCode.failed,
        });
      }
      log.info(`  deployment/${name} restarted and ready`);
    }
  });
  return report;
}

/**
 * Creates or updates the catalog's Secrets from the sources and restarts the consumers of changed
 * values (unless restart is false). For deploy.mts: no confirmation prompt (the caller asked).
 * deps injects the Key Vault client (tests pass a double).
 */
export async function syncSecrets(ctx: ScriptContext, options: { envFile: string; restart: boolean }, deps: SecretsDeps = {}): Promise<SyncReport> {
  const plan = await planSecrets(ctx, { envFile: options.envFile }, deps);
  for (const l of describeActions(plan)) ctx.log.info(l);
  return applySecretsPlan(ctx, plan, { restart: options.restart });
}

/**
 * Removes the catalog's variables from this process's environment, so no child process (kubectl,
 * az) inherits a secret an operator exported (or a CI job set) by habit: the sources are the
 * dotenv file and Key Vault only.
 */
export function dropSecretsFromProcessEnv(redactor: Redactor, env: NodeJS.ProcessEnv = process.env): string[] {
  const dropped = SECRET_CATALOG.filter((e) => env[e.envVar] !== undefined);
  for (const e of dropped) {
    registerCatalogValue(redactor, e, env[e.envVar]);
    delete env[e.envVar];
  }
  return dropped.map((e) => e.envVar);
}

/**
 * The app's secrets found in the process environment (a CI job or a shell may export them) are
 * registered, so a pod log line echoing one is masked, and removed from the environment, so no
 * helm, kubectl or az child inherits them (the secrets' sources are .env and Key Vault only); the
 * smoke token is registered too. deploy and rollback call this first.
 */
export function keepSecretsFromChildren(redactor: Redactor): void {
  dropSecretsFromProcessEnv(redactor);
  redactor.register(process.env.SMOKE_AUTH_TOKEN);
}

/** go-template that lists a Secret's keys, one a line: no value ever leaves the cluster. */
export const KEYS_TEMPLATE = 'go-template={{range $k, $v := .data}}{{$k}}{{"\\n"}}{{end}}';

/**
 * "secret/key" for every catalog entry the cluster lacks (the Secret or the key). Reads key names
 * only, so it is safe with a verbose runner.
 */
export async function findMissingSecrets(runner: Runner, namespace: string): Promise<string[]> {
  // In parallel: one round trip, and a dry-run's plan lists every read.
  const names = secretNames();
  const answers = await Promise.all(names.map((name) => runner.run('kubectl', ['get', 'secret', name, '-n', namespace, '--ignore-not-found', '-o', KEYS_TEMPLATE], { mutating: false })));
  const missing: string[] = [];
  for (const [i, name] of names.entries()) {
    const keys = new Set(answers[i]!.stdout.split('\n').map((l) => l.trim()).filter(Boolean));
    for (const e of SECRET_CATALOG) if (e.secret === name && !keys.has(e.key)) missing.push(`${e.secret}/${e.key}`);
  }
  return missing;
}

/** A markdown table of the key states for $GITHUB_STEP_SUMMARY (names and states only). */
export function keysMarkdown(keys: readonly KeyStatus[]): string {
  return ['| Secret/key | state | source |', '|---|---|---|', ...keys.map((k) => `| ${k.secret}/${k.key} | ${k.status} | ${k.envVar} from ${k.where.replace(/\|/g, '\\|')} |`)].join('\n');
}
