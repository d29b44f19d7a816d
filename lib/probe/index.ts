// The MQTT auth grid for one open port: find the transport that speaks MQTT (TCP or TLS; a port
// that answers HTTP is then tried for MQTT over WebSockets, ws or wss, path by path), then try an
// anonymous connect, a deliberately wrong login and the user's own login.
import { randomBytes } from 'node:crypto';
import type { TlsClientOptions } from '../types';
import { OPTIONS } from '../options';
import {
  attemptConnect, codeMeaning, connackReason, connackVerdict, describePsk, isLimitRefusal, offerPsk, SHORT_KEEPALIVE_S, strictClientId,
  waitsForWholeConnect, DEFAULT_WEBSOCKET_PATHS, WEBSOCKET_ERRORS, type AttemptResult, type Connack,
} from '../mqtt';
import { brokerText, DescriptorShortage, isDescriptorShortage, isTlsTransport, isWebSocketTransport, settle } from '../common';
import {
  DEFAULT_PAIRS, isDefaultPair, planCredentials, untrustedAttempt, withheldAttempt,
  type CredentialPlan, type Credentials, type CredentialSafety,
} from '../credentials';
import type { AuthAttempt, MqttVersion, ScanResult, Target, TlsInfo, Transport, VersionSupport } from '../types';

/** Connect and CONNACK timeout per attempt (lib/options OPTIONS.timeoutMs). */
export const DEFAULT_TIMEOUT_MS: number = OPTIONS.timeoutMs.default;
/** Ports where a TLS handshake is the better first guess (8081, 8084: wss on test.mosquitto.org, EMQX). */
export const DEFAULT_TLS_PORTS = [443, 8081, 8084, 8443, 8883, 8884, 8885, 8886, 8887];
export const ALL_VERSIONS: MqttVersion[] = ['5.0', '3.1.1'];

export type { Credentials } from '../credentials';

/** How to probe one open port. The user's login is tried only where lib/credentials allows it. */
export interface ProbeOptions extends CredentialSafety {
  timeoutMs?: number;
  credentials?: Credentials | null;
  tls?: TlsClientOptions;
  tlsPorts?: number[];
  /** 'auto' finds it: TCP and TLS, then ws or wss on a port that answered HTTP. */
  transport?: 'auto' | Transport;
  /** HTTP paths tried for MQTT over WebSockets, in order (default lib/mqtt DEFAULT_WEBSOCKET_PATHS). */
  websocketPaths?: readonly string[];
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
  transport: Transport;
  /** ws and wss: the HTTP path the broker upgraded. */
  websocketPath?: string;
  version: MqttVersion;
  anonymousAccepted: boolean;
  /** A TLS session later connections to this broker may resume (cheaper than a full handshake). */
  tlsSession?: Buffer;
  /** When anonymous clients are refused and a login was given: whether the credential policy lets
   *  the login go to this broker (decided on the answer to a made-up login, tried first). */
  credentials?: CredentialPlan;
}

/** What the probe adds to a ScanResult: the same fields (lib/types.ts), plus its evidence. */
export interface ProbeOutcome extends Pick<ScanResult, 'transport' | 'websocketPath' | 'classification' | 'mqtt' | 'auth'> {
  evidence: string[];
  /** tls_or_ssl_error on a listener that takes only pre-shared keys: { psk, notRated } (the TLS
   *  inspector, when it runs, replaces it with its own fuller view). Absent otherwise. */
  tls?: TlsInfo;
}

type Wire = Transport;

interface TransportTrial {
  transport: Wire;
  /** ws and wss: the path of these attempts. */
  path?: string;
  /** Anonymous CONNACK per version that answered with one. */
  anonymous: Partial<Record<MqttVersion, Connack>>;
  versions: Partial<Record<MqttVersion, VersionSupport>>;
  /** The broker speaks TLS but something failed around the handshake. */
  tlsProblem: boolean;
  /** The first version that answered with a CONNACK on this transport. */
  established?: MqttVersion;
  /** The anonymous attempts that got no CONNACK, in order. */
  attempts: AttemptResult[];
}

/**
 * The auth grid of one open port (see the top of this file): the transport and MQTT versions it
 * speaks, what an anonymous client, a made-up login and the user's login (where lib/credentials
 * lets it go) get, as the result contract's fields with the evidence of every attempt. Never
 * rejects for anything the broker does; rejects with DescriptorShortage (lib/common) when an
 * attempt could not open its socket for want of a descriptor even after waiting: the caller says
 * "could not tell", never a verdict.
 */
