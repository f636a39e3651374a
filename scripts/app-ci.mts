#!/usr/bin/env -S npx zx
// app-ci: prints the app's own install, lint and test commands, detected from backend/pyproject.toml
// and frontend/package.json; ci.yml runs what it prints. Reads files only. lib/flows/app-ci.ts.
import { runMain } from './lib/main.ts';
import type { ScriptSpec } from './lib/flags.ts';
import { printAppCi } from './lib/flows/app-ci.ts';

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

await runMain(spec, (ctx) => {
  const root = ctx.flags.string('root');
  return printAppCi(ctx, root !== undefined ? { root } : {});
});
