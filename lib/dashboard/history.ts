// The dashboard's and the HTTP API's side of the scan history (lib/history): the history panel
// (filters, one page of scans, each target's score over time), GET /api/scans and /api/scans/<id>,
// an interrupted dashboard scan as a stored scan, and the report files by scan id for downloads.
import { HISTORY_SCAN_ID, HistoryQueryError, historyQueryFrom, type HistoryEntry, type HistoryQuery, type ScanHistory, type ScanToStore } from '../history';
import type { RiskLevel, ScanResult } from '../types';
import { openToAnyone } from '../risk';
import { JSON_HEADERS, type HttpAnswer } from './downloads';
import { record } from './read';
import { RISK_LEVELS } from './scan-state';
import type { CurrentScan, ReportFiles } from './types';

/** A scan id the download names accept: 8-64 letters, digits and dashes. */
export const SCAN_ID_PATTERN = /^[A-Za-z0-9-]{8,64}$/;
/** Scans on one page of the dashboard's history panel. */
export const HISTORY_PAGE_SIZE = 10;

/** "1883,8883", or the first six and the count: "1,2,3,4,5,6,… (9)". */
export function portList(ports: unknown[]): string {
  return ports.length > 6 ? `${ports.slice(0, 6).join(',')},… (${ports.length})` : ports.join(',');
}

/** The periods the history panel offers, in ms back from now. */
export const HISTORY_PERIODS: Record<string, number> = { day: 86_400_000, week: 7 * 86_400_000, month: 30 * 86_400_000 };

/** The history panel's filters as the page sends them (flow key `historyFilter`): text, as chosen. */
export interface HistoryFilter {
  /** Part of a target or host:port. */
  target?: string;
  /** '' (any), a level, or 'none'. */
  worst?: string;
  /** '' (any time), 'day', 'week' or 'month': scans finished in the last 24 h, 7 or 30 days. */
  period?: string;
  page?: number;
}

/** One scan as the history panel shows it: the stored entry, ports as text, downloads that exist. */
export interface HistoryRow extends Omit<HistoryEntry, 'ports'> {
  ports: string;
}

/** What the history panel shows (its msg.payload). */
export interface HistoryPanel {
  filter: HistoryFilter;
  page: number;
  pages: number;
  /** Scans that match the filter. */
  total: number;
  scans: HistoryRow[];
  /** Why the list is empty or partial (a bad filter, the history could not be opened). */
  error?: string;
}

/** The filter from the page's message: only the known fields, as short text; page a whole number ≥ 1. */
export function historyFilterOf(v: unknown): HistoryFilter {
  const p = record(v);
  const text = (x: unknown, max: number) => (typeof x === 'string' ? x.trim().slice(0, max) : '');
  const page = Number(p.page);
  return { target: text(p.target, 200), worst: text(p.worst, 10), period: text(p.period, 10), page: Number.isInteger(page) && page >= 1 && page <= 1_000_000 ? page : 1 };
}

/** The store query of a panel filter at `now` (ms); throws HistoryQueryError naming the bad filter. */
function queryOf(filter: HistoryFilter, perPage: number, now: number): HistoryQuery {
  const q = historyQueryFrom({ target: filter.target, worst: filter.worst, page: String(filter.page ?? 1), per_page: String(perPage) });
  if (filter.period) {
    if (!Object.prototype.hasOwnProperty.call(HISTORY_PERIODS, filter.period)) throw new HistoryQueryError('period', 'expected day, week or month');
    q.since = now - HISTORY_PERIODS[filter.period];
  }
  return q;
}

/**
 * The history panel for `filter` at `now` (ms; one page, newest first) and the score chart's message (ui_chart
 * line: one series per endpoint, x in ms, y the score 0-100; [] clears it). `history` undefined:
 * the store could not be opened, said in `error`.
 */