export async function probeBroker(target: Target, opts: ProbeOptions = {}): Promise<ProbeOutcome> {
  // The first TLS connection's session is resumed by the later ones: a fraction of the CPU.
  const session: { ticket?: Buffer } = {};
  const onSession = (t: Buffer) => {
    session.ticket ??= t;
  };
  const evidence: string[] = [];
  const versions = orderedVersions(opts.versions);
  // After a refusal that names a limit on the CONNECT itself (limitRefusal), every later CONNECT
  // has a short keepalive and a strict client id, and the refused one is tried once more.
  let shortConnect = false;
  // ws and wss: the path being tried, then the one that upgraded; the subprotocols to offer.
  const route: Route = { path: undefined, subprotocols: undefined };
  const once = (transport: Wire, version: MqttVersion, username: string | undefined, password: string | undefined, requireTrustedTls: boolean, short: boolean) =>
    attemptConnect({
      host: target.host,
      port: target.port,
      transport,
      ...(isWebSocketTransport(transport) ? { path: route.path, subprotocols: route.subprotocols } : {}),
      version,
      username,
      password,
      timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      tls: session.ticket ? { ...opts.tls, session: session.ticket } : opts.tls,
      signal: opts.signal,
      onSession,
      requireTrustedTls,
      ...(short ? { keepalive: SHORT_KEEPALIVE_S, clientId: strictClientId() } : {}),
    });
  const connect = async (transport: Wire, version: MqttVersion, username?: string, password?: string, requireTrustedTls = false): Promise<AttemptResult> => {
    const short = shortConnect;
    const r = notShortOfDescriptors(await once(transport, version, username, password, requireTrustedTls, short), target);
    if (short || r.kind !== 'connack' || !limitRefusal(r.connack)) return r;
    shortConnect = true;
    evidence.push(`${where(transport, route.path)} MQTT ${version}: ${summarize(r)} refuses the CONNECT's keepalive or client id, not the client: tried again with a ${SHORT_KEEPALIVE_S} s keepalive and a client id of letters and digits (${r.ms} ms)`);
    return notShortOfDescriptors(await once(transport, version, username, password, requireTrustedTls, true), target);
  };

  // Round one: find the transport and a version that answers, one connection at a time; then, on
  // a port that answered HTTP, MQTT over WebSockets.
  let trial: TransportTrial | null = null;
  let tlsProblem = false;
  const failed: TransportTrial[] = [];
  for (const transport of transportOrder(target.port, opts)) {
    const t = await findVersion(transport, versions, connect, evidence);
    tlsProblem ||= t.tlsProblem;
    if (t.established) {
      trial = t;
      break;
    }
    failed.push(t);
    if (opts.signal?.aborted) break;
  }
  let answeredHttp = false;
  if (!trial?.established && !opts.signal?.aborted) {
    const web = await findWebSocket(webSocketCandidates(failed, opts), opts.websocketPaths ?? DEFAULT_WEBSOCKET_PATHS, versions, connect, route, evidence, opts.signal);
    answeredHttp = web.answeredHttp;
    if (web.trial?.established) {
      trial = web.trial;
      tlsProblem = false;
    } else if (web.trial && !opts.signal?.aborted && (await hangsUpInsideWebSocket(target, web.trial, versions, route, opts, evidence))) {
      return probeHungUp(connect, web.trial.transport, web.trial.path, versions, opts, evidence);
    }
  }
  if (!trial?.established) {
    // A broker that hangs up on every CONNECT it read whole: on plain TCP, or inside TLS.
    let hungUpOn: 'tcp' | 'tls' | null = null;
    if (!answeredHttp && !opts.signal?.aborted) {
      if (!tlsProblem && (await hangsUpOnConnect(target, failed, versions, opts, evidence))) hungUpOn = 'tcp';
      else if (await hangsUpInsideTls(target, failed, versions, opts, evidence)) hungUpOn = 'tls';
    }
    if (hungUpOn) return probeHungUp(connect, hungUpOn, undefined, versions, opts, evidence);
    // A refused handshake may be a listener that takes only pre-shared keys: say so.
    const psk = tlsProblem && !opts.signal?.aborted ? await offerPsk(target.host, target.port, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, opts.signal) : null;
    if (!psk) return noMqtt(tlsProblem && !answeredHttp, evidence);
    const only = { ...psk, only: true };
    evidence.push(`tls: ${describePsk(only)}`);
    return { ...noMqtt(true, evidence), tls: { protocol: only.protocol, cipher: only.cipher, certificate: null, psk: only, notRated: `TLS not rated: ${describePsk(only)}`, error: null } };
  }
  const wire = trial.transport;
  const site = where(wire, trial.path);
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
  let plan = wrongFirst ? planCredentials(wire, toAuthAttempt(wrongFirst, primary, wire), given!, opts) : undefined;
  const hold = opts.onEstablished?.({
    transport: wire,
    ...(trial.path !== undefined ? { websocketPath: trial.path } : {}),
    version: primary,
    anonymousAccepted,
    tlsSession: session.ticket,
    ...(plan ? { credentials: plan } : {}),
  });
  if (hold) await bounded(hold, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);

  // Round two, all at once: the other versions anonymously and the made-up login; then the
  // user's login, if the credential policy lets it go.
  const others = versions.filter((v) => trial.versions[v] === undefined);
  // With a client certificate on TLS, every attempt above presents it: one more anonymous
  // CONNECT without it says what a client that lacks the certificate gets.
  const presented = isTlsTransport(wire) && hasClientCertificate(opts.tls);
  const [otherOutcomes, wrong, certless] = await Promise.all([
    Promise.all(others.map((v) => connect(wire, v))),
    wrongFirst ?? wrongLogin(),
    presented ? withoutCertificate(target, wire, route, primary, opts) : undefined,
  ]);
  others.forEach((v, i) => record(trial, v, otherOutcomes[i], evidence));
  settleVersions(trial, versions);
  const anonymous = anonymousAttempt(trial, versions);
  let wrongCredentials = toAuthAttempt(wrong, primary, wire);
  evidence.push(describe(site, primary, 'wrong credentials', wrong));
  if (certless) evidence.push(describe(site, primary, 'anonymous without the client certificate', certless));
  let givenCredentials: AuthAttempt = { outcome: 'not_tested' };
  if (given) {
    plan ??= planCredentials(wire, wrongCredentials, given, opts);
    if (!plan.send) {
      givenCredentials = withheldAttempt(plan);
      evidence.push(`${site} MQTT ${primary} given credentials: ${plan.detail}`);
    } else {
      const r = await connect(wire, primary, given.username, given.password, plan.requireTrustedTls);
      givenCredentials = r.kind === 'untrusted'
        ? untrustedAttempt(r.problem)
        : { ...toAuthAttempt(r, primary, wire), ...(isDefaultPair(given) ? { defaultPair: true } : {}) };
      // Never the username or password in evidence: only what the broker said.
      evidence.push(r.kind === 'untrusted' ? `${site} MQTT ${primary} given credentials: ${givenCredentials.detail}` : describe(site, primary, 'given credentials', r));
      if (givenCredentials.outcome === 'accepted') {
        // A broker that refused only the first login, or waited to see one, accepts a made-up
        // login now: then it accepts any login, and the verdict must say so.
        const after = await wrongLogin();
        evidence.push(describe(site, primary, 'wrong credentials again, after the given login', after));
        if (after.kind === 'connack' && connackVerdict(after.connack) === 'accepted') {
          wrongCredentials = { ...toAuthAttempt(after, primary, wire), detail: 'a made-up login sent after the given one was accepted' };
        }
      }
    }
  }

  // Default pairs, like the user's login, only where a made-up login was clearly refused.
  const defaultsTellSomething = anonymous.outcome !== 'accepted' && (wrongCredentials.outcome === 'rejected' || wrongCredentials.outcome === 'closed_without_connack');
  const defaultCredentials = opts.tryDefaults && defaultsTellSomething
    ? await tryDefaults((u, p) => connect(wire, primary, u, p), primary, wire, site, evidence, opts.signal)
    : undefined;
  const accepted = [anonymous, wrongCredentials, givenCredentials, defaultCredentials].some((a) => a?.outcome === 'accepted');
  const connackProperties = trial.anonymous['5.0']?.properties;
  const made = (a: AuthAttempt): AuthAttempt => (a.outcome === 'not_tested' ? a : { ...a, clientCertificate: presented });
  return {
    transport: wire,
    ...(trial.path !== undefined ? { websocketPath: trial.path } : {}),
    classification: accepted ? 'open_or_auth_ok' : 'not_authorized',
    mqtt: {
      versions: trial.versions,
      brokerVersion: null,
      ...(connackProperties && Object.keys(connackProperties).length ? { connackProperties } : {}),
    },
    auth: {
      anonymous: made(anonymous),
      wrongCredentials: made(wrongCredentials),
      givenCredentials: made(givenCredentials),
      ...(defaultCredentials ? { defaultCredentials: made(defaultCredentials) } : {}),
      ...(certless ? { withoutCertificate: certlessAttempt(certless, primary, wire) } : {}),
    },
    evidence,
  };
}

