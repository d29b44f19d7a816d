// A scan of many brokers from the lab dashboard in Chromium, measured as a user would feel it:
// every websocket message the page receives (its size), when the scan ended (the progress panel
// turns to "Writing the reports…", which the classifier's completion sets) and when the table was
// usable (its first page drawn and its controls counting every row). Shared by the browser test
// (test/browser/dashboard-scale.test.ts: sizes asserted, times logged) and `npm run bench`'s
// dashboard case (times as rows).
import type { Page } from 'playwright-core';

/** What one dashboard scan measured. Times are ms; sizes bytes. */
export interface DashboardScanMeasure {
  /** Start scan pressed -> the scan's end (the completion reached the page). */
  scanMs: number;
  /** The scan's end -> the table's first page drawn with the count of every row (negative: before). */
  usableAfterEndMs: number;
  /** Websocket messages received from pressing Start to the table usable, their total and largest size. */
  frames: number;
  totalBytes: number;
  largestBytes: number;
  /** The table's position text when usable ("1–50 of 1,000"), and its rows drawn. */
  position: string;
  rowsDrawn: number;
}

/** Sizes of the websocket frames the page receives, from when this is called (before page.goto). */
export function watchFrames(page: Page): { since(t: number): Array<{ at: number; bytes: number }> } {
  const frames: Array<{ at: number; bytes: number }> = [];
  page.on('websocket', (ws) => {
    ws.on('framereceived', (f) => frames.push({ at: Date.now(), bytes: typeof f.payload === 'string' ? Buffer.byteLength(f.payload) : f.payload.length }));
  });
  return { since: (t) => frames.filter((f) => f.at >= t) };
}

/**
 * Fills the dashboard's form (target, ports, listen seconds; no login), presses Start scan and
 * waits (at most `timeoutMs`) until the table's controls count `expectRows` rows; measures as
 * DashboardScanMeasure. Throws when the table does not get there in time, naming what it showed.
 */
export async function measureDashboardScan(
  page: Page,
  frames: ReturnType<typeof watchFrames>,
  form: { target: string; ports: string; listen: string },
  expectRows: number,
  timeoutMs: number,
): Promise<DashboardScanMeasure> {
  const field = (label: string) => page.getByLabel(new RegExp(`^${label}`));
  await field('Target').fill(form.target);
  await field('Ports').fill(form.ports);
  await field('Username').fill('');
  await field('Password').fill('');
  await field('Listen').fill(form.listen);
  const expectText = `of ${expectRows.toLocaleString('en-US')}`;
  // The page watches itself every animation frame: when the status first says the reports are
  // being written (or the scan is done) and when the table first shows every row's count.
  await page.evaluate((want) => {
    const w = window as unknown as { __scale?: { end?: number; usable?: number; position?: string; rows?: number } };
    const seen: { end?: number; usable?: number; position?: string; rows?: number; running?: boolean; emptied?: boolean } = {};
    w.__scale = seen;
    const tick = () => {
      // This scan's end and table only: after the panel said it runs and the table was emptied for it
      // (a dashboard that scanned before still shows the last scan's end and rows).
      if (document.querySelector('[data-mqs="progress"]')?.getAttribute('data-state') === 'running') seen.running = true;
      const status = document.querySelector('[data-mqs="status"]')?.textContent ?? '';
      const position = document.querySelector('[data-mqs="table-position"]')?.textContent ?? '';
      if (seen.running && !position.includes(want)) seen.emptied = true;
      if (seen.running && seen.end === undefined && (/Writing the reports/.test(status) || document.querySelector('[data-mqs="done"]'))) seen.end = Date.now();
      const rows = document.querySelectorAll('.tabulator-row').length;
      if (seen.emptied && seen.usable === undefined && position.includes(want) && rows > 0) {
        seen.usable = Date.now();
        seen.position = position.trim();
        seen.rows = rows;
      }
      if (seen.end === undefined || seen.usable === undefined) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }, expectText);
  const t0 = Date.now();
  await page.getByRole('button', { name: /start scan/i }).click();
  try {
    await page.waitForFunction(() => {
      const s = (window as unknown as { __scale: { end?: number; usable?: number } }).__scale;
      return s.end !== undefined && s.usable !== undefined;
    }, undefined, { timeout: timeoutMs, polling: 100 });
  } catch (err) {
    const shown = await page.evaluate(() => ({
      position: document.querySelector('[data-mqs="table-position"]')?.textContent,
      status: document.querySelector('[data-mqs="progress"]')?.textContent?.replace(/\s+/g, ' ').slice(0, 300),
    }));
    throw new Error(`the table did not count ${expectRows} rows within ${timeoutMs} ms: ${JSON.stringify(shown)} (${(err as Error).message.split('\n')[0]})`);
  }
  const seen = await page.evaluate(() => (window as unknown as { __scale: { end: number; usable: number; position: string; rows: number } }).__scale);
  const got = frames.since(t0).filter((f) => f.at <= Math.max(seen.usable, seen.end) + 50);
  return {
    scanMs: seen.end - t0,
    usableAfterEndMs: seen.usable - seen.end,
    frames: got.length,
    totalBytes: got.reduce((s, f) => s + f.bytes, 0),
    largestBytes: got.reduce((m, f) => Math.max(m, f.bytes), 0),
    position: seen.position,
    rowsDrawn: seen.rows,
  };
}
