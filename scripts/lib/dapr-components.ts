// Dapr manifests (dapr/components/*.yaml, dapr/configuration/*.yaml): load them and check each Component's
// metadata against the fields dapr/components-contrib declares for its type and version
// (scripts/lib/dapr-metadata.json). No side effects beyond reading the files it is pointed at.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { usageError } from './errors.ts';
import bundledMetadata from './dapr-metadata.json' with { type: 'json' };

/** One YAML document from a file under the Dapr manifests folder. */
export interface DaprManifest {
  /** Path relative to the folder given to loadDaprManifests (or as given). */
  file: string;
  /** Position of the document in its file (0-based). */
  index: number;
  doc: unknown;
}

/** Something wrong with one field of one manifest, with the edit that fixes it. */
export interface DaprProblem {
  file: string;
  /** `<Kind>/<metadata.name>`, e.g. Component/task-events-pubsub. */
  component: string;
  /** The field at fault: a metadata entry's name, or a path such as `spec.type`. */
  field: string;
  message: string;
  fix: string;
}

export interface FieldSpec {
  name: string;
  required: boolean;
  sensitive: boolean;
  allowedValues?: string[];
}

export interface ComponentSpec {
  source: string;
  metadata: FieldSpec[];
  authenticationProfiles: Array<{ title: string; metadata: FieldSpec[] }>;
}

export interface DaprMetadataTable {
  comment: string;
  runtimeFields: Record<string, { source: string; fields: string[] }>;
  /** Keyed `<type>/<version>`, e.g. `pubsub.kafka/v1`. */
  components: Record<string, ComponentSpec>;
}

/** The table shipped with the toolkit (from components-contrib's metadata.yaml files). */
export const DAPR_METADATA: DaprMetadataTable = bundledMetadata;

/** Kafka SASL mechanisms Dapr matches exactly; anything else silently becomes PLAIN. */
export const KAFKA_SCRAM_MECHANISMS = ['SHA-256', 'SHA-512'] as const;

const DAPR_API_VERSION = 'dapr.io/v1alpha1';
const KNOWN_KINDS = ['Component', 'Configuration', 'Resiliency'] as const;
const PLACEHOLDER = /^\[.*\]$|^<.*>$|\$\{.*\}|CHANGE_?ME|REPLACE_?ME|^TODO$|^TODO:/;

/** Reads every *.yaml / *.yml under `dir` (recursively, sorted) into documents. Bad YAML is a usage error. */
export function loadDaprManifests(dir: string): DaprManifest[] {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(name)) files.push(p);
    }
  };
  walk(dir);
  const out: DaprManifest[] = [];
  for (const path of files) {
    const file = relative(dir, path) || path;
    const docs = parseAllDocuments(readFileSync(path, 'utf8'), { prettyErrors: true, uniqueKeys: true });
    docs.forEach((d, index) => {
      const first = d.errors[0];
      if (first) {
        throw usageError(`${file}: not valid YAML: ${first.message.split('\n')[0]}`, `fix the YAML syntax in ${path}`);
      }
      const doc: unknown = d.toJS();
      if (doc !== null && doc !== undefined) out.push({ file, index, doc });
    });
  }
  return out;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

function closest(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const s = levenshtein(name, c);
    if (s < bestScore) [best, bestScore] = [c, s];
  }
  return best !== undefined && bestScore <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

interface MetadataEntry {
  name: string;
  value?: unknown;
  hasValue: boolean;
  secretKeyRef?: { name?: string; key?: string };
  hasSecretRef: boolean;
}

/**
 * Checks every manifest and returns the problems found (empty when all is well): unknown kinds, unknown
 * component types/versions, unknown metadata fields, missing required fields (by authentication
 * profile), sensitive fields given as a literal `value`, values outside a field's allowed values,
 * Kafka `authType`/`saslMechanism` mistakes, placeholders, a `metadata.namespace`, and Resiliency
 * targets or policies that do not exist.
 */
