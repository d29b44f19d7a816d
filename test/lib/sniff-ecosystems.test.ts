// Issue 16, fourth kind: the devices behind the topics. The table (lib/sniff/ecosystems.ts) run
// over each ecosystem's fixture (test/support/ecosystem-fixtures.ts), first through the collector
// alone, then through a real Mosquitto 2.0 (anonymous, no ACL; and with a read-only ACL) with the
// whole scan: probe, listener with the write test, risk rules.
import { strict as assert } from 'node:assert';
import { TopicCollector } from '../../lib/sniff/collector';
import { matchTopic, READ_BUDGET_BYTES, resolveDevices, summarizeDevices } from '../../lib/sniff/devices';
import { ECOSYSTEMS } from '../../lib/sniff/ecosystems';
import { runScan } from '../../lib/pipeline';
import type { DeviceExposure, EcosystemExposure, ScanResult, TopicItem } from '../../lib/types';
import { ECOSYSTEM_FIXTURES, FIXTURE_POSITION, FIXTURE_SECRETS, publishLiveFixtures, publishRetainedFixtures, type EcosystemFixture } from '../support/ecosystem-fixtures';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto';
import { requireTool } from '../support/tools';
import { formatTable } from '../../cli/table';

const LIMITS = { sampleChars: 160, maxTopics: 500, maxSampleBytes: 1024, maxTotalBytes: 4 * 1024 * 1024 };

function collect(messages: Array<{ topic: string; payload: string | Buffer; retained?: boolean }>, limits = LIMITS) {
  const c = new TopicCollector(limits);
  for (const m of messages) {
    const payload = Buffer.isBuffer(m.payload) ? m.payload : Buffer.from(m.payload);
    c.add(m.topic, payload, m.retained ?? true, 0, false);
  }
  return c.result(3000);
}

function allMessages(f: EcosystemFixture) {
  return [...f.retained, ...(f.live ?? [])];
}

/** The ecosystem's summary must be exactly what its fixture expects. */
function assertEcosystem(e: EcosystemExposure | undefined, id: string, f: EcosystemFixture): void {
  assert.ok(e, `${id} recognised`);
  assert.equal(e.devices, f.expect.devices, `${id} devices`);
  assert.equal(e.devicesAtLeast === true, f.expect.devicesAtLeast === true, `${id} devicesAtLeast`);
  assert.deepEqual(e.inventory, f.expect.inventory.slice(0, 5), `${id} inventory`);
  assert.equal(e.inventoryCount, f.expect.inventory.length, `${id} inventoryCount`);
  assert.deepEqual(e.commands.map((c) => [c.topic, c.source]), f.expect.commands, `${id} commands`);
  assert.equal(e.commandCount, f.expect.commands.length, `${id} commandCount`);
  assert.equal(e.locations, f.expect.locations, `${id} locations`);
  assert.equal(e.encryptedLocations, f.expect.encryptedLocations ?? 0, `${id} encryptedLocations`);
}

function noLeak(text: string, where: string): void {
  for (const [name, secret] of Object.entries(FIXTURE_SECRETS)) assert.ok(!text.includes(secret), `${where}: ${name} leaked`);
  assert.ok(!text.includes(String(FIXTURE_POSITION.lat)) && !text.includes(String(FIXTURE_POSITION.lon)), `${where}: the position leaked`);
}

