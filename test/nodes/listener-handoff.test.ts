// The broker probe hands a broker that took its anonymous CONNECT to the topic sniffers downstream
// (nodes/shared/listener-handoff.ts), so their listen window covers the rest of the auth grid, as
// runScan's does. Against the lab's aedes broker (a real broker, in-process): its authenticate and
// authorizeSubscribe hooks record the order in which the probe's made-up login and the listener's
// SUBSCRIBE reach it. With the handoff the SUBSCRIBE comes first; without it (other nodes in the
// way, a broker that wants a login) the whole grid comes first, as before.
import { strict as assert } from 'node:assert';
import { collect, core, helper, load, NODES } from './node-red';
import { startAedes, type AedesBroker } from '../support/aedes';
import { result as sampleResult } from '../support/sample-results';
import type { ScanResult, TopicsInfo } from '../../lib/types';
import { probeNode, receiverOf, sinks, snifferNode, tab } from './handoff-flow';

type Msg = Record<string, unknown>;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const VIEW = require('../../dist/nodes/mqttsec-dashboard-view.js');
const SWITCH = core('function/10-switch.js');
const ALL = [NODES.credentials, NODES.probe, NODES.tlsInspector, NODES.sniffer, NODES.catch, VIEW, SWITCH];
const isComplete = (msgs: Msg[]) => msgs.some((m) => m.complete === true);
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An aedes broker that records, in order, every login with a username and every SUBSCRIBE filter. */
async function recordingAedes(o: { loginRequired?: boolean } = {}): Promise<{ broker: AedesBroker; events: string[] }> {
  const events: string[] = [];
  const broker = await startAedes({
    allowAnonymous: !o.loginRequired,
    authenticate: (username, password) => {
      events.push(`login:${username}`);
      return !o.loginRequired || (username === 'student' && password === 'lab-pass');
    },
    authorizeSubscribe: (filter) => {
      events.push(`subscribe:${filter}`);
      return true;
    },
  });
  return { broker, events };
}

/** Index of the first event matching `re` (-1 when none). */
const first = (events: string[], re: RegExp) => events.findIndex((e) => re.test(e));

/** Scans `port` through the loaded flow (into the probe) and returns what reached `out`. */
async function scan(port: number, extra: Msg = {}): Promise<Msg[]> {
  const done = collect('out', isComplete, 20_000);
  helper.getNode('probe').receive({ payload: `127.0.0.1:${port}`, ...extra });
  return done;
}

function brokerResult(msgs: Msg[]): ScanResult {
  const r = msgs.find((m) => m.complete !== true)?.payload as ScanResult | undefined;
  assert.ok(r, `no broker result in ${JSON.stringify(msgs).slice(0, 300)}`);
  return r;
}

