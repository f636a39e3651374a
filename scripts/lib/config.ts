// The environment files (environments/<name>.yaml): one typed loader, strict about every key.
import { readFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { usageError } from './errors.ts';
import { loginServer } from './images.ts';

const name = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes');
const seconds = z.number().int().positive().max(86_400);

// An image repository name without tag or digest, as the OCI distribution reference grammar has it
// (github.com/distribution/reference): [host[:port]/]path-component(/path-component)*, each path
// component lowercase letters and digits, optionally split by one of . _ __ or a run of dashes.
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])`;
export const IMAGE_REPOSITORY = new RegExp(`^(?:${HOST}(?::[0-9]+)?/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);

/** Why `image` is not a repository name for release.images.*, or undefined when it is one. */
export function imageRepositoryProblem(image: string): string | undefined {
  const shape = 'write [registry[:port]/]name, lowercase, e.g. myregistry.azurecr.io/todo-backend';
  if (image.length > 255) return `is ${image.length} characters long, more than the 255 an image name may have`;
  if (IMAGE_REPOSITORY.test(image)) return undefined;
  const last = image.slice(image.lastIndexOf('/') + 1);
  if (image.includes('@') || last.includes(':')) {
    return `${JSON.stringify(image)} carries a tag or digest: deploy.mts adds the tag (--tag, or the commit); write the repository name alone, e.g. ${JSON.stringify(image.replace(/@.*$/, '').replace(/:[^/:]*$/, ''))}`;
  }
  if (IMAGE_REPOSITORY.test(image.toLowerCase())) return `${JSON.stringify(image)} is not an image repository name: repository paths are lowercase; ${shape}`;
  return `${JSON.stringify(image)} is not an image repository name: ${shape} (path components are lowercase letters and digits, separated by /, each optionally split by . _ __ or -)`;
}

