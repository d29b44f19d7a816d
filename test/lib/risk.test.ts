// The rule table, policy, level and score, the seed's fields and the scan summary; then the
// acceptance check against two real mosquitto brokers.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tls from 'node:tls';
import {
  classifyResult, effectiveRules, LEVEL_CEILING, policyFromList, RULE_IDS, RULES, REFERENCE_TITLES, scoreFor,
  levelFor, SEVERITY_WEIGHT, summarizeScan, type RuleId,
} from '../../lib/risk';
import { runScan } from '../../lib/pipeline';
import type { Finding, ScanResult, Severity, TlsInfo } from '../../lib/types';
import { anonymousPlain, hardened, manyResults, sample, SAMPLES, SCAN_ID, tlsPasswordSelfSignedCa } from '../support/sample-results';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto';
import { requireTool } from '../support/tools';

const ids = (r: ScanResult) => classifyResult(r).findings.map((f) => f.id).sort();
const finding = (severity: Severity): Finding => ({ id: 'X', severity, title: '', evidence: '', recommendation: '', references: [] });

describe('risk: the rule table', () => {
  // The ids automation relies on, as docs/ARCHITECTURE.md lists them.
  const design = readFileSync(join(__dirname, '../../docs/ARCHITECTURE.md'), 'utf8');
  const section = design.slice(design.indexOf('Finding ids that automation can rely on'));
  const DOCUMENTED = [...section.slice(0, section.indexOf('\n## ')).matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]).sort();

  it('has exactly the finding ids of docs/ARCHITECTURE.md, once each', () => {
    assert.ok(DOCUMENTED.length >= 21, `found ${DOCUMENTED.length} ids in docs/ARCHITECTURE.md`);
    assert.deepEqual(RULES.map((r) => r.id).sort(), DOCUMENTED);
    assert.deepEqual([...RULE_IDS].sort(), DOCUMENTED);
  });

  it('every rule has a title, a fix and references that the appendix can name', () => {
    for (const rule of RULES) {
      assert.ok(rule.title && rule.checks && rule.recommendation, rule.id);
      assert.ok(rule.references.some((x) => /^CWE-\d+$/.test(x)), `${rule.id}: a CWE`);
      for (const ref of rule.references) assert.ok(REFERENCE_TITLES[ref], `${rule.id}: ${ref} has a title`);
    }
    assert.equal(RULES.find((r) => r.id === 'CLIENT_CERT_REQUIRED')!.severity, 'info');
  });

  it('the fixes are the exact mosquitto.conf lines', () => {
    const fix = (id: RuleId) => RULES.find((r) => r.id === id)!.recommendation.split('\n');
    for (const line of ['allow_anonymous false', 'password_file /etc/mosquitto/passwd']) assert.ok(fix('ANONYMOUS_ACCESS').includes(line), line);
    for (const line of ['listener 8883', 'cafile /etc/mosquitto/certs/ca.crt', 'certfile /etc/mosquitto/certs/server.crt', 'keyfile /etc/mosquitto/certs/server.key', 'tls_version tlsv1.2']) {
      assert.ok(fix('PLAINTEXT_TRANSPORT').includes(line), line);
    }
    assert.ok(fix('NO_TOPIC_ACL').includes('acl_file /etc/mosquitto/acl'));
    assert.ok(fix('TLS_LEGACY_PROTOCOL').includes('tls_version tlsv1.2'));
    assert.ok(fix('SYS_TOPICS_EXPOSED').includes('topic read $SYS/#'));
  });

  describe('each sample gets exactly its findings', () => {
    for (const s of SAMPLES) {
      it(s.name, () => assert.deepEqual(ids(s.result), [...s.expect].sort()));
    }
  });

  describe('every rule fires on its condition and stays quiet otherwise', () => {
    for (const id of RULE_IDS) {
      const firing = SAMPLES.filter((s) => s.expect.includes(id));
      const quiet = SAMPLES.filter((s) => !s.expect.includes(id));
      it(`${id}: fires on ${firing.length}, quiet on ${quiet.length}`, () => {
        assert.ok(firing.length > 0, `no sample fires ${id}`);
        for (const s of firing) {
          const f = classifyResult(s.result).findings.find((x) => x.id === id);
          assert.ok(f, `${id} on "${s.name}"`);
          assert.ok(f.evidence.length > 20 && !f.evidence.includes('undefined'), `${id} evidence: ${f.evidence}`);
        }
        for (const s of quiet) assert.ok(!ids(s.result).includes(id), `${id} must not fire on "${s.name}"`);
      });
    }
  });

  it('SYS_TOPICS_EXPOSED names the $SYS topics the broker sent, never the listener\'s field names; our own announcements only counted', () => {
    const sysEvidence = (sys: Record<string, unknown>) => classifyResult(hardened({ topics: { count: 0, items: [], as: 'given credentials', sys } })).findings.find((f) => f.id === 'SYS_TOPICS_EXPOSED')!.evidence;
    const listed = sysEvidence({ version: 'mosquitto version 2.0.11', topicCount: 2, raw: { '$SYS/broker/version': 'mosquitto version 2.0.11', '$SYS/broker/uptime': '5 seconds' }, ownConnectionEvents: 3 });
    assert.match(listed, /2 \$SYS topic\(s\), "\$SYS\/broker\/uptime", "\$SYS\/broker\/version", and 3 announcement\(s\) of the scanner's own connections/);
    assert.doesNotMatch(listed, /topicCount|"raw"|"version"|ownConnectionEvents/);
    const ours = sysEvidence({ topicCount: 0, raw: {}, ownConnectionEvents: 2 });
    assert.match(ours, /sent only 2 announcement\(s\) of the scanner's own connections and subscriptions \(not listed\), no statistics/);
    assert.doesNotMatch(ours, /topicCount|"raw"|ownConnectionEvents|broker version, client counts/);
  });

  it('evidence never carries a sniffed payload (samples may hold secrets)', () => {
    const r = classifyResult(sample('sensitive payload'));
    assert.ok(!JSON.stringify(r.findings).includes('hunter2'));
    assert.match(r.findings[0].evidence, /credential, email/);
  });

  it('evidence stays short for a broker with thousands of topics', () => {
    const items = Array.from({ length: 5000 }, (_, i) => ({ topic: `t${i}/x`, messages: 1, retained: true }));
    const r = classifyResult(anonymousPlain({ topics: { count: items.length, items, as: 'anonymous' } }));
    for (const f of r.findings) assert.ok(f.evidence.length < 800, `${f.id}: ${f.evidence.length}`);
    assert.match(r.findings.find((f) => f.id === 'RETAINED_DATA_EXPOSED')!.evidence, /and 4995 more/);
  });
});

describe('risk: level and score', () => {
  const table: Array<[Severity[], string, number]> = [
    [[], 'LOW', 100],
    [['info'], 'LOW', 100],
    [['low'], 'LOW', 96],
    [['low', 'low', 'info'], 'LOW', 92],
    [['medium'], 'MEDIUM', 85],
    [['medium', 'low', 'low'], 'MEDIUM', 82],
    [['high'], 'HIGH', 60],
    [['high', 'high', 'medium'], 'HIGH', 50],
    [['critical'], 'CRITICAL', 30],
    [['critical', 'critical', 'high'], 'CRITICAL', 0],
  ];
  for (const [sevs, level, score] of table) {
    it(`[${sevs.join(', ') || 'none'}] -> ${level} ${score}`, () => {
      const fs = sevs.map(finding);
      assert.equal(levelFor(fs), level);
      assert.equal(scoreFor(fs), score);
    });
  }

  it('the weights and ceilings are what the docs say', () => {
    assert.deepEqual(SEVERITY_WEIGHT, { critical: 40, high: 20, medium: 10, low: 4, info: 0 });
    assert.deepEqual(LEVEL_CEILING, { CRITICAL: 30, HIGH: 60, MEDIUM: 85, LOW: 100 });
  });

  it('findings come worst first', () => {
    const sev = classifyResult(anonymousPlain()).findings.map((f) => f.severity);
    assert.deepEqual(sev, [...sev].sort((a, b) => ['critical', 'high', 'medium', 'low', 'info'].indexOf(a) - ['critical', 'high', 'medium', 'low', 'info'].indexOf(b)));
  });

  it('the acceptance pair: anonymous plaintext is CRITICAL, TLS + password with a self-signed CA is MEDIUM', () => {
    const a = classifyResult(anonymousPlain());
    assert.equal(a.risk!.level, 'CRITICAL');
    assert.ok(a.findings.some((f) => f.id === 'ANONYMOUS_ACCESS' && f.severity === 'critical'));
    assert.ok(a.findings.some((f) => f.id === 'PLAINTEXT_TRANSPORT' && f.severity === 'high'));
    const b = classifyResult(tlsPasswordSelfSignedCa());
    assert.deepEqual(b.risk, { level: 'MEDIUM', score: 85 });
  });

  it('unreachable and non-MQTT ports get no findings and risk null', () => {
    for (const name of ['closed port', 'not MQTT', 'unreachable with stale TLS data']) {
      const r = classifyResult(sample(name));
      assert.deepEqual(r.findings, []);
      assert.equal(r.risk, null);
      assert.equal(r.security_summary.risk_level, null);
    }
  });
});

describe('risk: policy overrides', () => {
  it('raises, lowers and switches off rules', () => {
    const policy = { overrides: { PLAINTEXT_TRANSPORT: { severity: 'critical' as const }, ANONYMOUS_ACCESS: { severity: 'medium' as const }, WRONG_CREDENTIALS_ACCEPTED: { enabled: false } } };
    const r = classifyResult(anonymousPlain(), policy);
    const sev = Object.fromEntries(r.findings.map((f) => [f.id, f.severity]));
    assert.equal(sev.PLAINTEXT_TRANSPORT, 'critical');
    assert.equal(sev.ANONYMOUS_ACCESS, 'medium');
    assert.equal(sev.WRONG_CREDENTIALS_ACCEPTED, undefined);
    assert.equal(r.findings[0].id, 'PLAINTEXT_TRANSPORT', 'resorted by the new severity');
    assert.equal(RULES.find((x) => x.id === 'ANONYMOUS_ACCESS')!.severity, 'critical', 'the table itself is untouched');
  });

  it('a lab that accepts self-signed certificates gets LOW', () => {
    const r = classifyResult(tlsPasswordSelfSignedCa(), { overrides: { TLS_SELF_SIGNED: { severity: 'info' } } });
    assert.deepEqual(r.risk, { level: 'LOW', score: 100 });
  });

  it('a typo in a policy is an error, not silently ignored', () => {
    assert.throws(() => classifyResult(hardened(), { overrides: { ANONYMOUS_ACESS: { enabled: false } } }), /unknown rule "ANONYMOUS_ACESS"/);
    assert.throws(() => effectiveRules({ overrides: { TLS_WEAK_KEY: { severity: 'severe' as Severity } } }), /TLS_WEAK_KEY.*severity must be one of/);
  });

  it('reads the editor list (rule id -> severity or off)', () => {
    assert.deepEqual(policyFromList([{ id: 'TLS_SELF_SIGNED', severity: 'low' }, { id: 'SYS_TOPICS_EXPOSED', severity: 'off' }, { id: '', severity: 'low' }, null]), {
      overrides: { TLS_SELF_SIGNED: { severity: 'low' }, SYS_TOPICS_EXPOSED: { enabled: false } },
    });
    assert.deepEqual(policyFromList(undefined), {});
  });
});

describe('risk: the result copy and the seed fields', () => {
  it('returns a copy and leaves the input alone; classifying twice gives the same', () => {
    const input = anonymousPlain();
    const before = JSON.stringify(input);
    const once = classifyResult(input);
    assert.equal(JSON.stringify(input), before);
    assert.deepEqual(classifyResult(once), once);
  });

  it('security_assessment and security_summary as the seed dashboard had them', () => {
    const a = classifyResult(anonymousPlain());
    assert.deepEqual(a.security_assessment, { anonymous_allowed: true, requires_auth: false, port_type: 'mqtt', encryption: 'none' });
    assert.equal(a.security_summary.risk_level, 'CRITICAL');
    assert.equal(a.security_summary.issues[0], 'CRITICAL: Anonymous clients are accepted');
    assert.ok(a.security_summary.recommendations.some((x) => x.includes('allow_anonymous false')));
    assert.equal(new Set(a.security_summary.recommendations).size, a.security_summary.recommendations.length);
    const b = classifyResult(tlsPasswordSelfSignedCa());
    assert.deepEqual(b.security_assessment, { anonymous_allowed: false, requires_auth: true, port_type: 'mqtts', encryption: 'TLSv1.3' });
    const c = classifyResult(sample('closed port'));
    assert.deepEqual(c.security_assessment, { anonymous_allowed: null, requires_auth: null, port_type: null, encryption: 'none' });
  });
});

describe('risk: scan summary', () => {
  it('counts brokers, open ones, auth failures and levels; worst findings first', () => {
    const results = manyResults(40);
    const scan = { scanId: SCAN_ID, startedAt: '2026-11-27T10:00:00.000Z', finishedAt: '2026-11-27T10:00:05.000Z', durationMs: 5000, targets: 40, reachability: { open: 35, closed: 5, filtered: 0, error: 0 }, classification: { open_or_auth_ok: 0, not_authorized: 0, unreachable_or_firewalled: 5, tls_or_ssl_error: 0, not_mqtt: 0 } };
    const s = summarizeScan(results, scan, { now: new Date('2026-11-27T10:00:06Z') });
    assert.equal(s.results, 40);
    assert.equal(s.unreachable, 5);
    assert.equal(s.brokers, 35);
    assert.equal(s.assessed, 35);
    assert.equal(s.openBrokers, 10, 'anonymous plain brokers (makers 0 and 5)');
    assert.equal(s.authFailures, 5, 'the plain broker requiring a login');
    assert.deepEqual(s.byLevel, { CRITICAL: 10, HIGH: 10, MEDIUM: 10, LOW: 5 });
    assert.equal(s.worstLevel, 'CRITICAL');
    assert.equal(s.worstFindings.length, 10);
    assert.equal(s.worstFindings[0].severity, 'critical');
    assert.equal(s.byFinding[0].id, 'ANONYMOUS_ACCESS');
    assert.equal(s.byFinding[0].brokers, 10);
    assert.equal(s.scan, scan);
    assert.equal(s.scanId, SCAN_ID);
    assert.equal(s.generatedAt, '2026-11-27T10:00:06.000Z');
  });

  it('classifies raw results with the policy; an empty scan is all zeros', () => {
    const s = summarizeScan([anonymousPlain()], null, { policy: { overrides: { ANONYMOUS_ACCESS: { enabled: false }, WRONG_CREDENTIALS_ACCEPTED: { enabled: false } } } });
    assert.equal(s.worstLevel, 'HIGH');
    const empty = summarizeScan([]);
    assert.equal(empty.worstLevel, null);
    assert.equal(empty.averageScore, null);
    assert.equal(empty.scanId, null);
  });
});

describe('risk: acceptance against real brokers', function () {
  let insecure: MosquittoBroker;
  let secure: MosquittoBroker;
  before(async function () {
    requireTool(this, 'mosquitto');
    [insecure, secure] = await Promise.all([startMosquitto('insecure'), startMosquitto('secure')]);
  });
  after(async () => {
    await Promise.all([insecure?.stop(), secure?.stop()]);
  });

  it('plain anonymous broker: ANONYMOUS_ACCESS + PLAINTEXT_TRANSPORT, CRITICAL; TLS + password with its own CA: TLS_SELF_SIGNED, MEDIUM', async () => {
    const password = secure.users.student;
    const { results } = await runScan({ targets: '127.0.0.1', ports: [insecure.port, secure.port], timeoutMs: 2000, credentials: { username: 'student', password } });
    const byPort = new Map(results.map((r) => [r.port, r]));
    const plain = classifyResult(byPort.get(insecure.port)!);
    assert.ok(plain.findings.some((f) => f.id === 'ANONYMOUS_ACCESS'));
    assert.ok(plain.findings.some((f) => f.id === 'PLAINTEXT_TRANSPORT'));
    assert.ok(['CRITICAL', 'HIGH'].includes(plain.risk!.level));
    // The TLS inspector's part, done here from a real handshake so this test does not depend on it.
    const withTls = { ...byPort.get(secure.port)!, tls: await inspect(secure.port) };
    const tlsBroker = classifyResult(withTls);
    assert.deepEqual(tlsBroker.findings.map((f) => f.id), ['TLS_SELF_SIGNED']);
    assert.ok(['LOW', 'MEDIUM'].includes(tlsBroker.risk!.level));
    assert.ok(!JSON.stringify([plain, tlsBroker]).includes(password));
  });
});

async function inspect(port: number): Promise<TlsInfo> {
  const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  try {
    await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    const c = socket.getPeerCertificate(true);
    const daysLeft = Math.floor((Date.parse(c.valid_to) - Date.now()) / 86_400_000);
    const name = (x: Record<string, unknown>) => Object.entries(x).map(([k, v]) => `${k}=${String(v)}`).join(', ');
    return {
      protocol: socket.getProtocol(),
      certificate: {
        subject: name(c.subject as unknown as Record<string, unknown>), issuer: name(c.issuer as unknown as Record<string, unknown>),
        subjectAltName: c.subjectaltname, validFrom: c.valid_from, validTo: c.valid_to, daysLeft, expired: daysLeft < 0,
        selfSigned: c.issuerCertificate === c, trusted: socket.authorized, trustError: String(socket.authorizationError ?? '') || null,
        hostnameMatch: tls.checkServerIdentity('127.0.0.1', c) === undefined, keyBits: c.bits, fingerprint256: c.fingerprint256,
      },
    };
  } finally {
    socket.destroy();
  }
}
