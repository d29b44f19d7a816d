// IPv4/IPv6 literals <-> keys. One bigint key space holds both families so that intervals,
// merging and counting need no family checks: IPv4 a.b.c.d is its 32-bit value, IPv6 address
// x is V6_BASE + x. So every IPv4 key sorts before every IPv6 key.
//
// ip-num parses and validates every literal: IPv4 (no leading zeros: inet_aton would read 010 as
// octal 8), IPv6 with '::' and a trailing dotted quad, netmasks. What stays here, and why
// (figures from bench/targets-ipnum.ts, see bench/README.md):
// - the wording of our errors: ip-num says only "Value given contains an invalid Octet..." or
//   "Given IPv6 is not confirm to a valid IPv6 address"; when it refuses a literal,
//   ipv4Problem/ipv6Problem say what is wrong in the user's terms (they run on refusal only);
// - zone ids: ip-num accepts 'fe80::1%eth0', we refuse them;
// - the CIDR block of a token (cidrInterval): ip-num's IPv4CidrRange/IPv6CidrRange build the
//   mask as a string of '1's and parse it back for getFirst()/getLast(): 15-25 us per IPv4 block
//   and 50-60 us per IPv6 block, against under 0.2 us for a bigint shift. With them, a
//   100,000-character list of IPv6 /128s (the input limit) planned in 528 ms (median of 11 runs,
//   494-571) instead of 156 ms (118-207), all of it blocking the event loop (a node test,
//   test/nodes/probe-node.test.ts, allows a 200 ms stall). test/lib/targets.test.ts checks the
//   shift against ip-num's blocks;
// - formatting (formatKey, formatIPv4): see there.

import { IPv4, IPv4Mask, IPv6, type AbstractIPNum, type IPv4CidrRange } from 'ip-num';
import { targetError, type TargetError } from './errors';
import type { Interval } from './intervals';

export const V6_BASE = 1n << 32n;
const V4_BITS = 32;
const V6_BITS = 128;

export interface Address {
  key: bigint;
  v6: boolean;
}

export function isV6Key(key: bigint): boolean {
  return key >= V6_BASE;
}

function keyOf(ip: AbstractIPNum): bigint {
  return ip instanceof IPv6 ? V6_BASE + ip.getValue() : ip.getValue();
}

/** The closed interval of keys of an ip-num CIDR block or range. */
export function toInterval(range: { getFirst(): AbstractIPNum; getLast(): AbstractIPNum }): Interval {
  return { start: keyOf(range.getFirst()), end: keyOf(range.getLast()) };
}

/** Strict dotted quad: no leading zeros. */
function parseIPv4(text: string, token: string): IPv4 {
  try {
    return new IPv4(text);
  } catch {
    throw ipv4Problem(text, token);
  }
}

/** Why ip-num refused `text` as an IPv4 address, in our words. */
function ipv4Problem(text: string, token: string): TargetError {
  const parts = text.split('.');
  if (parts.length !== 4) {
    return targetError('syntax', token, `an IPv4 address has 4 octets, "${text}" has ${parts.length}`);
  }
  for (const part of parts) {
    if (part === '') return targetError('syntax', token, `empty octet in "${text}"`);
    if (!/^\d+$/.test(part)) return targetError('syntax', token, `octet "${part}" is not a number`);
    if (part.length > 1 && part[0] === '0') {
      return targetError('syntax', token, `octet ${part} has a leading zero (octal or decimal?); write it without`);
    }
    if (part.length > 3 || Number(part) > 255) return targetError('range', token, `octet ${part} out of 0-255`);
  }
  return targetError('syntax', token, `not a valid IPv4 address`);
}

/** RFC 4291 text form, including '::' and a trailing dotted quad; no zone ids. */
function parseIPv6(text: string, token: string): IPv6 {
  if (text.includes('%')) throw targetError('syntax', token, 'not a valid IPv6 address: zone ids (%...) are not supported');
  try {
    return new IPv6(text);
  } catch {
    throw ipv6Problem(text, token);
  }
}

/** Why ip-num refused `text` as an IPv6 address, in our words (an IPv4 error for a bad dotted quad). */
function ipv6Problem(text: string, token: string): TargetError {
  const bad = (why: string): TargetError => targetError('syntax', token, `not a valid IPv6 address: ${why}`);
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return bad(`unexpected character in "${text}"`);
  const halves = text.split('::');
  if (halves.length > 2) return bad('"::" may appear only once');
  const compressed = halves.length === 2;
  // A dotted quad may only end the address, so only the last half may hold one.
  let found = 0;
  for (const [half, last] of compressed ? ([[halves[0], false], [halves[1], true]] as const) : ([[text, true]] as const)) {
    if (half === '') continue;
    const parts = half.split(':');
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (part.includes('.')) {
        if (!last || i !== parts.length - 1) return bad('an embedded IPv4 address must come last');
        parseIPv4(part, token);
        found += 2;
      } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
        found++;
      } else {
        return bad(part === '' ? 'empty group' : `group "${part}" is not 1-4 hex digits`);
      }
    }
  }
  if (!compressed && found !== 8) return bad(`8 groups expected, found ${found}`);
  if (compressed && found > 7) return bad('"::" must stand for at least one group');
  return bad(`"${text}"`);
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
  if (inner.includes(':')) return { key: keyOf(parseIPv6(inner, token)), v6: true };
  if (inner !== text) throw targetError('syntax', token, 'brackets are only for IPv6 addresses');
  return { key: keyOf(parseIPv4(inner, token)), v6: false };
}

export function addressBits(v6: boolean): number {
  return v6 ? V6_BITS : V4_BITS;
}

/** The prefix length of a dotted netmask ('255.255.255.0' -> 24). */
export function maskPrefix(text: string, token: string): number {
  try {
    return new IPv4Mask(text).prefix;
  } catch {
    parseIPv4(text, token); // a bad address says so in its own words
    throw targetError('syntax', token, `mask ${text} is not contiguous (ones then zeros)`);
  }
}

/**
 * The block of `prefix` bits around `address` (host bits ignored, as `ip route` would refuse but
 * nmap accepts).
 */
export function cidrInterval(address: Address, prefix: number): Interval {
  const hostBits = BigInt(addressBits(address.v6) - prefix);
  const base = address.v6 ? V6_BASE : 0n;
  const start = (((address.key - base) >> hostBits) << hostBits) + base;
  return { start, end: start + (1n << hostBits) - 1n };
}

/** The IPv4-mapped IPv6 block (::ffff:a.b.c.d) of an IPv4 block: the same hosts, reached over IPv6. */
export function mappedInterval(block: IPv4CidrRange): Interval {
  return { start: keyOf(block.getFirst().toIPv4MappedIPv6()), end: keyOf(block.getLast().toIPv4MappedIPv6()) };
}

// Formatting stays ours: every streamed target is formatted once, and through ip-num that costs
// 37x more for IPv4 (IPv4.fromNumber(n).toString(): 1.5-1.7 s per million addresses against
// 41-45 ms) and 6x more for IPv6 (collapseIPv6Number(IPv6.fromBigInt(v).toString())), whose text
// is not RFC 5952 for IPv4-mapped addresses either (::ffff:7f00:1, not ::ffff:127.0.0.1).

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
