// The lab dashboard with a thousand brokers, in Chromium, served by the real launcher: 1,000 real
// Mosquitto listeners (4 processes, one listener per loopback address 127.3.0.1-127.3.3.250, all
// anonymous: CRITICAL) scanned from the form. What is asserted is size and behaviour, never time:
// no websocket message over 1 MB, the table shows one page of 50 and counts all 1,000, its risk
// filter, find, order and pages work over every row, a reload shows the same page. The times (scan,
// table usable after the scan's end) go to the test's log and test-output/dashboard-scale.json;
// `npm run bench` has them as a row.
import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { requireTool } from '../support/tools';
import { dashboardScreenshot, launchChromium, loopbackOnly } from '../support/browser-chromium';
import { startLab, stopLab, type LabProcess } from '../support/lab-process';
import { measureDashboardScan, watchFrames, type DashboardScanMeasure } from '../support/dashboard-scale';
import { loopbackHosts, rangeSpec, startListenerFarm, PLAIN_PORT, type ListenerFarm } from '../../bench/lib/listener-farm';

const ROOT = resolve(__dirname, '../..');
const OUT = join(ROOT, 'test-output');
const BROKERS = 1000;
const MB = 1024 * 1024;

describe('lab dashboard with 1,000 brokers in Chromium (flows/lab-dashboard.json)', function () {
  this.timeout(300_000);
  let farm: ListenerFarm | undefined;
  let lab: LabProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let measured: DashboardScanMeasure;
  const hosts = loopbackHosts('127.3.0.1', BROKERS);
  const pageErrors: string[] = [];

  before(async function () {
    const chromiumPath = requireTool(this, 'chromium');
    requireTool(this, 'mosquitto');
    mkdirSync(OUT, { recursive: true });
    farm = await startListenerFarm({ plain: hosts, tls: [], processes: 4 });
    lab = await startLab();
    browser = await launchChromium(chromiumPath);
    page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    await loopbackOnly(page);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const frames = watchFrames(page);
    await page.goto(lab.url('/ui/'), { waitUntil: 'networkidle' });
    await page.waitForSelector('[data-mqs="table-bar"]', { timeout: 15_000 });
    // No sniffing (listen 0): one row per broker, so the table's count is the broker count.
    measured = await measureDashboardScan(page, frames, { target: rangeSpec(hosts), ports: String(PLAIN_PORT), listen: '0' }, BROKERS, 240_000);
    const line = `dashboard, ${BROKERS} brokers: scan ${(measured.scanMs / 1000).toFixed(2)} s; table usable ${(measured.usableAfterEndMs / 1000).toFixed(2)} s after the scan's end; ${measured.frames} websocket messages, ${(measured.totalBytes / MB).toFixed(2)} MB, largest ${(measured.largestBytes / 1024).toFixed(1)} KB`;
    console.log(`      ${line}`);
    writeFileSync(join(OUT, 'dashboard-scale.json'), `${JSON.stringify({ brokers: BROKERS, ...measured }, null, 2)}\n`);
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    if (lab) await stopLab(lab);
    await farm?.stop();
  });

  it('no websocket message over 1 MB; the table shows a page of 50 and counts all 1,000 brokers', async () => {
    assert.ok(measured.largestBytes < MB, `largest websocket message ${measured.largestBytes} bytes`);
    assert.equal(measured.rowsDrawn, 50);
    assert.match(measured.position, /^1–50 of 1,000$/);
    assert.equal(await page.getAttribute('[data-mqs="table-position"]', 'title'), '1,000 broker(s), 1,000 row(s) in this scan');
    const rows = await tableRows(page);
    assert.equal(rows.length, 50);
    assert.ok(rows.every((r) => r.risk === 'CRITICAL' && r.security === 'plain TCP · anonymous'), JSON.stringify(rows[0]));
    assert.deepEqual(rows.slice(0, 3).map((r) => r.ep), ['127.3.0.1:1883', '127.3.0.2:1883', '127.3.0.3:1883'], 'numeric order within a level');
    await dashboardScreenshot(page, join(OUT, 'dashboard-scale-1366.png'));
    assert.deepEqual(pageErrors, []);
  });

  it('pages through every row: next, previous, and the last page', async () => {
    await page.click('[data-mqs="table-next"]');
    await waitPosition(page, '51–100 of 1,000', '127.3.0.51:1883');
    await page.click('[data-mqs="table-prev"]');
    await waitPosition(page, '1–50 of 1,000', '127.3.0.1:1883');
    assert.ok(await page.isDisabled('[data-mqs="table-prev"]'));
    for (let i = 0; i < 19; i++) {
      await page.click('[data-mqs="table-next"]');
      await waitPosition(page, `${(i + 1) * 50 + 1}–${(i + 2) * 50} of 1,000`.replace('1000', '1,000'));
    }
    assert.ok(await page.isDisabled('[data-mqs="table-next"]'));
    const last = await tableRows(page);
    assert.equal(last[last.length - 1].ep, `${hosts[hosts.length - 1]}:1883`);
  });

  it('finds a broker among 1,000, filters by risk and orders by IP:port over every row', async () => {
    await page.fill('[data-mqs="table-find"]', '127.3.2.17:');
    await waitPosition(page, '1–1 of 1 (of 1,000)', '127.3.2.17:1883');
    assert.deepEqual((await tableRows(page)).map((r) => r.ep), ['127.3.2.17:1883']);
    await page.fill('[data-mqs="table-find"]', '');
    await page.selectOption('[data-mqs="table-risk"]', 'LOW');
    await waitPosition(page, 'no rows (of 1,000)');
    assert.match(await page.textContent('.tabulator-placeholder') ?? '', /No row matches these filters/);
    await page.selectOption('[data-mqs="table-risk"]', 'CRITICAL');
    await waitPosition(page, '1–50 of 1,000');
    await page.selectOption('[data-mqs="table-sort"]', 'endpoint');
    await waitPosition(page, '1–50 of 1,000', '127.3.0.1:1883');
    // Clicking a header never sorts the page alone: the order is the server's, over every row.
    // (Tabulator's header sort would order this page ascending on the first click, descending on the second.)
    await page.click('.tabulator-col[tabulator-field="ep"] .tabulator-col-title');
    await page.click('.tabulator-col[tabulator-field="ep"] .tabulator-col-title');
    await page.waitForTimeout(200);
    assert.equal((await tableRows(page))[0].ep, '127.3.0.1:1883');
  });

  it('a reload shows the same page and filters (the dashboard replays the last page, not 1,000 rows)', async () => {
    await page.click('[data-mqs="table-next"]');
    await waitPosition(page, '51–100 of 1,000', '127.3.0.51:1883');
    await page.reload({ waitUntil: 'networkidle' });
    await waitPosition(page, '51–100 of 1,000', '127.3.0.51:1883');
    assert.equal(await page.inputValue('[data-mqs="table-sort"]'), 'endpoint');
    assert.equal((await tableRows(page)).length, 50);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    await page.locator('[data-mqs="table-bar"]').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(OUT, 'dashboard-scale-390.png') });
    const bar = await page.locator('[data-mqs="table-bar"]').boundingBox();
    const next = await page.locator('[data-mqs="table-next"]').boundingBox();
    assert.ok(bar && next && next.x + next.width <= bar.x + bar.width + 1 && next.y + next.height <= bar.y + bar.height + 1, `on a phone the pager stays inside its bar: ${JSON.stringify({ bar, next })}`);
    assert.deepEqual(pageErrors, []);
  });
});

