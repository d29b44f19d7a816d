// Batches of targets that arrive one by one (messages from the target expander) as one stream
// for a single sweep: the sweep keeps its whole concurrency across batch boundaries instead of
// draining and refilling for every batch.
import type { Target } from '../types';

export class TargetFeed {
  private batches: Target[][] = [];
  private index = 0;
  private closed = false;
  private wake: ((more: boolean) => void) | null = null;
  private idle: NodeJS.Timeout | undefined;
  /** Batches taken so far. */
  received = 0;

  /** @param idleMs how long the sweep waits for the next batch before it ends (the feed then
   *  closes); Infinity: until close(). */
  constructor(private readonly idleMs: number) {}

  /** False when the feed is closed: the batch needs a feed of its own. */
  push(batch: Target[]): boolean {
    if (this.closed) return false;
    this.received++;
    if (batch.length) this.batches.push(batch);
    this.notify(true);
    return true;
  }

  /** No more batches will come. */
  close(): void {
    this.closed = true;
    this.notify(false);
  }

  readonly iterator: Iterator<Target> = {
    next: () => {
      while (this.batches.length) {
        const batch = this.batches[0];
        if (this.index < batch.length) return { value: batch[this.index++], done: false };
        this.batches.shift();
        this.index = 0;
      }
      return { value: undefined, done: true };
    },
  };

  /** For SweepOptions.more: true when a batch came, false when closed or idle for idleMs. */
  more = (): Promise<boolean> => {
    if (this.batches.length) return Promise.resolve(true);
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.wake = resolve;
      if (!Number.isFinite(this.idleMs)) return;
      this.idle = setTimeout(() => {
        // Nothing came: end this sweep; a later batch starts a new one.
        this.close();
      }, this.idleMs);
    });
  };

  private notify(more: boolean): void {
    clearTimeout(this.idle);
    const wake = this.wake;
    this.wake = null;
    wake?.(more);
  }
}
