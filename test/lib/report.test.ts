// Reports: CSV parsed back, CSV injection, JSON, PDF text and pages (pdftotext), Unicode and
// hostile topic names, atomic writes, and no password anywhere.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildReport, CSV_COLUMNS, neutralise, parseFormats, prepareReport, renderCsv, renderJson, renderPdf, reportBaseName,
  writeFilesAtomically, writeReport,
} from '../../lib/report';
import { classifyResult, type ClassifiedResult } from '../../lib/risk';
import { latestResults } from '../../lib/dashboard';
import { runScan } from '../../lib/pipeline';
import type { ScanResult, ScanSummary } from '../../lib/types';
import {
  anonymousPlain, DEVICE_PAYLOAD_SECRETS, deviceExposure, hardened, HOSTILE_TOPICS, manyResults, mosquittoSaying, result, sample, SCAN_ID, tlsPasswordSelfSignedCa, topics, withDevices,
} from '../support/sample-results';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto';
import { requireTool } from '../support/tools';

const OUT = join(__dirname, '../../test-output');
const NOW = new Date('2026-11-27T10:00:06Z');

function scanSummary(n: number): ScanSummary {
  return {
    scanId: SCAN_ID, startedAt: '2026-11-27T10:00:00.000Z', finishedAt: '2026-11-27T10:00:05.400Z', durationMs: 5400, targets: n,
    reachability: { open: n, closed: 0, filtered: 0, error: 0 },
    classification: { open_or_auth_ok: 0, not_authorized: 0, unreachable_or_firewalled: 0, tls_or_ssl_error: 0, not_mqtt: 0 },
  };
}

/** RFC 4180: quoted fields, doubled quotes, CRLF; strips the UTF-8 BOM. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  const s = text.replace(/^\ufeff/, '');
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(cell), (cell = '');
    else if (c === '\r' && s[i + 1] === '\n') {
      row.push(cell), rows.push(row), (row = []), (cell = ''), i++;
    } else cell += c;
  }
  if (cell !== '' || row.length) row.push(cell), rows.push(row);
  return rows;
}

function pdfText(pdf: Buffer, name: string): string[] {
  const file = join(OUT, `${name}.pdf`);
  writeFileSync(file, pdf);
  const r = spawnSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\f').slice(0, -1); // one entry per page
}

/** The PDF's text in drawing order (pdftotext -raw), white space made single spaces, and a word
 *  broken after a hyphen at a line's end joined again ("MOSQUITTO-2021-08- DEFAULT" -> "...-DEFAULT"). */
