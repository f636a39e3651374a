// The checkov cache (test/support/checkov.ts): the same inputs (wherever they lie) give the stored
// verdict without a scan, with this run's paths in it; a changed input, argument or version scans again.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkov, checkovCacheDir, checkovKey } from './support/checkov.ts';

const work = mkdtempSync(join(tmpdir(), 'checkov-cache-'));
const keys: string[] = [];
const pod = (image: string) => `# ${randomUUID()}\napiVersion: v1\nkind: Pod\nmetadata:\n  name: demo\nspec:\n  containers:\n    - name: app\n      image: ${image}\n`;

test('the key depends on every input byte, the arguments and the checkov version, not on where the inputs lie', () => {
  const a = join(work, 'a');
  const b = join(work, 'b');
  mkdirSync(a);
  writeFileSync(join(a, 'pod.yaml'), 'kind: Pod\n');
  cpSync(a, b, { recursive: true });
  const args = (dir: string) => ['-d', dir, '--framework', 'kubernetes', '-o', 'json'];
  assert.is(checkovKey(args(a)), checkovKey(args(b)), 'same content elsewhere: same key');
  assert.is.not(checkovKey(args(a)), checkovKey(['-d', a, '--framework', 'secrets', '-o', 'json']), 'other arguments');
  writeFileSync(join(b, 'pod.yaml'), 'kind: Pod \n');
  assert.is.not(checkovKey(args(a)), checkovKey(args(b)), 'one byte changed');
  writeFileSync(join(b, 'pod.yaml'), 'kind: Pod\n');
  writeFileSync(join(b, 'extra.yaml'), '');
  assert.is.not(checkovKey(args(a)), checkovKey(args(b)), 'a file added');
  assert.match(readFileSync(new URL('./support/checkov.ts', import.meta.url), 'utf8'), /checkov: CHECKOV_VERSION/);
});

test('a scan is stored; the same content in another place is answered from the cache with that place\'s paths; a change scans again', () => {
  const first = join(work, 'first.yaml');
  const copy = join(work, 'copy-of-first.yaml');
  writeFileSync(first, pod('nginx:latest'));
  cpSync(first, copy);
  const args = (f: string) => ['-f', f, '--framework', 'kubernetes', '-o', 'json'];
  keys.push(checkovKey([...args(first), '--skip-download']));

  const scanned = checkov(args(first));
  assert.is(scanned.cached, false);
  assert.is(scanned.status, 1, 'a pod with :latest and no limits fails checks');
  assert.ok(scanned.stdout.includes(first));

  const again = checkov(args(copy));
  assert.is(again.cached, true, 'same content: from the cache');
  assert.is(again.status, scanned.status);
  assert.ok(again.stdout.includes(copy) && !again.stdout.includes(first), 'the report names this run\'s file');
  assert.equal(JSON.parse(again.stdout.split(copy).join(first)), JSON.parse(scanned.stdout));

  writeFileSync(copy, readFileSync(copy, 'utf8').replace('nginx:latest', 'nginx:1.27.2'));
  keys.push(checkovKey([...args(copy), '--skip-download']));
  const changed = checkov(args(copy));
  assert.is(changed.cached, false, 'changed content: scanned again');
  const failedIds = (run: typeof scanned) => ((JSON.parse(run.stdout) as { results: { failed_checks: Array<{ check_id: string }> } }).results.failed_checks).map((c) => c.check_id);
  assert.ok(failedIds(scanned).includes('CKV_K8S_14'), 'image tag :latest flagged');
  assert.not.ok(failedIds(changed).includes('CKV_K8S_14'), 'a pinned tag is not');
});

test.after(() => {
  rmSync(work, { recursive: true, force: true });
  // The two scans of random content would never be read again.
  for (const k of keys) rmSync(join(checkovCacheDir, `${k}.json`), { force: true });
});

test.run();
