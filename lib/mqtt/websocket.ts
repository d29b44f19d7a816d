// MQTT over WebSockets (OASIS MQTT 3.1.1 §6, MQTT 5.0 §6): the `ws` package does the HTTP/1.1
// upgrade (RFC 6455 §4) and the framing; this file turns one WebSocket into a byte stream (a
// Duplex) that the MQTT codec, attemptConnect and PacketGuard read exactly as they read a TCP
// socket, so every bound they keep holds on ws and wss too. The socket under the WebSocket comes
// from openSocket (socket.ts): the same TLS rules for reading and for carrying a login.
//
// What the stream adds to a Duplex: 'connect' once the server answered 101 (the MQTT CONNECT may be
// written then), `http` (the server's status line, Server header and chosen subprotocol), `raw`
// (the TCP or TLS socket under it, for the trust check and TLS sessions). Errors carry a `code`:
// the socket's (ECONNREFUSED, ERR_SSL_...), ws's own (WS_ERR_...), or one of WEBSOCKET_ERRORS.
import type * as net from 'node:net';
import type * as tls from 'node:tls';
import type { IncomingMessage } from 'node:http';
import { Duplex } from 'node:stream';
import type * as WsModule from 'ws';
import { openSocket } from './socket';
import { brokerText, urlHost } from '../common';
import type { TlsClientOptions, Transport } from '../types';

/** Paths a broker commonly serves MQTT over WebSockets on, in the order they are tried: Mosquitto
 *  and EMQX /mqtt, Mosquitto and aedes any path (/), RabbitMQ Web MQTT /ws, /mqtt-ws. */
export const DEFAULT_WEBSOCKET_PATHS: readonly string[] = ['/mqtt', '/', '/ws', '/mqtt-ws'];

/** The subprotocols offered in the upgrade: "mqtt" (OASIS MQTT 3.1.1 §6 and 5.0 §6, MUST) and
 *  "mqttv3.1", which brokers of the MQTT 3.1 era (and Mosquitto 1.x for 3.1 clients) answer. */
export const MQTT_SUBPROTOCOLS: readonly string[] = ['mqtt', 'mqttv3.1'];

/** At most this many paths are tried on one port (each costs one HTTP round trip). */
export const MAX_WEBSOCKET_PATHS = 16;
/** At most this many characters in one path. */
export const MAX_WEBSOCKET_PATH_CHARS = 256;
/** WebSocket close code for a connection that ended without a close frame (RFC 6455 §7.4.1). */
const ABNORMAL_CLOSURE = 1006;
/** Bytes of HTTP response headers we read before giving up on the upgrade (Node's default is 16 KiB). */
const MAX_HTTP_HEADER_BYTES = 8192;

/** Codes of the errors this stream makes itself (others come from the socket or from ws). */
export const WEBSOCKET_ERRORS = {
  /** The server answered the upgrade with a status other than 101. */
  upgradeRefused: 'WS_UPGRADE_REFUSED',
  /** The server answered 101 without choosing any of the offered subprotocols. */
  noSubprotocol: 'WS_NO_SUBPROTOCOL',
  /** The server answered 101 naming a subprotocol we did not offer as one: RabbitMQ 3.10's Web
   *  MQTT copies the whole offered list back ("mqtt, mqttv3.1"). */
  badSubprotocol: 'WS_BAD_SUBPROTOCOL',
  /** The upgrade failed for another reason (a bad Sec-WebSocket-Accept, an extension we did not ask for). */
  handshake: 'WS_HANDSHAKE',
  /** A text frame: MQTT travels in binary frames only (MQTT 3.1.1 §6, MQTT-6.0.0-1). */
  textFrame: 'WS_TEXT_FRAME',
} as const;

/** The server's answer to the upgrade request, as it may be shown: bounded and escaped. */
export interface HttpAnswer {
  /** HTTP status: 101 when the upgrade was accepted. */
  status: number;
  /** Reason phrase ("Switching Protocols", "Not Found"), at most 64 characters. */
  statusText: string;
  /** The Server header, at most 80 characters; null when absent. */
  server: string | null;
  /** The subprotocol the server chose on a 101 (Sec-WebSocket-Protocol); null when none. */
  subprotocol: string | null;
}

/** How to open one MQTT-over-WebSocket stream. */
export interface WebSocketStreamOptions {
  /** wss (WebSocket over TLS) rather than ws. */
  secure: boolean;
  /** The HTTP path of the upgrade request: starts with '/', checked by parseWebSocketPaths. */
  path: string;
  /** TLS options of the socket under a wss stream (openSocket). */
  tls?: TlsClientOptions;
  /** wss only: the socket will carry the user's login (openSocket's forLogin); the caller checks
   *  trustProblem(stream.raw) on 'connect' before writing. */
  forLogin?: boolean;
  /** Subprotocols to offer (default MQTT_SUBPROTOCOLS); empty to offer none, for servers that
   *  upgrade without choosing one. */
  subprotocols?: readonly string[];
  /** Largest WebSocket message (the sum of its fragments) we accept, in bytes; a bigger one ends
   *  the stream with ws's WS_ERR_UNSUPPORTED_MESSAGE_LENGTH (close code 1009) before it is read;
   *  a frame announcing more than 2^53 - 1 bytes, with WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH. */
  maxMessageBytes: number;
}

