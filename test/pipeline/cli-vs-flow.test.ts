// The same real brokers scanned two ways must get the same verdicts: through the CLI (mqtt-scan,
// lib/pipeline runScan, which starts TLS inspection and listening early, inside the probe) and
// through a deployed Node-RED flow of our nodes (target expander -> broker probe -> TLS inspector
// -> topic sniffer -> risk classifier, the chain of the shipped flows, one stage after the other).
//
// The brokers cover the verdict space, with the configs people write: mosquitto 2.0 anonymous;
// with a password file; with a password file and an ACL; anonymous plus a password file and an
// ACL; with only a well-known default login; over TLS with a CA the scan is given (so the login
// may go); over TLS with a CA it is not given (withheld unless opted in); over TLS with
// require_certificate; aedes; aedes over WebSockets (ws, anonymous, on /mqtt; wss with passwords and
// the trusted CA, on /ws, a path that is not the first tried); an HTTP server; a closed port.
// (RabbitMQ's Web MQTT: test/brokers/websocket-brokers.test.ts.) $SYS comes every second and the data
// topics are retained ones published before the scans, so what a listener hears does not depend
// on when it listens.
//
// Both sides get the same settings: the login (--user / a credentials node), the CA (--tls-ca /
// a tls-config node), the listen time, the write test, --try-defaults, timeouts and concurrency;
// once without and once with the plain-text opt-in (--send-credentials-plaintext / the nodes'
// option). A TLS broker with a small connection limit is compared in a test of its own. The
// comparison (test/support/verdicts.ts) lists what it leaves out and why; the assertion names
// every differing field with both values. MQTTSEC_CMP_DUMP=<dir> keeps both sides' raw results.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { generateCa, generateServerCert } from '../../lab/certs';
import { randomPassword } from '../../lab/passwords';
import { startAedes, type AedesBroker } from '../support/aedes';
import { closedPort, startHttpServer, type Fixture } from '../support/fixtures';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto';
import { writeCertFiles, type CertFiles } from '../support/tls-fixtures';
import { requireTool } from '../support/tools';
import { diffVerdicts, formatDiffs } from '../support/verdicts';
import { collect, helper, load, type FlowNode, SCAN_CHAIN } from '../nodes/node-red';
import type { ScanResult } from '../../lib/types';

const CLI = resolve(__dirname, '../../dist/cli/index.js');
const CHAIN = SCAN_CHAIN;

const HOST = '127.0.0.1';
const USER = 'scanner';
const PASSWORD = randomPassword();
const ADMIN_PASSWORD = randomPassword();
const USERS = { [USER]: PASSWORD, admin: ADMIN_PASSWORD };
/** The same on both sides: the listen window, the connect timeout, the probe's concurrency. */
const LISTEN_S = 1.5;
const TIMEOUT_MS = 2000;
const SWEEP_CONCURRENCY = 1024;
const PROBE_CONCURRENCY = 32;

type Msg = Record<string, unknown>;

/** mosquitto.conf text: one listener, $SYS every second, plus the lines given. */
const conf = (...lines: string[]) => ['listener 1883', 'sys_interval 1', 'log_dest file mosquitto.log', 'log_type all', ...lines].join('\n');
const TLS_LINES = ['cafile ca.crt', 'certfile server.crt', 'keyfile server.key'];
const PASSWORDS = ['allow_anonymous false', 'password_file passwords'];
const LIMITED = 'mosquitto TLS, anonymous, max_connections 3';

