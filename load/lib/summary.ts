// End of test: k6's summary data, written as JSON for scripts/load.mts, plus a few lines on stdout.
// An exported handleSummary replaces k6's own stdout summary, so the short text here is all a
// person sees at the end of the run.

/** The part of k6 1.x's handleSummary data this module reads (the legacy shape, all of 1.x). */
export interface SummaryMetric {
  type: 'counter' | 'gauge' | 'rate' | 'trend';
  contains: string;
  values: Record<string, number>;
  thresholds?: Record<string, { ok: boolean }>;
}

export interface SummaryData {
  metrics: Record<string, SummaryMetric>;
  state?: { testRunDurationMs?: number };
  [key: string]: unknown;
}

function value(data: SummaryData, metric: string, key: string): number | undefined {
  return data.metrics[metric]?.values[key];
}

function fixed(n: number | undefined, digits: number, unit = ''): string {
  return n === undefined ? 'n/a' : `${n.toFixed(digits)}${unit}`;
}

function percent(n: number | undefined): string {
  return n === undefined ? 'n/a' : `${(n * 100).toFixed(2)}%`;
}

/** Every threshold in the data as `metric 'source'` with its outcome. */
export function thresholdResults(data: SummaryData): Array<{ metric: string; threshold: string; ok: boolean }> {
  const out: Array<{ metric: string; threshold: string; ok: boolean }> = [];
  for (const [metric, m] of Object.entries(data.metrics)) {
    for (const [threshold, result] of Object.entries(m.thresholds ?? {})) out.push({ metric, threshold, ok: result.ok });
  }
  return out;
}

export function summaryText(scenario: string, data: SummaryData, summaryPath: string, maxChatRequests: number): string {
  const seconds = (data.state?.testRunDurationMs ?? 0) / 1000;
  const thresholds = thresholdResults(data);
  const failed = thresholds.filter((t) => !t.ok);
  const lines = [
    `k6 ${scenario}: ${fixed(value(data, 'http_reqs', 'count'), 0)} requests in ${seconds.toFixed(1)}s ` +
      `(${fixed(value(data, 'http_reqs', 'rate'), 1)}/s), peak ${fixed(value(data, 'vus_max', 'value'), 0)} VUs`,
    `  latency p(95) ${fixed(value(data, 'http_req_duration', 'p(95)'), 0, ' ms')}, ` +
      `failed requests ${percent(value(data, 'http_req_failed', 'rate'))}, checks passed ${percent(value(data, 'checks', 'rate'))}`,
    `  chat requests ${fixed(value(data, 'chat_requests', 'count') ?? 0, 0)} (cap ${maxChatRequests})`,
    ...thresholds.map((t) => `  ${t.ok ? 'ok    ' : 'FAILED'} ${t.metric} ${t.threshold}`),
    failed.length ? `  ${failed.length} threshold(s) failed: k6 exits 99` : '  all thresholds passed',
    `  summary JSON: ${summaryPath}`,
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * What handleSummary returns: k6 writes each key as a file (`stdout` is the terminal).
 * The JSON is k6's data object unchanged, so readers get the documented shape.
 */
export function summaryOutputs(
  scenario: string,
  data: SummaryData,
  summaryPath: string,
  maxChatRequests: number,
): Record<string, string> {
  return {
    stdout: summaryText(scenario, data, summaryPath, maxChatRequests),
    [summaryPath]: JSON.stringify(data, null, 2),
  };
}
