// The risk classifier and report writer in a real Node-RED runtime: results and completion in,
// findings, summaries and files out; policy from the editor; errors reaching Catch; a whole scan.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collect, core, helper, load, NODES, type FlowNode } from './node-red';
import { RULE_IDS, RULES } from '../../lib/risk';
import { anonymousPlain, hardened, manyResults, SCAN_ID, tlsPasswordSelfSignedCa } from '../support/sample-results';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto';
import { requireTool } from '../support/tools';

type Msg = Record<string, unknown>;
const CLASSIFIER = require('../../dist/nodes/mqttsec-risk-classifier.js');
const WRITER = require('../../dist/nodes/mqttsec-report-writer.js');
const ALL = [NODES.credentials, NODES.expander, NODES.probe, NODES.catch, CLASSIFIER, WRITER];
const isComplete = (msgs: Msg[]) => msgs.some((m) => m.complete === true);
const summary = { scanId: SCAN_ID, startedAt: '2026-11-27T10:00:00.000Z', finishedAt: '2026-11-27T10:00:02.000Z', durationMs: 2000, targets: 2, reachability: { open: 2, closed: 0, filtered: 0, error: 0 }, classification: { open_or_auth_ok: 2, not_authorized: 0, unreachable_or_firewalled: 0, tls_or_ssl_error: 0, not_mqtt: 0 } };

function inTab(nodes: FlowNode[]): FlowNode[] {
  return [
    { id: 'flow1', type: 'tab', label: 'test' },
    ...nodes.map((n) => ({ z: 'flow1', ...n })),
    { id: 'catcher', type: 'catch', z: 'flow1', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'flow1' },
  ];
}

