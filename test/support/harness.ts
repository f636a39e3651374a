// Bats-style helpers for script tests: write a scenario for the fake CLIs, run the real script
// as a subprocess with the fakes first on PATH, then assert on exit code, output and recorded calls.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { APP_NAMESPACE, helmPath, repoRoot } from './tools.ts';
import { PROD } from './names.ts';
import { typeScriptArgs } from '../../scripts/lib/typescript-runtime.ts';

export type ToolName = 'az' | 'helm' | 'kubectl' | 'kubelogin' | 'k6';
export const ALL_TOOLS: readonly ToolName[] = ['az', 'helm', 'kubectl', 'kubelogin', 'k6'];

export interface Respond {
  stdout?: string;
  /** Printed as the real tool prints JSON (kubectl 4-space sorted, helm compact, az 2-space sorted). */
  json?: unknown;
  stderr?: string;
  exit?: number;
  /** Simulated milliseconds. */
  delayMs?: number;
  /** Files the fake writes; `${e:NAME}` in a path is the value of a `-e NAME=VALUE` argument, `${out:KIND}` that of k6's `--out KIND=PATH`. */
  files?: Array<{ path: string; content: unknown }>;
}

export interface Rule {
  tool: ToolName;
  /** Tokens that must appear in argv in this order; a token starting with ~ is a regular expression. */
  args: string[];
  respond?: Respond;
  /** Answers that change over simulated time: the entry with the largest `at` (seconds) not in the future. */
  timeline?: Array<{ at: number; respond: Respond }>;
  /** Only after this was the latest Helm event (or, for 'k6-run', once `k6 run` has started); timeline seconds count from it. */
  phase?: 'install' | 'upgrade' | 'rollback' | 'uninstall' | 'k6-run';
  /** Use at most this many times. */
  times?: number;
  stdinIncludes?: string;
}

export interface HelmRevision {
  revision: number;
  updated: string;
  status: 'unknown' | 'deployed' | 'uninstalled' | 'superseded' | 'failed' | 'uninstalling' | 'pending-install' | 'pending-upgrade' | 'pending-rollback';
  chart: string;
  app_version: string;
  description: string;
  config?: Record<string, unknown>;
}

export interface Scenario {
  rules: Rule[];
  kube?: { context?: string | null; objects?: unknown[]; namespaces?: string[] };
  helm?: {
    version?: string;
    chart?: string;
    appVersion?: string;
    /** Outcome of each upgrade/install in order; default deployed. */
    upgrades?: Array<{ status: 'deployed' | 'failed' | 'pending-upgrade' | 'pending-install'; error?: string }>;
    rollbackOutcome?: 'deployed' | 'failed';
  };
  az?: {
    version?: string;
    account?: unknown;
    providers?: Record<string, string>;
    usage?: unknown[];
    tags?: Record<string, string[]>;
    deletedVaults?: unknown[];
  };
}

export interface Call {
  tool: ToolName;
  args: string[];
  stdin: string;
  env: Record<string, string>;
  /** Simulated milliseconds since the run started. */
  t: number;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  calls: Call[];
  /** stdout + stderr, for "appears anywhere" assertions. */
  output: string;
}

export interface RunOptions {
  env?: Record<string, string>;
  /** Real ms per simulated ms (default 0.001: a simulated minute takes 60 real ms). */
  timeScale?: number;
  /**
   * Virtual time (scripts/lib/clock.ts, AKS_TODO_OPS_CLOCK_FILE): simulated time moves only when the
   * script sleeps, and the fakes read it from the script's clock, so how many samples a watch takes
   * and what each one sees does not depend on how fast the machine is. timeScale still paces the sleeps.
   */
  virtualTime?: boolean;
  stdin?: string;
  /** Tools left off PATH (to test "not installed"). */
  missing?: ToolName[];
  /** Real milliseconds before the test gives up on the script. */
  killAfterMs?: number;
  cwd?: string;
  /** Start it the way the README does, `npx zx scripts/<name>.mts` (slower: npm's own start-up). */
  viaNpxZx?: boolean;
  /** Called with the child process once spawned (e.g. to send it a signal). */
  onSpawn?: (child: ChildProcess) => void;
}

const fakeScript = join(repoRoot, 'test', 'fakes', 'fake.mjs');

/** A fake cluster + Azure + Helm + k6 world for one test. */
export class FakeWorld {
  readonly dir: string;
  readonly scenario: Scenario = { rules: [] };

