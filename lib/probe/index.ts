// The MQTT auth grid for one open port: find the transport that speaks MQTT, then try an
// anonymous connect, a deliberately wrong login and the user's own login.
import { randomBytes } from 'node:crypto';
import { attemptConnect, type AttemptResult } from '../mqtt';
import type { TlsClientOptions } from '../types';
import { OPTIONS } from '../options';
import { connackReason, connackVerdict, describePsk, offerPsk, type Connack } from '../mqtt';
import {
  DEFAULT_PAIRS, isDefaultPair, planCredentials, untrustedAttempt, withheldAttempt,
  type CredentialPlan, type Credentials, type CredentialSafety,
} from '../credentials';
import type {
  AuthAttempt,
  Classification,
  MqttInfo,
  MqttVersion,
  Target,
  TlsInfo,
  Transport,
  VersionSupport,
} from '../types';

/** Connect and CONNACK timeout per attempt (lib/options OPTIONS.timeoutMs). */
export const DEFAULT_TIMEOUT_MS: number = OPTIONS.timeoutMs.default;
/** Ports where a TLS handshake is the better first guess. */
export const DEFAULT_TLS_PORTS = [443, 8443, 8883, 8884, 8885, 8886, 8887];
export const ALL_VERSIONS: MqttVersion[] = ['5.0', '3.1.1'];

export type { Credentials } from '../credentials';

/** How to probe one open port. The user's login is tried only where lib/credentials allows it. */
export interface ProbeOptions extends CredentialSafety {
  timeoutMs?: number;
  credentials?: Credentials | null;
  tls?: TlsClientOptions;
  tlsPorts?: number[];
  transport?: 'auto' | 'tcp' | 'tls';
  versions?: MqttVersion[];
  signal?: AbortSignal;
  /** Also try a few well-known default logins when nothing weaker got in (off by default). */
  tryDefaults?: boolean;
  /** Called as soon as the transport and the anonymous verdict are known, before the other
   *  logins are tried, so later stages (TLS inspection, listening) can start right away. A
   *  promise it returns holds the other logins back until it settles (at most timeoutMs): the
   *  caller's listener gets in first, and the logins are tried inside its listen window. */
  onEstablished?: (e: Established) => void | Promise<void>;
}

export interface Established {
  transport: 'tcp' | 'tls';
  version: MqttVersion;
  anonymousAccepted: boolean;
  /** A TLS session later connections to this broker may resume (cheaper than a full handshake). */
  tlsSession?: Buffer;
  /** When anonymous clients are refused and a login was given: whether the credential policy lets
   *  the login go to this broker (decided on the answer to a made-up login, tried first). */
  credentials?: CredentialPlan;
}

export interface ProbeOutcome {
  transport: Transport | null;
  classification: Classification;
  mqtt: MqttInfo;
  auth: { anonymous: AuthAttempt; wrongCredentials: AuthAttempt; givenCredentials: AuthAttempt; defaultCredentials?: AuthAttempt };
  evidence: string[];
  /** tls_or_ssl_error on a listener that takes only pre-shared keys: { psk, notRated } (the TLS
   *  inspector, when it runs, replaces it with its own fuller view). Absent otherwise. */
  tls?: TlsInfo;
}

type Wire = 'tcp' | 'tls';

interface TransportTrial {
  transport: Wire;
  /** Anonymous CONNACK per version that answered with one. */
  anonymous: Partial<Record<MqttVersion, Connack>>;
  versions: Partial<Record<MqttVersion, VersionSupport>>;
  /** The broker speaks TLS but something failed around the handshake. */
  tlsProblem: boolean;
  /** The first version that answered with a CONNACK on this transport. */
  established?: MqttVersion;
}

