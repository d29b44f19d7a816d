// One scan hangs hundreds of concurrent attempts on one cancellation signal: a child signal of our
// own may carry that many listeners without Node warning about a leak, and the caller's stays clean.
import { setMaxListeners } from 'node:events';

export function childSignal(parent?: AbortSignal): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  const onAbort = () => controller.abort();
  if (parent?.aborted) controller.abort();
  else parent?.addEventListener('abort', onAbort, { once: true });
  return { signal: controller.signal, dispose: () => parent?.removeEventListener('abort', onAbort) };
}
