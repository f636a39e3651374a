// Fake az, helm, kubectl, kubelogin and k6 for offline tests. Each call is recorded (argv, stdin,
// selected env, simulated time) in $FAKE_DIR/calls.jsonl and answered from $FAKE_DIR/scenario.json:
// first the scenario's rules, in order, then the built-in stateful behaviour below (a Helm release
// history, kube objects applied from stdin, az account and providers). Output shapes follow
// the tools' own (sources in test/fixtures/cli-samples/README.md): kubectl JSON 4-space indented,
// helm JSON one compact line, az 2-space.
// Time is simulated: FAKE_TIME_SCALE real ms per simulated ms, counted from FAKE_T0, or read from
// the script's virtual clock (FAKE_CLOCK_FILE).
// Plain JavaScript so a call costs one bare node start-up.
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmdirSync, writeFileSync, writeSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join, dirname } from 'node:path';

const tool = process.argv[2];
const argv = process.argv.slice(3);
// yaml costs more start-up than node itself: loaded only by the one call that parses manifests.
const { parseAllDocuments } = tool === 'kubectl' && argv.includes('apply') ? await import('yaml') : { parseAllDocuments: undefined };
const dir = process.env.FAKE_DIR;
if (!dir) {
  process.stderr.write(`fake ${tool}: FAKE_DIR is not set\n`);
  process.exit(98);
}
// With a handler, SIGTERM waits for synchronous work (a state update holding the lock) to finish
// instead of killing the process mid-update and leaving the lock behind.
process.on('SIGTERM', () => process.exit(143));
const scale = Number(process.env.FAKE_TIME_SCALE || '1');
const t0 = Number(process.env.FAKE_T0 || Date.now());
// With FAKE_CLOCK_FILE the script's clock is virtual (scripts/lib/clock.ts, AKS_TODO_OPS_CLOCK_FILE):
// its lines `<real ms> <simulated ms>` say when the simulated time moved. A call happens at the
// simulated time in force when this process was started, however long node took to get here.
const clockFile = process.env.FAKE_CLOCK_FILE;
function virtualTimeAt(realMs) {
  let sim = 0;
  let text = '';
  try { text = readFileSync(clockFile, 'utf8'); } catch { /* not started yet: time 0 */ }
  for (const l of text.split('\n')) {
    const [real, at] = l.split(' ').map(Number);
    if (Number.isFinite(real) && Number.isFinite(at) && real <= realMs) sim = at;
  }
  return sim;
}
const startedAtSim = clockFile ? virtualTimeAt(performance.timeOrigin) : undefined;
/** Simulated ms since the run started. */
const simNow = () => (clockFile ? startedAtSim : (Date.now() - t0) / scale);
/** Waits `ms` simulated milliseconds from the start of this call. */
function simSleep(ms) {
  if (!clockFile) return new Promise((done) => setTimeout(done, ms * scale));
  // Virtual time moves only when the script sleeps: look at its clock every few real milliseconds.
  return new Promise((done) => {
    const poll = () => (virtualTimeAt(Date.now()) - startedAtSim >= ms ? done() : setTimeout(poll, 5));
    poll();
  });
}

function readStdin() {
  try {
    if (process.stdin.isTTY) return '';
    return readFileSync(0, 'utf8');
  } catch {
    return '';
  }
}

// ---------- state (locked read-modify-write) ----------
const statePath = join(dir, 'state.json');
const lockPath = join(dir, 'state.lock');
function sleepSync(ms) { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); }
function withState(fn) {
  for (let i = 0; ; i++) {
    try { mkdirSync(lockPath); break; } catch {
      if (i > 2000) { try { if (Date.now() - statSync(lockPath).mtimeMs > 5000) rmdirSync(lockPath); } catch { /* gone */ } }
      sleepSync(2);
    }
  }
  let exit;
  let result;
  try {
    const state = existsSync(statePath) ? JSON.parse(readFileSync(statePath, 'utf8')) : {};
    try {
      result = fn(state);
    } catch (e) {
      if (!(e instanceof Exit)) throw e;
      exit = e;
    }
    writeFileSync(`${statePath}.tmp`, JSON.stringify(state, null, 1));
    renameSync(`${statePath}.tmp`, statePath);
  } finally {
    rmdirSync(lockPath);
  }
  if (exit) throw exit;
  return result;
}

