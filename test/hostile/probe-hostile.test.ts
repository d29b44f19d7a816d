// Hostile and broken "brokers": every probe ends within its timeouts with a verdict and evidence,
// memory stays bounded, and the rest of the scan goes on.
import { strict as assert } from 'node:assert';
import { runScan } from '../../lib/pipeline';
import { startAedes, type AedesBroker } from '../support/aedes';
import { createServer } from 'node:net';
import { BEHAVIOURS, connack5, startHostile, stringProperty, userProperty, type Hostile } from '../support/hostile';

const TIMEOUT = 800;

describe('hostile brokers: the probe', function () {
  this.timeout(30_000);
  const hostiles = new Map<string, Hostile>();
  let real: AedesBroker;

  before(async () => {
    for (const name of Object.keys(BEHAVIOURS)) hostiles.set(name, await startHostile(name));
    real = await startAedes();
  });
  after(async () => {
    await Promise.all([...hostiles.values()].map((h) => h.close()));
    await real?.stop();
  });

  const expected: Record<string, { classification: string; evidence: RegExp }> = {
    silent: { classification: 'not_mqtt', evidence: /no CONNACK within the timeout/ },
    slow: { classification: 'not_mqtt', evidence: /no CONNACK within the timeout; first bytes 20/ },
    garbage: { classification: 'not_mqtt', evidence: /not MQTT|without CONNACK/ },
    huge: { classification: 'not_mqtt', evidence: /CONNACK announces 268435455 bytes/ },
    halfThenClose: { classification: 'not_mqtt', evidence: /connection closed without CONNACK; first bytes 2002/ },
    reset: { classification: 'not_mqtt', evidence: /connection reset without CONNACK/ },
    tlsStall: { classification: 'not_mqtt', evidence: /tls MQTT 5\.0 anonymous: no CONNACK within the timeout/ },
    everyProperty: { classification: 'not_authorized', evidence: /CONNACK 135/ },
  };

  it('one scan over every hostile server and a real broker: all verdicts right, within the timeouts', async () => {
    const ports = [...[...hostiles.values()].map((h) => h.port), real.port];
    const heapBefore = process.memoryUsage().heapUsed;
    const started = Date.now();
    const { results } = await runScan({ targets: '127.0.0.1', ports, timeoutMs: TIMEOUT, sniff: false, inspectTls: false, tlsPorts: [hostiles.get('tlsStall')!.port] });
    const elapsed = Date.now() - started;
    // Every probe runs in parallel; the slowest makes at most a few sequential attempts.
    assert.ok(elapsed < TIMEOUT * 6, `scan took ${elapsed} ms`);
    assert.ok(process.memoryUsage().heapUsed - heapBefore < 64 * 1024 * 1024, 'a 256 MB announcement is never buffered');

    for (const [name, h] of hostiles) {
      const r = results.find((x) => x.port === h.port)!;
      const want = expected[name];
      assert.ok(want, `an expectation for ${name}`);
      assert.equal(r.classification, want.classification, `${name}: ${r.evidence?.join(' | ')}`);
      assert.ok(r.evidence!.some((e) => want.evidence.test(e)), `${name} evidence: ${r.evidence?.join(' | ')}`);
      assert.equal(r.error, null);
    }
    const ok = results.find((x) => x.port === real.port)!;
    assert.equal(ok.classification, 'open_or_auth_ok', 'the real broker in the same scan is unaffected');
  });

  it('an MQTT 5 CONNACK with every property is read, odd strings kept as text', async () => {
    const h = hostiles.get('everyProperty')!;
    const { results } = await runScan({ targets: '127.0.0.1', ports: [h.port], timeoutMs: TIMEOUT, versions: ['5.0'], sniff: false, inspectTls: false });
    const props = results[0].mqtt.connackProperties as Record<string, unknown>;
    assert.equal(props.reasonString, 'reason <b>html</b> \u00e9\u{1F600}');
    assert.equal((props.userProperties as unknown[]).length, 32, 'user properties are capped');
    assert.equal(props.serverReference, 'other.example');
    assert.equal(props.maximumPacketSize, 1024);
  });

  // A FAKE broker: no real broker lets its CONNACK strings be set (mosquitto 2.0.11 sends none of
  // these; aedes has no MQTT 5), yet a hostile one chooses them freely.
  it('CONNACK strings a broker chose (reason string, server reference, assigned id, user properties) are shown escaped', async () => {
    const props = Buffer.concat([
      stringProperty(0x1f, 'denied \u202eexe.txt\u001b[2J'),
      stringProperty(0x1c, 'evil\u200b.example'),
      stringProperty(0x12, 'id\u0000\u2066'),
      userProperty('k\u202e', 'v\u001b\\'),
    ]);
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => socket.end(connack5(0x87, props)));
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
    try {
      const port = (server.address() as { port: number }).port;
      const { results } = await runScan({ targets: '127.0.0.1', ports: [port], timeoutMs: TIMEOUT, versions: ['5.0'], sniff: false, inspectTls: false });
      assert.equal(results[0].classification, 'not_authorized', 'the verdict is the code\'s, whatever the strings say');
      const p = results[0].mqtt.connackProperties as Record<string, unknown>;
      assert.equal(p.reasonString, 'denied \\u{202E}exe.txt\\u{1B}[2J');
      assert.equal(p.serverReference, 'evil\\u{200B}.example');
      assert.equal(p.assignedClientIdentifier, 'id\\u{0}\\u{2066}');
      assert.deepEqual(p.userProperties, [['k\\u{202E}', 'v\\u{1B}\\\\']]);
    } finally {
      await new Promise<void>((res) => server.close(() => res()));
    }
  });
});
