// The load test's outputs: the JSON report (samples + k6 metrics + verdict), a self-contained
// HTML report with inline SVG charts over time (no external URL, no script library), and the
// terminal lines. The HTML embeds the JSON report unchanged, so the picture and the data agree.
import type { HpaSnapshot, NodeSnapshot, PodSnapshot } from './cluster.ts';
import type { K6Bucket, K6Summary, Scenario } from './k6.ts';
import type { Phase, Sample } from './observe.ts';
import type { Criteria, Verdict } from './verdict.ts';

export const REPORT_SCHEMA = 'aks-todo-ops/load-report@1';

export interface LoadReport {
  schema: typeof REPORT_SCHEMA;
  generatedAt: string;
  environment: string;
  namespace: string;
  release: string;
  url: string;
  scenario: Scenario;
  criteria: Criteria & { observeAfterSeconds: number };
  k6: {
    command: string;
    exitCode: number;
    timedOut: boolean;
    startedAt: string;
    endedAt: string;
    /** Seconds since k6 started at which it ended. */
    durationSeconds: number;
    summaryFile: string;
    pointsFile: string;
    summary: K6Summary | { error: string };
    /** Per-interval VUs, request rate, p95 and error rate from k6's --out json points, aligned to t = 0 at k6's start. */
    series: K6Bucket[] | { error: string };
  };
  samples: Sample[];
  verdict: Verdict;
}

// ---------- terminal ----------

const MARK = { pass: 'PASS', fail: 'FAIL', inconclusive: 'NOT SHOWN', skipped: 'skipped' } as const;

export function terminalLines(report: LoadReport, files: { json: string; html: string }): string[] {
  const v = report.verdict;
  const failed = v.criteria.filter((c) => c.status === 'fail' || c.status === 'inconclusive');
  const judged = v.criteria.filter((c) => c.status !== 'skipped').length;
  const lines = [
    `Load test of ${report.url} (${report.scenario}) in ${report.environment}: ${v.ok ? 'all criteria hold' : `${failed.length} of ${judged} ${judged === 1 ? 'criterion' : 'criteria'} not met`}`,
  ];
  for (const c of v.criteria) {
    lines.push(`  ${MARK[c.status].padEnd(9)} ${c.title}: ${c.explanation}`);
    if (c.fix && (c.status === 'fail' || c.status === 'inconclusive')) lines.push(`            fix: ${c.fix}`);
  }
  lines.push(`  report: ${files.html}`, `  data:   ${files.json}`);
  return lines;
}

// ---------- chart data ----------

export interface ChartSeries {
  id: string;
  label: string;
  color: string;
  points: Array<[number, number]>;
  dashed?: boolean;
}