/** Thrown to end the call with an error after the state is saved. */
class Exit {
  constructor(code, message) { this.code = code; this.message = message; }
}

const scenario = JSON.parse(readFileSync(join(dir, 'scenario.json'), 'utf8'));
const stdin = tool === 'kubectl' || tool === 'helm' || tool === 'az' ? readStdin() : '';
const ENV_KEYS = ['KUBECONFIG', 'HELM_NAMESPACE', 'AZURE_CONFIG_DIR', 'AZURE_SUBSCRIPTION_ID', 'GITHUB_ACTIONS', 'CI', 'AZURE_KEY_VAULT_NAME'];
const env = Object.fromEntries(ENV_KEYS.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]));

appendFileSync(join(dir, 'calls.jsonl'), `${JSON.stringify({ tool, args: argv, stdin, env, t: Math.round(simNow()) })}\n`);

// ---------- output helpers ----------
// Written synchronously: process.exit() right after an asynchronous process.stdout.write() to a pipe
// drops whatever the pipe had not taken yet, which cuts a large answer (a month of App Insights
// results, ~1 MB) short. EAGAIN means the pipe is full for now: wait and write the rest.
function out(text) {
  if (!text) return;
  const buf = Buffer.from(text);
  for (let off = 0; off < buf.length;) {
    try { off += writeSync(1, buf, off); } catch (e) { if (e.code !== 'EAGAIN') throw e; sleepSync(1); }
  }
}
function err(text) { if (text) process.stderr.write(text.endsWith('\n') ? text : `${text}\n`); }
function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
}
/** JSON as each real tool prints it. */
function toolJson(value, t = tool) {
  if (t === 'kubectl') return `${JSON.stringify(sortKeys(value), null, 4)}\n`;
  if (t === 'helm') return `${JSON.stringify(value)}\n`;
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}
async function finish(respond) {
  const delay = Number(respond.delayMs || 0);
  // An asynchronous wait, so a SIGTERM from the runner's timeout ends the call at once.
  if (delay > 0) await simSleep(delay);
  for (const f of respond.files || []) {
    const path = f.path.replace(/\$\{e:([A-Z_]+)\}/g, (_, name) => kvFlag('-e', name) ?? '')
      .replace(/\$\{out:(\w+)\}/g, (_, kind) => outPath(kind) ?? '');
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, typeof f.content === 'string' ? f.content : JSON.stringify(f.content, null, 2));
  }
  if (respond.json !== undefined) out(toolJson(respond.json));
  out(respond.stdout);
  err(respond.stderr);
  process.exit(respond.exit ?? 0);
}
/** The path of k6's `--out KIND=PATH` (e.g. `--out json=points.json`). */
function outPath(kind) {
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i] === '--out' || argv[i] === '-o' ? argv[i + 1] : argv[i].startsWith('--out=') ? argv[i].slice(6) : undefined;
    if (v && v.startsWith(`${kind}=`)) return v.slice(kind.length + 1);
  }
  return undefined;
}
/** Value of `-e NAME=VALUE` style flags (k6). */
function kvFlag(flag, name) {
  for (let i = 0; i < argv.length - 1; i++) {
    if (argv[i] === flag && argv[i + 1].startsWith(`${name}=`)) return argv[i + 1].slice(name.length + 1);
  }
  return undefined;
}
function flagValue(...names) {
  for (let i = 0; i < argv.length; i++) {
    for (const n of names) {
      if (argv[i] === n) return argv[i + 1];
      if (argv[i].startsWith(`${n}=`)) return argv[i].slice(n.length + 1);
    }
  }
  return undefined;
}
const positionals = () => {
  const valueFlags = new Set(['-n', '--namespace', '-o', '--output', '-l', '--selector', '-f', '--filename', '--timeout', '--version', '--values', '-f', '--set', '--set-string', '--max', '--template', '--query', '-g', '--resource-group', '--name', '--repository', '-l', '--location', '--context', '--kube-context', '--wait-for-jobs', '-c', '--container', '--tail', '--since', '--field-selector', '--post-renderer', '--description']);
  const out_ = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('-')) { if (!a.includes('=') && valueFlags.has(a)) i++; continue; }
    out_.push(a);
  }
  return out_;
};

