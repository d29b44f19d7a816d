// The process's file descriptors (lib/common/descriptors.ts) and what a scan can hold at once
// (lib/pipeline/capacity.ts): the pool hands out in order and never more than it has, EMFILE is
// retried and never becomes an answer, and the bounds come from descriptors and memory.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import {
  DescriptorPool, DescriptorShortage, isDescriptorShortage, poolSizeFor, retryShortOfDescriptors, DESCRIPTOR_RESERVE, MIN_POOL,
} from '../../lib/common/descriptors';
import { scanCapacity, INSPECTION_DESCRIPTORS, LISTENER_BYTES, SETUP_DESCRIPTORS } from '../../lib/pipeline/capacity';

const settled = async <T>(p: Promise<T>) => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
};

describe('lib/common/descriptors: the process pool', function () {
  it('hands out what it has, then makes takers wait in the order they asked', async () => {
    const pool = new DescriptorPool(4);
    assert.equal(pool.tryTake(3), 3);
    const big = pool.take(3);
    const small = pool.take(1);
    assert.equal(await settled(big), false, 'only 1 free');
    assert.equal(pool.tryTake(1), 0, 'nobody overtakes a waiter, even when one would fit');
    assert.equal(await settled(small), false, 'the small one waits behind the big one');
    pool.give(3);
    assert.equal(await big, 3);
    assert.equal(await small, 1);
    assert.equal(pool.inUse, 4);
    assert.equal(pool.free, 0);
  });

  it('cuts a request larger than the pool to the pool, and says how many it took', async () => {
    const pool = new DescriptorPool(8);
    assert.equal(await pool.take(INSPECTION_DESCRIPTORS), 8);
    pool.give(8);
    assert.equal(pool.inUse, 0);
    pool.give(5);
    assert.equal(pool.inUse, 0, 'never below zero');
  });

  it('a waiter whose scan is cancelled leaves the queue with nothing taken', async () => {
    const pool = new DescriptorPool(1);
    pool.tryTake(1);
    const ac = new AbortController();
    const waiting = pool.take(1, ac.signal);
    const next = pool.take(1);
    ac.abort();
    assert.equal(await waiting, 0);
    pool.give(1);
    assert.equal(await next, 1, 'the one behind it gets the descriptor');
  });

  it('tells synchronous takers (the sweep) when descriptors come back', () => {
    const pool = new DescriptorPool(2);
    pool.tryTake(2);
    let called = 0;
    pool.whenFree(() => called++);
    pool.give(1);
    pool.give(1);
    assert.equal(called, 1, 'once');
  });

  it('is the open-file limit less the reserve, never less than MIN_POOL', () => {
    assert.equal(poolSizeFor(20_000), 20_000 - DESCRIPTOR_RESERVE);
    assert.equal(poolSizeFor(256), 256 - DESCRIPTOR_RESERVE);
    assert.equal(poolSizeFor(40), MIN_POOL);
    assert.equal(poolSizeFor(null), 1024 - DESCRIPTOR_RESERVE, 'unknown: the usual default limit');
  });

  it('reads the soft limit this process runs under (ulimit -n 256 in a child)', function () {
    const r = spawnSync('bash', ['-c', `ulimit -n 256; exec "${process.execPath}" -r ts-node/register/transpile-only -e "console.log(require('./lib/common/descriptors').openFileLimit())"`], { encoding: 'utf8', cwd: `${__dirname}/../..` });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '256');
  });
});

describe('lib/common/descriptors: EMFILE', function () {
  it('is tried again after a pause and never becomes the answer while it passes', async () => {
    const answers = ['EMFILE', 'ENFILE', 'ECONNREFUSED'];
    let calls = 0;
    const r = await retryShortOfDescriptors(async () => answers[calls++], isDescriptorShortage, undefined, [1, 1, 1, 1]);
    assert.equal(r, 'ECONNREFUSED');
    assert.equal(calls, 3);
  });

  it('gives up after the last pause, with the shortage itself as the result', async () => {
    let calls = 0;
    const r = await retryShortOfDescriptors(async () => (calls++, 'EMFILE'), isDescriptorShortage, undefined, [1, 1]);
    assert.equal(r, 'EMFILE');
    assert.equal(calls, 3);
  });

  it('stops at once when the scan is cancelled', async () => {
    const ac = new AbortController();
    ac.abort();
    let calls = 0;
    await retryShortOfDescriptors(async () => (calls++, 'EMFILE'), isDescriptorShortage, ac.signal, [10_000]);
    assert.equal(calls, 1);
  });

  it('DescriptorShortage says "could not tell" and what to change', () => {
    const e = new DescriptorShortage('EMFILE', 'the MQTT attempts on 127.0.0.1:1883');
    assert.match(e.message, /^could not tell: .*EMFILE.*ulimit -n/);
  });
});

describe('lib/pipeline/capacity: what a scan can hold', function () {
  it('bounds set-ups, listeners and inspections by the descriptors', () => {
    const c = scanCapacity(new DescriptorPool(192), 1e12);
    assert.equal(c.descriptors, 192);
    assert.equal(c.setups, Math.floor(192 / SETUP_DESCRIPTORS));
    assert.equal(c.listeners, 192);
    assert.equal(c.inspections, Math.floor(192 / INSPECTION_DESCRIPTORS));
  });

  it('and by memory, when it is the smaller bound; never below one', () => {
    const c = scanCapacity(new DescriptorPool(100_000), 10 * LISTENER_BYTES);
    assert.equal(c.listeners, 10);
    assert.equal(scanCapacity(new DescriptorPool(1), 0).inspections, 1);
  });

  it('is not a fixed 64 on this machine', function () {
    const c = scanCapacity();
    if (c.descriptors < 64 * 2) this.skip();
    assert.ok(c.listeners > 64, JSON.stringify(c));
  });
});