/**
 * An attempt that could not even open its socket for want of a descriptor (EMFILE, ENFILE; after
 * attemptConnect's own waiting and retries) tells nothing about the broker: the probe stops with
 * DescriptorShortage rather than build a verdict on it (a port that looks silent or not MQTT).
 */
function notShortOfDescriptors(r: AttemptResult, target: Target): AttemptResult {
  if (r.kind === 'error' && isDescriptorShortage(r.code)) throw new DescriptorShortage(r.code, `the MQTT attempts on ${target.host}:${target.port}`);
  return r;
}

/** The scan has a client certificate and its key to present. */
function hasClientCertificate(tls: TlsClientOptions | undefined): boolean {
  return !!tls?.cert && !!tls.key;
}

/**
 * An anonymous CONNECT over TLS without the client certificate, on a fresh handshake: a session
 * resumed from a connection that presented the certificate would carry it (RFC 8446 2.2).
 */
function withoutCertificate(target: Target, transport: Wire, route: Route, version: MqttVersion, opts: ProbeOptions): Promise<AttemptResult> {
  const tls: TlsClientOptions = { ...opts.tls };
  delete tls.cert;
  delete tls.key;
  delete tls.passphrase;
  delete tls.session;
  return attemptConnect({
    host: target.host, port: target.port, transport, version, timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, tls, signal: opts.signal,
    ...(isWebSocketTransport(transport) ? { path: route.path, subprotocols: route.subprotocols } : {}),
  }).then((r) => notShortOfDescriptors(r, target));
}

