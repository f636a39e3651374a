// The HTML report of load.mts: valid HTML, self-contained, its embedded data equal to the JSON
// report, and a chart that headless Chromium (from the @sparticuz/chromium npm package, or
// $CHROMIUM_PATH) actually lays out with drawn series.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startAppServer } from './fixtures/app-server.ts';
import { dumpDom } from './support/browser.ts';
import { LOAD_SECONDS, STAGE_FLAGS, loadWorld } from './support/load-fixtures.ts';
import type { HpaState, ReportJson, TimelineEntry } from './support/load-fixtures.ts';
import { jsonForScript, renderHtml } from '../scripts/lib/load/report.ts';
import type { LoadReport } from '../scripts/lib/load/report.ts';

const be = (current: number, desired: number, cpu: number | null): HpaState => ({ current, desired, cpu, scaleDownWindow: 30 });
const fe = (cpu: number): HpaState => ({ name: 'todo-frontend-hpa', target: 'todo-frontend', container: 'frontend', current: 2, desired: 2, cpu });
const podsOf = (ready: number, pending = 0) => ({ 'todo-backend': { ready, pending }, 'todo-frontend': { ready: 2 } });
const TIMELINE: TimelineEntry[] = [
  { at: 0, hpas: [be(2, 2, 15), fe(10)], pods: podsOf(2), nodes: 2 },
  { at: 30, hpas: [be(2, 2, 88), fe(30)], pods: podsOf(2), nodes: 2 },
  { at: 45, hpas: [be(2, 4, 92), fe(35)], pods: podsOf(2, 2), nodes: 2 },
  { at: 90, hpas: [be(4, 4, 66), fe(35)], pods: podsOf(4), nodes: 3 },
  { at: LOAD_SECONDS + 5, hpas: [be(4, 4, 12), fe(8)], pods: podsOf(4), nodes: 3 },
  { at: LOAD_SECONDS + 15, hpas: [be(4, 3, 6), fe(5)], pods: podsOf(4), nodes: 3 },
];

let html = '';
let htmlPath = '';
let report: ReportJson;
let reportText = '';

test.before(async () => {
  const app = await startAppServer();
  await app.whenListening();
  try {
    const dir = mkdtempSync(join(tmpdir(), 'load-report-'));
    const r = await loadWorld(TIMELINE).run('load', ['--env', 'local', '--url', app.url, ...STAGE_FLAGS, '--sample-interval', '5', '--observe-after', '40', '--report-dir', dir, '--yes'], { timeScale: 0.04, virtualTime: true, killAfterMs: 300_000 });
    if (r.code !== 0) throw new Error(`load.mts exited ${r.code}:\n${r.output}`);
    const files = readdirSync(dir);
    const jsonName = files.find((f) => /^load-\d{8}-\d{6}\.json$/.test(f));
    const htmlName = files.find((f) => /^load-\d{8}-\d{6}\.html$/.test(f));
    if (!jsonName || !htmlName) throw new Error(`reports missing: ${files.join(', ')}`);
    reportText = readFileSync(join(dir, jsonName), 'utf8');
    report = JSON.parse(reportText) as ReportJson;
    htmlPath = join(dir, htmlName);
    html = readFileSync(htmlPath, 'utf8');
  } finally {
    await app.close();
  }
});

// ---------- a small HTML tokenizer: enough to check nesting, attributes and structure ----------

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);
const RAW_TEXT = new Set(['script', 'style', 'title']);

interface Element { name: string; attrs: Record<string, string>; line: number; svg: boolean }