export async function probeBroker(target: Target, opts: ProbeOptions = {}): Promise<ProbeOutcome> {
  // The first TLS connection's session is resumed by the later ones: a fraction of the CPU.
  const session: { ticket?: Buffer } = {};
  const onSession = (t: Buffer) => {
    session.ticket ??= t;
  };
  const evidence: string[] = [];
  const versions = orderedVersions(opts.versions);
  const connect = (transport: Wire, version: MqttVersion, username?: string, password?: string, requireTrustedTls = false) =>
    attemptConnect({
      host: target.host,
      port: target.port,
      transport,
      version,
      username,
      password,
      timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      tls: session.ticket ? { ...opts.tls, session: session.ticket } : opts.tls,
      signal: opts.signal,
      onSession,
      requireTrustedTls,
    });

  // Round one: find the transport and a version that answers, one connection at a time.
  let trial: TransportTrial | null = null;
  let tlsProblem = false;
  for (const transport of transportOrder(target.port, opts)) {
    const t = await findVersion(transport, versions, connect, evidence);
    tlsProblem ||= t.tlsProblem;
    if (t.established) {
      trial = t;
      break;
    }
    if (opts.signal?.aborted) break;
  }
  if (!trial?.established) {
    // A refused handshake may be a listener that takes only pre-shared keys: say so.
    const psk = tlsProblem && !opts.signal?.aborted ? await offerPsk(target.host, target.port, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, opts.signal) : null;
    if (!psk) return noMqtt(tlsProblem, evidence);
    const only = { ...psk, only: true };
    evidence.push(`tls: ${describePsk(only)}`);
    return { ...noMqtt(true, evidence), tls: { protocol: only.protocol, cipher: only.cipher, certificate: null, psk: only, notRated: `TLS not rated: ${describePsk(only)}`, error: null } };
  }
  const wire = trial.transport;
  const primary = trial.established;
  const anonymousAccepted = trial.anonymous[primary]!.code === 0;
  const given = opts.credentials?.username ? opts.credentials : null;
  const wrongLogin = () => {
    const made = madeUpLogin();
    return connect(wire, primary, made.username, made.password);
  };
  // The login may only go where a made-up one is refused (lib/credentials). When anonymous
  // clients are refused, the early listener would log in with it: ask the made-up login first.
  const wrongFirst = given && !anonymousAccepted ? await wrongLogin() : null;
  let plan = wrongFirst ? planCredentials(wire, toAuthAttempt(wrongFirst, primary), given!, opts) : undefined;
  const hold = opts.onEstablished?.({
    transport: wire,
    version: primary,
    anonymousAccepted,
    tlsSession: session.ticket,
    ...(plan ? { credentials: plan } : {}),
  });
  if (hold) await bounded(hold, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);

  // Round two, all at once: the other versions anonymously and the made-up login; then the
  // user's login, if the credential policy lets it go.
  const others = versions.filter((v) => trial.versions[v] === undefined);
  const [otherOutcomes, wrong] = await Promise.all([
    Promise.all(others.map((v) => connect(wire, v))),
    wrongFirst ?? wrongLogin(),
  ]);
  others.forEach((v, i) => record(trial, v, otherOutcomes[i], evidence));
  settleVersions(trial, versions);
  const anonymous = anonymousAttempt(trial, versions);
  let wrongCredentials = toAuthAttempt(wrong, primary);
  evidence.push(describe(wire, primary, 'wrong credentials', wrong));
  let givenCredentials: AuthAttempt = { outcome: 'not_tested' };
  if (given) {
    plan ??= planCredentials(wire, wrongCredentials, given, opts);
    if (!plan.send) {
      givenCredentials = withheldAttempt(plan);
      evidence.push(`${wire} MQTT ${primary} given credentials: ${plan.detail}`);
    } else {
      const r = await connect(wire, primary, given.username, given.password, plan.requireTrustedTls);
      givenCredentials = r.kind === 'untrusted'
        ? untrustedAttempt(r.problem)
        : { ...toAuthAttempt(r, primary), ...(isDefaultPair(given) ? { defaultPair: true } : {}) };
      // Never the username or password in evidence: only what the broker said.
      evidence.push(r.kind === 'untrusted' ? `${wire} MQTT ${primary} given credentials: ${givenCredentials.detail}` : describe(wire, primary, 'given credentials', r));
      if (givenCredentials.outcome === 'accepted') {
        // A broker that refused only the first login, or waited to see one, accepts a made-up
        // login now: then it accepts any login, and the verdict must say so.
        const after = await wrongLogin();
        evidence.push(describe(wire, primary, 'wrong credentials again, after the given login', after));
        if (after.kind === 'connack' && connackVerdict(after.connack) === 'accepted') {
          wrongCredentials = { ...toAuthAttempt(after, primary), detail: 'a made-up login sent after the given one was accepted' };
        }
      }
    }
  }

  // Default pairs, like the user's login, only where a made-up login was clearly refused.
  const defaultsTellSomething = anonymous.outcome !== 'accepted' && wrongCredentials.outcome === 'rejected';
  const defaultCredentials = opts.tryDefaults && defaultsTellSomething
    ? await tryDefaults((u, p) => connect(wire, primary, u, p), primary, wire, evidence)
    : undefined;
  const accepted = [anonymous, wrongCredentials, givenCredentials, defaultCredentials].some((a) => a?.outcome === 'accepted');
  const connackProperties = trial.anonymous['5.0']?.properties;
  return {
    transport: wire,
    classification: accepted ? 'open_or_auth_ok' : 'not_authorized',
    mqtt: {
      versions: trial.versions,
      brokerVersion: null,
      ...(connackProperties && Object.keys(connackProperties).length ? { connackProperties } : {}),
    },
    auth: { anonymous, wrongCredentials, givenCredentials, ...(defaultCredentials ? { defaultCredentials } : {}) },
    evidence,
  };
}

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const ALNUM = `${LOWER}0123456789`;

