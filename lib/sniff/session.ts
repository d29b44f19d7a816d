// The sniffer's one MQTT connection: our own socket behind PacketGuard (which sees every byte
// first), our own packets (lib/mqtt/codec.ts), never reconnecting, and always closed within a bound.
import * as tls from 'node:tls';
import type { TlsClientOptions, Transport } from '../types';
import { connackReason, encodeConnect, parseConnack, v5ReasonName, type Connack, randomClientId } from '../mqtt';
import type { MqttVersion, SubscriptionOutcome, Target } from '../types';
import { openTransport, trustProblem, WebSocketStream } from '../mqtt';
import { PacketGuard, type PublishHead } from '../mqtt';
import { settle } from '../common';
import { PINGREQ, DISCONNECT, decode, encodeAck, encodePublish, encodeSubscribe, frame, type Incoming } from '../mqtt';

const SOCKET_CLOSE_WAIT_MS = 500;
const DEFAULT_KEEPALIVE_S = 30;
/**
 * The largest WebSocket message the listener reads, in bytes: ws holds a message whole before it
 * hands it on, so this bounds what one message can make us buffer. PacketGuard then reads an
 * oversize PUBLISH inside it in part, as on TCP; a bigger message ends the session with ws's
 * "Max payload size exceeded" (close 1009), so over ws and wss MQTT 5 brokers are told this
 * bound as our Maximum Packet Size (see sendConnect).
 */
const MIN_WEBSOCKET_MESSAGE_BYTES = 1024 * 1024;

export interface SessionOptions {
  transport: Transport;
  /** ws and wss: the HTTP path of the upgrade (default '/mqtt'). */
  websocketPath?: string;
  /** ws and wss: the subprotocols to offer (default lib/mqtt MQTT_SUBPROTOCOLS; [] for none). */
  subprotocols?: readonly string[];
  version: MqttVersion;
  credentials?: { username: string; password?: string } | null;
  tls?: TlsClientOptions;
  connectTimeoutMs: number;
  /** Packets up to this size (bytes) are read whole; a bigger PUBLISH only in part (PacketGuard:
   *  topic name, packet id, the payload's first maxSampleBytes), any other bigger packet ends the session. */
  maxPacketBytes: number;
  /** Payload bytes kept of a PUBLISH bigger than maxPacketBytes (its head; default 1024). */
  maxSampleBytes?: number;
  /** A PUBLISH bigger than maxPacketBytes was dropped unread (its topic name is over 1 KiB). */
  onOversize: () => void;
  /** Seconds between PINGREQs (default 30); the broker hangs up after 1.5 times that in silence. */
  keepaliveS?: number;
  /** The CONNECT's client identifier (default: randomClientId('sniff')). */
  clientId?: string;
  /** The CONNECT carries the user's login: send it only over TLS the credential policy trusts
   *  (lib/credentials: full handshake, system CAs plus tls.ca, name check); otherwise the session
   *  ends with "login not sent: ..." before anything is written. */
  requireTrustedTls?: boolean;
}

export interface Message {
  topic: string;
  /** The payload, or only its first bytes when `size` is set. */
  payload: Buffer;
  retain: boolean;
  qos: number;
  /** Set when `payload` is only the head of a PUBLISH bigger than maxPacketBytes: the whole
   *  payload's length in bytes (the rest was skipped as it streamed past, never buffered). */
  size?: number;
}

export type { SubscriptionOutcome };

/** The PUBACK's reason code (0 for 3.1.1), or why none came. */
export type PublishOutcome = { code: number } | { error: string };

/** A refusing CONNACK comes with the failure, so a caller can tell a limit from a refused login;
 *  a connection that failed before any CONNACK, with the error's code (a WebSocket subprotocol
 *  refusal, lib/mqtt WEBSOCKET_ERRORS, is one a caller may retry). */
export type ConnectOutcome = { ok: true; connack: Connack } | { ok: false; error: string; connack?: Connack; code?: string };