/** The certificate-less attempt as an AuthAttempt: a TLS alert (the same CONNECT with the
 *  certificate got a CONNACK) means the broker requires the certificate. */
function certlessAttempt(r: AttemptResult, version: MqttVersion, transport: Wire): AuthAttempt {
  const a: AuthAttempt = { ...toAuthAttempt(r, version, transport), clientCertificate: false };
  if (r.kind === 'tls-error' && r.peerSpeaksTls) {
    a.certificateRequired = true;
    a.detail = `the broker ended the TLS session without the client certificate: ${a.detail}`;
  }
  return a;
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
  o: { transport: Wire; websocketPath?: string; version: MqttVersion; tls?: TlsClientOptions; timeoutMs?: number; signal?: AbortSignal },
): Promise<AuthAttempt> {
  const made = madeUpLogin();
  const attempt = (subprotocols?: readonly string[]) => attemptConnect({
    host: target.host, port: target.port, transport: o.transport, version: o.version, username: made.username, password: made.password,
    timeoutMs: o.timeoutMs ?? DEFAULT_TIMEOUT_MS, tls: o.tls, signal: o.signal,
    ...(isWebSocketTransport(o.transport) ? { path: o.websocketPath, subprotocols } : {}),
  });
  let r = await attempt();
  // A 101 that chose none of the offered subprotocols (no CONNECT was sent): offer what the probe
  // offered next (SUBPROTOCOL_RETRY), or the broker's answer is lost to the handshake.
  const offer = r.kind === 'error' && isWebSocketTransport(o.transport) ? SUBPROTOCOL_RETRY[r.code] : undefined;
  if (offer) r = await attempt(offer.subprotocols);
  return { ...toAuthAttempt(r, o.version, o.transport), clientCertificate: isTlsTransport(o.transport) && hasClientCertificate(o.tls) };
}

/** Waits for p, but never longer than ms; never throws. */
function bounded(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p.catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, ms)))]).finally(() => clearTimeout(timer));
}

/** Pause between two default logins: a burst looks like an attack and trips lockouts. */
export const DEFAULT_LOGIN_GAP_MS = 200;

/**
 * The well-known default pairs one at a time, DEFAULT_LOGIN_GAP_MS apart; reports the first that
 * got in, by username only. Stops at the first answer that is neither "accepted" nor a refusal of
 * the login (a throttle, ban, busy broker, redirect, unknown code, or no CONNACK): more attempts
 * would only lock the account or tell nothing, and the result says the test was cut short.
 */
async function tryDefaults(
  attempt: (username: string, password: string | undefined) => Promise<AttemptResult>,
  version: MqttVersion,
  transport: Wire,
  site: string,
  evidence: string[],
  signal?: AbortSignal,
): Promise<AuthAttempt> {
  let refused = 0;
  for (const [i, pair] of DEFAULT_PAIRS.entries()) {
    if (i > 0) await pause(DEFAULT_LOGIN_GAP_MS, signal);
    if (signal?.aborted) break;
    const r = await attempt(pair.username, pair.password);
    const verdict = r.kind === 'connack' ? connackVerdict(r.connack) : null;
    if (verdict === 'accepted') {
      evidence.push(describe(site, version, `default login for user "${pair.username}"`, r));
      return { ...toAuthAttempt(r, version, transport), username: pair.username };
    }
    if (verdict === 'rejected') {
      refused++;
      continue;
    }
    // A throttle, a ban, a busy broker, no CONNACK: stop here.
    evidence.push(describe(site, version, `default login ${i + 1} of ${DEFAULT_PAIRS.length}`, r));
    evidence.push(`${site} MQTT ${version} default logins: cut short after ${i + 1} of ${DEFAULT_PAIRS.length} pairs (${refused} refused); the rest were not tried`);
    return {
      outcome: 'error',
      version,
      ...(r.kind === 'connack' ? { code: r.connack.code, reason: connackReason(r.connack) } : {}),
      detail: `default-login test cut short after ${i + 1} of ${DEFAULT_PAIRS.length} pairs: ${r.kind === 'connack' ? codeDetail(r.connack) : summarize(r)}`,
    };
  }
  if (refused < DEFAULT_PAIRS.length) return { outcome: 'error', version, detail: `default-login test cancelled after ${refused} of ${DEFAULT_PAIRS.length} pairs` };
  evidence.push(`${site} MQTT ${version} default logins: ${refused} of ${DEFAULT_PAIRS.length} well-known pairs refused`);
  return { outcome: 'rejected', version };
}

/** Waits ms, or less when the signal aborts; never throws. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return settle<void>(ms, signal, undefined, () => undefined);
}

function orderedVersions(requested?: MqttVersion[]): MqttVersion[] {
  const list = ALL_VERSIONS.filter((v) => !requested || requested.includes(v));
  return list.length ? list : ALL_VERSIONS;
}

/** The transports of round one: TCP and TLS (TLS first on DEFAULT_TLS_PORTS), the one the user
 *  chose, or none when the user chose ws or wss (then only webSocketCandidates). */
