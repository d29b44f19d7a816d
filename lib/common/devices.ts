// What the devices behind a broker's topics expose (TopicsInfo.devices, made by lib/sniff), in the
// words that the dashboard's broker detail and the PDF both use: counts and topic names only,
// never a position or a secret (the summary holds none). A result may come from any flow, so the
// summary is read defensively and bounded (deviceExposureOf).
import type { CommandTopic, DeviceExposure, EcosystemExposure } from '../types';
import { isPlainObject } from './result-guards';

/** Most of each list kept (ecosystems; named inventory and command topics per ecosystem; secret
 *  kinds) and most code points of one text (topic names are at most 256 already). */
export const DEVICE_BOUNDS = { ecosystems: 16, inventory: 5, commands: 8, secretKinds: 8, text: 300 } as const;

/** How the scan knows of a command topic (CommandTopic.source), in words. */
export const COMMAND_SOURCE_WORDS: Record<CommandTopic['source'], string> = {
  seen: 'seen',
  announced: 'named by a payload',
  layout: "the ecosystem's command topic",
};

/** One ecosystem as it is shown. */
export interface EcosystemView {
  id: string;
  name: string;
  /** "14+ devices" (a lower bound), "1 device", "no device identified" (topics of the ecosystem, no device level). */
  devices: string;
  /** What its exposure means, in one sentence. */
  reveals: string;
  /** "2 topics", "7 topics, 5 listed"; null without inventory topics. */
  inventory: string | null;
  inventoryTopics: string[];
  /** "5 topics, 2 listed"; null without command topics. */
  commands: string | null;
  /** At most 8, with how each is known in words (COMMAND_SOURCE_WORDS). */
  commandTopics: Array<{ topic: string; source: string }>;
  /** "2 topics with positions (positions withheld), 1 encrypted"; null without either. */
  locations: string | null;
  /** The documentation of its topics, or null; `link` says it is an https URL (only then a link). */
  reference: string | null;
  link: boolean;
}

/** The "Devices and data" block: the ecosystems, then totals as [label, value] pairs. */
export interface DevicesView {
  ecosystems: EcosystemView[];
  /** Devices, Command topics (when an ecosystem was recognised), Writes (when there are command
   *  topics), Locations, Secrets (when counted). */
  totals: Array<[string, string]>;
}

/** What devicesView reads of a result's topics (TopicsInfo, or the dashboard's kept copy). */
export interface DeviceTopics {
  devices?: unknown;
  writeTest?: { accepted: boolean } | null;
  as?: string;
}

const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);
const bounded = (v: unknown, max: number = DEVICE_BOUNDS.text): string => {
  const s = typeof v === 'string' ? v : '';
  if (s.length <= max) return s;
  const points = Array.from(s);
  return points.length > max ? `${points.slice(0, max - 1).join('')}…` : s;
};
const listOf = (v: unknown, max: number): unknown[] => (Array.isArray(v) ? v.slice(0, max) : []);
const isSource = (s: unknown): s is CommandTopic['source'] => typeof s === 'string' && Object.prototype.hasOwnProperty.call(COMMAND_SOURCE_WORDS, s);

function ecosystemOf(e: Record<string, unknown>): EcosystemExposure {
  const inventory = listOf(e.inventory, DEVICE_BOUNDS.inventory).filter((t): t is string => typeof t === 'string').map((t) => bounded(t));
  const commands = listOf(e.commands, DEVICE_BOUNDS.commands)
    .filter(isPlainObject)
    .filter((c) => typeof c.topic === 'string' && isSource(c.source))
    .map((c) => ({ topic: bounded(c.topic), source: c.source as CommandTopic['source'] }));
  return {
    id: bounded(e.id, 40),
    name: bounded(e.name, 80) || bounded(e.id, 40),
    reveals: bounded(e.reveals),
    reference: bounded(e.reference),
    topics: count(e.topics),
    devices: count(e.devices),
    ...(e.devicesAtLeast === true ? { devicesAtLeast: true } : {}),
    inventory,
    inventoryCount: Math.max(count(e.inventoryCount), inventory.length),
    commands,
    commandCount: Math.max(count(e.commandCount), commands.length),
    locations: count(e.locations),
    encryptedLocations: count(e.encryptedLocations),
  };
}

