// The scan history store (lib/history): a real SQLite database (sql.js) in a file, reopened as a
// restart would; its bounds; a damaged file moved aside, never overwritten; the query a user types.
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistoryQueryError, ScanHistory, historyQueryFrom, scanFromReport, sharedHistory, type ScanToStore } from '../../lib/history';
import { classifyResult } from '../../lib/risk';
import { prepareReport } from '../../lib/report';
import type { ScanSummary } from '../../lib/types';
import { anonymousPlain, tlsPasswordSelfSignedCa } from '../support/sample-results';

const T0 = Date.parse('2026-11-30T10:00:00.000Z');
const DAY = 86_400_000;

/** A finished scan of `hosts` (anonymous plain brokers on 1883) at `at`, as the report writer stores it. */
function scanAt(scanId: string, at: number, hosts: string[] = ['127.0.0.1'], extra: Partial<ScanToStore> = {}): ScanToStore {
  const results = hosts.map((host) => classifyResult(anonymousPlain({ host, port: 1883 })));
  const scan = { scanId, startedAt: new Date(at - 2000).toISOString(), finishedAt: new Date(at).toISOString(), durationMs: 2000, targets: hosts.length } as unknown as ScanSummary;
  const input = prepareReport(results, { scan, meta: { targets: hosts, ports: [1883] }, now: new Date(at) });
  return { ...scanFromReport(input, { scanId, source: 'flow', files: { json: `/reports/${scanId}.json` }, at }), ...extra };
}

