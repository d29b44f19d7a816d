// Facts about a result's transport (and, for a coordinated scan, who scanned it) that every stage
// and every output asks.
import type { ScanResult, Transport } from '../types';

/** True for transports inside TLS: 'tls' (MQTT over TLS) and 'wss' (MQTT over WebSockets over TLS). */
export function isTlsTransport(t: Transport | null | undefined): t is 'tls' | 'wss' {
  return t === 'tls' || t === 'wss';
}

/** True for MQTT over WebSockets: 'ws' and 'wss' (ScanResult.websocketPath says where). */
export function isWebSocketTransport(t: Transport | null | undefined): t is 'ws' | 'wss' {
  return t === 'ws' || t === 'wss';
}

/** A host as a URL writes it: IPv6 addresses in brackets (RFC 3986 §3.2.2). */
export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** URL schemes of the transports: mqtt and mqtts (the IANA-registered MQTT schemes), ws and wss (RFC 6455 §3). */
const SCHEMES: Record<Transport, string> = { tcp: 'mqtt', tls: 'mqtts', ws: 'ws', wss: 'wss' };

/**
 * The broker's address as a URL: mqtt://host:port, mqtts://host:port, ws://host:port/path or
 * wss://host:port/path (IPv6 hosts in brackets); null when no transport spoke MQTT or TLS.
 */
export function brokerUrl(r: Pick<ScanResult, 'host' | 'port' | 'transport' | 'websocketPath'>): string | null {
  if (!r.transport) return null;
  const path = isWebSocketTransport(r.transport) ? (r.websocketPath ?? '') : '';
  return `${SCHEMES[r.transport]}://${urlHost(r.host)}:${r.port}${path}`;
}

/** The transport in a few characters, with the WebSocket path: "tcp", "tls", "ws /mqtt", "wss /ws"; '' without one. */
export function transportLabel(r: Pick<ScanResult, 'transport' | 'websocketPath'>): string {
  if (!r.transport) return '';
  return isWebSocketTransport(r.transport) && r.websocketPath ? `${r.transport} ${r.websocketPath}` : r.transport;
}

/** Who scanned a result of a coordinated scan, in words: "agent north-1 of site north" (ScanResult.scannedBy). */
export function scannedByText(by: NonNullable<ScanResult['scannedBy']>): string {
  return `agent ${by.agent} of site ${by.site}`;
}
