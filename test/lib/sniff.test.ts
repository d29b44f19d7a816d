// The topic sniffer: its pure parts table-driven, then against real brokers (mosquitto insecure
// and secure, aedes for 3.1.1) and a real flooding publisher.
import { randomClientId } from '../../lib/mqtt';
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import mqtt, { type MqttClient } from 'mqtt';
import { generate } from 'mqtt-packet';
import { sniffBroker, sniffPlanFor, CANARY_PREFIX, type LiveMessage } from '../../lib/sniff';
import { examinePayload, printable } from '../../lib/sniff/payload';
import { screenSensitive } from '../../lib/sniff/sensitive';
import { recognize, topicKinds } from '../../lib/sniff/sensors';
import { DistinctCounter } from '../../lib/sniff/distinct';
import { TopicCollector } from '../../lib/sniff/collector';
import { classifyResult } from '../../lib/risk';
import { PacketGuard, type GuardOptions, type PublishHead } from '../../lib/mqtt/packet-guard';
import { openSession } from '../../lib/sniff/session';
import { probeBroker } from '../../lib/probe';
import { readingMessage, statusMessage, buildMotionPayload, sensorTopic } from '../../lib/sniff/lab-device';
import type { ScanResult, TopicItem } from '../../lib/types';
import { requireTool } from '../support/tools';
import { watchLoop } from '../support/loop-watch';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto';
import { startAedes, type AedesBroker } from '../support/aedes';
import { closedPort, startTarpit, type Fixture } from '../support/fixtures';

const DEVICE = 'esp32-a1b2c3d4e5f6';
const LOCAL = '127.0.0.1';
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
const byTopic = (items: TopicItem[]) => new Map(items.map((i) => [i.topic, i]));

