// The topic sniffer node in a real Node-RED runtime, behind the real broker probe, against real
// mosquitto brokers: topics added, unreadable results passed on, live output, no password in
// any message, close ends the connection.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as net from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { collect, helper, load, NODES, type FlowNode } from './node-red';
import { requireTool } from '../support/tools';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto';
import { closedPort, type Fixture } from '../support/fixtures';
import { readingMessage } from '../../lib/sniff/lab-device';
import type { ScanResult, TopicsInfo } from '../../lib/types';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const SNIFFER = require('../../dist/nodes/mqttsec-topic-sniffer.js');
// The same module instance the built nodes use, so a deposit here is what they read.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const vault = require('../../dist/nodes/shared/secret-vault.js') as typeof import('../../nodes/shared/secret-vault');

type Msg = Record<string, unknown>;
const ALL = [NODES.credentials, NODES.probe, NODES.catch, NODES.tls, SNIFFER];
const DEVICE = 'esp32-0a0b0c0d0e0f';
const isComplete = (msgs: Msg[]) => msgs.some((m) => m.complete === true);
const resultOf = (m: Msg) => m.payload as ScanResult;
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

function flow(sniffer: Partial<FlowNode> = {}, probe: Partial<FlowNode> = {}): FlowNode[] {
  const live = sniffer.live === true;
  return [
    { id: 'flow1', type: 'tab', label: 'test' },
    ...[
      { id: 'probe', type: 'mqttsec-broker-probe', timeout: 1500, concurrency: 8, probeConcurrency: 4, transport: 'auto', versions: 'both', tlsPorts: '', emitUnreachable: false, wires: [['sniffer']], ...probe },
      {
        id: 'sniffer', type: 'mqttsec-topic-sniffer', listen: 1, subscriptions: '#, $SYS/#', sampleChars: 100, maxTopics: 500, concurrency: 8,
        writeTest: false, live, outputs: live ? 2 : 1, wires: live ? [['out'], ['live']] : [['out']], ...sniffer,
      },
      { id: 'out', type: 'helper' },
      { id: 'live', type: 'helper' },
      { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ].map((n) => ({ z: 'flow1', ...n })),
  ];
}

describe('nodes: topic sniffer in Node-RED', function () {
  let insecure: MosquittoBroker;
  let secure: MosquittoBroker;
  const clients: MqttClient[] = [];
  const fixtures: Fixture[] = [];

  before(async function () {
    requireTool(this, 'mosquitto');
    [insecure, secure] = await Promise.all([startMosquitto('insecure'), startMosquitto('secure')]);
    const pub = await connect(insecure.port);
    const pir = readingMessage(DEVICE, { kind: 'pir', motion: true })!;
    await pub.publishAsync(pir.topic, pir.payload, { qos: 1, retain: true });
    const esp = await connect(secure.port, { protocol: 'mqtts', ca: readFileSync(secure.caPath!), username: 'esp32', password: secure.users.esp32 });
    const dht = readingMessage(DEVICE, { kind: 'dht', temperature: 23.4, humidity: 51 })!;
    await esp.publishAsync(dht.topic, dht.payload, { qos: 1, retain: true });
  });
  afterEach(async () => {
    await helper.unload();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await Promise.all([insecure?.stop(), secure?.stop(), ...fixtures.map((f) => f.close())]);
  });

  async function connect(port: number, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
    const c = await mqtt.connectAsync({ host: '127.0.0.1', port, reconnectPeriod: 0, ...opts });
    clients.push(c);
    return c;
  }

  it('adds payload.topics to a probe result, then passes the completion message on after it', async () => {
    await load(ALL, flow());
    const statuses: string[] = [];
    const sniffer = helper.getNode('sniffer');
    const status = sniffer.status.bind(sniffer);
    sniffer.status = (s: { text?: string }) => {
      if (s.text) statuses.push(s.text);
      return status(s);
    };
    const done = collect('out', isComplete);
    helper.getNode('probe').receive({ payload: `127.0.0.1:${insecure.port}` });
    const msgs = await done;
    assert.equal(msgs.length, 2);
    assert.equal(msgs[1].complete, true, 'the completion message comes after the sniffed result');
    const result = resultOf(msgs[0]);
    const topics = result.topics!;
    assert.equal(topics.error, null);
    assert.equal(topics.as, 'anonymous');
    const pir = topics.items.find((i) => i.topic === `lab/insecure/${DEVICE}/pir`)!;
    assert.deepEqual([pir.retained, pir.sensor, pir.values], [true, 'pir', { motion: true }]);
    assert.match(String(topics.sys!.version), /^mosquitto version/);
    assert.equal(result.mqtt.brokerVersion, topics.sys!.version, '$SYS fills the broker version');
    // The test runtime does not load our catalog, so status texts are their i18n keys here.
    assert.deepEqual([...new Set(statuses)], ['mqttsec-topic-sniffer.status.listening', 'mqttsec-topic-sniffer.status.done']);
    const catalog = JSON.parse(readFileSync(join(__dirname, '../../nodes/locales/en-US/mqttsec-topic-sniffer.json'), 'utf8'));
    assert.equal(catalog['mqttsec-topic-sniffer'].status.listening, 'listening __elapsed__/__total__ s on __host__:__port__');
  });

  it('a cancel during listening ends it, and that scan\'s completion says cancelled (the probe had finished its part)', async () => {
    await load(ALL, flow({ listen: 30 }));
    const sniffer = helper.getNode('sniffer');
    const statuses: string[] = [];
    const status = sniffer.status.bind(sniffer);
    sniffer.status = (st: { text?: string }) => {
      if (st.text) statuses.push(st.text);
      return status(st);
    };
    const first = collect('out', isComplete, 20_000);
    helper.getNode('probe').receive({ payload: `127.0.0.1:${insecure.port}` });
    for (let i = 0; i < 100 && !statuses.some((x) => x.endsWith('status.listening')); i++) await delay(100);
    assert.ok(statuses.some((x) => x.endsWith('status.listening')), 'it was listening');
    sniffer.receive({ cancel: true });
    const completion = (await first).find((m) => m.complete === true)!;
    assert.equal((completion.payload as { cancelled?: boolean }).cancelled, true);
    // The next scan through the same node is its own: not cancelled (it listens its 30 s unless
    // told otherwise, so this one asks for 1 s in msg.sniff).
    const second = collect('out', isComplete, 20_000);
    helper.getNode('probe').receive({ payload: `127.0.0.1:${insecure.port}`, sniff: { listen: 1 } });
    const next = (await second).find((m) => m.complete === true)!;
    assert.notEqual((next.payload as { cancelled?: boolean }).cancelled, true);
    assert.equal((next.payload as { scanId?: string }).scanId, next.scanId, 'a completion of its own scan');
  });

  it('sniffs several results at once', async () => {
    await load(ALL, flow());
    const statuses: string[] = [];
    const sniffer = helper.getNode('sniffer');
    const status = sniffer.status.bind(sniffer);
    sniffer.status = (s: { text?: string }) => {
      if (s.text) statuses.push(s.text);
      return status(s);
    };
    const got = collect('out', (m) => m.filter((x) => x.complete).length === 3);
    for (let i = 0; i < 3; i++) helper.getNode('probe').receive({ payload: `127.0.0.1:${insecure.port}` });
    const results = (await got).filter((m) => !m.complete);
    assert.equal(results.length, 3);
    assert.ok(results.every((m) => resultOf(m).topics!.error === null));
    assert.ok(statuses.includes('mqttsec-topic-sniffer.status.listeningMany'), 'more than one broker listened to at the same time');
  });

  it('passes results it cannot read through with topics null and a note', async () => {
    const closed = await closedPort();
    await load(ALL, flow());
    const got = collect('out', (m) => m.filter((x) => x.complete).length === 2);
    helper.getNode('probe').receive({ payload: `127.0.0.1:${secure.port}` });
    helper.getNode('probe').receive({ payload: `127.0.0.1:${closed}` });
    const results = (await got).filter((m) => !m.complete);
    assert.equal(results.length, 2);
    for (const m of results) {
      assert.equal(resultOf(m).topics, null);
      assert.match((m.sniffer as { skipped: string }).skipped, resultOf(m).port === secure.port ? /not_authorized/ : /unreachable/);
    }
  });

  it('live mode: a second output with each message as it arrives, throttled per broker', async () => {
    const pub = await connect(insecure.port);
    let n = 0;
    const ticker = setInterval(() => pub.publish('plant/boiler/temperature', String(60 + (n++ % 10))), 10);
    try {
      await load(ALL, flow({ live: true, listen: 2 }));
      const done = collect('out', isComplete);
      const liveMsgs: Msg[] = [];
      helper.getNode('live').on('input', (m: Msg) => liveMsgs.push(m));
      helper.getNode('probe').receive({ payload: `127.0.0.1:${insecure.port}` });
      const msgs = await done;
      const topics = resultOf(msgs[0]).topics as TopicsInfo;
      const boiler = liveMsgs.filter((m) => m.topic === 'plant/boiler/temperature');
      assert.ok(boiler.length >= 5, `only ${boiler.length} live messages`);
      assert.ok(liveMsgs.length <= 20 * 3, `${liveMsgs.length} live messages in ~2 s: not throttled`);
      assert.ok(Number(topics.liveDropped) > 0, 'the extras are counted');
      const p = boiler[0].payload as Msg;
      assert.deepEqual(Object.keys(p).sort(), ['host', 'port', 'retained', 'sample', 'sensor', 'topic', 'values']);
      assert.equal(p.sensor, 'temperature');
      assert.equal(typeof (p.values as Msg).temperature, 'number');
    } finally {
      clearInterval(ticker);
    }
  });

  it('reads the secure broker with credentials from its config node or from the scan; the password is in no message', async () => {
    const password = secure.users.scanner;
    const all: Msg[] = [];
    // 1) a credentials config node on both probe and sniffer
    // A TLS config with the broker's CA on both nodes: the certificate is trusted, so the login may go.
    const labCa: FlowNode = { id: 'labca', type: 'tls-config', z: 'flow1', cert: '', key: '', ca: secure.caPath!, verifyservercert: false };
    const f = flow({ auth: 'creds', live: true, tls: 'labca' }, { auth: 'creds', tls: 'labca' });
    f.push({ id: 'creds', type: 'mqttsec-credentials', name: 'scanner', z: 'flow1' }, labCa);
    await load(ALL, f, { creds: { username: 'scanner', password } });
    helper.getNode('live').on('input', (m: Msg) => all.push(m));
    let done = collect('out', isComplete);
    helper.getNode('probe').receive({ payload: `127.0.0.1:${secure.port}` });
    let msgs = await done;
    all.push(...msgs);
    let topics = resultOf(msgs[0]).topics!;
    assert.equal(topics.as, 'given credentials');
    assert.ok(topics.items.some((i) => i.topic === `lab/secure/${DEVICE}/dht` && i.sensor === 'dht'));
    await helper.unload();

    // 2) no config node: the scan's credentials, kept in memory under its id
    vault.depositLogin('scan-with-login', { credentials: { username: 'scanner', password }, sendCredentialsPlaintext: false });
    await load(ALL, [...flow({ tls: 'labca' }, { tls: 'labca' }), labCa]);
    done = collect('out', isComplete);
    helper.getNode('probe').receive({ payload: `127.0.0.1:${secure.port}`, scanId: 'scan-with-login', credentials: { username: 'scanner', password } });
    msgs = await done;
    all.push(...msgs);
    topics = resultOf(msgs[0]).topics!;
    assert.equal(topics.as, 'given credentials');
    assert.equal(topics.error, null);
    vault.forgetCredentials('scan-with-login');

    assert.ok(all.length >= 4);
    assert.ok(!JSON.stringify(all).includes(password), 'the password leaked into a message');
  });

  it('input that is not a scan result reaches a Catch node', async () => {
    await load(ALL, flow());
    const caught = collect('caught', (m) => m.length === 1);
    helper.getNode('sniffer').receive({ payload: 'hello' });
    const [msg] = await caught;
    assert.match((msg.error as { message: string }).message, /expected a scan result/);
  });

  it('closing the flow mid-listen ends the broker connection within seconds', async () => {
    const proxy = await startProxy(insecure.port);
    fixtures.push(proxy);
    await load(ALL, flow({ listen: 60 }));
    helper.getNode('probe').receive({ payload: `127.0.0.1:${proxy.port}` });
    const deadline = Date.now() + 10_000;
    while (proxy.open() === 0 && Date.now() < deadline) await delay(50); // the probe's attempts come and go; wait for the sniffer's
    await delay(1500);
    assert.equal(proxy.open(), 1, 'the sniffer is connected');
    const started = Date.now();
    await helper.unload();
    assert.ok(Date.now() - started < 5000, `unload took ${Date.now() - started} ms`);
    await delay(100);
    assert.equal(proxy.open(), 0, 'no connection left open');
  });
});

/** A loopback TCP forwarder that counts the connections going through it. */
async function startProxy(upstream: number): Promise<Fixture & { open(): number }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    const up = net.connect({ host: '127.0.0.1', port: upstream });
    const end = () => {
      client.destroy();
      up.destroy();
      sockets.delete(client);
    };
    client.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
    client.pipe(up).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    host: '127.0.0.1',
    port: (server.address() as net.AddressInfo).port,
    open: () => sockets.size,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}
