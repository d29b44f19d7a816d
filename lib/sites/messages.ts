// The messages between a scan coordinator and its agents (JSON in MQTT PUBLISH payloads), and
// the one strict parser for each direction. Everything that arrives over the broker is input
// from another machine: sizes are checked before JSON.parse, every field is checked for type and
// bounds, unknown fields are refused, and the error names the bad field. No message carries a
// secret: a job names the agent's own credentials (credentialsName), never a password.
import { brokerText, HIDDEN_CHARACTERS, isPlainObject, isScanResult } from '../common';
import { OPTIONS, checkOption } from '../options';
import { parseWebSocketPaths } from '../mqtt';
import type { StageCounts } from '../pipeline';
import type { AuthOutcome, Classification, MqttVersion, Reachability, ScanResult, Transport } from '../types';

/** The protocol's version, in every message (`v`). */
export const SITES_PROTOCOL_VERSION = 1;

/** Payload bounds in bytes (UTF-8): a job and the small messages, and one result. */
export const MAX_JOB_BYTES = 64 * 1024;
export const MAX_SMALL_MESSAGE_BYTES = 16 * 1024;
/** One ScanResult: topic samples and certificates included, 1 MiB is far above any result seen. */
export const MAX_RESULT_BYTES = 1024 * 1024;
/** Deepest nesting of objects and arrays in one result (a scanner's result has fewer than 10). */
export const MAX_RESULT_DEPTH = 32;
/** Most shards one scan may have (numbered 0 to MAX_SHARDS - 1). */
export const MAX_SHARDS = 4096;
/** Most times one shard's job is published (first publish and re-queues). */
export const MAX_ATTEMPTS = 100;
/** Most specs a job's targets hold; most ports a job names. */
export const MAX_JOB_SPECS = 1024;
export const MAX_JOB_PORTS = 1024;
/** Longest refusal reason or grant reason, in characters. */
export const MAX_REASON_CHARS = 500;
/** Lease bounds, ms: at least 1 s (progress is sent every third of it), at most 1 hour. */
export const MIN_LEASE_MS = 1000;
export const MAX_LEASE_MS = 3_600_000;

/** A message that is not a valid protocol message; `field` names the first bad part. */
export class SitesMessageError extends Error {
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`${field}: ${detail}`);
    this.name = 'SitesMessageError';
  }
}

/** Scan options a job may carry: what changes how a shard is scanned, nothing about where a
 *  login may go or which addresses are allowed (the agent's own configuration decides those). */
export interface JobScanOptions {
  /** Per attempt, ms (OPTIONS.timeoutMs bounds). */
  timeoutMs?: number;
  transport?: 'auto' | Transport;
  websocketPaths?: string[];
  versions?: MqttVersion[];
  /** Listen window, ms (0 to 600,000). */
  listenMs?: number;
  sniff?: boolean;
  inspectTls?: boolean;
  writeTest?: boolean;
  tryDefaults?: boolean;
}

/**
 * A shard of a scan for the agents of one site (coordinator -> `mqttsec/<site>/jobs`, QoS 1).
 * `targets` are IP specs only (the coordinator resolved names); `attempt` counts publishes of
 * this shard (1 = first), so a claim or a result names which copy it answers.
 */
export interface JobMessage {
  v: 1;
  type: 'job';
  scanId: string;
  /** 0 to MAX_SHARDS - 1. */
  shard: number;
  /** 1 to MAX_ATTEMPTS. */
  attempt: number;
  site: string;
  targets: string[];
  ports: number[];
  options: JobScanOptions;
  /** List closed and filtered ports too (decided once for the whole scan, as runScan's 'auto'). */
  includeUnreachable: boolean;
  /** The NAME of a login the agent holds for the scanned brokers; never the login itself. */
  credentialsName?: string;
  /** The holder renews its lease at least every leaseMs / 3 (progress); silent longer, the
   *  coordinator gives the shard to another agent. MIN_LEASE_MS to MAX_LEASE_MS. */
  leaseMs: number;
  /** When the coordinator published it, ms since the epoch. */
  issuedAt: number;
}

