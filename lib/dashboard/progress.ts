// The progress panel: idle, running (the phase and the text the scan nodes show under them in the
// editor, through a Status node), done, cancelled, failed, or interrupted (the flows stopped during
// the scan). One function folds each event into the panel's state.
import type { RiskLevel } from '../types';
import { errorSource, errorText, record } from './read';
import { secondsText } from './scan-state';
import type { Progress, ViewMessage } from './types';

/** The phase each scan node stands for: 0 targets ... 5 report (6: finished). */
export const PHASES: Readonly<Record<string, number>> = {
  'mqttsec-target-expander': 0,
  'mqttsec-broker-probe': 1,
  // A coordinated scan: the agents sweep, probe, inspect and listen; the coordinator's status says how many shards are done.
  'mqttsec-site-coordinator': 1,
  'mqttsec-tls-inspector': 2,
  'mqttsec-topic-sniffer': 3,
  'mqttsec-risk-classifier': 4,
  'mqttsec-report-writer': 5,
};
const STATUS_CHARS = 160;

/**
 * The panel after one event, or null when the event changes nothing (a status while no scan runs,
 * from another node, or without text). Events: msg.status (a Status node), or msg.topic 'start'
 * (payload: scanId, target, ports, listen, writeTest, withLogin), 'complete' (scanId, cancelled,
 * brokers, worst), 'reports' (scanId), 'cancel', 'error' (message; form: about the form; fatal:
 * the scan stopped), 'interrupted' (scanId, seconds), 'idle'. A notice is shown once: every
 * event clears it. `now` is ms since the epoch. Never changes `previous`.
 */
export function nextProgress(previous: Progress | null | undefined, msg: ViewMessage, now: number): Progress | null {
  let p: Progress = { ...(previous || { state: 'idle' }) };
  const e = record(msg.payload);
  delete p.notice;
  if (msg.status) {
    const status = record(msg.status);
    const phase = PHASES[String(record(status.source).type)];
    if (p.state !== 'running' || phase === undefined || !status.text) return null;
    p.phase = Math.max(p.phase || 0, phase);
    p.text = String(status.text).slice(0, STATUS_CHARS);
  } else if (msg.topic === 'start') {
    p = {
      state: 'running', phase: 0, text: 'Expanding targets…', scanId: e.scanId as string, target: e.target as string, ports: e.ports as string,
      listen: e.listen as number, writeTest: e.writeTest as boolean, withLogin: e.withLogin as boolean, startedAt: now,
    };
  } else if (msg.topic === 'complete' && e.scanId === p.scanId) {
    Object.assign(p, { phase: 5, text: 'Writing the reports…', cancelled: e.cancelled as boolean, brokers: e.brokers as number | null, worst: e.worst as RiskLevel | null });
    if (typeof e.durationMs === 'number') p.durationMs = e.durationMs;
  } else if (msg.topic === 'reports' && e.scanId === p.scanId) {
    // The scan's one duration (the overview's and the reports'), not the time the reports took too.
    const ms = typeof p.durationMs === 'number' ? p.durationMs : now - (p.startedAt as number);
    Object.assign(p, { state: p.cancelled || p.cancelRequested ? 'cancelled' : 'done', phase: 6, seconds: secondsText(ms) });
  } else if (msg.topic === 'cancel' && p.state === 'running') {
    p.text = 'Cancelling: the probe stops, the sniffers hand over what they heard…';
    p.cancelRequested = true;
  } else if (msg.topic === 'error') {
    if (e.form || p.state !== 'running') {
      // A new message replaces the last scan's failure: an old error never stays above a new one.
      if (p.state === 'error') p = { state: 'idle' };
      p.notice = String(e.message);
    }
    else if (e.fatal) Object.assign(p, { state: 'error', error: String(e.message) });
    else p.warning = String(e.message);
  } else if (msg.topic === 'interrupted') {
    p = { state: 'interrupted', phase: p.phase || 0, scanId: e.scanId as string, seconds: e.seconds as string, target: p.target, ports: p.ports };
  } else if (msg.topic === 'idle') {
    if (p.state === 'running') p = { state: 'idle' };
  } else {
    return null;
  }
  return p;
}

/** Nodes whose failure ends the scan: the target expander or the site coordinator refused the input (no scan started, or a coordinated scan that
 *  cannot complete), or the reports could not be written. */
export const FATAL_SOURCES: readonly string[] = ['mqttsec-target-expander', 'mqttsec-site-coordinator', 'mqttsec-report-writer'];

/**
 * A scan node's failure (a Catch node's msg.error) for the progress panel: its message (at most
 * 300 characters, without "Error: ") and whether it ended the scan. Other failures are shown as a
 * warning; the scan goes on.
 */
export function scanError(error: unknown): { message: string; fatal: boolean } {
  return { message: errorText(error, 'The scan failed', 300), fatal: FATAL_SOURCES.includes(errorSource(error)) };
}
