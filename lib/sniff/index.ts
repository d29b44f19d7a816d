// Topic sniffer: log in as whoever the probe found works, subscribe to '#' and '$SYS/#', listen
// for a while, and describe what we heard: topics, retained data, samples, sensors, secrets,
// what $SYS says. Everything it keeps is bounded (see sniff/collector.ts), so a broker that
// floods us cannot exhaust the process. Never throws for what a broker does.
//
// $SYS topics are kept apart, in `sys`; `count` and `items` are data topics only.
// We subscribe at QoS 1, so an item's qos is min(published QoS, 1); `retained` means the broker
// holds a retained message for the topic (a copy arrived with the retain flag); `rate` counts
// only live messages, not that stored copy.
import { planCredentials, type Credentials, type CredentialSafety } from '../credentials';
import { SUBPROTOCOL_RETRY, tryMadeUpLogin } from '../probe';
import { OPTIONS } from '../options';
import type { TlsClientOptions } from '../types';
import type { MqttVersion, ScanResult, Target, TopicsInfo, Transport } from '../types';
import { TopicCollector, type LiveMessage } from './collector';
import { openSession } from './session';
import { everyFilterRefused, subackCode, subscribeWithFallbacks, subscriptionNote } from './subscribe';
import { Canary, type WriteTestResult } from './write-test';
import { isDescriptorShortage, isWebSocketTransport, settle, SHORTAGE_BACKOFF_MS, withDescriptor } from '../common';
import { isLimitRefusal, isWebSocketPath, SHORT_KEEPALIVE_S, strictClientId } from '../mqtt';

export type { LiveMessage } from './collector';
export { CANARY_PREFIX } from './write-test';
export { summarizeDevices, matchTopic, READ_BUDGET_BYTES } from './devices';
export { ECOSYSTEMS, type Ecosystem, type TopicRule } from './ecosystems';

export interface SniffOptions {
  transport: Transport;
  /** ws and wss: the HTTP path of the WebSocket upgrade (the probe's ScanResult.websocketPath). */
  websocketPath?: string;
  version?: MqttVersion;
  credentials?: Credentials | null;
  tls?: TlsClientOptions;
  listenMs?: number;
  subscriptions?: string[];
  sampleChars?: number;
  maxTopics?: number;
  /** Bytes of one payload we examine (decode, screen, parse). */
  maxSampleBytes?: number;
  /** Estimated memory of everything kept (items, samples, $SYS copies). */
  maxTotalBytes?: number;
  /** Packets up to this size (bytes) are read whole. A larger PUBLISH is read only in part as it
   *  streams past (topic name up to 1 KiB, packet id, the payload's first maxSampleBytes; never
   *  buffered whole), and its topic is listed with its full size; one whose topic name is longer
   *  is dropped (truncated: 'packetSize'). Any other larger packet ends the session. */
  maxPacketBytes?: number;
  connectTimeoutMs?: number;
  writeTest?: boolean;
  signal?: AbortSignal;
  /** Live mode: called for every data message as it arrives (payload already a safe sample). */
  onMessage?: (m: LiveMessage) => void;
  /** Called once: when the listen window opens, or when it never will (refused, failed). */
  onListening?: () => void;
  /** The credentials may only travel over TLS the credential policy trusts (lib/credentials);
   *  set by sniffPlanFor. Without it the login goes wherever the transport goes. */
  requireTrustedTls?: boolean;
}

/** Defaults of SniffOptions; listen time, sample and topic bounds from lib/options OPTIONS. */
export const SNIFF_DEFAULTS = {
  version: '5.0' as MqttVersion,
  listenMs: OPTIONS.listenSeconds.default * 1000,
  subscriptions: ['#', '$SYS/#'],
  sampleChars: OPTIONS.sampleChars.default as number,
  maxTopics: OPTIONS.maxTopics.default as number,
  maxSampleBytes: 1024,
  maxTotalBytes: 4 * 1024 * 1024,
  maxPacketBytes: 64 * 1024,
  connectTimeoutMs: 5000,
};

