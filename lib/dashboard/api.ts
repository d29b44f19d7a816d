// The HTTP API (POST /api/scan, GET /api/results, GET /api/reports/...): the API key, the request
// body, the rate limit, and every answer it gives. The body follows the seed API:
// {target, ports, creds: {user, pass}, listen_duration, write_test, send_credentials_plaintext}.
import { checkScanCa, ScanCaError } from '../tls';
import { createHash, timingSafeEqual } from 'node:crypto';
import { errorSource, errorText, record } from './read';
import { JSON_HEADERS, type HttpAnswer } from './downloads';
import { OPTIONS } from '../options';
import { PORT_PRESETS } from '../targets';

/** A key shorter than this keeps the API closed: guessing must not be practical. */
export const API_KEY_MIN_LENGTH = 16;
/** An X-API-KEY header longer than this is not compared at all. */
const GIVEN_KEY_MAX = 1024;
/** Largest request body read (bytes); beyond it: 413. */
export const API_BODY_MAX_BYTES = 10 * 1024;
/** Accepted scans per API key per window. */
export const API_RATE_LIMIT = 10;
export const API_RATE_WINDOW_MS = 60 * 1000;
/** A request waits at most this long in the flow context for its scan (ms). */
export const API_PENDING_MAX_MS = 3600 * 1000;
/** Listen time when the body gives none (s). */
/** listen_duration when the request has none: the options table's listen time (lib/options). */
export const API_DEFAULT_LISTEN_S: number = OPTIONS.listenSeconds.default;
/** The API allows at most this listen time (its answer waits for the scan), less than the table's maximum. */
export const API_MAX_LISTEN_S = 60;
/** The report files kept for GET /api/reports. */
export const API_REPORTS_KEPT = 50;
const BODY_FIELDS = ['target', 'ports', 'creds', 'listen_duration', 'write_test', 'send_credentials_plaintext', 'try_defaults', 'ca', 'sites'];
/** Fields of the earlier (Flask) scanner's API that are still accepted: capture_all_topics
 *  (true/false) is the listen setting when listen_duration is not given (false: do not listen). */
const LEGACY_FIELDS = ['capture_all_topics'];

/** The keys MQTTSEC_API_KEY names: comma-separated, trimmed, blanks dropped. */
export function apiKeysFrom(setting: string | undefined): string[] {
  return String(setting || '')
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k.length > 0);
}

/**
 * Whether two secrets are equal, in time that depends on neither: both are hashed (SHA-256) and the
 * digests compared with crypto.timingSafeEqual, so neither a length nor a first differing
 * character shows in the timing.
 */
export function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * Checks X-API-KEY (`given`) against `keys`. No key configured, or one shorter than
 * API_KEY_MIN_LENGTH: 503 api_key_not_configured (never open by accident). Missing or wrong: 401.
 * Otherwise the key's id, "key<index>", for the rate limit (the key itself is never stored).
 * Every key is compared, each in constant time.
 */
export function checkApiKey(keys: readonly string[], given: unknown): { ok: true; keyId: string } | ({ ok: false } & HttpAnswer) {
  if (!keys.length || keys.some((k) => k.length < API_KEY_MIN_LENGTH)) {
    return {
      ok: false,
      status: 503,
      headers: { ...JSON_HEADERS },
      body: { error: 'api_key_not_configured', message: 'The API is off: set MQTTSEC_API_KEY (16 characters or more; several keys comma-separated) in the environment of Node-RED and restart it.' },
    };
  }
  let match = -1;
  if (typeof given === 'string' && given.length > 0 && given.length <= GIVEN_KEY_MAX) {
    keys.forEach((k, i) => {
      if (sameSecret(given, k) && match < 0) match = i;
    });
  }
  if (match < 0) {
    return { ok: false, status: 401, headers: { ...JSON_HEADERS, 'WWW-Authenticate': 'ApiKey header="X-API-KEY"' }, body: { error: 'unauthorized', message: 'Missing or wrong X-API-KEY header.' } };
  }
  return { ok: true, keyId: `key${match}` };
}

