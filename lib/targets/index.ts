// Target specs -> a streamed sequence of host:port pairs, with a scope policy and limits.
//
// Every spec becomes closed intervals of address keys (targets/address.ts), so planning,
// counting and scope checks cost O(tokens), never O(addresses); only iteration walks addresses.
// Never-scannable addresses (0.0.0.0/8, multicast, 240.0.0.0/4, broadcast, ::, ff00::/8) are
// refused when a spec holds nothing else; inside a larger range (which needs allowPublic
// anyway) they are silently skipped and not counted.

import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { formatIPv4, formatIPv6Groups, formatKey, isV6Key, parseAddress, V6_BASE } from './address';
import { formatCount, targetError } from './errors';
import { assignOwners, intervalsSize, mergeIntervals, subtractIntervals, type Interval } from './intervals';
import { MAX_INPUT_CHARS, parseSpec, tokenize, type ParsedSpec } from './parse';
import { parsePorts } from './ports';
import { checkScope, scopeOfIPv4, scopeOfKey, unscannableReason, UNSCANNABLE_SET, type Scope } from './scope';
import { OPTIONS } from '../options';
import type { Target } from '../types';

export { TargetError, type TargetErrorCode } from './errors';
export { DEFAULT_PORTS, PORT_PRESETS, parsePorts } from './ports';
export { describeScope, type Scope } from './scope';
export { compareResults } from './order';
export {
  splitByScope, scopeAddresses, firstOutsideScope, intervalSpecs, canonicalAddress, MAX_SCOPE_SPECS,
  type ScopeSplit, type SiteShare,
} from './partition';
export type { Interval as AddressInterval } from './intervals';

/** Largest scan in host:port pairs (lib/options OPTIONS.maxTargets). */
export const DEFAULT_MAX_TARGETS: number = OPTIONS.maxTargets.default;

export interface TargetOptions {
  /** Default DEFAULT_PORTS. */
  ports?: string | number | number[];
  /** Most host:port pairs allowed; default DEFAULT_MAX_TARGETS. Infinity disables the limit. */
  maxTargets?: number;
  /** Allow addresses outside loopback, private, link-local, CGNAT and unique-local ranges. */
  allowPublic?: boolean;
  /** Default: dns.promises.lookup(name, { all: true }). */
  resolve?: (hostname: string) => Promise<string[]>;
}

export interface TargetPlan {
  /** Exact number of host:port pairs after exclusions (hostCount * ports.length). */
  readonly count: number;
  readonly hostCount: number;
  readonly ports: readonly number[];
  /** Normalized tokens, e.g. ['127.0.0.0/24', '!127.0.0.5']. */
  readonly specs: readonly string[];
  /** Streams targets host-major; every call starts over. */
  [Symbol.iterator](): Iterator<Target>;
  /** Consecutive chunks of at most `size` targets. */
  batches(size: number): Iterator<Target[]>;
  hosts(): Iterator<string>;
}

export async function planTargets(spec: string | string[], opts: TargetOptions = {}): Promise<TargetPlan> {
  const ports = parsePorts(opts.ports);
  const maxTargets = checkMaxTargets(opts.maxTargets);
  const specs = parseInput(spec);
  await resolveHostnames(specs, opts.resolve ?? defaultResolve);

  const includes = specs.filter((s) => !s.exclude);
  const excluded = mergeIntervals(specs.filter((s) => s.exclude).flatMap((s) => s.intervals));
  for (const s of includes) checkScope(s.raw, subtractIntervals(s.intervals, excluded), opts.allowPublic === true);

  // Each address goes to the first spec that names it: host-major order, no duplicates.
  const owned = assignOwners(
    includes.map((s) => s.intervals),
    mergeIntervals([...excluded, ...UNSCANNABLE_SET]),
  );
  const hostCounts = owned.map((list) => Number(intervalsSize(list)));
  const hostCount = hostCounts.reduce((a, b) => a + b, 0);
  if (hostCount === 0) {
    throw targetError('empty', includes[0].raw, 'every address is excluded; nothing is left to scan');
  }
  checkLimit(includes, hostCounts, ports.length, maxTargets);
  const normalized = [...new Set(specs.map((s) => s.normalized))];
  return new Plan(owned.flat(), ports, normalized, hostCount);
}

