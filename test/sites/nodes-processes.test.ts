// Many sites with the Node-RED nodes in SEPARATE Node-RED processes (issue 20): three agent
// runtimes (test/support/node-red-child.ts: the real `node-red` module, our package installed in
// a temp user dir, the flow deployed through the admin API as the editor deploys it), two on the
// north site and one on the south, and a site coordinator in this process (node-red-node-test-
// helper) whose results go through the real risk classifier and report writer. The broker between
// them is a real Mosquitto from the shipped brokers/sites config (TLS, a login each, the shipped
// ACL); the scanned brokers are real Mosquitto listeners on north 127.0.72.0/24 and south
// 127.0.73.0/24. Every packet stays on loopback; every child is stopped by pid.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { collect, helper, load, NODES, core, type FlowNode } from '../nodes/node-red';
import { runScan } from '../../lib/pipeline';
import type { ScanResult } from '../../lib/types';
import { randomPassword } from '../../lab/passwords';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto';
import { freePorts } from '../support/ports';
import { requireTool } from '../support/tools';
import { delay } from '../support/waiting';
import { keysOf, siteVerdict } from '../support/sites';

type Msg = Record<string, unknown>;
const ROOT = resolve(__dirname, '../..');
const CHILD = join(ROOT, 'test/support/node-red-child.ts');
const SHIPPED_ACL = readFileSync(join(ROOT, 'brokers/sites/acl'), 'utf8');
const NODE_MODULES = [
  NODES.credentials, NODES.tls, NODES.catch, NODES.classifier, core('common/25-status.js'),
  require('../../dist/nodes/mqttsec-site-broker.js'), require('../../dist/nodes/mqttsec-site-coordinator.js'), require('../../dist/nodes/mqttsec-report-writer.js'),
];
const { sharedHistory } = require('../../dist/lib/history') as typeof import('../../lib/history');

const NORTH = '127.0.72.0/24';
const SOUTH = '127.0.73.0/24';
const ANONYMOUS_HOSTS = ['127.0.72.1', '127.0.72.2', '127.0.73.1'];
const LOGIN_HOSTS = ['127.0.72.3'];
const TARGETS = '127.0.72.1-4,127.0.73.1-2';
const TARGET_HOSTS = ['127.0.72.1', '127.0.72.2', '127.0.72.3', '127.0.72.4', '127.0.73.1', '127.0.73.2'];
const SCAN = { listenMs: 300, timeoutMs: 1000 };
/** A child Node-RED ends by itself after this, whatever happens to the test. */
const CHILD_MAX_MS = 240_000;

interface AgentProcess {
  login: string;
  site: string;
  child: ChildProcess;
  pid: number;
  port: number;
  userDir: string;
  output: () => string;
}

