// The Lab controls view (lib/dashboard/lab-controls.ts) with the test context: the panel it draws
// from the lab's state, the requests it passes on and the ones it refuses (naming the bad part),
// outside `npm start`'s lab, while a scan runs, and when the lab itself fails.
import { strict as assert } from 'node:assert';
import { LAB_CONTROLS_UNAVAILABLE, RUNNING_LOCK_MS, type LabControl, type LabControlChange, type LabControls, type LabControlsState } from '../../lib/dashboard';
import { out, testContext, T0, type TestContext } from './context';

/** A lab with the shape of `npm start`'s: a switch per broker and a choice on the secure one; records what was applied. */
function fakeLab(): LabControls & { applied: LabControlChange[]; values: Record<string, boolean | string> } {
  const values: Record<string, boolean | string> = { 'insecure.requireLogin': false, 'secure.certificate': 'trusted' };
  const control = (broker: string, id: string): LabControl => {
    const v = values[`${broker}.${id}`];
    return typeof v === 'boolean'
      ? { id, label: 'Require a login', kind: 'switch', value: v, shipped: false, effect: v ? 'Logins only.' : 'Anyone.', mosquittoConf: v ? ['allow_anonymous false', 'password_file /etc/mosquitto/passwd'] : ['allow_anonymous true'] }
      : { id, label: 'Certificate', kind: 'choice', value: v, shipped: 'trusted', options: [{ value: 'trusted', label: 'Lab CA' }, { value: 'expired', label: 'Expired' }], effect: `The ${v} one.`, mosquittoConf: [`certfile /etc/mosquitto/certs/${v}.crt`] };
  };
  const state = (): LabControlsState => ({
    brokers: [
      { id: 'insecure', name: 'Insecure lab broker', addresses: ['mqtt://127.0.0.1:1883', 'ws://127.0.0.1:9001/mqtt'], controls: [control('insecure', 'requireLogin')] },
      { id: 'secure', name: 'Secure lab broker', addresses: ['mqtts://127.0.0.1:8883'], controls: [control('secure', 'certificate')] },
    ],
  });
  const lab = {
    applied: [] as LabControlChange[],
    values,
    state,
    apply(change: LabControlChange) {
      lab.applied.push(change);
      const same = values[`${change.broker}.${change.control}`] === change.value;
      values[`${change.broker}.${change.control}`] = change.value;
      return { state: state(), closed: same ? 0 : 2, text: `${change.control} is now ${String(change.value)}.` };
    },
  };
  return lab;
}

function withLab(): { ctx: TestContext; lab: ReturnType<typeof fakeLab> } {
  const ctx = testContext();
  const lab = fakeLab();
  ctx.lab = lab;
  return { ctx, lab };
}

