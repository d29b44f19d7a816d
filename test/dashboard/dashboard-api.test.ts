// The HTTP API's checks and answers (lib/dashboard api.ts and the api-* views) without Node-RED:
// the key, every refusal of the body, the rate limit, the wait for the scan with its timeout and
// its interruption, the answer and the latest results.
import { strict as assert } from 'node:assert';
import { API_BODY_MAX_BYTES, API_DEFAULT_LISTEN_S, API_RATE_LIMIT, API_RATE_WINDOW_MS, apiKeysFrom, checkApiKey, checkScanRequest, rateCheck, sameSecret, scanFailureAnswer, VIEWS } from '../../lib/dashboard';
import { out, testContext } from './context';
import { generateCa } from '../../lab/certs';

const KEY = 'k'.repeat(24);
const OTHER = 'o'.repeat(20);

/** What the "http in" node hands over for POST /api/scan: the raw body, req and res. */
function post(body: unknown, extra: Record<string, unknown> = {}) {
  return { payload: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), req: { body: 'raw', headers: {} }, res: { id: 'res' }, apiKeyId: 'key0', ...extra };
}

describe('HTTP API: the key', () => {
  it('reads MQTTSEC_API_KEY as comma-separated keys', () => {
    assert.deepEqual(apiKeysFrom(` ${KEY} ,, ${OTHER},`), [KEY, OTHER]);
    assert.deepEqual(apiKeysFrom(undefined), []);
    assert.deepEqual(apiKeysFrom('   '), []);
  });

  it('compares secrets by value only', () => {
    assert.equal(sameSecret(KEY, `${KEY}`), true);
    assert.equal(sameSecret(KEY, `${KEY}x`), false);
    assert.equal(sameSecret(KEY, KEY.slice(1)), false);
    assert.equal(sameSecret('', ''), true);
  });

  it('503 without a key or with one shorter than 16 characters; 401 for a missing, wrong or oversized key; the key id otherwise', () => {
    for (const keys of [[], ['short-key'], [KEY, 'short-key']]) {
      const r = checkApiKey(keys, KEY);
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.equal(r.status, 503);
        assert.equal(r.body.error, 'api_key_not_configured');
        assert.match(String(r.body.message), /MQTTSEC_API_KEY/);
      }
    }
    for (const given of [undefined, '', KEY.toUpperCase(), `${KEY}0`, KEY.slice(0, -1), ['array'], 'k'.repeat(1025)]) {
      const r = checkApiKey([KEY, OTHER], given);
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.equal(r.status, 401);
        assert.deepEqual(r.body, { error: 'unauthorized', message: 'Missing or wrong X-API-KEY header.' });
        assert.equal(r.headers['WWW-Authenticate'], 'ApiKey header="X-API-KEY"');
      }
    }
    assert.deepEqual(checkApiKey([KEY, OTHER], OTHER), { ok: true, keyId: 'key1' });
  });

  it('the api-key view routes by endpoint, drops the key from the request and stores nothing', () => {
    const ctx = testContext({ MQTTSEC_API_KEY: `${KEY},${OTHER}` });
    const request = (path: string, key?: string) => ({ req: { headers: key ? { 'x-api-key': key } : {}, route: { path } }, res: {} });
    // The scan history's routes come out last, so a flow wired for four outputs keeps its wiring.
    const routes: Array<[string, number]> = [['/api/scan', 0], ['/api/results', 1], ['/api/reports/:file', 2], ['/api/scans', 4], ['/api/scans/:id', 4]];
    for (const [path, output] of routes) {
      const msg = request(path, OTHER);
      const o = ctx.run('api-key', msg)!;
      assert.equal(o.length, 5);
      assert.deepEqual(o.map((m) => m !== null), [0, 1, 2, 3, 4].map((i) => i === output), path);
      assert.equal(out(o, output).apiKeyId, 'key1');
      assert.equal('x-api-key' in msg.req.headers, false);
    }
    const refused = ctx.run('api-key', request('/api/scan', 'wrong-key-wrong-key'))!;
    assert.equal(out(refused, 3).statusCode, 401);
    assert.equal(ctx.store.size, 0, 'the key check writes nothing to the flow context');
    assert.equal(out(testContext({ MQTTSEC_API_KEY: '' }).run('api-key', request('/api/results', KEY)), 3).statusCode, 503);
  });
});

