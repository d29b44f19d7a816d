// mqtt-scan as a user runs it: a child process, its exit code, stdout and stderr.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import mqtt from 'mqtt';
import { requireTool } from '../support/tools';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto';
import { closedPort } from '../support/fixtures';
import type { ScanResult } from '../../lib/types';
import { ALL_PAYLOAD_SECRETS, PAYLOAD_SECRETS } from '../support/payload-secrets';

const CLI = resolve(__dirname, '../../dist/cli/index.js');

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('cli: bad input exits 2 and names the bad part', () => {
  const table: Array<[string[], RegExp]> = [
    [['--target', '10.0.0.0/33'], /"10\.0\.0\.0\/33": prefix must be 0-32/],
    [['--target', '999.1.1.1'], /"999\.1\.1\.1"/],
    [['--target', '1.2.3'], /"1\.2\.3"/],
    [['--target', '10.0.0.9-10.0.0.1'], /"10\.0\.0\.9-10\.0\.0\.1"/],
    [['--target', '10.0.0.0/255.0.255.0'], /"10\.0\.0\.0\/255\.0\.255\.0"/],
    [['--target', '127.0.0.1;rm -rf /'], /"127\.0\.0\.1;rm/],
    [['--target', "' OR 1=1 --"], /"'": character "'" is not allowed/],
    [['--target', '$(reboot)'], /"\$\(reboot\)"/],
    [['--target', 'fd00::/64'], /"fd00::\/64"/],
    [['--target', '   '], /--target is required/],
    [['--target', '10.0.0.0/8'], /maxTargets|--max-targets/],
    [['--target', '127.0.0.1', '--ports', '70000'], /"70000": port must be 1-65535/],
    [['--target', '127.0.0.1', '--ports', '9-1'], /"9-1"/],
    [['--target', '127.0.0.1', '--timeout=-5'], /--timeout "-5"/],
    [['--target', '127.0.0.1', '--timeout', 'abc'], /--timeout "abc"/],
    [['--target', '127.0.0.1', '--concurrency', '0'], /--concurrency "0"/],
    [['--target', '127.0.0.1', '--transport', 'carrier-pigeon'], /--transport "carrier-pigeon": must be auto, tcp, tls, ws or wss/],
    [['--target', '127.0.0.1', '--ports', 'mqtt-everything'], /"mqtt-everything": not a port number \(or a preset: mqtt, mqtt-ws, mqtt-all\)/],
    [['--target', '127.0.0.1', '--ws-paths', 'mqtt'], /--ws-paths: WebSocket path "mqtt": must start with "\/"/],
    [['--target', '127.0.0.1', '--ws-paths', '/a b'], /--ws-paths: WebSocket path "\/a"|WebSocket path "b": must start/],
    [['--target', '127.0.0.1', '--ws-paths', '/mqtt#x'], /--ws-paths: WebSocket path "\/mqtt#x": only the characters of a URL path/],
    [['--target', '127.0.0.1', '--ws-paths', Array.from({ length: 17 }, (_, i) => `/p${i}`).join(',')], /--ws-paths: 17 WebSocket paths: at most 16/],
    [['--target', '127.0.0.1', '--mqtt-version', '4.0'], /--mqtt-version "4\.0"/],
    [['--target', '127.0.0.1', '--password-env', 'X'], /--password-env needs --user/],
    [['--target', '127.0.0.1', '--user', 'u', '--password-env', 'MQTTSEC_SURELY_UNSET'], /MQTTSEC_SURELY_UNSET: that environment variable is not set/],
    [['--target', '127.0.0.1', '--tls-ca', '/nonexistent/ca.pem'], /--tls-ca "\/nonexistent\/ca\.pem": ENOENT/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--target', '127.0.0.1', '--listen', 'forever'], /--listen "forever": must be a number of seconds from 0 to 600/],
    [['--target', '127.0.0.1', '--listen', '601'], /--listen "601"/],
    [['--target', '127.0.0.1', '--format', 'pdf'], /--format needs --report DIR/],
    [['--target', '127.0.0.1', '--report', '/tmp', '--format', 'docx'], /report format "docx": expected pdf, csv or json/],
    [[], /--target is required/],
  ];
  for (const [args, re] of table) {
    it(`mqtt-scan ${args.join(' ') || '(nothing)'}`, () => {
      const r = run(args);
      assert.equal(r.code, 2, `exit code; stderr: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stdout, '', 'nothing scanned, nothing printed');
    });
  }

  it('refuses a public address before sending anything, and says how to allow it', () => {
    const r = run(['--target', '8.8.8.8']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /"8\.8\.8\.8".*--allow-public/);
  });

  it('prints help with exit 0', () => {
    const r = run(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: mqtt-scan --target SPEC/);
  });
});

describe('cli: against real brokers', function () {
  let insecure: MosquittoBroker;
  let secure: MosquittoBroker;
  before(async function () {
    requireTool(this, 'mosquitto');
    [insecure, secure] = await Promise.all([startMosquitto('insecure'), startMosquitto('secure')]);
  });
  after(async () => Promise.all([insecure?.stop(), secure?.stop()]));

  it('--json: anonymous broker open over tcp; TLS broker rejects strangers and accepts the given login', async () => {
    const closed = await closedPort();
    const password = secure.users.scanner;
    const r = run(
      ['--target', '127.0.0.1', '--ports', `${insecure.port},${secure.port},${closed}`, '--user', 'scanner', '--password-env', 'LAB_PASS', '--tls-ca', secure.caPath!, '--json', '--no-sniff', '--no-tls-inspect'],
      { LAB_PASS: password },
    );
    assert.equal(r.code, 0, r.stderr);
    const results = JSON.parse(r.stdout) as ScanResult[];
    const byPort = new Map(results.map((x) => [x.port, x]));
    const a = byPort.get(insecure.port)!;
    assert.equal(a.transport, 'tcp');
    assert.equal(a.classification, 'open_or_auth_ok');
    assert.equal(a.auth.anonymous.outcome, 'accepted');
    const b = byPort.get(secure.port)!;
    assert.equal(b.transport, 'tls');
    assert.equal(b.auth.anonymous.outcome, 'rejected');
    assert.equal(b.auth.wrongCredentials.outcome, 'rejected');
    assert.equal(b.auth.givenCredentials.outcome, 'accepted');
    assert.equal(byPort.get(closed)!.reachability, 'closed');
    assert.ok(!r.stdout.includes(password) && !r.stderr.includes(password), 'password printed nowhere');
  });

  it('without credentials the TLS broker is not_authorized; the table has the seed columns', () => {
    const r = run(['--target', '127.0.0.1', '--ports', String(secure.port), '--no-sniff']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /TARGET\s+REACH\s+TRANSPORT\s+CLASSIFICATION/);
    assert.match(r.stdout, new RegExp(`127\\.0\\.0\\.1:${secure.port}\\s+open\\s+tls\\s+not_authorized`));
    assert.match(r.stdout, /1 target\(s\)/);
  });

  it('the table shows TLS state, topics and sensors after a deep scan', async () => {
    const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${insecure.port}`, { reconnectPeriod: 0 }, false);
    await pub.publishAsync('lab/insecure/esp32-cli/pir', '{"motion":true}', { retain: true, qos: 1 });
    await pub.endAsync();
    const password = secure.users.scanner;
    const r = run(
      ['--target', '127.0.0.1', '--ports', `${insecure.port},${secure.port}`, '--user', 'scanner', '--password-env', 'LAB_PASS', '--tls-ca', secure.caPath!, '--listen', '0.5', '--json'],
      { LAB_PASS: password },
    );
    assert.equal(r.code, 0, r.stderr);
    const results = JSON.parse(r.stdout) as ScanResult[];
    const plain = results.find((x) => x.port === insecure.port)!;
    const tls = results.find((x) => x.port === secure.port)!;
    assert.equal(plain.tls, undefined, 'no TLS stage on a plain port');
    assert.equal(plain.topics?.as, 'anonymous');
    assert.ok(plain.topics!.items.some((i) => i.topic === 'lab/insecure/esp32-cli/pir' && i.retained && i.sensor === 'pir'));
    assert.equal(tls.tls?.certificate?.trusted, true, 'trusted with --tls-ca');
    assert.match(String(tls.tls?.protocol), /^TLSv1\.[23]$/);
    assert.equal(tls.topics?.as, 'given credentials');
    assert.ok(!r.stdout.includes(password));

    const table = run(['--target', '127.0.0.1', '--ports', `${insecure.port},${secure.port}`, '--listen', '0.5']);
    assert.match(table.stdout, /TLS\s+TOPICS\s+SENSORS/);
    assert.match(table.stdout, new RegExp(`127\\.0\\.0\\.1:${secure.port} .*TLSv1\\.[23] untrusted`));
    assert.match(table.stdout, new RegExp(`127\\.0\\.0\\.1:${insecure.port} .*pir`));
  });

  it('findings and reports: the anonymous broker is CRITICAL, the TLS broker only self-signed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mqttsec-cli-report-'));
    try {
      const password = secure.users.scanner;
      const r = run(
        ['--target', '127.0.0.1', '--ports', `${insecure.port},${secure.port}`, '--user', 'scanner', '--password-env', 'LAB_PASS', '--listen', '0.3', '--json', '--report', dir],
        { LAB_PASS: password },
      );
      assert.equal(r.code, 0, r.stderr);
      const results = JSON.parse(r.stdout) as ScanResult[];
      const ids = (port: number) => results.find((x) => x.port === port)!.findings!.map((f) => f.id);
      const plain = results.find((x) => x.port === insecure.port)!;
      const tls = results.find((x) => x.port === secure.port)!;
      assert.ok(ids(insecure.port).includes('ANONYMOUS_ACCESS'));
      assert.ok(ids(insecure.port).includes('PLAINTEXT_TRANSPORT'));
      assert.ok(['CRITICAL', 'HIGH'].includes(plain.risk!.level));
      assert.ok(ids(secure.port).includes('TLS_SELF_SIGNED'));
      assert.ok(!ids(secure.port).includes('ANONYMOUS_ACCESS'));
      assert.ok(['LOW', 'MEDIUM'].includes(tls.risk!.level), `secure broker rated ${tls.risk!.level}: ${ids(secure.port)}`);

      const files = readdirSync(dir).sort();
      assert.deepEqual(files.map((f) => f.split('.').pop()), ['csv', 'json', 'pdf']);
      assert.match(r.stderr, /report \(pdf\): /);
      const pdf = readFileSync(join(dir, files[2]));
      assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
      const csv = readFileSync(join(dir, files[0]), 'utf8');
      assert.match(csv.replace(/^\uFEFF/, ''), /^"?ip"?,"?port"?,"?result"?,"?classification"?,"?security"?,"?topics_count"?,"?publishers_count"?/);
      for (const f of files) assert.ok(!readFileSync(join(dir, f)).includes(password), `${f} holds no password`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Issue 16, kind 3: devices' secrets in retained payloads (a compound JSON key, TOML, a topic
  // named for its secret, YAML, a query string) were printed in clear by --json and the reports.
  it('--json and every report mask the secrets devices publish, and flag each payload', async function () {
    requireTool(this, 'pdftotext');
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${insecure.port}`, { reconnectPeriod: 0, connectTimeout: 5000 }, false);
    for (const p of PAYLOAD_SECRETS) await client.publishAsync(p.topic, p.payload, { qos: 1, retain: true });
    await client.endAsync();
    const dir = mkdtempSync(join(tmpdir(), 'mqttsec-cli-secrets-'));
    try {
      const r = run(['--target', '127.0.0.1', '--ports', String(insecure.port), '--json', '--listen', '2', '--no-tls-inspect', '--report', dir]);
      assert.equal(r.code, 0, r.stderr);
      const [result] = JSON.parse(r.stdout) as ScanResult[];
      for (const p of PAYLOAD_SECRETS) {
        const item = result.topics!.items.find((i) => i.topic === p.topic);
        assert.ok(item?.sensitive?.length && item.sample?.includes('***'), `${p.topic}: ${JSON.stringify(item)}`);
      }
      assert.ok(result.findings!.some((f) => f.id === 'SENSITIVE_PAYLOAD'));
      const outputs: Array<[string, string]> = [['stdout', r.stdout], ['stderr', r.stderr]];
      for (const f of readdirSync(dir)) {
        const path = join(dir, f);
        outputs.push([f, f.endsWith('.pdf') ? spawnSync('pdftotext', [path, '-'], { encoding: 'utf8' }).stdout : readFileSync(path, 'utf8')]);
      }
      assert.equal(outputs.length, 5, 'stdout, stderr and three reports');
      for (const [where, text] of outputs) {
        for (const secret of ALL_PAYLOAD_SECRETS) assert.ok(!text.includes(secret), `a device's secret (${secret.slice(0, 4)}…) is in ${where}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads the password from stdin with --password-stdin', () => {
    const password = secure.users.student;
    const out = spawnSync(process.execPath, [CLI, '--target', '127.0.0.1', '--ports', String(secure.port), '--user', 'student', '--password-stdin', '--tls-ca', secure.caPath!, '--json', '--no-sniff'], {
      input: `${password}\n`,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(out.status, 0, out.stderr);
    const [r] = JSON.parse(out.stdout) as ScanResult[];
    assert.equal(r.auth.givenCredentials.outcome, 'accepted');
  });
});
