// What the scan history stores and answers: a scan as the report writer finished it, the list
// entries, one endpoint's score over time, and the query (target, worst risk, time, page) read
// from an HTTP query string or the dashboard's filters, with errors that name the bad part.
import { endpoint, renderJson, type ReportInput } from '../report';
import type { RiskLevel } from '../types';

/** Risk levels, worst first. */
export const HISTORY_LEVELS: readonly RiskLevel[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'];
/** Where a scan came from: the lab dashboard, the HTTP API, or any other flow with a report writer. */
export type ScanSource = 'dashboard' | 'api' | 'flow';
export const SCAN_SOURCES: readonly ScanSource[] = ['dashboard', 'api', 'flow'];
/** A scan id the history accepts: 1-128 letters, digits, dot, underscore and dash (Node-RED's ids are 16 hex digits). */
export const HISTORY_SCAN_ID = /^[A-Za-z0-9._-]{1,128}$/;
/** Largest page of the list. */
export const MAX_PER_PAGE = 100;

/** One endpoint of a stored scan, for the queries by target and the score chart. */
export interface StoredEndpoint {
  /** host:port ([v6]:port). */
  endpoint: string;
  host: string;
  port: number;
  classification: string | null;
  /** null: not rated. */
  risk: RiskLevel | null;
  /** 0-100, null when not rated. */
  score: number | null;
}

/** A scan to store (ScanHistory.add). Times in ms since the epoch. */
export interface ScanToStore {
  scanId: string;
  finishedAt: number;
  startedAt?: number;
  durationMs?: number;
  source: ScanSource;
  /** Target specs as entered. */
  targets: string[];
  ports: number[];
  worst: RiskLevel | null;
  results?: number;
  brokers?: number;
  openBrokers?: number;
  authFailures?: number;
  unreachable?: number;
  byLevel: Partial<Record<RiskLevel, number>>;
  averageScore?: number | null;
  cancelled: boolean;
  interrupted?: boolean;
  /** The report files written: {pdf, csv, json} paths. */
  files: Partial<Record<'pdf' | 'csv' | 'json', string>>;
  /** Endpoints that answered (unreachable ports are counted, not listed). */
  endpoints: StoredEndpoint[];
  /** The JSON report (mqttsec-report/1, parsed) or null (an interrupted scan has none). */
  report: Record<string, unknown> | null;
}

/** A scan in the list (GET /api/scans, the dashboard's history), newest first. */
export interface HistoryEntry {
  scanId: string;
  /** ISO time the scan finished (its reports were written, or it was found interrupted). */
  at: string;
  startedAt?: string;
  /** The whole scan, listening included, in ms. */
  durationMs?: number;
  source: ScanSource;
  /** Target specs, comma-separated. */
  target: string;
  ports: number[];
  /** Targets scanned (results, reachable or not). */
  scanned?: number;
  brokers?: number;
  open?: number;
  authFailures?: number;
  unreachable?: number;
  worst: RiskLevel | null;
  byLevel: Partial<Record<RiskLevel, number>>;
  averageScore: number | null;
  cancelled: boolean;
  interrupted?: boolean;
  /** The report formats written for it. */
  formats: Array<'pdf' | 'csv' | 'json'>;
}

/** A whole stored scan (GET /api/scans/<id>). */
export interface StoredScan extends HistoryEntry {
  targets: string[];
  report: Record<string, unknown> | null;
}

/** One page of the list. */
export interface HistoryPage {
  page: number;
  perPage: number;
  total: number;
  pages: number;
  scans: HistoryEntry[];
}

/** One endpoint's score over time, oldest first. `at` in ms. */
export interface ScoreSeries {
  endpoint: string;
  points: Array<{ at: number; score: number; risk: RiskLevel; scanId: string }>;
}

/** Which scans: all of these that are given must hold. Times in ms since the epoch. */
export interface HistoryQuery {
  /** Part of a target spec or of an endpoint (host:port), case-insensitive. */
  target?: string;
  /** The scan's worst level is one of these ('none': nothing rated). */
  worst?: Array<RiskLevel | 'none'>;
  /** Finished at or after. */
  since?: number;
  /** Finished before. */
  until?: number;
  source?: ScanSource;
  /** 1-based; default 1. */
  page?: number;
  /** 1..MAX_PER_PAGE; default 20. */
  perPage?: number;
}

/** A query that could not be read: `field` names the parameter. */
export class HistoryQueryError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
  }
}

/**
 * Reads a query from text parameters (an HTTP query string's, or the dashboard's filters):
 * target (≤ 200 characters), worst (comma-separated CRITICAL, HIGH, MEDIUM, LOW, none; any case),
 * since / until (ISO 8601 date or date-time; a bare date for `until` means to the end of that day,
 * UTC), source (dashboard, api, flow), page (≥ 1), per_page (1..100). Empty values are ignored;
 * unknown parameters are not this function's concern. Throws HistoryQueryError naming the field.
 */
