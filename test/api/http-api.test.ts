// The HTTP API flow (flows/http-api.json) with real requests against the real launcher: the key,
// every documented error, the rate limit, a real scan of the embedded lab brokers and the reports.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/ports';
import { closedPort } from '../support/fixtures';
import { BAD_PORTS, BAD_TARGETS, BAD_TYPES } from '../support/bad-inputs';
import { apiKeyFromBanner, labUsers, startLab, stopLab, type LabProcess } from '../support/lab-process';

const ENDPOINTS: Array<[string, string]> = [['POST', '/api/scan'], ['GET', '/api/results'], ['GET', '/api/reports/0123456789abcdef.pdf']];

interface ApiResponse {
  status: number;
  headers: Headers;
  body: Record<string, any>;
  raw: Buffer;
}

async function call(lab: LabProcess, method: string, path: string, opts: { key?: string | null; body?: string | object; headers?: Record<string, string> } = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.key) headers['X-API-KEY'] = opts.key;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['Content-Type'] ??= 'application/json';
  }
  const res = await fetch(lab.url(path), { method, headers, body, signal: AbortSignal.timeout(90_000) });
  const raw = Buffer.from(await res.arrayBuffer());
  let parsed: Record<string, any> = {};
  if (/json/.test(res.headers.get('content-type') ?? '')) parsed = JSON.parse(raw.toString('utf8'));
  return { status: res.status, headers: res.headers, body: parsed, raw };
}