/** Which endpoint an "http in" route path is: the scan, the latest results, or a report file. */
export function apiEndpoint(routePath: unknown): 'scan' | 'results' | 'reports' | 'scans' {
  if (routePath === '/api/scan') return 'scan';
  if (routePath === '/api/results') return 'results';
  if (routePath === '/api/scans' || routePath === '/api/scans/:id') return 'scans';
  return 'reports';
}

/** A checked POST /api/scan body. Ports are "1883,8883" (no spaces); listen_duration in seconds, 0-60. */
export interface ApiScanRequest {
  target: string;
  ports: string;
  listen_duration: number;
  write_test: boolean;
  /** Also try well-known default logins (mqtt-scan --try-defaults); false when not asked. */
  try_defaults: boolean;
}

/** The checked request, the login it carries (or null), the plain-text opt-in, and warnings about
 *  fields that were ignored (unknown ones: named, never a 400, so an older client keeps working). */
export interface ApiScanCheck {
  ok: true;
  request: ApiScanRequest;
  credentials: { username: string; password: string } | null;
  sendCredentialsPlaintext: boolean;
  /** A CA (PEM) this scan's TLS connections also trust (lib/tls checkScanCa), '' when none was given. */
  ca: string;
  /**
   * A coordinated scan through the lab's site coordinator (`"sites": true`: every site; an array
   * of site names or a comma list: those), or null for a local scan (the field absent or false).
   */
  sites: true | string[] | null;
  warnings: string[];
}

/** A site name as lib/sites takes it (checkSiteName): 1-32 of a-z, 0-9, _ and -, starting with a letter or digit. */
const SITE_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;

function fieldError(code: number, error: string, message: string, field?: string): { ok: false } & HttpAnswer {
  return { ok: false, status: code, headers: { ...JSON_HEADERS }, body: field ? { error, field, message } : { error, message } };
}

