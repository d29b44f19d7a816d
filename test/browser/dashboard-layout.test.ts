// The lab dashboard's layout (issue 18, "Layout that fits"): after a real scan of the lab, at a
// laptop (1280x720), a projector (1366x768), a desktop (1920x1080) and a phone (390x844), every
// panel (ui group card) lies inside the window's width, nothing in a panel sticks out of it, the
// page does not scroll sideways, and from 1280 wide up the overview starts on the first screen.
// Screenshots of the first screen and of the whole page go to test-output/.
import { strict as assert } from 'node:assert';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { requireTool } from '../support/tools';
import { dashboardScreenshot, launchChromium, loopbackOnly } from '../support/browser-chromium';
import { startLab, stopLab, type LabProcess } from '../support/lab-process';

const OUT = join(resolve(__dirname, '../..'), 'test-output');

const SIZES = [
  { width: 1280, height: 720 },
  { width: 1366, height: 768 },
  { width: 1920, height: 1080 },
  { width: 390, height: 844 },
];

interface Box { name: string; left: number; right: number; top: number; bottom: number }

interface Geometry {
  innerWidth: number;
  innerHeight: number;
  /** document.scrollingElement.scrollWidth */
  pageScrollWidth: number;
  /** node-red-dashboard scrolls the tab inside <md-content>: its own sideways overflow. */
  contentScroll: { scrollWidth: number; clientWidth: number };
  panels: Box[];
  /** Widgets (md-card) of a panel whose box leaves the panel's box. */
  widgetsOutside: string[];
}

describe('lab dashboard layout in Chromium: 1280x720, 1366x768, 1920x1080, 390x844', function () {
  this.timeout(120_000);
  let lab: LabProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let blocked: string[] = [];
  const pageErrors: string[] = [];
  let insecure: string;

  before(async function () {
    const chromiumPath = requireTool(this, 'chromium');
    mkdirSync(OUT, { recursive: true });
    lab = await startLab();
    insecure = `127.0.0.1:${lab.ports.insecure}`;
    browser = await launchChromium(chromiumPath);
    page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    blocked = await loopbackOnly(page);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(lab.url('/ui/'), { waitUntil: 'networkidle' });
    // A real scan of the lab's four brokers, anonymous, listening 3 s: the table, the cards and
    // the charts fill in, and the detail has a broker to show.
    const ports = `${lab.ports.insecure},${lab.ports.secure},${lab.ports.ws},${lab.ports.wss}`;
    await page.waitForFunction((p) => Array.from(document.querySelectorAll<HTMLInputElement>('form input')).some((i) => i.value === p),
      ports, { timeout: 15_000 });
    await page.getByLabel(/^Listen/).fill('3');
    await page.getByRole('button', { name: /start scan/i }).click();
    await page.waitForFunction(() => Number(document.querySelector('[data-mqs="history"]')?.getAttribute('data-total')) > 0, undefined, { timeout: 60_000 });
    await page.waitForSelector('[data-mqs="done"]');
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    if (lab) await stopLab(lab);
  });

  for (const viewport of SIZES) {
    const size = `${viewport.width}x${viewport.height}`;
    it(`${size}: every panel inside the window's width, nothing sticking out of a panel, no sideways scrolling${viewport.width >= 1280 ? ', the overview on the first screen' : ''}`, async () => {
      // A fresh load at this size, as on that screen; then a broker's detail is opened.
      await page.setViewportSize(viewport);
      await page.goto(lab!.url('/ui/'), { waitUntil: 'networkidle' });
      await page.waitForFunction(() => document.querySelectorAll('.tabulator-row').length > 0, undefined, { timeout: 15_000 });
      const row = page.locator('.tabulator-row', { has: page.locator(`.tabulator-cell[tabulator-field="ep"]:text-is("${insecure}")`) }).first();
      await row.locator('.tabulator-cell[tabulator-field="ep"]').click();
      await page.waitForFunction((e) => document.querySelector('[data-mqs="detail-ep"]')?.textContent === e, insecure);
      // Clicking the row scrolled the tab: back to its top, the first screen.
      await page.evaluate(() => document.querySelector('[ui-masonry]')!.closest('md-content')!.scrollTo(0, 0));
      await page.waitForTimeout(800); // the groups' layout and the charts settle after the detail changed
      await page.screenshot({ path: join(OUT, `dashboard-layout-${size}.png`) });

      const g = await geometry(page);
      const problems: string[] = [];
      for (const p of g.panels) {
        if (p.left < -1 || p.right > viewport.width + 1) problems.push(`panel "${p.name}" spans ${p.left}..${p.right} of ${viewport.width}`);
      }
      if (g.pageScrollWidth > g.innerWidth + 1) problems.push(`the page scrolls sideways: scrollWidth ${g.pageScrollWidth} > ${g.innerWidth}`);
      if (g.contentScroll.scrollWidth > g.contentScroll.clientWidth + 1) {
        problems.push(`the dashboard's content scrolls sideways: scrollWidth ${g.contentScroll.scrollWidth} > ${g.contentScroll.clientWidth}`);
      }
      for (const w of g.widgetsOutside) problems.push(`sticks out of its panel: ${w}`);
      if (viewport.width >= 1280) {
        const overview = g.panels.find((p) => p.name === 'Overview');
        assert.ok(overview, `an Overview panel: ${JSON.stringify(g.panels.map((p) => p.name))}`);
        if (!(overview.top >= 0 && overview.top < g.innerHeight)) problems.push(`the overview starts at ${overview.top}, below the first screen (${g.innerHeight})`);
      }
      // The table: IP:PORT and Risk are seen without scrolling the table sideways (on a phone the
      // columns of less weight hide first: Messages, Sensor, Sensor data, Topic).
      const cells = await row.evaluate((r) => ['ep', 'risk'].map((f) => {
        const c = r.querySelector(`.tabulator-cell[tabulator-field="${f}"]`)!.getBoundingClientRect();
        const table = r.closest('.tabulator')!.getBoundingClientRect();
        return { f, left: c.left, right: c.right, width: c.width, tableLeft: table.left, tableRight: table.right };
      }));
      for (const c of cells) if (!(c.width > 0 && c.left >= c.tableLeft - 1 && c.right <= c.tableRight + 1)) problems.push(`table column ${c.f} is not inside the table: ${JSON.stringify(c)}`);
      // The scan form (a template of fixed height) shows all of itself, down to its last line.
      const formClip = await page.evaluate(() => {
        const form = document.querySelector('[data-mqs="scan-form"]')!;
        const card = form.closest('md-card') ?? form.parentElement!;
        const last = form.lastElementChild!.getBoundingClientRect();
        return { lastBottom: last.bottom, cardBottom: card.getBoundingClientRect().bottom };
      });
      if (formClip.lastBottom > formClip.cardBottom + 1) problems.push(`the scan form is cut: its last line ends at ${formClip.lastBottom}, its widget at ${formClip.cardBottom}`);
      await dashboardScreenshot(page, join(OUT, `dashboard-layout-${size}-full.png`));
      assert.deepEqual(problems, [], `${size}: ${JSON.stringify(g.panels)}`);
    });
  }

  it('made no request beyond 127.0.0.1 and raised no page error', () => {
    assert.deepEqual(blocked, []);
    assert.deepEqual(pageErrors, []);
  });
});

