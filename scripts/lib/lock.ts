// One lock for work two processes must not do at once in the same folder: building daprd or the
// rehearsal control plane into .cache (two suites may build at once), unpacking a test tool. A lock
// is a directory, since mkdir either creates it or fails, atomically; one older than `staleMs` was
// left by a killed process and is taken over.
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

export interface LockOptions {
  /** A lock older than this was left by a killed process: longer than the work can take. */
  staleMs: number;
  /** How long to wait for another holder before giving up (default: staleMs). */
  waitMs?: number;
  /** Milliseconds between attempts (default 1000). */
  pollMs?: number;
  /** Called once when another process holds the lock and this one starts waiting. */
  onWait?: () => void;
}

/**
 * Tries to take `lock` once. Answers 0 when this process holds it now, else how long to wait before
 * the next try (a stale lock is removed for that try); throws once `deadline` has passed.
 */
function attempt(lock: string, o: LockOptions, deadline: number): number {
  try {
    mkdirSync(lock);
    return 0;
  } catch {
    try {
      if (Date.now() - statSync(lock).mtimeMs > o.staleMs) rmSync(lock, { recursive: true, force: true });
    } catch { /* gone already */ }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}: another process holds it (if none does, remove it)`);
    return o.pollMs ?? 1000;
  }
}

function deadlineFor(lock: string, o: LockOptions): number {
  mkdirSync(dirname(lock), { recursive: true });
  return Date.now() + (o.waitMs ?? o.staleMs);
}

const release = (lock: string) => rmSync(lock, { recursive: true, force: true });

/** Runs fn holding the lock directory `lock`, after waiting for any other holder; releases it after. */
export async function withLock<T>(lock: string, o: LockOptions, fn: () => Promise<T>): Promise<T> {
  const deadline = deadlineFor(lock, o);
  let wait = attempt(lock, o, deadline);
  if (wait > 0) o.onWait?.();
  for (; wait > 0; wait = attempt(lock, o, deadline)) await new Promise((r) => setTimeout(r, wait));
  try {
    return await fn();
  } finally {
    release(lock);
  }
}

/** withLock for synchronous work (the test tools' installers): the wait blocks the thread. */
export function withLockSync<T>(lock: string, o: LockOptions, fn: () => T): T {
  const deadline = deadlineFor(lock, o);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  let wait = attempt(lock, o, deadline);
  if (wait > 0) o.onWait?.();
  for (; wait > 0; wait = attempt(lock, o, deadline)) Atomics.wait(pause, 0, 0, wait);
  try {
    return fn();
  } finally {
    release(lock);
  }
}
