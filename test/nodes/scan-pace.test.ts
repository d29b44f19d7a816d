// nodes/shared/scan-pace.ts: the expander's backpressure on the probe's progress.
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { cancelled, finished, paceState, room, took } from '../../nodes/shared/scan-pace';

const opts = { ahead: 100, stallMs: 5000, consumerWaitMs: 5000 };
const later = (ms: number) => new Promise((r) => setTimeout(r, ms));
const settled = async (p: Promise<unknown>) => {
  let s = false;
  void p.then(() => (s = true));
  await later(5);
  return s;
};

describe('nodes/shared/scan-pace', function () {
  it('has room while fewer than `ahead` targets are unswept, then waits until the probe is down to half', async () => {
    const id = randomUUID();
    assert.equal(await room(id, 99, opts), 'room', 'no probe needed yet');
    took(id, 0);
    const waiting = room(id, 200, opts);
    took(id, 120);
    assert.equal(await settled(waiting), false, '80 unswept is not yet half of 100');
    took(id, 30);
    assert.equal(await waiting, 'room');
    finished(id);
  });

  it('stops a cancelled scan, also one the probe finished', async () => {
    const id = randomUUID();
    took(id, 0);
    const waiting = room(id, 500, opts);
    cancelled(id);
    assert.equal(await waiting, 'cancelled');
    finished(id);
    assert.equal(await room(id, 10, opts), 'cancelled', 'remembered after the probe completed it');
  });

  it('without a probe reporting, says so after consumerWaitMs', async () => {
    const t = Date.now();
    assert.equal(await room(randomUUID(), 1000, { ...opts, consumerWaitMs: 50 }), 'no-consumer');
    assert.ok(Date.now() - t >= 45);
    assert.equal(paceState().awaited, 0, 'the waiter is gone');
  });

  it('waits for a probe that reports late', async () => {
    const id = randomUUID();
    const waiting = room(id, 1000, opts);
    await later(20);
    took(id, 0);
    took(id, 990);
    assert.equal(await waiting, 'room');
    finished(id);
  });

  it('a probe that reports nothing for stallMs lets the expander go on; reports push that back', async () => {
    const id = randomUUID();
    took(id, 0);
    const t = Date.now();
    const waiting = room(id, 1000, { ...opts, stallMs: 80 });
    await later(50);
    took(id, 1); // progress, not enough for room
    assert.equal(await waiting, 'stalled');
    assert.ok(Date.now() - t >= 120, `stalled after ${Date.now() - t} ms: the report at 50 ms restarted the wait`);
    finished(id);
  });
});
