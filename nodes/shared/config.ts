// Reading a node's editor settings: numbers within bounds, and the core tls-config node's files.
import type { TlsClientOptions } from '../../lib/types';
import type { TlsConfigNode } from './types';

/** A number from the editor, clamped to [min, max]; the fallback when empty or not a number. */
export function numberIn(raw: unknown, fallback: number, min: number, max: number): number {
  const n = Number(raw);
  return Number.isFinite(n) && raw !== '' && raw !== undefined && raw !== null ? Math.min(max, Math.max(min, n)) : fallback;
}

/** A whole number from the editor, clamped; the fallback when empty or not a number. */
export function intIn(raw: unknown, fallback: number, min: number, max: number): number {
  return Math.floor(numberIn(raw, fallback, min, max));
}

/** CA, client certificate and key from a tls-config node, only the ones it has. */
export function tlsOptions(tlsNode: TlsConfigNode | null): TlsClientOptions | undefined {
  if (!tlsNode) return undefined;
  const opts: Record<string, unknown> = {};
  tlsNode.addTLSOptions(opts);
  const out: TlsClientOptions = {};
  for (const k of ['ca', 'cert', 'key', 'passphrase', 'servername'] as const) if (opts[k]) (out as Record<string, unknown>)[k] = opts[k];
  return out;
}
