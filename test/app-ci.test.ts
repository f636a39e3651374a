// app-ci.mts on sample app layouts (test/fixtures/app*): the commands ci.yml runs come from the
// app's own files. Runs the real script; it reads files only, so no fake is involved.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { FakeWorld } from './support/harness.ts';
import { repoRoot } from './support/tools.ts';

const fixtures = join(repoRoot, 'test', 'fixtures');
interface Part { dir: string; detectedFrom: string[]; install: string[]; lint: string[]; test: string[] }

async function detect(layout: string): Promise<{ code: number; backend: Part | null; frontend: Part | null; stdout: string }> {
  const r = await new FakeWorld().run('app-ci', ['--root', join(fixtures, layout), '--json']);
  const doc = JSON.parse(r.stdout) as { backend: Part | null; frontend: Part | null };
  return { code: r.code, backend: doc.backend, frontend: doc.frontend, stdout: r.stdout };
}

test('the README\'s layout (uv + pytest + ruff + mypy; npm scripts): each tool the app declares, nothing it does not', async () => {
  const r = await detect('app');
  assert.is(r.code, 0);
  assert.equal(r.backend, {
    dir: 'backend',
    detectedFrom: ['backend/pyproject.toml', 'backend/uv.lock'],
    install: ['pipx install uv', 'uv sync --frozen --all-extras --all-groups'],
    lint: ['uv run ruff check .', 'uv run mypy .'],
    test: ['uv run pytest'],
  });
  assert.equal(r.frontend, {
    dir: 'frontend',
    detectedFrom: ['frontend/package.json', 'frontend/package-lock.json'],
    install: ['npm ci'],
    lint: ['npm run lint', 'npm run typecheck'],
    test: ['npm run test', 'npm run build'],
  });
});

test('Poetry with pytest only: no linter invented; npm\'s placeholder test script and a missing lock file are respected', async () => {
  const poetry = await detect('app-poetry');
  assert.equal(poetry.backend?.install, ['pipx install poetry', 'poetry install --no-interaction --all-extras']);
  assert.equal(poetry.backend?.lint, []);
  assert.equal(poetry.backend?.test, ['poetry run pytest']);
  assert.is(poetry.frontend, null);
  const bare = await detect('app-bare');
  assert.is(bare.backend, null);
  assert.equal(bare.frontend?.install, ['npm install']);
  assert.equal(bare.frontend?.lint, []);
  assert.equal(bare.frontend?.test, ['npm run build'], 'the "no test specified" placeholder is not a test');
});

test('no app yet: both parts null, exit 0, and the human output says so', async () => {
  const r = await detect('k6');
  assert.is(r.code, 0);
  assert.is(r.backend, null);
  assert.is(r.frontend, null);
  const human = await new FakeWorld().run('app-ci', ['--root', join(fixtures, 'k6')]);
  assert.match(human.stdout, /app-ci: no backend\/ or frontend\/ yet: nothing to test/);
  assert.match(human.stdout, /backend: none \(no backend\/pyproject\.toml\)/);
});

test.run();
