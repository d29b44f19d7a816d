// The stages after the probe for one broker: TLS inspection, listening to its topics, then the
// risk rules.
// Each stage adds its part of the result contract; a stage that fails says so in its own field.
import type * as TlsModule from '../tls';
import type * as SniffModule from '../sniff';
import type { Credentials, CredentialSafety } from '../credentials';
import type { TlsClientOptions } from '../types';
import { classifyResult } from '../risk';
import type { Policy } from '../risk';
import type { Established } from '../probe';
import type { SniffResult } from '../sniff';
import type { Target, TlsInfo, ScanResult } from '../types';

export interface DeepOptions extends CredentialSafety {
  /** Inspect certificates, versions and ciphers of TLS brokers (default true). */
  inspectTls?: boolean;
  /** Listen to '#' and '$SYS/#' on brokers we can log in to (default true). */
  sniff?: boolean;
  listenMs?: number;
  writeTest?: boolean;
  credentials?: Credentials | null;
  tls?: TlsClientOptions;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Add findings and a risk level (default true), with the lab's own policy if given. */
  classify?: boolean;
  policy?: Policy;
  /** Work that can wait (TLS inspection) waits for this: other brokers are being set up. */
  quiet?: () => Promise<void>;
}

/** Stages started early, while the probe still tries the other logins. */
export interface DeepWork {
  tls?: Promise<TlsInfo>;
  sniff?: Promise<SniffResult>;
  /** Whom the early listener logged in as. */
  as?: 'anonymous' | 'given';
  /** Settles when the listener's window opened (or never will). */
  window?: Promise<void>;
}

/**
 * Starts TLS inspection and listening as soon as the probe knows the transport and whether
 * anonymous clients get in: the listen window then covers the rest of the probe. With only the
 * user's login to go on, the listener's own CONNECT tries it; finishDeep checks the probe agreed.
 */
export function startDeep(target: Target, e: Established, opts: DeepOptions): DeepWork {
  const work: DeepWork = {};
  // The listener connects first: TLS inspection's dozen handshakes then run inside the listen
  // window instead of delaying its start.
  let listening: () => void = () => undefined;
  const window = new Promise<void>((resolve) => (listening = resolve));
  let listener = false;
  if (opts.sniff !== false) {
    // Anonymous when the broker takes it; else the user's login, only when the credential policy
    // let it go to this broker (the probe asked a made-up login first: Established.credentials).
    const login = e.credentials?.send && opts.credentials?.username ? e.credentials : null;
    const credentials = e.anonymousAccepted ? null : login ? opts.credentials : undefined;
    if (credentials !== undefined) {
      work.as = credentials ? 'given' : 'anonymous';
      work.sniff = sniffModule().sniffBroker(target, {
        transport: e.transport,
        version: e.version,
        credentials,
        tls: e.tlsSession ? { ...opts.tls, session: e.tlsSession } : opts.tls,
        listenMs: opts.listenMs,
        writeTest: opts.writeTest,
        signal: opts.signal,
        onListening: listening,
        requireTrustedTls: !!credentials && !!login?.requireTrustedTls,
      });
      listener = true;
      work.window = window;
    }
  }
  if (opts.inspectTls !== false && e.transport === 'tls') {
    work.tls = (listener ? window : Promise.resolve()).then(() => opts.quiet?.()).then(() => inspect(target, opts));
  }
  return work;
}

/** The whole result: early stages awaited, missing ones run now, then the risk rules. */
export async function finishDeep(result: ScanResult, work: DeepWork | undefined, opts: DeepOptions): Promise<ScanResult> {
  const target = { host: result.host, port: result.port };
  const [tls, sniffed] = await Promise.all([
    work?.tls ?? (opts.inspectTls !== false && result.transport === 'tls' ? inspect(target, opts) : undefined),
    work?.sniff ? early(work, result) : opts.sniff !== false ? sniff(result, opts) : undefined,
  ]);
  let out: ScanResult = tls === undefined ? result : { ...result, tls };
  if (sniffed) {
    const sysVersion = sniffed.topics?.sys?.version;
    out = {
      ...out,
      topics: sniffed.topics,
      mqtt: !out.mqtt.brokerVersion && typeof sysVersion === 'string' ? { ...out.mqtt, brokerVersion: sysVersion } : out.mqtt,
      ...(sniffed.note ? { evidence: [...(out.evidence ?? []), sniffed.note] } : {}),
    };
  }
  return opts.classify === false ? out : classifyResult(out, opts.policy);
}

/** The stages one after the other for a finished probe result (the nodes' and simple callers' way). */
export function deepAssess(result: ScanResult, opts: DeepOptions): Promise<ScanResult> {
  return finishDeep(result, undefined, opts);
}

async function early(work: DeepWork, result: ScanResult): Promise<{ topics: ScanResult['topics']; note?: string }> {
  const topics = await work.sniff!;
  // The listener tried the user's login on its own; report topics only if the probe agrees it works.
  if (work.as === 'given' && result.auth.givenCredentials.outcome !== 'accepted') {
    return { topics: null, note: 'topics not read: not_authorized: the broker accepted neither an anonymous login nor the given credentials' };
  }
  return { topics };
}

/** Loads the modules the enabled stages use (the first use would otherwise pay it, ~60 ms). */
export function preloadDeep(opts: DeepOptions): void {
  if (opts.sniff !== false) sniffModule();
  if (opts.inspectTls !== false) tlsModule();
}

// Loaded on first use: a sweep that finds no broker never pays for node-forge and mqtt.js.
const tlsModule = (): typeof TlsModule => require('../tls');
const sniffModule = (): typeof SniffModule => require('../sniff');

function inspect(target: Target, opts: DeepOptions) {
  return tlsModule().inspectTls(
    target,
    {
      timeoutMs: opts.timeoutMs,
      ca: opts.tls?.ca,
      cert: opts.tls?.cert,
      key: opts.tls?.key,
      passphrase: opts.tls?.passphrase,
      servername: opts.tls?.servername,
      signal: opts.signal,
    },
  );
}

async function sniff(result: ScanResult, opts: DeepOptions): Promise<{ topics: ScanResult['topics']; note?: string }> {
  const { sniffBroker, sniffPlanFor } = sniffModule();
  const plan = sniffPlanFor(result, opts.credentials, opts);
  if (!plan.options) return { topics: null, note: `topics not read: ${plan.reason}` };
  const topics = await sniffBroker(
    { host: result.host, port: result.port },
    { ...plan.options, tls: opts.tls, listenMs: opts.listenMs, writeTest: opts.writeTest, signal: opts.signal },
  );
  return { topics };
}
