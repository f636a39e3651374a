// One fact in one place: the names an environment file holds (resource group, cluster, registry,
// Log Analytics workspace, kube context) are written in environments/*.yaml and nowhere else. Bicep
// reads them with loadYamlContent, workflows with scripts/env.mts, scripts and tests through
// scripts/lib/config.ts. Only documentation quotes them, for a reader to copy.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { listEnvironments, loadEnvironment } from '../scripts/lib/config.ts';
import { ingressHostOf } from '../scripts/lib/helm.ts';
import { repoFiles } from './support/repo-files.ts';
import { repoRoot } from './support/tools.ts';

/**
 * Where a name may be quoted: the environment files themselves, and prose a person reads and copies
 * commands from (README.md and docs/*.md), which cannot call env.mts.
 */
const ALLOWED = (path: string) => path.startsWith('environments/') || path === 'README.md' || /^docs\/[^/]+\.md$/.test(path);

/**
 * Context names that are a tool's own fixed name rather than one this project chose: minikube names
 * its context "minikube" whatever environments/local.yaml says, and the word names the tool in prose.
 */
const TOOL_NAMES = new Set(['minikube']);

/** Every name each environment file holds, with the key it is under. */
function names(): Array<{ name: string; where: string }> {
  return listEnvironments(repoRoot).flatMap((envName) => {
    const env = loadEnvironment(repoRoot, envName);
    const keyed: Array<[string, string | undefined]> = [
      ['kube.context', env.kube.context],
      ['azure.resourceGroup', env.azure?.resourceGroup],
      ['azure.cluster', env.azure?.cluster],
      ['azure.registry', env.azure?.registry],
      ['azure.logAnalyticsWorkspace', env.azure?.logAnalyticsWorkspace],
    ];
    return keyed.filter((k): k is [string, string] => k[1] !== undefined && !TOOL_NAMES.has(k[1])).map(([key, name]) => ({ name, where: `${env.file} ${key}` }));
  });
}

/** Each name once, with every key that holds it (the cluster and its kube context are often the same name). */
function distinctNames(): Array<{ name: string; where: string }> {
  const by = new Map<string, string[]>();
  for (const { name, where } of names()) by.set(name, [...(by.get(name) ?? []), where]);
  return [...by].map(([name, wheres]) => ({ name, where: wheres.join(', ') }));
}

/** Lines that hold `name` as a whole name: not part of a longer name (letters, digits, dashes around it). */
function literalHits(text: string, name: string): number[] {
  const re = new RegExp(`(?<![A-Za-z0-9-])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9-])`);
  return text.split('\n').flatMap((line, i) => (re.test(line) ? [i + 1] : []));
}

test('the names come from every environment file, and the walk sees the files that used to copy them', () => {
  const all = names();
  for (const env of listEnvironments(repoRoot).filter((e) => loadEnvironment(repoRoot, e).azure)) {
    assert.ok(all.filter((n) => n.where.startsWith(`environments/${env}.yaml`)).length >= 5, env);
  }
  const walked = repoFiles().map((f) => f.path);
  for (const f of ['bicep/production.bicepparam', 'helm/values-production.yaml', '.github/workflows/deploy-production.yml', 'scripts/lib/azure.ts', 'test/setup.test.ts']) {
    assert.ok(walked.includes(f), f);
  }
});

test('no name from an environment file is written anywhere but environments/ and the docs that quote it', () => {
  const hits: string[] = [];
  const all = distinctNames();
  for (const { path, text } of repoFiles()) {
    if (ALLOWED(path)) continue;
    for (const { name, where } of all) {
      for (const line of literalHits(text, name)) hits.push(`${path}:${line}: ${name} (${where}); read it from the environment file`);
    }
  }
  assert.equal(hits, []);
});

test('the public host is the environment\'s url alone: no file of the chart names it (deploy sets ingress.host from url)', () => {
  const hosts = listEnvironments(repoRoot).flatMap((envName) => {
    const env = loadEnvironment(repoRoot, envName);
    const host = ingressHostOf(env.url);
    return host ? [{ host, where: `${env.file} url` }] : [];
  });
  assert.ok(hosts.length >= 2, 'production and staging name a public host');
  const chart = repoFiles().filter((f) => f.path.startsWith('helm/'));
  assert.ok(chart.some((f) => f.path === 'helm/values-production.yaml') && chart.some((f) => f.path === 'helm/values-staging.yaml'), 'the walk sees the values files');
  const hits = chart.flatMap(({ path, text }) => hosts.flatMap(({ host, where }) => literalHits(text, host).map((line) => `${path}:${line}: ${host} (${where}); deploy sets ingress.host from the url`)));
  assert.equal(hits, []);
  // The check sees a host where it would be written.
  assert.equal(literalHits('ingress:\n  host: todo.example.com\n', 'todo.example.com'), [2]);
});

test('the match is on whole names: a longer name or a registry host counts as what it is', () => {
  assert.equal(literalHits('az aks show -n shop-east\n', 'shop-east'), [1]);
  assert.equal(literalHits('x\nimage: shopacr.azurecr.io/todo-backend', 'shopacr'), [2], 'a registry host is the registry name');
  assert.equal(literalHits('shop-east-logs', 'shop-east'), [], 'a longer name is its own name');
  assert.equal(literalHits('myshop-east', 'shop-east'), []);
  assert.equal(literalHits("'shop-rg'", 'shop-rg'), [1]);
});

test.run();