const imageRepository = z.string().superRefine((image, ctx) => {
  const problem = imageRepositoryProblem(image);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const azureSchema = z.strictObject({
  subscription: z.string().min(1).nullable().default(null),
  location: z.string().regex(/^[a-z0-9]+$/, 'an Azure region name such as eastus'),
  resourceGroup: z.string().min(1).max(90),
  cluster: name.max(63),
  registry: z.string().regex(/^[a-zA-Z0-9]{5,50}$/, '5-50 letters and digits (an ACR name)'),
  keyVault: z.string().regex(/^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/, '3-24 letters, digits and dashes (a Key Vault name)').nullable().default(null),
  nodeSize: z.string().regex(/^Standard_[A-Za-z0-9_]+$/, 'a VM size such as Standard_D2s_v3'),
  nodeCount: z
    .strictObject({ min: z.number().int().min(1).max(100), max: z.number().int().min(1).max(100) })
    .refine((n) => n.min <= n.max, { message: 'min must not exceed max', path: ['min'] }),
  localAccounts: z.boolean(),
  /** The Log Analytics workspace for Container Insights and the alerts (bicep's logAnalyticsWorkspaceName). */
  logAnalyticsWorkspace: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{2,61}[A-Za-z0-9]$/, '4-63 letters, digits and dashes (a Log Analytics workspace name)'),
  /** The Kubernetes minor AKS runs, quoted ('1.34'); patches arrive through the patch upgrade channel. */
  kubernetesVersion: z.string().regex(/^1\.\d{2}$/, "a Kubernetes minor version in quotes, such as '1.34'"),
  bicepParameters: z.string().endsWith('.bicepparam'),
});

/**
 * Scheduled cost savings, opt-in per environment (scripts/savings.mts, .github/workflows/cost-savings.yml).
 * offHours lowers the node pools' autoscaler minimum outside working hours; nightlyStop stops the
 * whole cluster (az aks stop) and is refused for production, whose 99.9% objective it would break.
 */
const costSavingsSchema = z.strictObject({
  offHours: z.strictObject({
    enabled: z.boolean(),
    /** The autoscaler minimum off-hours; at least 1 (a system pool needs a node). */
    minNodes: z.number().int().min(1).max(100),
  }).optional(),
  nightlyStop: z.strictObject({ enabled: z.boolean() }).optional(),
});

export const environmentSchema = z
  .strictObject({
    name,
    description: z.string().min(1),
    platform: z.enum(['aks', 'local']),
    azure: azureSchema.optional(),
    kube: z.strictObject({
      context: z.string().min(1),
      namespace: name.max(63),
    }),
    release: z.strictObject({
      name: name.max(53),
      chart: z.string().min(1),
      valuesFiles: z.array(z.string().min(1)).min(1),
      images: z.strictObject({ backend: imageRepository, frontend: imageRepository }),
      allowLatestTag: z.boolean(),
    }),
    url: z.url({ protocol: /^https?$/ }),
    dapr: z.strictObject({
      version: z.string().regex(/^1\.(1[4-9]|[2-9]\d)\.\d+$/, 'a pinned Dapr version, 1.14.0 or newer, such as 1.18.2'),
      highAvailability: z.boolean(),
    }),
    timeouts: z.strictObject({
      commandSeconds: seconds,
      helmSeconds: seconds,
      rolloutSeconds: seconds,
      smokeSeconds: seconds,
    }),
    costSavings: costSavingsSchema.optional(),
  })
  .superRefine((env, ctx) => {
    // The Bicep parameters append /api/health to it (the availability test's target).
    if (env.url.endsWith('/')) ctx.addIssue({ code: 'custom', path: ['url'], message: `ends with "/": write the site's root without it, e.g. ${env.url.replace(/\/+$/, '')}` });
    if (env.platform === 'aks' && !env.azure) {
      ctx.addIssue({ code: 'custom', path: ['azure'], message: 'is required when platform is aks' });
    }
    // On AKS the toolkit builds into, checks tags in and grants the cluster AcrPull on the environment's
    // own registry only (bicep/modules/role-assignments.bicep): an image named in another (private)
    // registry would fail with ImagePullBackOff after the deploy had started.
    if (env.platform === 'aks' && env.azure) {
      const server = loginServer(env.azure.registry);
      for (const part of ['backend', 'frontend'] as const) {
        const image = env.release.images[part];
        if (!image.startsWith(`${server}/`)) {
          // Keep the repository path, drop the other registry's host (a first part with a dot or a port).
          const path = image.split('/');
          const repository = path.length > 1 && /[.:]|^localhost$/.test(path[0]!) ? path.slice(1).join('/') : image;
          ctx.addIssue({ code: 'custom', path: ['release', 'images', part], message: `is "${image}", outside azure.registry's ${server} (this toolkit deploys only from the environment's own registry, which the cluster may pull from): write ${server}/${repository}` });
        }
      }
    }
    const savings = env.costSavings;
    if (!savings) return;
    if (!env.azure) {
      ctx.addIssue({ code: 'custom', path: ['costSavings'], message: 'needs an azure: section (it scales or stops an AKS cluster)' });
      return;
    }
    if (savings.nightlyStop?.enabled && env.name === 'production') {
      ctx.addIssue({ code: 'custom', path: ['costSavings', 'nightlyStop', 'enabled'], message: 'production is never stopped at night: a stopped cluster serves nobody, which the 99.9% objective does not allow' });
    }
    if (savings.offHours && savings.offHours.minNodes > env.azure.nodeCount.min) {
      ctx.addIssue({ code: 'custom', path: ['costSavings', 'offHours', 'minNodes'], message: `is ${savings.offHours.minNodes}, above azure.nodeCount.min (${env.azure.nodeCount.min}): off-hours would add nodes` });
    }
  });

export type Environment = z.infer<typeof environmentSchema>;
export type AzureSettings = NonNullable<Environment['azure']>;

export interface LoadedEnvironment extends Environment {
  /** The file it was read from, relative to the repository root when inside it. */
  file: string;
  /** The repository root that relative paths (chart, values files, bicep) resolve against. */
  root: string;
}

/** Names of the environments that have a file in environments/. */
export function listEnvironments(root: string): string[] {
  const dir = join(root, 'environments');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

const EXPECTED: Record<string, string> = {
  number: 'a number', int: 'a whole number', string: 'a string', boolean: 'true or false', array: 'a list', object: 'a mapping of keys',
};

/** How a YAML value reads to the person who wrote it. */
function kindOf(value: unknown): string {
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping of keys';
  if (typeof value === 'boolean') return 'true/false';
  return `a ${typeof value}`;
}

/**
 * The value at an issue's path in the parsed file, and whether the key is there at all. Read from the
 * file itself: zod 4 leaves `input` off its issues by default, so "missing" and "wrong type" look alike.
 */
function valueAt(raw: unknown, path: readonly PropertyKey[]): { present: boolean; value: unknown } {
  let node: unknown = raw;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return { present: false, value: undefined };
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return { present: true, value: node };
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): { path: string; message: string } {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k));
    return { path: keys.join(', '), message: 'unknown key (check the spelling; see environments/production.yaml)' };
  }
  if (issue.code === 'invalid_type') {
    const expected = EXPECTED[issue.expected] ?? issue.expected;
    const at = valueAt(raw, issue.path);
    if (!at.present) return { path, message: `is required (expected ${expected})` };
    // The usual slip: a quoted number or boolean, which YAML reads as a string.
    const unquote = typeof at.value === 'string' && ((issue.expected === 'number' && at.value.trim() !== '' && Number.isFinite(Number(at.value))) || (issue.expected === 'boolean' && /^(true|false)$/.test(at.value)));
    // And the reverse: a version such as 1.34 unquoted, which YAML reads as a number.
    const quote = issue.expected === 'string' && typeof at.value === 'number';
    return { path, message: `expected ${expected}, got ${kindOf(at.value)}${unquote ? ' (remove the quotes)' : quote ? " (put it in quotes, e.g. '1.34')" : ''}` };
  }
  return { path, message: issue.message };
}

