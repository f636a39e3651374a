// The availability objective, measured: reads the availability test's results from Application
// Insights (az monitor app-insights query) and turns them into availability over 1, 7 and 30 days,
// the error budget left in minutes, and the worst incidents.
//
// How a budget is counted: availability = passed checks / all checks (what the portal's
// availability blade reports), and the spent budget is its time equivalent, (1 - availability) x
// the window's minutes. At 99.9% a 30-day window allows 43.2 minutes.
import { z } from 'zod';
import { OpsError } from './errors.ts';

/** The plan's objective: 99.9% uptime. */
export const DEFAULT_OBJECTIVE_PERCENT = 99.9;
/** Windows reported, in days; the last one decides whether the budget is spent. */
export const WINDOWS_DAYS = [1, 7, 30] as const;
/** Result bins, in minutes: the web test's frequency (bicep/modules/availability.bicep). */
export const BIN_MINUTES = 5;
/** How many incidents the report lists. */
export const WORST_INCIDENTS = 3;

/**
 * The query, in the classic Application Insights schema that `az monitor app-insights query` uses
 * (table availabilityResults: timestamp, name, success): checks and failed checks per 5-minute bin
 * over the longest window, each row stamped with the service's own now() so the shorter windows are
 * measured from the same instant as the query's ago(30d).
 * `success` is compared as text because the classic API returns it as a string ("1"/"0").
 */
export function availabilityQuery(webTestName: string): string {
  const days = Math.max(...WINDOWS_DAYS);
  const name = webTestName.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  return [
    'availabilityResults',
    `| where timestamp > ago(${days}d) and name == '${name}'`,
    `| summarize total = count(), failed = countif(tostring(success) in ('0', 'false', 'False')) by bin(timestamp, ${BIN_MINUTES}m)`,
    '| extend queriedAt = now()',
    '| order by timestamp asc',
  ].join(' ');
}

/**
 * The Application Insights query API's answer (https://learn.microsoft.com/rest/api/application-insights/query/execute):
 * { tables: [{ name, columns: [{ name, type }], rows: [[...], ...] }] }. Numbers of type long may
 * come back as strings (the documented sample does), so cells are read as either.
 */
export const AppInsightsQueryAnswerSchema = z.looseObject({
  tables: z.array(z.looseObject({
    name: z.string(),
    columns: z.array(z.looseObject({ name: z.string(), type: z.string().optional() })),
    rows: z.array(z.array(z.unknown())),
  })),
});
export type AppInsightsQueryAnswer = z.output<typeof AppInsightsQueryAnswerSchema>;

export interface Bin {
  /** Start of the 5-minute bin, ms since the epoch. */
  start: number;
  total: number;
  failed: number;
}

export interface ParsedResults {
  bins: Bin[];
  /** The service's now() when it answered; undefined when there were no rows. */
  queriedAt?: number;
}

const toNumber = (v: unknown, what: string): number => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  if (!Number.isFinite(n)) throw new OpsError(`unexpected answer from az monitor app-insights query: ${what} is not a number`, { hint: 'check the application-insights az extension with az extension list; --verbose shows the whole answer' });
  return n;
};
const toTime = (v: unknown, what: string): number => {
  const t = typeof v === 'string' ? Date.parse(v) : Number.NaN;
  if (!Number.isFinite(t)) throw new OpsError(`unexpected answer from az monitor app-insights query: ${what} is not a timestamp`, { hint: 'check the application-insights az extension with az extension list; --verbose shows the whole answer' });
  return t;
};

/** Maps the primary table's rows by column name (their order is the service's to choose). */
export function parseAvailabilityResults(doc: AppInsightsQueryAnswer): ParsedResults {
  const table = doc.tables.find((t) => t.name === 'PrimaryResult') ?? doc.tables[0];
  if (!table || table.rows.length === 0) return { bins: [] };
  const col = (name: string) => {
    const i = table.columns.findIndex((c) => c.name === name);
    if (i < 0) throw new OpsError(`unexpected answer from az monitor app-insights query: no column "${name}" (columns: ${table.columns.map((c) => c.name).join(', ')})`, { hint: 'the query in scripts/lib/slo.ts names the columns it reads' });
    return i;
  };
  const [ts, total, failed, queriedAt] = [col('timestamp'), col('total'), col('failed'), col('queriedAt')];
  const bins = table.rows.map((r, i) => ({
    start: toTime(r[ts], `row ${i} timestamp`),
    total: toNumber(r[total], `row ${i} total`),
    failed: toNumber(r[failed], `row ${i} failed`),
  })).sort((a, b) => a.start - b.start);
  return { bins, queriedAt: toTime(table.rows[0]![queriedAt], 'queriedAt') };
}

export interface WindowReport {
  days: number;
  checks: number;
  failedChecks: number;
  /** Percent, or null when the window holds no checks. */
  availabilityPercent: number | null;
  budgetMinutes: number;
  spentMinutes: number;
  /** Negative when overspent. */
  leftMinutes: number;
  met: boolean | null;
}

