// The lab dashboard's views (lib/dashboard VIEWS) without Node-RED: a scan from the form to the
// history, as the shipped flow wires them, with the flow context kept the way it was kept by the
// function nodes they replace (same keys, same shapes).
import { strict as assert } from 'node:assert';
import { classifyResult } from '../../lib/risk';
import { PROGRESS_REDRAW_MS, RUNNING_LOCK_MS, type CurrentScan, type HistoryPanel, type Progress, type ViewMessage } from '../../lib/dashboard';
import { ScanHistory, scanFromReport } from '../../lib/history';
import { prepareReport } from '../../lib/report';
import type { ScanResult, ScanSummary } from '../../lib/types';
import { anonymousPlain, tlsPasswordSelfSignedCa } from '../support/sample-results';
import { out, T0, testContext, type TestContext } from './context';
import { generateCa } from '../../lab/certs';

const FORM = { target: ' 127.0.0.1 ', ports: '1883,8883', username: 'student', password: 's3cret-pw', listen: 3, writeTest: false, sendCredentialsPlaintext: false };
const insecure = () => classifyResult(anonymousPlain({ port: 1883 }));
const secure = () => classifyResult(tlsPasswordSelfSignedCa({ port: 8883 }));

/** Starts a scan from the form; returns its id. */
function startScan(ctx: TestContext, form: ViewMessage = FORM): string {
  const o = ctx.run('scan-form', { payload: { ...form } });
  const scan = out(o, 0);
  ctx.run('scan-progress', out(o, 2));
  return scan.scanId;
}

/** A rated result of scan `scanId` through "collect the results". */
function deliver(ctx: TestContext, scanId: string, payload: object, extra: ViewMessage = {}) {
  return ctx.run('scan-results', { scanId, payload, scan: { total: 2 }, ...extra });
}

/**
 * What the report writer does before its message reaches "record reports + history": the scan goes
 * into the scan history (lib/history), with its files. Returns the writer's message.
 */
function writeReport(ctx: TestContext, scanId: string, results: ScanResult[], opts: { files?: Record<string, string>; cancelled?: boolean; specs?: string[]; ports?: number[] } = {}): ViewMessage {
  const scan = { scanId, startedAt: new Date(ctx.now() - 1000).toISOString(), finishedAt: new Date(ctx.now()).toISOString(), durationMs: 1000, targets: results.length, cancelled: opts.cancelled ?? false } as unknown as ScanSummary;
  const input = prepareReport(results, { scan, meta: { targets: opts.specs ?? ['127.0.0.1'], ports: opts.ports ?? [1883, 8883] }, now: new Date(ctx.now()) });
  const files = opts.files ?? { pdf: `/r/${scanId}.pdf`, csv: `/r/${scanId}.csv`, json: `/r/${scanId}.json` };
  ctx.history!.add(scanFromReport(input, { scanId, source: 'dashboard', files, at: ctx.now() }));
  return { scanId, scan: { specs: opts.specs ?? ['127.0.0.1'], ports: opts.ports ?? [1883, 8883] }, payload: { files, summary: input.summary } };
}

/** A test context with its own scan history in memory. */
async function withHistory(env: Record<string, string> = {}): Promise<TestContext> {
  const ctx = testContext(env);
  ctx.history = await ScanHistory.inMemory();
  return ctx;
}

const summaryOf = (cancelled = false) => ({ scanId: 'x', targets: 2, cancelled, riskSummary: { brokers: 2, openBrokers: 1, authFailures: 0, byLevel: { CRITICAL: 1, HIGH: 0, MEDIUM: 1, LOW: 0 }, worstLevel: 'CRITICAL' } });

