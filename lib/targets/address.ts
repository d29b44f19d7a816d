// IPv4/IPv6 literals <-> keys. One bigint key space holds both families so that intervals,
// merging and counting need no family checks: IPv4 a.b.c.d is its 32-bit value, IPv6 address
// x is V6_BASE + x. So every IPv4 key sorts before every IPv6 key.

import { targetError, type TargetError } from './errors';
import type { Interval } from './intervals';

export const V6_BASE = 1n << 32n;
const V4_BITS = 32;
const V6_BITS = 128;
const V4_MAPPED = 0xffff00000000n; // ::ffff:0:0/96

export interface Address {
  key: bigint;
  v6: boolean;
}

export function isV6Key(key: bigint): boolean {
  return key >= V6_BASE;
}

/** Strict dotted quad. No leading zeros: inet_aton reads 010 as octal 8, so we refuse to guess. */
export function parseIPv4(text: string, token: string): number {
  const parts = text.split('.');
  if (parts.length !== 4) {
    throw targetError('syntax', token, `an IPv4 address has 4 octets, "${text}" has ${parts.length}`);
  }
  let value = 0;
  for (const part of parts) {
    if (part === '') throw targetError('syntax', token, `empty octet in "${text}"`);
    if (!/^\d+$/.test(part)) throw targetError('syntax', token, `octet "${part}" is not a number`);
    if (part.length > 1 && part[0] === '0') {
      throw targetError('syntax', token, `octet ${part} has a leading zero (octal or decimal?); write it without`);
    }
    if (part.length > 3 || Number(part) > 255) {
      throw targetError('range', token, `octet ${part} out of 0-255`);
    }
    value = value * 256 + Number(part);
  }
  return value;
}

/** RFC 4291 text form, including '::' and a trailing dotted quad; no zone ids. */
export function parseIPv6(text: string, token: string): bigint {
  const bad = (why: string): TargetError => targetError('syntax', token, `not a valid IPv6 address: ${why}`);
  if (text.includes('%')) throw bad('zone ids (%...) are not supported');
  if (!/^[0-9a-fA-F:.]+$/.test(text)) throw bad(`unexpected character in "${text}"`);
  const halves = text.split('::');
  if (halves.length > 2) throw bad('"::" may appear only once');
  const compressed = halves.length === 2;
  // A dotted quad may only end the address, so only the last half may hold one.
  const head = toGroups(halves[0], !compressed, token, bad);
  const tail = compressed ? toGroups(halves[1], true, token, bad) : [];
  const found = head.length + tail.length;
  if (!compressed && found !== 8) throw bad(`8 groups expected, found ${found}`);
  if (compressed && found > 7) throw bad('"::" must stand for at least one group');
  const groups = [...head, ...new Array<number>(8 - found).fill(0), ...tail];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

function toGroups(half: string, last: boolean, token: string, bad: (why: string) => TargetError): number[] {
  if (half === '') return [];
  const parts = half.split(':');
  const out: number[] = [];
  parts.forEach((part, i) => {
    if (part.includes('.')) {
      if (!last || i !== parts.length - 1) throw bad('an embedded IPv4 address must come last');
      const v4 = parseIPv4(part, token);
      out.push(v4 >>> 16, v4 & 0xffff);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
      out.push(parseInt(part, 16));
    } else {
      throw bad(part === '' ? 'empty group' : `group "${part}" is not 1-4 hex digits`);
    }
  });
  return out;
}

/** '[::1]' -> '::1'; text without brackets is returned as is. */
export function unbracket(text: string, token: string): string {
  if (!text.startsWith('[') && !text.endsWith(']')) return text;
  if (!/^\[[^[\]]*\]$/.test(text)) throw targetError('syntax', token, `unbalanced brackets in "${text}"`);
  return text.slice(1, -1);
}

/** Any single address: IPv4, IPv6 or [IPv6]. */
export function parseAddress(text: string, token: string): Address {
  const inner = unbracket(text, token);
  if (inner.includes(':')) return { key: V6_BASE + parseIPv6(inner, token), v6: true };
  if (inner !== text) throw targetError('syntax', token, 'brackets are only for IPv6 addresses');
  return { key: BigInt(parseIPv4(inner, token)), v6: false };
}

export function addressBits(v6: boolean): number {
  return v6 ? V6_BITS : V4_BITS;
}

/** The block of `prefix` bits around `key` (host bits ignored, as `ip route` would refuse but nmap accepts). */
export function cidrInterval(key: bigint, v6: boolean, prefix: number): Interval {
  const base = v6 ? V6_BASE : 0n;
  const hostBits = BigInt(addressBits(v6) - prefix);
  const start = (((key - base) >> hostBits) << hostBits) + base;
  return { start, end: start + (1n << hostBits) - 1n };
}

/** Key of ::ffff:a.b.c.d for the IPv4 key of a.b.c.d (scope tables hold both forms). */
export function mappedKey(v4Key: bigint): bigint {
  return V6_BASE + V4_MAPPED + v4Key;
}

export function formatIPv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

export function formatKey(key: bigint): string {
  if (!isV6Key(key)) return formatIPv4(Number(key));
  const value = key - V6_BASE;
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((value >> shift) & 0xffffn));
  return formatIPv6Groups(groups);
}

/**
 * RFC 5952 canonical text: lower case, no leading zeros, the longest run (first on a tie) of
 * two or more zero groups as '::', IPv4-mapped addresses as ::ffff:a.b.c.d.
 */
export function formatIPv6Groups(g: readonly number[]): string {
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIPv4(g[6] * 65536 + g[7])}`;
  }
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j > i ? j : i + 1;
  }
  const hex = (from: number, to: number): string =>
    g
      .slice(from, to)
      .map((x) => x.toString(16))
      .join(':');
  if (bestAt < 0) return hex(0, 8);
  return `${hex(0, bestAt)}::${hex(bestAt + bestLen, 8)}`;
}
