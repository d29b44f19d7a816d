// Bounded-concurrency TCP reachability. One shared timer checks deadlines (probes start in order
// and share one timeout, so the oldest is always the next to expire): no timer per probe.
import * as net from 'node:net';
import type { Reachability, Target } from '../types';
import { OPTIONS } from '../options';
import { isDescriptorShortage, openFileLimit, processDescriptors, SHORTAGE_BACKOFF_MS } from '../common';

export { openFileLimit } from '../common';

/** Enough that a /24 x 2 ports of silent hosts is one timeout round, not two; capped by the fd limit
 *  (lib/options OPTIONS.sweepConcurrency). */
export const DEFAULT_SWEEP_CONCURRENCY: number = OPTIONS.sweepConcurrency.default;
/** The connect timeout (lib/options OPTIONS.timeoutMs, the same as the probe's). */
export const DEFAULT_SWEEP_TIMEOUT_MS: number = OPTIONS.timeoutMs.default;
/** Descriptors kept free for everything else the process does (Node-RED, probes, files). */
const FD_MARGIN = 128;

export interface SweepOptions {
  concurrency?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called once per target. */
  onResult: (target: Target, reachability: Reachability, errno?: string) => void;
  /** When the iterator runs dry: resolves true when it has more (it is asked again), false
   *  when it never will. Lets batches that arrive one by one run as one continuous sweep. */
  more?: () => Promise<boolean>;
}

export interface SweepStats {
  probed: number;
  counts: Record<Reachability, number>;
  cancelled: boolean;
  /** Concurrency actually used at the end (lowered after EMFILE). */
  concurrency: number;
}

interface Active {
  target: Target;
  /** Dropped once settled, so a long sweep does not keep thousands of dead sockets reachable. */
  socket: net.Socket | null;
  deadline: number;
  settled: boolean;
  retries: number;
}

export function effectiveConcurrency(requested = DEFAULT_SWEEP_CONCURRENCY): number {
  const limit = openFileLimit();
  const ceiling = limit === null ? 1024 - FD_MARGIN : Math.max(8, limit - FD_MARGIN);
  return Math.max(1, Math.min(Math.floor(requested), ceiling));
}

export function sweep(targets: Iterator<Target>, opts: SweepOptions): Promise<SweepStats> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_SWEEP_TIMEOUT_MS;
  let concurrency = effectiveConcurrency(opts.concurrency);
  const counts: Record<Reachability, number> = { open: 0, closed: 0, filtered: 0, error: 0 };
  const queue: Active[] = []; // in start order, so in deadline order
  let head = 0;
  let active = 0;
  let probed = 0;
  let exhausted = false;
  let waiting = false;
  // Targets whose connect() met EMFILE: tried again, after SHORTAGE_BACKOFF_MS[retries], never reported for it.
  const retry: Array<{ target: Target; retries: number; at: number }> = [];
  // Every socket is counted against the process's descriptors (lib/common/descriptors.ts), which
  // the probes and listeners of the same scan draw on too: a connect() waits for a free one
  // instead of meeting EMFILE.
  const pool = processDescriptors();
  let waitingForPool = false;

  return new Promise((resolve) => {
    let finished = false;
    const tick = Math.max(10, Math.min(100, Math.floor(timeoutMs / 20)));
    const timer = setInterval(expire, tick);

    function finish(cancelled: boolean) {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      for (let i = head; i < queue.length; i++) queue[i].socket?.destroy();
      pool.give(active);
      active = 0;
      resolve({ probed, counts, cancelled, concurrency });
    }
    function onAbort() {
      finish(true);
    }
    if (opts.signal?.aborted) return finish(true);
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    function settle(a: Active, r: Reachability, errno?: string) {
      if (a.settled || finished) return;
      a.settled = true;
      a.socket!.destroy();
      a.socket = null;
      active--;
      pool.give(1);
      if (isDescriptorShortage(errno) && a.retries < SHORTAGE_BACKOFF_MS.length) {
        // Too many descriptors is our limit (another part of the process holds them), not the
        // target's answer: slow down and try again later. After the last retry the target is
        // reported as 'error' with the errno, never as closed or filtered.
        concurrency = Math.max(1, Math.floor(concurrency / 2));
        retry.push({ target: a.target, retries: a.retries + 1, at: Date.now() + SHORTAGE_BACKOFF_MS[a.retries] });
      } else {
        probed++;
        counts[r]++;
        opts.onResult(a.target, r, errno);
      }
      fill();
    }

    function start(target: Target, retries: number) {
      const socket = new net.Socket();
      const a: Active = { target, socket, deadline: Date.now() + timeoutMs, settled: false, retries };
      queue.push(a);
      active++;
      socket.once('connect', () => settle(a, 'open'));
      socket.once('error', (err: NodeJS.ErrnoException) => settle(a, ...classifyError(err)));
      socket.connect({ host: target.host, port: target.port });
    }

    /** A retry whose pause is over, if any. */
    function dueRetry(): { target: Target; retries: number } | undefined {
      const now = Date.now();
      const i = retry.findIndex((r) => r.at <= now);
      return i >= 0 ? retry.splice(i, 1)[0] : undefined;
    }

    function fill() {
      if (finished) return;
      while (active < concurrency) {
        if (!pool.tryTake(1)) {
          // Every descriptor is in use: go on when one is given back.
          if (!waitingForPool) {
            waitingForPool = true;
            pool.whenFree(() => {
              waitingForPool = false;
              fill();
            });
          }
          break;
        }
        const r = dueRetry();
        if (r) {
          start(r.target, r.retries);
          continue;
        }
        if (exhausted || waiting) {
          pool.give(1);
          break;
        }
        const next = targets.next();
        if (next.done) {
          pool.give(1);
          if (opts.more) {
            waiting = true;
            askMore(opts.more, (again) => {
              waiting = false;
              if (!again) exhausted = true;
              fill();
            });
            break;
          }
          exhausted = true;
          break;
        }
        start(next.value, 0);
      }
      compact();
      if (exhausted && active === 0 && retry.length === 0) finish(false);
    }

    function expire() {
      if (retry.length) fill();
      const now = Date.now();
      while (head < queue.length && (queue[head].settled || queue[head].deadline <= now)) {
        const a = queue[head++];
        if (!a.settled) settle(a, 'filtered', 'ETIMEDOUT');
      }
      compact();
    }

    function compact() {
      if (head > 4096 && head * 2 > queue.length) {
        queue.splice(0, head);
        head = 0;
      }
    }

    fill();
  });
}

/** Asks a feed for more targets; a failing feed counts as "no more". */
export function askMore(more: () => Promise<boolean>, then: (again: boolean) => void): void {
  more().then(then, () => then(false));
}

function classifyError(err: NodeJS.ErrnoException): [Reachability, string?] {
  switch (err.code) {
    case 'ECONNREFUSED':
      return ['closed'];
    case 'ETIMEDOUT':
      return ['filtered', 'ETIMEDOUT'];
    default:
      return ['error', err.code ?? 'ERROR'];
  }
}
