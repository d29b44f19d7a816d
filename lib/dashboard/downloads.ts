// Report downloads, GET .../reports/<scan id>.<pdf|csv|json>: the name must match exactly, and the
// file is the one the report writer reported for that scan, never a path built from the request.
import { record } from './read';
import type { ReportFiles } from './types';

/** The download name: a scan id (8-64 letters, digits, dashes; not starting with a dash) and a format. */
export const REPORT_NAME = /^([A-Za-z0-9][A-Za-z0-9-]{7,63})\.(pdf|csv|json)$/;
export type DownloadFormat = 'pdf' | 'csv' | 'json';

const CONTENT_TYPES: Record<DownloadFormat, string> = { pdf: 'application/pdf', csv: 'text/csv; charset=utf-8', json: 'application/json; charset=utf-8' };

/** Headers of every JSON answer: no caching. */
export const JSON_HEADERS: Readonly<Record<string, string>> = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' };

/** An HTTP answer: status, headers and a JSON body. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** The report a request names, found: its file path, scan id and format. */
export interface FoundReport {
  ok: true;
  path: string;
  scanId: string;
  format: DownloadFormat;
}

/**
 * Looks up the file a download name asks for among `reports` (by scan id, as the report writer
 * reported them). Not found: a 404 answer that says whether the name was malformed or the scan's
 * reports are no longer kept.
 */
export function findReport(name: unknown, reports: ReportFiles | null | undefined): FoundReport | ({ ok: false } & HttpAnswer) {
  const m = REPORT_NAME.exec(String(name ?? ''));
  const kept = record(reports);
  const path = m && kept[m[1]] ? record(kept[m[1]])[m[2]] : null;
  if (!m || typeof path !== 'string' || !path) {
    return {
      ok: false,
      status: 404,
      headers: { ...JSON_HEADERS, 'X-Content-Type-Options': 'nosniff' },
      body: { error: 'not_found', message: m ? `No ${m[2].toUpperCase()} report for scan ${m[1]} (only the last scans are kept).` : 'Expected <scan id>.pdf, .csv or .json' },
    };
  }
  return { ok: true, path, scanId: m[1], format: m[2] as DownloadFormat };
}

/** The headers of a report download: its type, saved as mqtt-scan-<id>.<format>, never sniffed or cached. */
export function downloadHeaders(report: { scanId: string; format: DownloadFormat }): Record<string, string> {
  return {
    'Content-Type': CONTENT_TYPES[report.format],
    'Content-Disposition': `attachment; filename="mqtt-scan-${report.scanId}.${report.format}"`,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  };
}

/** The answer when the report file is gone from disk (deleted by hand): 404, not a hanging request. */
export function missingReportAnswer(): HttpAnswer {
  return { status: 404, headers: { ...JSON_HEADERS }, body: { error: 'not_found', message: 'The report file no longer exists.' } };
}