export function validateDaprManifests(manifests: readonly DaprManifest[], table: DaprMetadataTable = DAPR_METADATA): DaprProblem[] {
  const problems: DaprProblem[] = [];
  const componentNames = new Set<string>();
  const secretStores = new Set<string>();
  for (const m of manifests) {
    if (!isObj(m.doc)) continue;
    const spec = m.doc.spec;
    const name = isObj(m.doc.metadata) ? str(m.doc.metadata.name) : undefined;
    if (m.doc.kind === 'Component' && name) {
      componentNames.add(name);
      if (isObj(spec) && str(spec.type)?.startsWith('secretstores.')) secretStores.add(name);
    }
  }

  for (const m of manifests) {
    const add = (component: string, field: string, message: string, fix: string): void => {
      problems.push({ file: m.file, component, field, message, fix });
    };
    if (!isObj(m.doc)) {
      add(`document ${m.index}`, '(document)', 'is not a mapping', 'each YAML document must be a Dapr object with apiVersion, kind, metadata and spec');
      continue;
    }
    const doc = m.doc;
    const kind = str(doc.kind) ?? '(no kind)';
    const meta = isObj(doc.metadata) ? doc.metadata : {};
    const name = str(meta.name);
    const id = `${kind}/${name ?? '(unnamed)'}`;

    if (!(KNOWN_KINDS as readonly string[]).includes(kind)) {
      add(id, 'kind', `kind "${kind}" is not a Dapr Component, Configuration or Resiliency`, `set kind to one of ${KNOWN_KINDS.join(', ')}`);
      continue;
    }
    if (doc.apiVersion !== DAPR_API_VERSION) {
      add(id, 'apiVersion', `apiVersion is ${JSON.stringify(doc.apiVersion)}`, `set apiVersion: ${DAPR_API_VERSION}`);
    }
    if (!name) add(id, 'metadata.name', 'metadata.name is missing', 'give the object a name (lowercase letters, digits, dashes)');
    if (meta.namespace !== undefined) {
      add(id, 'metadata.namespace', 'metadata.namespace is set', 'remove it: scripts/install-dapr.mts applies the manifests with -n <namespace> from the environment');
    }

    if (kind === 'Component') validateComponent(doc, id, add, table, secretStores);
    if (kind === 'Resiliency') validateResiliency(doc, id, add, componentNames);
  }
  return problems;
}

type Add = (component: string, field: string, message: string, fix: string) => void;

function readEntries(raw: unknown, id: string, add: Add): MetadataEntry[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    add(id, 'spec.metadata', 'spec.metadata is not a list', 'write spec.metadata as a list of {name, value} or {name, secretKeyRef}');
    return [];
  }
  const out: MetadataEntry[] = [];
  raw.forEach((e, i) => {
    if (!isObj(e) || typeof e.name !== 'string' || e.name === '') {
      add(id, `spec.metadata[${i}]`, 'entry has no name', 'every spec.metadata entry needs `name:`');
      return;
    }
    const ref = isObj(e.secretKeyRef) ? { name: str(e.secretKeyRef.name), key: str(e.secretKeyRef.key) } : undefined;
    out.push({ name: e.name, value: e.value, hasValue: 'value' in e, secretKeyRef: ref, hasSecretRef: 'secretKeyRef' in e });
  });
  return out;
}

