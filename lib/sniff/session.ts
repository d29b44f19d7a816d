// The sniffer's one MQTT connection: mqtt.js over our own socket (so the packet guard sees every
// byte first), never reconnecting, and always closed within a bound.
import * as net from 'node:net';
import * as tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import { MqttClient, type IClientOptions, type IConnackPacket } from 'mqtt';
import type { TlsClientOptions } from '../mqtt-connect';
import type { MqttVersion, Target } from '../types';
import { PacketGuard } from './packet-guard';
import { settle } from './wait';

const SOCKET_CLOSE_WAIT_MS = 500;

export interface SessionOptions {
  transport: 'tcp' | 'tls';
  version: MqttVersion;
  credentials?: { username: string; password?: string } | null;
  tls?: TlsClientOptions;
  connectTimeoutMs: number;
  maxPacketBytes: number;
  onOversize: () => void;
}

export interface Session {
  client: MqttClient;
  /** Resolves when the broker accepted us, or with why not. */
  connected(signal?: AbortSignal): Promise<{ ok: true; connack: IConnackPacket } | { ok: false; error: string }>;
  /** Sends DISCONNECT and waits up to graceMs, then destroys the socket; idempotent. */
  close(graceMs: number): Promise<void>;
}

export function openSession(target: Target, o: SessionOptions): Session {
  let socket: net.Socket | null = null;
  const build = () => {
    socket = o.transport === 'tls'
      ? tls.connect({
          host: target.host,
          port: target.port,
          // The TLS inspector judges trust; here we only need to read.
          rejectUnauthorized: false,
          servername: o.tls?.servername ?? (net.isIP(target.host) ? undefined : target.host),
          ca: o.tls?.ca, cert: o.tls?.cert, key: o.tls?.key, passphrase: o.tls?.passphrase,
          session: o.tls?.session,
        })
      : net.connect({ host: target.host, port: target.port });
    socket.setNoDelay(true);
    return new PacketGuard(socket, o.maxPacketBytes, { oversize: o.onOversize });
  };
  const v5 = o.version === '5.0';
  const options: IClientOptions = {
    protocolVersion: v5 ? 5 : 4,
    clientId: `mqttsec-sniff-${randomBytes(6).toString('hex')}`,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: o.connectTimeoutMs,
    keepalive: 30,
    resubscribe: false,
    ...(o.credentials?.username ? { username: o.credentials.username, password: o.credentials.password } : {}),
    ...(v5 ? { properties: { maximumPacketSize: o.maxPacketBytes } } : {}),
  };
  const client = new MqttClient(build, options);
  client.on('error', () => undefined); // reported through connected(); late errors are not ours

  let closing: Promise<void> | null = null;
  return {
    client,
    connected: (signal) =>
      settle<Awaited<ReturnType<Session['connected']>>>(o.connectTimeoutMs + 500, signal, { ok: false as const, error: signal?.aborted ? 'cancelled' : 'timed out waiting for CONNACK' }, (done) => {
        const onConnect = (connack: IConnackPacket) => done({ ok: true, connack });
        const onError = (err: Error & { code?: unknown }) => done({ ok: false, error: describeError(err) });
        const onClose = () => done({ ok: false, error: 'connection closed before CONNACK' });
        client.once('connect', onConnect);
        client.on('error', onError);
        client.once('close', onClose);
        return () => {
          client.off('connect', onConnect);
          client.off('error', onError);
          client.off('close', onClose);
        };
      }),
    close: (graceMs) => {
      closing ??= settle(graceMs, undefined, undefined, (done) => {
        if (!client.connected) client.end(true, () => done(undefined));
        else client.end(false, () => done(undefined));
      }).then(() => {
        client.end(true);
        const raw = socket as net.Socket | null;
        if (!raw || raw.closed) return;
        raw.destroy();
        // Resolve once the handle is really gone, so "returned" means "nothing left open".
        return settle(SOCKET_CLOSE_WAIT_MS, undefined, undefined, (done) => {
          raw.once('close', () => done(undefined));
        });
      });
      return closing;
    },
  };
}

function describeError(err: Error & { code?: unknown }): string {
  const code = err.code;
  if (typeof code === 'number') return `${err.message} (code ${code})`;
  return err.message || String(code ?? 'error');
}

export interface SubscriptionOutcome {
  filter: string;
  granted: boolean;
  /** SUBACK code: the granted QoS (0-2) or a failure code (0x80 and up); null without SUBACK. */
  code: number | null;
}

export function subscribeOne(client: MqttClient, filter: string, qos: 0 | 1 | 2, timeoutMs: number, signal?: AbortSignal): Promise<SubscriptionOutcome> {
  return settle<SubscriptionOutcome>(timeoutMs, signal, { filter, granted: false, code: null }, (done) => {
    client.subscribe(filter, { qos }, (err, grants, packet) => {
      const code = packet?.granted?.[0] ?? grants?.[0]?.qos ?? (err as { packet?: { granted?: number[] } } | null)?.packet?.granted?.[0];
      const n = typeof code === 'number' ? code : null;
      done({ filter, granted: !err && n !== null && n < 0x80, code: n });
    });
  });
}