/** How long a polite DISCONNECT may take before we cut the socket. */
const CLOSE_GRACE_MS = 1000;
const WRITE_TEST_WAIT_MS = 2000;

/** TopicsInfo with the write test's own type. `subscriptions` lists every SUBSCRIBE and its
 *  SUBACK code; a refused wildcard filter's fallback follows it (lib/sniff/subscribe.ts). */
export interface SniffResult extends TopicsInfo {
  writeTest?: WriteTestResult | null;
}

export async function sniffBroker(target: Target, opts: SniffOptions): Promise<SniffResult> {
  let told = false;
  const listening = () => {
    if (told) return;
    told = true;
    opts.onListening?.();
  };
  try {
    // The listener's one connection holds a descriptor of the process's pool (lib/common) from
    // before it opens until it is closed; one session at a time, also when it is opened again.
    const as = opts.credentials?.username ? 'given credentials' : 'anonymous';
    return await withDescriptor(opts.signal, () => failed(as, opts.version ?? SNIFF_DEFAULTS.version, 'cancelled'), () => sniff(target, opts, listening));
  } finally {
    listening();
  }
}

async function sniff(target: Target, opts: SniffOptions, listening: () => void): Promise<SniffResult> {
  const o = resolveOptions(opts);
  const as = o.credentials?.username ? 'given credentials' : 'anonymous';
  const version = o.version;
  if (o.signal?.aborted) return failed(as, version, 'cancelled');

  const collector = new TopicCollector(o);
  const canary = o.writeTest ? new Canary() : null;
  // ws and wss: the subprotocols to offer (undefined: lib/mqtt's default).
  let subprotocols: readonly string[] | undefined;
  let session = openSession(target, { ...o, onOversize: () => collector.dropOversize() });
  try {
    let connected = await session.connected(o.signal);
    // No descriptor left in this process (EMFILE): nothing about the broker; open it again after
    // a pause (lib/common SHORTAGE_BACKOFF_MS), and say so if it lasts.
    for (const ms of SHORTAGE_BACKOFF_MS) {
      if (connected.ok || !isDescriptorShortage(connected.code) || o.signal?.aborted) break;
      await session.close(0);
      await settle<void>(ms, o.signal, undefined, () => undefined);
      session = openSession(target, { ...o, onOversize: () => collector.dropOversize() });
      connected = await session.connected(o.signal);
    }
    // A WebSocket 101 that chose none of the offered subprotocols (no subprotocol, or the whole
    // offered list copied back, as RabbitMQ 3.10's Web MQTT does) is tried once more offering
    // what the probe offered next (lib/probe SUBPROTOCOL_RETRY): the probe found the broker that way.
    const offer = !connected.ok && connected.code ? SUBPROTOCOL_RETRY[connected.code] : undefined;
    if (offer && isWebSocketTransport(o.transport) && !o.signal?.aborted) {
      await session.close(0);
      subprotocols = offer.subprotocols;
      session = openSession(target, { ...o, subprotocols, onOversize: () => collector.dropOversize() });
      connected = await session.connected(o.signal);
    }
    // A refusal that names a limit of the CONNECT (keepalive, client identifier; lib/mqtt
    // isLimitRefusal) is tried once more with a short keepalive and a plain client id, as the
    // probe does: otherwise the probe finds an open broker and the listener reads nothing.
    if (!connected.ok && connected.connack && isLimitRefusal(connected.connack.format, connected.connack.code) && !o.signal?.aborted) {
      await session.close(0);
      session = openSession(target, { ...o, subprotocols, keepaliveS: SHORT_KEEPALIVE_S, clientId: strictClientId(), onOversize: () => collector.dropOversize() });
      connected = await session.connected(o.signal);
    }
    if (!connected.ok) return failed(as, version, connected.error);

    session.onMessage = (m) => {
      if (canary?.take(m.topic)) return;
      const live = collector.add(m.topic, m.payload, m.retain, m.qos, !!o.onMessage, m.size);
      if (live) {
        try {
          o.onMessage!(live);
        } catch {
          // a consumer's bug must not end the listening
        }
      }
    };
    const started = Date.now();
    // A refused '#'-like filter gets one fallback ('+/#' for '#'): brokers such as EMQX refuse the
    // filter '#' by name and let the same data through '+/#'.
    const subscriptions = await subscribeWithFallbacks(session, o.subscriptions, 1, o.connectTimeoutMs, o.signal);
    listening();
    const writeTest = canary ? canary.run(session, version, WRITE_TEST_WAIT_MS, o.signal) : Promise.resolve(null);
    const end = await settle<'time' | 'closed'>(started + o.listenMs - Date.now(), o.signal, 'time', (done) => session.onEnd(() => done('closed')));
    const wt = await writeTest;
    const listenedMs = Date.now() - started;
    const cancelled = !!o.signal?.aborted;
    const note = subscriptionNote(subscriptions, version === '5.0');
    const refusedAll = everyFilterRefused(subscriptions)
      ? `the broker refused every subscription (${subscriptions.map((s) => `'${s.filter}' ${subackCode(s.code!, version === '5.0')}`).join(', ')})`
      : null;
    return {
      ...collector.result(listenedMs),
      as,
      version,
      listenedMs,
      subscriptions,
      ...(note ? { note } : {}),
      writeTest: wt,
      ...(cancelled ? { cancelled: true } : {}),
      error: end === 'closed' && !cancelled ? `${session.endReason ?? 'the broker closed the connection'} after ${listenedMs} ms` : refusedAll,
    };
  } finally {
    await session.close(o.signal?.aborted ? 0 : CLOSE_GRACE_MS);
  }
}