function validateComponent(doc: Obj, id: string, add: Add, table: DaprMetadataTable, secretStores: Set<string>): void {
  const spec = isObj(doc.spec) ? doc.spec : undefined;
  if (!spec) {
    add(id, 'spec', 'spec is missing', 'add spec.type, spec.version and spec.metadata');
    return;
  }
  const type = str(spec.type) ?? '';
  const version = str(spec.version) ?? '';
  const entries = readEntries(spec.metadata, id, add);

  // Every entry: exactly one of value / secretKeyRef, a complete secretKeyRef, no duplicate names.
  const seen = new Set<string>();
  let usesSecretRef = false;
  for (const e of entries) {
    if (seen.has(e.name)) add(id, e.name, `"${e.name}" appears more than once`, 'keep one entry per field');
    seen.add(e.name);
    if (e.hasValue === e.hasSecretRef) {
      add(id, e.name, e.hasValue ? 'has both value and secretKeyRef' : 'has neither value nor secretKeyRef', 'give exactly one of `value:` or `secretKeyRef: {name, key}`');
    }
    if (e.hasSecretRef) {
      usesSecretRef = true;
      if (!e.secretKeyRef?.name || !e.secretKeyRef.key) {
        add(id, e.name, 'secretKeyRef needs both name and key', 'write secretKeyRef: {name: <Secret>, key: <key in the Secret>}');
      }
    }
    if (e.hasValue && typeof e.value === 'string' && PLACEHOLDER.test(e.value.trim())) {
      add(id, e.name, `value ${JSON.stringify(e.value)} is a placeholder`, `take "${e.name}" from a Secret with secretKeyRef, or write the real (non-secret) value`);
    }
  }
  if (usesSecretRef) {
    const store = isObj(doc.auth) ? str(doc.auth.secretStore) : undefined;
    if (!store) {
      add(id, 'auth.secretStore', 'secretKeyRef is used but auth.secretStore is not set', 'add `auth: {secretStore: kubernetes-secrets}` so the references resolve through the declared store');
    } else if (!secretStores.has(store)) {
      add(id, 'auth.secretStore', `secret store "${store}" is not a secretstores.* Component in these manifests`, 'name the secret store Component defined in dapr/components/ (kubernetes-secrets)');
    }
  }

  const key = `${type}/${version}`;
  const known = table.components[key];
  if (!known) {
    const types = Object.keys(table.components).join(', ');
    add(id, 'spec.type', `no field table for ${type || '(no type)'} ${version || '(no version)'}`, `use one of ${types}, or add the type's metadata.yaml fields to scripts/lib/dapr-metadata.json`);
    return;
  }

  const kindPrefix = type.split('.')[0] ?? '';
  const runtime = table.runtimeFields[kindPrefix]?.fields ?? [];
  const byName = new Map<string, FieldSpec>();
  for (const f of known.metadata) byName.set(f.name, f);
  const allowedByName = new Map<string, Set<string>>();
  for (const p of known.authenticationProfiles) {
    for (const f of p.metadata) {
      const prev = byName.get(f.name);
      byName.set(f.name, { ...f, sensitive: f.sensitive || (prev?.sensitive ?? false) });
      if (f.allowedValues) {
        const set = allowedByName.get(f.name) ?? new Set<string>();
        f.allowedValues.forEach((v) => set.add(v));
        allowedByName.set(f.name, set);
      }
    }
  }
  for (const f of known.metadata) if (f.allowedValues) allowedByName.set(f.name, new Set(f.allowedValues));

  const present = new Map(entries.map((e) => [e.name, e]));
  const allNames = [...byName.keys(), ...runtime];

  for (const e of entries) {
    const f = byName.get(e.name);
    if (!f && !runtime.includes(e.name)) {
      const near = closest(e.name, allNames);
      add(id, e.name, `unknown metadata field "${e.name}" for ${type} ${version} (not in ${known.source})`,
        near ? `did you mean "${near}"?` : `remove it; known fields: ${allNames.join(', ')}`);
      continue;
    }
    if (f?.sensitive && e.hasValue) {
      add(id, e.name, `sensitive field "${e.name}" is given as a literal value`, `move it to a Kubernetes Secret and write secretKeyRef: {name, key} (scripts/secrets.mts creates the Secrets)`);
    }
    const allowed = allowedByName.get(e.name);
    if (allowed && e.hasValue && !allowed.has(String(e.value))) {
      add(id, e.name, `value ${JSON.stringify(e.value)} is not one of ${[...allowed].join(', ')}`, `set ${e.name} to one of ${[...allowed].join(', ')}`);
    }
  }

  // Kafka: the two mistakes that fail silently or late.
  if (type === 'pubsub.kafka') {
    const authType = present.get('authType');
    if (authType?.hasValue && String(authType.value).toLowerCase() === 'sasl') {
      add(id, 'authType', '"sasl" is not a Dapr authType (Dapr knows none, password, mtls, oidc, awsiam)', 'set authType: password for SASL with saslUsername/saslPassword/saslMechanism');
    }
    const mech = present.get('saslMechanism');
    const isPassword = authType?.hasValue && authType.value === 'password';
    if (isPassword && mech?.hasValue && !(KAFKA_SCRAM_MECHANISMS as readonly string[]).includes(String(mech.value))) {
      add(id, 'saslMechanism', `saslMechanism ${JSON.stringify(mech.value)} makes Dapr use SASL PLAIN: it matches exactly SHA-256 or SHA-512 and silently falls back to PLAIN on anything else (SCRAM-SHA-256 included)`,
        'set saslMechanism: SHA-256 or SHA-512 (Redpanda Cloud authenticates with SCRAM)');
    }
    if (isPassword && !mech) {
      add(id, 'saslMechanism', 'saslMechanism is missing, so Dapr uses SASL PLAIN', 'set saslMechanism: SHA-256 or SHA-512 (Redpanda Cloud authenticates with SCRAM)');
    }
  }

  // Required fields: the component's own, then those of one authentication profile.
  for (const f of known.metadata) {
    if (f.required && !present.has(f.name)) add(id, f.name, `required field "${f.name}" is missing`, `add "${f.name}" to spec.metadata (see ${known.source})`);
  }
  const profiles = known.authenticationProfiles.filter((p) => p.metadata.length > 0);
  if (profiles.length > 0) {
    const satisfied = profiles.some((p) => p.metadata.every((f) => !f.required || matchesRequired(f, present.get(f.name))));
    if (!satisfied) {
      // Report against the profile the authType picks (Kafka), else the first (the plain one).
      const authValue = present.get('authType')?.value;
      const chosen = profiles.find((p) => p.metadata.some((f) => f.name === 'authType' && f.allowedValues?.includes(String(authValue)))) ?? profiles[0]!;
      for (const f of chosen.metadata) {
        if (f.required && !present.has(f.name)) {
          add(id, f.name, `required field "${f.name}" is missing (authentication profile "${chosen.title}")`, `add "${f.name}" to spec.metadata${f.sensitive ? ' as a secretKeyRef' : ''}`);
        }
      }
    }
  }
}

