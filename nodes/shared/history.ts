// Which scan history a node uses: one file per Node-RED user directory, shared by every report
// writer and dashboard view of the runtime (lib/history sharedHistory).
import { join } from 'node:path';
import type { NodeAPI } from 'node-red';
import { sharedHistory, type ScanHistory } from '../../lib/history';

/** The history file's name in the user directory. */
export const HISTORY_FILE_NAME = 'mqttsec-history.sqlite';

/**
 * The history file: the setting `mqttsecHistoryFile` (settings.js), else MQTTSEC_HISTORY_FILE,
 * else <userDir>/mqttsec-history.sqlite; null (memory only) when Node-RED has no user directory.
 */
export function historyFileOf(RED: NodeAPI): string | null {
  const settings = RED.settings as { mqttsecHistoryFile?: unknown; userDir?: unknown };
  if (typeof settings.mqttsecHistoryFile === 'string' && settings.mqttsecHistoryFile.trim()) return settings.mqttsecHistoryFile.trim();
  if (process.env.MQTTSEC_HISTORY_FILE?.trim()) return process.env.MQTTSEC_HISTORY_FILE.trim();
  return typeof settings.userDir === 'string' && settings.userDir ? join(settings.userDir, HISTORY_FILE_NAME) : null;
}

const warned = new Set<string>();

/**
 * The runtime's history, opened on first use. A file that could not be read is moved aside by
 * lib/history and logged here once (its new name), so nothing is lost without a word.
 * Errors: as ScanHistory.open (the folder is not writable ...).
 */
export async function historyOf(RED: NodeAPI): Promise<ScanHistory> {
  const history = await sharedHistory(historyFileOf(RED));
  if (history.notice && !warned.has(history.notice.movedTo)) {
    warned.add(history.notice.movedTo);
    RED.log.warn(`[mqttsec] The scan history file could not be read (${history.notice.reason}); it was moved to ${history.notice.movedTo} and a new history was started.`);
  }
  return history;
}
