// The PDF of a big scan (issue 19): brokers rated MEDIUM or worse with the same findings share a
// section, the rest are table rows with their finding ids; 1,000 brokers fit in 200 pages, and
// every endpoint is in the PDF's text or named in a "listed in the CSV and JSON reports" line. A
// classroom's few brokers keep a section each. Pages are counted twice: the page objects pdfkit
// wrote, and the pages pdftoppm renders.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  detailPlan, prepareReport, renderCsv, renderJson, renderPdf, DETAILED_UP_TO, MAX_GROUP_ENDPOINTS, MAX_SECTIONS, MAX_TABLE_ROWS,
} from '../../lib/report';
import type { ScanResult } from '../../lib/types';
import { anonymousPlain, hardened, manyResults, result, tlsPasswordSelfSignedCa, topics } from '../support/sample-results';
import { requireTool } from '../support/tools';

const NOW = new Date('2026-11-27T10:00:06Z');
const PAGE_LIMIT = 200;

/** `n` anonymous brokers like the bench's farm: 9 plain (1883) to 1 TLS (8883), each its own address. */
function anonymousFarm(n: number): ScanResult[] {
  return Array.from({ length: n }, (_, i) => {
    const host = `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;
    return i % 10 === 9
      ? tlsPasswordSelfSignedCa({ host, auth: { anonymous: { outcome: 'accepted', code: 0, version: '5.0' }, wrongCredentials: { outcome: 'accepted', code: 0, version: '5.0' }, givenCredentials: { outcome: 'not_tested' } } })
      : anonymousPlain({ host });
  });
}

/** Page objects in pdfkit's output: "/Type /Page" dictionaries (not "/Type /Pages"). */
function pageObjects(pdf: Buffer): number {
  return (pdf.toString('latin1').match(/\/Type \/Page\b(?!s)/g) ?? []).length;
}

describe('report: the PDF of a big scan', function () {
  this.timeout(180_000);
  let dir: string;
  before(function () {
    requireTool(this, 'pdftotext');
    requireTool(this, 'pdftoppm');
    dir = mkdtempSync(join(tmpdir(), 'mqttsec-report-scale-'));
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  /** The PDF's text (pdftotext -layout), and its pages as pdftoppm renders them (at 10 dpi: only counted). */
  const inspect = (pdf: Buffer, name: string) => {
    const file = join(dir, `${name}.pdf`);
    writeFileSync(file, pdf);
    const text = spawnSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    assert.equal(text.status, 0, text.stderr);
    const out = join(dir, name);
    mkdirSync(out);
    const png = spawnSync('pdftoppm', ['-r', '10', '-png', file, join(out, 'p')], { encoding: 'utf8' });
    assert.equal(png.status, 0, png.stderr);
    return { text: text.stdout, rendered: readdirSync(out).filter((f) => f.endsWith('.png')).length };
  };

  it(`1,000 anonymous brokers (all CRITICAL): at most ${PAGE_LIMIT} pages, one section per kind of broker, every endpoint in the text`, async () => {
    const input = prepareReport(anonymousFarm(1000), { now: NOW });
    const pdf = await renderPdf(input);
    const { text, rendered } = inspect(pdf, 'farm-1000');
    assert.equal(rendered, pageObjects(pdf), 'pdftoppm renders every page pdfkit wrote');
    assert.ok(rendered <= PAGE_LIMIT, `${rendered} pages`);
    const missing = input.results.filter((r) => !new RegExp(`(^|[\\s,])${r.host.replace(/\./g, '\\.')}:${r.port}\\b`, 'm').test(text));
    assert.deepEqual(missing.map((r) => `${r.host}:${r.port}`), []);
    const flat = text.replace(/\s+/g, ' ');
    assert.match(flat, /3\.1 900 brokers with the same findings/);
    assert.match(flat, /3\.2 100 brokers with the same findings/);
    assert.match(flat, new RegExp(`and ${900 - MAX_GROUP_ENDPOINTS} more: marked 3\\.1 in the table of chapter 2, and every one is listed in the CSV and JSON reports`));
    assert.ok(!/3\.3\s/.test(text.slice(text.indexOf('3 Broker details'), text.indexOf('Rule catalogue', text.indexOf('3 Broker details')))), 'two sections, no more');
    // CSV and JSON keep every broker.
    assert.equal(renderCsv(input).trim().split('\r\n').length, 1 + 1000);
    assert.equal((JSON.parse(renderJson(input)) as { results: unknown[] }).results.length, 1000);
  });

  it('a mixed scan: LOW and unrated brokers are rows with their finding ids, MEDIUM or worse point to a section', async () => {
    // manyResults' eight kinds, and brokers rated LOW for what their $SYS says (an outdated version).
    const lowFindings = Array.from({ length: 40 }, (_, i) => hardened({
      host: `127.0.9.${i + 1}`,
      topics: topics({ as: 'given credentials', sys: { version: 'mosquitto version 2.0.22', raw: { '$SYS/broker/version': 'mosquitto version 2.0.22' } } }),
    }));
    const input = prepareReport([...manyResults(960), ...lowFindings], { now: NOW });
    const plan = detailPlan(input.results);
    assert.equal(plan.grouped, true);
    const pdf = await renderPdf(input);
    const { text, rendered } = inspect(pdf, 'mixed-1000');
    assert.ok(rendered <= PAGE_LIMIT, `${rendered} pages`);
    const missing = input.results.filter((r) => !text.includes(`${r.host}:${r.port}`));
    assert.deepEqual(missing.map((r) => `${r.host}:${r.port}`), []);
    const low = input.results.find((r) => r.risk?.level === 'LOW' && r.findings.length)!;
    assert.ok(low, 'manyResults has a LOW broker with findings');
    assert.equal(plan.sectionOf.get(low), undefined, 'a LOW broker has no section');
    // A row of the brokers table (chapter 2, after the contents page that names it too): the
    // endpoint at the start of the line, then the columns.
    const chapter2 = text.slice(text.indexOf('All 1000 results of the scan'), text.lastIndexOf('Broker details'));
    const rowOf = (r: ScanResult) => chapter2.split('\n').find((l) => l.trimStart().startsWith(`${r.host}:${r.port}  `)) ?? '';
    const row = rowOf(low);
    assert.ok(row.includes(low.findings[0].id.slice(0, 12)), `its row shows its finding ids: ${row}`);
    const critical = input.results.find((r) => r.risk?.level === 'CRITICAL')!;
    const ref = plan.sectionOf.get(critical)!;
    assert.match(rowOf(critical), new RegExp(`see ${ref.replace('.', '\\.')}`));
  });

  it(`more results than the table holds (${MAX_TABLE_ROWS}): the rest are named in a "listed in the CSV and JSON reports" line`, async () => {
    const n = MAX_TABLE_ROWS + 40;
    const input = prepareReport(anonymousFarm(n).map((r, i) => ({ ...r, host: `127.${2 + Math.floor(i / 62500)}.${Math.floor(i / 250) % 250}.${(i % 250) + 1}` })), { now: NOW });
    const pdf = await renderPdf(input);
    const { text, rendered } = inspect(pdf, 'table-bound');
    assert.ok(rendered <= PAGE_LIMIT + 30, `${rendered} pages`);
    assert.match(text, new RegExp(`… and 40 more results, listed in the CSV and JSON reports`));
    const shown = input.results.filter((r) => text.includes(`${r.host}:${r.port} `)).length;
    assert.ok(shown >= MAX_TABLE_ROWS, `${shown} endpoints in the text`);
  });

  it(`a classroom's 4 brokers keep one full section each (up to ${DETAILED_UP_TO})`, async () => {
    const results = [anonymousPlain(), tlsPasswordSelfSignedCa({ host: '127.0.0.2' }), hardened({ host: '127.0.0.3' }), anonymousPlain({ host: '127.0.0.4' })];
    const input = prepareReport(results, { now: NOW });
    const plan = detailPlan(input.results);
    assert.equal(plan.grouped, false);
    assert.deepEqual(plan.sections.map((s) => s.members.length), [1, 1, 1, 1], 'even the two alike brokers');
    const { text } = inspect(await renderPdf(input), 'classroom');
    input.results.forEach((r, i) => assert.match(text, new RegExp(`3\\.${i + 1}\\s+${r.host.replace(/\./g, '\\.')}:${r.port}`)));
    assert.match(text, /Broker\s+Transport\s+Result\s+Risk\s+Score\s+Main finding/);
    assert.ok(!text.includes('with the same findings'));
  });
});

