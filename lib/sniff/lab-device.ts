// The lab ESP32 as data: topics, payload bytes, brokers and timing.
// firmware/esp32_mixed_security/lab_payloads.{h,cpp} builds the same bytes in C++ and
// test/firmware/ compares the two, so the board, the simulator and the sniffer cannot drift.
// Pure TypeScript: no Node-RED, no I/O.

export type BrokerRole = 'secure' | 'insecure';
export type SensorKind = 'dht' | 'ldr' | 'pir';
export type TopicKind = SensorKind | 'status';

export const LAB_TOPIC_ROOT = 'lab';
export const BROKER_PORTS: Readonly<Record<BrokerRole, number>> = { secure: 8883, insecure: 1883 };
export const PUBLISH_INTERVAL_MS = 3000;
/** PubSubClient can only publish at QoS 0. */
export const PUBLISH_QOS = 0;
export const PUBLISH_RETAIN = true;
/** The last will is sent by the broker, so it can be QoS 1. */
export const STATUS_WILL_QOS = 1;
export const STATUS_ONLINE = 'online';
export const STATUS_OFFLINE = 'offline';

/** DHT11 datasheet range; readings outside it (or NaN) are not published. */
export const DHT11_LIMITS = {
  temperature: { min: 0, max: 50 },
  humidity: { min: 20, max: 90 },
} as const;
/** ESP32 ADC1, 12 bit. */
export const ADC_MAX = 4095;
/** GPIOs of the DevKit wiring. */
export const PINS: Readonly<Record<SensorKind, number>> = { dht: 4, ldr: 34, pir: 27 };
/** Keeps "<id>-s" within the 23 bytes MQTT 3.1.1 guarantees for client ids. */
export const DEVICE_ID_MAX = 21;
const DEVICE_ID_RE = /^[A-Za-z0-9_-]{1,21}$/;

export const SENSOR_BROKER: Readonly<Record<SensorKind, BrokerRole>> = {
  dht: 'secure',
  ldr: 'secure',
  pir: 'insecure',
};

export interface SensorKindInfo {
  readonly kind: SensorKind;
  readonly part: string;
  readonly gpio: number;
  readonly broker: BrokerRole;
  /** MQTT subscription filter matching every lab device's topic for this sensor. */
  readonly topicFilter: string;
  /** Payload keys, in the order they are written. */
  readonly keys: readonly string[];
  readonly units: Readonly<Record<string, string>>;
  /** The exact byte shape of the payload. */
  readonly payloadPattern: RegExp;
}

export const SENSOR_KINDS: Readonly<Record<SensorKind, SensorKindInfo>> = {
  dht: {
    kind: 'dht', part: 'DHT11', gpio: PINS.dht, broker: 'secure',
    topicFilter: 'lab/secure/+/dht',
    keys: ['temperature', 'humidity'],
    units: { temperature: '°C', humidity: '%RH' },
    payloadPattern: /^\{"temperature":-?\d+\.\d,"humidity":-?\d+\.\d\}$/,
  },
  ldr: {
    kind: 'ldr', part: 'LDR + 10 kΩ divider', gpio: PINS.ldr, broker: 'secure',
    topicFilter: 'lab/secure/+/ldr',
    keys: ['raw', 'percent'],
    units: { raw: 'ADC counts (0-4095)', percent: '%' },
    payloadPattern: /^\{"raw":\d+,"percent":\d+\}$/,
  },
  pir: {
    kind: 'pir', part: 'HC-SR501', gpio: PINS.pir, broker: 'insecure',
    topicFilter: 'lab/insecure/+/pir',
    keys: ['motion'],
    units: { motion: 'boolean' },
    payloadPattern: /^\{"motion":(?:true|false)\}$/,
  },
};
export const STATUS_PAYLOAD_PATTERN = /^(?:online|offline)$/;

export function isValidDeviceId(id: string): boolean {
  return DEVICE_ID_RE.test(id);
}

function checkId(id: string): void {
  if (!isValidDeviceId(id)) throw new RangeError(`invalid lab device id: ${JSON.stringify(id)}`);
}

