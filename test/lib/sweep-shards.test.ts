// The sweep on worker threads: the same verdicts as the one-thread sweep, every target once,
// batches fed one by one, prompt cancel, and a tiny open-file limit shared by the threads.
import { strict as assert } from 'node:assert';
import * as net from 'node:net';
import { execFileSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { sweep } from '../../lib/sweep/sweep';
import { sweepSharded, sweepThreadsFor, THREADS_FROM_TARGETS } from '../../lib/sweep/shards';
import { TargetFeed } from '../../lib/sweep/feed';
import type { Reachability, Target } from '../../lib/types';

function listen(): Promise<net.Server> {
  const server = net.createServer((s) => s.on('error', () => undefined).resume());
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
const portOf = (s: net.Server) => (s.address() as net.AddressInfo).port;

describe('lib/sweep: the sweep on worker threads', function () {
  this.timeout(30_000);
  const servers: net.Server[] = [];
  let targets: Target[] = [];
  before(async () => {
    for (let i = 0; i < 6; i++) servers.push(await listen());
    // Three ports that refuse: listened on together (so the system gives three different ports;
    // closing each before the next could hand the same port out twice), then closed.
    const toClose: net.Server[] = [];
    for (let i = 0; i < 3; i++) toClose.push(await listen());
    const closed = toClose.map(portOf);
    await Promise.all(toClose.map((s) => new Promise((r) => s.close(r))));
    // 5,000 refused ports around the listeners, so every thread gets several chunks.
    const spread = Array.from({ length: 5000 }, (_, i) => 20000 + i).filter((p) => !servers.some((s) => portOf(s) === p));
    targets = [...new Set([...servers.map(portOf), ...closed, ...spread])].map((port) => ({ host: '127.0.0.1', port }));
  });
  after(() => servers.forEach((s) => s.close()));

  const collect = async (run: (onResult: (t: Target, r: Reachability) => void) => Promise<unknown>) => {
    const seen = new Map<number, Reachability>();
    const stats = await run((t, r) => {
      assert.ok(!seen.has(t.port), `port ${t.port} reported twice`);
      seen.set(t.port, r);
    });
    return { seen, stats };
  };

  it('gives every target the verdict the one-thread sweep gives, once', async () => {
    const one = await collect((onResult) => sweep(targets[Symbol.iterator](), { concurrency: 256, onResult }));
    const two = await collect((onResult) => sweepSharded(targets[Symbol.iterator](), { concurrency: 256, threads: 2, onResult }));
    assert.equal(two.seen.size, targets.length);
    assert.deepEqual([...two.seen].sort((a, b) => a[0] - b[0]), [...one.seen].sort((a, b) => a[0] - b[0]));
    const stats = two.stats as Awaited<ReturnType<typeof sweepSharded>>;
    assert.equal(stats.probed, targets.length);
    assert.equal(stats.counts.open, servers.length);
    assert.equal(stats.cancelled, false);
  });

  it('takes batches that arrive one by one, and ends when the feed closes', async () => {
    const feed = new TargetFeed(5000);
    const seen: number[] = [];
    const done = sweepSharded(feed.iterator, { concurrency: 64, threads: 2, more: feed.more, onResult: (t) => seen.push(t.port) });
    feed.push(targets.slice(0, 3000));
    await new Promise((r) => setTimeout(r, 300));
    feed.push(targets.slice(3000));
    feed.close();
    const stats = await done;
    assert.equal(stats.probed, targets.length);
    assert.equal(new Set(seen).size, targets.length);
  });

  it('cancels promptly and reports no target after it resolved', async () => {
    const many: Target[] = Array.from({ length: 60_000 }, (_, i) => ({ host: '127.0.0.1', port: 1 + (i % 60_000) }));
    const controller = new AbortController();
    let after = 0;
    let resolved = false;
    const t = Date.now();
    setTimeout(() => controller.abort(), 100);
    const stats = await sweepSharded(many[Symbol.iterator](), { concurrency: 64, threads: 2, signal: controller.signal, onResult: () => (resolved ? after++ : 0) });
    resolved = true;
    assert.equal(stats.cancelled, true);
    assert.ok(stats.probed < many.length, `${stats.probed} probed before the cancel`);
    assert.ok(Date.now() - t < 5000, 'stopped within seconds');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(after, 0);
  });

  it('without threads (spawning fails) it sweeps on the calling thread, same verdicts', async () => {
    const r = await collect((onResult) => sweepSharded(targets[Symbol.iterator](), {
      concurrency: 256, threads: 2, onResult, spawnThread: () => {
        throw new Error('no threads here');
      },
    }));
    assert.equal(r.seen.size, targets.length);
    assert.equal([...r.seen.values()].filter((x) => x === 'open').length, servers.length);
  });

  it('a thread that dies fails the sweep with a message naming it, and the others are stopped', async () => {
    let spawned = 0;
    const spawnThread = () => {
      spawned++;
      return new Worker(spawned === 1 ? "throw new Error('boom')" : "require('node:worker_threads').parentPort.on('message', () => undefined)", { eval: true });
    };
    await assert.rejects(
      sweepSharded(targets[Symbol.iterator](), { concurrency: 64, threads: 2, onResult: () => undefined, spawnThread }),
      /sweep thread 1 failed: boom/,
    );
  });

  it('uses threads only for big scans, one per core up to four', () => {
    assert.equal(sweepThreadsFor(THREADS_FROM_TARGETS - 1), 1);
    const big = sweepThreadsFor(THREADS_FROM_TARGETS);
    assert.ok(big >= 1 && big <= 4, String(big));
  });

  it('with a tiny open-file limit shared by the threads, every verdict is still right and EMFILE is never closed', function () {
    const script = `
      const net = require('net');
      const { sweepSharded } = require(${JSON.stringify(require.resolve('../../dist/lib/sweep/index.js'))});
      const server = net.createServer((s) => s.resume()).listen(0, '127.0.0.1', async () => {
        const open = server.address().port;
        const targets = [];
        for (let p = 40000; targets.length < 3000; p++) if (p !== open) targets.push({ host: '127.0.0.1', port: p });
        targets.push({ host: '127.0.0.1', port: open });
        const errors = {};
        let sawOpen = false;
        const verdicts = new Map();
        const stats = await sweepSharded(targets[Symbol.iterator](), { concurrency: 1000, threads: 2, onResult: (t, r, e) => {
          if (t.port === open) sawOpen = r === 'open';
          if (r === 'error') errors[e] = (errors[e] || 0) + 1;
          verdicts.set(t.port, r);
        }});
        // Each verdict checked again, one connect at a time in batches of 32 (within the limit of
        // 96): a port said closed must refuse now, a port said open (ours, or another process's
        // listener in the range) must accept now.
        const check = (port) => new Promise((res) => {
          const s = net.connect({ host: '127.0.0.1', port });
          const end = (v) => { s.destroy(); res(v); };
          s.once('connect', () => end('open'));
          s.once('error', (e) => end(e.code === 'ECONNREFUSED' ? 'closed' : e.code));
          s.setTimeout(2000, () => end('timeout'));
        });
        const wrong = [];
        const ports = [...verdicts.keys()];
        for (let i = 0; i < ports.length; i += 32) {
          const batch = ports.slice(i, i + 32);
          const now = await Promise.all(batch.map(check));
          batch.forEach((p, j) => { if (now[j] !== verdicts.get(p)) wrong.push(p + ': ' + verdicts.get(p) + ' then ' + now[j]); });
        }
        console.log(JSON.stringify({ probed: stats.probed, errors, sawOpen, closed: stats.counts.closed, open: stats.counts.open, wrong: wrong.slice(0, 10) }));
        server.close();
      });`;
    const out = execFileSync('sh', ['-c', `ulimit -n 96 && exec "${process.execPath}" -e "$0"`, script], { encoding: 'utf8', timeout: 90_000 });
    const r = JSON.parse(out.trim().split('\n').at(-1)!);
    assert.equal(r.probed, 3001);
    assert.deepEqual(r.errors, {});
    assert.equal(r.sawOpen, true);
    // Other processes' listeners on this machine may sit in the range: they are open, never an
    // error. Every verdict was checked again against the port itself; a port of another process
    // may open or close between the sweep and the check (seen once: 1 of 3,001), so a few
    // disagreements are that, while descriptors counted as closed would be hundreds.
    assert.equal(r.closed + r.open, 3001);
    assert.ok(r.wrong.length <= 3, JSON.stringify(r.wrong));
  });
});
