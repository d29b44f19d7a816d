// The sweep on several threads. A refused connect on loopback costs ~30 us of one core, most of
// it in the kernel on the calling thread: one thread tops out near 35,000 probes a second. The
// main thread hands out chunks of targets (so a feed of batches works as it does for sweep())
// and reports every verdict through the same onResult, in this thread, as sweep() does.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { askMore, effectiveConcurrency, sweep, DEFAULT_SWEEP_TIMEOUT_MS, type SweepOptions, type SweepStats } from './sweep';
import { REACHABILITY_BY_CODE, type FromWorker, type ToWorker } from './protocol';
import type { Reachability, Target } from '../types';

/** Below this many targets a thread costs more to start (~30 ms) than it saves. */
export const THREADS_FROM_TARGETS = 16_384;
/** Each thread is another V8 heap (~15 MB): more than a few only adds memory. */
export const MAX_SWEEP_THREADS = 4;

/** Sweep threads for a scan of `count` targets: one per core, up to MAX_SWEEP_THREADS, for big scans. */
export function sweepThreadsFor(count: number): number {
  return count >= THREADS_FROM_TARGETS ? Math.max(1, Math.min(availableParallelism(), MAX_SWEEP_THREADS)) : 1;
}

/** Targets per message to a thread; each thread holds at most two chunks not yet answered. */
const CHUNK = 2048;
const CHUNKS_AHEAD = 2;

export interface ShardedSweepOptions extends SweepOptions {
  threads: number;
  /** Starts one sweep thread (tests replace it). */
  spawnThread?: () => Worker;
}

export function sweepSharded(targets: Iterator<Target>, opts: ShardedSweepOptions): Promise<SweepStats> {
  const threads = Math.max(1, Math.floor(opts.threads));
  const total = effectiveConcurrency(opts.concurrency);
  const perThread = Math.max(1, Math.ceil(total / threads));
  const counts: Record<Reachability, number> = { open: 0, closed: 0, filtered: 0, error: 0 };
  const chunks = new Map<number, { targets: Target[]; left: number; thread: number }>();
  const ahead = new Array<number>(threads).fill(0);
  const concurrencyUsed = new Array<number>(threads).fill(perThread);
  const reported = new Array<boolean>(threads).fill(false);
  let nextId = 0;
  let probed = 0;
  let exhausted = false;
  let waiting = false;
  let ended = false;
  let doneCount = 0;
  let cancelled = false;
  let failure: Error | null = null;

  return new Promise<SweepStats>((resolve, reject) => {
    const workers: Worker[] = [];
    const post = (w: Worker, m: ToWorker) => w.postMessage(m);

    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      opts.signal?.removeEventListener('abort', onAbort);
      Promise.all(workers.map((w) => w.terminate())).finally(() => {
        if (failure) reject(failure);
        else resolve({ probed, counts, cancelled, concurrency: concurrencyUsed.reduce((a, b) => a + b, 0) });
      });
    };
    const onAbort = () => {
      cancelled = true;
      for (const w of workers) post(w, { type: 'cancel' });
    };

    /** The next chunk of up to CHUNK targets; asks `more` once the iterator runs dry. */
    const take = (): Target[] => {
      const out: Target[] = [];
      while (out.length < CHUNK && !exhausted) {
        const next = targets.next();
        if (!next.done) {
          out.push(next.value);
          continue;
        }
        if (opts.more && !waiting) {
          waiting = true;
          askMore(opts.more, (again) => {
            waiting = false;
            if (!again) exhausted = true;
            feedAll();
          });
        } else if (!opts.more) {
          exhausted = true;
        }
        break;
      }
      return out;
    };

    const feed = (t: number) => {
      while (!cancelled && ahead[t] < CHUNKS_AHEAD && !exhausted && !waiting) {
        const list = take();
        if (!list.length) break;
        const id = nextId++;
        chunks.set(id, { targets: list, left: list.length, thread: t });
        ahead[t]++;
        const ports = new Uint16Array(list.length);
        list.forEach((x, i) => (ports[i] = x.port));
        post(workers[t], { type: 'chunk', id, hosts: list.map((x) => x.host), ports });
      }
    };
    const feedAll = () => {
      for (let t = 0; t < threads; t++) feed(t);
      if (exhausted && !ended) {
        ended = true;
        for (const w of workers) post(w, { type: 'end' });
      }
    };

    const onMessage = (t: number, m: FromWorker) => {
      if (finished) return;
      if (m.type === 'done') {
        reported[t] = true;
        concurrencyUsed[t] = m.concurrency;
        if (m.cancelled) cancelled = true;
        if (++doneCount === threads) finish();
        return;
      }
      const errno = new Map(m.errno);
      for (let i = 0; i < m.code.length; i++) {
        const c = chunks.get(m.chunk[i]);
        if (!c) continue;
        const r = REACHABILITY_BY_CODE[m.code[i]];
        probed++;
        counts[r]++;
        opts.onResult(c.targets[m.index[i]], r, errno.get(i));
        if (--c.left === 0) {
          chunks.delete(m.chunk[i]);
          ahead[c.thread]--;
        }
      }
      feedAll();
    };

    try {
      for (let t = 0; t < threads; t++) {
        const w = opts.spawnThread ? opts.spawnThread() : spawnSweepThread(perThread);
        workers.push(w);
        w.on('message', (m: FromWorker) => onMessage(t, m));
        // A thread that fails or stops early is our failure, not a verdict on any target: stop
        // the others too (their verdicts would be incomplete) and say which thread.
        w.on('error', (err) => {
          failure ??= new Error(`sweep thread ${t + 1} failed: ${err.message}`);
          finish();
        });
        w.on('exit', (code) => {
          if (finished || reported[t]) return;
          failure ??= new Error(`sweep thread ${t + 1} stopped (exit code ${code}) before it finished`);
          finish();
        });
        post(w, { type: 'start', concurrency: perThread, timeoutMs: opts.timeoutMs ?? DEFAULT_SWEEP_TIMEOUT_MS });
      }
    } catch {
      // No threads here (a runtime without them, or out of resources): sweep on this one.
      for (const w of workers) void w.terminate();
      sweep(targets, opts).then(resolve, reject);
      return;
    }
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    feedAll();
  });
}