describe('pipeline: the CLI and a deployed flow give the same verdicts on real brokers', function () {
  this.timeout(90_000);
  const mosquittos: Record<string, MosquittoBroker> = {};
  let aedes: AedesBroker | undefined;
  let aedesWs: AedesBroker | undefined;
  let aedesWss: AedesBroker | undefined;
  let http: Fixture | undefined;
  let certs: CertFiles | undefined;
  let closed = 0;
  /** host:port -> broker name, for the assertion message. */
  const names: Record<string, string> = {};
  let ports: number[] = [];

  before(async function () {
    this.timeout(60_000);
    requireTool(this, 'mosquitto');
    // One CA for the TLS brokers the scan is told to trust (--tls-ca / the flow's tls-config).
    const ca = generateCa({ commonName: 'cli-vs-flow test CA' });
    const server = generateServerCert(ca, { hosts: [HOST, 'localhost'] });
    certs = writeCertFiles(ca.certPem, server);
    const specs: Record<string, Parameters<typeof startMosquitto>> = {
      'mosquitto anonymous': [{ conf: conf('allow_anonymous true') }],
      'mosquitto password file': [{ conf: conf(...PASSWORDS) }, { users: USERS }],
      'mosquitto password file + ACL': [
        { conf: conf(...PASSWORDS, 'acl_file acl') },
        { users: USERS, acl: `user ${USER}\ntopic read lab/public/#\n\nuser admin\ntopic readwrite #\ntopic read $SYS/#\n` },
      ],
      // Anonymous clients may read public/#; the scan's login reads more.
      'mosquitto anonymous + password file + ACL': [
        { conf: conf('allow_anonymous true', 'password_file passwords', 'acl_file acl') },
        { users: USERS, acl: `topic read public/#\n\nuser ${USER}\ntopic read public/#\ntopic read team/#\n\nuser admin\ntopic readwrite #\n` },
      ],
      // Only a well-known default login (found by --try-defaults); the scan's login is unknown here.
      'mosquitto default login only': [{ conf: conf(...PASSWORDS) }, { users: { mqtt: 'mqtt' } }],
      'mosquitto TLS, trusted CA, password file': [{ conf: conf(...TLS_LINES, ...PASSWORDS) }, { users: USERS, certs }],
      // Its own CA, which the scan is not given: the login is withheld unless opted in.
      'mosquitto TLS, untrusted CA, password file': [{ conf: conf(...TLS_LINES, ...PASSWORDS) }, { users: USERS, certs: 'generate' }],
      'mosquitto TLS, require_certificate': [{ conf: conf(...TLS_LINES, 'require_certificate true', 'allow_anonymous true') }, { certs }],
      // A small broker that takes few clients at once (scanned in a test of its own, below).
      [LIMITED]: [{ conf: conf(...TLS_LINES, 'allow_anonymous true', 'max_connections 3') }, { certs }],
    };
    const started = await Promise.all(Object.values(specs).map((args) => startMosquitto(...args)));
    Object.keys(specs).forEach((name, i) => (mosquittos[name] = started[i]));
    [aedes, http, closed, aedesWs, aedesWss] = await Promise.all([
      startAedes(),
      startHttpServer(),
      closedPort(),
      startAedes({ websocket: { path: '/mqtt' } }),
      startAedes({ tls: { cert: server.certPem, key: server.keyPem }, authenticate: (u, p) => (USERS as Record<string, string>)[u] === p, websocket: { path: '/ws' } }),
    ]);

    // Retained data topics, published before any scan: what a listener hears is fixed.
    const tcp = (b: { port: number }, extra: mqtt.IClientOptions = {}) => ({ host: HOST, port: b.port, reconnectPeriod: 0, connectTimeout: 5000, ...extra });
    const asAdmin = { username: 'admin', password: ADMIN_PASSWORD };
    const tlsTo = (b: MosquittoBroker) => ({ protocol: 'mqtts' as const, ca: readFileSync(b.caPath!), ...asAdmin });
    const publish: Array<[mqtt.IClientOptions, Array<[string, string]>]> = [
      [tcp(mosquittos['mosquitto anonymous']), [
        ['lab/open/esp32-01/dht', '{"temperature":21.5,"humidity":40}'],
        ['lab/open/esp32-01/config', '{"wifi_ssid":"lab","wifi_password":"hunter2hunter2"}'],
        ['lab/open/esp32-01/mqtt', '{"user":"esp32","password":"s3cr3t-pass"}'],
        ['home/door', 'closed'],
      ]],
      [tcp(mosquittos['mosquitto password file'], asAdmin), [['plant/line1/status', 'running'], ['plant/line1/temperature', '61.2']]],
      [tcp(mosquittos['mosquitto password file + ACL'], asAdmin), [['lab/public/temperature', '19.5'], ['lab/private/api_key', '{"token":"abc123"}']]],
      [tcp(mosquittos['mosquitto anonymous + password file + ACL'], asAdmin), [['public/weather', '{"temperature":12.5}'], ['team/roster', 'alice,bob'], ['ops/secret', 'x']]],
      [tcp(mosquittos['mosquitto default login only'], { username: 'mqtt', password: 'mqtt' }), [['factory/press/state', 'idle']]],
      [tcp(mosquittos['mosquitto TLS, trusted CA, password file'], tlsTo(mosquittos['mosquitto TLS, trusted CA, password file'])), [['secure/boiler/temperature', '{"temperature":61.2}']]],
      [tcp(mosquittos['mosquitto TLS, untrusted CA, password file'], tlsTo(mosquittos['mosquitto TLS, untrusted CA, password file'])), [['untrusted/pump/state', 'on']]],
      [tcp(aedes), [['aedes/status', 'online'], ['aedes/sensor/humidity', '{"humidity":55}']]],
      // The same brokers' TCP listeners: the WebSocket scans must hear these.
      [tcp(aedesWs), [['browser/dashboard/temperature', '{"temperature":22.5}']]],
      [tcp(aedesWss, { protocol: 'mqtts', ca: readFileSync(certs.ca), ...asAdmin }), [['browser/secure/state', 'armed']]],
      [tcp(mosquittos[LIMITED], { protocol: 'mqtts', ca: readFileSync(certs.ca) }), [['small/valve/state', 'closed']]],
    ];
    await Promise.all(publish.map(async ([opts, topics]) => {
      const client = await mqtt.connectAsync(opts);
      for (const [topic, payload] of topics) await client.publishAsync(topic, payload, { qos: 1, retain: true });
      await client.endAsync();
    }));

    for (const [name, b] of Object.entries(mosquittos)) names[`${HOST}:${b.port}`] = name;
    names[`${HOST}:${aedes.port}`] = 'aedes';
    names[`${HOST}:${aedesWs.websocketPort}`] = 'aedes ws /mqtt';
    names[`${HOST}:${aedesWss.websocketPort}`] = 'aedes wss /ws, password, trusted CA';
    names[`${HOST}:${http.port}`] = 'HTTP server';
    names[`${HOST}:${closed}`] = 'closed port';
    const main = Object.entries(mosquittos).filter(([name]) => name !== LIMITED).map(([, b]) => b.port);
    ports = [...main, aedes.port, aedesWs.websocketPort!, aedesWss.websocketPort!, http.port, closed].sort((a, b) => a - b);
  });

  afterEach(async () => {
    await helper.unload();
  });

  after(async () => {
    await Promise.all([...Object.values(mosquittos).map((b) => b.stop()), aedes?.stop(), aedesWs?.stop(), aedesWss?.stop(), http?.close()]);
    certs?.remove();
  });

  /** mqtt-scan as a user runs it (a child process, never blocking this process's brokers). */
  function runCli(scanPorts: number[], plaintext: boolean): Promise<ScanResult[]> {
    const args = [
      CLI, '--target', HOST, '--ports', scanPorts.join(','), '--json',
      '--user', USER, '--password-env', 'MQTTSEC_CMP_PASSWORD', '--tls-ca', certs!.ca,
      '--listen', String(LISTEN_S), '--write-test', '--try-defaults', '--timeout', String(TIMEOUT_MS),
      '--concurrency', String(SWEEP_CONCURRENCY), '--probe-concurrency', String(PROBE_CONCURRENCY),
      ...(plaintext ? ['--send-credentials-plaintext'] : []),
    ];
    return new Promise((res, rej) => {
      execFile(process.execPath, args, { env: { ...process.env, MQTTSEC_CMP_PASSWORD: PASSWORD }, timeout: 30_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) return rej(new Error(`mqtt-scan failed: ${err.message}\n${stderr}`));
        res(JSON.parse(stdout) as ScanResult[]);
      });
    });
  }

  /** The shipped flows' chain, deployed, with the same settings as the CLI run. */
  async function runFlow(scanPorts: number[], plaintext: boolean): Promise<ScanResult[]> {
    const flow: FlowNode[] = [
      { id: 'tab', type: 'tab', label: 'cli-vs-flow' },
      ...[
        { id: 'creds', type: 'mqttsec-credentials', name: 'scan login' },
        { id: 'ca', type: 'tls-config', name: 'test CA', cert: '', key: '', ca: certs!.ca, certname: '', keyname: '', caname: '', servername: '', verifyservercert: false },
        { id: 'expander', type: 'mqttsec-target-expander', targets: HOST, ports: '1883', maxTargets: 4096, batchSize: 4096, allowPublic: false, wires: [['probe']] },
        {
          id: 'probe', type: 'mqttsec-broker-probe', auth: 'creds', tls: 'ca', timeout: TIMEOUT_MS, concurrency: SWEEP_CONCURRENCY, probeConcurrency: PROBE_CONCURRENCY,
          transport: 'auto', versions: 'both', tlsPorts: '443,8081,8084,8443,8883-8887', tryDefaults: true,
          // The CLI lists closed ports of a small scan (includeUnreachable 'auto'): so does this probe.
          emitUnreachable: true, sendCredentialsPlaintext: plaintext, wires: [['inspector']],
        },
        { id: 'inspector', type: 'mqttsec-tls-inspector', tls: 'ca', timeout: TIMEOUT_MS, checkVersions: true, checkCiphers: true, wires: [['sniffer']] },
        {
          id: 'sniffer', type: 'mqttsec-topic-sniffer', auth: 'creds', tls: 'ca', listen: LISTEN_S, subscriptions: '#, $SYS/#', sampleChars: 100, maxTopics: 500,
          concurrency: 8, writeTest: true, live: false, outputs: 1, sendCredentialsPlaintext: plaintext, wires: [['risk']],
        },
        { id: 'risk', type: 'mqttsec-risk-classifier', rules: [], wires: [['out']] },
        { id: 'out', type: 'helper' },
        { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper' },
      ].map((n) => ({ z: 'tab', ...n }) as FlowNode),
    ];
    await load(CHAIN, flow, { creds: { username: USER, password: PASSWORD } });
    const errors: Msg[] = [];
    helper.getNode('caught').on('input', (m: Msg) => errors.push(m));
    const done = collect('out', (msgs) => msgs.some((m) => m.complete === true), 30_000);
    helper.getNode('expander').receive({ payload: { targets: HOST, ports: scanPorts.join(',') } });
    const msgs = await done;
    assert.deepEqual(errors.map((m) => (m.error as { message?: string })?.message), [], 'no node of the flow reported an error');
    return msgs.filter((m) => m.complete !== true).map((m) => m.payload as ScanResult);
  }

  /** Scans the ports both ways, one after the other (never two scans on a broker at once), and
   *  fails naming every field that differs, with both values. */
  async function compare(scanPorts: number[], plaintext: boolean, tag: string): Promise<void> {
    const cli = await runCli(scanPorts, plaintext);
    const flow = await runFlow(scanPorts, plaintext);
    if (process.env.MQTTSEC_CMP_DUMP) {
      // For a look at both sides: MQTTSEC_CMP_DUMP=/some/dir keeps the raw results there.
      for (const [side, results] of [['cli', cli], ['flow', flow]] as const) {
        writeFileSync(join(process.env.MQTTSEC_CMP_DUMP, `${side}-${tag}.json`), JSON.stringify({ names, results }, null, 2));
      }
    }
    // A target only one side reported is a difference ("result") with the rest.
    const diffs = diffVerdicts(cli, flow, names);
    assert.equal(diffs.length, 0, `the CLI and the flow differ in ${diffs.length} field(s):\n${formatDiffs(diffs, ['cli ', 'flow'])}`);
    // And the comparison was not of two empty (or equally short) lists.
    assert.deepEqual(cli.map((r) => r.port).sort((a, b) => a - b), scanPorts, 'every target is in the results');
    // The WebSocket brokers were found as such (so their fields were compared, not two not_mqtt).
    const at = (port: number | undefined) => cli.find((r) => r.port === port);
    if (aedesWs && scanPorts.includes(aedesWs.websocketPort!)) {
      const ws = at(aedesWs.websocketPort);
      assert.deepEqual([ws?.transport, ws?.websocketPath, ws?.classification, ws?.topics?.count], ['ws', '/mqtt', 'open_or_auth_ok', 1], 'aedes ws');
      const wss = at(aedesWss!.websocketPort);
      assert.deepEqual([wss?.transport, wss?.websocketPath, wss?.auth.givenCredentials.outcome], ['wss', '/ws', 'accepted'], 'aedes wss');
    }
  }

  it('every broker gets the same verdict, field by field (without the plain-text opt-in)', async () => {
    await compare(ports, false, 'default');
  });

  it('every broker gets the same verdict, field by field (with --send-credentials-plaintext / the nodes\' opt-in)', async () => {
    await compare(ports, true, 'plaintext');
  });

  // A TLS broker that takes at most three clients at once (mosquitto max_connections, as small
  // brokers on constrained devices are set up). The verdict must not depend on how many
  // connections a way of scanning opens at once: a made-up login that got no answer because the
  // broker was full is not the broker's answer.
  it('a TLS broker with a small connection limit gets the same verdict both ways', async () => {
    await compare([mosquittos[LIMITED].port], false, 'limited');
  });
});