function transportOrder(port: number, opts: ProbeOptions): Wire[] {
  if (opts.transport === 'tcp' || opts.transport === 'tls') return [opts.transport];
  if (opts.transport && opts.transport !== 'auto' && isWebSocketTransport(opts.transport)) return [];
  const tlsFirst = (opts.tlsPorts ?? DEFAULT_TLS_PORTS).includes(port);
  return tlsFirst ? ['tls', 'tcp'] : ['tcp', 'tls'];
}

/** The path being tried on ws and wss, and the subprotocols to offer there (undefined: the default). */
interface Route {
  path: string | undefined;
  subprotocols: readonly string[] | undefined;
}

/** How evidence names where an attempt went: "tcp", "tls", "ws /mqtt", "wss /ws". */
function where(transport: Wire, path: string | undefined): string {
  return path === undefined ? transport : `${transport} ${path}`;
}

/**
 * Where round one may have met a web server, in round one's order: ws on a TCP port that answered
 * a CONNECT with an HTTP status line (Node and nginx answer 400 at once), or that sent nothing at
 * all before it hung up or the timeout (a web server may close on a request line it cannot read,
 * or wait for the end of the request: RabbitMQ's Web MQTT (Cowboy) waits 5 s, then closes); wss
 * where the TLS handshake worked and the same happened inside it. The transport the user chose,
 * when it is ws or wss; none when it is tcp or tls. A silent port that is no web server costs one
 * more timeout: the upgrade on the first path gets no answer, and findWebSocket stops there.
 */
function webSocketCandidates(trials: TransportTrial[], opts: ProbeOptions): Wire[] {
  if (opts.transport && opts.transport !== 'auto') return isWebSocketTransport(opts.transport) ? [opts.transport] : [];
  return trials.flatMap((t): Wire[] => {
    const http = t.attempts.some(answersHttp);
    const silent = t.attempts.length > 0 && t.attempts.every((r) => saidNothing(r, t.transport));
    return http || silent ? [t.transport === 'tls' ? 'wss' : 'ws'] : [];
  });
}

/** The transport was up (TCP, or a finished TLS handshake) and the peer sent no byte: it hung up or let the attempt time out. */
function saidNothing(r: AttemptResult, transport: Wire): boolean {
  if (r.kind !== 'closed' && r.kind !== 'timeout') return false;
  return r.bytes.length === 0 && (transport === 'tcp' || r.tlsEstablished);
}

/** The first bytes the peer sent are an HTTP status line ("HTTP/1.1 400 Bad Request"). */
function answersHttp(r: AttemptResult): boolean {
  return (r.kind === 'closed' || r.kind === 'not-mqtt' || r.kind === 'timeout') && r.bytes.subarray(0, 5).toString('latin1') === 'HTTP/';
}

/** A 101 whose subprotocol ws refused (by the error's code), and what to offer instead (once per
 *  probe; the listener, lib/sniff, and tryMadeUpLogin retry the same way). */
export const SUBPROTOCOL_RETRY: Readonly<Partial<Record<string, { why: string; subprotocols: string[] }>>> = {
  [WEBSOCKET_ERRORS.noSubprotocol]: { why: 'the server upgraded without choosing the "mqtt" subprotocol', subprotocols: [] },
  // RabbitMQ 3.10 Web MQTT copies the offered list back ("mqtt, mqttv3.1") instead of choosing one.
  [WEBSOCKET_ERRORS.badSubprotocol]: { why: 'the server upgraded naming a subprotocol that was not one of those offered', subprotocols: ['mqtt'] },
};

/**
 * MQTT over WebSockets on the candidates (webSocketCandidates), path by path: a status other than
 * 101 moves on to the next path; the first path that upgrades decides (its trial, established
 * when a CONNACK came inside the WebSocket); an attempt that got no HTTP answer at all ends the
 * search on that transport (not a web server). A 101 that chose none of the offered subprotocols
 * is tried once more offering none (route.subprotocols = []). At most paths.length attempts per
 * candidate, plus the versions of the path that upgraded. `answeredHttp`: some attempt got an
 * HTTP answer, so the port is a web server whatever it speaks.
 */
