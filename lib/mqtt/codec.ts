// MQTT CONNECT encoding and a strict, bounded CONNACK decoder. We decode CONNACK ourselves so a
// hostile or non-MQTT peer can never make us buffer more than a few bytes or misread garbage;
// we encode CONNECT ourselves so a sweep never loads mqtt-packet and its streams (~20 ms).
import type { MqttVersion } from '../types';
import { codeMeaning } from './reason-codes';
export { v5ReasonName } from './reason-codes';

export interface ConnectRequest {
  version: MqttVersion;
  clientId: string;
  username?: string;
  password?: string;
  keepalive?: number;
  /** MQTT 5 only: the largest packet we accept (Maximum Packet Size property). */
  maximumPacketSize?: number;
}

/** CONNECT with a clean session and no will (spec 3.1); 5.0 adds Session Expiry Interval 0. */
export function encodeConnect(req: ConnectRequest): Buffer {
  const v5 = req.version === '5.0';
  if (req.password !== undefined && req.username === undefined) {
    // 3.1.1 forbids it (MQTT-3.1.2-22); brokers of both versions hang up without a word.
    throw new Error('Username is required to use password');
  }
  const parts: Buffer[] = [
    mqttString('MQTT', 'protocol name'),
    Buffer.from([v5 ? 5 : 4, (req.username !== undefined ? 0x80 : 0) | (req.password !== undefined ? 0x40 : 0) | 0x02]),
    u16(req.keepalive ?? 30, 'keepalive'),
  ];
  // Properties: Session Expiry Interval (0x11) = 0, then Maximum Packet Size (0x27) if given.
  if (v5) {
    const max = req.maximumPacketSize;
    if (max === undefined) parts.push(Buffer.from([0x05, 0x11, 0, 0, 0, 0]));
    else {
      if (!Number.isInteger(max) || max < 1 || max > 0xffffffff) throw new Error(`maximum packet size ${max} is out of range`);
      const props = Buffer.from([0x0a, 0x11, 0, 0, 0, 0, 0x27, 0, 0, 0, 0]);
      props.writeUInt32BE(max, 7);
      parts.push(props);
    }
  }
  parts.push(mqttString(req.clientId, 'client id'));
  if (req.username !== undefined) parts.push(mqttString(req.username, 'username'));
  if (req.password !== undefined) parts.push(mqttBinary(Buffer.from(req.password, 'utf8'), 'password'));
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([0x10]), varint(body.length), body]);
}

export function u16(n: number, what: string): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new Error(`${what} ${n} does not fit in two bytes`);
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

export function mqttString(s: string, what: string): Buffer {
  return mqttBinary(Buffer.from(s, 'utf8'), what);
}

function mqttBinary(b: Buffer, what: string): Buffer {
  if (b.length > 0xffff) throw new Error(`${what} is ${b.length} bytes; MQTT allows at most 65535`);
  return Buffer.concat([u16(b.length, what), b]);
}

export function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

/** DISCONNECT with reason 0 (valid for both 3.1.1 and 5.0: 5.0 allows an empty body). */
export const DISCONNECT = Buffer.from([0xe0, 0x00]);

export interface Connack {
  /** Which layout the broker answered with: 2-byte body (3.1.1) or with properties (5.0). */
  format: MqttVersion;
  sessionPresent: boolean;
  code: number;
  properties: Record<string, unknown>;
}

export type ConnackParse =
  | { state: 'need-more' }
  | { state: 'ok'; connack: Connack; length: number }
  | { state: 'invalid'; reason: string };

/** A real CONNACK is tiny; anything announcing more is not one we will read. */
const MAX_CONNACK_LENGTH = 4096;

