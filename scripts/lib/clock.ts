// The one place scripts read time and sleep, so tests can run a "2 minute" rollout in well under a second.
// AKS_TODO_OPS_TIME_SCALE (test-only) multiplies every sleep and divides elapsed real time:
// with 0.001, a 5 s poll interval sleeps 5 ms and now() advances 1 s per real millisecond.
// AKS_TODO_OPS_CLOCK_FILE (test-only) makes the clock virtual instead: simulated time advances only
// when the script sleeps, never while it waits for a process or a request, so what a test sees does
// not depend on how fast the machine is. Each advance is appended to that file as a line
// `<real ms since the epoch> <simulated ms since the clock started>`, for the fake CLIs to read.
import { appendFileSync } from 'node:fs';

export interface Clock {
  /** Simulated milliseconds since the epoch. */
  now(): number;
  /** Sleeps for simulated milliseconds. */
  sleep(ms: number): Promise<void>;
  /** Real milliseconds for a simulated duration (for timeouts handed to child processes). */
  realMs(ms: number): number;
  readonly scale: number;
}

export function timeScaleFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.AKS_TODO_OPS_TIME_SCALE;
  if (!raw) return 1;
  const n = Number(raw);
  return Number.isFinite(n) && n > 0 && n <= 1 ? n : 1;
}

export function createClock(scale = timeScaleFromEnv(), virtualFile: string | undefined = process.env.AKS_TODO_OPS_CLOCK_FILE || undefined): Clock {
  const realStart = Date.now();
  if (virtualFile) return createVirtualClock(realStart, scale, virtualFile);
  return {
    scale,
    now: () => realStart + (Date.now() - realStart) / scale,
    sleep: (ms: number) => new Promise((done) => setTimeout(done, Math.max(0, ms * scale))),
    // A timeout covers real process start-up, which no scale shrinks: scaled timeouts get five real
    // seconds on top, so a busy test machine does not kill a fake CLI call that is merely slow to start.
    realMs: (ms: number) => (scale < 1 ? Math.round(ms * scale) + 5000 : Math.max(1, Math.round(ms))),
  };
}

/**
 * A clock whose time moves only in sleep(): a sleep of `ms` still waits `ms * scale` real
 * milliseconds (so child processes get on), then sets the time to its start plus `ms`. Sleeps that
 * overlap end at their own targets: the time never goes back.
 */
function createVirtualClock(realStart: number, scale: number, file: string): Clock {
  let elapsed = 0;
  appendFileSync(file, `${Date.now()} ${elapsed}\n`);
  return {
    scale,
    now: () => realStart + elapsed,
    sleep: (ms: number) => {
      const target = elapsed + Math.max(0, ms);
      return new Promise((done) => setTimeout(() => {
        if (target > elapsed) {
          elapsed = target;
          appendFileSync(file, `${Date.now()} ${elapsed}\n`);
        }
        done();
      }, Math.max(0, ms * scale)));
    },
    // Simulated time says nothing about how long a process takes in real time here: a timeout is
    // only a guard against a hung child, as long in real milliseconds as it is in simulated ones.
    realMs: (ms: number) => Math.max(1, Math.round(ms)) + 5000,
  };
}

/** "90s", "2m", "1h" or a number of seconds → milliseconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit]!;
}

/**
 * "250ms", "7.5s", "11m0s", "2h5m0s". Rounds once, to the precision shown, before splitting into
 * units: rounding the parts separately turned 599.99 s into "9m60s" and 59.96 s into "60.0s".
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (Math.round(ms) < 1000) return `${Math.round(ms)}ms`;
  const tenths = Math.round(ms / 100);
  if (tenths < 600) return `${(tenths / 10).toFixed(1)}s`;
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}h${m}m${s}s` : `${m}m${s}s`;
}
