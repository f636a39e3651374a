// The rehearsal's steps: the real scripts (secrets, install-dapr, deploy, rollback), unchanged, run as
// a user runs them, against a cluster. Each step states what should happen; what did happen is read
// back from the cluster (helm history, the Deployments' images), not taken from the script's word.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { LoadedEnvironment } from '../config.ts';
import { historyArgs, ingressHostOf } from '../helm.ts';
import { SECRET_CATALOG } from '../secret-catalog.ts';
import { validateValue } from '../secrets.ts';
import { typeScriptArgs } from '../typescript-runtime.ts';

/** Image tags that kwok's stages (rehearsal/kwok/stages.yaml) and the admission policy turn into failures. */
export const FAILURE_TAGS = {
  crashloop: 'rehearse-crashloop',
  pullfail: 'rehearse-pullfail',
  configerror: 'rehearse-configerror',
  neverready: 'rehearse-neverready',
  /** Refused by the rehearsal cluster's ValidatingAdmissionPolicy: Helm records a FAILED revision. */
  denied: 'rehearse-denied',
} as const;

export interface StepResult {
  step: string;
  expected: string;
  observed: string;
  ok: boolean;
  seconds: number;
  exitCode: number | null;
  /** The script's own last lines, kept for a failed step. */
  detail?: string;
}

export interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
  json?: Record<string, unknown>;
}

export interface RehearsalTarget {
  root: string;
  /** The environment file the scripts get with --env. */
  envFile: string;
  env: RehearsalEnvironment;
  /** Environment variables for every child (KUBECONFIG for a local cluster). */
  childEnv: NodeJS.ProcessEnv;
  helm: string;
  /** The generated dotenv file secrets.mts reads. */
  dotenv: string;
  /** Tags whose images run (a local cluster: any tag; an existing cluster: --good-tag). */
  goodTags: [string, string, string];
  /** kwok simulates failures by tag; a real kubelet only ever fails to pull a tag that does not exist. */
  simulated: boolean;
  /** Run only these steps (numbered from 1 as planSteps lists them); the others are recorded as skipped. */
  only?: ReadonlySet<number>;
  progress: (line: string) => void;
}

export interface RehearsalEnvironment {
  name: string;
  description: string;
  platform: 'local';
  kube: { context: string; namespace: string };
  release: LoadedEnvironment['release'];
  url: string;
  dapr: LoadedEnvironment['dapr'];
  timeouts: LoadedEnvironment['timeouts'];
}

/**
 * The environment the rehearsal deploys: the chosen environment's release (chart, values files, image
 * names, namespace) on the rehearsal's kube context, smoke-tested at the local stand-in's URL, with
 * short timeouts (a simulated pod is Ready in seconds, so a rollout that takes a minute has failed).
 */
export function rehearsalEnvironment(base: LoadedEnvironment, o: { context: string; url: string; extraValuesFiles?: readonly string[]; namespace?: string }): RehearsalEnvironment {
  return {
    name: 'rehearsal',
    description: `Rehearsal of ${base.name} (${base.file}) on ${o.context}`,
    platform: 'local',
    kube: { context: o.context, namespace: o.namespace ?? base.kube.namespace },
    release: { ...base.release, valuesFiles: [...base.release.valuesFiles, ...(o.extraValuesFiles ?? [])], allowLatestTag: false },
    url: o.url,
    dapr: base.dapr,
    // helmSeconds is also how long deploy.mts leaves a fresh pending-* lock alone: short, so the
    // killed-upgrade step waits 11 s, not 10 minutes. Every Helm call here applies without --wait (the
    // watcher waits, not Helm) and the chart has no install or upgrade hooks, so Helm's --timeout bounds no wait:
    // 10 s is not a race against a busy machine, only the age a lock must reach to count as stale.
    timeouts: { commandSeconds: 60, helmSeconds: 10, rolloutSeconds: 60, smokeSeconds: 20 },
  };
}

/**
 * The Ingress host for the rehearsal, as a values file in the rehearsal's own folder. Its url is the
 * stand-in on 127.0.0.1, from which deploy sets no ingress.host (Kubernetes refuses an IP address as an
 * Ingress host: helm.ts ingressHostOf), and the chart refuses TLS without a host. So the Ingress keeps the
 * base environment's host (its `url`, the only place it is written) while smoke goes to the stand-in.
 * [] when the base's url names no host (local). `write: false` only names the file (--dry-run).
 */
export function ingressHostValues(dir: string, base: Pick<LoadedEnvironment, 'url'>, o: { write: boolean }): string[] {
  const host = ingressHostOf(base.url);
  if (!host) return [];
  const path = join(dir, 'ingress-host.yaml');
  if (o.write) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path, `# Written by scripts/rehearse.mts: the host of ${base.url}, which the rehearsal's own url cannot carry.\n${stringify({ ingress: { host } })}`);
  }
  return [path];
}

export function writeRehearsalEnvironment(dir: string, env: RehearsalEnvironment): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'rehearsal.yaml');
  writeFileSync(path, `# Written by scripts/rehearse.mts for one rehearsal; not an environment to deploy.\n${stringify(env)}`);
  return path;
}

