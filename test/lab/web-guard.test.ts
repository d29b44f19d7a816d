// The launcher's web guard in a real lab (lab/guarded-server.ts + lab/request-guard.ts): foreign
// Host and Origin headers, websocket upgrades, the body cap on chunked bodies whatever the path's
// spelling (with the lab's memory measured), malformed URLs, CORS, and the passwords the lab
// demands when it listens beyond loopback (run in an empty network namespace: nothing is exposed).
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_START, apiKeyFromBanner, startLab, stopLab, type LabProcess } from '../support/lab-process';
import { freePort } from '../support/ports';
import { requireTool } from '../support/tools';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request with exactly these headers (Host included), over a fresh connection. */
export function rawHttp(port: number, method: string, path: string, headers: Record<string, string>, body?: string, host = '127.0.0.1'): Promise<Answer> {
  return new Promise((res, rej) => {
    const r = request({ host, port, method, path, headers, agent: false, timeout: 10_000 }, (resp) => {
      let text = '';
      resp.setEncoding('utf8');
      resp.on('data', (d) => (text += d));
      resp.on('end', () => res({ status: resp.statusCode ?? 0, headers: resp.headers, body: text }));
    });
    r.on('timeout', () => r.destroy(new Error(`${method} ${path}: no answer in 10 s`)));
    r.on('error', rej);
    r.end(body);
  });
}

/** A websocket handshake; resolves with the status line and headers the server sent. */
function wsHandshake(port: number, path: string, headers: Record<string, string>): Promise<string> {
  return new Promise((res, rej) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => {
      s.destroy();
      res(got);
    }, 5000);
    s.on('data', (d) => {
      got += d;
      if (got.includes('\r\n\r\n')) {
        clearTimeout(timer);
        s.destroy();
        res(got);
      }
    });
    s.on('error', (e) => (got ? res(got) : rej(e)));
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    s.write(`GET ${path} HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`);
  });
}

/**
 * POSTs a chunked body of up to `totalBytes` to `target` (any request-target spelling), 64 KB a
 * chunk, and stops as soon as the server answers or closes (or after 20 s). Resolves with the
 * status line, the answer's body, how long until it came and how much was sent.
 */
