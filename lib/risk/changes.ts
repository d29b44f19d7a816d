// The fix-and-rescan loop: what changed for each host:port between a previous scan and this one.
// Findings resolved and new, risk level and score before and after, a certificate that changed,
// a broker that appeared or is gone. Pure: both scans are results as the classifier made them.
import type { Finding, RiskInfo, RiskLevel, ScanResult } from '../types';
import { spokeMqtt } from './facts';
import { identifyBroker } from './vulnerabilities';

/** Rules whose evidence comes from the listener's topics, the TLS inspection, the broker's version. */
const FROM_TOPICS = new Set(['BROKER_VERSION_DISCLOSED', 'ANONYMOUS_PUBLISH', 'SENSITIVE_PAYLOAD', 'NO_TOPIC_ACL', 'RETAINED_DATA_EXPOSED', 'SYS_TOPICS_EXPOSED', 'DEVICE_CONTROL_EXPOSED', 'LOCATION_DATA_EXPOSED', 'DEVICE_INVENTORY_EXPOSED']);
const FROM_VERSION = new Set(['BROKER_KNOWN_VULNERABLE', 'BROKER_OUTDATED']);

/** Whether `current` looked for what `id` is about: a listener read its topics, TLS was inspected, its version was read. */
function checked(id: string, current: ScanResult): boolean {
  if (FROM_TOPICS.has(id)) return !!current.topics && !current.topics.error;
  if (FROM_VERSION.has(id)) return identifyBroker(current) !== null;
  if (id.startsWith('TLS_') || id.startsWith('CLIENT_CERT_REQUIRED')) return !!current.tls;
  return true;
}

/** What one host:port looked like in the previous scan. */
export interface PreviousState {
  scanId: string | null;
  classification: string;
  risk: RiskInfo | null;
  findings: string[];
}

/**
 * What changed for one host:port (ScanResult.changes): 'appeared' (it speaks MQTT now, it did not
 * or was not in the previous scan), 'gone' (it spoke MQTT, now it does not answer MQTT), 'changed'
 * (findings, risk or certificate differ), 'unchanged'. Finding ids are sorted; risk and score are
 * null where a side was not rated.
 */
export interface ResultChanges {
  status: 'appeared' | 'gone' | 'changed' | 'unchanged';
  previous: PreviousState | null;
  /** Findings of the previous scan this one looked for and did not find. */
  resolved: string[];
  /** Findings of the previous scan this one could not look for (it read no topics, inspected no
   *  TLS, or the broker no longer says its version): not found, but not resolved either. */
  unchecked: string[];
  new: string[];
  riskBefore: RiskLevel | null;
  riskAfter: RiskLevel | null;
  scoreBefore: number | null;
  scoreAfter: number | null;
  /** The server certificate's SHA-256 fingerprint differs (both scans saw one). */
  certificateChanged: boolean;
}

/** "127.0.0.1:1883", "[::1]:1883": the key results are matched on. */
export function endpointKey(r: Pick<ScanResult, 'host' | 'port'>): string {
  return r.host.includes(':') ? `[${r.host}]:${r.port}` : `${r.host}:${r.port}`;
}

function findingIds(r: ScanResult | undefined): string[] {
  const list = (r as { findings?: Finding[] } | undefined)?.findings;
  return Array.isArray(list) ? [...new Set(list.map((f) => f?.id).filter((id): id is string => typeof id === 'string'))].sort() : [];
}

function riskOf(r: ScanResult | undefined): RiskInfo | null {
  const risk = (r as { risk?: RiskInfo | null } | undefined)?.risk;
  return risk && typeof risk.level === 'string' && typeof risk.score === 'number' ? risk : null;
}

/**
 * The changes of `current` against `previous` (the same host:port in an earlier scan, or
 * undefined when it was not in it). Both are classified results (findings, risk).
 */
