// One MQTT connection attempt over TCP, TLS, ws or wss: send CONNECT, read at most one CONNACK,
// hang up. Every path ends within timeoutMs and destroys the socket; nothing the peer sends is
// buffered beyond a few kilobytes.
import type * as net from 'node:net';
import * as tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import { encodeConnect, parseConnack, DISCONNECT, type Connack } from './codec';
import { opensslReason, trustProblem } from './socket';
import { openTransport, WEBSOCKET_ERRORS, WebSocketStream, type HttpAnswer } from './websocket';
import { isDescriptorShortage, isTlsTransport, retryShortOfDescriptors, settle, withDescriptor } from '../common';
import type { MqttVersion, TlsClientOptions, Transport } from '../types';

export interface AttemptOptions {
  host: string;
  port: number;
  transport: Transport;
  /** ws and wss: the HTTP path of the upgrade (default '/mqtt'). */
  path?: string;
  /** ws and wss: the subprotocols to offer (default lib/mqtt MQTT_SUBPROTOCOLS; [] for none). */
  subprotocols?: readonly string[];
  version: MqttVersion;
  username?: string;
  password?: string;
  timeoutMs: number;
  tls?: TlsClientOptions;
  signal?: AbortSignal;
  /** Receives the TLS session (ticket) the broker issues, for later connections to resume. */
  onSession?: (session: Buffer) => void;
  /**
   * The CONNECT carries the user's real login and may only go over TLS that the credential policy
   * trusts (lib/credentials): a full handshake (no resumed session) against the system's CAs plus
   * tls.ca, and the certificate must name the host. Otherwise nothing is written and the result
   * is { kind: 'untrusted' }. On plain TCP or ws nothing is even connected.
   */
  requireTrustedTls?: boolean;
  /** Keep Alive of the CONNECT in seconds (default 30); SHORT_KEEPALIVE_S after a refused limit. */
  keepalive?: number;
  /** Client identifier of the CONNECT (default randomClientId()). */
  clientId?: string;
}

/**
 * The keepalive (seconds) of a CONNECT retried after a refusal that names a limit on the CONNECT
 * itself: aedes' keepaliveLimit answers a larger one with return code 6, Mosquitto 2.0.12+
 * max_keepalive answers a 3.1.1 CONNECT above it with code 2 "identifier rejected" (its issues
 * #2309, #2361). Our connections last one CONNACK, so a short keepalive costs nothing.
 */
export const SHORT_KEEPALIVE_S = 5;

/** What one attempt saw. On ws and wss, `http` is the server's answer to the upgrade when one
 *  came (status 101 when the WebSocket opened). */
export type AttemptResult = AttemptOutcome & { http?: HttpAnswer };

type AttemptOutcome =
  | { kind: 'connack'; connack: Connack; ms: number }
  /** Peer closed (or reset) before a CONNACK; `bytes` is whatever it sent first. */
  | { kind: 'closed'; reset: boolean; bytes: Buffer; tlsEstablished: boolean; ms: number }
  | { kind: 'timeout'; bytes: Buffer; tlsEstablished: boolean; ms: number }
  | { kind: 'not-mqtt'; reason: string; bytes: Buffer; ms: number }
  /** TLS failed: `peerSpeaksTls` tells an alert from the server apart from a non-TLS peer. */
  | { kind: 'tls-error'; code: string; message: string; peerSpeaksTls: boolean; tlsEstablished: boolean; ms: number }
  | { kind: 'error'; code: string; message: string; ms: number }
  /** requireTrustedTls: the certificate failed the credential policy, so no CONNECT was sent. */
  | { kind: 'untrusted'; problem: string; ms: number }
  /** ws and wss: the server answered the upgrade with another status than 101 (`http` says which). */
  | { kind: 'upgrade-refused'; http: HttpAnswer; ms: number };

/** How much of a non-MQTT answer we keep as evidence. */
const EVIDENCE_BYTES = 64;
const MAX_BUFFERED = 8192;

/**
 * The client identifier of one of the scanner's own connections: "mqttsec-" (the listener:
 * "mqttsec-sniff-") and 12 random hex digits. Brokers that announce connections under $SYS
 * (aedes: $SYS/<id>/new/clients) name it; OWN_CLIENT_ID recognizes it there.
 */
export function randomClientId(role: 'probe' | 'sniff' = 'probe'): string {
  return `mqttsec-${role === 'sniff' ? 'sniff-' : ''}${randomBytes(6).toString('hex')}`;
}

/**
 * A client identifier every MQTT 3.1.1 server must allow (§3.1.3.1, MQTT-3.1.3-5: 1 to 23 of
 * 0-9a-zA-Z): "mqttsec" and 12 random hex digits, for a CONNECT retried after "identifier
 * rejected". OWN_CLIENT_ID recognizes it too.
 */
export function strictClientId(): string {
  return `mqttsec${randomBytes(6).toString('hex')}`;
}

/** Matches a client identifier made by randomClientId or strictClientId anywhere in a text. */
export const OWN_CLIENT_ID = /\bmqttsec-?(?:sniff-)?[0-9a-f]{12}\b/;

