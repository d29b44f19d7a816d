// The one bounded wait: every connection attempt, handshake and listener step ends within its
// time, on abort, or when its own events decide, and leaves no timer or listener behind.

/** Why a wait ended without its events deciding. */
export type WaitEnd = 'timeout' | 'abort';

/**
 * Runs `start` and settles with the first value it passes to `done`, or with `fallback` after `ms`
 * milliseconds (negative counts as 0) or when `signal` aborts. `fallback` may be a function of why
 * the wait ended; it is read only then. `start` may return a cleanup, run exactly once when the
 * wait ends (also when `done` is called inside `start`). A signal already aborted settles with the
 * fallback at once and `start` never runs. Never rejects unless `start` or `fallback` throws.
 * T must not itself be a function type (a function `fallback` is always called).
 */
export function settle<T>(
  ms: number,
  signal: AbortSignal | undefined,
  fallback: T | ((why: WaitEnd) => T),
  start: (done: (value: T) => void) => (() => void) | void,
): Promise<T> {
  return new Promise<T>((resolve) => {
    let finished = false;
    let cleanup: (() => void) | void;
    const done = (value: T) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      cleanup?.();
      resolve(value);
    };
    const end = (why: WaitEnd) => done(typeof fallback === 'function' ? (fallback as (why: WaitEnd) => T)(why) : fallback);
    const onAbort = () => end('abort');
    const timer = setTimeout(() => end('timeout'), Math.max(0, ms));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    cleanup = start(done);
    if (finished) cleanup?.();
  });
}