describe('report: which brokers get a section (detailPlan)', function () {
  it('groups by level and finding ids, worst level first, then the biggest group; LOW gets none', () => {
    const plain = Array.from({ length: 30 }, (_, i) => anonymousPlain({ host: `10.0.0.${i + 1}` }));
    const low = Array.from({ length: 5 }, (_, i) => hardened({ host: `10.0.1.${i + 1}` }));
    const tls = Array.from({ length: 3 }, (_, i) => tlsPasswordSelfSignedCa({ host: `10.0.2.${i + 1}` }));
    const input = prepareReport([...plain, ...low, ...tls, result({ host: '10.0.3.1', reachability: 'closed', transport: null, classification: 'unreachable_or_firewalled' })], { now: NOW });
    const plan = detailPlan(input.results);
    assert.equal(plan.grouped, true);
    const levels = plan.sections.map((s) => s.members[0].risk!.level);
    assert.deepEqual([...levels].sort(), levels.slice().sort(), 'ordered');
    assert.equal(plan.sections[0].members.length, 30, 'the 30 alike brokers share the first section');
    for (const s of plan.sections) {
      const keys = new Set(s.members.map((m) => `${m.risk!.level}|${m.findings.map((f) => f.id).sort().join(',')}`));
      assert.equal(keys.size, 1, `section ${s.number}: one level and set of findings`);
      assert.ok(['CRITICAL', 'HIGH', 'MEDIUM'].includes(s.members[0].risk!.level));
    }
    const sectioned = input.results.filter((r) => plan.sectionOf.has(r));
    assert.ok(sectioned.every((r) => ['CRITICAL', 'HIGH', 'MEDIUM'].includes(r.risk!.level)));
  });

  it(`at most ${MAX_SECTIONS} sections; the brokers of the other groups are counted`, () => {
    // Each broker says another version: other known vulnerabilities, so other findings.
    const results = Array.from({ length: MAX_SECTIONS + 10 }, (_, i) => anonymousPlain({ host: `10.1.0.${i + 1}`, findings: undefined, topics: { ...anonymousPlain().topics!, sys: { version: `mosquitto version 1.${i}.0` } } }));
    const input = prepareReport(results, { now: NOW });
    const plan = detailPlan(input.results);
    const groups = new Set(input.results.map((r) => `${r.risk!.level}|${r.findings.map((f) => f.id).sort().join(',')}|${r.findings.map((f) => f.evidence).join('')}`));
    assert.ok(plan.sections.length <= MAX_SECTIONS);
    assert.equal(plan.sections.reduce((n, s) => n + s.members.length, 0) + plan.unsectioned.brokers, input.results.filter((r) => ['CRITICAL', 'HIGH', 'MEDIUM'].includes(r.risk!.level)).length);
    assert.ok(groups.size >= 1);
  });
});