export function historyPanel(history: ScanHistory | undefined, filter: HistoryFilter, now: number): { panel: HistoryPanel; chart: unknown[] } {
  const empty = (error: string): { panel: HistoryPanel; chart: unknown[] } => ({ panel: { filter, page: 1, pages: 1, total: 0, scans: [], error }, chart: [] });
  if (!history) return empty('The scan history could not be opened (see the Node-RED log).');
  let query: HistoryQuery;
  try {
    query = queryOf(filter, HISTORY_PAGE_SIZE, now);
  } catch (err) {
    if (err instanceof HistoryQueryError) return empty(`Filter ${err.message}`);
    throw err;
  }
  const page = history.list(query);
  // Past the last page (the filter narrowed the list): the last page instead.
  const shown = page.scans.length === 0 && page.total > 0 ? history.list({ ...query, page: page.pages }) : page;
  return {
    panel: { filter: { ...filter, page: shown.page }, page: shown.page, pages: shown.pages, total: shown.total, scans: shown.scans.map(historyRow) },
    chart: scoreChart(history, query),
  };
}

/** A stored entry as the panel shows it: ports as text; downloads only under an id the download URL accepts. */
export function historyRow(e: HistoryEntry): HistoryRow {
  return { ...e, ports: portList(e.ports), formats: SCAN_ID_PATTERN.test(e.scanId) ? e.formats : [] };
}

/** ui_chart line data: each endpoint's score over time (at most 8 endpoints, the most recently scanned). */
export function scoreChart(history: ScanHistory, query: HistoryQuery): unknown[] {
  const series = history.scores(query);
  if (!series.length) return [];
  return [{ series: series.map((s) => s.endpoint), data: series.map((s) => s.points.map((p) => ({ x: p.at, y: p.score }))), labels: [''] }];
}

/**
 * An interrupted dashboard scan (the flows stopped while it ran) as a scan to store: what it had
 * found, no report files. Marks `scan` complete and interrupted, with its duration up to `now` (ms).
 */
export function interruptedScan(scan: CurrentScan, now: number): ScanToStore {
  const rs = Object.values(scan.results || {});
  const byLevel: Partial<Record<RiskLevel, number>> = {};
  for (const l of RISK_LEVELS) byLevel[l] = rs.filter((r) => r.risk && r.risk.level === l).length;
  const startedAt = Date.parse(scan.startedAt);
  Object.assign(scan, { complete: true, interrupted: true, durationMs: now - startedAt });
  return {
    scanId: scan.scanId,
    finishedAt: now,
    ...(Number.isNaN(startedAt) ? {} : { startedAt, durationMs: now - startedAt }),
    source: 'dashboard',
    targets: scan.target ? scan.target.split(',').map((t) => t.trim()).filter(Boolean) : [],
    ports: String(scan.ports || '').split(',').map(Number).filter((p) => Number.isInteger(p) && p > 0 && p < 65536),
    worst: RISK_LEVELS.find((l) => (byLevel[l] ?? 0) > 0) || null,
    results: scan.total ?? rs.length,
    brokers: rs.filter((r) => r.classification === 'open_or_auth_ok' || r.classification === 'not_authorized').length,
    openBrokers: rs.filter((r) => r.auth && openToAnyone(r as unknown as ScanResult)).length,
    authFailures: rs.filter((r) => r.classification === 'not_authorized').length,
    byLevel,
    cancelled: false,
    interrupted: true,
    files: {},
    endpoints: rs.map((r) => ({ endpoint: r.ep, host: r.host, port: r.port, classification: r.classification ?? null, risk: r.risk?.level ?? null, score: r.risk?.score ?? null })),
    report: null,
  };
}

/**
 * A history entry kept in the flow context by versions before the scan history store (flow key
 * `history`: ports as text, no report) as a scan to store, so a lab's old history is not lost.
 * Null when it is not such an entry.
 */
export function legacyEntryScan(v: unknown): ScanToStore | null {
  const e = record(v);
  const at = Date.parse(String(e.at));
  if (typeof e.scanId !== 'string' || !HISTORY_SCAN_ID.test(e.scanId) || Number.isNaN(at)) return null;
  const count = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
  const worst = RISK_LEVELS.includes(e.worst as RiskLevel) ? (e.worst as RiskLevel) : null;
  return {
    scanId: e.scanId,
    finishedAt: at,
    source: 'dashboard',
    targets: typeof e.target === 'string' && e.target ? e.target.split(',').map((t) => t.trim()).filter(Boolean) : [],
    ports: String(e.ports ?? '').split(',').map(Number).filter((p) => Number.isInteger(p) && p > 0 && p < 65536),
    worst,
    results: count(e.scanned),
    brokers: count(e.brokers),
    openBrokers: count(e.open),
    authFailures: count(e.authFailures),
    byLevel: Object.fromEntries(RISK_LEVELS.map((l) => [l, count(record(e.byLevel)[l]) ?? 0])),
    cancelled: e.cancelled === true,
    ...(e.interrupted === true ? { interrupted: true } : {}),
    files: {},
    endpoints: [],
    report: null,
  };
}

