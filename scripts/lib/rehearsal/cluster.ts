// A real Kubernetes control plane on loopback, started from the binaries toolchain.ts builds: etcd,
// kube-apiserver (RBAC on, client-certificate login), kube-controller-manager, kube-scheduler,
// kwok simulating the nodes and the pod lifecycle (rehearsal/kwok/stages.yaml), and metrics-server
// serving the simulated CPU usage to the HPA controller (metrics.ts). It has a kubeconfig
// of its own and never reads or writes the user's ~/.kube/config. Every process is stopped, and the
// folder removed, on stop(), on process exit, on failure and on Ctrl-C (unless kept with --keep).
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpsError } from '../errors.ts';
import { freeLocalPort } from '../ports.ts';
import { aggregatorFlags, applyKwokUsageCrds, HPA_CONTROLLER_FLAGS, KWOK_USAGE_FLAGS, nodeMetricsAnnotation, startMetricsServer } from './metrics.ts';
import type { Binaries } from './toolchain.ts';

export const REHEARSAL_CONTEXT = 'aks-todo-ops-rehearsal';
/** The ValidatingAdmissionPolicy of rehearsal/cluster/admission-policy.yaml: its presence marks a rehearsal cluster. */
export const REHEARSAL_POLICY = 'rehearsal-deny-tag';
/** AKS's default service CIDR (--service-cidr 10.0.0.0/16): the API server's in-cluster address is its first IP. */
const SERVICE_CIDR = '10.0.0.0/16';
const SERVICE_IP = '10.0.0.1';
/**
 * What the API server advertises in the `kubernetes` Endpoints. It must not be loopback (the Endpoints
 * validation refuses 127.0.0.0/8); 192.0.2.1 is in TEST-NET-1 (RFC 5737), an address nothing ever
 * connects to here: no pod of the rehearsal runs a process.
 */
const ADVERTISE_ADDRESS = '192.0.2.1';

/** A simulated node's size: what `kubectl describe node` shows as allocatable on that AKS VM size. */
export interface NodeShape { cpu: string; memory: string; pods: number }

/**
 * Allocatable resources of AKS node sizes (capacity less AKS's kube and system reservations); the
 * pod limit is Azure CNI's default maxPods, 30. Sizes not listed fall back to Standard_D2s_v3.
 */
export const AKS_NODE_SHAPES: Readonly<Record<string, NodeShape>> = {
  Standard_D2s_v3: { cpu: '1900m', memory: '5900Mi', pods: 30 },
  Standard_D4s_v3: { cpu: '3860m', memory: '12900Mi', pods: 30 },
};

export interface ClusterOptions {
  binaries: Binaries;
  root: string;
  nodes: number;
  nodeSize: string;
  /** Receives one line per milestone. */
  progress: (line: string) => void;
  /** Leave the processes and the folder in place when this process ends. */
  keep?: boolean;
}

