// The lab's aedes broker changed while it runs (issue 18, Lab controls): who may connect, the topic
// ACL and the TLS certificate, on real MQTT connections over TCP, TLS, ws and wss on loopback. And
// the ACL itself: the lines the class sees are the rules the broker enforces, and they are those
// of brokers/secure/acl (the real Mosquitto's).
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate } from 'node:tls';
import type { MqttClient } from 'mqtt';
import { startAedes, type AedesBroker } from '../../lab/aedes-broker';
import { aclFileLines, labAcl, topicAcl, topicMatches } from '../../lab/lab-acl';
import { labSecrets, type LabSecrets } from '../../lab/lab-secrets';
import { WRONG_HOST } from '../../lab/certs';
import { closeClients, connectOk, tryConnect } from '../support/mqtt-clients';

const ROOT = resolve(__dirname, '../..');

describe('lab ACL (lab/lab-acl.ts)', () => {
  it('matches topics as MQTT 3.1.1 §4.7 says: + one level, # the rest and the parent, $ topics only by name', () => {
    const table: Array<[string, string, boolean]> = [
      ['lab/secure/#', 'lab/secure/esp32-sim01/dht', true],
      ['lab/secure/#', 'lab/secure', true],
      ['lab/secure/#', 'lab/securex/a', false],
      ['lab/+/a', 'lab/x/a', true],
      ['lab/+/a', 'lab/x/y/a', false],
      ['lab/+', 'lab', false],
      ['#', '$SYS/broker/version', false],
      ['+/broker/version', '$SYS/broker/version', false],
      ['$SYS/#', '$SYS/broker/version', true],
      ['a/b', 'a/b', true],
      ['a/b', 'a/b/c', false],
    ];
    for (const [filter, topic, want] of table) assert.equal(topicMatches(filter, topic), want, `${filter} ~ ${topic}`);
  });

  it("the secure broker's ACL is brokers/secure/acl (without its scanner user, which the embedded lab has not)", () => {
    const file = readFileSync(join(ROOT, 'brokers/secure/acl'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    const scanner = file.indexOf('user scanner');
    assert.ok(scanner >= 0);
    file.splice(scanner, 2);
    assert.deepEqual(aclFileLines(labAcl('secure')), file);
    assert.deepEqual(aclFileLines(labAcl('insecure')), file.map((l) => l.replace('lab/secure/', 'lab/insecure/')));
  });

  it('grants what the lines say and nothing else: anonymous clients nothing, $SYS to nobody, %u substituted, odd usernames never', () => {
    const acl = topicAcl(labAcl('insecure'));
    const esp32 = { username: 'esp32', clientId: 'esp32-sim01-i' };
    const student = { username: 'student', clientId: 's1' };
    const anonymous = { username: undefined, clientId: 'a1' };
    assert.equal(acl.mayWrite(esp32, 'lab/insecure/esp32-sim01/pir'), true);
    assert.equal(acl.mayRead(esp32, 'lab/insecure/esp32-sim01/pir'), false, 'esp32 writes its readings, it does not read them');
    assert.equal(acl.mayRead(esp32, 'lab/cmd/esp32/reboot'), true);
    assert.equal(acl.mayRead(student, 'lab/insecure/esp32-sim01/pir'), true);
    assert.equal(acl.mayWrite(student, 'lab/insecure/esp32-sim01/pir'), false);
    assert.equal(acl.mayRead(student, 'lab/secure/esp32-sim01/dht'), false, 'the other broker\'s tree is not granted');
    assert.equal(acl.mayWrite(student, 'lab/users/student/notes'), true);
    assert.equal(acl.mayRead(student, 'lab/users/esp32/notes'), false);
    for (const who of [esp32, student, anonymous]) {
      assert.equal(acl.mayRead(who, '$SYS/broker/clients/connected'), false);
      assert.equal(acl.mayRead(who, 'other/topic'), false);
    }
    for (const topic of ['lab/insecure/esp32-sim01/pir', 'lab/users/undefined/x', 'lab/users//x']) {
      assert.equal(acl.mayRead(anonymous, topic), false, topic);
      assert.equal(acl.mayWrite(anonymous, topic), false, topic);
    }
    assert.equal(acl.mayWrite({ username: '+', clientId: 'c' }, 'lab/users/+/x'), false, 'a username with a wildcard gets no pattern');
    assert.equal(acl.mayWrite({ username: 'constructor', clientId: 'c' }, 'lab/users/constructor/x'), true, 'any other username owns its own subtree');
  });
});

describe('lab aedes broker: policy and certificate changed while it runs', function () {
  this.timeout(30_000);
  let dir: string;
  let secrets: LabSecrets;
  const brokers: AedesBroker[] = [];
  const users = { esp32: 'esp32-pass-xyz', student: 'student-pass-xyz' };
  const checkLogin = (u: string, p: string) => Object.prototype.hasOwnProperty.call(users, u) && (users as Record<string, string>)[u] === p;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mqttsec-policy-'));
    secrets = labSecrets(dir);
  });
  afterEach(async () => {
    await closeClients();
    await Promise.all(brokers.splice(0).map((b) => b.stop()));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function broker(opts: Parameters<typeof startAedes>[0] = {}): Promise<AedesBroker> {
    const b = await startAedes({ websocket: { path: '/mqtt' }, ...opts });
    brokers.push(b);
    return b;
  }

  it('"require a login": new CONNECTs are decided by the new policy over TCP and ws; open connections stay until closeConnections()', async () => {
    const b = await broker();
    const url = `mqtt://127.0.0.1:${b.port}`;
    const wsUrl = `ws://127.0.0.1:${b.websocketPort}/mqtt`;
    const before = await connectOk(url);
    assert.equal((await tryConnect(url, { username: 'anyone', password: 'anything' })).client?.connected, true, 'as shipped: any login');
    b.setPolicy({ allowAnonymous: false, authenticate: checkLogin });
    assert.deepEqual([b.policy().allowAnonymous, typeof b.policy().authenticate], [false, 'function']);
    for (const u of [url, wsUrl]) {
      assert.equal((await tryConnect(u)).code, 5, `${u}: anonymous -> CONNACK 5 not authorized`);
      assert.equal((await tryConnect(u, { username: 'student', password: 'wrong' })).code, 4, `${u}: wrong password -> CONNACK 4`);
      assert.equal((await tryConnect(u, { username: 'anyone', password: 'anything' })).code, 4, `${u}: an unknown user`);
      assert.equal((await tryConnect(u, { username: 'student', password: users.student })).client?.connected, true, `${u}: the student's login`);
    }
    assert.equal(before.connected, true, 'a CONNECT is decided once: the anonymous client from before is still in');
    const closed = new Promise<void>((res) => before.once('close', () => res()));
    assert.ok(b.closeConnections() >= 3, 'every MQTT connection is closed');
    await closed;
    assert.equal((await tryConnect(url)).code, 5, 'it cannot come back anonymously');
    b.setPolicy({ allowAnonymous: true, authenticate: undefined });
    assert.equal(b.policy().authenticate, undefined);
    assert.equal((await tryConnect(url)).client?.connected, true, 'and back as shipped');
  });

  it('the ACL: a "#" and "$SYS/#" subscription is granted but delivers only what the login may read; anonymous clients read nothing; a PUBLISH outside the grant closes the connection', async () => {
    const b = await broker();
    const url = `mqtt://127.0.0.1:${b.port}`;
    const esp32 = await connectOk(url, { username: 'esp32', password: users.esp32 });
    await esp32.publishAsync('lab/insecure/esp32-sim01/pir', 'retained', { qos: 1, retain: true });
    await esp32.publishAsync('other/retained', 'x', { qos: 1, retain: true });
    const sysBefore = await inbox(await connectOk(url), ['$SYS/#']);
    await connectOk(url); // aedes announces every new client under $SYS
    await sysBefore.waitFor((t) => t.startsWith('$SYS/'));

    b.setPolicy({ acl: topicAcl(labAcl('insecure')) });
    const student = await inbox(await connectOk(url, { username: 'student', password: users.student }), ['#', '$SYS/#']);
    assert.deepEqual(student.granted, [0, 0], 'Mosquitto\'s acl_file refuses no SUBSCRIBE either');
    const anonymous = await inbox(await connectOk(url), ['#', '$SYS/#']);
    await connectOk(url); // a $SYS announcement nobody may read now
    await esp32.publishAsync('lab/insecure/esp32-sim01/pir', 'live', { qos: 1 });
    await student.waitFor((t) => t === 'lab/insecure/esp32-sim01/pir' && student.got.length >= 2);
    // The student's own subtree is its sentinel: once it is back, anything routed earlier has arrived.
    await student.client.publishAsync('lab/users/student/sentinel', 'done', { qos: 1 });
    await student.waitFor((t) => t === 'lab/users/student/sentinel');
    assert.deepEqual(student.got, ['lab/insecure/esp32-sim01/pir', 'lab/insecure/esp32-sim01/pir', 'lab/users/student/sentinel'], 'the retained reading and the live one; no $SYS, no other/');
    assert.deepEqual(anonymous.got, [], 'anonymous: not even the retained reading');

    const closed = new Promise<void>((res) => esp32.once('close', () => res()));
    esp32.publish('other/topic', 'not granted', { qos: 0 });
    await closed;
    const anonymousClosed = new Promise<void>((res) => anonymous.client.once('close', () => res()));
    anonymous.client.publish('lab/insecure/esp32-sim01/pir', 'forged', { qos: 0 });
    await anonymousClosed;

    b.setPolicy({ acl: null });
    const open = await inbox(await connectOk(url), ['#']);
    await open.waitFor((t) => t === 'other/retained');
  });

  it('swaps the certificate on the TLS and the wss listener: expired, self-signed, wrong host, and back to the lab CA\'s', async () => {
    const read = (p: { cert: string; key: string }) => ({ cert: readFileSync(p.cert), key: readFileSync(p.key) });
    const b = await broker({ tls: read(secrets.certs), authenticate: checkLogin });
    const ca = readFileSync(secrets.certs.ca);
    const peer = (port: number) => handshake(port, ca);
    for (const port of [b.port, b.websocketPort!]) {
      const p = await peer(port);
      assert.equal(p.error, null, `${port}: the lab CA's certificate verifies`);
    }
    const esp32 = await connectOk(`mqtts://127.0.0.1:${b.port}`, { ca, username: 'esp32', password: users.esp32 });

    b.setCertificate(read(secrets.certs.variants.expired));
    for (const port of [b.port, b.websocketPort!]) {
      const p = await peer(port);
      assert.equal(p.error, 'CERT_HAS_EXPIRED', `${port}`);
      assert.ok(Date.parse(p.cert.valid_to) < Date.now());
      assert.match(p.cert.issuer.CN as string, /MQTT Security Lab CA/);
    }
    assert.equal(esp32.connected, true, 'a TLS session keeps the certificate it began with');
    assert.equal(b.closeConnections(), 1);

    b.setCertificate(read(secrets.certs.variants['self-signed']));
    assert.equal((await peer(b.port)).error, 'DEPTH_ZERO_SELF_SIGNED_CERT');
    b.setCertificate(read(secrets.certs.variants['wrong-host']));
    const wrong = await peer(b.websocketPort!);
    assert.equal(wrong.error, 'ERR_TLS_CERT_ALTNAME_INVALID');
    assert.equal(wrong.cert.subjectaltname, `DNS:${WRONG_HOST}`);

    // A key that does not fit its certificate is refused, and the broker keeps the one in force.
    assert.throws(() => b.setCertificate({ cert: read(secrets.certs).cert, key: read(secrets.certs.variants.expired).key }));
    assert.equal((await peer(b.port)).error, 'ERR_TLS_CERT_ALTNAME_INVALID');
    b.setCertificate(read(secrets.certs));
    assert.equal((await peer(b.port)).error, null);
    assert.equal((await tryConnect(`mqtts://127.0.0.1:${b.port}`, { ca, username: 'student', password: users.student })).client?.connected, true);

    const plain = await broker();
    assert.throws(() => plain.setCertificate(read(secrets.certs)), /no TLS listener/);
  });
});

/** A subscriber that records the topics it receives, in order. */
async function inbox(client: MqttClient, filters: string[]) {
  const got: string[] = [];
  const waiters: Array<() => void> = [];
  client.on('message', (t) => {
    got.push(t);
    for (const w of waiters.splice(0)) w();
  });
  const granted = (await client.subscribeAsync(filters)).map((g) => g.qos);
  return {
    client,
    got,
    granted,
    /** Resolves once a topic that `ok` accepts has come; rejects after 10 s. */
    waitFor(ok: (topic: string) => boolean): Promise<void> {
      return new Promise((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`nothing matching after 10 s: ${JSON.stringify(got)}`)), 10_000);
        const check = () => {
          if (got.some(ok)) {
            clearTimeout(timer);
            res();
          } else waiters.push(check);
        };
        check();
      });
    },
  };
}

/** A TLS handshake with 127.0.0.1 that trusts `ca`: the certificate it got and why it did not verify (null: it did). */
function handshake(port: number, ca: Buffer): Promise<{ cert: PeerCertificate; error: string | null }> {
  return new Promise((res, rej) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, rejectUnauthorized: false, servername: 'localhost' }, () => {
      const cert = socket.getPeerCertificate();
      let error = socket.authorizationError ? String((socket.authorizationError as NodeJS.ErrnoException).code ?? socket.authorizationError) : null;
      // Node checks the name only when it rejects unauthorized peers: check it as a client would.
      if (!error) {
        const bad = checkServerIdentity('127.0.0.1', cert);
        if (bad) error = (bad as NodeJS.ErrnoException).code ?? bad.message;
      }
      socket.destroy();
      res({ cert, error });
    });
    socket.once('error', rej);
    socket.setTimeout(5000, () => socket.destroy(new Error('no TLS handshake within 5 s')));
  });
}
