// A wait that always ends: with the value `start` delivers, or `fallback` on timeout or abort.
// Every timer and listener it set is removed when it ends.

export function settle<T>(
  ms: number,
  signal: AbortSignal | undefined,
  fallback: T,
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
    const onAbort = () => done(fallback);
    const timer = setTimeout(onAbort, Math.max(0, ms));
    if (signal?.aborted) return done(fallback);
    signal?.addEventListener('abort', onAbort, { once: true });
    cleanup = start(done);
    if (finished) cleanup?.();
  });
}
