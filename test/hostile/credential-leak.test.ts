// The scanner must never be the leak: rogue and careless brokers that record every CONNECT are
// scanned with a real login, through the CLI and through the probe node, and the password may
// reach only the brokers the credential rule allows (lib/credentials/policy.ts):
//   - never one that accepts a made-up login, or that gives it no answer;
//   - over plain TCP, or TLS the scanner does not trust, only with the explicit opt-in;
//   - over TLS whose certificate chains to the given CA and names the host, without any opt-in.
// The brokers are real aedes brokers whose authenticate hook records what it receives (see
// test/support/recording-broker.ts); the plain-port finding is checked on real mosquitto.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer as createNetServer } from 'node:net';
import { join, resolve } from 'node:path';
import helper from 'node-red-node-test-helper';
import { generateCa, generateServerCert, type CertPair } from '../../lab/certs';
import { runScan } from '../../lib/pipeline';
import type { ScanResult } from '../../lib/types';
import { startRecordingBroker, type RecordingBroker } from '../support/recording-broker';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto';
import { requireTool } from '../support/tools';
import { collect, load, NODES, type FlowNode } from '../nodes/node-red';

const CLI = resolve(__dirname, '../../dist/cli/index.js');
const USER = 'scanner';
const PASSWORD = 'the-real-password-9f3k2';

type Expect = { sent: boolean; outcome: string; withheld?: string };

interface Rogue {
  name: string;
  tls?: 'untrusted' | 'trusted' | 'wrong-name';
  /** MQTT over WebSockets (ws, or wss with tls) instead of TCP/TLS. */
  websocket?: boolean;
  decide: Parameters<typeof startRecordingBroker>[0]['decide'];
  /** Without and with --send-credentials-plaintext. */
  expect: [Expect, Expect];
}

const rightOnly = (u: string | undefined, p: string | undefined) => (u === USER && p === PASSWORD ? 'accept' : 'refuse');

const ROGUES: Rogue[] = [
  {
    name: 'accepts every login (plain TCP)',
    decide: () => 'accept',
    expect: [
      { sent: false, outcome: 'not_tested', withheld: 'accepts_any_login' },
      { sent: false, outcome: 'not_tested', withheld: 'accepts_any_login' },
    ],
  },
  {
    name: 'refuses anonymous, accepts every login (TLS the scanner trusts)',
    tls: 'trusted',
    decide: (u) => (u === undefined ? 'refuse' : 'accept'),
    expect: [
      { sent: false, outcome: 'not_tested', withheld: 'accepts_any_login' },
      { sent: false, outcome: 'not_tested', withheld: 'accepts_any_login' },
    ],
  },
  {
    name: 'never answers a login it does not know (plain TCP)',
    decide: (u, p) => (u === undefined ? 'refuse' : rightOnly(u, p) === 'accept' ? 'accept' : 'silent'),
    expect: [
      { sent: false, outcome: 'not_tested', withheld: 'random_login_unanswered' },
      { sent: false, outcome: 'not_tested', withheld: 'random_login_unanswered' },
    ],
  },
  {
    name: 'accepts only the right password (plain TCP)',
    decide: rightOnly,
    expect: [
      { sent: false, outcome: 'not_tested', withheld: 'plaintext_transport' },
      { sent: true, outcome: 'accepted' },
    ],
  },
  {
    name: 'accepts only the right password (TLS, self-signed certificate)',
    tls: 'untrusted',
    decide: rightOnly,
    expect: [
      { sent: false, outcome: 'not_tested', withheld: 'untrusted_certificate' },
      { sent: true, outcome: 'accepted' },
    ],
  },
  {
    name: 'accepts only the right password (TLS, the given CA, but another host name)',
    tls: 'wrong-name',
    decide: rightOnly,
    expect: [
      { sent: false, outcome: 'not_tested', withheld: 'untrusted_certificate' },
      { sent: true, outcome: 'accepted' },
    ],
  },
  {
    name: 'accepts only the right password (TLS chaining to the given CA)',
    tls: 'trusted',
    decide: rightOnly,
    expect: [
      { sent: true, outcome: 'accepted' },
      { sent: true, outcome: 'accepted' },
    ],
  },
  // The same rule over WebSockets: ws is plain text, wss is TLS.
  {
    name: 'accepts every login (plain WebSocket)',
    websocket: true,
    decide: () => 'accept',
    expect: [
      { sent: false, outcome: 'not_tested', withheld: 'accepts_any_login' },
      { sent: false, outcome: 'not_tested', withheld: 'accepts_any_login' },
    ],
  },
  {
    name: 'accepts only the right password (plain WebSocket)',
    websocket: true,
    decide: rightOnly,
    expect: [
      { sent: false, outcome: 'not_tested', withheld: 'plaintext_transport' },
      { sent: true, outcome: 'accepted' },
    ],
  },
  {
    name: 'accepts only the right password (WebSocket over TLS, self-signed certificate)',
    websocket: true,
    tls: 'untrusted',
    decide: rightOnly,
    expect: [
      { sent: false, outcome: 'not_tested', withheld: 'untrusted_certificate' },
      { sent: true, outcome: 'accepted' },
    ],
  },
  {
    name: 'accepts only the right password (WebSocket over TLS chaining to the given CA)',
    websocket: true,
    tls: 'trusted',
    decide: rightOnly,
    expect: [
      { sent: true, outcome: 'accepted' },
      { sent: true, outcome: 'accepted' },
    ],
  },
];

