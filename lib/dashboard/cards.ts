// The overview: summary cards and the risk doughnut. While a scan runs they count the results so
// far; at the end the risk classifier's scan summary (the same numbers as the reports) takes over.
import type { RiskLevel, ScanResult } from '../types';
import { openToAnyone } from '../risk';
import { RISK_LEVELS, secondsText } from './scan-state';
import type { CurrentScan, KeptResult } from './types';

/** The five cards' numbers. */
export interface SummaryCards {
  /** Targets (host:port) scanned. */
  scanned: number;
  /** Ports that answered MQTT: open, or refusing our logins. */
  brokers: number;
  /** Brokers that let anyone in (anonymous or any login). */
  open: number;
  /** Brokers that refused every login. */
  authFailures: number;
  /** Brokers with a TLS finding above info. */
  tlsIssues: number;
  /** Brokers on plain TCP or ws. */
  plaintext: number;
  critical: number;
  high: number;
  critHigh: number;
}

/** The line under the cards: what was scanned, how, and how it ended. */
export interface ScanLine {
  target: string;
  ports: string;
  startedAt: string;
  complete: boolean;
  cancelled: boolean;
  interrupted: boolean;
  /** "3.2", or null while it runs. */
  seconds: string | null;
  withLogin: boolean;
}

const isTlsIssue = (r: KeptResult) => (r.findings || []).some((f) => /^TLS_/.test(f.id) && f.severity !== 'info');

/** The cards for a scan (an empty object: all zero). */
export function summaryCards(scan: Partial<CurrentScan>): SummaryCards {
  const rs = Object.values(scan.results || {});
  const level = (l: RiskLevel) => rs.filter((r) => r.risk && r.risk.level === l).length;
  const s = scan.summary;
  const cards = {
    scanned: scan.total ?? rs.length,
    brokers: s ? s.brokers : rs.filter((r) => r.classification === 'open_or_auth_ok' || r.classification === 'not_authorized').length,
    open: s ? s.openBrokers : rs.filter((r) => openToAnyone(r as unknown as ScanResult)).length,
    authFailures: s ? s.authFailures : rs.filter((r) => r.classification === 'not_authorized').length,
    tlsIssues: rs.filter(isTlsIssue).length,
    plaintext: rs.filter((r) => r.transport === 'tcp' || r.transport === 'ws').length,
    critical: s ? s.byLevel.CRITICAL : level('CRITICAL'),
    high: s ? s.byLevel.HIGH : level('HIGH'),
  };
  return { ...cards, critHigh: cards.critical + cards.high };
}

/** The scan line, or null before the first scan. */
export function scanLine(scan: Partial<CurrentScan>): ScanLine | null {
  if (!scan.scanId) return null;
  return {
    target: scan.target ?? '',
    ports: scan.ports ?? '',
    startedAt: scan.startedAt ?? '',
    complete: !!scan.complete,
    cancelled: !!scan.cancelled,
    interrupted: !!scan.interrupted,
    seconds: typeof scan.durationMs === 'number' ? secondsText(scan.durationMs) : null,
    withLogin: !!scan.withLogin,
  };
}

/** The ui_chart (pie) message: brokers per risk level, or [] (the chart's "no data") when none is rated. */
export function riskChart(scan: Partial<Pick<CurrentScan, 'results'>>): Array<{ series: string[]; data: number[][]; labels: RiskLevel[] }> {
  const rs = Object.values(scan.results || {});
  const counts = RISK_LEVELS.map((l) => rs.filter((r) => r.risk && r.risk.level === l).length);
  if (!counts.some((n) => n > 0)) return [];
  return [{ series: ['Brokers'], data: [counts], labels: [...RISK_LEVELS] }];
}
