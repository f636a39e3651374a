// The app's namespace (environments/<env>.yaml kube.namespace): deploy.mts, secrets.mts and
// install-dapr.mts each create it when it is missing, so any of them can run first on a new cluster.
import { ExitCode, OpsError } from './errors.ts';
import type { Logger } from './log.ts';
import type { Runner } from './runner.ts';

export async function namespaceExists(runner: Runner, namespace: string): Promise<boolean> {
  const r = await runner.run('kubectl', ['get', 'namespace', namespace, '-o', 'name'], { mutating: false, allowFailure: true });
  if (r.exitCode === 0) return true;
  if (/NotFound/.test(r.stderr)) return false;
  throw new OpsError(`cannot read namespace ${namespace}: ${r.stderr.trim().split('\n')[0] ?? ''}`, { hint: 'check cluster access: npx zx scripts/doctor.mts', exitCode: ExitCode.preflight });
}

export function createNamespaceArgs(namespace: string): string[] {
  return ['create', 'namespace', namespace];
}

/**
 * Creates the namespace unless it exists (a dry run only prints the command). Creating one needs a
 * cluster-wide right: AKS RBAC Admin, the deploy workflow's role, lacks it, so on AKS a cluster
 * admin's install-dapr.mts or secrets.mts run creates it before the first deploy.
 */
export async function ensureNamespace(runner: Runner, log: Logger, namespace: string): Promise<'exists' | 'created'> {
  if (await namespaceExists(runner, namespace)) return 'exists';
  await log.step(`create namespace ${namespace}`, () => runner.run('kubectl', createNamespaceArgs(namespace)));
  return 'created';
}
