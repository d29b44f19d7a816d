// The stages after the probe for one broker: TLS inspection, listening to its topics, then the
// risk rules.
// Each stage adds its part of the result contract; a stage that fails says so in its own field.
import { inspectTls } from './tls';
import { sniffBroker, sniffPlanFor } from './sniff';
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
  const target = { host: result.host, port: result.port };
  let out = result;
  if (opts.inspectTls !== false && out.transport === 'tls') {
    const tls = await inspectTls(target, {
      timeoutMs: opts.timeoutMs,
      ca: opts.tls?.ca,
      cert: opts.tls?.cert,
      key: opts.tls?.key,
      passphrase: opts.tls?.passphrase,
      servername: opts.tls?.servername,
      signal: opts.signal,
    });
    out = { ...out, tls };
  }
  if (opts.sniff !== false && !opts.signal?.aborted) {
    const plan = sniffPlanFor(out, opts.credentials);
    if (plan.options) {
      const topics = await sniffBroker(target, {
        ...plan.options,
        tls: opts.tls,
        listenMs: opts.listenMs,
        writeTest: opts.writeTest,
        signal: opts.signal,
      });
      const sysVersion = topics.sys?.version;
      out = {
        ...out,
        topics,
        mqtt: !out.mqtt.brokerVersion && typeof sysVersion === 'string' ? { ...out.mqtt, brokerVersion: sysVersion } : out.mqtt,
      };
    } else {
      out = { ...out, topics: null, evidence: [...(out.evidence ?? []), `topics not read: ${plan.reason}`] };
    }
  }
  return opts.classify === false ? out : classifyResult(out, opts.policy);
}
