// Real brokers for the Dapr component suites, on 127.0.0.1 only:
// - Apache Kafka (KRaft, one node) with a SASL_SSL listener, SCRAM-SHA-256 and SCRAM-SHA-512 users
//   and the topic task-events: the shape of Redpanda Cloud's Kafka API;
// - PostgreSQL with SSL on, password (SCRAM) auth, and plain-text connections refused, so the
//   state store's sslmode=require is what makes it connect.
// Both share one throwaway CA. The installs (Kafka's jars from Maven Central through Maven,
// PostgreSQL from Debian) are cached under .cache/ and happen once; each start is a fresh data
// directory in the OS temp folder, removed by stop().
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLocalPort } from '../../scripts/lib/ports.ts';
import { repoRoot, withLock } from './tools.ts';

export { freeLocalPort as freePort };

/**
 * A broker process started in its own process group: its output collected for error messages, and a
 * stop() that ends the group with `signal` (each broker's clean-shutdown signal) and removes `dir`.
 */
function supervise(child: ChildProcess, dir: string, signal: NodeJS.Signals): { log: () => string; stop: () => Promise<void> } {
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  return {
    log: () => out,
    stop: async () => {
      if (child.exitCode === null) {
        try { process.kill(-child.pid!, signal); } catch { /* gone */ }
        await new Promise((r) => child.once('close', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Kafka 4.x from Maven Central: the newest 4.x release when this was written. */
export const KAFKA_VERSION = '4.4.0';
const kafkaDir = join(repoRoot, '.cache', 'kafka', KAFKA_VERSION);

function portOpen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const c = connect({ host: '127.0.0.1', port });
    c.once('connect', () => { c.destroy(); done(true); });
    c.once('error', () => done(false));
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, child: ChildProcess, log: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode} before it was ready:\n${log().slice(-4000)}`);
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} not ready after ${timeoutMs / 1000}s:\n${log().slice(-4000)}`);
}

function has(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** apt-get install, for the machines the README names (Debian, as root); anything else is told what to install. */
function aptInstall(packages: string[], why: string): void {
  if (process.getuid?.() !== 0 || !has('apt-get')) throw new Error(`${why}: install ${packages.join(' ')} (Debian: apt-get install -y ${packages.join(' ')})`);
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
  execFileSync('apt-get', ['install', '-y', '-qq', ...packages], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

// ---------- TLS ----------

export interface Tls { dir: string; caPem: string; certPem: string; keyPem: string }

/** A CA and a server certificate for 127.0.0.1/localhost signed by it (openssl, 1 day). */
export function makeTls(dir: string): Tls {
  mkdirSync(dir, { recursive: true });
  const f = (n: string) => join(dir, n);
  const ssl = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '1', '-subj', '/CN=aks-todo-ops test CA']);
  // PKCS#8 (-nodes on a new key writes PKCS#8): the form Kafka's PEM key store reads.
  ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost']);
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  ssl(['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.pem'), '-days', '1', '-extfile', f('san.ext')]);
  return { dir, caPem: f('ca.pem'), certPem: f('server.pem'), keyPem: f('server.key') };
}

// ---------- Kafka ----------

/** Folder of Kafka's jars (the broker, its tools and their runtime dependencies), resolved by Maven once. */
export function ensureKafka(): string {
  const libs = join(kafkaDir, 'libs');
  const marker = join(kafkaDir, '.complete');
  if (existsSync(marker)) return libs;
  return withLock(`kafka-${KAFKA_VERSION}`, () => {
    if (existsSync(marker)) return libs;
    if (!has('java')) aptInstall(['openjdk-17-jre-headless'], 'Kafka needs Java');
    if (!has('mvn')) aptInstall(['maven'], 'fetching Kafka from Maven Central needs Maven');
    const tmp = `${kafkaDir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const dep = (g: string, a: string, v: string) => `<dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`;
    writeFileSync(join(tmp, 'pom.xml'), [
      '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>',
      '<groupId>local</groupId><artifactId>kafka-broker</artifactId><version>1</version><packaging>pom</packaging><dependencies>',
      // kafka_2.13: the broker and the storage tool; kafka-tools: the topic command.
      dep('org.apache.kafka', 'kafka_2.13', KAFKA_VERSION),
      dep('org.apache.kafka', 'kafka-tools', KAFKA_VERSION),
      '</dependencies></project>',
    ].join('\n'));
    // A repository of its own, so a user's ~/.m2 settings or mirrors do not change what is fetched.
    execFileSync('mvn', ['-q', '-B', `-Dmaven.repo.local=${join(repoRoot, '.cache', 'm2')}`, 'dependency:copy-dependencies', `-DoutputDirectory=${join(tmp, 'libs')}`, '-DincludeScope=runtime'], {
      cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (!readdirSync(join(tmp, 'libs')).some((j) => j.startsWith(`kafka_2.13-${KAFKA_VERSION}`))) throw new Error(`Maven did not fetch kafka_2.13-${KAFKA_VERSION}.jar`);
    writeFileSync(join(tmp, '.complete'), '');
    rmSync(kafkaDir, { recursive: true, force: true });
    mkdirSync(join(kafkaDir, '..'), { recursive: true });
    renameSync(tmp, kafkaDir);
    return libs;
  });
}

export interface ScramUser { mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; username: string; password: string }

export interface Kafka {
  /** host:port of the SASL_SSL listener. */
  bootstrap: string;
  /** A plain-text listener on 127.0.0.1 for the broker's own and the fixture's admin traffic only. */
  internal: string;
  tls: Tls;
  sha256: ScramUser;
  sha512: ScramUser;
  topic: string;
  log: () => string;
  stop: () => Promise<void>;
}

function java(libs: string, main: string, args: string[], opts: { detached?: boolean } = {}): ChildProcess {
  return spawn('java', ['-Xms128m', '-Xmx512m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-cp', `${libs}/*`, main, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'], detached: opts.detached ?? false,
  });
}

function runJava(libs: string, main: string, args: string[]): Promise<string> {
  return new Promise((done, fail) => {
    const c = java(libs, main, args);
    let out = '';
    c.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    c.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    c.on('close', (code) => (code === 0 ? done(out) : fail(new Error(`${main} exited ${code}:\n${out}`))));
  });
}

/** Formats and starts a one-node KRaft broker with SASL_SSL + SCRAM, and creates the topic. */
export async function startKafka(tls: Tls, topic = 'task-events'): Promise<Kafka> {
  const libs = ensureKafka();
  const dir = mkdtempSync(join(tmpdir(), 'kafka-'));
  const [port, internalPort, controllerPort] = [await freeLocalPort(), await freeLocalPort(), await freeLocalPort()];
  // Throwaway credentials of this broker only; they exist while the test runs.
  const sha256: ScramUser = { mechanism: 'SCRAM-SHA-256', username: 'todo-256', password: randomBytes(12).toString('hex') };
  const sha512: ScramUser = { mechanism: 'SCRAM-SHA-512', username: 'todo-512', password: randomBytes(12).toString('hex') };
  const scramJaas = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
  const props = [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=SASL_SSL://127.0.0.1:${port},INTERNAL://127.0.0.1:${internalPort},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=SASL_SSL://127.0.0.1:${port},INTERNAL://127.0.0.1:${internalPort}`,
    'listener.security.protocol.map=SASL_SSL:SASL_SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=INTERNAL',
    'sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512',
    `listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=${scramJaas}`,
    `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=${scramJaas}`,
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${join(dir, 'keystore.pem')}`,
    `log.dirs=${join(dir, 'data')}`,
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    // Like Redpanda Cloud as the plan uses it: topics are created on purpose, not by a typo.
    'auto.create.topics.enable=false',
  ];
  // Kafka's PEM key store wants the private key and the certificate in one file.
  execFileSync('sh', ['-c', 'cat "$1" "$2" > "$3"', 'sh', tls.keyPem, tls.certPem, join(dir, 'keystore.pem')]);
  writeFileSync(join(dir, 'server.properties'), props.join('\n') + '\n');
  // The SCRAM users go in at format time, as Kafka documents for KRaft. Their passwords are on this
  // java command line: throwaway values of a broker that lives for one suite, not anyone's secret.
  await runJava(libs, 'kafka.tools.StorageTool', [
    'format', '-t', 'YaN1T8rGT0WmFqkYPvy5Ow', '-c', join(dir, 'server.properties'), '--ignore-formatted',
    '--add-scram', `${sha256.mechanism}=[name=${sha256.username},password=${sha256.password}]`,
    '--add-scram', `${sha512.mechanism}=[name=${sha512.username},password=${sha512.password}]`,
  ]);
  const child = java(libs, 'kafka.Kafka', [join(dir, 'server.properties')], { detached: true });
  const { log, stop } = supervise(child, dir, 'SIGKILL');
  try {
    await waitFor('Kafka', async () => (await portOpen(port)) && (await portOpen(internalPort)), child, log, 120_000);
    await runJava(libs, 'org.apache.kafka.tools.TopicCommand', ['--bootstrap-server', `127.0.0.1:${internalPort}`, '--create', '--topic', topic, '--partitions', '1', '--replication-factor', '1']);
  } catch (e) {
    await stop();
    throw e;
  }
  return { bootstrap: `127.0.0.1:${port}`, internal: `127.0.0.1:${internalPort}`, tls, sha256, sha512, topic, log, stop };
}

// ---------- PostgreSQL ----------

/** Directory of PostgreSQL's server binaries (initdb, postgres), installed from Debian if missing. */
export function ensurePostgres(): string {
  const find = () => {
    const base = '/usr/lib/postgresql';
    if (!existsSync(base)) return undefined;
    const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a));
    return versions[0] ? join(base, versions[0], 'bin') : undefined;
  };
  const found = find();
  if (found) return found;
  return withLock('postgresql', () => {
    const again = find();
    if (again) return again;
    aptInstall(['postgresql'], 'the state store tests need a PostgreSQL server');
    const bin = find();
    if (!bin) throw new Error('apt-get installed postgresql but no /usr/lib/postgresql/*/bin/postgres was found');
    return bin;
  });
}

export interface Postgres {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** The connection string the state store gets, with sslmode=require. */
  connectionString: string;
  log: () => string;
  stop: () => Promise<void>;
}

/** initdb + postgres with ssl=on, scram-sha-256 over TLS only (hostnossl rejected). */
export async function startPostgres(tls: Tls): Promise<Postgres> {
  const bin = ensurePostgres();
  const dir = mkdtempSync(join(tmpdir(), 'pg-'));
  const port = await freeLocalPort();
  const user = 'todo';
  const database = 'todo';
  const password = randomBytes(12).toString('hex');
  // PostgreSQL refuses to run as root: as root (CI, this project's machines) it runs as the
  // `postgres` user that Debian's package creates.
  const root = process.getuid?.() === 0;
  const asUser = (cmd: string, args: string[]) => (root ? { cmd: 'setpriv', args: ['--reuid=postgres', '--regid=postgres', '--init-groups', cmd, ...args] } : { cmd, args });
  const data = join(dir, 'data');
  writeFileSync(join(dir, 'pw'), `${password}\n`);
  for (const f of ['server.pem', 'server.key']) execFileSync('cp', [join(tls.dir, f), join(dir, f)]);
  chmodSync(join(dir, 'server.key'), 0o600);
  if (root) {
    chmodSync(dir, 0o755);
    for (const f of ['', 'pw', 'server.pem', 'server.key']) chownSync(join(dir, f), Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  }
  const init = asUser(join(bin, 'initdb'), ['-D', data, '-U', user, '--pwfile', join(dir, 'pw'), '--auth=scram-sha-256', '-E', 'UTF8', '--no-sync']);
  execFileSync(init.cmd, init.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  rmSync(join(dir, 'pw'), { force: true });
  // Only TLS connections with a password: a client that does not require SSL is refused.
  const hba = asUser('sh', ['-c', `printf '%s\\n' 'hostssl all all 127.0.0.1/32 scram-sha-256' 'hostnossl all all 127.0.0.1/32 reject' > "${join(data, 'pg_hba.conf')}"`]);
  execFileSync(hba.cmd, hba.args);
  const server = asUser(join(bin, 'postgres'), [
    '-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', dir,
    '-c', 'ssl=on', '-c', `ssl_cert_file=${join(dir, 'server.pem')}`, '-c', `ssl_key_file=${join(dir, 'server.key')}`,
    '-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'shared_buffers=16MB',
  ]);
  const child = spawn(server.cmd, server.args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const { log, stop } = supervise(child, dir, 'SIGINT');
  try {
    await waitFor('PostgreSQL', async () => /database system is ready to accept connections/.test(log()), child, log, 60_000);
    // Over TCP and TLS like every client; the password travels in the environment, not in argv.
    execFileSync(join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', user, database], {
      env: { ...process.env, PGPASSWORD: password, PGSSLMODE: 'require' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    host: '127.0.0.1', port, user, password, database,
    connectionString: `host=127.0.0.1 port=${port} user=${user} password=${password} dbname=${database} sslmode=require`,
    log,
    stop,
  };
}
