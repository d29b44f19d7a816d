// The sites nodes (issue 20) in a real Node-RED runtime (node-red-node-test-helper): two site
// agents and a site coordinator connected through a real Mosquitto run from the shipped
// brokers/sites config (TLS, a login each, the shipped ACL), scanning real Mosquitto brokers on
// two sites' loopback ranges: north 127.0.70.0/24, south 127.0.71.0/24 (127.0.72.1 is in no
// site's scope; nothing listens there). The coordinator's results go through the real risk
// classifier and report writer, and the scan reaches the history. Also: the settings' errors
// name the field, the close handlers end the agents (offline), no password in any message.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { collect, core, helper, load, NODES, type FlowNode } from './node-red';
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
const SHIPPED_ACL = readFileSync(join(ROOT, 'brokers/sites/acl'), 'utf8');
const SITE_BROKER = require('../../dist/nodes/mqttsec-site-broker.js');
const AGENT = require('../../dist/nodes/mqttsec-site-agent.js');
const COORDINATOR = require('../../dist/nodes/mqttsec-site-coordinator.js');
const WRITER = require('../../dist/nodes/mqttsec-report-writer.js');
const STATUS = core('common/25-status.js');
const ALL = [NODES.credentials, NODES.tls, NODES.catch, NODES.classifier, STATUS, SITE_BROKER, AGENT, COORDINATOR, WRITER];
// The report writer's history: the dist module the node uses (no user dir: one in memory).
const { sharedHistory } = require('../../dist/lib/history') as typeof import('../../lib/history');

const NORTH = '127.0.70.0/24';
const SOUTH = '127.0.71.0/24';
const ANONYMOUS_HOSTS = ['127.0.70.1', '127.0.71.1'];
const LOGIN_HOSTS = ['127.0.70.2'];
/** 3 + 2 hosts with brokers or nothing, and one address in no site's scope. */
const TARGETS = '127.0.70.1-3,127.0.71.1-2';
const TARGET_HOSTS = ['127.0.70.1', '127.0.70.2', '127.0.70.3', '127.0.71.1', '127.0.71.2'];
const SCAN = { listenMs: 300, timeoutMs: 1000 };
const ERROR_LEVEL = 20;

