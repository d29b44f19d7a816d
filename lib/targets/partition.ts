// Target specs split by site scope and into shards, for scans that several agents share
// (lib/sites). Everything works on the same intervals as planTargets, so a /16 split over two
// sites and into shards costs a few interval operations, never 65,536 addresses.

import { isIP } from 'node:net';
import { formatKey, parseAddress } from './address';
import { formatCount, targetError } from './errors';
import { assignOwners, intersectIntervals, intervalsSize, mergeIntervals, subtractIntervals, type Interval } from './intervals';
import { parseSpec, tokenize, type ParsedSpec } from './parse';
import { checkScope, UNSCANNABLE_SET } from './scope';

/** Most specs a scope or a shard may hold (a job carries its shard's specs). */
export const MAX_SCOPE_SPECS = 1024;

/** One site's share of a scan: its hosts and their shards, each a list of target specs. */
export interface SiteShare {
  site: string;
  /** Hosts of the scan inside this site's scope (addresses, not host:port pairs). */
  hosts: number;
  /** Shards in address order; each is a list of specs ('127.0.60.1-127.0.60.20', '127.0.61.7')
   *  of at most `hostsPerShard` hosts, readable by planTargets. */
  shards: string[][];
}

/** A scan's targets split by site: what each site owns, and what no site's scope holds. */
export interface ScopeSplit {
  sites: SiteShare[];
  /** Specs of the addresses that are in no site's scope (never dropped silently: report them). */
  outside: string[];
  outsideHosts: number;
}

/**
 * Parses specs made of IP addresses, CIDR blocks and ranges only (a host name would need a DNS
 * answer, which may differ between two machines: the coordinator resolves names, a job carries
 * addresses). Throws TargetError ('syntax' for a host name or a bad token, 'limit' beyond
 * MAX_SCOPE_SPECS tokens) naming the token.
 */
function parseAddressSpecs(spec: string | readonly string[], what: string): ParsedSpec[] {
  const tokens = (typeof spec === 'string' ? [spec] : [...spec]).flatMap((s) => {
    if (typeof s !== 'string') throw targetError('syntax', String(s), `${what}: specs must be strings`);
    return tokenize(s);
  });
  if (tokens.length > MAX_SCOPE_SPECS) throw targetError('limit', tokens[MAX_SCOPE_SPECS], `${what}: more than ${formatCount(MAX_SCOPE_SPECS)} specs`);
  const parsed = tokens.map(parseSpec);
  for (const p of parsed) {
    if (p.hostname !== undefined) throw targetError('syntax', p.raw, `${what}: give addresses, CIDR blocks or ranges, not a host name`);
  }
  if (!parsed.some((p) => !p.exclude)) throw targetError('empty', tokens[0] ?? '', `${what}: no address was given`);
  return parsed;
}

/** The addresses named by specs (exclusions applied, never-scannable addresses removed), merged. */
function addressesOf(specs: ParsedSpec[]): Interval[] {
  const included = mergeIntervals(specs.filter((s) => !s.exclude).flatMap((s) => s.intervals));
  const excluded = mergeIntervals([...specs.filter((s) => s.exclude).flatMap((s) => s.intervals), ...UNSCANNABLE_SET]);
  return subtractIntervals(included, excluded);
}

/**
 * planTargets' scope policy on each spec (after the user's exclusions): never-scannable only,
 * or public without allowPublic, is refused; and at least one address must be left. Returns
 * the addresses. Throws TargetError naming the token.
 */
function checkedAddresses(specs: ParsedSpec[], allowPublic: boolean, what: string): Interval[] {
  const excluded = mergeIntervals(specs.filter((s) => s.exclude).flatMap((s) => s.intervals));
  for (const s of specs) if (!s.exclude) checkScope(s.raw, subtractIntervals(mergeIntervals(s.intervals), excluded), allowPublic);
  const addresses = addressesOf(specs);
  if (addresses.length === 0) throw targetError('empty', specs[0].raw, `${what}: every address is excluded; nothing is left`);
  return addresses;
}

/**
 * A site scope ('127.0.60.0/24, !127.0.60.1') as merged address intervals, checked by the scope
 * policy (public addresses need allowPublic). Throws TargetError naming the bad token.
 */
export function scopeAddresses(scope: string | readonly string[], allowPublic = false): Interval[] {
  return checkedAddresses(parseAddressSpecs(scope, 'scope'), allowPublic, 'scope');
}

