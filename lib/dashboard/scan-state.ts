// The current scan as the dashboard keeps it: each rated result trimmed and stored by endpoint,
// the completion, and the interruption of a scan the flows stopped under.
import type { RiskLevel, ScanResult } from '../types';
import { changesText, readChanges, type RiskSummary } from '../risk';
import { deviceExposureOf, knownVulnerabilitiesOf } from '../common';
import { record } from './read';
import type { CurrentScan, KeptResult } from './types';

/** Risk levels, worst first. */
export const RISK_LEVELS: readonly RiskLevel[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'];
/** Topics kept per broker in the flow context. */
export const KEPT_TOPICS = 100;

/** "host:port", with an IPv6 host in brackets: "[::1]:1883". */
export function endpointOf(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Sort key: 0 CRITICAL ... 3 LOW; 9 for a result without a risk level. */
export function riskRank(r: { risk?: { level: string } | null }): number {
  return r.risk ? RISK_LEVELS.indexOf(r.risk.level as RiskLevel) : 9;
}

/** The scan's worst broker (the first to arrive among equals), or undefined when it has none. */
export function worstResult(scan: Pick<CurrentScan, 'results'>): KeptResult | undefined {
  return Object.values(scan.results || {}).sort((a, b) => riskRank(a) - riskRank(b))[0];
}

/**
 * A rated scan result trimmed for the flow context: what the dashboard shows, with at most
 * KEPT_TOPICS topics (no parsed values of a payload the sniffer flagged as sensitive), the
 * devices behind them and the known vulnerabilities of its version (the classifier's
 * `vulnerabilities`), bounded. `skipped` is why the sniffer did not read the broker (msg.sniffer.skipped).
 */
export function keepResult(r: ScanResult, skipped?: unknown): KeptResult {
  const ep = endpointOf(r.host, r.port);
  const t = r.topics;
  const devices = t && deviceExposureOf(t.devices);
  const vulnerabilities = knownVulnerabilitiesOf((r as ScanResult & { vulnerabilities?: unknown }).vulnerabilities);
  const tls = r.tls;
  const mqtt = record(r.mqtt);
  return {
    ep,
    host: r.host,
    port: r.port,
    transport: r.transport,
    ...(r.websocketPath ? { websocketPath: r.websocketPath } : {}),
    classification: r.classification,
    mqtt: { versions: (mqtt.versions as KeptResult['mqtt']['versions']) || {}, brokerVersion: (mqtt.brokerVersion as string) || null },
    auth: r.auth,
    findings: r.findings || [],
    risk: r.risk || null,
    ...(r.riskNotRated ? { riskNotRated: r.riskNotRated } : {}),
    ...(vulnerabilities ? { vulnerabilities } : {}),
    ...sinceOf((r as ScanResult & { changes?: unknown }).changes),
    skipped: skipped ? String(skipped) : null,
    ...(scannedByOf(r.scannedBy) ?? {}),
    tls: tls
      ? { protocol: tls.protocol, cipher: tls.cipher, versions: tls.versions, certificate: tls.certificate || null, clientCertRequired: tls.clientCertRequired, weakCiphers: tls.weakCiphers, score: tls.score, ...(tls.notRated ? { notRated: tls.notRated } : {}), ...(tls.psk ? { psk: tls.psk } : {}), error: tls.error || null }
      : null,
    topics: t
      ? {
          count: t.count,
          as: t.as,
          listenedMs: t.listenedMs,
          ...(typeof t.note === 'string' ? { note: t.note } : {}),
          error: t.error || null,
          writeTest: t.writeTest || null,
          ...(devices ? { devices } : {}),
          items: (t.items || []).slice(0, KEPT_TOPICS).map((i) => ({ topic: i.topic, messages: i.messages, retained: i.retained, sensor: i.sensor || null, sample: i.sample, values: (!i.sensitive?.length && i.values) || null, sensitive: i.sensitive || null })),
        }
      : null,
  };
}

/** ScanResult.scannedBy as the dashboard keeps it: two short texts, or nothing when it is not that shape. */
function scannedByOf(v: unknown): { scannedBy: { site: string; agent: string } } | null {
  const by = record(v);
  if (typeof by.site !== 'string' || typeof by.agent !== 'string') return null;
  return { scannedBy: { site: by.site.slice(0, SCANNED_BY_CHARS), agent: by.agent.slice(0, SCANNED_BY_CHARS) } };
}
/** Most characters of a site name or agent login kept (lib/sites allows 64 at most). */
const SCANNED_BY_CHARS = 64;

/** Most characters of KeptResult.since (the rule ids it names are short; a forged list is cut). */
const SINCE_CHARS = 600;

/**
 * KeptResult.since from a result's changes (lib/risk compareScans, the risk classifier node):
 * "resolved ANONYMOUS_ACCESS; risk CRITICAL 0 -> LOW 100", and the previous scan's id; nothing
 * when the result has none, its host:port was never scanned before, or it is malformed (a flow
 * could have written it).
 */
function sinceOf(v: unknown): Pick<KeptResult, 'since'> | Record<string, never> {
  const c = readChanges(v);
  // Never scanned before: nothing to say "since" (not "new broker" on a class's first scan).
  if (!c || !c.previous) return {};
  const text = changesText(c);
  return { since: { text: text.length > SINCE_CHARS ? `${text.slice(0, SINCE_CHARS - 1)}…` : text, previousScan: c.previous.scanId } };
}

/** The completion message for the progress panel (topic 'complete'). */
export interface CompletionEvent {
  topic: 'complete';
  /** durationMs: the whole scan, the one figure the status, the overview and the reports show. */
  payload: { scanId: string; cancelled: boolean; brokers: number | null; worst: RiskLevel | null; durationMs: number };
}

/**
 * Marks `scan` complete (in place) from the risk classifier's completion payload: cancelled when
 * the payload or the user said so, the number of targets, the duration and the risk summary.
 * The duration is the summary's durationMs (from the target expander to the end of listening,
 * what the PDF and JSON say), else the time since the form was sent. Returns the event for the
 * progress panel.
 */
export function completeScan(scan: CurrentScan, payload: unknown, now: number): CompletionEvent {
  const p = record(payload);
  const s = (p.riskSummary as RiskSummary | undefined) || null;
  Object.assign(scan, {
    complete: true,
    cancelled: p.cancelled === true || scan.cancelled === true,
    total: (p.targets as number | undefined) ?? scan.total,
    durationMs: typeof p.durationMs === 'number' && Number.isFinite(p.durationMs) && p.durationMs >= 0 ? p.durationMs : now - Date.parse(scan.startedAt),
    summary: s,
  });
  return {
    topic: 'complete',
    payload: { scanId: scan.scanId, cancelled: scan.cancelled === true, brokers: s ? s.brokers : null, worst: s ? s.worstLevel : null, durationMs: scan.durationMs as number },
  };
}

/** Seconds as the panels show them: one decimal ("3.2"), two below 0.1 s ("0.04"; at least "0.01"). */
export function secondsText(ms: number): string {
  // A scan without listening can take 40 ms: "0.04", not "0.0" (which reads as "did nothing").
  if (ms < 95) return ms < 10 ? '0.01' : (ms / 1000).toFixed(2);
  return (ms / 1000).toFixed(1);
}
