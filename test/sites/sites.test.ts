// Many sites, one scan (issue 20): a coordinator and scan agents, the agents as separate
// processes (`mqtt-scan agent`, dist/), coordinated through a real Mosquitto run from the shipped
// brokers/sites config (TLS, a login per agent, the shipped ACL), scanning real Mosquitto brokers
// on two sites' loopback ranges: north 127.0.60.0/24, south 127.0.61.0/24 (127.0.62.0/24 and
// 127.0.63.0/24 are in no agent's scope; nothing listens there). Every packet stays on loopback.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { runScan } from '../../lib/pipeline';
import {
  ScanCoordinator, jobsTopic, reportTopic,
  type CoordinatedScanOutput, type CoordinatedScanRequest, type IgnoredReport, type ShardReport,
} from '../../lib/sites';
import type { ScanResult } from '../../lib/types';
import { randomPassword } from '../../lab/passwords';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto';
import { freePorts } from '../support/ports';
import { requireTool } from '../support/tools';
import { siteVerdict, startCliAgent, stopCliAgent, type CliAgent } from '../support/sites';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'dist/cli/index.js');
const SHIPPED_ACL = readFileSync(join(ROOT, 'brokers/sites/acl'), 'utf8');

const NORTH = '127.0.60.0/24';
const SOUTH = '127.0.61.0/24';
/** The brokers scanned: anonymous ones and ones that want a login, on both sites. */
const ANONYMOUS_HOSTS = ['127.0.60.1', '127.0.60.2', '127.0.61.1'];
const LOGIN_HOSTS = ['127.0.60.3', '127.0.61.2'];
/** 6 + 4 hosts: brokers, and addresses where nothing listens. */
const TARGETS = '127.0.60.1-6,127.0.61.1-4';
const TARGET_HOSTS = [1, 2, 3, 4, 5, 6].map((d) => `127.0.60.${d}`).concat([1, 2, 3, 4].map((d) => `127.0.61.${d}`));
/** Scan options small enough for a test, the same for the local scan they are compared with. */
const SCAN = { listenMs: 300, timeoutMs: 1000 };
const WAIT_MS = 60_000;

type Agent = CliAgent;