export function changesOf(current: ScanResult, previous: ScanResult | undefined): ResultChanges {
  const now = findingIds(current);
  const before = findingIds(previous);
  const riskNow = riskOf(current);
  const riskBefore = riskOf(previous);
  const certNow = current.tls?.certificate?.fingerprint256;
  const certBefore = previous?.tls?.certificate?.fingerprint256;
  const certificateChanged = !!certNow && !!certBefore && certNow !== certBefore;
  const gone = before.filter((id) => !now.includes(id));
  const resolved = gone.filter((id) => checked(id, current));
  const unchecked = gone.filter((id) => !checked(id, current));
  const added = now.filter((id) => !before.includes(id));
  const wasBroker = !!previous && spokeMqtt(previous);
  const isBroker = spokeMqtt(current);
  const status: ResultChanges['status'] = isBroker && !wasBroker ? 'appeared'
    : wasBroker && !isBroker ? 'gone'
    : gone.length || added.length || certificateChanged || riskNow?.level !== riskBefore?.level || riskNow?.score !== riskBefore?.score ? 'changed'
    : 'unchanged';
  return {
    status,
    previous: previous ? { scanId: previous.scanId ?? null, classification: previous.classification, risk: riskBefore, findings: before } : null,
    resolved,
    unchecked,
    new: added,
    riskBefore: riskBefore?.level ?? null,
    riskAfter: riskNow?.level ?? null,
    scoreBefore: riskBefore?.score ?? null,
    scoreAfter: riskNow?.score ?? null,
    certificateChanged,
  };
}

/**
 * Each current result with `changes` against the previous scan's result of the same host:port
 * (a copy; the inputs are not changed), and the previous brokers this scan did not see at all
 * (`missing`: scanned before, absent now; whether they are gone or were not scanned again, the
 * results cannot tell).
 */
export function compareScans<T extends ScanResult>(previous: readonly ScanResult[], current: readonly T[]): { results: Array<T & { changes: ResultChanges }>; missing: string[] } {
  const before = new Map(previous.filter((r) => r && typeof r.host === 'string').map((r) => [endpointKey(r), r]));
  const results = current.map((r) => ({ ...r, changes: changesOf(r, before.get(endpointKey(r))) }));
  const seen = new Set(current.map(endpointKey));
  const missing = [...before.values()].filter((r) => spokeMqtt(r) && !seen.has(endpointKey(r))).map(endpointKey).sort();
  return { results, missing };
}

const STATUSES: ReadonlyArray<ResultChanges['status']> = ['appeared', 'gone', 'changed', 'unchanged'];
/** Most finding ids read from one list of a `changes` that came from outside. */
const MAX_IDS = 64;

/**
 * A result's `changes` read defensively (a flow or a file could have written it): a well-typed
 * copy with at most MAX_IDS ids per list and the previous scan's id cut to 64 characters, or null
 * when it is not a ResultChanges.
 */
export function readChanges(v: unknown): ResultChanges | null {
  if (!v || typeof v !== 'object') return null;
  const c = v as Record<string, unknown>;
  if (!STATUSES.includes(c.status as ResultChanges['status'])) return null;
  const ids = (x: unknown) => (Array.isArray(x) ? x.filter((i): i is string => typeof i === 'string').slice(0, MAX_IDS) : []);
  const level = (x: unknown) => (typeof x === 'string' ? (x as RiskLevel) : null);
  const score = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : null);
  const p = c.previous && typeof c.previous === 'object' ? (c.previous as Record<string, unknown>) : null;
  return {
    status: c.status as ResultChanges['status'],
    previous: p ? { scanId: typeof p.scanId === 'string' ? p.scanId.slice(0, 64) : null, classification: String(p.classification ?? ''), risk: null, findings: ids(p.findings) } : null,
    resolved: ids(c.resolved),
    unchecked: ids(c.unchecked),
    new: ids(c.new),
    riskBefore: level(c.riskBefore),
    riskAfter: level(c.riskAfter),
    scoreBefore: score(c.scoreBefore),
    scoreAfter: score(c.scoreAfter),
    certificateChanged: c.certificateChanged === true,
  };
}

