// The results table of a big scan: one page of rows per message, filters and orders over every
// row (not the page), the controls' message read as hostile input, and "collect the results"
// redrawing a running scan at most twice a second. The scans are built from rated sample results
// (test/support/sample-results.ts) so the sizes are exact; the browser test
// (test/browser/dashboard-scale.test.ts) runs a real 1,000-broker scan.
import { strict as assert } from 'node:assert';
import { classifyResult } from '../../lib/risk';
import {
  keepResult,
  SCAN_REDRAW_MS,
  TABLE_FIND_CHARS,
  TABLE_PAGE_ROWS,
  TOPIC_CELL_CHARS,
  tableMessages,
  tablePage,
  tableRows,
  tableViewOf,
  DEFAULT_TABLE_VIEW,
  type CurrentScan,
  type KeptResult,
  type TableRow,
} from '../../lib/dashboard';
import type { ScanResult } from '../../lib/types';
import { anonymousPlain, tlsPasswordSelfSignedCa } from '../support/sample-results';
import { out, testContext, type TestContext } from './context';

/** `brokers` rated results on 127.0.<n>.<m>:1883, `topics` topics each; every fourth broker is a TLS one with a login (MEDIUM or better). */
function bigScan(brokers: number, topics: number): CurrentScan {
  const results: Record<string, KeptResult> = {};
  for (let i = 0; i < brokers; i++) {
    const host = `127.0.${10 + Math.floor(i / 250)}.${(i % 250) + 1}`;
    const base = i % 4 === 3 ? tlsPasswordSelfSignedCa({ host, port: 1883 }) : anonymousPlain({ host, port: 1883 });
    const items = Array.from({ length: topics }, (_, j) => ({ topic: `site/dev-${i}/t${String(j).padStart(2, '0')}`, messages: (i * 7 + j) % 13, retained: true, sample: `v${j}` }));
    const rated = classifyResult({ ...base, topics: { ...(base.topics || {}), count: topics, items } } as ScanResult);
    const kept = keepResult(rated);
    results[kept.ep] = kept;
  }
  return { scanId: 'big', results, complete: true } as unknown as CurrentScan;
}

const keyOf = (r: TableRow) => `${r.ep} ${r.topic}`;

