// Opens a page in headless Chromium and returns its DOM once the page has loaded, the way
// `chromium --headless --dump-dom URL` would. It speaks the DevTools protocol over the pipe that
// `--remote-debugging-pipe` opens (fd 3 to the browser, fd 4 back; messages end with a NUL byte):
// the headless shell of @sparticuz/chromium never returns from --dump-dom, and no WebSocket, port or
// extra package is needed this way. Protocol: https://chromedevtools.github.io/devtools-protocol/
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from './tools.ts';

interface Message { id?: number; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: { message: string }; sessionId?: string }

/** The page's `document.documentElement.outerHTML` once its load event has fired (its inline scripts have run). */
export async function dumpDom(url: string, opts: { timeoutMs?: number } = {}): Promise<string> {
  const browser = chromium();
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  const child = spawn(browser.path, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--no-default-browser-check',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`,
    '--remote-debugging-pipe', 'about:blank',
  ], { env: { ...process.env, ...browser.env }, stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  const toBrowser = child.stdio[3] as Writable;
  const fromBrowser = child.stdio[4] as Readable;
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });

  const pending = new Map<number, { done: (m: Message) => void; fail: (e: Error) => void }>();
  let failure: Error | undefined;
  const failAll = (e: Error) => {
    failure ??= e;
    for (const p of pending.values()) p.fail(e);
    pending.clear();
  };
  let buffer = '';
  fromBrowser.on('data', (d: Buffer) => {
    buffer += d.toString('utf8');
    for (let end = buffer.indexOf('\0'); end !== -1; end = buffer.indexOf('\0')) {
      const m = JSON.parse(buffer.slice(0, end)) as Message;
      buffer = buffer.slice(end + 1);
      if (m.id !== undefined) {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (m.error) p?.fail(new Error(`DevTools: ${m.error.message}`));
        else p?.done(m);
      }
    }
  });
  child.on('error', (e) => failAll(e));
  const exited = new Promise<void>((done) => child.on('close', (code, signal) => {
    failAll(new Error(`chromium exited (${signal ?? code}) before the page was read:\n${stderr}`));
    done();
  }));

  let nextId = 0;
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Message> => new Promise((done, fail) => {
    if (failure) return fail(failure);
    const id = ++nextId;
    pending.set(id, { done, fail });
    toBrowser.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
  });

  const timer = setTimeout(() => { failAll(new Error(`chromium did not load ${url} within ${opts.timeoutMs ?? 90_000} ms:\n${stderr}`)); child.kill('SIGKILL'); }, opts.timeoutMs ?? 90_000);
  try {
    const target = await send('Target.createTarget', { url: 'about:blank' });
    const attached = await send('Target.attachToTarget', { targetId: target.result!.targetId, flatten: true });
    const session = attached.result!.sessionId as string;
    // Page.navigate answers once the new document is committed; the page itself then says when it has loaded.
    const nav = await send('Page.navigate', { url }, session);
    if (nav.result!.errorText) throw new Error(`chromium could not open ${url}: ${String(nav.result!.errorText)}`);
    const afterLoad = `new Promise((done) => {
      const dump = () => done(document.documentElement.outerHTML);
      if (document.readyState === 'complete') dump(); else addEventListener('load', dump, { once: true });
    })`;
    const html = await send('Runtime.evaluate', { expression: afterLoad, awaitPromise: true, returnByValue: true }, session);
    const value = (html.result!.result as { value?: unknown }).value;
    if (typeof value !== 'string') throw new Error(`no DOM from ${url}`);
    await send('Browser.close').catch(() => undefined);
    return value;
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) {
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(profile, { recursive: true, force: true });
  }
}
