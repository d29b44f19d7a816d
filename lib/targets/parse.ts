// Target tokens -> address intervals (or a hostname still to resolve). Syntax only: scope,
// limits and resolution are decided later, on the whole list.

import {
  addressBits,
  cidrInterval,
  formatKey,
  maskPrefix,
  parseAddress,
  unbracket,
  type Address,
} from './address';
import { formatCount, targetError } from './errors';
import type { Interval } from './intervals';

export const MAX_INPUT_CHARS = 100_000;
export const MAX_TOKEN_CHARS = 253; // the longest DNS name
export const MAX_V6_BLOCK = 65_536;

export interface ParsedSpec {
  /** As typed, '!' included. */
  raw: string;
  exclude: boolean;
  /** Canonical form for reports: '10.0.0.0/24', '!fd00::1', 'broker.lab'. */
  normalized: string;
  /** Merged; filled in by resolution for hostnames. */
  intervals: Interval[];
  hostname?: string;
}

/** Splits on commas and any whitespace; empty tokens are ignored. */
export function tokenize(input: string): string[] {
  return input.split(/[\s,]+/).filter((t) => t !== '');
}

export function parseSpec(raw: string): ParsedSpec {
  if (raw.length > MAX_TOKEN_CHARS) {
    throw targetError('syntax', raw, `too long (${formatCount(raw.length)} characters; at most ${MAX_TOKEN_CHARS})`);
  }
  const exclude = raw.startsWith('!');
  const body = exclude ? raw.slice(1) : raw;
  if (body === '') throw targetError('syntax', raw, 'an exclusion needs an address after "!"');
  checkCharacters(body, raw);
  const { normalized, intervals, hostname } = parseBody(body, raw, exclude);
  return { raw, exclude, normalized: (exclude ? '!' : '') + normalized, intervals, hostname };
}

type Body = Pick<ParsedSpec, 'normalized' | 'intervals' | 'hostname'>;

function parseBody(body: string, raw: string, exclude: boolean): Body {
  if (/^(\[[^\]]*\]|[^:[\]]+):\d+$/.test(body)) {
    throw targetError('syntax', raw, 'a target takes no port; give ports in the ports option (--ports)');
  }
  if (body.includes('/')) return parseCidr(body, raw, exclude);
  if (body.includes('-') && /^[\d.:[\]a-fA-F-]+$/.test(body) && isAddressLike(body.split('-')[0])) {
    return parseRange(body, raw, exclude);
  }
  if (isAddressLike(body)) {
    const { key } = parseAddress(body, raw);
    return { normalized: formatKey(key), intervals: [{ start: key, end: key }] };
  }
  return parseHostname(body, raw);
}

// Digits and dots are an IPv4 attempt (a DNS name's last label is never all-numeric);
// a colon or a bracket is an IPv6 attempt.
function isAddressLike(text: string): boolean {
  return /^[\d.]*$/.test(text) || text.includes(':') || text.startsWith('[');
}

function checkCharacters(body: string, raw: string): void {
  const bad = /[^A-Za-z0-9._:/[\]-]/u.exec(body);
  if (!bad) return;
  const code = body.codePointAt(bad.index) as number;
  const char = String.fromCodePoint(code);
  const unicode = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  const detail =
    code < 0x20 || (code >= 0x7f && code <= 0x9f)
      ? `control character ${unicode} is not allowed`
      : code > 0x7e
        ? `non-ASCII character "${char}" (${unicode}); write international names in punycode (xn--...)`
        : `character "${char}" is not allowed (expected an IP address, CIDR, range or hostname)`;
  throw targetError('syntax', raw, detail);
}

function parseCidr(body: string, raw: string, exclude: boolean): Body {
  const slash = body.indexOf('/');
  const addressText = body.slice(0, slash);
  const prefixText = body.slice(slash + 1);
  if (addressText === '') throw targetError('syntax', raw, 'missing address before "/"');
  const address = parseAddress(addressText, raw);
  const bits = addressBits(address.v6);
  const prefix = !address.v6 && prefixText.includes('.') ? maskPrefix(prefixText, raw) : parsePrefix(prefixText, bits, raw);
  const interval = cidrInterval(address, prefix);
  checkV6Size(address.v6, interval, raw, exclude, `/${prefix}`);
  return { normalized: `${formatKey(interval.start)}/${prefix}`, intervals: [interval] };
}

function parsePrefix(text: string, bits: number, raw: string): number {
  const n = /^\d{1,3}$/.test(text) ? Number(text) : NaN;
  if (n >= 0 && n <= bits) return n;
  const code = /^-?\d+$/.test(text) ? 'range' : 'syntax';
  throw targetError(code, raw, `prefix must be 0-${bits}`);
}

function parseRange(body: string, raw: string, exclude: boolean): Body {
  const dash = body.indexOf('-');
  const startText = body.slice(0, dash);
  const endText = body.slice(dash + 1);
  if (startText === '' || endText === '') throw targetError('syntax', raw, 'a range needs a start and an end');
  const start = parseAddress(startText, raw);
  const end = parseRangeEnd(start, unbracket(endText, raw), raw);
  if (start.key > end.key) throw targetError('range', raw, 'range start is after its end');
  const interval = { start: start.key, end: end.key };
  checkV6Size(start.v6, interval, raw, exclude, 'range');
  return { normalized: `${formatKey(start.key)}-${formatKey(end.key)}`, intervals: [interval] };
}

/** Full address, or for IPv4 just the last octet ('10.0.0.1-254'). */
function parseRangeEnd(start: Address, text: string, raw: string): Address {
  if (!start.v6 && /^\d+$/.test(text)) {
    // The start's first three octets and this one: '10.0.0.1-254' ends at 10.0.0.254.
    return parseAddress(formatKey(start.key).replace(/\d+$/, text), raw);
  }
  if (!start.v6 && !text.includes(':') && !/^(\d+\.){3}\d+$/.test(text)) {
    throw targetError('syntax', raw, 'a range ends with a full IPv4 address or a last octet (10.0.0.1-254)');
  }
  const end = parseAddress(text, raw);
  if (end.v6 !== start.v6) throw targetError('syntax', raw, 'a range cannot mix IPv4 and IPv6');
  return end;
}

// Exclusions may be any size: removing addresses costs nothing.
function checkV6Size(v6: boolean, { start, end }: Interval, raw: string, exclude: boolean, what: string): void {
  if (!v6 || exclude || end - start + 1n <= BigInt(MAX_V6_BLOCK)) return;
  const hint = what === 'range' ? 'this range' : `prefix ${what}`;
  throw targetError(
    'limit',
    raw,
    `${hint} is too large for IPv6: at most ${formatCount(MAX_V6_BLOCK)} addresses (/112 or longer)`,
  );
}

function parseHostname(body: string, raw: string): Body {
  const name = body.endsWith('.') ? body.slice(0, -1) : body;
  const labels = name.split('.');
  const label = /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;
  const bad = labels.find((l) => !label.test(l));
  if (bad !== undefined) {
    const why = bad === '' ? 'empty label' : bad.length > 63 ? 'label longer than 63 characters' : `label "${bad}"`;
    throw targetError('syntax', raw, `not a valid hostname (${why}: letters, digits and inner "-" only)`);
  }
  if (/^\d+$/.test(labels[labels.length - 1])) {
    throw targetError('syntax', raw, 'not a valid hostname or IPv4 address');
  }
  const hostname = name.toLowerCase();
  return { normalized: hostname, intervals: [], hostname };
}