describe('sniff: samples, secrets and sensors', () => {
  it('makes one printable line of a payload, bounded in characters', () => {
    const cases: Array<[string, number, string]> = [
      ['{"a":1}', 100, '{"a":1}'],
      ['line1\nline2\r\n\tx', 100, 'line1 line2 x'],
      ['bell\u0007 esc\u001b[31m red', 100, 'bell esc[31m red'],
      ['rtl\u202eevil\u202c ok', 100, 'rtlevil ok'],
      ['alm\u061c wj\u2060 ls\u2028 tag\u{E0041} shy\u00ad', 100, 'alm wj ls tag shy'],
      ['abcdefghij', 4, 'abcd…'],
      ['😀😀😀', 3, '😀…'], // never half a surrogate pair
    ];
    for (const [input, max, want] of cases) assert.equal(printable(input, max), want, JSON.stringify(input));
  });

  it('tells binary from text and examines only a bounded prefix', () => {
    assert.equal(examinePayload(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]), 1024).text, null);
    assert.equal(examinePayload(Buffer.from('température 21,5 °C'), 1024).text, 'température 21,5 °C');
    const big = examinePayload(Buffer.alloc(1_000_000, 'a'), 1024);
    assert.deepEqual([big.text?.length, big.bytes, big.partial], [1024, 1_000_000, true]);
    // A multi-byte character cut at the limit is dropped, not taken for binary.
    assert.equal(examinePayload(Buffer.from('aé'), 2).text, 'a');
  });

  it('flags secrets by kind and masks every one of them', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
    const cases: Array<[string, string[], string[]]> = [
      ['{"user":"bob","password":"hunter2!"}', ['credential'], ['hunter2!']],
      ['{"pwd": "s3cr\\"et"}', ['credential'], ['s3cr']],
      ['login user=bob&pass=letmein', ['credential'], ['letmein']],
      ['{"api_key":"AKIA12345"}', ['credential'], ['AKIA12345']],
      // Zigbee2MQTT bridge/info with its configuration (Koenkk/zigbee2mqtt#4233): the network key is a list of 16 small numbers.
      ['{"config":{"advanced":{"network_key":[1,3,5,7,9,11,13,15,0,2,4,6,8,10,12,13],"pan_id":6754}}}', ['credential'], ['1,3,5,7,9,11']],
      ['{"tc_link_key":"5A6967426565416C6C69616E63653039"}', ['credential'], ['5A6967426565416C']],
      ['mqtt://bob:topsecret@broker.local:1883', ['credential'], ['topsecret']],
      [`{"token":"${jwt}"}`, ['token'], [jwt, 'dozjgNryP4J3']],
      [`Authorization: Bearer abcdef0123456789xyz`, ['token'], ['abcdef0123456789xyz']],
      ['key 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', ['token'], ['9f86d081884c7d65']],
      ['contact: alice.smith@example.org', ['email'], ['alice.smith']],
      ['{"lat":48.85837,"lon":2.29448}', ['coordinates'], ['48.85837', '2.29448']],
      ['pos 48.85837,2.29448', ['coordinates'], ['48.85837']],
      ['{"temperature":21.5,"humidity":40}', [], []],
      ['version 2.0.11, 3 clients', [], []],
    ];
    for (const [text, kinds, secrets] of cases) {
      const r = screenSensitive(text);
      assert.deepEqual(r.kinds, kinds, text);
      for (const s of secrets) assert.ok(!r.masked.includes(s), `${text} -> ${r.masked}`);
      if (kinds.length) assert.ok(r.masked.includes('***'), r.masked);
      else assert.equal(r.masked, text);
    }
  });

  // Issue 16, kind 3: secrets under compound keys, in TOML, YAML, INI, query strings, PEM, and a
  // topic named for its secret were missed (and printed in clear by --json and the JSON report).
  it('finds secrets by key words in every format devices publish, and by topic name; keeps the rest', () => {
    const pem = '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkJ3c0ZyTQ8p\n-----END EC PRIVATE KEY-----';
    const cases: Array<[string, string, string[], string[], string[]]> = [
      // [payload, topic, kinds, secrets that must be gone, text that must stay]
      ['{"wifi_ssid":"lab","wifi_password":"hunter2hunter2"}', 'lab/esp32/config', ['credential'], ['hunter2hunter2'], ['wifi_ssid', '"lab"']],
      ['password = "plc-pass-77"\ncredentials = ["admin", "s3cretpw"]\nhost = "10.0.0.5"', 'factory/press1/config', ['credential'], ['plc-pass-77', 's3cretpw', 'admin'], ['host = "10.0.0.5"']],
      ['Tr0ub4dor&3', 'home/router/settings/pswd', ['credential'], ['Tr0ub4dor'], []],
      ['xyzzy-token-value', 'cloud/device7/api_key', ['credential'], ['xyzzy'], []],
      ['[mqtt]\nuser=esp\npassword=espPass99\n', 'dev/ini', ['credential'], ['espPass99'], ['user=esp']],
      ['wifi:\n  ssid: lab\n  password: yamlPass123\n', 'dev/yaml', ['credential'], ['yamlPass123'], ['ssid: lab']],
      ['user=bob&api_key=ABCDEF12345&x=1', 'dev/qs', ['credential'], ['ABCDEF12345'], ['user=bob', 'x=1']],
      [pem, 'dev/tls', ['private_key'], ['MHcCAQEEIBkJ3c0ZyTQ8p'], []],
      ['{"credentials":["u1-name","p1-secret"]}', 'x/y', ['credential'], ['u1-name', 'p1-secret'], []],
      ['{"mqttPass": "abc", "passenger": 3, "keyboard":"qwerty"}', 'x/z', ['credential'], ['"abc"'], ['"passenger": 3', '"keyboard":"qwerty"']],
      ['{"auth":{"user":"svc","secret_key":"K3yK3yK3y"}}', 'x/n', ['token'], ['svc', 'K3yK3yK3y'], []],
      ['client_secret: abc123def\nrefreshToken: zzz999zzz', 'x/m', ['credential', 'token'], ['abc123def', 'zzz999zzz'], []],
      ['{"wifi_pw":"shortpw1","gpio_pin":4}', 'x/p', ['credential'], ['shortpw1'], ['"gpio_pin":4']],
      // Not secrets: words that only contain a secret word, and the lab's readings.
      ['{"passenger_count":4,"keyboard_layout":"de","temperature":21.5}', 'bus/12/state', [], [], ['"passenger_count":4', '"keyboard_layout":"de"']],
      ['{"state":"ON","brightness":120}', 'zigbee2mqtt/lamp', [], [], ['"state":"ON"']],
    ];
    for (const [text, topic, kinds, secrets, kept] of cases) {
      const r = screenSensitive(text, topic);
      assert.deepEqual(r.kinds, kinds, `${topic}: ${text}`);
      for (const secret of secrets) assert.ok(!r.masked.includes(secret), `${topic}: ${secret} in ${r.masked}`);
      for (const k of kept) assert.ok(r.masked.includes(k), `${topic}: ${k} lost from ${r.masked}`);
      if (kinds.length) assert.ok(r.masked.includes('***'), r.masked);
      else assert.equal(r.masked, text);
    }
    // A cut payload is not parsed, but keys still mask what follows them.
    const cut = screenSensitive('{"wifi_password":"hunter2hunter2","wifi_ssid":"la', 'x/cut', false);
    assert.deepEqual([cut.kinds, cut.masked.includes('hunter2')], [['credential'], false]);
  });

  it('recognises the lab sensors with their values, and other devices by words and keys', () => {
    const dht = readingMessage(DEVICE, { kind: 'dht', temperature: 22.5, humidity: 55 })!;
    const ldr = readingMessage(DEVICE, { kind: 'ldr', raw: 2048 })!;
    const pir = readingMessage(DEVICE, { kind: 'pir', motion: true })!;
    const status = statusMessage('insecure', DEVICE, true);
    const cases: Array<[string, string | null, string | null, Record<string, number | boolean> | undefined]> = [
      [dht.topic, dht.payload, 'dht', { temperature: 22.5, humidity: 55 }],
      [ldr.topic, ldr.payload, 'ldr', { raw: 2048, percent: 50 }],
      [pir.topic, pir.payload, 'pir', { motion: true }],
      [status.topic, status.payload, null, undefined],
      ['other/place/x', '{"temperature":19.0,"humidity":41.0}', 'dht', { temperature: 19, humidity: 41 }], // the lab's payload shape
      ['home/kitchen/temperature', '21.5', 'temperature', { temperature: 21.5 }],
      ['home/livingRoomHum', '45 %', 'humidity', { humidity: 45 }],
      ['garden/soil', '{"moisture":312}', 'moisture', { moisture: 312 }],
      ['tele/sonoff/SENSOR', '{"Time":"x","AM2301":{"Temperature":22.1,"Humidity":40}}', 'temperature+humidity', { 'AM2301.Temperature': 22.1, 'AM2301.Humidity': 40 }],
      ['plant/line1', '{"pressure_hpa":1013.2,"vbat":3.7}', 'pressure+voltage', { pressure_hpa: 1013.2, vbat: 3.7 }],
      ['hall/pir', 'ON', 'motion', { motion: true }],
      ['misc/counter', '42', 'numeric', { value: 42 }],
      ['misc/state', 'ON', null, undefined],
      ['tracker/1', '{"lat":48.8,"lon":2.3,"speed":12}', 'numeric', { speed: 12 }], // coordinates never become values
      ['misc/text', 'hello', null, undefined],
      ['cam/temp', null, 'temperature', undefined], // binary payload: topic words only
    ];
    for (const [topic, payload, sensor, values] of cases) {
      const r = recognize(topic, payload, topicKinds(topic), true);
      assert.equal(r.sensor, sensor, topic);
      assert.deepEqual(r.values, values, topic);
    }
  });

  it('$SYS: topic and value shown escaped; a version of nothing visible is no version, so no finding', () => {
    const sys = (version: string) => {
      const c = new TopicCollector({ sampleChars: 100, maxTopics: 10, maxSampleBytes: 1024, maxTotalBytes: 1 << 20 });
      c.add('$SYS/broker/version', Buffer.from(version), true, 0, false);
      c.add('$SYS/broker/\u202eclients', Buffer.from('3'), true, 0, false);
      return c.result(1000).sys as Record<string, unknown> & { raw: Record<string, string> };
    };
    const shown = sys('mosquitto \u202e2.0.11');
    assert.equal(shown.version, 'mosquitto \\u{202E}2.0.11');
    assert.deepEqual(shown.raw, { '$SYS/broker/version': 'mosquitto \\u{202E}2.0.11', '$SYS/broker/\\u{202E}clients': '3' });
    const blank = sys(' \u202e\u200b ');
    assert.equal(blank.version, '');
    assert.equal(blank.raw['$SYS/broker/version'], ' \\u{202E}\\u{200B} ', 'the raw copy still shows what came');
    const result = { host: LOCAL, port: 1883, reachability: 'open', transport: 'tcp', classification: 'open_or_auth_ok', mqtt: { versions: { '3.1.1': 'supported' } },
      auth: { anonymous: { outcome: 'accepted' }, wrongCredentials: { outcome: 'accepted' }, givenCredentials: { outcome: 'not_tested' } }, error: null } as unknown as ScanResult;
    const ids = (s: ReturnType<typeof sys>) => classifyResult({ ...result, topics: { count: 0, items: [], sys: s, as: 'anonymous' } }).findings.map((f) => f.id);
    assert.ok(ids(shown).includes('BROKER_VERSION_DISCLOSED'));
    assert.ok(!ids(blank).includes('BROKER_VERSION_DISCLOSED'));
  });

  it('$SYS announcements of our own connections are counted, not listed; the broker\'s other clients are listed', () => {
    const c = new TopicCollector({ sampleChars: 100, maxTopics: 10, maxSampleBytes: 1024, maxTotalBytes: 1 << 20 });
    const probeId = randomClientId();
    const listenerId = randomClientId('sniff');
    assert.match(probeId, /^mqttsec-[0-9a-f]{12}$/);
    assert.match(listenerId, /^mqttsec-sniff-[0-9a-f]{12}$/);
    // What aedes publishes when a client connects, subscribes and leaves.
    c.add('$SYS/abc/new/clients', Buffer.from(probeId), false, 0, false);
    c.add('$SYS/abc/disconnect/clients', Buffer.from(probeId), false, 0, false);
    c.add('$SYS/abc/new/subscribes', Buffer.from(JSON.stringify({ clientId: listenerId, subs: [{ topic: '#', qos: 0 }] })), false, 0, false);
    const ours = c.result(1000).sys as Record<string, unknown> & { raw: Record<string, string> };
    assert.deepEqual(ours.raw, {}, 'nothing of ours is listed');
    assert.equal(ours.ownConnectionEvents, 3);
    const result = { host: LOCAL, port: 1883, reachability: 'open', transport: 'tcp', classification: 'open_or_auth_ok', mqtt: { versions: { '3.1.1': 'supported' } },
      auth: { anonymous: { outcome: 'accepted' }, wrongCredentials: { outcome: 'accepted' }, givenCredentials: { outcome: 'not_tested' } }, error: null } as unknown as ScanResult;
    const ids = classifyResult({ ...result, topics: { count: 0, items: [], sys: ours, as: 'anonymous' } }).findings.map((f) => f.id);
    assert.ok(ids.includes('SYS_TOPICS_EXPOSED'), 'readable $SYS is still a finding');
    c.add('$SYS/abc/new/clients', Buffer.from('kitchen-sensor-7'), false, 0, false);
    c.add('$SYS/abc/new/clients', Buffer.from('mqttsec-notours'), false, 0, false);
    assert.deepEqual((c.result(1000).sys as { raw: Record<string, string> }).raw, { '$SYS/abc/new/clients': 'mqttsec-notours' }, 'other clients are listed (the last value wins)');
  });

  it('estimates distinct topics it does not keep within a few percent', () => {
    const c = new DistinctCounter();
    for (let i = 0; i < 20_000; i++) c.add(`flood/${i}`);
    for (let i = 0; i < 20_000; i++) c.add(`flood/${i}`); // repeats do not count
    assert.ok(Math.abs(c.estimate() - 20_000) < 1500, String(c.estimate()));
    const small = new DistinctCounter();
    for (let i = 0; i < 50; i++) small.add(`t/${i}`);
    assert.ok(Math.abs(small.estimate() - 50) <= 2, String(small.estimate()));
  });

  it('plans the login from the probe result: anonymous, else given credentials, else nobody', () => {
    const creds = { username: 'scanner', password: 'pw' };
    const base: ScanResult = {
      scanId: 's', host: LOCAL, port: 1883, reachability: 'open', transport: 'tcp', classification: 'open_or_auth_ok',
      mqtt: { versions: { '5.0': 'supported', '3.1.1': 'supported' } },
      auth: { anonymous: { outcome: 'accepted', version: '5.0' }, wrongCredentials: { outcome: 'accepted' }, givenCredentials: { outcome: 'not_tested' } },
      error: null,
    };
    const rejected = { outcome: 'rejected' as const, code: 5 };
    const withAuth = (auth: Partial<ScanResult['auth']>, extra: Partial<ScanResult> = {}): ScanResult =>
      ({ ...base, ...extra, auth: { ...base.auth, ...auth } });
    const anon = sniffPlanFor(base, creds);
    assert.deepEqual(anon.options, { transport: 'tcp', version: '5.0', credentials: null });
    const loginOnly = { anonymous: rejected, wrongCredentials: rejected, givenCredentials: { outcome: 'accepted' as const, version: '3.1.1' as const } };
    const given = sniffPlanFor(withAuth(loginOnly, { transport: 'tls' }), creds);
    // Over TLS the login goes only on a connection whose certificate the policy trusts.
    assert.deepEqual(given.options, { transport: 'tls', version: '3.1.1', credentials: creds, requireTrustedTls: true });
    // The credential rule (lib/credentials) holds for the sniffer too.
    assert.match(sniffPlanFor(withAuth({ ...loginOnly, wrongCredentials: { outcome: 'accepted' } }, { transport: 'tls' }), creds).reason!, /accepted a random made-up login/);
    assert.match(sniffPlanFor(withAuth({ ...loginOnly, wrongCredentials: { outcome: 'error' } }, { transport: 'tls' }), creds).reason!, /no clear answer/);
    assert.match(sniffPlanFor(withAuth(loginOnly, { transport: 'tcp' }), creds).reason!, /clear text/);
    assert.deepEqual(sniffPlanFor(withAuth(loginOnly, { transport: 'tcp' }), creds, { sendCredentialsPlaintext: true }).options,
      { transport: 'tcp', version: '3.1.1', credentials: creds, requireTrustedTls: false });
    assert.match(sniffPlanFor(withAuth({ anonymous: rejected, wrongCredentials: rejected, givenCredentials: { outcome: 'not_tested', withheld: 'plaintext_transport', detail: 'login not sent: plain TCP would carry the password in clear text' } }), creds).reason!,
      /anonymous clients are refused and the given login not sent: plain TCP/);
    assert.match(sniffPlanFor(withAuth({ anonymous: rejected, givenCredentials: { outcome: 'accepted' } }), null).reason!, /no longer available/);
    assert.match(sniffPlanFor(withAuth({ anonymous: rejected, givenCredentials: rejected }, { classification: 'not_authorized' }), creds).reason!, /not_authorized/);
    assert.match(sniffPlanFor({ ...base, classification: 'not_mqtt', transport: null }, creds).reason!, /not_mqtt/);
    assert.match(sniffPlanFor({ ...base, transport: 'ws' }, creds).reason!, /ws/);
  });
});

