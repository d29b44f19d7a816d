// Contexts for TLS connections. A context holding every system CA costs ~17 ms of one core to
// build (each PEM is parsed); 20 brokers inspected at once paid that 20 times while other brokers
// waited for the CPU. Without the system CAs a context still costs ~0.3 ms (the scan's CA parsed
// again each time). One context per CA/client-certificate set, versions and ciphers is shared.
import { createHash } from 'node:crypto';
import * as tls from 'node:tls';

export interface ContextOptions {
  /** Node's bundled root CAs as well as `ca`. */
  systemCa: boolean;
  ca?: string | Buffer | Array<string | Buffer>;
  cert?: string | Buffer;
  key?: string | Buffer;
  passphrase?: string;
  minVersion: tls.SecureVersion;
  maxVersion: tls.SecureVersion;
  ciphers: string;
}

/**
 * Contexts kept, least recently used dropped first. Every TLS connection of a scan takes one
 * (lib/mqtt/socket.ts, lib/tls/handshake.ts): per CA and certificate set about a dozen (the
 * inspector's four versions and five cipher families, the default, the login's), twice that with
 * a client certificate; a long-running Node-RED sees a few labs. Fewer than a scan uses would
 * rebuild them broker after broker. A context without the system CAs holds tens of KB.
 */
export const MAX_CONTEXTS = 64;
/** A context, or what building it threw: the same inputs throw the same again (a cipher family
 *  our OpenSSL lacks is asked for on every TLS broker; building it each time cost 0.5 ms). */
type Entry = { context: tls.SecureContext } | { error: unknown };
const cache = new Map<string, Entry>();

/** Throws what tls.createSecureContext throws (a bad PEM, a wrong passphrase, no cipher matching `ciphers`). */
export function sharedContext(o: ContextOptions): tls.SecureContext {
  const key = cacheKey(o);
  let entry = cache.get(key);
  if (entry) {
    // Most recently used goes last, so the oldest is the one dropped.
    cache.delete(key);
    cache.set(key, entry);
  } else {
    const userCa = o.ca === undefined ? [] : Array.isArray(o.ca) ? o.ca : [o.ca];
    try {
      entry = {
        context: tls.createSecureContext({
          ca: o.systemCa ? [...tls.rootCertificates, ...userCa] : userCa.length ? userCa : undefined,
          cert: o.cert,
          key: o.key,
          passphrase: o.passphrase,
          minVersion: o.minVersion,
          maxVersion: o.maxVersion,
          ciphers: o.ciphers,
        }),
      };
    } catch (error) {
      entry = { error };
    }
    cache.set(key, entry);
    if (cache.size > MAX_CONTEXTS) cache.delete(cache.keys().next().value!);
  }
  if ('error' in entry) throw entry.error;
  return entry.context;
}

export function cachedContexts(): number {
  return cache.size;
}

function cacheKey(o: ContextOptions): string {
  const h = createHash('sha256');
  const part = (v: string | Buffer | undefined) => {
    const b = v === undefined ? Buffer.alloc(0) : Buffer.isBuffer(v) ? v : Buffer.from(v);
    // Length first, so no two different lists hash alike.
    h.update(`${b.length}:`).update(b);
  };
  h.update(`${o.systemCa}|${o.minVersion}|${o.maxVersion}|${o.ciphers}|`);
  const ca = o.ca === undefined ? [] : Array.isArray(o.ca) ? o.ca : [o.ca];
  h.update(`${ca.length}|`);
  ca.forEach(part);
  part(o.cert);
  part(o.key);
  part(o.passphrase);
  return h.digest('base64');
}
