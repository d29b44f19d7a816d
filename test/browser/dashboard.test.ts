// The lab dashboard (flows/lab-dashboard.json) in a real browser, served by the real launcher:
// Debian's Chromium through playwright-core fills the form, scans the embedded lab brokers and
// checks what a student sees against the lab's truth. Screenshots go to test-output/.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import type { Browser, Locator, Page } from 'playwright-core';
import { requireTool } from '../support/tools';
import { dashboardScreenshot, launchChromium, loopbackOnly } from '../support/browser-chromium';
import { apiKeyFromBanner, labUsers, startLab, stopLab, type LabProcess } from '../support/lab-process';
import { deviceExposure, mosquittoSaying } from '../support/sample-results';
import { startMosquitto } from '../support/mosquitto';
import { brokerDetail, keepResult } from '../../lib/dashboard';
import { classifyResult } from '../../lib/risk';

const ROOT = resolve(__dirname, '../..');
const OUT = join(ROOT, 'test-output');
const XSS_TOPIC = 'lab/insecure/<img src=x onerror=alert(1)>';
/** Angular must not evaluate broker data either: this stays literally {{7*7}}, never 49. */
const NG_TOPIC = 'lab/insecure/{{7*7}}{{constructor.constructor("alert(3)")()}}';
/** Raw, these read "lab/insecure/rtl/exe.png" and paint the row red: the scan result escapes them. */
const RTL_TOPIC = 'lab/insecure/rtl/\u202egnp.exe';
const ESC_TOPIC = 'lab/insecure/esc/\u001b[31mred';
/** 5,000 characters: shown bounded, so it cannot overflow a card. */
const LONG_TOPIC = `lab/insecure/long/${'x'.repeat(4982)}`;
const RAW_HIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff]/;

interface Row {
  ep: string;
  security: string;
  sensor: string;
  data: string;
  topic: string;
  messages: string;
  risk: string;
}

