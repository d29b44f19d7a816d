// The lab files and the test harness against real brokers: the shipped mosquitto
// configs (started on ephemeral loopback ports), aedes, the certificate and password
// generators, and the non-broker fixtures.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate, pbkdf2Sync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IClientOptions, MqttClient } from 'mqtt';
import { CertPair, generateCa, generateClientCert, generateServerCert, writeLabCerts } from '../../lab/certs';
import { generateBrokerFiles } from '../../lab/generate-broker-files';
import { mosquittoPasswordLine, randomPassword } from '../../lab/passwords';
import { startAedes } from '../support/aedes';
import { closedPort, startGarbageServer, startHttpServer, startTarpit } from '../support/fixtures';
import { MosquittoBroker, startMosquitto } from '../support/mosquitto';
import { requireTool } from '../support/tools';
import { closeClients, connectOk, tryConnect } from '../support/mqtt-clients';
import { runScan } from '../../lib/pipeline';


/** Collects every message a client receives, and waits for a given topic (bounded). */
function inbox(client: MqttClient) {
  const got: { topic: string; payload: string }[] = [];
  client.on('message', (topic, payload) => got.push({ topic, payload: payload.toString() }));
  return {
    got,
    async waitFor(topic: string, ms = 3000) {
      for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) {
        if (got.some((m) => m.topic === topic)) return;
      }
      throw new Error(`no message on ${topic} within ${ms} ms; got ${JSON.stringify(got)}`);
    },
  };
}

