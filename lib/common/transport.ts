// Facts about a result's transport that every stage asks.
import type { Transport } from '../types';

/** True for transports inside TLS: 'tls' (MQTT over TLS) and 'wss' (MQTT over WebSockets over TLS). */
export function isTlsTransport(t: Transport | null | undefined): t is 'tls' | 'wss' {
  return t === 'tls' || t === 'wss';
}