// ---------- rules ----------
function tokenMatches(token, arg) {
  if (token.startsWith('~')) return new RegExp(token.slice(1)).test(arg);
  return token === arg;
}
function argsMatch(tokens) {
  // every token appears in argv, in order (not necessarily adjacent)
  let i = 0;
  for (const a of argv) if (i < tokens.length && tokenMatches(tokens[i], a)) i++;
  return i === tokens.length;
}
function lastEvent(state, names) {
  const evs = (state.events || []).filter((e) => !names || names.includes(e.name));
  return evs[evs.length - 1];
}
function pickRule(state) {
  const rules = scenario.rules || [];
  for (let idx = 0; idx < rules.length; idx++) {
    const r = rules[idx];
    if (r.tool !== tool || !argsMatch(r.args || [])) continue;
    if (r.stdinIncludes && !stdin.includes(r.stdinIncludes)) continue;
    const used = (state.ruleUses && state.ruleUses[idx]) || 0;
    if (r.times !== undefined && used >= r.times) continue;
    let since = 0;
    if (r.phase) {
      const ev = r.phase === 'k6-run' ? lastEvent(state, ['k6-run']) : lastEvent(state, ['upgrade', 'install', 'rollback', 'uninstall']);
      if (!ev || ev.name !== r.phase) continue;
      since = ev.at;
    }
    let respond = r.respond;
    if (r.timeline) {
      const elapsedS = (simNow() - since) / 1000;
      const entries = r.timeline.filter((e) => e.at <= elapsedS);
      const entry = entries[entries.length - 1] || r.timeline[0];
      respond = entry.respond;
    }
    state.ruleUses = { ...(state.ruleUses || {}), [idx]: used + 1 };
    return respond;
  }
  return undefined;
}

const ruled = withState((state) => {
  // `k6 run` starts the clock of rules with phase 'k6-run' (a load test's HPA timeline).
  if (tool === 'k6' && argv[0] === 'run') state.events = [...(state.events || []), { name: 'k6-run', at: simNow() }];
  return pickRule(state);
});
if (ruled) await finish(ruled);

// ---------- built-in behaviour ----------
function notFound(msg) { throw new Exit(1, msg); }
function unmatched() {
  throw new Exit(97, `fake ${tool}: no answer in the scenario for: ${tool} ${argv.join(' ')}`);
}

function helmMajor() { return Number(String((scenario.helm && scenario.helm.version) || 'v3.17.3').replace(/^v/, '').split('.')[0]); }
const ANSIC = (d) => {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
};

