// A small typed walker over tree-sitter-bicep parse trees, so the Bicep tests assert on the parsed
// template (resources, params with decorators, outputs, property values) rather than on its text.
// The grammar is the npm package's wasm build, loaded through web-tree-sitter (no native addon).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Language, Parser } from 'web-tree-sitter';
import type { Node, Tree } from 'web-tree-sitter';
import { repoRoot } from './tools.ts';

export type { Node } from 'web-tree-sitter';

export const bicepDir = join(repoRoot, 'bicep');
const wasmPath = join(repoRoot, 'node_modules', 'tree-sitter-bicep', 'tree-sitter-bicep.wasm');

let parserPromise: Promise<Parser> | undefined;

/** One parser for the whole process; Parser.init and the wasm load happen once. */
function bicepParser(): Promise<Parser> {
  parserPromise ??= (async () => {
    await Parser.init();
    const language = await Language.load(wasmPath);
    const parser = new Parser();
    parser.setLanguage(language);
    return parser;
  })();
  return parserPromise;
}

export interface BicepFile {
  path: string;
  source: string;
  tree: Tree;
  root: Node;
}

export async function parseBicep(source: string, path = '<memory>'): Promise<BicepFile> {
  const parser = await bicepParser();
  const tree = parser.parse(source);
  if (!tree) throw new Error(`tree-sitter returned no tree for ${path}`);
  return { path, source, tree, root: tree.rootNode };
}

export async function parseBicepFile(path: string): Promise<BicepFile> {
  return parseBicep(readFileSync(path, 'utf8'), path);
}

/** Every file under bicep/ with the given extension, sorted. */
export function listBicepFiles(ext: '.bicep' | '.bicepparam', dir = bicepDir): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listBicepFiles(ext, p));
    else if (e.isFile() && e.name.endsWith(ext)) out.push(p);
  }
  return out.sort();
}

export interface SyntaxProblem {
  kind: 'ERROR' | 'MISSING';
  line: number;
  column: number;
  text: string;
}

/** ERROR and MISSING nodes, with 1-based positions. */
export function syntaxProblems(file: BicepFile): SyntaxProblem[] {
  const problems: SyntaxProblem[] = [];
  const visit = (n: Node): void => {
    if (n.isError || n.isMissing) {
      problems.push({
        kind: n.isMissing ? 'MISSING' : 'ERROR',
        line: n.startPosition.row + 1,
        column: n.startPosition.column + 1,
        text: n.text.slice(0, 80),
      });
    }
    for (const c of n.children) if (c) visit(c);
  };
  visit(file.root);
  return problems;
}

export interface Decorator {
  name: string;
  args: Node[];
  node: Node;
}

export interface ParamDecl {
  name: string;
  /** The declared type as written (string, int, bool, array, object, or a user-defined type). */
  type: string;
  defaultValue: Node | null;
  decorators: Decorator[];
  node: Node;
}

export interface OutputDecl {
  name: string;
  type: string;
  value: Node | null;
  decorators: Decorator[];
  node: Node;
}

export interface VarDecl {
  name: string;
  value: Node | null;
  node: Node;
}

export interface ResourceDecl {
  symbol: string;
  /** e.g. Microsoft.ContainerService/managedClusters */
  type: string;
  apiVersion: string;
  existing: boolean;
  /** The object literal that defines the resource (inside any `if` or `for`). */
  body: Node | null;
  conditional: boolean;
  loop: boolean;
  decorators: Decorator[];
  node: Node;
}

export interface ModuleDecl {
  symbol: string;
  path: string;
  body: Node | null;
  conditional: boolean;
  node: Node;
}

function namedChildren(n: Node): Node[] {
  return n.namedChildren.filter((c): c is Node => c !== null);
}

function firstOfType(n: Node, type: string): Node | null {
  return namedChildren(n).find((c) => c.type === type) ?? null;
}