export type SniffPlan =
  | { target: Target; options: SniffOptions; reason?: undefined }
  | { target: Target; options: null; reason: string };

/**
 * Whom to log in as, from the probe's result: anonymous when the broker took that, else the
 * given credentials when it accepted them; null (with why) when we cannot read this broker.
 */
export function sniffPlanFor(result: ScanResult, credentials?: Credentials | null, safety: CredentialSafety = {}): SniffPlan {
  const target = { host: result.host, port: result.port };
  const no = (reason: string): SniffPlan => ({ target, options: null, reason });
  if (result.classification !== 'open_or_auth_ok' && result.classification !== 'not_authorized') {
    return no(`${result.classification}: no MQTT session possible`);
  }
  const transport = result.transport;
  if (!transport) return no('no transport: the probe found none that speaks MQTT');
  const isWebSocket = isWebSocketTransport(transport);
  if (isWebSocket && !isWebSocketPath(result.websocketPath)) return no(`transport ${transport} without a valid WebSocket path (websocketPath)`);
  const route = isWebSocket ? { transport, websocketPath: result.websocketPath } : { transport };
  const { anonymous, givenCredentials } = result.auth;
  const supported = result.mqtt?.versions ?? {};
  const fallback: MqttVersion = supported['5.0'] === 'supported' || supported['3.1.1'] !== 'supported' ? '5.0' : '3.1.1';
  if (anonymous.outcome === 'accepted') {
    return { target, options: { ...route, version: anonymous.version ?? fallback, credentials: null } };
  }
  if (givenCredentials.outcome === 'accepted') {
    if (!credentials?.username) return no('the given credentials were accepted, but they are no longer available');
    // The listener's CONNECT carries the login: the same rule as the probe's.
    const plan = planCredentials(transport, result.auth.wrongCredentials, credentials, safety);
    if (!plan.send) return no(plan.detail);
    return { target, options: { ...route, version: givenCredentials.version ?? fallback, credentials, requireTrustedTls: plan.requireTrustedTls } };
  }
  if (givenCredentials.withheld) return no(`anonymous clients are refused and the given ${givenCredentials.detail}`);
  return no(loginsNotUsable(result));
}

/**
 * Why the listener has no login to read a broker with, from what the probe saw: which logins were
 * refused, and a login that did get in but that the listener does not use (a well-known default
 * pair, a made-up login). Never a username of the user's login; a default pair's username only.
 */