/**
 * The old-space ceiling of a sweep thread that keeps `concurrency` connects in flight, in MB:
 * 24 MB plus 12 KB per connect. Without a ceiling V8 let each thread's heap fill with garbage
 * before collecting it. Measured on mqtt-scan's sweep of 127.0.0.0/16 x 2 ports (bench sweep16:
 * 2 threads of 512 connects each), peak RSS: 155-161 MB without a ceiling (the bench's memory
 * target is 150 MB; it was 121 MB before the threads' code grew), 122-124 MB with 16 MB + 12 KB
 * per connect, 129-131 MB with 24 MB + 12 KB (kept: more room, the sweep as fast). What a thread
 * must hold, measured with fixed ceilings: 4-8 MB at 512 connects, 16-24 MB at 4,096 (below that
 * it stops with "JS heap out of memory", and the sweep fails naming the thread): about 4 KB per
 * connect, counted three times over here.
 */
export function sweepThreadOldSpaceMb(concurrency: number): number {
  return 24 + Math.ceil((Math.max(1, concurrency) * 12) / 1024);
}

/** dist/ runs the compiled worker; under ts-node (tests, bench tools) the .ts source. */
function spawnSweepThread(concurrency: number): Worker {
  const js = join(__dirname, 'worker.js');
  // A smaller young generation than the default, and an old space sized for the connects in
  // flight (sweepThreadOldSpaceMb), keep each thread's heap, and the RSS, down.
  if (existsSync(js)) return new Worker(js, { resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: sweepThreadOldSpaceMb(concurrency) } });
  // Under ts-node the thread also holds the TypeScript compiler: no old-space ceiling there.
  const ts = join(__dirname, 'worker.ts');
  return new Worker(`require('ts-node/register/transpile-only'); require(${JSON.stringify(ts)});`, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
}
