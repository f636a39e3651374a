// A local daprd (the Dapr sidecar) running this repository's components against real brokers:
// the binary is built from the github.com/dapr/dapr Go module pinned in tools/daprd/go.mod (the
// same version as environments/*.yaml dapr.version) and cached under .cache/daprd/<version>/;
// the manifests in dapr/ are copied with one change, the Kubernetes secret store swapped for a
// local-file one of the same name holding the credentials; daprd runs in standalone mode on
// 127.0.0.1. Used by the component suites (test/dapr-real.test.ts) and by
// `install-dapr --verify-components`.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { OpsError } from './errors.ts';
import { withLock } from './lock.ts';
import { freeLocalPort } from './ports.ts';

export const DAPRD_MODULE_DIR = join('tools', 'daprd');

/**
 * Why `-tags stablecomponents` and not a build with only our three components: daprd's component
 * registrations are one package (cmd/daprd/components) whose files carry only the tags
 * `allcomponents` and `stablecomponents`; without either it panics at start, and there is no
 * per-component tag. stablecomponents is the smaller of the two and holds all of ours.
 */
export const DAPRD_BUILD_TAGS = 'stablecomponents';

/** The github.com/dapr/dapr version tools/daprd/go.mod requires. */
export function pinnedDaprdVersion(root: string): string {
  const mod = readFileSync(join(root, DAPRD_MODULE_DIR, 'go.mod'), 'utf8');
  const v = /^\s*(?:require\s+)?github\.com\/dapr\/dapr\s+v(\d+\.\d+\.\d+)\s*$/m.exec(mod)?.[1];
  if (!v) throw new Error(`${DAPRD_MODULE_DIR}/go.mod requires no github.com/dapr/dapr version`);
  return v;
}

export function daprdBinaryPath(root: string, version = pinnedDaprdVersion(root)): string {
  return join(root, '.cache', 'daprd', version, 'daprd');
}

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    execFile(cmd, args, { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, GOFLAGS: `${process.env.GOFLAGS ?? ''} -mod=readonly`.trim() } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      done({ code, output: `${stdout}${stderr}` });
    });
  });
}

/**
 * Path of the daprd binary, built on first use (`go build`, several CPU-minutes on a cold Go
 * cache; the modules are checked against tools/daprd/go.sum). Two processes building at once
 * take turns through a lock (lock.ts): the second finds the first one's binary.
 */
export async function ensureDaprd(root: string, onBuild?: (message: string) => void): Promise<string> {
  const version = pinnedDaprdVersion(root);
  const bin = daprdBinaryPath(root, version);
  if (existsSync(bin)) return bin;
  // A lock older than 40 minutes belongs to a build that was killed.
  return withLock(`${bin}.lock`, { staleMs: 40 * 60_000 }, async () => {
    if (existsSync(bin)) return bin;
    const go = await run('go', ['version'], root);
    if (go.code !== 0) {
      throw new OpsError('building daprd needs Go (1.26.6 or newer) on PATH', { hint: 'install Go from the Go project or your package manager, then re-run' });
    }
    onBuild?.(`building daprd ${version} from github.com/dapr/dapr (go build -tags ${DAPRD_BUILD_TAGS}); the first build takes several minutes`);
    const tmp = `${bin}.tmp-${process.pid}`;
    // The version is stamped the way Dapr's release build does, so /v1.0/metadata reports it (else "edge").
    const ldflags = `-X github.com/dapr/dapr/pkg/buildinfo.version=${version}`;
    const r = await run('go', ['build', '-trimpath', '-tags', DAPRD_BUILD_TAGS, '-ldflags', ldflags, '-o', tmp, 'github.com/dapr/dapr/cmd/daprd'], join(root, DAPRD_MODULE_DIR));
    if (r.code !== 0) {
      rmSync(tmp, { force: true });
      throw new OpsError(`go build of daprd ${version} failed:\n${r.output.trim().split('\n').slice(-15).join('\n')}`, {
        hint: `cd ${DAPRD_MODULE_DIR} && go build -tags ${DAPRD_BUILD_TAGS} github.com/dapr/dapr/cmd/daprd`,
      });
    }
    renameSync(tmp, bin);
    return bin;
  });
}

