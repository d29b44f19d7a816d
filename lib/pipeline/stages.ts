// The stages after the probe for one broker: TLS inspection, listening to its topics, then the
// risk rules. Each stage adds its part of the result contract; a stage that fails says so in its
// own field. runScan runs them through assess.ts (started as soon as the probe knows the
// transport, so the listen window covers the rest of the probe); the nodes run the same stage
// functions one node each (inspectStage in the TLS inspector's place, withTopics after the
// sniffer, classifyResult in the risk classifier).
import type * as TlsModule from '../tls';
import type * as SniffModule from '../sniff';
import { classifyResult, type Policy } from '../risk';
import { OPTIONS } from '../options';
import { isTlsTransport } from '../common';
import type { Established } from '../probe';
import type { SniffResult } from '../sniff';
import type { CredentialSafety, Credentials, Target, TlsClientOptions, TlsInfo, ScanResult, TopicsInfo } from '../types';

export interface StageOptions extends CredentialSafety {
  /** Inspect certificates, versions and ciphers of TLS brokers (default true). */
  inspectTls?: boolean;
  /** Listen to '#' and '$SYS/#' on brokers we can log in to (default true). */
  sniff?: boolean;
  /** How long to listen, in ms (default: lib/sniff SNIFF_DEFAULTS.listenMs). */
  listenMs?: number;
  /** Publish once to our own canary topic to see whether anyone may write. */
  writeTest?: boolean;
  credentials?: Credentials | null;
  tls?: TlsClientOptions;
  /** Per connection attempt and TLS handshake, in ms. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Add findings and a risk level (default true), with the lab's own policy if given. */
  classify?: boolean;
  policy?: Policy;
  /** Work that can wait (TLS inspection) runs in a slot this gives (assess.ts): after the other
   *  brokers' set-up, as many at once as the CPU allows. Resolves with the function ending it. */
  defer?: Defer;
}

/** Waits for a slot for work that can wait; resolves with the function that gives it back. */
export type Defer = () => Promise<() => void>;

/** Runs `work` in a slot of `defer` (at once without one). */
async function deferred<T>(defer: Defer | undefined, work: () => Promise<T>): Promise<T> {
  const done = defer ? await defer() : undefined;
  try {
    return await work();
  } finally {
    done?.();
  }
}

/** Stages started while the probe still tries the other logins (startStages). */
export interface StageWork {
  sniff?: Promise<SniffResult>;
  /** Whom the listener logged in as. */
  as?: 'anonymous' | 'given';
  /** Settles when the listener's window opened (or never will). */
  window?: Promise<void>;
}

/** A listener's topics, or why there are none, as the result will show them. */
export interface ListenOutcome {
  topics: ScanResult['topics'];
  /** Why the topics were not read, for the result's evidence. */
  note?: string;
}

/**
 * Starts listening as soon as the probe knows the transport and whether anonymous clients get in:
 * the listen window then covers the rest of the probe. With only the user's login to go on, the
 * listener's own CONNECT tries it; finishStages checks the probe agreed. TLS inspection waits for
 * the probe's end (finishStages): its dozen handshakes next to the probe's own connections made a
 * broker with a connection limit (mosquitto max_connections 3) refuse a probe attempt, and the
 * verdict then differed from a flow's, where the TLS inspector comes after the probe.
 */
export function startStages(target: Target, e: Established, opts: StageOptions): StageWork {
  const work: StageWork = {};
  let listening: () => void = () => undefined;
  const window = new Promise<void>((resolve) => (listening = resolve));
  if (opts.sniff !== false) {
    // Anonymous when the broker takes it; else the user's login, only when the credential policy
    // let it go to this broker (the probe asked a made-up login first: Established.credentials).
    const login = e.credentials?.send && opts.credentials?.username ? e.credentials : null;
    const credentials = e.anonymousAccepted ? null : login ? opts.credentials : undefined;
    if (credentials !== undefined) {
      work.as = credentials ? 'given' : 'anonymous';
      work.sniff = sniffModule().sniffBroker(target, {
        transport: e.transport,
        ...(e.websocketPath !== undefined ? { websocketPath: e.websocketPath } : {}),
        version: e.version,
        credentials,
        tls: e.tlsSession ? { ...opts.tls, session: e.tlsSession } : opts.tls,
        listenMs: opts.listenMs,
        writeTest: opts.writeTest,
        signal: opts.signal,
        onListening: listening,
        requireTrustedTls: !!credentials && !!login?.requireTrustedTls,
      });
      work.window = window;
    }
  }
  return work;
}

/** The whole result: started stages awaited, missing ones run now, then the risk rules. */
export async function finishStages(result: ScanResult, work: StageWork | undefined, opts: StageOptions): Promise<ScanResult> {
  const target = { host: result.host, port: result.port };
  const [tls, listened] = await Promise.all([
    // Work that can wait (defer): other brokers may be in their set-up.
    opts.inspectTls !== false && isTlsTransport(result.transport) ? deferred(opts.defer, () => inspectStage(target, opts)) : undefined,
    work?.sniff ? startedListener(work, result) : opts.sniff !== false ? listenStage(result, opts) : undefined,
  ]);
  let out: ScanResult = tls === undefined ? result : { ...result, tls };
  if (listened) out = withTopics(out, listened);
  return opts.classify === false ? out : classifyResult(out, opts.policy);
}

