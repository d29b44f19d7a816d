// Things on 127.0.0.1 that are not MQTT brokers, for the scanner's negative cases:
// a closed port, a tarpit that never answers, an HTTP server, a server that answers
// with garbage. All listen on ephemeral loopback ports.
import { createServer as createHttpServer } from 'node:http';
import { createServer, Server, Socket } from 'node:net';
import { freePort } from './ports';
import { garbage } from './hostile';

export interface Fixture {
  host: '127.0.0.1';
  port: number;
  close(): Promise<void>;
}

/** A port nothing listens on (bound then released; connecting gets RST). */
export function closedPort(): Promise<number> {
  return freePort('127.0.0.1');
}

/** Accepts connections and never writes a byte: a client must time out by itself. */
export function startTarpit(): Promise<Fixture> {
  return serve(createServer(), (socket) => socket.on('data', () => undefined));
}

/** Answers every request (an MQTT CONNECT parses as a bad request) like a web server. */
export function startHttpServer(): Promise<Fixture> {
  const server = createHttpServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>Not a broker</title><h1>It works</h1>');
  });
  // Garbage that is not HTTP: answer like nginx would, then hang up.
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<h1>400 Bad Request</h1>');
    else socket.destroy();
  });
  return serve(server);
}

/** Answers any data with 64 random bytes, then closes. */
export function startGarbageServer(): Promise<Fixture> {
  return serve(createServer(), (socket) => {
    socket.once('data', () => socket.end(garbage(64)));
    socket.on('error', () => undefined);
  });
}

async function serve(server: Server, onSocket?: (socket: Socket) => void): Promise<Fixture> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined); // peers reset on purpose in these tests
    socket.once('close', () => sockets.delete(socket));
    onSocket?.(socket);
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => res());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host: '127.0.0.1',
    port,
    close: () =>
      new Promise<void>((res) => {
        for (const s of sockets) s.destroy();
        server.close(() => res());
      }),
  };
}
