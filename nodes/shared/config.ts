// Reading a node's editor settings: numbers within bounds (lib/options OPTIONS), and the core tls-config node's files.
import { clampOption, type ScanOptionWithDefault } from '../../lib/options';
import type { TlsClientOptions } from '../../lib/types';
import type { TlsConfigNode } from './types';

/** A number from the editor, clamped to the option's bounds (floored when it is whole-numbered);
 *  its default when empty or not a number. */
export function numberIn(raw: unknown, option: ScanOptionWithDefault): number;
/** A number from the editor, clamped to [min, max]; the fallback when empty or not a number. */
export function numberIn(raw: unknown, fallback: number, min: number, max: number): number;
export function numberIn(raw: unknown, spec: number | ScanOptionWithDefault, min?: number, max?: number): number {
  const given = raw !== '' && raw !== undefined && raw !== null;
  if (typeof spec === 'object') return clampOption(spec, given ? Number(raw) : Number.NaN);
  const n = Number(raw);
  return Number.isFinite(n) && given ? Math.min(max!, Math.max(min!, n)) : spec;
}

/** A whole number from the editor, clamped to the option's bounds; its default when empty or not a number. */
export function intIn(raw: unknown, option: ScanOptionWithDefault): number;
/** A whole number from the editor, clamped; the fallback when empty or not a number. */
export function intIn(raw: unknown, fallback: number, min: number, max: number): number;
export function intIn(raw: unknown, spec: number | ScanOptionWithDefault, min?: number, max?: number): number {
  return Math.floor(typeof spec === 'object' ? numberIn(raw, spec) : numberIn(raw, spec, min!, max!));
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
