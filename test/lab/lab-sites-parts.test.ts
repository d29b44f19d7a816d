// The parts of `npm run lab:sites` (lab/lab-sites.ts) that need no broker: its settings, the
// coordinator's broker's config rewritten from the shipped one, the coordinators switched off in a
// flows file, the secrets kept from run to run, and the launcher without Mosquitto (exit 1, the
// reason, nothing started). The whole lab against a real Mosquitto: sites-lab.test.ts.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { labConfig, LabConfigError } from '../../lab/lab-config';
import { findMosquitto, labSitesConfig, labSitesSecrets, sitesBrokerConf, sitesSetting, switchOffSitesNodes, switchOnSitesNodes, upgradeSitesPanel, LAB_SITES_LOGINS, type FlowsApi } from '../../lab/lab-sites';
import { freePorts } from '../support/ports';

const ROOT = resolve(__dirname, '../..');
const START = join(ROOT, 'dist/lab/start.js');

describe('npm run lab:sites: its parts (lab/lab-sites.ts)', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'mqttsec-sites-parts-'));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('settings: north is the lab\'s loopback address, south another loopback address; bad values name their variable', () => {
    const lab = labConfig({});
    assert.deepEqual(labSitesConfig(lab, {}), { port: 8886, northAddress: '127.0.0.1', southAddress: '127.0.0.2', southPort: 1884 });
    assert.equal(labSitesConfig(labConfig({ MQTTSEC_BIND: '0.0.0.0' }), {}).northAddress, '127.0.0.1');
    assert.equal(labSitesConfig(labConfig({ MQTTSEC_BIND: '127.0.0.5' }), {}).northAddress, '127.0.0.5');
    assert.equal(sitesSetting(labSitesConfig(lab, { LAB_SOUTH_ADDRESS: '127.0.9.9' })), 'north = 127.0.0.1\nsouth = 127.0.9.9');
    const bad: Array<[Record<string, string>, Record<string, string>, RegExp]> = [
      [{ MQTTSEC_BIND: 'lab.example.invalid' }, {}, /MQTTSEC_BIND=lab\.example\.invalid must be a loopback address/],
      [{}, { LAB_SOUTH_ADDRESS: '::1' }, /LAB_SOUTH_ADDRESS="::1": must be a loopback IPv4 address/],
      [{}, { LAB_SOUTH_ADDRESS: '127.0.0.1' }, /LAB_SOUTH_ADDRESS=127\.0\.0\.1: must differ from the lab's own address/],
      [{}, { LAB_SITES_PORT: '1883' }, /LAB_SITES_PORT=1883: the lab uses that port already/],
      [{}, { LAB_SOUTH_PORT: 'x' }, /LAB_SOUTH_PORT="x": must be a port number/],
      [{}, { LAB_SITES_PORT: '9999', LAB_SOUTH_PORT: '9999' }, /must be two different ports/],
    ];
    for (const [labEnv, env, message] of bad) {
      assert.throws(() => labSitesConfig(labConfig(labEnv), env), (e: Error) => e instanceof LabConfigError && message.test(e.message), JSON.stringify(env));
    }
  });

  it('the coordinator\'s broker\'s config: the shipped one with a loopback listener and every file in its folder; "user mosquitto" as root', () => {
    const shipped = readFileSync(join(ROOT, 'brokers/sites/mosquitto.conf'), 'utf8');
    const conf = sitesBrokerConf(shipped, '/x/sites-broker', 18886, 'mosquitto');
    const lines = conf.split('\n').filter((l) => l && !l.startsWith('#'));
    assert.equal(lines[0], 'user mosquitto');
    assert.ok(lines.includes('listener 18886 127.0.0.1'));
    for (const l of ['cafile /x/sites-broker/ca.crt', 'certfile /x/sites-broker/server.crt', 'keyfile /x/sites-broker/server.key',
      'password_file /x/sites-broker/passwords', 'acl_file /x/sites-broker/acl', 'persistence_location /x/sites-broker/data/', 'log_dest file /x/sites-broker/mosquitto.log',
      'allow_anonymous false', 'tls_version tlsv1.2', 'persistence true']) assert.ok(lines.includes(l), l);
    assert.equal(lines.filter((l) => /^listener /.test(l)).length, 1);
    assert.ok(!lines.some((l) => /^log_dest stdout/.test(l)), 'its log goes to its file only');
    assert.ok(!sitesBrokerConf(shipped, '/x', 1, null).includes('user '), 'not root: no user line');
  });

  it('secrets: a login per LAB_SITES_LOGINS, 0600, kept from run to run', () => {
    const dir = tempDir();
    const first = labSitesSecrets(dir);
    assert.deepEqual(Object.keys(first.logins), [...LAB_SITES_LOGINS]);
    for (const p of Object.values(first.logins)) assert.match(p, /^[A-Za-z0-9]{24}$/);
    assert.equal(statSync(join(dir, 'lab-secrets', 'sites', 'logins.json')).mode & 0o777, 0o600);
    assert.equal(statSync(first.certs.key).mode & 0o777, 0o600);
    const again = labSitesSecrets(dir);
    assert.deepEqual(again.logins, first.logins);
    assert.equal(readFileSync(again.certs.ca, 'utf8'), readFileSync(first.certs.ca, 'utf8'));
  });

  it('as root, the broker folder goes to "mosquitto" without following a link the mosquitto user left in it (no chown of a file outside it)', function () {
    // data/ (the persistence folder) is kept between runs and belongs to the user mosquitto, as
    // does every process running as that user (a system Mosquitto too): a link it leaves there
    // must not make the next start, as root, give that user the file or folder the link names.
    if (process.getuid?.() !== 0) this.skip(); // only root changes owners (and only then does the launcher)
    const userDir = tempDir();
    const outside = tempDir();
    const secretFile = join(outside, 'root-only.txt');
    writeFileSync(secretFile, 'root only\n', { mode: 0o600 });
    mkdirSync(join(outside, 'folder'));
    writeFileSync(join(outside, 'folder', 'inner.txt'), 'root only\n', { mode: 0o600 });
    // The built module: it copies the shipped ACL from the package's folder (dist/lab/../../brokers).
    const { writeSitesBrokerFiles } = require(join(ROOT, 'dist/lab/lab-sites.js')) as typeof import('../../lab/lab-sites');
    const config = labSitesConfig(labConfig({}), {});
    const secrets = labSitesSecrets(userDir);
    writeSitesBrokerFiles(userDir, secrets, config); // the first start: data/ is made and given away
    const data = join(userDir, 'sites-broker', 'data');
    const mosquittoUid = statSync(data).uid;
    assert.notEqual(mosquittoUid, 0, 'data/ was given to the user mosquitto');
    // What the user mosquitto could leave in its folder between two runs.
    symlinkSync(secretFile, join(data, 'file-link'));
    symlinkSync(join(outside, 'folder'), join(data, 'folder-link'));
    symlinkSync(secretFile, join(userDir, 'sites-broker', 'server.key.tmp'));
    writeSitesBrokerFiles(userDir, secrets, config);
    for (const f of [secretFile, join(outside, 'folder'), join(outside, 'folder', 'inner.txt')]) {
      assert.equal(statSync(f).uid, 0, `${f} still belongs to root`);
    }
    assert.equal(readFileSync(secretFile, 'utf8'), 'root only\n');
    assert.equal(statSync(join(userDir, 'sites-broker', 'server.key')).uid, mosquittoUid, 'the broker\'s own files are given to it');
    assert.ok(!lstatSync(join(userDir, 'sites-broker', 'server.key')).isSymbolicLink());
  });

  it('the coordinators: switched off in the flows file before Node-RED starts; switched on with the login in credentials (never in the flow)', async () => {
    const dir = tempDir();
    const file = join(dir, 'flows.json');
    const shipped = [...JSON.parse(readFileSync(join(ROOT, 'flows/lab-dashboard.json'), 'utf8')), ...JSON.parse(readFileSync(join(ROOT, 'flows/http-api.json'), 'utf8'))] as Array<Record<string, unknown>>;
    writeFileSync(file, JSON.stringify(shipped.map((n) => { const c = { ...n }; delete c.d; return c; })));
    assert.equal(switchOffSitesNodes(file), 2);
    const off = JSON.parse(readFileSync(file, 'utf8')) as Array<Record<string, unknown>>;
    assert.deepEqual(off.filter((n) => n.d === true).map((n) => n.id), ['lab-sites-coord', 'api-sites-coord']);
    assert.equal(switchOffSitesNodes(join(dir, 'none.json')), 0);
    let deployed: { flows: Array<Record<string, unknown>>; rev: string } | undefined;
    let type = '';
    // Node-RED's getFlows gives null until it has loaded the flows file, which RED.start() does not wait for.
    let asked = 0;
    const api: FlowsApi = {
      getFlows: async () => (++asked <= 2 ? null : { flows: off, rev: 'r1' }),
      setFlows: async (opts) => {
        deployed = opts.flows;
        type = opts.deploymentType;
      },
    };
    assert.equal(await switchOnSitesNodes(api, { username: 'coordinator', password: 'pw-0123456789' }), 2);
    assert.equal(type, 'nodes');
    assert.equal(deployed!.rev, 'r1');
    const byId = new Map(deployed!.flows.map((n) => [n.id, n]));
    for (const id of ['lab-sites-coord', 'api-sites-coord']) assert.equal(byId.get(id)!.d, undefined, id);
    for (const id of ['lab-sites-broker', 'api-sites-broker']) assert.deepEqual(byId.get(id)!.credentials, { username: 'coordinator', password: 'pw-0123456789' }, id);
    assert.equal(deployed!.flows.filter((n) => 'credentials' in n).length, 2, 'only the site broker nodes get the login');
    const never: FlowsApi = { getFlows: async () => null, setFlows: async () => assert.fail('no deploy without flows') };
    await assert.rejects(switchOnSitesNodes(never, { username: 'coordinator', password: 'pw-0123456789' }, 300), /had not loaded its flows within 0\.3 s/);
  });

  it('flows of before the button\'s own view (the panel wired to the events\' view): rewired as shipped; flows edited otherwise are left alone', () => {
    const dir = tempDir();
    const shippedFile = join(ROOT, 'flows', 'lab-dashboard.json');
    const shipped = JSON.parse(readFileSync(shippedFile, 'utf8')) as Array<Record<string, unknown>>;
    // The flows as they were: no lab-sites-scan, the panel into lab-sites-fn, which had the button's four outputs.
    const before = shipped.filter((n) => n.id !== 'lab-sites-scan').map((n) => {
      if (n.id === 'lab-sites') return { ...n, wires: [['lab-sites-fn']] };
      if (n.id === 'lab-sites-fn') return { ...n, outputs: 4, wires: [['lab-sites'], ['lab-sites-coord'], ['lab-progress-fn'], ['lab-results']] };
      return n;
    });
    const file = join(dir, 'flows.json');
    writeFileSync(file, JSON.stringify(before));
    assert.equal(upgradeSitesPanel(file, shippedFile), true);
    const byId = (flows: Array<Record<string, unknown>>) => Object.fromEntries(flows.map((n) => [n.id as string, n]));
    assert.deepEqual(byId(JSON.parse(readFileSync(file, 'utf8'))), byId(shipped), 'the shipped wiring');
    assert.equal(upgradeSitesPanel(file, shippedFile), false, 'once');
    const edited = before.map((n) => (n.id === 'lab-sites' ? { ...n, wires: [['lab-sites-fn', 'my-debug']] } : n));
    writeFileSync(file, JSON.stringify(edited));
    assert.equal(upgradeSitesPanel(file, shippedFile), false);
    assert.equal(readFileSync(file, 'utf8'), JSON.stringify(edited), 'left as it was');
  });

  it('without Mosquitto: npm run lab:sites says why, starts nothing and exits 1', async function () {
    this.timeout(30_000);
    assert.equal(findMosquitto({ MQTTSEC_MOSQUITTO: '/nonexistent/mosquitto' }), null);
    const dir = tempDir();
    const [ui, a, b, c, d] = await freePorts(5);
    const r = spawnSync(process.execPath, [START, '--sites'], {
      env: { ...process.env, MQTTSEC_MOSQUITTO: '/nonexistent/mosquitto', MQTTSEC_USERDIR: dir, MQTTSEC_UI_PORT: String(ui), LAB_INSECURE_PORT: String(a), LAB_SECURE_PORT: String(b), LAB_WS_PORT: String(c), LAB_WSS_PORT: String(d) },
      encoding: 'utf8', timeout: 20_000,
    });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /npm run lab:sites needs Mosquitto 2 \(apt-get install mosquitto\)/);
    assert.match(r.stderr, /Nothing was started/);
    assert.doesNotMatch(r.stdout + r.stderr, /Node-RED|lab is running/);
    const unknown = spawnSync(process.execPath, [START, '--site'], { env: { ...process.env, MQTTSEC_USERDIR: dir }, encoding: 'utf8', timeout: 20_000 });
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown option "--site"/);
  });
});
