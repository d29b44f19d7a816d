// Lab controls (issue 18) on `npm start`'s lab brokers, built as the launcher builds them (two aedes
// brokers, the lab's secrets, the simulated ESP32), with the scanner's verdicts on real connections
// before and after each change: "fix, rescan, see it resolved" without Mosquitto. Also: bad
// changes name their bad part, the settings survive a restart, no password leaves, and the
// dashboard view node reaches the lab through Node-RED's global context.
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { startAedes, type AedesBroker } from '../../lab/aedes-broker';
import { labSecrets, type LabSecrets } from '../../lab/lab-secrets';
import { createLabControls, LabControlError, SHIPPED_SETTINGS, type LabControlsHandle } from '../../lab/lab-controls';
import { startSimulatedEsp32, type Simulator } from '../../lab/simulated-esp32';
import { runScan } from '../../lib/pipeline';
import { compareScans } from '../../lib/risk';
import { LAB_CONTROLS_KEY, LAB_CONTROLS_UNAVAILABLE, type LabControls } from '../../lib/dashboard';
import type { ScanResult } from '../../lib/types';
import { STATUS_OFFLINE, STATUS_ONLINE, statusTopic } from '../../lib/sniff/lab-device';
import { closeClients, tryConnect } from '../support/mqtt-clients';
import { collect, helper, load, type FlowNode } from '../nodes/node-red';

const ROOT = resolve(__dirname, '../..');
const STATUS_TOPIC = statusTopic('secure', 'esp32-sim01');
const ids = (r: ScanResult) => (r.findings ?? []).map((f) => f.id).sort();

interface Lab {
  insecure: AedesBroker;
  secure: AedesBroker;
  sim: Simulator;
  controls: LabControlsHandle;
  stop(): Promise<void>;
}

/** The lab as lab/start.ts builds it, on free loopback ports, with `dir` as its user directory. */
async function startLabBrokers(dir: string, secrets: LabSecrets, file = join(dir, 'lab-controls.json')): Promise<Lab> {
  const insecure = await startAedes({ websocket: { path: '/mqtt' } });
  const secure = await startAedes({
    tls: { cert: readFileSync(secrets.certs.cert), key: readFileSync(secrets.certs.key) },
    authenticate: (u, p) => (secrets.users as Record<string, string>)[u] === p,
    websocket: { path: '/mqtt' },
  });
  let sim: Simulator | undefined;
  const controls = createLabControls({
    insecure,
    secure,
    addresses: { insecure: [`mqtt://127.0.0.1:${insecure.port}`, `ws://127.0.0.1:${insecure.websocketPort}/mqtt`], secure: [`mqtts://127.0.0.1:${secure.port}`, `wss://127.0.0.1:${secure.websocketPort}/mqtt`] },
    users: secrets.users,
    certs: secrets.certs,
    esp32InsecureLogin: (login) => sim?.setInsecureLogin(login),
    file,
  });
  sim = startSimulatedEsp32({
    insecure: { host: '127.0.0.1', port: insecure.port, login: controls.esp32InsecureLogin() },
    secure: { host: '127.0.0.1', port: secure.port, ca: readFileSync(secrets.certs.ca), username: 'esp32', password: secrets.users.esp32 },
    intervalMs: 500,
  });
  const s = sim;
  return { insecure, secure, sim: s, controls, stop: async () => { await s.stop(); await Promise.all([insecure.stop(), secure.stop()]); } };
}

