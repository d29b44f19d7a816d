// Servers on 127.0.0.1 that misbehave on purpose, each in one way a real hostile or broken broker
// could: the scanner must end every probe within its timeout, with a verdict and evidence.
import { createServer, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';

export interface Hostile {
  name: string;
  port: number;
  close(): Promise<void>;
}

type Behaviour = (socket: Socket, timers: Set<NodeJS.Timeout>) => void;

/** A valid MQTT 3.1.1 CONNACK "accepted", which the slow server drips out. */
const CONNACK_OK = Buffer.from([0x20, 0x02, 0x00, 0x00]);

/** An MQTT 5 property holding a UTF-8 string (MQTT 5.0 §1.5.4: two-byte length, then the bytes). */
export function stringProperty(id: number, s: string): Buffer {
  const t = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.from([id, t.length >> 8, t.length & 0xff]), t]);
}

/** A User Property (0x26): a string pair. */
export function userProperty(k: string, v: string): Buffer {
  return Buffer.concat([stringProperty(0x26, k), stringProperty(0, v).subarray(1)]);
}

/** An MQTT 5 CONNACK with this reason code and these encoded properties. */
export function connack5(code: number, props: Buffer): Buffer {
  const varint = (n: number) => { const out: number[] = []; do { let b = n % 128; n = Math.floor(n / 128); if (n > 0) b |= 0x80; out.push(b); } while (n > 0); return Buffer.from(out); };
  const body = Buffer.concat([Buffer.from([0x00, code]), varint(props.length), props]);
  return Buffer.concat([Buffer.from([0x20]), varint(body.length), body]);
}

/** Every MQTT 5 property id, each once (user property many times), in one CONNACK. */
export function connackWithEveryProperty(): Buffer {
  const u8 = (id: number, v: number) => Buffer.from([id, v]);
  const u16 = (id: number, v: number) => Buffer.from([id, v >> 8, v & 0xff]);
  const u32 = (id: number, v: number) => { const b = Buffer.alloc(5); b[0] = id; b.writeUInt32BE(v, 1); return b; };
  const str = stringProperty;
  const props = Buffer.concat([
    u8(0x01, 1), u32(0x02, 60), str(0x03, 'text/plain'), str(0x08, 'resp/topic'), str(0x09, 'corr'),
    Buffer.from([0x0b, 0x85, 0x01]), u32(0x11, 3600), str(0x12, 'assigned-id'), u16(0x13, 30),
    str(0x15, 'SCRAM'), str(0x16, 'authdata'), u8(0x17, 1), u32(0x18, 5), u8(0x19, 1), str(0x1a, 'info'),
    str(0x1c, 'other.example'), str(0x1f, 'reason <b>html</b> \u00e9\u{1F600}'), u16(0x21, 10), u16(0x22, 5),
    u16(0x23, 1), u8(0x24, 1), u8(0x25, 0), ...Array.from({ length: 50 }, (_, i) => userProperty(`k${i}`, `v${i}`)),
    u32(0x27, 1024), u8(0x28, 1), u8(0x29, 0), u8(0x2a, 1),
  ]);
  return connack5(0x87, props);
}

/** Random bytes that can never start a CONNACK by chance (so the test cannot flake). */
export function garbage(n: number): Buffer {
  const b = randomBytes(n);
  if (b[0] === 0x20) b[0] = 0xde;
  return b;
}

export const BEHAVIOURS: Record<string, Behaviour> = {
  /** Accepts TCP and never speaks. */
  silent: () => undefined,
  /** Drips a valid CONNACK out at one byte a second. */
  slow: (socket, timers) => {
    socket.once('data', () => {
      socket.write(CONNACK_OK.subarray(0, 1));
      let i = 1;
      const t = setInterval(() => {
        if (i >= CONNACK_OK.length || socket.destroyed) return clearInterval(t);
        socket.write(CONNACK_OK.subarray(i, ++i));
      }, 1000);
      timers.add(t);
    });
  },
  /** Answers CONNECT with random bytes. */
  garbage: (socket) => socket.once('data', () => socket.write(garbage(256))),
  /** Announces a 256 MB CONNACK and then sends data forever (bounded by the test's lifetime). */
  huge: (socket, timers) => {
    socket.once('data', () => {
      socket.write(Buffer.from([0x20, 0xff, 0xff, 0xff, 0x7f]));
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      const t = setInterval(() => !socket.destroyed && socket.write(chunk), 5);
      timers.add(t);
    });
  },
  /** Sends half a CONNACK, then hangs up. */
  halfThenClose: (socket) => socket.once('data', () => socket.end(CONNACK_OK.subarray(0, 2))),
  /** Resets the connection as soon as CONNECT arrives. */
  reset: (socket) => socket.once('data', () => socket.resetAndDestroy()),
  /** Reads a TLS ClientHello (or anything) and never answers: a stalled TLS handshake. */
  tlsStall: (socket) => socket.on('data', () => undefined),
  /** MQTT 5 CONNACK "not authorized" carrying every property there is, some of them odd. */
  everyProperty: (socket) => socket.once('data', () => socket.write(connackWithEveryProperty())),
};

export async function startHostile(name: keyof typeof BEHAVIOURS): Promise<Hostile> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
    BEHAVIOURS[name](socket, timers);
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  const port = (server.address() as { port: number }).port;
  return {
    name,
    port,
    close: () =>
      new Promise<void>((res) => {
        for (const t of timers) clearInterval(t);
        for (const s of sockets) s.destroy();
        server.close(() => res());
      }),
  };
}
