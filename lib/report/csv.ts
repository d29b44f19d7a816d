// The CSV report: one row per result, the seed dashboard's columns first, then ours.
//
// Seed columns: ip, port, result (what the connect attempt got, in words), classification,
// security (transport security: TLS / plaintext), topics_count, publishers_count (the sniffer's
// `publishers` when it reports one, else the topics that got a live, non-retained message while
// we listened: a lower bound on active publishers). The devices behind the topics, then the known
// vulnerabilities of the broker's version come last.
import { Parser } from '@json2csv/plainjs';
import type { ClassifiedResult } from '../risk';
import type { ReportInput } from './model';
import { outcomeText } from './wording';
import { brokerUrl, deviceExposureOf, knownVulnerabilitiesOf } from '../common';

type Getter = (r: ClassifiedResult) => string | number | boolean | null | undefined;

export const CSV_COLUMNS: Array<[string, Getter]> = [
  ['ip', (r) => r.host],
  ['port', (r) => r.port],
  ['result', (r) => outcomeText(r)],
  ['classification', (r) => r.classification],
  ['security', (r) => (r.transport === 'tls' || r.transport === 'wss' ? 'TLS' : r.transport ? 'plaintext' : '')],
  ['topics_count', (r) => r.topics?.count ?? ''],
  ['publishers_count', (r) => publishers(r)],
  ['risk_level', (r) => r.risk?.level ?? (r.riskNotRated ? 'not rated' : '')],
  ['risk_score', (r) => r.risk?.score ?? ''],
  ['finding_ids', (r) => r.findings.map((f) => f.id).join(';')],
  ['tls_version', (r) => r.tls?.protocol ?? ''],
  ['cert_expiry', (r) => r.tls?.certificate?.validTo ?? ''],
  ['cert_days_left', (r) => r.tls?.certificate?.daysLeft ?? ''],
  ['transport', (r) => r.transport ?? ''],
  ['anonymous_allowed', (r) => r.security_assessment.anonymous_allowed ?? ''],
  ['requires_auth', (r) => r.security_assessment.requires_auth ?? ''],
  ['broker_version', (r) => r.mqtt?.brokerVersion ?? (typeof r.topics?.sys?.version === 'string' ? r.topics.sys.version : '')],
  /** Why a port that answered is not rated (risk_level "not rated"); empty when rated. */
  ['risk_not_rated', (r) => r.riskNotRated ?? ''],
  ['tls_score', (r) => r.tls?.score ?? (r.tls?.notRated ? 'not rated' : '')],
  ['tls_psk_hint', (r) => (r.tls?.psk ? (r.tls.psk.hint ?? '(none)') : '')],
  /** mqtt://, mqtts://, ws://host:port/path or wss://host:port/path (lib/common brokerUrl). */
  ['broker_url', (r) => brokerUrl(r) ?? ''],
  /** The devices behind the topics (TopicsInfo.devices): the recognised ecosystems' names joined by
   *  "; ", distinct devices (a lower bound when an inventory was too big to read whole), command
   *  topics, topics with positions (counted, never shown). Empty when the broker was not listened to. */
  ['ecosystems', (r) => devicesOf(r)?.ecosystems.map((e) => e.name).join('; ') ?? ''],
  ['device_count', (r) => devicesOf(r)?.devices ?? ''],
  ['command_topics', (r) => devicesOf(r)?.commandCount ?? ''],
  ['location_topics', (r) => devicesOf(r)?.locations ?? ''],
  /** The known vulnerabilities of the version the broker said (ClassifiedResult.vulnerabilities,
   *  read through lib/common knownVulnerabilitiesOf): their ids worst first, joined by "; ". Empty
   *  when none applies or the broker did not say its version. */
  ['cves', (r) => knownVulnerabilitiesOf(r.vulnerabilities)?.matches.map((m) => m.id).join('; ') ?? ''],
  /** A coordinated scan (ScanResult.scannedBy): the site and the scan agent's login; empty in a local scan. */
  ['site', (r) => r.scannedBy?.site ?? ''],
  ['agent', (r) => r.scannedBy?.agent ?? ''],
];

export function renderCsv(input: ReportInput): string {
  const parser = new Parser<ClassifiedResult, ClassifiedResult>({
    fields: CSV_COLUMNS.map(([label, get]) => ({ label, value: (r: ClassifiedResult) => neutralise(get(r)) })),
    eol: '\r\n',
    // Excel reads UTF-8 (accented topic names) only with the byte-order mark.
    withBOM: true,
  });
  return `${parser.parse(input.results)}\r\n`;
}

/**
 * CSV injection: a spreadsheet runs a cell that starts with = + - @ (or tab / CR before them) as
 * a formula. Such text cells get a leading single quote, which spreadsheets show as text.
 * Other control characters (a NUL in a broker's version string) become '?'.
 */
export function neutralise<T>(v: T): T | string {
  if (typeof v !== 'string') return v;
  const s = v.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '?');
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

/** The devices summary of a broker that was listened to (none found: all counts 0); null when it was not. */
function devicesOf(r: ClassifiedResult) {
  if (!r.topics || r.topics.error) return null;
  return deviceExposureOf(r.topics.devices) ?? { ecosystems: [], devices: 0, commandCount: 0, locations: 0 };
}

function publishers(r: ClassifiedResult): number | string {
  if (!r.topics) return '';
  if (typeof r.topics.publishers === 'number') return r.topics.publishers;
  return (r.topics.items ?? []).filter((it) => it.messages - (it.retained ? 1 : 0) > 0).length;
}
