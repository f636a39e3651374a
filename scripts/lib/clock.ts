// The one place scripts read time and sleep, so tests can run a "2 minute" rollout in well under a second.
// AKS_TODO_OPS_TIME_SCALE (test-only) multiplies every sleep and divides elapsed real time:
// with 0.001, a 5 s poll interval sleeps 5 ms and now() advances 1 s per real millisecond.

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

export function createClock(scale = timeScaleFromEnv()): Clock {
  const realStart = Date.now();
  return {
    scale,
    now: () => realStart + (Date.now() - realStart) / scale,
    sleep: (ms: number) => new Promise((done) => setTimeout(done, Math.max(0, ms * scale))),
    // A timeout covers real process start-up, which no scale shrinks: scaled timeouts get five real
    // seconds on top, so a busy test machine does not kill a fake CLI call that is merely slow to start.
    realMs: (ms: number) => (scale < 1 ? Math.round(ms * scale) + 5000 : Math.max(1, Math.round(ms))),
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

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  return `${Math.floor(s / 60)}m${Math.round(s % 60)}s`;
}