describe('scan history: the store', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mqttsec-history-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('survives a restart: a new process opening the file finds every scan, its report and its brokers', async () => {
    const file = join(dir, 'sub', 'history.sqlite');
    const first = await ScanHistory.open(file);
    first.add(scanAt('scan-a', T0, ['127.0.0.1', '127.0.0.2']));
    first.add(scanAt('scan-b', T0 + DAY));
    first.close();
    assert.equal(statSync(file).mode & 0o777, 0o600, 'only its owner reads it');
    assert.deepEqual(readdirSync(join(dir, 'sub')), ['history.sqlite'], 'no temporary file left behind');
    assert.equal(readFileSync(file).subarray(0, 16).toString('latin1'), 'SQLite format 3\0', 'a real SQLite file');
    const again = await ScanHistory.open(file);
    assert.equal(again.notice, null);
    assert.deepEqual(again.list().scans.map((s) => s.scanId), ['scan-b', 'scan-a']);
    const a = again.get('scan-a')!;
    assert.deepEqual([a.source, a.target, a.ports, a.brokers, a.worst, a.formats], ['flow', '127.0.0.1, 127.0.0.2', [1883], 2, 'CRITICAL', ['json']]);
    assert.equal((a.report!.results as unknown[]).length, 2);
    assert.equal(a.report!.format, 'mqttsec-report/1');
    assert.deepEqual(again.files('scan-a'), { json: '/reports/scan-a.json' });
    assert.equal(again.get('nope'), null);
    assert.equal(again.files('nope'), null);
    again.close();
  });

  it('a scan stored again replaces itself (its brokers too)', async () => {
    const h = await ScanHistory.inMemory();
    h.add(scanAt('scan-a', T0, ['127.0.0.1', '127.0.0.2']));
    h.add(scanAt('scan-a', T0 + 1000, ['127.0.0.3']));
    assert.equal(h.count(), 1);
    assert.deepEqual(h.scores().map((s) => s.endpoint), ['127.0.0.3:1883']);
  });

  it('keeps at most maxScans, and the stored reports within maxReportBytes, dropping the oldest; the newest always stays', async () => {
    const h = await ScanHistory.inMemory();
    for (let i = 0; i < 12; i++) h.add(scanAt(`scan-${i}`, T0 + i * 1000), { maxScans: 5 });
    assert.deepEqual(h.list().scans.map((s) => s.scanId), ['scan-11', 'scan-10', 'scan-9', 'scan-8', 'scan-7']);
    assert.equal(h.scores()[0].points.length, 5, 'the dropped scans\' brokers are gone too');
    const size = JSON.stringify(h.get('scan-11')!.report).length;
    h.add(scanAt('scan-12', T0 + 20_000), { maxScans: 100, maxReportBytes: size * 2 + 10 });
    assert.deepEqual(h.list().scans.map((s) => s.scanId), ['scan-12', 'scan-11']);
    h.add(scanAt('scan-13', T0 + 30_000), { maxReportBytes: 1 });
    assert.deepEqual(h.list().scans.map((s) => s.scanId), ['scan-13'], 'a single scan over the cap is still kept');
  });

  it('a file that is not a history it can read is moved aside with a notice, and a new history starts', async () => {
    const file = join(dir, 'history.sqlite');
    writeFileSync(file, 'not a database at all, but someone\'s notes');
    const h = await ScanHistory.open(file);
    assert.ok(h.notice);
    assert.match(h.notice!.reason, /not a database/);
    assert.equal(readFileSync(h.notice!.movedTo, 'utf8'), 'not a database at all, but someone\'s notes', 'nothing lost');
    h.add(scanAt('scan-a', T0));
    h.close();
    const reopened = await ScanHistory.open(file);
    assert.equal(reopened.notice, null);
    assert.equal(reopened.count(), 1);
    reopened.close();
  });

  it('a history written by a newer version is not touched: moved aside, named in the notice', async () => {
    const file = join(dir, 'history.sqlite');
    const h = await ScanHistory.open(file);
    h.add(scanAt('scan-a', T0));
    h.close();
    // What a newer version would leave: a higher schema number.
    const SQL = await (require('sql.js') as (c: object) => Promise<{ Database: new (d?: Uint8Array) => { exec(s: string): unknown; export(): Uint8Array; close(): void } }>)({
      locateFile: (f: string) => require.resolve(`sql.js/dist/${f}`),
    });
    const db = new SQL.Database(readFileSync(file));
    db.exec('PRAGMA user_version = 7');
    writeFileSync(file, db.export());
    db.close();
    const newer = await ScanHistory.open(file);
    assert.match(newer.notice!.reason, /schema 7 is newer/);
    assert.ok(existsSync(newer.notice!.movedTo));
    assert.equal(newer.count(), 0);
    newer.close();
  });

  it('queries: by part of a target or host:port (case-insensitive, % and _ are plain), worst level, time, source, pages', async () => {
    const h = await ScanHistory.inMemory();
    h.add(scanAt('scan-0', T0, ['127.0.0.1']));
    h.add(scanAt('scan-1', T0 + DAY, ['127.0.0.2'], { source: 'api' }));
    h.add(scanAt('scan-2', T0 + 2 * DAY, ['127.0.0.1'], { worst: 'LOW', targets: ['Lab-Broker'] }));
    h.add(scanAt('scan-3', T0 + 3 * DAY, [], { worst: null, targets: ['127.0.0.50%'] }));
    const ids = (q: Parameters<ScanHistory['list']>[0]) => h.list(q).scans.map((s) => s.scanId);
    assert.deepEqual(ids({ target: '127.0.0.1:1883' }), ['scan-2', 'scan-0'], 'an endpoint of the scan');
    assert.deepEqual(ids({ target: 'lab-broker' }), ['scan-2'], 'a target spec, any case');
    assert.deepEqual(ids({ target: '%' }), ['scan-3'], '% is a character, not a wildcard');
    assert.deepEqual(ids({ target: '_' }), []);
    assert.deepEqual(ids({ worst: ['LOW', 'none'] }), ['scan-3', 'scan-2']);
    assert.deepEqual(ids({ since: T0 + DAY, until: T0 + 3 * DAY }), ['scan-2', 'scan-1']);
    assert.deepEqual(ids({ source: 'api' }), ['scan-1']);
    const page = h.list({ page: 2, perPage: 3 });
    assert.deepEqual([page.total, page.pages, page.page, page.scans.map((s) => s.scanId)], [4, 2, 2, ['scan-0']]);
  });

  it('scores: each endpoint\'s rated scans oldest first, the most recently scanned endpoints first, bounded', async () => {
    const h = await ScanHistory.inMemory();
    for (let i = 0; i < 6; i++) h.add(scanAt(`scan-${i}`, T0 + i * DAY, [`127.0.0.${i + 1}`, '127.0.0.100']));
    const series = h.scores({}, 3, 4);
    assert.deepEqual(series.map((s) => s.endpoint), ['127.0.0.100:1883', '127.0.0.6:1883', '127.0.0.5:1883']);
    assert.deepEqual(series[0].points.map((p) => p.scanId), ['scan-2', 'scan-3', 'scan-4', 'scan-5'], 'the newest 4, oldest first');
    assert.ok(series[0].points.every((p) => p.risk === 'CRITICAL' && p.score >= 0 && p.score <= 30));
    // A TLS broker the scan could not rate has no point.
    const tls = classifyResult(tlsPasswordSelfSignedCa({ port: 8883 }));
    const input = prepareReport([{ ...tls, risk: null }], { meta: {}, now: new Date(T0 + 9 * DAY) });
    h.add(scanFromReport(input, { scanId: 'scan-tls', source: 'flow', files: {}, at: T0 + 9 * DAY }));
    assert.ok(!h.scores().some((s) => s.endpoint.endsWith(':8883')));
    assert.deepEqual(h.get('scan-tls')!.targets, ['127.0.0.1'], 'bare results: their hosts stand in for the specs');
  });

  it('one history per file in a process: every node naming the file shares it', async () => {
    const file = join(dir, 'shared.sqlite');
    const [a, b] = await Promise.all([sharedHistory(file), sharedHistory(join(dir, '.', 'shared.sqlite'))]);
    assert.equal(a, b);
    a.add(scanAt('scan-a', T0));
    assert.equal(b.count(), 1);
    assert.equal(await sharedHistory(null), await sharedHistory(null));
  });
});

