// A scan whose targets arrive in batches (messages from the target expander to the broker probe
// node). Every batch joins the sweep that is running, so all batches of a scan are one continuous
// sweep (no draining at every batch boundary); a batch that comes after that sweep ended starts
// the next one, after it. The counts go into one ScanTally, as runScan's do.
import { TargetFeed } from '../sweep';
import { assessTargets, type AssessOptions } from './assess';
import { ScanTally } from './summary';
import type { Target } from '../types';

/** How long a sweep waits for the scan's next batch before it ends (a later batch starts another), ms. */
export const FEED_IDLE_MS = 5000;

/** What one sweep of a batched scan needs: assessTargets' options without those the scan sets. */
export type BatchSweepOptions = Omit<AssessOptions, 'scanId' | 'more' | 'onProgress'>;

export class BatchedScan {
  readonly tally: ScanTally;
  /** Targets swept and open ports found so far, over all sweeps. */
  swept = 0;
  open = 0;
  private received = 0;
  private batchesDone = 0;
  private feed: TargetFeed | null = null;
  private runs: Promise<void> = Promise.resolve();

  /** `total`: the scan's planned targets; `batches`: how many batches will come (msg.scan.batches). */
  constructor(
    readonly id: string,
    readonly total: number,
    readonly batches: number,
    private readonly feedIdleMs = FEED_IDLE_MS,
    /** When the scan began (ms since the epoch): the target expander's msg.scan.startedAt. */
    startedAt: number = Date.now(),
  ) {
    this.tally = new ScanTally(id, total, startedAt);
  }

  /**
   * Adds a batch. When it cannot join the running sweep, `startSweep` is called (after the
   * scan's earlier sweeps ended) with a new feed holding it, and must sweep it (sweep()).
   * Resolves when the sweep that holds the batch ended; rejects with what that sweep threw.
   */
  add(targets: Target[], startSweep: (feed: TargetFeed) => Promise<void>): Promise<void> {
    this.received++;
    const last = this.received >= this.batches;
    if (this.feed?.push(targets)) {
      if (last) this.feed.close();
      return this.runs;
    }
    const feed = new TargetFeed(this.feedIdleMs);
    feed.push(targets);
    if (last) feed.close();
    this.feed = feed;
    const run = this.runs.then(() => startSweep(feed));
    this.runs = run.catch(() => undefined);
    return run;
  }

  /**
   * Sweeps, probes and emits the results of one feed with assessTargets; `onProgress(sweptNow)`
   * after each swept target and finished probe, with how many more targets were swept since the
   * last call. A cancelled scan or signal only closes the feed.
   */
  async sweep(feed: TargetFeed, o: BatchSweepOptions & { onProgress?: (newlySwept: number) => void }): Promise<void> {
    try {
      if (this.tally.cancelled || o.signal?.aborted) return;
      let swept = 0;
      let open = 0;
      const stats = await assessTargets(feed.iterator, {
        ...o,
        scanId: this.id,
        more: feed.more,
        onProgress: (p) => {
          const newly = p.swept - swept;
          this.swept += newly;
          this.open += p.open - open;
          swept = p.swept;
          open = p.open;
          o.onProgress?.(newly);
        },
      });
      this.tally.add(stats);
    } finally {
      feed.close();
      if (this.feed === feed) this.feed = null;
      this.batchesDone += feed.received;
    }
  }

  /** True once every batch was swept, or the scan was cancelled. */
  get complete(): boolean {
    return this.batchesDone >= this.batches || this.tally.cancelled;
  }

  /** Cancels the scan: the running sweep takes no more batches; the summary says cancelled. */
  cancel(): void {
    this.tally.cancelled = true;
    this.feed?.close();
  }

  /** Stops taking batches (the node is closing); not a cancellation of the scan. */
  close(): void {
    this.feed?.close();
  }
}
