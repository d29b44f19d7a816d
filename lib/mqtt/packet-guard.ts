// Sits between the socket and the listener's session (lib/sniff/session.ts). A PUBLISH bigger than the limit is skipped as it streams
// past (never buffered whole) and acknowledged, so the broker's in-flight window stays open;
// any other oversize packet ends the connection. MQTT 5 brokers are also told the limit
// (Maximum Packet Size), but 3.1.1 cannot say it and a broker may ignore it.
import { Duplex } from 'node:stream';
import { readVarint } from './codec';

const PUBLISH = 3;
const PUBACK = 0x40;
const PUBREC = 0x50;

type State =
  | { k: 'header'; bytes: number[] }
  | { k: 'pass'; left: number }
  | { k: 'skip'; left: number }
  /** Oversize QoS 1/2 PUBLISH: read topic length, skip the topic, read the packet id, ack. */
  | { k: 'ack'; left: number; qos: number; head: number[]; topicLeft: number };

export interface GuardEvents {
  /** An oversize PUBLISH of this many bytes was dropped. */
  oversize(bytes: number): void;
}

export class PacketGuard extends Duplex {
  private state: State = { k: 'header', bytes: [] };

  constructor(
    /** The connection: a TCP or TLS socket, or a WebSocketStream (websocket.ts). */
    private readonly raw: Duplex,
    private readonly maxPacketBytes: number,
    private readonly events: GuardEvents,
  ) {
    super();
    raw.on('data', (chunk: Buffer) => {
      if (!this.feed(chunk)) raw.pause();
    });
    raw.on('end', () => this.push(null));
    raw.on('error', (err) => this.destroy(err));
    raw.on('close', () => this.destroy());
  }

  override _read(): void {
    this.raw.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.raw.write(chunk, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.raw.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.raw.destroy();
    cb(err);
  }

  /** Passes whole packets on in as few slices as possible; false when the reader is full. */
  private feed(chunk: Buffer): boolean {
    let ok = true;
    let run = -1; // start of the bytes of this chunk still to pass on
    let headerAt = -1; // where the current fixed header began in this chunk
    const flush = (end: number) => {
      if (run >= 0 && end > run) ok = this.push(chunk.subarray(run, end)) && ok;
      run = -1;
    };
    let i = 0;
    while (i < chunk.length && !this.destroyed) {
      const s = this.state;
      if (s.k === 'header') {
        if (s.bytes.length === 0) headerAt = i;
        s.bytes.push(chunk[i++]);
        const length = readVarint(s.bytes, 1);
        if (length === 'need-more') continue;
        if (length === 'invalid') return this.fail('malformed packet length');
        const len = length.value;
        const total = s.bytes.length + len;
        if (total <= this.maxPacketBytes) {
          if (headerAt < 0) {
            ok = this.push(Buffer.from(s.bytes)) && ok; // the header began in an earlier chunk
            run = i;
          } else if (run < 0) run = headerAt;
          this.state = len > 0 ? { k: 'pass', left: len } : { k: 'header', bytes: [] };
        } else {
          const type = s.bytes[0] >> 4;
          if (type !== PUBLISH) return this.fail(`oversize packet (type ${type}, ${total} bytes)`);
          if (headerAt >= 0) flush(headerAt);
          this.events.oversize(total);
          const qos = (s.bytes[0] >> 1) & 3;
          this.state = qos === 0 ? { k: 'skip', left: len } : { k: 'ack', left: len, qos, head: [], topicLeft: -1 };
        }
        headerAt = -1;
      } else if (s.k === 'pass' || s.k === 'skip') {
        const n = Math.min(s.left, chunk.length - i);
        if (s.k === 'pass' && run < 0) run = i;
        i += n;
        s.left -= n;
        if (s.left === 0) this.state = { k: 'header', bytes: [] };
      } else {
        i += this.ackStep(s, chunk, i);
        if (this.destroyed) return false;
      }
    }
    flush(this.state.k === 'header' && headerAt >= 0 ? headerAt : chunk.length);
    return ok;
  }

  /** One step through an oversize QoS>0 PUBLISH; returns the bytes consumed. */
  private ackStep(s: Extract<State, { k: 'ack' }>, chunk: Buffer, i: number): number {
    if (s.left === 0) {
      this.fail('malformed PUBLISH');
      return 0;
    }
    let n = 1;
    if (s.head.length < 2 || (s.topicLeft === 0 && s.head.length < 4)) {
      s.head.push(chunk[i]);
      if (s.head.length === 2) s.topicLeft = (s.head[0] << 8) | s.head[1];
    } else {
      n = Math.min(s.topicLeft, s.left, chunk.length - i);
      s.topicLeft -= n;
    }
    s.left -= n;
    if (s.head.length === 4) {
      // Through the writable side, so the ack never lands inside a packet the session is writing.
      if (!this.writableEnded) this.write(Buffer.from([s.qos === 1 ? PUBACK : PUBREC, 2, s.head[2], s.head[3]]));
      this.state = s.left > 0 ? { k: 'skip', left: s.left } : { k: 'header', bytes: [] };
    }
    return n;
  }

  private fail(reason: string): false {
    this.destroy(Object.assign(new Error(`broker sent a ${reason}`), { code: 'MQTTSEC_PACKET' }));
    return false;
  }
}
