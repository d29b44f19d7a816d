// The scan history (the last 20 scans with their report files) and the report files by scan id
// that the download endpoints serve.
import type { RiskLevel } from '../types';
import { record } from './read';
import type { CurrentScan, HistoryEntry, ReportFiles } from './types';

/** Scans the history keeps. */
export const HISTORY_LENGTH = 20;
/** A scan id the history and the download names accept: 8-64 letters, digits and dashes. */
export const SCAN_ID_PATTERN = /^[A-Za-z0-9-]{8,64}$/;
const FORMATS = ['pdf', 'csv', 'json'] as const;

/** "1883,8883", or the first six and the count: "1,2,3,4,5,6,… (9)". */
export function portList(ports: unknown[]): string {
  return ports.length > 6 ? `${ports.slice(0, 6).join(',')},… (${ports.length})` : ports.join(',');
}

/**
 * The history entry for a scan whose reports were written, from the report writer's message:
 * msg.scanId, msg.payload {files, summary} (the report's summary, with summary.scan), msg.scan
 * {specs, ports}. `current` fills in what the message lacks (target, ports, cancelled); `at` is ms.
 * Null when the scan id is not one SCAN_ID_PATTERN accepts.
 */
export function reportHistoryEntry(msg: { scanId?: unknown; payload?: unknown; scan?: unknown }, current: Partial<CurrentScan>, at: number): HistoryEntry | null {
  const id = msg.scanId;
  if (typeof id !== 'string' || !SCAN_ID_PATTERN.test(id)) return null;
  const p = record(msg.payload);
  const files = record(p.files);
  const s = record(p.summary);
  const sScan = record(s.scan);
  const scan = record(msg.scan);
  return {
    scanId: id,
    at: new Date(at).toISOString(),
    target: Array.isArray(scan.specs) ? scan.specs.join(', ') : current.target || '',
    ports: Array.isArray(scan.ports) ? portList(scan.ports) : current.ports || '',
    scanned: typeof sScan.targets === 'number' ? sScan.targets : (s.results as number | undefined),
    brokers: s.brokers as number | undefined,
    open: s.openBrokers as number | undefined,
    authFailures: s.authFailures as number | undefined,
    worst: (s.worstLevel as RiskLevel | undefined) || null,
    byLevel: (s.byLevel as HistoryEntry['byLevel'] | undefined) || {},
    cancelled: !!sScan.cancelled || (current.scanId === id && current.cancelled === true),
    formats: FORMATS.filter((f) => typeof files[f] === 'string'),
  };
}

/** The history with `entry` first (replacing an older entry of the same scan), at most `max` long. */
export function addToHistory(history: readonly HistoryEntry[] | null | undefined, entry: HistoryEntry, max = HISTORY_LENGTH): HistoryEntry[] {
  return [entry, ...(history || []).filter((h) => h.scanId !== entry.scanId)].slice(0, max);
}

/** The report files (pdf, csv, json paths) from a report writer's msg.payload.files. */
export function reportFilesOf(payload: unknown): { pdf?: string; csv?: string; json?: string } {
  const files = record(record(payload).files);
  return { pdf: files.pdf as string | undefined, csv: files.csv as string | undefined, json: files.json as string | undefined };
}

/** Drops (in place) the report files of scans no longer in the history; returns `reports`. */
export function keepReportsOf(reports: ReportFiles, history: readonly HistoryEntry[]): ReportFiles {
  for (const id of Object.keys(reports)) if (!history.some((h) => h.scanId === id)) delete reports[id];
  return reports;
}

/** Keeps (in place) the `max` newest report files by their `at`; returns `reports`. */
export function keepNewestReports(reports: ReportFiles, max: number): ReportFiles {
  const ids = Object.keys(reports).sort((x, y) => (reports[y].at ?? 0) - (reports[x].at ?? 0));
  for (const old of ids.slice(max)) delete reports[old];
  return reports;
}
