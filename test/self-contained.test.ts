// The repository stands on its own: no file points at a document outside it (a shapes file kept
// next to the repository, or a shared folder beside it); CLI output shapes are cited from upstream sources
// or from test/fixtures/cli-samples/README.md, and every section cited there exists.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { repoFiles } from './support/repo-files.ts';

const all = repoFiles();

test('the walk sees the repository: scripts, tests, docs, the chart and the workflows', () => {
  for (const f of ['scripts/lib/load/k6.ts', 'test/fakes/fake.mjs', 'README.md', 'test/fixtures/cli-samples/README.md']) {
    assert.ok(all.some((x) => x.path === f), f);
  }
  assert.ok(all.length > 100, `${all.length} files`);
});

test('no file mentions the outside shapes document, the team\'s notes or a shared folder beside the repository', () => {
  // Spelled in pieces so this file does not match itself.
  // The team's design and conventions notes live outside too.
  const outside = [['CLI', 'SHAPES'].join('-'), ['..', 'shared'].join('/'), ['DESIGN', 'md'].join('.'), ['CONVENTIONS', 'md'].join('.')];
  const hits = all.flatMap(({ path, text }) => text.split('\n').flatMap((line, i) =>
    outside.filter((word) => line.includes(word)).map((word) => `${path}:${i + 1}: ${word}`)));
  assert.equal(hits, []);
});

test('every cli-samples section cited exists in test/fixtures/cli-samples/README.md, and each names an upstream source', () => {
  const readme = all.find((x) => x.path === 'test/fixtures/cli-samples/README.md')!.text;
  const anchors = new Set([...readme.matchAll(/<a id="([\w-]+)"><\/a>/g)].map((m) => m[1]));
  const cited = all.flatMap(({ path, text }) => [...text.matchAll(/cli-samples\/README\.md#([\w-]+)/g)].map((m) => ({ path, anchor: m[1]! })));
  assert.ok(cited.length >= 5, `citations: ${cited.length}`);
  for (const c of cited) assert.ok(anchors.has(c.anchor), `${c.path} cites #${c.anchor}, which the README does not have`);
  // Each section carries at least one https:// source before the next one starts.
  for (const section of readme.split(/<a id="/).slice(1)) assert.match(section, /https:\/\//, section.slice(0, 60));
});

test.run();
