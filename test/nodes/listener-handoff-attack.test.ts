// The listener handoff (nodes/shared/listener-handoff.ts) under attack: what a hostile broker, a
// crafted result message, two scans of one broker at once, a cancel in the middle, a narrower TLS
// inspector and a probe closed mid-scan do to it. Real brokers (the lab's aedes, in-process) except
// where none shows the behaviour: a broker that never answers a SUBSCRIBE, or answers a login only
// after seconds, is faked (neither aedes as the lab starts it nor mosquitto can be told to), on
// 127.0.0.1.
import { strict as assert } from 'node:assert';
import { createServer, type Server, type Socket } from 'node:net';
import { collect, helper, load, NODES } from './node-red';
import { startAedes, type AedesBroker } from '../support/aedes';
import { generateCa, generateServerCert } from '../../lab/certs';
import { result as sampleResult } from '../support/sample-results';
import type { ScanResult, TopicsInfo } from '../../lib/types';
import { probeNode, receiverOf, sinks, snifferNode, tab } from './handoff-flow';

type Msg = Record<string, unknown>;
const ALL = [NODES.credentials, NODES.probe, NODES.tlsInspector, NODES.sniffer, NODES.catch];
const completions = (n: number) => (msgs: Msg[]) => msgs.filter((m) => m.complete === true).length >= n;

/** An aedes broker (anonymous clients welcome) that records, in order, every SUBSCRIBE filter and,
 *  as 'login', every CONNECT with a username (the probe's made-up login). */
async function recordingAedes(o: Parameters<typeof startAedes>[0] = {}): Promise<{ broker: AedesBroker; subscribes: string[]; usernames: string[] }> {
  const subscribes: string[] = [];
  const usernames: string[] = [];
  const broker = await startAedes({
    ...o,
    allowAnonymous: true,
    authenticate: (username) => (subscribes.push('login'), usernames.push(username), true),
    authorizeSubscribe: (filter) => (subscribes.push(filter), true),
  });
  return { broker, subscribes, usernames };
}

/**
 * A fake MQTT broker on 127.0.0.1, for what no real broker of the lab can be told to do: accepts
 * every CONNECT (3.1.1 or 5.0), a CONNECT with a username only after `loginDelayMs`; answers
 * PINGREQ; answers a SUBSCRIBE (granting QoS 0) only with `suback`, else never; with
 * `maxConnections`, cuts off a client beyond that many at once (mosquitto 2.0.11 here does not
 * enforce its max_connections: two clients got in under max_connections 1).
 */
