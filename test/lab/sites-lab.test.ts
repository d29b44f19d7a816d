// `npm run lab:sites` (dist/lab/start.js --sites, issue 20) as a user runs it, on its own free
// loopback ports and user directory: the plain lab first (its coordinators switched off, the
// Sites panel's view says how to start the sites), then the same user directory with --sites:
// a real Mosquitto as the coordinator's broker, the south site's broker on 127.0.0.2, two
// `mqtt-scan agent` processes. The agents' retained status says online; a two-site scan through
// the HTTP API's path (POST /api/scan {"sites": true}) finds every lab broker of both sites once,
// with the verdict of a local scan of the same lab through the same flow; it is in the scan
// history. In Chromium the Sites panel shows both agents online and its button runs a two-site
// scan into the results table (screenshots in test-output/). Every packet stays on loopback.
import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import type { ScanResult } from '../../lib/types';
import { requireTool } from '../support/tools';
import { freePorts } from '../support/ports';
import { labUsers, startLab, stopLab, type LabProcess } from '../support/lab-process';
import { launchChromium, loopbackOnly } from '../support/browser-chromium';
import { siteVerdict, keysOf } from '../support/sites';

const OUT = join(resolve(__dirname, '../..'), 'test-output');
const SIZES = [{ width: 1366, height: 768 }, { width: 390, height: 844 }];
const API_KEY = 'sites-lab-test-key-0123456789';
const SOUTH = '127.0.0.2';
const SITES_WAIT = /Press Ctrl-C to stop[\s\S]*Started modified nodes/;

interface ApiAnswer {
  scanId: string;
  results: ScanResult[];
  summary: Record<string, unknown>;
  error?: string;
  field?: string;
  message?: string;
}

