// What a broker says about itself under $SYS: the well-known values by name, plus a bounded
// copy of every $SYS topic seen (brokers differ in what they publish).

export interface SysInfo {
  version?: string;
  uptime?: string;
  uptimeSeconds?: number;
  clientsConnected?: number;
  /** Distinct $SYS topics kept in raw (all of them unless truncated lists "sys"). */
  topicCount: number;
  /** $SYS topic -> value, both as brokerText shows them (escaped, bounded), at most MAX_SYS_RAW entries. */
  raw: Record<string, string>;
  /** $SYS messages about the scanner's own connections (lib/mqtt OWN_CLIENT_ID), not kept in raw. */
  ownConnectionEvents?: number;
  [key: string]: unknown;
}

export const MAX_SYS_RAW = 128;

// Mosquitto names first; EMQX publishes $SYS/brokers/<node>/version and /uptime.
const KNOWN: Array<[RegExp, string]> = [
  [/^\$SYS\/brokers?(?:\/[^/]+)?\/version$/, 'version'],
  [/^\$SYS\/brokers?(?:\/[^/]+)?\/uptime$/, 'uptime'],
  [/^\$SYS\/broker\/clients\/connected$/, 'clientsConnected'],
  [/^\$SYS\/broker\/clients\/active$/, 'clientsActive'],
  [/^\$SYS\/broker\/clients\/total$/, 'clientsTotal'],
  [/^\$SYS\/broker\/clients\/maximum$/, 'clientsMaximum'],
  [/^\$SYS\/broker\/messages\/received$/, 'messagesReceived'],
  [/^\$SYS\/broker\/messages\/sent$/, 'messagesSent'],
  [/^\$SYS\/broker\/messages\/stored$/, 'messagesStored'],
  [/^\$SYS\/broker\/retained messages\/count$/, 'retainedMessages'],
  [/^\$SYS\/broker\/subscriptions\/count$/, 'subscriptions'],
  [/^\$SYS\/broker\/bytes\/received$/, 'bytesReceived'],
  [/^\$SYS\/broker\/bytes\/sent$/, 'bytesSent'],
  [/^\$SYS\/broker\/heap\/current(?: size)?$/, 'heapCurrent'],
];
const NUMERIC = /^-?\d+(?:\.\d+)?$/;

export function emptySys(): SysInfo {
  return { topicCount: 0, raw: {} };
}

export interface SysMessage {
  /** The topic name as the broker sent it: recognized against the well-known names. */
  topic: string;
  /** The topic name and the value as shown (lib/text brokerText): what is kept. */
  shownTopic: string;
  value: string;
  /** The value shows nothing (white space and hidden characters only): a version or uptime
   *  made of that is recorded as '' (no version disclosed). */
  blank: boolean;
}

/**
 * Records one $SYS message. A topic not yet in raw is added only when `room` says so and raw
 * has space; returns whether it is (now) in raw.
 */
export function recordSys(sys: SysInfo, m: SysMessage, room: boolean): boolean {
  const { topic, value } = m;
  for (const [re, key] of KNOWN) {
    if (!re.test(topic)) continue;
    sys[key] = key === 'version' || key === 'uptime' ? (m.blank ? '' : value) : NUMERIC.test(value) ? Number(value) : value;
    if (key === 'uptime') {
      const seconds = /^(\d+)\s*(?:s|sec|secs|seconds)?$/i.exec(value);
      if (seconds) sys.uptimeSeconds = Number(seconds[1]);
    }
    break;
  }
  if (!(m.shownTopic in sys.raw)) {
    if (!room || sys.topicCount >= MAX_SYS_RAW) return false;
    sys.topicCount++;
  }
  sys.raw[m.shownTopic] = value;
  return true;
}
