// What a broker names reaches every output escaped (lib/text brokerText): mqtt-scan against real
// brokers that carry hostile names, its table, --json, and the PDF, CSV and JSON reports.
//
// What the real brokers accept (seen with these versions): mosquitto 2.0.11 takes a topic with
// U+202E and a 5,000-character topic, but drops the client ("malformed packet") for a topic with
// ESC, NUL, DEL or a C1 control: it enforces MQTT 3.1.1 §1.5.3 / 5.0 §1.5.4 strictly. aedes takes
// all of them, NUL included (the spec forbids U+0000; aedes does not check), so the control
// characters come from aedes, the rest from mosquitto, the certificate from mosquitto's TLS.
// Neither lets a client publish under $SYS (aedes drops it, mosquitto denies it), so the one
// hostile $SYS version comes from a fake broker (test/support/hostile-broker.ts), labelled so.
import { strict as assert } from 'node:assert';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { requireTool } from '../support/tools';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto';
import { startAedes, type AedesBroker } from '../support/aedes';
import { rawPublish, startHostileBroker, type HostileBroker } from '../support/hostile-broker';
import type { ScanResult } from '../../lib/types';

const CLI = resolve(__dirname, '../../dist/cli/index.js');
const execFileAsync = promisify(execFile);

const RTL_TOPIC = 'rtl/\u202egnp.exe';
const ESC_TOPIC = 'esc/\u001b[31mred';
const NUL_TOPIC = 'nul/a\u0000b';
const LONG_TOPIC = `long/${'x'.repeat(4995)}`;
/** A $SYS version a broker may publish: a formula for spreadsheets, and a bidi override inside. */
const SYS_VERSION = '=1+1 mosquitto version \u202e2.0.11';
const SYS_VERSION_SHOWN = '=1+1 mosquitto version \\u{202E}2.0.11';
/** The certificate's OU: starts with U+202E (reads "OU=exe.txt") and holds an ESC. */
const OU = '\u202etxt.exe\u001b[31m';

/** Any character brokerText must never let through raw. */
const RAW_HIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff]/;

/** mqtt-scan as a child, awaited without blocking: aedes runs in this process and must answer. */
async function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 90_000, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : null, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}

/** Every string in a parsed JSON value, keys included. */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(k), strings(x, out);
  return out;
}

function assertNoRawHidden(what: string, texts: string[]): void {
  const bad = texts.find((t) => RAW_HIDDEN.test(t));
  assert.equal(bad, undefined, `${what} holds a raw hidden character: ${JSON.stringify(bad?.slice(0, 120))}`);
}

async function publishRetained(port: number, topic: string, payload = 'x'): Promise<void> {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4 }, false);
  try {
    await c.publishAsync(topic, payload, { retain: true, qos: 1 });
  } finally {
    await c.endAsync();
  }
}