describe('nodes: site agent and site coordinator through a real Mosquitto (issue 20)', function () {
  this.timeout(180_000);
  let hub: MosquittoBroker;
  let anonymous: MosquittoBroker;
  let withLogin: MosquittoBroker;
  let ports: string;
  let reportsDir: string;
  const passwords: Record<string, string> = {};
  const scannedPassword = randomPassword();

  function secrets(): string[] {
    return [...Object.values(passwords), scannedPassword];
  }

  /** The flow: a site broker config node per login, the agents, the coordinator -> classifier -> writer. */
  function flow(extra: { agents?: boolean; coordinator?: Partial<FlowNode> } = {}): { nodes: FlowNode[]; credentials: Record<string, unknown> } {
    const broker = (id: string) => ({ id, type: 'mqttsec-site-broker', z: 'f', url: `mqtts://127.0.0.1:${hub.port}`, tls: 'hubTls', sessionExpiry: '30', clientId: `test-${id}` });
    const nodes: FlowNode[] = [
      { id: 'f', type: 'tab', label: 'sites' },
      { id: 'hubTls', type: 'tls-config', z: 'f', ca: hub.caPath!, cert: '', key: '', verifyservercert: true },
      broker('brokerC'),
      { id: 'labLogin', type: 'mqttsec-credentials', z: 'f', name: 'lab' },
      {
        id: 'coord', type: 'mqttsec-site-coordinator', z: 'f', broker: 'brokerC', sites: `north = ${NORTH}\nsouth = ${SOUTH}`, targets: TARGETS, ports,
        credentialsName: 'lab', timeout: SCAN.timeoutMs, listen: SCAN.listenMs / 1000, shardTargets: '4', lease: '4', claimWait: '3', agentsWait: '10', deadline: '90',
        wires: [['risk', 'results'], ['events']], ...extra.coordinator,
      },
      { id: 'risk', type: 'mqttsec-risk-classifier', z: 'f', rules: [], wires: [['writer']] },
      { id: 'writer', type: 'mqttsec-report-writer', z: 'f', directory: reportsDir, pdf: false, csv: false, json: true, history: true, wires: [['written']] },
      { id: 'results', type: 'helper', z: 'f' },
      { id: 'events', type: 'helper', z: 'f' },
      { id: 'written', type: 'helper', z: 'f' },
      { id: 'agentEvents', type: 'helper', z: 'f' },
      { id: 'catcher', type: 'catch', z: 'f', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'f' },
      { id: 'statuses', type: 'status', z: 'f', scope: null, wires: [['status']] },
      { id: 'status', type: 'helper', z: 'f' },
    ];
    const credentials: Record<string, unknown> = {
      brokerC: { username: 'coordinator', password: passwords.coordinator },
      labLogin: { username: 'scanner', password: scannedPassword },
    };
    if (extra.agents !== false) {
      nodes.push(broker('brokerN'), broker('brokerS'));
      nodes.push({ id: 'agentN', type: 'mqttsec-site-agent', z: 'f', broker: 'brokerN', site: 'north', scope: NORTH, login1: 'labLogin', concurrency: '1', wires: [['agentEvents']] });
      nodes.push({ id: 'agentS', type: 'mqttsec-site-agent', z: 'f', broker: 'brokerS', site: 'south', scope: SOUTH, login1: 'labLogin', concurrency: '1', wires: [['agentEvents']] });
      credentials.brokerN = { username: 'north-1', password: passwords['north-1'] };
      credentials.brokerS = { username: 'south-1', password: passwords['south-1'] };
    }
    return { nodes, credentials };
  }

  /** The retained status of an agent on the hub, as a new subscriber reads it. */
  async function retainedStatus(site: string, login: string): Promise<Record<string, unknown> | null> {
    const c = await mqtt.connectAsync(`mqtts://127.0.0.1:${hub.port}`, { protocolVersion: 5, username: 'watcher', password: passwords.watcher, ca: readFileSync(hub.caPath!), reconnectPeriod: 0 });
    try {
      const got = new Promise<Record<string, unknown> | null>((res) => {
        const timer = setTimeout(() => res(null), 3000);
        c.on('message', (_t, payload) => {
          clearTimeout(timer);
          res(JSON.parse(payload.toString('utf8')) as Record<string, unknown>);
        });
      });
      await c.subscribeAsync(`mqttsec/agents/${site}/${login}`, { qos: 1 });
      return await got;
    } finally {
      await c.endAsync(true).catch(() => undefined);
    }
  }

  /** The end event follows the completion message (the other output): bounded wait for it. */
  async function waitForEnd(events: Msg[]): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!events.some((e) => e.type === 'end')) {
      assert.ok(Date.now() < deadline, 'an end event');
      await delay(20);
    }
  }

  function errorsLogged(): string[] {
    const spy = helper.log() as unknown as { args: Array<[{ level: number; msg: unknown }]> };
    return spy.args.filter(([e]) => e.level === ERROR_LEVEL).map(([e]) => String(e.msg));
  }

  before(async function () {
    requireTool(this, 'mosquitto');
    for (const login of ['coordinator', 'north-1', 'south-1', 'watcher']) passwords[login] = randomPassword();
    hub = await startMosquitto('sites', { users: passwords, acl: `${SHIPPED_ACL}\nuser watcher\ntopic read #\n` });
    const [brokerPort, closedPort] = await freePorts(2);
    ports = `${brokerPort},${closedPort}`;
    anonymous = await startMosquitto({ conf: ANONYMOUS_HOSTS.map(() => 'listener 1883').join('\n') + '\nallow_anonymous true\n' }, {
      ports: ANONYMOUS_HOSTS.map(() => brokerPort), listenerHosts: ANONYMOUS_HOSTS,
    });
    withLogin = await startMosquitto({ conf: LOGIN_HOSTS.map(() => 'listener 1883').join('\n') + '\nallow_anonymous false\npassword_file passwords\n' }, {
      ports: LOGIN_HOSTS.map(() => brokerPort), listenerHosts: LOGIN_HOSTS, users: { scanner: scannedPassword },
    });
    reportsDir = mkdtempSync(join(tmpdir(), 'mqttsec-site-nodes-'));
  });

  afterEach(() => helper.unload());

  after(async () => {
    await Promise.all([hub, anonymous, withLogin].map((b) => b?.stop()));
    if (reportsDir) rmSync(reportsDir, { recursive: true, force: true });
  });

  it('a scan over two sites: each broker once, the verdicts of a local scan, through the classifier and report writer into the history; no password in any message', async () => {
    const { nodes, credentials } = flow();
    await load(ALL, nodes, credentials);
    const seenAgentEvents: Msg[] = [];
    helper.getNode('agentEvents').on('input', (m: Msg) => seenAgentEvents.push(m));
    const events: Msg[] = [];
    helper.getNode('events').on('input', (m: Msg) => events.push(m));
    const statuses: Msg[] = [];
    helper.getNode('status').on('input', (m: Msg) => statuses.push(m));
    const caught: Msg[] = [];
    helper.getNode('caught').on('input', (m: Msg) => caught.push(m));
    // Both agents connected (their status says so), and the coordinator sees them online.
    const deadline = Date.now() + 20_000;
    while (seenAgentEvents.filter((m) => (m.payload as Msg).type === 'connected').length < 2 || events.filter((m) => (m.payload as Msg).type === 'agent' && ((m.payload as { agent: Msg }).agent.state === 'online')).length < 2) {
      assert.ok(Date.now() < deadline, `agents not online after 20 s: ${JSON.stringify(seenAgentEvents)} ${JSON.stringify(events)} ${JSON.stringify(caught)}`);
      await delay(50);
    }
    const scanId = 'site-nodes-1';
    const results = collect('results', (m) => m.some((x) => x.complete === true), 120_000);
    const written = collect('written', (m) => m.length === 1, 120_000);
    // The lab dashboard form's shape (lib/dashboard/form.ts startScan), and one address in no scope.
    helper.getNode('coord').receive({ topic: `scan/${scanId}`, scanId, payload: { targets: `${TARGETS},127.0.72.1`, ports }, sniff: { listen: SCAN.listenMs / 1000, writeTest: false }, scanSource: 'dashboard' });
    const out = await results;
    const [report] = await written;
    assert.deepEqual(caught, []);

    // Output 1: one message per host:port (closed ones too: a small scan lists them), then the completion.
    const complete = out.pop()!;
    assert.equal(complete.complete, true);
    assert.equal(complete.topic, `scan/${scanId}`);
    assert.equal(complete.scanId, scanId);
    assert.equal(complete.scanSource, 'dashboard', 'the request message\'s properties are carried on');
    const summary = complete.payload as { scanId: string; targets: number; reachability: Record<string, number> };
    assert.equal(summary.scanId, scanId);
    assert.equal(summary.targets, (TARGET_HOSTS.length + 1) * 2, 'the planned targets, the one in no scope included');
    const coordinated = out.map((m) => m.payload as ScanResult);
    for (const m of out) {
      assert.equal(m.scanId, scanId);
      assert.equal(m.topic, `${(m.payload as ScanResult).host}:${(m.payload as ScanResult).port}`);
      assert.deepEqual((m.scan as { specs: string[] }).specs, [...TARGETS.split(','), '127.0.72.1']);
    }
    const expected = TARGET_HOSTS.flatMap((h) => ports.split(',').map((p) => `${h}:${p}`)).sort();
    assert.deepEqual(keysOf(coordinated), expected, 'each target once, none missing, none outside the scopes');

    // The same verdicts as a local scan of the same targets.
    const local = await runScan({ targets: TARGETS, ports, credentials: { username: 'scanner', password: scannedPassword }, ...SCAN });
    assert.deepEqual(keysOf(local.results), expected);
    const byKey = new Map(local.results.map((r) => [`${r.host}:${r.port}`, r]));
    for (const r of coordinated) assert.deepEqual(siteVerdict(r), siteVerdict(byKey.get(`${r.host}:${r.port}`)!), `${r.host}:${r.port}`);
    const brokerPort = Number(ports.split(',')[0]);
    for (const h of ANONYMOUS_HOSTS) assert.equal(coordinated.find((r) => r.host === h && r.port === brokerPort)?.classification, 'open_or_auth_ok', h);
    for (const h of LOGIN_HOSTS) {
      const r = coordinated.find((x) => x.host === h && x.port === brokerPort)!;
      assert.equal(r.classification, 'not_authorized', h);
    }

    // The report writer wrote the scan and the history has it, every broker once.
    const files = (report.payload as { files: { json: string } }).files;
    const json = JSON.parse(readFileSync(files.json, 'utf8')) as { results: ScanResult[] };
    assert.deepEqual(keysOf(json.results), expected);
    const history = await sharedHistory(null);
    const stored = history.get(scanId);
    assert.ok(stored, 'the scan is in the history');
    assert.equal(stored.source, 'dashboard');
    assert.deepEqual(keysOf((stored.report as { results: ScanResult[] }).results), expected);
    for (const r of (stored.report as { results: ScanResult[] }).results) assert.deepEqual(siteVerdict(r), siteVerdict(byKey.get(`${r.host}:${r.port}`)!), `history ${r.host}:${r.port}`);

    // Output 2: the agents, the plan, the shards, progress per site, and the end of the scan.
    const types = new Set(events.map((m) => (m.payload as Msg).type));
    for (const t of ['agent', 'plan', 'shard', 'progress', 'end']) assert.ok(types.has(t), `an event of type ${t}: ${[...types].join(', ')}`);
    const end = events.find((m) => (m.payload as Msg).type === 'end')!.payload as { sites: Record<string, { shards: number; done: number; agents: string[] }>; notDoneCount: number; outside: string[]; outsideHosts: number };
    assert.deepEqual(end.sites, { north: { shards: 2, done: 2, agents: ['north-1'] }, south: { shards: 1, done: 1, agents: ['south-1'] } });
    assert.equal(end.notDoneCount, 0);
    assert.deepEqual(end.outside, ['127.0.72.1']);
    const progress = events.filter((m) => (m.payload as Msg).type === 'progress').pop()!.payload as { sites: Record<string, { shards: number; done: number }> };
    assert.deepEqual(progress.sites, {
      north: { shards: 2, done: 2, held: 0, notDone: 0, swept: 6, total: 6 },
      south: { shards: 1, done: 1, held: 0, notDone: 0, swept: 4, total: 4 },
    }, 'the last progress: every shard of both sites done');
    for (const m of events) assert.ok(JSON.stringify(m).length < 16_384, `bounded event: ${JSON.stringify(m).slice(0, 200)}`);

    // The agents said what they did: a job, running, done, per shard.
    const agentTypes = seenAgentEvents.map((m) => `${m.site}:${(m.payload as Msg).type}`);
    for (const t of ['north:running', 'north:done', 'south:running', 'south:done']) assert.ok(agentTypes.includes(t), `${t} in ${agentTypes.join(', ')}`);
    // The statuses the editor shows: agents running shards, the coordinator's shards done.
    const texts = statuses.map((m) => `${(m.status as { source: { id: string } }).source.id} ${(m.status as { text: string }).text}`);
    assert.ok(texts.some((t) => t.startsWith('agentN mqttsec-site-agent.status.running')), texts.join('\n'));
    assert.ok(texts.some((t) => t.startsWith('coord mqttsec-site-coordinator.status.scanning')), texts.join('\n'));
    const statusDeadline = Date.now() + 5000;
    while (!statuses.some((m) => (m.status as { source: { id: string }; text: string }).source.id === 'coord' && (m.status as { text: string }).text.startsWith('mqttsec-site-coordinator.status.done'))) {
      assert.ok(Date.now() < statusDeadline, texts.join('\n'));
      await delay(20);
    }

    // No password (the agents', the coordinator's, the scanned broker's) in any message that left a node.
    const everything = JSON.stringify([out, complete, report.payload, report.report, events, seenAgentEvents, statuses]);
    for (const s of secrets()) assert.ok(!everything.includes(s), 'a password appeared in a message');
    assert.ok(!JSON.stringify(nodes).includes(scannedPassword) && !JSON.stringify(nodes).includes(passwords.coordinator), 'the flow itself holds no password (they are credentials)');
  });

  it('a login the agents do not hold (msg.credentialsName) is refused by them, said in their status and events, and the shard reported not done', async () => {
    const { nodes, credentials } = flow();
    await load(ALL, nodes, credentials);
    const events: Msg[] = [];
    helper.getNode('events').on('input', (m: Msg) => events.push(m.payload as Msg));
    const agentEvents: Msg[] = [];
    helper.getNode('agentEvents').on('input', (m: Msg) => agentEvents.push(m.payload as Msg));
    const statuses: string[] = [];
    helper.getNode('status').on('input', (m: Msg) => statuses.push(`${(m.status as { source: { id: string } }).source.id} ${(m.status as { text: string }).text}`));
    const deadline = Date.now() + 20_000;
    while (events.filter((e) => e.type === 'agent' && (e.agent as Msg).state === 'online').length < 2) {
      assert.ok(Date.now() < deadline, 'agents online');
      await delay(50);
    }
    const results = collect('results', (m) => m.some((x) => x.complete === true), 60_000);
    helper.getNode('coord').receive({ scanId: 'site-nodes-refused', payload: { targets: '127.0.71.1', ports }, credentialsName: 'nobody' });
    const out = await results;
    assert.equal(out.length, 1, 'only the completion: nothing was scanned');
    await waitForEnd(events);
    const end = events.find((e) => e.type === 'end') as { notDoneCount: number; notDone: Array<{ refusals: Array<{ code: string; login: string; reason: string }> }> };
    assert.equal(end.notDoneCount, 1);
    const [refusal] = end.notDone[0].refusals;
    assert.deepEqual([refusal.code, refusal.login], ['credentials', 'south-1']);
    assert.match(refusal.reason, /holds no credentials named "nobody"/);
    const refused = agentEvents.find((e) => e.type === 'refused') as { code: string; reason: string } | undefined;
    assert.equal(refused?.code, 'credentials');
    assert.ok(statuses.some((s) => s.startsWith('agentS mqttsec-site-agent.status.refused')), statuses.join('\n'));
    const statusDeadline = Date.now() + 5000;
    while (!statuses.some((s) => s.startsWith('coord mqttsec-site-coordinator.status.notDone'))) {
      assert.ok(Date.now() < statusDeadline, statuses.join('\n'));
      await delay(20);
    }
  });

  it('closing the flow stops the agents: each publishes offline (retained) before the close ends', async () => {
    const { nodes, credentials } = flow();
    await load(ALL, nodes, credentials);
    const started = new Set<string>();
    helper.getNode('status').on('input', (m: Msg) => {
      const st = m.status as { text: string; source: { id: string } };
      if (st.text.startsWith('mqttsec-site-agent.status.connected')) started.add(st.source.id);
    });
    const deadline = Date.now() + 20_000;
    while (started.size < 2) {
      assert.ok(Date.now() < deadline, `both agents started: ${[...started].join(', ')}`);
      await delay(50);
    }
    assert.equal((await retainedStatus('north', 'north-1'))?.state, 'online');
    await helper.unload();
    assert.equal((await retainedStatus('north', 'north-1'))?.state, 'offline');
    assert.equal((await retainedStatus('south', 'south-1'))?.state, 'offline');
  });

  it('settings that cannot be used stop the node with the field named in its status and the log, never Node-RED', async () => {
    const { nodes, credentials } = flow({ agents: false, coordinator: { sites: 'north = 127.0.70.0/24\nNorth Pole = 127.0.71.0/24' } });
    const broker = (id: string, url = `mqtts://127.0.0.1:${hub.port}`) => ({ id, type: 'mqttsec-site-broker', z: 'f', url, tls: 'hubTls' });
    nodes.push(
      broker('plain', `mqtt://127.0.0.1:${hub.port}`), broker('nopass'), broker('good'),
      { id: 'unnamed', type: 'mqttsec-credentials', z: 'f', name: '' },
      { id: 'aUrl', type: 'mqttsec-site-agent', z: 'f', broker: 'plain', site: 'north', scope: NORTH, wires: [[]] },
      { id: 'aPass', type: 'mqttsec-site-agent', z: 'f', broker: 'nopass', site: 'north', scope: NORTH, wires: [[]] },
      { id: 'aSite', type: 'mqttsec-site-agent', z: 'f', broker: 'good', site: 'North!', scope: NORTH, wires: [[]] },
      { id: 'aScope', type: 'mqttsec-site-agent', z: 'f', broker: 'good', site: 'north', scope: '127.0.70.0/33', wires: [[]] },
      { id: 'aLogin', type: 'mqttsec-site-agent', z: 'f', broker: 'good', site: 'north', scope: NORTH, login1: 'unnamed', wires: [[]] },
      { id: 'aConc', type: 'mqttsec-site-agent', z: 'f', broker: 'good', site: 'north', scope: NORTH, concurrency: '17', wires: [[]] },
      { id: 'aNone', type: 'mqttsec-site-agent', z: 'f', broker: '', site: 'north', scope: NORTH, wires: [[]] },
    );
    Object.assign(credentials, {
      plain: { username: 'north-1', password: passwords['north-1'] },
      nopass: { username: 'north-1' },
      good: { username: 'north-1', password: passwords['north-1'] },
      unnamed: { username: 'scanner', password: scannedPassword },
    });
    await load(ALL, nodes, credentials);
    const errors = errorsLogged();
    const expect: Array<[string, RegExp]> = [
      ['aUrl', /url: .*needs TLS \(mqtts:\/\/\)/],
      ['aPass', /password: give the password/],
      ['aSite', /site: "North!" is not a site name/],
      ['aScope', /scope: .*127\.0\.70\.0\/33/],
      ['aLogin', /login1: give the credentials node a name/],
      ['aConc', /concurrency: "17" must be a whole number from 1 to 16/],
      ['aNone', /broker: choose the site broker/],
      ['coord', /sites: line 2: "North Pole" is not a site name/],
    ];
    for (const [, re] of expect) assert.ok(errors.some((e) => re.test(e)), `${re} in the log: ${errors.join('\n')}`);
    // The coordinator with bad sites answers a request with the same error (a Catch node gets it).
    const caught = collect('caught', (m) => m.length === 1, 5000);
    helper.getNode('coord').receive({ payload: {} });
    const [c] = await caught;
    assert.match(String((c.error as { message: string }).message), /sites: line 2/);
    // No password in the log.
    const log = JSON.stringify((helper.log() as unknown as { args: unknown[] }).args);
    for (const s of secrets()) assert.ok(!log.includes(s), 'a password in the log');
  });

  it('the shipped examples load: their only complaint is the login the user has to give', async () => {
    for (const file of ['examples/site-agent.json', 'examples/site-coordinator.json']) {
      // On a tab, as Import puts them (config nodes stay global).
      const nodes: FlowNode[] = [{ id: 'f', type: 'tab', label: file }, ...(JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as FlowNode[])
        .filter((n) => !['comment', 'inject', 'debug'].includes(n.type))
        .map((n) => (n.wires ? { ...n, z: 'f' } : n))];
      // helper nodes stand in for what the example wires to that is not loaded here.
      const ids = new Set(nodes.map((n) => n.id));
      for (const n of nodes) for (const out of (n.wires as string[][] | undefined) ?? []) for (const id of out) if (!ids.has(id)) nodes.push({ id, type: 'helper', z: 'f' });
      await load(ALL, nodes, {});
      const errors = errorsLogged();
      assert.ok(errors.length >= 1, `${file}: the missing login is said`);
      for (const e of errors) assert.match(e, /: username: give this node's own login on the broker$/, `${file}: ${e}`);
      await helper.unload();
    }
  });

  it('a request the coordinator cannot scan is an error of that message (a host name, an unknown site), nothing published', async () => {
    const { nodes, credentials } = flow({ agents: false });
    await load(ALL, nodes, credentials);
    const deadline = Date.now() + 15_000;
    const statuses: string[] = [];
    helper.getNode('status').on('input', (m: Msg) => statuses.push((m.status as { text: string }).text));
    while (!statuses.some((s) => s.startsWith('mqttsec-site-coordinator.status.ready'))) {
      assert.ok(Date.now() < deadline, `coordinator ready: ${statuses.join(', ')}`);
      await delay(50);
    }
    const caught = collect('caught', (m) => m.length === 3, 10_000);
    const coord = helper.getNode('coord');
    coord.receive({ payload: { targets: 'broker.example', ports: '1883' } });
    coord.receive({ payload: { targets: '127.0.70.1' }, sites: ['west'] });
    coord.receive({ payload: { targets: '127.0.70.1' }, scanId: 'not/an/id' });
    const errors = (await caught).map((m) => String((m.error as { message: string }).message));
    assert.ok(errors.some((e) => /host names are not taken/.test(e)), errors.join('\n'));
    assert.ok(errors.some((e) => /"west" is not a site of this coordinator/.test(e)), errors.join('\n'));
    assert.ok(errors.some((e) => /not a scan id/.test(e)), errors.join('\n'));
  });

  it('two coordinator nodes with one login and no client id keep a session each (a shared id: they take it from each other)', async () => {
    /** Two coordinators on one login (brokers C and C2), client ids `ids` ('' = the default): what
     *  went wrong in 3 s (a connection lost, a start the broker closed: red statuses). */
    const trouble = async (ids: [string, string]): Promise<string[]> => {
      const { nodes, credentials } = flow({ agents: false });
      const brokerC = nodes.find((n) => n.id === 'brokerC')!;
      brokerC.clientId = ids[0];
      const coord = nodes.find((n) => n.id === 'coord')!;
      nodes.push({ ...brokerC, id: 'brokerC2', clientId: ids[1] }, { ...coord, id: 'coord2', broker: 'brokerC2', wires: [[], ['events']] });
      credentials.brokerC2 = credentials.brokerC;
      await load(ALL, nodes, credentials);
      const seen: string[] = [];
      helper.getNode('events').on('input', (m: Msg) => {
        if ((m.payload as Msg)?.type === 'connection' && (m.payload as Msg).connected === false) seen.push('connection lost');
      });
      helper.getNode('status').on('input', (m: Msg) => {
        const st = m.status as { fill?: string; text?: string };
        if (st.fill === 'red') seen.push(String(st.text));
      });
      await delay(3000);
      await helper.unload();
      return seen;
    };
    // The defaults: secret and per node (defaultClientId with the node id in its salt).
    assert.deepEqual(await trouble(['', '']), [], 'nothing lost with the default client ids');
    // The control: one id on both (two nodes set to the same Client id): one takes the other's session.
    assert.ok((await trouble(['test-shared', 'test-shared'])).length > 0, 'the control: a shared client id takes the session from the other');
  });

  it('a coordinator whose broker cannot be reached says so in its status and refuses requests; its close still ends', async () => {
    const [unused] = await freePorts(1);
    const { nodes, credentials } = flow({ agents: false });
    (nodes.find((n) => n.id === 'brokerC') as Msg).url = `mqtts://127.0.0.1:${unused}`;
    await load(ALL, nodes, credentials);
    const errorDeadline = Date.now() + 15_000;
    while (!errorsLogged().some((e) => /cannot connect to the broker/.test(e))) {
      assert.ok(Date.now() < errorDeadline, `an error was logged: ${errorsLogged().join('\n')}`);
      await delay(50);
    }
    const caught = collect('caught', (m) => m.length === 1, 5000);
    helper.getNode('coord').receive({ payload: { targets: '127.0.70.1' } });
    assert.match(String(((await caught)[0].error as { message: string }).message), /notConnected/);
  });
  // Last: the cancelled scan's jobs that no agent took stay queued in the agents' sessions until
  // they expire (the scan's deadline), and an agent that starts again takes them first.
  it('msg.cancel stops a scan in progress: the completion says cancelled, the end event too', async () => {
    const { nodes, credentials } = flow();
    await load(ALL, nodes, credentials);
    const events: Msg[] = [];
    const coord = helper.getNode('coord');
    let cancelled = false;
    helper.getNode('events').on('input', (m: Msg) => {
      const e = m.payload as Msg;
      events.push(e);
      // Cancel as soon as an agent holds a shard (its listen window is 5 s).
      if (!cancelled && e.type === 'shard' && (e.shard as { state: string }).state === 'held') {
        cancelled = true;
        coord.receive({ cancel: true });
      }
    });
    const deadline = Date.now() + 20_000;
    while (events.filter((e) => e.type === 'agent' && (e.agent as Msg).state === 'online').length < 2) {
      assert.ok(Date.now() < deadline, 'agents online');
      await delay(50);
    }
    const results = collect('results', (m) => m.some((x) => x.complete === true), 60_000);
    coord.receive({ scanId: 'site-nodes-cancel', payload: { targets: TARGETS, ports }, sniff: { listen: 5, writeTest: false } });
    const out = await results;
    assert.ok(cancelled, 'a cancel was sent');
    const complete = out.pop()!;
    assert.equal((complete.payload as { cancelled?: boolean }).cancelled, true);
    await waitForEnd(events);
    const end = events.find((e) => e.type === 'end') as { cancelled: boolean; notDoneCount: number; notDone: Array<{ problems: string[] }> };
    assert.equal(end.cancelled, true);
    assert.ok(end.notDoneCount >= 1);
    assert.ok(end.notDone.every((s) => s.problems.includes('the scan was cancelled')), JSON.stringify(end.notDone));
  });
});