async function findWebSocket(
  candidates: Wire[],
  paths: readonly string[],
  versions: MqttVersion[],
  connect: Connect,
  route: Route,
  evidence: string[],
  signal?: AbortSignal,
): Promise<{ trial?: TransportTrial; answeredHttp: boolean }> {
  let answeredHttp = false;
  for (const transport of candidates) {
    for (const path of paths) {
      if (signal?.aborted) return { answeredHttp };
      route.path = path;
      let first = await connect(transport, versions[0]);
      const offer = first.kind === 'error' && route.subprotocols === undefined ? SUBPROTOCOL_RETRY[first.code] : undefined;
      if (offer) {
        evidence.push(`${where(transport, path)}: ${offer.why}; tried again offering ${offer.subprotocols.length ? `only "${offer.subprotocols.join('", "')}"` : 'none'} (${first.ms} ms)`);
        route.subprotocols = offer.subprotocols;
        first = await connect(transport, versions[0]);
      }
      if (!first.http) {
        evidence.push(`${where(transport, path)} MQTT ${versions[0]} anonymous: no HTTP answer to the WebSocket upgrade: ${summarize(first)} (${first.ms} ms)`);
        break;
      }
      answeredHttp = true;
      if (first.http.status !== 101) {
        evidence.push(describe(where(transport, path), versions[0], 'anonymous', first));
        continue;
      }
      const { subprotocol, server } = first.http;
      evidence.push(`${where(transport, path)}: WebSocket upgrade accepted (101${subprotocol ? `, subprotocol "${subprotocol}"` : ', no subprotocol'}${server ? `, Server: ${server}` : ''})`);
      return { trial: await findVersion(transport, versions, connect, evidence, { path, first }), answeredHttp };
    }
  }
  route.path = undefined;
  return { answeredHttp };
}

type Connect = (transport: Wire, version: MqttVersion, username?: string, password?: string, requireTrustedTls?: boolean) => Promise<AttemptResult>;

/**
 * The preferred version first; the next only when the broker refused that version (a code, or a
 * silent close). Anything else (silence, garbage, a failed handshake) will not change with the
 * version, so the next transport is tried instead: a silent port costs one timeout per transport.
 */
