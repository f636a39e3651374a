// The local Kubernetes control plane the cluster suites share (scripts/lib/rehearsal/cluster.ts: real
// kube-apiserver, controllers, scheduler and etcd, kwok nodes). `npm test` (test/run.ts) starts one
// before the first suite that calls testCluster() and stops it after the last, also on failure and on
// Ctrl-C or SIGTERM; it names its kubeconfig in AKS_TODO_OPS_TEST_KUBECONFIG. A suite run on its own
// directly (`node test/NAME.test.ts` on Node 22.18+, with `--import tsx` before that) starts a cluster of its own instead. Suites never collide on
// it: each works in a namespace of its own (suiteNamespace), with the release name of the environment.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadEnvironment } from '../../scripts/lib/config.ts';
import { REHEARSAL_CONTEXT, startLocalCluster } from '../../scripts/lib/rehearsal/cluster.ts';
import { ingressHostValues, rehearsalEnvironment, writeRehearsalEnvironment } from '../../scripts/lib/rehearsal/scenarios.ts';
import type { RehearsalEnvironment } from '../../scripts/lib/rehearsal/scenarios.ts';
import { ensureBinaries } from '../../scripts/lib/rehearsal/toolchain.ts';
import { helmPath, kubectlPath, repoRoot } from './tools.ts';
import { typeScriptArgs } from '../../scripts/lib/typescript-runtime.ts';

/** The variable test/run.ts sets for the suites: the shared cluster's kubeconfig. */
export const SHARED_KUBECONFIG = 'AKS_TODO_OPS_TEST_KUBECONFIG';

/**
 * Simulated Standard_D2s_v3 nodes of the shared cluster. Production's two would be full: up to five
 * suites deploy the release at once, each needing 700m CPU (2 x 250m backend + 2 x 100m frontend)
 * plus 350m of surge while it rolls, against 1900m a node. Eight hold that with room to spare; kwok's
 * heartbeat for eight nodes costs nothing worth measuring. (A rehearsal run by a user keeps
 * `nodeCount.min` nodes, 2 for production.)
 */
export const SHARED_CLUSTER_NODES = 8;

export interface TestCluster {
  kubeconfig: string;
  context: string;
  /** Stops it if this process started it; the shared one is stopped by test/run.ts. */
  stop(): Promise<void>;
}

/** Builds (or reuses) the binaries and starts a cluster, with the real kubectl for its start-up calls. */
export async function startTestCluster(progress: (line: string) => void = () => undefined): Promise<TestCluster & { dir: string }> {
  const binaries = await ensureBinaries({ root: repoRoot, environmentFile: 'environments/production.yaml', progress });
  const savedPath = process.env.PATH;
  process.env.PATH = [dirname(kubectlPath()), savedPath].join(':');
  try {
    const c = await startLocalCluster({ binaries, root: repoRoot, nodes: SHARED_CLUSTER_NODES, nodeSize: 'Standard_D2s_v3', progress });
    return { dir: c.dir, kubeconfig: c.kubeconfig, context: c.context, stop: c.stop };
  } finally {
    process.env.PATH = savedPath;
  }
}

/** The shared cluster when test/run.ts started one, else one of this suite's own. */
export async function testCluster(): Promise<TestCluster> {
  const shared = process.env[SHARED_KUBECONFIG];
  if (shared) return { kubeconfig: shared, context: REHEARSAL_CONTEXT, stop: async () => undefined };
  return startTestCluster();
}

/** A namespace for one suite's run: its name and a random suffix, so two runs of a suite never meet. */
export function suiteNamespace(suite: string): string {
  return `${suite}-${randomBytes(3).toString('hex')}`;
}

/** The processes whose command line names a folder (a cluster's components name theirs), for "nothing left running" checks. */
export function processesIn(dir: string): string[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dir); } catch { return false; }
  });
}

/** Whether a suite file needs the cluster: it calls testCluster(). */
export const usesClusterPattern = /\btestCluster\(\)/;

/** One call a script made to real helm or kubectl, as support/recording-cli.mjs wrote it down. */
export interface RecordedCall { tool: 'helm' | 'kubectl'; args: string[]; stdin: string }