function runRealHelm() {
  const real = process.env.FAKE_REAL_HELM;
  if (!real) unmatched();
  const r = spawnSync(real, argv, { input: stdin, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  out(r.stdout); if (r.stderr) process.stderr.write(r.stderr);
  process.exit(r.status ?? 1);
}

function parseSets() {
  const sets = {};
  for (let i = 0; i < argv.length; i++) {
    if ((argv[i] === '--set' || argv[i] === '--set-string') && argv[i + 1]) {
      for (const pair of argv[i + 1].split(',')) { const eq = pair.indexOf('='); sets[pair.slice(0, eq)] = pair.slice(eq + 1); }
    }
  }
  return sets;
}

function helm() {
  const pos = positionals();
  const [cmd, sub] = pos;
  const ns = flagValue('-n', '--namespace') || 'default';
  if (cmd === 'version') {
    const v = (scenario.helm && scenario.helm.version) || 'v3.17.3';
    if (argv.includes('--template')) return out(v);
    if (argv.includes('--short')) return out(`${v}+g${helmMajor() === 4 ? '05fa379' : 'e4da497'}\n`);
    return out(`version.BuildInfo{Version:"${v}", GitCommit:"e4da49785aa6e6ee2b86efd5dd9e43400318262b", GitTreeState:"clean", GoVersion:"go1.23.7"}\n`);
  }
  if (['template', 'lint', 'show', 'dependency', 'package'].includes(cmd)) return runRealHelm();
  if (cmd === 'repo' && sub === 'add') return out(`"${pos[2]}" has been added to your repositories\n`);
  if (cmd === 'repo' && sub === 'update') return out('Hang tight while we grab the latest from your chart repositories...\n...Successfully got an update from the "dapr" chart repository\nUpdate Complete. ⎈Happy Helming!⎈\n');
  if (cmd === 'search') return unmatched();

  return withState((state) => {
    state.helm = state.helm || { releases: {} };
    const releases = state.helm.releases;
    const now = () => new Date(Date.UTC(2026, 10, 25, 9, 0, 0) + simNow()).toISOString().replace('Z', '000000Z').replace(/\.(\d{3})000000Z$/, '.$1000000Z');
    const rel = (name) => releases[name];
    const current = (r) => r.history[r.history.length - 1];

    if (cmd === 'history') {
      const r = rel(pos[1]);
      if (!r) notFound('Error: release: not found');
      const max = Number(flagValue('--max') || 256);
      return out(toolJson(r.history.slice(-max).map(({ config: _c, ...h }) => h)));
    }
    if (cmd === 'status') {
      const r = rel(pos[1]);
      if (!r) notFound('Error: release: not found');
      const c = current(r);
      const info = { first_deployed: r.history[0].updated, last_deployed: c.updated, deleted: '', description: c.description, status: c.status };
      if (helmMajor() >= 4) delete info.deleted;
      return out(toolJson({ name: pos[1], info, config: c.config || {}, manifest: '---\n# Source: hackathon-todo/templates/backend-deployment.yaml\n', version: c.revision, namespace: r.namespace }));
    }
    if (cmd === 'get' && sub === 'values') {
      const r = rel(pos[2]);
      if (!r) notFound('Error: release: not found');
      return out(toolJson(current(r).config || {}));
    }
    if (cmd === 'list' || cmd === 'ls') {
      const all = argv.includes('-a') || argv.includes('--all');
      const pending = argv.includes('--pending');
      const rows = Object.entries(releases)
        .filter(([, r]) => argv.includes('-A') || argv.includes('--all-namespaces') || r.namespace === ns)
        .map(([name, r]) => ({ name, r, c: current(r) }))
        .filter(({ c }) => all || ['deployed', 'failed'].includes(c.status) || (pending && c.status.startsWith('pending-')))
        .map(({ name, r, c }) => ({ name, namespace: r.namespace, revision: String(c.revision), updated: c.updated.replace('T', ' ').replace(/Z$/, ' +0000 UTC'), status: c.status, chart: c.chart, app_version: c.app_version }));
      return out(toolJson(rows));
    }
    if (cmd === 'upgrade' || cmd === 'install') {
      const name = pos[1];
      const install = cmd === 'install' || argv.includes('--install') || argv.includes('-i');
      let r = rel(name);
      const chart = (scenario.helm && scenario.helm.chart) || 'hackathon-todo-0.1.0';
      const appVersion = (scenario.helm && scenario.helm.appVersion) || '0.1.0';
      if (r && current(r).status.startsWith('pending-')) {
        notFound(`Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress`);
      }
      if (!r && !install) notFound(`Error: UPGRADE FAILED: "${name}" has no deployed releases`);
      const firstInstall = !r;
      if (!r) { r = releases[name] = { namespace: ns, history: [] }; }
      const plan = (scenario.helm && scenario.helm.upgrades) || [];
      state.helm.upgradeCount = (state.helm.upgradeCount || 0) + 1;
      const outcome = plan[state.helm.upgradeCount - 1] || { status: 'deployed' };
      const revision = (r.history.length ? current(r).revision : 0) + 1;
      const config = parseSets();
      state.events = [...(state.events || []), { name: firstInstall ? 'install' : 'upgrade', release: name, at: simNow(), revision }];
      if (outcome.status === 'failed') {
        const reason = outcome.error || 'context deadline exceeded';
        r.history.push({ revision, updated: now(), status: 'failed', chart, app_version: appVersion, description: firstInstall ? `Release "${name}" failed: ${reason}` : `Upgrade "${name}" failed: ${reason}`, config });
        notFound(firstInstall ? `Error: ${reason}` : `Error: UPGRADE FAILED: ${reason}`);
      }
      if (outcome.status && outcome.status.startsWith('pending-')) {
        r.history.push({ revision, updated: now(), status: outcome.status, chart, app_version: appVersion, description: firstInstall ? 'Initial install underway' : 'Preparing upgrade', config });
        notFound(`Error: ${outcome.error || 'context canceled'}`);
      }
      for (const h of r.history) if (h.status === 'deployed') h.status = 'superseded';
      r.history.push({ revision, updated: now(), status: 'deployed', chart, app_version: appVersion, description: firstInstall ? 'Install complete' : 'Upgrade complete', config });
      const lines = [];
      lines.push(firstInstall ? `Release "${name}" does not exist. Installing it now.` : `Release "${name}" has been upgraded. Happy Helming!`);
      lines.push(`NAME: ${name}`, `LAST DEPLOYED: ${ANSIC(new Date())}`, `NAMESPACE: ${ns}`, 'STATUS: deployed', `REVISION: ${revision}`);
      if (helmMajor() >= 4) lines.push(`DESCRIPTION: ${firstInstall ? 'Install complete' : 'Upgrade complete'}`);
      lines.push('TEST SUITE: None');
      return out(`${lines.join('\n')}\n`);
    }
    if (cmd === 'rollback') {
      const name = pos[1];
      const r = rel(name);
      if (!r) notFound('Error: release: not found');
      const target = pos[2] === undefined || pos[2] === '0' ? current(r).revision - 1 : Number(pos[2]);
      const t = r.history.find((h) => h.revision === target);
      if (!t) notFound(`Error: release has no ${target} version`);
      const outcome = (scenario.helm && scenario.helm.rollbackOutcome) || 'deployed';
      const revision = current(r).revision + 1;
      state.events = [...(state.events || []), { name: 'rollback', release: name, at: simNow(), revision, to: target }];
      if (outcome === 'failed') {
        r.history.push({ revision, updated: now(), status: 'failed', chart: t.chart, app_version: t.app_version, description: `Rollback "${name}" failed: context deadline exceeded`, config: t.config });
        notFound('Error: release hackathon-todo failed: context deadline exceeded');
      }
      for (const h of r.history) if (h.status === 'deployed') h.status = 'superseded';
      r.history.push({ revision, updated: now(), status: 'deployed', chart: t.chart, app_version: t.app_version, description: `Rollback to ${target}`, config: t.config });
      return out('Rollback was a success! Happy Helming!\n');
    }
    if (cmd === 'uninstall' || cmd === 'delete') {
      const name = pos[1];
      if (!rel(name)) notFound(`Error: uninstall: Release not loaded: ${name}: release: not found`);
      delete releases[name];
      state.events = [...(state.events || []), { name: 'uninstall', release: name, at: simNow() }];
      return out(`release "${name}" uninstalled\n`);
    }
    return unmatched();
  });
}

// ---------- kubectl ----------
const GROUPS = { Deployment: 'apps', StatefulSet: 'apps', DaemonSet: 'apps', ReplicaSet: 'apps', HorizontalPodAutoscaler: 'autoscaling', Ingress: 'networking.k8s.io', NetworkPolicy: 'networking.k8s.io', PodDisruptionBudget: 'policy', Component: 'dapr.io', Configuration: 'dapr.io', Resiliency: 'dapr.io', CustomResourceDefinition: 'apiextensions.k8s.io' };
function objKey(kind, ns, name) { return `${kind}/${ns}/${name}`; }
function kindFromArg(a) {
  const map = { secret: 'Secret', secrets: 'Secret', namespace: 'Namespace', namespaces: 'Namespace', ns: 'Namespace', deployment: 'Deployment', deployments: 'Deployment', deploy: 'Deployment', crd: 'CustomResourceDefinition', crds: 'CustomResourceDefinition', customresourcedefinition: 'CustomResourceDefinition', customresourcedefinitions: 'CustomResourceDefinition', 'components.dapr.io': 'Component', component: 'Component', components: 'Component', 'configurations.dapr.io': 'Configuration', configuration: 'Configuration', 'resiliencies.dapr.io': 'Resiliency', resiliency: 'Resiliency' };
  return map[a.toLowerCase()];
}
const CLUSTER_SCOPED = new Set(['Namespace', 'CustomResourceDefinition']);
function kubectl() {
  const pos = positionals();
  const [verb] = pos;
  const ns = flagValue('-n', '--namespace') || 'default';
  if (verb === 'config' && pos[1] === 'current-context') {
    const ctx = withState((s) => (s.kube && s.kube.context) ?? (scenario.kube && scenario.kube.context));
    if (!ctx) notFound('error: current-context is not set');
    return out(`${ctx}\n`);
  }
  if (verb === 'version') {
    return out(`${JSON.stringify({ clientVersion: { major: '1', minor: '33', gitVersion: 'v1.33.9', gitCommit: 'a1b2c3', gitTreeState: 'clean', buildDate: '2026-03-01T00:00:00Z', goVersion: 'go1.24.11', compiler: 'gc', platform: 'linux/amd64' }, kustomizeVersion: 'v5.6.0' }, null, 2)}\n`);
  }
  return withState((state) => {
    state.kube = state.kube || {};
    if (!state.kube.objects) {
      state.kube.objects = {};
      for (const o of (scenario.kube && scenario.kube.objects) || []) {
        const k = o.kind;
        state.kube.objects[objKey(k, CLUSTER_SCOPED.has(k) ? '' : (o.metadata.namespace || 'default'), o.metadata.name)] = o;
      }
      // A namespace exists when the scenario says so, or when a seeded object lives in it.
      const seededNamespaces = Object.values(state.kube.objects).map((o) => o.metadata && o.metadata.namespace).filter(Boolean);
      for (const n of new Set([...((scenario.kube && scenario.kube.namespaces) || ['default', 'kube-system']), ...seededNamespaces])) {
        state.kube.objects[objKey('Namespace', '', n)] = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: n } };
      }
    }
    const objects = state.kube.objects;
    if (verb === 'apply') {
      if (!argv.includes('-f') && !argv.includes('--filename')) return unmatched();
      const docs = parseAllDocuments(stdin).map((d) => d.toJS()).filter(Boolean);
      const lines = [];
      for (const o of docs.flatMap((d) => (d.kind === 'List' ? d.items : [d]))) {
        const k = o.kind;
        const key = objKey(k, CLUSTER_SCOPED.has(k) ? '' : (o.metadata.namespace || ns), o.metadata.name);
        const prev = objects[key];
        const next = { ...o, metadata: { ...o.metadata, ...(CLUSTER_SCOPED.has(k) ? {} : { namespace: o.metadata.namespace || ns }) } };
        const op = !prev ? 'created' : JSON.stringify(prev) === JSON.stringify(next) ? 'unchanged' : 'configured';
        objects[key] = next;
        const group = GROUPS[k];
        lines.push(`${k.toLowerCase()}${group ? `.${group}` : ''}/${o.metadata.name} ${argv.includes('--server-side') ? 'serverside-applied' : op}`);
      }
      return out(`${lines.join('\n')}\n`);
    }
    if (verb === 'create' && pos[1] === 'namespace') {
      const key = objKey('Namespace', '', pos[2]);
      if (objects[key]) notFound(`Error from server (AlreadyExists): namespaces "${pos[2]}" already exists`);
      objects[key] = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: pos[2] } };
      return out(`namespace/${pos[2]} created\n`);
    }
    if (verb === 'rollout' && pos[1] === 'restart') {
      const target = pos[2] || '';
      const name = target.split('/')[1] || pos[3];
      state.events = [...(state.events || []), { name: 'restart', target: name, at: simNow() }];
      return out(`deployment.apps/${name} restarted\n`);
    }
    if (verb === 'rollout' && pos[1] === 'status') {
      const name = (pos[2] || '').split('/')[1] || pos[3];
      return out(`deployment "${name}" successfully rolled out\n`);
    }
    if (verb === 'get') {
      const kind = kindFromArg(pos[1] || '');
      if (!kind) return unmatched();
      const plural = { Secret: 'secrets', Namespace: 'namespaces', Deployment: 'deployments.apps', CustomResourceDefinition: 'customresourcedefinitions.apiextensions.k8s.io', Component: 'components.dapr.io', Configuration: 'configurations.dapr.io', Resiliency: 'resiliencies.dapr.io' }[kind];
      const scopeNs = CLUSTER_SCOPED.has(kind) ? '' : ns;
      const names = pos.slice(2);
      if (names.length === 0) {
        const items = Object.entries(objects).filter(([k]) => k.startsWith(`${kind}/${scopeNs}/`)).map(([, o]) => o);
        return out(toolJson({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items }));
      }
      const found = names.map((n) => objects[objKey(kind, scopeNs, n)]);
      const missing = names.filter((_, i) => !found[i]);
      if (missing.length) {
        if (argv.includes('--ignore-not-found')) return out('');
        notFound(missing.map((n) => `Error from server (NotFound): ${plural} "${n}" not found`).join('\n'));
      }
      const o = names.length === 1 ? found[0] : { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: found };
      if ((flagValue('-o', '--output') || '').startsWith('json')) return out(toolJson(o));
      // go-template of the form {{range $k, $v := .FIELD}}{{$k}}{{"\n"}}{{end}}: the keys of a map, sorted as Go ranges them (no values).
      const goRange = /^go-template=\{\{range \$\w+, \$\w+ := \.(\w+)\}\}\{\{\$\w+\}\}(?:\{\{"(.*?)"\}\}|([^{]*))\{\{end\}\}$/s.exec(flagValue('-o', '--output') || '');
      if (goRange && names.length === 1) {
        const sep = goRange[2] !== undefined ? JSON.parse(`"${goRange[2]}"`) : goRange[3];
        return out(Object.keys(found[0][goRange[1]] || {}).sort().map((k) => `${k}${sep}`).join(''));
      }
      if ((flagValue('-o', '--output') || '') === 'name') return out(names.map((n) => `${kind.toLowerCase()}/${n}`).join('\n') + '\n');
      return out(`NAME\n${names.join('\n')}\n`);
    }
    return unmatched();
  });
}