/** Parses the document's tags; throws on unbalanced or mis-nested tags, duplicate ids and bad attributes. */
function parseHtml(text: string): Element[] {
  const elements: Element[] = [];
  const stack: Element[] = [];
  const ids = new Set<string>();
  let i = 0;
  const lineAt = (pos: number) => text.slice(0, pos).split('\n').length;
  if (!/^<!DOCTYPE html>\n/i.test(text)) throw new Error('no <!DOCTYPE html> first');
  i = text.indexOf('\n') + 1;
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    if (lt === -1) break;
    if (text.startsWith('<!--', lt)) { i = text.indexOf('-->', lt) + 3; continue; }
    const m = /^<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+(?:="[^"]*")?)*)\s*(\/?)>/.exec(text.slice(lt));
    if (!m) throw new Error(`line ${lineAt(lt)}: not a well-formed tag: ${text.slice(lt, lt + 60)}`);
    const [whole, closing, rawName, rawAttrs, selfClose] = m;
    const name = rawName!.toLowerCase();
    i = lt + whole.length;
    const inSvg = stack.some((e) => e.name === 'svg');
    if (closing) {
      const top = stack.pop();
      if (!top || top.name !== name) throw new Error(`line ${lineAt(lt)}: </${name}> closes <${top?.name ?? '(nothing)'}>`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of rawAttrs!.matchAll(/([\w:-]+)(?:="([^"]*)")?/g)) {
      if (a[1]! in attrs) throw new Error(`line ${lineAt(lt)}: duplicate attribute ${a[1]} on <${name}>`);
      attrs[a[1]!] = a[2] ?? '';
    }
    if (attrs.id !== undefined) {
      if (ids.has(attrs.id)) throw new Error(`duplicate id "${attrs.id}"`);
      ids.add(attrs.id);
    }
    const el: Element = { name, attrs, line: lineAt(lt), svg: inSvg || name === 'svg' };
    elements.push(el);
    if (VOID.has(name) || (selfClose && el.svg)) continue;
    if (selfClose) throw new Error(`line ${el.line}: <${name}/> is not a void element`);
    if (RAW_TEXT.has(name) && !el.svg) {
      const end = text.toLowerCase().indexOf(`</${name}>`, i);
      if (end === -1) throw new Error(`<${name}> never closed`);
      i = end + name.length + 3;
      continue;
    }
    stack.push(el);
  }
  if (stack.length) throw new Error(`unclosed: ${stack.map((e) => `<${e.name}> (line ${e.line})`).join(', ')}`);
  return elements;
}

test('the HTML report is well-formed HTML with one html/head/body, a title, the verdict table and the chart', () => {
  const els = parseHtml(html);
  const names = els.filter((e) => !e.svg).map((e) => e.name);
  for (const n of ['html', 'head', 'body', 'title']) assert.is(names.filter((x) => x === n).length, 1, n);
  assert.is(els[0]!.name, 'html');
  assert.is(els[0]!.attrs.lang, 'en');
  assert.ok(els.some((e) => e.name === 'meta' && e.attrs.charset === 'utf-8'));
  assert.is(els.filter((e) => e.name === 'svg').length, 1);
  assert.is(els.filter((e) => e.name === 'tr' && e.attrs.class === 'criterion').length, report.verdict.criteria.length);
  // Structure also survives a browser-grade parser: the test below reads Chromium's DOM.
});