describe('HTTP API: the POST /api/scan body', () => {
  it('accepts the seed API\'s body; ports default to the lab ports, listen_duration to 5 s', () => {
    const ok = checkScanRequest(Buffer.from(JSON.stringify({ target: ' 127.0.0.1 ', ports: [1883, 8883], creds: { user: 'student', pass: 'pw' }, listen_duration: 0.5, write_test: true, send_credentials_plaintext: true })), '1');
    assert.deepEqual(ok, { ok: true, request: { target: '127.0.0.1', ports: '1883,8883', listen_duration: 0.5, write_test: true, try_defaults: false }, credentials: { username: 'student', password: 'pw' }, sendCredentialsPlaintext: true, ca: '', sites: null, warnings: [] });
    const defaults = checkScanRequest('{"target":"127.0.0.1"}', '18931,18932');
    assert.deepEqual(defaults, { ok: true, request: { target: '127.0.0.1', ports: '18931,18932', listen_duration: 5, write_test: false, try_defaults: false }, credentials: null, sendCredentialsPlaintext: false, ca: '', sites: null, warnings: [] });
    const spaced = checkScanRequest('{"target":"127.0.0.1","ports":"1883, 8000 - 8010","creds":{"user":"u"}}', '');
    assert.ok(spaced.ok);
    if (spaced.ok) {
      assert.equal(spaced.request.ports, '1883,8000-8010');
      assert.deepEqual(spaced.credentials, { username: 'u', password: '' });
    }
  });

  it('413 beyond 10 kB; 400 invalid_json; 400 invalid_request for a non-object', () => {
    const big = checkScanRequest(Buffer.alloc(API_BODY_MAX_BYTES + 1, 0x20), '');
    assert.ok(!big.ok && big.status === 413 && big.body.error === 'payload_too_large');
    assert.match(String(!big.ok && big.body.message), /10241 bytes; at most 10240/);
    for (const body of ['{bad', '', '{"target": "127.0.0.1",}']) {
      const r = checkScanRequest(Buffer.from(body), '');
      assert.ok(!r.ok && r.status === 400 && r.body.error === 'invalid_json', body);
      assert.match(String(!r.ok && r.body.message), /^The body is not valid JSON: /);
    }
    for (const body of ['[1,2]', 'null', '7']) {
      const r = checkScanRequest(Buffer.from(body), '');
      assert.ok(!r.ok && r.status === 400 && r.body.error === 'invalid_request', body);
    }
  });

  it('400 invalid_field naming the field and quoting the bad part', () => {
    const cases: Array<[object, string, RegExp]> = [
      [{}, 'target', /^target: must be a string .*got undefined$/],
      [{ target: ['127.0.0.1'] }, 'target', /got an array$/],
      [{ target: '  ' }, 'target', /^target: is empty/],
      [{ target: `127.0.0.1,${'a'.repeat(300)}` }, 'target', /^target: "127\.0\.0\.1,a{50}…" is longer than 256 characters$/],
      [{ target: '127.0.0.1; rm -rf /' }, 'target', /^target: "127\.0\.0\.1;": character ";" is not allowed/],
      [{ target: '127.0.0.1', ports: 'http' }, 'ports', /^ports: "http": expected a port 1-65535, a range such as "8000-8010" or a preset \(mqtt, mqtt-ws, mqtt-all\)/],
      [{ target: '127.0.0.1', ports: '9000-8000' }, 'ports', /"9000-8000"/],
      [{ target: '127.0.0.1', ports: [0] }, 'ports', /^ports: an array must hold 1 to 64 port numbers/],
      [{ target: '127.0.0.1', ports: Array.from({ length: 65 }, (_, i) => i + 1) }, 'ports', /1 to 64/],
      [{ target: '127.0.0.1', ports: true }, 'ports', /got boolean$/],
      [{ target: '127.0.0.1', creds: 'student:secret' }, 'creds', /^creds: an object/],
      [{ target: '127.0.0.1', creds: { pass: 'x' } }, 'creds.user', /^creds\.user:/],
      [{ target: '127.0.0.1', creds: { user: 'u', pass: 5 } }, 'creds.pass', /^creds\.pass:/],
      [{ target: '127.0.0.1', listen_duration: 61 }, 'listen_duration', /0 to 60/],
      [{ target: '127.0.0.1', listen_duration: '5' }, 'listen_duration', /0 to 60/],
      [{ target: '127.0.0.1', write_test: 'yes' }, 'write_test', /true or false/],
      [{ target: '127.0.0.1', send_credentials_plaintext: null }, 'send_credentials_plaintext', /true or false/],
      [{ target: '127.0.0.1', capture_all_topics: 'yes' }, 'capture_all_topics', /^capture_all_topics: true or false/],
      [{ target: '127.0.0.1', try_defaults: 'yes' }, 'try_defaults', /^try_defaults: true or false/],
    ];
    for (const [body, field, message] of cases) {
      const r = checkScanRequest(Buffer.from(JSON.stringify(body)), '1883');
      assert.ok(!r.ok, JSON.stringify(body));
      if (!r.ok) {
        assert.equal(r.status, 400);
        assert.equal(r.body.error, 'invalid_field');
        assert.equal(r.body.field, field, JSON.stringify(body));
        assert.match(String(r.body.message), message);
      }
    }
  });
});

