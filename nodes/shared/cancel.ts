// The controller a node's close (or a cancel) aborts.
import { setMaxListeners } from 'node:events';

/**
 * A fresh AbortController whose signal may carry any number of abort listeners. Every result a
 * node works on hangs a child signal on it (one listener each: a thousand at once in a big scan,
 * bounded by the node's own slots), which is no leak, so Node must not warn about one.
 */
export function cancelController(): AbortController {
  const c = new AbortController();
  setMaxListeners(0, c.signal);
  return c;
}
