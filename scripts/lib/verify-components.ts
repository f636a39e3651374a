// `install-dapr --verify-components`: before the first deploy, run the real components of dapr/ on a
// local daprd (scripts/lib/daprd.ts) against the user's own Redpanda and Neon, publish one event,
// write and delete one state key, and say what worked. The credentials go to daprd only through a
// 0600 file in a private temporary folder that is removed afterwards: never argv, never the log
// (daprd's error lines are passed through the redactor before they are printed).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { DaprManifest } from './dapr-components.ts';
import { daprdErrors, ensureDaprd, startDaprd, writeLocalDapr } from './daprd.ts';
import type { Daprd, LocalSecrets } from './daprd.ts';

export interface VerifyCheck { name: string; ok: boolean; detail: string }

/** The Secret names and keys the Components read through secretKeyRef. */
export function referencedSecrets(manifests: readonly DaprManifest[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const m of manifests) {
    const d = m.doc as { kind?: unknown; spec?: { metadata?: unknown } } | null;
    if (d?.kind !== 'Component' || !Array.isArray(d.spec?.metadata)) continue;
    for (const item of d.spec.metadata as Array<{ secretKeyRef?: { name?: unknown; key?: unknown } }>) {
      const name = item.secretKeyRef?.name;
      const key = item.secretKeyRef?.key;
      if (typeof name !== 'string' || typeof key !== 'string') continue;
      if (!out.has(name)) out.set(name, new Set());
      out.get(name)!.add(key);
    }
  }
  return out;
}

/** Only the values the components reference, keyed like the Kubernetes Secrets secrets.mts creates. */
export function localSecretsFor(manifests: readonly DaprManifest[], values: ReadonlyArray<{ secret: string; key: string; value: string }>): { secrets: LocalSecrets; missing: string[] } {
  const secrets: LocalSecrets = {};
  const missing: string[] = [];
  for (const [name, keys] of referencedSecrets(manifests)) {
    for (const key of keys) {
      const v = values.find((x) => x.secret === name && x.key === key);
      if (!v) {
        missing.push(`${name}/${key}`);
        continue;
      }
      (secrets[name] ??= {})[key] = v.value;
    }
  }
  return { secrets, missing };
}

export interface VerifyOptions {
  root: string;
  manifestsDir: string;
  secrets: LocalSecrets;
  /** Applied to every daprd line before it is returned. */
  redact: (text: string) => string;
  onProgress?: (message: string) => void;
  appId?: string;
  pubsub?: string;
  topic?: string;
  stateStore?: string;
  timeoutMs?: number;
}

/**
 * Starts daprd as the backend's sidecar (no app, so it joins no consumer group and takes no event
 * from the backend), then publishes and writes through its HTTP API like the backend does.
 */
export async function verifyComponents(opts: VerifyOptions): Promise<VerifyCheck[]> {
  const appId = opts.appId ?? 'todo-backend';
  const pubsub = opts.pubsub ?? 'task-events-pubsub';
  const topic = opts.topic ?? 'task-events';
  const store = opts.stateStore ?? 'task-state';
  const checks: VerifyCheck[] = [];
  const binary = await ensureDaprd(opts.root, opts.onProgress);
  const dir = mkdtempSync(join(tmpdir(), 'verify-components-'));
  let daprd: Daprd | undefined;
  try {
    const local = writeLocalDapr(opts.manifestsDir, dir, opts.secrets);
    // A private CA (a corporate proxy) is honoured as Go does: SSL_CERT_FILE / SSL_CERT_DIR.
    const env: Record<string, string> = {};
    for (const k of ['SSL_CERT_FILE', 'SSL_CERT_DIR']) if (process.env[k]) env[k] = process.env[k]!;
    opts.onProgress?.(`starting daprd as ${appId} with the components of ${opts.manifestsDir}`);
    daprd = await startDaprd({ binary, appId, local, env });
    const outcome = await daprd.ready(opts.timeoutMs ?? 120_000);
    const errors = () => daprdErrors(daprd!.logs()).map((l) => opts.redact(l.msg));
    if (outcome === 'exited') {
      checks.push({ name: 'daprd loads the components', ok: false, detail: errors().join('\n') || 'daprd exited without an error line' });
      return checks;
    }
    const base = `http://127.0.0.1:${daprd.httpPort}/v1.0`;
    const meta = await (await fetch(`${base}/metadata`)).json() as { runtimeVersion?: string; components?: Array<{ name: string; type: string }> };
    checks.push({ name: 'daprd loads the components', ok: true, detail: `daprd ${meta.runtimeVersion ?? '?'}: ${(meta.components ?? []).map((c) => `${c.name} (${c.type})`).join(', ')}` });

    const event = { type: 'verify-components', note: 'sent by install-dapr --verify-components; safe to ignore', at: new Date().toISOString() };
    const pub = await fetch(`${base}/publish/${pubsub}/${topic}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) });
    checks.push({ name: `publish one event to ${topic}`, ok: pub.status === 204, detail: pub.status === 204 ? `${pubsub} accepted it` : `HTTP ${pub.status}: ${opts.redact(await pub.text())}` });

    const key = `verify-components-${randomBytes(6).toString('hex')}`;
    const save = await fetch(`${base}/state/${store}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ key, value: { check: true } }]) });
    let stateOk = save.status === 204;
    let detail = stateOk ? '' : `save: HTTP ${save.status}: ${opts.redact(await save.text())}`;
    if (stateOk) {
      const got = await fetch(`${base}/state/${store}/${key}`);
      const del = await fetch(`${base}/state/${store}/${key}`, { method: 'DELETE' });
      const gone = await fetch(`${base}/state/${store}/${key}`);
      stateOk = got.status === 200 && del.status === 204 && gone.status === 204;
      detail = stateOk ? `wrote, read back and deleted ${key}` : `read ${got.status}, delete ${del.status}, read after delete ${gone.status}: ${opts.redact(await del.text())}`;
    }
    checks.push({ name: `write and delete one key in ${store}`, ok: stateOk, detail });
    const late = errors();
    if (late.length) checks.push({ name: 'daprd logged no error', ok: false, detail: late.join('\n') });
    return checks;
  } finally {
    await daprd?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
