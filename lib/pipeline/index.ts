// One scan, in stages: sweep, probe, TLS inspection, listening, risk. runScan (scan.ts) is the
// whole scan for the CLI, the library and tests; the nodes run the same stages one node each,
// with the same scheduler for sweep and probe (assess.ts), the same stage functions (stages.ts)
// and the same summary (summary.ts).
export { runScan, newScanId, LIST_UNREACHABLE_UP_TO, listsUnreachable, type ScanOptions, type ScanOutput } from './scan';
export {
  assessTargets, unreachableResult, DEFAULT_PROBE_CONCURRENCY, DEFAULT_STAGE_CONCURRENCY,
  type AssessOptions, type AssessProgress, type AssessStats,
} from './assess';
export {
  startStages, finishStages, preloadStages, inspectStage, withTopics, stagesAfterProbe,
  type StageOptions, type StageWork, type StageHooks, type ListenOutcome,
} from './stages';
export { ScanTally, summaryUntil, emptyClassificationCounts, emptyReachabilityCounts, type StageCounts } from './summary';
export { BatchedScan, FEED_IDLE_MS, type BatchSweepOptions } from './batched-scan';