/**
 * A random login that exists nowhere, shaped like an ordinary one (a 6-12 character lower-case
 * name, a 10-24 character password) with nothing a broker could recognise it by: a fixed prefix
 * or length would let a rogue broker refuse only our made-up logins and collect the real one.
 */
export function madeUpLogin(): { username: string; password: string } {
  const bytes = randomBytes(40);
  const pick = (alphabet: string, i: number) => alphabet[bytes[i] % alphabet.length];
  const nameLength = 6 + (bytes[0] % 7);
  let username = pick(LOWER, 1);
  for (let i = 1; i < nameLength; i++) username += pick(ALNUM, 1 + i);
  const password = randomBytes(18).toString('base64url').slice(0, 10 + (bytes[39] % 15));
  return { username, password };
}

/**
 * One made-up login (madeUpLogin) to `target` over `transport` with `version`: what the broker
 * answers, as an AuthAttempt (accepted, rejected with its CONNACK code, or error). For callers that
 * hold a result they did not make themselves (a node's input message) and must not trust its
 * auth.wrongCredentials before sending a real login (lib/credentials). Never throws.
 */
export async function tryMadeUpLogin(
  target: Target,
  o: { transport: Wire; version: MqttVersion; tls?: TlsClientOptions; timeoutMs?: number; signal?: AbortSignal },
): Promise<AuthAttempt> {
  const made = madeUpLogin();
  const r = await attemptConnect({
    host: target.host, port: target.port, transport: o.transport, version: o.version, username: made.username, password: made.password,
    timeoutMs: o.timeoutMs ?? DEFAULT_TIMEOUT_MS, tls: o.tls, signal: o.signal,
  });
  return toAuthAttempt(r, o.version);
}

/** Waits for p, but never longer than ms; never throws. */
function bounded(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p.catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, ms)))]).finally(() => clearTimeout(timer));
}

/** Every default pair at once; reports the first (in list order) that got in, by username only. */
async function tryDefaults(
  attempt: (username: string, password: string | undefined) => Promise<AttemptResult>,
  version: MqttVersion,
  transport: Wire,
  evidence: string[],
): Promise<AuthAttempt> {
  const outcomes = await Promise.all(DEFAULT_PAIRS.map((p) => attempt(p.username, p.password)));
  const hit = outcomes.findIndex((r) => r.kind === 'connack' && connackVerdict(r.connack) === 'accepted');
  if (hit >= 0) {
    const r = outcomes[hit];
    evidence.push(describe(transport, version, `default login for user "${DEFAULT_PAIRS[hit].username}"`, r));
    return { ...toAuthAttempt(r, version), username: DEFAULT_PAIRS[hit].username };
  }
  const refused = outcomes.filter((r) => r.kind === 'connack').length;
  evidence.push(`${transport} MQTT ${version} default logins: ${refused} of ${DEFAULT_PAIRS.length} well-known pairs refused`);
  return refused === outcomes.length ? { outcome: 'rejected', version } : { outcome: 'error', version, detail: `${outcomes.length - refused} attempts got no CONNACK` };
}

function orderedVersions(requested?: MqttVersion[]): MqttVersion[] {
  const list = ALL_VERSIONS.filter((v) => !requested || requested.includes(v));
  return list.length ? list : ALL_VERSIONS;
}

function transportOrder(port: number, opts: ProbeOptions): Wire[] {
  if (opts.transport === 'tcp' || opts.transport === 'tls') return [opts.transport];
  const tlsFirst = (opts.tlsPorts ?? DEFAULT_TLS_PORTS).includes(port);
  return tlsFirst ? ['tls', 'tcp'] : ['tcp', 'tls'];
}

type Connect = (transport: Wire, version: MqttVersion, username?: string, password?: string) => Promise<AttemptResult>;

/**
 * The preferred version first; the next only when the broker refused that version (a code, or a
 * silent close). Anything else (silence, garbage, a failed handshake) will not change with the
 * version, so the next transport is tried instead: a silent port costs one timeout per transport.
 */