describe('scan history: the query a user types', () => {
  it('reads target, worst, since, until, source, page, per_page; empty values mean no filter', () => {
    assert.deepEqual(historyQueryFrom({ target: ' 127.0.0.1 ', worst: 'high, none', since: '2026-11-01', until: '2026-11-30', source: 'api', page: '2', per_page: 50 }), {
      target: '127.0.0.1',
      worst: ['HIGH', 'none'],
      since: Date.parse('2026-11-01T00:00:00Z'),
      until: Date.parse('2026-12-01T00:00:00Z'),
      source: 'api',
      page: 2,
      perPage: 50,
    });
    assert.deepEqual(historyQueryFrom({ target: '', worst: '', since: '' }), {});
    assert.equal(historyQueryFrom({ since: '2026-11-30T09:30:00+01:00' }).since, Date.parse('2026-11-30T08:30:00Z'));
  });

  it('refuses what it cannot read with an error that names the parameter', () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ worst: 'SEVERE' }, 'worst', /"SEVERE" is not a risk level/],
      [{ since: '2026-02-30' }, 'since', /not a date/],
      [{ since: 'yesterday' }, 'since', /ISO 8601/],
      [{ until: '2026-11-30T10:00:00' }, 'until', /with a zone/],
      [{ since: '2026-11-30', until: '2026-11-01' }, 'until', /later than since/],
      [{ source: 'cli' }, 'source', /dashboard, api or flow/],
      [{ page: '0' }, 'page', /1 to/],
      [{ page: '1e3' }, 'page', /whole number/],
      [{ per_page: '101' }, 'per_page', /1 to 100/],
      [{ target: 'x'.repeat(201) }, 'target', /200/],
      [{ target: ['a', 'b'] }, 'target', /one value/],
    ];
    for (const [params, field, message] of cases) {
      assert.throws(() => historyQueryFrom(params), (err: unknown) => err instanceof HistoryQueryError && err.field === field && message.test(err.message) && err.message.startsWith(`${field}: `), JSON.stringify(params));
    }
  });
});