// ---------- the local copy of dapr/ ----------

/** Secrets of the local store: secret name → key → value, as the Kubernetes Secrets would hold them. */
export type LocalSecrets = Record<string, Record<string, string>>;

export interface LocalFile { name: string; text: string }

interface ComponentDoc { kind?: unknown; metadata?: { name?: unknown }; spec?: { type?: unknown; version?: unknown; metadata?: unknown } }

/**
 * The manifests daprd reads in standalone mode: every Component and the Resiliency (for
 * --resources-path), and the Configuration (for --config). Every file is copied byte for byte
 * except the one holding the `secretstores.kubernetes` Component, which becomes a
 * `secretstores.local.file` Component of the same name and scopes reading `secretsFile`
 * (multiValued, so `secretKeyRef: {name, key}` resolves exactly as against a Kubernetes Secret).
 */
export function localDaprFiles(manifestsDir: string, secretsFile: string): { resources: LocalFile[]; configuration: LocalFile[] } {
  const resources: LocalFile[] = [];
  const configuration: LocalFile[] = [];
  for (const sub of ['components', 'configuration']) {
    const dir = join(manifestsDir, sub);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
      const text = readFileSync(join(dir, name), 'utf8');
      const docs = parseAllDocuments(text);
      let swapped = false;
      const out = docs.map((d) => {
        const doc = d.toJS() as ComponentDoc | null;
        if (doc?.kind === 'Component' && typeof doc.spec?.type === 'string' && doc.spec.type === 'secretstores.kubernetes') {
          swapped = true;
          return { ...doc, spec: { type: 'secretstores.local.file', version: 'v1', metadata: [{ name: 'secretsFile', value: secretsFile }, { name: 'multiValued', value: 'true' }] } };
        }
        return doc;
      });
      const kinds = out.map((d) => (d as ComponentDoc | null)?.kind);
      const file = { name, text: swapped ? out.map((d) => stringify(d, { lineWidth: 0 })).join('---\n') : text };
      if (kinds.includes('Configuration')) configuration.push(file);
      else resources.push(file);
    }
  }
  return { resources, configuration };
}

export interface LocalDaprDir {
  resourcesPath: string;
  /** The app's Configuration from dapr/configuration. */
  configPath: string;
  /** LOCAL_ONLY_CONFIG, read after configPath (daprd lays each --config over the previous ones). */
  localOnlyConfigPath: string;
  secretsFile: string;
}

/**
 * Laid over the app's Configuration on local runs only. Standalone daprd resolves names with
 * mDNS by default, which announces the app on the network's multicast group; the kubernetes
 * resolver (what the sidecar uses on AKS) only formats names and sends nothing until a service
 * is invoked, which these runs never do. So the local daprd talks to 127.0.0.1 and nothing else.
 */
export const LOCAL_ONLY_CONFIG = [
  'apiVersion: dapr.io/v1alpha1',
  'kind: Configuration',
  'metadata:',
  '  name: local-only',
  'spec:',
  '  nameResolution:',
  '    component: kubernetes',
  '',
].join('\n');

/** Writes the local copy into `outDir` (which should be private): resources/, config/, secrets.json (0600). */
export function writeLocalDapr(manifestsDir: string, outDir: string, secrets: LocalSecrets): LocalDaprDir {
  const secretsFile = join(outDir, 'secrets.json');
  const resourcesPath = join(outDir, 'resources');
  const configDir = join(outDir, 'config');
  mkdirSync(resourcesPath, { recursive: true });
  mkdirSync(configDir, { recursive: true });
  writeFileSync(secretsFile, JSON.stringify(secrets), { mode: 0o600 });
  chmodSync(secretsFile, 0o600);
  const files = localDaprFiles(manifestsDir, secretsFile);
  for (const f of files.resources) writeFileSync(join(resourcesPath, f.name), f.text);
  for (const f of files.configuration) writeFileSync(join(configDir, f.name), f.text);
  const config = files.configuration[0];
  if (!config) throw new Error(`${manifestsDir}/configuration holds no Configuration`);
  const localOnlyConfigPath = join(outDir, 'local-only.yaml');
  writeFileSync(localOnlyConfigPath, LOCAL_ONLY_CONFIG);
  return { resourcesPath, configPath: join(configDir, config.name), localOnlyConfigPath, secretsFile };
}

