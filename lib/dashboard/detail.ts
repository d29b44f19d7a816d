// The broker detail panel: everything known about one broker of the current scan, as text and
// label/value pairs (the template binds it with {{ }} only, so nothing in it is ever HTML).
import type { AuthAttempt, Severity } from '../types';
import type { KeptResult, KeptTopic } from './types';
import { brokerUrl, devicesView, isWebSocketTransport, scannedByText, vulnerabilitiesView, type DevicesView, type VulnerabilitiesView } from '../common';

/** One finding as the panel lists it. */
export interface DetailFinding {
  id: string;
  severity: Severity;
  title: string;
  evidence: string;
  /** The finding's recommendation: the exact fix. */
  fix: string;
  /** Its references, comma-separated. */
  refs: string;
}

/** The detail panel's model. Pairs are [label, value]. */
export interface BrokerDetail {
  ep: string;
  /** CRITICAL ... LOW, or NOT RATED. */
  level: string;
  /** CSS suffix of the badge: critical, high, medium, low, none. */
  levelClass: string;
  score: number | null;
  /** Why it is NOT RATED although it answered (a PSK-only or refused TLS listener), or null. */
  notRated: string | null;
  /** "MQTT over TLS", "MQTT over plain TCP", "MQTT over WebSocket (plain): ws://host:port/path",
   *  "MQTT over WebSocket over TLS: wss://host:port/path", or "—". */
  transport: string;
  /** A coordinated scan: "agent north-1 of site north" (lib/common scannedByText); else null. */
  scannedBy: string | null;
  /** Supported MQTT versions ("3.1.1, 5.0") or "—". */
  versions: string;
  brokerVersion: string | null;
  classification: string;
  /** Anonymous, wrong login, your login: each outcome, or why it was not sent. */
  auth: Array<[string, string]>;
  /** Worst severity first. */
  findings: DetailFinding[];
  tls: Array<[string, string]>;
  cert: Array<[string, string]>;
  /** At most 50. */
  topics: KeptTopic[];
  topicCount: number | null;
  /** "3.0 s as anonymous", then what the broker's SUBACKs said when it refused a filter; null when it did not listen. */
  listened: string | null;
  writeTest: string | null;
  /** "Devices and data": the ecosystems behind the topics, devices, command topics, positions and
   *  secrets as counts (lib/common devicesView); null when there is nothing to show. */
  devices: DevicesView | null;
  /** "Known vulnerabilities": the product and version the broker said and where, one row per
   *  match (id linked to its first https source, severity, CVSS, fix, summary), the upgrade, the
   *  table's date and the backport caveat (lib/common vulnerabilitiesView); null when the broker
   *  did not say its version. */
  vulnerabilities: VulnerabilitiesView | null;
  /** "Since the previous scan (3f1c2a9e): resolved ANONYMOUS_ACCESS; risk CRITICAL 0 -> LOW 100", or null. */
  since: string | null;
  skipped: string | null;
}

const LEVEL_CLASS: Record<string, string> = { CRITICAL: 'critical', HIGH: 'high', MEDIUM: 'medium', LOW: 'low' };
const SEVERITY_ORDER: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };
const DETAIL_TOPICS = 50;

/**
 * One login attempt in words: "accepted", "rejected (Not authorized)", "rejected (code 5)"; a login
 * the scanner withheld says why ("not sent: the broker accepted a random made-up login"); else "not tested".
 */
export function authText(a: AuthAttempt | undefined): string {
  if (a?.outcome === 'closed_without_connack') return `hung up without a CONNACK${a.clientCertificate ? ', with the client certificate' : ''}`;
  if (a && a.outcome !== 'not_tested') {
    const said = a.code !== undefined ? ` (${a.reason || `code ${a.code}`})` : '';
    return a.outcome + said + (a.clientCertificate ? ', with the client certificate' : '');
  }
  if (a && a.detail) return `not sent: ${String(a.detail).replace(/^login not sent: /, '')}`;
  return 'not tested';
}

/** The certificate as label/value pairs (subject, issuer, names, validity, trust, host name, key, SHA-256); [] without one. */
export function certificateRows(r: Pick<KeptResult, 'tls'>): Array<[string, string]> {
  const c = r.tls && r.tls.certificate;
  if (!c) return [];
  return [
    ['Subject', c.subject],
    ['Issuer', c.issuer],
    ['Names', c.subjectAltName || '—'],
    ['Valid', `${String(c.validFrom).slice(0, 10)} to ${String(c.validTo).slice(0, 10)} (${c.daysLeft} days left)`],
    ['Trust', c.trusted ? 'trusted' : `not trusted${c.trustError ? `: ${c.trustError}` : ''}${c.selfSigned ? ', self-signed' : ''}`],
    ['Host name', c.hostnameMatch === false ? 'does not match' : 'matches'],
    ['Key', `${c.keyType || '?'} ${c.keyBits || '?'} bit, ${c.signatureAlgorithm || ''}`],
    ['SHA-256', c.fingerprint256],
  ];
}