describe('HTTP API: the earlier scanner\'s fields and unknown ones (issue 18)', () => {
  const check = (body: unknown) => checkScanRequest(Buffer.from(JSON.stringify(body)), '1883');
  it('capture_all_topics is the listen setting when listen_duration is not given', () => {
    const cases: Array<[unknown, number, string[]]> = [
      [{ target: '127.0.0.1', capture_all_topics: true }, API_DEFAULT_LISTEN_S, []],
      [{ target: '127.0.0.1', capture_all_topics: false }, 0, []],
      [{ target: '127.0.0.1', capture_all_topics: false, listen_duration: 4 }, 4, ['capture_all_topics: ignored, listen_duration is given']],
      [{ target: '127.0.0.1' }, API_DEFAULT_LISTEN_S, []],
    ];
    for (const [body, listen, warnings] of cases) {
      const r = check(body);
      assert.ok(r.ok, JSON.stringify(body));
      if (r.ok) assert.deepEqual([r.request.listen_duration, r.warnings], [listen, warnings], JSON.stringify(body));
    }
  });

  it('ca: a CA (PEM) the scan\'s TLS connections also trust; anything else is 400 naming ca', () => {
    const ca = generateCa({ commonName: 'Other site CA', keyBits: 2048 }).certPem;
    const ok = checkScanRequest(JSON.stringify({ target: '127.0.0.1', ca }), '1883');
    assert.ok(ok.ok);
    if (ok.ok) {
      assert.equal(ok.ca, ca.trim());
      assert.equal('ca' in ok.request, false, 'the request echoed in answers does not repeat the PEM');
    }
    const bad = checkScanRequest(JSON.stringify({ target: '127.0.0.1', ca: 'not a certificate' }), '1883');
    assert.ok(!bad.ok);
    if (!bad.ok) {
      assert.equal(bad.status, 400);
      assert.equal(bad.body.field, 'ca');
      assert.match(String(bad.body.message), /^ca: expected a PEM certificate/);
    }
    // The API view hands it to the target expander as msg.tlsCa.
    const ctx = testContext({ MQTTSEC_API_KEY: 'k'.repeat(20) });
    const scan = out(ctx.run('api-scan', { payload: JSON.stringify({ target: '127.0.0.1', ca }), apiKeyId: 'key0', req: { body: null }, res: {} }), 0);
    assert.equal(scan.tlsCa, ca.trim());
    assert.equal(scan.scanSource, 'api');
  });

  it('an unknown field is named in a warning and ignored, not a 400', () => {
    const r = check({ target: '127.0.0.1', listen_time: 5, scan_type: 'full' });
    assert.ok(r.ok);
    if (r.ok) {
      assert.deepEqual(r.warnings, [
        '"listen_time": unknown field, ignored; the fields are target, ports, creds, listen_duration, write_test, send_credentials_plaintext, try_defaults, ca, sites',
        '"scan_type": unknown field, ignored; the fields are target, ports, creds, listen_duration, write_test, send_credentials_plaintext, try_defaults, ca, sites',
      ]);
      assert.equal(r.request.listen_duration, API_DEFAULT_LISTEN_S);
    }
    const many = check(Object.fromEntries([['target', '127.0.0.1'], ...Array.from({ length: 20 }, (_, i) => [`f${i}`, i])]));
    assert.ok(many.ok && many.warnings.length === 9 && many.warnings[8] === '12 more unknown fields ignored');
  });
});