// ---------- running daprd ----------

export interface DaprdLogLine { level: string; msg: string; scope?: string; raw: string }

export interface Daprd {
  httpPort: number;
  pid: number;
  /** Every log line so far, parsed from daprd's JSON log. */
  logs: () => DaprdLogLine[];
  /** Resolves with the exit code once daprd has exited. */
  exited: Promise<number | null>;
  /** Resolves 'ready' when /v1.0/healthz answers 204, 'exited' when daprd exits first; throws after timeoutMs. */
  ready: (timeoutMs: number) => Promise<'ready' | 'exited'>;
  stop: () => Promise<void>;
}

export interface DaprdOptions {
  binary: string;
  appId: string;
  /** The app's port on 127.0.0.1; without it daprd runs with no app. */
  appPort?: number;
  local: LocalDaprDir;
  /** Extra environment (e.g. SSL_CERT_FILE for a private CA). */
  env?: Record<string, string>;
  logLevel?: 'debug' | 'info';
}

function parseLogLine(raw: string): DaprdLogLine {
  try {
    const j = JSON.parse(raw) as { level?: string; msg?: string; scope?: string };
    return { level: j.level ?? '', msg: j.msg ?? raw, ...(j.scope ? { scope: j.scope } : {}), raw };
  } catch {
    return { level: '', msg: raw, raw };
  }
}

/** Starts daprd in standalone mode, every listener on 127.0.0.1 and on a free port. */
export async function startDaprd(opts: DaprdOptions): Promise<Daprd> {
  const [http, grpc, internal, metrics] = [await freeLocalPort(), await freeLocalPort(), await freeLocalPort(), await freeLocalPort()];
  const args = [
    '--mode', 'standalone',
    '--app-id', opts.appId,
    ...(opts.appPort ? ['--app-port', String(opts.appPort), '--app-protocol', 'http', '--app-channel-address', '127.0.0.1'] : []),
    '--dapr-listen-addresses', '127.0.0.1',
    '--dapr-http-port', String(http),
    '--dapr-grpc-port', String(grpc),
    '--dapr-internal-grpc-port', String(internal),
    '--dapr-internal-grpc-listen-address', '127.0.0.1',
    '--metrics-port', String(metrics),
    '--metrics-listen-address', '127.0.0.1',
    '--resources-path', opts.local.resourcesPath,
    '--config', opts.local.configPath,
    '--config', opts.local.localOnlyConfigPath,
    '--log-as-json',
    '--log-level', opts.logLevel ?? 'info',
  ];
  // Only what daprd needs from this process's environment: no credentials of the caller leak into it.
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...(opts.env ?? {}) };
  const child: ChildProcess = spawn(opts.binary, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const lines: DaprdLogLine[] = [];
  let partial = '';
  const onData = (d: Buffer) => {
    partial += d.toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const p of parts) if (p.trim()) lines.push(parseLogLine(p));
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((done) => child.once('close', (code) => {
    if (partial.trim()) lines.push(parseLogLine(partial));
    partial = '';
    done(code);
  }));
  const ready = async (timeoutMs: number): Promise<'ready' | 'exited'> => {
    const deadline = Date.now() + timeoutMs;
    let gone = false;
    void exited.then(() => { gone = true; });
    while (Date.now() < deadline) {
      if (gone) return 'exited';
      try {
        const r = await fetch(`http://127.0.0.1:${http}/v1.0/healthz`, { signal: AbortSignal.timeout(2000) });
        if (r.status === 204) return 'ready';
      } catch { /* not listening yet */ }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`daprd (${opts.appId}) not ready after ${timeoutMs / 1000}s:\n${lines.slice(-20).map((l) => l.raw).join('\n')}`);
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
  };
  return { httpPort: http, pid: child.pid ?? -1, logs: () => lines, exited, ready, stop };
}

/** The log lines at level error or fatal (what an operator has to read). */
export function daprdErrors(lines: readonly DaprdLogLine[]): DaprdLogLine[] {
  return lines.filter((l) => l.level === 'error' || l.level === 'fatal');
}
