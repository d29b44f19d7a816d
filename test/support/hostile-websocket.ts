// WebSocket servers on 127.0.0.1 that misbehave on purpose, each in one way a hostile or broken
// MQTT-over-WebSocket endpoint could: for test/hostile/websocket-hostile.test.ts. Each is a
// node:http server (port 0, loopback only) with the ws package's WebSocketServer on it, or a
// hand-made 101 where ws would refuse to send what we need. Every server counts the sockets it
// holds, so a test can check that the scanner left nothing open.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, WebSocketServer, type WebSocket } from 'ws';
import { garbage } from './hostile';
import { fakeBrokerParser, rawPublish } from './hostile-broker';

export interface WebSocketHostile {
  name: string;
  port: number;
  /** TCP connections the server holds open right now (plain HTTP and upgraded alike). */
  readonly openSockets: number;
  /** Connections it accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

/** RFC 6455 §4.2.2: the Sec-WebSocket-Accept answering a Sec-WebSocket-Key. */
export function acceptKey(key: string): string {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

/** A server frame header (FIN, unmasked) announcing `length` bytes of a binary message, in the
 *  64-bit length form (RFC 6455 §5.2). */
export function binaryFrameHeader(length: bigint): Buffer {
  const b = Buffer.alloc(10);
  b[0] = 0x82;
  b[1] = 127;
  b.writeBigUInt64BE(length, 2);
  return b;
}

interface Base {
  server: Server;
  timers: Set<NodeJS.Timeout>;
  /** Extra cleanup (a WebSocketServer, an aedes broker), run before the server closes. */
  onClose: Array<() => Promise<void> | void>;
}

/** An HTTP server on 127.0.0.1:0 that tracks its sockets; `setup` gives it its behaviour. */
async function serve(name: string, setup: (b: Base) => void | Promise<void>, onRequest?: Parameters<typeof createServer>[1]): Promise<WebSocketHostile> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  // A plain HTTP request (no upgrade) gets 426 unless the server says otherwise.
  const server = createServer(onRequest ?? ((_req, res) => res.writeHead(426, { Connection: 'close' }).end()));
  server.on('connection', (s: Socket) => {
    accepted++;
    sockets.add(s);
    s.on('error', () => undefined);
    s.once('close', () => sockets.delete(s));
  });
  const base: Base = { server, timers: new Set(), onClose: [] };
  await setup(base);
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  const port = (server.address() as { port: number }).port;
  let closing: Promise<void> | undefined;
  return {
    name,
    port,
    get openSockets() {
      return sockets.size;
    },
    get accepted() {
      return accepted;
    },
    close: () =>
      (closing ??= (async () => {
        for (const t of base.timers) clearInterval(t);
        for (const fn of base.onClose) await fn();
        for (const s of sockets) s.destroy();
        await new Promise<void>((res) => server.close(() => res()));
      })()),
  };
}

/** A WebSocketServer on the base's server; `onSocket` handles each upgraded WebSocket. */
function webSocketServer(b: Base, onSocket: (ws: WebSocket) => void, options: ConstructorParameters<typeof WebSocketServer>[0] = {}): WebSocketServer {
  const wss = new WebSocketServer({ server: b.server, ...options });
  wss.on('error', () => undefined);
  wss.on('connection', (ws) => {
    ws.on('error', () => undefined);
    onSocket(ws);
  });
  b.onClose.push(() => new Promise<void>((res) => {
    for (const ws of wss.clients) ws.terminate();
    wss.close(() => res());
  }));
  return wss;
}

const chooseMqtt = (offered: Set<string>) => (offered.has('mqtt') ? 'mqtt' : false);

/** A web server that is no MQTT broker and upgrades nothing: 404 on every path. */
export function notFoundServer(): Promise<WebSocketHostile> {
  return serve('notFound', () => undefined, (_req, res) => {
    res.writeHead(404, { Server: 'TestHTTP/1.0', 'Content-Type': 'text/plain', Connection: 'close' });
    res.end('not found\n');
  });
}

/** Upgrades any path (choosing "mqtt") and sends every binary message straight back. */
export function echoServer(): Promise<WebSocketHostile> {
  return serve('echo', (b) => {
    webSocketServer(b, (ws) => ws.on('message', (data: Buffer, isBinary) => ws.send(data, { binary: isBinary })), { handleProtocols: chooseMqtt });
  });
}

/** Upgrades, then answers every message with 256 random bytes (never a CONNACK's first byte). */
export function garbageServer(): Promise<WebSocketHostile> {
  return serve('garbage', (b) => {
    webSocketServer(b, (ws) => ws.on('message', () => ws.send(garbage(256), { binary: true })), { handleProtocols: chooseMqtt });
  });
}

/** Upgrades, then answers every message with a text frame. */
export function textServer(): Promise<WebSocketHostile> {
  return serve('text', (b) => {
    webSocketServer(b, (ws) => ws.on('message', () => ws.send('{"hello":"this is a text frame"}')), { handleProtocols: chooseMqtt });
  });
}

/** Upgrades (101, "mqtt") and then never sends a byte. */
export function silentServer(): Promise<WebSocketHostile> {
  return serve('silent', (b) => {
    webSocketServer(b, () => undefined, { handleProtocols: chooseMqtt });
  });
}

/**
 * A hand-made 101 (ws would never announce such a frame), then, once the client's first bytes
 * (its CONNECT) arrive, a binary frame header announcing `announced` bytes, then 1 KiB of payload
 * every 10 ms for as long as the connection lasts: a message that never ends.
 */
export function endlessFrameServer(name: string, announced: bigint): Promise<WebSocketHostile> {
  return handMadeUpgrade(name, (socket, b) => {
    socket.write(binaryFrameHeader(announced));
    const chunk = Buffer.alloc(1024, 0x41);
    const t = setInterval(() => {
      if (socket.destroyed || !socket.writable) return clearInterval(t);
      socket.write(chunk);
    }, 10);
    b.timers.add(t);
    socket.once('close', () => {
      clearInterval(t);
      b.timers.delete(t);
    });
  });
}

/** A hand-made 101, then `frame` (raw bytes, e.g. a frame with a reserved opcode) once the client wrote. */
export function rawFrameServer(name: string, frame: Buffer): Promise<WebSocketHostile> {
  return handMadeUpgrade(name, (socket) => socket.write(frame));
}

/** A server that answers the upgrade by hand (101, "mqtt" when offered) and calls `afterFirstData`
 *  once the client sent its first bytes inside the WebSocket. */
function handMadeUpgrade(name: string, afterFirstData: (socket: Duplex, b: Base) => void): Promise<WebSocketHostile> {
  return serve(name, (b) => {
    b.server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
      const key = req.headers['sec-websocket-key'];
      if (typeof key !== 'string') return void socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(/\s*,\s*/);
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n${offered.includes('mqtt') ? 'Sec-WebSocket-Protocol: mqtt\r\n' : ''}\r\n`,
      );
      // Upgraded sockets of an http server are half-open: close our side when the client closes its.
      socket.once('end', () => socket.end());
      socket.once('data', () => afterFirstData(socket, b));
    });
  });
}

/** What a server in front of a real broker answers about the subprotocol. */
export type SubprotocolAnswer = 'none' | 'offeredList';

/**
 * A real aedes broker (aedes 1.x, in process) behind a WebSocket on /mqtt whose upgrade answer
 * is broken in one way: 'none' answers 101 without a Sec-WebSocket-Protocol header whatever was
 * offered; 'offeredList' copies the whole offered list back ("mqtt, mqttv3.1"), as RabbitMQ
 * 3.10's Web MQTT does. Offered a single subprotocol (or none), both answer correctly.
 */
export async function brokerBehindBrokenUpgrade(answer: SubprotocolAnswer): Promise<WebSocketHostile & { retain(topic: string, payload: string): Promise<void> }> {
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker();
  const server = await serve(answer === 'none' ? 'noSubprotocol' : 'offeredList', (b) => {
    b.onClose.push(() => new Promise<void>((res) => broker.close(() => res())));
    const handleProtocols = answer === 'none' ? () => false as const : (offered: Set<string>) => [...offered].join(', ');
    webSocketServer(b, (ws) => {
      const stream = createWebSocketStream(ws);
      stream.on('error', () => undefined);
      broker.handle(stream);
    }, { path: '/mqtt', handleProtocols, maxPayload: 1024 * 1024 });
  });
  return Object.assign(server, {
    /** Stores a retained message in the broker, for a listener to hear when it subscribes. */
    retain: (topic: string, payload: string) =>
      new Promise<void>((res, rej) => broker.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 0, retain: true, dup: false }, (err) => (err ? rej(err) : res()))),
  });
}

/**
 * A fake MQTT 3.1.1 broker behind a WebSocket on /mqtt (choosing "mqtt"): answers CONNECT and
 * SUBSCRIBE like a real one (test/support/hostile-broker.ts fakeBrokerParser), then runs
 * `attack` on the WebSocket after the first SUBACK.
 */
export function webSocketFakeBroker(name: string, attack: (ws: WebSocket, timers: Set<NodeJS.Timeout>) => void): Promise<WebSocketHostile> {
  return serve(name, (b) => {
    webSocketServer(b, (ws) => {
      let attacked = false;
      ws.on('message', fakeBrokerParser((p) => ws.send(p, { binary: true }), () => {
        if (attacked) return;
        attacked = true;
        setImmediate(() => attack(ws, b.timers));
      }));
    }, { path: '/mqtt', handleProtocols: chooseMqtt, maxPayload: 1024 * 1024 });
  });
}

/** What a flood sent. */
export interface FloodStats {
  messages: number;
  bytes: number;
  packets: number;
  ms: number;
}

/**
 * Floods one WebSocket with QoS 0 PUBLISH packets on `topics` distinct topics (flood/0 ...),
 * as fast as the socket drains: a byte stream of whole packets cut into `chunkBytes` messages (so
 * packets span messages), at most 16 messages a tick and never more than 1 MiB queued. Stops when
 * the WebSocket closes or after `maxMs`.
 */
export function flood(ws: WebSocket, timers: Set<NodeJS.Timeout>, o: { topics: number; chunkBytes: number; maxMs: number }, done: (s: FloodStats) => void): void {
  const packets = Array.from({ length: o.topics }, (_, i) => rawPublish(Buffer.from(`flood/${i}`), Buffer.from(`{"n":${i},"t":21.5}`)));
  const stream = Buffer.concat(packets);
  const perCycle = packets.length;
  const chunks: Buffer[] = [];
  for (let at = 0; at < stream.length; at += o.chunkBytes) chunks.push(stream.subarray(at, at + o.chunkBytes));
  const started = Date.now();
  const stats: FloodStats = { messages: 0, bytes: 0, packets: 0, ms: 0 };
  let next = 0;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    clearTimeout(cap);
    timers.delete(cap);
    stats.ms = Date.now() - started;
    // Whole cycles of the stream, plus the packets of the part of a cycle sent.
    stats.packets = Math.floor(stats.bytes / stream.length) * perCycle + Math.round(((stats.bytes % stream.length) / stream.length) * perCycle);
    done(stats);
  };
  const cap = setTimeout(finish, o.maxMs);
  timers.add(cap);
  ws.once('close', finish);
  const pump = () => {
    if (finished) return;
    if (ws.readyState !== ws.OPEN) return finish();
    for (let i = 0; i < 16 && ws.bufferedAmount < 1024 * 1024; i++) {
      const c = chunks[next];
      next = (next + 1) % chunks.length;
      ws.send(c, { binary: true });
      stats.messages++;
      stats.bytes += c.length;
    }
    setImmediate(pump);
  };
  pump();
}
