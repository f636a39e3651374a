// The app's own CI commands, detected from its files rather than assumed: the backend's from
// backend/pyproject.toml (and its lock file), the frontend's from frontend/package.json's scripts
// (and its lock file). ci.yml runs exactly what this returns, so a tool the app does not use is
// never run, and one it adds is picked up without editing the workflow.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface AppPart {
  /** Folder, relative to the repository root. */
  dir: string;
  /** What the commands were read from, for the log. */
  detectedFrom: string[];
  install: string[];
  lint: string[];
  test: string[];
}

export interface AppCi {
  backend: AppPart | null;
  frontend: AppPart | null;
}

/** [section] and [[array]] headers of a TOML file. */
function tomlTables(text: string): string[] {
  return [...text.matchAll(/^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$/gm)].map((m) => m[1]!.replace(/\s+/g, ''));
}

/** The lines of one [table] up to the next header. */
function tableBody(text: string, table: string): string {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.trim().replace(/\s+/g, '') === `[${table}]`);
  if (at < 0) return '';
  const end = lines.findIndex((l, i) => i > at && /^\s*\[/.test(l));
  return lines.slice(at + 1, end < 0 ? undefined : end).join('\n');
}

/**
 * Whether a Python package is named as a dependency anywhere in pyproject.toml: as a PEP 508
 * requirement string ("pytest>=8", 'ruff') in any list (project.dependencies, optional-dependencies,
 * dependency-groups), or as a key of a Poetry dependency table (`pytest = "^8"`).
 */
function declaresPackage(text: string, name: string): boolean {
  const n = name.replace(/[-_.]/g, '[-_.]');
  const requirement = new RegExp(`["']${n}(?:\\s*(?:\\[[^\\]]*\\])?\\s*(?:[<>=!~;@ ]|["']))`, 'i');
  const poetryKey = new RegExp(`^\\s*${n}\\s*=`, 'im');
  return requirement.test(text) || (/\[tool\.poetry[^\]]*dependencies\]/.test(text) && poetryKey.test(text));
}

export function detectBackend(root: string, dir = 'backend'): AppPart | null {
  const pyproject = join(root, dir, 'pyproject.toml');
  if (!existsSync(pyproject)) return null;
  const text = readFileSync(pyproject, 'utf8');
  const tables = tomlTables(text);
  const has = (file: string) => existsSync(join(root, dir, file));
  const detectedFrom = [`${dir}/pyproject.toml`];

  // The package manager the lock file belongs to; plain pip without one.
  let install: string[];
  let run: string;
  if (has('uv.lock')) {
    detectedFrom.push(`${dir}/uv.lock`);
    install = ['pipx install uv', 'uv sync --frozen --all-extras --all-groups'];
    run = 'uv run ';
  } else if (has('poetry.lock') || tables.some((t) => t === 'tool.poetry')) {
    if (has('poetry.lock')) detectedFrom.push(`${dir}/poetry.lock`);
    install = ['pipx install poetry', 'poetry install --no-interaction --all-extras'];
    run = 'poetry run ';
  } else {
    const extras = /^\s*dev\s*=/m.test(tableBody(text, 'project.optional-dependencies')) ? '.[dev]' : '.';
    install = ['python3 -m venv .venv', `.venv/bin/python -m pip install -e '${extras}'`];
    if (has('requirements-dev.txt')) { install.push('.venv/bin/python -m pip install -r requirements-dev.txt'); detectedFrom.push(`${dir}/requirements-dev.txt`); }
    run = '.venv/bin/python -m ';
  }

  const uses = (pkg: string, table: string) => tables.some((t) => t === table || t.startsWith(`${table}.`)) || declaresPackage(text, pkg);
  const lint: string[] = [];
  if (uses('ruff', 'tool.ruff')) lint.push(`${run}ruff check .`);
  if (uses('mypy', 'tool.mypy')) lint.push(`${run}mypy .`);
  const test: string[] = [];
  if (uses('pytest', 'tool.pytest')) test.push(`${run}pytest`);
  return { dir, detectedFrom, install, lint, test };
}

/** npm's placeholder "test" script, which fails on purpose: not a test suite. */
const NPM_DEFAULT_TEST = /no test specified/;

export function detectFrontend(root: string, dir = 'frontend'): AppPart | null {
  const path = join(root, dir, 'package.json');
  if (!existsSync(path)) return null;
  const pkg = JSON.parse(readFileSync(path, 'utf8')) as { scripts?: Record<string, string> };
  const scripts = pkg.scripts ?? {};
  const has = (file: string) => existsSync(join(root, dir, file));
  const detectedFrom = [`${dir}/package.json`];
  let install: string[];
  let runScript: (name: string) => string;
  if (has('pnpm-lock.yaml')) {
    detectedFrom.push(`${dir}/pnpm-lock.yaml`);
    install = ['corepack enable', 'pnpm install --frozen-lockfile'];
    runScript = (s) => `pnpm run ${s}`;
  } else if (has('yarn.lock')) {
    detectedFrom.push(`${dir}/yarn.lock`);
    install = ['corepack enable', 'yarn install --immutable'];
    runScript = (s) => `yarn run ${s}`;
  } else {
    if (has('package-lock.json')) detectedFrom.push(`${dir}/package-lock.json`);
    // npm ci needs the lock file; without one, npm install is all there is.
    install = [has('package-lock.json') ? 'npm ci' : 'npm install'];
    runScript = (s) => `npm run ${s}`;
  }
  const present = (names: string[]) => names.filter((n) => typeof scripts[n] === 'string' && !(n === 'test' && NPM_DEFAULT_TEST.test(scripts[n]!)));
  return {
    dir,
    detectedFrom,
    install,
    lint: present(['lint', 'typecheck', 'type-check', 'format:check']).map(runScript),
    // A production build is a check too: Next.js type-checks and lints while it builds.
    test: [...present(['test:ci', 'test']).slice(0, 1), ...present(['build'])].map(runScript),
  };
}

export function detectAppCi(root: string): AppCi {
  return { backend: detectBackend(root), frontend: detectFrontend(root) };
}
