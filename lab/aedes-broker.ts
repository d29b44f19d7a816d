// An in-process aedes broker (MQTT 3.1.1; aedes has no MQTT 5) over plain TCP or TLS, and
// optionally over WebSockets too (ws, or wss with the same certificate), used by the lab launcher
// and by tests. aedes 1.x is ESM-only, hence the dynamic import.
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, WebSocketServer } from 'ws';

export interface AedesOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Decides clients that send a username. Omitted: every username is accepted. */
  authenticate?: (username: string, password: string) => boolean;
  /** Clients without a username. Default: true without `authenticate`, false with it. */
  allowAnonymous?: boolean;
  /**
   * Decides each topic filter of a SUBSCRIBE (aedes' authorizeSubscribe handler): false refuses
   * that filter, and the SUBACK carries 0x80 Failure for it (OASIS MQTT 3.1.1 §3.9.3); the client
   * stays connected. Omitted: every filter is granted. E.g. `(f) => f !== '#' && f !== '$SYS/#'`
   * is what EMQX's default ACL does (it denies exactly those two filters).
   */
  authorizeSubscribe?: (filter: string) => boolean;
  /**
   * A second listener of the same broker for MQTT over WebSockets (OASIS MQTT 3.1.1 §6): ws, or
   * wss when `tls` is set. `port` 0 picks a free one; `path` (e.g. '/mqtt') is the only path that
   * upgrades (others get 400), omitted: every path. The "mqtt" subprotocol is chosen when offered.
   */
  websocket?: { port?: number; path?: string };
}

export interface AedesBroker {
  host: string;
  port: number;
  /** The WebSocket listener's port, with `websocket`. */
  websocketPort?: number;
  stop(): Promise<void>;
}

/** The largest WebSocket message the lab broker reads, in bytes (ws's default is 100 MiB). */
const MAX_WEBSOCKET_MESSAGE_BYTES = 1024 * 1024;

// CONNACK return codes (MQTT 3.1.1): 4 bad username or password, 5 not authorized.
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

function authError(returnCode: number) {
  return Object.assign(new Error(returnCode === NOT_AUTHORIZED ? 'not authorized' : 'bad username or password'), { returnCode });
}

export async function startAedes(opts: AedesOptions = {}): Promise<AedesBroker> {
  const { Aedes } = await import('aedes');
  const allowAnonymous = opts.allowAnonymous ?? !opts.authenticate;
  const broker = await Aedes.createBroker({
    authenticate: (_client, username, password, done) => {
      if (username === undefined) {
        return allowAnonymous ? done(null, true) : done(authError(NOT_AUTHORIZED), false);
      }
      const ok = !opts.authenticate || opts.authenticate(username, password?.toString('utf8') ?? '');
      return ok ? done(null, true) : done(authError(BAD_USERNAME_OR_PASSWORD), false);
    },
    // A null subscription is aedes' way to refuse one filter with SUBACK 0x80.
    ...(opts.authorizeSubscribe ? {
      authorizeSubscribe: (_client, sub, done) => done(null, opts.authorizeSubscribe!(sub.topic) ? sub : null),
    } : {}),
  });

  const sockets = new Set<Duplex>();
  const onConnection = (socket: Duplex) => {
    sockets.add(socket);
    socket.on('error', () => undefined); // a client that vanishes is not the broker's failure
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  };
  const servers: Server[] = [];
  const host = opts.host ?? '127.0.0.1';
  const closeAll = () => Promise.all(servers.map((server) => new Promise<void>((res) => (server.listening ? server.close(() => res()) : res()))));
  let port = 0;
  let websocketPort: number | undefined;
  try {
    const server: Server = opts.tls ? createTlsServer({ cert: opts.tls.cert, key: opts.tls.key }, (s: Socket) => onConnection(s)) : createNetServer((s: Socket) => onConnection(s));
    servers.push(server);
    port = await listen(server, opts.port ?? 0, host);
    if (opts.websocket) {
      const web = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }) : createHttpServer();
      servers.push(web);
      const wss = new WebSocketServer({
        server: web,
        ...(opts.websocket.path ? { path: opts.websocket.path } : {}),
        maxPayload: MAX_WEBSOCKET_MESSAGE_BYTES,
        handleProtocols: (offered) => (offered.has('mqtt') ? 'mqtt' : offered.has('mqttv3.1') ? 'mqttv3.1' : false),
      });
      wss.on('connection', (ws) => onConnection(createWebSocketStream(ws)));
      web.on('connection', (s: Socket) => {
        sockets.add(s);
        s.once('close', () => sockets.delete(s));
      });
      websocketPort = await listen(web, opts.websocket.port ?? 0, host);
    }
  } catch (err) {
    await closeAll();
    await new Promise<void>((res) => broker.close(() => res()));
    throw err;
  }

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= new Promise<void>((res) => {
      broker.close(() => {
        for (const s of sockets) s.destroy();
        void closeAll().then(() => res());
      });
    });
    return stopping;
  };
  return { host, port, ...(websocketPort !== undefined ? { websocketPort } : {}), stop };
}

/** Listens on host:port and resolves with the bound port; rejects with the listen error (EADDRINUSE). */
function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise<number>((res, rej) => {
    server.once('error', rej);
    server.listen(port, host, () => {
      server.off('error', rej);
      const address = server.address();
      res(typeof address === 'object' && address ? address.port : 0);
    });
  });
}
