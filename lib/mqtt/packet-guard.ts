// Sits between the socket and the listener's session (lib/sniff/session.ts). Packets up to
// maxPacketBytes pass on whole, as bytes. A PUBLISH bigger than that is never buffered whole: as it
// streams past, the guard reads its topic name (at most maxTopicBytes), its packet id (and
// acknowledges it, so the broker's in-flight window stays open), skips MQTT 5 properties, keeps
// the payload's first headBytes and skips the rest; what it read goes on as one PublishHead
// object, in order with the bytes around it (the readable side is in object mode). A PUBLISH whose
// topic name is longer than maxTopicBytes is skipped whole (the oversize event). Any other packet
// bigger than maxPacketBytes ends the connection. So the memory one packet costs is bounded by
// maxPacketBytes + maxTopicBytes + headBytes, whatever the broker sends.
import { Duplex } from 'node:stream';
import { readVarint } from './codec';

const PUBLISH = 3;
const PUBACK = 0x40;
const PUBREC = 0x50;
/** Bytes of a topic name read from an oversize PUBLISH; a longer name is skipped unread. */
const DEFAULT_MAX_TOPIC_BYTES = 1024;
const DEFAULT_HEAD_BYTES = 1024;

/** What the guard read of a PUBLISH bigger than maxPacketBytes (OASIS MQTT 3.1.1 §3.3, 5.0 §3.3). */
export interface PublishHead {
  kind: 'publish-head';
  /** The topic name, decoded as UTF-8 (invalid bytes become U+FFFD); '' when a topic alias stands for it. */
  topic: string;
  qos: number;
  retain: boolean;
  /** QoS 1 and 2: the packet id, already acknowledged by the guard (PUBACK, PUBREC); else null. */
  id: number | null;
  /** The payload's first bytes: min(payloadBytes, headBytes) of them. */
  head: Buffer;
  /** The whole payload's length in bytes. */
  payloadBytes: number;
  /** The whole packet's length in bytes, fixed header included. */
  packetBytes: number;
}

export interface GuardEvents {
  /** An oversize PUBLISH of this many bytes was dropped unread (its topic name is longer than maxTopicBytes). */
  oversize(bytes: number): void;
}

export interface GuardOptions {
  /** MQTT 5: a PUBLISH has a property list after its packet id (skipped). Default false (3.1.1). */
  v5?: boolean;
  /** Payload bytes of an oversize PUBLISH kept in its PublishHead (default 1024). */
  headBytes?: number;
  /** The longest topic name, in bytes, read from an oversize PUBLISH (default 1024). */
  maxTopicBytes?: number;
}

type Step = 'topicLength' | 'topic' | 'id' | 'propertyLength' | 'properties' | 'payload';

/** An oversize PUBLISH being read: `left` bytes of its body still to come. */
interface Big {
  k: 'big';
  left: number;
  packetBytes: number;
  qos: number;
  retain: boolean;
  step: Step;
  /** Bytes of the field being read: the topic length, the packet id, the property length. */
  field: number[];
  /** The topic name's bytes; null when it is too long and skipped. */
  topic: Buffer | null;
  /** Bytes of the current run (topic name, properties) still to read or skip. */
  runLeft: number;
  id: number | null;
  head: Buffer;
  /** Bytes copied into `topic` or `head` so far. */
  got: number;
  payloadBytes: number;
}

type State = { k: 'header'; bytes: number[] } | { k: 'pass'; left: number } | { k: 'skip'; left: number } | Big;

export class PacketGuard extends Duplex {
  private state: State = { k: 'header', bytes: [] };
  private readonly v5: boolean;
  private readonly headBytes: number;
  private readonly maxTopicBytes: number;
  /** A push of a PublishHead found the reader full. */
  private full = false;