function parseInput(spec: string | string[]): ParsedSpec[] {
  const parts = Array.isArray(spec) ? spec : [spec];
  if (parts.some((p) => typeof p !== 'string')) {
    throw targetError('syntax', String(spec), 'targets must be a string or an array of strings');
  }
  const length = parts.reduce((n, p) => n + p.length, 0);
  if (length > MAX_INPUT_CHARS) {
    throw targetError(
      'limit',
      parts.join(','),
      `target list too long (${formatCount(length)} characters; at most ${formatCount(MAX_INPUT_CHARS)})`,
    );
  }
  const specs = parts.flatMap(tokenize).map(parseSpec);
  if (specs.length === 0) throw targetError('empty', '', 'no target was given');
  if (specs.every((s) => s.exclude)) {
    throw targetError('empty', specs[0].raw, 'only exclusions were given; name what to scan as well');
  }
  return specs;
}

function checkMaxTargets(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_TARGETS;
  if (value === Infinity || (Number.isSafeInteger(value) && value >= 1)) return value;
  throw targetError('limit', String(value), 'maxTargets must be a whole number of at least 1');
}

async function defaultResolve(hostname: string): Promise<string[]> {
  const found = await dns.lookup(hostname, { all: true, verbatim: true });
  return found.map((a) => a.address);
}

/** Resolves each distinct name once, all at once; reports the first failure in input order. */
async function resolveHostnames(specs: ParsedSpec[], resolve: (hostname: string) => Promise<string[]>): Promise<void> {
  const pending = new Map<string, Promise<Interval[] | string>>();
  for (const { hostname } of specs) {
    if (hostname !== undefined && !pending.has(hostname)) pending.set(hostname, resolveOne(hostname, resolve));
  }
  for (const s of specs) {
    if (s.hostname === undefined) continue;
    const result = await (pending.get(s.hostname) as Promise<Interval[] | string>);
    if (typeof result === 'string') throw targetError('resolve', s.raw, result);
    s.intervals = result;
  }
}

/** The addresses of `name` as merged intervals, or why there are none. */
async function resolveOne(name: string, resolve: (hostname: string) => Promise<string[]>): Promise<Interval[] | string> {
  let addresses: unknown;
  try {
    addresses = await resolve(name);
  } catch (err) {
    const e = err as NodeJS.ErrnoException | undefined;
    return `cannot resolve hostname ${name} (${e?.code ?? e?.message ?? String(err)})`;
  }
  if (!Array.isArray(addresses) || addresses.length === 0) return `hostname ${name} resolved to no address`;
  const intervals: Interval[] = [];
  for (const a of addresses) {
    try {
      const { key } = parseAddress(String(a), name);
      intervals.push({ start: key, end: key });
    } catch {
      return `hostname ${name} resolved to "${String(a)}", which is not an IP address`;
    }
  }
  return mergeIntervals(intervals);
}

function checkLimit(includes: ParsedSpec[], hostCounts: number[], portCount: number, maxTargets: number): void {
  const total = hostCounts.reduce((a, b) => a + b, 0) * portCount;
  if (total <= maxTargets) return;
  // Name the spec that crosses the limit (in input order).
  let hosts = 0;
  let at = 0;
  while (at < includes.length - 1 && (hosts + hostCounts[at]) * portCount <= maxTargets) hosts += hostCounts[at++];
  const others = includes.length - 1;
  const withOthers = others > 0 ? ` (with ${others} other spec${others > 1 ? 's' : ''})` : '';
  const portWord = portCount === 1 ? 'port' : 'ports';
  throw targetError(
    'limit',
    includes[at].raw,
    `${formatCount(total / portCount)} hosts${withOthers} x ${portCount} ${portWord} = ${formatCount(total)} targets, ` +
      `more than maxTargets (${formatCount(maxTargets)}); raise maxTargets (--max-targets) to scan it`,
  );
}

class Plan implements TargetPlan {
  readonly count: number;

  constructor(
    private readonly segments: readonly Interval[],
    readonly ports: readonly number[],
    readonly specs: readonly string[],
    readonly hostCount: number,
  ) {
    this.count = hostCount * ports.length;
    Object.freeze(ports);
    Object.freeze(specs);
  }

  *hosts(): Generator<string> {
    for (const { start, end } of this.segments) {
      yield* isV6Key(start) ? ipv6Hosts(start - V6_BASE, end - V6_BASE) : ipv4Hosts(Number(start), Number(end));
    }
  }

  *[Symbol.iterator](): Generator<Target> {
    for (const host of this.hosts()) {
      for (const port of this.ports) yield { host, port };
    }
  }

