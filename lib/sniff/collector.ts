// Everything we keep about what we heard, within hard bounds. Per message: one Map lookup and a
// bounded look at at most maxSampleBytes of payload; no per-message arrays, nothing that grows
// with the number of messages.
import type { TopicItem } from '../types';
import { binarySample, examinePayload, printable, type Examined } from './payload';
import { brokerText, isBlank } from '../common';
import { OWN_CLIENT_ID } from '../mqtt';
import { screenSensitive } from './sensitive';
import { recognize, topicKinds, type SensorValues } from './sensors';
import { emptySys, recordSys, type SysInfo } from './sys';
import { DistinctCounter } from './distinct';
import { deviceBytes, matchTopic, PayloadReading, resolveDevices, summarizeDevices, type PayloadFacts, type TopicMatch } from './devices';

export interface CollectorLimits {
  sampleChars: number;
  maxTopics: number;
  maxSampleBytes: number;
  maxTotalBytes: number;
}

export type Bound = 'topics' | 'bytes' | 'sampleBytes' | 'packetSize' | 'sys';

export interface LiveMessage {
  topic: string;
  payload: string;
  retained: boolean;
  qos: number;
  sensor: string | null;
  values?: SensorValues;
}

interface TopicState {
  item: TopicItem;
  kinds: string[];
  /** Messages that arrived live, not from the retained store: these make the rate. */
  live: number;
  /** The ecosystem rows the topic may belong to (lib/sniff/devices.ts), and what their payload
   *  reader found so far in `reads` readings. */
  matches: TopicMatch[];
  facts?: PayloadFacts;
  reads: number;
}

const ITEM_OVERHEAD = 512; // the item object, its numbers, firstSeen, Map entry
const VALUES_RESERVE = 16 * 64;
/** Code points of a topic name we show (brokerText); longer names end in "…(+N chars)". */
const TOPIC_CHARS = 256;
/** A parsed value's key is at most two JSON keys of 48 characters (sensors.ts): escaped, it
 *  stays under this, so two different keys never show as one. */
const VALUE_KEY_CHARS = 1024;

export class TopicCollector {
  private readonly topics = new Map<string, TopicState>();
  private readonly overflow = new DistinctCounter();
  private readonly sys: SysInfo = emptySys();
  private readonly hit = new Set<Bound>();
  private readonly reading = new PayloadReading();
  private bytes = 0;
  private messages = 0;
  private sysMessages = 0;
  private droppedMessages = 0;
  private oversize = 0;

  constructor(private readonly limits: CollectorLimits) {}

  /**
   * Records one message; returns what live mode shows when `wantLive`, else null. `size`: the
   * whole payload's length in bytes when `payload` is only its head (the first bytes PacketGuard
   * kept of a PUBLISH bigger than maxPacketBytes); the head is examined as a cut payload.
   */
  add(topic: string, payload: Buffer, retained: boolean, qos: number, wantLive: boolean, size = payload.length): LiveMessage | null {
    if (topic.startsWith('$SYS')) {
      this.addSys(topic, payload, size);
      return null;
    }
    this.messages++;
    let state = this.topics.get(topic);
    if (!state) {
      state = this.admit(topic);
      if (!state && !wantLive) return null;
    }
    // A protobuf payload (Sparkplug B) is shown as binary: its strings are never printed as text.
    const protobuf = (state?.matches ?? (wantLive ? matchTopic(topic) : [])).some((m) => m.rule.protobuf);
    const seen = this.look(topic, payload, state?.kinds ?? topicKinds(topic), size, protobuf);
    if (state) {
      const item = state.item;
      item.messages++;
      if (!retained) state.live++;
      if (retained) item.retained = true;
      if (qos > (item.qos ?? 0)) item.qos = qos;
      item.sample = seen.sample;
      item.bytes = Math.max(item.bytes ?? 0, size);
      item.sensor = seen.sensor;
      if (seen.values) item.values = seen.values;
      else delete item.values;
      for (const k of seen.sensitive) if (!item.sensitive!.includes(k)) item.sensitive!.push(k);
      if (state.matches.length) this.readPayload(state, topic, payload, size);
    }
    if (!wantLive) return null;
    const shownTopic = state?.item.topic ?? brokerText(topic, { maxLength: TOPIC_CHARS });
    return { topic: shownTopic, payload: seen.sample, retained, qos, sensor: seen.sensor, ...(seen.values ? { values: seen.values } : {}) };
  }

  /** An oversize PUBLISH the packet guard dropped unread (its topic name was too long to read). */
  dropOversize(): void {
    this.oversize++;
    this.hit.add('packetSize');
  }

  result(listenedMs: number) {
    const seconds = Math.max(listenedMs, 1) / 1000;
    const devices = resolveDevices([...this.topics].map(([topic, s]) => ({ topic, matches: s.matches, facts: s.facts })));
    const items = [...this.topics]
      .map(([topic, state]) => {
        const { item, live } = state;
        const out: TopicItem = { ...item, rate: round2(live / seconds) };
        if (!out.sensitive?.length) delete out.sensitive;
        const device = devices.get(topic);
        if (device) out.device = device;
        for (const k of state.facts?.sensitive ?? []) {
          out.sensitive = [...(out.sensitive ?? [])];
          if (!out.sensitive.includes(k)) out.sensitive.push(k);
        }
        // Ciphertext (OwnTracks "_type":"encrypted") is a long base64 run, not a token that leaked.
        if (device?.encrypted && out.sensitive) {
          out.sensitive = out.sensitive.filter((k) => k !== 'token');
          if (!out.sensitive.length) delete out.sensitive;
        }
        return out;
      })
      .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
    const extra = this.overflow.estimate();
    const exposure = summarizeDevices(items);
    return {
      count: items.length + extra,
      ...(extra ? { countEstimated: true } : {}),
      items,
      sys: this.sys.topicCount || this.sys.ownConnectionEvents ? this.sys : {},
      messages: this.messages,
      sysMessages: this.sysMessages,
      dropped: { messages: this.droppedMessages, oversize: this.oversize },
      keptBytes: this.bytes,
      truncated: [...this.hit],
      ...(exposure ? { devices: exposure } : {}),
    };
  }