function chunkedFlood(port: number, target: string, totalBytes: number): Promise<{ statusLine: string; body: string; ms: number; sentBytes: number }> {
  return new Promise((res) => {
    const s = connect(port, '127.0.0.1');
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
    const t0 = Date.now();
    let sent = 0;
    let answer = '';
    let answeredAt = 0;
    let stopped = false;
    const finish = () => {
      if (stopped) return;
      stopped = true;
      clearTimeout(limit);
      s.destroy();
      const [head, body = ''] = answer.split('\r\n\r\n');
      res({ statusLine: head.split('\r\n')[0], body, ms: (answeredAt || Date.now()) - t0, sentBytes: sent });
    };
    const limit = setTimeout(finish, 20_000);
    s.on('data', (d) => {
      answer += d;
      answeredAt ||= Date.now();
      if (answer.includes('\r\n\r\n')) setTimeout(finish, 50);
    });
    s.on('error', finish);
    s.on('close', finish);
    s.write(`POST ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const pump = () => {
      while (!stopped && !answer && sent < totalBytes) {
        sent += chunk.length;
        if (!s.write(frame)) return void s.once('drain', pump);
      }
      if (!stopped && !answer) s.write('0\r\n\r\n');
    };
    pump();
  });
}

function rssMB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

describe('lab web guard in a running lab', function () {
  this.timeout(120_000);
  let lab: LabProcess | undefined;
  let port: number;
  let key: string;
  let flowsBefore: string;
  const own = () => ({ Host: `127.0.0.1:${port}` });

  before(async () => {
    lab = await startLab();
    port = lab.ports.ui;
    key = apiKeyFromBanner(lab.output())!;
    flowsBefore = (await rawHttp(port, 'GET', '/flows', own())).body;
    assert.ok(JSON.parse(flowsBefore).length > 20, 'the shipped flows are deployed');
  });
  after(async () => {
    if (lab) await stopLab(lab);
  });

  const ATTACKS: Array<[string, string, Record<string, string>, string?]> = [
    ['GET', '/flows', {}],
    ['GET', '/settings', {}],
    ['POST', '/flow', { 'Content-Type': 'text/plain' }, JSON.stringify({ label: 'evil', nodes: [] })],
    ['POST', '/flow', { 'Content-Type': 'application/json' }, JSON.stringify({ label: 'evil', nodes: [] })],
    ['POST', '/flows', { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, '[]'],
    ['POST', '/api/scan', { 'Content-Type': 'text/plain' }, JSON.stringify({ target: '127.0.0.1' })],
    ['GET', '/ui/', {}],
    ['GET', '/lab/reports/0123456789abcdef.json', {}],
    ['GET', '/ui/socket.io/?EIO=4&transport=polling', {}],
  ];

  it('a foreign Host (DNS rebinding) gets 403 on every route, before any of them runs', async () => {
    for (const host of ['evil.example:' + port, 'evil.example', `127.0.0.1:${port + 1}`]) {
      for (const [method, path, headers, body] of ATTACKS) {
        const a = await rawHttp(port, method, path, { ...headers, Host: host, 'X-API-KEY': key }, body);
        assert.equal(a.status, 403, `${method} ${path} Host ${host}: ${a.status} ${a.body.slice(0, 200)}`);
        assert.equal(JSON.parse(a.body).error, 'forbidden_host');
      }
    }
  });

  it('a foreign Origin gets 403 on every route, preflight included, and no CORS header ever', async () => {
    for (const origin of ['http://evil.example', `http://127.0.0.1:${port + 1}`, 'null']) {
      for (const [method, path, headers, body] of ATTACKS) {
        const a = await rawHttp(port, method, path, { ...headers, ...own(), Origin: origin, 'X-API-KEY': key }, body);
        assert.equal(a.status, 403, `${method} ${path} from ${origin}: ${a.status} ${a.body.slice(0, 200)}`);
        assert.equal(JSON.parse(a.body).error, 'forbidden_origin');
      }
      const pre = await rawHttp(port, 'OPTIONS', '/flows', { ...own(), Origin: origin, 'Access-Control-Request-Method': 'POST' });
      assert.equal(pre.status, 403);
      assert.equal(pre.headers['access-control-allow-origin'], undefined);
    }
    // The lab's own pages: Node-RED's admin API would say "Access-Control-Allow-Origin: *"; not here.
    const mine = await rawHttp(port, 'OPTIONS', '/flows', { ...own(), Origin: `http://127.0.0.1:${port}`, 'Access-Control-Request-Method': 'POST' });
    assert.equal(mine.headers['access-control-allow-origin'], undefined);
    const get = await rawHttp(port, 'GET', '/settings', { ...own(), Origin: `http://localhost:${port}` });
    assert.equal(get.status, 200);
    assert.equal(get.headers['access-control-allow-origin'], undefined);
  });

  it('websocket upgrades (dashboard socket, editor comms) need the lab\'s Host and Origin', async () => {
    for (const path of ['/ui/socket.io/?EIO=4&transport=websocket', '/comms']) {
      assert.match(await wsHandshake(port, path, { Host: 'evil.example:' + port }), /^HTTP\/1\.1 403 /, `${path}: foreign Host`);
      assert.match(await wsHandshake(port, path, { ...own(), Origin: 'http://evil.example' }), /^HTTP\/1\.1 403 /, `${path}: foreign Origin`);
    }
    assert.match(await wsHandshake(port, '/ui/socket.io/?EIO=4&transport=websocket', { ...own(), Origin: `http://127.0.0.1:${port}` }), /^HTTP\/1\.1 101 /);
  });

  it('none of that changed the flows or started a scan', async () => {
    assert.equal((await rawHttp(port, 'GET', '/flows', own())).body, flowsBefore);
    const results = JSON.parse((await rawHttp(port, 'GET', '/api/results', { ...own(), 'X-API-KEY': key })).body);
    assert.equal(results.scanId, null);
    assert.doesNotMatch(lab!.output(), /Starting flows[\s\S]*Starting flows/, 'no redeploy happened');
  });

  it('a chunked 100 MB body gets 413 quickly on every spelling of the API path, and the lab\'s memory stays flat', async () => {
    const pid = lab!.child.pid!;
    await chunkedFlood(port, '/api/scan', 1024 * 1024); // warm-up: the first requests after a start grow the heap anyway
    const before = rssMB(pid);
    const seen: string[] = [];
    for (const target of ['//api/scan', '/API/scan', `http://127.0.0.1:${port}/api/scan`, '/api/scan', '/flows/../api/scan', '/lab/reports/x.pdf']) {
      for (let round = 0; round < 2; round++) {
        const r = await chunkedFlood(port, target, 100 * 1024 * 1024);
        seen.push(`${target}: ${r.statusLine} after ${r.ms} ms, ${(r.sentBytes / 1048576).toFixed(1)} MB sent`);
        assert.match(r.statusLine, /^HTTP\/1\.1 413 /, seen.at(-1));
        assert.equal(JSON.parse(r.body).error, 'payload_too_large');
        assert.ok(r.ms < 2000, seen.at(-1));
        assert.ok(r.sentBytes < 50 * 1024 * 1024, seen.at(-1));
      }
    }
    const after = rssMB(pid);
    console.log(`      RSS of the lab: ${before.toFixed(0)} MB before, ${after.toFixed(0)} MB after 12 chunked 100 MB bodies\n      ${seen.join('\n      ')}`);
    // Measured here: +30 to +35 MB, and flat after that (discarded chunks wait for the GC). Without
    // the cap Node-RED buffers each body whole: one alone is +100 MB.
    assert.ok(after - before < 60, `RSS grew from ${before.toFixed(0)} to ${after.toFixed(0)} MB`);
    // A Content-Length over the cap is refused before a byte of the body is read.
    const big = await rawHttp(port, 'POST', '/API//scan', { ...own(), 'Content-Type': 'text/plain', 'Content-Length': String(65 * 1024) }, 'x'.repeat(65 * 1024));
    assert.equal(big.status, 413);
  });

  it('the editor can still deploy a flow file of more than 64 KB (the deploy routes\' cap is 5 MB)', async () => {
    // The lab's own flows are smaller now that their logic lives in lib/dashboard: a comment with a
    // long description brings the deploy beyond 64 KB, as a class's own flows easily are.
    const flows = [...JSON.parse(flowsBefore), { id: 'web-guard-long-notes', type: 'comment', z: 'lab-tab', name: 'long notes', info: 'notes '.repeat(8 * 1024), x: 400, y: 900, wires: [] }];
    const body = JSON.stringify(flows);
    assert.ok(body.length > 64 * 1024, `the deployed flows are ${body.length} bytes`);
    const a = await rawHttp(port, 'POST', '/flows', { ...own(), 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'flows', 'Node-RED-API-Version': 'v1' }, body);
    assert.equal(a.status, 204, a.body);
    const tooBig = await chunkedFlood(port, '/flows', 20 * 1024 * 1024);
    assert.match(tooBig.statusLine, /^HTTP\/1\.1 (413|400) /, 'never read beyond 5 MB');
    assert.ok(tooBig.sentBytes < 15 * 1024 * 1024, `${tooBig.sentBytes} bytes sent`);
  });

  it('a malformed % escape gets a JSON 400 without a stack or a path, on every route', async () => {
    for (const path of ['/api/reports/%E0%A4%A.json', '/lab/reports/%E0%A4%A.pdf', '/flows/%', '/ui/%zz', '/%C0']) {
      const a = await rawHttp(port, 'GET', path, own());
      assert.equal(a.status, 400, path);
      assert.match(String(a.headers['content-type']), /application\/json/);
      const b = JSON.parse(a.body);
      assert.equal(b.error, 'bad_request');
      assert.ok(b.message);
      assert.doesNotMatch(a.body, /node_modules|\/tmp|\/work|at [A-Za-z.]+ \(/, path);
    }
  });
});