/** Random values in each secret's real format, checked by the same rules secrets.mts applies. */
export function dummySecretValues(): Record<string, string> {
  const r = (n: number) => randomBytes(n).toString('hex');
  const values: Record<string, string> = {
    DATABASE_URL: `postgresql://rehearsal_${r(3)}:${r(12)}@ep-rehearsal-${r(4)}.eastus2.azure.neon.tech/todo?sslmode=require`,
    OPENAI_API_KEY: `sk-proj-${randomBytes(36).toString('base64url')}`,
    BETTER_AUTH_SECRET: randomBytes(32).toString('base64url'),
    REDPANDA_BOOTSTRAP_SERVERS: `seed-${r(4)}.rehearsal.invalid:9092`,
    REDPANDA_SASL_USERNAME: `rehearsal-${r(4)}`,
    REDPANDA_SASL_PASSWORD: r(16),
  };
  for (const entry of SECRET_CATALOG) {
    const v = values[entry.envVar];
    const problems = v === undefined ? [{ message: 'no dummy value' }] : validateValue(entry, v);
    if (problems.length) throw new Error(`the rehearsal's dummy ${entry.envVar} breaks a rule of scripts/lib/secret-catalog.ts: ${problems.map((p) => p.message).join('; ')}`);
  }
  return values;
}

export function writeDummyDotenv(dir: string): string {
  const path = join(dir, 'rehearsal.env');
  const text = Object.entries(dummySecretValues()).map(([k, v]) => `${k}=${v}`).join('\n');
  writeFileSync(path, `# Dummy values in the real formats, for a rehearsal cluster only.\n${text}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

/** Runs scripts/<name>.mts as `npx zx` would (Node with tsx), with --env, --yes and --json. */
export function runScript(t: RehearsalTarget, name: string, args: string[], opts: { onSpawn?: (pid: number) => void } = {}): Promise<ScriptRun> {
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn(process.execPath, [...typeScriptArgs(), join(t.root, 'scripts', `${name}.mts`), '--env', t.envFile, '--yes', '--json', ...args], {
      cwd: t.root,
      env: t.childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid && opts.onSpawn) opts.onSpawn(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('close', (code) => {
      let json: Record<string, unknown> | undefined;
      try { json = JSON.parse(stdout) as Record<string, unknown>; } catch { /* a crash prints no document */ }
      done({ code, stdout, stderr, seconds: (Date.now() - started) / 1000, ...(json ? { json } : {}) });
    });
  });
}

/** Runs a CLI (helm or kubectl) against the target and returns its output. */
export function runCli(t: RehearsalTarget, bin: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(bin, args, { cwd: t.root, env: t.childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', (e) => { stderr += e.message; });
    child.on('close', (code) => { clearTimeout(timer); done({ code, stdout, stderr }); });
    child.stdin.end(opts.input ?? '');
  });
}

export interface HistoryEntry { revision: number; status: string; description: string }

export async function history(t: RehearsalTarget): Promise<HistoryEntry[]> {
  const r = await runCli(t, t.helm, historyArgs(t.env.release.name, t.env.kube.namespace));
  if (r.code !== 0) return [];
  return (JSON.parse(r.stdout) as HistoryEntry[]).map((h) => ({ revision: h.revision, status: h.status, description: h.description }));
}

export function historyLine(h: readonly HistoryEntry[]): string {
  return h.map((e) => `${e.revision}:${e.status}`).join(' ');
}

/** The image tags the release's Deployments run now, e.g. ["rehearse-good-2"]. */
export async function runningTags(t: RehearsalTarget): Promise<string[]> {
  const r = await runCli(t, 'kubectl', ['get', 'deployments', '-n', t.env.kube.namespace, '-l', `app.kubernetes.io/instance=${t.env.release.name}`, '-o', 'json']);
  if (r.code !== 0) return [];
  const items = (JSON.parse(r.stdout) as { items: Array<{ spec: { template: { spec: { containers: Array<{ image: string }> } } } }> }).items;
  return [...new Set(items.flatMap((d) => d.spec.template.spec.containers.map((c) => c.image.split(':').pop() ?? '')))].sort();
}

/** Deployments of the release whose every replica is updated and available. */
export async function readyDeployments(t: RehearsalTarget): Promise<string> {
  const r = await runCli(t, 'kubectl', ['get', 'deployments', '-n', t.env.kube.namespace, '-l', `app.kubernetes.io/instance=${t.env.release.name}`, '-o', 'json']);
  if (r.code !== 0) return 'unreadable';
  const items = (JSON.parse(r.stdout) as { items: Array<{ metadata: { name: string }; spec: { replicas?: number }; status: { availableReplicas?: number; updatedReplicas?: number } }> }).items;
  return items.map((d) => `${d.metadata.name} ${d.status.availableReplicas ?? 0}/${d.spec.replicas ?? 0}`).join(', ');
}

export function lastLines(run: ScriptRun, n = 6): string {
  const doc = run.json;
  const err = doc && typeof doc.error === 'object' && doc.error ? (doc.error as { message?: string }).message : undefined;
  const text = [String(doc?.summary ?? ''), err ?? '', run.stderr.trimEnd().split('\n').slice(-n).join('\n')].filter(Boolean).join('\n');
  return text.slice(-2000);
}