async function findVersion(transport: Wire, versions: MqttVersion[], connect: Connect, evidence: string[]): Promise<TransportTrial> {
  const trial: TransportTrial = { transport, anonymous: {}, versions: {}, tlsProblem: false };
  for (const version of versions) {
    const r = await connect(transport, version);
    record(trial, version, r, evidence);
    if (trial.versions[version] === 'supported') {
      trial.established = version;
      break;
    }
    if (trial.versions[version] === undefined) break;
  }
  return trial;
}

/** Notes what one anonymous attempt says about the transport and the version. */
function record(trial: TransportTrial, version: MqttVersion, r: AttemptResult, evidence: string[]): void {
  evidence.push(describe(trial.transport, version, 'anonymous', r));
  if (r.kind === 'connack') {
    const unsupported = connackVerdict(r.connack) === 'version-unsupported';
    trial.versions[version] = unsupported ? 'unsupported' : 'supported';
    if (!unsupported) trial.anonymous[version] = r.connack;
    return;
  }
  if (r.kind === 'tls-error' && r.peerSpeaksTls) trial.tlsProblem = true;
  if ((r.kind === 'closed' || r.kind === 'timeout') && r.tlsEstablished) trial.tlsProblem = true;
  // A silent close after a working transport may mean "not this version".
  const silentClose = r.kind === 'closed' && r.bytes.length === 0 && (trial.transport === 'tcp' || r.tlsEstablished);
  if (silentClose) trial.versions[version] = 'unknown';
}

/** A version closed silently while another got a CONNACK is unsupported. */
function settleVersions(trial: TransportTrial, versions: MqttVersion[]): void {
  for (const v of versions) if (trial.versions[v] === 'unknown') trial.versions[v] = 'unsupported';
}

function anonymousAttempt(trial: TransportTrial, versions: MqttVersion[]): AuthAttempt {
  const answered = versions.filter((v) => trial.anonymous[v]);
  const accepted = answered.find((v) => trial.anonymous[v]!.code === 0);
  const v = accepted ?? answered[0];
  return fromConnack(trial.anonymous[v]!, v);
}

function fromConnack(c: Connack, version: MqttVersion): AuthAttempt {
  const verdict = connackVerdict(c);
  const outcome = verdict === 'accepted' || verdict === 'rejected' ? verdict : 'error';
  return { outcome, code: c.code, reason: connackReason(c), version };
}

function toAuthAttempt(r: AttemptResult, version: MqttVersion): AuthAttempt {
  if (r.kind === 'connack') return fromConnack(r.connack, version);
  return { outcome: 'error', version, detail: summarize(r) };
}

function noMqtt(tlsProblem: boolean, evidence: string[]): ProbeOutcome {
  const untested: AuthAttempt = { outcome: 'not_tested' };
  return {
    transport: tlsProblem ? 'tls' : null,
    classification: tlsProblem ? 'tls_or_ssl_error' : 'not_mqtt',
    mqtt: { versions: {}, brokerVersion: null },
    auth: { anonymous: untested, wrongCredentials: untested, givenCredentials: untested },
    evidence,
  };
}

function describe(transport: Wire, version: MqttVersion, what: string, r: AttemptResult): string {
  return `${transport} MQTT ${version} ${what}: ${summarize(r)} (${r.ms} ms)`;
}

/** One line about an attempt, safe to show: never contains what we sent, only what we saw. */
export function summarize(r: AttemptResult): string {
  switch (r.kind) {
    case 'connack':
      return `CONNACK ${r.connack.code} (${connackReason(r.connack)})`;
    case 'closed':
      return `${r.reset ? 'connection reset' : 'connection closed'} without CONNACK${bytesNote(r.bytes)}`;
    case 'timeout':
      return `no CONNACK within the timeout${bytesNote(r.bytes)}`;
    case 'not-mqtt':
      return `not MQTT: ${r.reason}${bytesNote(r.bytes)}`;
    case 'tls-error':
      return `TLS ${r.tlsEstablished ? 'error after handshake' : 'handshake failed'}: ${r.code} ${r.message}`;
    case 'error':
      return `${r.code} ${r.message}`;
    case 'untrusted':
      return `certificate not trusted (${r.problem}): nothing sent`;
  }
}

function bytesNote(bytes: Buffer): string {
  if (bytes.length === 0) return '';
  const text = bytes.toString('latin1').replace(/[^\x20-\x7e]/g, '.');
  return `; first bytes ${bytes.subarray(0, 16).toString('hex')} "${text}"`;
}
