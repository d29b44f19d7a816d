// The CLI's engine in-process: dist/lib/pipeline/index.js runScan with the options cli.ts passes, timed
// from the call to its return (no process start-up), so it compares like for like with the flow
// driver, which is timed from inject to msg.complete. Prints one JSON line.
// Usage: node -r ts-node/register/transpile-only bench/drivers/scan.ts '<json options>'
import { resolve } from 'node:path';

interface Options {
  targets: string;
  ports: string;
  maxTargets: number;
  timeoutMs: number;
  concurrency?: number;
  probeConcurrency?: number;
  limitMs: number;
}

async function main(): Promise<void> {
  const opts = JSON.parse(process.argv[2]) as Options;
  const hardStop = setTimeout(() => {
    process.stderr.write(`scan driver: not done within ${opts.limitMs} ms\n`);
    process.exit(3);
  }, opts.limitMs);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runScan } = require(resolve(process.env.BENCH_ROOT ?? resolve(__dirname, '../..'), 'dist/lib/pipeline/index.js')) as typeof import('../../lib/pipeline');
  const t0 = process.hrtime.bigint();
  const { results, summary } = await runScan({
    targets: opts.targets,
    ports: opts.ports,
    maxTargets: opts.maxTargets,
    timeoutMs: opts.timeoutMs,
    sweepConcurrency: opts.concurrency,
    probeConcurrency: opts.probeConcurrency,
    includeUnreachable: 'auto',
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  clearTimeout(hardStop);
  process.stdout.write(`${JSON.stringify({ ms, results: results.length, summary, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`scan driver: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
