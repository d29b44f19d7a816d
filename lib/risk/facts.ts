// Small, named questions about a scan result that the rule table asks. Each reads only the
// result contract (lib/types.ts), so the rules work whatever filled the fields in.
import type { AuthAttempt, DeviceExposure, EcosystemExposure, ScanResult, TlsCertificateInfo, TopicItem } from '../types';
import { brokerUrl, isWebSocketTransport } from '../common';
import { summarizeDevices } from '../sniff';

/** A certificate this many days from expiry (or fewer) gets TLS_EXPIRES_SOON. */
export const EXPIRY_WARNING_DAYS = 30;
/** RSA/DSA keys below this many bits get TLS_WEAK_KEY (NIST SP 800-57: 2048 since 2014). */
export const MIN_RSA_BITS = 2048;
/** Elliptic-curve keys below this many bits get TLS_WEAK_KEY (P-224 is the smallest NIST still allows). */
export const MIN_EC_BITS = 224;
/** NO_TOPIC_ACL: one login that reads this many unrelated top-level topic trees has no per-user ACL. */
export const NO_ACL_MIN_ROOTS = 2;
export const LEGACY_TLS_VERSIONS = ['SSLv2', 'SSLv3', 'TLSv1', 'TLSv1.1'];
/** OpenSSL's words for a chain that ends in a self-signed certificate nobody here trusts. */
const SELF_SIGNED_ERRORS = /SELF_SIGNED/i;

/** The broker answered MQTT (accepted or refused): auth and transport rules apply. */
export function spokeMqtt(r: ScanResult): boolean {
  return r.reachability === 'open' && (r.classification === 'open_or_auth_ok' || r.classification === 'not_authorized');
}

/** Worth a risk rating: a broker, or a TLS port whose handshake failed (its certificate still counts). */
export function assessable(r: ScanResult): boolean {
  return spokeMqtt(r) || (r.reachability === 'open' && r.classification === 'tls_or_ssl_error');
}

export const accepted = (a: AuthAttempt | undefined): boolean => a?.outcome === 'accepted';

/**
 * A client without the scan's client certificate cannot connect the way `a` (an attempt that
 * presented it) did: the certificate-less anonymous attempt (auth.withoutCertificate) ended in the
 * TLS handshake for want of it, or (for the anonymous attempt) was refused by CONNACK; a result
 * without that attempt relies on the TLS inspector's clientCertRequired. False for attempts that
 * presented no certificate. What such an attempt got is what the certificate's holder gets, so the
 * rules judge the broker by auth.withoutCertificate instead.
 */
export function certificateGuards(r: ScanResult, a: AuthAttempt | undefined): boolean {
  if (a?.clientCertificate !== true) return false;
  const without = r.auth.withoutCertificate;
  if (without?.certificateRequired === true) return true;
  if (without?.outcome === 'accepted') return false;
  if (without?.outcome === 'rejected' && a === r.auth.anonymous) return true;
  return r.tls?.clientCertRequired === true;
}

/** Anonymous clients get in, without any certificate the scan presented. */
export function anonymousOpen(r: ScanResult): boolean {
  return accepted(r.auth.anonymous) && !certificateGuards(r, r.auth.anonymous);
}

/** Any made-up login gets in, without any certificate the scan presented. */
export function anyLoginOpen(r: ScanResult): boolean {
  return accepted(r.auth.wrongCredentials) && !certificateGuards(r, r.auth.wrongCredentials);
}

/** Anyone who can reach the port gets in: anonymously or with any made-up login, without a
 *  client certificate the scan presented (the "open brokers" of summaries and the dashboard). */
export function openToAnyone(r: Pick<ScanResult, 'auth' | 'tls'>): boolean {
  return anonymousOpen(r as ScanResult) || anyLoginOpen(r as ScanResult);
}

/** Logins made with the scan's client certificate got in whatever (or without) the username,
 *  and a client without the certificate does not: the certificate is the identity. */
export function certificateIsIdentity(r: ScanResult): boolean {
  const { anonymous, wrongCredentials } = r.auth;
  return (accepted(anonymous) && certificateGuards(r, anonymous)) || (accepted(wrongCredentials) && certificateGuards(r, wrongCredentials));
}

