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