describe('sniff: packet guard', () => {
  const publish = (topic: string | Buffer, payload: Buffer, qos: 0 | 1 | 2, extra: Record<string, unknown> = {}, protocolVersion = 4) =>
    generate({ cmd: 'publish', topic: topic as string, payload, qos, retain: false, dup: false, ...(qos ? { messageId: 0x1234 } : {}), ...extra } as Parameters<typeof generate>[0], { protocolVersion });

  it('passes packets through whole in any split; reads an oversize PUBLISH in part, in order, and acknowledges it', async () => {
    const small = publish('a/b', Buffer.from('hello'), 0);
    const huge = publish('big/one', Buffer.alloc(5000, 1), 1, { retain: true });
    const hugeQos0 = publish('big/two', Buffer.alloc(5000, 2), 0);
    const ping = generate({ cmd: 'pingresp' });
    const wire = Buffer.concat([small, huge, ping, hugeQos0, small]);
    for (const split of [1, 2, 3, 7, 100, wire.length]) {
      const { items, acked, dropped } = await throughGuard(wire, split, 1024, { headBytes: 100 });
      assert.deepEqual(items, [
        small,
        { kind: 'publish-head', topic: 'big/one', qos: 1, retain: true, id: 0x1234, head: Buffer.alloc(100, 1), payloadBytes: 5000, packetBytes: huge.length },
        ping,
        { kind: 'publish-head', topic: 'big/two', qos: 0, retain: false, id: null, head: Buffer.alloc(100, 2), payloadBytes: 5000, packetBytes: hugeQos0.length },
        small,
      ], `split ${split}`);
      assert.deepEqual(acked, Buffer.from([0x40, 2, 0x12, 0x34]), `split ${split}`);
      assert.deepEqual(dropped, [], 'nothing dropped');
    }
  });

  it('MQTT 5: skips the properties of an oversize PUBLISH, answers QoS 2 with PUBREC; a topic name over 1 KiB is still dropped (and acknowledged)', async () => {
    const props = { properties: { userProperties: { note: 'x'.repeat(3000) }, contentType: 'application/json' } };
    const big = publish('cfg/v5', Buffer.from(`{"a":"${'y'.repeat(4000)}"}`), 2, props, 5);
    const longName = publish(Buffer.alloc(2000, 0x61), Buffer.alloc(3000, 3), 1, { properties: {} }, 5);
    const after = publish('ok/after', Buffer.from('21.5'), 0, { properties: {} }, 5);
    for (const split of [1, 5, 64, 1000]) {
      const { items, acked, dropped } = await throughGuard(Buffer.concat([big, longName, after]), split, 1024, { v5: true, headBytes: 8 });
      assert.deepEqual(items, [
        { kind: 'publish-head', topic: 'cfg/v5', qos: 2, retain: false, id: 0x1234, head: Buffer.from('{"a":"yy'), payloadBytes: 4008, packetBytes: big.length },
        after,
      ], `split ${split}`);
      assert.deepEqual(acked, Buffer.from([0x50, 2, 0x12, 0x34, 0x40, 2, 0x12, 0x34]), 'PUBREC for QoS 2, PUBACK for the dropped QoS 1');
      assert.deepEqual(dropped, [longName.length]);
    }
  });

  it('never buffers a 5 MB PUBLISH: it passes on only what it keeps, the next packet still comes', async () => {
    const blob = publish('cam/raw', Buffer.alloc(5 * 1024 * 1024, 7), 1);
    const next = publish('a/b', Buffer.from('hello'), 0);
    const { items, acked, largest } = await throughGuard(Buffer.concat([blob, next]), 64 * 1024, 64 * 1024, { headBytes: 1024 });
    assert.deepEqual(items.map((i) => (Buffer.isBuffer(i) ? i : { ...i, head: i.head.length })), [
      { kind: 'publish-head', topic: 'cam/raw', qos: 1, retain: false, id: 0x1234, head: 1024, payloadBytes: 5 * 1024 * 1024, packetBytes: blob.length },
      next,
    ]);
    assert.ok(largest <= next.length, `the largest Buffer passed on was ${largest} bytes`);
    assert.deepEqual(acked, Buffer.from([0x40, 2, 0x12, 0x34]));
  });

  it('an oversize PUBLISH whose topic name or properties overrun it ends the connection', async () => {
    // Remaining length 1028 (0x84 0x08): a topic name of 1027 bytes and a packet id do not fit.
    const overrun = Buffer.concat([Buffer.from([0x32, 0x84, 0x08, 0x04, 0x03]), Buffer.alloc(1026)]);
    const bad = await throughGuard(overrun, 100, 1024);
    assert.match(String(bad.error), /malformed PUBLISH \(its topic name overruns it\)/);
    // MQTT 5: topic 't', then a property length of 2052 bytes (0x84 0x10) where 1023 are left.
    const v5 = Buffer.concat([Buffer.from([0x30, 0x84, 0x08, 0x00, 0x01, 0x74, 0x84, 0x10]), Buffer.alloc(1023)]);
    assert.match(String((await throughGuard(v5, 100, 1024, { v5: true })).error), /properties overrun it/);
  });

  /** A loopback socket pair: the "server" end writes `wire` in pieces of `split` bytes. `items`:
   *  what the guard passed on, adjacent Buffers joined; `largest`: its largest single Buffer. */
  async function throughGuard(wire: Buffer, split: number, max: number, options: GuardOptions = {}) {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, LOCAL, r));
    const accepted = new Promise<Socket>((r) => server.once('connection', r));
    const client = netConnect({ host: LOCAL, port: (server.address() as { port: number }).port });
    const peer = await accepted;
    const dropped: number[] = [];
    const guard = new PacketGuard(client, max, { oversize: (n) => dropped.push(n) }, options);
    const items: Array<Buffer | PublishHead> = [];
    let largest = 0;
    let error: Error | null = null;
    guard.on('error', (err: Error) => (error = err));
    guard.on('data', (c: Buffer | PublishHead) => {
      const last = items[items.length - 1];
      if (Buffer.isBuffer(c)) largest = Math.max(largest, c.length);
      if (Buffer.isBuffer(c) && Buffer.isBuffer(last)) items[items.length - 1] = Buffer.concat([last, c]);
      else items.push(c);
    });
    const acks: Buffer[] = [];
    peer.on('data', (c: Buffer) => acks.push(c));
    peer.on('error', () => undefined);
    for (let i = 0; i < wire.length && !guard.destroyed; i += split) {
      peer.write(wire.subarray(i, i + split));
      await new Promise((r) => setImmediate(r));
    }
    await delay(50);
    guard.destroy();
    peer.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    return { items, acked: Buffer.concat(acks), dropped, largest, error: error as Error | null };
  }
});

