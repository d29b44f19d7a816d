// An in-process aedes broker (MQTT 3.1.1; aedes has no MQTT 5) over plain TCP or TLS, used by the
// lab launcher and by tests. aedes 1.x is ESM-only, hence the dynamic import.
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

export interface AedesOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Decides clients that send a username. Omitted: every username is accepted. */
  authenticate?: (username: string, password: string) => boolean;
  /** Clients without a username. Default: true without `authenticate`, false with it. */
  allowAnonymous?: boolean;
}

export interface AedesBroker {
  host: string;
  port: number;
  stop(): Promise<void>;
}

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
  });

  const sockets = new Set<Socket>();
  const onConnection = (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined); // a client that vanishes is not the broker's failure
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  };
  const server: Server = opts.tls ? createTlsServer({ cert: opts.tls.cert, key: opts.tls.key }, onConnection) : createNetServer(onConnection);
  const host = opts.host ?? '127.0.0.1';
  try {
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(opts.port ?? 0, host, () => res());
    });
  } catch (err) {
    await new Promise<void>((res) => broker.close(() => res()));
    throw err;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= new Promise<void>((res) => {
      broker.close(() => {
        for (const s of sockets) s.destroy();
        server.close(() => res());
      });
    });
    return stopping;
  };
  return { host, port, stop };
}
