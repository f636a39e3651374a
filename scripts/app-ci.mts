#!/usr/bin/env -S npx zx
// app-ci: prints the app's own install, lint and test commands, detected from backend/pyproject.toml
// and frontend/package.json; ci.yml runs what it prints. Reads files only.
import { runMain } from './lib/main.ts';
import type { ScriptSpec } from './lib/flags.ts';
import { detectAppCi } from './lib/app-ci.ts';
import type { AppPart } from './lib/app-ci.ts';

export const spec: ScriptSpec = {
  name: 'app-ci',
  summary: "print the backend's and frontend's install, lint and test commands, detected from the app's own files",
  description: [
    'backend/: pyproject.toml (pytest, ruff, mypy as tables or dependencies) and its lock file (uv, Poetry, else pip).',
    'frontend/: package.json scripts (lint, typecheck, test, build) and its lock file (npm, pnpm, yarn).',
    'A part without its file is left out (null in --json). Runs nothing and changes nothing; --dry-run and --yes change nothing either.',
  ].join('\n'),
  flags: [
    { name: 'root', type: 'string', value: 'DIR', description: 'the folder holding backend/ and frontend/ (default: the repository root)' },
  ],
  examples: ['npx zx scripts/app-ci.mts', 'npx zx scripts/app-ci.mts --json'],
};

await runMain(spec, async ({ root, flags, log }) => {
  const found = detectAppCi(flags.string('root') ?? root);
  const show = (name: string, part: AppPart | null) => {
    if (!part) { log.info(`${name}: none (no ${name}/${name === 'backend' ? 'pyproject.toml' : 'package.json'})`); return; }
    log.info(`${name}: ${part.dir}/, from ${part.detectedFrom.join(', ')}`);
    for (const [kind, cmds] of [['install', part.install], ['lint', part.lint], ['test', part.test]] as const) {
      for (const c of cmds) log.info(`  ${kind.padEnd(7)} ${c}`);
      if (!cmds.length) log.info(`  ${kind.padEnd(7)} (none detected)`);
    }
  };
  show('backend', found.backend);
  show('frontend', found.frontend);
  const parts = [found.backend && 'backend', found.frontend && 'frontend'].filter(Boolean);
  return {
    summary: parts.length
      ? `app-ci: ${parts.join(' and ')} found; ${[found.backend, found.frontend].reduce((n, p) => n + (p ? p.lint.length + p.test.length : 0), 0)} lint and test commands`
      : 'app-ci: no backend/ or frontend/ yet: nothing to test',
    result: { backend: found.backend, frontend: found.frontend },
  };
});