/**
 * One CONNECT (OASIS MQTT 3.1.1 §3.1 / 5.0 §3.1) and at most one CONNACK (§3.2): resolves with
 * what the broker answered, within o.timeoutMs, and hangs up (DISCONNECT after an accepted
 * CONNACK). Never rejects for anything the peer does; throws only for a bad PEM or passphrase in
 * o.tls when the socket must carry a login (requireTrustedTls). A connection this process could
 * not open for want of a file descriptor (EMFILE, ENFILE) is opened again after a pause (lib/common
 * retryShortOfDescriptors, about 6 s in all); only if that lasts is the result { kind: 'error',
 * code: 'EMFILE' }, which says nothing about the broker.
 */
export function attemptConnect(o: AttemptOptions): Promise<AttemptResult> {
  // One descriptor of the process's pool (lib/common): held while the socket is open, and taken
  // before the attempt's timeout starts.
  const once = () => withDescriptor<AttemptResult>(o.signal, () => ({ kind: 'error', code: 'ABORTED', message: 'scan cancelled', ms: 0 }), () => attemptOnce(o));
  return retryShortOfDescriptors(once, (r) => r.kind === 'error' && isDescriptorShortage(r.code), o.signal);
}

function attemptOnce(o: AttemptOptions): Promise<AttemptResult> {
  if (o.requireTrustedTls && !isTlsTransport(o.transport)) {
    return Promise.resolve({ kind: 'untrusted', problem: `not TLS (${o.transport})`, ms: 0 });
  }
  const started = Date.now();
  let buffered = Buffer.alloc(0);
  let tlsEstablished = false;
  let stream: Connection | undefined;
  const ms = () => Date.now() - started;
  const evidence = () => buffered.subarray(0, EVIDENCE_BYTES);
  // The HTTP answer of a WebSocket upgrade goes with every result of a ws or wss attempt.
  const withHttp = (r: AttemptResult): AttemptResult => (stream instanceof WebSocketStream && stream.http && !r.http ? { ...r, http: stream.http } : r);
  return settle<AttemptResult>(
    o.timeoutMs,
    o.signal,
    (why) => withHttp(why === 'abort'
      ? { kind: 'error', code: 'ABORTED', message: 'scan cancelled', ms: ms() }
      : { kind: 'timeout', bytes: evidence(), tlsEstablished, ms: ms() }),
    (settled) => {
      const finish = (r: AttemptResult) => settled(withHttp(r));
      const socket = openConnection(o);
      stream = socket;
      // The TLS socket: the connection itself (tls), or the one under the WebSocket (wss).
      const tlsSocket = o.transport === 'tls' ? (socket as tls.TLSSocket) : socket instanceof WebSocketStream && o.transport === 'wss' ? (socket.raw as tls.TLSSocket) : null;

      const sendConnect = () => {
        let packet: Buffer;
        try {
          packet = encodeConnect({ version: o.version, clientId: o.clientId ?? randomClientId(), username: o.username, password: o.password, keepalive: o.keepalive });
        } catch (err) {
          // A login MQTT cannot carry (over 65535 bytes, OASIS MQTT 3.1.1 §1.5.3): an error for this
          // attempt, never a throw from a socket callback (that would end the process).
          return finish({ kind: 'error', code: 'BAD_LOGIN', message: (err as Error).message, ms: ms() });
        }
        socket.write(packet);
      };
      if (tlsSocket) {
        if (o.onSession) tlsSocket.on('session', o.onSession);
        tlsSocket.once('secureConnect', () => {
          tlsEstablished = true;
        });
      }
      // The CONNECT goes once the transport is up: TCP connected, TLS handshake done, or 101.
      socket.once(o.transport === 'tls' ? 'secureConnect' : 'connect', () => {
        const problem = o.requireTrustedTls && tlsSocket ? trustProblem(tlsSocket) : null;
        if (problem !== null) return finish({ kind: 'untrusted', problem, ms: ms() });
        sendConnect();
      });

      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk.subarray(0, MAX_BUFFERED - buffered.length)]);
        const parsed = parseConnack(buffered);
        if (parsed.state === 'ok') {
          if (parsed.connack.code === 0) socket.write(DISCONNECT);
          finish({ kind: 'connack', connack: parsed.connack, ms: ms() });
        } else if (parsed.state === 'invalid') {
          finish({ kind: 'not-mqtt', reason: parsed.reason, bytes: evidence(), ms: ms() });
        } else if (buffered.length >= MAX_BUFFERED) {
          finish({ kind: 'not-mqtt', reason: 'more data than any CONNACK', bytes: evidence(), ms: ms() });
        }
      });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        const code = err.code ?? 'ERROR';
        if (tlsSocket && isTlsFailure(err, tlsEstablished)) {
          finish({
            kind: 'tls-error',
            code,
            message: opensslReason(err.message),
            peerSpeaksTls: peerSpeaksTls(code, tlsEstablished),
            tlsEstablished,
            ms: ms(),
          });
        } else if (code === WEBSOCKET_ERRORS.upgradeRefused && socket instanceof WebSocketStream && socket.http) {
          finish({ kind: 'upgrade-refused', http: socket.http, ms: ms() });
        } else if (code === WEBSOCKET_ERRORS.textFrame || code.startsWith('WS_ERR_')) {
          // A text frame, or a frame ws refused after the upgrade (its WS_ERR_ codes): one announcing
          // more than we read (over maxPayload, or a 64-bit length above 2^53 - 1), a bad opcode, a
          // masked or RSV-flagged server frame. What the server sent inside the WebSocket is not MQTT.
          finish({ kind: 'not-mqtt', reason: err.message, bytes: evidence(), ms: ms() });
        } else if (code === 'ECONNRESET' || code === 'EPIPE') {
          finish({ kind: 'closed', reset: true, bytes: evidence(), tlsEstablished, ms: ms() });
        } else {
          finish({ kind: 'error', code, message: err.message, ms: ms() });
        }
      });
      socket.on('close', () => finish({ kind: 'closed', reset: false, bytes: evidence(), tlsEstablished, ms: ms() }));
      return () => {
        socket.removeAllListeners('data');
        socket.on('error', () => undefined); // late errors after we hang up are not ours to report
        socket.destroy();
      };
    },
  );
}

