// Runs the ecosystem table (lib/sniff/ecosystems.ts) over what the listener hears: which
// ecosystem and role each topic has, what its payload says (bounded readers), and the summary of
// the devices behind a broker's topics (TopicsInfo.devices). Pure: no I/O.
//
// Work and memory are bounded: a topic is matched once, when the collector admits it (about 60
// rows of a few levels each); a payload reader runs on a topic at most READS_PER_TOPIC times and
// on at most READ_BUDGET_BYTES of payload per listener; what a reader keeps is a handful of
// numbers and at most MAX_COMMANDS names of MAX_TOPIC_CHARS each.
import type { CommandTopic, DeviceExposure, EcosystemExposure, TopicDevice, TopicItem, TopicRole } from '../types';
import { brokerText, isPlainObject } from '../common';
import { ECOSYSTEMS, type Ecosystem, type PayloadReader, type TopicRule } from './ecosystems';
import { screenSensitive, sensitiveKey, type SensitiveKind } from './sensitive';

/** Payload bytes the readers of one listener may read in all (JSON.parse, protobuf decode). */
export const READ_BUDGET_BYTES = 4 * 1024 * 1024;
/** A reader runs on a topic's messages until one tells something, at most this often. */
const READS_PER_TOPIC = 3;
const MAX_COMMANDS = 4;
const MAX_TOPIC_CHARS = 256;
const MAX_ID_CHARS = 128;
/** Named in a summary: inventory topics, command topics per ecosystem. */
const SHOWN_INVENTORY = 5;
const SHOWN_COMMANDS = 8;
/** Home Assistant discovery keys that name a topic the entity acts on, full and abbreviated
 *  (command_topic/cmd_t, brightness_command_topic/bri_cmd_t, set_position_topic/set_pos_t, ...). */
const HA_COMMAND_KEYS = /^(?:command_topic|cmd_t|.+_command_topic|.+_cmd_t|set_position_topic|set_pos_t|tilt_command_topic|tilt_cmd_t)$/;
const ROLES: readonly TopicRole[] = ['inventory', 'command', 'location', 'telemetry', 'status'];
const BY_ID = new Map(ECOSYSTEMS.map((e) => [e.id, e]));

/** One row of the table that matches a topic, and what its '{name}' levels captured. */
export interface TopicMatch {
  ecosystem: Ecosystem;
  rule: TopicRule;
  captures: Record<string, string>;
}

/** What readers found in a topic's payloads (merged over the messages they read). */
export interface PayloadFacts {
  commands?: string[];
  location?: true;
  encrypted?: true;
  devices?: number;
  devicesAtLeast?: true;
  metrics?: number;
  /** A device id the payload gives (a discovery config's device identifiers). */
  deviceId?: string;
  /** Secret kinds a decoded payload holds (a Sparkplug metric named like a password with a value). */
  sensitive?: SensitiveKind[];
}

interface CompiledRule {
  ecosystem: Ecosystem;
  rule: TopicRule;
  levels: string[];
}

const COMPILED: CompiledRule[] = ECOSYSTEMS.flatMap((ecosystem) => ecosystem.rules.map((rule) => ({ ecosystem, rule, levels: rule.pattern.split('/') })));

/**
 * The rows that may describe `topic` (as the broker sent it), in table order: every anchored row
 * that matches up to and including the first row without an anchor (which always applies). Which
 * anchored row applies is decided over all topics (resolveDevices). [] for no ecosystem.
 */
export function matchTopic(topic: string): TopicMatch[] {
  const levels = topic.split('/');
  const out: TopicMatch[] = [];
  for (const c of COMPILED) {
    const captures = matchLevels(c, levels);
    if (!captures) continue;
    out.push({ ecosystem: c.ecosystem, rule: c.rule, captures });
    if (!c.rule.anchor) break;
  }
  return out;
}

function matchLevels(c: CompiledRule, levels: string[]): Record<string, string> | null {
  const p = c.levels;
  const rest = p[p.length - 1] === '#';
  if (rest ? levels.length < p.length - 1 : levels.length !== p.length) return null;
  const captures: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const want = p[i];
    if (want === '#') break;
    const got = levels[i];
    if (want === '+') {
      if (got === '') return null;
    } else if (want.startsWith('{')) {
      const name = want.slice(1, -1);
      if (got === '' || (c.rule.levels?.[name] && !c.rule.levels[name].test(got))) return null;
      captures[name] = got;
    } else if (want !== got) return null;
  }
  return captures;
}

/** Counts what the readers of one listener read, so a flood of big payloads costs a bounded amount. */
export class PayloadReading {
  private spent = 0;