/** Coordinator -> `mqttsec/grants/<agent login>`: whether the agent that claimed a copy of a
 *  job may run it (only the first claim of a pending shard is granted). */
export interface GrantMessage {
  v: 1;
  type: 'grant';
  scanId: string;
  shard: number;
  attempt: number;
  granted: boolean;
  reason?: string;
}

/**
 * Coordinator -> `mqttsec/cancel/<scanId>`, QoS 1, not retained, Message Expiry Interval the rest
 * of the scan's deadline (as its jobs): the scan is over (done, cancelled, past its deadline or
 * its coordinator stopped). Every agent reads it on its control connection (a plain subscription
 * of its persistent session, so an agent that is away gets it when it is back): a copy of one of
 * the scan's jobs still queued for it (nobody claimed it) is then acknowledged without a claim,
 * and a shard of the scan it runs is stopped.
 */
export interface CancelMessage {
  v: 1;
  type: 'cancel';
  scanId: string;
}

interface ShardRef {
  v: 1;
  scanId: string;
  shard: number;
  attempt: number;
}

/** Agent -> results topic: it asks for the shard (it is in its scope and it can run it). */
export interface ClaimMessage extends ShardRef {
  type: 'claim';
}

/** Agent -> results topic: the shard is running; renews the lease. Counts as AssessProgress. */
export interface ProgressMessage extends ShardRef {
  type: 'progress';
  swept: number;
  open: number;
  probed: number;
  total: number;
}

/** Agent -> results topic: one result of the shard (a ScanResult of lib/types.ts). */
export interface ResultMessage extends ShardRef {
  type: 'result';
  result: ScanResult;
}

/** Agent -> results topic: the shard is done; `count` results were sent before this message
 *  on the same topic; `summary` is the shard's counts (all targets, listed or not). */
export interface ShardDoneMessage extends ShardRef {
  type: 'done';
  count: number;
  summary: StageCounts;
  durationMs: number;
}

/** Why an agent refused a job ('option': the job asks for an option that acts beyond reading,
 *  JOB_OPTIONS_BEYOND_READING, which the agent's own settings do not allow). */
export type RefusalCode = 'scope' | 'site' | 'credentials' | 'targets' | 'option' | 'failed';

/** Agent -> results topic: it will not (or could not) run the shard, and why. */
export interface RefusalMessage extends ShardRef {
  type: 'refusal';
  code: RefusalCode;
  reason: string;
}

/** Everything an agent publishes about a shard. */
export type AgentReport = ClaimMessage | ProgressMessage | ResultMessage | ShardDoneMessage | RefusalMessage;

/**
 * Agent -> `mqttsec/agents/<site>/<agent login>`, retained; the agent's MQTT last will (OASIS
 * MQTT 5.0 section 3.1.2.5) is the same topic with state 'offline', so a dead agent reads offline.
 */
export interface AgentStatusMessage {
  v: 1;
  type: 'status';
  site: string;
  state: 'online' | 'offline';
  /** Its scope, as specs (online only). */
  scope?: string[];
  /** The names of the logins it holds for scanned brokers (online only; names, never secrets). */
  credentials?: string[];
  /** Shards it runs at once (online only). */
  concurrency?: number;
  /** ms since the epoch (absent in the last will, which is written at CONNECT). */
  at?: number;
}

const SITE_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/;
/** Topic levels the protocol uses under mqttsec/: no site may be named so. */
export const RESERVED_SITE_NAMES: readonly string[] = ['results', 'agents', 'grants', 'cancel', 'canary'];
const LOGIN_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const CREDENTIALS_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$/;
const SCAN_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/**
 * A site name: 1-32 of a-z, 0-9, '_' and '-', starting with a letter or digit, none of
 * RESERVED_SITE_NAMES. It is one MQTT topic level, so no '/', '+' or '#'. Throws
 * SitesMessageError naming `field`.
 */
export function checkSiteName(site: unknown, field = 'site'): string {
  if (typeof site !== 'string' || !SITE_RE.test(site)) throw new SitesMessageError(field, `${shown(site)} is not a site name (1-32 of a-z, 0-9, _ and -)`);
  if (RESERVED_SITE_NAMES.includes(site)) throw new SitesMessageError(field, `"${site}" is reserved (${RESERVED_SITE_NAMES.join(', ')})`);
  return site;
}

