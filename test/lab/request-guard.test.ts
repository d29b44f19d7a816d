// lab/request-guard.ts as pure functions: which Host, Origin, URL and body size the lab accepts,
// and the launcher's decision to listen beyond loopback only with passwords.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BODY_CAP_BYTES, DEPLOY_BODY_CAP_BYTES, basicCredentials, bodyCapFor, checkRequest, guardPolicy, normalisePath } from '../../lab/request-guard';
import { LabConfigError } from '../../lab/lab-config';
import { classPasswordChecker, exposureDecision, labWebAuth, webAuthFile } from '../../lab/web-auth';
import { nodeRedSettings } from '../../lab/node-red-settings';
import { labConfig } from '../../lab/lab-config';

const LOOP = guardPolicy('127.0.0.1', 1880);
const req = (url: string, headers: Record<string, string> = {}, method = 'GET') => ({ method, url, headers: { host: '127.0.0.1:1880', ...headers } });

describe('request guard (lab/request-guard.ts)', () => {
  it('a loopback lab answers to 127.0.0.1, localhost and [::1] on its port only', () => {
    for (const host of ['127.0.0.1:1880', 'localhost:1880', 'LOCALHOST:1880', '[::1]:1880']) assert.equal(checkRequest(req('/', { host }), LOOP).ok, true, host);
    for (const host of ['evil.example:1880', 'evil.example', '127.0.0.1', '127.0.0.1:1881', 'localhost.evil.example:1880', '0.0.0.0:1880', '']) {
      const v = checkRequest(req('/flows', { host }), LOOP);
      assert.ok(!v.ok && v.status === 403 && v.error === 'forbidden_host', `${host}: ${JSON.stringify(v)}`);
    }
    const noHost = checkRequest({ method: 'GET', url: '/', headers: {} }, LOOP);
    assert.ok(!noHost.ok && noHost.status === 403);
  });

  it('refuses a foreign Origin on every route, allows the lab\'s own and none', () => {
    for (const path of ['/flows', '/flow', '/settings', '/api/scan', '/lab/reports/x.pdf', '/ui/', '/ui/socket.io/?EIO=4&transport=websocket', '/comms']) {
      for (const origin of ['http://evil.example', 'http://127.0.0.1:9999', 'https://127.0.0.1:1880', 'null', 'http://localhost:18800']) {
        const v = checkRequest(req(path, { origin }, 'POST'), LOOP);
        assert.ok(!v.ok && v.status === 403 && v.error === 'forbidden_origin', `${path} from ${origin}`);
      }
      for (const origin of ['http://127.0.0.1:1880', 'http://localhost:1880', 'http://[::1]:1880']) assert.equal(checkRequest(req(path, { origin }), LOOP).ok, true, `${path} from ${origin}`);
      assert.equal(checkRequest(req(path), LOOP).ok, true);
    }
  });

  it('refuses a browser sub-request from another site or port (no Origin sent), not a navigation', () => {
    const img = checkRequest(req('/lab/reports/x.pdf', { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'no-cors' }), LOOP);
    assert.ok(!img.ok && img.status === 403);
    assert.ok(!checkRequest(req('/flows', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors' }), LOOP).ok);
    assert.equal(checkRequest(req('/ui/', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' }), LOOP).ok, true);
    assert.equal(checkRequest(req('/flows', { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' }), LOOP).ok, true);
  });

  it('an absolute-form request target must name the lab too', () => {
    assert.equal(checkRequest(req('http://127.0.0.1:1880/api/scan'), LOOP).ok, true);
    const v = checkRequest(req('http://evil.example:1880/api/scan'), LOOP);
    assert.ok(!v.ok && v.status === 403);
  });

  it('a wildcard bind answers to the machine\'s addresses and name, a LAN bind to its own address', () => {
    const any = guardPolicy('0.0.0.0', 1880, { interfaceAddresses: ['127.0.0.1', '10.1.2.3', 'fe80::1%eth0'], hostNames: ['labpc'] });
    for (const host of ['10.1.2.3:1880', 'labpc:1880', '127.0.0.1:1880']) assert.equal(checkRequest(req('/', { host }), any).ok, true, host);
    for (const host of ['0.0.0.0:1880', 'evil.example:1880', '[fe80::1]:1880']) assert.equal(checkRequest(req('/', { host }), any).ok, false, host);
    const lan = guardPolicy('10.1.2.3', 1880);
    assert.equal(checkRequest(req('/', { host: '10.1.2.3:1880' }), lan).ok, true);
    assert.equal(checkRequest(req('/', { host: '127.0.0.1:1880' }), lan).ok, false, 'not bound to loopback');
    assert.throws(() => guardPolicy('127.0.0.1', 0), RangeError);
  });

  it('normalises a path before choosing its body cap: case, repeated slashes, absolute-form, escapes', () => {
    assert.equal(normalisePath('//API//scan/?x=1'), '/api/scan');
    assert.equal(normalisePath('http://127.0.0.1:1880//Flows'), '/flows');
    assert.equal(normalisePath('/%66lows'), '/flows');
    assert.equal(normalisePath('/'), '/');
    for (const bad of ['/api/reports/%E0%A4%A.json', '/%', '*', '127.0.0.1:1880', '']) assert.equal(normalisePath(bad), null, bad);
    assert.equal(bodyCapFor('POST', '/flows'), DEPLOY_BODY_CAP_BYTES);
    assert.equal(bodyCapFor('post', '/flow'), DEPLOY_BODY_CAP_BYTES);
    assert.equal(bodyCapFor('PUT', '/flow/abc123'), DEPLOY_BODY_CAP_BYTES);
    for (const [m, p] of [['POST', '/api/scan'], ['POST', '/flows/x'], ['PUT', '/flows'], ['POST', '/flow/abc'], ['POST', '/auth/token'], ['PATCH', '/flows/../api/scan']]) {
      assert.equal(bodyCapFor(m, normalisePath(p)!), BODY_CAP_BYTES, `${m} ${p}`);
    }
    for (const url of ['//api/scan', '/API/scan', 'http://127.0.0.1:1880/api/scan', '//FLOWS/../api/scan']) {
      const v = checkRequest(req(url, {}, 'POST'), LOOP);
      assert.ok(v.ok && v.bodyCap === BODY_CAP_BYTES, url);
    }
    const v = checkRequest(req('//FLOWS', {}, 'POST'), LOOP);
    assert.ok(v.ok && v.bodyCap === DEPLOY_BODY_CAP_BYTES);
  });

  it('413 for a Content-Length over the cap, 400 for a malformed path, both before anything reads the body', () => {
    const big = checkRequest(req('/API/scan', { 'content-length': String(BODY_CAP_BYTES + 1) }, 'POST'), LOOP);
    assert.ok(!big.ok && big.status === 413 && big.error === 'payload_too_large');
    assert.equal(checkRequest(req('/api/scan', { 'content-length': String(BODY_CAP_BYTES) }, 'POST'), LOOP).ok, true);
    assert.equal(checkRequest(req('/flows', { 'content-length': String(DEPLOY_BODY_CAP_BYTES) }, 'POST'), LOOP).ok, true);
    const bad = checkRequest(req('/api/reports/%E0%A4%A.json'), LOOP);
    assert.ok(!bad.ok && bad.status === 400 && bad.error === 'bad_request');
    assert.doesNotMatch(bad.message, /node_modules|\/work|at /);
  });

  it('with a class password, /ui, /lab and /api need it (HTTP Basic); the editor (adminAuth) does not', () => {
    const policy = guardPolicy('127.0.0.1', 1880, { classAuth: (u, p) => u === 'class' && p === 'pw' });
    const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
    for (const path of ['/ui', '/ui/', '/UI/socket.io/?EIO=4', '/lab/reports/x.pdf', '/api/scan', '//API/results']) {
      const v = checkRequest(req(path), policy);
      assert.ok(!v.ok && v.status === 401 && v.headers?.['WWW-Authenticate'], path);
      assert.equal(checkRequest(req(path, { authorization: basic('class', 'wrong') }), policy).ok, false);
      assert.equal(checkRequest(req(path, { authorization: basic('class', 'pw') }), policy).ok, true);
    }
    for (const path of ['/flows', '/', '/uix', '/apix']) assert.equal(checkRequest(req(path), policy).ok, true, path);
    assert.deepEqual(basicCredentials(basic('a', 'b:c')), { user: 'a', password: 'b:c' });
    assert.equal(basicCredentials('Bearer x'), null);
  });
});

describe('lab launcher: listening beyond loopback (lab/web-auth.ts)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'mqttsec-auth-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('loopback needs no passwords; anything else only with them, or it refuses naming MQTTSEC_BIND', () => {
    for (const bind of ['127.0.0.1', '127.0.0.2', '::1', 'localhost']) {
      assert.deepEqual(exposureDecision(bind, () => assert.fail('no auth on loopback')), { exposed: false });
    }
    for (const bind of ['0.0.0.0', '::', '10.1.2.3', 'labpc']) {
      assert.throws(
        () => exposureDecision(bind, () => { throw new Error('EACCES: permission denied'); }),
        (e: Error) => e instanceof LabConfigError && e.message.includes(`MQTTSEC_BIND=${bind}`) && /Refusing to start/.test(e.message) && /EACCES/.test(e.message),
      );
      const d = exposureDecision(bind, () => labWebAuth(dir));
      assert.equal(d.exposed, true);
    }
  });

  it('generates the teacher and class passwords once, keeps only bcrypt hashes (0600), and the editor gets adminAuth', () => {
    const first = labWebAuth(dir);
    assert.ok(first.fresh && first.fresh.teacher.length >= 24 && first.fresh.class.length >= 24);
    const file = readFileSync(webAuthFile(dir), 'utf8');
    assert.ok(!file.includes(first.fresh!.teacher) && !file.includes(first.fresh!.class), 'no plain password on disk');
    assert.equal(statSync(webAuthFile(dir)).mode & 0o777, 0o600);
    const again = labWebAuth(dir);
    assert.equal(again.fresh, null, 'shown once');
    assert.equal(again.teacherHash, first.teacherHash);
    const bcrypt = require('bcryptjs');
    assert.ok(bcrypt.compareSync(first.fresh!.teacher, again.teacherHash));
    const check = classPasswordChecker(again.classHash);
    assert.equal(check('class', first.fresh!.class), true);
    assert.equal(check('class', first.fresh!.class), true, 'cached');
    assert.equal(check('class', first.fresh!.teacher), false);
    assert.equal(check('teacher', first.fresh!.class), false);
    const s = nodeRedSettings(labConfig({}), 'x'.repeat(64), again.teacherHash) as { adminAuth: { type: string; users: Array<{ username: string; password: string; permissions: string }> } };
    assert.deepEqual(s.adminAuth, { type: 'credentials', users: [{ username: 'teacher', password: again.teacherHash, permissions: '*' }] });
    const plain = nodeRedSettings(labConfig({}), 'x'.repeat(64));
    assert.equal('adminAuth' in plain, false);
    assert.equal('httpAdminCors' in plain || 'httpNodeCors' in plain, false, 'no CORS settings');
  });
});