  /**
   * Reads one payload of a topic whose candidate rows are `matches`, when one of them names a
   * reader and the topic's earlier readings (`facts`, `reads` so far) left room. `payload` is the
   * whole payload when `complete`, else its head. Returns the merged facts (or `facts` unchanged).
   * Never throws.
   */
  read(matches: TopicMatch[], topic: string, payload: Buffer, complete: boolean, facts: PayloadFacts | undefined, reads: number): PayloadFacts | undefined {
    const reader = matches.find((m) => m.rule.reads)?.rule.reads;
    if (!reader || reads >= READS_PER_TOPIC || (facts && Object.keys(facts).length)) return facts;
    if (this.spent + payload.length > READ_BUDGET_BYTES) return facts;
    this.spent += payload.length;
    try {
      const found = READERS[reader](payload, complete, topic);
      return found && Object.keys(found).length ? { ...facts, ...found } : facts;
    } catch {
      return facts;
    }
  }
}

type Reader = (payload: Buffer, complete: boolean, topic: string) => PayloadFacts | null;

const READERS: Record<PayloadReader, Reader> = {
  // Zigbee2MQTT bridge/devices: a JSON array of devices, the coordinator among them.
  'z2m-devices': (payload, complete) => {
    const text = payload.toString('utf8');
    if (complete) {
      const list = parseJson(text);
      if (!Array.isArray(list)) return null;
      return { devices: list.filter((d) => d && typeof d === 'object' && (d as { type?: unknown }).type !== 'Coordinator').length };
    }
    // The head of a list too big to read: each device has one ieee_address.
    const seen = count(text, '"ieee_address"') - count(text, '"type":"Coordinator"');
    return seen > 0 ? { devices: seen, devicesAtLeast: true } : null;
  },
  // Home Assistant MQTT discovery: command topics (abbreviated or not, "~" is the base topic),
  // the device's identifiers.
  'ha-config': (payload, complete) => {
    if (!complete) return null;
    const config = parseJson(payload.toString('utf8'));
    if (!isPlainObject(config)) return null;
    const base = typeof config['~'] === 'string' ? config['~'] : null;
    const commands: string[] = [];
    for (const [key, value] of Object.entries(config)) {
      if (commands.length >= MAX_COMMANDS) break;
      if (typeof value !== 'string' || !HA_COMMAND_KEYS.test(key)) continue;
      const topic = base === null ? value : value.startsWith('~') ? base + value.slice(1) : value.endsWith('~') ? value.slice(0, -1) + base : value;
      // A payload's words, shown: screened like a sample (a URL login in a topic field is masked).
      const shown = brokerText(screenSensitive(topic).masked, { maxLength: MAX_TOPIC_CHARS });
      if (shown && !commands.includes(shown)) commands.push(shown);
    }
    const device = isPlainObject(config.device) ? config.device : isPlainObject(config.dev) ? config.dev : null;
    const ids = device ? device.identifiers ?? device.ids ?? device.name : undefined;
    const first = Array.isArray(ids) ? ids[0] : ids;
    const deviceId = typeof first === 'string' || typeof first === 'number' ? brokerText(screenSensitive(String(first)).masked, { maxLength: MAX_ID_CHARS }) : undefined;
    return { ...(commands.length ? { commands } : {}), ...(deviceId ? { deviceId } : {}) };
  },
  // Tasmota's discovery config names the device by MAC in its topic and by its topic ("t") in
  // the payload: the topic is the id its other topics use, so one device counts once.
  'tasmota-discovery': (payload, complete) => {
    if (!complete) return null;
    const config = parseJson(payload.toString('utf8'));
    if (!isPlainObject(config) || typeof config.t !== 'string' || config.t === '') return null;
    const deviceId = brokerText(screenSensitive(config.t).masked, { maxLength: MAX_ID_CHARS });
    return { deviceId, commands: [brokerText(`cmnd/${deviceId}/POWER`, { maxLength: MAX_TOPIC_CHARS })] };
  },
  // OwnTracks: location, transition and waypoint(s) messages carry lat/lon; an encrypted payload
  // is {"_type":"encrypted","data":…} (owntracks.org/booklet/tech/json).
  owntracks: (payload, complete) => {
    if (!complete) return null;
    const m = parseJson(payload.toString('utf8'));
    if (!isPlainObject(m)) return null;
    if (m._type === 'encrypted') return { encrypted: true };
    if (isPosition(m)) return { location: true };
    const list = m._type === 'waypoints' && Array.isArray(m.waypoints) ? m.waypoints : [];
    return list.some((w) => isPlainObject(w) && isPosition(w)) ? { location: true } : null;
  },
  // Sparkplug B NBIRTH/DBIRTH: the protobuf payload (Eclipse Tahu's sparkplug-payload) declares
  // every metric of the node or device.
  'sparkplug-birth': (payload, complete) => {
    if (!complete) return null;
    const decoded = sparkplug().decodePayload(payload) as { metrics?: unknown[] };
    if (!Array.isArray(decoded.metrics)) return null;
    // A string metric named like a secret ("Properties/Api Token") with a value: the payload
    // carries it (the sample is binary, so it is never printed).
    const sensitive = new Set<SensitiveKind>();
    for (const m of decoded.metrics) {
      if (!isPlainObject(m) || typeof m.name !== 'string' || typeof m.value !== 'string' || m.value === '') continue;
      const kind = sensitiveKey(m.name.split('/').pop() ?? '');
      if (kind && kind !== 'coordinates') sensitive.add(kind);
    }
    return { metrics: decoded.metrics.length, ...(sensitive.size ? { sensitive: [...sensitive] } : {}) };
  },
  // Homie 3/4: a property whose $settable is "true" takes commands on <property>/set.
  'homie-settable': (payload, complete, topic) => {
    if (!complete || payload.toString('utf8').trim() !== 'true') return null;
    return { commands: [brokerText(`${topic.slice(0, -'/$settable'.length)}/set`, { maxLength: MAX_TOPIC_CHARS })] };
  },
};

