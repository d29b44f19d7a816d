// The Lab controls panel of the lab dashboard in Chromium, served by the real launcher (issue 18):
// "fix, rescan, see it resolved" without Mosquitto. A scan of the insecure lab broker, "Require a
// login" switched on in the panel, a rescan, and the broker detail says what was resolved; the
// secure broker worse with the expired certificate, then LOW with the lab CA's certificate and the
// ACL; the panel as the lab left it after a restart. Screenshots go to test-output/.
import { strict as assert } from 'node:assert';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { requireTool } from '../support/tools';
import { launchChromium, loopbackOnly } from '../support/browser-chromium';
import { labUsers, startLab, stopLab, type LabProcess } from '../support/lab-process';

const OUT = join(resolve(__dirname, '../..'), 'test-output');
const SIZES = [{ width: 1366, height: 768 }, { width: 390, height: 844 }];

describe('Lab controls in Chromium: fix, rescan, see it resolved (issue 18)', function () {
  this.timeout(180_000);
  let lab: LabProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let blocked: string[] = [];
  const pageErrors: string[] = [];
  let studentPassword: string;

  before(async function () {
    const chromiumPath = requireTool(this, 'chromium');
    mkdirSync(OUT, { recursive: true });
    lab = await startLab();
    studentPassword = labUsers(lab.userDir).student;
    browser = await launchChromium(chromiumPath);
    page = await browser.newPage({ viewport: SIZES[0] });
    blocked = await loopbackOnly(page);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(lab.url('/ui/'), { waitUntil: 'networkidle' });
    await page.waitForSelector('[data-mqs="lab-controls"] [data-broker="insecure"]', { timeout: 15_000 });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    if (lab) await stopLab(lab);
  });

  it('shows each lab broker\'s controls as shipped, with the mosquitto.conf lines under each', async () => {
    assert.equal(await control('insecure', 'requireLogin').locator('input[type=checkbox]').isChecked(), false);
    assert.equal(await control('secure', 'certificate').locator('select').inputValue(), 'trusted');
    assert.equal(await conf('insecure', 'requireLogin'), 'allow_anonymous true\n# no password_file: any login is accepted');
    assert.match(await conf('secure', 'certificate'), /^certfile \/etc\/mosquitto\/certs\/server\.crt$/m);
    assert.equal(await page.locator('[data-mqs="lab-reset"]').isDisabled(), true, 'nothing to reset');
    assert.match((await page.textContent('[data-broker="insecure"] .mqs-lab-addr')) ?? '', new RegExp(`^mqtt://127\\.0\\.0\\.1:${lab!.ports.insecure} · ws://127\\.0\\.0\\.1:${lab!.ports.ws}/mqtt$`));
  });

  it('the insecure broker: scan (CRITICAL), "Require a login" in the panel, rescan: "Since the previous scan" says ANONYMOUS_ACCESS and WRONG_CREDENTIALS_ACCEPTED resolved', async () => {
    const ep = `127.0.0.1:${lab!.ports.insecure}`;
    await scan({ ports: String(lab!.ports.insecure) });
    await showDetail(ep);
    assert.match((await page.textContent('[data-mqs="detail"] .mqs-badge')) ?? '', /CRITICAL/);
    assert.equal(await page.locator('[data-mqs="detail-since"]').count(), 0, 'the first scan of this broker: nothing to compare with');

    await control('insecure', 'requireLogin').locator('input[type=checkbox]').check();
    await page.waitForFunction(() => /Require a login is now on/.test(document.querySelector('[data-mqs="lab-notice"]')?.textContent ?? ''));
    assert.equal(await page.getAttribute('[data-mqs="lab-notice"]', 'data-kind'), 'done');
    assert.match((await page.textContent('[data-mqs="lab-notice"]')) ?? '', /Insecure lab broker: Require a login is now on\. \d+ connections? (was|were) closed: clients reconnect under the new setting\. Scan again to see what changed\./);
    assert.equal(await conf('insecure', 'requireLogin'), 'allow_anonymous false\npassword_file /etc/mosquitto/passwd\n# mosquitto_passwd /etc/mosquitto/passwd student');
    assert.equal(await control('insecure', 'requireLogin').locator('.mqs-lab-changed').count(), 1);
    assert.equal(await page.locator('[data-mqs="lab-reset"]').isDisabled(), false);
    for (const size of SIZES) await shot(size, '[data-mqs="lab-controls"]', 'lab-controls-login-on');

    await scan({ ports: String(lab!.ports.insecure) });
    await showDetail(ep);
    const since = ((await page.textContent('[data-mqs="detail-since"]')) ?? '').trim();
    assert.match(since, /^Since the previous scan \([0-9a-f]{8}\): resolved ANONYMOUS_ACCESS, [^;]*WRONG_CREDENTIALS_ACCEPTED/);
    assert.match(since, /new PLAINTEXT_CREDENTIALS/, 'a login over plain TCP: the next thing to fix');
    assert.match(since, /risk CRITICAL 0 -> (HIGH|MEDIUM) \d+/);
    assert.match((await page.textContent('[data-mqs="detail"]')) ?? '', /Anonymous\s*rejected/);
    for (const size of SIZES) await shot(size, '[data-mqs="detail-since"]', 'lab-controls-resolved');
  });

  it('the secure broker: worse with the expired certificate, LOW with the lab CA\'s certificate and the ACL (student login), its findings resolved', async () => {
    const ep = `127.0.0.1:${lab!.ports.secure}`;
    await control('secure', 'certificate').locator('select').selectOption('expired');
    await page.waitForFunction(() => /Certificate is now Lab CA, expired/.test(document.querySelector('[data-mqs="lab-notice"]')?.textContent ?? ''));
    assert.match(await conf('secure', 'certificate'), /^certfile \/etc\/mosquitto\/certs\/server-expired\.crt$/m);
    await scan({ ports: String(lab!.ports.secure), username: 'student', password: studentPassword });
    await showDetail(ep);
    const detail = page.locator('[data-mqs="detail"]');
    assert.equal(await detail.locator('[data-finding="TLS_EXPIRED"]').count(), 1);
    const worse = ((await detail.locator('.mqs-badge').first().textContent()) ?? '').trim();
    assert.equal(worse, 'HIGH', 'TLS_EXPIRED is a high finding');
    assert.match((await detail.textContent()) ?? '', /Your login\s*not sent/, 'the scanner withholds the login from a certificate it cannot trust');

    await control('secure', 'certificate').locator('select').selectOption('trusted');
    await page.waitForFunction(() => /Certificate is now Lab CA, valid/.test(document.querySelector('[data-mqs="lab-notice"]')?.textContent ?? ''));
    await control('secure', 'acl').locator('input[type=checkbox]').check();
    await page.waitForFunction(() => /Secure lab broker: Topic ACL is now on/.test(document.querySelector('[data-mqs="lab-notice"]')?.textContent ?? ''));
    for (const size of SIZES) await shot(size, '[data-broker="secure"] [data-control="acl"]', 'lab-controls-secure-acl');
    assert.match(await conf('secure', 'acl'), /^acl_file \/etc\/mosquitto\/acl\n# in \/etc\/mosquitto\/acl:\nuser esp32\ntopic write lab\/secure\/#\n/);
    await scan({ ports: String(lab!.ports.secure), username: 'student', password: studentPassword });
    await showDetail(ep);
    assert.equal(((await detail.locator('.mqs-badge').first().textContent()) ?? '').trim(), 'LOW');
    assert.match((await detail.textContent()) ?? '', /score 100\/100/);
    assert.match((await detail.textContent()) ?? '', /Findings and fixes \(0\)\s*No findings\./);
    const since = ((await page.textContent('[data-mqs="detail-since"]')) ?? '').trim();
    assert.match(since, new RegExp(`^Since the previous scan \\([0-9a-f]{8}\\): resolved TLS_EXPIRED; risk ${worse} \\d+ -> LOW 100`));
    for (const size of SIZES) await shot(size, '[data-mqs="detail-since"]', 'lab-controls-secure-low');
    assert.ok(!(await page.content()).includes(studentPassword), 'the password is nowhere in the page');
  });

  it('after a restart the panel shows the lab as the class left it; "Back to the lab as shipped" undoes every change', async () => {
    const { userDir, ports } = lab!;
    await page.goto('about:blank');
    assert.equal(await stopLab(lab!, { keepUserDir: true }), 0);
    lab = undefined;
    lab = await startLab({ userDir, ports });
    assert.match(lab.output(), /Lab controls: +insecure broker requires a login; secure broker has the ACL/);
    await page.setViewportSize(SIZES[0]);
    await page.goto(lab.url('/ui/'), { waitUntil: 'networkidle' });
    await page.waitForSelector('[data-mqs="lab-controls"] [data-broker="insecure"]', { timeout: 15_000 });
    assert.equal(await control('insecure', 'requireLogin').locator('input[type=checkbox]').isChecked(), true);
    assert.equal(await control('secure', 'acl').locator('input[type=checkbox]').isChecked(), true);
    await page.click('[data-mqs="lab-reset"]');
    await page.waitForFunction(() => /The lab is back as shipped/.test(document.querySelector('[data-mqs="lab-notice"]')?.textContent ?? ''));
    assert.equal(await control('insecure', 'requireLogin').locator('input[type=checkbox]').isChecked(), false);
    assert.equal(await control('secure', 'acl').locator('input[type=checkbox]').isChecked(), false);
    assert.equal(await page.locator('[data-mqs="lab-reset"]').isDisabled(), true);
    await shot(SIZES[0], '[data-mqs="lab-notice"]', 'lab-controls-reset');
  });

  it('the Lab controls panel lies inside the window and overlaps no other panel at 1280x720, 1366x768, 1920x1080 and 390x844', async () => {
    for (const size of [{ width: 1280, height: 720 }, { width: 1366, height: 768 }, { width: 1920, height: 1080 }, { width: 390, height: 844 }]) {
      await page.setViewportSize(size);
      await page.goto(lab!.url('/ui/'), { waitUntil: 'networkidle' });
      await page.waitForSelector('[data-mqs="lab-controls"] [data-broker="insecure"]', { timeout: 15_000 });
      await page.waitForTimeout(800); // the groups' layout settles
      const panels = await page.$$eval('ui-card-panel', (ps) => ps.map((p) => {
        const r = p.getBoundingClientRect();
        return { name: (p.querySelector('.nr-dashboard-cardtitle')?.textContent ?? '').trim(), left: r.left, right: r.right, top: r.top, bottom: r.bottom };
      }).filter((b) => b.right > b.left && b.bottom > b.top));
      const mine = panels.find((p) => p.name === 'Lab controls');
      assert.ok(mine, `${size.width}: a Lab controls panel among ${JSON.stringify(panels.map((p) => p.name))}`);
      assert.ok(mine.left >= -1 && mine.right <= size.width + 1, `${size.width}: ${JSON.stringify(mine)}`);
      const overlapping = panels.filter((p) => p !== mine && p.left < mine.right - 1 && mine.left < p.right - 1 && p.top < mine.bottom - 1 && mine.top < p.bottom - 1);
      assert.deepEqual(overlapping.map((p) => p.name), [], `${size.width}x${size.height}: ${JSON.stringify(mine)}`);
    }
    await page.setViewportSize(SIZES[0]);
  });

  it('made no request beyond 127.0.0.1 and raised no page error', () => {
    assert.deepEqual(blocked, []);
    assert.deepEqual(pageErrors, []);
  });

  // ---- helpers ----

  function control(broker: string, id: string) {
    return page.locator(`[data-mqs="lab-controls"] [data-broker="${broker}"] [data-control="${id}"]`);
  }

  async function conf(broker: string, id: string): Promise<string> {
    return (await control(broker, id).locator('[data-mqs="lab-conf"]').textContent()) ?? '';
  }

  /** Fills the form and runs a scan (listening 2 s) to its end: the reports written, the history one longer. */
  async function scan(form: { ports: string; username?: string; password?: string }): Promise<void> {
    const field = (label: string) => page.getByLabel(new RegExp(`^${label}`));
    await page.waitForFunction(() => Array.from(document.querySelectorAll<HTMLInputElement>('form input')).some((i) => i.value === '127.0.0.1'), undefined, { timeout: 15_000 });
    const before = await page.locator('[data-mqs="history"] .mqs-hist').count();
    await field('Ports').fill(form.ports);
    await field('Username').fill(form.username ?? '');
    await field('Password').fill(form.password ?? '');
    await field('Listen').fill('2');
    await page.getByRole('button', { name: /start scan/i }).click();
    await page.waitForFunction((n) => document.querySelectorAll('[data-mqs="history"] .mqs-hist').length > n, before, { timeout: 60_000 });
    await page.waitForSelector('[data-mqs="done"]');
  }

  /** The broker detail of `ep` (the scan's worst broker is shown at its end; a row click otherwise). */
  async function showDetail(ep: string): Promise<void> {
    const shown = () => page.evaluate(() => document.querySelector('[data-mqs="detail-ep"]')?.textContent);
    if ((await shown()) !== ep) {
      await page.locator('.tabulator-row', { has: page.locator(`.tabulator-cell[tabulator-field="ep"]:text-is("${ep}")`) }).first().locator('.tabulator-cell[tabulator-field="security"]').click();
    }
    await page.waitForFunction((e) => document.querySelector('[data-mqs="detail-ep"]')?.textContent === e, ep);
  }

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