describe('lab launcher beyond loopback (MQTTSEC_BIND=0.0.0.0, in an empty network namespace)', function () {
  this.timeout(120_000);
  let userDir: string;
  before(function () {
    const probe = spawnSync('unshare', ['-n', 'true']);
    if (probe.status !== 0) {
      const why = 'unshare -n does not work here (needs root or user namespaces)';
      if (process.env.CI === 'true') throw new Error(`${why}; CI=true, so this is a failure`);
      console.warn(`\n${'!'.repeat(72)}\n  SKIPPED: ${why}: the exposed-lab tests did not run\n${'!'.repeat(72)}\n`);
      this.skip();
    }
  });
  beforeEach(() => (userDir = mkdtempSync(join(tmpdir(), 'mqttsec-exposed-'))));
  afterEach(() => rmSync(userDir, { recursive: true, force: true }));

  const NETNS = ['unshare', '-n', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh'];

  it('refuses to start, naming MQTTSEC_BIND, when it cannot set up the passwords', async () => {
    mkdirSync(join(userDir, 'lab-secrets'), { recursive: true });
    writeFileSync(join(userDir, 'lab-secrets', 'web-auth.json'), '{"teacher": {"hash": "plain-text-is-not-a-hash"}}\n');
    const child = spawn(NETNS[0], [...NETNS.slice(1), process.execPath, LAB_START], {
      env: { ...process.env, MQTTSEC_BIND: '0.0.0.0', MQTTSEC_USERDIR: userDir, MQTTSEC_UI_PORT: String(await freePort()) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((res) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.once('exit', (c) => {
        clearTimeout(timer);
        res(c);
      });
    });
    assert.equal(code, 1, out);
    assert.match(out, /MQTTSEC_BIND=0\.0\.0\.0 makes the flow editor \(which runs code\) reachable from other machines/);
    assert.match(out, /Refusing to start/);
    assert.doesNotMatch(out, /Dashboard:|Started flows/, 'nothing listened');
  });

  it('starts with an editor login (teacher) and a dashboard and API login (class), shown once; /api also keeps its key', async () => {
    const lab = await startLab({ env: { MQTTSEC_BIND: '0.0.0.0' }, userDir, prefix: NETNS });
    try {
      const out = lab.output();
      const teacher = /Editor login: +teacher \/ (\S+) +\(shown once/.exec(out)?.[1];
      const klass = /Dashboard login: +class \/ (\S+) +\(shown once/.exec(out)?.[1];
      assert.ok(teacher && klass, out);
      assert.doesNotMatch(out, /without a password/);
      assert.ok(!readFileSync(join(userDir, 'lab-secrets', 'web-auth.json'), 'utf8').includes(teacher!));
      // The lab is only reachable inside its namespace: ask from there.
      const script = `
        const http = require('http');
        const get = (path, headers) => new Promise((res) => http.get({ host: '127.0.0.1', port: ${lab.ports.ui}, path, headers, agent: false }, (r) => { r.resume(); r.on('end', () => res(r.statusCode)); }).on('error', (e) => res(e.code)));
        const basic = (u, p) => 'Basic ' + Buffer.from(u + ':' + p).toString('base64');
        (async () => {
          const out = {
            ui: await get('/ui/', {}),
            uiWrong: await get('/ui/', { authorization: basic('class', 'wrong') }),
            uiClass: await get('/ui/', { authorization: basic('class', process.env.CLASS_PW) }),
            flows: await get('/flows', {}),
            apiNoKey: await get('/api/results', {}),
            apiClassNoKey: await get('/api/results', { authorization: basic('class', process.env.CLASS_PW) }),
            editor: await get('/', {}),
          };
          const token = await new Promise((res) => {
            const body = 'client_id=node-red-admin&grant_type=password&scope=*&username=teacher&password=' + encodeURIComponent(process.env.TEACHER_PW);
            const r = http.request({ host: '127.0.0.1', port: ${lab.ports.ui}, method: 'POST', path: '/auth/token', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } }, (resp) => { let t = ''; resp.on('data', (d) => (t += d)); resp.on('end', () => res(JSON.parse(t).access_token)); });
            r.end(body);
          });
          out.flowsWithToken = await get('/flows', { authorization: 'Bearer ' + token });
          console.log(JSON.stringify(out));
        })();`;
      const r = spawnSync('nsenter', ['-t', String(lab.child.pid), '-n', process.execPath, '-e', script], {
        env: { ...process.env, CLASS_PW: klass!, TEACHER_PW: teacher! }, encoding: 'utf8', timeout: 30_000,
      });
      const got = JSON.parse(r.stdout.trim().split('\n').pop()!);
      assert.deepEqual(got, { ui: 401, uiWrong: 401, uiClass: 200, flows: 401, apiNoKey: 401, apiClassNoKey: 401, editor: 200, flowsWithToken: 200 }, r.stderr);
    } finally {
      await stopLab(lab, { keepUserDir: true });
    }
  });

  it('in Chromium the dashboard works with the class login (page and socket) and is refused without it', async function () {
    const chromium = requireTool(this, 'chromium');
    const lab = await startLab({ env: { MQTTSEC_BIND: '0.0.0.0' }, userDir, prefix: NETNS });
    try {
      const klass = /Dashboard login: +class \/ (\S+)/.exec(lab.output())![1];
      const script = `
        const { chromium } = require(${JSON.stringify(require.resolve('playwright-core'))});
        const { CHROMIUM_ARGS } = require(${JSON.stringify(require.resolve('../support/browser-chromium'))});
        (async () => {
          const b = await chromium.launch({ executablePath: ${JSON.stringify(chromium)}, args: CHROMIUM_ARGS, timeout: 30000 });
          const url = 'http://127.0.0.1:${lab.ports.ui}/ui/';
          const out = {};
          try {
            const page = await (await b.newContext({ httpCredentials: { username: 'class', password: process.env.CLASS_PW } })).newPage();
            const sockets = [];
            page.on('websocket', (w) => sockets.push(w.url()));
            await page.goto(url, { waitUntil: 'networkidle' });
            // The form is filled from the dashboard's socket: page and socket both got in.
            await page.waitForFunction(() => Array.from(document.querySelectorAll('form input')).some((i) => i.value === '127.0.0.1'), undefined, { timeout: 20000 });
            out.withLogin = 'form filled';
            out.socket = sockets.some((u) => u.includes('/ui/socket.io/'));
            const anon = await (await b.newContext()).newPage();
            out.withoutLogin = await anon.goto(url).then((r) => String(r.status()), (e) => e.message.split('\\n')[0]);
          } finally {
            await b.close();
          }
          console.log(JSON.stringify(out));
        })().catch((e) => { console.error(e); process.exit(1); });`;
      const r = spawnSync('nsenter', ['-t', String(lab.child.pid), '-n', process.execPath, '-r', 'ts-node/register/transpile-only', '-e', script], {
        env: { ...process.env, CLASS_PW: klass }, encoding: 'utf8', timeout: 60_000, cwd: join(__dirname, '../..'),
      });
      const got = JSON.parse(r.stdout.trim().split('\n').pop() || '{}');
      assert.equal(got.withLogin, 'form filled', r.stderr);
      assert.equal(got.socket, true);
      assert.match(got.withoutLogin, /^401$|ERR_INVALID_AUTH_CREDENTIALS/);
    } finally {
      await stopLab(lab, { keepUserDir: true });
    }
  });
});