export function parseConnack(buf: Buffer): ConnackParse {
  if (buf.length === 0) return { state: 'need-more' };
  if (buf[0] !== 0x20) return { state: 'invalid', reason: `first byte 0x${hex2(buf[0])} is not a CONNACK (0x20)` };
  const len = readVarint(buf, 1);
  if (len === 'need-more') return { state: 'need-more' };
  if (len === 'invalid') return { state: 'invalid', reason: 'malformed remaining length' };
  if (len.value < 2) return { state: 'invalid', reason: `CONNACK body of ${len.value} bytes is too short` };
  if (len.value > MAX_CONNACK_LENGTH) return { state: 'invalid', reason: `CONNACK announces ${len.value} bytes` };
  const start = 1 + len.size;
  const end = start + len.value;
  if (buf.length < end) return { state: 'need-more' };
  const flags = buf[start];
  if (flags > 1) return { state: 'invalid', reason: `CONNACK flags 0x${hex2(flags)} have reserved bits set` };
  const code = buf[start + 1];
  if (len.value === 2) {
    return { state: 'ok', length: end, connack: { format: '3.1.1', sessionPresent: flags === 1, code, properties: {} } };
  }
  const props = decodeProperties(buf.subarray(start + 2, end));
  if ('error' in props) return { state: 'invalid', reason: props.error };
  return { state: 'ok', length: end, connack: { format: '5.0', sessionPresent: flags === 1, code, properties: props.value } };
}

export type Varint = { value: number; size: number } | 'need-more' | 'invalid';

/**
 * The variable byte integer at `offset` (the Remaining Length of a fixed header, a property
 * length): at most 4 bytes, OASIS MQTT 3.1.1 §2.2.3 / 5.0 §1.5.5. Takes a Buffer or the bytes of a
 * header read so far (number[]); 'need-more' when they end first, 'invalid' after 4 bytes that all
 * say "more".
 */
export function readVarint(buf: ArrayLike<number>, offset: number): Varint {
  let value = 0;
  let mult = 1;
  for (let i = 0; i < 4; i++) {
    if (offset + i >= buf.length) return 'need-more';
    const b = buf[offset + i];
    value += (b & 0x7f) * mult;
    if ((b & 0x80) === 0) return { value, size: i + 1 };
    mult *= 128;
  }
  return 'invalid';
}

type PropType = 'byte' | 'u16' | 'u32' | 'varint' | 'utf8' | 'binary' | 'pair';

// Every MQTT 5 property (spec 2.2.2.2): a hostile broker may send any of them in a CONNACK.
const PROPERTIES: Record<number, [string, PropType]> = {
  0x01: ['payloadFormatIndicator', 'byte'],
  0x02: ['messageExpiryInterval', 'u32'],
  0x03: ['contentType', 'utf8'],
  0x08: ['responseTopic', 'utf8'],
  0x09: ['correlationData', 'binary'],
  0x0b: ['subscriptionIdentifier', 'varint'],
  0x11: ['sessionExpiryInterval', 'u32'],
  0x12: ['assignedClientIdentifier', 'utf8'],
  0x13: ['serverKeepAlive', 'u16'],
  0x15: ['authenticationMethod', 'utf8'],
  0x16: ['authenticationData', 'binary'],
  0x17: ['requestProblemInformation', 'byte'],
  0x18: ['willDelayInterval', 'u32'],
  0x19: ['requestResponseInformation', 'byte'],
  0x1a: ['responseInformation', 'utf8'],
  0x1c: ['serverReference', 'utf8'],
  0x1f: ['reasonString', 'utf8'],
  0x21: ['receiveMaximum', 'u16'],
  0x22: ['topicAliasMaximum', 'u16'],
  0x23: ['topicAlias', 'u16'],
  0x24: ['maximumQoS', 'byte'],
  0x25: ['retainAvailable', 'byte'],
  0x26: ['userProperties', 'pair'],
  0x27: ['maximumPacketSize', 'u32'],
  0x28: ['wildcardSubscriptionAvailable', 'byte'],
  0x29: ['subscriptionIdentifiersAvailable', 'byte'],
  0x2a: ['sharedSubscriptionAvailable', 'byte'],
};

/** Longest string we keep from a property; the rest is cut so evidence stays readable. */
const MAX_PROPERTY_TEXT = 256;

