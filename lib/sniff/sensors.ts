// Which sensor a topic's data comes from: the lab's own devices (lib/sniff/lab-device.ts) first, then
// words in the topic and JSON keys of other devices, then "a series of numbers".
import { parseLabTopic, recognizeSensor, SENSOR_KINDS } from './lab-device';
import { isSensitiveKey } from './sensitive';

export type SensorValues = Record<string, number | boolean>;

export interface Recognized {
  sensor: string | null;
  values?: SensorValues;
}

const KIND_WORDS: Array<[string, RegExp]> = [
  ['temperature', /^(?:temp|temperature|tmp|celsius|fahrenheit)\d*$/],
  ['humidity', /^(?:hum|humidity|humid|rh)\d*$/],
  ['light', /^(?:light|lux|ldr|illuminance|brightness|luminosity)\d*$/],
  ['motion', /^(?:motion|pir|occupancy|presence|movement)\d*$/],
  ['pressure', /^(?:pressure|press|baro|barometer|hpa)\d*$/],
  ['co2', /^(?:co2|eco2)\d*$/],
  ['gas', /^(?:gas|voc|tvoc|smoke)\d*$/],
  ['voltage', /^(?:voltage|volt|volts|vbat|vcc|battery|batt)\d*$/],
  ['power', /^(?:power|watt|watts|energy|kwh|current|amps?)\d*$/],
  ['moisture', /^(?:moisture|soil)\d*$/],
  ['distance', /^(?:distance|ultrasonic|sonar)\d*$/],
];
const MAX_VALUES = 16;
const MAX_KEY_CHARS = 48;
const NUMBER = /^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?$/;
/** "21.5 °C", "45%", "3.3V": a number with a unit. */
const NUMBER_WITH_UNIT = /^(-?\d+(?:\.\d+)?)\s*(?:°\s*[CF]|%|[a-zA-Z/%°]{1,6})$/;
const BOOLEAN_WORDS: Record<string, boolean> = { true: true, false: false, on: true, off: false };

/** Sensor kinds named by a topic's words ("home/livingRoomTemp" -> temperature). Call once per topic. */
export function topicKinds(topic: string): string[] {
  return kindsOf(words(topic));
}

/** What the payload of a topic says; `text` is null for binary payloads. */
export function recognize(topic: string, text: string | null, kindsFromTopic: string[], complete: boolean): Recognized {
  const trimmed = text?.trim() ?? '';
  const lab = recognizeSensor(topic, text ?? undefined);
  if (lab) {
    const json = complete ? parseObject(trimmed) : null;
    const values = json ? pick(json, SENSOR_KINDS[lab].keys) : undefined;
    return values ? { sensor: lab, values } : { sensor: lab };
  }
  if (parseLabTopic(topic)?.kind === 'status') return { sensor: null };
  if (text === null) return { sensor: label(kindsFromTopic) };

  const json = complete ? parseObject(trimmed) : null;
  if (json) {
    const values = flatten(json);
    const kinds = mergeKinds(kindsFromTopic, kindsOf(Object.keys(values).flatMap(words)));
    const sensor = label(kinds) ?? (Object.keys(values).length ? 'numeric' : null);
    return Object.keys(values).length ? { sensor, values } : { sensor };
  }
  const scalar = scalarValue(trimmed, kindsFromTopic);
  if (scalar === null) return { sensor: label(kindsFromTopic) };
  if (typeof scalar === 'boolean' && !kindsFromTopic.length) return { sensor: null };
  const key = kindsFromTopic.length === 1 ? kindsFromTopic[0] : 'value';
  return { sensor: label(kindsFromTopic) ?? 'numeric', values: { [key]: scalar } };
}

function scalarValue(s: string, kinds: string[]): number | boolean | null {
  if (NUMBER.test(s)) return finite(Number(s));
  const m = NUMBER_WITH_UNIT.exec(s);
  if (m) return finite(Number(m[1]));
  const word = BOOLEAN_WORDS[s.toLowerCase()];
  return word !== undefined && kinds.length ? word : null;
}

function finite(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

function parseObject(s: string): Record<string, unknown> | null {
  if (!s.startsWith('{')) return null;
  try {
    const v: unknown = JSON.parse(s);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function pick(obj: Record<string, unknown>, keys: readonly string[]): SensorValues | undefined {
  const out: SensorValues = {};
  for (const k of keys) {
    const v = obj[k];
    if (typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  return Object.keys(out).length ? out : undefined;
}

/** Numbers and booleans of an object and its child objects ("AM2301.Temperature"), bounded. */
function flatten(obj: Record<string, unknown>): SensorValues {
  const out: SensorValues = {};
  let n = 0;
  const visit = (o: Record<string, unknown>, prefix: string, depth: number) => {
    for (const [k, v] of Object.entries(o)) {
      if (n >= MAX_VALUES) return;
      if (isSensitiveKey(k) || k.length > MAX_KEY_CHARS) continue;
      const key = prefix + k;
      const value = typeof v === 'string' && NUMBER.test(v.trim()) ? finite(Number(v)) : v;
      if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') {
        out[key] = value;
        n++;
      } else if (depth < 1 && value && typeof value === 'object' && !Array.isArray(value)) {
        visit(value as Record<string, unknown>, `${key}.`, depth + 1);
      }
    }
  };
  visit(obj, '', 0);
  return out;
}

/** Lower-case words of a topic or key: split on separators and camelCase. */
function words(s: string): string[] {
  return s
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

function kindsOf(ws: string[]): string[] {
  return KIND_WORDS.filter(([, re]) => ws.some((w) => re.test(w))).map(([kind]) => kind);
}

function mergeKinds(a: string[], b: string[]): string[] {
  return KIND_WORDS.map(([k]) => k).filter((k) => a.includes(k) || b.includes(k));
}

function label(kinds: string[]): string | null {
  return kinds.length ? kinds.join('+') : null;
}
