// The lab against other web pages, in Debian's Chromium: a page served from another loopback port
// tries to read and change the lab's flows, start a scan and open the dashboard's socket, and gets
// nothing. Then the lab's own dashboard: a scan running at a redeploy is marked interrupted, and a
// topic name of hundreds of characters without a space wraps instead of overflowing.
import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import mqtt from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { requireTool } from '../support/tools';
import { launchChromium, loopbackOnly } from '../support/browser-chromium';
import { apiKeyFromBanner, startLab, stopLab, type LabProcess } from '../support/lab-process';
import { freePort } from '../support/ports';

const LONG_TOPIC = `lab/insecure/${'verylongtopicsegment'.repeat(15)}`;

describe('lab safety in Chromium: other pages get nothing; redeploys and long names', function () {
  this.timeout(150_000);
  let lab: LabProcess | undefined;
  let browser: Browser | undefined;
  let evil: Server | undefined;
  let evilOrigin: string;
  let page: Page;
  let blocked: string[] = [];
  const pageErrors: string[] = [];
  let key: string;

  before(async function () {
    const chromiumPath = requireTool(this, 'chromium');
    lab = await startLab();
    key = apiKeyFromBanner(lab.output())!;
    // Another origin on this machine: the same address, another port.
    const port = await freePort();
    evilOrigin = `http://127.0.0.1:${port}`;
    evil = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><title>another site</title><p>nothing to see</p>');
    });
    await new Promise<void>((res) => evil!.listen(port, '127.0.0.1', () => res()));
    browser = await launchChromium(chromiumPath);
    page = await browser.newPage({ viewport: { width: 1600, height: 1200 } });
    blocked = await loopbackOnly(page);
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    if (evil) await new Promise((res) => evil!.close(res));
    if (lab) await stopLab(lab);
  });

  it('a page from another origin can neither read nor change the flows, start a scan, nor open the dashboard socket', async () => {
    const flowsBefore = await (await fetch(lab!.url('/flows'))).text();
    await page.goto(`${evilOrigin}/`);
    const labBase = lab!.url('');
    const seen = await page.evaluate(
      async ({ base, apiKey }) => {
        const out: Record<string, string> = {};
        const attempt = async (name: string, f: () => Promise<Response>, read = true) => {
          try {
            const r = await f();
            out[name] = r.type === 'opaque' ? 'opaque' : `${r.status} ${read ? (await r.text()).slice(0, 80) : ''}`;
          } catch (e) {
            out[name] = `error: ${(e as Error).name}`;
          }
        };
        const tab = JSON.stringify({ id: 'evil-tab', label: 'evil', nodes: [{ id: 'evil-fn', type: 'function', z: 'evil-tab', func: 'return msg;', wires: [] }] });
        await attempt('GET /flows', () => fetch(`${base}/flows`));
        await attempt('GET /settings', () => fetch(`${base}/settings`));
        await attempt('POST /flow json', () => fetch(`${base}/flow`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: tab }));
        await attempt('POST /flow text', () => fetch(`${base}/flow`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: tab }));
        await attempt('POST /flow text no-cors', () => fetch(`${base}/flow`, { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: tab }));
        await attempt('POST /api/scan text no-cors', () => fetch(`${base}/api/scan`, { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ target: '127.0.0.1' }) }));
        await attempt('POST /api/scan with key', () => fetch(`${base}/api/scan`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-API-KEY': apiKey }, body: JSON.stringify({ target: '127.0.0.1' }) }));
        out['websocket'] = await new Promise<string>((res) => {
          const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ui/socket.io/?EIO=4&transport=websocket`);
          const timer = setTimeout(() => res('no answer'), 5000);
          ws.onopen = () => {
            clearTimeout(timer);
            res('open');
            ws.close();
          };
          ws.onerror = () => {
            clearTimeout(timer);
            res('error');
          };
        });
        return out;
      },
      { base: labBase, apiKey: key },
    );
    // Every read failed (no CORS answer), every no-cors write came back opaque, the socket never opened.
    for (const name of ['GET /flows', 'GET /settings', 'POST /flow json', 'POST /flow text', 'POST /api/scan with key']) assert.equal(seen[name], 'error: TypeError', `${name}: ${seen[name]}`);
    assert.equal(seen['POST /flow text no-cors'], 'opaque');
    assert.equal(seen['POST /api/scan text no-cors'], 'opaque');
    assert.equal(seen.websocket, 'error');
    // ...and the lab confirms it: no new tab, no redeploy, no scan.
    assert.equal(await (await fetch(lab!.url('/flows'))).text(), flowsBefore);
    assert.doesNotMatch(lab!.output(), /evil|Starting flows[\s\S]*Starting flows/);
    const results = await (await fetch(lab!.url('/api/results'), { headers: { 'X-API-KEY': key } })).json();
    assert.equal(results.scanId, null, 'no scan ran');
  });

  it('a page from another origin cannot show the editor or the dashboard in a frame (clickjacking)', async () => {
    await page.goto(`${evilOrigin}/`);
    const framed = await page.evaluate(async (base) => {
      const out: Record<string, string> = {};
      for (const path of ['/', '/ui/']) {
        out[path] = await new Promise<string>((res) => {
          const frame = document.createElement('iframe');
          frame.src = `${base}${path}`;
          const timer = setTimeout(() => res('no load event'), 8000);
          frame.onload = () => {
            clearTimeout(timer);
            // A frame the lab refused stays an opaque error page: a cross-origin frame hides its
            // document either way, so ask the browser whether it rendered anything of the lab.
            res('loaded');
          };
          document.body.appendChild(frame);
        });
      }
      return out;
    }, lab!.url(''));
    assert.ok(Object.keys(framed).length === 2, JSON.stringify(framed));
    // Chromium blocks the frames: their documents never reached the lab's scripts.
    for (const frame of page.frames().slice(1)) {
      const url = frame.url();
      const title = await frame.title().catch(() => '(no document)');
      assert.doesNotMatch(title, /Node-RED|MQTT security/, `the lab's page ${url} rendered in a frame of another site`);
    }
    // The same pages in a frame of the lab itself still load (the dashboard may frame its own pages).
    const own = await fetch(lab!.url('/'));
    assert.equal(own.headers.get('x-frame-options'), 'SAMEORIGIN');
    assert.equal(own.headers.get('content-security-policy'), "frame-ancestors 'self'");
  });

  it('the lab\'s own dashboard still works, and a scan running at a redeploy is marked interrupted', async () => {
    await page.goto(lab!.url('/ui/'), { waitUntil: 'networkidle' });
    await page.getByLabel(/^Listen/).fill('30');
    await page.getByRole('button', { name: /start scan/i }).click();
    await page.waitForFunction(() => /listening/.test(document.querySelector('[data-mqs="status"]')?.textContent ?? ''), undefined, { timeout: 30_000 });
    const flows = await (await fetch(lab!.url('/flows'))).text();
    const deploy = await fetch(lab!.url('/flows'), { method: 'POST', headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: flows });
    assert.equal(deploy.status, 204);
    await page.waitForSelector('[data-mqs="interrupted"]', { timeout: 15_000 });
    assert.match((await page.textContent('[data-mqs="interrupted"]')) ?? '', /Interrupted after [\d.]+ s: the flows were redeployed/);
    assert.equal(await page.getAttribute('[data-mqs="progress"]', 'data-state'), 'interrupted');
    assert.equal(await page.locator('[data-mqs="cancel"]').count(), 0, 'nothing is left running');
    await page.waitForSelector('[data-mqs="history-interrupted"]');
    assert.match((await page.locator('[data-mqs="history"] .mqs-hist').first().textContent()) ?? '', /interrupted/);
    assert.equal(await page.locator('[data-mqs="scan-interrupted"]').count(), 1);
    // The form is free again.
    await page.getByLabel(/^Listen/).fill('1');
    await page.getByRole('button', { name: /start scan/i }).click();
    await page.waitForSelector('[data-mqs="done"]', { timeout: 60_000 });
  });

  it('a topic name of 300 characters without a space wraps in the table, the detail view and the findings', async () => {
    const insecure = `127.0.0.1:${lab!.ports.insecure}`;
    const client = await mqtt.connectAsync(`mqtt://${insecure}`, { reconnectPeriod: 0, connectTimeout: 5000 }, false);
    await client.publishAsync(LONG_TOPIC, 'x'.repeat(90), { retain: true, qos: 1 });
    await client.endAsync();
    await page.getByLabel(/^Listen/).fill('2');
    const before = Number(await page.getAttribute('[data-mqs="history"]', 'data-total'));
    await page.getByRole('button', { name: /start scan/i }).click();
    await page.waitForFunction((n) => Number(document.querySelector('[data-mqs="history"]')?.getAttribute('data-total')) > n, before, { timeout: 60_000 });
    // The insecure broker's own row (the lab serves the same broker over ws too, with the same topic).
    const endpoint = page.locator('.tabulator-cell[tabulator-field="ep"]', { hasText: new RegExp(`^${insecure.replace(/\./g, '\\.')}$`) });
    const cell = page.locator('.tabulator-row', { has: endpoint }).locator('.tabulator-cell[tabulator-field="topic"]', { hasText: 'verylongtopicsegmentverylong' }).first();
    await cell.waitFor();
    const overflowing = (sel: string) =>
      page.$$eval(sel, (els) => els.filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => `${e.className}: ${e.scrollWidth} > ${e.clientWidth}`));
    assert.deepEqual(await overflowing('.tabulator-cell'), [], 'table cells');
    const box = await cell.boundingBox();
    assert.ok(box && box.height > 30, `the topic cell grew to show the whole name (${box?.height} px high)`);
    await cell.click();
    await page.waitForFunction((ep) => document.querySelector('[data-mqs="detail-ep"]')?.textContent === ep, insecure);
    await page.waitForFunction(() => (document.querySelector('[data-mqs="detail-topics"]')?.textContent ?? '').includes('verylongtopicsegment'));
    assert.deepEqual(await overflowing('[data-mqs="detail"], [data-mqs="detail"] td, .mqs-finding, .mqs-finding > div, .mqs-finding pre'), [], 'detail view and finding cards');
    const detail = await page.$eval('[data-mqs="detail"]', (e) => ({ scroll: e.scrollWidth, client: e.clientWidth }));
    assert.ok(detail.scroll <= detail.client + 1, JSON.stringify(detail));
    const client2 = await mqtt.connectAsync(`mqtt://${insecure}`, { reconnectPeriod: 0, connectTimeout: 5000 }, false);
    await client2.publishAsync(LONG_TOPIC, '', { retain: true, qos: 1 });
    await client2.endAsync();
  });

  it('made no request beyond 127.0.0.1 and raised no page error', () => {
    assert.deepEqual(blocked, []);
    assert.deepEqual(pageErrors, []);
  });
});