function decodeProperties(body: Buffer): { value: Record<string, unknown> } | { error: string } {
  const len = readVarint(body, 0);
  if (typeof len === 'string' || len.size + len.value !== body.length) {
    return { error: 'CONNACK property length does not match the packet' };
  }
  const out: Record<string, unknown> = {};
  let pos = len.size;
  while (pos < body.length) {
    const id = body[pos++];
    const def = PROPERTIES[id];
    if (!def) return { error: `unknown CONNACK property 0x${hex2(id)}` };
    const [name, type] = def;
    const read = readProperty(body, pos, type);
    if (!read) return { error: `truncated CONNACK property ${name}` };
    pos = read.next;
    if (type === 'pair') {
      const list = (out[name] as Array<[string, string]> | undefined) ?? [];
      if (list.length < 32) list.push(read.value as [string, string]);
      out[name] = list;
    } else {
      out[name] = read.value;
    }
  }
  return { value: out };
}

function readProperty(b: Buffer, pos: number, type: PropType): { value: unknown; next: number } | null {
  const need = (n: number) => pos + n <= b.length;
  switch (type) {
    case 'byte':
      return need(1) ? { value: b[pos], next: pos + 1 } : null;
    case 'u16':
      return need(2) ? { value: b.readUInt16BE(pos), next: pos + 2 } : null;
    case 'u32':
      return need(4) ? { value: b.readUInt32BE(pos), next: pos + 4 } : null;
    case 'varint': {
      const v = readVarint(b, pos);
      return typeof v === 'string' ? null : { value: v.value, next: pos + v.size };
    }
    case 'utf8':
    case 'binary': {
      if (!need(2)) return null;
      const n = b.readUInt16BE(pos);
      if (!need(2 + n)) return null;
      const raw = b.subarray(pos + 2, pos + 2 + n);
      const value = type === 'utf8' ? clip(raw.toString('utf8')) : raw.subarray(0, MAX_PROPERTY_TEXT).toString('hex');
      return { value, next: pos + 2 + n };
    }
    case 'pair': {
      const k = readProperty(b, pos, 'utf8');
      const v = k && readProperty(b, k.next, 'utf8');
      return k && v ? { value: [k.value, v.value], next: v.next } : null;
    }
  }
}

function clip(s: string): string {
  return s.length > MAX_PROPERTY_TEXT ? `${s.slice(0, MAX_PROPERTY_TEXT)}…` : s;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** The specification's name of a CONNACK's code ("Not authorized"), from lib/mqtt/reason-codes.ts. */
export function connackReason(c: Connack): string {
  return codeMeaning(c.format, c.code).name;
}

export type ConnackVerdict = 'accepted' | 'rejected' | 'version-unsupported' | 'error';

/**
 * What a CONNACK code says about the login we sent (lib/mqtt/reason-codes.ts): 'rejected' only
 * for a refusal of the login itself (3.1.1: 4, 5; 5.0: 0x86, 0x87, 0x8C); every other refusal is
 * 'error' (the server, the connection or the client; see codeMeaning for which).
 */
export function connackVerdict(c: Connack): ConnackVerdict {
  const { category } = codeMeaning(c.format, c.code);
  return category === 'accepted' ? 'accepted' : category === 'login-refused' ? 'rejected' : category === 'version-unsupported' ? 'version-unsupported' : 'error';
}

// ---- After CONNECT: the packets a listener needs ----
// The packets a listener needs after CONNECT: SUBSCRIBE and one QoS 1 PUBLISH out; SUBACK,
// PUBLISH, PUBACK, PUBREL, PINGRESP and DISCONNECT in. A few dozen lines instead of mqtt.js,
// which cost ~40 ms to load and a client object per broker. Decoders get one whole packet
// (PacketGuard bounds its size) and return null for anything malformed.

export const PINGREQ = Buffer.from([0xc0, 0x00]);

export type Incoming =
  | { type: 'publish'; topic: string; payload: Buffer; qos: number; retain: boolean; id: number | null }
  | { type: 'suback'; id: number; codes: number[] }
  | { type: 'puback'; id: number; code: number }
  | { type: 'pubrel'; id: number }
  | { type: 'pingresp' }
  | { type: 'disconnect'; code: number | null }
  | { type: 'other'; packetType: number };

function packet(first: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([first]), varint(body.length), body]);
}