describe('HTTP API: rate limit, waiting, answers', () => {
  it('the rate limit: 10 in a sliding minute, then the seconds to wait', () => {
    const t = 1_000_000;
    const entries = Array.from({ length: API_RATE_LIMIT }, (_, i) => ({ at: t + i * 1000, scanId: `s${i}` }));
    assert.equal(rateCheck(entries.slice(0, 9), t + 9000).allowed, true);
    const full = rateCheck(entries, t + 10_000);
    assert.deepEqual([full.allowed, full.retryAfter], [false, 50]);
    const slid = rateCheck(entries, t + API_RATE_WINDOW_MS);
    assert.deepEqual([slid.allowed, slid.recent.length], [true, 9], 'the first fell out of the window');
    assert.equal(rateCheck(entries, t + API_RATE_WINDOW_MS - 1).retryAfter, 1);
    assert.deepEqual(rateCheck('junk', t), { allowed: true, recent: [], retryAfter: 0 });
  });

  it('api-scan starts the scan with the login in msg.credentials only, counts it, and clears the raw body', () => {
    const ctx = testContext({ MQTTSEC_LAB_PORTS: '18931,18932' });
    const msg = post({ target: '127.0.0.1', creds: { user: 'student', pass: 'pw-123' }, listen_duration: 3, send_credentials_plaintext: true });
    const o = ctx.run('api-scan', msg)!;
    const scan = out(o, 0);
    assert.equal(o[1], null);
    assert.equal(scan.scanId, '0123456789abc001');
    assert.equal(scan.topic, 'scan/0123456789abc001');
    assert.deepEqual(scan.payload, { targets: '127.0.0.1', ports: '18931,18932' });
    assert.deepEqual(scan.sniff, { listen: 3, writeTest: false });
    assert.deepEqual(scan.apiRequest, { target: '127.0.0.1', ports: '18931,18932', listen_duration: 3, write_test: false, try_defaults: false });
    assert.deepEqual(scan.credentials, { username: 'student', password: 'pw-123' });
    assert.equal(scan.sendCredentialsPlaintext, true);
    assert.equal(msg.req.body, null, 'the raw body is kept nowhere');
    assert.deepEqual(ctx.store.get('rate'), { key0: [{ at: ctx.now(), scanId: scan.scanId }] });
    assert.deepEqual(ctx.store.get('pending'), { [scan.scanId]: ctx.now() });
    assert.ok(!JSON.stringify([...ctx.store.values()]).includes('pw-123'));
    const bad = ctx.run('api-scan', post({ target: '127.0.0.1', ports: 'http' }))!;
    assert.equal(bad[0], null);
    assert.deepEqual([out(bad, 1).statusCode, out(bad, 1).payload.field], [400, 'ports']);
  });

  it('the 11th scan within a minute gets 429 with Retry-After; refused bodies never count', () => {
    const ctx = testContext();
    for (let i = 0; i < 3; i++) ctx.run('api-scan', post('{bad'));
    for (let i = 0; i < API_RATE_LIMIT; i++) {
      assert.ok(out(ctx.run('api-scan', post({ target: '127.0.0.1', listen_duration: 0 })), 0).scanId, `scan ${i + 1}`);
      ctx.advance(1000);
    }
    const o = ctx.run('api-scan', post({ target: '127.0.0.1', creds: { user: 'u', pass: 'p' } }))!;
    const limited = out(o, 1);
    assert.equal(limited.statusCode, 429);
    assert.deepEqual(limited.payload, { error: 'rate_limited', message: 'At most 10 scans a minute per API key.', retry_after: 50 });
    assert.equal(limited.headers['Retry-After'], '50');
    assert.equal('credentials' in limited, false);
    assert.ok(out(ctx.run('api-scan', post({ target: '127.0.0.1' }, { apiKeyId: 'key1' })), 0).scanId, 'another key has its own limit');
  });

  it('a request still waiting after the timeout gets 504 (the scan goes on); answered ones get nothing more', () => {
    const ctx = testContext({ MQTTSEC_API_SCAN_TIMEOUT: '2' });
    const slow = out(ctx.run('api-scan', post({ target: '127.0.0.1', listen_duration: 30 })), 0);
    const quick = out(ctx.run('api-scan', post({ target: '127.0.0.1' })), 0);
    const answered = ctx.run('api-answer', { scanId: quick.scanId, res: quick.res, apiRequest: quick.apiRequest, payload: { files: { json: '/r/q.json' } }, report: { json: '{"results":[{"host":"127.0.0.1"}],"summary":{"brokers":1}}' } })!;
    assert.equal(out(answered, 0).statusCode, 200);
    ctx.advance(1999);
    assert.deepEqual(ctx.sent, []);
    ctx.advance(1);
    assert.equal(ctx.sent.length, 1, 'only the slow one times out');
    const [none, timeout] = ctx.sent[0] as Array<Record<string, any>>;
    assert.equal(none, null);
    assert.equal(timeout.statusCode, 504);
    assert.equal(timeout.res, slow.res);
    assert.deepEqual(timeout.payload, { error: 'scan_timeout', scanId: slow.scanId, message: 'The scan did not finish in 2 s; it goes on, and GET /api/results shows it when done.' });
    assert.deepEqual(ctx.store.get('pending'), {});
    // The slow scan finishes later: kept as the latest, but its request was answered already.
    assert.equal(ctx.run('api-answer', { scanId: slow.scanId, res: slow.res, payload: {}, report: { json: '{"results":[]}' } }), null);
    assert.equal((ctx.store.get('latest') as { scanId: string }).scanId, slow.scanId);
  });

  it('close() answers every request still waiting 503 interrupted, straight through its response', () => {
    const ctx = testContext();
    const a = out(ctx.run('api-scan', post({ target: '127.0.0.1' }, { res: { id: 'a' } })), 0);
    const b = out(ctx.run('api-scan', post({ target: '127.0.0.1' }, { res: { id: 'b' } })), 0);
    ctx.run('api-answer', { scanId: b.scanId, res: b.res, payload: {}, report: {} });
    VIEWS['api-scan'].close(ctx);
    assert.deepEqual(ctx.responded, [{ res: { id: 'a' }, status: 503, headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }, body: { scanId: a.scanId, error: 'interrupted', message: 'the flows were redeployed during the scan' } }]);
    assert.deepEqual(ctx.store.get('pending'), {});
    assert.equal(ctx.memory.get('waiting') instanceof Map && (ctx.memory.get('waiting') as Map<string, unknown>).size, 0);
  });

  it('api-answer keeps the latest results and the newest 50 report files, and answers with links to them', () => {
    const ctx = testContext();
    const s = out(ctx.run('api-scan', post({ target: '127.0.0.1', ports: '1883' })), 0);
    const report = JSON.stringify({ summary: { brokers: 1, openBrokers: 1 }, results: [{ host: '127.0.0.1', port: 1883 }] });
    const o = ctx.run('api-answer', { scanId: s.scanId, res: s.res, apiRequest: s.apiRequest, payload: { files: { pdf: '/r/a.pdf', csv: '/r/a.csv', json: '/r/a.json' } }, report: { json: report } })!;
    const answer = out(o, 0);
    assert.equal('report' in answer, false);
    assert.equal(answer.statusCode, 200);
    assert.deepEqual(answer.payload, {
      scanId: s.scanId, timestamp: '2026-11-30T10:00:00.000Z', count: 1, request: { target: '127.0.0.1', ports: '1883', listen_duration: 5, write_test: false, try_defaults: false },
      summary: { brokers: 1, openBrokers: 1 }, results: [{ host: '127.0.0.1', port: 1883 }],
      reports: { pdf: `/api/reports/${s.scanId}.pdf`, csv: `/api/reports/${s.scanId}.csv`, json: `/api/reports/${s.scanId}.json` },
    });
    const latest = out(ctx.run('api-results', { req: {}, res: {} }), 0);
    const { reports: links, ...withoutLinks } = answer.payload;
    assert.ok(links);
    assert.deepEqual(latest.payload, withoutLinks, 'GET /api/results: the same scan, without the links');
    assert.equal(latest.payload.count, 1);
    for (let i = 0; i < 60; i++) {
      ctx.advance(10);
      ctx.run('api-answer', { scanId: `scan-${i}`, payload: { files: { json: `/r/${i}.json` } }, report: {} });
    }
    const kept = Object.keys(ctx.store.get('reports') as object);
    assert.equal(kept.length, 50);
    assert.ok(kept.includes('scan-59') && !kept.includes('scan-9') && kept.includes('scan-10'));
    assert.equal(ctx.run('api-answer', { payload: {} }), null, 'no scan id: nothing to record');
  });

  it('GET /api/results before any scan: scanId null, no results', () => {
    assert.deepEqual(out(testContext().run('api-results', { req: {}, res: {} }), 0).payload, { scanId: null, timestamp: null, count: 0, summary: null, results: [] });
  });

  it('a scan node failing: 400 naming the field when the target expander refused it (not counted), else 500', () => {
    const expander = { message: 'TargetError: "8.8.8.8": a public address; allowPublic is off', source: { type: 'mqttsec-target-expander' } };
    assert.deepEqual(scanFailureAnswer(expander, 'id').body, { error: 'invalid_field', field: 'target', message: 'target: "8.8.8.8": a public address; allowPublic is off' });
    assert.equal(scanFailureAnswer({ message: '"http": port must be 1-65535', source: { type: 'mqttsec-target-expander' } }, 'id').body.field, 'ports');
    const other = scanFailureAnswer({ message: 'Error: EACCES', source: { type: 'mqttsec-report-writer' } }, 'id');
    assert.deepEqual([other.status, other.body.message, other.refused], [500, 'The scan failed: EACCES', false]);

    const ctx = testContext();
    const s = out(ctx.run('api-scan', post({ target: '8.8.8.8' })), 0);
    const failed = ctx.run('api-failed', { scanId: s.scanId, res: s.res, error: expander, report: { json: '{}' } })!;
    assert.equal(out(failed, 0).statusCode, 400);
    assert.equal('report' in out(failed, 0), false);
    assert.deepEqual(ctx.store.get('rate'), { key0: [] }, 'the refused scan no longer counts');
    assert.equal(ctx.run('api-failed', { scanId: s.scanId, res: s.res, error: expander }), null, 'answered once');
    assert.equal(ctx.run('api-failed', { scanId: 'not-an-api-scan', res: {}, error: expander }), null);
  });
});
