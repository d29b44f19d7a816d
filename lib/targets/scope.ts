// Scope policy: which addresses may be scanned without allowPublic, and which never.
// Everything is checked on intervals, so a /8 is one comparison. The policy is ours: ip-num's
// isPrivate(), isLoopback() and the like test one address at a time and know no CGNAT
// (100.64.0.0/10); ip-num only reads the tables' CIDR blocks and maps the IPv4 ones into
// ::ffff:0:0/96 (once, at load).

import { IPv4CidrRange, IPv6CidrRange } from 'ip-num';
import { formatKey, mappedInterval, parseAddress, toInterval } from './address';
import { targetError } from './errors';
import { intersectIntervals, intervalsSize, mergeIntervals, subtractIntervals, type Interval } from './intervals';

export type Scope = 'loopback' | 'private' | 'link-local' | 'cgnat' | 'unique-local' | 'public';

interface Labelled<T> extends Interval {
  label: T;
}

const V4_ALLOWED: [string, Scope][] = [
  ['127.0.0.0/8', 'loopback'],
  ['10.0.0.0/8', 'private'],
  ['172.16.0.0/12', 'private'],
  ['192.168.0.0/16', 'private'],
  ['169.254.0.0/16', 'link-local'],
  ['100.64.0.0/10', 'cgnat'],
];
const V6_ALLOWED: [string, Scope][] = [
  ['::1/128', 'loopback'],
  ['fe80::/10', 'link-local'],
  ['fc00::/7', 'unique-local'],
];

// Nothing answers there as a unicast host; broadcast comes first as the most specific reason.
const V4_UNSCANNABLE: [string, string][] = [
  ['255.255.255.255/32', 'the broadcast address'],
  ['0.0.0.0/8', '"this network" (0.0.0.0/8)'],
  ['224.0.0.0/4', 'multicast (224.0.0.0/4)'],
  ['240.0.0.0/4', 'reserved (240.0.0.0/4)'],
];
const V6_UNSCANNABLE: [string, string][] = [
  ['::/128', 'the unspecified address (::)'],
  ['ff00::/8', 'multicast (ff00::/8)'],
];

function table<T>(v4: [string, T][], v6: [string, T][]): Labelled<T>[] {
  const v4Blocks = v4.map(([cidr, label]) => ({ block: IPv4CidrRange.fromCidr(cidr), label }));
  return [
    ...v4Blocks.map(({ block, label }) => ({ ...toInterval(block), label })),
    // IPv4-mapped IPv6 (::ffff:a.b.c.d) reaches the same hosts, so it gets the same scope.
    ...v4Blocks.map(({ block, label }) => ({ ...mappedInterval(block), label })),
    ...v6.map(([cidr, label]) => ({ ...toInterval(IPv6CidrRange.fromCidr(cidr)), label })),
  ];
}

const ALLOWED = table(V4_ALLOWED, V6_ALLOWED);
const UNSCANNABLE = table(V4_UNSCANNABLE, V6_UNSCANNABLE);
const ALLOWED_SET = mergeIntervals(ALLOWED);

/** Addresses never scanned, even inside a CIDR (merged). */
export const UNSCANNABLE_SET: readonly Interval[] = mergeIntervals(UNSCANNABLE);

function find<T>(list: Labelled<T>[], key: bigint): T | undefined {
  return list.find((e) => e.start <= key && key <= e.end)?.label;
}

export function scopeOfKey(key: bigint): Scope {
  return find(ALLOWED, key) ?? 'public';
}

/** Why an address can never be scanned, or null when it can. */
export function unscannableReason(key: bigint): string | null {
  return find(UNSCANNABLE, key) ?? null;
}

export function describeScope(address: string): Scope {
  return scopeOfKey(parseAddress(address.trim(), address).key);
}

/**
 * Throws unless every address of `token` (after exclusions) may be scanned:
 * - only never-scannable addresses: refused always;
 * - some public (or never-scannable) addresses: refused without allowPublic; with it the
 *   never-scannable ones are silently skipped (they are part of a larger range).
 */
export function checkScope(token: string, addresses: readonly Interval[], allowPublic: boolean): void {
  if (addresses.length === 0) return;
  const unscannable = intersectIntervals(addresses, UNSCANNABLE_SET);
  if (unscannable.length > 0 && intervalsSize(unscannable) === intervalsSize(addresses)) {
    const key = unscannable[0].start;
    throw targetError('scope', token, `${formatKey(key)} is ${unscannableReason(key)}, which cannot be scanned`);
  }
  if (allowPublic) return;
  const outside = subtractIntervals(addresses, ALLOWED_SET);
  if (outside.length === 0) return;
  const publicOnes = subtractIntervals(outside, UNSCANNABLE_SET);
  const example = formatKey((publicOnes[0] ?? outside[0]).start);
  const single = addresses.length === 1 && addresses[0].start === addresses[0].end;
  const what = single ? `${example} is a public address` : `includes addresses outside the private ranges (e.g. ${example})`;
  throw targetError('scope', token, `${what}; scanning it needs allowPublic (--allow-public)`);
}

// IPv4 keys are below 2^32, so the same tables as plain numbers: the per-target check of a batch
// then costs no BigInt and no ip-num (131,072 addresses: 7 ms this way, with checkAddressScope's
// dotted-quad reader; ip-num's parse alone takes 236-300 ms).
const numeric = <T>(list: Labelled<T>[]) =>
  list.filter((e) => e.end < 2n ** 32n).map((e) => ({ start: Number(e.start), end: Number(e.end), label: e.label }));
const ALLOWED_V4 = numeric(ALLOWED);
const UNSCANNABLE_V4 = numeric(UNSCANNABLE);

/** scopeOfKey and unscannableReason for an IPv4 address as a 32-bit number (0 to 2^32-1). */
export function scopeOfIPv4(value: number): { scope: Scope; unscannable: string | null } {
  const scope = ALLOWED_V4.find((e) => e.start <= value && value <= e.end)?.label ?? 'public';
  const unscannable = UNSCANNABLE_V4.find((e) => e.start <= value && value <= e.end)?.label ?? null;
  return { scope, unscannable };
}
