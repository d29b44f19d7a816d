// Issue 16, second kind: retained messages bigger than the listener's packet bound (64 KiB) used
// to vanish: MQTT 5 brokers dropped them without a word because our CONNECT said Maximum Packet
// Size 64 KiB (OASIS MQTT 5.0 §3.1.2.11.4), and with 3.1.1 PacketGuard skipped them unread. Now
// their topic is listed with its full size, the retained flag and a sample of the payload's head,
// while PacketGuard still never buffers such a PUBLISH whole. Real brokers: Mosquitto 2.0 (5.0 and
// 3.1.1) and aedes (3.1.1).
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import mqtt from 'mqtt';
import { sniffBroker, SNIFF_DEFAULTS, type SniffResult } from '../../lib/sniff';
import type { TopicItem } from '../../lib/types';
import { startAedes, type AedesBroker } from '../support/aedes';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto';
import { requireTool } from '../support/tools';
import { watchLoop } from '../support/loop-watch';
import { TopicCollector } from '../../lib/sniff/collector';

const LOCAL = '127.0.0.1';
const HEAD_SECRET = 'Z1gb33-N3tw0rk';
const DEVICES_TOPIC = 'zigbee2mqtt/bridge/devices';
const BLOB_TOPIC = 'cam/garage/snapshot';
const BLOB_BYTES = 5 * 1024 * 1024;

/**
 * A zigbee2mqtt-like device list of about 71 KB: a password in the first 1 KiB (the head the
 * listener examines), and the byte at the sample bound cut in the middle of a two-byte 'ü', so a
 * head examined as if whole would look like invalid UTF-8 (binary).
 */
function deviceList(): Buffer {
  let first = `[{"ieee_address":"0x00158d0001a2b3c4","type":"Coordinator","password":"${HEAD_SECRET}","description":"`;
  if (Buffer.byteLength(first) % 2 === 0) first += ' ';
  const devices: string[] = [];
  for (let i = 0; Buffer.byteLength(devices.join(',')) < 69_600; i++) {
    devices.push(JSON.stringify({ ieee_address: `0x00158d00${(0x1000000 + i).toString(16)}`, friendly_name: `Küche Sensor ${i}`, model_id: 'lumi.sensor_motion.aq2', power_source: 'Battery' }));
  }
  const text = `${first}${'ü'.repeat(600)}"},${devices.join(',')}]`;
  const json = Buffer.from(text, 'utf8');
  JSON.parse(text);
  const cut = SNIFF_DEFAULTS.maxSampleBytes;
  assert.ok((json[cut] & 0xc0) === 0x80, 'the sample bound falls inside a character');
  return json;
}

function exposeGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

const retainedBytes = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
const mb = (n: number) => Math.round(n / 1e5) / 10;