export function historyQueryFrom(params: Record<string, unknown>): HistoryQuery {
  const text = (name: string): string | undefined => {
    const v = params[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' && typeof v !== 'number') throw new HistoryQueryError(name, 'expected one value');
    const s = String(v).trim();
    return s === '' ? undefined : s;
  };
  const q: HistoryQuery = {};
  const target = text('target');
  if (target !== undefined) {
    if (target.length > 200) throw new HistoryQueryError('target', 'at most 200 characters');
    q.target = target;
  }
  const worst = text('worst');
  if (worst !== undefined) {
    const levels = worst.split(',').map((w) => w.trim()).filter(Boolean);
    for (const l of levels) {
      const ok = l.toLowerCase() === 'none' || HISTORY_LEVELS.includes(l.toUpperCase() as RiskLevel);
      if (!ok) throw new HistoryQueryError('worst', `"${l.slice(0, 20)}" is not a risk level (CRITICAL, HIGH, MEDIUM, LOW or none)`);
    }
    q.worst = levels.map((l) => (l.toLowerCase() === 'none' ? 'none' : (l.toUpperCase() as RiskLevel)));
  }
  const since = text('since');
  if (since !== undefined) q.since = timeOf('since', since, false);
  const until = text('until');
  if (until !== undefined) q.until = timeOf('until', until, true);
  if (q.since !== undefined && q.until !== undefined && q.since >= q.until) throw new HistoryQueryError('until', 'must be later than since');
  const source = text('source');
  if (source !== undefined) {
    if (!SCAN_SOURCES.includes(source as ScanSource)) throw new HistoryQueryError('source', 'expected dashboard, api or flow');
    q.source = source as ScanSource;
  }
  const page = text('page');
  if (page !== undefined) q.page = wholeNumber('page', page, 1, 1_000_000);
  const perPage = text('per_page');
  if (perPage !== undefined) q.perPage = wholeNumber('per_page', perPage, 1, MAX_PER_PAGE);
  return q;
}

function wholeNumber(field: string, s: string, min: number, max: number): number {
  if (!/^\d{1,7}$/.test(s)) throw new HistoryQueryError(field, `expected a whole number from ${min} to ${max}`);
  const n = Number(s);
  if (n < min || n > max) throw new HistoryQueryError(field, `expected a whole number from ${min} to ${max}`);
  return n;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/** ms since the epoch of an ISO date (UTC midnight; `endOfDay`: the next midnight) or date-time with a zone. */
function timeOf(field: string, s: string, endOfDay: boolean): number {
  if (DATE_ONLY.test(s)) {
    const t = Date.parse(`${s}T00:00:00Z`);
    if (Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== s) throw new HistoryQueryError(field, `"${s}" is not a date`);
    return endOfDay ? t + 86_400_000 : t;
  }
  if (DATE_TIME.test(s)) {
    const t = Date.parse(s);
    if (!Number.isNaN(t)) return t;
  }
  throw new HistoryQueryError(field, 'expected an ISO 8601 date (2026-11-30) or date-time with a zone (2026-11-30T09:00:00Z)');
}

/**
 * The scan to store from a finished report: its summary, the endpoints that answered (with their
 * risk), the JSON report itself. `at` (ms) is used when the scan summary has no finish time.
 */
export function scanFromReport(
  input: ReportInput,
  opts: { scanId: string; source: ScanSource; files: Partial<Record<'pdf' | 'csv' | 'json', string>>; at: number; cancelled?: boolean },
): ScanToStore {
  const s = input.summary;
  const scan = input.scan;
  const finishedAt = scan?.finishedAt ? Date.parse(scan.finishedAt) : NaN;
  const startedAt = scan?.startedAt ? Date.parse(scan.startedAt) : NaN;
  return {
    scanId: opts.scanId,
    finishedAt: Number.isNaN(finishedAt) ? opts.at : finishedAt,
    ...(Number.isNaN(startedAt) ? {} : { startedAt }),
    ...(typeof scan?.durationMs === 'number' ? { durationMs: scan.durationMs } : {}),
    source: opts.source,
    // A flow that gave the writer bare results (no target expander) has no specs: its hosts stand in.
    targets: input.meta.targets?.length ? [...input.meta.targets] : [...new Set(input.results.map((r) => r.host))].slice(0, 50),
    ports: input.meta.ports?.length ? [...input.meta.ports] : [...new Set(input.results.map((r) => r.port))].sort((a, b) => a - b).slice(0, 50),
    worst: s.worstLevel,
    results: s.results,
    brokers: s.brokers,
    openBrokers: s.openBrokers,
    authFailures: s.authFailures,
    unreachable: s.unreachable,
    byLevel: { ...s.byLevel },
    averageScore: s.averageScore,
    cancelled: opts.cancelled ?? (scan as { cancelled?: unknown } | null)?.cancelled === true,
    files: { ...opts.files },
    endpoints: input.results
      .filter((r) => r.reachability === 'open' || r.risk)
      .map((r) => ({
        endpoint: endpoint(r),
        host: r.host,
        port: r.port,
        classification: r.classification ?? null,
        risk: r.risk?.level ?? null,
        score: typeof r.risk?.score === 'number' ? r.risk.score : null,
      })),
    report: JSON.parse(renderJson(input)),
  };
}
