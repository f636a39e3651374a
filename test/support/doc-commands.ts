// Finds every `npx zx scripts/<name>.mts …` call in the workflows and the docs' shell blocks,
// and checks it against the flags the script declares (`--help --json`), so they cannot drift.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from './tools.ts';
import { typeScriptArgs } from '../../scripts/lib/typescript-runtime.ts';

export interface ScriptCall { file: string; line: number; script: string; flags: string[]; text: string }

const CALL = /npx zx scripts\/([\w-]+)\.mts((?:[ \t]+(?:"[^"]*"|'[^']*'|[^\s"'|;&#]+))*)/g;

/** Extracts calls from a text; line numbers are 1-based within `text`, offset by `firstLine`. */
export function extractCalls(file: string, text: string, firstLine = 1): ScriptCall[] {
  // Join shell line continuations, remembering where each logical line started.
  const physical = text.split('\n');
  const calls: ScriptCall[] = [];
  for (let i = 0; i < physical.length; i++) {
    const start = i;
    let logical = physical[i]!;
    while (logical.endsWith('\\') && i + 1 < physical.length) logical = `${logical.slice(0, -1)} ${physical[++i]!.trim()}`;
    for (const m of logical.matchAll(CALL)) {
      const args = m[2] ?? '';
      const flags = [...args.matchAll(/(?:^|\s)--([\w-]+)/g)].map((f) => f[1]!);
      calls.push({ file, line: firstLine + start, script: m[1]!, flags, text: m[0].trim() });
    }
  }
  return calls;
}

/** Shell-ish fenced blocks of a Markdown file. */
export function markdownShellBlocks(text: string): Array<{ code: string; line: number }> {
  const blocks: Array<{ code: string; line: number }> = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^\s*```\s*(bash|sh|shell|console|zsh|)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i + 1;
    let j = start;
    while (j < lines.length && !/^\s*```\s*$/.test(lines[j]!)) j++;
    blocks.push({ code: lines.slice(start, j).join('\n'), line: start + 1 });
    i = j;
  }
  return blocks;
}

function walk(dir: string, ext: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p, ext));
    else if (e.name.endsWith(ext)) out.push(p);
  }
  return out.sort();
}

export function markdownFiles(): string[] {
  return [join(repoRoot, 'README.md'), join(repoRoot, 'load', 'README.md'), ...walk(join(repoRoot, 'docs'), '.md')].filter(existsSync);
}

export function workflowFiles(): string[] {
  return walk(join(repoRoot, '.github', 'workflows'), '.yml');
}

/** Every script call in the docs and the workflows' `run:` steps. */
export function findAllCalls(): ScriptCall[] {
  const calls: ScriptCall[] = [];
  for (const f of markdownFiles()) {
    for (const b of markdownShellBlocks(readFileSync(f, 'utf8'))) calls.push(...extractCalls(relative(repoRoot, f), b.code, b.line));
  }
  for (const f of workflowFiles()) {
    const text = readFileSync(f, 'utf8');
    const doc = parse(text) as { jobs?: Record<string, { steps?: Array<{ run?: string }> }> };
    for (const job of Object.values(doc.jobs ?? {})) {
      for (const step of job.steps ?? []) {
        if (!step.run) continue;
        const firstLine = step.run.split('\n')[0]!;
        const at = text.split('\n').findIndex((l) => l.includes(firstLine.trim())) + 1;
        calls.push(...extractCalls(relative(repoRoot, f), step.run, at || 1));
      }
    }
  }
  return calls;
}

const flagCache = new Map<string, Array<{ name: string; type: string }>>();

/** The flags a script declares, from the script itself. */
export function declaredFlags(script: string): Array<{ name: string; type: string }> | undefined {
  if (flagCache.has(script)) return flagCache.get(script);
  const path = join(repoRoot, 'scripts', `${script}.mts`);
  if (!existsSync(path)) return undefined;
  const out = execFileSync(process.execPath, [...typeScriptArgs(), path, '--help', '--json'], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  const flags = (JSON.parse(out) as { flags: Array<{ name: string; type: string }> }).flags;
  flagCache.set(script, flags);
  return flags;
}

/** Problems with a call: a missing script or a flag it does not accept. */
export function checkCall(call: ScriptCall): string[] {
  const flags = declaredFlags(call.script);
  if (!flags) return [`${call.file}:${call.line}: scripts/${call.script}.mts does not exist (${call.text})`];
  const problems: string[] = [];
  for (const f of call.flags) {
    const ok = flags.some((d) => d.name === f) || (f.startsWith('no-') && flags.some((d) => d.name === f.slice(3) && d.type === 'boolean'));
    if (!ok) problems.push(`${call.file}:${call.line}: scripts/${call.script}.mts does not accept --${f} (${call.text})`);
  }
  return problems;
}