describe('dashboard views: the scan form', () => {
  it('starts a scan: the password only in msg.credentials, the form refilled without it, the flow context as before', () => {
    const ctx = testContext({ MQTTSEC_LAB_PORTS: '18931,18932' });
    const payload: Record<string, unknown> = { ...FORM, ports: '', sendCredentialsPlaintext: true };
    const msg: ViewMessage = { payload };
    const o = ctx.run('scan-form', msg)!;
    assert.equal(o.length, 4);
    const scan = out(o, 0);
    assert.match(scan.scanId, /^[0-9a-f]{16}$/);
    assert.equal(scan.topic, `scan/${scan.scanId}`);
    assert.deepEqual(scan.payload, { targets: '127.0.0.1', ports: '18931,18932' }, 'empty ports: the lab ports');
    assert.deepEqual(scan.sniff, { listen: 3, writeTest: false });
    assert.deepEqual(scan.credentials, { username: 'student', password: 's3cret-pw' });
    assert.equal(scan.sendCredentialsPlaintext, true);
    assert.deepEqual(out(o, 1).payload, { target: '127.0.0.1', ports: '18931,18932', username: 'student', password: '', listen: 3, writeTest: false, sendCredentialsPlaintext: true, tryDefaults: false, ca: '' });
    assert.equal(out(o, 0).tryDefaults, undefined, 'no default logins unless asked');
    // The "Try well-known default logins" switch (issue 18): the scan message asks the probe for them.
    const withDefaults = testContext().run('scan-form', { payload: { ...FORM, tryDefaults: true } })!;
    assert.equal(out(withDefaults, 0).tryDefaults, true);
    assert.equal(out(withDefaults, 1).payload.tryDefaults, true, 'the switch stays on in the refilled form');
    assert.deepEqual(out(o, 2), { topic: 'start', payload: { scanId: scan.scanId, target: '127.0.0.1', ports: '18931,18932', listen: 3, writeTest: false, withLogin: true } });
    assert.deepEqual(out(o, 3), { topic: 'show' });
    assert.equal(payload.password, '', 'the submitted form object forgets the password');
    assert.equal('payload' in msg, false);
    assert.deepEqual(ctx.store.get('running'), { scanId: scan.scanId, at: T0 });
    const current = ctx.store.get('current') as CurrentScan;
    assert.deepEqual(current, { scanId: scan.scanId, target: '127.0.0.1', ports: '18931,18932', startedAt: '2026-11-30T10:00:00.000Z', withLogin: true, results: {}, total: null, complete: false });
    assert.ok(!JSON.stringify([...ctx.store.values()]).includes('s3cret-pw'), 'no password in the flow context');
  });

  it('the CA field: its certificates go with the scan as msg.tlsCa; a private key in it is refused and never sent back', () => {
    const ca = generateCa({ commonName: 'Plant CA', keyBits: 2048 }).certPem;
    const ctx = testContext();
    const o = ctx.run('scan-form', { payload: { ...FORM, username: '', password: '', ca } })!;
    assert.equal(out(o, 0).tlsCa, ca.trim());
    assert.equal(out(o, 1).payload.ca, '', 'a refill never carries the CA field (a refill reaches every tab)');
    assert.equal(out(o, 0).scanSource, 'dashboard');
    const refused = testContext().run('scan-form', { payload: { ...FORM, username: '', password: '', ca: '-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----' } })!;
    assert.equal(refused[0], null, 'nothing is scanned');
    assert.match(out(refused, 2).payload.message, /^CA certificate: it holds a private key: paste only the CA certificate .*Paste the CA's PEM text, or leave the field empty\.$/);
    assert.equal(out(refused, 1).payload.ca, '', 'the key is not sent back anywhere');
    assert.equal(out(testContext().run('scan-form', { payload: { ...FORM, username: '', password: '' } }), 0).tlsCa, undefined, 'no CA field, no msg.tlsCa');
  });

  it('nothing is addressed to one browser tab: msg.socketid comes from the browser and is not trusted', () => {
    const ctx = testContext();
    startScan(ctx);
    const refused = ctx.run('scan-form', { payload: { ...FORM, target: '127.0.0.2' }, socketid: 'tab-b' })!;
    assert.equal('socketid' in out(refused, 1), false);
    assert.equal('socketid' in out(refused, 2), false);
    assert.equal('socketid' in out(ctx.run('scan-progress', out(refused, 2)), 0), false);
  });

  it('the Lab controls are refused while a scan of the dashboard or the HTTP API runs (across flows)', () => {
    const dashboard = testContext({ MQTTSEC_API_KEY: 'k'.repeat(20) });
    const applied: unknown[] = [];
    const state = { brokers: [{ id: 'insecure', name: 'Insecure lab broker', addresses: [], controls: [{ id: 'requireLogin', label: 'Require a login', kind: 'switch', value: false, shipped: false, effect: '', mosquittoConf: [] }] }] };
    dashboard.lab = { state: () => state, apply: (c: unknown) => (applied.push(c), { state, text: 'done', closed: 0 }) } as never;
    // An API scan starts (its own flow; the global context is shared).
    const api = out(dashboard.run('api-scan', { payload: JSON.stringify({ target: '127.0.0.1' }), apiKeyId: 'key0', req: { body: null }, res: {} }), 0);
    const refused = out(dashboard.run('lab-controls', { payload: { broker: 'insecure', control: 'requireLogin', value: true } }), 0).payload;
    assert.match(refused.notice.text, /^A scan is running/);
    assert.deepEqual(applied, []);
    // Its reports are written: the lab may change again.
    dashboard.run('api-answer', { scanId: api.scanId, payload: { files: {} }, report: {} });
    const done = out(dashboard.run('lab-controls', { payload: { broker: 'insecure', control: 'requireLogin', value: true } }), 0).payload;
    assert.equal(done.notice.kind, 'done');
    assert.equal(applied.length, 1);
  });

  it('sends no login and no opt-in without a username; an empty listen field means 10 s', () => {
    const ctx = testContext();
    const o = ctx.run('scan-form', { payload: { target: '127.0.0.1', ports: '1883', username: '', password: '', listen: '', sendCredentialsPlaintext: true } })!;
    const scan = out(o, 0);
    assert.equal('credentials' in scan, false);
    assert.equal('sendCredentialsPlaintext' in scan, false);
    assert.deepEqual(scan.sniff, { listen: 10, writeTest: false });
    assert.equal(out(o, 1).payload.listen, 10);
    assert.equal(out(o, 2).payload.withLogin, false);
  });

  it('refuses bad input with a message that names the field, keeps what was typed, and starts nothing', () => {
    const cases: Array<[object, RegExp]> = [
      [{ target: '' }, /^Target: enter an address/],
      [{ target: 'x'.repeat(201) }, /^Target:/],
      [{ ports: 'mqtt-everything' }, /^Ports: numbers, ranges or a preset \(mqtt, mqtt-ws, mqtt-all\), e\.g\. 1883,8883/],
      [{ ports: '1883,' + '9'.repeat(200) }, /^Ports:/],
      [{ listen: 61 }, /^Listen for: 0 to 60 seconds/],
      [{ listen: 'soon' }, /^Listen for:/],
      [{ username: '', password: 'pw' }, /^Password given without a username/],
      // Start pressed again after a scan: the form kept the username, never the password (issue 18).
      // The refusal goes to every tab: it does not repeat the username.
      [{ username: 'Teacher says: type your password', password: '' }, /^Password: a username without a password\. Enter the password too, or clear Username to scan without a login\.$/],
    ];
    for (const [patch, message] of cases) {
      const ctx = testContext();
      const o = ctx.run('scan-form', { payload: { ...FORM, ...patch } })!;
      assert.equal(o[0], null, JSON.stringify(patch));
      assert.equal(o[3], null);
      assert.deepEqual(out(o, 2).payload.form, true);
      assert.match(out(o, 2).payload.message, message);
      const refill = out(o, 1).payload;
      assert.equal(refill.password, '');
      if ('ports' in patch) assert.equal(refill.ports, (patch as { ports: string }).ports, 'the form keeps what was typed');
      assert.equal(ctx.store.get('running'), undefined);
    }
  });

  it('takes a port preset: mqtt-all reaches the target expander as typed (it expands it)', () => {
    const ctx = testContext();
    const o = ctx.run('scan-form', { payload: { ...FORM, ports: 'mqtt-all, 10000' } })!;
    assert.deepEqual(out(o, 0).payload, { targets: '127.0.0.1', ports: 'mqtt-all, 10000' });
  });

  it('refuses a second scan while one runs, and no longer after 15 minutes', () => {
    const ctx = testContext();
    startScan(ctx);
    const again = ctx.run('scan-form', { payload: { ...FORM } })!;
    assert.equal(out(again, 2).payload.message, 'A scan is running: wait for it or cancel it first.');
    ctx.advance(RUNNING_LOCK_MS);
    assert.ok(out(ctx.run('scan-form', { payload: { ...FORM } }), 0).scanId);
  });
});

describe('dashboard views: a scan from the results to the history', () => {
  it('collects rated results, draws the table, cards and chart, selects the worst broker at the end, and records the history', async () => {
    const ctx = await withHistory();
    const id = startScan(ctx, { ...FORM, username: '', password: '' });
    const first = deliver(ctx, id, secure())!;
    assert.equal(out(first, 0).topic, 'scan');
    assert.equal(first[1], null);
    deliver(ctx, id, insecure(), { sniffer: { skipped: undefined } });
    assert.equal(deliver(ctx, 'another-scan-id', insecure()), null, 'a result of an older scan is ignored');

    const scan = ctx.store.get('current') as CurrentScan;
    assert.deepEqual(Object.keys(scan.results), ['127.0.0.1:8883', '127.0.0.1:1883']);
    assert.equal(scan.total, 2);
    assert.equal(scan.results['127.0.0.1:1883'].topics!.items.length, 3);

    // The table: worst first, one row per topic, a broker without readable topics as one row.
    const rows = out(ctx.run('results-table', { topic: 'scan', payload: scan }), 0).payload as Array<Record<string, unknown>>;
    assert.deepEqual(rows.map((r) => [r.ep, r.security, r.sensor, r.topic, r.risk]), [
      ['127.0.0.1:1883', 'plain TCP · anonymous', '—', 'home/door', 'CRITICAL'],
      ['127.0.0.1:1883', 'plain TCP · anonymous', 'DHT11', 'sensors/lab/dht', 'CRITICAL'],
      ['127.0.0.1:1883', 'plain TCP · anonymous', 'LDR', 'sensors/lab/light', 'CRITICAL'],
      ['127.0.0.1:8883', 'TLS · login accepted', 'DHT11', 'lab/secure/esp32/dht', 'MEDIUM'],
    ]);
    assert.equal(rows[1].data, 'temperature 28.5 °C · humidity 65 %');
    assert.deepEqual(rows.map((r) => r.id), [0, 1, 2, 3]);

    // Cards while it runs: counted from the results so far.
    const running = out(ctx.run('summary-cards', { payload: scan }), 0).payload;
    assert.deepEqual(running.cards, { scanned: 2, brokers: 2, open: 1, authFailures: 0, tlsIssues: 1, plaintext: 1, critical: 1, high: 0, critHigh: 1 });
    assert.equal(running.scan.complete, false);
    assert.equal(running.scan.seconds, null);
    assert.deepEqual(out(ctx.run('risk-chart', { payload: scan }), 0).payload, [{ series: ['Brokers'], data: [[1, 0, 1, 0]], labels: ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'] }]);

    // The end: the classifier's summary takes over; the worst broker is selected.
    ctx.advance(4200);
    const done = deliver(ctx, id, { ...summaryOf(), scanId: id }, { complete: true })!;
    assert.deepEqual(out(done, 1), { topic: 'complete', payload: { scanId: id, cancelled: false, brokers: 2, worst: 'CRITICAL', durationMs: 4200 } });
    assert.deepEqual(out(done, 2), { payload: { ep: '127.0.0.1:1883' } });
    const complete = ctx.store.get('current') as CurrentScan;
    assert.equal(complete.complete, true);
    assert.equal(complete.durationMs, 4200);
    const cards = out(ctx.run('summary-cards', { payload: complete }), 0).payload;
    assert.equal(cards.cards.brokers, 2);
    assert.equal(cards.scan.seconds, '4.2');
    ctx.run('scan-progress', out(done, 1));

    // The reports are written: the history, the download paths, the form is free.
    ctx.advance(800);
    const rec = ctx.run('scan-history', writeReport(ctx, id, [insecure(), secure()], { files: { pdf: '/r/a.pdf', csv: '/r/a.csv', json: '/r/a.json' } }))!;
    const panel = out(rec, 0).payload as HistoryPanel;
    assert.deepEqual([panel.total, panel.page, panel.pages, panel.error], [1, 1, 1, undefined]);
    assert.deepEqual(panel.scans, [
      {
        scanId: id, at: '2026-11-30T10:00:05.000Z', startedAt: '2026-11-30T10:00:04.000Z', durationMs: 1000, source: 'dashboard', target: '127.0.0.1', ports: '1883,8883',
        scanned: 2, brokers: 2, open: 1, authFailures: 0, unreachable: 0, worst: 'CRITICAL', byLevel: { CRITICAL: 1, HIGH: 0, MEDIUM: 1, LOW: 0 },
        averageScore: panel.scans[0].averageScore, cancelled: false, formats: ['pdf', 'csv', 'json'],
      },
    ]);
    assert.equal(typeof panel.scans[0].averageScore, 'number');
    // The score chart: each broker's score at this scan's end.
    const chart = out(rec, 2).payload as Array<{ series: string[]; data: Array<Array<{ x: number; y: number }>> }>;
    assert.deepEqual(chart[0].series.sort(), ['127.0.0.1:1883', '127.0.0.1:8883']);
    assert.ok(chart[0].data.every((points) => points.length === 1 && points[0].x === T0 + 5000));
    assert.deepEqual(ctx.store.get('reports'), { [id]: { pdf: '/r/a.pdf', csv: '/r/a.csv', json: '/r/a.json', at: T0 + 5000 } });
    assert.equal(ctx.store.get('running'), null);
    const finished = out(ctx.run('scan-progress', out(rec, 1)), 0).payload as Progress;
    assert.equal(finished.state, 'done');
    assert.equal(finished.phase, 6);
    // One figure (issue 18): "Done in" says what the overview says (4.2 s), not the 0.8 s of the
    // reports on top (it said 5.0 while the overview said 4.2).
    assert.equal(finished.seconds, '4.2');
    assert.equal(finished.brokers, 2);
    assert.equal(finished.worst, 'CRITICAL');

    // A page reload / restart redraws from the flow context and selects the worst broker.
    const show = ctx.run('scan-results', { topic: 'show' })!;
    assert.equal(out(show, 0).payload.scanId, id);
    assert.deepEqual(out(show, 2).payload, { ep: '127.0.0.1:1883' });
  });

  it('the detail view: findings worst first with fixes, logins tried, TLS and certificate, topics, write test', () => {
    const ctx = testContext();
    const id = startScan(ctx);
    deliver(ctx, id, insecure());
    deliver(ctx, id, secure());
    const detail = out(ctx.run('broker-detail', { payload: { ep: '127.0.0.1:1883' } }), 0).payload;
    assert.equal(detail.level, 'CRITICAL');
    assert.equal(detail.levelClass, 'critical');
    assert.equal(detail.transport, 'MQTT over plain TCP');
    assert.equal(detail.versions, '5.0, 3.1.1');
    assert.deepEqual(detail.auth, [['Anonymous', 'accepted (Success)'], ['Wrong login', 'accepted (Success)'], ['Your login', 'not tested']]);
    assert.deepEqual(detail.findings.map((f: { severity: string }) => f.severity).slice(0, 2), ['critical', 'critical']);
    assert.ok(detail.findings.every((f: { fix: string }) => f.fix.length > 0));
    assert.equal(detail.listened, '3.0 s as anonymous');
    assert.equal(detail.writeTest, 'accepted: anyone logged in like us can publish');
    assert.equal(detail.topicCount, 3);
    assert.deepEqual(detail.tls, []);
    const sec = out(ctx.run('broker-detail', { payload: { ep: '127.0.0.1:8883' } }), 0).payload;
    assert.equal(sec.transport, 'MQTT over TLS');
    assert.deepEqual(sec.tls[0], ['Protocol', 'TLSv1.3, TLS_AES_256_GCM_SHA384']);
    assert.deepEqual(sec.tls[1], ['Versions', 'TLSv1 no · TLSv1.1 no · TLSv1.2 yes · TLSv1.3 yes']);
    assert.deepEqual(sec.cert.find((r: string[]) => r[0] === 'Trust'), ['Trust', 'not trusted: SELF_SIGNED_CERT_IN_CHAIN']);
    assert.deepEqual(sec.cert.find((r: string[]) => r[0] === 'Valid'), ['Valid', '2026-01-01 to 2027-10-01 (300 days left)']);
    assert.deepEqual(out(ctx.run('broker-detail', { payload: { ep: '127.0.0.1:9999' } }), 0), { payload: null });
    assert.deepEqual(out(ctx.run('broker-detail', { payload: { ep: '__proto__' } }), 0), { payload: null });
  });

  it('the detail view says why the scanner withheld the login', () => {
    const ctx = testContext();
    const id = startScan(ctx);
    const withheld = { outcome: 'not_tested' as const, withheld: 'accepts_any_login' as const, detail: 'login not sent: the broker accepted a random made-up login, so it accepts any login and the real one would tell nothing' };
    deliver(ctx, id, classifyResult(anonymousPlain({ auth: { givenCredentials: withheld } })));
    const detail = out(ctx.run('broker-detail', { payload: { ep: '127.0.0.1:1883' } }), 0).payload;
    assert.deepEqual(detail.auth[2], ['Your login', 'not sent: the broker accepted a random made-up login, so it accepts any login and the real one would tell nothing']);
  });

  it('the history panel: newest first, a page at a time, filtered by target, worst risk and date; the filter is kept', async () => {
    const ctx = await withHistory();
    // 25 scans a day apart: every fifth of an open broker on 127.0.0.9, the others of a TLS broker.
    for (let i = 0; i < 25; i++) {
      ctx.advance(86_400_000);
      const id = `scan-${String(i).padStart(4, '0')}`;
      const result = i % 5 === 0 ? classifyResult(anonymousPlain({ host: '127.0.0.9', port: 1883 })) : secure();
      ctx.run('scan-history', writeReport(ctx, id, [result], { specs: [result.host], ports: [result.port] }));
    }
    const first = out(ctx.run('history-filter', { payload: {} }), 0).payload as HistoryPanel;
    assert.deepEqual([first.total, first.pages, first.scans.length], [25, 3, 10]);
    assert.equal(first.scans[0].scanId, 'scan-0024', 'newest first');
    const third = out(ctx.run('history-filter', { payload: { page: 3 } }), 0).payload as HistoryPanel;
    assert.deepEqual(third.scans.map((h) => h.scanId), ['scan-0004', 'scan-0003', 'scan-0002', 'scan-0001', 'scan-0000']);
    const byTarget = ctx.run('history-filter', { payload: { target: '127.0.0.9' } })!;
    const panel = out(byTarget, 0).payload as HistoryPanel;
    assert.deepEqual(panel.scans.map((h) => h.scanId), ['scan-0020', 'scan-0015', 'scan-0010', 'scan-0005', 'scan-0000']);
    assert.deepEqual(ctx.store.get('historyFilter'), { target: '127.0.0.9', worst: '', period: '', page: 1 }, 'kept for the next visit');
    const chart = out(byTarget, 1).payload as Array<{ series: string[]; data: Array<Array<{ x: number; y: number }>> }>;
    assert.deepEqual(chart[0].series, ['127.0.0.9:1883']);
    assert.equal(chart[0].data[0].length, 5, 'one point per scan of that broker, oldest first');
    assert.ok(chart[0].data[0][0].x < chart[0].data[0][4].x);
    const worst = classifyResult(anonymousPlain({ host: '127.0.0.9', port: 1883 })).risk!.level;
    const byLevel = out(ctx.run('history-filter', { payload: { worst } }), 0).payload as HistoryPanel;
    assert.equal(byLevel.total, 5);
    // The last 7 days, counted back from now (an hour after the 25th scan): 7 scans.
    ctx.advance(3_600_000);
    const recent = out(ctx.run('history-filter', { payload: { period: 'week' } }), 0).payload as HistoryPanel;
    assert.deepEqual(recent.scans.map((h) => h.scanId), ['scan-0024', 'scan-0023', 'scan-0022', 'scan-0021', 'scan-0020', 'scan-0019', 'scan-0018']);
    // A bad filter is said, naming it; a page past the end shows the last page.
    const bad = out(ctx.run('history-filter', { payload: { period: 'fortnight' } }), 0).payload as HistoryPanel;
    assert.match(bad.error!, /^Filter period: expected day, week or month/);
    assert.deepEqual(bad.scans, []);
    const past = out(ctx.run('history-filter', { payload: { page: 99 } }), 0).payload as HistoryPanel;
    assert.deepEqual([past.page, past.scans.length], [3, 5]);
    // The downloads: the flow remembers the newest 50 scans' files; older ones come from the history.
    assert.equal(Object.keys(ctx.store.get('reports') as object).length, 25);
    ctx.store.set('reports', {});
    const found = ctx.run('report-file', { req: { params: { file: 'scan-0003.csv' } } })!;
    assert.equal(out(found, 0).filename, '/r/scan-0003.csv');
    assert.equal(ctx.run('scan-history', { scanId: '../etc', payload: {} }), null, 'a scan id the downloads would refuse');
  });

  it('without a scan history (it could not be opened) the panel says so and nothing else breaks', () => {
    const ctx = testContext();
    const panel = out(ctx.run('history-filter', { payload: {} }), 0).payload as HistoryPanel;
    assert.match(panel.error!, /could not be opened/);
    assert.deepEqual(panel.scans, []);
    const o = ctx.run('dashboard-restore', {})!;
    assert.deepEqual(out(o, 1).payload.scans, []);
  });
});

describe('dashboard views: progress, errors, cancel, interruption', () => {
  it('the progress panel follows the scan nodes\' status, only while a scan runs, never going back a phase', () => {
    const ctx = testContext();
    // Status lines a quarter second apart: closer ones are sent as one (the next test).
    const status = (type: string, text: unknown) => {
      ctx.advance(PROGRESS_REDRAW_MS);
      return ctx.run('scan-progress', { status: { text, source: { type } } });
    };
    assert.equal(status('mqttsec-broker-probe', 'probing'), null, 'no scan runs');
    startScan(ctx);
    let p = out(status('mqttsec-broker-probe', 'probing 2 targets'), 0).payload as Progress;
    assert.deepEqual([p.state, p.phase, p.text], ['running', 1, 'probing 2 targets']);
    p = out(status('mqttsec-topic-sniffer', `listening ${'x'.repeat(300)}`), 0).payload;
    assert.equal(p.phase, 3);
    assert.equal(p.text!.length, 160);
    p = out(status('mqttsec-tls-inspector', 'late'), 0).payload;
    assert.equal(p.phase, 3, 'a late status of an earlier node does not go back');
    assert.equal(status('debug', 'x'), null);
    assert.equal(status('mqttsec-broker-probe', ''), null);
    assert.equal(ctx.run('scan-progress', { topic: 'something else' }), null);
  });

  it('status lines come at most every 250 ms while a scan runs, the latest one last; the other events at once', () => {
    const ctx = testContext();
    startScan(ctx);
    const shown: string[] = [];
    const take = (o: ReturnType<TestContext['run']>) => o && o[0] && shown.push(String((out(o, 0).payload as Progress).text));
    for (let i = 1; i <= 3000; i++) {
      take(ctx.run('scan-progress', { status: { text: `probing ${i}`, source: { type: 'mqttsec-broker-probe' } } }));
      if (i % 3 === 0) ctx.advance(5); // 3,000 status changes in 5 s, as 1,000 brokers made them
      for (const s of ctx.sent.splice(0)) take(s);
    }
    ctx.advance(PROGRESS_REDRAW_MS);
    for (const s of ctx.sent.splice(0)) take(s);
    assert.ok(shown.length >= 18 && shown.length <= 22, `${shown.length} status lines sent for 3,000 in 5 s`);
    assert.equal(shown[shown.length - 1], 'probing 3000', 'the last status is shown');
    const done = ctx.run('scan-progress', { topic: 'complete', payload: { scanId: (ctx.store.get('progress') as Progress).scanId, brokers: 1 } });
    assert.equal((out(done, 0).payload as Progress).text, 'Writing the reports…', 'the completion at once');
    ctx.run('scan-progress', { status: { text: 'late', source: { type: 'mqttsec-risk-classifier' } } });
    ctx.advance(PROGRESS_REDRAW_MS);
    assert.equal(ctx.pendingTimers(), 0);
  });

  it('a failure of the target expander ends the scan and frees the form; others are warnings; form errors are notices shown once', () => {
    const ctx = testContext();
    const id = startScan(ctx);
    const warn = ctx.run('scan-error', { scanId: id, error: { message: 'Error: 127.0.0.1:8883: handshake failed', source: { type: 'mqttsec-tls-inspector' } } })!;
    assert.deepEqual(out(warn, 0), { topic: 'error', payload: { scanId: id, message: '127.0.0.1:8883: handshake failed', fatal: false } });
    assert.ok(ctx.store.get('running'), 'the scan goes on');
    let p = out(ctx.run('scan-progress', out(warn, 0)), 0).payload as Progress;
    assert.deepEqual([p.state, p.warning], ['running', '127.0.0.1:8883: handshake failed']);

    const fatal = ctx.run('scan-error', { scanId: id, error: { message: 'TargetError: "127.0.0.1/33": prefix must be 0-32', source: { type: 'mqttsec-target-expander' } } })!;
    assert.equal(out(fatal, 0).payload.fatal, true);
    assert.equal(ctx.store.get('running'), null, 'the form is free again');
    p = out(ctx.run('scan-progress', out(fatal, 0)), 0).payload;
    assert.deepEqual([p.state, p.error], ['error', '"127.0.0.1/33": prefix must be 0-32']);

    const notice = out(ctx.run('scan-progress', { topic: 'error', payload: { message: 'Ports: numbers and ranges only', form: true } }), 0).payload as Progress;
    assert.equal(notice.notice, 'Ports: numbers and ranges only');
    // The new message replaces the failure: the old error is not left above it (issue 18).
    assert.deepEqual([notice.state, notice.error], ['idle', undefined]);
    const next = out(ctx.run('scan-progress', { topic: 'idle' }), 0).payload as Progress;
    assert.equal(next.notice, undefined, 'a notice is shown once');
    const long = ctx.run('scan-error', { error: { message: 'y'.repeat(400) } })!;
    assert.equal(out(long, 0).payload.message.length, 300);
    assert.equal(out(ctx.run('scan-error', {}), 0).payload.message, 'The scan failed');
  });

  it('Cancel: nothing to cancel is a notice; otherwise the probe and sniffers get {cancel: true} and the scan ends cancelled', async () => {
    const ctx = await withHistory();
    assert.deepEqual(ctx.run('scan-cancel', { payload: 'cancel' }), [null, { topic: 'error', payload: { message: 'No scan is running.', form: true } }]);
    const id = startScan(ctx);
    const o = ctx.run('scan-cancel', { payload: 'cancel' })!;
    assert.deepEqual(o, [{ cancel: true }, { topic: 'cancel' }]);
    assert.equal((ctx.store.get('current') as CurrentScan).cancelled, true);
    let p = out(ctx.run('scan-progress', out(o, 1)), 0).payload as Progress;
    assert.equal(p.cancelRequested, true);
    assert.match(p.text!, /^Cancelling/);
    deliver(ctx, id, insecure());
    const done = deliver(ctx, id, { scanId: id, targets: 2, riskSummary: null }, { complete: true })!;
    assert.equal(out(done, 1).payload.cancelled, true, 'the user cancelled it');
    ctx.run('scan-progress', out(done, 1));
    const rec = ctx.run('scan-history', writeReport(ctx, id, [insecure()], { cancelled: true }))!;
    assert.equal((out(rec, 0).payload as HistoryPanel).scans[0].cancelled, true);
    p = out(ctx.run('scan-progress', out(rec, 1)), 0).payload;
    assert.equal(p.state, 'cancelled');
  });

  it('a scan running when the flows restart is marked interrupted in its results, the history and the progress panel', async () => {
    const ctx = await withHistory({ MQTTSEC_LAB_TARGET: 'mosquitto-insecure,mosquitto-secure', MQTTSEC_LAB_PORTS: '1883,8883' });
    ctx.store.set('live', { temperature: { value: '21 °C', topic: 't', at: 'x' } });
    const id = startScan(ctx);
    out(ctx.run('scan-progress', { status: { text: 'listening', source: { type: 'mqttsec-topic-sniffer' } } }), 0);
    deliver(ctx, id, insecure());
    ctx.advance(12_345);
    const o = ctx.run('dashboard-restore', { payload: Date.now() })!;
    assert.equal(o.length, 7);
    const cur = ctx.store.get('current') as CurrentScan;
    assert.deepEqual([cur.complete, cur.interrupted, cur.durationMs], [true, true, 12_345]);
    const history = (out(o, 1).payload as HistoryPanel).scans;
    assert.deepEqual(history[0], {
      scanId: id, at: '2026-11-30T10:00:12.345Z', startedAt: '2026-11-30T10:00:00.000Z', durationMs: 12_345, source: 'dashboard', target: '127.0.0.1', ports: '1883,8883',
      scanned: 2, brokers: 1, open: 1, authFailures: 0, unreachable: undefined, worst: 'CRITICAL', byLevel: { CRITICAL: 1, HIGH: 0, MEDIUM: 0, LOW: 0 }, averageScore: null,
      cancelled: false, interrupted: true, formats: [],
    });
    assert.equal(ctx.history!.get(id)!.report, null, 'kept with what it had found, without a report');
    assert.deepEqual((out(o, 6).payload as Array<{ series: string[] }>)[0].series, ['127.0.0.1:1883'], 'its broker is in the score chart');
    assert.deepEqual(out(o, 3), { topic: 'interrupted', payload: { scanId: id, seconds: '12.3' } });
    assert.equal(ctx.store.get('running'), null);
    assert.deepEqual(out(o, 2).payload, { target: 'mosquitto-insecure,mosquitto-secure', ports: '1883,8883', username: '', password: '', listen: 10, writeTest: false, sendCredentialsPlaintext: false, tryDefaults: false, ca: '' });
    assert.deepEqual(out(o, 4).payload, { temperature: { value: '21 °C', topic: 't', at: 'x' } });
    assert.deepEqual(o[5], [{ topic: 'Temperature °C', payload: null }, { topic: 'Humidity %', payload: null }, { topic: 'Light %', payload: null }, { topic: 'Motion (100 = yes)', payload: null }]);
    const p = out(ctx.run('scan-progress', out(o, 3)), 0).payload as Progress;
    assert.deepEqual(p, { state: 'interrupted', phase: 3, scanId: id, seconds: '12.3', target: '127.0.0.1', ports: '1883,8883' });
    const cards = out(ctx.run('summary-cards', { payload: cur }), 0).payload;
    assert.equal(cards.scan.interrupted, true);
    // The next start finds nothing running: idle, the history unchanged.
    const again = ctx.run('dashboard-restore', {})!;
    assert.deepEqual(out(again, 3), { topic: 'idle' });
    assert.equal(ctx.history!.count(), 1);
    assert.equal(out(again, 2).payload.target, 'mosquitto-insecure,mosquitto-secure');
  });

  it('without MQTTSEC_LAB_TARGET / MQTTSEC_LAB_PORTS the form starts on 127.0.0.1 and 1883,8883, with an empty history', async () => {
    const o = (await withHistory()).run('dashboard-restore', {})!;
    assert.equal(out(o, 2).payload.target, '127.0.0.1');
    assert.equal(out(o, 2).payload.ports, '1883,8883');
    assert.deepEqual(out(o, 1).payload.scans, []);
    assert.deepEqual(out(testContext().run('scan-results', { topic: 'show' }), 0), { topic: 'scan', payload: { results: {} } });
  });
});

describe('dashboard views: live values, routing, report downloads', () => {
  it('live values: one chart point per quantity, the tiles kept in the flow context', () => {
    const ctx = testContext();
    const o = ctx.run('live-values', { payload: { topic: 'lab/secure/esp32-sim01/dht', sensor: 'dht', values: { temperature: 21.5, humidity: 40 } } })!;
    assert.deepEqual(o[0], [{ topic: 'Temperature °C', payload: 21.5 }, { topic: 'Humidity %', payload: 40 }]);
    assert.deepEqual(out(o, 1).payload, {
      temperature: { value: '21.5 °C', topic: 'lab/secure/esp32-sim01/dht', at: '2026-11-30T10:00:00.000Z' },
      humidity: { value: '40 %', topic: 'lab/secure/esp32-sim01/dht', at: '2026-11-30T10:00:00.000Z' },
    });
    const ldr = ctx.run('live-values', { payload: { topic: 'ldr', sensor: 'ldr', values: { raw: 412, percent: 40 } } })!;
    assert.deepEqual(ldr[0], [{ topic: 'Light %', payload: 40 }]);
    const pir = ctx.run('live-values', { payload: { topic: 'pir', sensor: 'pir', values: { motion: true } } })!;
    assert.deepEqual(pir[0], [{ topic: 'Motion (100 = yes)', payload: 100 }]);
    assert.deepEqual(Object.keys(ctx.store.get('live') as object), ['temperature', 'humidity', 'light', 'motion']);
    assert.equal((ctx.store.get('live') as Record<string, { value: string }>).motion.value, 'detected');
    assert.equal(ctx.run('live-values', { payload: { values: { raw: 3 } } }), null);
    assert.equal(ctx.run('live-values', { payload: 'text' }), null);
  });

  it('listen? write test?: listen 0 skips the sniffers; the write test takes the third output', () => {
    const ctx = testContext();
    const msg = (sniff: unknown) => ({ sniff, payload: 1 });
    assert.deepEqual(ctx.run('scan-route', msg({ listen: 0, writeTest: true }))!.map((m) => m !== null), [true, false, false]);
    assert.deepEqual(ctx.run('scan-route', msg({ listen: 5, writeTest: false }))!.map((m) => m !== null), [false, true, false]);
    assert.deepEqual(ctx.run('scan-route', msg({ listen: 5, writeTest: true }))!.map((m) => m !== null), [false, false, true]);
    assert.deepEqual(ctx.run('scan-route', msg(undefined))!.map((m) => m !== null), [false, true, false]);
  });

  it('report downloads: the reported file by exact name, as an attachment; anything else 404', () => {
    const ctx = testContext();
    ctx.store.set('reports', { abcdef0123456789: { pdf: '/data/reports/a.pdf', csv: '/data/reports/a.csv' } });
    const req = (file: string) => ({ req: { params: { file } }, res: {}, payload: {} });
    const hit = ctx.run('report-file', req('abcdef0123456789.pdf'))!;
    assert.equal(hit[1], null);
    assert.equal(out(hit, 0).filename, '/data/reports/a.pdf');
    assert.deepEqual(out(hit, 0).report, { scanId: 'abcdef0123456789', format: 'pdf' });
    assert.equal('payload' in out(hit, 0), false);
    const dl = out(ctx.run('report-download', out(hit, 0)), 0);
    assert.equal(dl.statusCode, 200);
    assert.deepEqual(dl.headers, { 'Content-Type': 'application/pdf', 'Content-Disposition': 'attachment; filename="mqtt-scan-abcdef0123456789.pdf"', 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' });
    assert.equal('filename' in dl || 'report' in dl, false);
    for (const [name, message] of [
      ['abcdef0123456789.json', 'No JSON report for scan abcdef0123456789 (only the last scans are kept).'],
      ['../flows.json', 'Expected <scan id>.pdf, .csv or .json'],
      ['abcdef0123456789.pdf.pdf', 'Expected <scan id>.pdf, .csv or .json'],
      ['-bcdef0123456789.pdf', 'Expected <scan id>.pdf, .csv or .json'],
      ['constructor.pdf', 'No PDF report for scan constructor (only the last scans are kept).'],
    ]) {
      const miss = ctx.run('report-file', req(name))!;
      assert.equal(miss[0], null, name);
      assert.equal(out(miss, 1).statusCode, 404);
      assert.deepEqual(out(miss, 1).payload, { error: 'not_found', message });
    }
    const gone = out(ctx.run('report-missing', { res: {}, filename: '/x', report: {} }), 0);
    assert.deepEqual([gone.statusCode, gone.payload.error, 'filename' in gone], [404, 'not_found', false]);
    assert.equal(ctx.run('report-missing', {}), null, 'not an HTTP request');
  });
});