describe('nodes: risk classifier', () => {
  afterEach(() => helper.unload());

  it('adds findings and risk to each result, and the scan summary to the completion message', async () => {
    await load(ALL, inTab([{ id: 'risk', type: 'mqttsec-risk-classifier', rules: [], wires: [['out']] }, { id: 'out', type: 'helper' }]));
    const got = collect('out', isComplete);
    const node = helper.getNode('risk');
    node.receive({ payload: anonymousPlain(), scanId: SCAN_ID });
    node.receive({ payload: tlsPasswordSelfSignedCa({ host: '127.0.0.2' }), scanId: SCAN_ID });
    node.receive({ payload: summary, complete: true, scanId: SCAN_ID });
    const [a, b, done] = await got;
    const ra = a.payload as { findings: Array<{ id: string }>; risk: { level: string }; security_summary: { risk_level: string } };
    assert.ok(ra.findings.some((f) => f.id === 'ANONYMOUS_ACCESS'));
    assert.equal(ra.risk.level, 'CRITICAL');
    assert.equal(ra.security_summary.risk_level, 'CRITICAL');
    assert.deepEqual((b.payload as { findings: Array<{ id: string }> }).findings.map((f) => f.id), ['TLS_SELF_SIGNED']);
    const p = done.payload as { scanId: string; targets: number; riskSummary: { results: number; openBrokers: number; byLevel: Record<string, number>; worstFindings: Array<{ id: string }> } };
    assert.equal(p.scanId, SCAN_ID, 'the scan summary is kept');
    assert.equal(p.targets, 2);
    assert.equal(p.riskSummary.results, 2);
    assert.equal(p.riskSummary.openBrokers, 1);
    assert.deepEqual(p.riskSummary.byLevel, { CRITICAL: 1, HIGH: 0, MEDIUM: 1, LOW: 0 });
    assert.equal(p.riskSummary.worstFindings[0].id, 'ANONYMOUS_ACCESS');
  });

  it('fix and rescan: each result says what changed since the previous scan of its host:port (issue 18)', async () => {
    await load(ALL, inTab([{ id: 'risk', type: 'mqttsec-risk-classifier', rules: [], wires: [['out']] }, { id: 'out', type: 'helper' }]));
    const node = helper.getNode('risk');
    const got = collect('out', (m) => m.length === 2);
    node.receive({ payload: { ...anonymousPlain(), scanId: 'scan-1' }, scanId: 'scan-1' });
    // The teacher fixes the broker: passwords, TLS; the class scans again.
    node.receive({ payload: { ...hardened({ port: 1883 }), scanId: 'scan-2' }, scanId: 'scan-2' });
    const [first, second] = await got;
    const c1 = (first.payload as { changes: { status: string; previous: unknown } }).changes;
    assert.deepEqual([c1.status, c1.previous], ['appeared', null], 'the first scan has nothing to compare with');
    const c2 = (second.payload as { changes: { status: string; resolved: string[]; riskBefore: string; riskAfter: string; previous: { scanId: string } } }).changes;
    assert.equal(c2.status, 'changed');
    assert.equal(c2.previous.scanId, 'scan-1');
    assert.ok(c2.resolved.includes('ANONYMOUS_ACCESS') && c2.resolved.includes('PLAINTEXT_TRANSPORT'), JSON.stringify(c2));
    assert.deepEqual([c2.riskBefore, c2.riskAfter], ['CRITICAL', 'LOW']);
  });

  it('applies the lab policy from the editor list (severity changed, rule off)', async () => {
    const rules = [{ id: 'TLS_SELF_SIGNED', severity: 'off' }, { id: 'PLAINTEXT_TRANSPORT', severity: 'critical' }];
    await load(ALL, inTab([{ id: 'risk', type: 'mqttsec-risk-classifier', rules, wires: [['out']] }, { id: 'out', type: 'helper' }]));
    const got = collect('out', (m) => m.length === 1);
    helper.getNode('risk').receive({ payload: [tlsPasswordSelfSignedCa(), anonymousPlain({ host: '127.0.0.2' })] });
    const [msg] = await got;
    const [tls, plain] = msg.payload as Array<{ findings: Array<{ id: string; severity: string }>; risk: { level: string } }>;
    assert.deepEqual(tls.findings, []);
    assert.equal(tls.risk.level, 'LOW');
    assert.equal(plain.findings.find((f) => f.id === 'PLAINTEXT_TRANSPORT')!.severity, 'critical');
    assert.equal((msg.riskSummary as { results: number }).results, 2);
  });

  it('input that is not a result reaches a Catch node; so does a broken policy', async () => {
    await load(ALL, inTab([
      { id: 'risk', type: 'mqttsec-risk-classifier', rules: [], wires: [['out']] },
      { id: 'bad', type: 'mqttsec-risk-classifier', rules: [{ id: 'NO_SUCH_RULE', severity: 'low' }], wires: [['out']] },
      { id: 'out', type: 'helper' },
    ]));
    const caught = collect('caught', (m) => m.length === 2);
    helper.getNode('risk').receive({ payload: 'hello' });
    helper.getNode('bad').receive({ payload: anonymousPlain() });
    const errors = (await caught).map((m) => (m.error as { message: string }).message).sort();
    assert.match(errors[0], /expected a scan result/);
    assert.match(errors[1], /unknown rule "NO_SUCH_RULE"/);
  });

  it("the editor's rule list is the rule table", () => {
    const html = readFileSync(join(__dirname, '../../nodes/mqttsec-risk-classifier.html'), 'utf8');
    const listed = [...html.matchAll(/\['([A-Z_]+)', '(critical|high|medium|low|info)'\]/g)].map((m) => [m[1], m[2]]);
    assert.deepEqual(listed, RULES.map((r) => [r.id, r.severity]));
    assert.equal(listed.length, RULE_IDS.length);
  });
});