describe('Lab controls on the lab brokers (lab/lab-controls.ts), with the scanner before and after', function () {
  this.timeout(120_000);
  let dir: string;
  let secrets: LabSecrets;
  let lab: Lab;
  const clients: MqttClient[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mqttsec-labctl-'));
    secrets = labSecrets(dir);
    lab = await startLabBrokers(dir, secrets);
  });
  afterEach(async () => {
    await closeClients();
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
  });
  after(async () => {
    await lab?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One scan of one lab port, as the dashboard's form would run it (lab CA trusted; the student's login when asked). */
  async function scan(port: number, opts: { login?: boolean } = {}): Promise<ScanResult> {
    const { results } = await runScan({
      targets: '127.0.0.1', ports: [port], timeoutMs: 2000, listenMs: 1500,
      tls: { ca: readFileSync(secrets.certs.ca) },
      ...(opts.login ? { credentials: { username: 'student', password: secrets.users.student } } : {}),
    });
    assert.equal(results.length, 1);
    const r = results[0];
    assert.ok(!JSON.stringify(r).includes(secrets.users.student), 'the password is in no result');
    return r;
  }

  /** What changed from `before` to `after` (lib/risk compareScans, as the risk classifier node does). */
  function changes(before: ScanResult, after: ScanResult) {
    return compareScans([before], [after]).results[0].changes;
  }

  /** The next message on `topic` with a payload `ok` accepts, read as `client`; rejects after 15 s. */
  function nextMessage(client: MqttClient, topic: string, ok: (payload: string) => boolean = () => true): Promise<string> {
    return new Promise((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`no message on ${topic} in 15 s`)), 15_000);
      const on = (t: string, p: Buffer) => {
        if (t !== topic || !ok(p.toString())) return;
        clearTimeout(timer);
        client.off('message', on);
        res(p.toString());
      };
      client.on('message', on);
      void client.subscribeAsync(topic);
    });
  }

  async function student(url: string, extra: mqtt.IClientOptions = {}): Promise<MqttClient> {
    const c = await mqtt.connectAsync(url, { username: 'student', password: secrets.users.student, reconnectPeriod: 0, connectTimeout: 5000, ...extra }, false);
    clients.push(c);
    return c;
  }

  it('says how each broker is set, with the mosquitto.conf lines, and never a password', () => {
    const state = lab.controls.state();
    assert.deepEqual(state.brokers.map((b) => [b.id, b.controls.map((c) => `${c.id}=${String(c.value)}`)]), [
      ['insecure', ['requireLogin=false', 'acl=false']],
      ['secure', ['certificate=trusted', 'acl=false']],
    ]);
    assert.deepEqual(state.brokers[0].addresses, [`mqtt://127.0.0.1:${lab.insecure.port}`, `ws://127.0.0.1:${lab.insecure.websocketPort}/mqtt`]);
    const conf = (b: number, c: number) => state.brokers[b].controls[c].mosquittoConf;
    assert.deepEqual(conf(0, 0), ['allow_anonymous true', '# no password_file: any login is accepted']);
    assert.deepEqual(conf(1, 0).slice(1), ['cafile /etc/mosquitto/certs/ca.crt', 'certfile /etc/mosquitto/certs/server.crt', 'keyfile /etc/mosquitto/certs/server.key']);
    assert.deepEqual(state.brokers[1].controls[0].options!.map((o) => o.value), ['trusted', 'expired', 'self-signed', 'wrong-host']);
    const text = JSON.stringify(state);
    for (const pw of Object.values(secrets.users)) assert.ok(!text.includes(pw));
    assert.equal(lab.controls.summary(), 'as shipped');
    assert.equal(existsSync(join(dir, 'lab-controls.json')), false, 'nothing written until the class changes something');
  });

  it('insecure broker, "Require a login": open_or_auth_ok (CRITICAL) -> not_authorized over TCP and ws; ANONYMOUS_ACCESS and WRONG_CREDENTIALS_ACCEPTED resolved; the ESP32 goes on with its login', async () => {
    const before = await scan(lab.insecure.port);
    assert.deepEqual([before.classification, before.risk?.level], ['open_or_auth_ok', 'CRITICAL']);
    assert.ok(ids(before).includes('ANONYMOUS_ACCESS') && ids(before).includes('WRONG_CREDENTIALS_ACCEPTED'), ids(before).join());

    const done = lab.controls.apply({ broker: 'insecure', control: 'requireLogin', value: true });
    assert.equal(done.text, 'Insecure lab broker: Require a login is now on.');
    assert.ok(done.closed >= 1, 'the ESP32 was connected: its connection was closed');
    assert.deepEqual(done.state.brokers[0].controls[0].mosquittoConf.slice(0, 2), ['allow_anonymous false', 'password_file /etc/mosquitto/passwd']);
    assert.deepEqual(lab.controls.esp32InsecureLogin()?.username, 'esp32');

    const after = await scan(lab.insecure.port);
    assert.deepEqual([after.classification, after.auth.anonymous.outcome, after.auth.anonymous.code, after.auth.wrongCredentials.outcome], ['not_authorized', 'rejected', 5, 'rejected']);
    const c = changes(before, after);
    assert.ok(c.resolved.includes('ANONYMOUS_ACCESS') && c.resolved.includes('WRONG_CREDENTIALS_ACCEPTED'), JSON.stringify(c));
    assert.ok(c.new.includes('PLAINTEXT_CREDENTIALS'), 'now every client sends a password in clear text');
    assert.equal((await scan(lab.insecure.websocketPort!)).classification, 'not_authorized', 'the ws listener too');
    // The simulated ESP32 reconnected with the esp32 login: the student reads its PIR readings.
    const reader = await student(`mqtt://127.0.0.1:${lab.insecure.port}`);
    assert.match(await nextMessage(reader, 'lab/insecure/esp32-sim01/pir'), /motion/);

    assert.equal(lab.controls.apply({ broker: 'insecure', control: 'requireLogin', value: false }).text, 'Insecure lab broker: Require a login is now off.');
    assert.equal((await scan(lab.insecure.port)).classification, 'open_or_auth_ok');
    assert.equal(lab.controls.esp32InsecureLogin(), null, 'anonymous again, as the firmware connects');
  });

  it('insecure broker, "Topic ACL": anonymous listeners read nothing (RETAINED_DATA_EXPOSED, SYS_TOPICS_EXPOSED resolved); anonymous access itself stays; the ESP32 publishes with its login', async () => {
    const before = await scan(lab.insecure.port);
    assert.ok(ids(before).includes('RETAINED_DATA_EXPOSED') && ids(before).includes('SYS_TOPICS_EXPOSED'), ids(before).join());
    lab.controls.apply({ broker: 'insecure', control: 'acl', value: true });
    const after = await scan(lab.insecure.port);
    assert.equal(after.topics?.count, 0, JSON.stringify(after.topics?.items.map((i) => i.topic)));
    const c = changes(before, after);
    assert.ok(c.resolved.includes('RETAINED_DATA_EXPOSED') && c.resolved.includes('SYS_TOPICS_EXPOSED'), JSON.stringify(c));
    assert.ok(ids(after).includes('ANONYMOUS_ACCESS'), 'an ACL does not keep strangers out');
    const reader = await student(`mqtt://127.0.0.1:${lab.insecure.port}`);
    assert.match(await nextMessage(reader, 'lab/insecure/esp32-sim01/pir'), /motion/);
    lab.controls.apply({ broker: 'insecure', control: 'acl', value: false });
    assert.ok(ids(await scan(lab.insecure.port)).includes('RETAINED_DATA_EXPOSED'));
  });

  it('secure broker: an expired, a self-signed and a wrong-host certificate bring their TLS findings, the ESP32 refuses them; the lab CA\'s and the ACL bring it to LOW with no findings', async () => {
    const shipped = await scan(lab.secure.port, { login: true });
    assert.deepEqual([shipped.classification, shipped.auth.givenCredentials.outcome, shipped.risk?.level, ids(shipped)], ['open_or_auth_ok', 'accepted', 'LOW', ['SYS_TOPICS_EXPOSED']]);

    lab.controls.apply({ broker: 'secure', control: 'certificate', value: 'expired' });
    // The ESP32's connection was closed and its will says so; it cannot come back, as it verifies
    // the certificate (it comes back below, once the lab CA's certificate is served again).
    const status = await student(`mqtts://127.0.0.1:${lab.secure.port}`, { rejectUnauthorized: false });
    await nextMessage(status, STATUS_TOPIC, (p) => p === STATUS_OFFLINE);
    const expired = await scan(lab.secure.port, { login: true });
    assert.ok(ids(expired).includes('TLS_EXPIRED'), ids(expired).join());
    assert.equal(expired.auth.givenCredentials.withheld, 'untrusted_certificate', 'the scanner withholds the login from a certificate it cannot trust');
    assert.ok(changes(shipped, expired).new.includes('TLS_EXPIRED'));
    assert.notEqual(expired.risk?.level, 'LOW');
    assert.equal((await tryConnect(`mqtts://127.0.0.1:${lab.secure.port}`, { ca: readFileSync(secrets.certs.ca), username: 'esp32', password: secrets.users.esp32 })).client, undefined, 'a client that verifies is refused, as the ESP32 is');

    lab.controls.apply({ broker: 'secure', control: 'certificate', value: 'self-signed' });
    assert.ok(ids(await scan(lab.secure.port, { login: true })).includes('TLS_SELF_SIGNED'));
    lab.controls.apply({ broker: 'secure', control: 'certificate', value: 'wrong-host' });
    const wrongHost = await scan(lab.secure.websocketPort!, { login: true });
    assert.deepEqual([wrongHost.transport, ids(wrongHost).includes('TLS_HOSTNAME_MISMATCH')], ['wss', true], 'the wss listener serves it too');

    lab.controls.apply({ broker: 'secure', control: 'certificate', value: 'trusted' });
    lab.controls.apply({ broker: 'secure', control: 'acl', value: true });
    const back = await student(`mqtts://127.0.0.1:${lab.secure.port}`, { ca: readFileSync(secrets.certs.ca) });
    await nextMessage(back, STATUS_TOPIC, (p) => p === STATUS_ONLINE); // the ESP32 is back: the certificate verifies again
    const fixed = await scan(lab.secure.port, { login: true });
    assert.deepEqual([fixed.classification, fixed.risk?.level, fixed.risk?.score, ids(fixed)], ['open_or_auth_ok', 'LOW', 100, []]);
    assert.ok(fixed.topics!.items.some((i) => i.topic === 'lab/secure/esp32-sim01/dht'), 'the student still reads the sensor data');
    const fromExpired = changes(expired, fixed);
    assert.ok(fromExpired.resolved.includes('TLS_EXPIRED'), JSON.stringify(fromExpired));
    assert.equal(fromExpired.riskAfter, 'LOW');
    assert.deepEqual(changes(shipped, fixed).resolved, ['SYS_TOPICS_EXPOSED']);
    assert.equal(lab.controls.summary(), 'secure broker has the ACL');
  });

  it('a bad change names the bad part and changes nothing; the same value again closes no connection', () => {
    const before = JSON.stringify(lab.controls.settings());
    const bad: Array<[unknown, RegExp]> = [
      [{ broker: 'mosquitto', control: 'acl', value: true }, /^broker "mosquitto": not a lab broker \(insecure, secure\)$/],
      [{ broker: 'secure', control: 'requireLogin', value: true }, /^control "requireLogin": not a control of the secure broker \(certificate, acl\)$/],
      [{ broker: 'insecure', control: 'acl', value: 'on' }, /^acl: must be true or false$/],
      [{ broker: 'secure', control: 'certificate', value: '../../etc/passwd' }, /^certificate: must be one of trusted, expired, self-signed, wrong-host$/],
      [null, /^broker "undefined": not a lab broker/],
    ];
    for (const [change, message] of bad) {
      assert.throws(() => lab.controls.apply(change as never), (e: Error) => e instanceof LabControlError && message.test(e.message), JSON.stringify(change));
    }
    assert.equal(JSON.stringify(lab.controls.settings()), before);
    const same = lab.controls.apply({ broker: 'secure', control: 'acl', value: true });
    assert.deepEqual([same.closed, same.text], [0, 'Secure lab broker: Topic ACL is already on.']);
  });

  it('the settings survive a restart (lab-controls.json, no secret in it); an unreadable file is reported and the lab starts as shipped', async () => {
    lab.controls.apply({ broker: 'insecure', control: 'requireLogin', value: true });
    const file = join(dir, 'lab-controls.json');
    const saved = readFileSync(file, 'utf8');
    for (const pw of Object.values(secrets.users)) assert.ok(!saved.includes(pw));
    assert.deepEqual(JSON.parse(saved), { insecure: { requireLogin: true, acl: false }, secure: { certificate: 'trusted', acl: true } });
    const again = await startLabBrokers(dir, secrets);
    try {
      assert.deepEqual(again.controls.settings(), JSON.parse(saved));
      assert.equal((await tryConnect(`mqtt://127.0.0.1:${again.insecure.port}`)).code, 5, 'the new broker requires the login at once');
      assert.equal(again.controls.summary(), 'insecure broker requires a login; secure broker has the ACL');
    } finally {
      await again.stop();
    }
    writeFileSync(file, '{"insecure": {"requireLogin": "yes"}}');
    const broken = await startLabBrokers(dir, secrets);
    try {
      assert.match(broken.controls.fileProblem ?? '', /lab-controls\.json: not the settings of Lab controls; the lab starts as shipped$/);
      assert.deepEqual(broken.controls.settings(), SHIPPED_SETTINGS);
      assert.equal((await tryConnect(`mqtt://127.0.0.1:${broken.insecure.port}`)).client?.connected, true);
    } finally {
      await broken.stop();
    }
    unlinkSync(file);
    // A settings file that cannot be written: the change holds, and it says it will not outlive a restart.
    const unwritable = await startLabBrokers(dir, secrets, join(dir, 'no-such-folder', 'lab-controls.json'));
    try {
      const done = unwritable.controls.apply({ broker: 'insecure', control: 'acl', value: true });
      assert.equal(done.text, 'Insecure lab broker: Topic ACL is now on. (Not kept for the next start: ENOENT.)');
      assert.equal(unwritable.controls.settings().insecure.acl, true);
    } finally {
      await unwritable.stop();
    }
  });

  it('a user directory from before Lab controls: its certificates are made anew with the variants (a new lab CA), its passwords are kept', () => {
    const old = mkdtempSync(join(tmpdir(), 'mqttsec-oldlab-'));
    try {
      const first = labSecrets(old);
      for (const v of Object.values(first.certs.variants)) {
        unlinkSync(v.cert);
        unlinkSync(v.key);
      }
      const caBefore = readFileSync(first.certs.ca, 'utf8');
      const again = labSecrets(old);
      assert.deepEqual([again.fresh, again.certsRenewed], [false, true]);
      assert.deepEqual(again.users, first.users, 'what the students typed in still works');
      assert.notEqual(readFileSync(again.certs.ca, 'utf8'), caBefore);
      for (const v of Object.values(again.certs.variants)) assert.ok(existsSync(v.cert) && existsSync(v.key));
      assert.deepEqual([labSecrets(old).certsRenewed, labSecrets(old).fresh], [false, false], 'once');
    } finally {
      rmSync(old, { recursive: true, force: true });
    }
  });

  describe('the dashboard view node reaches the lab through the global context', () => {
    const VIEW = require('../../dist/nodes/mqttsec-dashboard-view.js');
    const flow = JSON.parse(readFileSync(join(ROOT, 'flows/lab-dashboard.json'), 'utf8')) as FlowNode[];
    const node = { ...flow.find((n) => n.view === 'lab-controls')!, z: 't1', wires: [['out']] };
    const nodes: FlowNode[] = [{ id: 't1', type: 'tab' }, node, { id: 'out', type: 'helper', z: 't1' }];
    afterEach(async () => {
      await helper.unload();
      helper.settings({});
    });

    it("in `npm start`'s lab (settings.functionGlobalContext): the panel shows the lab and a change reaches the brokers", async () => {
      const handed: LabControls = { state: () => lab.controls.state(), apply: (c) => lab.controls.apply(c) };
      helper.settings({ functionGlobalContext: { [LAB_CONTROLS_KEY]: handed } });
      await load([VIEW], nodes);
      const got = collect('out', (m) => m.length === 2);
      helper.getNode(node.id).receive({ topic: 'show' } as never);
      helper.getNode(node.id).receive({ payload: { broker: 'insecure', control: 'requireLogin', value: false } } as never);
      const [shown, changed] = (await got).map((m) => m.payload as Record<string, any>);
      assert.equal(shown.available, true);
      assert.equal(shown.brokers[0].controls[0].value, true);
      assert.equal(changed.brokers[0].controls[0].value, false);
      assert.match(changed.notice.text, /^Insecure lab broker: Require a login is now off\./);
      assert.equal((await tryConnect(`mqtt://127.0.0.1:${lab.insecure.port}`)).client?.connected, true, 'anonymous clients get in again');
    });

    it('in any other Node-RED: the panel says lab controls work only in `npm start`\'s lab', async () => {
      await load([VIEW], nodes);
      const got = collect('out', (m) => m.length === 1);
      helper.getNode(node.id).receive({ payload: { broker: 'insecure', control: 'requireLogin', value: true } } as never);
      const [panel] = (await got).map((m) => m.payload as Record<string, unknown>);
      assert.deepEqual([panel.available, panel.unavailable], [false, LAB_CONTROLS_UNAVAILABLE]);
      assert.equal(lab.controls.settings().insecure.requireLogin, false);
    });
  });
});