export function loginsNotUsable(result: ScanResult): string {
  const { anonymous, wrongCredentials, givenCredentials, defaultCredentials } = result.auth;
  const anon = anonymous.outcome === 'rejected' ? 'anonymous clients are refused'
    : anonymous.outcome === 'accepted' ? 'the anonymous login was accepted' : `the anonymous login got no answer (${anonymous.detail ?? anonymous.outcome})`;
  const given = givenCredentials.outcome === 'not_tested' ? (givenCredentials.detail ? `the given login was not sent (${givenCredentials.detail})` : 'no login was given')
    : givenCredentials.outcome === 'rejected' ? 'the given credentials were refused'
    : givenCredentials.outcome === 'accepted' ? 'the given credentials were accepted' : `the given credentials got no answer (${givenCredentials.detail ?? 'error'})`;
  const head = `${result.classification}: ${anon} and ${given}`;
  if (defaultCredentials?.outcome === 'accepted') {
    return `${head}; the well-known default login of user "${defaultCredentials.username ?? '?'}" got in, but the listener never logs in with a default login`;
  }
  if (wrongCredentials.outcome === 'accepted') return `${head}; a made-up login got in (the broker checks no password), but the listener logs in only anonymously or with the given login`;
  return head;
}

/**
 * sniffPlanFor for a result that came from outside this process (a node's input message): when
 * the plan would log in with the user's credentials, the broker is first asked a made-up login of
 * its own (tryMadeUpLogin), and the credential rule (lib/credentials) is judged on that answer,
 * never on the result's auth.wrongCredentials, which anyone could have written.
 */
export async function checkedSniffPlan(
  result: ScanResult,
  credentials: Credentials | null | undefined,
  safety: CredentialSafety,
  o: { tls?: TlsClientOptions; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<SniffPlan> {
  const plan = sniffPlanFor(result, credentials, safety);
  if (!plan.options?.credentials?.username) return plan;
  const version = plan.options.version ?? SNIFF_DEFAULTS.version;
  const answer = await tryMadeUpLogin(plan.target, { transport: plan.options.transport, websocketPath: plan.options.websocketPath, version, tls: o.tls, timeoutMs: o.timeoutMs, signal: o.signal });
  return sniffPlanFor({ ...result, auth: { ...result.auth, wrongCredentials: answer } }, credentials, safety);
}

function resolveOptions(opts: SniffOptions) {
  const d = SNIFF_DEFAULTS;
  const subs = (opts.subscriptions ?? d.subscriptions).filter((s) => typeof s === 'string' && s.length > 0);
  return {
    ...opts,
    version: opts.version ?? d.version,
    listenMs: clamp(opts.listenMs, d.listenMs, OPTIONS.listenSeconds.min * 1000, OPTIONS.listenSeconds.max * 1000),
    subscriptions: subs.length ? subs : d.subscriptions,
    sampleChars: clamp(opts.sampleChars, d.sampleChars, OPTIONS.sampleChars.min, OPTIONS.sampleChars.max),
    maxTopics: clamp(opts.maxTopics, d.maxTopics, OPTIONS.maxTopics.min, OPTIONS.maxTopics.max),
    maxSampleBytes: clamp(opts.maxSampleBytes, d.maxSampleBytes, 16, 1024 * 1024),
    maxTotalBytes: clamp(opts.maxTotalBytes, d.maxTotalBytes, 16 * 1024, 1024 * 1024 * 1024),
    maxPacketBytes: clamp(opts.maxPacketBytes, d.maxPacketBytes, 1024, 256 * 1024 * 1024),
    connectTimeoutMs: clamp(opts.connectTimeoutMs, d.connectTimeoutMs, 100, 60_000),
  };
}

function clamp(v: number | undefined, fallback: number, min: number, max: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.min(max, Math.max(min, Math.floor(v))) : fallback;
}

function failed(as: TopicsInfo['as'], version: MqttVersion, error: string): SniffResult {
  return { count: 0, items: [], sys: {}, as, version, listenedMs: 0, truncated: [], writeTest: null, error };
}