/**
 * An agent's login as it appears in topics (Mosquitto's ACL `%u`): 1-64 of A-Z, a-z, 0-9, '_',
 * '.', '-'. Anything else (a '/', '+' or '#' above all) could make a topic of another agent.
 * Throws SitesMessageError naming `field`.
 */
export function checkLogin(login: unknown, field = 'login'): string {
  if (typeof login !== 'string' || !LOGIN_RE.test(login)) throw new SitesMessageError(field, `${shown(login)} is not an agent login (1-64 of A-Z, a-z, 0-9, _, . and -)`);
  return login;
}

/** A name of a login held by an agent: 1-64 of letters, digits, space, '_', '.', '-'. */
export function checkCredentialsName(name: unknown, field = 'credentialsName'): string {
  if (typeof name !== 'string' || !CREDENTIALS_NAME_RE.test(name)) throw new SitesMessageError(field, `${shown(name)} is not a credentials name (1-64 of letters, digits, space, _, . and -)`);
  return name;
}

/** A scan id: 1-64 of letters, digits, '_' and '-' (a UUID fits); one topic level. */
export function checkScanId(id: unknown, field = 'scanId'): string {
  if (typeof id !== 'string' || !SCAN_ID_RE.test(id)) throw new SitesMessageError(field, `${shown(id)} is not a scan id (1-64 of letters, digits, _ and -)`);
  return id;
}

/** A value from the other side in an error message: at most 40 characters, hidden characters
 *  (ESC, CR LF, bidi controls) written out (lib/common brokerText); errors reach stderr and logs. */
function shown(v: unknown): string {
  if (typeof v === 'string') return `"${brokerText(v, { maxLength: 40 })}"`;
  return v === null ? 'null' : typeof v;
}

/** The payload as a JSON object, its size checked first. */
function decode(payload: Buffer | string, maxBytes: number, what: string): Record<string, unknown> {
  const bytes = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (bytes > maxBytes) throw new SitesMessageError('payload', `${what} of ${bytes} bytes, more than ${maxBytes}`);
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    throw new SitesMessageError('payload', `${what} is not JSON`);
  }
  if (!isPlainObject(value)) throw new SitesMessageError('payload', `${what} is not a JSON object`);
  if (value.v !== SITES_PROTOCOL_VERSION) throw new SitesMessageError('v', `protocol version ${shown(value.v)}; this scanner speaks ${SITES_PROTOCOL_VERSION}`);
  return value;
}

function onlyKeys(o: Record<string, unknown>, allowed: readonly string[], prefix = ''): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new SitesMessageError(`${prefix}${brokerText(k, { maxLength: 40 })}`, 'unknown field');
}

function int(o: Record<string, unknown>, key: string, min: number, max: number, prefix = ''): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw new SitesMessageError(`${prefix}${key}`, `must be a whole number from ${min} to ${max}`);
  return v;
}

function bool(o: Record<string, unknown>, key: string, prefix = ''): boolean {
  if (typeof o[key] !== 'boolean') throw new SitesMessageError(`${prefix}${key}`, 'must be true or false');
  return o[key] as boolean;
}

/** A reason from the other side, as it may be shown (a terminal, a log, a dashboard): control,
 *  bidi and zero-width characters written out as \u{HEX} (lib/common brokerText), so an escape
 *  sequence or a forged second line arrives as visible text. */
function text(o: Record<string, unknown>, key: string, maxChars: number): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length > maxChars) throw new SitesMessageError(key, `must be a string of at most ${maxChars} characters`);
  return brokerText(v, { maxLength: maxChars });
}

