// SetupGate: deferred work waits while brokers are set up, never longer than its bound.
import { strict as assert } from 'node:assert';
import { SetupGate } from '../../lib/setup-gate';

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