/** Intervals as specs: one address as itself, more as 'first-last'. */
export function intervalSpecs(list: readonly Interval[]): string[] {
  return list.map(({ start, end }) => (start === end ? formatKey(start) : `${formatKey(start)}-${formatKey(end)}`));
}

/**
 * The first address of `targets` (IP specs only) outside `scope`, or null when every one is
 * inside. The agent's check of a job against its own scope; `targets` are not checked against
 * the scope policy here (planTargets does that when the job runs). Throws TargetError for a bad
 * spec or a host name in either.
 */
export function firstOutsideScope(targets: string | readonly string[], scope: readonly Interval[]): string | null {
  const outside = subtractIntervals(addressesOf(parseAddressSpecs(targets, 'targets')), mergeIntervals(scope));
  return outside.length ? formatKey(outside[0].start) : null;
}

/**
 * `text` when it is one IP address written as the scanner writes a target (IPv4 dotted quad,
 * IPv6 in RFC 5952 canonical form, no brackets, no zone), else null. A block, a range, a list,
 * an exclusion or another spelling of an address ('::ffff:7f00:1', '[::1]') is null: a result
 * about such a "host" names no one broker. Never throws.
 */
export function canonicalAddress(text: string): string | null {
  if (typeof text !== 'string' || isIP(text) === 0) return null;
  try {
    return formatKey(parseAddress(text, text).key) === text ? text : null;
  } catch {
    return null;
  }
}

/** Consecutive pieces of `list` (merged) of at most `size` addresses each. */
function chunk(list: readonly Interval[], size: bigint): Interval[][] {
  const out: Interval[][] = [];
  let current: Interval[] = [];
  let room = size;
  for (const iv of list) {
    let start = iv.start;
    while (start <= iv.end) {
      const end = iv.end - start + 1n <= room ? iv.end : start + room - 1n;
      current.push({ start, end });
      room -= end - start + 1n;
      start = end + 1n;
      if (room === 0n) {
        out.push(current);
        current = [];
        room = size;
      }
    }
  }
  if (current.length) out.push(current);
  return out;
}

/**
 * Splits a scan's target specs (IP specs; resolve host names before) over sites: each address
 * goes to the first site (in the order given) whose scope holds it, then each site's addresses
 * are cut into shards of at most `hostsPerShard` hosts in address order. Addresses in no scope
 * come back in `outside`. `allowPublic` is the scope policy of the scan (planTargets' rule).
 * Throws TargetError naming a bad token, a public address without allowPublic, or (code 'limit')
 * a split of more than `maxShards` shards; RangeError for a bad hostsPerShard or maxShards.
 */
export function splitByScope(
  targets: string | readonly string[],
  scopes: ReadonlyArray<{ site: string; scope: readonly Interval[] }>,
  opts: { hostsPerShard: number; maxShards: number; allowPublic?: boolean },
): ScopeSplit {
  if (!Number.isSafeInteger(opts.hostsPerShard) || opts.hostsPerShard < 1) throw new RangeError(`hostsPerShard must be a whole number >= 1, got ${opts.hostsPerShard}`);
  if (!Number.isSafeInteger(opts.maxShards) || opts.maxShards < 1) throw new RangeError(`maxShards must be a whole number >= 1, got ${opts.maxShards}`);
  const specs = parseAddressSpecs(targets, 'targets');
  const addresses = checkedAddresses(specs, opts.allowPublic === true, 'targets');
  const owned = assignOwners(scopes.map((s) => intersectIntervals(addresses, mergeIntervals(s.scope))), []);
  const outside = subtractIntervals(addresses, mergeIntervals(owned.flat()));
  const size = BigInt(opts.hostsPerShard);
  let shardCount = 0;
  const sites = scopes.map((s, i) => {
    const shards = chunk(owned[i], size).map(intervalSpecs);
    shardCount += shards.length;
    return { site: s.site, hosts: Number(intervalsSize(owned[i])), shards };
  });
  if (shardCount > opts.maxShards) {
    throw targetError('limit', specs[0].raw, `${formatCount(shardCount)} shards of at most ${formatCount(opts.hostsPerShard)} hosts, more than ${formatCount(opts.maxShards)}`);
  }
  return { sites, outside: intervalSpecs(outside), outsideHosts: Number(intervalsSize(outside)) };
}