/**
 * A result from an agent with every hidden character (HIDDEN_CHARACTERS: C0 and C1 controls,
 * ESC, bidi and zero-width characters) in its strings and keys written out as \u{HEX}. An
 * honest agent's result has none (the scanner escapes a broker's text where it enters a result,
 * lib/common brokerText), so it comes through unchanged; a hostile agent's raw escape sequences
 * do not reach the table, the logs or the dashboard. Throws SitesMessageError('result') for
 * nesting deeper than MAX_RESULT_DEPTH (a scanner's result is a few levels deep; 300,000 nested
 * arrays fit in MAX_RESULT_BYTES and overflow the stack of every recursive reader: Node-RED's
 * message clone, JSON.stringify).
 */
function escapeHidden(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return v.replace(HIDDEN_CHARACTERS, (ch) => `\\u{${ch.codePointAt(0)!.toString(16).toUpperCase()}}`);
  if (depth >= MAX_RESULT_DEPTH && (Array.isArray(v) || isPlainObject(v))) throw new SitesMessageError('result', `nested deeper than ${MAX_RESULT_DEPTH} levels`);
  if (Array.isArray(v)) return v.map((x) => escapeHidden(x, depth + 1));
  if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [escapeHidden(k) as string, escapeHidden(x, depth + 1)]));
  return v;
}

function shardRef(o: Record<string, unknown>): ShardRef {
  return { v: 1, scanId: checkScanId(o.scanId), shard: int(o, 'shard', 0, MAX_SHARDS - 1), attempt: int(o, 'attempt', 1, MAX_ATTEMPTS) };
}

function specList(v: unknown): string[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_JOB_SPECS) throw new SitesMessageError('targets', `must be a list of 1 to ${MAX_JOB_SPECS} target specs`);
  return v.map((s, i) => {
    // An IP address, CIDR or range: the characters of planTargets' syntax, no host names.
    if (typeof s !== 'string' || s.length === 0 || s.length > 100 || !/^!?[0-9a-fA-F.:/[\]-]+$/.test(s)) throw new SitesMessageError(`targets[${i}]`, `${shown(s)} is not an IP address, CIDR block or range`);
    return s;
  });
}

function portList(v: unknown): number[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_JOB_PORTS) throw new SitesMessageError('ports', `must be a list of 1 to ${MAX_JOB_PORTS} ports`);
  return v.map((p, i) => {
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 65535) throw new SitesMessageError(`ports[${i}]`, 'must be a port from 1 to 65535');
    return p;
  });
}

/**
 * The scan options a job may carry, and what each makes the agent do to a scanned broker:
 * - timeoutMs, transport, websocketPaths, versions: how it connects (which transports, HTTP paths
 *   for MQTT over WebSockets, MQTT versions, how long to wait); reading only. Where the agent's
 *   logins may go is its own setting (sendCredentialsPlaintext, the scanned CA), not the job's.
 * - listenMs, sniff: whether and how long it subscribes to what the broker lets it read; reading.
 * - inspectTls: a TLS handshake to read the certificate; reading.
 * - writeTest: publishes a message on the scanned broker (mqttsec/canary/<random>): a write, in
 *   JOB_OPTIONS_BEYOND_READING.
 * - tryDefaults: logs in with well-known default logins (admin/admin, ...) that nobody gave the
 *   agent: guessing passwords on a broker can lock accounts or raise alarms, in
 *   JOB_OPTIONS_BEYOND_READING.
 */
const JOB_OPTION_KEYS = ['timeoutMs', 'transport', 'websocketPaths', 'versions', 'listenMs', 'sniff', 'inspectTls', 'writeTest', 'tryDefaults'] as const;

/** The job options that make an agent act beyond reading (see JOB_OPTION_KEYS): an agent
 *  refuses a job that sets one to true unless its own settings allow it (ScanAgentOptions.allow). */
export const JOB_OPTIONS_BEYOND_READING = ['writeTest', 'tryDefaults'] as const;
export type JobOptionBeyondReading = (typeof JOB_OPTIONS_BEYOND_READING)[number];