/** Text of a string node without quotes (interpolations kept as ${...}); null for non-strings. */
export function stringValue(n: Node | null | undefined): string | null {
  if (!n || n.type !== 'string') return null;
  const t = n.text;
  if (t.startsWith("'''")) return t.slice(3, -3);
  return t.slice(1, -1).replace(/\\'/g, "'").replace(/\\\\/g, '\\');
}

/** Decorators that sit immediately before a declaration (tree-sitter-bicep makes them a sibling node). */
function decoratorsOf(decl: Node): Decorator[] {
  const prev = decl.previousNamedSibling;
  if (!prev || prev.type !== 'decorators') return [];
  return namedChildren(prev)
    .filter((d) => d.type === 'decorator')
    .map((d) => {
      const call = firstOfType(d, 'call_expression');
      const fn = call?.childForFieldName('function');
      const args = call?.childForFieldName('arguments');
      // `sys.description(...)` is a member_expression; keep the last segment.
      const name = fn ? (fn.type === 'member_expression' ? (fn.childForFieldName('property')?.text ?? fn.text) : fn.text) : d.text;
      return { name, args: args ? namedChildren(args) : [], node: d };
    });
}

/** The object literal of a resource or module, looking through `if (...)` and `[for ...: ...]`. */
function unwrapBody(value: Node | null): { body: Node | null; conditional: boolean; loop: boolean } {
  let conditional = false;
  let loop = false;
  let n = value;
  for (let guard = 0; n && guard < 4; guard++) {
    if (n.type === 'object') return { body: n, conditional, loop };
    if (n.type === 'if_statement') {
      conditional = true;
      n = firstOfType(n, 'object');
    } else if (n.type === 'for_statement') {
      loop = true;
      n = n.childForFieldName('body');
    } else break;
  }
  return { body: null, conditional, loop };
}

function valueAfterEquals(decl: Node): Node | null {
  const kids = decl.children.filter((c): c is Node => c !== null);
  const eq = kids.findIndex((c) => c.type === '=');
  if (eq < 0) return null;
  return kids.slice(eq + 1).find((c) => c.isNamed) ?? null;
}

export function params(file: BicepFile): ParamDecl[] {
  return namedChildren(file.root)
    .filter((n) => n.type === 'parameter_declaration')
    .map((n) => ({
      name: firstOfType(n, 'identifier')?.text ?? '',
      type: firstOfType(n, 'type')?.text ?? '',
      defaultValue: valueAfterEquals(n),
      decorators: decoratorsOf(n),
      node: n,
    }));
}

export function outputs(file: BicepFile): OutputDecl[] {
  return namedChildren(file.root)
    .filter((n) => n.type === 'output_declaration')
    .map((n) => ({
      name: firstOfType(n, 'identifier')?.text ?? '',
      type: firstOfType(n, 'type')?.text ?? '',
      value: valueAfterEquals(n),
      decorators: decoratorsOf(n),
      node: n,
    }));
}

export function variables(file: BicepFile): VarDecl[] {
  return namedChildren(file.root)
    .filter((n) => n.type === 'variable_declaration')
    .map((n) => ({ name: firstOfType(n, 'identifier')?.text ?? '', value: valueAfterEquals(n), node: n }));
}

export function resources(file: BicepFile): ResourceDecl[] {
  return namedChildren(file.root)
    .filter((n) => n.type === 'resource_declaration')
    .map((n) => {
      const typeString = stringValue(firstOfType(n, 'string')) ?? '';
      const at = typeString.lastIndexOf('@');
      const { body, conditional, loop } = unwrapBody(valueAfterEquals(n));
      return {
        symbol: firstOfType(n, 'identifier')?.text ?? '',
        type: at < 0 ? typeString : typeString.slice(0, at),
        apiVersion: at < 0 ? '' : typeString.slice(at + 1),
        existing: n.children.some((c) => c?.type === 'existing'),
        body,
        conditional,
        loop,
        decorators: decoratorsOf(n),
        node: n,
      };
    });
}

export function modules(file: BicepFile): ModuleDecl[] {
  return namedChildren(file.root)
    .filter((n) => n.type === 'module_declaration')
    .map((n) => {
      const { body, conditional } = unwrapBody(valueAfterEquals(n));
      return { symbol: firstOfType(n, 'identifier')?.text ?? '', path: stringValue(firstOfType(n, 'string')) ?? '', body, conditional, node: n };
    });
}

/** The `targetScope = '...'` value, or 'resourceGroup' (Bicep's default). */
export function targetScope(file: BicepFile): string {
  const t = namedChildren(file.root).find((n) => n.type === 'target_scope_assignment');
  return stringValue(t ? firstOfType(t, 'string') : null) ?? 'resourceGroup';
}

function propertyKey(prop: Node): string | null {
  const key = prop.namedChildren[0];
  if (!key) return null;
  if (key.type === 'string') return stringValue(key);
  return key.text;
}

/** The properties of an object literal as [key, value] pairs, in source order. */
export function objectEntries(obj: Node | null | undefined): Array<[string, Node]> {
  if (!obj || obj.type !== 'object') return [];
  const out: Array<[string, Node]> = [];
  for (const p of namedChildren(obj)) {
    if (p.type !== 'object_property') continue;
    const key = propertyKey(p);
    const value = namedChildren(p)[1];
    if (key !== null && value) out.push([key, value]);
  }
  return out;
}

/** Value node at a property path, e.g. ['properties', 'networkProfile', 'networkPlugin']; numbers index arrays. */
export function propertyAt(obj: Node | null | undefined, path: ReadonlyArray<string | number>): Node | undefined {
  let cur: Node | null | undefined = obj;
  for (const step of path) {
    if (!cur) return undefined;
    if (typeof step === 'number') {
      if (cur.type !== 'array') return undefined;
      cur = namedChildren(cur).filter((c) => c.type !== 'comment')[step];
    } else {
      cur = objectEntries(cur).find(([k]) => k === step)?.[1];
    }
  }
  return cur ?? undefined;
}

/** Elements of an array literal (comments dropped). */
export function arrayItems(n: Node | null | undefined): Node[] {
  if (!n || n.type !== 'array') return [];
  return namedChildren(n).filter((c) => c.type !== 'comment');
}

export type Literal = string | number | boolean | null | Literal[] | { [key: string]: Literal };

/**
 * The JSON value of a literal expression (strings without interpolation, numbers, booleans, null,
 * arrays and objects of those). Anything else, an expression, gives undefined.
 */
export function literalValue(n: Node | null | undefined): Literal | undefined {
  if (!n) return undefined;
  switch (n.type) {
    case 'string':
      return n.namedChildren.some((c) => c?.type === 'interpolation') ? undefined : (stringValue(n) ?? undefined);
    case 'number':
      return Number(n.text);
    case 'boolean':
      return n.text === 'true';
    case 'null':
      return null;
    case 'unary_expression': {
      const inner = literalValue(n.namedChildren[0]);
      return n.text.startsWith('-') && typeof inner === 'number' ? -inner : undefined;
    }
    case 'array': {
      const items = arrayItems(n).map(literalValue);
      return items.every((v) => v !== undefined) ? (items as Literal[]) : undefined;
    }
    case 'object': {
      const out: { [key: string]: Literal } = {};
      for (const [k, v] of objectEntries(n)) {
        const lv = literalValue(v);
        if (lv === undefined) return undefined;
        out[k] = lv;
      }
      return out;
    }
    default:
      return undefined;
  }
}

/**
 * Follows a plain identifier to what it stands for in this file: a param's default value or a
 * var's value (repeatedly, so `var a = b` and `param b int = 2` give the node `2`). Other nodes come back as they are.
 */
export function resolve(file: BicepFile, n: Node | null | undefined): Node | undefined {
  let cur = n ?? undefined;
  const seen = new Set<string>();
  while (cur && cur.type === 'identifier' && !seen.has(cur.text)) {
    seen.add(cur.text);
    const name = cur.text;
    const p = params(file).find((d) => d.name === name);
    if (p) {
      cur = p.defaultValue ?? undefined;
      continue;
    }
    const v = variables(file).find((d) => d.name === name);
    if (v) {
      cur = v.value ?? undefined;
      continue;
    }
    break;
  }
  return cur;
}

/** Every node of the given types in a subtree (depth first). */
export function descendants(n: Node, types: readonly string[]): Node[] {
  return n.descendantsOfType([...types]).filter((c): c is Node => c !== null);
}

/** Calls of a named function in a subtree, e.g. callsOf(body, 'guid'). */
export function callsOf(n: Node, fn: string): Node[] {
  return descendants(n, ['call_expression']).filter((c) => c.childForFieldName('function')?.text === fn);
}

/** Comments that lie inside a node's range (checkov reads its skip comments from there). */
export function commentsIn(n: Node): string[] {
  return descendants(n, ['comment']).map((c) => c.text);
}

// ----------------------------------------------------------------------------------------------
// .bicepparam files
// ----------------------------------------------------------------------------------------------

export interface ParamAssignment {
  name: string;
  value: Node;
}

export interface BicepParamFile {
  file: BicepFile;
  using: string | null;
  /** `param NAME = value` lines. */
  assignments: ParamAssignment[];
  /** `var NAME = value` lines (e.g. the environment file loaded with loadYamlContent). */
  vars: ParamAssignment[];
}

/**
 * tree-sitter-bicep has no rule for `.bicepparam` files: a `param NAME = value` line lacks the type
 * a template's param has, and the tree gets ERROR/MISSING nodes. Each line-initial `param ` keyword
 * is swapped for `var  ` (same length, so positions stay true) and the result parses as ordinary
 * Bicep: every value is then a real expression node from the grammar. The names on `param` lines
 * are remembered, so the file's own `var` lines stay variables.
 */
export async function parseBicepParam(source: string, path = '<memory>'): Promise<BicepParamFile> {
  const paramNames = new Set([...source.matchAll(/^param\s+(\w+)/gm)].map((m) => m[1]!));
  const asTemplate = source.replace(/^param(?=\s)/gm, 'var  ');
  const file = await parseBicep(asTemplate, path);
  const usingNode = namedChildren(file.root).find((n) => n.type === 'using_statement');
  const all = variables(file)
    .filter((v): v is VarDecl & { value: Node } => v.value !== null)
    .map((v) => ({ name: v.name, value: v.value }));
  return {
    file,
    using: stringValue(usingNode ? firstOfType(usingNode, 'string') : null),
    assignments: all.filter((a) => paramNames.has(a.name)),
    vars: all.filter((a) => !paramNames.has(a.name)),
  };
}

export async function parseBicepParamFile(path: string): Promise<BicepParamFile> {
  return parseBicepParam(readFileSync(path, 'utf8'), path);
}

/**
 * What Bicep computes for an expression in a .bicepparam, for the subset the parameter files use:
 * literals, `var` references, `loadYamlContent('<path>')` (read here from the real file, the path
 * relative to the .bicepparam as Bicep has it), property access into the loaded object, `!(...)`
 * and string interpolation. undefined for what needs a deployment (readEnvironmentVariable, ...);
 * an Error naming the file and the key when a path or property does not exist, as Bicep's compiler
 * would refuse it.
 */
export function paramExpressionValue(pf: BicepParamFile, n: Node | null | undefined): Literal | undefined {
  if (!n) return undefined;
  const where = rel(pf.file.path);
  const literal = literalValue(n);
  if (literal !== undefined) return literal;
  switch (n.type) {
    case 'parenthesized_expression':
      return paramExpressionValue(pf, n.namedChildren.find((c) => c !== null && c.type !== 'comment'));
    case 'unary_expression': {
      if (!n.text.startsWith('!')) return undefined;
      const inner = paramExpressionValue(pf, n.namedChildren[0]);
      if (inner === undefined) return undefined;
      if (typeof inner !== 'boolean') throw new Error(`${where}: ${n.text} negates ${JSON.stringify(inner)}, which is not true or false`);
      return !inner;
    }
    case 'identifier': {
      const v = pf.vars.find((a) => a.name === n.text);
      return v ? paramExpressionValue(pf, v.value) : undefined;
    }
    case 'member_expression': {
      const object = paramExpressionValue(pf, n.childForFieldName('object'));
      const key = n.childForFieldName('property')?.text ?? '';
      if (object === undefined) return undefined;
      if (object === null || typeof object !== 'object' || Array.isArray(object) || !Object.hasOwn(object, key)) {
        throw new Error(`${where}: ${n.text}: the loaded value has no property ${key}`);
      }
      return object[key];
    }
    case 'call_expression': {
      if (n.childForFieldName('function')?.text !== 'loadYamlContent') return undefined;
      const args = namedChildren(n.childForFieldName('arguments') ?? n);
      const file = stringValue(args[0]);
      if (file === null || args.length !== 1) throw new Error(`${where}: ${n.text}: expected loadYamlContent('<path>') with one literal path`);
      const from = isAbsolute(pf.file.path) ? pf.file.path : join(repoRoot, pf.file.path);
      const path = join(dirname(from), file);
      if (!existsSync(path)) throw new Error(`${where}: ${n.text}: ${rel(path)} does not exist`);
      return parseYaml(readFileSync(path, 'utf8')) as Literal;
    }
    case 'string': {
      let out = '';
      for (const c of n.namedChildren) {
        if (!c) continue;
        if (c.type === 'interpolation') {
          const v = paramExpressionValue(pf, c.namedChildren.find((x) => x !== null && x.type !== 'comment'));
          if (v === undefined) return undefined;
          out += typeof v === 'string' ? v : JSON.stringify(v);
        } else if (c.type === 'string_content') out += c.text;
        else return undefined;
      }
      return out;
    }
    default:
      return undefined;
  }
}

/** A param's value in a .bicepparam, evaluated as above; undefined when the file does not set it. */
export function paramValue(pf: BicepParamFile, name: string): Literal | undefined {
  return paramExpressionValue(pf, pf.assignments.find((a) => a.name === name)?.value);
}

function rel(path: string): string {
  return isAbsolute(path) ? relative(repoRoot, path) : path;
}
