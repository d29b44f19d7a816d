// The probe against real brokers we start ourselves: every verdict is checked against the
// configuration of the broker under test.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { runScan } from '../../lib/pipeline';
import { probeBroker } from '../../lib/probe';
import type { ScanResult } from '../../lib/types';
import { requireTool } from '../support/tools';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto';
import { startAedes, type AedesBroker } from '../support/aedes';
import { closedPort, startGarbageServer, startHttpServer, startTarpit, type Fixture } from '../support/fixtures';
import { generateClientCert } from '../../lab/certs';

const HOST = '127.0.0.1';

async function scanOne(port: number, extra: Parameters<typeof runScan>[0] extends infer O ? Partial<O> : never = {}): Promise<ScanResult> {
  // Probe only: the TLS and topic stages have tests of their own.
  const { results } = await runScan({ targets: HOST, ports: [port], timeoutMs: 1500, sniff: false, inspectTls: false, ...extra });
  assert.equal(results.length, 1, `one result for port ${port}`);
  return results[0];
}

describe('probe: real Mosquitto brokers from brokers/', function () {
  let insecure: MosquittoBroker;
  let secure: MosquittoBroker;

  before(async function () {
    requireTool(this, 'mosquitto');
    [insecure, secure] = await Promise.all([startMosquitto('insecure'), startMosquitto('secure')]);
  });
  after(async () => {
    await Promise.all([insecure?.stop(), secure?.stop()]);
  });

  it('insecure broker: anonymous and wrong credentials accepted over TCP, MQTT 5 and 3.1.1', async () => {
    const r = await scanOne(insecure.port);
    assert.equal(r.reachability, 'open');
    assert.equal(r.transport, 'tcp');
    assert.equal(r.classification, 'open_or_auth_ok');
    assert.equal(r.auth.anonymous.outcome, 'accepted');
    assert.equal(r.auth.anonymous.code, 0);
    assert.equal(r.auth.wrongCredentials.outcome, 'accepted');
    assert.equal(r.auth.givenCredentials.outcome, 'not_tested');
    assert.deepEqual(r.mqtt.versions, { '5.0': 'supported', '3.1.1': 'supported' });
  });

  it('secure broker without credentials: TLS found by fallback, everything rejected, not_authorized', async () => {
    const r = await scanOne(secure.port);
    assert.equal(r.transport, 'tls');
    assert.equal(r.classification, 'not_authorized');
    assert.equal(r.auth.anonymous.outcome, 'rejected');
    assert.equal(r.auth.anonymous.code, 0x87, 'MQTT 5 Not authorized');
    assert.equal(r.auth.wrongCredentials.outcome, 'rejected');
    assert.ok([0x86, 0x87].includes(r.auth.wrongCredentials.code!), `wrong credentials code ${r.auth.wrongCredentials.code}`);
    assert.equal(r.auth.givenCredentials.outcome, 'not_tested');
    assert.deepEqual(r.mqtt.versions, { '5.0': 'supported', '3.1.1': 'supported' });
    assert.ok(r.evidence!.some((e) => /^tcp .*without CONNACK/.test(e)), 'the plain attempt is in the evidence');
  });

  it('secure broker with the right login: given credentials accepted, open_or_auth_ok', async () => {
    const password = secure.users.scanner;
    // The broker's CA is given, so its certificate is trusted and the login may go (lib/credentials).
    const r = await scanOne(secure.port, { credentials: { username: 'scanner', password }, tlsPorts: [secure.port], tls: { ca: readFileSync(secure.caPath!) } });
    assert.equal(r.transport, 'tls');
    assert.equal(r.auth.anonymous.outcome, 'rejected');
    assert.equal(r.auth.wrongCredentials.outcome, 'rejected');
    assert.equal(r.auth.givenCredentials.outcome, 'accepted');
    assert.equal(r.auth.givenCredentials.code, 0);
    assert.equal(r.classification, 'open_or_auth_ok');
    assert.ok(!r.evidence!.some((e) => /^tcp /.test(e)), 'TLS first on a listed TLS port: no plain attempt');
    assert.ok(!JSON.stringify(r).includes(password), 'the password appears nowhere in the result');
  });

  it('secure broker with a wrong password: given credentials rejected', async () => {
    const r = await scanOne(secure.port, { credentials: { username: 'scanner', password: 'not-the-password' }, tls: { ca: readFileSync(secure.caPath!) } });
    assert.equal(r.auth.givenCredentials.outcome, 'rejected');
    assert.equal(r.classification, 'not_authorized');
  });

  it('MQTT 3.1.1 only when asked: return codes of 3.1.1', async () => {
    const r = await scanOne(secure.port, { versions: ['3.1.1'] });
    assert.equal(r.auth.anonymous.code, 5);
    assert.equal(r.auth.anonymous.version, '3.1.1');
    assert.deepEqual(r.mqtt.versions, { '3.1.1': 'supported' });
  });

  it('a TLS listener that requires a client certificate is tls_or_ssl_error, and answers MQTT with one', async () => {
    const certBroker = await startMosquitto('secure', { requireCertificate: true });
    try {
      const r = await scanOne(certBroker.port);
      assert.equal(r.classification, 'tls_or_ssl_error');
      assert.equal(r.transport, 'tls');
      assert.ok(r.evidence!.some((e) => /certificate/i.test(e)), r.evidence!.join('\n'));

      const client = generateClientCert(certBroker.ca!, { commonName: 'scanner' });
      const withCert = await scanOne(certBroker.port, { tls: { cert: client.certPem, key: client.keyPem } });
      assert.equal(withCert.classification, 'not_authorized');
      assert.equal(withCert.auth.anonymous.outcome, 'rejected');
    } finally {
      await certBroker.stop();
    }
  });

  it('a promise from onEstablished holds the other logins back until it settles', async () => {
    let settledAt = 0;
    let calls = 0;
    const t0 = Date.now();
    const o = await probeBroker({ host: HOST, port: insecure.port }, {
      timeoutMs: 1500,
      onEstablished: () => {
        calls++;
        return new Promise<void>((r) => setTimeout(() => ((settledAt = Date.now()), r()), 300));
      },
    });
    assert.equal(calls, 1);
    assert.ok(settledAt > 0 && settledAt - t0 >= 290, 'the hold ran');
    assert.equal(o.auth.wrongCredentials.outcome, 'accepted', 'the held logins were tried after it');
    assert.ok(o.evidence.filter((e) => /wrong credentials: CONNACK/.test(e)).length === 1);
  });

  it('a hold that never settles delays the other logins by at most the timeout', async () => {
    const t0 = Date.now();
    const o = await probeBroker({ host: HOST, port: insecure.port }, { timeoutMs: 400, onEstablished: () => new Promise<void>(() => undefined) });
    assert.equal(o.auth.wrongCredentials.outcome, 'accepted');
    assert.deepEqual(o.mqtt.versions, { '5.0': 'supported', '3.1.1': 'supported' });
    // The hold's bound plus two quick round trips, far below a stuck probe.
    assert.ok(Date.now() - t0 < 4 * 400, `${Date.now() - t0} ms`);
  });

  it('reads the CA file the harness generated (sanity of the fixture)', () => {
    assert.match(readFileSync(secure.caPath!, 'utf8'), /BEGIN CERTIFICATE/);
  });
});

