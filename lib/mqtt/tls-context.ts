// Contexts for handshakes that judge trust. A context holding every system CA costs ~17 ms of
// one core to build (each PEM is parsed); 20 brokers inspected at once paid that 20 times while
// other brokers waited for the CPU. One context per CA/client-certificate set is shared instead.
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

/** A scan uses one or two sets; a long-running Node-RED sees a few labs. */
const MAX_CONTEXTS = 8;
const cache = new Map<string, tls.SecureContext>();

/** Throws what tls.createSecureContext throws (a bad PEM, a wrong passphrase). */
export function sharedContext(o: ContextOptions): tls.SecureContext {
  const key = cacheKey(o);
  const hit = cache.get(key);
  if (hit) {
    // Most recently used goes last, so the oldest is the one dropped.
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const userCa = o.ca === undefined ? [] : Array.isArray(o.ca) ? o.ca : [o.ca];
  const context = tls.createSecureContext({
    ca: o.systemCa ? [...tls.rootCertificates, ...userCa] : userCa.length ? userCa : undefined,
    cert: o.cert,
    key: o.key,
    passphrase: o.passphrase,
    minVersion: o.minVersion,
    maxVersion: o.maxVersion,
    ciphers: o.ciphers,
  });
  cache.set(key, context);
  if (cache.size > MAX_CONTEXTS) cache.delete(cache.keys().next().value!);
  return context;
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
