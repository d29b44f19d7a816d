// The stages after the probe for one broker: TLS inspection, listening to its topics, then the
// risk rules.
// Each stage adds its part of the result contract; a stage that fails says so in its own field.
import type * as TlsModule from './tls';
import type * as SniffModule from './sniff';
import type { Credentials } from './probe';
import type { TlsClientOptions } from './mqtt-connect';
import { classifyResult } from './risk';
import type { Policy } from './risk';
import type { ScanResult } from './types';

export interface DeepOptions {
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
}

export async function deepAssess(result: ScanResult, opts: DeepOptions): Promise<ScanResult> {
  // The two stages are independent (the sniffer needs only the probe's verdict): run them together.
  const [tls, sniffed] = await Promise.all([
    opts.inspectTls !== false && result.transport === 'tls' ? inspect(result, opts) : undefined,
    opts.sniff !== false ? sniff(result, opts) : undefined,
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

// Loaded on first use: a sweep that finds no broker never pays for node-forge and mqtt.js.
const tlsModule = (): typeof TlsModule => require('./tls');
const sniffModule = (): typeof SniffModule => require('./sniff');

function inspect(result: ScanResult, opts: DeepOptions) {
  return tlsModule().inspectTls(
    { host: result.host, port: result.port },
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
  const plan = sniffPlanFor(result, opts.credentials);
  if (!plan.options) return { topics: null, note: `topics not read: ${plan.reason}` };
  const topics = await sniffBroker(
    { host: result.host, port: result.port },
    { ...plan.options, tls: opts.tls, listenMs: opts.listenMs, writeTest: opts.writeTest, signal: opts.signal },
  );
  return { topics };
}
