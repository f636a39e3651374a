// Builds the rehearsal cluster's programs from Go modules: kube-apiserver, kube-controller-manager and
// kube-scheduler from k8s.io/kubernetes, an embedded etcd, a certificate writer (rehearsal/controlplane),
// kwok (rehearsal/kwok) and metrics-server (rehearsal/metrics-server, with kwok's resource-usage CRDs).
// Built once into .cache/rehearsal/<versions>-<hash of the module files>/ (metrics-server in a folder of
// its own) and reused; a first build shows its progress because it takes minutes.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, isAbsolute, join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ExitCode, OpsError } from '../errors.ts';
import { withLock } from '../lock.ts';

export const CONTROL_PLANE_MODULE = 'rehearsal/controlplane';
export const KWOK_MODULE = 'rehearsal/kwok';
export const METRICS_SERVER_MODULE = 'rehearsal/metrics-server';
/**
 * kwok's CustomResourceDefinitions for simulated resource usage, from the kwok module itself: Metric
 * (the kubelet-style /metrics/resource endpoint kwok serves), and ClusterResourceUsage/ResourceUsage
 * (the CPU and memory each simulated container uses).
 */
const KWOK_USAGE_CRDS = ['metrics', 'clusterresourceusages', 'resourceusages'].map((n) => `kustomize/crd/bases/kwok.x-k8s.io_${n}.yaml`);
/**
 * The oldest Go that builds all three modules: the highest `go` directive among their go.mod files
 * (Kubernetes 1.35 asks for 1.25, kwok 0.8 for 1.26), so the check moves with the modules.
 */
export function requiredGo(root: string): { version: [number, number]; file: string } {
  let best: { version: [number, number]; file: string } = { version: [1, 0], file: '' };
  for (const dir of [CONTROL_PLANE_MODULE, KWOK_MODULE, METRICS_SERVER_MODULE]) {
    const file = `${dir}/go.mod`;
    const m = /^go (\d+)\.(\d+)/m.exec(readFileSync(join(root, file), 'utf8'));
    if (!m) continue;
    const v: [number, number] = [Number(m[1]), Number(m[2])];
    if (v[0] > best.version[0] || (v[0] === best.version[0] && v[1] > best.version[1])) best = { version: v, file };
  }
  return best;
}

export interface ControlPlaneVersions {
  /** k8s.io/kubernetes in rehearsal/controlplane/go.mod, e.g. v1.35.4. */
  kubernetes: string;
  /** azure.kubernetesVersion in the environment file, e.g. 1.35: what AKS runs. */
  aksMinor: string;
  etcd: string;
  kwok: string;
  /** sigs.k8s.io/metrics-server in rehearsal/metrics-server/go.mod. */
  metricsServer: string;
}

export interface Binaries {
  dir: string;
  etcd: string;
  certs: string;
  apiserver: string;
  controllerManager: string;
  scheduler: string;
  kwok: string;
  metricsServer: string;
  /** kwok's usage CRD files (KWOK_USAGE_CRDS), copied next to metrics-server. */
  kwokCrds: string[];
  versions: ControlPlaneVersions;
  /** True when this call built them (false: reused from the cache). */
  built: boolean;
}

function moduleVersion(goMod: string, path: string, file: string): string {
  const m = new RegExp(`^\\s*(?:require\\s+)?${path.replace(/[.]/g, '\\.')}\\s+(v\\S+)`, 'm').exec(goMod);
  if (!m) throw new OpsError(`${file}: no requirement on ${path}`, { hint: `restore ${file} from git`, exitCode: ExitCode.usage });
  return m[1]!;
}

/**
 * The Kubernetes minor that production runs: azure.kubernetesVersion ('1.34') in the environment file,
 * which the Bicep parameters file deploys. Read from the YAML alone (any environment with an azure
 * section; the rehearsal reads production's when it rehearses a local one).
 */
export function readAksMinor(root: string, environmentFile: string): string {
  const path = isAbsolute(environmentFile) ? environmentFile : join(root, environmentFile);
  let doc: unknown;
  try {
    doc = existsSync(path) ? parseYaml(readFileSync(path, 'utf8')) : undefined;
  } catch {
    doc = undefined;
  }
  const version = (doc as { azure?: { kubernetesVersion?: unknown } } | undefined)?.azure?.kubernetesVersion;
  const m = typeof version === 'string' ? /^(\d+\.\d+)(?:\.\d+)?$/.exec(version) : null;
  if (!m) {
    throw new OpsError(`${environmentFile}: azure.kubernetesVersion is ${version === undefined ? 'missing' : JSON.stringify(version)}, not a minor version such as '1.34'`, {
      hint: `the rehearsal builds the Kubernetes version production runs; set azure.kubernetesVersion: '1.NN' (in quotes) in ${environmentFile}`,
      exitCode: ExitCode.usage,
    });
  }
  return m[1]!;
}