/** Where the panels are, what sticks out of them, and whether anything scrolls sideways. */
function geometry(page: Page): Promise<Geometry> {
  return page.evaluate(() => {
    const round = (n: number) => Math.round(n * 10) / 10;
    const visible = (e: Element) => {
      const r = e.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden';
    };
    const panels = Array.from(document.querySelectorAll('ui-card-panel')).filter(visible);
    const widgetsOutside: string[] = [];
    const boxes = panels.map((p) => {
      const r = p.getBoundingClientRect();
      const name = (p.querySelector('.nr-dashboard-cardtitle')?.textContent ?? p.id).trim();
      for (const w of Array.from(p.querySelectorAll('.nr-dashboard-cardcontainer > *')).filter(visible)) {
        const b = w.getBoundingClientRect();
        if (b.left < r.left - 1 || b.right > r.right + 1) widgetsOutside.push(`${name}: ${w.className.split(' ')[0]} ${round(b.left)}..${round(b.right)} in ${round(r.left)}..${round(r.right)}`);
      }
      return { name, left: round(r.left), right: round(r.right), top: round(r.top), bottom: round(r.bottom) };
    });
    const content = document.querySelector('[ui-masonry]')!.closest('md-content')!;
    return {
      innerWidth: window.innerWidth,
      innerHeight: window.innerHeight,
      pageScrollWidth: document.scrollingElement!.scrollWidth,
      contentScroll: { scrollWidth: content.scrollWidth, clientWidth: content.clientWidth },
      panels: boxes,
      widgetsOutside,
    };
  });
}
