import { strict as assert } from 'node:assert';
import * as net from 'node:net';
import { execFileSync } from 'node:child_process';
import { sweep, effectiveConcurrency, openFileLimit } from '../../lib/sweep/sweep';
import { TargetFeed } from '../../lib/sweep/feed';
import type { Reachability, Target } from '../../lib/types';

function listen(): Promise<net.Server> {
  const server = net.createServer((s) => s.on('error', () => undefined).resume());
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
const portOf = (s: net.Server) => (s.address() as net.AddressInfo).port;

describe('sweep: TCP reachability on loopback', () => {
  const servers: net.Server[] = [];
  before(async () => {
    for (let i = 0; i < 5; i++) servers.push(await listen());
  });
  after(() => servers.forEach((s) => s.close()));

  it('reports every target once: listeners open, the rest closed', async () => {
    const open = new Set(servers.map(portOf));
    const closed: number[] = [];
    for (const s of await Promise.all([listen(), listen(), listen()])) {
      closed.push(portOf(s));
      await new Promise((r) => s.close(r));
    }
    const targets: Target[] = [...open, ...closed].map((port) => ({ host: '127.0.0.1', port }));
    const seen = new Map<number, Reachability>();
    const stats = await sweep(targets[Symbol.iterator](), {
      concurrency: 3,
      onResult: (t, r) => {
        assert.ok(!seen.has(t.port), `port ${t.port} reported twice`);
        seen.set(t.port, r);
      },
    });
    assert.equal(stats.probed, targets.length);
    assert.equal(stats.counts.open, open.size);
    assert.equal(stats.counts.closed, closed.length);
    for (const p of open) assert.equal(seen.get(p), 'open');
    for (const p of closed) assert.equal(seen.get(p), 'closed');
  });

  it('batches fed one by one are one sweep: it waits for the next batch and ends when the feed closes', async () => {
    const open = servers.map(portOf);
    const feed = new TargetFeed(5000);
    const seen: number[] = [];
    let afterSecond = 0;
    const done = sweep(feed.iterator, {
      concurrency: 64,
      more: feed.more,
      onResult: (t) => seen.push(t.port),
    });
    const batch = (ports: number[]) => ports.map((port) => ({ host: '127.0.0.1', port }));
    feed.push(batch(open.slice(0, 2)));
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(seen.length, 2, 'the first batch is done and the sweep still waits');
    feed.push(batch(open.slice(2)));
    feed.push([]);
    await new Promise((r) => setTimeout(r, 30));
    afterSecond = seen.length;
    feed.close();
    const stats = await done;
    assert.equal(afterSecond, open.length, "the second batch was swept by the same sweep");
    assert.deepEqual([...seen].sort(), [...open].sort());
    assert.equal(stats.probed, open.length);
    assert.equal(feed.received, 3);
    assert.equal(feed.push(batch([1])), false, 'a closed feed takes no batch');
  });

  it('a feed that stays idle ends its sweep by itself', async () => {
    const feed = new TargetFeed(40);
    feed.push([{ host: '127.0.0.1', port: portOf(servers[0]) }]);
    const t = Date.now();
    const stats = await sweep(feed.iterator, { concurrency: 8, more: feed.more, onResult: () => undefined });
    assert.equal(stats.probed, 1);
    assert.ok(Date.now() - t >= 35, 'it waited for the idle bound');
    assert.equal(feed.push([]), false);
  });

  it('an empty target list finishes at once', async () => {
    const stats = await sweep([][Symbol.iterator](), { onResult: () => assert.fail('no result expected') });
    assert.equal(stats.probed, 0);
  });

  it('cancels promptly and stops reporting', async () => {
    const ports = function* () {
      for (let port = 1; port <= 65535; port++) yield { host: '127.0.0.1', port };
    };
    const controller = new AbortController();
    let results = 0;
    setTimeout(() => controller.abort(), 20);
    const stats = await sweep(ports(), { signal: controller.signal, onResult: () => results++ });
    assert.equal(stats.cancelled, true);
    assert.ok(results < 65535);
    const after = results;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(results, after, 'no result after cancellation');
  });

  it('reads the open-file limit and keeps concurrency under it', () => {
    const limit = openFileLimit();
    assert.ok(limit === null || limit > 0);
    if (limit !== null) assert.ok(effectiveConcurrency(1e9) < limit);
    assert.equal(effectiveConcurrency(10), 10);
  });

  it('with a tiny open-file limit, still reports every port right and never EMFILE as closed', function () {
    // A child with `ulimit -n 64` sweeps 2,000 ports at a requested concurrency of 1,000.
    const script = `
      const net = require('net');
      const { sweep } = require(${JSON.stringify(require.resolve('../../dist/lib/sweep/index.js'))});
      const server = net.createServer((s) => s.resume()).listen(0, '127.0.0.1', async () => {
        const open = server.address().port;
        const targets = [];
        for (let i = 0; i < 2000; i++) targets.push({ host: '127.0.0.1', port: 40000 + i });
        targets.push({ host: '127.0.0.1', port: open });
        const errors = {};
        let sawOpen = false;
        const stats = await sweep(targets[Symbol.iterator](), { concurrency: 1000, onResult: (t, r, e) => {
          if (t.port === open) sawOpen = r === 'open';
          if (r === 'error') errors[e] = (errors[e] || 0) + 1;
        }});
        console.log(JSON.stringify({ probed: stats.probed, errors, sawOpen, concurrency: stats.concurrency }));
        server.close();
      });`;
    const out = execFileSync('sh', ['-c', `ulimit -n 64 && exec "${process.execPath}" -e "$0"`, script], { encoding: 'utf8', timeout: 60_000 });
    const r = JSON.parse(out.trim().split('\n').at(-1)!);
    assert.equal(r.probed, 2001);
    assert.deepEqual(r.errors, {});
    assert.equal(r.sawOpen, true);
    assert.ok(r.concurrency < 64, `concurrency ${r.concurrency} kept under the limit`);
  });
});