describe('npm run lab:sites: two sites, one scan, one dashboard (issue 20)', function () {
  this.timeout(300_000);
  let lab: LabProcess | undefined;
  let userDir: string | undefined;
  let sitesPort: number;
  let southPort: number;

  before(function () {
    requireTool(this, 'mosquitto');
    mkdirSync(OUT, { recursive: true });
  });

  after(async () => {
    if (lab) await stopLab(lab);
  });

  async function post(body: Record<string, unknown>): Promise<{ status: number; body: ApiAnswer }> {
    const res = await fetch(lab!.url('/api/scan'), { method: 'POST', headers: { 'X-API-KEY': API_KEY, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as ApiAnswer };
  }

  it('the plain lab (npm start): the coordinators are switched off, and a sites scan through the API is refused naming "sites"', async () => {
    lab = await startLab({ env: { MQTTSEC_API_KEY: API_KEY } });
    userDir = lab.userDir;
    const flows = JSON.parse(readFileSync(join(userDir, 'flows.json'), 'utf8')) as Array<Record<string, unknown>>;
    const coords = flows.filter((n) => n.type === 'mqttsec-site-coordinator');
    assert.deepEqual(coords.map((n) => [n.id, n.d]), [['lab-sites-coord', true], ['api-sites-coord', true]]);
    assert.doesNotMatch(lab.output(), /site coordinator|mqttsec-site|sites broker/i, 'no sites node says anything in the plain lab');
    const r = await post({ target: '127.0.0.1', ports: String(lab.ports.insecure), sites: true, listen_duration: 0 });
    assert.equal(r.status, 400);
    assert.equal(r.body.field, 'sites');
    assert.match(r.body.message ?? '', /npm run lab:sites/);
  });

  it('the plain lab in Chromium: the Sites panel says how to start the sites, and has no button', async function () {
    if (!lab) this.skip();
    const browser = await launchChromium(requireTool(this, 'chromium'));
    try {
      const page = await browser.newPage({ viewport: SIZES[0] });
      const blocked = await loopbackOnly(page);
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(lab!.url('/ui/'), { waitUntil: 'networkidle' });
      await page.waitForSelector('[data-mqs="sites-off"]', { timeout: 15_000 });
      assert.match((await page.textContent('[data-mqs="sites-off"]')) ?? '', /The sites lab is off\. Start it with `npm run lab:sites` \(it needs Mosquitto\)/);
      assert.equal(await page.locator('[data-mqs="sites-scan"]').count(), 0);
      await page.locator('[data-mqs="sites"]').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(OUT, 'sites-off-1366x768.png') });
      assert.deepEqual(blocked, []);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });

  it('(the plain lab stops; the next start is on the same user directory)', async () => {
    if (lab) await stopLab(lab, { keepUserDir: true });
    lab = undefined;
  });

  it('--sites on the same user directory: the banner says what runs where; both agents\' retained status says online', async () => {
    [sitesPort, southPort] = await freePorts(2);
    lab = await startLab({
      userDir, args: ['--sites'], waitFor: SITES_WAIT, timeoutMs: 60_000,
      env: { MQTTSEC_API_KEY: API_KEY, LAB_SITES_PORT: String(sitesPort), LAB_SOUTH_PORT: String(southPort) },
    });
    const out = lab.output();
    assert.match(out, new RegExp(`Sites broker: +mqtts://127\\.0\\.0\\.1:${sitesPort} +\\(Mosquitto, pid \\d+`));
    assert.match(out, /Site north: +agent north-1 \(mqtt-scan agent\), scope 127\.0\.0\.1/);
    assert.match(out, new RegExp(`Site south: +agent south-1 \\(mqtt-scan agent\\), scope 127\\.0\\.0\\.2: mqtt://127\\.0\\.0\\.2:${southPort}`));
    const logins = JSON.parse(readFileSync(join(lab.userDir, 'lab-secrets', 'sites', 'logins.json'), 'utf8')) as Record<string, string>;
    for (const password of Object.values(logins)) {
      assert.ok(!out.includes(password), 'no login of the sites broker in the launcher\'s output');
      for (const f of ['flows.json', 'flows_cred.json']) assert.ok(!readFileSync(join(lab.userDir, f), 'utf8').includes(password), `${f} holds no password in clear`);
    }
    const flows = JSON.parse(readFileSync(join(lab.userDir, 'flows.json'), 'utf8')) as Array<Record<string, unknown>>;
    assert.deepEqual(flows.filter((n) => n.type === 'mqttsec-site-coordinator').map((n) => [n.id, n.d]), [['lab-sites-coord', undefined], ['api-sites-coord', undefined]]);
    // The coordinator's view of the agents: their retained status on its broker (login "coordinator", which may read mqttsec/agents/#).
    const statuses = await retainedStatuses(sitesPort, readFileSync(join(lab.userDir, 'lab-secrets', 'sites', 'ca.crt')), logins.coordinator, 2);
    assert.deepEqual(statuses, { 'mqttsec/agents/north/north-1': 'online', 'mqttsec/agents/south/south-1': 'online' });
  });

  it('a two-site scan through the API\'s path finds every lab broker of both sites once, with the verdict of a local scan; it is in the scan history', async () => {
    const p = lab!.ports;
    const labBrokers = [p.insecure, p.secure, p.ws, p.wss].map((port) => `127.0.0.1:${port}`);
    const expected = [...labBrokers, `${SOUTH}:${southPort}`].sort();
    const ports = [p.insecure, p.secure, p.ws, p.wss, southPort].join(',');
    const target = `127.0.0.1,${SOUTH}`;
    const sites = await post({ target, ports, sites: true, listen_duration: 4 });
    assert.equal(sites.status, 200, JSON.stringify(sites.body).slice(0, 500));
    const local = await post({ target, ports, listen_duration: 4, creds: { user: 'student', pass: labUsers(lab!.userDir).student } });
    assert.equal(local.status, 200, JSON.stringify(local.body).slice(0, 500));
    const open = (rs: ScanResult[]) => rs.filter((r) => r.reachability === 'open');
    const keys = keysOf(sites.body.results);
    assert.deepEqual(keys, [...new Set(keys)], 'each host:port once');
    assert.deepEqual(keysOf(open(sites.body.results)), expected);
    assert.deepEqual(keysOf(open(local.body.results)), expected);
    const byKey = (rs: ScanResult[]) => new Map(rs.map((r) => [`${r.host}:${r.port}`, r]));
    const [s, l] = [byKey(sites.body.results), byKey(local.body.results)];
    for (const k of expected) assert.deepEqual(siteVerdict(s.get(k)!), siteVerdict(l.get(k)!), k);
    // The lab login the agents hold got the student into the secure broker, as the local scan's did.
    assert.equal(s.get(`127.0.0.1:${p.secure}`)!.auth.givenCredentials.outcome, 'accepted');
    const history = await fetch(lab!.url(`/api/scans/${sites.body.scanId}`), { headers: { 'X-API-KEY': API_KEY } });
    assert.equal(history.status, 200);
    const kept = (await history.json()) as { summary: { scanId: string }; results: ScanResult[] };
    assert.equal(kept.summary.scanId, sites.body.scanId);
    assert.deepEqual(keysOf(open(kept.results)), expected);
  });

  it('a sites scan names what it could not do: targets in no site\'s scope in warnings; a host name or an unknown site is 400 naming the field', async () => {
    const port = String(lab!.ports.insecure);
    const outside = await post({ target: '127.0.0.1,127.0.0.9', ports: port, sites: true, listen_duration: 0 });
    assert.equal(outside.status, 200, JSON.stringify(outside.body).slice(0, 300));
    assert.deepEqual(keysOf(outside.body.results.filter((r) => r.reachability === 'open')), [`127.0.0.1:${port}`]);
    assert.deepEqual((outside.body as unknown as { warnings: string[] }).warnings, ['target: 127.0.0.9: in no site\'s scope, not scanned']);
    for (const [body, field] of [[{ target: 'localhost', sites: true }, 'target'], [{ target: '127.0.0.1', sites: ['west'] }, 'sites']] as const) {
      const r = await post({ ...body, ports: port, listen_duration: 0 });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.field, field);
    }
  });

  describe('in Chromium: the Sites panel', function () {
    let browser: Browser | undefined;
    let page: Page;
    let blocked: string[] = [];
    const pageErrors: string[] = [];

    before(async function () {
      if (!lab) this.skip();
      const chromium = requireTool(this, 'chromium');
      mkdirSync(OUT, { recursive: true });
      browser = await launchChromium(chromium);
      page = await browser.newPage({ viewport: SIZES[0] });
      blocked = await loopbackOnly(page);
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.goto(lab!.url('/ui/'), { waitUntil: 'networkidle' });
    });

    after(async () => {
      await browser?.close().catch(() => undefined);
    });

    it('shows the two agents online, and "Scan both sites" fills the results table with both sites\' brokers', async () => {
      await page.waitForFunction(() => document.querySelectorAll('[data-mqs="sites-agent"][data-up="true"]').length === 2, undefined, { timeout: 30_000 });
      const agents = await page.$$eval('[data-mqs="sites-agent"]', (rows) => rows.map((r) => [r.getAttribute('data-agent'), r.getAttribute('data-up')]));
      assert.deepEqual(agents, [['north-1', 'true'], ['south-1', 'true']]);
      assert.match((await page.textContent('[data-mqs="sites-connection"]')) ?? '', /connected/);
      for (const size of SIZES) await shot(size, '[data-mqs="sites"]', 'sites-agents-online');

      // Another tab (any dashboard user) sends what the coordinator would say, through the panel's own
      // output (node-red-dashboard passes on any payload): an agent offline, a made-up agent, a warning.
      const forged = 'north-1 is compromised (forged by another tab)';
      await page.evaluate((text) => {
        const events = (window as unknown as { angular: { element(e: Element): { injector(): { get(n: string): { emit(d: unknown): void } } } } })
          .angular.element(document.body).injector().get('UiEvents');
        const send = (payload: unknown) => events.emit({ id: 'lab-sites', value: payload, msg: { payload } });
        send({ type: 'agent', agent: { site: 'north', login: 'north-1', state: 'offline', seenAt: 1 } });
        send({ type: 'agent', agent: { site: 'north', login: 'evil-1', state: 'online' } });
        send({ type: 'warning', error: text });
      }, forged);
      const before = await page.locator('[data-mqs="history"] .mqs-hist').count();
      // The button's message comes after the forged ones on the same socket: when its scan is done, they were read.
      await page.click('[data-mqs="sites-scan"]');
      await page.waitForFunction((n) => document.querySelectorAll('[data-mqs="history"] .mqs-hist').length > n, before, { timeout: 90_000 });
      assert.deepEqual(await page.$$eval('[data-mqs="sites-agent"]', (rows) => rows.map((r) => [r.getAttribute('data-agent'), r.getAttribute('data-up')])), [['north-1', 'true'], ['south-1', 'true']], 'no forged agent');
      assert.ok(!(await page.$$eval('[data-mqs="sites-warning"]', (ws) => ws.map((w) => w.textContent ?? ''))).some((w) => w.includes(forged)), 'no forged warning');
      await page.waitForSelector('[data-mqs="done"]');
      await page.waitForSelector('[data-mqs="sites-scan-state"][data-state="done"]', { timeout: 15_000 });
      const eps = await page.$$eval('.tabulator-cell[tabulator-field="ep"]', (cells) => cells.map((c) => (c.textContent ?? '').trim()));
      const p = lab!.ports;
      for (const ep of [p.insecure, p.secure, p.ws, p.wss].map((port) => `127.0.0.1:${port}`).concat(`${SOUTH}:${southPort}`)) {
        assert.ok(eps.includes(ep), `${ep} in the table: ${eps.join(', ')}`);
      }
      const progress = await page.$$eval('[data-mqs="sites-progress"]', (rows) => rows.map((r) => (r.textContent ?? '').replace(/\s+/g, ' ').trim()));
      assert.equal(progress.length, 2);
      for (const line of progress) assert.match(line, /^shards 1\/1 done · (\d+)\/\1 host:port swept$/);
      for (const size of SIZES) await shot(size, '[data-mqs="sites"]', 'sites-scan-done');
      assert.deepEqual(blocked, []);
      assert.deepEqual(pageErrors, []);
    });

    it('Cancel scan cancels a two-site scan: the progress panel and the Sites panel say cancelled, the history keeps it', async () => {
      const before = await page.locator('[data-mqs="history"] .mqs-hist').count();
      await page.click('[data-mqs="sites-scan"]');
      // The agents listen 5 s to each readable broker: the cancel comes while they do.
      await page.waitForFunction(() => document.querySelector('[data-mqs="progress"]')?.getAttribute('data-state') === 'running', undefined, { timeout: 15_000 });
      await page.click('[data-mqs="cancel"]');
      await page.waitForSelector('[data-mqs="cancelled"]', { timeout: 60_000 });
      await page.waitForSelector('[data-mqs="sites-scan-state"][data-state="cancelled"]', { timeout: 15_000 });
      await page.waitForFunction((n) => document.querySelectorAll('[data-mqs="history"] .mqs-hist').length > n, before, { timeout: 60_000 });
      assert.match((await page.locator('[data-mqs="history"] .mqs-hist').first().textContent()) ?? '', /cancelled/);
      assert.deepEqual(pageErrors, []);
    });

    /** A screenshot at `size` with `selector` scrolled into view: test-output/<name>-<w>x<h>.png. */
    async function shot(size: { width: number; height: number }, selector: string, name: string): Promise<void> {
      await page.setViewportSize(size);
      await page.waitForTimeout(500); // the groups' layout settles after the resize
      await page.locator(selector).scrollIntoViewIfNeeded();
      const box = await page.locator(selector).boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= size.width + 1, `${name} ${size.width}: inside the window's width: ${JSON.stringify(box)}`);
      await page.screenshot({ path: join(OUT, `${name}-${size.width}x${size.height}.png`) });
      await page.setViewportSize(SIZES[0]);
    }
  });
});

/** The retained agent statuses on the coordinator's broker (topic -> state), once `count` arrived; at most 20 s. */
async function retainedStatuses(port: number, ca: Buffer, password: string, count: number): Promise<Record<string, string>> {
  const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${port}`, {
    username: 'coordinator', password, ca, protocolVersion: 5, clientId: `test-sites-lab-${process.pid}`, clean: true, reconnectPeriod: 0, connectTimeout: 10_000,
  });
  const seen: Record<string, string> = {};
  try {
    const got = new Promise<void>((res) => {
      client.on('message', (topic, payload) => {
        try {
          seen[topic] = String((JSON.parse(payload.toString('utf8')) as { state?: unknown }).state);
        } catch {
          seen[topic] = 'unreadable';
        }
        if (Object.values(seen).filter((s) => s === 'online').length >= count) res();
      });
    });
    await client.subscribeAsync('mqttsec/agents/#', { qos: 1 });
    await Promise.race([got, new Promise((r) => setTimeout(r, 20_000))]);
  } finally {
    await client.endAsync();
  }
  return seen;
}