/**
 * Adds a listener's topics to a result (the CLI's stages and the topic sniffer node): $SYS's broker
 * version fills mqtt.brokerVersion when the probe had none, and a note on why topics were not
 * read joins the evidence.
 */
export function withTopics(result: ScanResult, listened: ListenOutcome): ScanResult {
  const version = (listened.topics as TopicsInfo | null)?.sys?.version;
  const mqtt = !result.mqtt?.brokerVersion && typeof version === 'string' ? { ...result.mqtt, brokerVersion: version } : result.mqtt;
  return {
    ...result,
    mqtt,
    topics: listened.topics,
    ...(listened.note ? { evidence: [...(result.evidence ?? []), listened.note] } : {}),
  };
}

async function startedListener(work: StageWork, result: ScanResult): Promise<ListenOutcome> {
  const topics = await work.sniff!;
  // The listener tried the user's login on its own; report topics only if the probe agrees it works.
  if (work.as === 'given' && result.auth.givenCredentials.outcome !== 'accepted') {
    return { topics: null, note: `topics not read: ${sniffModule().loginsNotUsable(result)}` };
  }
  return { topics };
}

/** Loads the modules the enabled stages use (the first use would otherwise pay it, ~60 ms). */
export function preloadStages(opts: StageOptions): void {
  if (opts.sniff !== false) sniffModule();
  if (opts.inspectTls !== false) tlsModule();
}

// Loaded on first use: a sweep that finds no broker never pays for the TLS inspector (its
// certificate parsing) and the listener.
// Kept once loaded: require() resolves its path again on every call (30 ms over 1,000 brokers).
let tls: typeof TlsModule | undefined;
let sniff: typeof SniffModule | undefined;
const tlsModule = (): typeof TlsModule => (tls ??= require('../tls') as typeof TlsModule);
const sniffModule = (): typeof SniffModule => (sniff ??= require('../sniff') as typeof SniffModule);

/** TLS inspection of one broker with the scan's TLS settings (CA, client certificate, name). */
export function inspectStage(target: Target, opts: Pick<StageOptions, 'timeoutMs' | 'tls' | 'signal'>): Promise<TlsInfo> {
  return tlsModule().inspectTls(target, {
    timeoutMs: opts.timeoutMs,
    ca: opts.tls?.ca,
    cert: opts.tls?.cert,
    key: opts.tls?.key,
    passphrase: opts.tls?.passphrase,
    servername: opts.tls?.servername,
    signal: opts.signal,
  });
}

/** Listening on a finished probe result, with the credential rule applied (sniffPlanFor). */
async function listenStage(result: ScanResult, opts: StageOptions): Promise<ListenOutcome> {
  const { sniffBroker, sniffPlanFor } = sniffModule();
  const plan = sniffPlanFor(result, opts.credentials, opts);
  if (!plan.options) return { topics: null, note: `topics not read: ${plan.reason}` };
  const topics = await sniffBroker(
    { host: result.host, port: result.port },
    { ...plan.options, tls: opts.tls, listenMs: opts.listenMs, writeTest: opts.writeTest, signal: opts.signal },
  );
  return { topics };
}

/** How assessTargets (assess.ts) runs the stages after each broker's probe. */
export interface StageHooks {
  /** When the probe knows the transport: starts stages; the broker's set-up lasts until `hold`. */
  start(target: Target, e: Established, signal: AbortSignal, defer: Defer): { work: StageWork; hold?: Promise<void> };
  /** With the probe's result (and what start began, if it ran): the whole result. Work that can
   *  wait runs in a slot of `defer` (after other brokers' set-up). */
  finish(result: ScanResult, signal: AbortSignal, work: StageWork | undefined, defer: Defer): Promise<ScanResult>;
  /** How long work that can wait may wait for the other brokers' set-up, ms: half the listen
   *  window (at least MIN_DEFER_MS), so that it still ends inside the window. */
  deferMaxMs?: number;
}

/** Work that can wait never waits less than this for the other brokers' set-up, ms. */
export const MIN_DEFER_MS = 1000;

/** The stage hooks for runScan: `prepare` once at the first open port, then StageHooks. */
export function stagesAfterProbe(opts: StageOptions): { prepare: () => void; stages: StageHooks } {
  const listenMs = opts.sniff === false ? 0 : (opts.listenMs ?? OPTIONS.listenSeconds.default * 1000);
  return {
    prepare: () => preloadStages(opts),
    stages: {
      start: (target, e, signal, defer) => {
        const work = startStages(target, e, { ...opts, signal, defer });
        return { work, hold: work.window };
      },
      finish: (r, signal, work, defer) => finishStages(r, work, { ...opts, signal, defer }),
      deferMaxMs: Math.max(MIN_DEFER_MS, listenMs / 2),
    },
  };
}
