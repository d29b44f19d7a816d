// Issue 17: the known vulnerabilities of the broker in front of you. The table's shape, version
// strings and range boundaries, the findings on a real Mosquitto 2.0.11 (the Debian package on
// this machine) and on one that hides $SYS, and `npm run vulns:check`.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KNOWN_VULNERABILITIES, NEWEST_RELEASES, VULNERABILITY_TABLE_AS_OF, type KnownVulnerability } from '../../lib/risk/known-vulnerabilities';
import { cvesMissingFrom, identifyBroker, isAffected, severityOfScore, tableAgeDays, versionIn, vulnerabilitiesOf } from '../../lib/risk/vulnerabilities';
import { classifyResult } from '../../lib/risk';
import { runScan } from '../../lib/pipeline';
import type { ScanResult } from '../../lib/types';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto';
import { requireTool } from '../support/tools';
import { hardened, topics } from '../support/sample-results';

const ROOT = resolve(__dirname, '../..');

/** A result whose listener read `sys` (raw $SYS topics -> values). */
function saying(raw: Record<string, string>, brokerVersion: string | null = null): ScanResult {
  const version = Object.entries(raw).find(([t]) => /\/version$/.test(t))?.[1];
  return hardened({ mqtt: { versions: { '5.0': 'supported' }, brokerVersion }, topics: topics({ sys: { ...(version ? { version } : {}), topicCount: Object.keys(raw).length, raw } }) });
}