test('the HTML report is self-contained: no external URL in src, href, url() or @import; no external resources at all', () => {
  const els = parseHtml(html);
  for (const e of els) {
    for (const [k, v] of Object.entries(e.attrs)) {
      if (['src', 'href', 'xlink:href', 'action', 'poster', 'data'].includes(k)) assert.unreachable(`<${e.name} ${k}="${v}"> at line ${e.line}`);
    }
    assert.ok(!['link', 'img', 'iframe', 'object', 'embed'].includes(e.name), `<${e.name}> at line ${e.line}`);
    if (e.name === 'script') assert.not.ok('src' in e.attrs, 'script with src');
  }
  assert.not.match(html, /url\(\s*['"]?(https?:)?\/\//i);
  assert.not.match(html, /@import/i);
  // Outside the embedded data and the app's own URL shown as text, no http(s) address at all.
  const stripped = html.replace(/<script type="application\/json"[^>]*>[\s\S]*?<\/script>/, '').split(report.k6.command.split(' ').find((a) => a.startsWith('BASE_URL='))!.slice('BASE_URL='.length)).join('');
  assert.not.match(stripped, /https?:\/\//);
});

test('the embedded data equal the JSON report, and the chart and tables are drawn from them', () => {
  const m = /<script type="application\/json" id="load-report-data">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m, 'embedded data');
  assert.equal(JSON.parse(m![1]!), JSON.parse(reportText));
  // Each criterion row shows the JSON's status.
  for (const c of report.verdict.criteria) assert.match(html, new RegExp(`data-criterion="${c.id}" data-status="${c.status}"`));
  // Each series path has as many points as the JSON has values for it.
  const points = (id: string) => Number(new RegExp(`data-series="${id.replace(/[()]/g, '\\$&')}" data-points="(\\d+)"`).exec(html)?.[1] ?? 0);
  const cpuValues = report.samples.filter((s) => s.hpas?.some((h) => h.name === 'todo-backend-hpa' && h.cpuUtilization !== null)).length;
  assert.is(points('cpu:todo-backend-hpa'), cpuValues);
  assert.is(points('desired:todo-backend-hpa'), report.samples.filter((s) => s.hpas?.some((h) => h.name === 'todo-backend-hpa')).length);
  assert.is(points('nodes'), report.samples.filter((s) => s.nodes).length);
  assert.ok(Array.isArray(report.k6.series));
  const series = report.k6.series as Array<Record<string, number | null>>;
  assert.is(points('vus'), series.filter((b) => b.vus !== null).length);
  assert.is(points('p95'), series.filter((b) => b.p95Ms !== null).length);
  assert.ok(points('vus') > 10);
  // Every moment the verdict marks is named in words on the CPU panel, with its time.
  const labels = [...html.matchAll(/<text class="marker-label"[^>]*>([^<]*)<\/text>/g)].map((x) => x[1]);
  assert.ok(report.verdict.markers.length >= 2, 'the run marks the crossing and the scale-out');
  assert.equal(labels.map((l) => l!.replace(/ \(-?\d+(s|m\d\d)\)$/, '')), report.verdict.markers.map((m) => m.label.replace('>', '&gt;')));
  const ys = [...html.matchAll(/<text class="marker-label"[^>]*y="([\d.]+)"/g)].map((x) => Number(x[1]));
  assert.is(new Set(ys).size, ys.length, 'labels on distinct lines');
  // The highest replica count drawn is the JSON's: the y axis of the replicas panel tops out above it.
  assert.match(html, /<text[^>]*>max 5<\/text>/);
});

test('headless Chromium opens the report and lays out the chart: a sized SVG with every data series drawn', async () => {
  const dom = await dumpDom(pathToFileURL(htmlPath).href);
  const drawn = Number(/data-series-drawn="(\d+)"/.exec(dom)?.[1] ?? -1);
  const size = /data-chart-size="(\d+)x(\d+)"/.exec(dom);
  const nonEmpty = [...html.matchAll(/<path class="series"/g)].length;
  assert.ok(nonEmpty >= 9, `series in the file: ${nonEmpty}`);
  assert.is(drawn, nonEmpty, 'every series path has a non-zero length in the browser');
  assert.ok(size && Number(size[1]) > 600 && Number(size[2]) > 600, `chart size ${size?.[0]}`);
  // Chromium's DOM holds the same verdict rows and the chart's panels.
  assert.is([...dom.matchAll(/<tr class="criterion"/g)].length, report.verdict.criteria.length);
  for (const p of ['vus', 'rate', 'p95', 'cpu', 'replicas', 'nodes']) assert.match(dom, new RegExp(`<g class="panel" data-panel="${p}">`));
  assert.match(dom, /<path class="series" data-series="cpu:todo-backend-hpa" data-points="\d+" d="M[\d.]+,[\d.]+ L/);
});

test('escaping: a hostile value in the data cannot end the script element or inject markup', () => {
  const hostile = '</script><img src=x onerror=alert(1)>';
  const doc = JSON.parse(reportText) as LoadReport;
  doc.url = hostile;
  doc.samples[0]!.errors = [hostile];
  const out = renderHtml(doc);
  assert.not.ok(out.includes('<img'), 'no injected element');
  assert.ok(jsonForScript(doc).includes('\\u003c/script\\u003e'));
  const m = /<script type="application\/json" id="load-report-data">([\s\S]*?)<\/script>/.exec(out);
  assert.equal(JSON.parse(m![1]!), doc);
  parseHtml(out);
});

test.run();
