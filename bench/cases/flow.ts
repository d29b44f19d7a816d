// The /16 scan through our Node-RED flow (target expander -> broker probe, default batch size)
// in a real embedded Node-RED runtime, against the CLI's engine on the same targets and
// settings. Both are timed in-process (flow: inject to msg.complete; engine: runScan call to
// return), each run a fresh process, alternating, medians of --repeat runs.
import { driverEnv, driverPaths } from '../lib/drivers';
import { failure, runMeasured } from '../lib/proc';
import { fmtMb, fmtRatio, fmtS, median, round } from '../lib/stats';
import type { BenchContext, CaseResult, Row } from '../lib/types';
import { SWEEP_COUNT, SWEEP_PORTS, SWEEP_TARGET } from './sweep16';

const DEFAULT_BATCH = 4096; // lib/options OPTIONS.batchSize.default

interface DriverOut {
  ms: number;
  messagesOut?: number;
  idleRssMb?: number;
  maxRssMb: number;
  summary: { targets: number; reachability: Record<string, number> };
}

export async function flow(ctx: BenchContext): Promise<CaseResult> {
  const drivers = driverPaths();
  const options = JSON.stringify({ targets: SWEEP_TARGET, ports: SWEEP_PORTS, maxTargets: SWEEP_COUNT, timeoutMs: 2000, limitMs: ctx.runLimitMs - 5000 });
  const engine: DriverOut[] = [];
  const flows: DriverOut[] = [];
  const problems: string[] = [];
  const run = async (which: 'scan' | 'flow') => {
    const r = await runMeasured(ctx.node, [drivers[which], options], { timeoutMs: ctx.runLimitMs, label: `${which} driver`, env: driverEnv(), cwd: ctx.root });
    const bad = failure(r);
    if (bad) {
      problems.push(`${which}: ${bad}`);
      return;
    }
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as DriverOut;
    (which === 'scan' ? engine : flows).push(out);
    ctx.log(`  flow case, ${which === 'scan' ? 'engine (runScan)' : 'Node-RED flow'}: ${fmtS(out.ms)}, RSS ${fmtMb(out.maxRssMb)}`);
  };
  // The flow/engine difference we look for (5 %) is smaller than the run-to-run noise of one
  // run on a shared 2-core machine, so this case takes at least 5 runs of each.
  const runs = Math.max(ctx.repeat, 5);
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      await run('scan');
      await run('flow');
    } else {
      await run('flow');
      await run('scan');
    }
  }
  const e = median(engine.map((x) => x.ms));
  const f = median(flows.map((x) => x.ms));
  const ratio = f / e;
  const cliWall = ctx.shared.sweep16CliMs?.length ? median(ctx.shared.sweep16CliMs) : NaN;
  const batches = Math.ceil(SWEEP_COUNT / DEFAULT_BATCH);
  const row: Row = {
    case: 'flow',
    what: `${SWEEP_TARGET} x {${SWEEP_PORTS}} through expander -> probe in Node-RED (${batches} batches of ${DEFAULT_BATCH}), median of ${flows.length}`,
    ours: fmtS(f),
    peer: `${fmtS(e)} CLI engine (runScan)`,
    ratio: fmtRatio(ratio),
    memory: `${fmtMb(Math.max(...flows.map((x) => x.maxRssMb)))} (engine ${fmtMb(Math.max(...engine.map((x) => x.maxRssMb)))})`,
    target: '<= 1.05x the CLI',
    verdict: Number.isFinite(ratio) && ratio <= 1.05 ? 'PASS' : 'FAIL',
    notes: [
      `flow runs ${flows.map((x) => fmtS(x.ms)).join(', ')}; engine runs ${engine.map((x) => fmtS(x.ms)).join(', ')}`,
      Number.isFinite(cliWall) ? `CLI process wall (sweep16 case) ${fmtS(cliWall)}, flow/CLI-wall ${fmtRatio(f / cliWall)}` : '',
      flows[0] ? `messages out of the probe: ${flows[0].messagesOut}` : '',
      flows.length ? `peak RSS per flow run ${flows.map((x) => fmtMb(x.maxRssMb)).join(', ')} (Node-RED idle before the scan ${fmtMb(median(flows.map((x) => x.idleRssMb ?? NaN)))}); engine runs ${engine.map((x) => fmtMb(x.maxRssMb)).join(', ')}` : '',
      ...problems,
    ]
      .filter(Boolean)
      .join('; '),
  };
  return {
    name: 'flow',
    rows: [row],
    metrics: {
      'flow.flowMs': Number.isFinite(f) ? round(f, 0) : null,
      'flow.engineMs': Number.isFinite(e) ? round(e, 0) : null,
      'flow.ratio': Number.isFinite(ratio) ? round(ratio, 3) : null,
      'flow.rssMb': flows.length ? round(Math.max(...flows.map((x) => x.maxRssMb)), 1) : null,
    },
    details: { engineMs: engine.map((x) => x.ms), flowMs: flows.map((x) => x.ms), batches, problems },
  };
}
