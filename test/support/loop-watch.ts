// Watches the event loop while a test runs: the longest gap between ticks (a stall) and the
// highest heap seen.
export interface LoopWatch {
  readonly maxGap: number;
  readonly peakHeap: number;
  stop(): void;
}

export function watchLoop(everyMs = 20): LoopWatch {
  let maxGap = 0;
  let peakHeap = process.memoryUsage().heapUsed;
  let last = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }, everyMs);
  return {
    get maxGap() {
      return maxGap;
    },
    get peakHeap() {
      return peakHeap;
    },
    stop: () => clearInterval(timer),
  };
}