/** Checks a job's scan options (the same bounds as the CLI's flags). Throws SitesMessageError. */
export function checkJobOptions(v: unknown): JobScanOptions {
  if (!isPlainObject(v)) throw new SitesMessageError('options', 'must be an object');
  onlyKeys(v, JOB_OPTION_KEYS, 'options.');
  const out: JobScanOptions = {};
  if (v.timeoutMs !== undefined) {
    if (typeof v.timeoutMs !== 'number' || checkOption(OPTIONS.timeoutMs, v.timeoutMs)) throw new SitesMessageError('options.timeoutMs', checkOption(OPTIONS.timeoutMs, Number(v.timeoutMs)) ?? 'must be a number');
    out.timeoutMs = v.timeoutMs;
  }
  if (v.transport !== undefined) {
    if (!['auto', 'tcp', 'tls', 'ws', 'wss'].includes(v.transport as string)) throw new SitesMessageError('options.transport', 'must be auto, tcp, tls, ws or wss');
    out.transport = v.transport as JobScanOptions['transport'];
  }
  if (v.websocketPaths !== undefined) {
    if (!Array.isArray(v.websocketPaths) || !v.websocketPaths.every((p) => typeof p === 'string')) throw new SitesMessageError('options.websocketPaths', 'must be a list of paths');
    try {
      out.websocketPaths = parseWebSocketPaths((v.websocketPaths as string[]).join(','));
    } catch (err) {
      throw new SitesMessageError('options.websocketPaths', (err as Error).message);
    }
  }
  if (v.versions !== undefined) {
    const ok = Array.isArray(v.versions) && v.versions.length > 0 && v.versions.length <= 2 && v.versions.every((x) => x === '3.1.1' || x === '5.0');
    if (!ok) throw new SitesMessageError('options.versions', 'must be a list of "5.0" and/or "3.1.1"');
    out.versions = [...new Set(v.versions as MqttVersion[])];
  }
  if (v.listenMs !== undefined) out.listenMs = int(v, 'listenMs', 0, OPTIONS.listenSeconds.max * 1000, 'options.');
  for (const k of ['sniff', 'inspectTls', 'writeTest', 'tryDefaults'] as const) if (v[k] !== undefined) out[k] = bool(v, k, 'options.');
  return out;
}

/** Parses a job (coordinator -> agent). Throws SitesMessageError naming the bad field. */
export function parseJob(payload: Buffer | string): JobMessage {
  const o = decode(payload, MAX_JOB_BYTES, 'a job');
  onlyKeys(o, ['v', 'type', 'scanId', 'shard', 'attempt', 'site', 'targets', 'ports', 'options', 'includeUnreachable', 'credentialsName', 'leaseMs', 'issuedAt']);
  if (o.type !== 'job') throw new SitesMessageError('type', `${shown(o.type)}; expected "job"`);
  const job: JobMessage = {
    ...shardRef(o),
    type: 'job',
    site: checkSiteName(o.site),
    targets: specList(o.targets),
    ports: portList(o.ports),
    options: checkJobOptions(o.options),
    includeUnreachable: bool(o, 'includeUnreachable'),
    leaseMs: int(o, 'leaseMs', MIN_LEASE_MS, MAX_LEASE_MS),
    issuedAt: int(o, 'issuedAt', 0, Number.MAX_SAFE_INTEGER),
  };
  if (o.credentialsName !== undefined) job.credentialsName = checkCredentialsName(o.credentialsName);
  return job;
}

/** Parses a cancel (coordinator -> every agent). Throws SitesMessageError naming the bad field. */
export function parseCancel(payload: Buffer | string): CancelMessage {
  const o = decode(payload, MAX_SMALL_MESSAGE_BYTES, 'a cancel');
  onlyKeys(o, ['v', 'type', 'scanId']);
  if (o.type !== 'cancel') throw new SitesMessageError('type', `${shown(o.type)}; expected "cancel"`);
  return { v: 1, type: 'cancel', scanId: checkScanId(o.scanId) };
}

/** Parses a grant (coordinator -> agent). Throws SitesMessageError naming the bad field. */
export function parseGrant(payload: Buffer | string): GrantMessage {
  const o = decode(payload, MAX_SMALL_MESSAGE_BYTES, 'a grant');
  onlyKeys(o, ['v', 'type', 'scanId', 'shard', 'attempt', 'granted', 'reason']);
  if (o.type !== 'grant') throw new SitesMessageError('type', `${shown(o.type)}; expected "grant"`);
  const grant: GrantMessage = { ...shardRef(o), type: 'grant', granted: bool(o, 'granted') };
  if (o.reason !== undefined) grant.reason = text(o, 'reason', MAX_REASON_CHARS);
  return grant;
}

