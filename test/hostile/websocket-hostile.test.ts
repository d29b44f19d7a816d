// Hostile and broken MQTT-over-WebSocket endpoints: the probe and the sniffer end within their
// bounds, give the right verdict with evidence that names what happened, keep memory and the event
// loop in check, and leave no connection open.
//
// FAKE SERVERS (test/support/hostile-websocket.ts): no real broker shows these behaviours (a web
// server that upgrades nothing, an echo, garbage or text frames inside the WebSocket, silence after
// the 101, a frame that announces 2^62 bytes, a broken Sec-WebSocket-Protocol answer, a flood, a
// message over the sniffer's bound), so they are made here on purpose, on 127.0.0.1 only. Where a
// broker is needed behind a broken upgrade, it is a real aedes; the end-to-end scan also has a
// real aedes WebSocket listener (startAedes) for contrast.
import { strict as assert } from 'node:assert';
import { runScan } from '../../lib/pipeline';
import { tryMadeUpLogin } from '../../lib/probe';
import { sniffBroker, SNIFF_DEFAULTS } from '../../lib/sniff';
import { DEFAULT_WEBSOCKET_PATHS } from '../../lib/mqtt';
import type { ScanResult } from '../../lib/types';
import { startAedes, type AedesBroker } from '../support/aedes';
import { rawPublish } from '../support/hostile-broker';
import {
  brokerBehindBrokenUpgrade, echoServer, endlessFrameServer, flood, rawFrameServer, garbageServer, notFoundServer, silentServer, textServer, webSocketFakeBroker,
  type FloodStats, type WebSocketHostile,
} from '../support/hostile-websocket';
import { watchLoop } from '../support/loop-watch';

