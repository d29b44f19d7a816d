// A real aedes broker configured the way a rogue or a careless one is, that records every CONNECT
// it receives (username, password), over TCP, TLS, ws or wss. This is not a fake: aedes runs
// its normal MQTT 3.1.1 code; only its authenticate hook is ours. It lets a test see what the
// scanner sent, which no broker's log shows (mosquitto never logs passwords).
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, WebSocketServer } from 'ws';

export interface RecordedConnect {
  username: string | undefined;
  password: string | undefined;
}

export interface RecordingBrokerOptions {
  tls?: { cert: string | Buffer; key: string | Buffer };
  /**
   * How the broker answers a CONNECT: 'accept' it, 'refuse' it (CONNACK 4 / 5), or 'silent'
   * (never answer: the hook never calls back, as a tarpit-like rogue would).
   */
  decide: (username: string | undefined, password: string | undefined) => 'accept' | 'refuse' | 'silent';
  /** Serve MQTT over WebSockets (ws, or wss with `tls`) on every path, choosing "mqtt", instead of TCP/TLS. */
  websocket?: boolean;
}

export interface RecordingBroker {
  port: number;
  connects: RecordedConnect[];
  /** Every password any CONNECT carried. */
  passwords(): string[];
  stop(): Promise<void>;
}

export async function startRecordingBroker(opts: RecordingBrokerOptions): Promise<RecordingBroker> {
  const { Aedes } = await import('aedes');
  const connects: RecordedConnect[] = [];
  const broker = await Aedes.createBroker({
    authenticate: (_client, username, password, done) => {
      const pass = password === undefined ? undefined : Buffer.from(password).toString('utf8');
      connects.push({ username, password: pass });
      const verdict = opts.decide(username, pass);
      if (verdict === 'silent') return;
      if (verdict === 'accept') return done(null, true);
      // MQTT 3.1.1 §3.2.2.3: 5 not authorized (no username), 4 bad username or password.
      done(Object.assign(new Error('refused'), { returnCode: username === undefined ? 5 : 4 }), false);
    },
  });
  const sockets = new Set<Duplex>();
  const onConnection = (socket: Duplex) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  };
  let server: Server;
  if (opts.websocket) {
    server = opts.tls ? createHttpsServer(opts.tls) : createHttpServer();
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    const wss = new WebSocketServer({ server: server as import('node:http').Server, handleProtocols: (offered) => (offered.has('mqtt') ? 'mqtt' : false) });
    wss.on('connection', (ws) => onConnection(createWebSocketStream(ws)));
  } else {
    server = opts.tls ? createTlsServer(opts.tls, (s: Socket) => onConnection(s)) : createNetServer((s: Socket) => onConnection(s));
  }
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => res());
  });
  const port = (server.address() as { port: number }).port;
  let stopping: Promise<void> | undefined;
  return {
    port,
    connects,
    passwords: () => connects.map((c) => c.password).filter((p): p is string => p !== undefined),
    stop: () =>
      (stopping ??= new Promise<void>((res) => {
        broker.close(() => {
          for (const s of sockets) s.destroy();
          server.close(() => res());
        });
      })),
  };
}