const REACHABILITY_KEYS: readonly Reachability[] = ['open', 'closed', 'filtered', 'error'];
const CLASSIFICATION_KEYS: readonly Classification[] = ['open_or_auth_ok', 'not_authorized', 'unreachable_or_firewalled', 'tls_or_ssl_error', 'not_mqtt'];

function counts<K extends string>(v: unknown, keys: readonly K[], field: string): Record<K, number> {
  if (!isPlainObject(v)) throw new SitesMessageError(field, 'must be an object of counts');
  onlyKeys(v, keys, `${field}.`);
  const out = {} as Record<K, number>;
  for (const k of keys) out[k] = int(v, k, 0, Number.MAX_SAFE_INTEGER, `${field}.`);
  return out;
}

function stageCounts(v: unknown): StageCounts {
  if (!isPlainObject(v)) throw new SitesMessageError('summary', 'must be an object');
  onlyKeys(v, ['reachability', 'classification', 'cancelled'], 'summary.');
  return {
    reachability: counts(v.reachability, REACHABILITY_KEYS, 'summary.reachability'),
    classification: counts(v.classification, CLASSIFICATION_KEYS, 'summary.classification'),
    cancelled: bool(v, 'cancelled', 'summary.'),
  };
}

const REFUSAL_CODES: readonly RefusalCode[] = ['scope', 'site', 'credentials', 'targets', 'option', 'failed'];
const TRANSPORTS: readonly Transport[] = ['tcp', 'tls', 'ws', 'wss'];
const AUTH_OUTCOMES: readonly AuthOutcome[] = ['accepted', 'rejected', 'closed_without_connack', 'error', 'not_tested'];
const REQUIRED_ATTEMPTS = ['anonymous', 'wrongCredentials', 'givenCredentials'] as const;
const OPTIONAL_ATTEMPTS = ['defaultCredentials', 'withoutCertificate'] as const;

/**
 * The parts of a ScanResult that the risk rules and every view read without looking: the
 * reachability, transport and classification among their values, each login attempt an object
 * with a known outcome, mqtt an object with its versions. Throws SitesMessageError naming the
 * field (a result that would throw in classifyResult, or show a made-up classification).
 */
function checkResultShape(r: Record<string, unknown>): void {
  if (!REACHABILITY_KEYS.includes(r.reachability as Reachability)) throw new SitesMessageError('result.reachability', `must be one of ${REACHABILITY_KEYS.join(', ')}`);
  if (r.transport !== null && r.transport !== undefined && !TRANSPORTS.includes(r.transport as Transport)) throw new SitesMessageError('result.transport', `must be null or one of ${TRANSPORTS.join(', ')}`);
  if (!CLASSIFICATION_KEYS.includes(r.classification as Classification)) throw new SitesMessageError('result.classification', `must be one of ${CLASSIFICATION_KEYS.join(', ')}`);
  if (!isPlainObject(r.mqtt) || !isPlainObject(r.mqtt.versions)) throw new SitesMessageError('result.mqtt', 'must be an object with versions');
  const auth = r.auth as Record<string, unknown>;
  for (const k of [...REQUIRED_ATTEMPTS, ...OPTIONAL_ATTEMPTS]) {
    const a = auth[k];
    if (a === undefined && (OPTIONAL_ATTEMPTS as readonly string[]).includes(k)) continue;
    if (!isPlainObject(a) || !AUTH_OUTCOMES.includes(a.outcome as AuthOutcome)) throw new SitesMessageError(`result.auth.${k}`, `must be a login attempt with an outcome (${AUTH_OUTCOMES.join(', ')})`);
  }
}

/**
 * Parses what an agent published about a shard (claim, progress, result, done, refusal). A
 * result's ScanResult is checked for its shape (host, port, auth, classification) and for the
 * message's scanId; the coordinator checks that host:port belongs to the shard. Throws
 * SitesMessageError naming the bad field.
 */