/** "esp32-" + the 6 MAC bytes; ESP.getEfuseMac() holds byte 0 in its lowest 8 bits. */
export function deviceIdFromMac(efuseMac: bigint): string {
  let hex = '';
  for (let i = 0n; i < 6n; i++) hex += ((efuseMac >> (8n * i)) & 0xffn).toString(16).padStart(2, '0');
  return `esp32-${hex}`;
}

/** One client id per connection, so the two brokers' logs are unambiguous. */
export function clientId(deviceId: string, broker: BrokerRole): string {
  checkId(deviceId);
  return `${deviceId}-${broker === 'secure' ? 's' : 'i'}`;
}

export function sensorTopic(kind: SensorKind, deviceId: string): string {
  checkId(deviceId);
  return `${LAB_TOPIC_ROOT}/${SENSOR_BROKER[kind]}/${deviceId}/${kind}`;
}

export function statusTopic(broker: BrokerRole, deviceId: string): string {
  checkId(deviceId);
  return `${LAB_TOPIC_ROOT}/${broker}/${deviceId}/status`;
}

export interface LabTopic {
  topic: string;
  broker: BrokerRole;
  kind: TopicKind;
  qos: number;
  retain: boolean;
}

/** Every topic one device publishes, secure broker first. */
export function deviceTopics(deviceId: string): LabTopic[] {
  const t = (broker: BrokerRole, kind: TopicKind, topic: string): LabTopic =>
    ({ topic, broker, kind, qos: PUBLISH_QOS, retain: PUBLISH_RETAIN });
  return [
    t('secure', 'dht', sensorTopic('dht', deviceId)),
    t('secure', 'ldr', sensorTopic('ldr', deviceId)),
    t('secure', 'status', statusTopic('secure', deviceId)),
    t('insecure', 'pir', sensorTopic('pir', deviceId)),
    t('insecure', 'status', statusTopic('insecure', deviceId)),
  ];
}

/** Splits a lab topic; null for anything else. */
export function parseLabTopic(topic: string): { broker: BrokerRole; deviceId: string; kind: TopicKind } | null {
  const m = /^lab\/(secure|insecure)\/([^/]+)\/(dht|ldr|pir|status)$/.exec(topic);
  if (!m || !isValidDeviceId(m[2])) return null;
  const broker = m[1] as BrokerRole;
  const kind = m[3] as TopicKind;
  if (kind !== 'status' && SENSOR_BROKER[kind] !== broker) return null;
  return { broker, deviceId: m[2], kind };
}

/** Lab sensor kind from a topic, or failing that from the payload's exact shape. */
export function recognizeSensor(topic: string, payload?: string): SensorKind | null {
  const parsed = parseLabTopic(topic);
  if (parsed && parsed.kind !== 'status') return parsed.kind;
  if (payload === undefined) return null;
  for (const info of Object.values(SENSOR_KINDS)) if (info.payloadPattern.test(payload)) return info.kind;
  return null;
}

// ---- payload bytes ----
// Numbers with one decimal: n = round-half-away-from-zero(v * 10) with the product taken in
// IEEE double (C++: lround(v * 10.0)), printed as integer digits "<n/10>.<n%10>", "-" only
// when n < 0. No printf("%f"): newlib, glibc and V8 differ on ties.

/** |v| at most this (so tenths fit a 32-bit long on the ESP32). */
export const TENTHS_MAX_ABS = 1e6;

export function formatTenths(v: number): string | null {
  if (!Number.isFinite(v) || Math.abs(v) > TENTHS_MAX_ABS) return null;
  const scaled = v * 10;
  const n = Math.round(Math.abs(scaled)); // ties up on |x| = away from zero, as lround
  if (n === 0) return '0.0';
  return `${scaled < 0 ? '-' : ''}${Math.floor(n / 10)}.${n % 10}`;
}

export function isValidDht(temperature: number, humidity: number): boolean {
  const { temperature: t, humidity: h } = DHT11_LIMITS;
  // NaN fails every comparison, so it is rejected here too.
  return temperature >= t.min && temperature <= t.max && humidity >= h.min && humidity <= h.max;
}

