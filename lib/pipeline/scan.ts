// One whole scan: target spec in, results and a summary out. Used by the CLI, the HTTP flow and tests.
import { randomUUID } from 'node:crypto';
import { planTargets, type TargetOptions, type TargetPlan } from '../targets';
import { assessTargets, type AssessOptions, type AssessProgress } from './assess';
import { sweepThreadsFor } from '../sweep';
import { stagesAfterProbe, type StageOptions } from './stages';
import { ScanTally } from './summary';
import { compareResults } from '../targets';
import { classifyResult, isClassified } from '../risk';
import type { ScanResult, ScanSummary } from '../types';

/** Below this many targets, closed and filtered ports are listed too; above, only counted. */
export const LIST_UNREACHABLE_UP_TO = 1024;

/**
 * Whether closed and filtered ports are listed (sent as results), for a setting of the CLI or the
 * broker probe node: true / 'true' always, false / 'false' never, 'auto' (and anything else) for
 * scans of up to LIST_UNREACHABLE_UP_TO targets. `targets`: the scan's host:port count.
 */
export function listsUnreachable(setting: unknown, targets: number): boolean {
  if (setting === true || setting === 'true') return true;
  if (setting === false || setting === 'false') return false;
  return targets <= LIST_UNREACHABLE_UP_TO;
}

export interface ScanOptions
  extends Omit<AssessOptions, 'scanId' | 'onProgress' | 'includeUnreachable' | 'stages' | 'prepare' | 'more'>,
    TargetOptions,
    Pick<StageOptions, 'inspectTls' | 'sniff' | 'listenMs' | 'writeTest' | 'classify' | 'policy'> {
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

/**
 * One whole scan: plans the targets (throws TargetError for a bad spec or one out of scope), then
 * sweeps, probes and runs the later stages (stages.ts) on every broker found, `stageConcurrency`
 * brokers at a time. Resolves with every result in address order and the summary; a cancelled
 * scan (opts.signal) resolves with what was done and `summary.cancelled`.
 */
export async function runScan(opts: ScanOptions): Promise<ScanOutput> {
  const scanId = opts.scanId ?? newScanId();
  const started = Date.now();
  const plan = await planTargets(opts.targets, opts);
  opts.onPlan?.(plan);
  const tally = new ScanTally(scanId, plan.count, started);
  const results: ScanResult[] = [];
  const include = opts.includeUnreachable ?? 'auto';
  const stats = await assessTargets(plan[Symbol.iterator](), {
    ...opts,
    sweepThreads: opts.sweepThreads ?? sweepThreadsFor(plan.count),
    scanId,
    includeUnreachable: listsUnreachable(include, plan.count),
    onResult: (found) => {
      // Results that never reach the stages (closed, filtered, a probe that failed) get the risk
      // rules too, as the risk classifier node gives them in a flow.
      const r = opts.classify !== false && !isClassified(found) ? classifyResult(found, opts.policy) : found;
      results.push(r);
      opts.onResult?.(r);
    },
    onProgress: (p) => opts.onProgress?.({ ...p, total: plan.count }),
    ...stagesAfterProbe(opts),
  });
  tally.add(stats);
  results.sort(compareResults);
  return { results, summary: tally.summary() };
}
