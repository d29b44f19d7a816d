// File descriptors: how many this process may open, a pool the scan's sockets are counted against,
// and what to do when the kernel still says EMFILE. The open-file limit is per process, so there
// is one pool per process (processDescriptors), shared by every scan running in it (a Node-RED
// runtime may run several): one scan cannot be told its share by another.
import { readFileSync } from 'node:fs';
import { settle } from './wait';

/**
 * Descriptors kept out of the pool for everything else the process holds. Measured (Linux, Node
 * 20, the CLI with lib/tls and lib/sniff loaded): 20 open at start (stdio, the event loop's epoll
 * and eventfds, the thread pool's pipes), 4 more per worker thread (the sweep uses up to 4: 16),
 * one or two while a report is written; 64 leaves room for a Node-RED runtime's own files and
 * its HTTP clients.
 */
export const DESCRIPTOR_RESERVE = 64;
/** The pool never holds fewer than this, however low the limit: a scan then runs one broker at a time. */
export const MIN_POOL = 16;
/** Where /proc cannot be read (not Linux): the usual default soft limit of Unix shells. */
const FALLBACK_LIMIT = 1024;

/** The soft open-file limit (RLIMIT_NOFILE) of this process, from /proc/self/limits (Linux); null where unknown. */
export function openFileLimit(): number | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    if (soft === 'unlimited') return Number.MAX_SAFE_INTEGER;
    const n = Number(soft);
    return Number.isFinite(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/**
 * A counted pool of file descriptors. Takers wait in order: a big request (a TLS inspection's
 * dozen handshakes) is not overtaken forever by small ones. A request larger than the pool is
 * cut to the pool (it then runs alone): every take says how many it took, and that number is
 * what its taker gives back. Never throws.
 */
export class DescriptorPool {
  private used = 0;
  private readonly waiting: Array<{ n: number; grant: () => void }> = [];
  private readonly onFree = new Set<() => void>();
  /** Descriptors this pool hands out, at least 1. */
  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = Math.max(1, Math.floor(capacity));
  }

  /** Descriptors not handed out now. */
  get free(): number {
    return this.capacity - this.used;
  }

  /** Descriptors handed out now. */
  get inUse(): number {
    return this.used;
  }

  /** Takes `n` (cut to the pool) now if they are free and nobody waits before us: how many were
   *  taken, or 0 (nothing taken). */
  tryTake(n: number): number {
    const k = this.size(n);
    if (this.waiting.length || this.used + k > this.capacity) return 0;
    this.used += k;
    return k;
  }

  /** Resolves with how many were taken (`n` cut to the pool) once they are, in order of asking;
   *  with 0, taking nothing, when `signal` aborts first. */
  take(n: number, signal?: AbortSignal): Promise<number> {
    const now = this.tryTake(n);
    if (now) return Promise.resolve(now);
    if (signal?.aborted) return Promise.resolve(0);
    const k = this.size(n);
    return new Promise((resolve) => {
      const entry = {
        n: k,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(k);
        },
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        resolve(0);
        this.grant();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  /** Gives back `n`, a number take or tryTake returned; 0 gives nothing. */
  give(n: number): void {
    if (!(n > 0)) return;
    this.used = Math.max(0, this.used - Math.floor(n));
    this.grant();
    if (!this.waiting.length && this.onFree.size) {
      const fns = [...this.onFree];
      this.onFree.clear();
      for (const fn of fns) fn();
    }
  }

  /** Calls `fn` once, the next time descriptors are given back and nobody waits (for synchronous
   *  takers such as the sweep, which then try again). */
  whenFree(fn: () => void): void {
    this.onFree.add(fn);
  }

  private size(n: number): number {
    return Math.max(1, Math.min(this.capacity, Math.floor(n) || 1));
  }

  private grant(): void {
    while (this.waiting.length && this.used + this.waiting[0].n <= this.capacity) {
      const w = this.waiting.shift()!;
      this.used += w.n;
      w.grant();
    }
  }
}

/** The pool's size for an open-file limit (null: unknown, FALLBACK_LIMIT assumed). */
export function poolSizeFor(limit: number | null): number {
  const l = limit ?? FALLBACK_LIMIT;
  return Math.max(MIN_POOL, Math.min(l, 1 << 20) - DESCRIPTOR_RESERVE);
}

let shared: DescriptorPool | null = null;

/** This process's pool: its open-file limit less DESCRIPTOR_RESERVE (read once, at first use). */
export function processDescriptors(): DescriptorPool {
  shared ??= new DescriptorPool(poolSizeFor(openFileLimit()));
  return shared;
}

/** The kernel's answer when this process (EMFILE) or the whole system (ENFILE) has no descriptor left. */
export function isDescriptorShortage(code: unknown): boolean {
  return code === 'EMFILE' || code === 'ENFILE';
}

/** Back-off before each retry after EMFILE, ms: about 6 s in all, for descriptors other work holds to come free. */
export const SHORTAGE_BACKOFF_MS: readonly number[] = [20, 50, 100, 200, 400, 800, 1500, 3000];

/**
 * Runs `attempt` again while it ends for want of a descriptor (`short(result)`), after each pause
 * of SHORTAGE_BACKOFF_MS (or `backoffMs`); gives the last result when they are used up or
 * `signal` aborts. An EMFILE says nothing about the other end: retried, it never becomes a
 * verdict about the broker; if it lasts, the caller reports it as what it is.
 */
export async function retryShortOfDescriptors<T>(
  attempt: () => Promise<T>,
  short: (result: T) => boolean,
  signal?: AbortSignal,
  backoffMs: readonly number[] = SHORTAGE_BACKOFF_MS,
): Promise<T> {
  let result = await attempt();
  for (const ms of backoffMs) {
    if (!short(result) || signal?.aborted) break;
    await settle<void>(ms, signal, undefined, () => undefined);
    if (signal?.aborted) break;
    result = await attempt();
  }
  return result;
}

/**
 * Runs `open` (which opens one socket and resolves once it is closed) holding one descriptor of
 * the process's pool: it waits for a free one first, so the socket's own timeout starts only once
 * it can really be opened. `cancelled()` is the result when `signal` aborts while it waits.
 */
export async function withDescriptor<T>(signal: AbortSignal | undefined, cancelled: () => T, open: () => Promise<T>): Promise<T> {
  const pool = processDescriptors();
  const took = await pool.take(1, signal);
  if (!took) return cancelled();
  try {
    return await open();
  } finally {
    pool.give(took);
  }
}

/** What a scan could not tell because this process had no descriptor left (EMFILE, ENFILE), after
 *  waiting and trying again: the caller reports it as such, never as a verdict about the broker. */
export class DescriptorShortage extends Error {
  constructor(readonly code: string, what: string) {
    super(`could not tell: this process had no file descriptor left for ${what} (${code}), also after waiting about ${Math.round(SHORTAGE_BACKOFF_MS.reduce((a, b) => a + b, 0) / 1000)} s; raise the open-file limit (ulimit -n) or scan fewer brokers at once`);
    this.name = 'DescriptorShortage';
  }
}
