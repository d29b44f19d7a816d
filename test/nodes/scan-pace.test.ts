// nodes/shared/scan-pace.ts: the expander's backpressure on the probe's progress, through the pace
// handle carried in msg.scan.pace (no module state).
import { strict as assert } from 'node:assert';
import { createPaceGate, paceOf } from '../../nodes/shared/scan-pace';

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
    const gate = createPaceGate();
    assert.equal(await gate.room(99, opts), 'room', 'no probe needed yet');
    gate.pace.took(0);
    const waiting = gate.room(200, opts);
    gate.pace.took(120);
    assert.equal(await settled(waiting), false, '80 unswept is not yet half of 100');
    gate.pace.took(30);
    assert.equal(await waiting, 'room');
  });

  it('stops a cancelled scan, also one the probe finished', async () => {
    const gate = createPaceGate();
    gate.pace.took(0);
    const waiting = gate.room(500, opts);
    gate.pace.cancelled();
    assert.equal(await waiting, 'cancelled');
    gate.pace.finished();
    assert.equal(await gate.room(10, opts), 'cancelled', 'remembered after the probe completed it');
  });

  it('has room at once after the probe finished the scan', async () => {
    const gate = createPaceGate();
    gate.pace.took(0);
    const waiting = gate.room(1000, opts);
    gate.pace.finished();
    assert.equal(await waiting, 'room');
    assert.equal(await gate.room(5000, opts), 'room');
  });

  it('without a probe reporting, says so after consumerWaitMs', async () => {
    const t = Date.now();
    assert.equal(await createPaceGate().room(1000, { ...opts, consumerWaitMs: 50 }), 'no-consumer');
    assert.ok(Date.now() - t >= 45);
  });

  it('waits for a probe that reports late', async () => {
    const gate = createPaceGate();
    const waiting = gate.room(1000, opts);
    await later(20);
    gate.pace.took(0);
    gate.pace.took(990);
    assert.equal(await waiting, 'room');
  });

  it('a probe that reports nothing for stallMs lets the expander go on; reports push that back', async () => {
    const gate = createPaceGate();
    gate.pace.took(0);
    const t = Date.now();
    const waiting = gate.room(1000, { ...opts, stallMs: 80 });
    await later(50);
    gate.pace.took(1); // progress, not enough for room
    assert.equal(await waiting, 'stalled');
    assert.ok(Date.now() - t >= 120, `stalled after ${Date.now() - t} ms: the report at 50 ms restarted the wait`);
  });

  it('scans are independent: one gate per scan, nothing shared', async () => {
    const a = createPaceGate();
    const b = createPaceGate();
    a.pace.took(0);
    b.pace.took(0);
    const waitingA = a.room(1000, opts);
    b.pace.took(1000);
    assert.equal(await settled(waitingA), false, "b's progress is not a's");
    a.pace.took(950);
    assert.equal(await waitingA, 'room');
  });

  it('the handle survives the message cloning Node-RED does for a second wire (functions by reference)', async () => {
    // RED.util.cloneMessage is what the runtime uses when a node's output has several wires.
    const { cloneMessage } = require('@node-red/util').util as { cloneMessage: <T>(m: T) => T };
    const gate = createPaceGate();
    const msg = { payload: [], scan: { id: 'x', pace: gate.pace } };
    const copy = cloneMessage(msg);
    const pace = paceOf(copy.scan);
    assert.ok(pace, 'a usable handle after cloning');
    pace.took(0);
    const waiting = gate.room(1000, opts);
    pace.took(1000);
    assert.equal(await waiting, 'room', 'reports on the clone reach the expander');
    assert.equal(paceOf({ pace: { took: 1 } }), undefined, 'a malformed handle is ignored');
    assert.equal(paceOf(JSON.parse(JSON.stringify(msg.scan))), undefined, 'a handle that crossed JSON is gone');
  });
});