describe('dashboard view: lab-controls', () => {
  it('outside `npm start`\'s lab the panel says plainly that lab controls work only there, whatever it is sent', () => {
    const ctx = testContext();
    for (const msg of [{ topic: 'show' }, { payload: { broker: 'insecure', control: 'requireLogin', value: true } }, { payload: 'reset' }, {}]) {
      const panel = out(ctx.run('lab-controls', msg), 0).payload;
      assert.deepEqual(panel, { available: false, unavailable: LAB_CONTROLS_UNAVAILABLE, brokers: [], asShipped: true, notice: null });
    }
    assert.match(LAB_CONTROLS_UNAVAILABLE, /only in the lab that `npm start` runs/);
  });

  it('on deploy and start (topic "show"): the lab as it is, each control with its mosquitto.conf lines, nothing applied', () => {
    const { ctx, lab } = withLab();
    const panel = out(ctx.run('lab-controls', { topic: 'show' }), 0).payload;
    assert.deepEqual(panel, {
      available: true,
      unavailable: null,
      brokers: [
        { id: 'insecure', name: 'Insecure lab broker', addresses: 'mqtt://127.0.0.1:1883 · ws://127.0.0.1:9001/mqtt', controls: [
          { id: 'requireLogin', label: 'Require a login', kind: 'switch', value: false, options: [], asShipped: true, effect: 'Anyone.', conf: 'allow_anonymous true' },
        ] },
        { id: 'secure', name: 'Secure lab broker', addresses: 'mqtts://127.0.0.1:8883', controls: [
          { id: 'certificate', label: 'Certificate', kind: 'choice', value: 'trusted', options: [{ value: 'trusted', label: 'Lab CA' }, { value: 'expired', label: 'Expired' }], asShipped: true, effect: 'The trusted one.', conf: 'certfile /etc/mosquitto/certs/trusted.crt' },
        ] },
      ],
      asShipped: true,
      notice: null,
    });
    assert.deepEqual(lab.applied, []);
    assert.equal(ctx.store.size, 0, 'the panel keeps nothing in the flow context: the lab is the truth');
  });

  it('a change goes to the lab; the panel shows the lab after it, what it did and how many connections were closed', () => {
    const { ctx, lab } = withLab();
    const panel = out(ctx.run('lab-controls', { payload: { broker: 'insecure', control: 'requireLogin', value: true } }), 0).payload;
    assert.deepEqual(lab.applied, [{ broker: 'insecure', control: 'requireLogin', value: true }]);
    assert.deepEqual(panel.notice, { kind: 'done', text: 'requireLogin is now true. 2 connections were closed: clients reconnect under the new setting. Scan again to see what changed.' });
    const c = panel.brokers[0].controls[0];
    assert.deepEqual([c.value, c.asShipped, c.conf], [true, false, 'allow_anonymous false\npassword_file /etc/mosquitto/passwd']);
    assert.equal(panel.asShipped, false);
    // The same value again: nothing closed, nothing to rescan.
    const again = out(ctx.run('lab-controls', { payload: { broker: 'insecure', control: 'requireLogin', value: true } }), 0).payload;
    assert.deepEqual(again.notice, { kind: 'done', text: 'requireLogin is now true.' });
    const cert = out(ctx.run('lab-controls', { payload: { broker: 'secure', control: 'certificate', value: 'expired' } }), 0).payload;
    assert.equal(cert.brokers[1].controls[0].value, 'expired');
  });

  it('a bad request changes nothing and says which part is bad (never throws)', () => {
    const { ctx, lab } = withLab();
    const table: Array<[unknown, string]> = [
      [undefined, 'Not changed: broker: missing (one of insecure, secure).'],
      ['on', 'Not changed: broker: missing (one of insecure, secure).'],
      // Never repeats what was sent: the panel goes to every tab.
      [{ broker: 'mosquitto' }, 'Not changed: broker: not a lab broker (insecure, secure).'],
      [{ broker: 'insecure' }, 'Not changed: control: missing (one of requireLogin).'],
      [{ broker: 'insecure', control: 'certificate', value: 'expired' }, 'Not changed: control: not a control of the insecure broker (requireLogin).'],
      [{ broker: 'insecure', control: 'requireLogin', value: 'yes' }, 'Not changed: requireLogin: must be true or false.'],
      [{ broker: 'insecure', control: 'requireLogin' }, 'Not changed: requireLogin: must be true or false.'],
      [{ broker: 'secure', control: 'certificate', value: 'stolen' }, 'Not changed: certificate: must be one of trusted, expired.'],
      [{ broker: 'secure', control: 'certificate', value: true }, 'Not changed: certificate: must be one of trusted, expired.'],
      [{ broker: 'Teacher: type your password here' }, 'Not changed: broker: not a lab broker (insecure, secure).'],
      [{ broker: '__proto__', control: 'constructor' }, 'Not changed: broker: not a lab broker (insecure, secure).'],
    ];
    for (const [payload, text] of table) {
      const panel = out(ctx.run('lab-controls', { payload }), 0).payload;
      assert.deepEqual(panel.notice, { kind: 'error', text }, JSON.stringify(payload)?.slice(0, 80));
      assert.equal(panel.available, true);
    }
    assert.deepEqual(lab.applied, []);
  });

  it('refused while a scan runs (one scan sees one lab); a lock older than RUNNING_LOCK_MS is ignored', () => {
    const { ctx, lab } = withLab();
    ctx.flow.set('running', { scanId: 'abc', at: T0 - 1000 });
    const panel = out(ctx.run('lab-controls', { payload: { broker: 'insecure', control: 'requireLogin', value: true } }), 0).payload;
    assert.equal(panel.notice.kind, 'error');
    assert.match(panel.notice.text, /^A scan is running: change the lab when it has finished/);
    assert.equal(panel.brokers[0].controls[0].value, false, 'the switch goes back to what the lab has');
    assert.deepEqual(lab.applied, []);
    ctx.flow.set('running', { scanId: 'abc', at: T0 - RUNNING_LOCK_MS - 1 });
    assert.equal(out(ctx.run('lab-controls', { payload: { broker: 'insecure', control: 'requireLogin', value: true } }), 0).payload.notice.kind, 'done');
    assert.equal(lab.applied.length, 1);
  });

  it('"Back to the lab as shipped" applies the shipped value of each control that differs, and only those', () => {
    const { ctx, lab } = withLab();
    ctx.run('lab-controls', { payload: { broker: 'secure', control: 'certificate', value: 'expired' } });
    lab.applied.length = 0;
    const panel = out(ctx.run('lab-controls', { payload: 'reset' }), 0).payload;
    assert.deepEqual(lab.applied, [{ broker: 'secure', control: 'certificate', value: 'trusted' }]);
    assert.deepEqual(panel.notice, { kind: 'done', text: 'The lab is back as shipped. 2 connections were closed: clients reconnect under the new setting. Scan again to see what changed.' });
    assert.equal(panel.asShipped, true);
    const nothing = out(ctx.run('lab-controls', { payload: { reset: true } }), 0).payload;
    assert.deepEqual(nothing.notice, { kind: 'done', text: 'The lab is back as shipped. Scan again to see what changed.' });
    assert.equal(lab.applied.length, 1);
  });

  it('a lab that throws: the error in the notice, the panel as the lab still says it is; a lab that cannot say its state: the panel says so', () => {
    const { ctx, lab } = withLab();
    lab.apply = () => {
      throw new TypeError('the key does not fit the certificate');
    };
    const panel = out(ctx.run('lab-controls', { payload: { broker: 'secure', control: 'certificate', value: 'expired' } }), 0).payload;
    assert.deepEqual(panel.notice, { kind: 'error', text: 'Not changed: the key does not fit the certificate' });
    assert.equal(panel.brokers[1].controls[0].value, 'trusted');
    lab.state = () => {
      throw new Error('stopped');
    };
    const broken = out(ctx.run('lab-controls', { topic: 'show' }), 0).payload;
    assert.deepEqual([broken.available, broken.unavailable], [false, 'The lab did not say how its brokers are set: stopped']);
  });

  it('whatever a lab returns, the panel is bounded text: at most 8 controls, 40 lines of 200 characters, 400-character sentences', () => {
    const ctx = testContext();
    const long = 'y'.repeat(10_000);
    const controls = Array.from({ length: 30 }, (_, i) => ({ id: `c${i}`, label: long, kind: 'switch', value: 'not a boolean', shipped: false, effect: long, mosquittoConf: Array.from({ length: 100 }, () => long) }));
    ctx.lab = { state: () => ({ brokers: [{ id: 'b', name: long, addresses: [long], controls }] }) as unknown as LabControlsState, apply: () => { throw new Error('no'); } };
    const panel = out(ctx.run('lab-controls', { topic: 'show' }), 0).payload;
    const c = panel.brokers[0].controls;
    assert.equal(c.length, 8);
    assert.equal(c[0].value, false, 'a switch is a boolean');
    assert.equal(c[0].effect.length, 400);
    assert.equal(c[0].conf.split('\n').length, 40);
    assert.ok(c[0].conf.split('\n').every((l: string) => l.length === 200));
    assert.equal(panel.brokers[0].name.length, 200);
  });
});
