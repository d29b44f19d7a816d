// The one scan summary (ScanSummary of lib/types.ts), built the same way for a whole scan
// (runScan) and for a scan that arrives in batches (the broker probe node).
import type { Classification, Reachability, ScanSummary } from '../types';

/** Counts per classification, all zero. */
export function emptyClassificationCounts(): Record<Classification, number> {
  return { open_or_auth_ok: 0, not_authorized: 0, unreachable_or_firewalled: 0, tls_or_ssl_error: 0, not_mqtt: 0 };
}

/** Counts per reachability, all zero. */
export function emptyReachabilityCounts(): Record<Reachability, number> {
  return { open: 0, closed: 0, filtered: 0, error: 0 };
}

/** What one run of the stages over some targets adds to its scan's summary (AssessStats fits). */
export interface StageCounts {
  reachability: Record<Reachability, number>;
  classification: Record<Classification, number>;
  cancelled: boolean;
}

/**
 * A scan's counts while it runs, and its ScanSummary when it ends. `targets` is the planned
 * number of host:port pairs; times are wall-clock ms since the epoch (Date.now()).
 */
/**
 * The summary of a scan whose later stages (TLS inspection, listening) ended at `now` (ms since
 * the epoch): finishedAt and durationMs cover the whole scan, as the CLI's summary does. A value
 * that is not a summary with a valid startedAt comes back as it was; nothing ends before it did.
 */
export function summaryUntil<T>(summary: T, now: number = Date.now()): T {
  const s = summary as unknown as Partial<ScanSummary> | null;
  if (!s || typeof s !== 'object' || typeof s.startedAt !== 'string') return summary;
  const started = Date.parse(s.startedAt);
  const finished = Math.max(Date.parse(String(s.finishedAt)) || 0, now);
  if (!Number.isFinite(started) || finished < started) return summary;
  return { ...summary, finishedAt: new Date(finished).toISOString(), durationMs: finished - started };
}

export class ScanTally {
  readonly reachability = emptyReachabilityCounts();
  readonly classification = emptyClassificationCounts();
  cancelled = false;

  constructor(
    readonly scanId: string,
    readonly targets: number,
    readonly startedAt: number = Date.now(),
  ) {}

  /** Adds the counts of one run (a whole scan, or one sweep of a batched scan). */
  add(run: StageCounts): void {
    for (const k of Object.keys(run.reachability) as Reachability[]) this.reachability[k] += run.reachability[k];
    for (const k of Object.keys(run.classification) as Classification[]) this.classification[k] += run.classification[k];
    if (run.cancelled) this.cancelled = true;
  }

  /** Brokers found: classified open_or_auth_ok or not_authorized. */
  get brokers(): number {
    return this.classification.open_or_auth_ok + this.classification.not_authorized;
  }

  /** The summary as of `finishedAt` (ms since the epoch); `cancelled` only when it was. */
  summary(finishedAt: number = Date.now()): ScanSummary {
    return {
      scanId: this.scanId,
      startedAt: new Date(this.startedAt).toISOString(),
      finishedAt: new Date(finishedAt).toISOString(),
      durationMs: finishedAt - this.startedAt,
      targets: this.targets,
      reachability: { ...this.reachability },
      classification: { ...this.classification },
      ...(this.cancelled ? { cancelled: true } : {}),
    };
  }
}