describe('sites: a coordinator and agents through a real Mosquitto (issue 20)', function () {
  this.timeout(180_000);
  let hub: MosquittoBroker;
  let anonymous: MosquittoBroker;
  let withLogin: MosquittoBroker;
  let brokerPort: number;
  let closedPort: number;
  let ports: string;
  const passwords: Record<string, string> = {};
  const scannedPassword = randomPassword();
  const agents = new Map<string, Agent>();
  let watcher: MqttClient;
  const seen: Array<{ topic: string; payload: string }> = [];

  function hubUrl(): string {
    return `mqtts://127.0.0.1:${hub.port}`;
  }

  function hubOptions(login: string) {
    return { url: hubUrl(), username: login, password: passwords[login], ca: readFileSync(hub.caPath!), sessionExpirySeconds: 30 };
  }

  async function startAgent(login: string, site: string, scope: string): Promise<Agent> {
    const agent = await startCliAgent(CLI, login, [
      '--broker', hubUrl(), '--site', site, '--scope', scope, '--user', login, '--password-env', 'AGENT_PASSWORD',
      '--ca', hub.caPath!, '--login', 'lab:scanner:SCANNED_PASSWORD', '--grant-wait', '5000', '--session-expiry', '8',
    ], { AGENT_PASSWORD: passwords[login], SCANNED_PASSWORD: scannedPassword });
    agents.set(login, agent);
    return agent;
  }

  const stopAgent = stopCliAgent;

  async function coordinator(sites: Record<string, string> = { north: NORTH, south: SOUTH }): Promise<ScanCoordinator> {
    const c = new ScanCoordinator({ broker: hubOptions('coordinator'), sites, clientId: `test-coordinator-${Object.keys(sites).join('-')}` });
    await c.start();
    const missing = await c.waitForAgents(Object.keys(sites), 10_000);
    assert.deepEqual(missing, [], 'every site has an online agent');
    return c;
  }

  function request(extra: Partial<CoordinatedScanRequest> = {}): CoordinatedScanRequest {
    return {
      targets: TARGETS, ports, credentialsName: 'lab', options: SCAN, shardTargets: 4,
      leaseMs: 4000, claimWaitMs: 3000, maxAttempts: 8, deadlineMs: WAIT_MS, ...extra,
    };
  }

  /** Every target host:port exactly once (the scans here list closed ports: 20 targets). */
  function assertEachTargetOnce(results: ScanResult[]): void {
    const keys = results.map((r) => `${r.host}:${r.port}`);
    const expected = TARGET_HOSTS.flatMap((h) => ports.split(',').map((p) => `${h}:${p}`));
    assert.deepEqual([...keys].sort(), [...expected].sort(), 'each target once, none missing');
  }

  before(async function () {
    requireTool(this, 'mosquitto');
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
    for (const login of ['coordinator', 'north-1', 'north-2', 'south-1', 'watcher']) passwords[login] = randomPassword();
    // The shipped config and ACL, and one login more for the test: a watcher that reads
    // everything, to check that no secret crosses the broker.
    hub = await startMosquitto('sites', { users: passwords, acl: `${SHIPPED_ACL}\nuser watcher\ntopic read #\n` });
    [brokerPort, closedPort] = await freePorts(2);
    ports = `${brokerPort},${closedPort}`;
    anonymous = await startMosquitto({ conf: ANONYMOUS_HOSTS.map(() => 'listener 1883').join('\n') + '\nallow_anonymous true\n' }, {
      ports: ANONYMOUS_HOSTS.map(() => brokerPort), listenerHosts: ANONYMOUS_HOSTS,
    });
    withLogin = await startMosquitto({ conf: LOGIN_HOSTS.map(() => 'listener 1883').join('\n') + '\nallow_anonymous false\npassword_file passwords\n' }, {
      ports: LOGIN_HOSTS.map(() => brokerPort), listenerHosts: LOGIN_HOSTS, users: { scanner: scannedPassword },
    });
    watcher = await mqtt.connectAsync(hubUrl(), { protocolVersion: 5, username: 'watcher', password: passwords.watcher, ca: readFileSync(hub.caPath!), reconnectPeriod: 500 });
    watcher.on('message', (topic, payload) => seen.push({ topic, payload: payload.toString('utf8') }));
    watcher.on('error', () => undefined); // the broker's restart; it reconnects
    await watcher.subscribeAsync('#', { qos: 1 });
    await Promise.all([startAgent('north-1', 'north', NORTH), startAgent('north-2', 'north', NORTH), startAgent('south-1', 'south', SOUTH)]);
  });

  after(async () => {
    await Promise.all([...agents.values()].map((a) => stopAgent(a)));
    await watcher?.endAsync(true).catch(() => undefined);
    await Promise.all([hub, anonymous, withLogin].map((b) => b?.stop()));
  });

  it('three agents on two sites scan brokers spread over both: each once, with the verdicts of a local scan', async () => {
    // The CLI, as a user runs it, with its --json output.
    const run = spawnSync(process.execPath, [
      CLI, 'coordinate', '--broker', hubUrl(), '--user', 'coordinator', '--password-env', 'COORDINATOR_PASSWORD', '--ca', hub.caPath!,
      '--client-id', 'test-coordinator-cli', '--site', `north=${NORTH}`, '--site', `south=${SOUTH}`, '--target', TARGETS, '--ports', ports,
      '--credentials', 'lab', '--listen', String(SCAN.listenMs / 1000), '--timeout', String(SCAN.timeoutMs), '--shard-targets', '4',
      '--lease', '4', '--claim-wait', '3', '--attempts', '8', '--deadline', '60', '--json',
    ], { encoding: 'utf8', timeout: 90_000, env: { ...process.env, COORDINATOR_PASSWORD: passwords.coordinator } });
    assert.equal(run.status, 0, `exit code; stderr: ${run.stderr}`);
    const coordinated = JSON.parse(run.stdout) as ScanResult[];
    assertEachTargetOnce(coordinated);
    // Both sites' shards were done, the north ones by both of its agents (they share the jobs).
    assert.match(run.stderr, /site north: 3\/3 shards done \(agents: north-1, north-2\)/);
    assert.match(run.stderr, /site south: 2\/2 shards done \(agents: south-1\)/);

    const local = await runScan({ targets: TARGETS, ports, credentials: { username: 'scanner', password: scannedPassword }, ...SCAN });
    assertEachTargetOnce(local.results);
    const byKey = new Map(local.results.map((r) => [`${r.host}:${r.port}`, r]));
    for (const r of coordinated) assert.deepEqual(siteVerdict(r), siteVerdict(byKey.get(`${r.host}:${r.port}`)!), `${r.host}:${r.port}`);
    // Each result says which site and agent scanned it (the coordinator's word, from the shard and
    // the login its topic belongs to); a local scan's results say nothing of the kind.
    for (const r of coordinated) {
      const north = r.host.startsWith('127.0.60.');
      assert.equal(r.scannedBy?.site, north ? 'north' : 'south', `${r.host}:${r.port}`);
      assert.ok((north ? ['north-1', 'north-2'] : ['south-1']).includes(r.scannedBy!.agent), `${r.host}:${r.port} by ${r.scannedBy!.agent}`);
    }
    assert.ok(local.results.every((r) => r.scannedBy === undefined));
    // The scan found what is there: anonymous brokers open, the others asking for a login.
    for (const h of ANONYMOUS_HOSTS) assert.equal(coordinated.find((r) => r.host === h && r.port === brokerPort)?.classification, 'open_or_auth_ok', h);
    for (const h of LOGIN_HOSTS) assert.equal(coordinated.find((r) => r.host === h && r.port === brokerPort)?.classification, 'not_authorized', h);
  });

  it('an agent killed (SIGKILL, by pid) mid-scan: its shard is re-queued and the scan completes, nothing missing or twice', async () => {
    const c = await coordinator();
    try {
      const victim = agents.get('north-1')!;
      let killed: ShardReport | null = null;
      c.on('shard', ({ shard }: { shard: ShardReport }) => {
        if (!killed && shard.state === 'held' && shard.holder === 'north-1') {
          killed = shard;
          process.kill(victim.pid, 'SIGKILL');
        }
      });
      const offline = new Promise<void>((r) => c.on('agent', (a: { login: string; state: string }) => a.login === 'north-1' && a.state === 'offline' && r()));
      // Each done shard's results, as they come ('results' event): together, the merged output.
      const streamed: ScanResult[] = [];
      c.on('results', ({ results }: { results: ScanResult[] }) => streamed.push(...results));
      // One host per shard and a longer listen window: the victim is mid-shard when it dies.
      const out = await c.scan(request({ shardTargets: 2, options: { ...SCAN, listenMs: 1500 } }));
      assert.ok(killed, 'north-1 held a shard and was killed');
      await offline; // its last will said so
      assert.deepEqual(out.notDone, [], JSON.stringify(out.notDone));
      assertEachTargetOnce(out.results);
      assert.equal(out.duplicates, 0);
      assert.deepEqual(streamed.map((r) => `${r.host}:${r.port}`).sort(), out.results.map((r) => `${r.host}:${r.port}`).sort(), 'streamed: each result once');
      const again = out.shards.find((s) => s.shard === killed!.shard)!;
      assert.ok(again.attempts >= 2, `shard ${again.shard} was published again (attempts ${again.attempts})`);
      assert.notEqual(again.holder, 'north-1');
      assert.ok(again.problems.some((p) => /north-1 was silent past its lease/.test(p)), again.problems.join('; '));
    } finally {
      await c.stop();
    }
    // The next tests need two agents in the north again: a new process with the same login.
    agents.delete('north-1');
    await startAgent('north-1', 'north', NORTH);
  });

  it("the coordinator's Mosquitto restarted mid-scan: persistent sessions and QoS 1 carry the scan to its end", async () => {
    const c = await coordinator();
    try {
      let restart: Promise<void> | null = null;
      c.on('shard', ({ shard }: { shard: ShardReport }) => {
        if (!restart && shard.state === 'done') restart = hub.restart();
      });
      const connection: boolean[] = [];
      c.on('connection', (up: boolean) => connection.push(up));
      assert.equal(c.connected, true);
      const pidBefore = hub.pid;
      const out = await c.scan(request({ shardTargets: 2, options: { ...SCAN, listenMs: 1000 } }));
      assert.ok(restart, 'the broker was restarted during the scan');
      await restart;
      assert.notEqual(hub.pid, pidBefore, 'a new mosquitto process');
      // The 'connection' event said the broker went away and came back (the site coordinator node's status).
      assert.deepEqual(connection.slice(0, 2), [false, true], JSON.stringify(connection));
      assert.equal(c.connected, true);
      assert.deepEqual(out.notDone, [], JSON.stringify(out.notDone));
      assertEachTargetOnce(out.results);
      assert.equal(out.duplicates, 0);
    } finally {
      await c.stop();
    }
  });

  it("a job outside an agent's scope is refused and reported; another site's login reads no job; a report from a login that does not hold the shard is ignored", async () => {
    const ca = readFileSync(hub.caPath!);
    // South's agent, logged in again by hand, listens to the north's jobs: shared and not.
    const spy = await mqtt.connectAsync(hubUrl(), { protocolVersion: 5, username: 'south-1', password: passwords['south-1'], ca, reconnectPeriod: 0 });
    spy.on('error', () => undefined);
    const spied: string[] = [];
    spy.on('message', (topic) => spied.push(topic));
    await spy.subscribeAsync([`$share/spy/${jobsTopic('north')}`, jobsTopic('north'), 'mqttsec/+/jobs'], { qos: 1 });
    // The coordinator says south covers 127.0.62.0/24 too; its agent's own scope does not.
    const c = await coordinator({ north: NORTH, south: `${SOUTH},127.0.62.0/24` });
    const ignored: IgnoredReport[] = [];
    c.on('ignored', (i: IgnoredReport) => ignored.push(i));
    let forged = false;
    c.on('shard', ({ shard }: { shard: ShardReport }) => {
      if (forged || shard.state !== 'held' || shard.site !== 'north') return;
      forged = true;
      // A result for a north shard, published by the south's login under its own name (the
      // ACL lets it write there): the coordinator must not take it.
      const host = shard.targets[0].split('-')[0];
      const fake = { v: 1, type: 'result', scanId, shard: shard.shard, attempt: shard.attempts, result: { scanId, host, port: brokerPort, reachability: 'open', transport: 'tcp', classification: 'open_or_auth_ok', mqtt: { versions: {}, brokerVersion: null }, auth: { anonymous: { outcome: 'accepted' }, wrongCredentials: { outcome: 'accepted' }, givenCredentials: { outcome: 'not_tested' } }, error: 'forged' } };
      void spy.publishAsync(reportTopic(scanId, shard.shard, 'south-1'), JSON.stringify(fake), { qos: 1 });
    });
    const scanId = 'refusal-test';
    let out: CoordinatedScanOutput;
    try {
      out = await c.scan(request({ scanId, targets: `${TARGETS},127.0.62.1,127.0.63.1`, maxAttempts: 2, options: { ...SCAN, listenMs: 1000 } }));
    } finally {
      await c.stop();
      await spy.endAsync(true).catch(() => undefined);
    }
    // The shard of 127.0.62.1 was refused by the south's agent, twice, and reported not done.
    const refused = out.notDone.find((s) => s.targets.includes('127.0.62.1'));
    assert.ok(refused, `the shard of 127.0.62.1 is not done: ${JSON.stringify(out.notDone)}`);
    assert.ok(refused.refusals.length >= 1 && refused.refusals.every((r) => r.code === 'scope' && r.login === 'south-1'), JSON.stringify(refused.refusals));
    assert.match(refused.refusals[0].reason, /127\.0\.62\.1 is outside this agent's scope/);
    assert.ok(!out.results.some((r) => r.host === '127.0.62.1'), '127.0.62.1 was not scanned');
    // 127.0.63.1 is in no site's scope: reported, not scanned.
    assert.deepEqual(out.outside, ['127.0.63.1']);
    assert.ok(!out.results.some((r) => r.host === '127.0.63.1'));
    // The rest of the scan is complete.
    assert.equal(out.notDone.length, 1);
    assertEachTargetOnce(out.results);
    // The south's login got none of the north's jobs (the ACL: read mqttsec/south/jobs only).
    assert.ok(seen.some((m) => m.topic === jobsTopic('north')), 'north jobs were published (the watcher saw them)');
    assert.deepEqual(spied.filter((t) => t === jobsTopic('north')), []);
    // The forged result was ignored, and the genuine one is in the scan.
    assert.ok(forged, 'a forged result was sent');
    assert.ok(ignored.some((i) => i.login === 'south-1' && i.type === 'result' && /does not hold/.test(i.reason)), JSON.stringify(ignored));
    assert.ok(!out.results.some((r) => r.error === 'forged'));
  });

  it('an agent asked for a login it does not hold refuses the job, naming the login', async () => {
    const c = await coordinator();
    try {
      const out = await c.scan(request({ targets: '127.0.61.1', credentialsName: 'nobody', maxAttempts: 1 }));
      assert.equal(out.notDone.length, 1);
      const [refusal] = out.notDone[0].refusals;
      assert.equal(refusal?.code, 'credentials', JSON.stringify(out.notDone));
      assert.match(refusal.reason, /holds no credentials named "nobody"/);
      assert.deepEqual(out.results, []);
    } finally {
      await c.stop();
    }
  });

  it("a login of another site that joins the north's share group gets no job, and the scan still completes", async () => {
    // mosquitto 2.0.11 grants the SUBSCRIBE (acl_file checks reads on delivery) and gives the
    // intruder its turn of the round robin; the job is then dropped. The coordinator publishes a
    // job nobody claimed again (claim wait), so nothing is lost.
    const intruder = await mqtt.connectAsync(hubUrl(), { protocolVersion: 5, username: 'south-1', password: passwords['south-1'], ca: readFileSync(hub.caPath!), reconnectPeriod: 0, clientId: 'intruder' });
    intruder.on('error', () => undefined);
    const taken: string[] = [];
    intruder.on('message', (topic) => taken.push(topic));
    await intruder.subscribeAsync(`$share/mqttsec/${jobsTopic('north')}`, { qos: 1 });
    const c = await coordinator();
    let out: CoordinatedScanOutput;
    try {
      out = await c.scan(request({ shardTargets: 2, claimWaitMs: 1500 }));
    } finally {
      await c.stop();
      await intruder.endAsync(true).catch(() => undefined);
    }
    assert.deepEqual(taken, []);
    assert.deepEqual(out.notDone, [], JSON.stringify(out.notDone));
    assertEachTargetOnce(out.results);
    const republished = out.shards.filter((s) => s.site === 'north' && s.problems.some((p) => /no agent claimed it/.test(p))).length;
    console.log(`      (north shards published again after a turn of the intruder: ${republished} of ${out.shards.filter((s) => s.site === 'north').length})`);
  });

  it('an agent refuses a broker whose certificate it cannot check, and the broker refuses a wrong login', () => {
    const args = ['agent', '--broker', hubUrl(), '--site', 'north', '--scope', NORTH, '--user', 'north-2', '--password-env', 'AGENT_PASSWORD'];
    const untrusted = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, AGENT_PASSWORD: passwords['north-2'] } });
    assert.equal(untrusted.status, 1, untrusted.stderr);
    assert.match(untrusted.stderr, /cannot connect to the broker \(.*certificate/i);
    const wrong = spawnSync(process.execPath, [CLI, ...args, '--ca', hub.caPath!, '--client-id', 'wrong-login'], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, AGENT_PASSWORD: 'not-the-password' } });
    assert.equal(wrong.status, 1, wrong.stderr);
    assert.match(wrong.stderr, /cannot connect to the broker \(.*(not authori[sz]ed|bad user ?name or password)/i);
  });

  it('no secret crossed the broker: no password of an agent, the coordinator or a scanned broker in any payload', () => {
    assert.ok(seen.length > 100, `the watcher read the traffic (${seen.length} messages)`);
    assert.ok(seen.some((m) => m.topic.startsWith('mqttsec/results/') && m.payload.includes('"type":"result"')), 'results were among them');
    assert.ok(seen.some((m) => m.topic.endsWith('/jobs') && m.payload.includes('"credentialsName":"lab"')), 'jobs named the login');
    const secrets = { ...passwords, scanned: scannedPassword };
    for (const [owner, secret] of Object.entries(secrets)) {
      const leak = seen.find((m) => m.payload.includes(secret) || m.topic.includes(secret));
      assert.equal(leak, undefined, `the password of ${owner} appeared on ${leak?.topic}`);
    }
  });

  // Last: it stops the coordinator's broker for good.
  it("the coordinator's broker gone for good: the scan ends at its deadline, its unfinished shards reported not done", async () => {
    const c = await coordinator();
    const connection: boolean[] = [];
    c.on('connection', (up: boolean) => connection.push(up));
    let stopped: Promise<void> | null = null;
    c.on('shard', ({ shard }: { shard: ShardReport }) => {
      if (!stopped && shard.state === 'held') stopped = hub.stop();
    });
    const started = Date.now();
    let out: CoordinatedScanOutput;
    let connectedAtEnd: boolean | null = null;
    try {
      out = await c.scan(request({ deadlineMs: 5000, options: { ...SCAN, listenMs: 3000 } }));
      connectedAtEnd = c.connected;
    } finally {
      await c.stop();
    }
    assert.deepEqual(connection, [false], 'the connection was lost, and said so once');
    assert.equal(connectedAtEnd, false);
    assert.ok(stopped, 'the broker was stopped mid-scan');
    await stopped;
    assert.ok(Date.now() - started < WAIT_MS, 'the scan ended (bounded by its deadline)');
    assert.ok(out.notDone.length > 0);
    assert.ok(out.notDone.every((s) => s.problems.includes('the scan deadline passed')), JSON.stringify(out.notDone.map((s) => s.problems)));
    assert.deepEqual(out.results.map((r) => `${r.host}:${r.port}`).filter((k, i, all) => all.indexOf(k) !== i), [], 'no result twice');
  });
});