  constructor(init: Partial<Scenario> = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'aks-todo-ops-fake-'));
    Object.assign(this.scenario, init);
    this.scenario.rules = [...(init.rules ?? [])];
  }

  /** Adds a rule; earlier rules win. */
  on(tool: ToolName, args: string[], respond: Respond, extra: Omit<Rule, 'tool' | 'args' | 'respond'> = {}): this {
    this.scenario.rules.push({ tool, args, respond, ...extra });
    return this;
  }

  timeline(tool: ToolName, args: string[], timeline: Rule['timeline'], extra: Omit<Rule, 'tool' | 'args' | 'timeline'> = {}): this {
    this.scenario.rules.push({ tool, args, timeline, ...extra });
    return this;
  }

  get calls(): Call[] {
    const f = join(this.dir, 'calls.jsonl');
    if (!existsSync(f)) return [];
    return readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Call);
  }

  callsOf(tool: ToolName, ...tokens: string[]): Call[] {
    return this.calls.filter((c) => c.tool === tool && tokens.every((t) => c.args.includes(t)));
  }

  /** The fakes' saved state (Helm releases, kube objects, events). */
  state(): { helm?: { releases: Record<string, { namespace: string; history: HelmRevision[] }> }; kube?: { objects?: Record<string, unknown>; context?: string }; events?: Array<{ name: string; at: number; release?: string; target?: string; revision?: number; to?: number }> } {
    const f = join(this.dir, 'state.json');
    return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : {};
  }

  /** Seeds a Helm release history (oldest first). */
  seedRelease(name: string, history: Array<Partial<HelmRevision> & Pick<HelmRevision, 'status'>>, namespace = APP_NAMESPACE): this {
    const full: HelmRevision[] = history.map((h, i) => ({
      revision: i + 1,
      updated: `2026-11-2${Math.min(4, i)}T09:00:00.000000000Z`,
      chart: 'hackathon-todo-0.1.0',
      app_version: '0.1.0',
      description: i === 0 ? 'Install complete' : 'Upgrade complete',
      ...h,
    }));
    const state = this.state() as Record<string, unknown> & { helm?: { releases: Record<string, unknown> } };
    state.helm = state.helm ?? { releases: {} };
    state.helm.releases[name] = { namespace, history: full };
    writeFileSync(join(this.dir, 'state.json'), JSON.stringify(state));
    return this;
  }

  /** Files the script wrote below a directory, for "no secret on disk" checks. */
  static filesUnder(dir: string): string[] {
    if (!existsSync(dir)) return [];
    const out: string[] = [];
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) out.push(...FakeWorld.filesUnder(p));
      else out.push(p);
    }
    return out;
  }

  private writeBin(missing: readonly ToolName[]): string {
    const bin = join(this.dir, 'bin');
    mkdirSync(bin, { recursive: true });
    for (const tool of ALL_TOOLS) {
      const path = join(bin, tool);
      if (missing.includes(tool)) {
        // This machine may have a real kubectl in /usr/bin: shadow it with bash's own answer.
        writeFileSync(path, `#!/bin/sh\necho "bash: ${tool}: command not found" >&2\nexit 127\n`);
      } else {
        writeFileSync(path, `#!/bin/sh\nNODE_OPTIONS= exec "${process.execPath}" "${fakeScript}" ${tool} "$@"\n`);
      }
      chmodSync(path, 0o755);
    }
    return bin;
  }

  /**
   * Prepares the fakes for calls made from this test process (lib-level tests): writes the
   * scenario and sets PATH and the FAKE_* variables on process.env. Returns a restore function.
   */
  activate(opts: { timeScale?: number; missing?: ToolName[] } = {}): () => void {
    writeFileSync(join(this.dir, 'scenario.json'), JSON.stringify(this.scenario, null, 1));
    const bin = this.writeBin(opts.missing ?? []);
    const saved = { ...process.env };
    const scale = opts.timeScale ?? 0.001;
    Object.assign(process.env, {
      PATH: [bin, dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
      FAKE_DIR: this.dir,
      FAKE_T0: String(Date.now()),
      FAKE_TIME_SCALE: String(scale),
      FAKE_REAL_HELM: helmPath(this.scenario.helm?.version?.startsWith('v4') ? 4 : 3),
    });
    return () => {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    };
  }

  /** Runs scripts/<script>.mts with the fakes first on PATH. */
  async run(script: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    writeFileSync(join(this.dir, 'scenario.json'), JSON.stringify(this.scenario, null, 1));
    const bin = this.writeBin(opts.missing ?? []);
    const home = join(this.dir, 'home');
    mkdirSync(home, { recursive: true });
    const scale = opts.timeScale ?? 0.001;
    const started = Date.now();
    const clockFile = join(this.dir, 'clock');
    rmSync(clockFile, { force: true });
    const env: Record<string, string> = {
      ...(opts.virtualTime ? { AKS_TODO_OPS_CLOCK_FILE: clockFile, FAKE_CLOCK_FILE: clockFile } : {}),
      PATH: [bin, dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
      HOME: home,
      LANG: 'C.UTF-8',
      NO_COLOR: '1',
      FAKE_DIR: this.dir,
      FAKE_T0: String(started),
      FAKE_TIME_SCALE: String(scale),
      FAKE_REAL_HELM: helmPath(this.scenario.helm?.version?.startsWith('v4') ? 4 : 3),
      AKS_TODO_OPS_TIME_SCALE: String(scale),
      CI: 'true',
      // test/run.ts's cache of compiled code, for the scripts and the fakes as for the suites.
      ...(process.env.NODE_COMPILE_CACHE ? { NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE } : {}),
      ...opts.env,
    };
    const scriptPath = join(repoRoot, 'scripts', `${script}.mts`);
    return new Promise((done, fail) => {
      const [cmd, argv] = opts.viaNpxZx
        ? [process.env.AKS_TODO_OPS_NPX ?? join(dirname(process.execPath), 'npx'), ['zx', `scripts/${script}.mts`, ...args]]
        : [process.execPath, [...typeScriptArgs(), scriptPath, ...args]];
      const child = spawn(cmd, argv, { cwd: opts.cwd ?? repoRoot, env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      child.stdin.end(opts.stdin ?? '');
      opts.onSpawn?.(child);
      const killer = setTimeout(() => { child.kill('SIGKILL'); }, opts.killAfterMs ?? 60_000);
      child.on('error', fail);
      child.on('close', (code) => {
        clearTimeout(killer);
        done({ code: code ?? 1, stdout, stderr, output: stdout + stderr, calls: this.calls });
      });
    });
  }
}

/** Formats a command line from a recorded call, for readable assertions. */
export function line(c: Call): string {
  return [c.tool, ...c.args].join(' ');
}

/** A `kubectl get pods -o json` List (test/fixtures/cli-samples/README.md#kubectl-pods). */
export function podList(pods: Array<{ name: string; app: string; container?: string; ready?: boolean; waiting?: string; message?: string; restarts?: number; daprWaiting?: string; hash?: string; instance?: string }>): unknown {
  return {
    apiVersion: 'v1',
    kind: 'List',
    metadata: { resourceVersion: '' },
    items: pods.map((p) => {
      const hash = p.hash ?? '5d8f7c9b6d';
      const container = p.container ?? p.app.replace(/^todo-/, '');
      const appStatus = {
        name: container,
        ready: p.ready ?? !p.waiting,
        restartCount: p.restarts ?? (p.waiting === 'CrashLoopBackOff' ? 4 : 0),
        started: p.ready ?? !p.waiting,
        image: `${PROD.loginServer}/${p.app}:abc123`,
        imageID: '',
        containerID: 'containerd://bb01',
        state: p.waiting ? { waiting: { reason: p.waiting, message: p.message ?? `back-off 5m0s restarting failed container=${container} pod=${p.name}_${APP_NAMESPACE}(9a1e)` } } : { running: { startedAt: '2026-11-25T09:00:00Z' } },
        lastState: p.waiting === 'CrashLoopBackOff' ? { terminated: { exitCode: 1, reason: 'Error', startedAt: '2026-11-25T09:00:00Z', finishedAt: '2026-11-25T09:00:05Z', containerID: 'containerd://bb01' } } : {},
      };
      const daprStatus = {
        name: 'daprd',
        ready: !p.daprWaiting,
        restartCount: p.daprWaiting === 'CrashLoopBackOff' ? 4 : 0,
        started: !p.daprWaiting,
        image: 'ghcr.io/dapr/daprd:1.18.2',
        imageID: '',
        containerID: 'containerd://dd01',
        state: p.daprWaiting ? { waiting: { reason: p.daprWaiting, message: `back-off 5m0s restarting failed container=daprd pod=${p.name}_${APP_NAMESPACE}(9a1e)` } } : { running: { startedAt: '2026-11-25T09:00:00Z' } },
        lastState: {},
      };
      const ready = appStatus.ready && daprStatus.ready;
      return {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: p.name,
          namespace: APP_NAMESPACE,
          uid: `uid-${p.name}`,
          labels: { 'app.kubernetes.io/name': p.app, 'app.kubernetes.io/instance': p.instance ?? 'hackathon-todo', 'pod-template-hash': hash },
          ownerReferences: [{ apiVersion: 'apps/v1', blockOwnerDeletion: true, controller: true, kind: 'ReplicaSet', name: `${p.app}-${hash}`, uid: 'rs-uid' }],
        },
        spec: { containers: [{ name: container, image: appStatus.image }, { name: 'daprd', image: daprStatus.image }] },
        status: {
          phase: 'Running',
          conditions: [ready ? { type: 'Ready', status: 'True' } : { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${container}]` }],
          containerStatuses: [daprStatus, appStatus],
        },
      };
    }),
  };
}
