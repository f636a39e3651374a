// checkov (pinned, from PyPI, in .cache/tools) over bicep/: no failed check unless an inline skip
// gives the reason. checkov 3.3.30 honours `// checkov:skip=CKV_AZURE_NN: reason` only inside the
// resource's line range (first lines of the body, or the declaration line); a comment above the
// `resource` line is ignored, which the last test shows.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bicepDir, commentsIn, listBicepFiles, parseBicepFile, resources } from './support/bicep.ts';
import { checkov } from './support/checkov.ts';

interface CheckovCheck {
  check_id: string;
  resource: string;
  file_path: string;
  check_result: { result: string; suppress_comment?: string };
}

interface CheckovReport {
  check_type: string;
  results: { passed_checks?: CheckovCheck[]; failed_checks?: CheckovCheck[]; skipped_checks?: CheckovCheck[]; parsing_errors?: string[] };
  summary: { passed: number; failed: number; skipped: number; parsing_errors: number; resource_count: number };
}

function runCheckov(dir: string): CheckovReport {
  // Exit 1 means a check failed; the report is on stdout either way. Cached by content (test/support/checkov.ts).
  const r = checkov(['-d', dir, '--framework', 'bicep', '--output', 'json', '--compact']);
  if ((r.status !== 0 && r.status !== 1) || !r.stdout) throw new Error(`checkov failed (exit ${r.status}): ${r.stderr}`);
  const parsed = JSON.parse(r.stdout) as CheckovReport | CheckovReport[];
  const report = Array.isArray(parsed) ? parsed.find((x) => x.check_type === 'bicep') : parsed;
  if (!report) throw new Error('checkov printed no bicep report');
  return report;
}

const describe = (c: CheckovCheck) => `${c.check_id} ${c.resource} (${c.file_path})`;

let report: CheckovReport | undefined;
const bicepReport = (): CheckovReport => (report ??= runCheckov(bicepDir));

test('checkov parses every Bicep file and finds the resources', () => {
  const r = bicepReport();
  assert.equal(r.results.parsing_errors ?? [], []);
  assert.ok(r.summary.resource_count >= 20, `resource_count ${r.summary.resource_count}`);
  assert.ok(r.summary.passed > 0, 'some checks ran and passed');
});

test('checkov: no failed check', () => {
  const failed = (bicepReport().results.failed_checks ?? []).map(describe);
  assert.equal(failed, []);
});

test('checkov: every skipped check carries a reason', () => {
  const skipped = bicepReport().results.skipped_checks ?? [];
  assert.ok(skipped.length > 0, 'the known trade-offs are skipped explicitly');
  const unexplained = skipped.filter((c) => (c.check_result.suppress_comment ?? '').trim().length < 20).map(describe);
  assert.equal(unexplained, []);
});

test('every checkov:skip comment in bicep/ suppresses a check checkov actually evaluated (no stale skips)', async () => {
  const skippedIds = new Set((bicepReport().results.skipped_checks ?? []).map((c) => `${c.check_id} ${c.resource}`));
  const stale: string[] = [];
  const found = new Set<string>();
  for (const f of listBicepFiles('.bicep')) {
    const parsed = await parseBicepFile(f);
    for (const r of resources(parsed)) {
      for (const comment of commentsIn(r.node)) {
        const m = /checkov:skip=(CKV2?_[A-Z]+_\d+)/.exec(comment);
        if (!m) continue;
        found.add(`${m[1]} ${r.type}.${r.symbol}`);
        if (!skippedIds.has(`${m[1]} ${r.type}.${r.symbol}`)) stale.push(`${m[1]} on ${r.symbol} in ${f}`);
      }
    }
  }
  // The walk must see the skips at all, or "no stale skip" holds vacuously: every skip checkov honoured is one found here.
  assert.equal([...skippedIds].filter((id) => !found.has(id)), [], 'skips checkov honoured that the comment walk did not find');
  assert.ok(found.size > 0);
  assert.equal(stale, []);
});

test('mutation: without its inline skip (or with the skip above the resource) a check fails', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bicep-checkov-'));
  try {
    cpSync(bicepDir, dir, { recursive: true });
    const acr = join(dir, 'modules', 'acr.bicep');
    const source = readFileSync(acr, 'utf8');
    const skipLine = source.split('\n').find((l) => l.includes('checkov:skip=CKV_AZURE_139'));
    assert.ok(skipLine, 'acr.bicep skips CKV_AZURE_139');
    // Move the skip from inside the body to the line above `resource registry ...`.
    const moved = source.replace(`${skipLine}\n`, '').replace(/^resource registry /m, `${skipLine.trim()}\nresource registry `);
    writeFileSync(acr, moved);
    const failed = (runCheckov(dir).results.failed_checks ?? []).map((c) => c.check_id);
    assert.equal(failed, ['CKV_AZURE_139']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