describe('sniff: retained messages bigger than the packet bound', function () {
  this.timeout(60_000);
  const devices = deviceList();
  const blob = randomBytes(BLOB_BYTES);
  let mosquitto: MosquittoBroker | undefined;
  let aedes: AedesBroker | undefined;

  before(async function () {
    requireTool(this, 'mosquitto');
    [mosquitto, aedes] = await Promise.all([startMosquitto({ conf: 'listener 1883\nallow_anonymous true\n' }), startAedes()]);
    for (const [port, protocolVersion] of [[mosquitto.port, 5], [aedes.port, 4]] as const) {
      const pub = await mqtt.connectAsync({ host: LOCAL, port, reconnectPeriod: 0, connectTimeout: 5000, protocolVersion });
      try {
        await pub.publishAsync(DEVICES_TOPIC, devices, { qos: 1, retain: true });
        await pub.publishAsync(BLOB_TOPIC, blob, { qos: 1, retain: true });
        await pub.publishAsync('zigbee2mqtt/bridge/state', '{"state":"online"}', { qos: 1, retain: true });
      } finally {
        await pub.endAsync();
      }
    }
  });
  after(() => Promise.all([mosquitto?.stop(), aedes?.stop()]));

  const cases = [['Mosquitto', '5.0'], ['Mosquitto', '3.1.1'], ['aedes', '3.1.1']] as const;
  for (const [name, version] of cases) {
    it(`${name}, MQTT ${version}: a 71 KB JSON and a 5 MB blob are listed with their sizes, retained, samples of their heads; memory stays bounded`, async () => {
      const port = name === 'aedes' ? aedes!.port : mosquitto!.port;
      const gc = exposeGc();
      gc();
      const before = retainedBytes();
      const heapBefore = process.memoryUsage().heapUsed;
      const loop = watchLoop(5);
      let r: SniffResult;
      try {
        r = await sniffBroker({ host: LOCAL, port }, { transport: 'tcp', version, listenMs: 1000, subscriptions: ['#'] });
      } finally {
        loop.stop();
      }
      gc();
      const grew = retainedBytes() - before;
      const peak = loop.peakHeap - heapBefore;
      const t = new Map<string, TopicItem>(r.items.map((i) => [i.topic, i]));
      const json = t.get(DEVICES_TOPIC);
      const bin = t.get(BLOB_TOPIC);
      console.log(`      ${name} ${version}: ${DEVICES_TOPIC} ${json?.bytes} bytes, ${BLOB_TOPIC} ${bin?.bytes} bytes; kept +${mb(grew)} MB after GC, heap peak +${mb(peak)} MB, max loop gap ${loop.maxGap} ms`);

      assert.equal(r.error, null);
      assert.ok(json, `${DEVICES_TOPIC} listed: ${JSON.stringify([...t.keys()])}`);
      assert.ok(bin, `${BLOB_TOPIC} listed`);
      assert.deepEqual([json.retained, json.bytes, json.messages], [true, devices.length, 1]);
      assert.deepEqual([bin.retained, bin.bytes, bin.messages], [true, BLOB_BYTES, 1]);
      assert.equal(t.get('zigbee2mqtt/bridge/state')?.bytes, 18, 'a small message beside them is listed as ever');

      // The head was examined like any payload's first maxSampleBytes: text (the character cut at
      // the bound dropped, not taken for binary), screened, the secret masked.
      assert.ok(json.sample!.startsWith('[{"ieee_address":"0x00158d0001a2b3c4","type":"Coordinator","password":"***"'), json.sample);
      assert.ok(json.sample!.length <= SNIFF_DEFAULTS.sampleChars + 1, `sample of ${json.sample!.length} chars`);
      assert.deepEqual(json.sensitive, ['credential']);
      assert.match(bin.sample!, new RegExp(`^<${BLOB_BYTES} bytes binary> ${blob.subarray(0, 16).toString('hex')}…$`));
      assert.ok(!JSON.stringify(r).includes(HEAD_SECRET));

      // Nothing was dropped: the PUBLISH packets were read in part, not skipped.
      assert.deepEqual(r.dropped, { messages: 0, oversize: 0 });
      assert.ok(!r.truncated!.includes('packetSize'), String(r.truncated));
      assert.ok(r.truncated!.includes('sampleBytes'), 'the samples come from the heads');

      // Neither payload was kept: the collector's own account of what it holds is a few samples.
      // (The heap after GC is printed above, not asserted: freed socket buffers linger in
      // arrayBuffers for a while, so it varied by up to 5.5 MB between identical runs. That the
      // guard never holds a big PUBLISH whole is asserted chunk by chunk in sniff.test.ts.)
      assert.ok((r.keptBytes as number) < 256 * 1024, `the collector holds ${r.keptBytes} bytes`);
      assert.ok(peak < 64e6, `heap peaked ${mb(peak)} MB above the start`);
    });
  }
});

describe('sniff: the head of a $SYS message too big to read whole', () => {
  it('is shown as cut (the incomplete marker), text or binary, never as if it were the whole value', () => {
    const c = new TopicCollector({ sampleChars: 4096, maxTopics: 10, maxSampleBytes: 1024, maxTotalBytes: 1024 * 1024 });
    const text = Buffer.from('x'.repeat(2048));
    c.add('$SYS/broker/huge', text.subarray(0, 1024), true, 0, false, 100 * 1024);
    c.add('$SYS/broker/blob', Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]), true, 0, false, 90 * 1024);
    const raw = (c.result(1000).sys as { raw: Record<string, string> }).raw;
    assert.match(raw['$SYS/broker/huge'], /…/, raw['$SYS/broker/huge']);
    assert.match(raw['$SYS/broker/blob'], /^<92160 bytes binary> /);
  });
});