export interface LocalCluster {
  dir: string;
  kubeconfig: string;
  context: string;
  server: string;
  /** The component logs' paths, for a failure report. */
  logs: Record<string, string>;
  pids: Record<string, number>;
  /** Stops every process (newest first) and removes the folder unless kept. */
  stop(): Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function tail(path: string, lines = 12): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function readyz(server: string, tls: { ca: string; cert: string; key: string }): Promise<boolean> {
  return new Promise((done) => {
    const req = request(`${server}/readyz`, { ...tls, timeout: 2000 }, (res) => {
      res.resume();
      done(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => done(false));
    req.end();
  });
}

export function kubeconfigYaml(server: string, dir: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${REHEARSAL_CONTEXT}`,
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority: ${join(dir, 'ca.crt')}`,
    'users:',
    '- name: rehearsal-admin',
    '  user:',
    `    client-certificate: ${join(dir, 'admin.crt')}`,
    `    client-key: ${join(dir, 'admin.key')}`,
    'contexts:',
    `- name: ${REHEARSAL_CONTEXT}`,
    '  context:',
    `    cluster: ${REHEARSAL_CONTEXT}`,
    '    user: rehearsal-admin',
    `current-context: ${REHEARSAL_CONTEXT}`,
    '',
  ].join('\n');
}

/** The simulated nodes, labelled like an AKS user pool's nodes and sized like its VMs. */
export function nodeManifests(count: number, nodeSize: string): string {
  const shape = AKS_NODE_SHAPES[nodeSize] ?? AKS_NODE_SHAPES.Standard_D2s_v3!;
  const items: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const name = `aks-rehearsal-${String(i).padStart(6, '0')}`;
    items.push({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        // kwok manages every node (--manage-all-nodes); the annotation is what kwok's own docs use.
        annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0', ...nodeMetricsAnnotation(name) },
        labels: {
          'kubernetes.io/hostname': name,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'node.kubernetes.io/instance-type': nodeSize,
          'topology.kubernetes.io/zone': `rehearsal-${(i % 3) + 1}`,
          'kubernetes.azure.com/mode': 'user',
          type: 'kwok',
        },
      },
      status: {
        allocatable: { cpu: shape.cpu, memory: shape.memory, pods: String(shape.pods) },
        capacity: { cpu: shape.cpu, memory: shape.memory, pods: String(shape.pods) },
      },
    });
  }
  // One List document: every kubectl reads it, whether it takes the input for JSON or YAML.
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

/** Kills what a cluster started: used by stop() and, synchronously, on process exit. */
function killAll(children: ChildProcess[], signal: NodeJS.Signals): void {
  for (const c of [...children].reverse()) {
    if (c.exitCode === null && c.signalCode === null && c.pid) {
      try { process.kill(c.pid, signal); } catch { /* already gone */ }
    }
  }
}

interface CliResult { status: number | null; stdout: string; stderr: string }

/** kubectl against the new cluster; tracked with the components so an exit kills it too. */
function runKubectl(args: string[], input: string | undefined, children: ChildProcess[]): Promise<CliResult> {
  return new Promise((done) => {
    const child = spawn('kubectl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', (e) => { stderr += e.message; });
    child.on('close', (status) => {
      clearTimeout(timer);
      children.splice(children.indexOf(child), 1);
      done({ status, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

export async function startLocalCluster(o: ClusterOptions): Promise<LocalCluster> {
  const b = o.binaries;
  const dir = mkdtempSync(join(tmpdir(), 'aks-todo-ops-rehearsal-'));
  const children: ChildProcess[] = [];
  const logs: Record<string, string> = {};
  const pids: Record<string, number> = {};
  let stopped = false;

  const onExit = () => {
    if (o.keep || stopped) return;
    killAll(children, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', onExit);

  const start = (name: string, bin: string, args: string[]) => {
    const log = join(dir, `${name}.log`);
    const fd = openSync(log, 'a');
    // detached: a Ctrl-C in the terminal reaches this process only, which then stops the cluster in order.
    const child = spawn(bin, args, { cwd: dir, stdio: ['ignore', fd, fd], detached: o.keep === true });
    closeSync(fd);
    if (o.keep) child.unref();
    children.push(child);
    logs[name] = log;
    if (child.pid) pids[name] = child.pid;
    return child;
  };

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', onExit);
    killAll(children, 'SIGTERM');
    const deadline = Date.now() + 5000;
    while (children.some((c) => c.exitCode === null && c.signalCode === null) && Date.now() < deadline) await sleep(100);
    killAll(children, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };

  const fail = async (what: string, log?: string): Promise<never> => {
    const detail = log ? `\n--- last lines of ${log}:\n${tail(log)}` : '';
    await stop();
    throw new OpsError(`the rehearsal cluster did not start: ${what}${detail}`, {
      hint: 're-run with --keep to leave the cluster folder (with each component\'s log) in place',
    });
  };

  const exitedEarly = (name: string, child: ChildProcess) => child.exitCode !== null ? `${name} exited with code ${child.exitCode}` : undefined;

  try {
    const certs = spawnSync(b.certs, ['--dir', dir, '--service-ip', SERVICE_IP], { encoding: 'utf8' });
    if (certs.status !== 0) await fail(`certificates: ${certs.stderr.trim()}`);

    o.progress(`cluster folder ${dir} (certificates, kubeconfig, etcd data, one log per component)`);
    const [etcdClient, etcdPeer, apiPort, kwokPort, metricsPort] = await Promise.all([freeLocalPort(), freeLocalPort(), freeLocalPort(), freeLocalPort(), freeLocalPort()]);
    const etcd = start('etcd', b.etcd, ['--data-dir', join(dir, 'etcd'), '--client-url', `http://127.0.0.1:${etcdClient}`, '--peer-url', `http://127.0.0.1:${etcdPeer}`]);
    o.progress(`etcd ${b.versions.etcd} on 127.0.0.1:${etcdClient}`);

    const server = `https://127.0.0.1:${apiPort}`;
    const apiserver = start('kube-apiserver', b.apiserver, [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--advertise-address=${ADVERTISE_ADDRESS}`,
      `--cert-dir=${dir}`,
      `--tls-cert-file=${join(dir, 'apiserver.crt')}`,
      `--tls-private-key-file=${join(dir, 'apiserver.key')}`,
      `--client-ca-file=${join(dir, 'ca.crt')}`,
      '--authorization-mode=Node,RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      // One process, one etcd: no need to wait for a peer's lease or to reconcile endpoints.
      '--endpoint-reconciler-type=none',
      '--profiling=false',
      ...aggregatorFlags(dir),
    ]);
    const tls = { ca: readFileSync(join(dir, 'ca.crt'), 'utf8'), cert: readFileSync(join(dir, 'admin.crt'), 'utf8'), key: readFileSync(join(dir, 'admin.key'), 'utf8') };
    const apiDeadline = Date.now() + 120_000;
    for (;;) {
      const dead = exitedEarly('etcd', etcd) ?? exitedEarly('kube-apiserver', apiserver);
      if (dead) await fail(dead, logs[dead.startsWith('etcd') ? 'etcd' : 'kube-apiserver']);
      if (await readyz(server, tls)) break;
      if (Date.now() > apiDeadline) await fail('kube-apiserver was not ready within 120 s', logs['kube-apiserver']);
      await sleep(500);
    }
    o.progress(`kube-apiserver ${b.versions.kubernetes} ready at ${server}`);

    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml(server, dir), { mode: 0o600 });
    start('kube-controller-manager', b.controllerManager, [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      `--service-account-private-key-file=${join(dir, 'sa.key')}`,
      `--root-ca-file=${join(dir, 'ca.crt')}`,
      `--cluster-signing-cert-file=${join(dir, 'ca.crt')}`,
      `--cluster-signing-key-file=${join(dir, 'ca.key')}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      // No cloud provider and no node IPAM here; kwok assigns pod IPs itself.
      '--controllers=*,-nodeipam,-service-lb-controller,-cloud-node-lifecycle,-node-route-controller',
      '--leader-elect=false',
      '--use-service-account-credentials=true',
      '--bind-address=127.0.0.1',
      '--secure-port=0',
      ...HPA_CONTROLLER_FLAGS,
    ]);
    start('kube-scheduler', b.scheduler, [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      '--secure-port=0',
    ]);
    // Asynchronous on purpose: a synchronous wait would hold off SIGTERM/SIGINT handling for up to 90 s.
    const kubectl = (args: string[], input?: string) => runKubectl(['--kubeconfig', kubeconfig, ...args], input, children);
    const hooks = { kubectl, start, fail, logs };
    await applyKwokUsageCrds(hooks, b.kwokCrds);
    start('kwok', b.kwok, [
      `--kubeconfig=${kubeconfig}`,
      '--manage-all-nodes=true',
      `--config=${join(o.root, 'rehearsal', 'kwok', 'stages.yaml')}`,
      `--server-address=127.0.0.1:${kwokPort}`,
      // Pod IPs from a range of their own (kwok's default overlaps the service CIDR above).
      '--cidr=10.244.0.0/16',
      '--node-ip=10.224.0.4',
      ...KWOK_USAGE_FLAGS,
    ]);
    o.progress(`kube-controller-manager, kube-scheduler and kwok ${b.versions.kwok} started`);

    const applied = await kubectl(['apply', '-f', '-'], nodeManifests(o.nodes, o.nodeSize));
    if (applied.status !== 0) await fail(`creating the simulated nodes: ${applied.stderr.trim()}`);
    for (const f of ['dapr-crds.yaml', 'dapr-standin.yaml', 'admission-policy.yaml']) {
      const r = await kubectl(['apply', '-f', join(o.root, 'rehearsal', 'cluster', f)]);
      if (r.status !== 0) await fail(`applying rehearsal/cluster/${f}: ${r.stderr.trim()}`);
    }
    const waitNodes = await kubectl(['wait', '--for=condition=Ready', 'node', '--all', '--timeout=60s']);
    if (waitNodes.status !== 0) await fail(`the simulated nodes did not become Ready: ${waitNodes.stderr.trim()}`, logs.kwok);
    const waitCrds = await kubectl(['wait', '--for=condition=Established', 'crd', 'components.dapr.io', 'configurations.dapr.io', 'resiliencies.dapr.io', 'subscriptions.dapr.io', '--timeout=60s']);
    if (waitCrds.status !== 0) await fail(`the rehearsal's Dapr CRDs were not established: ${waitCrds.stderr.trim()}`);
    const waitInjector = await kubectl(['rollout', 'status', 'deployment/dapr-sidecar-injector', '-n', 'dapr-system', '--timeout=90s']);
    if (waitInjector.status !== 0) await fail(`the Dapr injector stand-in did not become ready: ${waitInjector.stderr.trim() || waitInjector.stdout.trim()}`, logs['kube-controller-manager']);
    // The namespace controller and the service-account controller must have run before pods can be created.
    const sa = await kubectl(['wait', '--for=create', 'serviceaccount/default', '-n', 'default', '--timeout=60s']);
    if (sa.status !== 0) await fail(`the default ServiceAccount was never created: ${sa.stderr.trim()}`, logs['kube-controller-manager']);
    o.progress(`${o.nodes} simulated ${o.nodeSize} nodes Ready; Dapr CRDs and injector stand-in in place`);
    await startMetricsServer(hooks, { root: o.root, bin: b.metricsServer, dir, kubeconfig, port: metricsPort, kwokPort });
    o.progress(`metrics-server ${b.versions.metricsServer} serving the metrics API on 127.0.0.1:${metricsPort}`);

    return { dir, kubeconfig, context: REHEARSAL_CONTEXT, server, logs, pids, stop };
  } catch (e) {
    if (!stopped) await stop();
    throw e;
  }
}

