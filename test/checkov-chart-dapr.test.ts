// checkov (pinned, from test/support/tools.ts) over the rendered chart and dapr/: no failed check,
// and every skipped check carries its reason inline.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './support/tools.ts';
import { checkov } from './support/checkov.ts';
import { hostArgs, productionValuesFile, render, tagArgs, valuesFile } from './helm-render.ts';

interface Check { check_id: string; resource: string; file_path: string; check_result: { result: string; suppress_comment?: string } }
interface Report { check_type: string; results: { passed_checks?: Check[]; failed_checks?: Check[]; skipped_checks?: Check[] }; summary: { passed: number; failed: number; skipped: number; resource_count: number } }

function scan(args: string[]): Report[] {
  // Offline (--skip-download) and cached by content (test/support/checkov.ts). Exit 1 means failed checks; we read the JSON either way.
  const r = checkov([...args, '-o', 'json']);
  assert.ok(r.status === 0 || r.status === 1, `checkov exited ${r.status}: ${r.stderr}`);
  const parsed = JSON.parse(r.stdout) as Report | Report[] | { passed: number; failed: number };
  if (Array.isArray(parsed)) return parsed;
  return 'results' in parsed ? [parsed] : [];
}

const failures = (reports: Report[]) => reports.flatMap((r) => (r.results.failed_checks ?? []).map((c) => `${c.check_id} ${c.resource} (${c.file_path})`));

const work = mkdtempSync(join(tmpdir(), 'checkov-chart-'));
const renderedDefault = join(work, 'rendered-default.yaml');
const renderedProduction = join(work, 'rendered-production.yaml');
writeFileSync(renderedDefault, render(3, [valuesFile]).text);
writeFileSync(renderedProduction, render(3, [valuesFile, productionValuesFile], [...tagArgs, ...hostArgs]).text);

test('checkov: the rendered chart (default and production values) has no failed Kubernetes check', () => {
  const reports = scan(['-f', renderedDefault, '-f', renderedProduction, '--framework', 'kubernetes']);
  assert.ok(reports.length > 0, 'checkov reported nothing');
  assert.equal(failures(reports), []);
  const passed = reports.reduce((n, r) => n + r.summary.passed, 0);
  assert.ok(passed > 200, `only ${passed} checks passed: did checkov parse the chart?`);
  const skipped = reports.flatMap((r) => r.results.skipped_checks ?? []);
  assert.ok(skipped.length > 0);
  for (const s of skipped) assert.ok((s.check_result.suppress_comment ?? '').length > 20, `${s.check_id} on ${s.resource} is skipped without a reason`);
});

test('checkov: CKV_K8S_21 (default namespace) passes on the rendered chart without a skip, and fails when rendered into default', () => {
  const reports = scan(['-f', renderedProduction, '--framework', 'kubernetes', '--check', 'CKV_K8S_21']);
  const passed = reports.flatMap((r) => r.results.passed_checks ?? []).filter((c) => c.check_id === 'CKV_K8S_21');
  assert.ok(passed.length >= 8, `CKV_K8S_21 passed on ${passed.length} objects`);
  assert.equal(reports.flatMap((r) => r.results.skipped_checks ?? []).filter((c) => c.check_id === 'CKV_K8S_21').map((c) => c.resource), []);
  const inDefault = join(work, 'rendered-in-default.yaml');
  writeFileSync(inDefault, render(3, [valuesFile, productionValuesFile], [...tagArgs, ...hostArgs], 'default').text);
  const ids = failures(scan(['-f', inDefault, '--framework', 'kubernetes', '--check', 'CKV_K8S_21']));
  assert.ok(ids.length >= 8 && ids.every((f) => f.startsWith('CKV_K8S_21 ')), ids.join('\n'));
});

test('checkov: a container made privileged fails, so the scan is not vacuous', () => {
  const broken = join(work, 'broken.yaml');
  writeFileSync(broken, readFileSync(renderedDefault, 'utf8').replace('privileged: false', 'privileged: true'));
  const ids = failures(scan(['-f', broken, '--framework', 'kubernetes']));
  assert.ok(ids.some((f) => f.startsWith('CKV_K8S_16 ')), ids.join('\n'));
});

test('checkov: dapr/ has no failed check and every skip has a reason', () => {
  const reports = scan(['-d', join(repoRoot, 'dapr'), '--framework', 'kubernetes', 'secrets']);
  assert.equal(failures(reports), []);
  for (const s of reports.flatMap((r) => r.results.skipped_checks ?? [])) {
    assert.ok((s.check_result.suppress_comment ?? '').length > 20, `${s.check_id} in ${s.file_path} is skipped without a reason`);
  }
});

test('checkov: the dapr/ scan is live: without its inline skip, the same finding fails', () => {
  const copy = join(work, 'dapr');
  cpSync(join(repoRoot, 'dapr'), copy, { recursive: true });
  const file = join(copy, 'components', 'pubsub-kafka.yaml');
  const text = readFileSync(file, 'utf8');
  assert.match(text, /# checkov:skip=CKV_SECRET_6:/);
  writeFileSync(file, text.replace(/^\s*# checkov:skip=CKV_SECRET_6:.*\n/m, ''));
  const ids = failures(scan(['-d', copy, '--framework', 'secrets']));
  assert.ok(ids.some((f) => f.startsWith('CKV_SECRET_6 ')), `no finding: ${ids.join('\n')}`);
  // checkov's secret scan is keyword-based and does not see a literal under a Dapr `value:` key; that is
  // why scripts/lib/dapr-components.ts refuses literal sensitive fields (test/dapr-components.test.ts).
});

// Clean-up is a hook, not a test: a "test" with nothing to assert always passes.
test.after(() => {
  rmSync(work, { recursive: true, force: true });
});

test.run();
