// Memory: the peak RSS of the CLI sweeping the /16 (taken from the sweep16 case when it ran,
// else one run here), and the heap growth of planning big target specs (driver heap.ts,
// --expose-gc; planning and iterating only: no packets).
import { driverEnv, driverPaths } from '../lib/drivers';
import { failure, runMeasured } from '../lib/proc';
import { fmtMb, round } from '../lib/stats';
import type { BenchContext, CaseResult, Row } from '../lib/types';
import { cliSweepArgs } from './sweep16';

interface HeapCase {
  name: string;
  targets?: number;
  heapGrowthMb?: number;
  heapPeakDuringMb?: number;
  planMs?: number;
  iterateMs?: number;
  error?: string;
}

export async function memory(ctx: BenchContext): Promise<CaseResult> {
  let rss = ctx.shared.sweep16RssMb;
  let rssNote = 'from the sweep16 runs (max)';
  if (rss === undefined) {
    const r = await runMeasured(ctx.node, cliSweepArgs(ctx), { timeoutMs: ctx.runLimitMs, label: 'mqtt-scan /16 (memory)', cwd: ctx.root });
    rss = failure(r) ? undefined : (r.peakRssMb ?? undefined);
    rssNote = failure(r) ?? 'one run of its own';
    ctx.log(`  memory: /16 sweep peak RSS ${fmtMb(rss)}`);
  }
  const rows: Row[] = [
    {
      case: 'memory',
      what: 'peak RSS of the CLI sweeping 127.0.0.0/16 x 2 ports',
      ours: fmtMb(rss),
      peer: '-',
      ratio: '-',
      memory: fmtMb(rss),
      target: '< 150 MB',
      verdict: rss !== undefined && rss < 150 ? 'PASS' : 'FAIL',
      notes: rssNote,
    },
  ];
  const metrics: Record<string, number | null> = { 'memory.sweep16RssMb': rss === undefined ? null : round(rss, 1) };

  const heapRun = await runMeasured(ctx.node, ['--expose-gc', driverPaths().heap], { timeoutMs: ctx.runLimitMs, label: 'heap driver', env: driverEnv(), cwd: ctx.root });
  let cases: HeapCase[] = [];
  try {
    cases = (JSON.parse(heapRun.stdout) as { cases: HeapCase[] }).cases;
  } catch {
    rows.push({ case: 'memory', what: 'heap growth of target planning', ours: '-', peer: '-', ratio: '-', memory: '-', target: '< 5 MB', verdict: 'FAIL', notes: failure(heapRun) ?? 'no output' });
  }
  for (const c of cases) {
    const ms = c.planMs ?? c.iterateMs;
    ctx.log(`  heap: ${c.name}: ${c.error ?? `${fmtMb(c.heapGrowthMb)} in ${ms?.toFixed(1)} ms`}`);
    rows.push({
      case: 'memory',
      what: `heap growth: ${c.name}${c.targets ? ` (${c.targets.toLocaleString('en-US')} targets)` : ''}`,
      ours: c.error ? 'error' : fmtMb(c.heapGrowthMb),
      peer: '-',
      ratio: '-',
      memory: c.heapPeakDuringMb !== undefined ? `peak during ${fmtMb(c.heapPeakDuringMb)}` : '-',
      target: '< 5 MB',
      verdict: c.error ? 'INFO' : (c.heapGrowthMb ?? Infinity) < 5 ? 'PASS' : 'FAIL',
      notes: c.error ?? (ms !== undefined ? `${c.planMs !== undefined ? 'planned' : 'iterated'} in ${ms.toFixed(1)} ms` : undefined),
    });
    if (!c.error) metrics[`memory.heap.${c.name}`] = round(c.heapGrowthMb ?? NaN, 3);
  }
  return { name: 'memory', rows, metrics, details: { rssNote, heap: cases } };
}