/**
 * The versions to build, checked against production: the control plane module must pin a patch of
 * the minor AKS runs, or the rehearsal would prove the chart against the wrong API server.
 */
export function readVersions(root: string, environmentFile: string): ControlPlaneVersions {
  const cpFile = `${CONTROL_PLANE_MODULE}/go.mod`;
  const kwokFile = `${KWOK_MODULE}/go.mod`;
  const cp = readFileSync(join(root, cpFile), 'utf8');
  const kw = readFileSync(join(root, kwokFile), 'utf8');
  const msFile = `${METRICS_SERVER_MODULE}/go.mod`;
  const ms = readFileSync(join(root, msFile), 'utf8');
  const versions: ControlPlaneVersions = {
    kubernetes: moduleVersion(cp, 'k8s.io/kubernetes', cpFile),
    aksMinor: readAksMinor(root, environmentFile),
    etcd: moduleVersion(cp, 'go.etcd.io/etcd/server/v3', cpFile),
    kwok: moduleVersion(kw, 'sigs.k8s.io/kwok', kwokFile),
    metricsServer: moduleVersion(ms, 'sigs.k8s.io/metrics-server', msFile),
  };
  assertSameMinor(versions, environmentFile);
  return versions;
}

/** Exit 2, naming both files and the edit, when the module's Kubernetes is not the minor AKS runs. */
export function assertSameMinor(versions: Pick<ControlPlaneVersions, 'kubernetes' | 'aksMinor'>, environmentFile: string): void {
  const cpFile = `${CONTROL_PLANE_MODULE}/go.mod`;
  const minor = /^v(\d+\.\d+)\./.exec(versions.kubernetes)?.[1];
  if (minor === versions.aksMinor) return;
  throw new OpsError(`${cpFile} builds Kubernetes ${versions.kubernetes}, but ${environmentFile} deploys ${versions.aksMinor}`, {
    hint: `move ${cpFile} to the newest v${versions.aksMinor}.x: set k8s.io/kubernetes and every k8s.io/<staging> replace to that patch (v0.${versions.aksMinor.split('.')[1]}.x), then run: cd ${CONTROL_PLANE_MODULE} && go mod tidy`,
    exitCode: ExitCode.usage,
  });
}

/** ldflags that make the binaries report their real version (Helm checks a chart's kubeVersion against it). */
export function versionLdflags(kubernetes: string): string {
  const [major, minor] = kubernetes.replace(/^v/, '').split('.');
  const pkg = 'k8s.io/component-base/version';
  return [`-X ${pkg}.gitVersion=${kubernetes}`, `-X ${pkg}.gitMajor=${major}`, `-X ${pkg}.gitMinor=${minor}`, `-X ${pkg}.gitTreeState=clean`].join(' ');
}

function listModuleFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listModuleFiles(root, p));
    else if (/\.(go|mod|sum)$/.test(e.name)) out.push(p);
  }
  return out.sort();
}

function hashModules(root: string, modules: readonly string[]): string {
  const h = createHash('sha256');
  for (const f of modules.flatMap((m) => listModuleFiles(root, m))) h.update(`${f}\0${readFileSync(join(root, f))}\0`);
  return h.digest('hex').slice(0, 12);
}

/** The cache folder's name: versions plus a hash of every file that goes into the build. */
export function cacheKey(root: string, versions: ControlPlaneVersions): string {
  return `k8s-${versions.kubernetes}-kwok-${versions.kwok}-${hashModules(root, [CONTROL_PLANE_MODULE, KWOK_MODULE])}`;
}

/**
 * metrics-server's own cache folder: a change to it does not rebuild the control plane. The kwok
 * module is hashed too, because the usage CRDs stored with metrics-server come from it.
 */
export function metricsCacheKey(root: string, versions: ControlPlaneVersions): string {
  return `metrics-server-${versions.metricsServer}-kwok-${versions.kwok}-${hashModules(root, [METRICS_SERVER_MODULE, KWOK_MODULE])}`;
}

