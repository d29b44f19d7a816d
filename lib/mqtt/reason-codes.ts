// What each CONNACK code says about the login we sent: the one table the probe, the evidence,
// the findings and the reports read (docs/verdicts.md explains each outcome).
// Sources: OASIS MQTT 3.1.1 §3.2.2.3 (Table 3.1, Connect Return code values) and OASIS MQTT 5.0
// §3.2.2.2 (Connect Reason Code). Only "bad user name or password", "not authorized" and "bad
// authentication method" refuse the login; every other refusal is about the server, the
// connection or the client, and says nothing about whether the login works.

/** What a CONNACK code means for the login that was sent with the CONNECT. */
export type CodeCategory =
  /** The connection was accepted (with the login, if one was sent). */
  | 'accepted'
  /** The login itself was refused: wrong user name or password, or not allowed in. */
  | 'login-refused'
  /** The broker does not speak the MQTT version of the CONNECT. */
  | 'version-unsupported'
  /** The broker refused something of the connection, not the login (client id, keepalive, size). */
  | 'connection-refused'
  /** The broker cannot take clients now (unavailable, busy, shutting down). */
  | 'unavailable'
  /** The broker is limiting us (banned, quota, connection rate): further attempts make it worse. */
  | 'throttled'
  /** The broker sends the client elsewhere (MQTT 5 Server Reference). */
  | 'redirect'
  /** The broker found our packet malformed or not to its taste. */
  | 'protocol'
  /** A code the specification does not define for CONNACK. */
  | 'unknown';

/** One CONNACK code: its name in the specification and what it means for the login. */
export interface CodeMeaning {
  code: number;
  /** The specification's name, e.g. "Not authorized". */
  name: string;
  category: CodeCategory;
  /** One plain sentence for evidence and reports. */
  meaning: string;
}

type Entry = [name: string, category: CodeCategory, meaning: string];

/** Every MQTT 5 reason code's name (OASIS MQTT 5.0 §2.4, Table 2-6): CONNACK, SUBACK, PUBACK and
 *  DISCONNECT share it. */
const V5_NAMES: Record<number, string> = {
  0x00: 'Success',
  0x10: 'No matching subscribers',
  0x80: 'Unspecified error',
  0x81: 'Malformed packet',
  0x82: 'Protocol error',
  0x83: 'Implementation specific error',
  0x84: 'Unsupported protocol version',
  0x85: 'Client identifier not valid',
  0x86: 'Bad user name or password',
  0x87: 'Not authorized',
  0x88: 'Server unavailable',
  0x89: 'Server busy',
  0x8a: 'Banned',
  0x8b: 'Server shutting down',
  0x8c: 'Bad authentication method',
  0x8d: 'Keep alive timeout',
  0x8e: 'Session taken over',
  0x8f: 'Topic filter invalid',
  0x90: 'Topic name invalid',
  0x91: 'Packet identifier in use',
  0x93: 'Receive maximum exceeded',
  0x94: 'Topic alias invalid',
  0x95: 'Packet too large',
  0x96: 'Message rate too high',
  0x97: 'Quota exceeded',
  0x98: 'Administrative action',
  0x99: 'Payload format invalid',
  0x9a: 'Retain not supported',
  0x9b: 'QoS not supported',
  0x9c: 'Use another server',
  0x9d: 'Server moved',
  0x9e: 'Shared subscriptions not supported',
  0x9f: 'Connection rate exceeded',
  0xa1: 'Subscription identifiers not supported',
  0xa2: 'Wildcard subscriptions not supported',
};

/** The name of an MQTT 5 reason code, "Unknown code N" for one the specification does not define. */
export function v5ReasonName(code: number): string {
  return V5_NAMES[code] ?? `Unknown code ${code}`;
}

const NOT_THE_LOGIN = 'not a refusal of the login: whether the login works could not be told';

/** OASIS MQTT 3.1.1 §3.2.2.3, Table 3.1. Codes 6-255 are reserved. */
const V3: Record<number, Entry> = {
  0: ['Connection accepted', 'accepted', 'the broker accepted the connection'],
  1: ['Unacceptable protocol version', 'version-unsupported', 'the broker does not speak this MQTT version'],
  2: ['Identifier rejected', 'connection-refused', `the broker refused the client identifier, ${NOT_THE_LOGIN}`],
  3: ['Server unavailable', 'unavailable', `the broker cannot take clients now, ${NOT_THE_LOGIN}`],
  4: ['Bad user name or password', 'login-refused', 'the broker refused the user name or password'],
  5: ['Not authorized', 'login-refused', 'the broker refused the client: not authorized'],
};