export interface ChartPanel {
  id: string;
  title: string;
  unit: string;
  series: ChartSeries[];
  /** A horizontal reference line (target, threshold, max). */
  reference?: { value: number; label: string };
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

const hpaValue = (pick: (h: HpaSnapshot) => number | null) => (samples: readonly Sample[], name: string): Array<[number, number]> =>
  samples.flatMap((s) => {
    const h = s.hpas?.find((x) => x.name === name);
    const v = h ? pick(h) : null;
    return v === null ? [] : [[s.t, v] as [number, number]];
  });

/** The panels the report draws, from the samples and k6's series. */
export function chartPanels(report: LoadReport): ChartPanel[] {
  const samples = report.samples;
  const names = [...new Set(samples.flatMap((s) => (s.hpas ?? []).map((h) => h.name)))].sort();
  const series = Array.isArray(report.k6.series) ? report.k6.series : [];
  const k6 = (pick: (b: K6Bucket) => number | null): Array<[number, number]> =>
    series.flatMap((b) => { const v = pick(b); return v === null ? [] : [[b.t, v] as [number, number]]; });
  const color = (i: number) => PALETTE[i % PALETTE.length]!;
  const panels: ChartPanel[] = [
    { id: 'vus', title: 'Virtual users (k6)', unit: 'VUs', series: [{ id: 'vus', label: 'VUs', color: color(0), points: k6((b) => b.vus) }] },
    { id: 'rate', title: 'Request rate (k6)', unit: 'req/s', series: [{ id: 'rate', label: 'requests/s', color: color(2), points: k6((b) => b.requestRate) }] },
    {
      id: 'p95', title: 'p95 latency (k6)', unit: 'ms', series: [{ id: 'p95', label: 'p95 ms', color: color(4), points: k6((b) => b.p95Ms) }],
      reference: { value: 1000, label: 'threshold 1000 ms' },
    },
    {
      id: 'cpu', title: 'CPU utilisation (HPA, % of request)', unit: '%',
      series: names.map((n, i) => ({ id: `cpu:${n}`, label: n, color: color(i), points: hpaValue((h) => h.cpuUtilization)(samples, n) })),
      reference: { value: report.criteria.cpuTargetPercent, label: `target ${report.criteria.cpuTargetPercent}%` },
    },
    {
      id: 'replicas', title: 'Replicas (HPA desired, current)', unit: 'replicas',
      series: names.flatMap((n, i) => [
        { id: `desired:${n}`, label: `${n} desired`, color: color(i), points: hpaValue((h) => h.desiredReplicas)(samples, n), dashed: true },
        { id: `current:${n}`, label: `${n} current`, color: color(i), points: hpaValue((h) => h.currentReplicas)(samples, n) },
      ]),
    },
    {
      id: 'nodes', title: 'Nodes and pending pods', unit: 'count',
      series: [
        { id: 'nodes', label: 'nodes', color: color(3), points: samples.flatMap((s) => (s.nodes ? [[s.t, s.nodes.total] as [number, number]] : [])) },
        { id: 'nodes-ready', label: 'nodes Ready', color: color(5), points: samples.flatMap((s) => (s.nodes ? [[s.t, s.nodes.ready] as [number, number]] : [])), dashed: true },
        { id: 'pending', label: 'pods Pending', color: color(1), points: samples.flatMap((s) => (s.pods ? [[s.t, s.pods.pending] as [number, number]] : [])) },
      ],
    },
  ];
  const maxReplicas = Math.max(0, ...samples.flatMap((s) => (s.hpas ?? []).map((h) => h.maxReplicas)));
  if (maxReplicas > 0) panels[4]!.reference = { value: maxReplicas, label: `max ${maxReplicas}` };
  return panels;
}

// ---------- SVG ----------

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

/** A time-axis step in seconds giving about `ticks` ticks: 5 s, 10 s, 15 s, 30 s, 1 min, 2 min, 5 min, … */
function timeStep(range: number, ticks: number): number {
  const steps = [5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
  return steps.find((st) => range / st <= ticks) ?? 3600;
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

function timeLabel(t: number): string {
  const sign = t < 0 ? '-' : '';
  const a = Math.abs(Math.round(t));
  return a >= 60 ? `${sign}${Math.floor(a / 60)}m${String(a % 60).padStart(2, '0')}` : `${sign}${a}s`;
}

export interface ChartOptions {
  width?: number;
  panelHeight?: number;
}

/** One SVG with a panel per metric over a shared time axis, the load window shaded and the verdict's moments marked. */
export function renderChartSvg(report: LoadReport, opts: ChartOptions = {}): string {
  const panels = chartPanels(report);
  const width = opts.width ?? 960;
  const ph = opts.panelHeight ?? 150;
  const left = 64;
  const right = 200;
  const top = 12;
  const gap = 34;
  const plotW = width - left - right;
  const allT = [
    ...report.samples.map((s) => s.t),
    ...panels.flatMap((p) => p.series.flatMap((s) => s.points.map((pt) => pt[0]))),
    report.k6.durationSeconds,
    0,
  ];
  const tMin = Math.min(...allT);
  const tMax = Math.max(...allT, tMin + 1);
  const x = (t: number) => left + ((t - tMin) / (tMax - tMin)) * plotW;
  const height = top + panels.length * (ph + gap) + 20;
  const out: string[] = [];
  out.push(`<svg class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="chart-title">`);
  out.push('<title id="chart-title">Load test over time: virtual users, request rate, p95 latency, CPU utilisation, replicas, nodes</title>');
  const tickStep = timeStep(tMax - tMin, 10);
  panels.forEach((panel, i) => {
    const y0 = top + i * (ph + gap) + 16;
    const values = panel.series.flatMap((s) => s.points.map((p) => p[1]));
    const yMax = niceMax(Math.max(...values, panel.reference?.value ?? 0, 1) * 1.1);
    const y = (v: number) => y0 + ph - (v / yMax) * ph;
    out.push(`<g class="panel" data-panel="${panel.id}">`);
    out.push(`<text x="${left}" y="${y0 - 4}" font-size="12" font-weight="bold">${esc(panel.title)}</text>`);
    // The load window: from k6's start (t = 0) to its end.
    out.push(`<rect class="load-window" x="${x(0).toFixed(1)}" y="${y0}" width="${Math.max(0, x(report.k6.durationSeconds) - x(0)).toFixed(1)}" height="${ph}" fill="#f3f6fb"/>`);
    out.push(`<rect x="${left}" y="${y0}" width="${plotW}" height="${ph}" fill="none" stroke="#999" stroke-width="0.5"/>`);
    for (const frac of [0, 0.5, 1]) {
      const v = yMax * frac;
      out.push(`<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" font-size="10" text-anchor="end">${fmt(v)}</text>`);
      if (frac > 0) out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e5e5" stroke-width="0.5"/>`);
    }
    out.push(`<text x="14" y="${y0 + ph / 2}" font-size="10" transform="rotate(-90 14 ${y0 + ph / 2})" text-anchor="middle">${esc(panel.unit)}</text>`);
    for (let t = Math.ceil(tMin / tickStep) * tickStep; t <= tMax; t += tickStep) {
      out.push(`<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${y0 + ph}" y2="${y0 + ph + 3}" stroke="#666"/>`);
      out.push(`<text x="${x(t).toFixed(1)}" y="${y0 + ph + 13}" font-size="9" text-anchor="middle">${timeLabel(t)}</text>`);
    }
    if (panel.reference) {
      const ry = y(panel.reference.value).toFixed(1);
      out.push(`<line class="reference" x1="${left}" x2="${left + plotW}" y1="${ry}" y2="${ry}" stroke="#555" stroke-dasharray="2 3"/>`);
      out.push(`<text x="${left + plotW - 4}" y="${(Number(ry) - 3).toFixed(1)}" font-size="9" text-anchor="end" fill="#555">${esc(panel.reference.label)}</text>`);
    }
    for (const m of report.verdict.markers) {
      out.push(`<line class="marker" x1="${x(m.t).toFixed(1)}" x2="${x(m.t).toFixed(1)}" y1="${y0}" y2="${y0 + ph}" stroke="#c0392b" stroke-width="0.8" stroke-dasharray="4 2"><title>${esc(`${m.label} at ${timeLabel(m.t)}`)}</title></line>`);
    }
    // Name the moments where they matter, on the CPU panel: one line per marker so labels of
    // markers close together (a crossing and its scale-out) never overlap.
    if (panel.id === 'cpu') {
      report.verdict.markers.forEach((m, k) => {
        const mx = x(m.t);
        const anchor = mx > left + plotW * 0.7 ? 'end' : 'start';
        out.push(`<text class="marker-label" x="${(anchor === 'end' ? mx - 3 : mx + 3).toFixed(1)}" y="${y0 + 11 + k * 11}" font-size="9" fill="#c0392b" text-anchor="${anchor}">${esc(`${m.label} (${timeLabel(m.t)})`)}</text>`);
      });
    }
    panel.series.forEach((s, j) => {
      if (s.points.length > 0) {
        const d = s.points.map((p, k) => `${k === 0 ? 'M' : 'L'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ');
        // A single point still draws: a short tick so the series is visible.
        const path = s.points.length === 1 ? `${d} l4,0` : d;
        out.push(`<path class="series" data-series="${esc(s.id)}" data-points="${s.points.length}" d="${path}" fill="none" stroke="${s.color}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
      }
      const ly = y0 + 12 + j * 14;
      out.push(`<line x1="${left + plotW + 10}" x2="${left + plotW + 28}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
      out.push(`<text x="${left + plotW + 32}" y="${ly}" font-size="10">${esc(s.label)}${s.points.length === 0 ? ' (no data)' : ''}</text>`);
    });
    out.push('</g>');
  });
  out.push(`<text x="${left + plotW / 2}" y="${height - 4}" font-size="10" text-anchor="middle">time since k6 started (shaded: k6 running; red dashes: the moments named on the CPU panel)</text>`);
  out.push('</svg>');
  return out.join('\n');
}

// ---------- HTML ----------

/** JSON safe inside a <script> element: no `</script>` or `<!--` can end it early. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const STATUS_COLOR = { pass: '#1e7e34', fail: '#b02a37', inconclusive: '#a15c00', skipped: '#6c757d' } as const;

function podsCell(p: PodSnapshot | null): string {
  return p ? `${p.ready}/${p.total} ready${p.pending ? `, ${p.pending} pending` : ''}` : 'n/a';
}
function nodesCell(n: NodeSnapshot | null): string {
  return n ? `${n.ready}/${n.total}` : 'n/a';
}
const PHASE_LABEL: Record<Phase, string> = { before: 'before', load: 'load', after: 'after' };

export function renderHtml(report: LoadReport): string {
  const v = report.verdict;
  const summary = report.k6.summary;
  const totals = 'error' in summary
    ? `<p class="warn">${esc(summary.error)}</p>`
    : `<table><tbody>
<tr><th>requests</th><td>${summary.requests ?? 'n/a'} (${summary.requestRate === null ? 'n/a' : summary.requestRate.toFixed(1)}/s)</td></tr>
<tr><th>latency</th><td>p95 ${summary.p95Ms === null ? 'n/a' : `${Math.round(summary.p95Ms)} ms`}, p90 ${summary.p90Ms === null ? 'n/a' : `${Math.round(summary.p90Ms)} ms`}, avg ${summary.avgMs === null ? 'n/a' : `${Math.round(summary.avgMs)} ms`}, max ${summary.maxMs === null ? 'n/a' : `${Math.round(summary.maxMs)} ms`}</td></tr>
<tr><th>failed requests</th><td>${summary.failedRate === null ? 'n/a' : `${(summary.failedRate * 100).toFixed(2)}%`}</td></tr>
<tr><th>checks passed</th><td>${summary.checksRate === null ? 'n/a' : `${(summary.checksRate * 100).toFixed(2)}%`}</td></tr>
<tr><th>peak VUs</th><td>${summary.vusMax ?? 'n/a'}</td></tr>
<tr><th>thresholds</th><td>${summary.thresholds.map((t) => `<span class="${t.ok ? 'ok' : 'bad'}">${t.ok ? '✓' : '✗'} ${esc(`${t.metric} ${t.threshold}`)}</span>`).join('<br>') || 'none'}</td></tr>
</tbody></table>`;
  const seriesNote = Array.isArray(report.k6.series)
    ? ''
    : `<p class="warn">No k6 time series: ${esc(report.k6.series.error)}. The VU, request-rate and latency panels are empty; the totals above come from k6's summary.</p>`;
  const rows = report.samples.map((s) => {
    const hpas = (s.hpas ?? []).map((h) => `${esc(h.name)}: ${h.cpuUtilization === null ? 'cpu n/a' : `${h.cpuUtilization}%`} ${h.currentReplicas}→${h.desiredReplicas}`).join('<br>') || (s.hpas ? 'no HPA' : 'n/a');
    return `<tr><td>${timeLabel(s.t)}</td><td>${PHASE_LABEL[s.phase]}</td><td>${hpas}</td><td>${podsCell(s.pods)}</td><td>${nodesCell(s.nodes)}</td><td>${esc(s.errors.join('; '))}</td></tr>`;
  }).join('\n');
  const criteria = v.criteria.map((c) => `<tr class="criterion" data-criterion="${c.id}" data-status="${c.status}"><td><span class="status" style="background:${STATUS_COLOR[c.status]}">${c.status}</span></td><td>${esc(c.title)}</td><td>${esc(c.explanation)}${c.fix && c.status !== 'pass' && c.status !== 'skipped' ? `<div class="fix">fix: ${esc(c.fix)}</div>` : ''}</td></tr>`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Load test ${esc(report.environment)} ${esc(report.generatedAt)}: ${v.ok ? 'passed' : 'failed'}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #222; max-width: 1200px; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
.status { color: #fff; border-radius: 3px; padding: 1px 6px; font-size: 12px; text-transform: uppercase; }
.verdict { font-size: 16px; font-weight: bold; color: ${v.ok ? STATUS_COLOR.pass : STATUS_COLOR.fail}; }
.fix { color: #555; margin-top: 4px; font-style: italic; }
.ok { color: ${STATUS_COLOR.pass}; } .bad { color: ${STATUS_COLOR.fail}; } .warn { color: ${STATUS_COLOR.inconclusive}; }
svg.chart { max-width: 100%; height: auto; border: 1px solid #eee; }
code { background: #f5f5f5; padding: 1px 4px; }
</style>
</head>
<body>
<h1>Load test: ${esc(report.url)}</h1>
<p>Environment <code>${esc(report.environment)}</code>, release <code>${esc(report.release)}</code> in namespace <code>${esc(report.namespace)}</code>, scenario <code>${esc(report.scenario)}</code>.
k6 ran from ${esc(report.k6.startedAt)} for ${Math.round(report.k6.durationSeconds)} s (exit ${report.k6.exitCode}); the cluster was sampled every ${report.criteria.sampleIntervalSeconds} s and for ${report.criteria.observeAfterSeconds} s after.</p>
<p class="verdict" id="verdict">${v.ok ? 'PASSED: all criteria hold' : 'FAILED: see the criteria below'}</p>
<h2>Verdict</h2>
<table id="criteria"><thead><tr><th>status</th><th>criterion</th><th>measured</th></tr></thead><tbody>
${criteria}
</tbody></table>
<p>Criteria: scale-out within ${report.criteria.scaleOutWithinSeconds} s of average CPU crossing ${report.criteria.cpuTargetPercent}% (plus the HPA's tolerance); the time resolution is the sampling interval.</p>
<h2>Over time</h2>
${seriesNote}
<figure id="chart">
${renderChartSvg(report)}
</figure>
<h2>k6 totals</h2>
${totals}
<p>Command: <code>${esc(report.k6.command)}</code></p>
<h2>Samples</h2>
<details><summary>${report.samples.length} samples of the HPAs, pods and nodes</summary>
<table id="samples"><thead><tr><th>t</th><th>phase</th><th>HPA: CPU current→desired</th><th>pods</th><th>nodes ready/total</th><th>errors</th></tr></thead><tbody>
${rows}
</tbody></table>
</details>
<script type="application/json" id="load-report-data">${jsonForScript(report)}</script>
<script>
// Records that the browser laid the chart out (used by the report test; harmless elsewhere).
(function () {
  var svg = document.querySelector('svg.chart');
  var drawn = 0;
  document.querySelectorAll('svg.chart path.series').forEach(function (p) { if (p.getTotalLength() > 0) drawn += 1; });
  var box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
  document.documentElement.setAttribute('data-series-drawn', String(drawn));
  document.documentElement.setAttribute('data-chart-size', Math.round(box.width) + 'x' + Math.round(box.height));
})();
</script>
</body>
</html>
`;
}