describe('results table: pages of a big scan', () => {
  const scan = bigScan(1000, 4);
  const all = tableRows(scan);

  it('sends one page at a time: 50 rows, a small message, and says where it stands', () => {
    assert.equal(all.length, 4000);
    const [table, controls] = tableMessages(scan, DEFAULT_TABLE_VIEW);
    assert.equal((table.payload as TableRow[]).length, TABLE_PAGE_ROWS);
    assert.ok(JSON.stringify(table).length < 64 * 1024, `page message ${JSON.stringify(table).length} bytes`);
    assert.deepEqual(controls.payload, { page: 1, pages: 80, matching: 4000, total: 4000, brokers: 1000, from: 1, to: 50, view: { page: 1, risk: '', find: '', sort: 'risk' } });
    // The whole table as one message (what the dashboard sent before) would have been this big:
    assert.ok(JSON.stringify(all).length > 10 * JSON.stringify(table).length);
  });

  it('walks every row exactly once, in the same order as the whole table, page by page', () => {
    const seen: string[] = [];
    for (let page = 1; page <= 80; page++) {
      const got = tablePage(scan, { ...DEFAULT_TABLE_VIEW, page });
      assert.equal(got.from, (page - 1) * TABLE_PAGE_ROWS + 1);
      got.rows.forEach((r, i) => assert.equal(r.id, got.from - 1 + i));
      seen.push(...got.rows.map(keyOf));
    }
    assert.deepEqual(seen, all.map(keyOf));
  });

  it('a page past the end shows the last page; page 0, -3, 2.5 or "x" show the first', () => {
    const last = tablePage(scan, { ...DEFAULT_TABLE_VIEW, page: 999 });
    assert.equal(last.page, 80);
    assert.deepEqual(last.rows.map(keyOf), all.slice(3950).map(keyOf));
    for (const page of [0, -3, 2.5, 'x', null, {}]) assert.equal(tableViewOf({ page }).page, 1, String(page));
    assert.equal(tableViewOf({ page: '7' }).page, 7);
  });

  it('filters by risk over the whole scan, and counts what matches', () => {
    const medium = all.filter((r) => r.risk !== 'CRITICAL');
    assert.ok(medium.length > 0 && medium.length < all.length);
    const level = medium[0].risk as 'HIGH' | 'MEDIUM' | 'LOW';
    const want = all.filter((r) => r.risk === level);
    const got = tablePage(scan, { ...DEFAULT_TABLE_VIEW, risk: level, page: 2 });
    assert.equal(got.matching, want.length);
    assert.equal(got.total, 4000);
    assert.deepEqual(got.rows.map(keyOf), want.slice(50, 100).map(keyOf));
    assert.ok(got.rows.every((r) => r.risk === level));
    const none = tablePage(scan, { ...DEFAULT_TABLE_VIEW, risk: 'none' });
    assert.deepEqual([none.matching, none.pages, none.rows.length, none.from, none.to], [0, 1, 0, 0, 0]);
    const [table] = tableMessages(scan, { ...DEFAULT_TABLE_VIEW, risk: 'none' });
    assert.equal((table.ui_control as { tabulator: { placeholder: string } }).tabulator.placeholder, 'No row matches these filters.');
  });

  it('finds text in any cell, case-insensitively, across pages', () => {
    const got = tablePage(scan, { ...DEFAULT_TABLE_VIEW, find: 'DEV-77/' });
    assert.deepEqual(got.rows.map(keyOf), all.filter((r) => r.topic.includes('dev-77/')).map(keyOf));
    assert.equal(got.matching, 4);
    const byEp = tablePage(scan, { ...DEFAULT_TABLE_VIEW, find: '127.0.13.250:' });
    assert.deepEqual([...new Set(byEp.rows.map((r) => r.ep))], ['127.0.13.250:1883']);
    assert.equal(tableViewOf({ find: 'x'.repeat(5000) }).find.length, TABLE_FIND_CHARS);
  });

  it('orders every row by endpoint, topic or messages (not just the page), never by the browser', () => {
    const byMessages = tablePage(scan, { ...DEFAULT_TABLE_VIEW, sort: 'messages' });
    const most = Math.max(...all.map((r) => Number(r.messages)));
    assert.ok(byMessages.rows.every((r) => r.messages === most), 'page 1 holds the most messages of the whole scan');
    const byTopic = tablePage(scan, { ...DEFAULT_TABLE_VIEW, sort: 'topic' });
    const topics = all.map((r) => r.topic).sort((a, b) => a.localeCompare(b));
    assert.deepEqual(byTopic.rows.map((r) => r.topic), topics.slice(0, 50));
    const byEndpoint = tablePage(scan, { ...DEFAULT_TABLE_VIEW, sort: 'endpoint', page: 2 });
    const eps = [...new Set(all.map((r) => r.ep))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    assert.deepEqual([...new Set(byEndpoint.rows.map((r) => r.ep))], eps.slice(12, 25), '4 rows a broker: rows 51-100 are brokers 13-25');
    assert.equal((tableMessages(scan, DEFAULT_TABLE_VIEW)[0].ui_control as { tabulator: { headerSort: boolean } }).tabulator.headerSort, false);
  });

  it('reads the controls as hostile input: unknown values take their defaults', () => {
    assert.deepEqual(tableViewOf({ risk: 'critical', sort: 'constructor', find: 42, page: 1e12 }), { page: 1e6, risk: '', find: '', sort: 'risk' });
    assert.deepEqual(tableViewOf('junk'), DEFAULT_TABLE_VIEW);
    assert.deepEqual(tableViewOf({ risk: 'none', sort: 'topic', find: '  dht ', page: 3 }), { page: 3, risk: 'none', find: 'dht', sort: 'topic' });
  });

  it('cuts a topic of 5,000 characters to 300 in its cell', () => {
    const r = classifyResult({ ...anonymousPlain({ port: 1883 }), topics: { count: 1, items: [{ topic: `a/${'x'.repeat(4998)}`, messages: 1 }] } } as ScanResult);
    const [row] = tableRows({ results: { x: keepResult(r) } });
    assert.equal(row.topic.length, TOPIC_CELL_CHARS);
    assert.ok(row.topic.endsWith('…'));
  });
});

describe('results table: the views in the flow', () => {
  function running(ctx: TestContext): string {
    ctx.store.set('current', { scanId: 'run-1', results: {}, complete: false, total: 1000 });
    return 'run-1';
  }
  const result = (i: number) => classifyResult(anonymousPlain({ host: `127.0.20.${i + 1}`, port: 1883 }));

  it('"collect the results" redraws a running scan at most once per 500 ms, the last change always follows, the end at once', () => {
    const ctx = testContext();
    const id = running(ctx);
    const redraws: number[] = [];
    const count = (o: ReturnType<TestContext['run']>) => {
      if (o && o[0]) redraws.push((out(o, 0).payload as CurrentScan) ? Object.keys((out(o, 0).payload as CurrentScan).results).length : -1);
    };
    for (let i = 0; i < 100; i++) {
      count(ctx.run('scan-results', { scanId: id, payload: result(i) }));
      ctx.advance(10); // 100 results in 1 s
    }
    for (const s of ctx.sent.splice(0)) count(s);
    assert.ok(redraws.length >= 2 && redraws.length <= 3, `${redraws.length} redraws for 100 results in 1 s`);
    assert.equal(redraws[0], 1, 'the first result is shown at once');
    ctx.advance(SCAN_REDRAW_MS);
    for (const s of ctx.sent.splice(0)) count(s);
    assert.equal(redraws[redraws.length - 1], 100, 'the last result is shown within 500 ms though nothing followed it');
    assert.equal(ctx.pendingTimers(), 0);
    const done = ctx.run('scan-results', { scanId: id, complete: true, payload: { scanId: id, targets: 100 } })!;
    assert.equal(Object.keys((out(done, 0).payload as CurrentScan).results).length, 100, 'the completion draws at once');
  });

  it('a redraw due after the scan ended or another began is dropped', () => {
    const ctx = testContext();
    const id = running(ctx);
    ctx.run('scan-results', { scanId: id, payload: result(0) });
    assert.equal(ctx.run('scan-results', { scanId: id, payload: result(1) }), null);
    ctx.run('scan-results', { scanId: id, complete: true, payload: { scanId: id, targets: 2 } });
    ctx.advance(SCAN_REDRAW_MS);
    assert.deepEqual(ctx.sent, [], 'nothing after the completion');
  });

  it('table-view pages the scan kept in the flow, never one the browser sends; a new scan starts on page 1 with its filters kept', () => {
    const ctx = testContext();
    const scan = bigScan(60, 3);
    ctx.store.set('current', scan);
    const forged = { scanId: 'big', results: { 'evil:1': { ep: 'evil:1' } } };
    const [table, controls] = ctx.run('table-view', { topic: 'scan', payload: { page: 2, risk: 'CRITICAL', current: forged, results: forged.results } })!;
    const rows = (table as { payload: TableRow[] }).payload;
    assert.ok(rows.length > 0 && rows.every((r) => r.ep !== 'evil:1' && r.risk === 'CRITICAL'));
    assert.equal(out([controls], 0).payload.page, 2);
    // A redraw of the same scan keeps the page and filter; a new scan keeps the filter, from page 1.
    const again = ctx.run('results-table', { topic: 'scan', payload: scan })!;
    assert.deepEqual(out(again, 1).payload.view, { page: 2, risk: 'CRITICAL', find: '', sort: 'risk' });
    const next = ctx.run('results-table', { topic: 'scan', payload: { ...scan, scanId: 'big-2' } })!;
    assert.deepEqual(out(next, 1).payload.view, { page: 1, risk: 'CRITICAL', find: '', sort: 'risk' });
  });
});