/** OASIS MQTT 5.0 §3.2.2.2: the reason codes a CONNACK may carry. */
const V5: Record<number, Entry> = {
  0x00: [V5_NAMES[0x00], 'accepted', 'the broker accepted the connection'],
  0x80: [V5_NAMES[0x80], 'unknown', `the broker refused without saying why, ${NOT_THE_LOGIN}`],
  0x81: [V5_NAMES[0x81], 'protocol', `the broker could not parse our CONNECT, ${NOT_THE_LOGIN}`],
  0x82: [V5_NAMES[0x82], 'protocol', `the broker found a protocol error in our CONNECT, ${NOT_THE_LOGIN}`],
  0x83: [V5_NAMES[0x83], 'unknown', `the broker refused for a reason of its own, ${NOT_THE_LOGIN}`],
  0x84: [V5_NAMES[0x84], 'version-unsupported', 'the broker does not speak this MQTT version'],
  0x85: [V5_NAMES[0x85], 'connection-refused', `the broker refused the client identifier, ${NOT_THE_LOGIN}`],
  0x86: [V5_NAMES[0x86], 'login-refused', 'the broker refused the user name or password'],
  0x87: [V5_NAMES[0x87], 'login-refused', 'the broker refused the client: not authorized'],
  0x88: [V5_NAMES[0x88], 'unavailable', `the broker cannot take clients now, ${NOT_THE_LOGIN}`],
  0x89: [V5_NAMES[0x89], 'unavailable', `the broker is busy, ${NOT_THE_LOGIN}`],
  0x8a: [V5_NAMES[0x8a], 'throttled', `the broker has banned this client (often after failed logins), ${NOT_THE_LOGIN}`],
  0x8c: [V5_NAMES[0x8c], 'login-refused', 'the broker refused the authentication method or its data'],
  0x90: [V5_NAMES[0x90], 'protocol', `the broker refused the will topic, ${NOT_THE_LOGIN}`],
  0x95: [V5_NAMES[0x95], 'connection-refused', `the broker refused the size of our CONNECT, ${NOT_THE_LOGIN}`],
  0x97: [V5_NAMES[0x97], 'throttled', `the broker says a quota is used up, ${NOT_THE_LOGIN}`],
  0x99: [V5_NAMES[0x99], 'protocol', `the broker refused the will payload, ${NOT_THE_LOGIN}`],
  0x9a: [V5_NAMES[0x9a], 'protocol', `the broker does not support a retained will, ${NOT_THE_LOGIN}`],
  0x9b: [V5_NAMES[0x9b], 'protocol', `the broker does not support the will QoS, ${NOT_THE_LOGIN}`],
  0x9c: [V5_NAMES[0x9c], 'redirect', `the broker sends clients to another server, ${NOT_THE_LOGIN}`],
  0x9d: [V5_NAMES[0x9d], 'redirect', `the broker has moved to another server, ${NOT_THE_LOGIN}`],
  0x9f: [V5_NAMES[0x9f], 'throttled', `the broker limits how fast clients connect, ${NOT_THE_LOGIN}`],
};

/**
 * The meaning of a CONNACK code: `format` is the CONNACK's shape ('3.1.1': Connect Return code,
 * '5.0': Connect Reason Code). A code the specification does not define is category 'unknown'.
 */
export function codeMeaning(format: '3.1.1' | '5.0', code: number): CodeMeaning {
  const entry = (format === '5.0' ? V5 : V3)[code];
  if (entry) return { code, name: entry[0], category: entry[1], meaning: entry[2] };
  const where = format === '5.0' ? 'not a CONNACK reason code in MQTT 5.0' : 'reserved in MQTT 3.1.1';
  return { code, name: `Unknown code ${code}`, category: 'unknown', meaning: `code ${code} is ${where}, ${NOT_THE_LOGIN}` };
}

/** Every code of the table, for tests and docs/verdicts.md: [format, code, meaning]. */
export function allCodes(): Array<{ format: '3.1.1' | '5.0'; meaning: CodeMeaning }> {
  const list = (format: '3.1.1' | '5.0', t: Record<number, Entry>) => Object.keys(t).map((k) => ({ format, meaning: codeMeaning(format, Number(k)) }));
  return [...list('3.1.1', V3), ...list('5.0', V5)];
}

/** Categories after which more login attempts are pointless or harmful (default-login pacing stops). */
export const STOP_CATEGORIES: ReadonlySet<CodeCategory> = new Set(['unavailable', 'throttled', 'redirect', 'unknown', 'protocol', 'connection-refused']);

/**
 * A refusal that names a limit of the CONNECT itself, not the login: 3.1.1 code 2 (Identifier
 * rejected; also Mosquitto 2.0.12+ max_keepalive), aedes' code 6 (keepalive over its
 * keepaliveLimit), MQTT 5 0x85 (Client identifier not valid). Worth one retry with a short
 * keepalive and a plain client identifier.
 */
export function isLimitRefusal(format: '3.1.1' | '5.0', code: number): boolean {
  return format === '3.1.1' ? code === 2 || code === 6 : code === 0x85;
}