/** 0 when the broker acknowledged, else the PUBACK reason code (MQTT 5 only has those). */
async function publishCode(client: MqttClient, topic: string, payload: string): Promise<number> {
  try {
    await client.publishAsync(topic, payload, { qos: 1 });
    return 0;
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

afterEach(closeClients);

const VERSIONS = [
  { name: 'MQTT 3.1.1', protocolVersion: 4 as const, notAuthorized: 5, badPassword: 5 },
  // mosquitto 2.0 answers a wrong password with 0x87 "not authorized" too, not 0x86.
  { name: 'MQTT 5', protocolVersion: 5 as const, notAuthorized: 0x87, badPassword: 0x87 },
];

describe('lab certificates (lab/certs.ts)', function () {
  let ca: CertPair;
  before(() => {
    ca = generateCa({ commonName: 'Test CA' });
  });
  const now = Date.now();
  const DAY = 86_400_000;

  it('makes a CA that can sign, with a positive random serial', () => {
    const x = new X509Certificate(ca.certPem);
    assert.equal(x.ca, true);
    assert.equal(x.subject, x.issuer);
    assert.ok(x.verify(x.publicKey));
    assert.match(x.serialNumber, /^[0-7][0-9A-F]{31}$/i);
    assert.notEqual(x.serialNumber, new X509Certificate(generateCa().certPem).serialNumber);
  });

  it('issues a server certificate with IP and DNS SANs, serverAuth, signed by the CA', () => {
    const x = new X509Certificate(generateServerCert(ca, { hosts: ['127.0.0.1', 'localhost', '::1'] }).certPem);
    assert.equal(x.ca, false);
    assert.ok(x.checkIssued(new X509Certificate(ca.certPem)));
    assert.ok(x.verify(new X509Certificate(ca.certPem).publicKey));
    assert.equal(x.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(x.checkIP('::1'), '::1');
    assert.equal(x.checkHost('localhost'), 'localhost');
    assert.match(x.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
    assert.doesNotMatch(x.subjectAltName ?? '', /DNS:127/);
    assert.deepEqual(x.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.equal(x.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
  });

  it('makes an expired certificate', () => {
    const x = new X509Certificate(generateServerCert(ca, {
      hosts: ['localhost'], notBefore: new Date(now - 400 * DAY), notAfter: new Date(now - DAY),
    }).certPem);
    assert.ok(new Date(x.validTo).getTime() < now);
  });

  it('makes a not-yet-valid certificate', () => {
    const x = new X509Certificate(generateServerCert(ca, {
      hosts: ['localhost'], notBefore: new Date(now + 10 * DAY), notAfter: new Date(now + 400 * DAY),
    }).certPem);
    assert.ok(new Date(x.validFrom).getTime() > now);
  });

  it('makes a hostname-mismatch certificate (SAN other.example only)', () => {
    const x = new X509Certificate(generateServerCert(ca, { hosts: ['other.example'] }).certPem);
    assert.equal(x.subjectAltName, 'DNS:other.example');
    assert.equal(x.checkHost('localhost'), undefined);
    assert.equal(x.checkIP('127.0.0.1'), undefined);
  });

  it('makes a 1024-bit key', () => {
    const x = new X509Certificate(generateServerCert(ca, { hosts: ['localhost'], keyBits: 1024 }).certPem);
    assert.equal(x.publicKey.asymmetricKeyDetails?.modulusLength, 1024);
  });

  it('makes a self-signed leaf (no CA)', () => {
    const x = new X509Certificate(generateServerCert(null, { hosts: ['localhost'], selfSigned: true }).certPem);
    assert.equal(x.subject, x.issuer);
    assert.equal(x.ca, false);
    assert.ok(x.verify(x.publicKey));
    assert.ok(!x.checkIssued(new X509Certificate(ca.certPem)));
  });

  it('issues a client certificate with clientAuth', () => {
    const x = new X509Certificate(generateClientCert(ca, { commonName: 'esp32' }).certPem);
    assert.match(x.subject, /CN=esp32/);
    assert.deepEqual(x.keyUsage, ['1.3.6.1.5.5.7.3.2']);
    assert.ok(x.checkIssued(new X509Certificate(ca.certPem)));
  });

  it('writes lab certs with a private key readable by the owner only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mqttsec-certs-'));
    try {
      const paths = writeLabCerts(dir, ['127.0.0.1']);
      assert.equal(statSync(paths.key).mode & 0o777, 0o600);
      assert.ok(new X509Certificate(readFileSync(paths.cert)).checkIssued(new X509Certificate(readFileSync(paths.ca))));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('mosquitto password lines (lab/passwords.ts)', function () {
  it('has the $7$ PBKDF2-SHA512 layout of mosquitto_passwd', function () {
    const passwd = requireTool(this, 'mosquitto_passwd');
    const dir = mkdtempSync(join(tmpdir(), 'mqttsec-pw-'));
    try {
      execFileSync(passwd, ['-c', '-b', join(dir, 'pw'), 'alice', 's3cret'], { stdio: 'ignore' });
      const theirs = readFileSync(join(dir, 'pw'), 'utf8').trim();
      const ours = mosquittoPasswordLine('alice', 's3cret');
      const layout = /^alice:\$7\$101\$([A-Za-z0-9+/]{16})\$([A-Za-z0-9+/]{86}==)$/;
      assert.match(theirs, layout);
      assert.match(ours, layout);
      // Our hashing reproduces theirs from their salt: same algorithm, not just same shape.
      const [, salt, hash] = layout.exec(theirs)!;
      assert.equal(pbkdf2Sync('s3cret', Buffer.from(salt, 'base64'), 101, 64, 'sha512').toString('base64'), hash);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses usernames that would break the file', () => {
    assert.throws(() => mosquittoPasswordLine('a:b', 'x'));
    assert.throws(() => mosquittoPasswordLine('a\nb', 'x'));
  });

  it('makes random alphanumeric passwords', () => {
    assert.match(randomPassword(), /^[A-Za-z0-9]{24}$/);
    assert.notEqual(randomPassword(), randomPassword());
  });
});

describe('insecure mosquitto (brokers/insecure)', function () {
  let broker: MosquittoBroker;
  before(async function () {
    requireTool(this, 'mosquitto');
    broker = await startMosquitto('insecure');
  });
  after(() => broker?.stop());

  for (const v of VERSIONS) {
    it(`accepts an anonymous ${v.name} client and delivers its messages`, async () => {
      const url = `mqtt://127.0.0.1:${broker.port}`;
      const sub = await connectOk(url, { protocolVersion: v.protocolVersion });
      const box = inbox(sub);
      await sub.subscribeAsync('lab/insecure/#');
      const pub = await connectOk(url, { protocolVersion: v.protocolVersion });
      await pub.publishAsync(`lab/insecure/v${v.protocolVersion}`, 'hello', { qos: 1 });
      await box.waitFor(`lab/insecure/v${v.protocolVersion}`);
      assert.equal(box.got[0].payload, 'hello');
    });
  }

  it('logs connections to its log', () => {
    assert.match(broker.log(), /New client connected from 127\.0\.0\.1/);
  });

  // Mosquitto's own websockets listener (libwebsockets), the second listener of the config. Note:
  // mosquitto 2.0.11 binds a websockets listener to every interface whatever address the listener
  // line names; the harness's port is ephemeral and the broker lives only for this block.
  it('serves the same broker over plain WebSockets, and the scanner finds it there as ws on /mqtt', async () => {
    const wsPort = broker.ports[1];
    const client = await connectOk(`ws://127.0.0.1:${wsPort}/mqtt`);
    const box = inbox(client);
    await client.subscribeAsync('lab/insecure/ws');
    const tcp = await connectOk(`mqtt://127.0.0.1:${broker.port}`);
    await tcp.publishAsync('lab/insecure/ws', 'over websockets', { qos: 1, retain: true });
    await box.waitFor('lab/insecure/ws');
    const { results } = await runScan({ targets: '127.0.0.1', ports: [wsPort], timeoutMs: 2000, listenMs: 1500 });
    const r = results[0];
    assert.deepEqual([r.transport, r.websocketPath, r.classification, r.auth.anonymous.outcome, r.risk?.level], ['ws', '/mqtt', 'open_or_auth_ok', 'accepted', 'CRITICAL']);
    assert.ok(r.findings!.some((f) => f.id === 'PLAINTEXT_TRANSPORT' && /protocol websockets/.test(f.recommendation)), 'the fix names the websockets listener lines');
    assert.ok(r.topics!.items.some((i) => i.topic === 'lab/insecure/ws' && i.retained), 'the listener read the retained topic over the WebSocket');
    assert.match(r.mqtt.brokerVersion ?? '', /^mosquitto version 2\./);
  });
});

describe('secure mosquitto (brokers/secure)', function () {
  let broker: MosquittoBroker;
  let url: string;
  const users = { esp32: randomPassword(), scanner: randomPassword(), student: randomPassword(), guest: randomPassword() };
  const as = (user: keyof typeof users, protocolVersion: 4 | 5) =>
    connectOk(url, { ca: readFileSync(broker.caPath!), username: user, password: users[user], protocolVersion });

  before(async function () {
    requireTool(this, 'mosquitto');
    broker = await startMosquitto('secure', { users });
    url = `mqtts://127.0.0.1:${broker.port}`;
  });
  after(() => broker?.stop());

  it('verifies as 127.0.0.1 against our CA and negotiates TLS 1.2+', async () => {
    const client = await as('scanner', 5);
    const socket = client.stream as unknown as import('node:tls').TLSSocket;
    assert.equal(socket.authorized, true);
    assert.match(socket.getProtocol() ?? '', /^TLSv1\.[23]$/);
  });

  it('rejects a client that does not trust the CA', async () => {
    const outcome = await tryConnect(url, { username: 'scanner', password: users.scanner });
    assert.equal(outcome.client, undefined);
    assert.match(outcome.error!.message, /self.signed|unable to verify|certificate/i);
  });

  it('the scanner finds the wss listener: strangers refused, the given login accepted once the CA is trusted', async () => {
    const wssPort = broker.ports[1];
    const { results } = await runScan({
      targets: '127.0.0.1', ports: [wssPort], timeoutMs: 2000, listenMs: 1000,
      credentials: { username: 'scanner', password: users.scanner }, tls: { ca: readFileSync(broker.caPath!) },
    });
    const r = results[0];
    assert.deepEqual(
      [r.transport, r.websocketPath, r.classification, r.auth.anonymous.outcome, r.auth.wrongCredentials.outcome, r.auth.givenCredentials.outcome],
      ['wss', '/mqtt', 'open_or_auth_ok', 'rejected', 'rejected', 'accepted'],
    );
    assert.equal(r.tls?.certificate?.trusted, true, 'the TLS inspector inspected the wss port');
    assert.ok(!r.findings!.some((f) => f.id.startsWith('PLAINTEXT')), r.findings!.map((f) => f.id).join(','));
    assert.ok(!JSON.stringify(results).includes(users.scanner), 'the password is in no result');
  });

  for (const v of VERSIONS) {
    describe(v.name, () => {
      const opts = (): IClientOptions => ({ ca: readFileSync(broker.caPath!), protocolVersion: v.protocolVersion });

      it('rejects an anonymous client as not authorized', async () => {
        const outcome = await tryConnect(url, opts());
        assert.equal(outcome.code, v.notAuthorized, outcome.error?.message);
      });

      it('rejects a wrong password', async () => {
        const outcome = await tryConnect(url, { ...opts(), username: 'esp32', password: 'wrong' });
        assert.equal(outcome.code, v.badPassword, outcome.error?.message);
      });

      it('accepts a generated user with the right password', async () => {
        const client = await as('esp32', v.protocolVersion);
        assert.equal(client.connected, true);
      });

      it('serves WebSockets over TLS only, with the same passwords', async () => {
        const wss = `wss://127.0.0.1:${broker.ports[1]}/mqtt`;
        const client = await connectOk(wss, { ca: readFileSync(broker.caPath!), username: 'esp32', password: users.esp32, protocolVersion: v.protocolVersion });
        assert.equal(client.connected, true);
        const anonymous = await tryConnect(wss, { ca: readFileSync(broker.caPath!), protocolVersion: v.protocolVersion });
        assert.equal(anonymous.code, v.notAuthorized, anonymous.error?.message);
      });

      it('enforces the ACL: readers see esp32 data, others see nothing', async () => {
        const topic = `lab/secure/v${v.protocolVersion}/temp`;
        const scannerClient = await as('scanner', v.protocolVersion);
        const guestClient = await as('guest', v.protocolVersion);
        const scanner = inbox(scannerClient);
        const guest = inbox(guestClient);
        await Promise.all([scannerClient.subscribeAsync('#'), guestClient.subscribeAsync('#')]);
        const esp32 = await as('esp32', v.protocolVersion);
        // A denied publish is acknowledged and dropped; MQTT 5 says so with 0x87.
        const denied = v.protocolVersion === 5 ? 0x87 : 0;
        assert.equal(await publishCode(esp32, topic, '21.5'), 0);
        assert.equal(await publishCode(esp32, 'lab/users/guest/intrusion', 'x'), denied);
        await scanner.waitFor(topic);

        // Once the guest sees its own sentinel, anything routed to it earlier has arrived too.
        await guestClient.publishAsync('lab/users/guest/sentinel', 'done', { qos: 1 });
        await guest.waitFor('lab/users/guest/sentinel');
        assert.deepEqual(guest.got.map((m) => m.topic), ['lab/users/guest/sentinel']);
        // Read-only users cannot publish into the sensor tree.
        assert.equal(await publishCode(guestClient, `${topic}/fake`, '99'), denied);
        assert.equal(await publishCode(await as('student', v.protocolVersion), `${topic}/fake2`, '99'), denied);
        await esp32.publishAsync(`${topic}/end`, 'end', { qos: 1 });
        await scanner.waitFor(`${topic}/end`);
        assert.deepEqual(scanner.got.map((m) => m.topic), [topic, `${topic}/end`]);
      });
    });
  }
});

describe('lab/generate-broker-files.ts output runs the secure config', function () {
  let dir: string;
  let broker: MosquittoBroker | undefined;
  before(function () {
    requireTool(this, 'mosquitto');
    dir = mkdtempSync(join(tmpdir(), 'mqttsec-gen-'));
  });
  after(async () => {
    await broker?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes certs and a password file that mosquitto accepts', async () => {
    const files = generateBrokerFiles(join(dir, 'generated'), ['192.0.2.10'], ['esp32', 'scanner']);
    assert.equal(statSync(files.key).mode & 0o777, 0o600);
    assert.equal(statSync(files.passwords).mode & 0o777, 0o600);
    const pwText = readFileSync(files.passwords, 'utf8');
    for (const password of Object.values(files.users)) assert.ok(!pwText.includes(password));
    const x = new X509Certificate(readFileSync(files.cert));
    assert.equal(x.checkIP('192.0.2.10'), '192.0.2.10');

    broker = await startMosquitto('secure', { certs: files, users: files.users });
    const client = await connectOk(`mqtts://127.0.0.1:${broker.port}`, {
      ca: readFileSync(files.ca), username: 'esp32', password: files.users.esp32,
    });
    await client.publishAsync('lab/secure/ok', '1', { qos: 1 });
  });
});

describe('aedes (test/support/aedes.ts)', function () {
  const stops: (() => Promise<void>)[] = [];
  after(() => Promise.all(stops.map((s) => s())));

  it('accepts and rejects through the authenticate hook', async () => {
    const broker = await startAedes({ authenticate: (u, p) => u === 'alice' && p === 'secret' });
    stops.push(broker.stop);
    const url = `mqtt://127.0.0.1:${broker.port}`;
    assert.equal((await tryConnect(url)).code, 5);
    assert.equal((await tryConnect(url, { username: 'alice', password: 'nope' })).code, 4);
    const client = await connectOk(url, { username: 'alice', password: 'secret' });
    const box = inbox(client);
    await client.subscribeAsync('a/#');
    await client.publishAsync('a/b', 'hi', { qos: 1 });
    await box.waitFor('a/b');
  });

  it('accepts anonymous clients by default, over TLS too', async () => {
    const ca = generateCa();
    const server = generateServerCert(ca, { hosts: ['127.0.0.1'] });
    const broker = await startAedes({ tls: { cert: server.certPem, key: server.keyPem } });
    stops.push(broker.stop);
    const client = await connectOk(`mqtts://127.0.0.1:${broker.port}`, { ca: ca.certPem });
    assert.equal(client.connected, true);
  });
});

describe('non-broker fixtures (test/support/fixtures.ts)', function () {
  // MQTT 3.1.1 CONNECT, clean session, keepalive 60, client id "test".
  const CONNECT = Buffer.from('101000044d5154540402003c000474657374', 'hex');

  function exchange(port: number, waitMs: number) {
    return new Promise<{ data: Buffer; error?: string; closed: boolean }>((res) => {
      const chunks: Buffer[] = [];
      let closed = false;
      let error: string | undefined;
      const socket = netConnect({ host: '127.0.0.1', port }, () => socket.write(CONNECT));
      socket.on('data', (d) => chunks.push(d));
      socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code));
      socket.on('close', () => (closed = true));
      setTimeout(() => {
        socket.destroy();
        res({ data: Buffer.concat(chunks), error, closed });
      }, waitMs);
    });
  }

  it('closedPort refuses connections', async () => {
    const r = await exchange(await closedPort(), 300);
    assert.equal(r.error, 'ECONNREFUSED');
  });

  it('tarpit accepts and stays silent', async () => {
    const f = await startTarpit();
    try {
      const r = await exchange(f.port, 300);
      assert.deepEqual([r.data.length, r.error, r.closed], [0, undefined, false]);
    } finally {
      await f.close();
    }
  });

  it('HTTP server answers an MQTT CONNECT with an HTTP error page', async () => {
    const f = await startHttpServer();
    try {
      const r = await exchange(f.port, 500);
      assert.match(r.data.toString(), /^HTTP\/1\.1 400/);
      assert.equal((await tryConnect(`mqtt://127.0.0.1:${f.port}`, { connectTimeout: 2000 })).client, undefined);
    } finally {
      await f.close();
    }
  });

  it('garbage server answers with random bytes and closes', async () => {
    const f = await startGarbageServer();
    try {
      const r = await exchange(f.port, 500);
      assert.equal(r.data.length, 64);
      assert.equal(r.closed, true);
    } finally {
      await f.close();
    }
  });
});