function matchesRequired(f: FieldSpec, e: MetadataEntry | undefined): boolean {
  if (!e) return false;
  if (f.allowedValues && e.hasValue) return f.allowedValues.includes(String(e.value));
  return true;
}

function validateResiliency(doc: Obj, id: string, add: Add, componentNames: Set<string>): void {
  const spec = isObj(doc.spec) ? doc.spec : {};
  const policies = isObj(spec.policies) ? spec.policies : {};
  const names = (k: string): Set<string> => new Set(isObj(policies[k]) ? Object.keys(policies[k]) : []);
  const defined = { timeout: names('timeouts'), retry: names('retries'), circuitBreaker: names('circuitBreakers') };
  const targets = isObj(spec.targets) && isObj(spec.targets.components) ? spec.targets.components : {};
  for (const [component, target] of Object.entries(targets)) {
    if (!componentNames.has(component)) {
      add(id, `spec.targets.components.${component}`, `targets component "${component}", which no Component in these manifests defines`, `use one of ${[...componentNames].join(', ')}`);
    }
    if (!isObj(target)) continue;
    for (const direction of ['inbound', 'outbound'] as const) {
      const d = target[direction];
      if (!isObj(d)) continue;
      for (const kind of ['timeout', 'retry', 'circuitBreaker'] as const) {
        const ref = str(d[kind]);
        if (ref !== undefined && !defined[kind].has(ref) && !(kind === 'timeout' && /^\d+(ms|s|m|h)$/.test(ref))) {
          add(id, `spec.targets.components.${component}.${direction}.${kind}`, `${kind} policy "${ref}" is not defined under spec.policies`, `define it under spec.policies.${kind === 'timeout' ? 'timeouts' : kind === 'retry' ? 'retries' : 'circuitBreakers'} or use one of ${[...defined[kind]].join(', ') || '(none defined)'}`);
        }
      }
    }
  }
}