/**
 * One MQTT-over-WebSocket connection as a byte stream (see the file's head). Never throws from its
 * constructor for anything the peer does; throws what tls.createSecureContext throws for a bad PEM
 * or passphrase (forLogin), like openSocket.
 */
export class WebSocketStream extends Duplex {
  /** The TCP or TLS socket the WebSocket runs on. */
  readonly raw: net.Socket | tls.TLSSocket;
  /** The server's answer to the upgrade, once it came. */
  http: HttpAnswer | null = null;
  private readonly ws: WsModule.WebSocket;
  /** The last error of the raw socket: after the upgrade ws reports only a close, not its cause. */
  private rawError: NodeJS.ErrnoException | null = null;

  constructor(host: string, port: number, o: WebSocketStreamOptions) {
    super();
    const { WebSocket } = wsModule();
    let raw: net.Socket | tls.TLSSocket | undefined;
    const url = `${o.secure ? 'wss' : 'ws'}://${urlHost(host)}:${port}${o.path}`;
    this.ws = new WebSocket(url, [...(o.subprotocols ?? MQTT_SUBPROTOCOLS)], {
      // Our opener, not ws's: the same TLS rules as every other broker connection.
      createConnection: () => (raw = openSocket(host, port, o.secure ? 'tls' : 'tcp', { tls: o.tls, forLogin: o.forLogin })),
      perMessageDeflate: false, // no zlib on what a broker sends, and nothing MQTT needs
      followRedirects: false, // the scope the user allowed is the address they gave
      maxPayload: o.maxMessageBytes,
      maxHeaderSize: MAX_HTTP_HEADER_BYTES,
    } as WsModule.ClientOptions);
    if (!raw) throw new Error('ws did not open its connection through createConnection');
    this.raw = raw;
    this.raw.on('error', (err: NodeJS.ErrnoException) => {
      this.rawError = err;
    });
    const ws = this.ws;
    ws.binaryType = 'nodebuffer';
    ws.on('upgrade', (res: IncomingMessage) => {
      this.http = httpAnswer(res);
    });
    ws.on('unexpected-response', (_req: unknown, res: IncomingMessage) => {
      this.http = httpAnswer(res);
      this.fail(WEBSOCKET_ERRORS.upgradeRefused, `HTTP ${this.http.status} ${this.http.statusText}: no WebSocket upgrade`);
    });
    ws.on('open', () => this.emit('connect'));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return this.fail(WEBSOCKET_ERRORS.textFrame, 'the server sent a text frame; MQTT travels in binary frames only');
      if (!this.push(data)) ws.pause();
    });
    ws.on('error', (err: NodeJS.ErrnoException) => this.destroy(named(err)));
    ws.on('close', (code: number) => {
      // A reset or a TLS error after the upgrade reaches ws only as a close (1006, no close frame):
      // say what it was. After the server's close frame a reset is only the TCP teardown racing
      // our reply to it (RabbitMQ's Cowboy), and the close was the server's choice.
      if (this.rawError && code === ABNORMAL_CLOSURE) return this.destroy(this.rawError);
      this.push(null);
      this.destroy();
    });
  }

  override _read(): void {
    this.ws.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (this.ws.readyState !== this.ws.OPEN) return callback(Object.assign(new Error('the WebSocket is not open'), { code: 'ERR_STREAM_DESTROYED' }));
    this.ws.send(chunk, { binary: true }, callback);
  }

  override _final(callback: (err?: Error | null) => void): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(1000);
    callback();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.ws.removeAllListeners('message');
    this.ws.on('error', () => undefined); // terminate() during the handshake reports an abort
    this.ws.terminate();
    this.raw.destroy();
    callback(err);
  }

  private fail(code: string, message: string): void {
    this.destroy(Object.assign(new Error(message), { code }));
  }
}

/** How to open one MQTT connection on any transport (openTransport). */
export interface TransportOptions {
  /** TLS options (tls, wss). */
  tls?: TlsClientOptions;
  /** The connection will carry the user's login (TLS, wss): see openSocket's forLogin. */
  forLogin?: boolean;
  /** ws and wss: the upgrade's path (default DEFAULT_WEBSOCKET_PATHS[0]) and subprotocols. */
  path?: string;
  subprotocols?: readonly string[];
  /** ws and wss: the largest WebSocket message read, in bytes. */
  maxMessageBytes: number;
}