const TIMEOUT = 800;
/** Versions the probe tries by default (5.0, then 3.1.1). */
const VERSIONS = 2;
/** Upper bound for one port's probe: generous, never a tight timing check. */
const PROBE_BOUND_MS = (VERSIONS + 1) * TIMEOUT + 2000;
const MB = 1024 * 1024;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Waits (at most 2 s, polling every 20 ms) until the server holds no connection; asserts it. */
async function nothingLeftOpen(h: WebSocketHostile): Promise<void> {
  for (let i = 0; i < 100 && h.openSockets > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(h.openSockets, 0, `${h.name}: ${h.openSockets} connection(s) still open after the scan returned`);
}

function report(what: string, numbers: Record<string, string | number>): void {
  console.log(`      ${what}: ${Object.entries(numbers).map(([k, v]) => `${k} ${v}`).join(', ')}`);
}

const heapMb = (bytes: number) => Math.round(bytes / 1e5) / 10;

/** The evidence lines matching `re`; the message shows them all. */
function lines(r: ScanResult, re: RegExp): string[] {
  return (r.evidence ?? []).filter((e) => re.test(e));
}
function evidenceOf(r: ScanResult): string {
  return (r.evidence ?? []).join(' | ');
}

describe('hostile WebSocket servers: the probe', function () {
  this.timeout(60_000);
  const servers: WebSocketHostile[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  let real: AedesBroker;

  const start = async <T extends WebSocketHostile>(h: Promise<T>): Promise<T> => {
    const s = await h;
    servers.push(s);
    return s;
  };
  let notFound: WebSocketHostile;
  let echo: WebSocketHostile;
  let junk: WebSocketHostile;
  let text: WebSocketHostile;
  let silent: WebSocketHostile;
  let endless: WebSocketHostile;
  let overLimit: WebSocketHostile;
  let badOpcode: WebSocketHostile;
  type BrokenUpgrade = Awaited<ReturnType<typeof brokerBehindBrokenUpgrade>>;
  let noSubprotocol: BrokenUpgrade;
  let offeredList: BrokenUpgrade;
  const RETAINED = 'lab/behind-a-broken-upgrade';

  before(async () => {
    process.on('unhandledRejection', onUnhandled);
    notFound = await start(notFoundServer());
    echo = await start(echoServer());
    junk = await start(garbageServer());
    text = await start(textServer());
    silent = await start(silentServer());
    endless = await start(endlessFrameServer('endless', 1n << 62n));
    overLimit = await start(endlessFrameServer('overLimit', 1n << 32n));
    // FIN + opcode 0x3 (reserved, RFC 6455 §5.2), empty payload.
    badOpcode = await start(rawFrameServer('badOpcode', Buffer.from([0x83, 0x00])));
    noSubprotocol = await start(brokerBehindBrokenUpgrade('none'));
    offeredList = await start(brokerBehindBrokenUpgrade('offeredList'));
    for (const b of [noSubprotocol, offeredList]) await b.retain(RETAINED, '21.5');
    real = await startAedes({ websocket: { path: '/mqtt' } });
  });
  after(async () => {
    process.off('unhandledRejection', onUnhandled);
    await Promise.all(servers.map((s) => s.close()));
    await real?.stop();
  });
  afterEach(() => assert.deepEqual(unhandled, [], 'no unhandled rejection'));

  /** One port through the whole pipeline (sweep, probe), without listening or TLS inspection. */
  async function scanOne(h: WebSocketHostile): Promise<{ r: ScanResult; elapsed: number; heapGrowth: number }> {
    const heapBefore = process.memoryUsage().heapUsed;
    const loop = watchLoop(10);
    const started = Date.now();
    const { results } = await runScan({ targets: '127.0.0.1', ports: [h.port], timeoutMs: TIMEOUT, sniff: false, inspectTls: false }).finally(() => loop.stop());
    const elapsed = Date.now() - started;
    assert.equal(results.length, 1);
    const r = results[0];
    assert.equal(r.error, null, `${h.name}: ${r.error}`);
    assert.ok(elapsed < PROBE_BOUND_MS, `${h.name}: the scan took ${elapsed} ms`);
    await nothingLeftOpen(h);
    // The watch samples every 10 ms; a scan shorter than that is measured at its end.
    const heapGrowth = Math.max(loop.peakHeap, process.memoryUsage().heapUsed) - heapBefore;
    report(h.name, { elapsed: `${elapsed} ms`, 'heap peak': `+${heapMb(heapGrowth)} MB`, 'max loop gap': `${loop.maxGap} ms`, connections: h.accepted });
    return { r, elapsed, heapGrowth };
  }

  it('a web server that upgrades nothing (404 everywhere): not_mqtt, one line per default path', async () => {
    const { r } = await scanOne(notFound);
    assert.equal(r.classification, 'not_mqtt', evidenceOf(r));
    assert.equal(r.transport, null);
    for (const path of DEFAULT_WEBSOCKET_PATHS) {
      const re = new RegExp(`^ws ${escape(path)} MQTT 5\\.0 anonymous: HTTP 404 Not Found \\(Server: TestHTTP/1\\.0\\): no WebSocket upgrade \\(\\d+ ms\\)$`);
      assert.equal(lines(r, re).length, 1, `one line for ${path}: ${evidenceOf(r)}`);
    }
    assert.equal(lines(r, /WebSocket upgrade accepted/).length, 0, evidenceOf(r));
  });

  it('an echo server: not_mqtt, the upgraded path named, our CONNECT (0x10) is no CONNACK', async () => {
    const { r } = await scanOne(echo);
    assert.equal(r.classification, 'not_mqtt', evidenceOf(r));
    assert.equal(r.transport, null);
    assert.equal(lines(r, /^ws \/mqtt: WebSocket upgrade accepted \(101, subprotocol "mqtt"\)$/).length, 1, evidenceOf(r));
    assert.equal(lines(r, /^ws \/mqtt MQTT 5\.0 anonymous: not MQTT: first byte 0x10 is not a CONNACK \(0x20\); first bytes 10/).length, 1, evidenceOf(r));
    // The first path that upgraded decides: no other path is tried.
    assert.equal(lines(r, /^ws \/(ws|mqtt-ws)? /).length, 0, evidenceOf(r));
  });

  it('random bytes in binary frames: not_mqtt', async () => {
    const { r } = await scanOne(junk);
    assert.equal(r.classification, 'not_mqtt', evidenceOf(r));
    assert.equal(r.transport, null);
    assert.equal(lines(r, /^ws \/mqtt: WebSocket upgrade accepted \(101, subprotocol "mqtt"\)$/).length, 1, evidenceOf(r));
    assert.equal(lines(r, /^ws \/mqtt MQTT 5\.0 anonymous: not MQTT: first byte 0x[0-9a-f]{2} is not a CONNACK \(0x20\); first bytes [0-9a-f]{32} /).length, 1, evidenceOf(r));
  });

  it('a text frame: not_mqtt, the evidence names the text frame', async () => {
    const { r } = await scanOne(text);
    assert.equal(r.classification, 'not_mqtt', evidenceOf(r));
    assert.equal(r.transport, null);
    assert.equal(lines(r, /^ws \/mqtt MQTT 5\.0 anonymous: not MQTT: the server sent a text frame; MQTT travels in binary frames only \(\d+ ms\)$/).length, 1, evidenceOf(r));
  });

  it('silence after the 101: not_mqtt after the timeout, "no CONNACK within the timeout"', async () => {
    const { r } = await scanOne(silent);
    assert.equal(r.classification, 'not_mqtt', evidenceOf(r));
    assert.equal(r.transport, null);
    assert.equal(lines(r, /^ws \/mqtt: WebSocket upgrade accepted \(101, subprotocol "mqtt"\)$/).length, 1, evidenceOf(r));
    assert.equal(lines(r, /^ws \/mqtt MQTT 5\.0 anonymous: no CONNACK within the timeout \(\d+ ms\)$/).length, 1, evidenceOf(r));
  });

  // ws refuses a 64-bit length above 2^53 - 1 with its own error, and any length above our
  // limit (8 KiB for a CONNACK) with "Max payload size exceeded": both before reading a byte of it.
  const endlessCases: Array<[string, () => WebSocketHostile, RegExp]> = [
    ['2^62 bytes', () => endless, /^ws \/mqtt MQTT 5\.0 anonymous: not MQTT: Unsupported WebSocket frame: payload length > 2\^53 - 1 \((\d+) ms\)$/],
    ['2^32 bytes (over our limit, under 2^53)', () => overLimit, /^ws \/mqtt MQTT 5\.0 anonymous: not MQTT: Max payload size exceeded \((\d+) ms\)$/],
  ];
  for (const [what, server, re] of endlessCases) {
    it(`a frame announcing ${what} that never ends: not_mqtt at once, memory bounded`, async () => {
      const { r, heapGrowth } = await scanOne(server());
      assert.equal(r.classification, 'not_mqtt', evidenceOf(r));
      assert.equal(r.transport, null);
      const [line] = lines(r, re);
      assert.ok(line, evidenceOf(r));
      // The attempt ended on the frame header, not by waiting for the timeout.
      assert.ok(Number(re.exec(line)![1]) < TIMEOUT, line);
      assert.ok(heapGrowth < 20 * MB, `heap grew ${heapMb(heapGrowth)} MB`);
    });
  }

  it('a frame with a reserved opcode after the 101: not_mqtt at once, named by ws', async () => {
    const { r } = await scanOne(badOpcode);
    assert.equal(r.classification, 'not_mqtt', evidenceOf(r));
    const [line] = lines(r, /^ws \/mqtt MQTT 5\.0 anonymous: not MQTT: Invalid WebSocket frame: invalid opcode 3 \((\d+) ms\)$/);
    assert.ok(line, evidenceOf(r));
    assert.ok(Number(/\((\d+) ms\)$/.exec(line)![1]) < TIMEOUT, line);
  });

  it('a 101 without a subprotocol in front of a real broker: tried again offering none, then found', async () => {
    const { r } = await scanOne(noSubprotocol);
    assert.equal(r.classification, 'open_or_auth_ok', evidenceOf(r));
    assert.equal(r.transport, 'ws');
    assert.equal(r.websocketPath, '/mqtt');
    assert.equal(lines(r, /^ws \/mqtt: the server upgraded without choosing the "mqtt" subprotocol; tried again offering none \(\d+ ms\)$/).length, 1, evidenceOf(r));
    assert.equal(lines(r, /^ws \/mqtt: WebSocket upgrade accepted \(101, no subprotocol\)$/).length, 1, evidenceOf(r));
    assert.equal(lines(r, /^ws \/mqtt MQTT 3\.1\.1 anonymous: CONNACK 0 /).length, 1, evidenceOf(r));
    assert.equal(r.auth.anonymous.outcome, 'accepted');
  });

  it('a 101 that copies the offered list back ("mqtt, mqttv3.1") in front of a real broker: tried again offering only "mqtt", then found', async () => {
    const { r } = await scanOne(offeredList);
    assert.equal(r.classification, 'open_or_auth_ok', evidenceOf(r));
    assert.equal(r.transport, 'ws');
    assert.equal(r.websocketPath, '/mqtt');
    assert.equal(lines(r, /^ws \/mqtt: the server upgraded naming a subprotocol that was not one of those offered; tried again offering only "mqtt" \(\d+ ms\)$/).length, 1, evidenceOf(r));
    assert.equal(lines(r, /^ws \/mqtt: WebSocket upgrade accepted \(101, subprotocol "mqtt"\)$/).length, 1, evidenceOf(r));
    assert.equal(r.auth.anonymous.outcome, 'accepted');
  });

  // The listener and the nodes' made-up login follow the probe through the same broken upgrades:
  // without the retry the probe said open_or_auth_ok and the listener heard nothing.
  for (const [what, server] of [['no subprotocol', () => noSubprotocol], ['the offered list copied back', () => offeredList]] as const) {
    it(`the listener reads the broker behind a 101 with ${what}`, async () => {
      const h = server();
      const started = Date.now();
      const r = await sniffBroker({ host: '127.0.0.1', port: h.port }, { transport: 'ws', websocketPath: '/mqtt', version: '3.1.1', listenMs: 300, connectTimeoutMs: 2000 });
      const elapsed = Date.now() - started;
      await nothingLeftOpen(h);
      report(`${h.name} listener`, { elapsed: `${elapsed} ms`, topics: r.items.map((i) => i.topic).join(' ') });
      assert.equal(r.error, null, String(r.error));
      assert.deepEqual(r.subscriptions?.map((x) => x.granted), [true, true]);
      assert.deepEqual(r.items.filter((i) => i.topic === RETAINED).map((i) => [i.retained, i.sample]), [[true, '21.5']]);
      assert.ok(elapsed < 300 + 2 * TIMEOUT + 2000, `ended after ${elapsed} ms`);
    });

    it(`a made-up login (tryMadeUpLogin) gets the broker's answer behind a 101 with ${what}`, async () => {
      const h = server();
      const a = await tryMadeUpLogin({ host: '127.0.0.1', port: h.port }, { transport: 'ws', websocketPath: '/mqtt', version: '3.1.1', timeoutMs: TIMEOUT });
      await nothingLeftOpen(h);
      // This aedes takes any login: the answer is its CONNACK 0, not a failed handshake.
      assert.equal(a.outcome, 'accepted', JSON.stringify(a));
      assert.equal(a.code, 0);
    });
  }

  it('one scan over every hostile WebSocket server and a real aedes WebSocket broker: all verdicts right, time bounded', async () => {
    const LISTEN_MS = 1000;
    const expected = new Map<WebSocketHostile, { classification: string; evidence: RegExp }>([
      [notFound, { classification: 'not_mqtt', evidence: /^ws \/mqtt-ws MQTT 5\.0 anonymous: HTTP 404 Not Found \(Server: TestHTTP\/1\.0\): no WebSocket upgrade/ }],
      [echo, { classification: 'not_mqtt', evidence: /^ws \/mqtt MQTT 5\.0 anonymous: not MQTT: first byte 0x10 is not a CONNACK/ }],
      [junk, { classification: 'not_mqtt', evidence: /^ws \/mqtt MQTT 5\.0 anonymous: not MQTT: first byte 0x[0-9a-f]{2} is not a CONNACK/ }],
      [text, { classification: 'not_mqtt', evidence: /^ws \/mqtt MQTT 5\.0 anonymous: not MQTT: the server sent a text frame/ }],
      [silent, { classification: 'not_mqtt', evidence: /^ws \/mqtt MQTT 5\.0 anonymous: no CONNACK within the timeout/ }],
      [endless, { classification: 'not_mqtt', evidence: /^ws \/mqtt MQTT 5\.0 anonymous: not MQTT: Unsupported WebSocket frame: payload length > 2\^53 - 1/ }],
      [overLimit, { classification: 'not_mqtt', evidence: /^ws \/mqtt MQTT 5\.0 anonymous: not MQTT: Max payload size exceeded/ }],
      [noSubprotocol, { classification: 'open_or_auth_ok', evidence: /^ws \/mqtt: the server upgraded without choosing the "mqtt" subprotocol; tried again offering none/ }],
      [offeredList, { classification: 'open_or_auth_ok', evidence: /^ws \/mqtt: the server upgraded naming a subprotocol that was not one of those offered; tried again offering only "mqtt"/ }],
    ]);
    const ports = [...[...expected.keys()].map((h) => h.port), real.websocketPort!];
    const heapBefore = process.memoryUsage().heapUsed;
    const loop = watchLoop(10);
    const started = Date.now();
    const { results } = await runScan({ targets: '127.0.0.1', ports, timeoutMs: TIMEOUT, sniff: true, listenMs: LISTEN_MS, inspectTls: false }).finally(() => loop.stop());
    const elapsed = Date.now() - started;
    report('all at once', { ports: ports.length, elapsed: `${elapsed} ms`, 'heap peak': `+${heapMb(loop.peakHeap - heapBefore)} MB`, 'max loop gap': `${loop.maxGap} ms` });
    // Every port is probed in parallel, and listened to while the other logins are tried: the
    // whole scan costs about one slow port and one listen window.
    assert.ok(elapsed < PROBE_BOUND_MS + LISTEN_MS + 2000, `scan took ${elapsed} ms`);
    assert.ok(loop.peakHeap - heapBefore < 64 * MB, 'nothing announced is buffered');
    assert.equal(results.length, ports.length);
    for (const [h, want] of expected) {
      const r = results.find((x) => x.port === h.port)!;
      assert.equal(r.classification, want.classification, `${h.name}: ${evidenceOf(r)}`);
      assert.equal(r.transport, want.classification === 'not_mqtt' ? null : 'ws', h.name);
      assert.ok(lines(r, want.evidence).length === 1, `${h.name} evidence: ${evidenceOf(r)}`);
      assert.equal(r.error, null);
      if (want.classification === 'open_or_auth_ok') {
        assert.equal(r.topics?.error, null, `${h.name}: the listener got in too`);
        assert.ok(r.topics!.items.some((i) => i.topic === RETAINED), `${h.name}: ${r.topics!.items.map((i) => i.topic).join(' ')}`);
      } else assert.equal(r.topics ?? null, null, `${h.name}: nothing to listen to`);
      await nothingLeftOpen(h);
    }
    const ok = results.find((x) => x.port === real.websocketPort)!;
    assert.equal(ok.classification, 'open_or_auth_ok', `the real broker in the same scan: ${evidenceOf(ok)}`);
    assert.equal(ok.transport, 'ws');
    assert.equal(ok.websocketPath, '/mqtt');
    assert.equal(ok.topics?.error, null);
  });
});

describe('hostile WebSocket servers: the sniffer', function () {
  this.timeout(60_000);
  const LISTEN_MS = 1500;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  before(() => process.on('unhandledRejection', onUnhandled));
  after(() => process.off('unhandledRejection', onUnhandled));
  afterEach(() => assert.deepEqual(unhandled, [], 'no unhandled rejection'));

  /** The listener (MQTT 3.1.1, ws /mqtt, LISTEN_MS) on a fake broker, with its time, peak heap
   *  growth and event-loop gaps; asserts the server holds no connection afterwards. */
  async function listenMeasured(server: WebSocketHostile) {
    const heapBefore = process.memoryUsage().heapUsed;
    const loop = watchLoop(10);
    const started = Date.now();
    const r = await sniffBroker({ host: '127.0.0.1', port: server.port }, { transport: 'ws', websocketPath: '/mqtt', version: '3.1.1', listenMs: LISTEN_MS, connectTimeoutMs: 2000 })
      .finally(() => loop.stop());
    const elapsed = Date.now() - started;
    await nothingLeftOpen(server);
    return { r, elapsed, heapGrowth: loop.peakHeap - heapBefore, loop };
  }

  it('a flood of PUBLISH packets on 20,000 topics over ws: bounded topics, heap and loop gaps; ends on time', async () => {
    let stats: FloodStats | null = null;
    const server = await webSocketFakeBroker('flood', (ws, timers) => flood(ws, timers, { topics: 20_000, chunkBytes: 7919, maxMs: LISTEN_MS + 3000 }, (s) => (stats = s)));
    try {
      const { r, elapsed, heapGrowth, loop } = await listenMeasured(server);
      const sent = stats as FloodStats | null;
      assert.ok(sent, 'the flood ended when the listener hung up');
      report('flood over ws', {
        sent: `${sent.packets} packets in ${sent.messages} messages (${Math.round(sent.bytes / MB)} MB) in ${sent.ms} ms`,
        received: `${r.messages} messages`, kept: `${r.items.length} topics (count ~${r.count})`,
        'heap peak': `+${heapMb(heapGrowth)} MB`, 'max loop gap': `${loop.maxGap} ms`, elapsed: `${elapsed} ms`,
      });
      assert.equal(r.error, null, String(r.error));
      assert.equal(r.items.length, SNIFF_DEFAULTS.maxTopics, 'topics kept up to maxTopics, no more');
      assert.ok(r.truncated!.includes('topics'), `truncated: ${r.truncated}`);
      assert.equal(r.countEstimated, true, 'topics beyond the bound are counted, not kept');
      assert.ok(sent.packets >= 20_000, `the flood sent every topic at least once (${sent.packets} packets)`);
      assert.ok((r.messages as number) > 10_000, `only ${r.messages} messages read`);
      assert.ok((r.keptBytes as number) <= SNIFF_DEFAULTS.maxTotalBytes);
      assert.ok(heapGrowth < 50 * MB, `heap grew ${heapMb(heapGrowth)} MB`);
      assert.ok(loop.maxGap < 500, `event loop stalled ${loop.maxGap} ms`);
      assert.ok(elapsed < LISTEN_MS + 3000, `ended after ${elapsed} ms`);
    } finally {
      await server.close();
    }
  });

  it('a 2 MiB WebSocket message after some PUBLISHes: the session ends naming the payload size, the topics heard are kept', async () => {
    const server = await webSocketFakeBroker('bigMessage', (ws, timers) => {
      for (const t of ['lab/a', 'lab/b', 'lab/c']) ws.send(rawPublish(Buffer.from(t), Buffer.from('21.5')), { binary: true });
      const t = setTimeout(() => ws.send(rawPublish(Buffer.from('lab/big'), Buffer.alloc(2 * MB, 0x42)), { binary: true }), 50);
      timers.add(t);
    });
    try {
      const { r, elapsed, heapGrowth } = await listenMeasured(server);
      report('2 MiB message over ws', { elapsed: `${elapsed} ms`, error: String(r.error), 'heap peak': `+${heapMb(heapGrowth)} MB` });
      assert.deepEqual(r.items.map((i) => i.topic), ['lab/a', 'lab/b', 'lab/c']);
      assert.match(String(r.error), /^Max payload size exceeded after \d+ ms$/);
      // The error ends the listening early; the bound is the listen window plus slack anyway.
      assert.ok(elapsed < LISTEN_MS + 2000, `ended after ${elapsed} ms`);
    } finally {
      await server.close();
    }
  });
});