/** "resolved ANONYMOUS_ACCESS, WRONG_CREDENTIALS_ACCEPTED; new PLAINTEXT_CREDENTIALS; risk CRITICAL 0 -> MEDIUM 75", or the status. */
export function changesText(c: ResultChanges): string {
  if (c.status === 'appeared') return `new broker${c.riskAfter ? ` (${c.riskAfter} ${c.scoreAfter})` : ''}`;
  if (c.status === 'gone') return `no longer answers MQTT (was ${c.riskBefore ?? c.previous?.classification ?? '?'})`;
  if (c.status === 'unchanged') return 'unchanged';
  const parts: string[] = [];
  if (c.resolved.length) parts.push(`resolved ${c.resolved.join(', ')}`);
  if (c.new.length) parts.push(`new ${c.new.join(', ')}`);
  if (c.unchecked.length) parts.push(`not checked this time ${c.unchecked.join(', ')}`);
  if (c.riskBefore !== c.riskAfter || c.scoreBefore !== c.scoreAfter) {
    const side = (level: RiskLevel | null, score: number | null) => (level ? `${level} ${score}` : 'not rated');
    parts.push(`risk ${side(c.riskBefore, c.scoreBefore)} -> ${side(c.riskAfter, c.scoreAfter)}`);
  }
  if (c.certificateChanged) parts.push('certificate changed');
  return parts.join('; ');
}

/** What a PreviousScans keeps of one result: enough to compare with (changesOf), nothing else. */
interface Snapshot {
  host: string;
  port: number;
  scanId: string | null;
  reachability: ScanResult['reachability'];
  classification: ScanResult['classification'];
  risk: RiskInfo | null;
  findings: Array<{ id: string }>;
  fingerprint256?: string;
}

/** Endpoints a PreviousScans remembers; beyond it the least recently seen is forgotten. */
export const PREVIOUS_SCANS_MAX = 10_000;

/**
 * The last result of each host:port that a flow classified (the risk classifier node keeps one in
 * its context, so it survives a restart with a persistent context store): compares a new result
 * with it and remembers the new one. Bounded: at most `max` endpoints, about 300 bytes each.
 */
export class PreviousScans {
  private readonly byEndpoint = new Map<string, Snapshot>();

  constructor(private readonly max = PREVIOUS_SCANS_MAX) {}

  /** From what toJSON() gave (a context value); anything malformed is skipped. */
  static from(value: unknown, max = PREVIOUS_SCANS_MAX): PreviousScans {
    const p = new PreviousScans(max);
    const list = Array.isArray(value) ? value : [];
    for (const s of list.slice(-max)) {
      if (!s || typeof s !== 'object' || typeof s.host !== 'string' || !Number.isInteger(s.port)) continue;
      p.byEndpoint.set(endpointKey(s as Snapshot), s as Snapshot);
    }
    return p;
  }

  /** `r` with `changes` against the last result of its host:port from another scan, which `r` then replaces. */
  compare<T extends ScanResult>(r: T): T & { changes: ResultChanges } {
    const key = endpointKey(r);
    const last = this.byEndpoint.get(key);
    const previous = last && last.scanId !== (r.scanId ?? null) ? asResult(last) : undefined;
    const changes = changesOf(r, previous);
    if (!last || last.scanId !== (r.scanId ?? null)) {
      this.byEndpoint.delete(key);
      this.byEndpoint.set(key, snapshotOf(r));
      if (this.byEndpoint.size > this.max) this.byEndpoint.delete(this.byEndpoint.keys().next().value as string);
    }
    return { ...r, changes };
  }

  get size(): number {
    return this.byEndpoint.size;
  }

  toJSON(): Snapshot[] {
    return [...this.byEndpoint.values()];
  }
}

function snapshotOf(r: ScanResult): Snapshot {
  const fingerprint256 = r.tls?.certificate?.fingerprint256;
  return {
    host: r.host,
    port: r.port,
    scanId: r.scanId ?? null,
    reachability: r.reachability,
    classification: r.classification,
    risk: riskOf(r),
    findings: findingIds(r).map((id) => ({ id })),
    ...(fingerprint256 ? { fingerprint256 } : {}),
  };
}

function asResult(s: Snapshot): ScanResult {
  return {
    host: s.host, port: s.port, scanId: s.scanId ?? '', reachability: s.reachability, classification: s.classification,
    risk: s.risk, findings: s.findings, ...(s.fingerprint256 ? { tls: { certificate: { fingerprint256: s.fingerprint256 } } } : {}),
  } as unknown as ScanResult;
}
