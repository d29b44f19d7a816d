// lib/mqtt/codec.ts: our packets are byte for byte what mqtt-packet generates, and we decode what
// mqtt-packet generates (properties included); malformed packets decode to null, never a throw.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { generate, type Packet } from 'mqtt-packet';
import { decode, encodeAck, encodePublish, encodeSubscribe, frame } from '../../lib/mqtt';

const gen = (p: Record<string, unknown>, v5: boolean) => generate(p as unknown as Packet, { protocolVersion: v5 ? 5 : 4 });

describe('lib/mqtt codec: the listener packets', function () {
  for (const v5 of [true, false]) {
    const v = v5 ? 'MQTT 5' : 'MQTT 3.1.1';

    it(`${v}: SUBSCRIBE and PUBLISH as mqtt-packet writes them`, () => {
      for (const filter of ['#', '$SYS/#', 'mqttsec/canary/0123abcd', 'ü/'.repeat(100)]) {
        const expected = gen({ cmd: 'subscribe', messageId: 7, subscriptions: [{ topic: filter, qos: 1 }], ...(v5 ? { properties: {} } : {}) }, v5);
        assert.deepEqual(encodeSubscribe(7, filter, 1, v5), expected, filter);
      }
      const payload = Buffer.from('mqttsec write test');
      const expected = gen({ cmd: 'publish', topic: 'mqttsec/canary/ab', payload, qos: 1, retain: false, dup: false, messageId: 300, ...(v5 ? { properties: {} } : {}) }, v5);
      assert.deepEqual(encodePublish(300, 'mqttsec/canary/ab', payload, v5), expected);
      assert.deepEqual(encodeAck('puback', 300), gen({ cmd: 'puback', messageId: 300 }, false));
    });

    it(`${v}: decodes PUBLISH (QoS 0/1/2, retain, properties), SUBACK, PUBACK, PUBREL, DISCONNECT`, () => {
      const props = v5 ? { properties: { contentType: 'text/plain', userProperties: { a: 'b' }, messageExpiryInterval: 60 } } : {};
      for (const qos of [0, 1, 2] as const) {
        const payload = randomBytes(qos * 100);
        const p = decode(gen({ cmd: 'publish', topic: 'lab/x', payload, qos, retain: qos === 1, dup: false, ...(qos ? { messageId: 9 } : {}), ...props }, v5), v5);
        assert.deepEqual(p, { type: 'publish', topic: 'lab/x', payload, qos, retain: qos === 1, id: qos ? 9 : null });
      }
      const suback = decode(gen({ cmd: 'suback', messageId: 5, granted: [1], ...(v5 ? { properties: { reasonString: 'ok' } } : {}) }, v5), v5);
      assert.deepEqual(suback, { type: 'suback', id: 5, codes: [1] });
      const refused = decode(gen({ cmd: 'suback', messageId: 6, granted: [0x80] }, v5), v5);
      assert.deepEqual(refused, { type: 'suback', id: 6, codes: [0x80] });
      const puback = decode(gen({ cmd: 'puback', messageId: 4, ...(v5 ? { reasonCode: 0x87, properties: { reasonString: 'no' } } : {}) }, v5), v5);
      assert.deepEqual(puback, { type: 'puback', id: 4, code: v5 ? 0x87 : 0 });
      assert.deepEqual(decode(gen({ cmd: 'pubrel', messageId: 3 }, v5), v5), { type: 'pubrel', id: 3 });
      if (v5) assert.deepEqual(decode(gen({ cmd: 'disconnect', reasonCode: 0x8b }, true), true), { type: 'disconnect', code: 0x8b });
    });
  }

  it('frames a packet only when its length is known; an overlong length is invalid', () => {
    const p = encodePublish(1, 't', Buffer.alloc(300), true);
    assert.equal(frame(p.subarray(0, 1)), null);
    assert.equal(frame(p.subarray(0, 2)), null, 'a two-byte length is not complete after one byte');
    assert.deepEqual(frame(p), { total: p.length });
    assert.equal(frame(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])), 'invalid');
  });

  it('malformed packets decode to null', () => {
    const cases: Array<[string, string, boolean]> = [
      ['PUBLISH QoS 3', '36 05 00 01 74 00 01', false],
      ['PUBLISH topic longer than the packet', '30 03 00 09 74', false],
      ['PUBLISH QoS 1 without packet id', '32 03 00 01 74', false],
      ['MQTT 5 PUBLISH properties overrun', '30 05 00 01 74 09 01', true],
      ['SUBACK without codes', '90 02 00 01', false],
      ['MQTT 5 SUBACK properties overrun', '90 04 00 01 05 00', true],
      ['PUBACK too short', '40 01 00', false],
    ];
    for (const [what, hex, v5] of cases) assert.equal(decode(Buffer.from(hex.replace(/ /g, ''), 'hex'), v5), null, what);
    for (let i = 0; i < 5000; i++) {
      const b = randomBytes(1 + (i % 40));
      try {
        decode(b, i % 2 === 0);
      } catch (err) {
        assert.fail(`threw on ${b.toString('hex')}: ${(err as Error).message}`);
      }
    }
  });
});