/** Waits until the controls say `text` and, when given, the table's first row is `firstEp` (the table's message and the controls' travel separately). */
async function waitPosition(page: Page, text: string, firstEp?: string): Promise<void> {
  await page
    .waitForFunction(
      ([t, ep]) =>
        (document.querySelector('[data-mqs="table-position"]')?.textContent ?? '').trim() === t &&
        (ep === null ? document.querySelectorAll('.tabulator-row, .tabulator-placeholder').length > 0 : document.querySelector('.tabulator-row .tabulator-cell[tabulator-field="ep"]')?.textContent?.trim() === ep),
      [text, firstEp ?? null] as const,
      { timeout: 15_000 },
    )
    .catch(async (err: Error) => {
      const first = await page.textContent('.tabulator-row .tabulator-cell[tabulator-field="ep"]').catch(() => null);
      throw new Error(`table: wanted "${text}"${firstEp ? ` from ${firstEp}` : ''}, shows "${(await page.textContent('[data-mqs="table-position"]'))?.trim()}" from ${first} (${err.message.split('\n')[0]})`);
    });
}

function tableRows(page: Page): Promise<Array<Record<string, string>>> {
  return page.$$eval('.tabulator-row', (rows) =>
    rows.map((r) => Object.fromEntries(Array.from(r.querySelectorAll('.tabulator-cell')).map((c) => [c.getAttribute('tabulator-field'), (c.textContent ?? '').trim()]))),
  );
}
