// Issue 18, the fix-and-rescan loop: scan a broker, fix it, scan again with --compare, see what
// was resolved. A real Mosquitto 2.0 on one loopback port: first anonymous, then restarted on the
// same port with a password file.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { changesOf, changesText, classifyResult, compareScans, PreviousScans } from '../../lib/risk';
import type { ScanResult } from '../../lib/types';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto';
import { buildReport } from '../../lib/report';
import { freePort } from '../support/ports';
import { requireTool } from '../support/tools';
import { anonymousPlain, hardened, result, tls } from '../support/sample-results';

const CLI = resolve(__dirname, '../../dist/cli/index.js');

function run(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('changes between two scans of the same host:port', () => {
  const rated = (r: ScanResult) => classifyResult(r);

  it('findings resolved and new, risk and score before and after, in words', () => {
    const before = rated(anonymousPlain());
    const after = rated(hardened({ port: 1883 }));
    const c = changesOf(after, before);
    assert.equal(c.status, 'changed');
    // The hardened broker says no version: its known vulnerabilities were not looked for, so they
    // are "not checked", never "resolved".
    assert.deepEqual(c.unchecked, ['BROKER_KNOWN_VULNERABLE']);
    assert.deepEqual(c.resolved, [...new Set(before.findings.map((f) => f.id))].filter((id) => id !== 'BROKER_KNOWN_VULNERABLE').sort());
    assert.deepEqual(c.new, []);
    assert.deepEqual([c.riskBefore, c.scoreBefore, c.riskAfter, c.scoreAfter], [before.risk!.level, before.risk!.score, 'LOW', 100]);
    assert.match(changesText(c), /^resolved ANONYMOUS_ACCESS, .*; not checked this time BROKER_KNOWN_VULNERABLE; risk CRITICAL 0 -> LOW 100$/);
  });

  it('a broker that appeared, one that is gone, a certificate that changed, nothing that changed', () => {
    const broker = rated(hardened());
    const closed = rated(result({ reachability: 'closed', classification: 'unreachable_or_firewalled', transport: null }));
    assert.equal(changesOf(broker, undefined).status, 'appeared');
    assert.equal(changesOf(broker, closed).status, 'appeared');
    assert.equal(changesText(changesOf(broker, closed)), 'new broker (LOW 100)');
    assert.equal(changesOf(closed, broker).status, 'gone');
    assert.equal(changesText(changesOf(closed, broker)), 'no longer answers MQTT (was LOW)');
    const renewed = rated(hardened({ tls: tls({}, { fingerprint256: 'AA:BB' }) }));
    const c = changesOf(renewed, broker);
    assert.deepEqual([c.status, c.certificateChanged, changesText(c)], ['changed', true, 'certificate changed']);
    assert.equal(changesOf(broker, rated(hardened())).status, 'unchanged');
  });

  it('compareScans matches on host:port and names the brokers this scan did not see', () => {
    const a = rated(hardened({ port: 8883 }));
    const b = rated(anonymousPlain({ port: 1883 }));
    const { results, missing } = compareScans([a, b], [rated(hardened({ port: 8883 }))]);
    assert.deepEqual(results.map((r) => r.changes.status), ['unchanged']);
    assert.deepEqual(missing, ['127.0.0.1:1883']);
  });
});

describe('mqtt-scan --compare: fix the broker, scan again, see it resolved', function () {
  this.timeout(90_000);
  let dir: string;
  let broker: MosquittoBroker | undefined;
  let port: number;
  before(async function () {
    requireTool(this, 'mosquitto');
    requireTool(this, 'pdftotext');
    dir = mkdtempSync(join(tmpdir(), 'mqttsec-compare-'));
    port = await freePort();
  });
  after(async () => {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('anonymous, then a password file on the same port: ANONYMOUS_ACCESS and WRONG_CREDENTIALS_ACCEPTED resolved, the risk goes down', async () => {
    broker = await startMosquitto({ conf: 'listener 1883\nallow_anonymous true\n' }, { port });
    const first = run(['--target', '127.0.0.1', '--ports', String(port), '--listen', '1', '--no-tls-inspect', '--json']);
    assert.equal(first.code, 0, first.stderr);
    const previous = join(dir, 'before.json');
    writeFileSync(previous, first.stdout);
    const [was] = JSON.parse(first.stdout) as Array<ScanResult & { risk: { level: string } }>;
    assert.equal(was.risk.level, 'CRITICAL');
    await broker.stop();

    // The fix: no anonymous clients, a password file.
    broker = await startMosquitto({ conf: 'listener 1883\nallow_anonymous false\npassword_file passwd\n' }, { port, users: { student: 'St-9921-pass' } });
    const second = run(['--target', '127.0.0.1', '--ports', String(port), '--listen', '1', '--no-tls-inspect', '--compare', previous]);
    assert.equal(second.code, 0, second.stderr);
    const block = second.stdout.slice(second.stdout.indexOf(`Changes since ${previous}:`));
    assert.ok(block.startsWith('Changes since'), second.stdout);
    const line = block.split('\n')[1];
    assert.match(line, new RegExp(`^127\\.0\\.0\\.1:${port}  resolved (?:[A-Z_]+, )*ANONYMOUS_ACCESS, `));
    assert.match(line, /WRONG_CREDENTIALS_ACCEPTED/);
    // Refused logins: no topics read now, so what only topics show is not checked, not resolved.
    assert.match(line, /; not checked this time (?:[A-Z_]+, )*SYS_TOPICS_EXPOSED/);
    assert.doesNotMatch(line.split('; not checked')[0], /SYS_TOPICS_EXPOSED|BROKER_KNOWN_VULNERABLE|BROKER_VERSION_DISCLOSED/);
    assert.match(line, /; risk CRITICAL 0 -> (?:HIGH|MEDIUM|LOW) \d+/);

    // The PDF says it too, in the broker's facts.
    const reports = join(dir, 'reports');
    const withReport = run(['--target', '127.0.0.1', '--ports', String(port), '--listen', '1', '--no-tls-inspect', '--compare', previous, '--report', reports, '--format', 'pdf']);
    assert.equal(withReport.code, 0, withReport.stderr);
    const pdf = readdirSync(reports).find((f) => f.endsWith('.pdf'))!;
    const text = spawnSync('pdftotext', ['-raw', join(reports, pdf), '-'], { encoding: 'utf8' }).stdout.replace(/\s+/g, ' ');
    assert.match(text, new RegExp(`Since the previous scan \\(scan ${was.scanId.slice(0, 8)}\\) resolved (?:[A-Z_]+, )*ANONYMOUS_ACCESS`), text.slice(text.indexOf('Broker Observed'), text.indexOf('Broker Observed') + 1500));

    const json = run(['--target', '127.0.0.1', '--ports', String(port), '--listen', '1', '--no-tls-inspect', '--compare', previous, '--json']);
    const [now] = JSON.parse(json.stdout) as Array<ScanResult & { changes: { status: string; resolved: string[]; riskBefore: string } }>;
    assert.equal(now.changes.status, 'changed');
    assert.ok(now.changes.resolved.includes('ANONYMOUS_ACCESS'));
    assert.equal(now.changes.riskBefore, 'CRITICAL');
  });

  it('a file that is not a previous scan is refused before scanning, naming it', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"hello": 1}');
    const r = run(['--target', '127.0.0.1', '--ports', String(port), '--compare', bad]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--compare ".*bad\.json": expected mqtt-scan --json output or a JSON report/);
    assert.equal(r.stdout, '');
  });
});

describe('PreviousScans: what a flow remembers between scans', () => {
  it('compares with the last result of another scan, survives a round trip through a context store, stays bounded', () => {
    const p = new PreviousScans(3);
    const first = p.compare(classifyResult({ ...anonymousPlain(), scanId: 's1' }));
    assert.equal(first.changes.status, 'appeared');
    // The same result again in the same scan: compared with nothing older, not with itself.
    assert.equal(p.compare(classifyResult({ ...anonymousPlain(), scanId: 's1' })).changes.previous, null);
    const stored = JSON.parse(JSON.stringify(p.toJSON()));
    const again = PreviousScans.from(stored, 3);
    const second = again.compare(classifyResult({ ...hardened({ port: 1883 }), scanId: 's2' }));
    assert.equal(second.changes.previous?.scanId, 's1');
    assert.ok(second.changes.resolved.includes('ANONYMOUS_ACCESS'));
    for (let i = 0; i < 10; i++) again.compare(classifyResult({ ...hardened({ port: 2000 + i }), scanId: 's3' }));
    assert.equal(again.size, 3, 'bounded');
    assert.equal(PreviousScans.from([{ host: 1 }, null, 'x'], 3).size, 0, 'a malformed context value is skipped');
  });
});

describe('the PDF says "since the previous scan" only when there was one', function () {
  this.timeout(60_000);
  it('a result compared with an earlier one gets the line; one never scanned before (a flow\'s first scan) does not', async function () {
    requireTool(this, 'pdftotext');
    const p = new PreviousScans();
    const first = p.compare(classifyResult({ ...anonymousPlain(), scanId: 's1' }));
    const second = p.compare(classifyResult({ ...hardened({ port: 1883 }), scanId: 's2' }));
    const text = async (r: ScanResult) => {
      const built = await buildReport([r], { formats: ['pdf'] });
      const dir = mkdtempSync(join(tmpdir(), 'mqttsec-since-'));
      try {
        writeFileSync(join(dir, 'r.pdf'), built.pdf!);
        return spawnSync('pdftotext', ['-raw', join(dir, 'r.pdf'), '-'], { encoding: 'utf8' }).stdout.replace(/\s+/g, ' ');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };
    assert.doesNotMatch(await text(first), /Since the previous scan/);
    assert.match(await text(second), /Since the previous scan \(scan s1\) resolved ANONYMOUS_ACCESS/);
  });
});