export interface ClusterRunResult { code: number | null; stdout: string; stderr: string; output: string; calls: RecordedCall[] }

/**
 * A namespace of the test cluster for one suite, and the way to run the real scripts against it: an
 * environment file as the rehearsal writes one (production's chart, values files and release name, the
 * cluster's context, this namespace), real helm and kubectl first on PATH behind a recorder, so the test
 * can also check what was called (support/recording-cli.mjs).
 */
export class ClusterNamespace {
  readonly namespace: string;
  readonly env: RehearsalEnvironment;
  readonly envFile: string;
  private readonly dir: string;
  private readonly bin: string;
  private runs = 0;

  readonly cluster: TestCluster;

  constructor(cluster: TestCluster, suite: string, o: { url?: string; helmMajor?: 3 | 4 } = {}) {
    this.cluster = cluster;
    this.namespace = suiteNamespace(suite);
    this.dir = mkdtempSync(join(tmpdir(), `aks-todo-ops-${suite}-`));
    const production = loadEnvironment(repoRoot, 'production');
    this.env = rehearsalEnvironment(production, { context: cluster.context, url: o.url ?? 'http://127.0.0.1:9', namespace: this.namespace, extraValuesFiles: ingressHostValues(this.dir, production, { write: true }) });
    this.envFile = writeRehearsalEnvironment(this.dir, this.env);
    this.bin = join(this.dir, 'bin');
    mkdirSync(this.bin);
    const recorder = join(repoRoot, 'test', 'support', 'recording-cli.mjs');
    for (const [tool, real] of [['helm', helmPath(o.helmMajor ?? 4)], ['kubectl', kubectlPath()]] as const) {
      const path = join(this.bin, tool);
      writeFileSync(path, `#!/bin/sh\nRECORD_REAL="${real}" NODE_OPTIONS= exec "${process.execPath}" "${recorder}" "$@"\n`);
      chmodSync(path, 0o755);
    }
  }

  /** Environment variables for a child: the cluster's kubeconfig, the recorders first on PATH. */
  childEnv(recordFile: string): NodeJS.ProcessEnv {
    return { ...process.env, KUBECONFIG: this.cluster.kubeconfig, PATH: [this.bin, dirname(process.execPath), process.env.PATH].join(':'), RECORD_FILE: recordFile, NODE_OPTIONS: '', NO_COLOR: '1' };
  }

  /** Runs scripts/<script>.mts with --env <this namespace's environment file> and args. */
  run(script: string, args: string[]): Promise<ClusterRunResult> {
    const record = join(this.dir, `calls-${++this.runs}.jsonl`);
    writeFileSync(record, '');
    return new Promise((done) => {
      const child = spawn(process.execPath, [...typeScriptArgs(), join(repoRoot, 'scripts', `${script}.mts`), '--env', this.envFile, ...args], { cwd: repoRoot, env: this.childEnv(record), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      child.on('close', (code) => {
        const calls = existsSync(record) ? readFileSync(record, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as RecordedCall) : [];
        done({ code, stdout, stderr, output: stdout + stderr, calls });
      });
    });
  }

  /** Real kubectl against the cluster, for a test's own set-up and reads (not recorded). */
  kubectl(args: string[], input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((done) => {
      const child = spawn(kubectlPath(), args, { env: { ...process.env, KUBECONFIG: this.cluster.kubeconfig }, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      child.on('close', (code) => done({ code, stdout, stderr }));
      child.stdin.end(input);
    });
  }

  /** kubectl get ... -o json, parsed; throws with kubectl's words when it fails. */
  async getJson<T>(args: string[]): Promise<T> {
    const r = await this.kubectl(['get', ...args, '-n', this.namespace, '-o', 'json']);
    if (r.code !== 0) throw new Error(`kubectl get ${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }

  /** Applies manifests (a YAML or JSON string) in this namespace, creating it first. */
  async apply(manifests: string): Promise<void> {
    await this.kubectl(['create', 'namespace', this.namespace]);
    const r = await this.kubectl(['apply', '-n', this.namespace, '-f', '-'], manifests);
    if (r.code !== 0) throw new Error(`kubectl apply: ${r.stderr}`);
  }
}