export interface Incident {
  start: string;
  end: string;
  failedChecks: number;
  checks: number;
  /** Time-equivalent downtime: the failed share of each bin times its 5 minutes. */
  downtimeMinutes: number;
}

export interface SloReport {
  objectivePercent: number;
  measuredAt: string | null;
  windows: WindowReport[];
  worstIncidents: Incident[];
  /** True when the longest window's budget is used up (or it holds no checks at all). */
  budgetSpent: boolean;
  noData: boolean;
}

const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Availability, budgets and incidents from the bins. */
export function computeSlo(results: ParsedResults, objectivePercent = DEFAULT_OBJECTIVE_PERCENT): SloReport {
  const allowed = 1 - objectivePercent / 100;
  const now = results.queriedAt;
  const windows = WINDOWS_DAYS.map((days): WindowReport => {
    const minutes = days * 24 * 60;
    const inWindow = now === undefined ? [] : results.bins.filter((b) => b.start >= now - minutes * 60_000);
    const checks = inWindow.reduce((s, b) => s + b.total, 0);
    const failedChecks = inWindow.reduce((s, b) => s + b.failed, 0);
    const budgetMinutes = round(allowed * minutes, 1);
    if (checks === 0) return { days, checks, failedChecks, availabilityPercent: null, budgetMinutes, spentMinutes: 0, leftMinutes: budgetMinutes, met: null };
    const availability = (checks - failedChecks) / checks;
    const spentMinutes = round((1 - availability) * minutes, 1);
    return { days, checks, failedChecks, availabilityPercent: round(availability * 100), budgetMinutes, spentMinutes, leftMinutes: round(budgetMinutes - spentMinutes, 1), met: availability * 100 >= objectivePercent };
  });

  // Incidents: runs of consecutive bins with at least one failed check.
  const incidents: Incident[] = [];
  let run: Bin[] = [];
  const close = () => {
    if (!run.length) return;
    const first = run[0]!;
    const last = run[run.length - 1]!;
    incidents.push({
      start: new Date(first.start).toISOString(),
      end: new Date(last.start + BIN_MINUTES * 60_000).toISOString(),
      failedChecks: run.reduce((s, b) => s + b.failed, 0),
      checks: run.reduce((s, b) => s + b.total, 0),
      downtimeMinutes: round(run.reduce((s, b) => s + (b.total ? (b.failed / b.total) * BIN_MINUTES : 0), 0), 1),
    });
    run = [];
  };
  for (const b of results.bins) {
    const prev = run[run.length - 1];
    if (b.failed > 0 && prev && b.start - prev.start > BIN_MINUTES * 60_000) close();
    if (b.failed > 0) run.push(b);
    else close();
  }
  close();
  const worstIncidents = incidents.sort((a, b) => b.downtimeMinutes - a.downtimeMinutes || a.start.localeCompare(b.start)).slice(0, WORST_INCIDENTS);

  const longest = windows[windows.length - 1]!;
  const noData = longest.checks === 0;
  return {
    objectivePercent,
    measuredAt: now === undefined ? null : new Date(now).toISOString(),
    windows,
    worstIncidents,
    budgetSpent: noData || longest.leftMinutes <= 0,
    noData,
  };
}

const pct = (p: number | null) => (p === null ? 'no checks' : `${p.toFixed(3)}%`);

/** One line per window, for the terminal. */
export function formatWindow(w: WindowReport, objectivePercent: number): string {
  if (w.availabilityPercent === null) return `${String(w.days).padStart(2)}d  no checks`;
  const state = w.met ? 'ok  ' : 'MISS';
  return `${String(w.days).padStart(2)}d  ${state} ${pct(w.availabilityPercent)} of ${objectivePercent}%  (${w.failedChecks} of ${w.checks} checks failed; budget ${w.budgetMinutes} min, spent ${w.spentMinutes}, left ${w.leftMinutes})`;
}

/** The one-line summary. */
export function summariseSlo(r: SloReport, envName: string): string {
  if (r.noData) return `slo: no availability results for ${envName} in the last ${WINDOWS_DAYS[WINDOWS_DAYS.length - 1]} days: nothing is measured, so ${r.objectivePercent}% cannot be claimed`;
  const month = r.windows[r.windows.length - 1]!;
  return r.budgetSpent
    ? `slo: error budget spent for ${envName}: ${pct(month.availabilityPercent)} over ${month.days} days against ${r.objectivePercent}% (${month.spentMinutes} of ${month.budgetMinutes} minutes used)`
    : `slo: ${envName} meets ${r.objectivePercent}%: ${pct(month.availabilityPercent)} over ${month.days} days, ${month.leftMinutes} of ${month.budgetMinutes} budget minutes left`;
}