describe('lab dashboard in Chromium (flows/lab-dashboard.json)', function () {
  this.timeout(120_000);
  let lab: LabProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let blocked: string[] = [];
  const dialogs: string[] = [];
  const pageErrors: string[] = [];
  let insecure: string;
  let secure: string;
  /** The same two brokers over MQTT over WebSockets (ws, wss), as the lab serves them. */
  let wsEp: string;
  let wssEp: string;
  let labPorts: string;
  let studentPassword: string;
  /** The scans of the history test, by source. */
  let apiScanId = '';
  let flowScanId = '';
  let dashboardScanIds: string[] = [];

  before(async function () {
    const chromiumPath = requireTool(this, 'chromium');
    mkdirSync(OUT, { recursive: true });
    lab = await startLab();
    insecure = `127.0.0.1:${lab.ports.insecure}`;
    secure = `127.0.0.1:${lab.ports.secure}`;
    wsEp = `127.0.0.1:${lab.ports.ws}`;
    wssEp = `127.0.0.1:${lab.ports.wss}`;
    labPorts = `${lab.ports.insecure},${lab.ports.secure},${lab.ports.ws},${lab.ports.wss}`;
    studentPassword = labUsers(lab.userDir).student;
    // A broker may name a topic anything: this one is markup, and must stay text.
    await publishRetained(insecure, XSS_TOPIC, '<script>alert(2)</script>');
    await publishRetained(insecure, NG_TOPIC, '{{7*7}}');
    await publishRetained(insecure, RTL_TOPIC, '1');
    await publishRetained(insecure, ESC_TOPIC, '1');
    await publishRetained(insecure, LONG_TOPIC, '1');
    browser = await launchChromium(chromiumPath);
    page = await browser.newPage({ viewport: { width: 1600, height: 1200 }, acceptDownloads: true });
    blocked = await loopbackOnly(page);
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(lab.url('/ui/'), { waitUntil: 'networkidle' });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    if (lab) await stopLab(lab);
  });

  it('opens pre-filled: target 127.0.0.1, the lab ports (TCP, TLS, ws, wss), no password', async () => {
    await page.waitForFunction((ports) => Array.from(document.querySelectorAll<HTMLInputElement>('form input')).some((i) => i.value === ports),
      labPorts, { timeout: 15_000 });
    assert.equal(await field('Target').inputValue(), '127.0.0.1');
    assert.equal(await field('Ports').inputValue(), labPorts);
    assert.equal(await field('Password').inputValue(), '');
    assert.equal(await field('Password').getAttribute('type'), 'password');
    assert.match(await page.textContent('[data-mqs="progress"]') ?? '', /Ready/);
  });

  it('refuses bad input with a message that says what to fix', async () => {
    await field('Ports').fill('mqtt-everything');
    await page.getByRole('button', { name: /start scan/i }).click();
    await page.waitForSelector('[data-mqs="notice"]');
    assert.match((await page.textContent('[data-mqs="notice"]')) ?? '', /^Ports: numbers, ranges or a preset/);
    assert.equal(await field('Ports').inputValue(), 'mqtt-everything', 'the form keeps what was typed');
    // The target expander's own refusal (a prefix beyond /32) reaches the panel through a Catch node.
    await field('Ports').fill(labPorts);
    await field('Target').fill('127.0.0.1/33');
    await page.getByRole('button', { name: /start scan/i }).click();
    await page.waitForSelector('[data-mqs="error"]');
    assert.match((await page.textContent('[data-mqs="error"]')) ?? '', /"127\.0\.0\.1\/33": prefix must be 0-32/);
    await field('Target').fill('127.0.0.1');
  });

  it('an anonymous scan: the insecure broker is open with its PIR topic over TCP and ws, the secure one wants a login over TLS and wss', async () => {
    await runScan({ listen: '3' });
    const rows = await tableRows();
    const ins = rows.filter((r) => r.ep === insecure);
    const sec = rows.filter((r) => r.ep === secure);
    assert.ok(ins.length >= 2, `insecure broker rows: ${JSON.stringify(rows)}`);
    for (const r of ins) {
      assert.equal(r.security, 'plain TCP · anonymous');
      assert.equal(r.risk, 'CRITICAL');
    }
    const pir = ins.find((r) => r.topic === 'lab/insecure/esp32-sim01/pir');
    assert.ok(pir, 'the PIR topic is listed');
    assert.equal(pir.sensor, 'PIR');
    assert.match(pir.data, /^motion (yes|no)$/);
    assert.equal(sec.length, 1, `one row for the secure broker: ${JSON.stringify(sec)}`);
    assert.equal(sec[0].security, 'TLS · login required');
    assert.equal(sec[0].topic, '(not readable: login required)');
    assert.notEqual(sec[0].risk, 'CRITICAL');
    // The same brokers over WebSockets: the insecure one as open (the same topics), the secure one as closed.
    const ws = rows.filter((r) => r.ep === wsEp);
    assert.ok(ws.some((r) => r.topic === 'lab/insecure/esp32-sim01/pir'), `ws rows: ${JSON.stringify(ws)}`);
    for (const r of ws) assert.deepEqual([r.security, r.risk], ['plain WebSocket · anonymous', 'CRITICAL']);
    const wss = rows.filter((r) => r.ep === wssEp);
    assert.deepEqual(wss.map((r) => [r.security, r.topic]), [['TLS WebSocket · login required', '(not readable: login required)']]);
    // Worst risk first.
    assert.equal(rows[0].risk, 'CRITICAL');
    // The flow trusts the lab CA (its tls-config reads MQTTSEC_LAB_CA): no TLS issue on the secure broker.
    assert.deepEqual(await cards(), { scanned: 4, open: 2, authFailures: 2, tlsIssues: 0, critHigh: critOrHigh(rows) });
    assert.ok(critOrHigh(rows) >= 1);
    assert.match(await page.textContent('[data-mqs="progress"]') ?? '', /Done in [\d.]+ s: 4 broker\(s\), worst risk CRITICAL/);
    await dashboardScreenshot(page, join(OUT, 'dashboard-anonymous.png'));
  });

  it('shows topics named <img src=x onerror=alert(1)> and {{7*7}} as text: no element, no dialog, no evaluation', async () => {
    const rows = await tableRows();
    const xss = rows.find((r) => r.topic === XSS_TOPIC && r.ep === insecure);
    assert.ok(xss, `the markup-named topic is a row: ${JSON.stringify(rows.map((r) => r.topic))}`);
    const cellHtml = await page.$$eval('.tabulator-cell[tabulator-field="topic"]', (cells) => cells.map((c) => c.innerHTML));
    assert.ok(cellHtml.some((h) => h.includes('&lt;img src=x onerror=alert(1)&gt;')), 'escaped in the cell');
    // The detail view of that broker lists it too, as text.
    await clickRow(insecure);
    await page.waitForFunction((t) => (document.querySelector('[data-mqs="detail-topics"]')?.textContent ?? '').includes(t), XSS_TOPIC);
    const topics = (await page.textContent('[data-mqs="detail-topics"]')) ?? '';
    assert.ok(topics.includes(NG_TOPIC), 'an Angular expression in a topic stays text');
    assert.ok(rows.some((r) => r.topic === NG_TOPIC && r.data === '{{7*7}}'), 'and in the table');
    assert.ok(!topics.includes('lab/insecure/49'));
    assert.equal(await page.locator('img[src="x"]').count(), 0);
    assert.equal(await page.evaluate(() => Array.from(document.images).filter((i) => i.getAttribute('src') === 'x').length), 0);
    assert.equal(await page.locator('script:has-text("alert(2)")').count(), 0);
    await page.waitForTimeout(500);
    assert.deepEqual(dialogs, []);
  });

  it('shows topics named with U+202E and ESC escaped (\\u{202E}, \\u{1B}), and a 5,000-character one bounded, in the table and the detail view', async () => {
    const rows = await tableRows();
    const shown = rows.map((r) => r.topic);
    assert.ok(shown.includes('lab/insecure/rtl/\\u{202E}gnp.exe'), JSON.stringify(shown));
    assert.ok(shown.includes('lab/insecure/esc/\\u{1B}[31mred'), JSON.stringify(shown));
    await clickRow(insecure);
    await page.waitForFunction(() => (document.querySelector('[data-mqs="detail-topics"]')?.textContent ?? '').includes('rtl/\\u{202E}gnp.exe'));
    const detail = (await page.textContent('[data-mqs="detail"]')) ?? '';
    assert.ok(detail.includes('esc/\\u{1B}[31mred'), 'the detail view lists it escaped');
    const long = `lab/insecure/long/${'x'.repeat(238)}…(+4744 chars)`;
    assert.ok(shown.includes(long) && detail.includes(long), 'the 5,000-character topic is shown bounded');
    const text = await page.evaluate(() => document.body.innerText);
    assert.doesNotMatch(text, RAW_HIDDEN, 'no raw U+202E or ESC anywhere on the page');
    assert.ok(!text.includes('x'.repeat(300)));
  });

  it('the insecure broker\'s detail names the lab ESP32 behind its topics under "Devices and data"; the reference that is no URL is text', async () => {
    await clickRow(insecure);
    const block = page.locator('[data-mqs="devices"]');
    await block.waitFor();
    assert.deepEqual(await block.locator('.mqs-eco').evaluateAll((es) => es.map((e) => e.getAttribute('data-ecosystem'))), ['lab-esp32']);
    assert.equal((await block.innerText()).replace(/\s+/g, ' '),
      "DEVICES AND DATA Lab ESP32 (mqttsec) 1 device The lab board's sensor readings and its device id, which carries the board's Wi-Fi MAC address. " +
      'Reference firmware/esp32_mixed_security (this project) Devices 1 Command topics 0');
    assert.equal(await block.locator('a').count(), 0);
    assert.equal(await page.locator('[data-mqs="vulns"]').count(), 0, 'aedes says no version: no "Known vulnerabilities" block');
  });

  it('the detail view of the secure broker: its findings with fixes and its TLS certificate', async () => {
    await clickRow(secure);
    await page.waitForFunction((ep) => document.querySelector('[data-mqs="detail-ep"]')?.textContent === ep, secure);
    const detail = page.locator('[data-mqs="detail"]');
    // The dashboard flow's tls-config trusts the lab CA: the certificate chains to it.
    assert.equal(await detail.locator('[data-finding="TLS_UNTRUSTED"]').count(), 0, 'the lab CA is trusted by the flow');
    assert.match((await detail.textContent()) ?? '', /Findings and fixes \(\d+\)/);
    assert.equal(await detail.locator('[data-finding="ANONYMOUS_ACCESS"]').count(), 0);
    assert.equal(await detail.locator('[data-mqs="devices"]').count(), 0, 'not listened to: no "Devices and data" block');
    assert.equal(await detail.locator('[data-mqs="vulns"]').count(), 0, 'no version said (aedes): no "Known vulnerabilities" block');
    const cert = (await page.textContent('[data-mqs="cert"]')) ?? '';
    assert.match(cert, /CN=localhost/);
    assert.match(cert, /CN=MQTT Security Lab CA/);
    assert.match(cert, /days left/);
    assert.match(cert, /Trust\s*trusted/);
    const text = (await detail.textContent()) ?? '';
    assert.match(text, /Anonymous\s*rejected/);
    assert.match(text, /MQTT over TLS/);
    await dashboardScreenshot(page, join(OUT, 'dashboard-detail-secure.png'));
  });

  it('the detail view of the broker over WebSockets: its ws:// address and the wss fix', async () => {
    await clickRow(wsEp);
    await page.waitForFunction((ep) => document.querySelector('[data-mqs="detail-ep"]')?.textContent === ep, wsEp);
    const text = (await page.textContent('[data-mqs="detail"]')) ?? '';
    assert.ok(text.includes(`MQTT over WebSocket (plain): ws://${wsEp}/mqtt`), text.slice(0, 400));
    assert.match(text, /protocol websockets/, 'the PLAINTEXT_TRANSPORT fix names the websockets listener');
    await dashboardScreenshot(page, join(OUT, 'dashboard-detail-ws.png'));
  });

  it('with the student login the secure broker shows its DHT and LDR topics; the form keeps the password in this tab only', async () => {
    for (const t of [XSS_TOPIC, NG_TOPIC, RTL_TOPIC, ESC_TOPIC, LONG_TOPIC]) await publishRetained(insecure, t, ''); // an empty retained message deletes it
    await runScan({ username: 'student', password: studentPassword, listen: '3' });
    // The form keeps what this tab typed, the password too, for the next scan (issue 18).
    assert.equal(await field('Username').inputValue(), 'student');
    assert.equal(await field('Password').inputValue(), studentPassword);
    const rows = await tableRows();
    const sec = rows.filter((r) => r.ep === secure);
    for (const r of sec) assert.equal(r.security, 'TLS · login accepted');
    const dht = sec.find((r) => r.topic === 'lab/secure/esp32-sim01/dht');
    const ldr = sec.find((r) => r.topic === 'lab/secure/esp32-sim01/ldr');
    assert.ok(dht && ldr, `DHT and LDR rows: ${JSON.stringify(sec)}`);
    assert.equal(dht.sensor, 'DHT11');
    assert.match(dht.data, /^temperature -?\d+(\.\d)? °C · humidity \d+(\.\d)? %$/);
    assert.equal(ldr.sensor, 'LDR');
    assert.match(ldr.data, /^light \d+ %$/);
    // The student's login went over wss too (the lab CA is trusted), and it got in there as well.
    for (const r of rows.filter((x) => x.ep === wssEp)) assert.equal(r.security, 'TLS WebSocket · login accepted');
    assert.ok(rows.some((r) => r.ep === wssEp && r.topic === 'lab/secure/esp32-sim01/dht'), 'the listener read the secure broker over wss');
    assert.deepEqual(await cards(), { scanned: 4, open: 2, authFailures: 0, tlsIssues: 0, critHigh: critOrHigh(rows) });
    // The sniffers' live output fed the sensor tiles.
    assert.match((await page.textContent('[data-tile="temperature"]')) ?? '', /°C$/);
    assert.match((await page.textContent('[data-tile="light"]')) ?? '', /%$/);
    assert.equal(await page.locator('img[src="x"]').count(), 0);
    // The insecure broker accepts any login, so the student's was withheld there, and it says why;
    // nor does it get PLAINTEXT_CREDENTIALS for a password the scanner would have sent itself.
    await clickRow(insecure);
    const detail = (await page.textContent('[data-mqs="detail"]')) ?? '';
    assert.match(detail, /Your login\s*not sent: the broker accepted a random made-up login/);
    assert.doesNotMatch(detail, /PLAINTEXT_CREDENTIALS|Passwords sent in clear text/);
    // The second scan of this broker: the detail says what changed since the first (issue 18).
    const since = (await page.textContent('[data-mqs="detail-since"]')) ?? '';
    assert.match(since.trim(), /^Since the previous scan \([0-9a-f]{8}\): (?:unchanged|resolved|new|not checked|risk|certificate)/);
    // Another browser opening the dashboard now gets the form as the lab starts it: nothing of this
    // tab's input, no password anywhere in its page.
    const other = await browser!.newPage();
    await other.goto(lab!.url('/ui/'), { waitUntil: 'networkidle' });
    await other.waitForFunction((ports) => Array.from(document.querySelectorAll<HTMLInputElement>('form input')).some((i) => i.value === ports), labPorts);
    assert.equal(await other.getByLabel(/^Username/).inputValue(), '');
    assert.equal(await other.getByLabel(/^Password/).inputValue(), '');
    assert.ok(!(await other.content()).includes(studentPassword));
    await other.close();
    // The next scans of this suite are anonymous.
    await field('Username').fill('');
    await field('Password').fill('');
    const shot = join(OUT, 'dashboard.png');
    await dashboardScreenshot(page, shot);
    // The README's picture is refreshed on request only, so a test run leaves the tree clean.
    if (process.env.UPDATE_SCREENSHOTS === '1') {
      mkdirSync(join(ROOT, 'docs', 'screenshots'), { recursive: true });
      copyFileSync(shot, join(ROOT, 'docs', 'screenshots', 'dashboard.png'));
    }
  });

  it('the history links the reports: the PDF downloads as a PDF, CSV and JSON by scan id', async () => {
    const entries = page.locator('[data-mqs="history"] .mqs-hist');
    assert.equal(await entries.count(), 2);
    const scanId = await entries.first().getAttribute('data-scan');
    assert.match(scanId ?? '', /^[A-Za-z0-9-]{8,64}$/);
    const [download] = await Promise.all([page.waitForEvent('download'), entries.first().locator('a[data-format="pdf"]').click()]);
    assert.equal(download.suggestedFilename(), `mqtt-scan-${scanId}.pdf`);
    const pdf = readFileSync((await download.path())!);
    assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
    const csv = await page.request.get(lab!.url(`/lab/reports/${scanId}.csv`));
    assert.equal(csv.status(), 200);
    assert.match(csv.headers()['content-type'], /^text\/csv/);
    const csvText = await csv.text();
    assert.match(csvText, new RegExp(`"127\\.0\\.0\\.1",${lab!.ports.secure},`));
    assert.ok(csvText.includes(`"wss://${wssEp}/mqtt"`), 'the CSV names the wss broker by its URL');
    // The last columns: ecosystems, device_count, command_topics, location_topics, cves (empty:
    // aedes says no version), site and agent (empty: a local scan).
    assert.ok(csvText.split('\r\n').some((line) => line.startsWith(`"127.0.0.1",${lab!.ports.insecure},`) && line.endsWith(',"Lab ESP32 (mqttsec)",1,0,0,"","",""')), csvText);
    const json = await page.request.get(lab!.url(`/lab/reports/${scanId}.json`));
    const reported = (await json.json()).results as Array<{ port: number; transport: string; websocketPath?: string }>;
    assert.equal(reported.length, 4);
    assert.deepEqual(reported.filter((r) => r.transport === 'ws' || r.transport === 'wss').map((r) => [r.port, r.transport, r.websocketPath]).sort(), [[lab!.ports.ws, 'ws', '/mqtt'], [lab!.ports.wss, 'wss', '/mqtt']].sort());
    for (const bad of ['../flows.json', `${scanId}.exe`, `${scanId}.pdf.pdf`, 'nosuchscan1234.pdf', '%2e%2e%2fflows.json']) {
      const res = await page.request.get(lab!.url(`/lab/reports/${bad}`));
      assert.equal(res.status(), 404, bad);
    }
  });

  it('Cancel scan stops a running scan and says so', async () => {
    await field('Username').fill('');
    await field('Listen').fill('30');
    const before = Number(await page.getAttribute('[data-mqs="history"]', 'data-total'));
    await page.getByRole('button', { name: /start scan/i }).click();
    await page.waitForFunction(() => /listening/.test(document.querySelector('[data-mqs="status"]')?.textContent ?? ''), undefined, { timeout: 30_000 });
    await page.click('[data-mqs="cancel"]');
    await page.waitForSelector('[data-mqs="cancelled"]', { timeout: 30_000 });
    await page.waitForFunction((n) => Number(document.querySelector('[data-mqs="history"]')?.getAttribute('data-total')) > n, before);
    assert.match((await page.locator('[data-mqs="history"] .mqs-hist').first().textContent()) ?? '', /cancelled/);
    assert.ok((await tableRows()).some((r) => r.ep === insecure), 'what was found before the cancel is shown');
    await dashboardScreenshot(page, join(OUT, 'dashboard-cancelled.png'));
  });

  it('one history for every scan: a scan from the HTTP API and one from another flow join the dashboard\'s, with their source', async () => {
    const key = apiKeyFromBanner(lab!.output())!;
    assert.ok(key, 'the launcher printed the API key it made up');
    const api = await fetch(lab!.url('/api/scan'), {
      method: 'POST',
      headers: { 'X-API-KEY': key, 'Content-Type': 'application/json' },
      body: JSON.stringify({ target: '127.0.0.1', ports: String(lab!.ports.insecure), listen_duration: 0 }),
      signal: AbortSignal.timeout(60_000),
    });
    assert.equal(api.status, 200);
    apiScanId = (await api.json()).scanId;
    // Another flow: the shipped example "report writer" deployed as a new tab (its second part scans
    // the lab ports when GET /mqttsec/report.pdf is asked and answers with the PDF).
    const example = JSON.parse(readFileSync(join(ROOT, 'examples', 'report-writer.json'), 'utf8'));
    const added = await fetch(lab!.url('/flow'), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ label: 'report writer example', nodes: example }) });
    const addedText = await added.text();
    assert.equal(added.status, 200, addedText);
    const flowTab = JSON.parse(addedText).id as string;
    assert.ok(flowTab);
    let pdf: Response | undefined;
    for (let i = 0; i < 20 && (!pdf || pdf.status === 404); i++) {
      if (i) await new Promise((r) => setTimeout(r, 250)); // the new tab's nodes start
      pdf = await fetch(lab!.url('/mqttsec/report.pdf'), { signal: AbortSignal.timeout(60_000) });
    }
    assert.equal(pdf!.status, 200);
    assert.equal(Buffer.from(await pdf!.arrayBuffer()).subarray(0, 5).toString('latin1'), '%PDF-');
    // The dashboard's history panel shows them at once (the report writer's message of the other
    // flows does not reach it: it reads the shared history when it redraws, here on a filter).
    await page.selectOption('[data-mqs="history-worst"]', '');
    await page.click('[data-mqs="history-apply"]');
    await page.waitForFunction(() => Number(document.querySelector('[data-mqs="history"]')?.getAttribute('data-total')) === 5, undefined, { timeout: 15_000 });
    const sources = await page.locator('[data-mqs="history-source"]').allTextContents();
    assert.deepEqual(sources.map((t) => t.replace(/^\s*·\s*/, '').trim()).sort(), ['HTTP API', 'flow']);
    const list = await (await fetch(lab!.url('/api/scans'), { headers: { 'X-API-KEY': key } })).json();
    assert.equal(list.total, 5);
    assert.deepEqual(list.scans.map((s: { source: string }) => s.source).sort(), ['api', 'dashboard', 'dashboard', 'dashboard', 'flow']);
    flowScanId = list.scans.find((s: { source: string }) => s.source === 'flow').scanId;
    dashboardScanIds = list.scans.filter((s: { source: string }) => s.source === 'dashboard').map((s: { scanId: string }) => s.scanId);
    // The filters: by worst risk (every scan reached the open insecure broker: none is LOW) and by target.
    await page.selectOption('[data-mqs="history-worst"]', 'LOW');
    await page.waitForSelector('[data-mqs="history-none"]', { timeout: 15_000 });
    assert.equal(Number(await page.getAttribute('[data-mqs="history"]', 'data-total')), 0);
    const critical = await (await fetch(lab!.url('/api/scans?worst=CRITICAL'), { headers: { 'X-API-KEY': key } })).json();
    assert.ok(critical.total >= 1);
    await page.selectOption('[data-mqs="history-worst"]', 'CRITICAL');
    await page.waitForFunction((n) => Number(document.querySelector('[data-mqs="history"]')?.getAttribute('data-total')) === n, critical.total, { timeout: 15_000 });
    await page.selectOption('[data-mqs="history-worst"]', '');
    await page.fill('[data-mqs="history-target"]', `127.0.0.1:${lab!.ports.secure}`);
    await page.click('[data-mqs="history-apply"]');
    const bySecure = await (await fetch(lab!.url(`/api/scans?target=127.0.0.1:${lab!.ports.secure}`), { headers: { 'X-API-KEY': key } })).json();
    assert.equal(bySecure.total, 4, 'every scan but the API one (insecure port only) reached the secure broker');
    await page.waitForFunction((n) => Number(document.querySelector('[data-mqs="history"]')?.getAttribute('data-total')) === n, bySecure.total, { timeout: 15_000 });
    // The chart of each broker's score over time has drawn its lines.
    assert.ok(await page.locator('[data-mqs="history"]').isVisible());
    await page.fill('[data-mqs="history-target"]', '');
    await page.click('[data-mqs="history-apply"]');
    await page.waitForFunction(() => Number(document.querySelector('[data-mqs="history"]')?.getAttribute('data-total')) === 5, undefined, { timeout: 15_000 });
    await dashboardScreenshot(page, join(OUT, 'dashboard-history.png'));
    const removed = await fetch(lab!.url(`/flow/${flowTab}`), { method: 'DELETE' });
    assert.equal(removed.status, 204);
  });

  it('a filter text being typed stays while the history redraws (another tab changes the shared filter)', async () => {
    await page.goto(lab!.url('/ui/'), { waitUntil: 'networkidle' });
    const other = await browser!.newPage({ viewport: { width: 1600, height: 1200 } });
    await loopbackOnly(other);
    try {
      await other.goto(lab!.url('/ui/'), { waitUntil: 'networkidle' });
      await page.fill('[data-mqs="history-target"]', '127.0.0.1:typed-not-applied');
      // The other tab picks a risk: the history view answers every tab with its filter (target '').
      await other.selectOption('[data-mqs="history-worst"]', 'CRITICAL');
      await page.waitForFunction(() => (document.querySelector('[data-mqs="history-worst"]') as HTMLSelectElement | null)?.value === 'CRITICAL', undefined, { timeout: 15_000 });
      assert.equal(await page.inputValue('[data-mqs="history-target"]'), '127.0.0.1:typed-not-applied', 'the redraw kept the text being typed');
      assert.equal(await other.inputValue('[data-mqs="history-target"]'), '', 'the other tab never had it');
      // Applied, it filters (no scan has that target), and the other tab sees the shared filter.
      await page.click('[data-mqs="history-apply"]');
      await page.waitForSelector('[data-mqs="history-none"]', { timeout: 15_000 });
      await other.waitForFunction(() => (document.querySelector('[data-mqs="history-target"]') as HTMLInputElement | null)?.value === '127.0.0.1:typed-not-applied', undefined, { timeout: 15_000 });
      // Back to every scan for the tests after this one.
      await page.fill('[data-mqs="history-target"]', '');
      await page.selectOption('[data-mqs="history-worst"]', '');
      await page.waitForFunction(() => Number(document.querySelector('[data-mqs="history"]')?.getAttribute('data-total')) === 5, undefined, { timeout: 15_000 });
    } finally {
      await other.close();
    }
  });

  it('the history and the last results survive a restart; no password is stored anywhere', async () => {
    const { userDir, ports } = lab!;
    await page.goto('about:blank'); // the dashboard's websocket would hold the server open
    assert.equal(await stopLab(lab!, { keepUserDir: true }), 0);
    lab = undefined;
    assertNoSecretIn(userDir, studentPassword);
    lab = await startLab({ userDir, ports });
    await page.goto(lab.url('/ui/'), { waitUntil: 'networkidle' });
    await page.waitForFunction(() => Number(document.querySelector('[data-mqs="history"]')?.getAttribute('data-total')) === 5, undefined, { timeout: 15_000 });
    assert.ok((await tableRows()).length > 0, 'the last scan is shown again');
    // The history API answers for the scans of all three sources after the restart, each whole.
    const key = apiKeyFromBanner(lab.output())!;
    const list = await (await fetch(lab.url('/api/scans'), { headers: { 'X-API-KEY': key } })).json();
    assert.equal(list.total, 5);
    for (const [id, source] of [[apiScanId, 'api'], [flowScanId, 'flow'], ...dashboardScanIds.map((d) => [d, 'dashboard'])]) {
      const one: Response = await fetch(lab.url(`/api/scans/${id}`), { headers: { 'X-API-KEY': key } });
      assert.equal(one.status, 200, `${source} ${id}`);
      const body = await one.json();
      assert.equal(body.source, source);
      assert.ok(body.results.length >= 1, `${source}: its results`);
      assert.equal(body.count, body.results.length);
      assert.ok(!JSON.stringify(body).includes(studentPassword), 'no password in a stored scan');
    }
    assert.equal((await fetch(lab.url('/api/scans/nosuchscan0000001'), { headers: { 'X-API-KEY': key } })).status, 404);
    assert.equal((await fetch(lab.url('/api/scans'))).status, 401, 'the history needs the key like every API route');
    const bad = await fetch(lab.url('/api/scans?since=yesterday'), { headers: { 'X-API-KEY': key } });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).field, 'since');
    // The panel shows how the last scan ended; nothing is left marked as running.
    assert.equal(await page.getAttribute('[data-mqs="progress"]', 'data-state'), 'cancelled');
    assert.equal(await page.locator('[data-mqs="cancel"]').count(), 0);
    await dashboardScreenshot(page, join(OUT, 'dashboard-after-restart.png'));
  });

  it('"Devices and data" in the broker detail: the ecosystems and totals, visible and inside the viewport at 1366x768 and 390x844', async () => {
    // The lab has only its ESP32 behind the topics: the stored scan's insecure broker gets the
    // contract's example instead (Zigbee2MQTT and OwnTracks, with links and command topics) in the
    // flow context, which the dashboard shows again after a restart.
    const { userDir, ports } = lab!;
    await page.goto('about:blank');
    assert.equal(await stopLab(lab!, { keepUserDir: true }), 0);
    lab = undefined;
    const file = join(userDir, 'context', 'lab-tab', 'flow.json');
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    const kept = stored.current.results[insecure];
    assert.ok(kept, `the stored scan has the insecure broker: ${Object.keys(stored.current.results)}`);
    kept.topics = { ...(kept.topics ?? { count: 0, error: null, writeTest: null, items: [] }), devices: deviceExposure(), writeTest: null };
    writeFileSync(file, JSON.stringify(stored));
    lab = await startLab({ userDir, ports });
    for (const viewport of [{ width: 1366, height: 768 }, { width: 390, height: 844 }]) {
      await page.setViewportSize(viewport);
      await page.goto(lab.url('/ui/'), { waitUntil: 'networkidle' });
      await page.waitForFunction(() => document.querySelectorAll('.tabulator-row').length > 0, undefined, { timeout: 15_000 });
      await clickRow(insecure);
      const block = page.locator('[data-mqs="devices"]');
      await block.waitFor();
      const text = (await block.innerText()).replace(/\s+/g, ' ');
      assert.equal(await block.locator('h3').textContent(), 'Devices and data');
      for (const s of [
        'Zigbee2MQTT 14+ devices', 'Inventory 2 topics', 'Commands 5 topics, 2 listed', 'zigbee2mqtt/bridge/request/permit_join (seen)',
        "zigbee2mqtt/kitchen_lamp/set (the ecosystem's command topic)", 'OwnTracks 2 devices', 'Locations 2 topics with positions (positions withheld), 1 encrypted',
        'Devices 16+', 'Command topics 7', 'Writes not run: whether the commands accept writes was not tested', 'Secrets 3 topics carry credential, token (masked)',
      ]) assert.ok(text.includes(s), `${viewport.width}: "${s}" in ${text}`);
      assert.deepEqual(await block.locator('a').evaluateAll((as) => as.map((a) => [a.getAttribute('href'), a.getAttribute('rel')])), [
        ['https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html', 'noopener noreferrer'],
        ['https://owntracks.org/booklet/tech/json/', 'noopener noreferrer'],
      ]);
      // Each part scrolled to is wholly inside the window without scrolling sideways, and nothing in
      // the block sticks out of the panel.
      await assertFitsPanel(block, [block.locator('h3'), block.locator('.mqs-eco').nth(0), block.locator('.mqs-eco').nth(1), block.locator('[data-mqs="devices-totals"]')], viewport);
      await block.locator('h3').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(OUT, `dashboard-devices-${viewport.width}x${viewport.height}.png`) });
    }
    await page.setViewportSize({ width: 1600, height: 1200 });
  });

  it('"Known vulnerabilities" of a real Mosquitto 2.0.11 scanned from the form: where it said its version, a row per match with its https link, the upgrade and the caveat, inside the viewport at 1366x768 and 390x844', async function () {
    requireTool(this, 'mosquitto');
    const v = spawnSync('mosquitto', ['-h'], { encoding: 'utf8' });
    assert.match(`${v.stdout}${v.stderr}`, /mosquitto version 2\.0\.11/, 'this test is about the Debian package, 2.0.11');
    // The lab's brokers are aedes, which says no version: a real Mosquitto on a loopback port.
    const broker = await startMosquitto({ conf: 'listener 1883\nallow_anonymous true\n' });
    try {
      const ep = `127.0.0.1:${broker.port}`;
      await page.setViewportSize({ width: 1366, height: 768 });
      await page.goto(lab!.url('/ui/'), { waitUntil: 'networkidle' });
      await field('Ports').fill(String(broker.port));
      await runScan({ listen: '3' });
      const expected = brokerDetail(keepResult(classifyResult(mosquittoSaying('2.0.11')))).vulnerabilities!;
      assert.equal(expected.rows.length, 16);
      for (const viewport of [{ width: 1366, height: 768 }, { width: 390, height: 844 }]) {
        await page.setViewportSize(viewport);
        await clickRow(ep);
        const block = page.locator('[data-mqs="vulns"]');
        await block.waitFor();
        // innerText follows the style sheet (the badges are upper case by CSS): wait until it applies.
        await page.waitForFunction(() => {
          const badge = document.querySelector('[data-mqs="vulns"] .mqs-badge');
          return !!badge && getComputedStyle(badge).textTransform === 'uppercase';
        }, undefined, { timeout: 15_000 });
        assert.equal(await block.locator('h3').textContent(), 'Known vulnerabilities');
        assert.equal(await block.locator('[data-mqs="vulns-heading"]').textContent(), 'Mosquitto 2.0.11 (said on $SYS/broker/version)');
        const rows = await block.locator('.mqs-cve').evaluateAll((es) => es.map((e) => {
          const a = e.querySelector('a');
          return {
            id: e.getAttribute('data-cve'), href: a?.getAttribute('href') ?? null, rel: a?.getAttribute('rel') ?? null, target: a?.getAttribute('target') ?? null,
            text: (e as HTMLElement).innerText.replace(/\s+/g, ' ').trim(),
          };
        }));
        assert.deepEqual(rows, expected.rows.map((m) => ({
          id: m.id, href: m.link, rel: 'noopener noreferrer', target: '_blank', text: `${m.id} ${m.severity.toUpperCase()} ${m.cvss} ${m.fixed} ${m.summary}`,
        })));
        assert.ok(rows[0].text.startsWith('CVE-2024-8376 HIGH CVSS 7.5 fixed in 2.0.19 A client can send'), rows[0].text);
        assert.ok(rows.every((r) => r.href?.startsWith('https://')), 'links only to https');
        assert.deepEqual(
          await Promise.all(['vulns-upgrade', 'vulns-asof', 'vulns-caveat'].map((k) => block.locator(`[data-mqs="${k}"]`).textContent())),
          ['Upgrade to 2.0.21 or later; newest known 2.1.2 (2026-02-09)', 'Table as of 2026-11-30',
            "A distribution's package (Debian, Ubuntu, ...) may carry backported fixes under the old version number: check its security tracker before you conclude."],
        );
        assert.equal(await block.locator('[data-mqs="vulns-status"]').count(), 0);
        // Each part scrolled to (the longest id among them) is wholly inside the window without
        // scrolling sideways, and nothing in the block sticks out of the panel.
        const longest = expected.rows.reduce((a, b) => (b.id.length > a.id.length ? b : a)).id;
        await assertFitsPanel(block, [
          block.locator('h3'), block.locator('[data-mqs="vulns-heading"]'), block.locator('.mqs-cve').first(), block.locator(`[data-cve="${longest}"]`),
          block.locator('.mqs-cve').last(), block.locator('[data-mqs="vulns-upgrade"]'), block.locator('[data-mqs="vulns-caveat"]'),
        ], viewport);
        await block.locator('h3').scrollIntoViewIfNeeded();
        await page.screenshot({ path: join(OUT, `dashboard-vulnerabilities-${viewport.width}x${viewport.height}.png`) });
        await block.locator(`[data-cve="${longest}"]`).scrollIntoViewIfNeeded();
        await page.screenshot({ path: join(OUT, `dashboard-vulnerabilities-${viewport.width}x${viewport.height}-end.png`) });
      }
    } finally {
      await broker.stop();
      await page.setViewportSize({ width: 1600, height: 1200 });
      await field('Ports').fill(labPorts);
    }
  });

  it('two tabs: each keeps its own form; a second Start while a scan runs is refused without touching the other tab\'s form', async () => {
    await page.setViewportSize({ width: 1600, height: 1200 });
    await page.goto(lab!.url('/ui/'), { waitUntil: 'networkidle' });
    const other = await browser!.newPage({ viewport: { width: 1600, height: 1200 } });
    await loopbackOnly(other);
    try {
      await other.goto(lab!.url('/ui/'), { waitUntil: 'networkidle' });
      const before = Number(await page.getAttribute('[data-mqs="history"]', 'data-total'));
      await field('Target').fill('127.0.0.1');
      await field('Ports').fill(String(lab!.ports.insecure));
      await field('Username').fill('');
      await field('Password').fill('');
      await field('Listen').fill('6');
      await page.getByRole('button', { name: /start scan/i }).click();
      await page.waitForFunction(() => document.querySelector('[data-mqs="progress"]')?.getAttribute('data-state') === 'running', undefined, { timeout: 15_000 });
      // The other tab types its own target and a login, and presses Start while the first scan runs.
      await other.getByLabel(/^Target/).fill('127.0.0.2');
      await other.getByLabel(/^Ports/).fill('1883');
      await other.getByLabel(/^Username/).fill('Teacher says: type your password');
      await other.getByLabel(/^Password/).fill('other-tab-secret');
      await other.getByRole('button', { name: /start scan/i }).click();
      await other.waitForSelector('[data-mqs="notice"]', { timeout: 15_000 });
      assert.match((await other.textContent('[data-mqs="notice"]')) ?? '', /^A scan is running/);
      assert.equal(await other.getByLabel(/^Target/).inputValue(), '127.0.0.2', 'the asking tab keeps what it typed');
      assert.equal(await other.getByLabel(/^Password/).inputValue(), 'other-tab-secret');
      // The first tab: its form is its own; nothing the other tab typed reached its page.
      await page.waitForTimeout(500);
      assert.equal(await field('Target').inputValue(), '127.0.0.1');
      assert.equal(await field('Ports').inputValue(), String(lab!.ports.insecure));
      const seen = await page.content();
      for (const typed of ['127.0.0.2', 'Teacher says', 'other-tab-secret']) assert.ok(!seen.includes(typed), `"${typed}" reached the other tab`);
      await page.waitForFunction((n) => Number(document.querySelector('[data-mqs="history"]')?.getAttribute('data-total')) > n, before, { timeout: 60_000 });
    } finally {
      await other.close();
    }
  });

  it('made no request beyond 127.0.0.1 and raised no page error', () => {
    assert.deepEqual(blocked, []);
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(dialogs, []);
  });

  // ---- helpers ----

  function field(label: string) {
    return page.getByLabel(new RegExp(`^${label}`));
  }

  /**
   * Each part, scrolled to, lies wholly inside the window (1 px of slack at the bottom: scrolling
   * moves by whole pixels while the layout is fractional) without scrolling sideways, and nothing
   * in `block` sticks out of the detail panel or the window.
   */
  async function assertFitsPanel(block: Locator, parts: Locator[], viewport: { width: number; height: number }): Promise<void> {
    for (const part of parts) {
      await part.scrollIntoViewIfNeeded();
      const box = (await part.boundingBox())!;
      assert.ok(box.x >= 0 && box.y >= 0 && box.x + box.width <= viewport.width && box.y + box.height <= viewport.height + 1, `${viewport.width}x${viewport.height}: ${JSON.stringify(box)}`);
      const sideways = await part.evaluate((e) => {
        let left = window.scrollX;
        for (let p = e.parentElement; p; p = p.parentElement) left += p.scrollLeft;
        return left;
      });
      assert.equal(sideways, 0, `${viewport.width}: seen without scrolling sideways`);
    }
    const outside = await block.evaluate((b) => {
      const panel = b.closest('.mqs-detail')!.getBoundingClientRect();
      return Array.from(b.querySelectorAll('*')).filter((e) => {
        const r = e.getBoundingClientRect();
        return r.width > 0 && (r.left < panel.left - 0.5 || r.right > Math.min(panel.right, window.innerWidth) + 0.5);
      }).map((e) => `${e.tagName} ${e.textContent?.slice(0, 40)}`);
    });
    assert.deepEqual(outside, [], `${viewport.width}: outside the panel or the window`);
  }

  async function runScan(form: { username?: string; password?: string; listen?: string }, afterSubmit?: () => Promise<void>) {
    const before = Number(await page.getAttribute('[data-mqs="history"]', 'data-total'));
    await field('Username').fill(form.username ?? '');
    await field('Password').fill(form.password ?? '');
    if (form.listen !== undefined) await field('Listen').fill(form.listen);
    await page.getByRole('button', { name: /start scan/i }).click();
    if (afterSubmit) await afterSubmit();
    // Done when the reports are written: the history gains an entry and the progress says so.
    await page.waitForFunction((n) => Number(document.querySelector('[data-mqs="history"]')?.getAttribute('data-total')) > n, before, { timeout: 60_000 });
    await page.waitForSelector('[data-mqs="done"]');
  }

  async function tableRows(): Promise<Row[]> {
    return page.$$eval('.tabulator-row', (rows) =>
      rows.map((r) => Object.fromEntries(Array.from(r.querySelectorAll('.tabulator-cell')).map((c) => [c.getAttribute('tabulator-field'), (c.textContent ?? '').trim()]))),
    ) as Promise<Row[]>;
  }

  async function clickRow(ep: string) {
    await page.locator('.tabulator-row', { has: page.locator(`.tabulator-cell[tabulator-field="ep"]:text-is("${ep}")`) }).first().locator('.tabulator-cell[tabulator-field="security"]').click();
    await page.waitForFunction((e) => document.querySelector('[data-mqs="detail-ep"]')?.textContent === e, ep);
  }

  function critOrHigh(rows: Row[]): number {
    return new Set(rows.filter((r) => r.risk === 'CRITICAL' || r.risk === 'HIGH').map((r) => r.ep)).size;
  }

  async function cards() {
    const num = async (k: string) => Number(await page.textContent(`[data-card="${k}"] .mqs-num`));
    return { scanned: await num('scanned'), open: await num('open'), authFailures: await num('authFailures'), tlsIssues: await num('tlsIssues'), critHigh: await num('critHigh') };
  }
});

async function publishRetained(broker: string, topic: string, payload: string): Promise<void> {
  const client = await mqtt.connectAsync(`mqtt://${broker}`, { reconnectPeriod: 0, connectTimeout: 5000 }, false);
  try {
    await client.publishAsync(topic, payload, { retain: true, qos: 1 });
  } finally {
    await client.endAsync();
  }
}

/** The flow file, the context store and the reports must never hold the scan password. */
function assertNoSecretIn(userDir: string, secret: string): void {
  const skip = new Set([join(userDir, 'lab-secrets'), join(userDir, 'node_modules')]);
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const p = join(dir, name);
      if (skip.has(p)) return [];
      return statSync(p).isDirectory() ? walk(p) : [p];
    });
  const files = walk(userDir);
  assert.ok(files.some((f) => f.endsWith('flows.json')), 'the flow file was checked');
  assert.ok(files.some((f) => f.includes(`${join(userDir, 'context')}`)), 'the context store was checked');
  assert.ok(files.some((f) => f.endsWith('mqttsec-history.sqlite')), 'the scan history was checked');
  for (const f of files) assert.ok(!readFileSync(f).includes(secret), `the password is in ${f}`);
}