export function parseAgentReport(payload: Buffer | string): AgentReport {
  const o = decode(payload, MAX_RESULT_BYTES, 'an agent report');
  const ref = shardRef(o);
  switch (o.type) {
    case 'claim':
      onlyKeys(o, ['v', 'type', 'scanId', 'shard', 'attempt']);
      return { ...ref, type: 'claim' };
    case 'progress': {
      onlyKeys(o, ['v', 'type', 'scanId', 'shard', 'attempt', 'swept', 'open', 'probed', 'total']);
      const n = (k: string) => int(o, k, 0, Number.MAX_SAFE_INTEGER);
      return { ...ref, type: 'progress', swept: n('swept'), open: n('open'), probed: n('probed'), total: n('total') };
    }
    case 'result': {
      onlyKeys(o, ['v', 'type', 'scanId', 'shard', 'attempt', 'result']);
      if (!isScanResult(o.result)) throw new SitesMessageError('result', 'is not a scan result (host, port, auth, classification)');
      if (o.result.scanId !== ref.scanId) throw new SitesMessageError('result.scanId', 'differs from the message\'s scanId');
      if (!Number.isInteger(o.result.port) || o.result.port < 1 || o.result.port > 65535) throw new SitesMessageError('result.port', 'must be a port from 1 to 65535');
      if (o.result.host.length > 100) throw new SitesMessageError('result.host', 'longer than 100 characters');
      checkResultShape(o.result as unknown as Record<string, unknown>);
      return { ...ref, type: 'result', result: escapeHidden(o.result) as ScanResult };
    }
    case 'done':
      onlyKeys(o, ['v', 'type', 'scanId', 'shard', 'attempt', 'count', 'summary', 'durationMs']);
      return { ...ref, type: 'done', count: int(o, 'count', 0, Number.MAX_SAFE_INTEGER), summary: stageCounts(o.summary), durationMs: int(o, 'durationMs', 0, Number.MAX_SAFE_INTEGER) };
    case 'refusal': {
      onlyKeys(o, ['v', 'type', 'scanId', 'shard', 'attempt', 'code', 'reason']);
      if (!REFUSAL_CODES.includes(o.code as RefusalCode)) throw new SitesMessageError('code', `must be one of ${REFUSAL_CODES.join(', ')}`);
      return { ...ref, type: 'refusal', code: o.code as RefusalCode, reason: text(o, 'reason', MAX_REASON_CHARS) };
    }
    default:
      throw new SitesMessageError('type', `${shown(o.type)}; expected claim, progress, result, done or refusal`);
  }
}

/** Parses an agent's status (retained, or its last will). Throws SitesMessageError. */
export function parseAgentStatus(payload: Buffer | string): AgentStatusMessage {
  const o = decode(payload, MAX_SMALL_MESSAGE_BYTES, 'an agent status');
  onlyKeys(o, ['v', 'type', 'site', 'state', 'scope', 'credentials', 'concurrency', 'at']);
  if (o.type !== 'status') throw new SitesMessageError('type', `${shown(o.type)}; expected "status"`);
  if (o.state !== 'online' && o.state !== 'offline') throw new SitesMessageError('state', 'must be online or offline');
  const status: AgentStatusMessage = { v: 1, type: 'status', site: checkSiteName(o.site), state: o.state };
  if (o.scope !== undefined) status.scope = specList(o.scope);
  if (o.credentials !== undefined) {
    if (!Array.isArray(o.credentials) || o.credentials.length > 64) throw new SitesMessageError('credentials', 'must be a list of at most 64 names');
    status.credentials = o.credentials.map((c, i) => checkCredentialsName(c, `credentials[${i}]`));
  }
  if (o.concurrency !== undefined) status.concurrency = int(o, 'concurrency', 1, 64);
  if (o.at !== undefined) status.at = int(o, 'at', 0, Number.MAX_SAFE_INTEGER);
  return status;
}

/** The JSON text of a message (what is published). */
export function encodeMessage(message: JobMessage | GrantMessage | CancelMessage | AgentReport | AgentStatusMessage): string {
  return JSON.stringify(message);
}
