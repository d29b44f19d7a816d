// At most n tasks at once; the rest wait in order. A finishing task hands its slot straight to the
// next waiter, so a newcomer can never slip in between and exceed n.

/** Runs a task in a slot, waiting for one in order; `free()` tells whether one is free now. */
export interface Limiter {
  <T>(task: () => Promise<T>): Promise<T>;
  /** A slot is free now and nobody waits: a task given now starts at once. */
  free(): boolean;
}

export function limiter(n: number): Limiter {
  let active = 0;
  const waiting: Array<() => void> = [];
  const run = async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    else active++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
  return Object.assign(run, { free: () => active < n && waiting.length === 0 });
}