/**
 * The one opener of an MQTT connection, for the probe's attempts and the listener: a TCP or TLS
 * socket (openSocket, Nagle off), or a WebSocketStream on one for ws and wss. The caller writes once
 * the transport is up: 'connect' (tcp, ws, wss, the last after the 101) or 'secureConnect' (tls).
 * Throws what openSocket throws (a bad PEM or passphrase with forLogin).
 */
export function openTransport(host: string, port: number, transport: Transport, o: TransportOptions): net.Socket | tls.TLSSocket | WebSocketStream {
  if (transport === 'tcp' || transport === 'tls') {
    const socket = openSocket(host, port, transport, { tls: o.tls, forLogin: o.forLogin });
    socket.setNoDelay(true);
    return socket;
  }
  return new WebSocketStream(host, port, {
    secure: transport === 'wss',
    path: o.path ?? DEFAULT_WEBSOCKET_PATHS[0],
    tls: o.tls,
    forLogin: o.forLogin,
    subprotocols: o.subprotocols,
    maxMessageBytes: o.maxMessageBytes,
  });
}

/**
 * The paths to try from a list the user gave: a comma- or space-separated string or an array;
 * empty or undefined gives DEFAULT_WEBSOCKET_PATHS. Each path starts with '/' and holds only the
 * characters of an RFC 3986 path and query (no spaces, no '#'); duplicates are dropped.
 * Throws an Error naming the bad path, or the count when there are more than MAX_WEBSOCKET_PATHS.
 */
export function parseWebSocketPaths(spec: string | readonly string[] | undefined | null): string[] {
  if (spec === undefined || spec === null) return [...DEFAULT_WEBSOCKET_PATHS];
  const list = typeof spec === 'string' ? spec.split(/[\s,]+/) : [...spec];
  const paths: string[] = [];
  for (const item of list) {
    if (typeof item !== 'string') throw new Error(`WebSocket path ${JSON.stringify(item)}: must be a string`);
    if (item === '') continue;
    const shown = item.length > 40 ? `${item.slice(0, 40)}…` : item;
    if (item.length > MAX_WEBSOCKET_PATH_CHARS) throw new Error(`WebSocket path "${shown}": longer than ${MAX_WEBSOCKET_PATH_CHARS} characters`);
    if (!item.startsWith('/')) throw new Error(`WebSocket path "${shown}": must start with "/"`);
    if (!isWebSocketPath(item)) throw new Error(`WebSocket path "${shown}": only the characters of a URL path are allowed (no spaces, no "#")`);
    if (!paths.includes(item)) paths.push(item);
  }
  if (paths.length > MAX_WEBSOCKET_PATHS) throw new Error(`${paths.length} WebSocket paths: at most ${MAX_WEBSOCKET_PATHS}`);
  return paths.length ? paths : [...DEFAULT_WEBSOCKET_PATHS];
}

/** A path a WebSocket upgrade may ask for: '/' then at most MAX_WEBSOCKET_PATH_CHARS - 1 characters
 *  of an RFC 3986 path and query (no spaces, no '#', no control characters). */
export function isWebSocketPath(path: unknown): path is string {
  return typeof path === 'string' && path.length <= MAX_WEBSOCKET_PATH_CHARS && /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/%?]*$/.test(path);
}

/** ws is loaded on first use: a scan that meets no WebSocket never pays for it (and for http). */
let loadedWs: typeof WsModule | undefined;
function wsModule(): typeof WsModule {
  loadedWs ??= require('ws') as typeof WsModule;
  return loadedWs;
}

function httpAnswer(res: IncomingMessage): HttpAnswer {
  const header = (name: string): string | null => {
    const v = res.headers[name];
    const text = Array.isArray(v) ? v.join(', ') : v;
    return typeof text === 'string' ? text : null;
  };
  const server = header('server');
  const subprotocol = header('sec-websocket-protocol');
  return {
    status: res.statusCode ?? 0,
    statusText: brokerText(res.statusMessage ?? '', { maxLength: 64 }),
    server: server === null ? null : brokerText(server, { maxLength: 80 }),
    subprotocol: subprotocol === null ? null : brokerText(subprotocol, { maxLength: 40 }),
  };
}

/** ws's handshake errors have no code; give them one the caller can act on. */
function named(err: NodeJS.ErrnoException): NodeJS.ErrnoException {
  if (err.code) return err;
  const code = /Server sent no subprotocol/.test(err.message) ? WEBSOCKET_ERRORS.noSubprotocol
    : /Server sent an invalid subprotocol/.test(err.message) ? WEBSOCKET_ERRORS.badSubprotocol : WEBSOCKET_ERRORS.handshake;
  return Object.assign(err, { code });
}