function binariesIn(dir: string, metricsDir: string, versions: ControlPlaneVersions, built: boolean): Binaries {
  return {
    dir,
    etcd: join(dir, 'etcd'),
    certs: join(dir, 'certs'),
    apiserver: join(dir, 'kube-apiserver'),
    controllerManager: join(dir, 'kube-controller-manager'),
    scheduler: join(dir, 'kube-scheduler'),
    kwok: join(dir, 'kwok'),
    metricsServer: join(metricsDir, 'metrics-server'),
    kwokCrds: KWOK_USAGE_CRDS.map((f) => join(metricsDir, basename(f))),
    versions,
    built,
  };
}

interface CommandResult { code: number; stdout: string; stderr: string }

function runGo(args: string[], cwd: string, env: NodeJS.ProcessEnv, onLine?: (line: string) => void): Promise<CommandResult> {
  return new Promise((done, fail) => {
    const child = spawn('go', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => {
      const text = d.toString();
      stderr += text;
      if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
      if (onLine) {
        const lines = (partial + text).split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) onLine(l);
      }
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        fail(new OpsError('Go is not installed (no "go" on PATH): the rehearsal builds its Kubernetes control plane from Go modules', {
          hint: `install Go (https://go.dev/doc/install, or: apt-get install golang-go), or use an existing cluster: npx zx scripts/rehearse.mts --context NAME`,
          exitCode: ExitCode.preflight,
        }));
      } else fail(e);
    });
    child.on('close', (code) => done({ code: code ?? 1, stdout, stderr }));
  });
}

/** `go version` → [major, minor]; exit 3 with the fix when Go is missing or too old. */
export async function checkGo(root: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const need = requiredGo(root);
  let r: CommandResult;
  try {
    r = await runGo(['version'], process.cwd(), env);
  } catch (e) {
    if (e instanceof OpsError) throw new OpsError(e.message, { exitCode: e.exitCode, hint: (e.hint ?? '').replace('install Go (', `install Go ${need.version.join('.')} or newer (`) });
    throw e;
  }
  const m = /go(\d+)\.(\d+)/.exec(r.stdout);
  if (r.code !== 0 || !m) {
    throw new OpsError(`"go version" failed: ${(r.stderr || r.stdout).trim().split('\n')[0] ?? ''}`, { hint: 'reinstall Go (https://go.dev/doc/install)', exitCode: ExitCode.preflight });
  }
  const have: [number, number] = [Number(m[1]), Number(m[2])];
  const [major, minor] = need.version;
  if (have[0] < major || (have[0] === major && have[1] < minor)) {
    throw new OpsError(`Go ${have.join('.')} is too old to build the rehearsal's modules: ${major}.${minor} or newer is needed (the go directive of ${need.file})`, {
      hint: 'install a newer Go (https://go.dev/doc/install); with GOTOOLCHAIN=auto (the default) Go then fetches the exact toolchain a module asks for',
      exitCode: ExitCode.preflight,
    });
  }
  return r.stdout.trim();
}

export interface BuildOptions {
  root: string;
  /** The environment file whose azure.kubernetesVersion the control plane is built at. */
  environmentFile: string;
  /** One line of progress, every few seconds during a build. */
  progress: (line: string) => void;
  /** Wall-clock milliseconds, for the progress lines. */
  now?: () => number;
}

interface BuildStep { what: string; cwd: string; args: string[] }

/**
 * Builds `steps` into `dir` (through a temporary folder, so an interrupted build leaves no half
 * cache), then runs `after` on the new folder. Nothing happens when `dir` is complete already.
 */