describe('cli: what a broker names is shown escaped in every output', function () {
  this.timeout(120_000);
  let mosq: MosquittoBroker;
  let tlsMosq: MosquittoBroker;
  let aedes: AedesBroker;
  /** FAKE broker: only for the $SYS version, which no real broker lets a client set. */
  let fakeSys: HostileBroker;
  let certDir: string;
  let reportDir: string;
  let json: Awaited<ReturnType<typeof run>>;
  let table: Awaited<ReturnType<typeof run>>;
  let results: ScanResult[];

  before(async function () {
    requireTool(this, 'mosquitto');
    const openssl = requireTool(this, 'openssl');
    requireTool(this, 'pdftotext');
    certDir = mkdtempSync(join(tmpdir(), 'mqttsec-hostile-cert-'));
    reportDir = mkdtempSync(join(tmpdir(), 'mqttsec-hostile-report-'));
    const key = join(certDir, 'server.key');
    const cert = join(certDir, 'server.crt');
    // A UTF-8 subject the server's owner chose: openssl takes the raw U+202E and ESC bytes.
    const made = spawnSync(openssl, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
      '-days', '30', '-utf8', '-subj', `/CN=localhost/OU=${OU}/O=Hostile Lab`, '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    writeFileSync(join(certDir, 'ca.crt'), readFileSync(cert));
    [mosq, tlsMosq, aedes] = await Promise.all([
      startMosquitto('insecure'),
      startMosquitto('secure', { certs: { ca: join(certDir, 'ca.crt'), cert, key } }),
      startAedes(),
    ]);
    fakeSys = await startHostileBroker((socket) => socket.write(rawPublish(Buffer.from('$SYS/broker/version'), Buffer.from(SYS_VERSION))));
    for (const t of [RTL_TOPIC, LONG_TOPIC]) await publishRetained(mosq.port, t);
    for (const t of [ESC_TOPIC, NUL_TOPIC, RTL_TOPIC]) await publishRetained(aedes.port, t);

    const ports = `${mosq.port},${tlsMosq.port},${aedes.port},${fakeSys.port}`;
    json = await run(['--target', '127.0.0.1', '--ports', ports, '--listen', '1', '--json', '--report', reportDir, '--format', 'pdf,csv,json']);
    assert.equal(json.code, 0, json.stderr);
    results = JSON.parse(json.stdout) as ScanResult[];
    table = await run(['--target', '127.0.0.1', '--ports', ports, '--listen', '0.5']);
    assert.equal(table.code, 0, table.stderr);
  });

  after(async () => {
    await Promise.all([mosq?.stop(), tlsMosq?.stop(), aedes?.stop(), fakeSys?.close()]);
    for (const d of [certDir, reportDir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  const byPort = (port: number) => results.find((r) => r.port === port)!;
  const topics = (port: number) => byPort(port).topics!.items.map((i) => i.topic);

  it('stdout (--json, the table): topic names escaped, the raw characters nowhere, the long topic bounded', () => {
    assert.ok(!json.stdout.includes('\u202e'), 'no raw U+202E in the --json text');
    // The table has no column a broker names (topics are counted, not listed): it must stay clean all the same.
    assert.match(table.stdout, /TARGET\s+REACH/);
    assertNoRawHidden('the table', [table.stdout]);
    assertNoRawHidden('--json', strings(results));
    assert.ok(topics(mosq.port).includes('rtl/\\u{202E}gnp.exe'), JSON.stringify(topics(mosq.port).map((t) => t.slice(0, 40))));
    assert.ok(topics(aedes.port).includes('esc/\\u{1B}[31mred'), JSON.stringify(topics(aedes.port)));
    assert.ok(topics(aedes.port).includes('nul/a\\u{0}b'), 'aedes passes a NUL in a topic on; it shows as \\u{0}');
    const long = topics(mosq.port).find((t) => t.startsWith('long/'))!;
    assert.equal(long, `long/${'x'.repeat(251)}…(+4744 chars)`);
  });

  it('--json: the certificate OU is escaped (U+202E as \\u{202E}; ESC as OpenSSL prints it, \\1B)', () => {
    const c = byPort(tlsMosq.port).tls!.certificate!;
    assert.equal(c.subject, 'CN=localhost, OU=\\u{202E}txt.exe\\1B[31m, O=Hostile Lab');
    assert.equal(c.issuer, c.subject, 'self-signed: the issuer is the same name');
    assert.deepEqual(c.chain, [c.subject]);
    const evidence = byPort(tlsMosq.port).findings!.map((f) => f.evidence).join('\n');
    assert.ok(evidence.includes('OU=\\u{202E}txt.exe'), `the findings quote the escaped name: ${evidence}`);
  });

  it('--json: a $SYS version with U+202E (fake broker) is escaped in topics.sys, mqtt.brokerVersion and the finding', () => {
    const r = byPort(fakeSys.port);
    const shown = SYS_VERSION_SHOWN;
    assert.equal(r.topics!.sys!.version, shown);
    assert.equal(r.mqtt.brokerVersion, shown);
    const f = r.findings!.find((x) => x.id === 'BROKER_VERSION_DISCLOSED');
    assert.ok(f?.evidence.includes(`"${shown}"`), f?.evidence);
  });

  it('the risk rules quote the escaped topic names', () => {
    const evidence = byPort(aedes.port).findings!.map((f) => f.evidence).join('\n');
    assert.match(evidence, /"esc\/\\u\{1B\}\[31mred"/);
    assert.match(evidence, /"rtl\/\\u\{202E\}gnp\.exe"/);
  });

  it('the JSON and CSV reports hold no raw hidden character; the JSON report has the escaped names', () => {
    const files = readdirSync(reportDir);
    const report = readFileSync(join(reportDir, files.find((f) => f.endsWith('.json'))!), 'utf8');
    assert.ok(!report.includes('\u202e'));
    assertNoRawHidden('the JSON report', strings(JSON.parse(report)));
    assert.ok(report.includes('rtl/\\\\u{202E}gnp.exe'), 'the escaped topic, as JSON text');
    assert.ok(report.includes('OU=\\\\u{202E}txt.exe'));
    const csv = readFileSync(join(reportDir, files.find((f) => f.endsWith('.csv'))!), 'utf8').replace(/^\uFEFF/, '');
    assertNoRawHidden('the CSV report', [csv.replace(/\r\n/g, '')]);
    // The broker_version column: escaped, and still neutralised as a formula (a leading quote).
    assert.ok(csv.includes(`"'${SYS_VERSION_SHOWN}"`), csv);
  });

  it("the PDF's text shows the escaped names and no raw hidden character", () => {
    const pdf = join(reportDir, readdirSync(reportDir).find((f) => f.endsWith('.pdf'))!);
    const out = spawnSync('pdftotext', ['-enc', 'UTF-8', pdf, '-'], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    const text = out.stdout.replace(/\f/g, '');
    assertNoRawHidden('the PDF text', [text.replace(/[\n\r\t]/g, ' ')]);
    for (const shown of ['rtl/\\u{202E}gnp.exe', 'esc/\\u{1B}[31mred', 'nul/a\\u{0}b', 'OU=\\u{202E}txt.exe', SYS_VERSION_SHOWN]) {
      assert.ok(text.includes(shown), `the PDF shows ${shown}`);
    }
    assert.ok(!text.includes('x'.repeat(300)), 'the long topic is cut');
  });
});