  /**
   * What the topic's ecosystem reader finds in this payload (the whole payload when it was read
   * whole, else its head); the facts' bytes count against maxTotalBytes, and facts that do not
   * fit are not kept (truncated: 'bytes').
   */
  private readPayload(state: TopicState, topic: string, payload: Buffer, size: number): void {
    const before = state.facts;
    const after = this.reading.read(state.matches, topic, payload, size <= payload.length, before, state.reads);
    if (after === before) {
      if (state.matches.some((m) => m.rule.reads)) state.reads++;
      return;
    }
    state.reads++;
    const cost = deviceBytes({ ecosystem: '', role: 'status', id: after?.deviceId, commands: after?.commands });
    if (this.bytes + cost > this.limits.maxTotalBytes) {
      this.hit.add('bytes');
      return;
    }
    this.bytes += cost;
    state.facts = after;
  }

  /** `topic` is the name the broker sent: the key, so names that show alike stay apart. */
  private admit(topic: string): TopicState | undefined {
    const shown = brokerText(topic, { maxLength: TOPIC_CHARS });
    const cost = ITEM_OVERHEAD + VALUES_RESERVE + 2 * topic.length + (shown === topic ? 0 : 2 * shown.length) + 2 * (this.limits.sampleChars + 64);
    const bound: Bound | null = this.topics.size >= this.limits.maxTopics ? 'topics'
      : this.bytes + cost > this.limits.maxTotalBytes ? 'bytes' : null;
    if (bound) {
      this.hit.add(bound);
      this.overflow.add(topic);
      this.droppedMessages++;
      return undefined;
    }
    // Reserve the item's largest size now, so updating its sample never needs a check.
    this.bytes += cost;
    const state: TopicState = {
      item: { topic: shown, messages: 0, retained: false, qos: 0, firstSeen: new Date().toISOString(), sample: '', sensor: null, sensitive: [] },
      kinds: topicKinds(topic),
      live: 0,
      matches: matchTopic(topic),
      reads: 0,
    };
    this.topics.set(topic, state);
    return state;
  }

  private look(topic: string, payload: Buffer, kinds: string[], size: number, binary: boolean) {
    const seen = examineHead(payload, size, this.limits.maxSampleBytes);
    if (seen.partial) this.hit.add('sampleBytes');
    if (seen.text === null || binary) {
      return { sample: binarySample(payload, Math.max(size, payload.length)), ...shownKeys(recognize(topic, null, kinds, false)), sensitive: [] as string[] };
    }
    const screened = screenSensitive(seen.text, topic, !seen.partial);
    const sample = printable(screened.masked, this.limits.sampleChars, seen.partial);
    return { sample, ...shownKeys(recognize(topic, seen.text, kinds, !seen.partial)), sensitive: screened.kinds as string[] };
  }

  private addSys(topic: string, payload: Buffer, size: number): void {
    this.sysMessages++;
    // The head of a $SYS message too big to read whole is shown as cut, like a data topic's.
    const seen = examineHead(payload, size, this.limits.maxSampleBytes);
    // An announcement of one of our own connections (aedes: $SYS/<id>/new/clients naming the
    // probe's or this listener's client id) shows that $SYS is readable, not what the broker's
    // clients do: counted, not listed, so a listener that overlaps the probe (the CLI) and one
    // that comes after it (a flow) list the same topics.
    if (seen.text !== null && OWN_CLIENT_ID.test(seen.text)) {
      this.sys.ownConnectionEvents = (this.sys.ownConnectionEvents ?? 0) + 1;
      return;
    }
    const shownTopic = brokerText(topic, { maxLength: TOPIC_CHARS });
    const value = seen.text === null ? binarySample(payload, Math.max(size, payload.length)) : brokerText(seen.text, { maxLength: this.limits.sampleChars, incomplete: seen.partial });
    const known = shownTopic in this.sys.raw;
    const cost = 2 * (shownTopic.length + this.limits.sampleChars + 64);
    const room = this.bytes + cost <= this.limits.maxTotalBytes;
    if (recordSys(this.sys, { topic, shownTopic, value, blank: seen.text !== null && isBlank(seen.text) }, room)) {
      if (!known) this.bytes += cost;
    } else this.hit.add(room ? 'sys' : 'bytes');
  }
}

/** Parsed values keyed by the payload's own JSON keys: shown like any broker text. The sensor
 *  was recognized on the keys as sent. */
function shownKeys<T extends { values?: Record<string, number | boolean> }>(r: T): T {
  if (!r.values) return r;
  const values: Record<string, number | boolean> = {};
  for (const [k, v] of Object.entries(r.values)) values[brokerText(k, { maxLength: VALUE_KEY_CHARS })] = v;
  return { ...r, values };
}

/**
 * examinePayload for a payload or its head (`size` > head.length): examinePayload takes a payload
 * longer than its limit as cut (partial, a character cut at the end dropped, not taken for
 * binary), so a head is examined with a limit one byte short of it.
 */
function examineHead(payload: Buffer, size: number, maxBytes: number): Examined {
  if (size <= payload.length || payload.length === 0) return examinePayload(payload, maxBytes);
  return { ...examinePayload(payload, Math.min(maxBytes, payload.length - 1)), bytes: size };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