function pdfRawText(pdf: Buffer, name: string): string {
  const file = join(OUT, `${name}.pdf`);
  writeFileSync(file, pdf);
  const r = spawnSync('pdftotext', ['-raw', file, '-'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.replace(/\s+/g, ' ').replace(/(\w)- (?=\w)/g, '$1-');
}

/** The URLs the PDF's Link annotations open: each /URI action object that an annotation's /A names. */
function linkTargets(raw: string): Set<string> {
  const actions = new Map<string, string>();
  for (const a of raw.matchAll(/(\d+) 0 obj\s*<<\s*\/S \/URI\s*\/URI \(([^)]*)\)\s*>>/g)) actions.set(a[1], a[2]);
  const out = new Set<string>();
  for (const l of raw.matchAll(/<<\s*\/Subtype \/Link\s*\/A (\d+) 0 R/g)) if (actions.has(l[1])) out.add(actions.get(l[1])!);
  return out;
}

/** Each of `expected` occurs in `text`, in this order. */
function assertInOrder(text: string, expected: string[]): void {
  let from = 0;
  for (const s of expected) {
    const at = text.indexOf(s, from);
    assert.ok(at >= 0, `"${s}" after position ${from}: ${text.slice(from, from + 400)}`);
    from = at + s.length;
  }
}

describe('report: CSV', () => {
  it('the seed columns come first, then ours; every row parses back to its result', () => {
    const input = prepareReport([anonymousPlain(), tlsPasswordSelfSignedCa({ host: '127.0.0.2' }), { ...sample('closed port'), host: '127.0.0.3' }], { now: NOW });
    const rows = parseCsv(renderCsv(input));
    assert.deepEqual(rows[0].slice(0, 7), ['ip', 'port', 'result', 'classification', 'security', 'topics_count', 'publishers_count']);
    assert.deepEqual(rows[0], CSV_COLUMNS.map(([h]) => h));
    assert.equal(rows.length, 4);
    const byIp = Object.fromEntries(rows.slice(1).map((r) => [`${r[0]}:${r[1]}`, Object.fromEntries(rows[0].map((h, i) => [h, r[i]]))]));
    const a = byIp['127.0.0.1:1883'];
    assert.equal(a.result, 'connected anonymously');
    assert.equal(a.classification, 'open_or_auth_ok');
    assert.equal(a.security, 'plaintext');
    assert.equal(a.topics_count, '3');
    assert.equal(a.publishers_count, '2', 'topics with a live (non-retained) message');
    assert.equal(a.risk_level, 'CRITICAL');
    assert.equal(a.risk_score, '0');
    assert.deepEqual(a.finding_ids.split(';'), classifyResult(anonymousPlain()).findings.map((f) => f.id));
    const b = byIp['127.0.0.2:8883'];
    assert.equal(b.security, 'TLS');
    assert.equal(b.tls_version, 'TLSv1.3');
    assert.equal(b.cert_expiry, '2027-10-01T00:00:00.000Z');
    assert.equal(b.finding_ids, 'TLS_SELF_SIGNED');
    assert.equal(b.risk_level, 'MEDIUM');
    const closed = rows.find((r) => r[2] === 'closed')!;
    assert.equal(closed[7], '', 'unrated: empty risk level');
  });

  it('the devices columns come after broker_url (ecosystems, device_count, command_topics, location_topics, then cves); empty when the broker was not listened to', () => {
    const r = withDevices();
    r.topics!.items.find((i) => i.topic === 'gateway/config')!.sample = `{"wifi_password":"${DEVICE_PAYLOAD_SECRETS.password}"}`;
    const refused = anonymousPlain({ host: '127.0.0.4', topics: topics({ items: [], count: 0, error: 'every subscription was refused' }) });
    const csv = renderCsv(prepareReport([r, anonymousPlain({ host: '127.0.0.2' }), { ...sample('closed port'), host: '127.0.0.3' }, refused], { now: NOW }));
    const rows = parseCsv(csv);
    assert.deepEqual(rows[0], [
      'ip', 'port', 'result', 'classification', 'security', 'topics_count', 'publishers_count', 'risk_level', 'risk_score', 'finding_ids', 'tls_version',
      'cert_expiry', 'cert_days_left', 'transport', 'anonymous_allowed', 'requires_auth', 'broker_version', 'risk_not_rated', 'tls_score', 'tls_psk_hint',
      'broker_url', 'ecosystems', 'device_count', 'command_topics', 'location_topics', 'cves', 'site', 'agent',
    ]);
    const last4 = Object.fromEntries(rows.slice(1).map((row) => [row[0], row.slice(-7, -3)]));
    assert.deepEqual(last4, {
      '127.0.0.1': ['Zigbee2MQTT; OwnTracks', '16', '7', '2'],
      '127.0.0.2': ['', '0', '0', '0'],
      '127.0.0.3': ['', '', '', ''],
      '127.0.0.4': ['', '', '', ''],
    });
    for (const v of Object.values(DEVICE_PAYLOAD_SECRETS)) assert.ok(!csv.includes(String(v)), `${v} is in the CSV`);
  });

  it('site and agent are the last columns: who scanned each broker of a coordinated scan (ScanResult.scannedBy); empty in a local scan', () => {
    const results = [{ ...anonymousPlain(), scannedBy: { site: 'north', agent: 'north-1' } }, anonymousPlain({ host: '127.0.0.2' })];
    const rows = parseCsv(renderCsv(prepareReport(results, { now: NOW })));
    assert.deepEqual(rows[0].slice(-2), ['site', 'agent']);
    assert.deepEqual(Object.fromEntries(rows.slice(1).map((row) => [row[0], row.slice(-2)])), { '127.0.0.1': ['north', 'north-1'], '127.0.0.2': ['', ''] });
  });

  it('cves follows the devices columns: the matched ids worst first joined by "; "; empty for an outdated version without matches and for a broker that did not say its version', () => {
    const vulnerable = classifyResult(mosquittoSaying('2.0.11'));
    const results = [vulnerable, mosquittoSaying('2.0.22', { host: '127.0.0.2' }), hardened({ host: '127.0.0.3' }), { ...sample('closed port'), host: '127.0.0.4' }];
    const rows = parseCsv(renderCsv(prepareReport(results, { now: NOW })));
    assert.deepEqual(rows[0].slice(-7, -2), ['ecosystems', 'device_count', 'command_topics', 'location_topics', 'cves']);
    const col = rows[0].indexOf('cves');
    const cves = Object.fromEntries(rows.slice(1).map((row) => [row[0], row[col]]));
    assert.equal(cves['127.0.0.1'], vulnerable.vulnerabilities!.matches.map((m) => m.id).join('; '));
    assert.ok(cves['127.0.0.1'].startsWith('CVE-2024-8376; CVE-2023-28366; CVE-2021-41039; '), cves['127.0.0.1']);
    assert.ok(cves['127.0.0.1'].endsWith('; MOSQUITTO-2021-08-QOS2-RECONNECT-ACL; CVE-2021-34434'), cves['127.0.0.1']);
    assert.equal(cves['127.0.0.1'].split('; ').length, 16);
    assert.deepEqual([cves['127.0.0.2'], cves['127.0.0.3'], cves['127.0.0.4']], ['', '', '']);
  });

  it('cells a spreadsheet would run as a formula start with a quote', () => {
    const evil = ['=HYPERLINK("http://evil.example","x")', '+1+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1', 'mosquitto 2.0.18'];
    const input = prepareReport(evil.map((v, i) => anonymousPlain({ host: `127.0.0.${i + 1}`, mqtt: { versions: {}, brokerVersion: v } })), { now: NOW });
    const rows = parseCsv(renderCsv(input));
    const col = rows[0].indexOf('broker_version');
    assert.deepEqual(rows.slice(1).map((r) => r[col]), [...evil.slice(0, -1).map((v) => `'${v}`), 'mosquitto 2.0.18']);
    for (const r of rows.slice(1)) for (const cell of r) assert.ok(!/^[=+\-@\t\r]/.test(cell), `cell ${JSON.stringify(cell)}`);
    assert.equal(neutralise(-5), -5, 'numbers stay numbers');
    assert.equal(neutralise('a=b'), 'a=b');
    assert.equal(neutralise('b\u0000roker\u0007'), 'b?roker?');
  });
});

describe('report: JSON', () => {
  it('carries every result, the summary and the scan; sensitive samples are withheld', () => {
    const input = prepareReport([anonymousPlain(), sample('sensitive payload')], { scan: scanSummary(2), now: NOW, meta: { options: { timeoutMs: 2000, password: 'pw-in-options', tlsKey: 'k' } } });
    const json = JSON.parse(renderJson(input));
    assert.equal(json.format, 'mqttsec-report/1');
    assert.equal(json.results.length, 2);
    assert.equal(json.summary.results, 2);
    assert.equal(json.scan.scanId, SCAN_ID);
    assert.deepEqual(json.meta.options, { timeoutMs: 2000 });
    const text = JSON.stringify(json);
    assert.ok(!text.includes('hunter2') && !text.includes('pw-in-options'));
    assert.match(text, /\[withheld: credential\]/);
  });
});

describe('report: JSON, the devices', () => {
  it('the JSON report carries topics.devices as the listener made it, and so do the API\'s latest results read from it', () => {
    const json = renderJson(prepareReport([withDevices()], { now: NOW }));
    assert.deepEqual(JSON.parse(json).results[0].topics.devices, deviceExposure());
    const latest = latestResults('scan-0001', json, {}, null, NOW.getTime());
    assert.deepEqual((latest.results[0] as { topics: { devices: unknown } }).topics.devices, deviceExposure());
  });
});

describe('report: files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mqttsec-report-'));
  });
  afterEach(() => {
    chmodSync(dir, 0o755);
    rmSync(dir, { recursive: true, force: true });
  });

  it('names carry the scan id and time, and are safe whatever the id', () => {
    assert.equal(reportBaseName(SCAN_ID, NOW), `mqtt-scan-${SCAN_ID}-20261127T100006Z`);
    assert.equal(reportBaseName('../../etc/passwd', NOW), 'mqtt-scan-etc_passwd-20261127T100006Z');
    assert.equal(reportBaseName(null, NOW), 'mqtt-scan-scan-20261127T100006Z');
  });

  it('writes every format into the directory, with nothing else left there', async () => {
    const built = await buildReport([anonymousPlain()], { scan: scanSummary(1), now: NOW, formats: ['csv', 'json'] });
    const files = await writeReport(join(dir, 'nested', 'reports'), built);
    assert.deepEqual(Object.keys(files).sort(), ['csv', 'json']);
    assert.equal(readFileSync(files.csv!, 'utf8'), built.csv);
    assert.deepEqual(readdirSync(join(dir, 'nested', 'reports')).sort(), [`mqtt-scan-${SCAN_ID}-20261127T100006Z.csv`, `mqtt-scan-${SCAN_ID}-20261127T100006Z.json`]);
  });

  it('a read-only directory is an error and leaves no file', async function () {
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    if (process.getuid?.() !== 0) {
      await assert.rejects(writeFilesAtomically(ro, [{ name: 'a.csv', data: 'x' }]), /EACCES|EPERM/);
    } else {
      // Root ignores permissions: run the built writer as "nobody" instead.
      const built = join(__dirname, '../../dist/lib/report/files.js');
      if (!existsSync(built)) this.skip();
      chmodSync(dir, 0o755);
      const code = `require(${JSON.stringify(built)}).writeFilesAtomically(${JSON.stringify(ro)}, [{ name: 'a.csv', data: 'x' }]).then(() => process.exit(0), (e) => { console.log(e.code); process.exit(3); })`;
      const r = spawnSync(process.execPath, ['-e', code], { uid: 65534, gid: 65534, encoding: 'utf8' });
      assert.equal(r.status, 3, r.stderr);
      assert.match(r.stdout, /EACCES|EPERM/);
    }
    assert.deepEqual(readdirSync(ro), []);
  });

  it('a directory that is a file is an error', async () => {
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    await assert.rejects(writeFilesAtomically(file, [{ name: 'a.csv', data: 'x' }]), /EEXIST|ENOTDIR/);
  });

  it('a failure after some files were written removes them all (no half report)', async () => {
    mkdirSync(join(dir, 'b.json')); // rename onto a directory fails
    mkdirSync(join(dir, 'b.json', 'keep'));
    await assert.rejects(writeFilesAtomically(dir, [{ name: 'b.csv', data: 'csv' }, { name: 'b.json', data: '{}' }]), /EISDIR|ENOTEMPTY|EEXIST|ENOTDIR/);
    assert.deepEqual(readdirSync(dir), ['b.json'], 'no temp file, no b.csv');
    assert.deepEqual(readdirSync(join(dir, 'b.json')), ['keep']);
  });

  it('report files are readable by their owner only, in a 0700 directory it creates', async () => {
    const sub = join(dir, 'fresh', 'reports');
    const [path] = await writeFilesAtomically(sub, [{ name: 'c.json', data: '{}' }]);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(sub).mode & 0o777, 0o700);
  });

  it('formats are checked', () => {
    assert.deepEqual(parseFormats('pdf, csv'), ['pdf', 'csv']);
    assert.deepEqual(parseFormats([]), ['pdf', 'csv', 'json']);
    assert.throws(() => parseFormats('pdf,docx'), /"docx"/);
  });
});