/** SUBSCRIBE (packet type 8, flags 0b0010) with one filter; MQTT 5 adds an empty property list. */
export function encodeSubscribe(id: number, filter: string, qos: 0 | 1 | 2, v5: boolean): Buffer {
  return packet(0x82, Buffer.concat([u16(id, 'packet id'), ...(v5 ? [Buffer.from([0])] : []), mqttString(filter, 'topic filter'), Buffer.from([qos])]));
}

/** A non-retained QoS 1 PUBLISH. */
export function encodePublish(id: number, topic: string, payload: Buffer, v5: boolean): Buffer {
  return packet(0x32, Buffer.concat([mqttString(topic, 'topic'), u16(id, 'packet id'), ...(v5 ? [Buffer.from([0])] : []), payload]));
}

/** PUBACK (QoS 1), PUBREC (QoS 2) and PUBCOMP (after PUBREL): a packet id and nothing else. */
export function encodeAck(type: 'puback' | 'pubrec' | 'pubcomp', id: number): Buffer {
  const first = type === 'puback' ? 0x40 : type === 'pubrec' ? 0x50 : 0x70;
  return Buffer.from([first, 2, id >> 8, id & 0xff]);
}


/** The fixed header of the packet at the start of buf: null = need more, 'invalid' = malformed. */
export function frame(buf: Buffer): { total: number } | null | 'invalid' {
  if (buf.length < 2) return null;
  const len = readVarint(buf, 1);
  if (len === 'need-more') return null;
  if (len === 'invalid') return 'invalid';
  return { total: 1 + len.size + len.value };
}

/** One whole packet (fixed header included); null when it is malformed. */
export function decode(p: Buffer, v5: boolean): Incoming | null {
  const len = readVarint(p, 1);
  if (typeof len === 'string') return null;
  const body = p.subarray(1 + len.size);
  const type = p[0] >> 4;
  switch (type) {
    case 3:
      return decodePublish(p[0] & 0x0f, body, v5);
    case 9: {
      if (body.length < 3) return null;
      const at = v5 ? skipProperties(body, 2) : 2;
      return at === null || at >= body.length ? null : { type: 'suback', id: body.readUInt16BE(0), codes: [...body.subarray(at)] };
    }
    case 4:
      if (body.length < 2) return null;
      return { type: 'puback', id: body.readUInt16BE(0), code: body.length > 2 ? body[2] : 0 };
    case 6:
      return body.length < 2 ? null : { type: 'pubrel', id: body.readUInt16BE(0) };
    case 13:
      return { type: 'pingresp' };
    case 14:
      return { type: 'disconnect', code: body.length > 0 ? body[0] : null };
    default:
      return { type: 'other', packetType: type };
  }
}

function decodePublish(flags: number, body: Buffer, v5: boolean): Incoming | null {
  const qos = (flags >> 1) & 3;
  if (qos === 3 || body.length < 2) return null;
  const topicEnd = 2 + body.readUInt16BE(0);
  let at: number | null = topicEnd + (qos > 0 ? 2 : 0);
  if (at > body.length) return null;
  const id = qos > 0 ? body.readUInt16BE(topicEnd) : null;
  if (v5) at = skipProperties(body, at);
  if (at === null) return null;
  // Invalid UTF-8 becomes U+FFFD: the topic is shown, never trusted.
  const topic = body.toString('utf8', 2, topicEnd);
  return { type: 'publish', topic, payload: body.subarray(at), qos, retain: (flags & 1) === 1, id };
}

/** Past an MQTT 5 property list that starts at `at`; null when it overruns the packet. */
function skipProperties(b: Buffer, at: number): number | null {
  const len = readVarint(b, at);
  if (typeof len === 'string') return null;
  const end = at + len.size + len.value;
  return end <= b.length ? end : null;
}
