// lib/sniff/lab-device.ts on its own: the description the simulator and the sniffer import.
// (Byte equality with the C++ firmware is in firmware.test.ts.)
import { strict as assert } from 'node:assert';
import * as lab from '../../lib/sniff/lab-device';

const ID = 'esp32-a5b4c3d2e1f0';

function counter(values: number[]): lab.Rng {
  let i = 0;
  return () => values[i++ % values.length];
}

describe('lib/sniff/lab-device', () => {
  describe('topics', () => {
    it('lists every topic of a device with its broker, QoS and retain flag', () => {
      assert.deepEqual(lab.deviceTopics(ID).map((t) => [t.broker, t.kind, t.topic, t.qos, t.retain]), [
        ['secure', 'dht', `lab/secure/${ID}/dht`, 0, true],
        ['secure', 'ldr', `lab/secure/${ID}/ldr`, 0, true],
        ['secure', 'status', `lab/secure/${ID}/status`, 0, true],
        ['insecure', 'pir', `lab/insecure/${ID}/pir`, 0, true],
        ['insecure', 'status', `lab/insecure/${ID}/status`, 0, true],
      ]);
    });

    it('refuses device ids that are not one safe topic level', () => {
      for (const bad of ['', 'a/b', '+', '#', 'a b', 'x'.repeat(22), 'é']) {
        assert.equal(lab.isValidDeviceId(bad), false, bad);
        assert.throws(() => lab.sensorTopic('dht', bad), RangeError);
        assert.throws(() => lab.statusTopic('secure', bad), RangeError);
        assert.throws(() => lab.clientId(bad, 'insecure'), RangeError);
      }
      assert.equal(lab.clientId('x'.repeat(21), 'secure').length, 23, 'MQTT 3.1.1 client id limit');
    });

    it('derives the device id from the eFuse MAC, byte 0 first', () => {
      assert.equal(lab.deviceIdFromMac(0xf0e1d2c3b4a5n), ID);
      assert.equal(lab.deviceIdFromMac(0xffff000000000001n), 'esp32-010000000000');
      assert.ok(lab.isValidDeviceId(lab.deviceIdFromMac(0n)));
    });

    it('parses lab topics and rejects a sensor on the wrong broker', () => {
      assert.deepEqual(lab.parseLabTopic(`lab/insecure/${ID}/pir`), { broker: 'insecure', deviceId: ID, kind: 'pir' });
      assert.deepEqual(lab.parseLabTopic(`lab/secure/${ID}/status`), { broker: 'secure', deviceId: ID, kind: 'status' });
      for (const t of [`lab/insecure/${ID}/dht`, `lab/secure/${ID}/pir`, 'lab/secure/a/b/dht', 'sensors/lab/dht', `lab/secure/${ID}/dht/x`])
        assert.equal(lab.parseLabTopic(t), null, t);
    });
  });

  describe('payloads', () => {
    it('formats one decimal, rounding half away from zero on v * 10', () => {
      const table: [number, string | null][] = [
        [28.5, '28.5'], [65, '65.0'], [0.05, '0.1'], [0.15, '0.2'], [0.25, '0.3'], [28.15, '28.2'], [28.25, '28.3'],
        [28.04, '28.0'], [-0.05, '-0.1'], [-0.04, '0.0'], [-0, '0.0'], [-12.25, '-12.3'], [1e6, '1000000.0'],
        [1e6 + 0.1, null], [NaN, null], [Infinity, null], [Math.fround(28.1), '28.1'],
      ];
      for (const [v, want] of table) assert.equal(lab.formatTenths(v), want, String(v));
    });

    it('builds the DHT payload with fixed key order, within DHT11 limits only', () => {
      assert.equal(lab.buildDhtPayload(28.5, 65), '{"temperature":28.5,"humidity":65.0}');
      assert.equal(lab.buildDhtPayload(0, 20), '{"temperature":0.0,"humidity":20.0}');
      assert.equal(lab.buildDhtPayload(50, 90), '{"temperature":50.0,"humidity":90.0}');
      for (const [t, h] of [[NaN, 65], [25, NaN], [-0.1, 65], [50.1, 65], [25, 19.9], [25, 90.1], [Infinity, 50]])
        assert.equal(lab.buildDhtPayload(t, h), null, `${t} ${h}`);
      assert.deepEqual(JSON.parse(lab.buildDhtPayload(23.4, 40)!), { temperature: 23.4, humidity: 40 });
    });

    it('builds light, motion and status payloads', () => {
      assert.equal(lab.buildLightPayload(2048), '{"raw":2048,"percent":50}');
      assert.equal(lab.buildLightPayload(0), '{"raw":0,"percent":0}');
      assert.equal(lab.buildLightPayload(4095), '{"raw":4095,"percent":100}');
      for (const bad of [-1, 4096, 12.5, NaN]) assert.equal(lab.buildLightPayload(bad), null, String(bad));
      assert.equal(lab.buildMotionPayload(true), '{"motion":true}');
      assert.equal(lab.buildMotionPayload(false), '{"motion":false}');
      assert.equal(lab.buildStatusPayload(true), 'online');
      assert.equal(lab.buildStatusPayload(false), 'offline');
    });

    it('gives light percent rounded half up, monotonic from 0 to 100', () => {
      let last = -1;
      for (let raw = 0; raw <= lab.ADC_MAX; raw++) {
        const p = lab.lightPercent(raw)!;
        assert.ok(p === last || p === last + 1, `raw ${raw}`);
        assert.equal(p, Math.floor((raw * 100) / lab.ADC_MAX + 0.5), `raw ${raw}`);
        last = p;
      }
      assert.equal(last, 100);
    });

    it('describes each sensor kind with a payload shape its builder matches', () => {
      const samples: Record<lab.SensorKind, string> = {
        dht: lab.buildDhtPayload(21.3, 44)!,
        ldr: lab.buildLightPayload(17)!,
        pir: lab.buildMotionPayload(true),
      };
      for (const info of Object.values(lab.SENSOR_KINDS)) {
        assert.match(samples[info.kind], info.payloadPattern);
        assert.deepEqual(Object.keys(JSON.parse(samples[info.kind])), info.keys);
        assert.deepEqual(Object.keys(info.units), info.keys);
        assert.equal(info.broker, lab.SENSOR_BROKER[info.kind]);
        assert.equal(info.topicFilter, lab.sensorTopic(info.kind, 'X').replace('/X/', '/+/'));
        for (const other of Object.values(lab.SENSOR_KINDS))
          if (other !== info) assert.doesNotMatch(samples[info.kind], other.payloadPattern);
      }
    });
  });

  describe('recognition (for the sniffer)', () => {
    it('recognizes a lab sensor by topic, or by the exact payload shape on any topic', () => {
      assert.equal(lab.recognizeSensor(`lab/secure/${ID}/ldr`), 'ldr');
      assert.equal(lab.recognizeSensor('home/kitchen', '{"motion":false}'), 'pir');
      assert.equal(lab.recognizeSensor('x', '{"temperature":21.0,"humidity":50.0}'), 'dht');
      assert.equal(lab.recognizeSensor('x', '{"raw":1,"percent":0}'), 'ldr');
      assert.equal(lab.recognizeSensor(`lab/secure/${ID}/status`, 'online'), null);
      assert.equal(lab.recognizeSensor('x', '{"temp":21}'), null);
      assert.equal(lab.recognizeSensor('x'), null);
    });
  });

  describe('messages and simulation (for the simulator)', () => {
    it('turns a reading into the message the board sends, or null when the board drops it', () => {
      assert.deepEqual(lab.readingMessage(ID, { kind: 'pir', motion: true }), {
        broker: 'insecure', topic: `lab/insecure/${ID}/pir`, payload: '{"motion":true}', qos: 0, retain: true,
      });
      assert.equal(lab.readingMessage(ID, { kind: 'dht', temperature: NaN, humidity: 50 }), null);
      assert.deepEqual(lab.statusMessage('secure', ID, false), {
        broker: 'secure', topic: `lab/secure/${ID}/status`, payload: 'offline', qos: 1, retain: true,
      });
    });

    it('simulates the same readings for the same rng', () => {
      const run = (seed: number) => {
        let x = seed;
        const rng = () => ((x = (x * 16807) % 2147483647) / 2147483647);
        let prev: lab.DhtReading | undefined;
        return Array.from({ length: 50 }, () => (prev = lab.simulateReading('dht', rng, prev)));
      };
      assert.deepEqual(run(1), run(1));
      assert.notDeepEqual(run(1), run(2));
    });

    it('simulates plausible values the board would publish, drifting a little from the previous', () => {
      let x = 12345;
      const rng = () => ((x = (x * 16807) % 2147483647) / 2147483647);
      let dht: lab.DhtReading | undefined;
      let ldr: lab.LightReading | undefined;
      for (let i = 0; i < 2000; i++) {
        const d = lab.simulateReading('dht', rng, dht);
        const l = lab.simulateReading('ldr', rng, ldr);
        assert.ok(lab.buildDhtPayload(d.temperature, d.humidity), JSON.stringify(d));
        assert.ok(lab.buildLightPayload(l.raw), JSON.stringify(l));
        assert.equal(d.temperature, Math.round(d.temperature * 10) / 10, 'DHT11 gives tenths');
        assert.ok(Number.isInteger(d.humidity), 'DHT11 gives whole percent');
        if (dht) assert.ok(Math.abs(d.temperature - dht.temperature) <= 0.3 + 1e-9);
        if (ldr) assert.ok(Math.abs(l.raw - ldr.raw) <= 120);
        dht = d;
        ldr = l;
      }
    });

    it('covers the rng range edges', () => {
      assert.deepEqual(lab.simulateReading('dht', counter([0, 0])), { kind: 'dht', temperature: 18, humidity: 35 });
      const top = 1 - Number.EPSILON;
      assert.deepEqual(lab.simulateReading('dht', counter([top, top])), { kind: 'dht', temperature: 32, humidity: 75 });
      assert.deepEqual(lab.simulateReading('ldr', counter([0])), { kind: 'ldr', raw: 300 });
      assert.deepEqual(lab.simulateReading('pir', counter([0.1])), { kind: 'pir', motion: true });
      assert.deepEqual(lab.simulateReading('pir', counter([0.5])), { kind: 'pir', motion: false });
      assert.deepEqual(lab.simulateReading('pir', counter([0.5]), { kind: 'pir', motion: true }), { kind: 'pir', motion: true });
    });
  });
});