export function plainTransport(r: ScanResult): boolean {
  return spokeMqtt(r) && (r.transport === 'tcp' || r.transport === 'ws');
}

/** Anonymous clients are refused, so every client on this port sends a username and password. */
export function requiresAuth(r: ScanResult): boolean {
  return refused(r.auth.anonymous) && !accepted(r.auth.wrongCredentials);
}

/** The broker refused the attempt: a refusing CONNACK, or a hang-up on the CONNECT (docs/verdicts.md). */
export function refused(a: AuthAttempt | undefined): boolean {
  return a?.outcome === 'rejected' || a?.outcome === 'closed_without_connack';
}

/** Clients must prove who they are: anonymous clients are refused, or only a client certificate gets them in. */
export function identityRequired(r: ScanResult): boolean {
  return refused(r.auth.anonymous) || (accepted(r.auth.anonymous) && certificateGuards(r, r.auth.anonymous));
}

export function certOf(r: ScanResult): TlsCertificateInfo | null {
  return r.tls?.certificate ?? null;
}

export function isSelfSigned(c: TlsCertificateInfo): boolean {
  return c.selfSigned === true || (c.trusted === false && SELF_SIGNED_ERRORS.test(c.trustError ?? ''));
}

export function isExpired(c: TlsCertificateInfo): boolean {
  return c.expired ?? (typeof c.daysLeft === 'number' && c.daysLeft < 0);
}

export function isNotYetValid(c: TlsCertificateInfo): boolean {
  return c.notYetValid === true;
}

export function isWeakKey(c: TlsCertificateInfo): boolean {
  if (typeof c.keyBits !== 'number' || c.keyBits <= 0) return false;
  const ec = /^(ec|ecdsa|ed25519|ed448|x25519)/i.test(c.keyType ?? '');
  return c.keyBits < (ec ? MIN_EC_BITS : MIN_RSA_BITS);
}

export function legacyVersions(r: ScanResult): string[] {
  const offered = Object.entries(r.tls?.versions ?? {}).filter(([v, ok]) => ok && LEGACY_TLS_VERSIONS.includes(v)).map(([v]) => v);
  const negotiated = r.tls?.protocol;
  if (negotiated && LEGACY_TLS_VERSIONS.includes(negotiated) && !offered.includes(negotiated)) offered.push(negotiated);
  return offered;
}

export function items(r: ScanResult): TopicItem[] {
  return Array.isArray(r.topics?.items) ? r.topics!.items : [];
}

/** Who the sniffer listened as; an older sniffer that does not say listened anonymously when it
 *  could. A listener that presented a client certificate the broker requires was not anonymous. */
export function listenedAnonymously(r: ScanResult): boolean {
  const as = r.topics?.as;
  return (as === 'anonymous' || (as === undefined && accepted(r.auth.anonymous))) && !certificateGuards(r, r.auth.anonymous);
}

/** "anonymously", "with the given login", "with the scan's client certificate (no username)". */
export function listenedAs(r: ScanResult): string {
  if (listenedAnonymously(r)) return 'anonymously';
  if (r.topics?.as === 'given credentials') return 'with the given login';
  return certificateGuards(r, r.auth.anonymous) ? "with the scan's client certificate (no username)" : 'with the given login';
}

/** The $SYS topic names the broker sent (topics.sys.raw's keys), sorted; never the scanner's own field names. */
export function sysTopics(r: ScanResult): string[] {
  const raw = sysInfo(r)?.raw;
  if (!raw || typeof raw !== 'object') return [];
  return Object.keys(raw).filter((t) => t.startsWith('$')).sort();
}

/** $SYS messages that announced the scanner's own connections (counted by the listener, not listed). */
export function ownSysEvents(r: ScanResult): number {
  const n = sysInfo(r)?.ownConnectionEvents;
  return typeof n === 'number' && n > 0 ? n : 0;
}

export function sysInfo(r: ScanResult): Record<string, unknown> | null {
  const sys = r.topics?.sys;
  return sys && typeof sys === 'object' && Object.keys(sys).length > 0 ? sys : null;
}

export function brokerVersion(r: ScanResult): string | null {
  const v = r.mqtt?.brokerVersion ?? sysInfo(r)?.version;
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
}