describe('probe: an MQTT 3.1.1-only broker (aedes) with an authenticate hook', () => {
  let broker: AedesBroker;
  before(async () => {
    broker = await startAedes({ authenticate: (u, p) => u === 'lab' && p === 's3cret-lab' });
  });
  after(async () => broker?.stop());

  it('falls back from MQTT 5 and reports 3.1.1 codes: anonymous 5, wrong 4, given 0', async () => {
    // Plain TCP: the login goes only with the explicit opt-in (lib/credentials).
    const r = await scanOne(broker.port, { credentials: { username: 'lab', password: 's3cret-lab' }, sendCredentialsPlaintext: true });
    assert.equal(r.transport, 'tcp');
    assert.equal(r.mqtt.versions['3.1.1'], 'supported');
    assert.notEqual(r.mqtt.versions['5.0'], 'supported');
    assert.equal(r.auth.anonymous.outcome, 'rejected');
    assert.equal(r.auth.anonymous.code, 5);
    assert.equal(r.auth.wrongCredentials.outcome, 'rejected');
    assert.equal(r.auth.wrongCredentials.code, 4);
    assert.equal(r.auth.givenCredentials.outcome, 'accepted');
    assert.equal(r.classification, 'open_or_auth_ok');
    assert.ok(!JSON.stringify(r).includes('s3cret-lab'));
  });
});