// ---------- az ----------
function az() {
  const words = argv.filter((a) => !a.startsWith('-')).slice(0, 3).join(' ');
  const azs = scenario.az || {};
  if (words.startsWith('version')) return out(toolJson({ 'azure-cli': azs.version || '2.72.0', 'azure-cli-core': azs.version || '2.72.0', 'azure-cli-telemetry': '1.1.0', extensions: {} }));
  if (words.startsWith('account show')) {
    if (!azs.account) notFound("ERROR: Please run 'az login' to setup account.");
    return out(toolJson(azs.account));
  }
  if (words.startsWith('provider show')) {
    const name = flagValue('-n', '--namespace');
    const s = (azs.providers && azs.providers[name]) || 'Registered';
    return out(argv.includes('tsv') ? `${s}\n` : `"${s}"\n`);
  }
  if (words.startsWith('vm list-usage')) {
    return out(toolJson(azs.usage || [
      { currentValue: '0', limit: '10', localName: 'Standard DSv3 Family vCPUs', unit: 'Count', name: { localizedValue: 'Standard DSv3 Family vCPUs', value: 'standardDSv3Family' } },
      { currentValue: '0', limit: '20', localName: 'Total Regional vCPUs', unit: 'Count', name: { localizedValue: 'Total Regional vCPUs', value: 'cores' } },
    ]));
  }
  if (words.startsWith('acr repository show-tags')) {
    const repo = flagValue('--repository');
    const tags = azs.tags && azs.tags[repo];
    if (!tags) notFound(`ERROR: (RepositoryNotFound) The repository '${repo}' was not found.\nCode: RepositoryNotFound\nMessage: The repository '${repo}' was not found.`);
    return out(toolJson(tags));
  }
  if (words.startsWith('aks get-credentials')) {
    const name = flagValue('-n', '--name');
    withState((s) => { s.kube = { ...(s.kube || {}), context: name }; });
    err(`WARNING: Merged "${name}" as current context in ${process.env.HOME || '/root'}/.kube/config`);
    return;
  }
  if (words.startsWith('keyvault list-deleted')) return out(toolJson(azs.deletedVaults || []));
  return unmatched();
}

function kubelogin() {
  if (argv.includes('--version')) return out('kubelogin version\ngit hash: v0.2.8/6b0c3b7b\nGo version: go1.23.4\nBuild time: 2026-01-10T00:00:00Z\nPlatform: linux/amd64\n');
  if (argv[0] === 'convert-kubeconfig') return;
  return unmatched();
}

function k6() {
  if (argv[0] === 'version') return out('k6 v1.3.0 (commit/5870e99ae8, go1.24.6, linux/amd64)\n');
  return unmatched();
}

try {
  const handler = { helm, kubectl, az, kubelogin, k6 }[tool];
  if (!handler) unmatched();
  handler();
} catch (e) {
  if (!(e instanceof Exit)) throw e;
  err(e.message);
  process.exit(e.code);
}