/**
 * Loads and validates an environment. `nameOrFile` is an environment name (environments/<name>.yaml)
 * or a path to a YAML file. Every problem is a usage error (exit 2) naming the file and the key.
 */
export function loadEnvironment(root: string, nameOrFile: string): LoadedEnvironment {
  const isPath = nameOrFile.includes('/') || nameOrFile.endsWith('.yaml') || nameOrFile.endsWith('.yml');
  const path = isPath ? (isAbsolute(nameOrFile) ? nameOrFile : resolve(process.cwd(), nameOrFile)) : join(root, 'environments', `${nameOrFile}.yaml`);
  const shown = path.startsWith(root) ? relative(root, path) : path;
  if (!existsSync(path)) {
    const known = listEnvironments(root);
    throw usageError(
      `unknown environment "${nameOrFile}": ${shown} does not exist`,
      `use --env with one of: ${known.join(', ') || '(none found in environments/)'}`,
    );
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw usageError(`${shown}: cannot read the file: ${(e as Error).message}`, 'check the file permissions');
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const line = first.linePos?.[0]?.line;
    throw usageError(
      `${shown}${line ? `:${line}` : ''}: not valid YAML: ${first.message.split('\n')[0]}`,
      'fix the YAML syntax (two-space indentation, "key: value")',
    );
  }
  const raw: unknown = doc.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw usageError(`${shown}: expected a mapping of keys at the top level`, 'start from environments/production.yaml');
  }
  const parsed = environmentSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => describeIssue(issue, raw));
    const first = problems[0]!;
    const rest = problems.slice(1).map((p) => `; ${p.path}: ${p.message}`).join('');
    throw usageError(`${shown}: ${first.path || '(top level)'}: ${first.message}${rest}`, `edit ${shown} and fix the key${problems.length > 1 ? 's' : ''} named above`);
  }
  if (!isPath && parsed.data.name !== nameOrFile) {
    throw usageError(`${shown}: name: is "${parsed.data.name}" but the file is for "${nameOrFile}"`, `set name: ${nameOrFile}`);
  }
  assertReleaseFiles(parsed.data.release, root, shown);
  return { ...parsed.data, file: shown, root };
}