describe('report: PDF', function () {
  this.timeout(120_000);
  before(function () {
    requireTool(this, 'pdftotext');
    mkdirSync(OUT, { recursive: true });
  });

  it('the topics table gives each payload\'s size, and the SUBACK note says which filter read them (issue 16)', async () => {
    const note = "The broker's SUBACKs: '#' was refused (0x80 Failure); '+/#' was granted in its place (the same topics).";
    const items = [
      { topic: 'zigbee2mqtt/bridge/devices', messages: 1, retained: true, sample: '[{"ieee_address":"0x00158d0001a2b3c4"', sensor: null, bytes: 71_010 },
      { topic: 'cam/garage/snapshot', messages: 1, retained: true, sample: '<5242880 bytes binary> 0a1b…', sensor: null, bytes: 5_242_880 },
      { topic: 'zigbee2mqtt/bridge/state', messages: 1, retained: true, sample: '{"state":"online"}', sensor: null, bytes: 18 },
    ];
    const input = prepareReport([anonymousPlain({ topics: topics({ items, count: 3, as: 'anonymous', note }) })], { now: NOW });
    const text = pdfText(await renderPdf(input), 'topic-sizes').join('\n').replace(/\s+/g, ' ');
    assert.ok(text.includes("'#' was refused (0x80 Failure); '+/#' was granted in its place"), 'the SUBACK note is in the broker section');
    for (const size of ['71 KB', '5.2 MB', '18 B']) assert.ok(text.includes(size), `size ${size} in the topics table`);
  });

  it('a broker of a coordinated scan says in its section which agent of which site scanned it; a local one does not', async () => {
    const input = prepareReport([{ ...anonymousPlain(), scannedBy: { site: 'north', agent: 'north-1' } }, anonymousPlain({ host: '127.0.0.2' })], { now: NOW });
    const text = pdfText(await renderPdf(input), 'scanned-by').join('\n').replace(/\s+/g, ' ');
    assert.ok(text.includes('Scanned by agent north-1 of site north'), 'the coordinated broker\'s section says who scanned it');
    assert.equal(text.split('Scanned by').length - 1, 1, 'the local broker\'s section does not');
  });

  it('"Devices and data" in the broker section, before its topics: each ecosystem, then the totals; positions and secrets only counted', async () => {
    const r = withDevices();
    // A flagged payload whose secret the listener missed: reports withhold flagged samples anyway.
    r.topics!.items.find((i) => i.topic === 'gateway/config')!.sample = `{"wifi_password":"${DEVICE_PAYLOAD_SECRETS.password}"}`;
    const pages = pdfText(await renderPdf(prepareReport([r, anonymousPlain({ host: '127.0.0.2' })], { now: NOW })), 'report-devices');
    const text = pages.join('\n').replace(/\s+/g, ' ');
    const section = text.slice(text.indexOf('3.1 127.0.0.1:1883'), text.indexOf('3.2 127.0.0.2:1883'));
    const expected = [
      'Devices and data',
      'What the topics tell about the devices behind them. Positions and secrets are only counted: no report shows them.',
      'Zigbee2MQTT 14+ devices', 'Inventory 2 topics', 'zigbee2mqtt/bridge/devices', 'zigbee2mqtt/bridge/info',
      'Command topics 5 topics, 2 listed', 'zigbee2mqtt/bridge/request/permit_join (seen)', "zigbee2mqtt/kitchen_lamp/set (the ecosystem's command topic)",
      'Reference https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html',
      'OwnTracks 2 devices', 'Command topics 2 topics, 1 listed', "owntracks/alice/phone/cmd (the ecosystem's command topic)",
      'Locations 2 topics with positions (positions withheld), 1 encrypted', 'Reference https://owntracks.org/booklet/tech/json/',
      'Totals Observed', 'Devices 16+', 'Command topics 7', 'Writes write test accepted (as anonymous)',
      'Locations 2 topics with positions (positions withheld)', 'Secrets 3 topics carry credential, token (masked)',
      'Topics (7 topics seen in 3.0 s as anonymous)',
    ];
    let from = 0;
    for (const s of expected) {
      const at = section.indexOf(s, from);
      assert.ok(at >= 0, `"${s}" after position ${from} of the section: ${section.slice(from, from + 300)}`);
      from = at + s.length;
    }
    assert.equal(text.split('Devices and data').length - 1, 1, 'only in the section of the broker with devices');
    for (const v of Object.values(DEVICE_PAYLOAD_SECRETS)) assert.ok(!text.includes(String(v)), `${v} is in the PDF`);
    assert.ok(text.includes('[withheld: coordinates]') && text.includes('[withheld: credential]'));
  });

  it('"Known vulnerabilities" in the broker section: where the broker said its version, a row per match worst first, the upgrade, the table date and the caveat; an outdated one in a line; none without a version', async () => {
    const vulnerable = classifyResult(mosquittoSaying('2.0.11'));
    const pdf = await renderPdf(prepareReport([vulnerable, mosquittoSaying('2.0.22', { host: '127.0.0.2' }), hardened({ host: '127.0.0.3' })], { now: NOW }));
    // -raw: the text in the order it was drawn (row by row, cell by cell); an id or a word broken
    // after a hyphen at a line's end is joined again.
    const text = pdfRawText(pdf, 'report-vulnerabilities');
    const sectionOf = (from: string, to: string | null) => text.slice(text.indexOf(from), to ? text.indexOf(to) : undefined);
    const caveat = "A distribution's package (Debian, Ubuntu, ...) may carry backported fixes under the old version number: check its security tracker before you conclude.";
    const m = vulnerable.vulnerabilities!.matches;
    assert.deepEqual([m.length, m[0].id, m[15].id], [16, 'CVE-2024-8376', 'CVE-2021-34434']);
    const row = (x: typeof m[number]) => `${x.id} ${x.severity.toUpperCase()} ${x.cvss ? x.cvss.score.toFixed(1) : '-'} ${x.fixedIn ?? 'no fix released'} ${x.summary}`;
    const section = sectionOf('3.1 127.0.0.1:1883', '3.2 127.0.0.2:1883');
    assertInOrder(section, [
      `Known vulnerabilities Mosquitto 2.0.11 (said on $SYS/broker/version) Id Severity CVSS Fixed in Summary CVE-2024-8376 HIGH 7.5 2.0.19 ${m[0].summary}`,
      ...m.slice(1, -1).map(row),
      `CVE-2021-34434 MEDIUM 5.3 2.0.12 ${m[15].summary} Upgrade to 2.0.21 or later; newest known 2.1.2 (2026-02-09). Table as of 2026-11-30. ${caveat}`,
      'Topics (3 topics seen',
    ]);
    assert.ok(section.includes('MOSQUITTO-2021-08-DEFAULT-LISTENER-EXPOSED MEDIUM - 2.0.12 No CVE'), 'no score published: "-"');
    assert.ok(section.includes('CVE-2023-0809 MEDIUM 5.8 2.0.16 An unauthenticated client'), 'CVE-2023-0809 at its revised score');
    assertInOrder(sectionOf('3.2 127.0.0.2:1883', '3.3 127.0.0.3:8883'), [
      'Known vulnerabilities Mosquitto 2.0.22 (said on $SYS/broker/version) Mosquitto 2.0.22 is older than the newest release known (2.1.2, 2026-02-09). Table as of 2026-11-30. Topics (3 topics seen',
    ]);
    assert.ok(!sectionOf('3.3 127.0.0.3:8883', null).includes('Known vulnerabilities'), 'a broker that did not say its version has no subsection');
    assert.equal(text.split('Known vulnerabilities').length - 1, 2);
    assert.ok(!sectionOf('3.2 127.0.0.2:1883', '3.3 127.0.0.3:8883').includes(caveat), 'the caveat only where there are matches');
    // Each id opens its first source: a URI action (uncompressed: not a stream) that a Link
    // annotation points to.
    const raw = pdf.toString('latin1');
    for (const x of m) assert.ok(linkTargets(raw).has(x.sources[0]), `${x.id}: no link to ${x.sources[0]}`);
    assert.ok(raw.includes('/URI (https://www.cve.org/CVERecord?id=CVE-2023-0809)'));
  });

  it('an id is a link only to an https source; a match without a score or a fix says so', async () => {
    const r = classifyResult(mosquittoSaying('2.1.2'));
    const flowWritten = {
      ...r.vulnerabilities!,
      matches: [
        { id: 'CVE-2099-0001', severity: 'high', fixedIn: null, summary: 'Only a plain-http source.', published: '2099-01', sources: ['http://example.org/cve-2099-0001'] },
        { id: 'CVE-2099-0002', severity: 'low', cvss: { score: 3.1, vector: 'CVSS:3.1/AV:N', version: '3.1', source: 'nvd' }, fixedIn: '9.9.9', summary: 'A scripted source.', published: '2099-01', sources: ['javascript:alert(1)', 'https://example.org/cve-2099-0002'] },
      ],
      upgradeTo: null,
    };
    const pdf = await renderPdf(prepareReport([{ ...r, vulnerabilities: flowWritten } as ClassifiedResult], { now: NOW }));
    const text = pdfRawText(pdf, 'report-vulnerabilities-links');
    assertInOrder(text, [
      'Known vulnerabilities Mosquitto 2.1.2 (said on $SYS/broker/version) Id Severity CVSS Fixed in Summary',
      'CVE-2099-0001 HIGH - no fix released Only a plain-http source.',
      'CVE-2099-0002 LOW 3.1 9.9.9 A scripted source.',
      'No released fix for CVE-2099-0001 yet; newest known 2.1.2 (2026-02-09). Table as of 2026-11-30.',
    ]);
    const links = linkTargets(pdf.toString('latin1'));
    assert.deepEqual([...links].filter((u) => u.includes('example.org') || u.startsWith('javascript')), ['https://example.org/cve-2099-0002']);
  });

  it('has the cover, the summary, a row per broker and every finding title', async () => {
    const results = [anonymousPlain(), tlsPasswordSelfSignedCa({ host: '127.0.0.2' }), sample('closed port'), sample('expired certificate')];
    results[2].host = '127.0.0.3';
    results[3].host = '127.0.0.4';
    const input = prepareReport(results, { scan: scanSummary(4), now: NOW, meta: { targets: ['127.0.0.0/29'], ports: [1883, 8883], preparedFor: 'Lab 3B' } });
    const pdf = await renderPdf(input);
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
    const pages = pdfText(pdf, 'report-small');
    const all = pages.join('\n');
    for (const s of ['MQTT Security Assessment', 'Prepared for Lab 3B', SCAN_ID, '127.0.0.0/29', 'Executive summary', 'Brokers by risk level', 'Rule catalogue']) {
      assert.ok(all.includes(s), `missing "${s}"`);
    }
    for (const r of input.results) {
      assert.match(all, new RegExp(`${r.host.replace(/\./g, '\\.')}:${r.port}`));
      for (const f of r.findings) assert.ok(all.includes(f.title), `finding title "${f.title}"`);
    }
    assert.match(pages[0], /CRITICAL/);
    pages.forEach((p, i) => assert.match(p, new RegExp(`Page ${i + 1} of ${pages.length}`)));
    for (const p of pages.slice(1)) assert.match(p, /MQTT Security Assessment\s+Scan 3f1c2a9e/, 'header line');
  });

  it('grows with the scan; the broker table repeats its header on every page (40 and 400 brokers)', async () => {
    const count = async (n: number) => {
      const pdf = await renderPdf(prepareReport(manyResults(n), { scan: scanSummary(n), now: NOW }));
      const pages = pdfText(pdf, `report-${n}`);
      // Chapter starts, after the contents page (which names them too).
      const start = pages.findIndex((p, i) => i > 1 && /^\s*2\s+Brokers/m.test(p));
      const end = pages.findIndex((p, i) => i > start && /^\s*3\s+Broker details/m.test(p));
      const appendix = pages.findIndex((p, i) => i > end && /^\s*A\s+Rule catalogue/m.test(p));
      const tablePages = pages.slice(start, end);
      // More brokers than get a section each (lib/report/pdf-groups.ts): the last column says
      // where a broker's findings are, or their ids.
      for (const p of tablePages) assert.match(p, /Broker\s+Transport\s+Result\s+Risk\s+Score\s+Findings/);
      const rows = tablePages.join('\n').match(/^\s*127\.0\.\d+\.\d+:\d+ /gm) ?? [];
      assert.equal(rows.length, n, 'one row per result');
      return { pages: pages.length, tablePages: tablePages.length, detailPages: appendix - end, pdf };
    };
    const small = await count(40);
    const big = await count(400);
    assert.ok(small.tablePages >= 2 && big.tablePages > small.tablePages * 5, `${small.tablePages} -> ${big.tablePages}`);
    // The table grows with the scan; the details do not repeat for brokers with the same findings
    // (issue 19): 400 brokers of the same eight kinds need about the sections 40 of them need.
    assert.ok(big.pages > small.pages + big.tablePages - small.tablePages - 1, `${small.pages} -> ${big.pages} pages`);
    assert.ok(big.detailPages <= small.detailPages * 1.5, `chapter 3: ${small.detailPages} -> ${big.detailPages} pages`);
    // PNGs of a few pages to look at (test-output/ is git-ignored).
    const r = spawnSync('pdftoppm', ['-r', '60', '-png', '-f', '1', '-l', '8', join(OUT, 'report-40.pdf'), join(OUT, 'report-40')]);
    if (r.error) console.warn(`pdftoppm unavailable: ${r.error.message}`);
  });

  for (const fonts of ['DejaVu when installed', 'built-in Helvetica only'] as const) {
    it(`any topic name renders or becomes '?', never crashes, and HTML stays text (${fonts})`, async () => {
      const items = HOSTILE_TOPICS.map((t, k) => ({ topic: t, messages: k + 1, retained: true, sample: t }));
      const r = anonymousPlain({ topics: topics({ as: 'anonymous', items }), mqtt: { versions: { '5.0': 'supported' }, brokerVersion: 'b\u0000roker \ud83d\ude00' } });
      const builtin = fonts === 'built-in Helvetica only';
      const pdf = await renderPdf(prepareReport([r], { now: NOW, meta: { preparedFor: 'Été 传感器 🔥' } }), builtin ? { fontDirs: null } : {});
      const all = pdfText(pdf, builtin ? 'report-unicode-helvetica' : 'report-unicode').join('\n');
      assert.ok(all.includes('<img src=x onerror=alert(1)>'), 'HTML shown as text');
      assert.ok(all.includes('capteurs/température/salle-été'), 'Latin-1 accents render in both');
      assert.ok(all.includes('=HYPERLINK("http://evil.example","click")'));
      if (builtin) {
        assert.ok(!all.includes('датчики') && all.includes('???????/?????????'), 'Cyrillic replaced with ?');
        assert.ok(all.includes('Prepared for Été ??? ?'));
      }
    });
  }
});

