// Shape checks for what arrives in a message (a node's input, an API request): a scan result or a
// scan summary of lib/types.ts.
import type { ScanResult, ScanSummary } from '../types';

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v);
}

export function isScanResult(v: unknown): v is ScanResult {
  return isPlainObject(v) && typeof v.host === 'string' && typeof v.port === 'number' && isPlainObject(v.auth) && typeof v.classification === 'string';
}

export function isScanSummary(v: unknown): v is ScanSummary {
  return isPlainObject(v) && typeof v.scanId === 'string' && typeof v.startedAt === 'string';
}

/** The scan a message belongs to: payload.scanId, else msg.scanId, else ''. */
export function scanIdOf(msg: { payload?: unknown; scanId?: unknown }): string {
  const p = msg.payload;
  if (isPlainObject(p) && typeof p.scanId === 'string' && p.scanId) return p.scanId;
  return typeof msg.scanId === 'string' && msg.scanId ? msg.scanId : '';
}

/**
 * The least a stage that connects needs: `host` (string) and an integer `port`. The TLS inspector
 * takes such a partial result too ({host, port, transport}), as its help says.
 */
export function hasBrokerAddress(v: unknown): v is Partial<ScanResult> & Pick<ScanResult, 'host' | 'port'> {
  return isPlainObject(v) && typeof v.host === 'string' && Number.isInteger(v.port);
}