describe('nodes: report writer', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mqttsec-nodes-'));
  });
  afterEach(async () => {
    await helper.unload();
    rmSync(dir, { recursive: true, force: true });
  });

  const writer = (extra: Partial<FlowNode> = {}): FlowNode[] => inTab([
    { id: 'writer', type: 'mqttsec-report-writer', directory: dir, pdf: true, csv: true, json: true, title: '', preparedFor: 'Lab 3B', attach: true, wires: [['out']], ...extra },
    { id: 'out', type: 'helper' },
  ]);

  it('collects the results of a scan, writes the files on msg.complete and sends them on', async () => {
    await load(ALL, writer());
    const got = collect('out', (m) => m.length === 1);
    const node = helper.getNode('writer');
    node.receive({ payload: anonymousPlain(), scanId: SCAN_ID, scan: { id: SCAN_ID, specs: ['127.0.0.0/30'], ports: [1883, 8883] } });
    node.receive({ payload: tlsPasswordSelfSignedCa({ host: '127.0.0.2' }), scanId: SCAN_ID });
    node.receive({ payload: { ...summary, riskSummary: {} }, complete: true, scanId: SCAN_ID });
    const [msg] = await got;
    const { files, summary: s } = msg.payload as { files: Record<string, string>; summary: { results: number; worstLevel: string } };
    assert.deepEqual(Object.keys(files).sort(), ['csv', 'json', 'pdf']);
    for (const f of Object.values(files)) assert.ok(existsSync(f) && f.startsWith(dir) && f.includes(SCAN_ID), f);
    assert.equal(readdirSync(dir).length, 3, 'no temp file left');
    assert.equal(s.results, 2);
    assert.equal(s.worstLevel, 'CRITICAL');
    const report = msg.report as { pdf: Buffer; csv: string; json: string };
    assert.ok(Buffer.isBuffer(report.pdf) && report.pdf.subarray(0, 5).toString() === '%PDF-');
    assert.deepEqual(readFileSync(files.pdf), report.pdf);
    assert.equal(readFileSync(files.csv, 'utf8'), report.csv);
    const json = JSON.parse(report.json);
    assert.deepEqual(json.meta.targets, ['127.0.0.0/30']);
    assert.equal(json.scan.durationMs, 2000);
    assert.equal(json.scan.riskSummary, undefined, "the classifier's summary is not repeated in scan");
  });

  it('writes an array of results at once, in the formats chosen', async () => {
    await load(ALL, writer({ pdf: false, json: false, attach: false }));
    const got = collect('out', (m) => m.length === 1);
    helper.getNode('writer').receive({ payload: manyResults(12) });
    const [msg] = await got;
    const { files } = msg.payload as { files: Record<string, string> };
    assert.deepEqual(Object.keys(files), ['csv']);
    assert.equal(readFileSync(files.csv, 'utf8').trim().split('\r\n').length, 13);
    assert.equal(msg.report, undefined);
  });

  it('a folder it cannot write to is an error on the node (Catch), and leaves no file', async () => {
    const file = join(dir, 'not-a-folder');
    writeFileSync(file, 'x');
    await load(ALL, writer({ directory: file }));
    const caught = collect('caught', (m) => m.length === 1);
    let sent = 0;
    helper.getNode('out').on('input', () => sent++);
    helper.getNode('writer').receive({ payload: [anonymousPlain()] });
    const [msg] = await caught;
    assert.match((msg.error as { message: string }).message, /EEXIST|ENOTDIR/);
    assert.equal(sent, 0);
    assert.deepEqual(readdirSync(dir), ['not-a-folder']);
  });

  it('input that is not a result is an error', async () => {
    await load(ALL, writer());
    const caught = collect('caught', (m) => m.length === 1);
    helper.getNode('writer').receive({ payload: [{ nope: true }] });
    assert.match(((await caught)[0].error as { message: string }).message, /expected a scan result/);
  });
});

