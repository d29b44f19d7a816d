// SetupGate: deferred work waits while brokers are set up, never longer than its bound.
import { strict as assert } from 'node:assert';
import { SetupGate, SetupWindow, WorkSlots, loopLoad } from '../../lib/pipeline/setup-gate';

const state = async (p: Promise<void>) => {
  let settled = false;
  void p.then(() => (settled = true));
  await new Promise((r) => setImmediate(r));
  return settled;
};

describe('lib/setup-gate', function () {
  it('is idle at once when no broker is being set up', async () => {
    assert.equal(await state(new SetupGate().idle(10_000)), true);
  });

  it('waits until the last set-up ends; ending twice counts once', async () => {
    const gate = new SetupGate();
    const a = gate.begin();
    const b = gate.begin();
    const waiting = gate.idle(10_000);
    a();
    a();
    assert.equal(gate.busy, 1);
    assert.equal(await state(waiting), false, 'one broker is still being set up');
    b();
    assert.equal(await state(waiting), true);
    assert.equal(gate.busy, 0);
  });

  it('never waits longer than its bound', async () => {
    const gate = new SetupGate();
    gate.begin();
    const t = Date.now();
    await gate.idle(50);
    assert.ok(Date.now() - t >= 45, 'waited for the bound');
    assert.equal(gate.busy, 1);
  });
});

describe('lib/setup-gate: SetupWindow', function () {
  const feed = (values: Array<number | null>) => {
    const queue = [...values];
    return () => (queue.length ? queue.shift()! : null);
  };

  it('starts small, doubles while the loop has room, up to the limit', () => {
    const w = new SetupWindow(4, 64, feed([null, 0.1, 0.2, 0.3, 0.1, 0.1, 0.1]));
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(() => w.allowed()), [4, 8, 16, 32, 64, 64, 64]);
  });

  it('halves when the loop is busy, never below where it started', () => {
    const w = new SetupWindow(4, 64, feed([0.1, 0.1, 0.1, 0.95, 0.9, 0.99, 0.99, 0.5]));
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map(() => w.allowed()), [8, 16, 32, 16, 8, 4, 4, 8]);
  });

  it('a limit below the start wins', () => {
    const w = new SetupWindow(4, 1, feed([0.1, 0.99]));
    assert.deepEqual([w.allowed(), w.allowed(), w.allowed()], [1, 1, 1]);
  });

  it('the default load reads the real event loop', async () => {
    const load = loopLoad(10);
    assert.equal(load(), null, 'not 10 ms yet');
    const until = Date.now() + 30;
    while (Date.now() < until) {
      // keep the loop busy
    }
    const u = load();
    assert.ok(u !== null && u > 0.8, `busy loop measured as ${u}`);
    await new Promise((r) => setTimeout(r, 40));
    const idle = load();
    assert.ok(idle !== null && idle < 0.5, `idle loop measured as ${idle}`);
  });
});

describe('lib/setup-gate: WorkSlots', function () {
  const feed = (values: Array<number | null>) => {
    const queue = [...values];
    return () => (queue.length ? queue.shift()! : null);
  };

  it('runs as many at once as the window allows; the next starts when one ends', async () => {
    const slots = new WorkSlots(new SetupWindow(2, 2, feed([])));
    const a = await slots.acquire();
    const b = await slots.acquire();
    const c = slots.acquire();
    let started = false;
    void c.then(() => (started = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(started, false, 'two at once');
    a();
    const end = await c;
    assert.equal(slots.busy, 2, 'the waiter took the slot given back');
    a();
    assert.equal(slots.busy, 2, 'giving a slot back twice counts once');
    b();
    end();
    assert.equal(slots.busy, 0);
  });

  it('lets every waiter go when the scan is cancelled', async () => {
    const ac = new AbortController();
    const slots = new WorkSlots(new SetupWindow(1, 1, feed([])), ac.signal);
    await slots.acquire();
    const waiting = [slots.acquire(), slots.acquire()];
    ac.abort();
    await Promise.all(waiting);
  });
});
