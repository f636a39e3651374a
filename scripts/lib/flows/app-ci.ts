// app-ci: prints the app's own install, lint and test commands, detected (../app-ci.ts) from
// backend/pyproject.toml and frontend/package.json; ci.yml runs what it prints. Reads files only.
import type { Outcome, ScriptContext } from '../main.ts';
import { detectAppCi } from '../app-ci.ts';
import type { AppPart } from '../app-ci.ts';

export interface AppCiInputs {
  /** --root: the folder holding backend/ and frontend/ (default: the repository root). */
  root?: string;
}

export async function printAppCi({ root, log }: ScriptContext, inputs: AppCiInputs): Promise<Outcome> {
  const found = detectAppCi(inputs.root ?? root);
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
}