describe('sniff: real brokers', function () {
  let insecure: MosquittoBroker;
  let secure: MosquittoBroker;
  let aedes: AedesBroker | undefined;
  const clients: MqttClient[] = [];
  const fixtures: Fixture[] = [];

  before(async function () {
    requireTool(this, 'mosquitto');
    // $SYS is published every sys_interval (10 s by default); 1 s so a short listen sees it change.
    [insecure, secure] = await Promise.all([startMosquitto('insecure', { extraConf: ['sys_interval 1'] }), startMosquitto('secure')]);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await Promise.all([insecure?.stop(), secure?.stop(), aedes?.stop(), ...fixtures.map((f) => f.close())]);
  });

  async function publisher(port: number, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
    const c = await mqtt.connectAsync({ host: LOCAL, port, reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    clients.push(c);
    return c;
  }

  it('insecure broker: every topic, retained flags, lab sensors with values, generic devices, $SYS', async () => {
    const pub = await publisher(insecure.port);
    const retained = [
      readingMessage(DEVICE, { kind: 'dht', temperature: 22.5, humidity: 55 })!,
      readingMessage(DEVICE, { kind: 'ldr', raw: 2048 })!,
      readingMessage(DEVICE, { kind: 'pir', motion: false })!,
      statusMessage('insecure', DEVICE, true),
    ];
    for (const m of retained) await pub.publishAsync(m.topic, m.payload, { qos: 1, retain: m.retain });
    await pub.publishAsync('plant/line1', '{"pressure_hpa":1013.2,"vbat":3.7}', { qos: 1, retain: true });
    await pub.publishAsync('cam/frame', randomBytes(300), { qos: 1, retain: true });

    // Live during the window: PIR changes (not retained), a temperature topic, a numeric series.
    const pirTopic = sensorTopic('pir', DEVICE);
    let n = 0;
    const ticker = setInterval(() => {
      n++;
      pub.publish(pirTopic, buildMotionPayload(n % 2 === 1), { qos: 0, retain: false });
      pub.publish('home/kitchen/temperature', `${20 + n / 10}`, { qos: 1 });
      pub.publish('misc/counter', String(n), { qos: 0 });
    }, 100);
    const live: LiveMessage[] = [];
    const r = await sniffBroker({ host: LOCAL, port: insecure.port }, { transport: 'tcp', listenMs: 2200, onMessage: (m) => live.push(m) })
      .finally(() => clearInterval(ticker));

    assert.equal(r.error, null);
    assert.equal(r.as, 'anonymous');
    assert.ok(r.listenedMs! >= 2200 && r.listenedMs! < 3500, String(r.listenedMs));
    const t = byTopic(r.items);
    for (const m of retained) assert.equal(t.get(m.topic)?.retained, true, m.topic);
    assert.deepEqual(t.get(retained[0].topic)!.values, { temperature: 22.5, humidity: 55 });
    assert.equal(t.get(retained[0].topic)!.sensor, 'dht');
    assert.equal(t.get(retained[1].topic)!.sensor, 'ldr');
    const pir = t.get(pirTopic)!;
    assert.equal(pir.sensor, 'pir');
    assert.ok(pir.messages >= 5, `pir messages ${pir.messages}`);
    assert.ok(pir.rate! > 3 && pir.rate! < 15, `pir rate ${pir.rate}`);
    assert.equal(typeof pir.values!.motion, 'boolean');
    const kitchen = t.get('home/kitchen/temperature')!;
    assert.deepEqual([kitchen.retained, kitchen.qos, kitchen.sensor], [false, 1, 'temperature']);
    assert.equal(t.get('misc/counter')!.sensor, 'numeric');
    assert.equal(t.get('plant/line1')!.sensor, 'pressure+voltage');
    assert.match(t.get('cam/frame')!.sample!, /^<300 bytes binary> [0-9a-f]{32}…$/);
    assert.ok(!Number.isNaN(Date.parse(pir.firstSeen!)));
    assert.equal(r.count, r.items.length);
    assert.deepEqual(r.truncated, []);

    // $SYS kept apart from data topics.
    assert.ok(r.items.every((i) => !i.topic.startsWith('$SYS')));
    assert.match(String(r.sys!.version), /^mosquitto version 2\./);
    assert.ok(Number(r.sys!.clientsConnected) >= 2, `clients connected: ${r.sys!.clientsConnected}`); // the publisher and us
    assert.ok(Number(r.sys!.uptimeSeconds) >= 0 && Number(r.sys!.messagesReceived) > 0);

    // Live mode saw the same messages, as samples.
    assert.ok(live.some((m) => m.topic === pirTopic && m.sensor === 'pir' && typeof m.values?.motion === 'boolean'));
    assert.ok(live.every((m) => !m.topic.startsWith('$SYS')));
  });

  it('flags sensitive payloads and never stores the secret', async () => {
    const pub = await publisher(insecure.port);
    const secrets = {
      'acme/cfg/wifi': '{"ssid":"lab","password":"Tr0ub4dor&3"}',
      'acme/api/session': `{"token":"eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyIjoiYm9iIn0.c2lnbmF0dXJlLXNlY3JldA"}`,
      'acme/users/new': 'registered carol.jones@example.net',
      'acme/van/7': '{"lat":52.520008,"lon":13.404954}',
    };
    for (const [topic, payload] of Object.entries(secrets)) await pub.publishAsync(topic, payload, { qos: 1, retain: true });
    const r = await sniffBroker({ host: LOCAL, port: insecure.port }, { transport: 'tcp', listenMs: 500, subscriptions: ['acme/#'] });
    const t = byTopic(r.items);
    assert.deepEqual(t.get('acme/cfg/wifi')!.sensitive, ['credential']);
    assert.deepEqual(t.get('acme/api/session')!.sensitive, ['token']);
    assert.deepEqual(t.get('acme/users/new')!.sensitive, ['email']);
    assert.deepEqual(t.get('acme/van/7')!.sensitive, ['coordinates']);
    assert.equal(t.get('acme/cfg/wifi')!.sample, '{"ssid":"lab","password":"***"}');
    const json = JSON.stringify(r);
    for (const s of ['Tr0ub4dor&3', 'eyJ1c2VyIjoiYm9iIn0', 'carol.jones', '52.520008', '13.404954']) assert.ok(!json.includes(s), s);
  });

  it('secure broker over TLS with the scanner login: reads lab/secure/#, not $SYS; anonymous is an error, not a throw', async () => {
    const esp = await publisher(secure.port, { protocol: 'mqtts', ca: secure.caPath ? require('node:fs').readFileSync(secure.caPath) : undefined, username: 'esp32', password: secure.users.esp32 });
    const dht = readingMessage(DEVICE, { kind: 'dht', temperature: 24.1, humidity: 48 })!;
    await esp.publishAsync(dht.topic, dht.payload, { qos: 1, retain: true });

    const r = await sniffBroker({ host: LOCAL, port: secure.port }, { transport: 'tls', credentials: { username: 'scanner', password: secure.users.scanner }, listenMs: 700 });
    assert.equal(r.error, null);
    assert.equal(r.as, 'given credentials');
    const item = byTopic(r.items).get(dht.topic)!;
    assert.deepEqual([item.retained, item.sensor, item.values], [true, 'dht', { temperature: 24.1, humidity: 48 }]);
    assert.deepEqual(r.sys, {}, 'the ACL gives the scanner no $SYS');
    assert.ok(!JSON.stringify(r).includes(secure.users.scanner));

    const anon = await sniffBroker({ host: LOCAL, port: secure.port }, { transport: 'tls', listenMs: 700 });
    assert.equal(anon.count, 0);
    assert.match(anon.error!, /Not authorized/);
  });

  it('plans from real probe results: anonymous on the insecure broker, the given login on the secure one', async () => {
    const creds = { username: 'scanner', password: secure.users.scanner };
    const result = async (port: number, credentials: typeof creds | null): Promise<ScanResult> =>
      ({ ...(await probeBroker({ host: LOCAL, port }, { credentials, tls: { ca: require('node:fs').readFileSync(secure.caPath!) } })), scanId: 'x', host: LOCAL, port, reachability: 'open', error: null });
    const a = sniffPlanFor(await result(insecure.port, null), null);
    assert.deepEqual(a.options, { transport: 'tcp', version: '5.0', credentials: null });
    const b = sniffPlanFor(await result(secure.port, creds), creds);
    assert.deepEqual(b.options, { transport: 'tls', version: '5.0', credentials: creds, requireTrustedTls: true });
    assert.equal(sniffPlanFor(await result(secure.port, null), null).options, null);
  });

  it('write test on the insecure broker: accepted, one non-retained message, canary not listed', async () => {
    const r = await sniffBroker({ host: LOCAL, port: insecure.port }, { transport: 'tcp', listenMs: 300, writeTest: true, subscriptions: ['mqttsec/#'] });
    assert.equal(r.writeTest!.accepted, true, r.writeTest!.evidence);
    assert.ok(r.writeTest!.topic.startsWith(CANARY_PREFIX));
    assert.match(r.writeTest!.evidence, /PUBACK reason 0x00.*received it back/);
    assert.ok(r.items.every((i) => !i.topic.startsWith(CANARY_PREFIX)));
    // Nothing retained under the canary prefix: a fresh subscriber gets nothing.
    const after = await sniffBroker({ host: LOCAL, port: insecure.port }, { transport: 'tcp', listenMs: 300, subscriptions: [`${CANARY_PREFIX}#`] });
    assert.equal(after.count, 0);
  });

  for (const version of ['5.0', '3.1.1'] as const) {
    it(`write test on the secure broker with a read-only login (MQTT ${version}): rejected`, async () => {
      const r = await sniffBroker({ host: LOCAL, port: secure.port }, {
        transport: 'tls', version, credentials: { username: 'scanner', password: secure.users.scanner }, listenMs: 200, writeTest: true,
      });
      assert.equal(r.error, null);
      assert.equal(r.writeTest!.accepted, false);
      assert.match(r.writeTest!.evidence, version === '5.0' ? /PUBACK reason 0x87 \(Not authorized\)/ : /never reached our own subscription/);
    });
  }

  it('MQTT 3.1.1 on aedes: topics, retained, and a write test confirmed by the echo', async () => {
    aedes = await startAedes();
    const pub = await publisher(aedes.port, { protocolVersion: 4 });
    const pir = readingMessage(DEVICE, { kind: 'pir', motion: true })!;
    await pub.publishAsync(pir.topic, pir.payload, { qos: 1, retain: true });
    const ticker = setInterval(() => pub.publish('shop/fridge/temp', '4.5'), 100);
    const r = await sniffBroker({ host: LOCAL, port: aedes.port }, { transport: 'tcp', version: '3.1.1', listenMs: 800, writeTest: true })
      .finally(() => clearInterval(ticker));
    assert.equal(r.error, null);
    assert.equal(r.version, '3.1.1');
    const t = byTopic(r.items);
    assert.deepEqual([t.get(pir.topic)?.retained, t.get(pir.topic)?.sensor], [true, 'pir']);
    assert.equal(t.get('shop/fridge/temp')?.sensor, 'temperature');
    assert.equal(r.writeTest!.accepted, true, r.writeTest!.evidence);
    assert.match(r.writeTest!.evidence, /received it back/);
  });

  it('broker-chosen names on aedes: escaped in items, live messages and value keys; names that show alike stay two topics', async () => {
    const own = await startAedes();
    try {
      const pub = await publisher(own.port, { protocolVersion: 4 });
      // Two 5,000-character names that differ only at the end: both show as the same bounded text.
      const longA = `long/${'x'.repeat(4994)}a`;
      const longB = `long/${'x'.repeat(4994)}b`;
      for (const t of [longA, longB]) await pub.publishAsync(t, '1', { qos: 1, retain: true });
      await pub.publishAsync('esc/\u001b[31mred', '{"temp\u202e": 21.5}', { qos: 1, retain: true });
      const live: LiveMessage[] = [];
      const r = await sniffBroker({ host: LOCAL, port: own.port }, { transport: 'tcp', version: '3.1.1', listenMs: 500, onMessage: (m) => live.push(m) });
      assert.equal(r.error, null);
      const shownLong = `long/${'x'.repeat(251)}…(+4744 chars)`;
      assert.equal(r.items.filter((i) => i.topic === shownLong).length, 2, 'two raw names, two topics, though they show alike');
      assert.equal(r.count, 3);
      const esc = r.items.find((i) => i.topic.startsWith('esc/'))!;
      assert.equal(esc.topic, 'esc/\\u{1B}[31mred');
      assert.deepEqual(esc.values, { 'temp\\u{202E}': 21.5 }, 'a JSON key of the payload is broker text too');
      assert.equal(esc.sensor, 'temperature', 'recognized on the key as sent');
      assert.deepEqual(live.map((m) => m.topic).sort(), [...r.items.map((i) => i.topic)].sort(), 'live mode shows the same names');
    } finally {
      await own.stop();
    }
  });

  it('never throws for a broker: closed port, a tarpit that never answers, a cancelled listen', async () => {
    const closed = await sniffBroker({ host: LOCAL, port: await closedPort() }, { transport: 'tcp', listenMs: 100 });
    assert.match(closed.error!, /ECONNREFUSED/);
    assert.equal(closed.count, 0);

    const tarpit = await startTarpit();
    fixtures.push(tarpit);
    const slow = await sniffBroker(tarpit, { transport: 'tcp', listenMs: 100, connectTimeoutMs: 300 });
    assert.match(slow.error!, /timeout|CONNACK/i);

    const ac = new AbortController();
    const started = Date.now();
    setTimeout(() => ac.abort(), 300);
    const cut = await sniffBroker({ host: LOCAL, port: insecure.port }, { transport: 'tcp', listenMs: 30_000, signal: ac.signal });
    assert.ok(Date.now() - started < 1500, `abort took ${Date.now() - started} ms`);
    assert.equal(cut.cancelled, true);
    assert.ok(cut.sys && Object.keys(cut.sys).length > 0, 'what was heard before the abort is kept');
  });

  it('keeps a quiet session alive with PINGREQs (the broker hangs up after 1.5 keepalives of silence)', async function () {
    this.timeout(15_000);
    const session = openSession({ host: LOCAL, port: insecure.port }, { transport: 'tcp', version: '5.0', connectTimeoutMs: 2000, maxPacketBytes: 65536, onOversize: () => undefined, keepaliveS: 1 });
    try {
      assert.equal((await session.connected()).ok, true);
      await delay(6500);
      assert.equal(session.endReason, null, 'still connected after 6.5 keepalives (mosquitto 2.0 checks about every 5 s)');
      const sub = await session.subscribe('quiet/#', 1, 2000);
      assert.equal(sub.granted, true);
    } finally {
      await session.close(500);
    }
    assert.equal(session.endReason, 'closed by us');
  });

  it('leaves no socket or timer behind', async () => {
    const active = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'Timeout').length;
    await delay(50);
    const before = active();
    await sniffBroker({ host: LOCAL, port: insecure.port }, { transport: 'tcp', listenMs: 200, writeTest: true });
    await sniffBroker({ host: LOCAL, port: secure.port }, { transport: 'tls', listenMs: 200 });
    await delay(20);
    assert.ok(active() <= before, `${active()} open after, ${before} before`);
  });

  describe('a flooding publisher', function () {
    this.timeout(60_000);
    let flooded: MosquittoBroker;
    before(async () => {
      flooded = await startMosquitto('insecure');
    });
    after(() => flooded?.stop());

    for (const version of ['5.0', '3.1.1'] as const) {
      it(`stays within its bounds and keeps the event loop free (MQTT ${version})`, async () => {
        const gc = exposeGc();
        gc();
        const heapBefore = process.memoryUsage().heapUsed;
        const loop = watchLoop();
        const listenMs = 3000;
        const limits = { maxTopics: 200, maxTotalBytes: 512 * 1024, maxPacketBytes: 64 * 1024 };
        const sniffing = sniffBroker({ host: LOCAL, port: flooded.port }, { transport: 'tcp', version, listenMs, ...limits, subscriptions: ['#'] });
        const flood = runFlood(flooded.port, listenMs - 500, `flood${version}`);
        const [r, sent] = await Promise.all([sniffing, flood]).finally(() => loop.stop());
        const { maxGap, peakHeap: peak } = loop;
        gc();
        const heapAfter = process.memoryUsage().heapUsed;
        const mb = (n: number) => Math.round(n / 1e5) / 10;
        console.log(`      flood ${version}: sent ${sent.sent} (${mb(sent.bytes)} MB), received ${r.messages}, topics ~${r.count}, kept ${r.items.length}, ` +
          `oversize dropped ${(r.dropped as { oversize: number }).oversize}, kept ${mb(r.keptBytes as number)} MB; heap +${mb(heapAfter - heapBefore)} MB after, peak +${mb(peak - heapBefore)} MB; max loop gap ${maxGap} ms`);

        assert.equal(r.error, null);
        assert.ok((r.messages as number) > 1000, `only ${r.messages} messages reached us`);
        assert.equal(r.items.length, limits.maxTopics);
        assert.ok(r.truncated!.includes('topics'), String(r.truncated));
        assert.ok(r.count > limits.maxTopics && r.countEstimated === true);
        assert.ok((r.keptBytes as number) <= limits.maxTotalBytes);
        assert.ok(JSON.stringify(r).length < limits.maxTotalBytes);
        // The 100 KiB payloads (over maxPacketBytes) are read in part, listed with their size, never dropped.
        assert.ok(r.items.some((i) => i.bytes === 100 * 1024), 'a 100 KiB message is listed with its size');
        assert.equal((r.dropped as { oversize: number }).oversize, 0);
        assert.ok(r.items.every((i) => (i.sample?.length ?? 0) <= 101));
        assert.ok(heapAfter - heapBefore < 40e6, `heap grew ${mb(heapAfter - heapBefore)} MB`);
        assert.ok(peak - heapBefore < 200e6, `heap peaked ${mb(peak - heapBefore)} MB above the start`);
        assert.ok(maxGap < 500, `event loop stalled ${maxGap} ms`);
      });
    }
  });
});

/** The flood runs in its own process, so its busy loop cannot be mistaken for ours. */
function runFlood(port: number, ms: number, prefix: string): Promise<{ sent: number; bytes: number }> {
  const script = join(__dirname, '../support/flood-publisher.ts');
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', script, String(port), String(ms), '8192', String(100 * 1024), '10', prefix], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), ms + 15_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out));
      else reject(new Error(`flood publisher exited ${code}: ${err}`));
    });
  });
}

function exposeGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}