function cliScan(port: number, caPath: string, optIn: boolean): Promise<ScanResult> {
  const args = [CLI, '--target', '127.0.0.1', '--ports', String(port), '--user', USER, '--password-env', 'ROGUE_PASS', '--tls-ca', caPath, '--timeout', '800', '--listen', '0.3', '--json'];
  if (optIn) args.push('--send-credentials-plaintext');
  return new Promise((res, rej) => {
    // Asynchronous: the brokers run in this process and must keep answering.
    execFile(process.execPath, args, { env: { ...process.env, ROGUE_PASS: PASSWORD }, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) return rej(new Error(`${err.message}\n${stderr}`));
      const results = JSON.parse(stdout) as ScanResult[];
      if (results.length !== 1) return rej(new Error(`expected one result: ${stdout.slice(0, 300)}`));
      res(results[0]);
    });
  });
}

describe('hostile: rogue brokers that record every CONNECT never get the password unless the rule allows it', function () {
  this.timeout(120_000);
  let ca: CertPair;
  let dir: string;
  let caPath: string;
  const brokers: RecordingBroker[] = [];
  const started = new Map<string, RecordingBroker>();

  before(async () => {
    ca = generateCa({ commonName: 'rogue-test CA' });
    dir = mkdtempSync(join(tmpdir(), 'mqttsec-rogue-'));
    caPath = join(dir, 'ca.crt');
    writeFileSync(caPath, ca.certPem);
    const certs = {
      trusted: generateServerCert(ca, { hosts: ['127.0.0.1', 'localhost'] }),
      'wrong-name': generateServerCert(ca, { hosts: ['mqtt.example'] }),
      untrusted: generateServerCert(null, { hosts: ['127.0.0.1', 'localhost'], selfSigned: true }),
    };
    for (const rogue of ROGUES) {
      const cert = rogue.tls ? certs[rogue.tls] : null;
      const b = await startRecordingBroker({ decide: rogue.decide, websocket: rogue.websocket, ...(cert ? { tls: { cert: cert.certPem, key: cert.keyPem } } : {}) });
      brokers.push(b);
      started.set(rogue.name, b);
    }
  });
  after(async () => {
    await Promise.all(brokers.map((b) => b.stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const check = (rogue: Rogue, r: ScanResult, broker: RecordingBroker, expect: Expect, where: string) => {
    const seen = broker.passwords().includes(PASSWORD);
    assert.equal(seen, expect.sent, `${where}: the broker ${seen ? 'saw' : 'did not see'} the password (${rogue.name})`);
    const given = r.auth.givenCredentials;
    assert.equal(given.outcome, expect.outcome, `${where}: ${JSON.stringify(given)}`);
    assert.equal(given.withheld, expect.withheld, `${where}: ${JSON.stringify(given)}`);
    if (expect.withheld) assert.match(given.detail ?? '', /^login not sent: /, 'the result says why');
    assert.ok(!JSON.stringify(r).includes(PASSWORD), `${where}: the password is in the result`);
    if (rogue.websocket) assert.equal(r.transport, rogue.tls ? 'wss' : 'ws', `${where}: found over WebSockets`);
  };

  for (const rogue of ROGUES) {
    for (const optIn of [false, true]) {
      it(`CLI${optIn ? ' --send-credentials-plaintext' : ''}: ${rogue.name}`, async () => {
        const broker = started.get(rogue.name)!;
        broker.connects.length = 0;
        const r = await cliScan(broker.port, caPath, optIn);
        check(rogue, r, broker, rogue.expect[optIn ? 1 : 0], 'CLI');
        assert.ok(broker.connects.length > 0, 'the broker was really probed');
      });
    }
  }

  describe('through the probe and sniffer nodes in Node-RED', () => {
    const ALL = [NODES.credentials, NODES.probe, NODES.catch, NODES.tls, require('../../dist/nodes/mqttsec-topic-sniffer.js')];
    afterEach(() => helper.unload());

    const nodeFlow = (optIn: boolean): FlowNode[] => [
      { id: 'flow1', type: 'tab', label: 'rogues' },
      { id: 'creds', type: 'mqttsec-credentials', name: 'login', z: 'flow1' },
      { id: 'ca', type: 'tls-config', z: 'flow1', cert: '', key: '', ca: caPath, verifyservercert: false },
      {
        id: 'probe', type: 'mqttsec-broker-probe', z: 'flow1', auth: 'creds', tls: 'ca', timeout: 800, concurrency: 8, probeConcurrency: 4,
        transport: 'auto', versions: 'both', tlsPorts: '', emitUnreachable: false, sendCredentialsPlaintext: optIn, wires: [['sniffer']],
      },
      { id: 'sniffer', type: 'mqttsec-topic-sniffer', z: 'flow1', auth: 'creds', tls: 'ca', listen: 0.3, wires: [['out']] },
      { id: 'out', type: 'helper', z: 'flow1' },
    ];

    for (const rogue of ROGUES) {
      for (const optIn of [false, true]) {
        it(`probe node${optIn ? ' (opt-in ticked)' : ''}: ${rogue.name}`, async () => {
          const broker = started.get(rogue.name)!;
          broker.connects.length = 0;
          await load(ALL, nodeFlow(optIn), { creds: { username: USER, password: PASSWORD } });
          const done = collect('out', (m) => m.some((x) => x.complete === true), 20_000);
          helper.getNode('probe').receive({ payload: `127.0.0.1:${broker.port}` });
          const msgs = await done;
          const r = msgs.find((m) => !m.complete)!.payload as ScanResult;
          check(rogue, r, broker, rogue.expect[optIn ? 1 : 0], 'probe node');
          assert.ok(!JSON.stringify(msgs).includes(PASSWORD), 'the password is in a message');
        });
      }
    }

    it('a message\'s own opt-in (msg.sendCredentialsPlaintext, as the dashboard sends it) reaches the sniffer too', async () => {
      const rogue = ROGUES.find((x) => x.name === 'accepts only the right password (plain TCP)')!;
      const broker = started.get(rogue.name)!;
      broker.connects.length = 0;
      await load(ALL, nodeFlow(false), {});
      const done = collect('out', (m) => m.some((x) => x.complete === true), 20_000);
      helper.getNode('probe').receive({ payload: `127.0.0.1:${broker.port}`, credentials: { username: USER, password: PASSWORD }, sendCredentialsPlaintext: true });
      const msgs = await done;
      const r = msgs.find((m) => !m.complete)!.payload as ScanResult;
      assert.equal(r.auth.givenCredentials.outcome, 'accepted');
      assert.equal(r.topics?.as, 'given credentials', 'the sniffer logged in with the scan\'s opt-in');
      assert.ok(!JSON.stringify(msgs).includes(PASSWORD));
      assert.ok(!('sendCredentialsPlaintext' in msgs[0]), 'the opt-in was taken out of the message');
    });
  });
});

describe('hostile: a plain port that demands a login is reported without our password being sent', function () {
  this.timeout(60_000);
  let mosquitto: MosquittoBroker;
  before(async function () {
    requireTool(this, 'mosquitto');
    // A configuration people write: a password file on the plain 1883 listener.
    mosquitto = await startMosquitto({ conf: 'listener 1883\nallow_anonymous false\npassword_file passwords\n' });
  });
  after(async () => mosquitto?.stop());

  const finding = (r: ScanResult) => r.findings?.find((f) => f.id === 'PLAINTEXT_CREDENTIALS');

  it('without a login: PLAINTEXT_CREDENTIALS from what the broker demands', async () => {
    const [r] = (await runScan({ targets: '127.0.0.1', ports: [mosquitto.port], timeoutMs: 1500, listenMs: 200 })).results;
    assert.equal(r.auth.anonymous.outcome, 'rejected');
    assert.equal(r.auth.wrongCredentials.outcome, 'rejected');
    assert.ok(finding(r), JSON.stringify(r.findings));
    assert.match(finding(r)!.evidence, /anonymous clients are refused/);
  });

  it('with a login: withheld on the plain port, and the finding is the same', async () => {
    const user = Object.keys(mosquitto.users)[0];
    const [r] = (await runScan({ targets: '127.0.0.1', ports: [mosquitto.port], timeoutMs: 1500, listenMs: 200, credentials: { username: user, password: mosquitto.users[user] } })).results;
    assert.equal(r.auth.givenCredentials.outcome, 'not_tested');
    assert.equal(r.auth.givenCredentials.withheld, 'plaintext_transport');
    assert.ok(finding(r));
    assert.doesNotMatch(finding(r)!.evidence, /our login/);
  });
});

describe('hostile: brokers that try to outwit the made-up login, echo the login back, or carry it in a topic', function () {
  this.timeout(120_000);
  const brokers: RecordingBroker[] = [];
  let ca: CertPair;
  let caPem: string;
  before(() => {
    ca = generateCa({ commonName: 'rogue-test CA 2' });
    caPem = ca.certPem;
  });
  after(async () => Promise.all(brokers.map((b) => b.stop())));
  const start = async (o: Parameters<typeof startRecordingBroker>[0]) => {
    const b = await startRecordingBroker(o);
    brokers.push(b);
    return b;
  };
  const scanWith = (port: number, extra: Partial<Parameters<typeof runScan>[0]> = {}) =>
    runScan({ targets: '127.0.0.1', ports: [port], timeoutMs: 800, listenMs: 200, credentials: { username: USER, password: PASSWORD }, ...extra }).then((o) => o.results[0]);

  it('the made-up login has nothing to recognise it by (no fixed prefix or length)', async () => {
    const names = new Set<string>();
    const b = await start({ decide: (u) => { if (u !== undefined) names.add(u); return 'refuse'; } });
    for (let i = 0; i < 5; i++) await scanWith(b.port, { credentials: null, sniff: false, inspectTls: false });
    assert.equal(names.size, 5, 'a new made-up name every time');
    for (const n of names) assert.match(n, /^[a-z][a-z0-9]{5,11}$/, `${n} looks like an ordinary user name`);
    assert.ok(![...names].some((n) => n.startsWith('mqttsec')), 'no name our brokers could single out');
  });

  it('a broker that refuses only the first login with a username, then takes any: the verdict says it accepts any login', async () => {
    // With the opt-in the login does go (the rule cannot know the future); the result must still
    // not call this broker one that checks passwords.
    let seen = 0;
    const b = await start({ decide: (u) => (u === undefined ? 'refuse' : ++seen === 1 ? 'refuse' : 'accept') });
    const r = await scanWith(b.port, { sendCredentialsPlaintext: true, sniff: false, inspectTls: false });
    assert.equal(r.auth.givenCredentials.outcome, 'accepted');
    assert.equal(r.auth.wrongCredentials.outcome, 'accepted', JSON.stringify(r.auth));
    assert.ok(r.findings?.some((f) => f.id === 'WRONG_CREDENTIALS_ACCEPTED'), JSON.stringify(r.findings?.map((f) => f.id)));
  });

  it('--try-defaults sends no default pair to a broker that gave the made-up login no answer', async () => {
    const b = await start({ decide: (u, p) => (u === undefined ? 'refuse' : u === 'admin' && p === 'admin' ? 'accept' : 'silent') });
    const r = await scanWith(b.port, { credentials: null, tryDefaults: true, sniff: false, inspectTls: false });
    assert.equal(r.auth.wrongCredentials.outcome, 'error');
    assert.equal(r.auth.defaultCredentials, undefined);
    assert.ok(!b.connects.some((c) => c.username === 'admin'), JSON.stringify(b.connects.map((c) => c.username)));
  });

  it('a topic and a payload that carry the password: the result shows [withheld: password] (CLI engine and the sniffer node)', async () => {
    const cert = generateServerCert(ca, { hosts: ['127.0.0.1'] });
    const b = await start({ decide: (u, p) => (u === USER && p === PASSWORD ? 'accept' : 'refuse'), tls: { cert: cert.certPem, key: cert.keyPem } });
    const mqtt = await import('mqtt');
    const pub = await mqtt.connectAsync(`mqtts://127.0.0.1:${b.port}`, { username: USER, password: PASSWORD, ca: caPem, reconnectPeriod: 0 }, false);
    await pub.publishAsync(`leak/${PASSWORD}`, `the pw is ${PASSWORD}`, { retain: true, qos: 1 });
    await pub.endAsync();
    const r = await scanWith(b.port, { tls: { ca: caPem }, listenMs: 500 });
    assert.equal(r.auth.givenCredentials.outcome, 'accepted');
    assert.ok(r.topics?.items.some((i) => i.topic === 'leak/[withheld: password]'), JSON.stringify(r.topics?.items));
    assert.ok(!JSON.stringify(r).includes(PASSWORD), 'the password is in the result');
  });

  it('a broker that echoes our login back in its answer: the evidence shows [withheld: password] (a fake broker: no real one echoes)', async () => {
    // FAKE BROKER, on purpose: it answers CONNACKs like a broker that checks passwords, and answers
    // the real login with bytes that repeat the password, which no real broker does.
    const server = createNetServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', (b: Buffer) => {
        let i = 1;
        while (b[i] & 0x80) i++;
        const level = b[i + 7];
        const hasUser = (b[i + 8] & 0x80) !== 0;
        if (b.includes(Buffer.from(PASSWORD))) {
          socket.end(Buffer.concat([Buffer.from(`PW=${PASSWORD} `), b]));
        } else if (level === 5) {
          socket.end(Buffer.from([0x20, 0x03, 0x00, hasUser ? 0x86 : 0x87, 0x00]));
        } else {
          socket.end(Buffer.from([0x20, 0x02, 0x00, hasUser ? 4 : 5]));
        }
      });
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
    try {
      const port = (server.address() as { port: number }).port;
      const r = await scanWith(port, { sendCredentialsPlaintext: true, sniff: false, inspectTls: false });
      assert.equal(r.auth.wrongCredentials.outcome, 'rejected');
      assert.ok(JSON.stringify(r).includes('[withheld: password]'), JSON.stringify(r.evidence));
      assert.ok(!JSON.stringify(r).includes(PASSWORD), 'the echoed password is in the result');
    } finally {
      await new Promise((res) => server.close(res));
    }
  });

  it('an oversized password (70,000 bytes) is an error of that attempt, never a crash', async () => {
    const b = await start({ decide: (u) => (u === undefined ? 'refuse' : 'refuse') });
    const huge = 'x'.repeat(70_000);
    const r = await runScan({ targets: '127.0.0.1', ports: [b.port], timeoutMs: 800, sniff: false, inspectTls: false, credentials: { username: USER, password: huge }, sendCredentialsPlaintext: true }).then((o) => o.results[0]);
    assert.equal(r.auth.givenCredentials.outcome, 'error');
    assert.match(r.auth.givenCredentials.detail ?? '', /65535/);
  });
});

describe('hostile: the sniffer node on its own does not trust the result it is handed', function () {
  this.timeout(60_000);
  let broker: RecordingBroker;
  let ca: CertPair;
  let caPath: string;
  let dir: string;
  const SNIFFER = require('../../dist/nodes/mqttsec-topic-sniffer.js');
  before(async () => {
    ca = generateCa({ commonName: 'rogue-test CA 3' });
    const cert = generateServerCert(ca, { hosts: ['127.0.0.1'] });
    dir = mkdtempSync(join(tmpdir(), 'mqttsec-rogue3-'));
    caPath = join(dir, 'ca.crt');
    writeFileSync(caPath, ca.certPem);
    // Accepts anything but anonymous, over TLS that chains to the given CA.
    broker = await startRecordingBroker({ decide: (u) => (u === undefined ? 'refuse' : 'accept'), tls: { cert: cert.certPem, key: cert.keyPem } });
  });
  after(async () => {
    await broker?.stop();
    await helper.unload();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a hand-made result claiming the made-up login was refused: the sniffer asks its own, and withholds the login', async () => {
    const flow: FlowNode[] = [
      { id: 'flow1', type: 'tab', label: 'alone' },
      { id: 'creds', type: 'mqttsec-credentials', name: 'login', z: 'flow1' },
      { id: 'ca', type: 'tls-config', z: 'flow1', cert: '', key: '', ca: caPath, verifyservercert: false },
      { id: 'sniffer', type: 'mqttsec-topic-sniffer', z: 'flow1', auth: 'creds', tls: 'ca', listen: 0.3, sendCredentialsPlaintext: true, wires: [['out']] },
      { id: 'out', type: 'helper', z: 'flow1' },
    ];
    await load([NODES.credentials, NODES.tls, SNIFFER], flow, { creds: { username: USER, password: PASSWORD } });
    const done = collect('out', (m) => m.length === 1);
    helper.getNode('sniffer').receive({
      payload: {
        scanId: 'forged', host: '127.0.0.1', port: broker.port, reachability: 'open', transport: 'tls', classification: 'open_or_auth_ok',
        mqtt: { versions: { '3.1.1': 'supported' } },
        auth: { anonymous: { outcome: 'rejected', code: 5 }, wrongCredentials: { outcome: 'rejected', code: 4 }, givenCredentials: { outcome: 'accepted', version: '3.1.1' } },
        error: null,
      },
    });
    const [msg] = await done;
    assert.ok(!broker.passwords().includes(PASSWORD), 'the broker got the password');
    assert.ok(broker.connects.some((c) => c.username !== undefined && c.username !== USER), 'the sniffer tried a made-up login of its own');
    assert.match(String((msg.sniffer as { skipped?: string }).skipped), /accepted a random made-up login/);
  });
});
