// The scan history (docs/ARCHITECTURE.md "Scan history"): one SQLite store (sql.js) for the scans
// of the dashboard, the HTTP API and any flow with a report writer.
import { resolve } from 'node:path';
import { ScanHistory } from './store';

export { ScanHistory, DEFAULT_MAX_SCANS, DEFAULT_MAX_REPORT_BYTES, MAX_SCANS_LIMIT, type HistoryBounds, type OpenNotice } from './store';
export {
  historyQueryFrom,
  scanFromReport,
  HistoryQueryError,
  HISTORY_LEVELS,
  HISTORY_SCAN_ID,
  MAX_PER_PAGE,
  SCAN_SOURCES,
  type HistoryEntry,
  type HistoryPage,
  type HistoryQuery,
  type ScanSource,
  type ScanToStore,
  type ScoreSeries,
  type StoredEndpoint,
  type StoredScan,
} from './model';

const opened = new Map<string, Promise<ScanHistory>>();

/**
 * The one history of `file` in this process (every node that names the same file shares it, so
 * what a report writer adds the dashboard's views read at once); `file` null: one history in
 * memory for the whole process. Opened on first use; a failed open is not cached, so the next
 * call tries again. Errors: as ScanHistory.open.
 */
export function sharedHistory(file: string | null): Promise<ScanHistory> {
  const key = file === null ? ':memory:' : resolve(file);
  let p = opened.get(key);
  if (!p) {
    p = file === null ? ScanHistory.inMemory() : ScanHistory.open(key);
    opened.set(key, p);
    p.catch(() => opened.delete(key));
  }
  return p;
}
