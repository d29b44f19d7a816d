// Issue 14, kinds 1 and 3, against a real broker (aedes, with the hooks and options people use):
// a broker that hangs up instead of answering a refused login, and server limits that refuse the
// CONNECT rather than the client. Each case is scanned by the library, by the CLI (mqtt-scan
// --json) and by a Node-RED flow (target expander -> broker probe); all three must agree.
import { strict as assert } from 'node:assert';
import mqtt from 'mqtt';
import { execFile } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCa, generateServerCert } from '../../lab/certs';
import { resolve } from 'node:path';
import { runScan } from '../../lib/pipeline';
import type { ScanResult } from '../../lib/types';
import { collect, helper, load, NODES, type FlowNode } from '../nodes/node-red';

const HOST = '127.0.0.1';
const CLI = resolve(__dirname, '../../dist/cli/index.js');
const METER_PASSWORD = 'meter-Pa55-not-a-default';
const TIMEOUT_MS = 1500;

interface Broker {
  port: number;
  stop(): Promise<void>;
}

/** The aedes options these tests use (aedes' own types are ESM-only). */
interface AedesCreate {
  keepaliveLimit?: number;
  preConnect?: (client: { close(): void }, packet: unknown, done: (err: Error | null, ok: boolean) => void) => void;
  authenticate?: (client: { id: string }, username: string | undefined, password: Buffer | undefined, done: (err: Error | null, ok: boolean) => void) => void;
}

/** aedes 1.x on an ephemeral loopback port with the given options and hooks; over TLS with `tls`. */
async function startAedesWith(options: AedesCreate, tls?: { cert: string; key: string }): Promise<Broker> {
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker(options as never);
  const sockets = new Set<Socket>();
  const onSocket = (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  };
  const server: Server = tls ? createTlsServer(tls, onSocket) : createServer(onSocket);
  await new Promise<void>((res) => server.listen(0, HOST, res));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    stop: () => new Promise<void>((res) => broker.close(() => {
      for (const s of sockets) s.destroy();
      server.close(() => res());
    })),
  };
}

/** A TCP service that closes every connection as soon as it opens (no MQTT in it). */
async function startDropper(): Promise<Broker> {
  const server: Server = createServer((s) => s.destroy());
  await new Promise<void>((res) => server.listen(0, HOST, res));
  return { port: (server.address() as { port: number }).port, stop: () => new Promise<void>((res) => server.close(() => res())) };
}

const meterOnly = (username?: string, password?: Buffer | null) => username === 'meter' && password?.toString('utf8') === METER_PASSWORD;

async function scan(port: number, login: boolean, plaintext = true): Promise<ScanResult> {
  const { results } = await runScan({
    targets: HOST, ports: [port], timeoutMs: TIMEOUT_MS, sniff: false, inspectTls: false,
    ...(login ? { credentials: { username: 'meter', password: METER_PASSWORD }, sendCredentialsPlaintext: plaintext } : {}),
  });
  assert.equal(results.length, 1);
  return results[0];
}

const outcomes = (r: Pick<ScanResult, 'auth'>) =>
  [r.auth.anonymous.outcome, r.auth.wrongCredentials.outcome, r.auth.givenCredentials.outcome].join(' / ');

