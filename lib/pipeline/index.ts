// One scan, in stages: sweep, probe, TLS inspection, listening, risk. runScan (scan.ts) is the
// whole scan for the CLI and library callers; the nodes run the same stages one node each, with
// the same stage functions (stages.ts) and the same summary (summary.ts).
export { runScan, newScanId, LIST_UNREACHABLE_UP_TO, type ScanOptions, type ScanOutput } from './scan';
export {
  assessTargets, emptyClassificationCounts, unreachableResult, DEFAULT_PROBE_CONCURRENCY, DEFAULT_DEEP_CONCURRENCY,
  type AssessOptions, type AssessProgress, type AssessStats,
} from './assess';
export { startDeep, finishDeep, preloadDeep, type DeepOptions, type DeepWork } from './stages';