/** A connection an attempt reads and writes: a TCP or TLS socket, or a WebSocket stream. */
type Connection = net.Socket | tls.TLSSocket | WebSocketStream;

/** Opens the connection of one attempt (lib/mqtt openTransport). Throws what openSocket throws. */
function openConnection(o: AttemptOptions): Connection {
  return openTransport(o.host, o.port, o.transport, { tls: o.tls, forLogin: o.requireTrustedTls, path: o.path, subprotocols: o.subprotocols, maxMessageBytes: MAX_BUFFERED });
}

/** How many bytes of a CONNECT waitsForWholeConnect sends: the fixed header and half the protocol name. */
const CONNECT_PREFIX_BYTES = 6;

/** Where waitsForWholeConnect connects: plain TCP, or a WebSocket (ws, wss) on `path`. */
export type PartialConnectTarget = Pick<AttemptOptions, 'host' | 'port' | 'path' | 'subprotocols' | 'tls'> & { transport: Transport };

/**
 * Whether a peer keeps a connection open for `waitMs` after only the first bytes of a CONNECT
 * ('waits'), or closes or resets it first ('closed'); 'error' when the connection fails (refused,
 * an upgrade refused, aborted). On ws and wss the bytes go inside the WebSocket once it opened.
 * An MQTT broker waits for the rest of a packet (and for a CONNECT at all: OASIS MQTT 3.1.1 §3.1.4
 * and §4.4, aedes 30 s, Mosquitto its keepalive), so a port that hung up on every whole CONNECT
 * but waits after a part of one hung up in answer to the CONNECT it read; a service that drops
 * every connection, or resets on any bytes, does not wait. Never rejects; the connection is
 * destroyed when it settles, within waitMs plus the connect time (at most 2 x waitMs).
 */
export function waitsForWholeConnect(o: PartialConnectTarget, waitMs: number, signal?: AbortSignal): Promise<'waits' | 'closed' | 'error'> {
  return withDescriptor(signal, () => 'error' as const, () => waitsOnce(o, waitMs, signal));
}

function waitsOnce(o: PartialConnectTarget, waitMs: number, signal?: AbortSignal): Promise<'waits' | 'closed' | 'error'> {
  return settle<'waits' | 'closed' | 'error'>(2 * waitMs, signal, 'error', (finish) => {
    const socket = openConnection({ ...o, version: '3.1.1', timeoutMs: waitMs });
    let timer: NodeJS.Timeout | undefined;
    let connected = false;
    // Once the transport is up: TCP connected, the TLS handshake done, or the WebSocket's 101.
    socket.once(o.transport === 'tls' ? 'secureConnect' : 'connect', () => {
      connected = true;
      socket.write(encodeConnect({ version: '3.1.1', clientId: randomClientId() }).subarray(0, CONNECT_PREFIX_BYTES));
      timer = setTimeout(() => finish('waits'), waitMs);
    });
    socket.on('data', () => undefined); // an answer to half a packet does not decide it
    socket.on('error', () => finish(connected ? 'closed' : 'error'));
    socket.on('close', () => finish(connected ? 'closed' : 'error'));
    return () => {
      clearTimeout(timer);
      socket.on('error', () => undefined);
      socket.destroy();
    };
  });
}

function isTlsFailure(err: NodeJS.ErrnoException, established: boolean): boolean {
  const code = err.code ?? '';
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) return true;
  // A reset during the handshake is how most non-TLS peers answer a ClientHello.
  return !established && (code === 'ECONNRESET' || /before secure TLS connection/.test(err.message));
}

/** An alert or a protocol mismatch means a TLS server answered; "wrong version number" means it did not. */
function peerSpeaksTls(code: string, established: boolean): boolean {
  if (established) return true;
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') return false;
  if (code === 'ECONNRESET' || !code.startsWith('ERR_SSL')) return false;
  return true;
}