async function findVersion(
  transport: Wire,
  versions: MqttVersion[],
  connect: Connect,
  evidence: string[],
  websocket?: { path: string; first: AttemptResult },
): Promise<TransportTrial> {
  const trial: TransportTrial = { transport, ...(websocket ? { path: websocket.path } : {}), anonymous: {}, versions: {}, tlsProblem: false, attempts: [] };
  for (const [i, version] of versions.entries()) {
    // On ws and wss the first version's attempt was the one that found the path.
    const r = i === 0 && websocket ? websocket.first : await connect(transport, version);
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
  evidence.push(describe(where(trial.transport, trial.path), version, 'anonymous', r));
  if (r.kind === 'connack') {
    // MQTT 5 support is a well-formed MQTT 5 CONNACK (5.0 §3.2: a property length always follows
    // the reason code); a 2-byte 3.1.1-shaped answer to an MQTT 5 CONNECT is a 3.1.1 broker
    // talking, whatever its code (aedes answers its keepalive limit with 6 before the version).
    const v311Shaped = version === '5.0' && r.connack.format === '3.1.1';
    if (v311Shaped && connackVerdict(r.connack) !== 'version-unsupported') {
      evidence.push(`${where(trial.transport, trial.path)} MQTT 5.0: the CONNACK has the 2-byte MQTT 3.1.1 layout, so it is not an MQTT 5 answer`);
    }
    const unsupported = v311Shaped || connackVerdict(r.connack) === 'version-unsupported';
    trial.versions[version] = unsupported ? 'unsupported' : 'supported';
    if (!unsupported) trial.anonymous[version] = r.connack;
    return;
  }
  trial.attempts.push(r);
  if (r.kind === 'tls-error' && r.peerSpeaksTls) trial.tlsProblem = true;
  // TLS worked and MQTT did not answer inside it (a WebSocket server may be inside: findWebSocket).
  if (trial.transport === 'tls' && (r.kind === 'closed' || r.kind === 'timeout') && r.tlsEstablished && !answersHttp(r)) trial.tlsProblem = true;
  // A silent close after a working transport may mean "not this version".
  if (hungUp(r, trial.transport)) trial.versions[version] = 'unknown';
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

/**
 * The attempt as the contract shows it (lib/mqtt/reason-codes.ts): accepted, rejected (only a
 * refusal of the login itself), else error with what the code means ("the broker is busy, not a
 * refusal of the login").
 */
function fromConnack(c: Connack, version: MqttVersion): AuthAttempt {
  const verdict = connackVerdict(c);
  const outcome = verdict === 'accepted' || verdict === 'rejected' ? verdict : 'error';
  const attempt: AuthAttempt = { outcome, code: c.code, reason: connackReason(c), version };
  return outcome === 'error' ? { ...attempt, detail: codeDetail(c) } : attempt;
}

/** What a refusal that is not about the login means, with an MQTT 5 redirect's target. */
function codeDetail(c: Connack): string {
  const m = codeMeaning(c.format, c.code);
  const reference = typeof c.properties.serverReference === 'string' ? c.properties.serverReference : null;
  // Never followed: the scope the user allowed is the address they gave.
  return m.category === 'redirect' && reference ? `${m.meaning}; redirects to ${brokerText(reference, { maxLength: 256 })}, not followed` : m.meaning;
}

function toAuthAttempt(r: AttemptResult, version: MqttVersion, transport: Wire): AuthAttempt {
  if (r.kind === 'connack') return fromConnack(r.connack, version);
  if (hungUp(r, transport)) return { outcome: 'closed_without_connack', version, detail: `hung up on the CONNECT: ${summarize(r)}` };
  return { outcome: 'error', version, detail: summarize(r) };
}

/**
 * The peer closed (or reset) a working transport after our CONNECT without sending a byte: on
 * TCP, after a finished TLS handshake, or inside an open WebSocket (101). Whether that answered
 * the CONNECT is for the caller to know (the port spoke MQTT elsewhere, or hangsUpOnConnect).
 */
function hungUp(r: AttemptResult, transport: Wire): boolean {
  if (r.kind !== 'closed' || r.bytes.length > 0) return false;
  if (isWebSocketTransport(transport)) return r.http?.status === 101;
  return transport === 'tcp' || r.tlsEstablished;
}

/** A refusal that names a limit of the CONNECT (lib/mqtt isLimitRefusal). */
export function limitRefusal(c: Connack): boolean {
  return isLimitRefusal(c.format, c.code);
}

/** How long a port that hung up on every CONNECT must wait after part of one (ms). */
const PARTIAL_CONNECT_WAIT_MS = 1000;

/**
 * Whether the port hung up on every CONNECT, in answer to the CONNECT: on plain TCP every
 * version closed without a byte, no transport showed anything else (TLS, when tried, met a peer
 * that does not speak TLS), and a connection that got only the first bytes of a CONNECT stays
 * open for a while (an MQTT broker waits for the rest; a service that drops every connection,
 * or resets on any bytes, does not).
 */
async function hangsUpOnConnect(target: Target, trials: TransportTrial[], versions: MqttVersion[], opts: ProbeOptions, evidence: string[]): Promise<boolean> {
  const tcp = trials.find((t) => t.transport === 'tcp');
  if (!tcp || !hungUpOnEveryVersion(tcp, versions)) return false;
  const others = trials.filter((t) => t !== tcp).flatMap((t) => t.attempts);
  if (!others.every((r) => r.kind === 'tls-error' && !r.peerSpeaksTls)) return false;
  return waitsAfterPartialConnect(target, 'tcp', undefined, opts, evidence);
}

/**
 * hangsUpOnConnect for MQTT over TLS: the handshake worked and every version's CONNECT inside it
 * was met by a close without a byte (aedes' preConnect refusing a client over TLS does this), no
 * web server answered inside it (findWebSocket), and a TLS connection given only the first bytes of
 * a CONNECT stays open.
 */
async function hangsUpInsideTls(target: Target, trials: TransportTrial[], versions: MqttVersion[], opts: ProbeOptions, evidence: string[]): Promise<boolean> {
  const tls = trials.find((t) => t.transport === 'tls');
  if (!tls || !hungUpOnEveryVersion(tls, versions)) return false;
  return waitsAfterPartialConnect(target, 'tls', undefined, opts, evidence);
}

/**
 * hangsUpOnConnect for MQTT over WebSockets: the path upgraded (101) and every version's CONNECT
 * inside it was met by a close without a byte (RabbitMQ 3.10's Web MQTT refuses a login that way,
 * where its TCP listener sends CONNACK 4), and a WebSocket on the same path given only the first
 * bytes of a CONNECT stays open. `route` holds the path and subprotocols the trial used.
 */
async function hangsUpInsideWebSocket(target: Target, trial: TransportTrial, versions: MqttVersion[], route: Route, opts: ProbeOptions, evidence: string[]): Promise<boolean> {
  if (!isWebSocketTransport(trial.transport) || !hungUpOnEveryVersion(trial, versions)) return false;
  return waitsAfterPartialConnect(target, trial.transport, route, opts, evidence);
}

/** Every version's anonymous CONNECT on this trial got a hang-up (hungUp). */
function hungUpOnEveryVersion(trial: TransportTrial, versions: MqttVersion[]): boolean {
  return trial.attempts.length === versions.length && trial.attempts.every((r) => hungUp(r, trial.transport));
}

/** waitsForWholeConnect with the probe's timeout bound, and the evidence line it gives. */
async function waitsAfterPartialConnect(target: Target, transport: Wire, route: Route | undefined, opts: ProbeOptions, evidence: string[]): Promise<boolean> {
  const waitMs = Math.min(PARTIAL_CONNECT_WAIT_MS, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const partial = await waitsForWholeConnect({ host: target.host, port: target.port, transport, path: route?.path, subprotocols: route?.subprotocols, tls: opts.tls }, waitMs, opts.signal);
  const what = partial === 'waits' ? `stayed open ${waitMs} ms: the hang-ups answered whole CONNECTs` : partial === 'closed' ? `was closed within ${waitMs} ms: the hang-ups need not be about MQTT` : 'failed';
  evidence.push(`${where(transport, route?.path)}: a connection given only the first bytes of a CONNECT ${what}`);
  return partial === 'waits';
}

/**
 * The auth grid of a port that hung up on every anonymous CONNECT (hangsUpOnConnect over TCP,
 * hangsUpInsideTls, hangsUpInsideWebSocket: `wire` and `path` say where): the made-up
 * login, then the given one where lib/credentials lets it go, each in the first version that does
 * not refuse the version. Classified by what was accepted; with nothing accepted not_authorized:
 * the broker read a well-formed CONNECT and refused the session (by hanging up), which is what
 * not_authorized tells the earlier system's users; not_mqtt would hide a broker that a right
 * login opens, and the other labels are about the network or TLS.
 */
async function probeHungUp(connect: Connect, wire: Wire, path: string | undefined, versions: MqttVersion[], opts: ProbeOptions, evidence: string[]): Promise<ProbeOutcome> {
  const site = where(wire, path);
  const seen: Partial<Record<MqttVersion, VersionSupport>> = Object.fromEntries(versions.map((v) => [v, 'unknown']));
  evidence.push(`${site}: hung up on every CONNECT, no CONNACK (anonymous, MQTT ${versions.join(' and ')})`);
  /** One login, version by version until one is not refused for its version. */
  const login = async (what: string, username: string, password: string | undefined, requireTrustedTls = false) => {
    let last: { r: AttemptResult; version: MqttVersion } | undefined;
    for (const version of versions) {
      const r = await connect(wire, version, username, password, requireTrustedTls);
      evidence.push(r.kind === 'untrusted' ? `${site} MQTT ${version} ${what}: ${summarize(r)}` : describe(site, version, what, r));
      last = { r, version };
      if (r.kind !== 'connack') {
        if (r.kind === 'untrusted' || !hungUp(r, wire)) break;
        continue;
      }
      const unsupported = (version === '5.0' && r.connack.format === '3.1.1') || connackVerdict(r.connack) === 'version-unsupported';
      seen[version] = unsupported ? 'unsupported' : 'supported';
      if (!unsupported) break;
    }
    return last!;
  };
  const anonymous: AuthAttempt = { outcome: 'closed_without_connack', version: versions[0], detail: 'hung up on every CONNECT, no CONNACK' };
  const made = madeUpLogin();
  const wrong = await login('wrong credentials', made.username, made.password);
  let wrongCredentials = toAuthAttempt(wrong.r, wrong.version, wire);
  let givenCredentials: AuthAttempt = { outcome: 'not_tested' };
  const given = opts.credentials?.username ? opts.credentials : null;
  if (given) {
    const plan = planCredentials(wire, wrongCredentials, given, opts);
    if (!plan.send) {
      givenCredentials = withheldAttempt(plan);
      evidence.push(`${site} given credentials: ${plan.detail}`);
    } else {
      const g = await login('given credentials', given.username, given.password, plan.requireTrustedTls);
      givenCredentials = g.r.kind === 'untrusted'
        ? untrustedAttempt(g.r.problem)
        : { ...toAuthAttempt(g.r, g.version, wire), ...(isDefaultPair(given) ? { defaultPair: true } : {}) };
      if (givenCredentials.outcome === 'accepted') {
        const again = madeUpLogin();
        const after = await connect(wire, g.version, again.username, again.password);
        evidence.push(describe(site, g.version, 'wrong credentials again, after the given login', after));
        if (after.kind === 'connack' && connackVerdict(after.connack) === 'accepted') {
          wrongCredentials = { ...toAuthAttempt(after, g.version, wire), detail: 'a made-up login sent after the given one was accepted' };
        }
      }
    }
  }
  const accepted = [wrongCredentials, givenCredentials].some((a) => a.outcome === 'accepted');
  return {
    transport: wire,
    ...(path !== undefined ? { websocketPath: path } : {}),
    classification: accepted ? 'open_or_auth_ok' : 'not_authorized',
    mqtt: { versions: seen, brokerVersion: null },
    auth: { anonymous, wrongCredentials, givenCredentials },
    evidence,
  };
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

/** One evidence line: where (lib/probe where()), the version, which login, what came back. */
function describe(site: string, version: MqttVersion, what: string, r: AttemptResult): string {
  return `${site} MQTT ${version} ${what}: ${summarize(r)} (${r.ms} ms)`;
}

/** One line about an attempt, safe to show: never contains what we sent, only what we saw. */
export function summarize(r: AttemptResult): string {
  switch (r.kind) {
    case 'connack': {
      const text = `CONNACK ${r.connack.code} (${connackReason(r.connack)})`;
      const reference = r.connack.properties.serverReference;
      return typeof reference === 'string' ? `${text}; Server Reference ${brokerText(reference, { maxLength: 256 })}, not followed` : text;
    }
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
    case 'upgrade-refused':
      return `HTTP ${r.http.status} ${r.http.statusText}${r.http.server ? ` (Server: ${r.http.server})` : ''}: no WebSocket upgrade`;
  }
}

function bytesNote(bytes: Buffer): string {
  if (bytes.length === 0) return '';
  const text = bytes.toString('latin1').replace(/[^\x20-\x7e]/g, '.');
  return `; first bytes ${bytes.subarray(0, 16).toString('hex')} "${text}"`;
}