export function buildDhtPayload(temperature: number, humidity: number): string | null {
  if (!isValidDht(temperature, humidity)) return null;
  return `{"temperature":${formatTenths(temperature)},"humidity":${formatTenths(humidity)}}`;
}

/** Integer percent of full scale, rounded half up in integer arithmetic. */
export function lightPercent(raw: number): number | null {
  if (!Number.isInteger(raw) || raw < 0 || raw > ADC_MAX) return null;
  return Math.floor((raw * 200 + ADC_MAX) / (2 * ADC_MAX));
}

export function buildLightPayload(raw: number): string | null {
  const percent = lightPercent(raw);
  return percent === null ? null : `{"raw":${raw},"percent":${percent}}`;
}

export function buildMotionPayload(motion: boolean): string {
  return `{"motion":${motion ? 'true' : 'false'}}`;
}

export function buildStatusPayload(online: boolean): string {
  return online ? STATUS_ONLINE : STATUS_OFFLINE;
}

// ---- readings and messages (what the simulator publishes) ----

export interface DhtReading { kind: 'dht'; temperature: number; humidity: number }
export interface LightReading { kind: 'ldr'; raw: number }
export interface MotionReading { kind: 'pir'; motion: boolean }
export type SensorReading = DhtReading | LightReading | MotionReading;

export function buildReadingPayload(r: SensorReading): string | null {
  switch (r.kind) {
    case 'dht': return buildDhtPayload(r.temperature, r.humidity);
    case 'ldr': return buildLightPayload(r.raw);
    case 'pir': return buildMotionPayload(r.motion);
  }
}

export interface LabMessage {
  broker: BrokerRole;
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
}

/** The message the board sends for a reading, or null when the board would drop it. */
export function readingMessage(deviceId: string, r: SensorReading): LabMessage | null {
  const payload = buildReadingPayload(r);
  if (payload === null) return null;
  const broker = SENSOR_BROKER[r.kind];
  return { broker, topic: sensorTopic(r.kind, deviceId), payload, qos: PUBLISH_QOS, retain: PUBLISH_RETAIN };
}

/** online: published after connect; offline: the last will. */
export function statusMessage(broker: BrokerRole, deviceId: string, online: boolean): LabMessage {
  return {
    broker, topic: statusTopic(broker, deviceId), payload: buildStatusPayload(online),
    qos: online ? PUBLISH_QOS : STATUS_WILL_QOS, retain: true,
  };
}

/** Returns a number in [0, 1), like Math.random. */
export type Rng = () => number;

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
const between = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));

/**
 * A plausible reading, deterministic for a given rng. With `previous` the value drifts a
 * little from it (a room, not noise); without, it starts anywhere in a room's range.
 */
export function simulateReading(kind: 'dht', rng: Rng, previous?: DhtReading): DhtReading;
export function simulateReading(kind: 'ldr', rng: Rng, previous?: LightReading): LightReading;
export function simulateReading(kind: 'pir', rng: Rng, previous?: MotionReading): MotionReading;
export function simulateReading(kind: SensorKind, rng: Rng, previous?: SensorReading): SensorReading;
export function simulateReading(kind: SensorKind, rng: Rng, previous?: SensorReading): SensorReading {
  const prev = previous?.kind === kind ? previous : undefined;
  switch (kind) {
    case 'dht': {
      // DHT11: temperature in tenths, humidity in whole percent; kept as tenths to stay exact.
      const p = prev as DhtReading | undefined;
      const tenths = p ? clamp(Math.round(p.temperature * 10) + between(rng, -3, 3), 150, 350) : between(rng, 180, 320);
      const hum = p ? clamp(Math.round(p.humidity) + between(rng, -1, 1), 30, 80) : between(rng, 35, 75);
      return { kind, temperature: tenths / 10, humidity: hum };
    }
    case 'ldr': {
      const p = prev as LightReading | undefined;
      return { kind, raw: p ? clamp(p.raw + between(rng, -120, 120), 0, ADC_MAX) : between(rng, 300, 3800) };
    }
    case 'pir': {
      // HC-SR501 holds its output high for a few seconds after a trigger.
      const p = prev as MotionReading | undefined;
      return { kind, motion: rng() < (p?.motion ? 0.6 : 0.15) };
    }
  }
}
