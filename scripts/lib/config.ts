// The environment files (environments/<name>.yaml): one typed loader, strict about every key.
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { join, relative, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { usageError } from './errors.ts';

const name = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes');
const seconds = z.number().int().positive().max(86_400);

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
  bicepParameters: z.string().endsWith('.bicepparam'),
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
      images: z.strictObject({ backend: z.string().min(1), frontend: z.string().min(1) }),
      allowLatestTag: z.boolean(),
    }),
    url: z.url({ protocol: /^https?$/ }),
    dapr: z.strictObject({
      version: z.string().regex(/^1\.(1[4-9]|[2-9]\d)\.\d+$/, 'a pinned Dapr version, 1.14.0 or newer, such as 1.14.4'),
      highAvailability: z.boolean(),
    }),
    timeouts: z.strictObject({
      commandSeconds: seconds,
      helmSeconds: seconds,
      rolloutSeconds: seconds,
      smokeSeconds: seconds,
    }),
  })
  .superRefine((env, ctx) => {
    if (env.platform === 'aks' && !env.azure) {
      ctx.addIssue({ code: 'custom', path: ['azure'], message: 'is required when platform is aks' });
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
    return { path, message: `expected ${expected}, got ${kindOf(at.value)}${unquote ? ' (remove the quotes)' : ''}` };
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
  return { ...parsed.data, file: shown, root };
}