export interface Session {
  /** Resolves when the broker accepted us, or with why not. */
  connected(signal?: AbortSignal): Promise<ConnectOutcome>;
  subscribe(filter: string, qos: 0 | 1 | 2, timeoutMs: number, signal?: AbortSignal): Promise<SubscriptionOutcome>;
  /** One non-retained QoS 1 PUBLISH. */
  publish(topic: string, payload: Buffer, timeoutMs: number, signal?: AbortSignal): Promise<PublishOutcome>;
  /** Every PUBLISH the broker sends (already acknowledged). */
  onMessage: ((m: Message) => void) | null;
  /** Called once when the connection ends; returns a function that unregisters it. */
  onEnd(fn: (why: string) => void): () => void;
  /** Why the connection ended; null while it is open. */
  readonly endReason: string | null;
  /** Sends DISCONNECT and waits up to graceMs, then destroys the socket; idempotent. */
  close(graceMs: number): Promise<void>;
}

export function openSession(target: Target, o: SessionOptions): Session {
  const v5 = o.version === '5.0';
  const keepaliveS = o.keepaliveS ?? DEFAULT_KEEPALIVE_S;
  // The CONNECT carries the user's login (trustFirst): the credential policy judges this very socket.
  const trustFirst = (o.transport === 'tls' || o.transport === 'wss') && !!o.requireTrustedTls;
  const raw = openTransport(target.host, target.port, o.transport, {
    tls: o.tls,
    forLogin: trustFirst,
    path: o.websocketPath,
    subprotocols: o.subprotocols,
    maxMessageBytes: Math.max(MIN_WEBSOCKET_MESSAGE_BYTES, o.maxPacketBytes),
  });
  raw.on('error', () => undefined); // the guard reports it
  const guard = new PacketGuard(raw, o.maxPacketBytes, { oversize: o.onOversize }, { v5, headBytes: o.maxSampleBytes });

  let connack: ((r: ConnectOutcome) => void) | null = null;
  let connackResult: ConnectOutcome | null = null;
  let endReason: string | null = null;
  const endListeners = new Set<(why: string) => void>();
  const subacks = new Map<number, (codes: number[]) => void>();
  const pubacks = new Map<number, (code: number) => void>();
  let nextId = 0;
  const packetId = () => (nextId = (nextId % 0xffff) + 1);
  let keepalive: NodeJS.Timeout | undefined;
  let closing: Promise<void> | null = null;

  const answer = (r: ConnectOutcome) => {
    if (connackResult) return;
    connackResult = r;
    connack?.(r);
  };
  const end = (why: string) => {
    if (endReason !== null) return;
    endReason = why;
    clearInterval(keepalive);
    answer({ ok: false as const, error: why });
    for (const fn of [...endListeners]) fn(why);
    endListeners.clear();
    guard.destroy();
  };
  // Packets sent in one turn of the event loop go out in one write: the acknowledgements of a
  // chunk of input (a broker sends its retained messages in a burst: a PUBACK per write was 45
  // write() calls per broker, 16 us each on loopback, 0.7 s of one core for 750 brokers), the
  // SUBSCRIBEs sent together.
  let queued: Buffer[] = [];
  let flushing = false;
  const flush = () => {
    flushing = false;
    const out = queued;
    queued = [];
    if (out.length && endReason === null && !guard.writableEnded) guard.write(out.length === 1 ? out[0] : Buffer.concat(out));
  };
  const send = (b: Buffer) => {
    if (endReason !== null || guard.writableEnded) return;
    queued.push(b);
    if (!flushing) {
      flushing = true;
      process.nextTick(flush);
    }
  };

  guard.on('error', (err: Error & { code?: unknown }) => {
    const why = connackResult ? err.message : describeError(err);
    if (!connackResult && typeof err.code === 'string') answer({ ok: false, error: why, code: err.code });
    end(why);
  });
  const hungUp = () => end(closing ? 'closed by us' : connackResult ? 'the broker closed the connection' : 'connection closed before CONNACK');
  guard.on('close', hungUp);
  guard.on('end', hungUp);

  let pending: Buffer = Buffer.alloc(0);
  guard.on('data', (chunk: Buffer | PublishHead) => {
    if (!Buffer.isBuffer(chunk)) return headOf(chunk);
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (endReason === null) {
      const f = frame(pending);
      if (f === null || (f !== 'invalid' && pending.length < f.total)) break;
      if (f === 'invalid') return end('the broker sent a malformed packet length');
      const p = pending.subarray(0, f.total);
      pending = pending.subarray(f.total);
      handle(p);
    }
    // Never keep a whole chunk alive for a few leftover bytes.
    if (pending.length && pending.length < 1024) pending = Buffer.from(pending);
  });

  const handle = (p: Buffer) => {
    if (!connackResult) {
      const c = parseConnack(p);
      if (c.state !== 'ok') return end(`not a CONNACK: ${c.state === 'invalid' ? c.reason : 'truncated'}`);
      if (c.connack.code !== 0) {
        answer({ ok: false, error: `the broker refused the login: CONNACK ${c.connack.code} (${connackReason(c.connack)})`, connack: c.connack });
        return end('refused');
      }
      answer({ ok: true, connack: c.connack });
      keepalive = setInterval(() => send(PINGREQ), keepaliveS * 1000);
      return;
    }
    const m = decode(p, v5);
    if (!m) return end(`the broker sent a malformed packet (type ${p[0] >> 4})`);
    dispatch(m);
  };

  // The part PacketGuard read of a PUBLISH bigger than maxPacketBytes (already acknowledged). It
  // comes after every packet before it, so `pending` holds no part of another packet.
  const headOf = (h: PublishHead) => {
    if (endReason !== null) return;
    if (!connackResult) return end('not a CONNACK: a PUBLISH came first');
    if (h.topic !== '') session.onMessage?.({ topic: h.topic, payload: h.head, retain: h.retain, qos: h.qos, size: h.payloadBytes });
  };

  const dispatch = (m: Incoming) => {
    switch (m.type) {
      case 'publish':
        if (m.qos === 1) send(encodeAck('puback', m.id!));
        if (m.qos === 2) send(encodeAck('pubrec', m.id!));
        // An empty topic would need a topic alias, which we never allowed: nothing to list.
        if (m.topic !== '') session.onMessage?.({ topic: m.topic, payload: m.payload, retain: m.retain, qos: m.qos });
        return;
      case 'pubrel':
        return send(encodeAck('pubcomp', m.id));
      case 'suback':
        return subacks.get(m.id)?.(m.codes);
      case 'puback':
        return pubacks.get(m.id)?.(m.code);
      case 'pingresp':
        return;
      case 'disconnect':
        return end(`the broker sent DISCONNECT${m.code === null ? '' : ` (0x${m.code.toString(16).padStart(2, '0')} ${v5ReasonName(m.code)})`}`);
      case 'other':
        return end(`the broker sent an unexpected packet (type ${m.packetType})`);
    }
  };

  // MQTT 5 Maximum Packet Size (OASIS MQTT 5.0 §3.1.2.11.4): a server must not send a bigger
  // packet, and drops a PUBLISH that would be bigger without a word to anyone. Over TCP and TLS we
  // send none (no limit beyond the protocol's): PacketGuard reads a big PUBLISH in part and
  // never buffers it, so the memory bound holds anyway, and a big retained message (a device
  // list, a config) is listed with its size instead of vanishing. Over ws and wss, where ws holds
  // a whole WebSocket message, we tell the message bound we can read: a bigger packet would end
  // the session, and being dropped unseen is the lesser loss there.
  const maximumPacketSize = raw instanceof WebSocketStream ? Math.max(MIN_WEBSOCKET_MESSAGE_BYTES, o.maxPacketBytes) : undefined;
  const sendConnect = () => {
    try {
      guard.write(encodeConnect({
        version: o.version,
        clientId: o.clientId ?? randomClientId('sniff'),
        keepalive: keepaliveS,
        ...(o.credentials?.username ? { username: o.credentials.username, password: o.credentials.password } : {}),
        ...(v5 && maximumPacketSize !== undefined ? { maximumPacketSize } : {}),
      }));
    } catch (err) {
      end((err as Error).message);
    }
  };
  // The CONNECT goes once the transport is up: at once on TCP and TLS (the socket queues it),
  // after the 101 on ws and wss, after the trust check when it carries the login.
  const ready = raw instanceof WebSocketStream ? 'connect' : 'secureConnect';
  const tlsSocket = raw instanceof WebSocketStream ? raw.raw : raw;
  if (o.requireTrustedTls && !trustFirst) {
    queueMicrotask(() => end(`login not sent: ${o.transport === 'ws' ? 'ws' : 'plain TCP'} would carry the password in clear text`));
  } else if (trustFirst) {
    raw.once(ready, () => {
      const problem = trustProblem(tlsSocket as tls.TLSSocket);
      if (problem === null) sendConnect();
      else end(`login not sent: the broker's certificate is not trusted (${problem})`);
    });
  } else if (raw instanceof WebSocketStream) {
    raw.once('connect', sendConnect);
  } else {
    sendConnect();
  }

  const session: Session = {
    onMessage: null,
    get endReason() {
      return endReason;
    },
    onEnd(fn) {
      if (endReason !== null) {
        fn(endReason);
        return () => undefined;
      }
      endListeners.add(fn);
      return () => endListeners.delete(fn);
    },
    connected: (signal) =>
      connackResult
        ? Promise.resolve(connackResult)
        : settle<ConnectOutcome>(o.connectTimeoutMs, signal, { ok: false, error: signal?.aborted ? 'cancelled' : `timed out waiting for CONNACK (${o.connectTimeoutMs} ms)` }, (done) => {
            connack = done;
            return () => (connack = null);
          }),
    subscribe: (filter, qos, timeoutMs, signal) => {
      const none: SubscriptionOutcome = { filter, granted: false, code: null };
      if (endReason !== null) return Promise.resolve(none);
      const id = packetId();
      return settle<SubscriptionOutcome>(timeoutMs, signal, none, (done) => {
        subacks.set(id, (codes) => done({ filter, granted: codes[0] < 0x80, code: codes[0] }));
        const off = session.onEnd(() => done(none));
        try {
          send(encodeSubscribe(id, filter, qos, v5));
        } catch {
          done(none); // a filter MQTT cannot carry
        }
        return () => {
          subacks.delete(id);
          off();
        };
      });
    },
    publish: (topic, payload, timeoutMs, signal) => {
      if (endReason !== null) return Promise.resolve({ error: endReason });
      const id = packetId();
      return settle<PublishOutcome>(timeoutMs, signal, { error: signal?.aborted ? 'cancelled' : `no PUBACK within ${timeoutMs} ms` }, (done) => {
        pubacks.set(id, (code) => done({ code }));
        const off = session.onEnd((why) => done({ error: why }));
        send(encodePublish(id, topic, payload, v5));
        return () => {
          pubacks.delete(id);
          off();
        };
      });
    },
    close: (graceMs) => {
      closing ??= (async () => {
        if (endReason === null && connackResult?.ok) {
          send(DISCONNECT);
          flush();
          guard.end();
          await settle(graceMs, undefined, undefined, (done) => session.onEnd(() => done(undefined)));
        }
        end('closed by us');
        if (raw.closed) return;
        raw.destroy();
        // Resolve once the handle is really gone, so "returned" means "nothing left open".
        await settle(SOCKET_CLOSE_WAIT_MS, undefined, undefined, (done) => {
          raw.once('close', () => done(undefined));
        });
      })();
      return closing;
    },
  };
  return session;
}

function describeError(err: Error & { code?: unknown }): string {
  return err.message || String(err.code ?? 'error');
}
