// scripts/lib/lock.ts, the lock around builds into .cache and the test tools' installers: one holder
// at a time, within a process and across processes; released after a failure; a stale lock (its
// holder was killed) is taken over; someone else's live lock is waited for, then a clear error.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withLock, withLockSync } from '../scripts/lib/lock.ts';

const fresh = (): string => join(mkdtempSync(join(tmpdir(), 'aks-todo-ops-lock-')), 'build.lock');

test('two holders in one process take turns: the second enters only after the first has left', async () => {
  const lock = fresh();
  const events: string[] = [];
  let leave!: () => void;
  let entered!: () => void;
  const firstEntered = new Promise<void>((r) => { entered = r; });
  const first = withLock(lock, { staleMs: 60_000, pollMs: 10 }, async () => {
    events.push('first in');
    entered();
    await new Promise<void>((r) => { leave = r; });
    events.push('first out');
  });
  await firstEntered;
  let waited = false;
  const second = withLock(lock, { staleMs: 60_000, pollMs: 10, onWait: () => { waited = true; } }, () => { events.push('second in'); return Promise.resolve(); });
  assert.ok(waited, 'the second found the lock held and waits');
  assert.equal(events, ['first in']);
  leave();
  await Promise.all([first, second]);
  assert.equal(events, ['first in', 'first out', 'second in']);
  assert.not.ok(existsSync(lock), 'released at the end');
});

test('a holder that fails still releases the lock, and its error comes through', async () => {
  const lock = fresh();
  let error: unknown;
  try {
    await withLock(lock, { staleMs: 60_000 }, () => Promise.reject(new Error('go build failed')));
  } catch (e) {
    error = e;
  }
  assert.match(String(error), /go build failed/);
  assert.not.ok(existsSync(lock));
});

test('a lock older than staleMs (its holder was killed) is taken over; a live one is waited for, then a clear error', async () => {
  const stale = fresh();
  mkdirSync(stale);
  const old = new Date(Date.now() - 120_000);
  utimesSync(stale, old, old);
  let ran = false;
  await withLock(stale, { staleMs: 60_000, pollMs: 10 }, () => { ran = true; return Promise.resolve(); });
  assert.ok(ran);

  const live = fresh();
  mkdirSync(live);
  let error: unknown;
  try {
    await withLock(live, { staleMs: 60_000, waitMs: 50, pollMs: 10 }, () => Promise.resolve());
  } catch (e) {
    error = e;
  }
  assert.match(String(error), /timed out waiting for \S+build\.lock: another process holds it/);
  assert.ok(existsSync(live), 'another holder\'s lock is left alone');
});

test('withLockSync waits for a holder in another process, and runs once that one has released it', async () => {
  const lock = fresh();
  const waiting = `${lock}.waiting`;
  const released = `${lock}.released`;
  // The other process holds the lock until this one says it is waiting, then notes it and lets go.
  mkdirSync(lock);
  const holder = spawn(process.execPath, ['-e', `
    const fs = require('node:fs');
    const [lock, waiting, released] = process.argv.slice(1);
    const t = setInterval(() => {
      if (!fs.existsSync(waiting)) return;
      fs.writeFileSync(released, '');
      fs.rmSync(lock, { recursive: true });
      clearInterval(t);
    }, 10);`, lock, waiting, released], { stdio: 'ignore' });
  const exited = new Promise((r) => holder.on('exit', r));
  const sawRelease = withLockSync(lock, { staleMs: 60_000, pollMs: 10, onWait: () => writeFileSync(waiting, '') }, () => existsSync(released));
  assert.ok(sawRelease, 'entered only after the other process released the lock');
  assert.not.ok(existsSync(lock));
  await exited;
});

test.run();
