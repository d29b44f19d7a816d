// The MQTT packets a listener needs after CONNECT: SUBSCRIBE and one QoS 1 PUBLISH out; SUBACK,
// PUBLISH, PUBACK, PUBREL, PINGRESP and DISCONNECT in. A few dozen lines instead of mqtt.js,
// which cost ~40 ms to load and a client object per broker. Decoders get one whole packet
// (PacketGuard bounds its size) and return null for anything malformed.
import { mqttString, readVarint, u16, varint } from '../mqtt-wire';

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

export function encodeDisconnect(): Buffer {
  return Buffer.from([0xe0, 0x00]);
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
