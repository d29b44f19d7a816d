// The measured reasons for the hand-written parts of lib/targets: each part we keep against what
// ip-num offers for the same job, timed in one process (median of 5 rounds after a warm-up), plus
// the inputs on which ip-num's answer is wrong for us. Planning only: no packet is sent.
//
//   npm run build && node --expose-gc -r ts-node/register/transpile-only bench/targets-ipnum.ts
//
// Not part of `npm run bench` (no peer, no target). The comments in lib/targets/{address,
// intervals,index,scope}.ts quote its figures.
import { resolve } from 'node:path';
import * as ipnum from 'ip-num';

const ROOT = process.env.BENCH_ROOT ?? resolve(__dirname, '..');
/* eslint-disable @typescript-eslint/no-require-imports */
const address = require(resolve(ROOT, 'dist/lib/targets/address.js')) as typeof import('../lib/targets/address');
const intervals = require(resolve(ROOT, 'dist/lib/targets/intervals.js')) as typeof import('../lib/targets/intervals');
const targets = require(resolve(ROOT, 'dist/lib/targets/index.js')) as typeof import('../lib/targets');
/* eslint-enable @typescript-eslint/no-require-imports */
const { IPv4, IPv6, IPv4CidrRange, IPv6CidrRange, IPv4Prefix, IPv6Prefix, RangedSet, Pool, collapseIPv6Number } = ipnum;

const ROUNDS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median milliseconds of `fn` over ROUNDS rounds (one warm-up round first). */
function time(fn: () => unknown): { ms: number; runs: number[] } {
  fn();
  const runs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    runs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { ms: median(runs), runs };
}

const rows: { job: string; n: number; ours: number; ipnum: number | string; note?: string }[] = [];
function compare(job: string, n: number, ours: () => unknown, theirs: (() => unknown) | string, note?: string): void {
  const o = time(ours);
  const t = typeof theirs === 'string' ? theirs : time(theirs).ms;
  rows.push({ job, n, ours: o.ms, ipnum: t, note });
}

function heapOf(make: () => unknown[]): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return NaN;
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  const kept = make();
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  return (after - before) / kept.length;
}

