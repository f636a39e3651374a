// Shared by the secrets suites: valid values, .env writing, a fake cluster with the app deployed,
// and an in-process ScriptContext for lib-level tests.
import { mkdtempSync, writeFileSync, chmodSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClock } from '../../scripts/lib/clock.ts';
import { loadEnvironment } from '../../scripts/lib/config.ts';
import { parseFlags } from '../../scripts/lib/flags.ts';
import type { ScriptSpec } from '../../scripts/lib/flags.ts';
import { Logger } from '../../scripts/lib/log.ts';
import type { ScriptContext } from '../../scripts/lib/main.ts';
import { Redactor } from '../../scripts/lib/redact.ts';
import { Runner } from '../../scripts/lib/runner.ts';
import { FakeWorld } from './harness.ts';
import type { RunOptions, RunResult, Scenario } from './harness.ts';
import { APP_NAMESPACE, repoRoot } from './tools.ts';

export type Values = Record<string, string>;

/** Values that pass every rule. */
export function goodValues(tag = 'a'): Values {
  return {
    DATABASE_URL: `postgresql://todo_owner:pw${tag}Q7x@ep-cool-${tag}.eastus2.azure.neon.tech/todo?sslmode=require`,
    OPENAI_API_KEY: `sk-proj-${tag}Bq7xK2mN9pLw4Rt8Vz1Yc6Hd3Jf5TestOnlys0Ga9Ue2Wi7`,
    BETTER_AUTH_SECRET: `auth-${tag}-0123456789abcdefghijklmnopqrstuvwxyz`,
    REDPANDA_BOOTSTRAP_SERVERS: `seed-${tag}1.cloud.redpanda.com:9092,seed-${tag}2.cloud.redpanda.com:9092`,
    REDPANDA_SASL_USERNAME: `svc-user-${tag}`,
    REDPANDA_SASL_PASSWORD: `redpanda-pass-${tag}-Zk2m`,
  };
}

/** `values` with only the OpenAI key changed: a rotation, which restarts exactly that Secret's consumers. */
export function withRotatedOpenAiKey(values: Values = goodValues()): Values {
  return { ...values, OPENAI_API_KEY: goodValues('rotated').OPENAI_API_KEY! };
}

/** Writes a dotenv file (mode 600) in its own temporary directory; returns its path. */
export function writeEnvFile(values: Values | string): string {
  const dir = mkdtempSync(join(tmpdir(), 'aks-todo-ops-env-'));
  const path = join(dir, '.env');
  const text = typeof values === 'string' ? values : `${Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n')}\n`;
  writeFileSync(path, text);
  chmodSync(path, 0o600);
  return path;
}

export const deployments = [
  { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'todo-backend', namespace: APP_NAMESPACE }, spec: { replicas: 2 } },
  { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'todo-frontend', namespace: APP_NAMESPACE }, spec: { replicas: 2 } },
];

/** A minikube cluster (environments/local.yaml) with the chart's deployments running. */
export function localWorld(extra: Partial<Scenario> = {}, objects: unknown[] = []): FakeWorld {
  return new FakeWorld({ kube: { context: 'minikube', objects: [...deployments, ...objects] }, ...extra });
}

/**
 * Runs secrets.mts in real time (time scale 1). The script never sleeps or polls, so compressing
 * time gains nothing; at the harness's default 0.001 every fake CLI call (100-400 real ms, more on
 * a busy CI machine) costs minutes of simulated time, and the 60 s command and 180 s rollout
 * timeouts shrink to their one-real-second floor and expire under load.
 */
export function runSecrets(world: FakeWorld, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return world.run('secrets', args, { timeScale: 1, ...opts });
}

/** A Secret object as the cluster would hold it. */
export function clusterSecret(name: string, data: Record<string, string>, namespace = APP_NAMESPACE): unknown {
  return {
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name, namespace },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
}

/** Decoded data of a Secret in the fake cluster's state. */
export function secretData(world: FakeWorld, name: string, namespace = APP_NAMESPACE): Record<string, string> | undefined {
  const o = world.state().kube?.objects?.[`Secret/${namespace}/${name}`] as { data?: Record<string, string> } | undefined;
  if (!o) return undefined;
  return Object.fromEntries(Object.entries(o.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

/** Calls that change the cluster. */
export function mutatingCalls(world: FakeWorld): string[] {
  return world.calls
    .filter((c) => c.tool === 'kubectl' && (c.args[0] === 'apply' || c.args[0] === 'create' || c.args[0] === 'delete' || c.args[0] === 'patch' || (c.args[0] === 'rollout' && c.args[1] === 'restart')))
    .map((c) => c.args.join(' '));
}

/** An environment file like production.yaml with azure.keyVault set; returns its path. */
export function productionWithVault(vault: string): string {
  const text = readFileSync(join(repoRoot, 'environments', 'production.yaml'), 'utf8').replace(/keyVault: null/, `keyVault: ${vault}`);
  const dir = mkdtempSync(join(tmpdir(), 'aks-todo-ops-envyaml-'));
  const path = join(dir, 'production-kv.yaml');
  writeFileSync(path, text);
  return path;
}

const testSpec: ScriptSpec = { name: 'secrets', summary: 'test', flags: [] };

/** An in-process ScriptContext over the fakes (call world.activate({ timeScale: 1 }) first); output is captured. */
export function makeContext(envFile: string, opts: { dryRun?: boolean; verbose?: boolean } = {}): { ctx: ScriptContext; output: () => string } {
  const redactor = new Redactor();
  // Real time, for the reason given at runSecrets.
  const clock = createClock(1);
  const lines: string[] = [];
  const log = new Logger({ script: 'secrets', json: false, verbose: opts.verbose ?? false, redactor, clock, interactive: false, out: (t) => lines.push(t), err: (t) => lines.push(t) });
  const env = loadEnvironment(repoRoot, envFile);
  const runner = new Runner({ dryRun: opts.dryRun ?? false, redactor, logger: log, clock, defaultTimeoutMs: 60_000, cwd: repoRoot });
  const ctx: ScriptContext = {
    spec: testSpec,
    flags: parseFlags(testSpec, opts.dryRun ? ['--dry-run'] : []),
    root: repoRoot,
    env,
    runner,
    log,
    clock,
    redactor,
    confirm: async () => undefined,
    setState: () => undefined,
  };
  return { ctx, output: () => lines.join('') };
}