  /** Throws a RangeError at once (not on first next()) for a size below 1. */
  batches(size: number): Generator<Target[]> {
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`batch size must be a whole number >= 1, got ${size}`);
    return this.chunks(size);
  }

  private *chunks(size: number): Generator<Target[]> {
    let batch: Target[] = [];
    for (const target of this) {
      batch.push(target);
      if (batch.length === size) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  toJSON(): { count: number; hostCount: number; ports: readonly number[]; specs: readonly string[] } {
    return { count: this.count, hostCount: this.hostCount, ports: this.ports, specs: this.specs };
  }

  toString(): string {
    return `${this.specs.join(' ')} (${formatCount(this.count)} targets)`;
  }
}

// Streaming stays ours: a plan of millions of targets is walked lazily, one string per host.
// ip-num's own lazy walk of a range (for...of over an IPv4CidrRange; its takeStream() yields
// nothing in 1.6.2) builds an IPv4 object per address: 98-117 ms for the hosts of a /16 against
// 5 ms here (bench/targets-ipnum.ts), so 1,000,000 targets would take ~1.5 s instead of ~0.1 s.
function* ipv4Hosts(start: number, end: number): Generator<string> {
  for (let a = start; a <= end; a++) yield formatIPv4(a);
}

// The high 96 bits are converted once per 2^32 block; the low 32 bits stay plain numbers.
function* ipv6Hosts(start: bigint, end: bigint): Generator<string> {
  for (let cur = start; cur <= end; ) {
    const high = cur >> 32n;
    const blockEnd = (high << 32n) | 0xffffffffn;
    const last = blockEnd < end ? blockEnd : end;
    const groups = [5, 4, 3, 2, 1, 0].map((i) => Number((high >> BigInt(16 * i)) & 0xffffn));
    for (let low = Number(cur & 0xffffffffn), stop = Number(last & 0xffffffffn); low <= stop; low++) {
      groups[6] = low >>> 16;
      groups[7] = low & 0xffff;
      yield formatIPv6Groups(groups);
    }
    cur = last + 1n;
  }
}


/** Where a node may connect for one host it was handed directly (not through planTargets). */
export interface ScopedHost {
  /** The address to connect to: the host itself when it is an address, else its first resolved one. */
  address: string;
  /** The host name when one was given: the TLS server name to ask for and to check. */
  servername?: string;
}

/**
 * The scope policy for one IP address, synchronously (a node checks every target of every batch:
 * 131,072 of them cost ~300 ms as promises through scopedHost, a few ms this way).
 * Returns the address; throws TargetError 'scope' (or 'syntax' for a bad address) naming it.
 */
export function checkAddressScope(address: string, allowPublic: boolean): string {
  let never: string | null;
  let scope: Scope;
  const v4 = dottedQuad(address);
  if (v4 >= 0) {
    ({ scope, unscannable: never } = scopeOfIPv4(v4));
  } else {
    const { key } = parseAddress(address, address);
    never = unscannableReason(key);
    scope = scopeOfKey(key);
  }
  if (never) throw targetError('scope', address, `${address} is ${never}, which cannot be scanned`);
  if (!allowPublic && scope === 'public') {
    throw targetError('scope', address, `${address} is a public address; scanning it needs allowPublic (--allow-public)`);
  }
  return address;
}

/**
 * A plain dotted-quad IPv4 address (no leading zeros) as a 32-bit number, or -1 for anything else
 * (which then goes to ip-num through parseAddress). Hand-written because a node checks every
 * target of every batch: 131,072 addresses cost 7 ms through this whole check, and 236-300 ms
 * for ip-num's new IPv4(text) alone (bench/targets-ipnum.ts). The tests hold it to what ip-num
 * accepts.
 */
function dottedQuad(text: string): number {
  let value = 0;
  let part = -1;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46; // a final '.' closes the last part
    if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return -1; // leading zero
      part = (part < 0 ? 0 : part) * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else if (c === 46 && digits > 0 && parts < 4) {
      value = value * 256 + part;
      parts++;
      part = -1;
      digits = 0;
    } else {
      return -1;
    }
  }
  return parts === 4 ? value : -1;
}

/**
 * The expander's scope policy for one host handed straight to a node (the probe, the TLS
 * inspector, the sniffer): an address is checked as it is; a name is resolved first and every
 * address it resolves to must be in scope. Connect to the returned address (never resolve the
 * name again: DNS could answer differently the second time).
 * Throws TargetError (code 'scope', 'resolve' or 'syntax') naming the host.
 */
export async function scopedHost(host: string, opts: Pick<TargetOptions, 'allowPublic' | 'resolve'> = {}): Promise<ScopedHost> {
  if (isIP(host)) return { address: checkAddressScope(host, opts.allowPublic === true) };
  const specs = parseInput(host);
  if (specs.length !== 1 || specs[0].hostname === undefined) throw targetError('syntax', host, 'expected one address or host name');
  await resolveHostnames(specs, opts.resolve ?? defaultResolve);
  checkScope(host, specs[0].intervals, opts.allowPublic === true);
  return { address: formatKey(specs[0].intervals[0].start), servername: host };
}