describe('nodes: a whole scan, expander to report', function () {
  this.timeout(60_000);
  let insecure: MosquittoBroker;
  let secure: MosquittoBroker;
  let dir: string;
  before(async function () {
    requireTool(this, 'mosquitto');
    requireTool(this, 'pdftotext');
    [insecure, secure] = await Promise.all([startMosquitto('insecure'), startMosquitto('secure')]);
    dir = mkdtempSync(join(tmpdir(), 'mqttsec-e2e-'));
  });
  after(async () => {
    await helper.unload();
    await Promise.all([insecure?.stop(), secure?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('two real brokers: the anonymous one CRITICAL, the TLS one not; the report names both and holds no password', async () => {
    const password = secure.users.student;
    await load(ALL, inTab([
      { id: 'exp', type: 'mqttsec-target-expander', targets: '127.0.0.1', ports: `${insecure.port},${secure.port}`, maxTargets: 16, batchSize: 256, allowPublic: false, wires: [['probe']] },
      { id: 'probe', type: 'mqttsec-broker-probe', auth: 'creds', timeout: 2000, concurrency: 8, probeConcurrency: 4, transport: 'auto', versions: 'both', tlsPorts: String(secure.port), emitUnreachable: false, wires: [['risk']] },
      { id: 'creds', type: 'mqttsec-credentials', name: 'lab' },
      { id: 'risk', type: 'mqttsec-risk-classifier', rules: [], wires: [['writer', 'classified']] },
      { id: 'classified', type: 'helper' },
      { id: 'writer', type: 'mqttsec-report-writer', directory: dir, pdf: true, csv: true, json: true, attach: true, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ]), { creds: { username: 'student', password } });
    const classified = collect('classified', isComplete, 30_000);
    const written = collect('out', (m) => m.length === 1, 30_000);
    helper.getNode('exp').receive({ payload: Date.now() });
    const msgs = await classified;
    const byPort = new Map(msgs.filter((m) => !m.complete).map((m) => [(m.payload as { port: number }).port, m.payload as { findings: Array<{ id: string }>; risk: { level: string } }]));
    const plain = byPort.get(insecure.port)!;
    assert.ok(plain.findings.some((f) => f.id === 'ANONYMOUS_ACCESS') && plain.findings.some((f) => f.id === 'PLAINTEXT_TRANSPORT'));
    assert.equal(plain.risk.level, 'CRITICAL');
    const tls = byPort.get(secure.port)!;
    assert.ok(!tls.findings.some((f) => f.id.startsWith('ANONYMOUS')));
    assert.ok(['LOW', 'MEDIUM'].includes(tls.risk.level));
    const [out] = await written;
    const { files } = out.payload as { files: Record<string, string> };
    const text = spawnSync('pdftotext', ['-layout', files.pdf, '-'], { encoding: 'utf8' }).stdout;
    assert.match(text, new RegExp(`127\\.0\\.0\\.1:${insecure.port}`));
    assert.match(text, new RegExp(`127\\.0\\.0\\.1:${secure.port}`));
    assert.match(text, /Anonymous clients are accepted/);
    const everything = [text, readFileSync(files.csv, 'utf8'), readFileSync(files.json, 'utf8'), JSON.stringify(msgs), JSON.stringify(out.payload)].join('\n');
    assert.ok(!everything.includes(password), 'password in a report or message');
  });
});

describe('nodes: example flows', () => {
  afterEach(() => helper.unload());
  const coreNodes = [
    core('common/20-inject.js'),
    core('common/90-comment.js'),
    core('function/10-switch.js'),
    core('function/15-change.js'),
    core('network/21-httpin.js'),
  ];
  for (const name of ['risk-classifier', 'report-writer']) {
    it(`examples/${name}.json loads and every node starts`, async () => {
      // Import puts the nodes on a tab; debug nodes need the editor's comms, so helpers stand in.
      const example = JSON.parse(readFileSync(join(__dirname, `../../examples/${name}.json`), 'utf8')) as FlowNode[];
      const flow = example.map((n) => ({ ...n, z: 'flow1', type: n.type === 'debug' ? 'helper' : n.type }));
      // The risk-classifier example inspects TLS too (the TLS_SELF_SIGNED its comment names).
      await load([...ALL, NODES.tlsInspector, NODES.tls, ...coreNodes], [{ id: 'flow1', type: 'tab', label: 'example' }, ...flow]);
      for (const n of flow.filter((x) => x.type !== 'comment')) assert.ok(helper.getNode(n.id), `${n.type} ${n.id}`);
    });
  }
});