describe('sites: agent nodes in separate Node-RED processes, a coordinator node, a real Mosquitto (issue 20)', function () {
  this.timeout(240_000);
  let hub: MosquittoBroker;
  let anonymous: MosquittoBroker;
  let withLogin: MosquittoBroker;
  let ports: string;
  let reportsDir: string;
  let watcher: MqttClient;
  const passwords: Record<string, string> = {};
  const scannedPassword = randomPassword();
  const credentialSecret = randomBytes(16).toString('hex');
  const agents = new Map<string, AgentProcess>();
  const seen: Array<{ topic: string; payload: string }> = [];
  /** The agents' state by login, from their retained status on the hub. */
  const agentState = new Map<string, string>();

  const hubUrl = () => `mqtts://127.0.0.1:${hub.port}`;

  async function waitFor(what: string, ms: number, cond: () => boolean, more: () => string = () => ''): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms ${more()}`);
      await delay(50);
    }
  }

  /** A Node-RED process with the agent flow deployed through its admin API. */
  async function startAgent(login: string, site: string, scope: string, port: number): Promise<AgentProcess> {
    const userDir = mkdtempSync(join(tmpdir(), `mqttsec-nr-${login}-`));
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', CHILD, JSON.stringify({ userDir, port, credentialSecret, maxMs: CHILD_MAX_MS })], {
      cwd: ROOT, env: { ...process.env, TS_NODE_PROJECT: join(ROOT, 'tsconfig.test.json') }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out = (out + c.toString('utf8')).slice(-40_000)));
    child.stderr!.on('data', (c: Buffer) => (out = (out + c.toString('utf8')).slice(-40_000)));
    const guard = () => child.kill('SIGKILL');
    process.once('exit', guard);
    child.once('exit', () => process.off('exit', guard));
    const agent: AgentProcess = { login, site, child, pid: child.pid!, port, userDir, output: () => out.slice(-3000) };
    agents.set(login, agent);
    await waitFor(`Node-RED of ${login} started`, 60_000, () => out.includes(`READY ${port}`) || child.exitCode !== null, agent.output);
    assert.equal(child.exitCode, null, `Node-RED of ${login} exited: ${agent.output()}`);
    const flow = [
      { id: 'tab', type: 'tab', label: `agent ${login}` },
      { id: 'hubTls', type: 'tls-config', z: 'tab', name: '', cert: '', key: '', ca: hub.caPath!, certname: '', keyname: '', caname: '', servername: '', verifyservercert: true },
      { id: 'siteBroker', type: 'mqttsec-site-broker', z: 'tab', name: '', url: hubUrl(), tls: 'hubTls', sessionExpiry: '30', clientId: `proc-${login}`, credentials: { username: login, password: passwords[login] } },
      { id: 'labLogin', type: 'mqttsec-credentials', z: 'tab', name: 'lab', credentials: { username: 'scanner', password: scannedPassword } },
      { id: 'agent', type: 'mqttsec-site-agent', z: 'tab', name: '', broker: 'siteBroker', site, scope, login1: 'labLogin', login2: '', login3: '', login4: '', concurrency: '1', tls: '', sendCredentialsPlaintext: false, allowPublic: false, x: 200, y: 100, wires: [['events']] },
      { id: 'events', type: 'debug', z: 'tab', name: 'agent events', active: true, tosidebar: false, console: true, tostatus: false, complete: 'payload', targetType: 'msg', x: 420, y: 100, wires: [] },
    ];
    const res = await fetch(`http://127.0.0.1:${port}/flows`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify(flow), signal: AbortSignal.timeout(15_000),
    });
    assert.ok(res.ok, `deploy to ${login}: HTTP ${res.status} ${await res.text()}`);
    await waitFor(`agent ${login} online`, 30_000, () => agentState.get(login) === 'online', agent.output);
    return agent;
  }

  async function stopAgent(a: AgentProcess): Promise<void> {
    if (a.child.exitCode === null && a.child.signalCode === null) {
      const exited = new Promise<void>((r) => a.child.once('exit', () => r()));
      process.kill(a.pid, 'SIGTERM');
      const timer = setTimeout(() => a.child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(a.userDir, { recursive: true, force: true });
  }

  /** The coordinator flow in this process: coordinator -> classifier -> report writer. */
  async function loadCoordinator(): Promise<void> {
    const nodes: FlowNode[] = [
      { id: 'f', type: 'tab', label: 'coordinator' },
      { id: 'hubTls', type: 'tls-config', z: 'f', ca: hub.caPath!, cert: '', key: '', verifyservercert: true },
      { id: 'brokerC', type: 'mqttsec-site-broker', z: 'f', url: hubUrl(), tls: 'hubTls', sessionExpiry: '30', clientId: 'proc-coordinator' },
      {
        id: 'coord', type: 'mqttsec-site-coordinator', z: 'f', broker: 'brokerC', sites: `north = ${NORTH}\nsouth = ${SOUTH}`, targets: TARGETS, ports,
        credentialsName: 'lab', timeout: SCAN.timeoutMs, listen: SCAN.listenMs / 1000, shardTargets: '2', lease: '4', claimWait: '3', agentsWait: '15', deadline: '120',
        wires: [['risk', 'results'], ['events']],
      },
      { id: 'risk', type: 'mqttsec-risk-classifier', z: 'f', rules: [], wires: [['writer']] },
      { id: 'writer', type: 'mqttsec-report-writer', z: 'f', directory: reportsDir, pdf: false, csv: false, json: true, history: true, wires: [['written']] },
      { id: 'results', type: 'helper', z: 'f' },
      { id: 'events', type: 'helper', z: 'f' },
      { id: 'written', type: 'helper', z: 'f' },
      { id: 'catcher', type: 'catch', z: 'f', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'f' },
    ];
    await load(NODE_MODULES, nodes, { brokerC: { username: 'coordinator', password: passwords.coordinator } });
  }

  /** Runs one scan through the coordinator node; the results, the events and the writer's message. */
  async function coordinatedScan(scanId: string, overrides: Msg, onEvent: (e: Msg) => void = () => undefined) {
    const events: Msg[] = [];
    helper.getNode('events').on('input', (m: Msg) => {
      events.push(m.payload as Msg);
      onEvent(m.payload as Msg);
    });
    const caught: Msg[] = [];
    helper.getNode('caught').on('input', (m: Msg) => caught.push(m));
    await waitFor('the coordinator sees every agent online', 20_000, () => {
      const online = events.filter((e) => e.type === 'agent' && (e.agent as Msg).state === 'online').map((e) => (e.agent as Msg).login);
      return [...agents.values()].filter((a) => agentState.get(a.login) === 'online').every((a) => online.includes(a.login));
    }, () => JSON.stringify(caught));
    const results = collect('results', (m) => m.some((x) => x.complete === true), 150_000);
    const written = collect('written', (m) => m.length === 1, 150_000);
    helper.getNode('coord').receive({ topic: `scan/${scanId}`, scanId, payload: { targets: TARGETS, ports }, sniff: { listen: SCAN.listenMs / 1000, writeTest: false }, ...overrides });
    const out = await results;
    const [report] = await written;
    assert.deepEqual(caught, []);
    const complete = out.pop()!;
    return { results: out.map((m) => m.payload as ScanResult), complete, report, events };
  }

  function expectedKeys(): string[] {
    return TARGET_HOSTS.flatMap((h) => ports.split(',').map((p) => `${h}:${p}`)).sort();
  }

  before(async function () {
    requireTool(this, 'mosquitto');
    for (const login of ['coordinator', 'north-1', 'north-2', 'south-1', 'watcher']) passwords[login] = randomPassword();
    hub = await startMosquitto('sites', { users: passwords, acl: `${SHIPPED_ACL}\nuser watcher\ntopic read #\n` });
    const [brokerPort, closedPort, ...adminPorts] = await freePorts(5);
    ports = `${brokerPort},${closedPort}`;
    anonymous = await startMosquitto({ conf: ANONYMOUS_HOSTS.map(() => 'listener 1883').join('\n') + '\nallow_anonymous true\n' }, {
      ports: ANONYMOUS_HOSTS.map(() => brokerPort), listenerHosts: ANONYMOUS_HOSTS,
    });
    withLogin = await startMosquitto({ conf: LOGIN_HOSTS.map(() => 'listener 1883').join('\n') + '\nallow_anonymous false\npassword_file passwords\n' }, {
      ports: LOGIN_HOSTS.map(() => brokerPort), listenerHosts: LOGIN_HOSTS, users: { scanner: scannedPassword },
    });
    reportsDir = mkdtempSync(join(tmpdir(), 'mqttsec-site-processes-'));
    watcher = await mqtt.connectAsync(hubUrl(), { protocolVersion: 5, username: 'watcher', password: passwords.watcher, ca: readFileSync(hub.caPath!), reconnectPeriod: 500 });
    watcher.on('error', () => undefined);
    watcher.on('message', (topic, payload) => {
      const text = payload.toString('utf8');
      seen.push({ topic, payload: text });
      const m = /^mqttsec\/agents\/[^/]+\/([^/]+)$/.exec(topic);
      if (m && text) agentState.set(m[1], (JSON.parse(text) as { state: string }).state);
    });
    await watcher.subscribeAsync('#', { qos: 1 });
    await Promise.all([
      startAgent('north-1', 'north', NORTH, adminPorts[0]),
      startAgent('north-2', 'north', NORTH, adminPorts[1]),
      startAgent('south-1', 'south', SOUTH, adminPorts[2]),
    ]);
  });

  afterEach(() => helper.unload());

  after(async () => {
    await Promise.all([...agents.values()].map((a) => stopAgent(a)));
    await watcher?.endAsync(true).catch(() => undefined);
    await Promise.all([hub, anonymous, withLogin].map((b) => b?.stop()));
    if (reportsDir) rmSync(reportsDir, { recursive: true, force: true });
  });

  it('a deployed agent flow keeps its passwords out of the exported flow, the credentials API and flows.json', async () => {
    const a = agents.get('north-1')!;
    const flows = await (await fetch(`http://127.0.0.1:${a.port}/flows`, { signal: AbortSignal.timeout(10_000) })).text();
    assert.ok(flows.includes('"mqttsec-site-agent"') && flows.includes('"mqttsec-site-broker"'), 'the flow is there');
    const creds = await (await fetch(`http://127.0.0.1:${a.port}/credentials/mqttsec-site-broker/siteBroker`, { signal: AbortSignal.timeout(10_000) })).json() as Msg;
    assert.deepEqual(creds, { username: 'north-1', has_password: true }, 'the editor gets the login and whether a password is set, never the password');
    const labCreds = await (await fetch(`http://127.0.0.1:${a.port}/credentials/mqttsec-credentials/labLogin`, { signal: AbortSignal.timeout(10_000) })).json() as Msg;
    assert.deepEqual(labCreds, { username: 'scanner', has_password: true });
    const onDisk = readFileSync(join(a.userDir, 'flows.json'), 'utf8');
    const credFile = readFileSync(join(a.userDir, 'flows_cred.json'), 'utf8');
    assert.ok(onDisk.includes('mqttsec-site-agent'));
    assert.ok((JSON.parse(credFile) as Msg).$, 'the credentials file is encrypted');
    for (const s of [passwords['north-1'], scannedPassword]) {
      assert.ok(!flows.includes(s), 'no password in GET /flows (the export)');
      assert.ok(!onDisk.includes(s), 'no password in flows.json');
      assert.ok(!credFile.includes(s), 'no password in clear in flows_cred.json');
    }
  });

  it('a coordinated scan over three agent processes on two sites: every broker once, with the verdicts of a local scan, into the report and the history', async () => {
    await loadCoordinator();
    const scanId = 'processes-1';
    const { results, complete, report, events } = await coordinatedScan(scanId, { scanSource: 'api' });
    assert.deepEqual(keysOf(results), expectedKeys(), 'each target once, none missing');
    assert.equal(complete.complete, true);
    const local = await runScan({ targets: TARGETS, ports, credentials: { username: 'scanner', password: scannedPassword }, ...SCAN });
    assert.deepEqual(keysOf(local.results), expectedKeys());
    const byKey = new Map(local.results.map((r) => [`${r.host}:${r.port}`, r]));
    for (const r of results) assert.deepEqual(siteVerdict(r), siteVerdict(byKey.get(`${r.host}:${r.port}`)!), `${r.host}:${r.port}`);
    const brokerPort = Number(ports.split(',')[0]);
    for (const h of ANONYMOUS_HOSTS) assert.equal(results.find((r) => r.host === h && r.port === brokerPort)?.classification, 'open_or_auth_ok', h);
    for (const h of LOGIN_HOSTS) assert.equal(results.find((r) => r.host === h && r.port === brokerPort)?.classification, 'not_authorized', h);
    // What reached the report writer, and the history.
    const json = JSON.parse(readFileSync((report.payload as { files: { json: string } }).files.json, 'utf8')) as { results: ScanResult[] };
    assert.deepEqual(keysOf(json.results), expectedKeys());
    const stored = (await sharedHistory(null)).get(scanId);
    assert.ok(stored);
    assert.equal(stored.source, 'api');
    assert.deepEqual(keysOf((stored.report as { results: ScanResult[] }).results), expectedKeys());
    const end = events.find((e) => e.type === 'end') as { sites: Record<string, { shards: number; done: number; agents: string[] }>; notDoneCount: number };
    assert.equal(end.notDoneCount, 0);
    assert.equal(end.sites.north.done, end.sites.north.shards);
    assert.deepEqual(end.sites.south, { shards: 2, done: 2, agents: ['south-1'] });
  });

  it('an agent process killed (SIGKILL, by pid) mid-scan: its shard goes to the other north agent, nothing missing or twice', async () => {
    await loadCoordinator();
    const victim = agents.get('north-1')!;
    let killed: Msg | null = null;
    const { results, events } = await coordinatedScan('processes-kill', {
      // One host per shard and a longer listen: the victim is mid-shard when it dies.
      sniff: { listen: 1.5, writeTest: false },
    }, (e) => {
      const shard = e.shard as { state: string; holder?: string; shard: number } | undefined;
      if (!killed && e.type === 'shard' && shard?.state === 'held' && shard.holder === 'north-1') {
        killed = shard;
        process.kill(victim.pid, 'SIGKILL');
      }
    });
    assert.ok(killed, 'north-1 held a shard and was killed');
    await waitFor('north-1 exited', 10_000, () => victim.child.exitCode !== null || victim.child.signalCode !== null);
    assert.equal(victim.child.signalCode, 'SIGKILL');
    assert.deepEqual(keysOf(results), expectedKeys(), 'each target once, none missing');
    const end = events.find((e) => e.type === 'end') as { notDoneCount: number; duplicates: number };
    assert.equal(end.notDoneCount, 0);
    const shardEvents = events.filter((e) => e.type === 'shard').map((e) => e.shard as { shard: number; state: string; holder?: string; attempts: number; problems: string[] });
    const again = shardEvents.filter((s) => s.shard === (killed as unknown as { shard: number }).shard && s.state === 'done').pop()!;
    assert.ok(again, 'the victim\'s shard was done');
    assert.ok(again.attempts >= 2, `published again (attempts ${again.attempts})`);
    assert.notEqual(again.holder, 'north-1');
    assert.ok(again.problems.some((p) => /north-1 was silent past its lease/.test(p)), again.problems.join('; '));
    // Its last will said offline.
    await waitFor('north-1 offline (last will)', 15_000, () => agentState.get('north-1') === 'offline');
  });

  it('no secret crossed the broker: no password of an agent, the coordinator or a scanned broker in any payload', () => {
    assert.ok(seen.some((m) => m.topic.startsWith('mqttsec/results/') && m.payload.includes('"type":"result"')), 'results were among them');
    assert.ok(seen.some((m) => m.topic.endsWith('/jobs') && m.payload.includes('"credentialsName":"lab"')), 'jobs named the login');
    for (const [owner, secret] of Object.entries({ ...passwords, scanned: scannedPassword })) {
      const leak = seen.find((m) => m.payload.includes(secret) || m.topic.includes(secret));
      assert.equal(leak, undefined, `the password of ${owner} appeared on ${leak?.topic}`);
    }
  });
});