// The same broker behind TLS (a known gap of issue 14: a hang-up after the TLS handshake was
// reported as tls_or_ssl_error). aedes' preConnect over TLS is a real broker doing it.
describe('hostile: a broker that hangs up inside TLS', function () {
  this.timeout(60_000);
  let broker: Broker;
  let dir: string;
  let caPath: string;
  before(async () => {
    const ca = generateCa({ commonName: 'hang-up test CA' });
    const server = generateServerCert(ca, { hosts: [HOST, 'localhost'] });
    dir = mkdtempSync(join(tmpdir(), 'mqttsec-hangup-tls-'));
    caPath = join(dir, 'ca.crt');
    writeFileSync(caPath, ca.certPem);
    broker = await startAedesWith({
      preConnect: (client, packet, done) => {
        const p = packet as { username?: string; password?: Buffer };
        if (meterOnly(p.username, p.password)) return done(null, true);
        client.close();
        return done(null, false);
      },
    }, { cert: server.certPem, key: server.keyPem });
  });
  after(async () => {
    await broker?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('no login: not_authorized over tls (not tls_or_ssl_error), the partial CONNECT waited for', async () => {
    const r = await scan(broker.port, false);
    assert.deepEqual([r.classification, r.transport], ['not_authorized', 'tls'], r.evidence!.join('\n'));
    assert.equal(outcomes(r), 'closed_without_connack / closed_without_connack / not_tested');
    assert.ok(r.evidence!.some((e) => /^tls: a connection given only the first bytes of a CONNECT stayed open/.test(e)), r.evidence!.join('\n'));
  });

  it('the given login, with the CA that signed the broker: it goes over the trusted TLS and gets in', async () => {
    const { readFileSync } = await import('node:fs');
    const { results } = await runScan({
      targets: HOST, ports: [broker.port], timeoutMs: TIMEOUT_MS, sniff: false, inspectTls: false,
      credentials: { username: 'meter', password: METER_PASSWORD }, tls: { ca: readFileSync(caPath) },
    });
    const r = results[0];
    assert.deepEqual([r.classification, r.transport, outcomes(r)], ['open_or_auth_ok', 'tls', 'closed_without_connack / closed_without_connack / accepted'], r.evidence!.join('\n'));
    assert.ok(!JSON.stringify(r).includes(METER_PASSWORD));
  });

  it('the given login without the CA: withheld (untrusted certificate), still not_authorized', async () => {
    const r = await scan(broker.port, true, false);
    assert.equal(r.classification, 'not_authorized');
    assert.equal(r.auth.givenCredentials.withheld, 'untrusted_certificate', JSON.stringify(r.auth.givenCredentials));
  });
});

describe('hostile: brokers that hang up, and limits on the CONNECT (issue 14, kinds 1 and 3)', function () {
  this.timeout(60_000);
  let hangUp: Broker;
  let keepalive: Broker;
  let keepaliveAuth: Broker;
  let strictId: Broker;
  let dropper: Broker;

  before(async () => {
    [hangUp, keepalive, keepaliveAuth, strictId, dropper] = await Promise.all([
      // Only the meter gets through preConnect; every other client is dropped without a CONNACK.
      startAedesWith({
        preConnect: (client, packet, done) => {
          const p = packet as { username?: string; password?: Buffer };
          if (meterOnly(p.username, p.password)) return done(null, true);
          client.close();
          return done(null, false);
        },
      }),
      // Open to anyone with a keepalive of at most 20 s (aedes answers more with return code 6).
      startAedesWith({ keepaliveLimit: 20 }),
      startAedesWith({
        keepaliveLimit: 20,
        authenticate: (_c, username, password, done) => done(null, meterOnly(username, password)),
      }),
      // Open to anyone whose client id is one MQTT 3.1.1 servers must allow (1-23 of 0-9a-zA-Z).
      startAedesWith({
        authenticate: (client, _u, _p, done) => (/^[0-9a-zA-Z]{1,23}$/.test(client.id)
          ? done(null, true)
          : done(Object.assign(new Error('identifier rejected'), { returnCode: 2 }), false)),
      }),
      startDropper(),
    ]);
  });
  after(async () => {
    await Promise.all([hangUp, keepalive, keepaliveAuth, strictId, dropper].map((b) => b?.stop()));
  });

  describe('kind 1: a broker that hangs up instead of refusing', () => {
    it('the given login gets in: open_or_auth_ok; anonymous and the made-up login closed_without_connack', async () => {
      const r = await scan(hangUp.port, true);
      assert.equal(outcomes(r), 'closed_without_connack / closed_without_connack / accepted', r.evidence!.join('\n'));
      assert.equal(r.classification, 'open_or_auth_ok');
      assert.equal(r.transport, 'tcp');
      assert.equal(r.mqtt.versions['3.1.1'], 'supported');
      assert.notEqual(r.mqtt.versions['5.0'], 'supported', 'aedes has no MQTT 5');
      assert.equal(r.auth.givenCredentials.version, '3.1.1');
      assert.match(r.auth.wrongCredentials.detail ?? '', /hung up on the CONNECT/);
      assert.ok(r.evidence!.some((e) => /hung up on every CONNECT/.test(e)), r.evidence!.join('\n'));
      assert.ok(!JSON.stringify(r).includes(METER_PASSWORD), 'the password appears nowhere in the result');
    });

    it('no login given: not_authorized (not not_mqtt), "hung up on every CONNECT" in the evidence', async () => {
      const r = await scan(hangUp.port, false);
      assert.equal(r.classification, 'not_authorized', r.evidence!.join('\n'));
      assert.equal(outcomes(r), 'closed_without_connack / closed_without_connack / not_tested');
      assert.ok(r.evidence!.some((e) => /hung up on every CONNECT, no CONNACK/.test(e)));
      assert.ok(r.evidence!.some((e) => /first bytes of a CONNECT stayed open/.test(e)), 'waiting after half a CONNECT is the proof');
    });

    it('a wrong password: the given login is closed_without_connack too, not_authorized', async () => {
      const { results } = await runScan({
        targets: HOST, ports: [hangUp.port], timeoutMs: TIMEOUT_MS, sniff: false, inspectTls: false,
        credentials: { username: 'meter', password: 'wrong-password' }, sendCredentialsPlaintext: true,
      });
      assert.equal(outcomes(results[0]), 'closed_without_connack / closed_without_connack / closed_without_connack');
      assert.equal(results[0].classification, 'not_authorized');
    });

    it('without the plain-text opt-in the login is withheld for plain TCP, not for "no clear answer"', async () => {
      const r = await scan(hangUp.port, true, false);
      assert.equal(r.auth.givenCredentials.outcome, 'not_tested');
      assert.equal(r.auth.givenCredentials.withheld, 'plaintext_transport');
      assert.equal(r.classification, 'not_authorized');
    });

    it('a service that closes every connection at once, CONNECT or not, is still not_mqtt', async () => {
      const r = await scan(dropper.port, true);
      assert.equal(r.classification, 'not_mqtt', r.evidence!.join('\n'));
      assert.equal(r.auth.givenCredentials.outcome, 'not_tested');
    });
  });

  describe('kind 3: server limits refuse the CONNECT, not the client', () => {
    it('aedes keepaliveLimit 20, anonymous allowed: retried with a short keepalive, open_or_auth_ok, no MQTT 5', async () => {
      const r = await scan(keepalive.port, false);
      assert.equal(r.classification, 'open_or_auth_ok', r.evidence!.join('\n'));
      assert.equal(r.auth.anonymous.outcome, 'accepted');
      assert.equal(r.auth.anonymous.version, '3.1.1');
      assert.deepEqual(r.mqtt.versions, { '5.0': 'unsupported', '3.1.1': 'supported' });
      assert.ok(r.evidence!.some((e) => /keepalive or client id, not the client: tried again/.test(e)), r.evidence!.join('\n'));
    });

    it('aedes keepaliveLimit 20: the listener is retried with a short keepalive too, and reads the retained topic', async () => {
      // A retained message on the broker, published with a keepalive it accepts.
      const pub = mqtt.connect(`mqtt://${HOST}:${keepalive.port}`, { keepalive: 10, protocolVersion: 4, reconnectPeriod: 0 });
      await new Promise<void>((res, rej) => {
        pub.once('error', rej);
        pub.once('connect', () => pub.publish('plant/line1/temp', '21.5', { retain: true, qos: 1 }, (e) => (e ? rej(e) : res())));
      });
      await new Promise<void>((res) => pub.end(false, {}, () => res()));
      const { results } = await runScan({ targets: HOST, ports: [keepalive.port], timeoutMs: TIMEOUT_MS, inspectTls: false, listenMs: 800 });
      const r = results[0];
      assert.equal(r.classification, 'open_or_auth_ok', r.evidence!.join('\n'));
      assert.equal(r.topics?.error ?? null, null, JSON.stringify(r.topics));
      assert.ok(r.topics?.items.some((t) => t.topic === 'plant/line1/temp' && t.retained), JSON.stringify(r.topics));
    });

    it('aedes keepaliveLimit 20 with a password check: the refusal is about the login (code 5), the login gets in', async () => {
      const r = await scan(keepaliveAuth.port, true);
      assert.equal(r.auth.anonymous.outcome, 'rejected', r.evidence!.join('\n'));
      assert.equal(r.auth.anonymous.code, 5);
      assert.equal(r.auth.wrongCredentials.outcome, 'rejected');
      assert.equal(r.auth.givenCredentials.outcome, 'accepted');
      assert.equal(r.classification, 'open_or_auth_ok');
      assert.notEqual(r.mqtt.versions['5.0'], 'supported', 'a 2-byte CONNACK to an MQTT 5 CONNECT is not MQTT 5');
    });

    it('a broker that refuses client ids outside 0-9a-zA-Z (code 2): retried with a strict id, open_or_auth_ok', async () => {
      const r = await scan(strictId.port, false);
      assert.equal(r.classification, 'open_or_auth_ok', r.evidence!.join('\n'));
      assert.equal(r.auth.anonymous.outcome, 'accepted');
      assert.ok(r.evidence!.some((e) => /CONNACK 2 .*tried again/.test(e)), r.evidence!.join('\n'));
    });
  });

  describe('the CLI and a Node-RED flow agree with the library', () => {
    afterEach(async () => {
      await helper.unload();
    });

    it('same classification, transport, versions and outcomes on every broker above', async () => {
      const ports = [hangUp.port, keepalive.port, keepaliveAuth.port, strictId.port, dropper.port];
      const cli = await new Promise<ScanResult[]>((res, rej) => {
        const args = [CLI, '--target', HOST, '--ports', ports.join(','), '--json', '--no-sniff', '--no-tls-inspect',
          '--user', 'meter', '--password-env', 'MQTTSEC_REFUSALS_PASSWORD', '--send-credentials-plaintext', '--timeout', String(TIMEOUT_MS)];
        execFile(process.execPath, args, { env: { ...process.env, MQTTSEC_REFUSALS_PASSWORD: METER_PASSWORD }, timeout: 30_000 }, (err, stdout, stderr) => {
          try {
            res(JSON.parse(stdout) as ScanResult[]);
          } catch {
            rej(new Error(`mqtt-scan: ${err?.message ?? ''} ${stderr}`));
          }
        });
      });
      const flow: FlowNode[] = [
        { id: 'flow1', type: 'tab', label: 'refusals' },
        { id: 'exp', z: 'flow1', type: 'mqttsec-target-expander', targets: HOST, ports: ports.join(','), maxTargets: 65536, batchSize: 256, allowPublic: false, wires: [['probe']] },
        { id: 'probe', z: 'flow1', type: 'mqttsec-broker-probe', timeout: TIMEOUT_MS, concurrency: 64, probeConcurrency: 8, transport: 'auto', versions: 'both', tlsPorts: '', emitUnreachable: false, wires: [['out']] },
        { id: 'out', z: 'flow1', type: 'helper' },
      ];
      await load([NODES.credentials, NODES.expander, NODES.probe], flow);
      const done = collect('out', (m) => m.some((x) => x.complete === true), 30_000);
      helper.getNode('exp').receive({ payload: Date.now(), credentials: { username: 'meter', password: METER_PASSWORD }, sendCredentialsPlaintext: true });
      const nodeResults = (await done).filter((m) => !m.complete).map((m) => m.payload as ScanResult);
      const verdict = (r: ScanResult | undefined) => r && ({
        classification: r.classification, transport: r.transport, versions: r.mqtt.versions, outcomes: outcomes(r),
      });
      const lib = await runScan({
        targets: HOST, ports, timeoutMs: TIMEOUT_MS, sniff: false, inspectTls: false,
        credentials: { username: 'meter', password: METER_PASSWORD }, sendCredentialsPlaintext: true,
      });
      for (const port of ports) {
        const expected = verdict(lib.results.find((r) => r.port === port));
        assert.ok(expected, `the library scanned port ${port}`);
        assert.deepEqual(verdict(cli.find((r) => r.port === port)), expected, `CLI, port ${port}`);
        assert.deepEqual(verdict(nodeResults.find((r) => r.port === port)), expected, `node, port ${port}`);
      }
      assert.equal(verdict(lib.results.find((r) => r.port === hangUp.port))!.classification, 'open_or_auth_ok');
      assert.equal(verdict(lib.results.find((r) => r.port === keepalive.port))!.classification, 'open_or_auth_ok');
    });
  });
});
