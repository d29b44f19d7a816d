// A fake broker that completes CONNECT and SUBSCRIBE like a real one, then sends PUBLISH packets
// no real broker should: for the sniffer's hostile-broker tests. Loopback only.
import { createServer, type Socket } from 'node:net';

export interface HostileBroker {
  port: number;
  close(): Promise<void>;
}

function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

/** A QoS 0 PUBLISH with raw topic bytes (so they may be invalid UTF-8), for MQTT 3.1.1. */
export function rawPublish(topic: Buffer, payload: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from([topic.length >> 8, topic.length & 0xff]), topic, payload]);
  return Buffer.concat([Buffer.from([0x30]), varint(body.length), body]);
}

/**
 * The broker side of CONNECT and SUBSCRIBE, fed with whatever bytes arrive (a TCP chunk, a
 * WebSocket message; packets may span them): answers CONNECT (3.1.1 layout; an MQTT 5 client is
 * refused with 0x84 so it falls back), SUBSCRIBE (QoS 1 for every filter) and PINGREQ through
 * `write`, and calls `subscribed` after each SUBACK. Returns the function to feed.
 */
export function fakeBrokerParser(write: (b: Buffer) => void, subscribed: () => void): (chunk: Buffer) => void {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 2) {
      const type = buf[0] >> 4;
      let len = 0;
      let mult = 1;
      let i = 1;
      for (; i < 5 && i < buf.length; i++) {
        len += (buf[i] & 0x7f) * mult;
        mult *= 128;
        if ((buf[i] & 0x80) === 0) break;
      }
      const total = i + 1 + len;
      if (buf.length < total) return;
      const packet = buf.subarray(0, total);
      buf = buf.subarray(total);
      if (type === 1) {
        const level = packet[i + 1 + 6];
        write(level === 5 ? Buffer.from([0x20, 0x03, 0x00, 0x84, 0x00]) : Buffer.from([0x20, 0x02, 0x00, 0x00]));
      } else if (type === 8) {
        const id = packet.readUInt16BE(i + 1);
        // Grant QoS 1 to every filter: count them (2-byte length, name, 1 options byte each).
        const codes: number[] = [];
        for (let p = i + 3; p + 2 <= packet.length && codes.length < 16; ) {
          p += 2 + packet.readUInt16BE(p) + 1;
          codes.push(0x01);
        }
        write(Buffer.concat([Buffer.from([0x90, 2 + codes.length, id >> 8, id & 0xff]), Buffer.from(codes)]));
        subscribed();
      } else if (type === 12) {
        write(Buffer.from([0xd0, 0x00]));
      }
    }
  };
}

/** Answers CONNECT and SUBSCRIBE (fakeBrokerParser), then runs `attack`. */
export async function startHostileBroker(attack: (socket: Socket) => void): Promise<HostileBroker> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
    socket.on('data', fakeBrokerParser((b) => socket.write(b), () => setImmediate(() => attack(socket))));
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((res) => {
        for (const s of sockets) s.destroy();
        server.close(() => res());
      }),
  };
}
