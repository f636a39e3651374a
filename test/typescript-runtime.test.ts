// How the project's TypeScript runs: Node's own type stripping where the Node has it (22.18+, 24: the
// suites' Node, support/tools.ts), else the tsx loader, as `.npmrc` gives `npx zx`. Every file must run
// both ways, so no file may use syntax that stripping cannot erase (tsconfig.json: erasableSyntaxOnly).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as nodeModule from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { typeScriptArgs } from '../scripts/lib/typescript-runtime.ts';
import { repoRoot } from './support/tools.ts';

test('a Node that strips types runs a file as it is; an older one loads tsx first', () => {
  assert.equal(typeScriptArgs({ typescript: 'strip' }), []);
  assert.equal(typeScriptArgs({ typescript: 'transform' }), []);
  assert.equal(typeScriptArgs({}), ['--import', 'tsx']);
});

const tsFiles = (dir: string): string[] => readdirSync(dir, { withFileTypes: true, recursive: true })
  .filter((e) => e.isFile() && /\.m?ts$/.test(e.name) && !e.name.endsWith('.d.ts'))
  .map((e) => join(e.parentPath, e.name));

test('every script, library and test file is erasable TypeScript: Node\'s own stripper takes each one', () => {
  // module.stripTypeScriptTypes is Node 22.13+; an older Node runs the suites with tsx and skips this.
  const strip = (nodeModule as { stripTypeScriptTypes?: (code: string) => string }).stripTypeScriptTypes;
  if (!strip) {
    // Only a Node without type stripping runs the suites without it (with tsx): nothing to check then.
    assert.ok(typeScriptArgs().length > 0, 'this Node strips types but has no stripTypeScriptTypes');
    return;
  }
  const files = [...tsFiles(join(repoRoot, 'scripts')), ...tsFiles(join(repoRoot, 'test')), ...tsFiles(join(repoRoot, 'bench'))];
  assert.ok(files.length > 50, `only ${files.length} files found`);
  const refused = files.flatMap((f) => {
    try { strip(readFileSync(f, 'utf8')); return []; } catch (e) { return [`${relative(repoRoot, f)}: ${(e as Error).message.split('\n')[0]}`]; }
  });
  assert.equal(refused, []);
  // And the check itself bites: a parameter property is refused.
  assert.throws(() => strip('class A { constructor(private readonly x: number) {} }'), /parameter propert/i);
});

test.run();
