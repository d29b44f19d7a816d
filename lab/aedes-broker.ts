// An in-process aedes broker (MQTT 3.1.1; aedes has no MQTT 5) over plain TCP or TLS, and
// optionally over WebSockets too (ws, or wss with the same certificate), used by the lab launcher
// and by tests. aedes 1.x is ESM-only, hence the dynamic import.
//
// Its policy (anonymous clients, logins, a topic ACL) and its certificate can be changed while it
// runs (the lab's Lab controls): a new policy holds for every CONNECT, PUBLISH and delivery from
// then on; closeConnections() makes clients that are already connected meet it when they reconnect.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, WebSocketServer } from 'ws';

/** Who a topic check is about: the username it logged in with (undefined: anonymous) and its client id. */
export interface AclClient {
  username: string | undefined;
  clientId: string;
}

/**
 * A topic access control list. mayRead is asked for every message before it is delivered to a
 * subscriber (retained ones too), mayWrite for every PUBLISH and every will. As Mosquitto's
 * acl_file: a SUBSCRIBE is granted whatever the filter, and a '#' subscription then receives only
 * what mayRead allows; a PUBLISH that mayWrite refuses closes the client's connection (aedes' way;
 * MQTT 3.1.1 §3.3.5 lets a server either close or acknowledge and drop, which Mosquitto does).
 */
export interface TopicAcl {
  mayRead(client: AclClient, topic: string): boolean;
  mayWrite(client: AclClient, topic: string): boolean;
}

/** Who may connect and what they may read and write: read at every CONNECT, PUBLISH and delivery. */
export interface BrokerPolicy {
  /** Clients without a username are accepted. */
  allowAnonymous: boolean;
  /** Decides clients that send a username (the password as UTF-8 text). Undefined: every username is accepted. */
  authenticate?: (username: string, password: string) => boolean;
  /** Undefined or null: no ACL, every client reads and writes every topic (clients never write $SYS). */
  acl?: TopicAcl | null;
}

export interface AedesOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Decides clients that send a username. Omitted: every username is accepted. */
  authenticate?: (username: string, password: string) => boolean;
  /** Clients without a username. Default: true without `authenticate`, false with it. */
  allowAnonymous?: boolean;
  /** A topic ACL from the start (see TopicAcl). Omitted: none. */
  acl?: TopicAcl | null;
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
  /** A copy of the policy in force. */
  policy(): BrokerPolicy;
  /**
   * Changes the fields of the policy that `change` has (an `authenticate` or `acl` given as
   * undefined removes it) for every CONNECT, PUBLISH and delivery from now on. Connections already
   * open keep their login (a CONNECT is decided once): closeConnections() makes them reconnect.
   */
  setPolicy(change: Partial<BrokerPolicy>): void;
  /**
   * A TLS broker: serves `tls` to every new handshake on its TLS listener and its wss listener.
   * Throws (and keeps the old certificate) when the broker has no TLS or the key does not fit the
   * certificate. Connections already open keep the old one until they reconnect.
   */
  setCertificate(tls: { cert: string | Buffer; key: string | Buffer }): void;
  /** Closes every connection to the broker (MQTT over TCP, TLS, ws, wss); returns how many MQTT connections it closed. Clients that reconnect meet the policy and certificate in force. */
  closeConnections(): number;
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
  const policy: BrokerPolicy = {
    allowAnonymous: opts.allowAnonymous ?? !opts.authenticate,
    ...(opts.authenticate ? { authenticate: opts.authenticate } : {}),
    acl: opts.acl ?? null,
  };
  // The username each client logged in with (absent: anonymous), for the ACL.
  const usernames = new WeakMap<object, string>();
  const who = (client: { id: string }): AclClient => ({ username: usernames.get(client), clientId: client.id });
  const broker = await Aedes.createBroker({
    authenticate: (client, username, password, done) => {
      if (username === undefined) {
        return policy.allowAnonymous ? done(null, true) : done(authError(NOT_AUTHORIZED), false);
      }
      const ok = !policy.authenticate || policy.authenticate(username, password?.toString('utf8') ?? '');
      if (ok) usernames.set(client, username);
      return ok ? done(null, true) : done(authError(BAD_USERNAME_OR_PASSWORD), false);
    },
    authorizePublish: (client, packet, done) => {
      // aedes' default: $SYS is the broker's own (aedes#597).
      if (client && packet.topic.startsWith('$SYS/')) return done(new Error('$SYS/ topic is reserved'));
      if (client && policy.acl && !policy.acl.mayWrite(who(client), packet.topic)) return done(new Error(`not authorized to publish to ${packet.topic}`));
      return done(null);
    },
    authorizeForward: (client, packet) => (policy.acl && !policy.acl.mayRead(who(client), packet.topic) ? null : packet),
    // A null subscription is aedes' way to refuse one filter with SUBACK 0x80.
    ...(opts.authorizeSubscribe ? {
      authorizeSubscribe: (_client, sub, done) => done(null, opts.authorizeSubscribe!(sub.topic) ? sub : null),
    } : {}),
  });

  // Every socket (to close them at stop), and the MQTT connections among them (closeConnections).
  const sockets = new Set<Duplex>();
  const connections = new Set<Duplex>();
  const onConnection = (socket: Duplex) => {
    sockets.add(socket);
    connections.add(socket);
    socket.on('error', () => undefined); // a client that vanishes is not the broker's failure
    socket.once('close', () => {
      sockets.delete(socket);
      connections.delete(socket);
    });
    broker.handle(socket);
  };
  const servers: Server[] = [];
  const tlsServers: TlsServer[] = [];
  const host = opts.host ?? '127.0.0.1';
  const closeAll = () => Promise.all(servers.map((server) => new Promise<void>((res) => (server.listening ? server.close(() => res()) : res()))));
  let port = 0;
  let websocketPort: number | undefined;
  try {
    let server: Server;
    if (opts.tls) {
      const tls = createTlsServer({ cert: opts.tls.cert, key: opts.tls.key }, (s: Socket) => onConnection(s));
      tlsServers.push(tls);
      server = tls;
    } else {
      server = createNetServer((s: Socket) => onConnection(s));
    }
    servers.push(server);
    port = await listen(server, opts.port ?? 0, host);
    if (opts.websocket) {
      let web: HttpServer;
      if (opts.tls) {
        const https = createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key });
        tlsServers.push(https);
        web = https;
      } else {
        web = createHttpServer();
      }
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
  return {
    host,
    port,
    ...(websocketPort !== undefined ? { websocketPort } : {}),
    policy: () => ({ ...policy }),
    setPolicy(change) {
      if ('allowAnonymous' in change && typeof change.allowAnonymous === 'boolean') policy.allowAnonymous = change.allowAnonymous;
      if ('authenticate' in change) {
        if (change.authenticate) policy.authenticate = change.authenticate;
        else delete policy.authenticate;
      }
      if ('acl' in change) policy.acl = change.acl ?? null;
    },
    setCertificate(tls) {
      if (!tlsServers.length) throw new Error('this broker has no TLS listener');
      // Checked once before any listener changes: a key that does not fit throws here.
      createSecureContext({ cert: tls.cert, key: tls.key });
      for (const server of tlsServers) server.setSecureContext({ cert: tls.cert, key: tls.key });
    },
    closeConnections() {
      const n = connections.size;
      // The WebSocket listener's HTTP sockets too: a half-upgraded client must not keep the old state.
      for (const s of sockets) s.destroy();
      return n;
    },
    stop,
  };
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
