// Heap growth of target planning (no packets: planTargets only plans, and iterating a plan only
// formats addresses). Needs --expose-gc. For each spec: gc, heapUsed, plan (kept referenced),
// gc, heapUsed again; the difference is what a plan holds. Then the first 1,000,000 targets of
// the 10.0.0.0/8 plan are iterated (and dropped), to show that streaming holds nothing either.
// Prints one JSON line.
import { resolve } from 'node:path';

const ROOT = process.env.BENCH_ROOT ?? resolve(__dirname, '../..');

interface Case {
  name: string;
  spec: string;
  ports: string;
  allowPublic?: boolean;
}

const CASES: Case[] = [
  { name: '10.0.0.0/8 x 2 ports', spec: '10.0.0.0/8', ports: '1883,8883' },
  { name: '10.0.0.0/8 x 1-65535', spec: '10.0.0.0/8', ports: '1-65535' },
  { name: '0.0.0.0/0 (public allowed) x 2 ports', spec: '0.0.0.0/0', ports: '1883,8883', allowPublic: true },
  {
    name: '10.0.0.0/8 minus 5,000 exclusions',
    spec: ['10.0.0.0/8', ...Array.from({ length: 5000 }, (_, i) => `!10.${(i * 7) % 256}.${i % 256}.${(i * 13) % 256}`)].join(','),
    ports: '1883,8883',
  },
  { name: 'fd00::/112 x 2 ports', spec: 'fd00::/112', ports: '1883,8883' },
];

async function main(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { planTargets } = require(resolve(ROOT, 'dist/lib/targets/index.js')) as typeof import('../../lib/targets');
  const heap = () => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
  // Warm up: load and JIT the module so its code is not counted as growth.
  await planTargets('127.0.0.0/24', { ports: '1883' });
  const out: Array<Record<string, unknown>> = [];
  const keep: unknown[] = [];
  for (const c of CASES) {
    const before = heap();
    const t0 = process.hrtime.bigint();
    try {
      const plan = await planTargets(c.spec, { ports: c.ports, maxTargets: Infinity, allowPublic: !!c.allowPublic });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      keep.push(plan);
      const after = heap();
      out.push({ name: c.name, targets: plan.count, planMs: ms, heapGrowthMb: (after - before) / 1048576 });
    } catch (err) {
      out.push({ name: c.name, error: (err as Error).message });
    }
  }
  // Streaming: the first million targets of the /8, dropped as they come.
  const plan = await planTargets('10.0.0.0/8', { ports: '1883,8883', maxTargets: Infinity });
  const before = heap();
  let peak = 0;
  const t0 = process.hrtime.bigint();
  const it = plan[Symbol.iterator]();
  for (let i = 0; i < 1_000_000; i++) {
    if (it.next().done) break;
    if ((i & 0xffff) === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - before);
  }
  const iterMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const after = heap();
  out.push({
    name: 'iterate first 1,000,000 targets of 10.0.0.0/8',
    targets: 1_000_000,
    iterateMs: iterMs,
    heapGrowthMb: (after - before) / 1048576,
    heapPeakDuringMb: peak / 1048576,
  });
  process.stdout.write(`${JSON.stringify({ cases: out, kept: keep.length })}\n`);
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`heap driver: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