/** TLS as label/value pairs (protocol and cipher, versions, client certificate, score, error); [] without TLS. */
export function tlsRows(r: Pick<KeptResult, 'tls'>): Array<[string, string]> {
  const t = r.tls;
  if (!t) return [];
  const versions = t.versions || {};
  const rows: Array<[string, string]> = [
    ['Protocol', (t.protocol || '—') + (t.cipher ? `, ${t.cipher}` : '')],
    ['Versions', Object.keys(versions).map((v) => v + (versions[v] ? ' yes' : ' no')).join(' · ') || '—'],
    ['Client certificate', t.clientCertRequired ? 'required' : 'not required'],
    ['TLS score', t.score !== undefined ? `${t.score}/100` : t.notRated ? `not rated: ${t.notRated.replace(/^TLS not rated: /, '')}` : '—'],
  ];
  if (t.psk) rows.splice(1, 0, ['Pre-shared keys', `${t.psk.only ? 'only pre-shared keys (TLS-PSK)' : 'also pre-shared keys (TLS-PSK)'}, identity hint: ${t.psk.hint ?? 'none'}`]);
  if (t.error) rows.push(['Error', t.error]);
  return rows;
}

/** The detail's transport line (BrokerDetail.transport). */
export function transportText(r: Pick<KeptResult, 'host' | 'port' | 'transport' | 'websocketPath'>): string {
  if (r.transport === 'tls') return 'MQTT over TLS';
  if (r.transport === 'tcp') return 'MQTT over plain TCP';
  if (isWebSocketTransport(r.transport)) {
    return `MQTT over WebSocket ${r.transport === 'wss' ? 'over TLS' : '(plain)'}: ${brokerUrl(r)}`;
  }
  return '—';
}

/** The detail panel for one kept result. */
export function brokerDetail(r: KeptResult): BrokerDetail {
  const mqttVersions = (r.mqtt && r.mqtt.versions) || {};
  const versions =
    Object.keys(mqttVersions)
      .filter((v) => mqttVersions[v as keyof typeof mqttVersions] === 'supported')
      .join(', ') || '—';
  const topics = r.topics;
  return {
    ep: r.ep,
    level: r.risk ? r.risk.level : 'NOT RATED',
    levelClass: r.risk ? LEVEL_CLASS[r.risk.level] || 'none' : 'none',
    score: r.risk ? r.risk.score : null,
    notRated: r.risk ? null : r.riskNotRated || null,
    transport: transportText(r),
    scannedBy: r.scannedBy ? scannedByText(r.scannedBy) : null,
    versions,
    brokerVersion: (r.mqtt && r.mqtt.brokerVersion) || null,
    classification: r.classification,
    auth: [
      ['Anonymous', authText(r.auth.anonymous)],
      ['Wrong login', authText(r.auth.wrongCredentials)],
      ['Your login', authText(r.auth.givenCredentials)],
      ...(r.auth.defaultCredentials ? [['Default logins', authText(r.auth.defaultCredentials)] as [string, string]] : []),
      ...(r.auth.withoutCertificate ? [['Without the client certificate', authText(r.auth.withoutCertificate)] as [string, string]] : []),
    ],
    findings: (r.findings || [])
      .slice()
      .sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity])
      .map((f) => ({ id: f.id, severity: f.severity, title: f.title, evidence: f.evidence, fix: f.recommendation, refs: (f.references || []).join(', ') })),
    tls: tlsRows(r),
    cert: certificateRows(r),
    topics: topics ? topics.items.slice(0, DETAIL_TOPICS) : [],
    topicCount: topics ? topics.count : null,
    listened: topics && topics.listenedMs
      ? `${(topics.listenedMs / 1000).toFixed(topics.listenedMs < 10000 ? 1 : 0)} s as ${topics.as || '?'}${topics.note ? `. ${topics.note}` : ''}`
      : null,
    writeTest: topics && topics.writeTest ? (topics.writeTest.accepted ? 'accepted: anyone logged in like us can publish' : 'refused') : null,
    devices: devicesView(topics),
    vulnerabilities: vulnerabilitiesView(r.vulnerabilities),
    since: r.since ? `Since the previous scan${r.since.previousScan ? ` (${r.since.previousScan.slice(0, 8)})` : ''}: ${r.since.text}` : null,
    skipped: r.skipped,
  };
}