/**
 * A well-typed, bounded copy of a result's `topics.devices` (DeviceExposure): at most
 * DEVICE_BOUNDS of each list, texts cut to DEVICE_BOUNDS.text code points, counts whole numbers
 * (0 for anything else); null when it is not an object.
 */
export function deviceExposureOf(v: unknown): DeviceExposure | null {
  if (!isPlainObject(v)) return null;
  return {
    ecosystems: listOf(v.ecosystems, DEVICE_BOUNDS.ecosystems).filter(isPlainObject).map(ecosystemOf),
    devices: count(v.devices),
    commandCount: count(v.commandCount),
    inventoryCount: count(v.inventoryCount),
    locations: count(v.locations),
    secrets: count(v.secrets),
    secretKinds: listOf(v.secretKinds, DEVICE_BOUNDS.secretKinds).filter((k): k is string => typeof k === 'string').map((k) => bounded(k, 40)),
  };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const listed = (total: number, shown: number) => (total > shown ? `${plural(total, 'topic')}, ${shown} listed` : plural(total, 'topic'));

/** "2 topics with positions (positions withheld)", "1 topic with a position (position withheld)", plus ", 1 encrypted"; null for none. */
export function locationText(locations: number, encrypted = 0): string | null {
  const parts = [
    ...(locations === 1 ? ['1 topic with a position (position withheld)'] : locations > 1 ? [`${locations} topics with positions (positions withheld)`] : []),
    ...(encrypted > 0 ? [`${encrypted} encrypted`] : []),
  ];
  return parts.length ? parts.join(', ') : null;
}

/** Whether `s` is an https URL (a reference is a link only then). */
export function isHttpsUrl(s: string): boolean {
  if (!/^https:\/\/\S+$/i.test(s)) return false;
  try {
    return new URL(s).protocol === 'https:';
  } catch {
    return false;
  }
}

/** The write test for the command topics: "write test accepted (as anonymous)", "write test refused", or "not run: …". */
export function writesText(t: Pick<DeviceTopics, 'writeTest' | 'as'>): string {
  const as = t.as ? ` (as ${t.as})` : '';
  if (!t.writeTest) return 'not run: whether the commands accept writes was not tested';
  return `write test ${t.writeTest.accepted ? 'accepted' : 'refused'}${as}`;
}

/**
 * The "Devices and data" block of a result's topics, or null when there is nothing to show: no
 * summary, or one without an ecosystem, a position or a secret.
 */
export function devicesView(topics: DeviceTopics | null | undefined): DevicesView | null {
  const d = deviceExposureOf(topics?.devices);
  if (!d || (!d.ecosystems.length && !d.locations && !d.secrets)) return null;
  const ecosystems = d.ecosystems.map((e): EcosystemView => ({
    id: e.id,
    name: e.name,
    devices: !e.devices && !e.devicesAtLeast ? 'no device identified' : `${e.devices}${e.devicesAtLeast ? '+' : ''} ${e.devices === 1 && !e.devicesAtLeast ? 'device' : 'devices'}`,
    reveals: e.reveals,
    inventory: e.inventoryCount ? listed(e.inventoryCount, e.inventory.length) : null,
    inventoryTopics: e.inventory,
    commands: e.commandCount ? listed(e.commandCount, e.commands.length) : null,
    commandTopics: e.commands.map((c) => ({ topic: c.topic, source: COMMAND_SOURCE_WORDS[c.source] })),
    locations: locationText(e.locations, e.encryptedLocations),
    reference: e.reference || null,
    link: isHttpsUrl(e.reference),
  }));
  const totals: Array<[string, string]> = [];
  if (ecosystems.length) {
    totals.push(['Devices', `${d.devices}${d.ecosystems.some((e) => e.devicesAtLeast) ? '+' : ''}`], ['Command topics', String(d.commandCount)]);
  }
  if (d.commandCount) totals.push(['Writes', writesText(topics!)]);
  const where = locationText(d.locations);
  if (where) totals.push(['Locations', where]);
  if (d.secrets) {
    const kinds = d.secretKinds.map((k) => k.replace(/_/g, ' ')).join(', ') || 'secrets';
    totals.push(['Secrets', `${plural(d.secrets, 'topic')} ${d.secrets === 1 ? 'carries' : 'carry'} ${kinds} (masked)`]);
  }
  return { ecosystems, totals };
}