async function fakeBroker(o: { suback: boolean; loginDelayMs?: number; maxConnections?: number }): Promise<{ port: number; subscribes: () => number; connections: () => number; stop: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let subscribes = 0;
  const server: Server = createServer((socket) => {
    // Full: the new client is cut off at once, as mosquitto's max_connections does.
    if (o.maxConnections !== undefined && sockets.size >= o.maxConnections) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    let v5 = false;
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      for (let guard = 0; guard < 100; guard++) {
        // Fixed header: type byte, remaining length (varint, at most 4 bytes).
        let len = 0;
        let mul = 1;
        let i = 1;
        for (; i < Math.min(buf.length, 5); i++) {
          len += (buf[i] & 0x7f) * mul;
          mul *= 128;
          if ((buf[i] & 0x80) === 0) break;
        }
        if (i >= buf.length || buf.length < i + 1 + len) return;
        const type = buf[0] >> 4;
        const body = buf.subarray(i + 1, i + 1 + len);
        buf = buf.subarray(i + 1 + len);
        if (type === 1) {
          const at = 2 + body.readUInt16BE(0);
          v5 = body[at] === 5;
          const withUsername = (body[at + 1] & 0x80) !== 0;
          const connack = v5 ? Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00]) : Buffer.from([0x20, 0x02, 0x00, 0x00]);
          if (withUsername && o.loginDelayMs) setTimeout(() => socket.writable && socket.write(connack), o.loginDelayMs);
          else socket.write(connack);
        } else if (type === 8) {
          subscribes++;
          if (!o.suback) continue;
          // Packet id, (5.0) properties, then filters: 2-byte length, the filter, an options byte.
          let at = 2;
          if (v5) {
            let props = 0;
            let m = 1;
            for (; at < body.length; at++) {
              props += (body[at] & 0x7f) * m;
              m *= 128;
              if ((body[at] & 0x80) === 0) break;
            }
            at += 1 + props;
          }
          let filters = 0;
          for (; at + 2 <= body.length && filters < 100; filters++) at += 2 + body.readUInt16BE(at) + 1;
          const head = v5 ? [body[0], body[1], 0x00] : [body[0], body[1]];
          socket.write(Buffer.from([0x90, head.length + filters, ...head, ...new Array<number>(filters).fill(0)]));
        } else if (type === 12) {
          socket.write(Buffer.from([0xd0, 0x00]));
        } else if (type === 14) {
          socket.end();
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    subscribes: () => subscribes,
    connections: () => sockets.size,
    stop: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('nodes: the listener handoff under attack', function () {
  this.timeout(60_000);
  let aedes: Awaited<ReturnType<typeof recordingAedes>> | null = null;
  let fake: Awaited<ReturnType<typeof fakeBroker>> | null = null;

  afterEach(async function () {
    await helper.unload();
    await aedes?.broker.stop();
    await fake?.stop();
    aedes = null;
    fake = null;
  });

  it('a broker that takes the CONNECT and never answers the listener\'s SUBSCRIBE: the scan ends, the result says no SUBACK came', async function () {
    fake = await fakeBroker({ suback: false });
    await load(ALL, tab([probeNode([['sniffer']]), snifferNode('sniffer', [['out']]), ...sinks()]));
    const done = collect('out', completions(1), 40_000);
    helper.getNode('probe').receive({ payload: `127.0.0.1:${fake.port}` });
    const msgs = await done;
    const r = msgs.find((m) => m.complete !== true)?.payload as ScanResult;
    assert.ok(r, 'a broker result');
    assert.equal(r.classification, 'open_or_auth_ok');
    const topics = r.topics as TopicsInfo;
    assert.ok(topics, `topics: ${JSON.stringify(r).slice(0, 300)}`);
    assert.ok(topics.subscriptions?.every((s) => s.code === null), `no SUBACK: ${JSON.stringify(topics.subscriptions)}`);
    assert.ok(fake.subscribes() >= 1, 'the listener did subscribe');
  });

  it('two scans of the same broker at once: each result gets the listener of its own scan, one each', async function () {
    aedes = await recordingAedes();
    await load(ALL, tab([probeNode([['sniffer']]), snifferNode('sniffer', [['out']]), ...sinks()]));
    const done = collect('out', completions(2), 30_000);
    helper.getNode('probe').receive({ payload: `127.0.0.1:${aedes.broker.port}`, scanId: 'scan-one' });
    helper.getNode('probe').receive({ payload: `127.0.0.1:${aedes.broker.port}`, scanId: 'scan-two' });
    const msgs = await done;
    const results = msgs.filter((m) => m.complete !== true);
    assert.deepEqual(results.map((m) => m.scanId).sort(), ['scan-one', 'scan-two']);
    for (const m of results) assert.ok((m.payload as ScanResult).topics && !((m.payload as ScanResult).topics as TopicsInfo).error, JSON.stringify(m.payload).slice(0, 200));
    // One listener per scan: each result claimed its own, none listened again.
    assert.equal(aedes.subscribes.filter((f) => f === '#').length, 2, aedes.subscribes.join(', '));
  });

  it('a cancel in the middle (to the probe and the sniffer, as the lab wires it): the completion comes, cancelled, and no listener stays open', async function () {
    aedes = await recordingAedes();
    await load(ALL, tab([probeNode([['sniffer']]), snifferNode('sniffer', [['out']], { listen: 30 }), ...sinks()]));
    const done = collect('out', completions(1), 20_000);
    helper.getNode('probe').receive({ payload: `127.0.0.1:${aedes.broker.port}`, scanId: 'scan-c' });
    // Cancel once the listener subscribed (bounded: 100 x 50 ms).
    for (let i = 0; i < 100 && !aedes.subscribes.includes('#'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(aedes.subscribes.includes('#'), 'the handed-over listener subscribed');
    helper.getNode('probe').receive({ cancel: true });
    helper.getNode('sniffer').receive({ cancel: true });
    const msgs = await done;
    const complete = msgs.find((m) => m.complete === true)!;
    assert.equal((complete.payload as { cancelled?: boolean }).cancelled, true);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(aedes.broker.closeConnections(), 0, 'no connection left open');
  });

  it('a result whose host and scan id make up another handoff\'s key does not get that listener\'s topics', async function () {
    aedes = await recordingAedes();
    await load(ALL, tab([snifferNode('sniffer', [['out']], { listen: 1 }), ...sinks()]));
    const receiver = receiverOf('sniffer');
    const port = aedes.broker.port;
    await receiver.listenAtConnack({ scanId: 'scan|x', target: { host: '127.0.0.1', port }, transport: 'tcp', version: '3.1.1', tlsConfigId: '' });
    const accepted = { outcome: 'accepted' as const, code: 0, reason: 'Connection Accepted', version: '3.1.1' as const };
    // Another scan ('scan') names a host 'x|127.0.0.1': no broker of ours, not an address at all.
    const crafted = sampleResult({ scanId: 'scan', host: 'x|127.0.0.1', port, classification: 'open_or_auth_ok', transport: 'tcp', auth: { anonymous: accepted, wrongCredentials: accepted } });
    const out = collect('out', (m) => m.length >= 1, 5000).catch(() => [] as Msg[]);
    const caught = collect('caught', (m) => m.length >= 1, 5000).catch(() => [] as Msg[]);
    helper.getNode('sniffer').receive({ payload: crafted, scanId: 'scan' });
    const [sent, errors] = await Promise.all([out, caught]);
    assert.equal(sent.length, 0, `no result with another broker's topics: ${JSON.stringify(sent).slice(0, 300)}`);
    assert.match(String((errors[0]?.error as { message?: string } | undefined)?.message), /x\|127\.0\.0\.1/, 'the error names the host');
  });
  // The claim compares transport, WebSocket path and version: over ws and TLS the result must still
  // claim the listener it was handed (one SUBSCRIBE), not listen a second time.
  for (const kind of ['ws', 'tls'] as const) {
    it(`over ${kind}: the result claims the handed-over listener, one SUBSCRIBE in all`, async function () {
      const ca = generateCa({ commonName: 'handoff attack test CA' });
      const server = generateServerCert(ca, { hosts: ['127.0.0.1'] });
      aedes = await recordingAedes(kind === 'ws' ? { websocket: { path: '/mqtt' } } : { tls: { cert: server.certPem, key: server.keyPem } });
      const port = kind === 'ws' ? aedes.broker.websocketPort! : aedes.broker.port;
      await load(ALL, tab([probeNode([['sniffer']], kind === 'tls' ? { tlsPorts: String(port) } : {}), snifferNode('sniffer', [['out']]), ...sinks()]));
      const done = collect('out', completions(1), 30_000);
      helper.getNode('probe').receive({ payload: `127.0.0.1:${port}` });
      const r = (await done).find((m) => m.complete !== true)?.payload as ScanResult;
      assert.equal(r?.transport, kind, JSON.stringify(r).slice(0, 300));
      assert.ok(r.topics && !(r.topics as TopicsInfo).error, JSON.stringify(r.topics).slice(0, 200));
      assert.equal(aedes.subscribes.filter((f) => f === '#').length, 1, aedes.subscribes.join(', '));
      // Handed over: the listener subscribed before the probe's made-up login came.
      assert.ok(aedes.subscribes.indexOf('#') < aedes.subscribes.indexOf('login'), aedes.subscribes.join(', '));
    });
  }
  // The TLS inspector drops a TLS result outside its own scope policy (scopedHost throws); a probe
  // that may scan public addresses, ahead of an inspector that may not, would hand the sniffer
  // brokers whose results the inspector never lets through. Only loopback here: the handoff must
  // not pass such an inspector at all (the sniffer then listens after the grid, as before).
  it('an inspector with a narrower scope than the probe (allowPublic off, the probe\'s on) stops the handoff', async function () {
    aedes = await recordingAedes();
    await load(ALL, tab([
      probeNode([['tls']], { allowPublic: true }),
      { id: 'tls', type: 'mqttsec-tls-inspector', timeout: 1500, checkVersions: true, checkCiphers: true, allowPublic: false, wires: [['sniffer']] },
      snifferNode('sniffer', [['out']], { allowPublic: true }),
      ...sinks(),
    ]));
    const done = collect('out', completions(1), 30_000);
    helper.getNode('probe').receive({ payload: `127.0.0.1:${aedes.broker.port}` });
    const r = (await done).find((m) => m.complete !== true)?.payload as ScanResult;
    assert.ok(r?.topics && !(r.topics as TopicsInfo).error, JSON.stringify(r).slice(0, 300));
    // Not handed over: the probe's made-up login came before the listener's SUBSCRIBE.
    assert.ok(aedes.subscribes.indexOf('login') >= 0 && aedes.subscribes.indexOf('login') < aedes.subscribes.indexOf('#'), aedes.subscribes.join(', '));
  });

  it('an inspector as wide as the probe (both allowPublic on) still passes the handoff', async function () {
    aedes = await recordingAedes();
    await load(ALL, tab([
      probeNode([['tls']], { allowPublic: true }),
      { id: 'tls', type: 'mqttsec-tls-inspector', timeout: 1500, checkVersions: true, checkCiphers: true, allowPublic: true, wires: [['sniffer']] },
      snifferNode('sniffer', [['out']]),
      ...sinks(),
    ]));
    const done = collect('out', completions(1), 30_000);
    helper.getNode('probe').receive({ payload: `127.0.0.1:${aedes.broker.port}` });
    await done;
    assert.ok(aedes.subscribes.indexOf('#') >= 0 && aedes.subscribes.indexOf('#') < aedes.subscribes.indexOf('login'), aedes.subscribes.join(', '));
  });
  // A probe redeployed on its own (Node-RED's "modified nodes" deploy) mid-scan still reports the
  // broker it was probing (assess.ts: brokers already probed are reported on abort): that result
  // claims the handed-over listener, so the handoff leaves no listener behind, and the broker is
  // listened to once, as without the handoff (where that result would be listened to then).
  it('the probe closes mid-grid (redeployed alone): its last result still claims the handed-over listener, one listener in all', async function () {
    // The probe's made-up login waits 20 s for its CONNACK: the probe is mid-grid, no result yet.
    fake = await fakeBroker({ suback: true, loginDelayMs: 20_000 });
    await load(ALL, tab([probeNode([['sniffer']], { timeout: 10_000 }), snifferNode('sniffer', [['out']], { listen: 3 }), ...sinks()]));
    const got = collect('out', (m) => m.length >= 1, 20_000);
    helper.getNode('probe').receive({ payload: `127.0.0.1:${fake.port}`, scanId: 'scan-r' });
    for (let i = 0; i < 100 && fake.subscribes() === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(fake.subscribes() > 0, 'the handed-over listener subscribed');
    await (helper.getNode('probe') as unknown as { close: (removed: boolean) => Promise<void> }).close(false);
    const [msg] = await got;
    const r = msg.payload as ScanResult;
    assert.equal(msg.scanId, 'scan-r');
    assert.ok(r.topics && !(r.topics as TopicsInfo).error, JSON.stringify(r).slice(0, 300));
    // One listener ('#' and '$SYS/#', one SUBSCRIBE each): the result claimed it, none listened again.
    assert.equal(fake.subscribes(), 2);
    // Bounded: 40 x 50 ms for the listener's socket to close.
    for (let i = 0; i < 40 && fake.connections() > 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(fake.connections(), 0, 'no connection left');
  });
  // A small broker that takes few clients at once (mosquitto max_connections 3, as in
  // test/pipeline/cli-vs-flow.test.ts). runScan has one listener open during the probe's round two
  // (the other version and the made-up login, two connections): three in all. A probe wired to two
  // sniffers must not open two listeners then: the fourth connection is cut off, and the made-up
  // login's "accepted" (the broker takes any password) became "closed without CONNACK".
  it('two sniffers behind the probe, a broker that takes 3 clients at once: the made-up login still gets its answer', async function () {
    fake = await fakeBroker({ suback: true, maxConnections: 3 });
    await load(ALL, tab([probeNode([['a', 'b']]), snifferNode('a', [['out']]), snifferNode('b', [['out']]), ...sinks()]));
    const done = collect('out', completions(2), 30_000);
    helper.getNode('probe').receive({ payload: `127.0.0.1:${fake.port}` });
    const results = (await done).filter((m) => m.complete !== true).map((m) => m.payload as ScanResult);
    assert.equal(results.length, 2);
    for (const r of results) {
      assert.equal(r.auth.wrongCredentials.outcome, 'accepted', JSON.stringify(r.auth.wrongCredentials));
      assert.deepEqual(r.mqtt?.versions, { '5.0': 'supported', '3.1.1': 'supported' });
    }
    // The handed-over listener read the broker. (The other sniffer's own listener, opened when the
    // result came, may find the broker still full of the probe's closing connections.)
    assert.ok(results.some((r) => r.topics && !(r.topics as TopicsInfo).error), JSON.stringify(results.map((r) => r.topics)).slice(0, 300));
  });
  // The sniffer has a login of its own and may send it over plain TCP; the broker takes anonymous
  // clients. The handed-over listener is anonymous: the login never reaches the broker, from the
  // handoff or after it.
  it('a sniffer with its own login and the plain-text opt-in: the handed-over listener logs in anonymously, the login never reaches the broker', async function () {
    aedes = await recordingAedes();
    await load(ALL, tab([
      { id: 'creds', type: 'mqttsec-credentials', name: 'lab' },
      probeNode([['sniffer']]),
      snifferNode('sniffer', [['out']], { auth: 'creds', sendCredentialsPlaintext: true }),
      ...sinks(),
    ]), { creds: { username: 'student', password: 'lab-pass' } });
    const done = collect('out', completions(1), 30_000);
    helper.getNode('probe').receive({ payload: `127.0.0.1:${aedes.broker.port}` });
    const r = (await done).find((m) => m.complete !== true)?.payload as ScanResult;
    assert.equal((r.topics as TopicsInfo)?.as, 'anonymous');
    assert.ok(aedes.subscribes.indexOf('#') < aedes.subscribes.indexOf('login'), `handed over: ${aedes.subscribes.join(', ')}`);
    assert.ok(aedes.usernames.length >= 1 && !aedes.usernames.includes('student'), `usernames seen: ${aedes.usernames.length}, the sniffer's among them: ${aedes.usernames.includes('student')}`);
  });
});