/** A bad part quoted as JSON, cut at 60 characters. */
function quote(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}\u2026` : s);
}

/**
 * Checks a POST /api/scan body (the raw Buffer an "http in" node hands over with body parsing off,
 * or a string or value). Over API_BODY_MAX_BYTES: 413. Not JSON: 400 invalid_json. Not an
 * object: 400 invalid_request. A field unknown or wrong: 400 invalid_field naming it (field) and
 * quoting the bad part. Ports default to `defaultPorts`, listen_duration to API_DEFAULT_LISTEN_S.
 */
export function checkScanRequest(payload: unknown, defaultPorts: string): ApiScanCheck | ({ ok: false } & HttpAnswer) {
  const raw = Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload === undefined ? '' : payload));
  const bad = (message: string, field: string) => fieldError(400, 'invalid_field', message, field);
  if (raw.length > API_BODY_MAX_BYTES) return fieldError(413, 'payload_too_large', `The body has ${raw.length} bytes; at most ${API_BODY_MAX_BYTES} are accepted.`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    return fieldError(400, 'invalid_json', `The body is not valid JSON: ${(e as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return fieldError(400, 'invalid_request', 'The body must be a JSON object: {"target": "127.0.0.1", ...}');
  const b = parsed as Record<string, unknown>;
  const warnings: string[] = [];
  const unknown = Object.keys(b).filter((k) => !BODY_FIELDS.includes(k) && !LEGACY_FIELDS.includes(k));
  for (const k of unknown.slice(0, 8)) warnings.push(`${quote(k)}: unknown field, ignored; the fields are ${BODY_FIELDS.join(', ')}`);
  if (unknown.length > 8) warnings.push(`${unknown.length - 8} more unknown fields ignored`);
  // Every refusal quotes the part that is wrong, like the target expander does.
  if (typeof b.target !== 'string') return bad(`target: must be a string such as "127.0.0.1", "127.0.0.0/29" or "127.0.0.1-20", got ${b.target === null ? 'null' : Array.isArray(b.target) ? 'an array' : typeof b.target}`, 'target');
  if (!b.target.trim()) return bad('target: is empty; give an address, a network or a range such as "127.0.0.1"', 'target');
  if (b.target.length > 256) return bad(`target: ${quote(b.target)} is longer than 256 characters`, 'target');
  const badChar = b.target.match(/[^0-9A-Za-z.:\/!,\-\s\[\]]/);
  if (badChar) {
    const target = b.target;
    const token = target.split(/[\s,]+/).find((t) => t.includes(badChar[0])) || target;
    return bad(`target: ${quote(token)}: character ${JSON.stringify(badChar[0])} is not allowed (expected an IP address, CIDR, range or host name)`, 'target');
  }
  let ports: unknown = b.ports === undefined || b.ports === null ? String(defaultPorts) : b.ports;
  if (typeof ports === 'number') ports = [ports];
  if (Array.isArray(ports)) {
    if (!ports.length || ports.length > 64 || !ports.every((p) => Number.isInteger(p) && p >= 1 && p <= 65535)) return bad('ports: an array must hold 1 to 64 port numbers 1-65535', 'ports');
    ports = ports.join(',');
  }
  if (typeof ports !== 'string' || !ports.trim()) return bad(`ports: must be a string such as "1883,8883" or an array of numbers, got ${ports === null ? 'null' : typeof ports}`, 'ports');
  const badPort = ports
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .find((t) => {
      if (Object.hasOwn(PORT_PRESETS, t.toLowerCase())) return false;
      const m = /^(\d{1,5})(?:\s*-\s*(\d{1,5}))?$/.exec(t);
      return !m || +m[1] < 1 || +m[1] > 65535 || (m[2] !== undefined && (+m[2] < +m[1] || +m[2] > 65535));
    });
  if (badPort !== undefined) return bad(`ports: ${quote(badPort)}: expected a port 1-65535, a range such as "8000-8010" or a preset (${Object.keys(PORT_PRESETS).join(', ')})`, 'ports');
  const c = b.creds;
  if (c !== undefined && c !== null) {
    if (typeof c !== 'object' || Array.isArray(c)) return bad('creds: an object {"user": "...", "pass": "..."}', 'creds');
    const creds = c as Record<string, unknown>;
    if (typeof creds.user !== 'string' || !creds.user || creds.user.length > 256) return bad('creds.user: a non-empty string is required with creds', 'creds.user');
    if (creds.pass !== undefined && (typeof creds.pass !== 'string' || creds.pass.length > 1024)) return bad('creds.pass: a string of at most 1024 characters', 'creds.pass');
  }
  if (b.capture_all_topics !== undefined && typeof b.capture_all_topics !== 'boolean') return bad('capture_all_topics: true or false (the earlier scanner\'s field; listen_duration says how long)', 'capture_all_topics');
  const listenGiven = b.listen_duration !== undefined && b.listen_duration !== null;
  const listen = listenGiven ? b.listen_duration : b.capture_all_topics === false ? 0 : API_DEFAULT_LISTEN_S;
  if (listenGiven && b.capture_all_topics !== undefined) warnings.push('capture_all_topics: ignored, listen_duration is given');
  if (typeof listen !== 'number' || !Number.isFinite(listen) || listen < OPTIONS.listenSeconds.min || listen > API_MAX_LISTEN_S) return bad(`listen_duration: seconds, ${OPTIONS.listenSeconds.min} to ${API_MAX_LISTEN_S} (0 = do not listen to topics)`, 'listen_duration');
  if (b.write_test !== undefined && typeof b.write_test !== 'boolean') return bad('write_test: true or false', 'write_test');
  if (b.try_defaults !== undefined && typeof b.try_defaults !== 'boolean') return bad('try_defaults: true or false (also try well-known default logins such as admin/admin)', 'try_defaults');
  if (b.send_credentials_plaintext !== undefined && typeof b.send_credentials_plaintext !== 'boolean') {
    return bad('send_credentials_plaintext: true or false (true lets the scanner send creds over plain TCP or untrusted TLS)', 'send_credentials_plaintext');
  }
  let ca = '';
  try {
    ca = checkScanCa(b.ca);
  } catch (err) {
    if (err instanceof ScanCaError) return bad(`ca: ${err.message}`, 'ca');
    throw err;
  }
  let sites: true | string[] | null = null;
  if (b.sites !== undefined && b.sites !== null && b.sites !== false) {
    const list = b.sites === true ? null : typeof b.sites === 'string' ? b.sites.split(/[\s,]+/).filter(Boolean) : Array.isArray(b.sites) && b.sites.every((x) => typeof x === 'string') ? (b.sites as string[]) : undefined;
    if (list === undefined || (list && (!list.length || list.length > 32))) return bad('sites: true (every site of the lab), or 1 to 32 site names (an array or a comma list), e.g. ["north", "south"]', 'sites');
    const badName = list?.find((n) => !SITE_NAME.test(n));
    if (badName !== undefined) return bad(`sites: ${quote(badName)} is not a site name (a-z, 0-9, _ and -)`, 'sites');
    // The agents hold their own logins and judge certificates by their own CA: a job names a login, never carries one.
    if (c !== undefined && c !== null) return bad('creds: a sites scan uses the login the agents hold; leave creds out', 'creds');
    if (ca) return bad('ca: a sites scan judges certificates by each agent\'s own CA; leave ca out', 'ca');
    if (b.send_credentials_plaintext === true) return bad('send_credentials_plaintext: each agent decides where its login may go; leave it out of a sites scan', 'send_credentials_plaintext');
    sites = list ?? true;
  }
  const login = record(c);
  return {
    ok: true,
    request: { target: b.target.trim(), ports: ports.replace(/\s+/g, ''), listen_duration: listen, write_test: b.write_test === true, try_defaults: b.try_defaults === true },
    credentials: c ? { username: login.user as string, password: typeof login.pass === 'string' ? login.pass : '' } : null,
    sendCredentialsPlaintext: b.send_credentials_plaintext === true,
    ca,
    sites,
    warnings,
  };
}

/** One accepted scan in the rate limit (flow key `rate`: key id -> entries). */
export interface RateEntry {
  at: number;
  scanId: string;
}

/**
 * The sliding-window rate limit: `entries` are a key's accepted scans. Returns the entries still
 * inside the window at `now` (ms) and whether another scan is allowed; when not, the seconds until
 * it is (1-60).
 */
export function rateCheck(entries: unknown, now: number): { allowed: boolean; recent: RateEntry[]; retryAfter: number } {
  const recent = (Array.isArray(entries) ? entries : []).filter((e): e is RateEntry => !!e && now - (e as RateEntry).at < API_RATE_WINDOW_MS);
  if (recent.length < API_RATE_LIMIT) return { allowed: true, recent, retryAfter: 0 };
  return { allowed: false, recent, retryAfter: Math.max(1, Math.ceil((recent[0].at + API_RATE_WINDOW_MS - now) / 1000)) };
}

/** 429 rate_limited with Retry-After. */
export function rateLimitedAnswer(retryAfter: number): HttpAnswer {
  return {
    status: 429,
    headers: { ...JSON_HEADERS, 'Retry-After': String(retryAfter) },
    body: { error: 'rate_limited', message: `At most ${API_RATE_LIMIT} scans a minute per API key.`, retry_after: retryAfter },
  };
}

/** Takes a refused scan back out of every key's entries (in place): only accepted scans count. */
export function forgetRefusedScan(rate: Record<string, RateEntry[]>, scanId: string): Record<string, RateEntry[]> {
  for (const k of Object.keys(rate)) rate[k] = (Array.isArray(rate[k]) ? rate[k] : []).filter((e) => !e || e.scanId !== scanId);
  return rate;
}

/** Seconds a POST waits for its scan: MQTTSEC_API_SCAN_TIMEOUT, else 90 + the listen time. */
export function scanTimeoutSeconds(setting: string | undefined, listen: number): number {
  return Number(setting) || 90 + listen;
}

/** 504 scan_timeout: the scan goes on, GET /api/results shows it when done. */
export function timeoutAnswer(scanId: string, seconds: number): HttpAnswer {
  return { status: 504, headers: { ...JSON_HEADERS }, body: { error: 'scan_timeout', scanId, message: `The scan did not finish in ${seconds} s; it goes on, and GET /api/results shows it when done.` } };
}

/** 503 interrupted: the flows were redeployed (or Node-RED stopped) while the request waited. */
export function interruptedAnswer(scanId: string): HttpAnswer {
  return { status: 503, headers: { ...JSON_HEADERS }, body: { scanId, error: 'interrupted', message: 'the flows were redeployed during the scan' } };
}

/** GET /api/results: the latest finished API scan (flow key `latest`). */
export interface LatestResults {
  scanId: string | null;
  /** ISO time the report was written. */
  timestamp: string | null;
  count: number;
  request?: unknown;
  summary: unknown;
  results: unknown[];
}

/** What GET /api/results says before any API scan finished. */
export function noResults(): LatestResults {
  return { scanId: null, timestamp: null, count: 0, summary: null, results: [] };
}

/**
 * The latest results from the report writer's message: the results and summary of its JSON report
 * (msg.report.json, a string; unreadable: none), else payload.summary; the request that started it.
 * `at` is ms since the epoch.
 */
export function latestResults(scanId: string, reportJson: unknown, payload: unknown, request: unknown, at: number): LatestResults {
  let report: Record<string, unknown> = {};
  try {
    report = record(JSON.parse(typeof reportJson === 'string' && reportJson ? reportJson : '{}'));
  } catch {
    report = {};
  }
  const results = Array.isArray(report.results) ? report.results : [];
  const summary = report.summary || record(payload).summary || null;
  return { scanId, timestamp: new Date(at).toISOString(), count: results.length, request: request || null, summary, results };
}

/** The download links of a scan's report files: {pdf: "/api/reports/<id>.pdf", ...} for the formats written. */
export function reportLinks(scanId: string, files: Record<string, unknown>): Record<string, string> {
  const links: Record<string, string> = {};
  for (const f of ['pdf', 'csv', 'json']) if (files[f]) links[f] = `/api/reports/${scanId}.${f}`;
  return links;
}

/**
 * The answer to a scan that failed (a Catch node's msg.error). The target expander refusing the
 * target, or the site coordinator refusing a coordinated scan's sites, ports or targets (a host
 * name, a site it does not have), is the client's mistake: 400 invalid_field naming sites, ports
 * or target, and `refused` (the scan does not count towards the rate limit). Anything else: 500
 * scan_failed.
 */
export function scanFailureAnswer(error: unknown, scanId: string): HttpAnswer & { refused: boolean } {
  const text = errorText(error, 'unknown error', 500);
  if (errorSource(error) === 'mqttsec-target-expander') {
    const field = /: port must be/.test(text) ? 'ports' : 'target';
    return { refused: true, status: 400, headers: { ...JSON_HEADERS }, body: { error: 'invalid_field', field, message: `${field}: ${text}` } };
  }
  if (errorSource(error) === 'mqttsec-site-coordinator') {
    // A coordinated scan the coordinator refused before publishing anything: the request's fault.
    const field = /^(msg\.)?sites: /.test(text) ? 'sites' : /^(msg\.)?ports?: |port must be/.test(text) ? 'ports' : /^(msg\.)?targets?: |^"[^"]*": /.test(text) ? 'target' : null;
    if (field) return { refused: true, status: 400, headers: { ...JSON_HEADERS }, body: { error: 'invalid_field', field, message: `${field}: ${text.replace(/^(msg\.)?(sites|ports?|targets?): /, '')}` } };
  }
  return { refused: false, status: 500, headers: { ...JSON_HEADERS }, body: { error: 'scan_failed', scanId, message: `The scan failed: ${text}` } };
}
