// The CLI's engine in-process: dist/lib/pipeline/index.js runScan with the options cli.ts passes, timed
// from the call to its return (no process start-up), so it compares like for like with the flow
// driver, which is timed from inject to msg.complete. Prints one JSON line: {ms, cpuMs, arrived
// (when the brokers' results were done, by transport), results, summary, maxRssMb}; with
// `verdicts` also {verdicts: {"host:port": "classification/LEVEL"}}; with `trace` {t0Us}.
// Usage: node -r ts-node/register/transpile-only bench/drivers/scan.ts '<json options>'
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { arrivalSpread, keyOf, verdictOf } from './common';

interface Options {
  targets: string;
  ports: string;
  maxTargets: number;
  timeoutMs: number;
  concurrency?: number;
  probeConcurrency?: number;
  limitMs: number;
  /** Listen time, seconds (the CLI's --listen); without it the engine's default. */
  listenSeconds?: number;
  /** A CA file (PEM), as the CLI's --tls-ca reads it. */
  tlsCaPath?: string;
  /** Report every result's verdict (classification/risk level per host:port). */
  verdicts?: boolean;
  /** Also print when the scan started (t0Us, process.hrtime in µs), to cut a --cpu-prof profile. */
  trace?: boolean;
}

async function main(): Promise<void> {
  const opts = JSON.parse(process.argv[2]) as Options;
  const hardStop = setTimeout(() => {
    process.stderr.write(`scan driver: not done within ${opts.limitMs} ms\n`);
    process.exit(3);
  }, opts.limitMs);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runScan } = require(resolve(process.env.BENCH_ROOT ?? resolve(__dirname, '../..'), 'dist/lib/pipeline/index.js')) as typeof import('../../lib/pipeline');
  // Read before the clock starts, as the CLI reads --tls-ca before it scans.
  const tls = opts.tlsCaPath ? { ca: readFileSync(opts.tlsCaPath) } : undefined;
  const arrivals: Array<{ ms: number; transport: string }> = [];
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const { results, summary } = await runScan({
    targets: opts.targets,
    ports: opts.ports,
    maxTargets: opts.maxTargets,
    timeoutMs: opts.timeoutMs,
    sweepConcurrency: opts.concurrency,
    probeConcurrency: opts.probeConcurrency,
    includeUnreachable: 'auto',
    // When each result was done (ms after the call), by transport: compared with the flow's sink.
    onResult: (r: { transport?: string | null; reachability: string }) => {
      if (r.reachability === 'open') arrivals.push({ ms: Number(process.hrtime.bigint() - t0) / 1e6, transport: String(r.transport) });
    },
    ...(tls ? { tls } : {}),
    ...(opts.listenSeconds !== undefined ? { listenMs: Math.round(opts.listenSeconds * 1000) } : {}),
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = Math.round((cpu.user + cpu.system) / 1000); // this process's CPU (all threads) during the scan
  clearTimeout(hardStop);
  const arrived = arrivalSpread(arrivals);
  const verdicts = opts.verdicts ? { verdicts: Object.fromEntries(results.map((r) => [keyOf(r), verdictOf(r)])) } : {};
  process.stdout.write(`${JSON.stringify({ ...(opts.trace ? { t0Us: Number(t0 / 1000n) } : {}), ms, cpuMs, arrived, results: results.length, summary, maxRssMb: process.resourceUsage().maxRSS / 1024, ...verdicts })}\n`);
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`scan driver: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