describe('report: no password, from a real scan', function () {
  let secure: MosquittoBroker;
  let dir: string;
  before(async function () {
    requireTool(this, 'mosquitto');
    requireTool(this, 'pdftotext');
    secure = await startMosquitto('secure');
    dir = mkdtempSync(join(tmpdir(), 'mqttsec-report-'));
  });
  after(async () => {
    await secure?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the password given for the scan is in no report format', async () => {
    const password = secure.users.student;
    const { results, summary } = await runScan({ targets: '127.0.0.1', ports: [secure.port], timeoutMs: 2000, credentials: { username: 'student', password }, tls: { ca: readFileSync(secure.caPath!) } });
    assert.equal(results[0].auth.givenCredentials.outcome, 'accepted');
    // A sniffed payload that leaked a device password is withheld too.
    const leaked: ScanResult = { ...results[0], topics: topics({ items: [{ topic: 'dev/cfg', messages: 1, retained: false, sample: `{"pass":"${password}"}`, sensitive: ['credential'] }] }) };
    const built = await buildReport([leaked, result({ host: '127.0.0.9' }), hardened({ host: '127.0.0.10' })], { scan: summary, meta: { options: { password, username: 'student' } } });
    const files = await writeReport(dir, built);
    const text = [pdfText(built.pdf!, 'report-real').join('\n'), readFileSync(files.csv!, 'utf8'), readFileSync(files.json!, 'utf8'), built.pdf!.toString('latin1')].join('\n');
    assert.ok(!text.includes(password), 'password found in a report');
    assert.ok(text.includes('[withheld: credential]'));
  });
});