describe('probe: ports that are not brokers', () => {
  const fixtures: Fixture[] = [];
  after(async () => Promise.all(fixtures.map((f) => f.close())));

  it('a closed port is closed and unreachable_or_firewalled', async () => {
    const r = await scanOne(await closedPort());
    assert.equal(r.reachability, 'closed');
    assert.equal(r.classification, 'unreachable_or_firewalled');
    assert.equal(r.transport, null);
  });

  it('a tarpit (accepts, never answers) is not_mqtt within the timeouts', async () => {
    const tarpit = await startTarpit();
    fixtures.push(tarpit);
    const started = Date.now();
    const out = await probeBroker({ host: HOST, port: tarpit.port }, { timeoutMs: 300 });
    assert.equal(out.classification, 'not_mqtt');
    // One silent attempt per transport (silence will not change with the version), then one
    // WebSocket upgrade on the first path (a silent web server may be waiting for a request's
    // end, as RabbitMQ's Web MQTT does), which gets no HTTP answer either: three timeouts.
    assert.deepEqual(out.evidence.map((e) => e.replace(/ \(\d+ ms\)$/, '')), [
      'tcp MQTT 5.0 anonymous: no CONNACK within the timeout',
      'tls MQTT 5.0 anonymous: no CONNACK within the timeout',
      'ws /mqtt MQTT 5.0 anonymous: no HTTP answer to the WebSocket upgrade: no CONNACK within the timeout',
    ]);
    assert.ok(Date.now() - started < 300 * 3 + 1000);
  });

  it('an HTTP server is not_mqtt, with its answer as evidence', async () => {
    const http = await startHttpServer();
    fixtures.push(http);
    const r = await scanOne(http.port);
    assert.equal(r.classification, 'not_mqtt');
    assert.equal(r.transport, null);
    assert.ok(r.evidence!.some((e) => /not MQTT: .*"HTTP\/1\.1 400/.test(e)), r.evidence!.join('\n'));
  });

  it('a server answering garbage is not_mqtt', async () => {
    const garbage = await startGarbageServer();
    fixtures.push(garbage);
    const r = await scanOne(garbage.port);
    assert.equal(r.classification, 'not_mqtt');
    assert.equal(r.auth.anonymous.outcome, 'not_tested');
  });
});

describe('probe: well-known default logins (--try-defaults)', function () {
  let broker: MosquittoBroker;
  before(async function () {
    requireTool(this, 'mosquitto');
    // A secure broker where someone left EMQX's default admin/public in the password file.
    broker = await startMosquitto('secure', { users: { admin: 'public', scanner: 'not-a-default-4fT9' } });
  });
  after(async () => broker?.stop());

  it('finds the default login, names the user and never the password; the risk rule fires', async () => {
    const { results } = await runScan({ targets: HOST, ports: [broker.port], timeoutMs: 1500, sniff: false, tryDefaults: true });
    const r = results[0];
    assert.equal(r.auth.anonymous.outcome, 'rejected');
    assert.equal(r.auth.defaultCredentials?.outcome, 'accepted');
    assert.equal(r.auth.defaultCredentials?.username, 'admin');
    assert.equal(r.classification, 'open_or_auth_ok');
    assert.ok(r.findings!.some((f) => f.id === 'DEFAULT_CREDENTIALS' && /user "admin"/.test(f.evidence)));
    assert.equal(r.risk!.level, 'CRITICAL');
    // Everything about what we saw; the fixed recommendation texts may well say "public CA".
    const seen = JSON.stringify([r.auth, r.evidence, r.findings!.map((f) => f.evidence)]);
    assert.ok(!/public/.test(seen), `the default password is not in the result: ${seen}`);
  });

  it('is off by default, and a broker without defaults reports them refused', async () => {
    const off = (await runScan({ targets: HOST, ports: [broker.port], timeoutMs: 1500, sniff: false, inspectTls: false })).results[0];
    assert.equal(off.auth.defaultCredentials, undefined);
    const clean = await startMosquitto('secure');
    try {
      const r = (await runScan({ targets: HOST, ports: [clean.port], timeoutMs: 1500, sniff: false, inspectTls: false, tryDefaults: true })).results[0];
      assert.equal(r.auth.defaultCredentials?.outcome, 'rejected');
      assert.ok(!r.findings!.some((f) => f.id === 'DEFAULT_CREDENTIALS'));
      assert.ok(r.evidence!.some((e) => /8 of 8 well-known pairs refused/.test(e)));
    } finally {
      await clean.stop();
    }
  });

  it('given credentials that are a default pair are marked as such', async () => {
    const r = (await runScan({ targets: HOST, ports: [broker.port], timeoutMs: 1500, sniff: false, inspectTls: false, credentials: { username: 'admin', password: 'public' } })).results[0];
    assert.equal(r.auth.givenCredentials.outcome, 'accepted');
    assert.equal(r.auth.givenCredentials.defaultPair, true);
    assert.ok(r.findings!.some((f) => f.id === 'DEFAULT_CREDENTIALS'));
  });
});