describe('known vulnerabilities: the table', () => {
  it('carries its own as-of date, and every entry a product, an id, ranges, fixes, a summary, a date and a source', () => {
    assert.match(VULNERABILITY_TABLE_AS_OF, /^\d{4}-\d{2}-\d{2}$/);
    assert.ok(tableAgeDays(new Date(`${VULNERABILITY_TABLE_AS_OF}T12:00:00Z`)) === 0);
    assert.ok(KNOWN_VULNERABILITIES.length >= 20, `${KNOWN_VULNERABILITIES.length} entries`);
    const ids = new Set<string>();
    for (const v of KNOWN_VULNERABILITIES) {
      const at = `${v.product} ${v.id}`;
      assert.ok(!ids.has(at), `${at} twice`);
      ids.add(at);
      assert.match(v.id, /^(?:CVE-\d{4}-\d{4,7}|GHSA(?:-[a-z0-9]{4}){3}|[A-Z][A-Z0-9-]+)$/, at);
      assert.ok(v.affected.length > 0, `${at}: ranges`);
      for (const r of v.affected) {
        assert.match(r.introduced, /^\d+\.\d+\.\d+$/, `${at}: introduced`);
        assert.ok(r.fixed === undefined || /^\d+\.\d+\.\d+$/.test(r.fixed), `${at}: fixed ${r.fixed}`);
        assert.ok(r.lastAffected === undefined || /^\d+\.\d+\.\d+$/.test(r.lastAffected), `${at}: lastAffected`);
        assert.ok(r.fixed !== undefined || r.lastAffected !== undefined || v.fixedIn.length === 0, `${at}: a range without an end has no fix`);
      }
      for (const f of v.fixedIn) assert.match(f, /^\d+\.\d+\.\d+$/, `${at}: fixedIn ${f}`);
      assert.ok(v.summary.length >= 20 && !/\n/.test(v.summary), `${at}: one sentence`);
      assert.match(v.published, /^\d{4}-\d{2}(?:-\d{2})?$/, `${at}: published`);
      assert.ok(v.sources.length > 0 && v.sources.every((s) => /^https:\/\//.test(s)), `${at}: sources ${v.sources}`);
      if (v.cvss) {
        assert.ok(v.cvss.score >= 0 && v.cvss.score <= 10, `${at}: score`);
        assert.match(v.cvss.vector, /^(?:CVSS:3\.[01]\/|AV:)/, `${at}: vector`);
      }
    }
    for (const r of NEWEST_RELEASES) assert.match(r.version, /^\d+\.\d+\.\d+$/, r.product);
  });

  it('covers every entry of Mosquitto\'s "Past vulnerabilities" page that has a CVE', () => {
    // The CVE ids of mosquitto.org/security (www/pages/security.md of eclipse/mosquitto, October 2023).
    const page = ['CVE-2023-0809', 'CVE-2023-3592', 'CVE-2023-28366', 'CVE-2021-34434', 'CVE-2021-28166', 'CVE-2019-11779', 'CVE-2019-11778', 'CVE-2018-20145',
      'CVE-2018-12543', 'CVE-2017-7655', 'CVE-2017-7654', 'CVE-2017-7653', 'CVE-2017-7651', 'CVE-2017-7652', 'CVE-2017-9868', 'CVE-2017-7650'];
    assert.deepEqual(cvesMissingFrom(page.join(' '), 'mosquitto'), []);
  });
});

describe('known vulnerabilities: versions and ranges', () => {
  const entry: KnownVulnerability = {
    product: 'mosquitto', id: 'CVE-2000-0001', affected: [{ introduced: '1.5.0', fixed: '1.5.9' }, { introduced: '1.6.0', fixed: '1.6.6' }], fixedIn: ['1.6.6', '1.5.9'],
    cvss: { score: 7.5, vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', version: '3.1', source: 'nvd' }, summary: 'A test entry with two maintained branches.', published: '2019-09', sources: ['https://example.org/'],
  };
  const open: KnownVulnerability = { ...entry, id: 'CVE-2000-0002', affected: [{ introduced: '2.0.0', lastAffected: '2.0.4' }], fixedIn: [], cvss: undefined };

  it('reads versions out of what brokers say, vendor suffixes and all', () => {
    const cases: Array<[string, string | null]> = [
      ['mosquitto version 2.0.11', '2.0.11'], ['2.0.11-1', '2.0.11'], ['v5.3.0', '5.3.0'], ['EMQX 5.3.0', '5.3.0'], ['5.8', '5.8.0'],
      ['mosquitto version 1.6.15', '1.6.15'], ['unknown', null], ['', null],
      // Hostile text around the version (test/lib/broker-text.test.ts): never another version.
      ['=1+1 mosquitto version \\u{202E}2.0.11', '2.0.11'], ['build 7 mosquitto version 2.0.18', '2.0.18'], ['1.2.3.4', null], ['version 12', null],
    ];
    for (const [said, version] of cases) assert.equal(versionIn(said), version, said);
  });

  it('boundaries: the last affected release is flagged, the fixed release is not, per branch', () => {
    const cases: Array<[string, boolean]> = [
      ['1.4.15', false], ['1.5.0', true], ['1.5.8', true], ['1.5.9', false], ['1.5.10', false], ['1.6.0', true], ['1.6.5', true], ['1.6.6', false], ['2.0.0', false],
    ];
    for (const [v, affected] of cases) assert.equal(isAffected(v, entry), affected, v);
    assert.equal(isAffected('2.0.4', open), true, 'lastAffected is inclusive');
    assert.equal(isAffected('2.0.5', open), false);
  });

  it('severity from the CVSS base score; an unscored entry is medium, never harmless', () => {
    assert.deepEqual([9.8, 9.0, 8.9, 7.0, 6.9, 4.0, 3.9, 0].map(severityOfScore), ['critical', 'critical', 'high', 'high', 'medium', 'medium', 'low', 'low']);
    assert.equal(severityOfScore(undefined), 'medium');
  });

  it('matches on the broker\'s branch: the fix named is the one above its version', () => {
    const v = vulnerabilitiesOf(saying({ '$SYS/broker/version': 'mosquitto version 1.5.3' }), [entry, open], [{ product: 'mosquitto', version: '2.0.22', released: '2025-07', source: 'https://example.org/' }])!;
    assert.deepEqual(v.matches.map((m) => [m.id, m.fixedIn, m.severity]), [['CVE-2000-0001', '1.5.9', 'high']]);
    assert.equal(v.upgradeTo, '1.5.9');
    const unfixed = vulnerabilitiesOf(saying({ '$SYS/broker/version': 'mosquitto version 2.0.2' }), [entry, open], [])!;
    assert.deepEqual(unfixed.matches.map((m) => [m.id, m.fixedIn, m.severity]), [['CVE-2000-0002', null, 'medium']]);
    assert.equal(unfixed.upgradeTo, null);
  });

  it('identifies the broker only from what it said: the product in the text, or EMQX by its $SYS topic; no guess otherwise', () => {
    assert.deepEqual(identifyBroker(saying({ '$SYS/broker/version': 'mosquitto version 2.0.11' })), { product: 'mosquitto', version: '2.0.11', said: 'mosquitto version 2.0.11', from: '$SYS/broker/version' });
    assert.deepEqual(identifyBroker(saying({ '$SYS/brokers/emqx@127.0.0.1/version': '5.3.0', '$SYS/brokers/emqx@127.0.0.1/sysdescr': 'EMQX' })),
      { product: 'emqx', version: '5.3.0', said: '5.3.0', from: '$SYS/brokers/emqx@127.0.0.1/version' });
    assert.equal(identifyBroker(saying({ '$SYS/broker/version': '2.0.11' })), null, 'a bare number under a Mosquitto-style topic names no product');
    assert.equal(identifyBroker(saying({ '$SYS/broker/uptime': '12 seconds' })), null);
    assert.equal(identifyBroker(hardened()), null);
  });

  it('vulns:check: the CVE ids a page names that the table lacks', () => {
    const page = `Security:\n- CVE-2021-34434: a fix\n- Fix CVE-2099-99999 and cve-2099-12345; again CVE-2099-99999.`;
    assert.deepEqual(cvesMissingFrom(page, 'mosquitto'), ['CVE-2099-99999', 'CVE-2099-12345']);
    assert.ok(cvesMissingFrom('CVE-2021-34434', 'emqx').includes('CVE-2021-34434'), 'another product\'s entry does not count');
  });

  it('npm run vulns:check prints the table\'s age and the missing CVEs of a local page, exit 1 when some are missing', function () {
    this.timeout(60_000);
    const dir = mkdtempSync(join(tmpdir(), 'mqttsec-vulns-'));
    try {
      const page = join(dir, 'ChangeLog.txt');
      writeFileSync(page, 'Security:\n- Fix CVE-2021-34434.\n- Fix CVE-2099-99999.\n');
      const run = spawnSync('npm', ['run', '--silent', 'vulns:check', '--', '--product', 'mosquitto', '--page', page], { cwd: ROOT, encoding: 'utf8' });
      assert.equal(run.status, 1, run.stderr);
      assert.match(run.stdout, new RegExp(`known-vulnerability table as of ${VULNERABILITY_TABLE_AS_OF} \\(\\d+ day\\(s\\) old\\)`));
      assert.match(run.stdout, /mosquitto: \d+ entries/);
      assert.match(run.stdout, /1 CVE\(s\) not in the table for mosquitto: CVE-2099-99999/);
      const bad = spawnSync('npm', ['run', '--silent', 'vulns:check', '--', '--product', 'nope'], { cwd: ROOT, encoding: 'utf8' });
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /--product: unknown product "nope"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('known vulnerabilities: findings', () => {
  it('a policy\'s severity wins over the one the CVSS scores give; switched off, no finding', () => {
    const r = saying({ '$SYS/broker/version': 'mosquitto version 2.0.11' });
    const worst = classifyResult(r).findings.find((f) => f.id === 'BROKER_KNOWN_VULNERABLE')!;
    assert.ok(worst, 'found');
    const lowered = classifyResult(r, { overrides: { BROKER_KNOWN_VULNERABLE: { severity: 'low' } } }).findings.find((f) => f.id === 'BROKER_KNOWN_VULNERABLE')!;
    assert.equal(lowered.severity, 'low');
    assert.ok(!classifyResult(r, { overrides: { BROKER_KNOWN_VULNERABLE: { enabled: false } } }).findings.some((f) => f.id === 'BROKER_KNOWN_VULNERABLE'));
  });

  it('older than the newest release known, without a CVE of the table: BROKER_OUTDATED (low), not BROKER_KNOWN_VULNERABLE', () => {
    // 2.0.22, the last release of the 2.0 branch: every fix of the table is in it, 2.1 is newer.
    const newest = NEWEST_RELEASES.find((x) => x.product === 'mosquitto')!;
    assert.ok(newest.version.startsWith('2.1.'), newest.version);
    const findings = classifyResult(saying({ '$SYS/broker/version': 'mosquitto version 2.0.22' })).findings;
    const outdated = findings.find((f) => f.id === 'BROKER_OUTDATED')!;
    assert.ok(outdated && !findings.some((f) => f.id === 'BROKER_KNOWN_VULNERABLE'), findings.map((f) => f.id).join(','));
    assert.equal(outdated.severity, 'low');
    assert.match(outdated.evidence, new RegExp(`newest Mosquitto release the table knows is ${newest.version.replace(/\./g, '\\.')}`));
    // The newest release itself is never outdated.
    const table: KnownVulnerability[] = [];
    const v = vulnerabilitiesOf(saying({ '$SYS/broker/version': `mosquitto version ${newest.version}` }), table)!;
    assert.deepEqual([v.outdated, v.matches.length], [false, 0]);
  });

  describe('a real Mosquitto 2.0.11 (the Debian package)', () => {
    let broker: MosquittoBroker;
    let hidden: MosquittoBroker;
    before(async function () {
      this.timeout(30_000);
      requireTool(this, 'mosquitto');
      const v = spawnSync('mosquitto', ['-h'], { encoding: 'utf8' });
      assert.match(`${v.stdout}${v.stderr}`, /mosquitto version 2\.0\.11/, 'this test is about the Debian package, 2.0.11');
      broker = await startMosquitto({ conf: 'listener 1883\nallow_anonymous true\n' });
      // sys_interval 0: the broker publishes no $SYS at all.
      hidden = await startMosquitto({ conf: 'listener 1883\nallow_anonymous true\nsys_interval 0\n' });
    });

    it('is flagged with its CVEs, the worst CVSS as severity, and "upgrade to 2.0.16 or later" (2.0.12 fixes CVE-2021-34434)', async () => {
      const { results } = await runScan({ targets: '127.0.0.1', ports: [broker.port], listenMs: 1500, inspectTls: false });
      const r = results[0] as ScanResult & { vulnerabilities?: { matches: Array<{ id: string; fixedIn: string | null }> } };
      const f = r.findings!.find((x) => x.id === 'BROKER_KNOWN_VULNERABLE');
      assert.ok(f, r.findings!.map((x) => x.id).join(','));
      for (const id of ['CVE-2021-34434', 'CVE-2023-0809', 'CVE-2023-3592', 'CVE-2023-28366']) assert.match(f.evidence, new RegExp(id), id);
      assert.match(f.evidence, /CVE-2021-34434[^;]*fixed in 2\.0\.12/);
      assert.ok(!/CVE-2021-28166|CVE-2017-/.test(f.evidence), 'nothing fixed in 2.0.11 or earlier');
      assert.match(f.recommendation, /^Upgrade Mosquitto to 2\.0\.\d+ or later/);
      const target = /to (2\.0\.\d+) or later/.exec(f.recommendation)![1];
      assert.ok(Number(target.split('.')[2]) >= 16, target);
      const ours = KNOWN_VULNERABILITIES.filter((v) => v.product === 'mosquitto' && v.component !== 'client-library' && isAffected('2.0.11', v));
      assert.ok(!f.evidence.includes('CVE-2024-10525'), 'a flaw of the client library is not the broker\'s');
      const worst = Math.max(...ours.map((v) => v.cvss?.score ?? 5));
      assert.equal(f.severity, severityOfScore(worst));
      assert.deepEqual(r.vulnerabilities?.matches.map((m) => m.id).sort(), ours.map((v) => v.id).sort());
    });

    it('a Mosquitto that hides $SYS gets no finding and no guess', async () => {
      const { results } = await runScan({ targets: '127.0.0.1', ports: [hidden.port], listenMs: 1500, inspectTls: false });
      const ids = results[0].findings!.map((x) => x.id);
      assert.ok(!ids.includes('BROKER_KNOWN_VULNERABLE') && !ids.includes('BROKER_OUTDATED') && !ids.includes('BROKER_VERSION_DISCLOSED'), `${ids}`);
      assert.equal((results[0] as { vulnerabilities?: unknown }).vulnerabilities ?? null, null);
    });
  });
});