describe('HTTP API (flows/http-api.json) with a key', function () {
  this.timeout(120_000);
  const KEY = randomBytes(24).toString('hex');
  let lab: LabProcess | undefined;
  let password: string;
  let scan: ApiResponse;

  before(async () => {
    lab = await startLab({ env: { MQTTSEC_API_KEY: KEY } });
    password = labUsers(lab.userDir).student;
  });
  after(async () => {
    if (lab) await stopLab(lab);
  });

  it('401 without X-API-KEY or with a wrong one, on every endpoint', async () => {
    const wrong = [null, '', `${KEY.slice(0, -1)}x`, KEY.slice(0, -1), `${KEY}0`, KEY.toUpperCase(), 'x'.repeat(5000)];
    for (const [method, path] of ENDPOINTS) {
      for (const key of wrong) {
        const r = await call(lab!, method, path, { key, body: method === 'POST' ? { target: '127.0.0.1' } : undefined });
        assert.equal(r.status, 401, `${method} ${path} with ${key === null ? 'no key' : `key of ${key.length} chars`}`);
        assert.equal(r.body.error, 'unauthorized');
        assert.match(r.body.message, /X-API-KEY/);
      }
    }
  });

  it('400 invalid_json for a body that is not JSON', async () => {
    for (const body of ['{bad', '', 'target=127.0.0.1', '{"target": "127.0.0.1",}']) {
      const r = await call(lab!, 'POST', '/api/scan', { key: KEY, body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.error, 'invalid_json');
      assert.match(r.body.message, /not valid JSON/);
    }
    const arr = await call(lab!, 'POST', '/api/scan', { key: KEY, body: '[1,2]' });
    assert.equal(arr.status, 400);
    assert.equal(arr.body.error, 'invalid_request');
  });

  it('413 for a body over 10 kB', async () => {
    const r = await call(lab!, 'POST', '/api/scan', { key: KEY, body: { target: '127.0.0.1', ports: '1883', pad: 'x'.repeat(11 * 1024) } });
    assert.equal(r.status, 413);
    assert.equal(r.body.error, 'payload_too_large');
    assert.match(r.body.message, /at most 10240/);
  });

  it('413 at the door for a body over 64 kB, before Node-RED reads it', async () => {
    const r = await call(lab!, 'POST', '/api/scan', { key: KEY, body: { target: '127.0.0.1', pad: 'x'.repeat(100 * 1024) } });
    assert.equal(r.status, 413);
    assert.equal(r.body.error, 'payload_too_large');
  });

  it('400 naming the bad field', async () => {
    const cases: Array<[object, string, RegExp?]> = [
      [{}, 'target'],
      [{ target: 42 }, 'target'],
      [{ target: '' }, 'target'],
      [{ target: '127.0.0.1; rm -rf /' }, 'target'],
      [{ target: '127.0.0.1/33' }, 'target', /prefix must be 0-32/],
      [{ target: '8.8.8.8' }, 'target', /public address/],
      [{ target: '127.0.0.1', ports: 'http' }, 'ports'],
      [{ target: '127.0.0.1', ports: [0] }, 'ports'],
      [{ target: '127.0.0.1', ports: '70000' }, 'ports'],
      [{ target: '127.0.0.1', listen_duration: 61 }, 'listen_duration'],
      [{ target: '127.0.0.1', listen_duration: '5' }, 'listen_duration'],
      [{ target: '127.0.0.1', creds: 'student:secret' }, 'creds'],
      [{ target: '127.0.0.1', creds: { pass: 'x' } }, 'creds.user'],
      [{ target: '127.0.0.1', write_test: 'yes' }, 'write_test'],
      [{ target: '127.0.0.1', capture_all_topics: 'yes' }, 'capture_all_topics', /true or false/],
      [{ target: '127.0.0.1', send_credentials_plaintext: 'yes' }, 'send_credentials_plaintext', /true or false/],
      [{ target: '127.0.0.1', send_credentials_plaintext: 1 }, 'send_credentials_plaintext'],
      [{ target: '127.0.0.1', send_credentials_plaintext: null }, 'send_credentials_plaintext'],
    ];
    for (const [body, field, detail] of cases) {
      const r = await call(lab!, 'POST', '/api/scan', { key: KEY, body });
      assert.equal(r.status, 400, `${JSON.stringify(body)} -> ${r.status} ${JSON.stringify(r.body)}`);
      assert.equal(r.body.field, field, JSON.stringify(body));
      assert.ok(r.body.message.startsWith(`${field}:`), r.body.message);
      if (detail) assert.match(r.body.message, detail);
    }
  });

  it('POST /api/scan scans the lab and answers when done: both brokers as they are', async () => {
    const { insecure, secure } = lab!.ports;
    scan = await call(lab!, 'POST', '/api/scan', { key: KEY, body: { target: '127.0.0.1', ports: [insecure, secure], creds: { user: 'student', pass: password }, listen_duration: 3 } });
    assert.equal(scan.status, 200, JSON.stringify(scan.body).slice(0, 500));
    const b = scan.body;
    assert.match(b.scanId, /^[0-9a-f]{16}$/);
    assert.ok(!Number.isNaN(Date.parse(b.timestamp)));
    assert.equal(b.count, 2);
    assert.deepEqual(b.request, { target: '127.0.0.1', ports: `${insecure},${secure}`, listen_duration: 3, write_test: false, try_defaults: false });
    const ins = b.results.find((r: any) => r.port === insecure);
    const sec = b.results.find((r: any) => r.port === secure);
    assert.equal(ins.transport, 'tcp');
    assert.equal(ins.classification, 'open_or_auth_ok');
    assert.equal(ins.auth.anonymous.outcome, 'accepted');
    assert.equal(ins.risk.level, 'CRITICAL');
    assert.ok(ins.findings.some((f: any) => f.id === 'ANONYMOUS_ACCESS'));
    assert.ok(ins.topics.items.some((t: any) => t.topic === 'lab/insecure/esp32-sim01/pir' && t.sensor === 'pir'));
    assert.equal(sec.transport, 'tls');
    assert.equal(sec.auth.anonymous.outcome, 'rejected');
    assert.equal(sec.auth.givenCredentials.outcome, 'accepted');
    assert.equal(sec.tls.certificate.subject, 'CN=localhost, O=MQTT Security Lab');
    // The flow's TLS configuration trusts the lab CA (env MQTTSEC_LAB_CA from the launcher).
    assert.equal(sec.tls.certificate.trusted, true, JSON.stringify(sec.tls.certificate));
    // listen_duration is honoured per request (the sniffer's own setting is 5 s).
    assert.ok(Math.abs(ins.topics.listenedMs - 3000) < 500, `listened ${ins.topics.listenedMs} ms`);
    const secTopics = sec.topics.items.map((t: any) => t.topic);
    assert.ok(secTopics.includes('lab/secure/esp32-sim01/dht') && secTopics.includes('lab/secure/esp32-sim01/ldr'), secTopics.join());
    assert.equal(b.summary.openBrokers, 1);
    assert.equal(b.summary.brokers, 2);
    // One duration (issue 18): the whole scan with its 3 s of listening, not the probe's few ms.
    assert.ok(b.summary.scan.durationMs >= 3000, JSON.stringify(b.summary.scan));
    assert.equal(Date.parse(b.summary.scan.finishedAt) - Date.parse(b.summary.scan.startedAt), b.summary.scan.durationMs);
    assert.deepEqual(b.reports, { pdf: `/api/reports/${b.scanId}.pdf`, csv: `/api/reports/${b.scanId}.csv`, json: `/api/reports/${b.scanId}.json` });
    assert.ok(!scan.raw.includes(password), 'the answer never repeats the password');
    assert.equal(scan.headers.get('cache-control'), 'no-store');
  });

  it('GET /api/results gives that scan, with count and timestamp', async () => {
    const r = await call(lab!, 'GET', '/api/results', { key: KEY });
    assert.equal(r.status, 200);
    assert.equal(r.body.scanId, scan.body.scanId);
    assert.equal(r.body.count, 2);
    assert.equal(r.body.timestamp, scan.body.timestamp);
    assert.equal(r.body.results.length, 2);
  });

  it('GET /api/reports/<scanId>.pdf|csv|json serves the reports; anything else is 404', async () => {
    const id = scan.body.scanId;
    const pdf = await call(lab!, 'GET', `/api/reports/${id}.pdf`, { key: KEY });
    assert.equal(pdf.status, 200);
    assert.equal(pdf.headers.get('content-type'), 'application/pdf');
    assert.equal(pdf.headers.get('content-disposition'), `attachment; filename="mqtt-scan-${id}.pdf"`);
    assert.equal(pdf.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(pdf.raw.subarray(0, 5).toString('latin1'), '%PDF-');
    const csv = await call(lab!, 'GET', `/api/reports/${id}.csv`, { key: KEY });
    assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(csv.raw.toString('utf8'), /"ip","port","result","classification","security"/);
    const json = await call(lab!, 'GET', `/api/reports/${id}.json`, { key: KEY });
    assert.equal(json.body.results.length, 2);
    for (const name of ['..%2F..%2Fflows.json', `${id}.PDF`, `${id}.pdf.exe`, `${id}`, '.pdf', `${'a'.repeat(65)}.pdf`, 'ffffffffffffffff.pdf']) {
      const r = await call(lab!, 'GET', `/api/reports/${name}`, { key: KEY });
      assert.equal(r.status, 404, name);
      assert.equal(r.body.error, 'not_found', name);
    }
  });

  it('the earlier scanner\'s body: capture_all_topics false means no listening; an unknown field is a warning, not a 400 (issue 18)', async () => {
    const { insecure } = lab!.ports;
    const closed = await closedPort();
    const r = await call(lab!, 'POST', '/api/scan', { key: KEY, body: { target: '127.0.0.1', ports: [insecure, closed], capture_all_topics: false, scan_type: 'full' } });
    assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 500));
    assert.equal(r.body.request.listen_duration, 0);
    assert.deepEqual(r.body.warnings, ['"scan_type": unknown field, ignored; the fields are target, ports, creds, listen_duration, write_test, send_credentials_plaintext, try_defaults, ca, sites']);
    const ins = r.body.results.find((x: any) => x.port === insecure);
    assert.equal(ins.classification, 'open_or_auth_ok');
    assert.ok(!ins.topics?.items?.length, 'nothing listened to');
    // A closed port is listed, as mqtt-scan lists it (a scan of up to 1024 targets).
    const shut = r.body.results.find((x: any) => x.port === closed);
    assert.deepEqual([shut?.reachability, shut?.classification], ['closed', 'unreachable_or_firewalled']);
    assert.equal(r.body.summary.unreachable, 1, JSON.stringify(r.body.summary));
  });

  it('keeps no password in the flow file, the context store or the reports', async () => {
    const userDir = lab!.userDir;
    assert.equal(await stopLab(lab!, { keepUserDir: true }), 0); // flushes the context store
    lab = undefined;
    const files = walk(userDir).filter((f) => !f.includes(`${join(userDir, 'lab-secrets')}`));
    assert.ok(files.some((f) => f.includes(join(userDir, 'context'))));
    assert.ok(files.some((f) => f.endsWith('.csv') && /reports\//.test(f)), 'the reports were checked');
    for (const f of files) assert.ok(!readFileSync(f).includes(password), f);
    for (const f of files) assert.ok(!readFileSync(f).includes(KEY), `the API key is in ${f}`);
    rmSync(userDir, { recursive: true, force: true });
  });
});

describe('HTTP API: the shared table of malformed and dangerous inputs', function () {
  this.timeout(120_000);
  // One key for all of them: refused requests (by the flow's checks or the target expander) do not
  // count towards the 10 scans a minute, so more than 10 refusals never turn into 429.
  const KEYS = [randomBytes(24).toString('hex')];
  let lab: LabProcess | undefined;
  before(async () => {
    lab = await startLab({ env: { MQTTSEC_API_KEY: KEYS.join(',') } });
  });
  after(async () => {
    if (lab) await stopLab(lab);
  });

  it('each gets 400 naming the bad part; nothing is scanned', async () => {
    const rows = [...BAD_TARGETS, ...BAD_PORTS, ...BAD_TYPES];
    assert.ok(rows.length >= 50);
    for (const [i, row] of rows.entries()) {
      const key = KEYS[0];
      void i;
      const body = { target: row.targets === undefined ? '127.0.0.1' : row.targets, ...(row.ports !== undefined ? { ports: row.ports } : {}) };
      const r = await call(lab!, 'POST', '/api/scan', { key, body });
      assert.equal(r.status, 400, `${row.name}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
      const field = row.ports !== undefined ? 'ports' : 'target';
      assert.equal(r.body.field, field, `${row.name}: ${JSON.stringify(r.body).slice(0, 300)}`);
      // The message quotes the bad token (the flow's own checks word the rest differently from the
      // target expander's); for a wrong JSON type it names the field.
      const text = String(r.body.message);
      const token = typeof row.names === 'string' ? (/^"[^"]*"?/.exec(row.names)?.[0] ?? row.names) : null;
      const named = token === null ? (row.names as RegExp).test(text) : /^"(targets?|ports)"$/.test(token) ? text.startsWith(`${field}:`) : text.includes(token);
      assert.ok(named, `${row.name}: ${text}`);
      assert.ok(text.length < 2000, `${row.name}: a short message`);
    }
    const results = await call(lab!, 'GET', '/api/results', { key: KEYS[0] });
    assert.equal(results.body.scanId, null, 'no scan ever completed');
    assert.equal(results.body.count, 0);
  });
});

describe('HTTP API rate limit', function () {
  this.timeout(120_000);
  const KEY = randomBytes(24).toString('hex');
  let lab: LabProcess | undefined;
  before(async () => {
    lab = await startLab({ env: { MQTTSEC_API_KEY: KEY } });
  });
  after(async () => {
    if (lab) await stopLab(lab);
  });

  it('10 scans a minute per key, then 429 with retry_after', async () => {
    const closed = await freePort(); // nothing listens there: each scan is quick
    for (let i = 1; i <= 10; i++) {
      const r = await call(lab!, 'POST', '/api/scan', { key: KEY, body: { target: '127.0.0.1', ports: [closed], listen_duration: 0 } });
      assert.equal(r.status, 200, `scan ${i}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.count, 1, "the closed port, listed as mqtt-scan lists it");
    }
    const r = await call(lab!, 'POST', '/api/scan', { key: KEY, body: { target: '127.0.0.1', ports: [closed], listen_duration: 0 } });
    assert.equal(r.status, 429);
    assert.equal(r.body.error, 'rate_limited');
    assert.ok(Number.isInteger(r.body.retry_after) && r.body.retry_after >= 1 && r.body.retry_after <= 60, String(r.body.retry_after));
    assert.equal(r.headers.get('retry-after'), String(r.body.retry_after));
    // Reading is not limited.
    assert.equal((await call(lab!, 'GET', '/api/results', { key: KEY })).status, 200);
  });

  it('refused requests never count: 15 refusals (public target, bad ports, bad JSON) and then still 10 scans', async () => {
    const other = randomBytes(24).toString('hex');
    const again = await startLab({ env: { MQTTSEC_API_KEY: other } });
    try {
      const closed = await freePort();
      for (let i = 0; i < 5; i++) {
        assert.equal((await call(again, 'POST', '/api/scan', { key: other, body: { target: '8.8.8.8', ports: [closed] } })).status, 400, 'public target: refused by the target expander');
        assert.equal((await call(again, 'POST', '/api/scan', { key: other, body: { target: '127.0.0.1', ports: 'http' } })).status, 400, 'bad ports: refused by the flow');
        assert.equal((await call(again, 'POST', '/api/scan', { key: other, body: '{bad' })).status, 400, 'bad JSON');
      }
      for (let i = 1; i <= 10; i++) {
        const r = await call(again, 'POST', '/api/scan', { key: other, body: { target: '127.0.0.1', ports: [closed], listen_duration: 0 } });
        assert.equal(r.status, 200, `scan ${i} after 15 refusals: ${JSON.stringify(r.body)}`);
      }
      assert.equal((await call(again, 'POST', '/api/scan', { key: other, body: { target: '127.0.0.1', ports: [closed], listen_duration: 0 } })).status, 429);
    } finally {
      await stopLab(again);
    }
  });
});

describe('HTTP API: a redeploy during a scan', function () {
  this.timeout(120_000);
  const KEY = randomBytes(24).toString('hex');

  it('answers the waiting POST 503 interrupted at once, and the API works again afterwards', async () => {
    const lab = await startLab({ env: { MQTTSEC_API_KEY: KEY } });
    try {
      const pending = call(lab, 'POST', '/api/scan', { key: KEY, body: { target: '127.0.0.1', ports: [lab.ports.insecure], listen_duration: 30 } });
      await new Promise((r) => setTimeout(r, 2500)); // the sniffer is listening now
      const flows = await (await fetch(lab.url('/flows'))).text();
      const t0 = Date.now();
      const deploy = await fetch(lab.url('/flows'), { method: 'POST', headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: flows });
      assert.equal(deploy.status, 204);
      const r = await pending;
      assert.equal(r.status, 503, JSON.stringify(r.body));
      assert.deepEqual({ error: r.body.error, message: r.body.message }, { error: 'interrupted', message: 'the flows were redeployed during the scan' });
      assert.match(r.body.scanId, /^[0-9a-f]{16}$/);
      assert.equal(r.headers.get('cache-control'), 'no-store');
      assert.ok(Date.now() - t0 < 5000, `answered ${Date.now() - t0} ms after the deploy`);
      // The redeployed flow scans and answers as before.
      await new Promise((res) => setTimeout(res, 1000));
      const after = await call(lab, 'POST', '/api/scan', { key: KEY, body: { target: '127.0.0.1', ports: [lab.ports.insecure], listen_duration: 0 } });
      assert.equal(after.status, 200, JSON.stringify(after.body));
      assert.doesNotMatch(lab.output(), /could not answer an interrupted API scan|TypeError/);
    } finally {
      await stopLab(lab);
    }
  });
});

describe('HTTP API: slow and failing scans', function () {
  this.timeout(120_000);
  const KEY = randomBytes(24).toString('hex');

  it('504 scan_timeout after MQTTSEC_API_SCAN_TIMEOUT; the scan finishes and GET /api/results shows it', async () => {
    const lab = await startLab({ env: { MQTTSEC_API_KEY: KEY, MQTTSEC_API_SCAN_TIMEOUT: '1' } });
    try {
      const r = await call(lab, 'POST', '/api/scan', { key: KEY, body: { target: '127.0.0.1', ports: [lab.ports.insecure], listen_duration: 3 } });
      assert.equal(r.status, 504, JSON.stringify(r.body));
      assert.equal(r.body.error, 'scan_timeout');
      assert.match(r.body.message, /GET \/api\/results/);
      const deadline = Date.now() + 30_000;
      let latest: ApiResponse;
      do {
        await new Promise((res) => setTimeout(res, 500));
        latest = await call(lab, 'GET', '/api/results', { key: KEY });
      } while (latest.body.scanId !== r.body.scanId && Date.now() < deadline);
      assert.equal(latest.body.scanId, r.body.scanId);
      assert.equal(latest.body.count, 1);
    } finally {
      await stopLab(lab);
    }
  });

  it('500 with a message when a scan node fails (here: the reports folder cannot be created)', async () => {
    const userDir = mkdtempSync(join(tmpdir(), 'mqttsec-lab-'));
    // The report writer's default folder, and the launcher's MQTTSEC_REPORTS_DIR: files, not folders.
    for (const name of ['mqttsec-reports', 'reports']) writeFileSync(join(userDir, name), 'a file where the report writer wants a folder\n');
    const lab = await startLab({ userDir, env: { MQTTSEC_API_KEY: KEY } });
    try {
      const closed = await freePort();
      const r = await call(lab, 'POST', '/api/scan', { key: KEY, body: { target: '127.0.0.1', ports: [closed], listen_duration: 0 } });
      assert.equal(r.status, 500, JSON.stringify(r.body));
      assert.equal(r.body.error, 'scan_failed');
      assert.match(r.body.message, /^The scan failed: .+/);
    } finally {
      await stopLab(lab);
    }
  });
});

describe('HTTP API key from the environment', function () {
  this.timeout(120_000);

  it('without MQTTSEC_API_KEY the launcher makes one up and prints it once: the API takes that key', async () => {
    const lab = await startLab({ env: { MQTTSEC_API_KEY: '' } });
    try {
      const key = apiKeyFromBanner(lab.output());
      assert.ok(key && key.length >= 16, lab.output());
      assert.equal((await call(lab, 'GET', '/api/results', { key })).status, 200);
      assert.equal((await call(lab, 'GET', '/api/results', { key: null })).status, 401);
    } finally {
      await stopLab(lab);
    }
  });

  // Node-RED without the launcher (Docker with MQTTSEC_API_KEY left empty, an imported flow) reads
  // an empty variable; through the launcher a blank or short key reaches the flow as it is.
  for (const [what, key] of [['blank', '   '], ['shorter than 16 characters', 'short-key']] as const) {
    it(`a ${what} key keeps the API closed: 503 api_key_not_configured on every endpoint`, async () => {
      const lab = await startLab({ env: { MQTTSEC_API_KEY: key } });
      try {
        for (const [method, path] of ENDPOINTS) {
          for (const sent of [null, key.trim() || 'anything']) {
            const r = await call(lab, method, path, { key: sent, body: method === 'POST' ? { target: '127.0.0.1' } : undefined });
            assert.equal(r.status, 503, `${method} ${path}`);
            assert.equal(r.body.error, 'api_key_not_configured');
            assert.match(r.body.message, /MQTTSEC_API_KEY/);
          }
        }
      } finally {
        await stopLab(lab);
      }
    });
  }
});

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (name === 'node_modules') return [];
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}