async function buildCached(o: BuildOptions, dir: string, intro: string, steps: readonly BuildStep[], after?: (tmp: string, env: NodeJS.ProcessEnv) => Promise<void>): Promise<boolean> {
  const marker = join(dir, '.complete');
  if (existsSync(marker)) return false;

  const goVersion = await checkGo(o.root);
  const now = o.now ?? Date.now;
  const started = now();
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  // -mod=readonly: the committed go.sum is the only source of checksums, so a build never
  // rewrites the module files and never needs the checksum database.
  const env = { ...process.env, GOFLAGS: '-mod=readonly' };
  let compiled = 0;
  let current = '';
  let lastReport = started;
  const onLine = (line: string) => {
    // `go build -v` names each package as it compiles it.
    if (/^[\w.-]+(\/[\w.~-]+)*$/.test(line.trim())) compiled++;
    if (now() - lastReport >= 15_000) {
      lastReport = now();
      o.progress(`building ${current}: ${compiled} packages compiled, ${Math.round((now() - started) / 1000)}s so far`);
    }
  };
  o.progress(`${intro} with ${goVersion}`);
  for (const s of steps) {
    current = s.what;
    o.progress(`building ${s.what}`);
    const r = await runGo(s.args, s.cwd, env, onLine);
    if (r.code !== 0) {
      rmSync(tmp, { recursive: true, force: true });
      const lines = r.stderr.split('\n').filter((l) => l && !/^[\w.-]+(\/[\w.~-]+)*$/.test(l.trim()));
      throw new OpsError(`go build of ${s.what} failed: ${lines.slice(-8).join('\n') || `exit ${r.code}`}`, {
        hint: `re-run to retry (downloads resume from Go's module cache); the build runs in ${relative(o.root, s.cwd)}`,
        exitCode: ExitCode.preflight,
      });
    }
  }
  await after?.(tmp, env);
  writeFileSync(join(tmp, '.complete'), `${JSON.stringify({ goVersion, seconds: Math.round((now() - started) / 1000) })}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  o.progress(`built in ${Math.round((now() - started) / 1000)}s; cached in ${relative(o.root, dir)}`);
  return true;
}

/** Copies kwok's usage CRDs out of the kwok module (in Go's module cache) into `into`. */
async function copyKwokCrds(root: string, into: string, env: NodeJS.ProcessEnv): Promise<void> {
  const r = await runGo(['list', '-m', '-f', '{{.Dir}}', 'sigs.k8s.io/kwok'], join(root, KWOK_MODULE), env);
  const moduleDir = r.stdout.trim();
  if (r.code !== 0 || !moduleDir) {
    throw new OpsError(`cannot find the kwok module for its CRDs: ${r.stderr.trim().split('\n').pop() ?? `exit ${r.code}`}`, {
      hint: `re-run to retry; the kwok module is downloaded by: cd ${KWOK_MODULE} && go mod download`,
      exitCode: ExitCode.preflight,
    });
  }
  for (const f of KWOK_USAGE_CRDS) copyFileSync(join(moduleDir, f), join(into, basename(f)));
}

/**
 * Returns the cached binaries, building them first when the cache has none for these module files.
 * Two processes (two suites, or a suite and rehearse.mts) take turns through a lock (../lock.ts):
 * one builds, the other then finds its binaries, instead of replacing the folder under it.
 */
export async function ensureBinaries(o: BuildOptions): Promise<Binaries> {
  const versions = readVersions(o.root, o.environmentFile);
  const dir = join(o.root, '.cache', 'rehearsal', cacheKey(o.root, versions));
  const metricsDir = join(o.root, '.cache', 'rehearsal', metricsCacheKey(o.root, versions));
  if (existsSync(join(dir, '.complete')) && existsSync(join(metricsDir, '.complete'))) return binariesIn(dir, metricsDir, versions, false);
  // Two hours: a cold build is 15-20 CPU-minutes, so a lock that old was left by a killed build, even on a busy machine.
  return withLock(`${dir}.lock`, { staleMs: 2 * 60 * 60_000, onWait: () => o.progress('another process is building the rehearsal cluster; waiting for it') }, async () => {
    const builtControlPlane = await buildCached(o, dir, 'first run: building the rehearsal cluster (about 10-15 CPU-minutes on a cold Go cache, under 2 with a warm one)', [
      {
        what: `Kubernetes ${versions.kubernetes} (kube-apiserver, kube-controller-manager, kube-scheduler), etcd ${versions.etcd}`,
        cwd: join(o.root, CONTROL_PLANE_MODULE),
        args: ['build', '-v', '-o', `${dir}.tmp-${process.pid}/`, '-ldflags', versionLdflags(versions.kubernetes),
          'k8s.io/kubernetes/cmd/kube-apiserver', 'k8s.io/kubernetes/cmd/kube-controller-manager', 'k8s.io/kubernetes/cmd/kube-scheduler', './etcd', './certs'],
      },
      { what: `kwok ${versions.kwok}`, cwd: join(o.root, KWOK_MODULE), args: ['build', '-v', '-o', `${dir}.tmp-${process.pid}/`, 'sigs.k8s.io/kwok/cmd/kwok'] },
    ]);
    const builtMetrics = await buildCached(o, metricsDir, 'building metrics-server for the rehearsal cluster\'s HPA (about 6 CPU-minutes on a cold Go cache, seconds with a warm one)', [
      { what: `metrics-server ${versions.metricsServer}`, cwd: join(o.root, METRICS_SERVER_MODULE), args: ['build', '-v', '-o', `${metricsDir}.tmp-${process.pid}/`, 'sigs.k8s.io/metrics-server/cmd/metrics-server'] },
    ], (tmp, env) => copyKwokCrds(o.root, tmp, env));
    return binariesIn(dir, metricsDir, versions, builtControlPlane || builtMetrics);
  });
}
