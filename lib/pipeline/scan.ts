// One whole scan: target spec in, results and a summary out. Used by the CLI, the HTTP flow and tests.
import { randomUUID } from 'node:crypto';
import { planTargets, type TargetOptions, type TargetPlan } from '../targets';
import { assessTargets, type AssessOptions, type AssessProgress } from './assess';
import { sweepThreadsFor } from '../sweep';
import { finishDeep, preloadDeep, startDeep, type DeepOptions, type DeepWork } from './stages';
import { compareResults } from '../targets';
import type { ScanResult, ScanSummary } from '../types';

/** Below this many targets, closed and filtered ports are listed too; above, only counted. */
export const LIST_UNREACHABLE_UP_TO = 1024;

export interface ScanOptions
  extends Omit<AssessOptions, 'scanId' | 'onProgress' | 'includeUnreachable' | 'deep'>,
    TargetOptions,
    Pick<DeepOptions, 'inspectTls' | 'sniff' | 'listenMs' | 'writeTest' | 'classify' | 'policy'> {
  targets: string | string[];
  scanId?: string;
  includeUnreachable?: boolean | 'auto';
  onPlan?: (plan: TargetPlan) => void;
  onProgress?: (progress: AssessProgress & { total: number }) => void;
}

export interface ScanOutput {
  results: ScanResult[];
  summary: ScanSummary;
}

export function newScanId(): string {
  return randomUUID();
}

export async function runScan(opts: ScanOptions): Promise<ScanOutput> {
  const scanId = opts.scanId ?? newScanId();
  const started = new Date();
  const plan = await planTargets(opts.targets, opts);
  opts.onPlan?.(plan);
  const results: ScanResult[] = [];
  const include = opts.includeUnreachable ?? 'auto';
  const stats = await assessTargets(plan[Symbol.iterator](), {
    ...opts,
    sweepThreads: opts.sweepThreads ?? sweepThreadsFor(plan.count),
    scanId,
    includeUnreachable: include === 'auto' ? plan.count <= LIST_UNREACHABLE_UP_TO : include,
    onResult: (r) => {
      results.push(r);
      opts.onResult?.(r);
    },
    onProgress: (p) => opts.onProgress?.({ ...p, total: plan.count }),
    prepare: () => preloadDeep(opts),
    deepStart: (target, e, signal, quiet) => {
      const work = startDeep(target, e, { ...opts, signal, quiet });
      return { work, hold: work.window };
    },
    deep: (r, signal, early) => finishDeep(r, early as DeepWork | undefined, { ...opts, signal }),
  });
  results.sort(compareResults);
  const finished = new Date();
  return {
    results,
    summary: {
      scanId,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs: finished.getTime() - started.getTime(),
      targets: plan.count,
      reachability: stats.reachability,
      classification: stats.classification,
      ...(stats.cancelled ? { cancelled: true } : {}),
    },
  };
}
