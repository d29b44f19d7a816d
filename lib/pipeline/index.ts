// One scan, in stages: sweep, probe, TLS inspection, listening, risk. runScan (scan.ts) is the
// whole scan for the CLI, the library and tests; the nodes run the same stages one node each,
// with the same scheduler for sweep and probe (assess.ts), the same stage functions (stages.ts)
// and the same summary (summary.ts).
export { runScan, newScanId, LIST_UNREACHABLE_UP_TO, listsUnreachable, type ScanOptions, type ScanOutput } from './scan';
export {
  assessTargets, unreachableResult, deferredWorkSlots, DEFAULT_PROBE_CONCURRENCY,
  type AssessOptions, type AssessProgress, type AssessStats,
} from './assess';
export {
  scanCapacity, memoryBudget, SETUP_DESCRIPTORS, LISTEN_DESCRIPTORS, INSPECTION_DESCRIPTORS, LISTENER_BYTES, INSPECTION_BYTES, SETUP_BYTES,
  type ScanCapacity,
} from './capacity';
export {
  startStages, finishStages, preloadStages, inspectStage, withTopics, stagesAfterProbe, MIN_DEFER_MS,
  type StageOptions, type StageWork, type StageHooks, type ListenOutcome, type Defer,
} from './stages';
export { ScanTally, summaryUntil, emptyClassificationCounts, emptyReachabilityCounts, type StageCounts } from './summary';
export { BatchedScan, FEED_IDLE_MS, type BatchSweepOptions } from './batched-scan';