async function main(): Promise<void> {
  let sink = 0;
  // 1. Formatting IPv4 (every streamed target is formatted once).
  const N4 = 1_000_000;
  const base4 = 10 << 24;
  compare(
    'format an IPv4 address',
    N4,
    () => {
      for (let i = 0; i < N4; i++) sink += address.formatIPv4(base4 + i).length;
    },
    () => {
      for (let i = 0; i < N4; i++) sink += IPv4.fromNumber(base4 + i).toString().length;
    },
  );

  // 2. Streaming a /16 as host strings: Plan.hosts() against ip-num's own lazy iteration (its
  // takeStream() yields nothing in 1.6.2: a generator that returns, not yields, the inner one).
  let streamed = 0;
  for (const ip of IPv4CidrRange.fromCidr('10.0.0.0/30').takeStream()) streamed += ip ? 1 : 0;
  const plan = await targets.planTargets('10.0.0.0/16', { ports: 1883 });
  compare(
    'stream the hosts of 10.0.0.0/16',
    65_536,
    () => {
      for (const h of { [Symbol.iterator]: () => plan.hosts() }) sink += h.length;
    },
    () => {
      for (const ip of IPv4CidrRange.fromCidr('10.0.0.0/16')) sink += ip.toString().length;
    },
    `for...of over the range; its takeStream() gave ${streamed} of 4 addresses of a /30`,
  );

  // 3. Formatting IPv6: ours is RFC 5952; ip-num's toString() never compresses, and collapsing it
  // keeps ::ffff:a.b.c.d in hex. Count the addresses where the canonical forms differ.
  const N6 = 100_000;
  const v6 = Array.from({ length: N6 }, (_, i) => (i % 2 ? 0xfd00n << 112n : 0xffff00000000n) + BigInt(i * 7919));
  let differ = 0;
  for (const v of v6) if (address.formatKey(address.V6_BASE + v) !== collapseIPv6Number(IPv6.fromBigInt(v).toString())) differ++;
  compare(
    'format an IPv6 address (RFC 5952)',
    N6,
    () => {
      for (const v of v6) sink += address.formatKey(address.V6_BASE + v).length;
    },
    () => {
      for (const v of v6) sink += collapseIPv6Number(IPv6.fromBigInt(v).toString()).length;
    },
    `ip-num's text differs on ${differ.toLocaleString('en-US')} of ${N6.toLocaleString('en-US')} (the ::ffff:a.b.c.d half)`,
  );

  // 4. The per-target scope check a node runs on every target of a batch (IPv4): ours parses
  // with a hand-written dotted-quad reader; ip-num's parse alone, for the same addresses.
  const hosts = Array.from({ length: 131_072 }, (_, i) => address.formatIPv4((127 << 24) + i));
  compare(
    'scope check of one IPv4 address (checkAddressScope)',
    hosts.length,
    () => {
      for (const h of hosts) sink += targets.checkAddressScope(h, false).length;
    },
    () => {
      for (const h of hosts) sink += Number(new IPv4(h).getValue() & 1n);
    },
    'ip-num column: new IPv4(text) only, before any scope lookup',
  );

  // 5. The CIDR block of a parsed token: a bigint shift against ip-num's CIDR ranges, whose
  // getFirst()/getLast() build the mask as a string of '1's and parse it back.
  const NB = 5000;
  const ips4 = Array.from({ length: NB }, (_, i) => new IPv4(address.formatIPv4((10 << 24) + i * 3331)));
  const ips6 = Array.from({ length: NB }, (_, i) => new IPv6(`fd00::${i.toString(16)}:1`));
  const keys6 = ips6.map((ip) => ({ key: address.V6_BASE + ip.getValue(), v6: true }));
  const keys4 = ips4.map((ip) => ({ key: ip.getValue(), v6: false }));
  compare(
    'CIDR block of an IPv4 token (/24)',
    NB,
    () => {
      for (const a of keys4) sink += Number(address.cidrInterval(a, 24).end & 1n);
    },
    () => {
      for (const ip of ips4) {
        const r = new IPv4CidrRange(ip, new IPv4Prefix(24n));
        sink += Number((r.getFirst().getValue() ^ r.getLast().getValue()) & 1n);
      }
    },
  );
  compare(
    'CIDR block of an IPv6 token (/120)',
    NB,
    () => {
      for (const a of keys6) sink += Number(address.cidrInterval(a, 120).end & 1n);
    },
    () => {
      for (const ip of ips6) {
        const r = new IPv6CidrRange(ip, new IPv6Prefix(120n));
        sink += Number((r.getFirst().getValue() ^ r.getLast().getValue()) & 1n);
      }
    },
  );

  // 6. Interval algebra: 10.0.0.0/8 minus 5,000 single exclusions (the bench's heap case).
  const exKeys = Array.from({ length: 5000 }, (_, i) => BigInt((10 << 24) + i * 3331)); // 5,000 distinct
  const whole = [{ start: BigInt(10 << 24), end: BigInt((10 << 24) + 2 ** 24 - 1) }];
  const ourPieces = intervals.subtractIntervals(whole, intervals.mergeIntervals(exKeys.map((k) => ({ start: k, end: k })))).length;
  let theirPieces = 0;
  compare(
    'subtract 5,000 exclusions from 10.0.0.0/8',
    5000,
    () => {
      sink += intervals.subtractIntervals(whole, intervals.mergeIntervals(exKeys.map((k) => ({ start: k, end: k })))).length;
    },
    () => {
      // ip-num has no set difference that takes partial overlaps (see below); with its
      // RangedSet.difference (a contained range only), sorted exclusions, one at a time:
      const sorted = [...new Set(exKeys)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((k) => RangedSet.fromSingleIP(IPv4.fromNumber(k)));
      const out: ipnum.RangedSet<ipnum.AbstractIPNum>[] = [];
      let rest: ipnum.RangedSet<ipnum.AbstractIPNum> | undefined = IPv4CidrRange.fromCidr('10.0.0.0/8').toRangeSet();
      for (const ex of sorted) {
        if (!rest) break;
        const parts: ipnum.RangedSet<ipnum.AbstractIPNum>[] = rest.difference(ex);
        rest = parts.length && parts[parts.length - 1].getLast().isGreaterThan(ex.getLast()) ? parts.pop() : undefined;
        out.push(...parts);
      }
      if (rest) out.push(rest);
      theirPieces = out.length;
    },
  );
  rows[rows.length - 1].note = `pieces left: ours ${ourPieces}, ip-num ${theirPieces}`;

  // 7. What a plan keeps per interval: two bigints, or an ip-num RangedSet of two IPv4s.
  const oursBytes = heapOf(() => Array.from({ length: 20_000 }, (_, i) => ({ start: BigInt(i * 2), end: BigInt(i * 2 + 1) })));
  const theirsBytes = heapOf(() => Array.from({ length: 20_000 }, (_, i) => new RangedSet(IPv4.fromNumber(i * 2), IPv4.fromNumber(i * 2 + 1))));

  // 8. Where ip-num's pool arithmetic is wrong for us (each must print a problem).
  const wrong: string[] = [];
  const rs = (s: string) => RangedSet.fromRangeString(s) as ipnum.RangedSet<ipnum.AbstractIPNum>;
  const show = (p: ipnum.Pool<ipnum.RangedSet<ipnum.IPv4>>) => p.getRanges().map((r) => r.toRangeString()).join(' ');
  try {
    Pool.fromRangeSet([rs('10.0.0.1-10.0.0.20'), rs('10.0.0.15-10.0.0.30')]).aggregate();
    wrong.push('Pool.aggregate merged two overlapping non-CIDR ranges (fixed upstream?)');
  } catch (err) {
    wrong.push(`Pool.aggregate of 10.0.0.1-10.0.0.20 and 10.0.0.15-10.0.0.30 throws: ${(err as Error).message}`);
  }
  const p = Pool.fromRangeSet([rs('10.0.0.1-10.0.0.20')]);
  p.removeOverlapping(rs('10.0.0.15-10.0.0.30'));
  wrong.push(`Pool 10.0.0.1-10.0.0.20 .removeOverlapping(10.0.0.15-10.0.0.30) leaves ${show(p as never)} (want 10.0.0.1-10.0.0.14)`);
  const q = Pool.fromRangeSet([rs('10.0.0.1-10.0.0.20'), rs('10.0.1.1-10.0.1.20')]);
  // The .d.ts takes one range; the code takes a list as well, and does this with it.
  q.removeOverlapping([rs('10.0.0.15-10.0.0.30')] as never);
  wrong.push(`Pool [10.0.0.1-10.0.0.20, 10.0.1.1-10.0.1.20] .removeOverlapping([10.0.0.15-10.0.0.30]) leaves ${show(q as never)}`);
  try {
    rs('10.0.0.1-10.0.0.20').difference(rs('10.0.0.15-10.0.0.30'));
  } catch (err) {
    wrong.push(`RangedSet.difference with a partial overlap throws: ${(err as Error).message}`);
  }
  const a = new IPv6('fe80::1%eth0');
  wrong.push(`new IPv6('fe80::1%eth0') is accepted (zone id ${a.toString().split('%')[1]}); we refuse zone ids`);

  console.log(`lib/targets against ip-num ${require('ip-num/package.json').version}, node ${process.version}, median of ${ROUNDS} rounds\n`);
  console.log('| job | n | ours ms | ip-num ms | ip-num / ours | note |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    const t = typeof r.ipnum === 'number' ? r.ipnum.toFixed(1) : r.ipnum;
    const ratio = typeof r.ipnum === 'number' ? `${(r.ipnum / r.ours).toFixed(0)}x` : '-';
    console.log(`| ${r.job} | ${r.n.toLocaleString('en-US')} | ${r.ours.toFixed(1)} | ${t} | ${ratio} | ${r.note ?? ''} |`);
  }
  console.log(`\nheap per interval (--expose-gc): {start, end} bigints ${oursBytes.toFixed(0)} B, ip-num RangedSet<IPv4> ${theirsBytes.toFixed(0)} B`);
  console.log('\nip-num answers that are wrong for us:');
  for (const w of wrong) console.log(`- ${w}`);
  if (sink === 42) console.log('');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
