// Shared by the chart suites: render helm/ with a real helm binary and parse the output.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';
import { helmPath, repoRoot } from './support/tools.ts';
import { loadEnvironment } from '../scripts/lib/config.ts';
import { ingressHostOf, upgradeArgs } from '../scripts/lib/helm.ts';

export const chartDir = join(repoRoot, 'helm');
export const valuesFile = join(chartDir, 'values.yaml');
export const productionValuesFile = join(chartDir, 'values-production.yaml');
export const RELEASE = 'hackathon-todo';
/** The namespace environments/production.yaml deploys to (kube.namespace), as `helm -n` would pass it. */
export const NAMESPACE = (parse(readFileSync(join(repoRoot, 'environments', 'production.yaml'), 'utf8')) as { kube: { namespace: string } }).kube.namespace;
/** A commit-SHA-shaped tag, as the deploy passes it. */
export const SHA = '3f9c2ab71d04';
export const tagArgs = ['--set-string', `backend.image.tag=${SHA}`, '--set-string', `frontend.image.tag=${SHA}`];
/** The production environment file: its release.images are what a production deploy sets. */
export const PRODUCTION = loadEnvironment(repoRoot, 'production');
/**
 * The --set flags deploy.mts passes for production, built by the same helm.ts function: the image
 * repositories of environments/production.yaml at SHA and the host of its url (the values files name
 * neither registry nor host).
 */
export const productionSetArgs = (() => {
  const up = upgradeArgs({
    release: RELEASE, chart: 'helm', namespace: NAMESPACE, valuesFiles: [], timeoutSeconds: 1,
    images: { backend: { repository: PRODUCTION.release.images.backend, tag: SHA }, frontend: { repository: PRODUCTION.release.images.frontend, tag: SHA } },
    ingressHost: ingressHostOf(PRODUCTION.url),
  });
  return up.slice(up.indexOf('--set'), up.indexOf('--timeout'));
})();
/** The ingress.host flag of productionSetArgs: production's values turn TLS on and name no host, as deploy sets it. */
export const hostArgs = productionSetArgs.slice(productionSetArgs.findIndex((a) => a.startsWith('ingress.host=')) - 1).slice(0, 2);

export interface HelmResult { code: number; stdout: string; stderr: string }

export function helm(major: 3 | 4, args: string[]): HelmResult {
  const r = spawnSync(helmPath(major), args, { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, HELM_CACHE_HOME: join(repoRoot, '.cache', 'helm') } });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  [k: string]: unknown;
}

/** `helm template` (in NAMESPACE, as environments/production.yaml deploys) -> objects; throws on failure. */
export function render(major: 3 | 4, files: string[], extra: string[] = tagArgs, namespace: string = NAMESPACE): { text: string; objects: K8sObject[] } {
  const args = ['template', RELEASE, chartDir, '--namespace', namespace, ...files.flatMap((f) => ['-f', f]), ...extra];
  const r = helm(major, args);
  if (r.code !== 0) throw new Error(`helm ${major} ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  const objects = parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
  return { text: r.stdout, objects };
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind}/${name} in the render (have: ${objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')})`);
  return o;
}