/** First-level topic trees (not $SYS or other $-topics) among what the sniffer saw. */
export function topicRoots(r: ScanResult): string[] {
  const roots = new Set<string>();
  for (const it of items(r)) {
    if (typeof it.topic !== 'string' || it.topic.startsWith('$')) continue;
    roots.add(it.topic.split('/')[0] || '/');
  }
  return [...roots].sort();
}

/**
 * The data filters (not $SYS) the listener was granted, as evidence names them: '#' when the
 * result does not list its subscriptions; a fallback with the refused filter it replaced
 * ("'+/#' (in place of the refused '#')", lib/sniff/subscribe.ts).
 */
export function readFilters(r: ScanResult): string {
  const subs = Array.isArray(r.topics?.subscriptions) ? r.topics!.subscriptions : [];
  const granted = subs.filter((s) => s?.granted === true && typeof s.filter === 'string' && !s.filter.startsWith('$'));
  if (!granted.length) return "'#'";
  const shown = granted.slice(0, 3).map((s) => `'${clip(s.filter, 80)}'${typeof s.replaces === 'string' ? ` (in place of the refused '${clip(s.replaces, 80)}')` : ''}`);
  return granted.length > 3 ? `${shown.join(', ')} and ${granted.length - 3} more` : shown.join(', ');
}

/** Topics whose payload looked like a secret (credential, token, private key, e-mail address);
 *  positions are LOCATION_DATA_EXPOSED's, not counted here. */
export function sensitiveItems(r: ScanResult): TopicItem[] {
  return items(r).filter((it) => Array.isArray(it.sensitive) && it.sensitive.some((k) => k !== 'coordinates'));
}

/** The devices behind the topics, from the items themselves (never from a `topics.devices` that
 *  anyone could have written): lib/sniff summarizeDevices; null when nothing was recognised. */
export function deviceExposure(r: ScanResult): DeviceExposure | null {
  return summarizeDevices(items(r));
}

/** Topics whose payload was a position: an ecosystem's location message (OwnTracks) or a payload
 *  that looked like coordinates. */
export function locationItems(r: ScanResult): TopicItem[] {
  return items(r).filter((it) => (it.device?.role === 'location' && it.device.location === true) || (Array.isArray(it.sensitive) && it.sensitive.includes('coordinates')));
}

/** "Zigbee2MQTT (3 devices), OwnTracks (2 devices)": the ecosystems of an exposure, for evidence. */
export function ecosystemList(e: DeviceExposure, pick: (x: EcosystemExposure) => boolean = () => true): string {
  return e.ecosystems.filter(pick).map((x) => `${x.name} (${x.devices}${x.devicesAtLeast ? '+' : ''} device${x.devices === 1 && !x.devicesAtLeast ? '' : 's'})`).join(', ');
}

export function retainedItems(r: ScanResult): TopicItem[] {
  return items(r).filter((it) => it.retained === true);
}

/** "sensors/a, sensors/b and 3 more": evidence stays readable for a broker with 10,000 topics. */
export function listSome(names: string[], max = 5): string {
  // Control characters in a topic name would break the evidence line: shown as '?'.
  const shown = names.slice(0, max).map((n) => `"${clip(String(n).replace(/[\u0000-\u001f\u007f-\u009f]/g, '?'), 80)}"`);
  const more = names.length - shown.length;
  return more > 0 ? `${shown.join(', ')} and ${more} more` : shown.join(', ');
}

export function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

export function authLine(a: AuthAttempt): string {
  const code = a.code === undefined ? '' : `CONNACK ${a.code}${a.reason ? ` (${a.reason})` : ''}`;
  const version = a.version ? `, MQTT ${a.version}` : '';
  return `${code || a.outcome}${version}`;
}

/** "2027-10-01" from an ISO or OpenSSL date; the text itself when it does not parse. */
export function day(s: string | undefined): string {
  const t = Date.parse(s ?? '');
  return Number.isNaN(t) ? String(s ?? '?') : new Date(t).toISOString().slice(0, 10);
}

/** Where the broker answered, for evidence: "tcp port 1883", or the URL on ws and wss ("ws://127.0.0.1:9001/mqtt"). */
export function where(r: ScanResult): string {
  if (isWebSocketTransport(r.transport) && r.websocketPath) return brokerUrl(r)!;
  return `${r.transport ?? 'unknown transport'} port ${r.port}`;
}