/**
 * release.chart and release.valuesFiles go to `helm upgrade` as they are, run in the repository root:
 * a wrong path must stop the script here (exit 2, nothing run), not fail Helm halfway through a deploy.
 */
function assertReleaseFiles(release: Environment['release'], root: string, shown: string): void {
  const at = (p: string) => (isAbsolute(p) ? p : resolve(root, p));
  const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();
  const problems: Array<{ key: string; message: string; fix: string }> = [];
  const chart = at(release.chart);
  // A `helm package` archive is a chart too; Helm reads it as it is.
  const packaged = release.chart.endsWith('.tgz') && existsSync(chart) && statSync(chart).isFile();
  if (!packaged && !isDir(chart)) {
    problems.push({ key: 'release.chart', message: `${release.chart} ${existsSync(chart) ? 'is not a folder' : 'does not exist'} (paths are relative to the repository root, ${root})`, fix: 'set release.chart to the chart\'s folder, e.g. helm' });
  } else if (!packaged && !existsSync(join(chart, 'Chart.yaml'))) {
    problems.push({ key: 'release.chart', message: `${release.chart} is not a Helm chart: it has no Chart.yaml`, fix: 'set release.chart to the folder that holds Chart.yaml, e.g. helm' });
  }
  for (const file of release.valuesFiles) {
    const path = at(file);
    if (existsSync(path) && statSync(path).isFile()) continue;
    problems.push({
      key: 'release.valuesFiles',
      message: `${file} ${existsSync(path) ? 'is not a file' : 'does not exist'} (paths are relative to the repository root, ${root})`,
      fix: `correct or remove ${file} in release.valuesFiles, or create it`,
    });
  }
  if (problems.length) {
    throw usageError(`${shown}: ${problems.map((p) => `${p.key}: ${p.message}`).join('; ')}`, `edit ${shown}: ${problems.map((p) => p.fix).join('; ')}`);
  }
}

/** Every dotted key of a loaded environment that holds a value (not a mapping), e.g. azure.nodeCount.min. */
export function environmentKeys(env: LoadedEnvironment): string[] {
  const { file: _file, root: _root, ...doc } = env;
  const walk = (node: unknown, prefix: string): string[] => (node !== null && typeof node === 'object' && !Array.isArray(node)
    ? Object.entries(node).flatMap(([k, v]) => walk(v, prefix ? `${prefix}.${k}` : k))
    : [prefix]);
  return walk(doc, '');
}

/**
 * One value of a validated environment by its dotted key (azure.cluster, kube.context, url). A key the
 * file does not have is a usage error naming the file, the key and the keys that do exist there; the
 * loader's own `file` and `root` are not keys of the file.
 */
export function environmentValue(env: LoadedEnvironment, key: string): unknown {
  const { file: _file, root: _root, ...doc } = env;
  const parts = key.split('.');
  let node: unknown = doc;
  for (const [i, part] of parts.entries()) {
    if (node === null || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, part)) {
      const at = parts.slice(0, i).join('.');
      const here = node !== null && typeof node === 'object' && !Array.isArray(node) ? Object.keys(node) : [];
      throw usageError(
        `${env.file}: no key "${key}"${at && !here.length ? ` (${at} holds a value, not keys)` : ''}`,
        here.length ? `keys${at ? ` under ${at}` : ''}: ${here.map((k) => (at ? `${at}.${k}` : k)).join(', ')}` : `keys: ${environmentKeys(env).join(', ')}`,
      );
    }
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}