type SparkplugB = NonNullable<ReturnType<typeof import('sparkplug-payload').get>>;
let sparkplugB: SparkplugB | null = null;
/** Loaded on first use: most scans never see a Sparkplug birth (load time about 15 ms). */
function sparkplug(): SparkplugB {
  if (!sparkplugB) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const codec = (require('sparkplug-payload') as typeof import('sparkplug-payload')).get('spBv1.0');
    if (!codec) throw new Error('sparkplug-payload has no spBv1.0 codec');
    sparkplugB = codec;
  }
  return sparkplugB;
}

function isPosition(m: Record<string, unknown>): boolean {
  return typeof m.lat === 'number' && typeof m.lon === 'number' && Number.isFinite(m.lat) && Number.isFinite(m.lon) && Math.abs(m.lat) <= 90 && Math.abs(m.lon) <= 180;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}


function count(text: string, needle: string): number {
  let n = 0;
  for (let i = text.indexOf(needle); i >= 0 && n < 100_000; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}

/** A topic as resolveDevices reads it: its key, its candidate rows and its readers' facts. */
export interface HeardTopic {
  topic: string;
  matches: TopicMatch[];
  facts?: PayloadFacts;
}

/**
 * Decides each topic's ecosystem over everything heard (an anchored row applies only when another
 * topic of its ecosystem confirmed the anchor) and returns the TopicDevice of each topic that has
 * one, keyed by the topic as sent.
 */
export function resolveDevices(heard: Iterable<HeardTopic>): Map<string, TopicDevice> {
  const list = [...heard];
  const anchors = new Set<string>();
  for (const h of list) {
    const sure = h.matches.find((m) => !m.rule.anchor);
    if (!sure) continue;
    for (const [name, value] of Object.entries(sure.captures)) anchors.add(anchorKey(sure.ecosystem.id, name, value));
  }
  const out = new Map<string, TopicDevice>();
  for (const h of list) {
    const m = h.matches.find((c) => !c.rule.anchor || anchors.has(anchorKey(c.ecosystem.id, c.rule.anchor, c.captures[c.rule.anchor] ?? '')));
    if (m) out.set(h.topic, describe(m, h.facts));
  }
  return out;
}

function anchorKey(ecosystem: string, name: string, value: string): string {
  return `${ecosystem}\u0000${name}\u0000${value}`;
}

function describe(m: TopicMatch, facts: PayloadFacts | undefined): TopicDevice {
  const fromTopic = (m.rule.device ?? []).map((name) => m.captures[name]).filter((v) => v !== undefined);
  const id = facts?.deviceId ?? (fromTopic.length ? brokerText(fromTopic.join('/'), { maxLength: MAX_ID_CHARS }) : undefined);
  const commandTopic = m.ecosystem.commandTopic?.(m.captures, m.rule.role) ?? null;
  const d: TopicDevice = { ecosystem: m.ecosystem.id, role: m.rule.role };
  if (id) d.id = id;
  if (facts?.commands?.length) d.commands = facts.commands.slice(0, MAX_COMMANDS);
  if (commandTopic) d.commandTopic = brokerText(commandTopic, { maxLength: MAX_TOPIC_CHARS });
  if (facts?.location) d.location = true;
  if (facts?.encrypted) d.encrypted = true;
  if (typeof facts?.devices === 'number') d.devices = facts.devices;
  if (facts?.devicesAtLeast) d.devicesAtLeast = true;
  if (typeof facts?.metrics === 'number') d.metrics = facts.metrics;
  return d;
}

/** Bytes a TopicDevice keeps, for the collector's memory bound. */
export function deviceBytes(d: TopicDevice): number {
  let n = 96 + 2 * (d.id?.length ?? 0) + 2 * (d.commandTopic?.length ?? 0);
  for (const c of d.commands ?? []) n += 2 * c.length + 16;
  return n;
}

/**
 * The devices behind a broker's topics, from its items (TopicItem.device and .sensitive): one
 * EcosystemExposure per recognised ecosystem (table order), totals over all topics. Items from
 * outside this process (a node's input) are read defensively: a malformed `device` is ignored.
 * Returns null when the items show no ecosystem, no position and no secret.
 */
export function summarizeDevices(items: readonly TopicItem[]): DeviceExposure | null {
  const per = new Map<string, Summing>();
  let locations = 0;
  let secrets = 0;
  const secretKinds = new Set<string>();
  for (const it of items) {
    if (!it || typeof it.topic !== 'string') continue;
    const kinds = Array.isArray(it.sensitive) ? it.sensitive.filter((k): k is string => typeof k === 'string') : [];
    const coordinates = kinds.includes('coordinates');
    const secretOnes = kinds.filter((k) => k !== 'coordinates');
    if (secretOnes.length) {
      secrets++;
      for (const k of secretOnes) secretKinds.add(k);
    }
    const d = validDevice(it.device);
    const isLocation = (d?.location === true && d.role === 'location') || coordinates;
    if (isLocation) locations++;
    if (!d) continue;
    const eco = BY_ID.get(d.ecosystem)!;
    let s = per.get(eco.id);
    if (!s) per.set(eco.id, (s = new Summing()));
    s.add(it.topic, d, isLocation);
  }
  if (!per.size && !locations && !secrets) return null;
  const ecosystems = ECOSYSTEMS.filter((e) => per.has(e.id)).map((e) => per.get(e.id)!.result(e));
  return {
    ecosystems,
    devices: ecosystems.reduce((n, e) => n + e.devices, 0),
    commandCount: ecosystems.reduce((n, e) => n + e.commandCount, 0),
    inventoryCount: ecosystems.reduce((n, e) => n + e.inventoryCount, 0),
    locations,
    secrets,
    secretKinds: [...secretKinds].sort(),
  };
}

function validDevice(v: unknown): TopicDevice | null {
  if (!isPlainObject(v) || typeof v.ecosystem !== 'string' || !BY_ID.has(v.ecosystem)) return null;
  if (typeof v.role !== 'string' || !ROLES.includes(v.role as TopicRole)) return null;
  return v as unknown as TopicDevice;
}

class Summing {
  private topics = 0;
  private readonly ids = new Set<string>();
  private listed = 0;
  private listedAtLeast = false;
  private readonly inventory: string[] = [];
  private readonly commands = new Map<string, CommandTopic['source']>();
  private locations = 0;
  private encrypted = 0;

  add(topic: string, d: TopicDevice, isLocation: boolean): void {
    this.topics++;
    if (typeof d.id === 'string') this.ids.add(d.id);
    if (typeof d.devices === 'number' && Number.isFinite(d.devices) && d.devices > this.listed) {
      this.listed = d.devices;
      this.listedAtLeast = d.devicesAtLeast === true;
    }
    if (d.role === 'inventory') this.inventory.push(topic);
    if (d.role === 'command') this.commands.set(topic, 'seen');
    for (const c of Array.isArray(d.commands) ? d.commands : []) if (typeof c === 'string' && !this.commands.has(c)) this.commands.set(c, 'announced');
    if (typeof d.commandTopic === 'string' && !this.commands.has(d.commandTopic)) this.commands.set(d.commandTopic, 'layout');
    if (isLocation) this.locations++;
    if (d.role === 'location' && d.encrypted === true) this.encrypted++;
  }

  result(e: Ecosystem): EcosystemExposure {
    // A payload named as 'announced' or 'layout' first may be seen later: 'seen' wins.
    const order: Record<CommandTopic['source'], number> = { seen: 0, announced: 1, layout: 2 };
    const commands = [...this.commands].map(([topic, source]) => ({ topic, source })).sort((a, b) => order[a.source] - order[b.source] || (a.topic < b.topic ? -1 : 1));
    const inventory = [...this.inventory].sort();
    const fromInventory = this.listed > this.ids.size;
    return {
      id: e.id,
      name: e.name,
      reveals: e.reveals,
      reference: e.reference,
      topics: this.topics,
      devices: fromInventory ? this.listed : this.ids.size,
      ...(fromInventory && this.listedAtLeast ? { devicesAtLeast: true } : {}),
      inventory: inventory.slice(0, SHOWN_INVENTORY),
      inventoryCount: inventory.length,
      commands: commands.slice(0, SHOWN_COMMANDS),
      commandCount: commands.length,
      locations: this.locations,
      encryptedLocations: this.encrypted,
    };
  }
}
