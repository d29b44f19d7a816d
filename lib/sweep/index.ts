// Finding open ports: a connect() sweep on the calling thread (sweep.ts) or on worker threads
// (shards.ts, worker.ts, protocol.ts), reading targets as they come (feed.ts).
export {
  sweep, askMore, effectiveConcurrency, openFileLimit, DEFAULT_SWEEP_CONCURRENCY, DEFAULT_SWEEP_TIMEOUT_MS,
  type SweepOptions, type SweepStats,
} from './sweep';
export { sweepSharded, sweepThreadsFor, sweepThreadOldSpaceMb, MAX_SWEEP_THREADS, THREADS_FROM_TARGETS, type ShardedSweepOptions } from './shards';
export { TargetFeed } from './feed';