/** The report files (pdf, csv, json paths) from a report writer's msg.payload.files. */
export function reportFilesOf(payload: unknown): { pdf?: string; csv?: string; json?: string } {
  const files = record(record(payload).files);
  return { pdf: files.pdf as string | undefined, csv: files.csv as string | undefined, json: files.json as string | undefined };
}

/** Keeps (in place) the `max` newest report files by their `at`; returns `reports`. */
export function keepNewestReports(reports: ReportFiles, max: number): ReportFiles {
  const ids = Object.keys(reports).sort((x, y) => (reports[y].at ?? 0) - (reports[x].at ?? 0));
  for (const old of ids.slice(max)) delete reports[old];
  return reports;
}

/**
 * The report files known for the scan a download names (`<id>.<format>`): the flow's own (`kept`),
 * else the scan history's. Returns a ReportFiles map for lib/dashboard findReport.
 */
export function reportFilesFor(name: unknown, kept: ReportFiles | null | undefined, history: ScanHistory | undefined): ReportFiles {
  const reports = { ...(record(kept) as ReportFiles) };
  const id = /^([A-Za-z0-9-]{8,64})\.(pdf|csv|json)$/.exec(String(name ?? ''))?.[1];
  if (id && !reports[id] && history) {
    const files = history.files(id);
    if (files) reports[id] = files;
  }
  return reports;
}

/**
 * GET /api/scans (one page: page, per_page, total, pages, scans, newest first; filters target,
 * worst, since, until, source) and GET /api/scans/<id> (the whole scan: its entry, summary, results
 * and report links, as GET /api/results gives the latest). 400 names the bad parameter; 404 for an
 * unknown id; 503 when the history could not be opened.
 */
export function scansAnswer(history: ScanHistory | undefined, params: Record<string, unknown>, query: Record<string, unknown>): HttpAnswer {
  const json = (status: number, body: Record<string, unknown>): HttpAnswer => ({ status, headers: { ...JSON_HEADERS }, body });
  if (!history) return json(503, { error: 'history_unavailable', message: 'The scan history could not be opened (see the Node-RED log).' });
  if (params.id !== undefined) {
    const id = String(params.id);
    if (!HISTORY_SCAN_ID.test(id)) return json(400, { error: 'invalid_field', field: 'id', message: 'id: expected a scan id (letters, digits, ".", "_", "-"; at most 128)' });
    const scan = history.get(id);
    if (!scan) return json(404, { error: 'not_found', message: `No scan ${id} in the history (it keeps the newest scans only).` });
    const report = record(scan.report);
    const results = Array.isArray(report.results) ? report.results : [];
    const { report: _r, targets, ...entry } = scan;
    const reports: Record<string, string> = {};
    if (SCAN_ID_PATTERN.test(id)) for (const f of scan.formats) reports[f] = `/api/reports/${id}.${f}`;
    return json(200, { ...entry, targets, timestamp: entry.at, count: results.length, summary: report.summary ?? null, scan: report.scan ?? null, meta: report.meta ?? null, results, reports });
  }
  const known = new Set(['target', 'worst', 'since', 'until', 'source', 'page', 'per_page']);
  const unknown = Object.keys(query).filter((k) => !known.has(k));
  let q: HistoryQuery;
  try {
    q = historyQueryFrom(query);
  } catch (err) {
    if (err instanceof HistoryQueryError) return json(400, { error: 'invalid_field', field: err.field, message: err.message });
    throw err;
  }
  const page = history.list(q);
  return json(200, {
    page: page.page,
    per_page: page.perPage,
    total: page.total,
    pages: page.pages,
    scans: page.scans,
    ...(unknown.length ? { warnings: unknown.slice(0, 10).map((k) => `${k.slice(0, 40)}: not a filter of /api/scans (ignored)`) } : {}),
  });
}
