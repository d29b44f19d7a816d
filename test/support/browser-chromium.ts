// Debian's Chromium driven by playwright-core: never a downloaded browser, nothing that phones
// home (no component updates, sync, background networking or QUIC), headless, loopback pages only.
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/**
 * Every request the page makes must stay on 127.0.0.1 (the dashboard loads only local assets);
 * anything else is aborted and recorded, so a test can assert that the list stays empty.
 */
export async function loopbackOnly(page: Page): Promise<string[]> {
  const blocked: string[] = [];
  await page.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || url.protocol === 'blob:' || url.hostname === '127.0.0.1') return route.continue();
    blocked.push(route.request().url());
    return route.abort();
  });
  return blocked;
}

/**
 * A screenshot of the whole dashboard: node-red-dashboard scrolls inside <md-content>, not the
 * page, so the viewport is grown to the content's height first (and restored afterwards).
 */
export async function dashboardScreenshot(page: Page, path: string): Promise<void> {
  const before = page.viewportSize() ?? { width: 1600, height: 1200 };
  const height = await page.evaluate(() => {
    const content = document.querySelector('md-content');
    const scrolled = content ? content.scrollTop : 0;
    const bottoms = Array.from(document.querySelectorAll('ui-card-panel, md-card')).map((e) => e.getBoundingClientRect().bottom + scrolled);
    return Math.ceil(Math.max(document.body.scrollHeight, ...bottoms) + 16);
  });
  await page.setViewportSize({ width: before.width, height: Math.min(Math.max(height, before.height), 4000) });
  await page.waitForTimeout(800); // charts and the table redraw for the new size
  await page.screenshot({ path, fullPage: true });
  await page.setViewportSize(before);
}
