// One sweep thread (see shards.ts): takes chunks of targets from the main thread, sweeps
// them with lib/sweep, and sends the verdicts back in small typed batches; an open port at once.
import { parentPort } from 'node:worker_threads';
import { sweep } from './sweep';
import { TargetFeed } from './feed';
import type { Reachability, Target } from '../types';
import { REACHABILITY_CODES, type ToWorker, type FromWorker } from './protocol';

// A refused connect builds an Error; its stack trace was ~8% of a /16 sweep's CPU. Nothing in
// this thread ever shows a stack.
Error.stackTraceLimit = 0;

const FLUSH_MS = 20;
const FLUSH_COUNT = 4096;

interface Tagged extends Target {
  chunk: number;
  index: number;
}

const port = parentPort;
if (port) {
  // Chunks arrive as the main thread hands them out; 'end' closes the feed.
  const feed = new TargetFeed(Infinity);
  const controller = new AbortController();

  // Verdicts waiting to be sent: chunk id, index in the chunk, reachability code.
  let outChunk = new Uint32Array(FLUSH_COUNT);
  let outIndex = new Uint32Array(FLUSH_COUNT);
  let outCode = new Uint8Array(FLUSH_COUNT);
  let outErrno: Array<[number, string]> = [];
  let n = 0;
  let timer: NodeJS.Timeout | null = null;

  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (n === 0) return;
    const msg: FromWorker = { type: 'results', chunk: outChunk.subarray(0, n), index: outIndex.subarray(0, n), code: outCode.subarray(0, n), errno: outErrno };
    port.postMessage(msg, [outChunk.buffer, outIndex.buffer, outCode.buffer]);
    outChunk = new Uint32Array(FLUSH_COUNT);
    outIndex = new Uint32Array(FLUSH_COUNT);
    outCode = new Uint8Array(FLUSH_COUNT);
    outErrno = [];
    n = 0;
  };

  const record = (t: Target, r: Reachability, errno?: string) => {
    const tagged = t as Tagged;
    if (errno) outErrno.push([n, errno]);
    outChunk[n] = tagged.chunk;
    outIndex[n] = tagged.index;
    outCode[n] = REACHABILITY_CODES[r];
    n++;
    // An open port is where the work starts: send it now.
    if (r === 'open' || n === FLUSH_COUNT) flush();
    else timer ??= setTimeout(flush, FLUSH_MS);
  };

  port.on('message', (m: ToWorker) => {
    switch (m.type) {
      case 'start':
        sweep(feed.iterator, { concurrency: m.concurrency, timeoutMs: m.timeoutMs, signal: controller.signal, more: feed.more, onResult: record }).then((stats) => {
          flush();
          const done: FromWorker = { type: 'done', cancelled: stats.cancelled, concurrency: stats.concurrency };
          port.postMessage(done);
        });
        return;
      case 'chunk':
        feed.push(m.hosts.map((host, index): Tagged => ({ host, port: m.ports[index], chunk: m.id, index })));
        return;
      case 'end':
        return feed.close();
      case 'cancel':
        controller.abort();
        return feed.close();
    }
  });
}