describe('nodes: the probe hands brokers to the topic sniffers downstream at the first CONNACK', function () {
  this.timeout(60_000);
  let aedes: { broker: AedesBroker; events: string[] } | null = null;

  afterEach(async function () {
    await helper.unload();
    await aedes?.broker.stop();
    aedes = null;
  });

  it('probe -> TLS inspector -> sniffer: the listener subscribes before the probe tries its made-up login, and the result carries its topics', async function () {
    aedes = await recordingAedes();
    await load(ALL, tab([probeNode([['tls']]), { id: 'tls', type: 'mqttsec-tls-inspector', timeout: 1500, checkVersions: true, checkCiphers: true, wires: [['sniffer']] }, snifferNode('sniffer', [['out']]), ...sinks()]));
    const msgs = await scan(aedes.broker.port);
    const r = brokerResult(msgs);
    assert.equal(r.classification, 'open_or_auth_ok');
    assert.equal(r.auth.wrongCredentials.outcome, 'accepted', 'the probe still tried its made-up login');
    const topics = r.topics as TopicsInfo;
    assert.ok(topics && !topics.error, `topics read: ${JSON.stringify(topics).slice(0, 200)}`);
    assert.equal(topics.as, 'anonymous');
    const sub = first(aedes.events, /^subscribe:#$/);
    const login = first(aedes.events, /^login:/);
    assert.ok(sub >= 0 && login >= 0, `events: ${aedes.events.join(', ')}`);
    assert.ok(sub < login, `the listener subscribed before the made-up login: ${aedes.events.join(', ')}`);
    // One listener: the result claimed the one started at the CONNACK, it did not listen again.
    assert.equal(aedes.events.filter((e) => e === 'subscribe:#').length, 1, aedes.events.join(', '));
  });

  it("through the lab's scan-route view: the sniffer on the output msg.sniff chooses gets the broker; listen 0 gets no listener at all", async function () {
    aedes = await recordingAedes();
    const flow = tab([
      probeNode([['route']]),
      { id: 'route', type: 'mqttsec-dashboard-view', view: 'scan-route', wires: [['out'], ['sniff'], ['sniffWrite']] },
      snifferNode('sniff', [['out']]),
      snifferNode('sniffWrite', [['out']], { writeTest: true }),
      ...sinks(),
    ]);
    await load(ALL, flow);
    const listened = brokerResult(await scan(aedes.broker.port, { sniff: { listen: 1 } }));
    assert.ok((listened.topics as TopicsInfo)?.count >= 0 && !(listened.topics as TopicsInfo).error, JSON.stringify(listened.topics).slice(0, 200));
    assert.equal((listened.topics as TopicsInfo & { writeTest?: unknown }).writeTest ?? null, null, 'the plain sniffer listened, not the write-test one');
    const sub = first(aedes.events, /^subscribe:#$/);
    const login = first(aedes.events, /^login:/);
    assert.ok(sub >= 0 && sub < login, `subscribed before the made-up login: ${aedes.events.join(', ')}`);

    aedes.events.length = 0;
    const skipped = brokerResult(await scan(aedes.broker.port, { sniff: { listen: 0 } }));
    assert.equal(skipped.topics, undefined, 'listen 0 goes straight to the classifier output');
    assert.ok(!aedes.events.some((e) => e.startsWith('subscribe:')), `no listener for listen 0: ${aedes.events.join(', ')}`);
  });

  it('a node the handoff cannot see through (a switch) in the way: the sniffer listens after the whole grid, as before', async function () {
    aedes = await recordingAedes();
    const flow = tab([
      probeNode([['gate']]),
      { id: 'gate', type: 'switch', property: 'topic', propertyType: 'msg', rules: [{ t: 'nnull' }], checkall: 'true', repair: false, outputs: 1, wires: [['sniffer']] },
      snifferNode('sniffer', [['out']]),
      ...sinks(),
    ]);
    await load(ALL, flow);
    const r = brokerResult(await scan(aedes.broker.port));
    assert.ok(r.topics && !(r.topics as TopicsInfo).error);
    const sub = first(aedes.events, /^subscribe:#$/);
    const login = first(aedes.events, /^login:/);
    assert.ok(login >= 0 && sub > login, `the made-up login came before the SUBSCRIBE: ${aedes.events.join(', ')}`);
  });

  it('a broker that refuses anonymous clients is never handed over: no login travels that way, the listener logs in after the grid', async function () {
    aedes = await recordingAedes({ loginRequired: true });
    const flow = tab([
      { id: 'creds', type: 'mqttsec-credentials', name: 'lab' },
      // Plain TCP on loopback: the login may go there only with the opt-in (lib/credentials).
      probeNode([['sniffer']], { auth: 'creds', sendCredentialsPlaintext: true }),
      snifferNode('sniffer', [['out']], { auth: 'creds', sendCredentialsPlaintext: true }),
      ...sinks(),
    ]);
    await load(ALL, flow, { creds: { username: 'student', password: 'lab-pass' } });
    const r = brokerResult(await scan(aedes.broker.port));
    assert.equal(r.auth.anonymous.outcome, 'rejected');
    assert.equal(r.auth.givenCredentials.outcome, 'accepted', JSON.stringify(r.auth));
    assert.equal((r.topics as TopicsInfo)?.as, 'given credentials');
    const sub = first(aedes.events, /^subscribe:#$/);
    // The probe's own attempt with the login comes before any listener's.
    const probeLogin = first(aedes.events, /^login:student$/);
    assert.ok(probeLogin >= 0 && sub > probeLogin, `events: ${aedes.events.join(', ')}`);
    assert.ok(aedes.events.filter((e) => e === 'login:student').length >= 2, `the listener logged in on its own, after the result: ${aedes.events.join(', ')}`);
  });

  describe('the sniffer side', function () {

    it("a handed-over listener no result claims ends with its scan's completion; another scan's goes on", async function () {
      aedes = await recordingAedes();
      await load(ALL, tab([snifferNode('sniffer', [['out']], { listen: 20 }), ...sinks()]));
      const receiver = receiverOf('sniffer');
      const handoff = (scanId: string) => receiver.listenAtConnack({ scanId, target: { host: '127.0.0.1', port: aedes!.broker.port }, transport: 'tcp', version: '3.1.1', tlsConfigId: '' });
      const a = handoff('scan-a');
      const b = handoff('scan-b');
      assert.ok(a && b, 'a free sniffer takes both');
      await Promise.all([a, b]);
      assert.equal(aedes.events.filter((e) => e === 'subscribe:#').length, 2, aedes.events.join(', '));
      const done = collect('out', isComplete, 5000);
      helper.getNode('sniffer').receive({ complete: true, scanId: 'scan-a', topic: 'scan/scan-a', payload: {} });
      await done;
      await delay(300);
      // scan-a's listener left at its completion, 20 s before its window would end; scan-b's is still there.
      assert.equal(aedes.broker.closeConnections(), 1);
    });

    it('a result whose plan differs from the handoff (another MQTT version) is listened to again, the right way', async function () {
      aedes = await recordingAedes();
      await load(ALL, tab([snifferNode('sniffer', [['out']]), ...sinks()]));
      const receiver = receiverOf('sniffer');
      // aedes speaks no MQTT 5: this listener fails; the result says 3.1.1 was accepted.
      await receiver.listenAtConnack({ scanId: 'scan-v', target: { host: '127.0.0.1', port: aedes.broker.port }, transport: 'tcp', version: '5.0', tlsConfigId: '' });
      const got = collect('out', (m) => m.length >= 1, 10_000);
      const accepted = { outcome: 'accepted' as const, code: 0, reason: 'Connection Accepted', version: '3.1.1' as const };
      const r = sampleResult({
        scanId: 'scan-v', host: '127.0.0.1', port: aedes.broker.port, classification: 'open_or_auth_ok',
        mqtt: { versions: { '5.0': 'unsupported', '3.1.1': 'supported' }, brokerVersion: null },
        auth: { anonymous: accepted, wrongCredentials: accepted },
      });
      helper.getNode('sniffer').receive({ payload: r, scanId: 'scan-v' });
      const [msg] = await got;
      const topics = (msg.payload as ScanResult).topics as TopicsInfo;
      assert.ok(topics && !topics.error, `listened again: ${JSON.stringify(topics).slice(0, 200)}`);
      assert.equal(topics.version, '3.1.1');
      assert.equal(aedes.events.filter((e) => e === 'subscribe:#').length, 1, `only the second listener subscribed: ${aedes.events.join(', ')}`);
    });

    it('declines when every listener slot is taken, and after the flow closed', async function () {
      aedes = await recordingAedes();
      await load(ALL, tab([snifferNode('sniffer', [['out']], { listen: 20, concurrency: 1 }), ...sinks()]));
      const receiver = receiverOf('sniffer');
      const h = (scanId: string) => ({ scanId, target: { host: '127.0.0.1', port: aedes!.broker.port }, transport: 'tcp' as const, version: '3.1.1' as const, tlsConfigId: '' });
      const taken = receiver.listenAtConnack(h('scan-1'));
      assert.ok(taken);
      assert.equal(receiver.listenAtConnack(h('scan-2')), undefined, 'no free slot: declined, the probe goes on without it');
      await taken;
      await helper.unload();
      assert.equal(receiver.listenAtConnack(h('scan-3')), undefined, 'closed: declined');
    });
  });
});