describe('sniff: the devices behind the topics', function () {
  this.timeout(60_000);

  describe('the table alone', () => {
    for (const [id, fixture] of Object.entries(ECOSYSTEM_FIXTURES)) {
      it(`${id}: named with its devices, inventory, commands and locations`, () => {
        const r = collect(allMessages(fixture));
        const devices = r.devices as DeviceExposure;
        assert.deepEqual(devices.ecosystems.map((e) => e.id), [id], 'only its own ecosystem');
        assertEcosystem(devices.ecosystems[0], id, fixture);
        noLeak(JSON.stringify(r), id);
      });
    }

    it('every ecosystem of the table has a fixture, and each fixture names a table entry', () => {
      assert.deepEqual(Object.keys(ECOSYSTEM_FIXTURES).sort(), ECOSYSTEMS.map((e) => e.id).sort());
    });

    it('all fixtures at once: each ecosystem named as alone, totals add up', () => {
      const r = collect(Object.values(ECOSYSTEM_FIXTURES).flatMap(allMessages));
      const d = r.devices as DeviceExposure;
      assert.deepEqual(d.ecosystems.map((e) => e.id), ECOSYSTEMS.map((e) => e.id));
      for (const e of d.ecosystems) assertEcosystem(e, e.id, ECOSYSTEM_FIXTURES[e.id]);
      const expect = Object.values(ECOSYSTEM_FIXTURES).map((f) => f.expect);
      assert.equal(d.devices, expect.reduce((n, x) => n + x.devices, 0));
      assert.equal(d.commandCount, expect.reduce((n, x) => n + x.commands.length, 0));
      assert.equal(d.locations, 1);
      // bridge/info's MQTT password (JSON) and the Sparkplug NBIRTH's "Api Token" metric (protobuf).
      assert.equal(d.secrets, 2);
      assert.deepEqual(d.secretKinds, ['credential', 'token']);
    });

    it('layouts that only look alike are nobody\'s: an anchor must confirm a base or a device', () => {
      const r = collect([
        { topic: 'home/lamp/set', payload: 'ON' },
        { topic: 'home/lamp', payload: '{"state":"ON"}' },
        { topic: 'office/status', payload: 'online' },
        { topic: 'homie/thing/temperature/value', payload: '20' },
        { topic: 'homeassistant/sensor/x/state', payload: '3' },
        { topic: 'tele/x', payload: '1' },
        { topic: 'owntracks/alice', payload: '{"_type":"card","name":"Alice"}' },
        { topic: 'spBv1.0/plant1/NBIRTH', payload: 'x' },
        { topic: 'shelly-not-an-id/relay/0', payload: 'on' },
      ]);
      assert.equal(r.items.filter((i) => i.device).length, 0, JSON.stringify(r.items.filter((i) => i.device)));
      assert.equal(r.devices, undefined);
    });

    it('a base is confirmed by its bridge: the same set topic then belongs to Zigbee2MQTT, under any base name', () => {
      const r = collect([
        { topic: 'home/lamp/set', payload: 'ON' },
        { topic: 'home/bridge/state', payload: 'online' },
        { topic: 'office/lamp/set', payload: 'ON' },
      ]);
      const byTopic = new Map(r.items.map((i) => [i.topic, i.device]));
      assert.deepEqual(byTopic.get('home/lamp/set'), { ecosystem: 'zigbee2mqtt', role: 'command', id: 'lamp' });
      assert.equal(byTopic.get('office/lamp/set'), undefined);
    });

    it('OwnTracks: a readable position counts (never printed), an encrypted one does not, and its ciphertext is not a leaked token', () => {
      const r = collect(ECOSYSTEM_FIXTURES.owntracks.retained);
      const t = new Map(r.items.map((i) => [i.topic, i]));
      assert.deepEqual(t.get('owntracks/alice/phone')!.device, { ecosystem: 'owntracks', role: 'location', id: 'alice/phone', commandTopic: 'owntracks/alice/phone/cmd', location: true });
      assert.deepEqual(t.get('owntracks/alice/phone')!.sensitive, ['coordinates']);
      assert.equal(t.get('owntracks/bob/tablet')!.device!.encrypted, true);
      assert.equal(t.get('owntracks/bob/tablet')!.sensitive, undefined, 'ciphertext is no secret');
      assert.equal((r.devices as DeviceExposure).secrets, 0);
    });

    it('Sparkplug B: births decoded (metric count), the payload shown as binary so a string metric is never printed', () => {
      const r = collect(ECOSYSTEM_FIXTURES['sparkplug-b'].live!);
      const birth = r.items.find((i) => i.topic === 'spBv1.0/plant1/NBIRTH/edge7')!;
      assert.equal(birth.device!.metrics, 5);
      assert.match(birth.sample!, /^<\d+ bytes binary> [0-9a-f]+/);
      assert.deepEqual(birth.sensitive, ['token'], 'the "Api Token" metric has a value');
      assert.equal(r.items.find((i) => i.topic === 'spBv1.0/plant1/DBIRTH/edge7/press3')!.device!.metrics, 2);
      // A payload that is not protobuf: no metrics, no crash, still Sparkplug by its topic.
      const bad = collect([{ topic: 'spBv1.0/g/NBIRTH/e', payload: Buffer.from([0xff, 0xff, 0xff, 0x0f, 0x01]) }]);
      assert.deepEqual(bad.items[0].device, { ecosystem: 'sparkplug-b', role: 'inventory', id: 'g/e', commandTopic: 'spBv1.0/g/NCMD/e' });
    });

    it('a Zigbee2MQTT device list too big to read whole: its devices counted over the head, as a lower bound', () => {
      const devices = Array.from({ length: 120 }, (_, i) => ({ ieee_address: `0x00158d00${String(i).padStart(8, '0')}`, type: 'EndDevice', friendly_name: `sensor_${i}`, definition: { model: 'RTCGQ11LM', vendor: 'Aqara', description: 'x'.repeat(400) } }));
      const big = Buffer.from(JSON.stringify(devices));
      assert.ok(big.length > 64 * 1024);
      // What PacketGuard hands over for a PUBLISH over maxPacketBytes: the head, with the full size.
      const c = new TopicCollector(LIMITS);
      c.add('zigbee2mqtt/bridge/state', Buffer.from('online'), true, 0, false);
      c.add('zigbee2mqtt/bridge/devices', big.subarray(0, 1024), true, 0, false, big.length);
      const z = (c.result(3000).devices as DeviceExposure).ecosystems[0];
      assert.equal(z.id, 'zigbee2mqtt');
      assert.ok(z.devices >= 1 && z.devicesAtLeast === true, JSON.stringify(z));
    });

    it('readers are bounded: a flood of big payloads on reader topics stops being read, the topics are still named', () => {
      const c = new TopicCollector({ ...LIMITS, maxTopics: 2000, maxTotalBytes: 64 * 1024 * 1024 });
      const config = (i: number) => Buffer.from(JSON.stringify({ command_topic: `s${String(i).padStart(3, '0')}/set`, pad: 'p'.repeat(60 * 1024) }));
      for (let i = 0; i < 100; i++) c.add(`homeassistant/switch/s${i}/config`, config(i), true, 0, false);
      const ha = (c.result(3000).devices as DeviceExposure).ecosystems[0];
      assert.equal(ha.inventoryCount, 100, 'every topic named');
      // The readers' budget ends after this many payloads: the rest are named by their topic only.
      assert.equal(ha.commandCount, Math.floor(READ_BUDGET_BYTES / config(0).length));
      assert.ok(ha.commandCount < 100);
    });

    it('items from outside (a node\'s input) are read defensively', () => {
      const items = [
        { topic: 'a', messages: 1, retained: false, device: { ecosystem: 'nope', role: 'command' } },
        { topic: 'b', messages: 1, retained: false, device: { ecosystem: 'tasmota', role: 'bogus' } },
        { topic: 'c', messages: 1, retained: false, device: 'tasmota' },
        { topic: 'd', messages: 1, retained: false, device: { ecosystem: 'tasmota', role: 'command', commands: 'x' } },
      ] as unknown as TopicItem[];
      const d = summarizeDevices(items)!;
      assert.deepEqual(d.ecosystems.map((e) => [e.id, e.commandCount]), [['tasmota', 1]]);
    });

    it('matchTopic returns the anchored candidates up to the first sure row; resolveDevices decides', () => {
      const m = matchTopic('garage/status');
      assert.deepEqual(m.map((x) => [x.ecosystem.id, x.rule.pattern]), [['zigbee2mqtt', '{base}/{device}'], ['esphome', '{device}/status']]);
      const resolved = resolveDevices([
        { topic: 'garage/status', matches: m },
        { topic: 'garage/sensor/t/state', matches: matchTopic('garage/sensor/t/state') },
      ]);
      assert.equal(resolved.get('garage/status')!.ecosystem, 'esphome');
    });
  });

  describe('a real Mosquitto 2.0 carrying every fixture', () => {
    let open: MosquittoBroker;
    let readOnly: MosquittoBroker;
    before(async function () {
      this.timeout(30_000);
      requireTool(this, 'mosquitto');
      open = await startMosquitto('insecure');
      // Anonymous clients may read everything and write nothing (Mosquitto: topic lines before any
      // user line apply to anonymous clients); the fixtures are published by a user who may write.
      readOnly = await startMosquitto({ conf: 'listener 1883\nallow_anonymous true\npassword_file passwd\nacl_file acl\n' }, {
        users: { publisher: 'pub-pass-8a1' },
        acl: 'topic read #\nuser publisher\ntopic readwrite #\n',
      });
      await publishRetainedFixtures(open.port);
    });

    async function scan(port: number): Promise<ScanResult> {
      const stopLive = await publishLiveFixtures(port);
      try {
        const run = await runScan({ targets: '127.0.0.1', ports: [port], sniff: true, listenMs: 2500, writeTest: true, inspectTls: false, classify: true });
        assert.equal(run.results.length, 1);
        return run.results[0];
      } finally {
        await stopLive();
      }
    }

    it('anonymous, no ACL: every ecosystem named, inventory, positions and writable commands found, nothing leaked', async () => {
      const r = await scan(open.port);
      const d = r.topics!.devices!;
      assert.deepEqual(d.ecosystems.map((e) => e.id), ECOSYSTEMS.map((e) => e.id));
      for (const e of d.ecosystems) assertEcosystem(e, e.id, ECOSYSTEM_FIXTURES[e.id]);
      const ids = (r.findings ?? []).map((f) => f.id);
      for (const id of ['DEVICE_CONTROL_EXPOSED', 'LOCATION_DATA_EXPOSED', 'DEVICE_INVENTORY_EXPOSED', 'SENSITIVE_PAYLOAD']) assert.ok(ids.includes(id), `${id} in ${ids}`);
      const control = r.findings!.find((f) => f.id === 'DEVICE_CONTROL_EXPOSED')!;
      assert.match(control.evidence, /accepted our write test anonymously/);
      assert.match(control.evidence, /cmnd\/tasmota_1A2B3C\/POWER/);
      assert.match(control.recommendation, /topic readwrite cmnd\/#/);
      const location = r.findings!.find((f) => f.id === 'LOCATION_DATA_EXPOSED')!;
      assert.match(location.evidence, /^1 topic\(s\) carried positions, read anonymously: "owntracks\/alice\/phone"\. The positions are withheld from this report\. 1 other location topic\(s\) were encrypted/);
      noLeak(JSON.stringify(r), 'scan result');
    });

    it('anonymous read-only ACL: the write test is refused, so commands are listed but not called writable', async () => {
      // Publish as the user who may write (the anonymous scanner may not).
      const mqtt = await import('mqtt');
      const pub = await mqtt.connectAsync({ host: '127.0.0.1', port: readOnly.port, username: 'publisher', password: 'pub-pass-8a1', reconnectPeriod: 0, protocolVersion: 4 });
      try {
        for (const id of ['tasmota', 'zigbee2mqtt']) for (const m of ECOSYSTEM_FIXTURES[id].retained) await pub.publishAsync(m.topic, m.payload, { qos: 1, retain: true });
      } finally {
        await pub.endAsync();
      }
      const r = await scan(readOnly.port);
      assert.equal(r.topics!.writeTest!.accepted, false, JSON.stringify(r.topics!.writeTest));
      const d = r.topics!.devices!;
      assert.deepEqual(d.ecosystems.map((e) => e.id), ['zigbee2mqtt', 'tasmota']);
      assert.ok(d.commandCount > 0);
      const ids = (r.findings ?? []).map((f) => f.id);
      assert.ok(!ids.includes('DEVICE_CONTROL_EXPOSED'), `no control finding without an accepted write: ${ids}`);
      assert.ok(ids.includes('DEVICE_INVENTORY_EXPOSED'), `${ids}`);
    });
  });
});

describe('CLI: the devices line below the table', () => {
  it('names each ecosystem with its devices, the command topics with the write test, positions and secrets as counts', () => {
    const r = collect(Object.values(ECOSYSTEM_FIXTURES).flatMap(allMessages));
    const result = { scanId: 'x', host: '127.0.0.1', port: 1883, reachability: 'open', transport: 'tcp', classification: 'open_or_auth_ok', mqtt: { versions: {} },
      auth: { anonymous: { outcome: 'accepted' }, wrongCredentials: { outcome: 'accepted' }, givenCredentials: { outcome: 'not_tested' } },
      topics: { ...r, writeTest: null }, error: null } as unknown as ScanResult;
    const line = formatTable([result]).split('\n').find((l) => l.includes(' devices: '));
    assert.equal(line, '127.0.0.1:1883 devices: Lab ESP32 (mqttsec) 1, Zigbee2MQTT 3, Tasmota 1, Home Assistant MQTT discovery 2, Shelly 2, OwnTracks 2, Sparkplug B 2, Homie 1, ESPHome 1; 15 command topic(s) (writes not tested); 1 topic(s) with positions; 2 topic(s) with secrets (masked)');
    const none = formatTable([{ ...result, topics: { count: 0, items: [] } } as unknown as ScanResult]);
    assert.ok(!none.includes(' devices: '), none);
  });
});
