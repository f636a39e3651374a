// The images a deploy runs: the tag rules, image references, the registry check, and the images a
// release revision recorded.
import { z } from 'zod';
import { parseCliJson } from './cli-json.ts';
import type { LoadedEnvironment } from './config.ts';
import { ExitCode, OpsError, usageError } from './errors.ts';
import type { ImageRef } from './helm.ts';
import type { Runner } from './runner.ts';


/** Docker's tag grammar: 1-128 of letters, digits, _ . - ; not starting with . or -. */
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export function validateTag(tag: string, env: LoadedEnvironment): void {
  if (!TAG_RE.test(tag)) throw usageError(`"${tag}" is not a valid image tag (letters, digits, _ . -; at most 128; not starting with . or -)`, 'pass the commit SHA the images were built from: --tag $(git rev-parse HEAD)');
  if (tag.toLowerCase() === 'latest' && !env.release.allowLatestTag) {
    throw usageError(
      `the tag "latest" is refused for ${env.name}: it names no particular build, so a rollback could not bring the old code back`,
      `deploy the commit SHA the images were built from: --tag $(git rev-parse HEAD)   (release.allowLatestTag is false in ${env.file})`,
    );
  }
}

/** The tag to deploy: --tag, else the commit checked out here. */
export async function resolveTag(runner: Runner, flagTag: string | undefined): Promise<{ tag: string; source: string }> {
  if (flagTag !== undefined) return { tag: flagTag.trim(), source: '--tag' };
  const r = await runner.run('git', ['rev-parse', 'HEAD'], { mutating: false, offline: true, attempts: 1, allowFailure: true });
  const sha = r.stdout.trim();
  if (r.exitCode !== 0 || !/^[0-9a-f]{40}$/.test(sha)) {
    throw usageError(`no --tag given and the current git commit cannot be read: ${(r.stderr.trim().split('\n')[0] ?? '') || sha || `exit ${r.exitCode}`}`, 'pass the image tag explicitly: --tag <commit SHA>');
  }
  return { tag: sha, source: 'git rev-parse HEAD' };
}

export function imageRefs(env: LoadedEnvironment, tag: string): { backend: ImageRef; frontend: ImageRef } {
  return { backend: { repository: env.release.images.backend, tag }, frontend: { repository: env.release.images.frontend, tag } };
}

export function imageString(i: ImageRef): string {
  return `${i.repository}:${i.tag}`;
}

/** An ACR's login server: `myregistry` → `myregistry.azurecr.io`. */
export function loginServer(registry: string): string {
  return `${registry.toLowerCase()}.azurecr.io`;
}

/** `myregistry.azurecr.io/todo-backend` → `todo-backend` (the ACR repository name). */
export function acrRepository(image: string, registry: string): string {
  const prefix = `${loginServer(registry)}/`;
  return image.toLowerCase().startsWith(prefix) ? image.slice(prefix.length) : image;
}

export function showTagsArgs(registry: string, repository: string): string[] {
  return ['acr', 'repository', 'show-tags', '-n', registry, '--repository', repository, '-o', 'json'];
}

/** Every image must exist in the registry before anything changes (Azure environments). Exit 3 otherwise. */
export async function checkImagesInRegistry(runner: Runner, env: LoadedEnvironment, images: readonly ImageRef[]): Promise<string[]> {
  const registry = env.azure?.registry;
  if (!registry) return [];
  const found: string[] = [];
  const problems: string[] = [];
  const results = await Promise.all(images.map((img) => runner.run('az', showTagsArgs(registry, acrRepository(img.repository, registry)), { mutating: false, allowFailure: true })));
  for (const [i, img] of images.entries()) {
    const repo = acrRepository(img.repository, registry);
    const r = results[i]!;
    if (r.exitCode !== 0) {
      const notFound = /RepositoryNotFound|was not found/i.test(r.stderr);
      problems.push(notFound ? `repository ${repo} does not exist in ${registry}` : `cannot list the tags of ${repo} in ${registry}: ${r.stderr.trim().split('\n')[0] ?? ''}`);
      continue;
    }
    let tags: string[];
    try {
      tags = parseCliJson(r, z.array(z.string()));
    } catch (e) {
      problems.push(`cannot list the tags of ${repo} in ${registry}: ${(e as Error).message}`);
      continue;
    }
    if (tags.includes(img.tag)) found.push(imageString(img));
    else problems.push(`${imageString(img)} is not in ${registry} (${tags.length} tags in ${repo})`);
  }
  if (problems.length) {
    throw new OpsError(`images missing, nothing was changed: ${problems.join('; ')}`, {
      hint: `build and push the images for this commit first (the build-images workflow, or: az acr build -r ${registry} -t ${acrRepository(images[0]!.repository, registry)}:${images[0]!.tag} .), or pass the tag that was pushed: --tag <sha>`,
      exitCode: ExitCode.preflight,
    });
  }
  return found;
}

// ---------- what a revision runs ----------

function lookup(config: Record<string, unknown>, path: string): unknown {
  // Helm records --set values nested; tolerate a flat "a.b.c" key as well.
  if (path in config) return config[path];
  let cur: unknown = config;
  for (const k of path.split('.')) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** The images a release revision runs, from the values Helm recorded for it. */
export function imagesFromConfig(config: Record<string, unknown>): { backend?: string; frontend?: string } {
  const one = (w: 'backend' | 'frontend') => {
    const repo = lookup(config, `${w}.image.repository`);
    const tag = lookup(config, `${w}.image.tag`);
    return repo !== undefined && tag !== undefined ? `${String(repo)}:${String(tag)}` : undefined;
  };
  const backend = one('backend');
  const frontend = one('frontend');
  return { ...(backend ? { backend } : {}), ...(frontend ? { frontend } : {}) };
}