  constructor(
    /** The connection: a TCP or TLS socket, or a WebSocketStream (websocket.ts). */
    private readonly raw: Duplex,
    private readonly maxPacketBytes: number,
    private readonly events: GuardEvents,
    options: GuardOptions = {},
  ) {
    // Readable side: Buffers (whole packets, possibly split across chunks) and PublishHead objects.
    super({ readableObjectMode: true });
    this.v5 = options.v5 ?? false;
    this.headBytes = Math.max(0, options.headBytes ?? DEFAULT_HEAD_BYTES);
    this.maxTopicBytes = Math.max(0, options.maxTopicBytes ?? DEFAULT_MAX_TOPIC_BYTES);
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
          const qos = (s.bytes[0] >> 1) & 3;
          if (qos === 3) return this.fail('malformed PUBLISH (QoS 3)');
          if (headerAt >= 0) flush(headerAt);
          this.state = {
            k: 'big', left: len, packetBytes: total, qos, retain: (s.bytes[0] & 1) === 1, step: 'topicLength',
            field: [], topic: null, runLeft: 0, id: null, head: EMPTY, got: 0, payloadBytes: 0,
          };
        }
        headerAt = -1;
      } else if (s.k === 'pass' || s.k === 'skip') {
        const n = Math.min(s.left, chunk.length - i);
        if (s.k === 'pass' && run < 0) run = i;
        i += n;
        s.left -= n;
        if (s.left === 0) this.state = { k: 'header', bytes: [] };
      } else {
        i += this.bigStep(s, chunk, i);
        if (this.destroyed) return false;
      }
    }
    flush(this.state.k === 'header' && headerAt >= 0 ? headerAt : chunk.length);
    if (this.full) {
      this.full = false;
      ok = false;
    }
    return ok;
  }

  /** One step through an oversize PUBLISH; returns the bytes of `chunk` consumed from `i`. */
  private bigStep(s: Big, chunk: Buffer, i: number): number {
    if (s.step === 'payload') {
      const n = Math.min(s.head.length - s.got, chunk.length - i);
      chunk.copy(s.head, s.got, i, i + n);
      s.got += n;
      s.left -= n;
      if (s.got === s.head.length) this.headDone(s);
      return n;
    }
    if (s.left === 0) {
      this.fail('malformed PUBLISH (it ends inside its variable header)');
      return 0;
    }
    if (s.step === 'topic' || s.step === 'properties') {
      const n = Math.min(s.runLeft, chunk.length - i);
      if (s.topic) chunk.copy(s.topic, s.got, i, i + n);
      s.got += n;
      s.runLeft -= n;
      s.left -= n;
      if (s.runLeft === 0) this.next(s);
      return n;
    }
    // A one-byte step of a field: the topic length, the packet id, the property length.
    s.field.push(chunk[i]);
    s.left--;
    if (s.step === 'propertyLength') {
      const v = readVarint(s.field, 0);
      if (v === 'invalid') this.fail('malformed PUBLISH property length');
      else if (v !== 'need-more') {
        if (v.value > s.left) this.fail('malformed PUBLISH (its properties overrun it)');
        else this.next(s, v.value);
      }
    } else if (s.field.length === 2) {
      this.next(s, (s.field[0] << 8) | s.field[1]);
    }
    return 1;
  }

  /** The field or run of the current step is complete (`value`: the field's value): on to the next step. */
  private next(s: Big, value = 0): void {
    s.field = [];
    switch (s.step) {
      case 'topicLength':
        if (value + (s.qos > 0 ? 2 : 0) > s.left) return void this.fail('malformed PUBLISH (its topic name overruns it)');
        if (value > this.maxTopicBytes) this.events.oversize(s.packetBytes);
        s.topic = value > this.maxTopicBytes ? null : Buffer.alloc(value);
        s.got = 0;
        return this.enter(s, 'topic', value);
      case 'topic':
        return s.qos > 0 ? this.enter(s, 'id', 0) : this.afterId(s);
      case 'id':
        s.id = value;
        // Through the writable side, so the ack never lands inside a packet the session is writing.
        if (!this.writableEnded) this.write(Buffer.from([s.qos === 1 ? PUBACK : PUBREC, 2, value >> 8, value & 0xff]));
        return this.afterId(s);
      case 'propertyLength':
        return this.enter(s, 'properties', value);
      case 'properties':
        return this.startPayload(s);
      default:
        return undefined;
    }
  }

  private enter(s: Big, step: Step, runLeft: number): void {
    s.step = step;
    s.runLeft = runLeft;
    if ((step === 'topic' || step === 'properties') && runLeft === 0) this.next(s);
  }

  private afterId(s: Big): void {
    if (this.v5) return this.enter(s, 'propertyLength', 0);
    this.startPayload(s);
  }

  private startPayload(s: Big): void {
    s.payloadBytes = s.left;
    if (!s.topic) return this.skipRest(s); // a topic name too long to read: dropped
    s.step = 'payload';
    s.head = Buffer.alloc(Math.min(s.left, this.headBytes));
    s.got = 0;
    if (s.head.length === 0) this.headDone(s);
  }

  private headDone(s: Big): void {
    const head: PublishHead = {
      kind: 'publish-head',
      topic: s.topic!.toString('utf8'),
      qos: s.qos,
      retain: s.retain,
      id: s.id,
      head: s.head,
      payloadBytes: s.payloadBytes,
      packetBytes: s.packetBytes,
    };
    if (!this.push(head)) this.full = true;
    this.skipRest(s);
  }

  private skipRest(s: Big): void {
    this.state = s.left > 0 ? { k: 'skip', left: s.left } : { k: 'header', bytes: [] };
  }

  private fail(reason: string): false {
    this.destroy(Object.assign(new Error(`broker sent a ${reason}`), { code: 'MQTTSEC_PACKET' }));
    return false;
  }
}

const EMPTY = Buffer.alloc(0);
