// The sites protocol attacked from inside: a login that may write jobs or results (a malicious or
// compromised agent, a coordinator that asks for what it should not), through a real Mosquitto
// run from the shipped brokers/sites config and ACL. The hostile side is a plain mqtt.js client
// with an agent's login; the coordinator and the honest agent are the engine's classes in this
// process. Every packet stays on loopback (127.0.60.0/24; nothing listens on the scanned ports).
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { classifyResult } from '../../lib/risk';
import type { ScanResult } from '../../lib/types';
import {
  ScanAgent, ScanCoordinator, REPORT_BYTES_PER_SHARD, REPORT_BYTES_PER_TARGET, defaultClientId, encodeMessage, grantsTopic, jobsSubscription, parseGrant, parseJob, reportTopic, statusTopic,
  type AgentEvent, type CoordinatedScanOutput, type IgnoredReport, type JobMessage,
} from '../../lib/sites';
import { randomPassword } from '../../lab/passwords';
import { generateServerCert } from '../../lab/certs';
import { startRecordingBroker } from '../support/recording-broker';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto';
import { freePorts } from '../support/ports';
import { requireTool } from '../support/tools';

const ROOT = resolve(__dirname, '../..');
const SHIPPED_ACL = readFileSync(join(ROOT, 'brokers/sites/acl'), 'utf8');
const NORTH = '127.0.60.0/24';

describe('sites: hostile agents and jobs through the shipped broker config', function () {
  this.timeout(120_000);
  let hub: MosquittoBroker;
  let closedPort: number;
  const passwords: Record<string, string> = {};

  function hubOptions(login: string) {
    return { url: `mqtts://127.0.0.1:${hub.port}`, username: login, password: passwords[login], ca: readFileSync(hub.caPath!), sessionExpirySeconds: 5 };
  }

  async function hostile(login: string): Promise<MqttClient> {
    const o = hubOptions(login);
    const c = await mqtt.connectAsync(o.url, { protocolVersion: 5, username: login, password: o.password, ca: o.ca, reconnectPeriod: 0, clientId: `hostile-${login}` });
    c.on('error', () => undefined);
    return c;
  }

  /** The coordinator of site north that a test's hostile clients face. */
  function northCoordinator(): ScanCoordinator {
    return new ScanCoordinator({ broker: hubOptions('coordinator'), sites: { north: NORTH }, clientId: 'hostile-test-coordinator' });
  }

  /** Stops the test's coordinator, clears the status the first client forged for north-2, closes the clients. */
  async function endHostile(c: ScanCoordinator, ...clients: MqttClient[]): Promise<void> {
    await c.stop();
    await clients[0].publishAsync(statusTopic('north', 'north-2'), '', { qos: 1, retain: true });
    await Promise.all(clients.map((x) => x.endAsync(true).catch(() => undefined)));
  }

  before(async function () {
    requireTool(this, 'mosquitto');
    for (const login of ['coordinator', 'north-1', 'north-2', 'south-1']) passwords[login] = randomPassword();
    hub = await startMosquitto('sites', { users: passwords, acl: SHIPPED_ACL });
    [closedPort] = await freePorts(1);
  });

  after(async () => {
    await hub?.stop();
  });

  /** Connects `login` with `clientId` and a persistent session; resolves with the CONNACK's Session Present. */
  async function takeover(login: string, clientId: string): Promise<{ client: MqttClient; sessionPresent: boolean; jobs: string[] }> {
    const o = hubOptions(login);
    const jobs: string[] = [];
    const client = mqtt.connect(o.url, { protocolVersion: 5, username: login, password: o.password, ca: o.ca, reconnectPeriod: 0, clientId, clean: false, properties: { sessionExpiryInterval: 30 } });
    client.on('error', () => undefined);
    client.on('message', (topic, payload) => jobs.push(payload.toString('utf8')));
    const connack = await new Promise<{ sessionPresent: boolean }>((res, rej) => {
      client.once('connect', (p) => res({ sessionPresent: p.sessionPresent }));
      client.once('error', rej);
    });
    return { client, ...connack, jobs };
  }

  /** Ends the sessions `ids` of `login` at once (Clean Start, no session expiry). */
  async function forgetSessions(login: string, ids: string[]): Promise<void> {
    const o = hubOptions(login);
    for (const clientId of ids) {
      const x = await mqtt.connectAsync(o.url, { protocolVersion: 5, username: login, password: o.password, ca: o.ca, reconnectPeriod: 0, clientId, clean: true });
      await x.endAsync();
    }
  }

  it("Mosquitto 2.0.11 hands a persistent session, queued jobs with it, to any login that names its client id (why the default ids are secret)", async () => {
    // The victim: north-1 with a persistent session that holds the site's shared subscription,
    // away while a job is queued for it. The hostile party is a plain mqtt.js test client with
    // another login (north-2, then south-1: another site) that connects with the victim's id.
    const victimId = 'hostile-test-victim-session';
    const victim = await takeover('north-1', victimId);
    await victim.client.subscribeAsync(jobsSubscription('north'), { qos: 1 });
    await victim.client.endAsync();
    const boss = await hostile('coordinator');
    const job: JobMessage = { v: 1, type: 'job', scanId: 'queued-for-north-1', shard: 0, attempt: 1, site: 'north', targets: ['127.0.60.9'], ports: [closedPort], options: {}, includeUnreachable: false, leaseMs: 5000, issuedAt: Date.now() };
    await boss.publishAsync('mqttsec/north/jobs', encodeMessage(job), { qos: 1 });
    await boss.endAsync(true);
    const thief = await takeover('north-2', victimId);
    try {
      const deadline = Date.now() + 3000;
      while (!thief.jobs.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal(thief.sessionPresent, true, 'another login resumed the session');
      assert.deepEqual(thief.jobs.map((p) => parseJob(p).scanId), ['queued-for-north-1'], 'and took the job queued for it');
      await thief.client.endAsync(true);
      // The owner is back; another site's login takes the session over while it is connected:
      // the owner's connection is closed, and the session is the other login's (the ACL, checked
      // at delivery, keeps the site's jobs from it).
      const owner = await takeover('north-1', victimId);
      const closed = new Promise<void>((r) => owner.client.once('close', () => r()));
      const other = await takeover('south-1', victimId);
      await closed;
      await other.client.endAsync(true);
      await owner.client.endAsync(true);
      assert.equal(other.sessionPresent, true, 'a login of another site resumed the session');
    } finally {
      await thief.client.endAsync(true);
      await forgetSessions('north-1', [victimId]);
    }
  });

  it("the default client ids come from the login's password: another login cannot name them, and the old guessable ones reach no session", async () => {
    // The hostile party is a plain mqtt.js test client with north-2's login that tries the ids
    // the agent and the coordinator used by default before (mqttsec-agent-<login>, its
    // -jobs-<n>, mqttsec-coordinator-<login>) while both run with their default ids.
    const agent = new ScanAgent({ broker: hubOptions('north-1'), site: 'north', scope: NORTH, grantWaitMs: 5000, concurrency: 2 });
    const events: AgentEvent[] = [];
    agent.on('event', (e: AgentEvent) => events.push(e));
    await agent.start();
    const c = new ScanCoordinator({ broker: hubOptions('coordinator'), sites: { north: NORTH } });
    await c.start();
    const lost: boolean[] = [];
    c.on('connection', (up: boolean) => lost.push(up));
    try {
      for (const guess of ['mqttsec-agent-north-1', 'mqttsec-agent-north-1-jobs-0', 'mqttsec-agent-north-1-jobs-1', 'mqttsec-coordinator-coordinator']) {
        const thief = await takeover('north-2', guess);
        await thief.client.endAsync(true);
        assert.equal(thief.sessionPresent, false, `${guess}: no session of another client`);
      }
      // Neither lost a connection, and the agent still takes the site's jobs.
      assert.deepEqual(await c.waitForAgents(['north'], 10_000), []);
      const out = await c.scan({ targets: '127.0.60.9', ports: [closedPort], leaseMs: 5000, claimWaitMs: 5000, maxAttempts: 1, deadlineMs: 30_000 });
      assert.equal(out.shards[0].state, 'done', JSON.stringify(out.shards[0]));
      assert.ok(!events.some((e) => e.type === 'offline'), JSON.stringify(events));
      assert.deepEqual(lost, []);
    } finally {
      await c.stop();
      await agent.stop();
      const id = defaultClientId('agent', hubOptions('north-1'));
      await forgetSessions('north-1', [id, `${id}-jobs-0`, `${id}-jobs-1`]);
    }
    // The id: stable for a login and its password, another for another password, and the
    // password nowhere in it.
    const id = defaultClientId('agent', { username: 'north-1', password: passwords['north-1'] });
    assert.equal(id, defaultClientId('agent', { username: 'north-1', password: passwords['north-1'] }));
    assert.notEqual(id, defaultClientId('agent', { username: 'north-1', password: `${passwords['north-1']}x` }));
    assert.notEqual(id, defaultClientId('coordinator', { username: 'north-1', password: passwords['north-1'] }));
    assert.match(id, /^mqttsec-agent-north-1-[0-9a-f]{24}$/);
    assert.ok(!id.includes(passwords['north-1'].slice(0, 6)), id);
  });

  it('a holder cannot put a result whose host is a block, a range or a list into the merged scan: only one address, as the scanner writes it', async () => {
    // north-2 plays a malicious agent of the site: it says it is online, takes the job, claims
    // it, and reports "results" whose host text covers the shard's addresses without being one.
    const evil = await hostile('north-2');
    await evil.publishAsync(statusTopic('north', 'north-2'), encodeMessage({ v: 1, type: 'status', site: 'north', state: 'online', scope: [NORTH], credentials: [], concurrency: 1, at: Date.now() }), { qos: 1, retain: true });
    const forgedHosts = ['broker.example', '127.0.60.0/30', '127.0.60.1-127.0.60.2', '8.8.8.8,!8.8.8.8,127.0.60.1', '127.0.60.1 127.0.60.2', '127.0.60.1/32'];
    const genuine = '127.0.60.1';
    const malformed: object[] = [{ auth: {} }, { auth: { anonymous: null, wrongCredentials: {}, givenCredentials: {} } }, { classification: '<b>safe</b>' }, { reachability: 'maybe' }, { transport: 'carrier-pigeon' }, { mqtt: null }];
    const lies = { findings: [], risk: { level: 'low', score: 1 }, security_summary: { risk_level: 'low', issues: [] } };
    let onGrant: (() => void) | null = null;
    evil.on('message', (topic, payload) => {
      if (topic.endsWith('/jobs')) {
        const job = parseJob(payload);
        const at = (type: string, extra: object) => evil.publishAsync(reportTopic(job.scanId, job.shard, 'north-2'), JSON.stringify({ v: 1, type, scanId: job.scanId, shard: job.shard, attempt: job.attempt, ...extra }), { qos: 1 });
        onGrant = async () => {
          const result = (host: string) => ({ scanId: job.scanId, host, port: job.ports[0], reachability: 'open', transport: 'tcp', classification: 'open_or_auth_ok', mqtt: { versions: {}, brokerVersion: null }, auth: { anonymous: { outcome: 'accepted' }, wrongCredentials: { outcome: 'accepted' }, givenCredentials: { outcome: 'not_tested' } }, error: null });
          // Shapes the rules cannot read (a crash of the coordinator, were they rated), then hosts that are no address.
          for (const bad of malformed) await at('result', { result: { ...result('127.0.60.2'), ...bad } });
          for (const host of forgedHosts) await at('result', { result: result(host) });
          // The one real address, with the facts of an open broker and a rating that says harmless.
          await at('result', { result: { ...result(genuine), ...lies } });
          const reachability = { open: 1, closed: 1, filtered: 0, error: 0 };
          const classification = { open_or_auth_ok: 1, not_authorized: 0, unreachable_or_firewalled: 1, tls_or_ssl_error: 0, not_mqtt: 0 };
          await at('done', { count: 1, summary: { reachability, classification, cancelled: false }, durationMs: 5 });
        };
        void at('claim', {});
      } else if (topic === grantsTopic('north-2') && parseGrant(payload).granted) {
        void onGrant?.();
      }
    });
    await evil.subscribeAsync([jobsSubscription('north'), grantsTopic('north-2')], { qos: 1 });
    const c = northCoordinator();
    await c.start();
    const ignored: IgnoredReport[] = [];
    c.on('ignored', (i: IgnoredReport) => ignored.push(i));
    let out: CoordinatedScanOutput;
    try {
      assert.deepEqual(await c.waitForAgents(['north'], 10_000), []);
      out = await c.scan({ targets: '127.0.60.1-127.0.60.2', ports: [closedPort], leaseMs: 5000, claimWaitMs: 5000, maxAttempts: 1, deadlineMs: 30_000 });
    } finally {
      await endHostile(c, evil);
    }
    assert.deepEqual(out.results.map((r) => r.host), [genuine], `merged hosts: ${JSON.stringify(out.results.map((r) => r.host))}`);
    for (const host of forgedHosts) assert.ok(!out.results.some((r) => r.host === host), host);
    // The rating comes from the reported facts under the coordinator's rules, not from the agent.
    const [merged] = out.results as Array<ScanResult & { findings?: unknown[] }>;
    const { findings: _f, risk: _r, security_summary: _s, ...facts } = merged as ScanResult & Record<string, unknown>;
    const expected = classifyResult(facts as unknown as ScanResult);
    assert.notEqual(expected.risk?.level, 'low', 'an anonymous open broker is no low risk');
    assert.deepEqual(merged.risk, expected.risk);
    assert.deepEqual(merged.findings, expected.findings);
    assert.equal(ignored.filter((i) => i.type === 'result' && i.login === 'north-2').length, forgedHosts.length, JSON.stringify(ignored));
    assert.equal(ignored.filter((i) => i.type === 'unreadable' && i.login === 'north-2').length, malformed.length, JSON.stringify(ignored));
  });

  it("a flood of reports (many, large) from logins with a valid login costs the coordinator at most its report budget per login and scan: dropped unread past it, said once", async () => {
    // The hostile parties are plain mqtt.js test clients: north-2, an agent of the site that takes
    // the shard and sends large results for each of its host:port pairs (the byte budget), and
    // south-1, another site's login, which sends a stream of small refusals about the same shard
    // under its own name (the message budget). Budgets are the defaults, sized from the scan.
    const scanId = 'flooded-scan';
    const hosts = Array.from({ length: 120 }, (_, i) => `127.0.60.${i + 1}`);
    const resultBytes = 256 * 1024;
    const evil = await hostile('north-2');
    await evil.publishAsync(statusTopic('north', 'north-2'), encodeMessage({ v: 1, type: 'status', site: 'north', state: 'online', scope: [NORTH], credentials: [], concurrency: 1, at: Date.now() }), { qos: 1, retain: true });
    const south = await hostile('south-1');
    let flooded: Promise<void> | null = null;
    let floodedSouth: Promise<void> | null = null;
    const smallSent = 600;
    evil.on('message', (topic, payload) => {
      if (topic.endsWith('/jobs')) {
        const job = parseJob(payload);
        if (job.attempt !== 1) return;
        void evil.publishAsync(reportTopic(job.scanId, job.shard, 'north-2'), JSON.stringify({ v: 1, type: 'claim', scanId: job.scanId, shard: job.shard, attempt: job.attempt }), { qos: 1 });
      } else if (topic === grantsTopic('north-2') && parseGrant(payload).granted && !flooded) {
        const g = parseGrant(payload);
        flooded = (async () => {
          for (const host of hosts) {
            const result = { scanId, host, port: closedPort, reachability: 'open', transport: 'tcp', classification: 'not_authorized', mqtt: { versions: {}, brokerVersion: null }, auth: { anonymous: { outcome: 'rejected' }, wrongCredentials: { outcome: 'rejected' }, givenCredentials: { outcome: 'not_tested' } }, error: null, note: 'x'.repeat(resultBytes) };
            await evil.publishAsync(reportTopic(scanId, g.shard, 'north-2'), JSON.stringify({ v: 1, type: 'result', scanId, shard: g.shard, attempt: g.attempt, result }), { qos: 1 });
          }
        })();
        floodedSouth = (async () => {
          for (let i = 0; i < smallSent; i += 50) {
            await Promise.all(Array.from({ length: 50 }, () => south.publishAsync(reportTopic(scanId, g.shard, 'south-1'), JSON.stringify({ v: 1, type: 'refusal', scanId, shard: g.shard, attempt: 1, code: 'scope', reason: 'flood' }), { qos: 1 })));
          }
        })();
      }
    });
    await evil.subscribeAsync([jobsSubscription('north'), grantsTopic('north-2')], { qos: 1 });
    const c = northCoordinator();
    await c.start();
    const warnings: string[] = [];
    const ignored: IgnoredReport[] = [];
    let mostHeld = 0;
    c.on('warning', (e: Error) => warnings.push(e.message));
    c.on('ignored', (i: IgnoredReport) => ignored.push(i));
    let out: CoordinatedScanOutput;
    try {
      assert.deepEqual(await c.waitForAgents(['north'], 10_000), []);
      // Two attempts: the scan goes on after north-2 lost the shard, so its later reports arrive
      // while the scan still reads them (and are dropped unread).
      const stop = new AbortController();
      const scan = c.scan({ scanId, targets: NORTH, ports: [closedPort], leaseMs: 30_000, claimWaitMs: 1000, maxAttempts: 2, deadlineMs: 60_000, signal: stop.signal });
      const deadline = Date.now() + 60_000;
      // What the coordinator holds of north-2's results, looked at while they come.
      const sampler = setInterval(() => {
        for (const u of c.reportUse(scanId)) if (u.login === 'north-2') mostHeld = Math.max(mostHeld, u.held);
      }, 2);
      try {
        while ((!flooded || !floodedSouth) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        await flooded;
        await floodedSouth;
      } finally {
        clearInterval(sampler);
      }
      // Each login's reports are read (or dropped) in order on its topic: a last one marks the end.
      await evil.publishAsync(reportTopic(scanId, 0, 'north-2'), JSON.stringify({ v: 1, type: 'progress', scanId, shard: 0, attempt: 1, swept: 0, open: 0, probed: 0, total: 0 }), { qos: 1 });
      await south.publishAsync(reportTopic(scanId, 0, 'south-1'), JSON.stringify({ v: 1, type: 'claim', scanId, shard: 0, attempt: 1 }), { qos: 1 });
      const seen = (login: string) => c.reportUse(scanId).filter((u) => u.login === login).reduce((n, u) => n + u.messages + u.dropped, 0);
      while ((seen('north-2') < hosts.length + 2 || seen('south-1') < smallSent + 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      stop.abort();
      out = await scan;
    } finally {
      await endHostile(c, evil, south);
    }
    const budget = out.reportBudget;
    const pairs = 256;
    assert.equal(budget.bytes, 2 * (pairs * REPORT_BYTES_PER_TARGET + REPORT_BYTES_PER_SHARD), JSON.stringify(budget));
    const byLogin = Object.fromEntries(budget.logins.map((u) => [u.login, u]));
    const north2 = byLogin['north-2'];
    const south1 = byLogin['south-1'];
    assert.ok(north2?.overBudget && south1?.overBudget, JSON.stringify(budget.logins));
    // What was counted stays within the budget; the rest was dropped unread.
    assert.ok(north2.bytes <= budget.bytes && north2.messages <= budget.messages, JSON.stringify(north2));
    assert.ok(south1.bytes <= budget.bytes && south1.messages <= budget.messages, JSON.stringify(south1));
    assert.ok(north2.dropped >= hosts.length - Math.floor(budget.bytes / resultBytes), JSON.stringify(north2));
    assert.equal(south1.messages + south1.dropped, smallSent + 1, JSON.stringify(south1));
    // The results held fit the budget (the coordinator's memory for them), and went when north-2
    // lost the shard.
    assert.ok(mostHeld > 0 && mostHeld <= budget.bytes, `${mostHeld} bytes of results held at most`);
    assert.equal(north2.held, 0);
    assert.deepEqual(out.results, []);
    assert.equal(north2.messages + north2.dropped, hosts.length + 2, JSON.stringify(north2));
    assert.ok(out.shards[0].problems.some((p) => /north-2 went over its report budget/.test(p)), JSON.stringify(out.shards[0].problems));
    // Said once per login: one warning, one ignored event; the drops are only counted.
    assert.equal(warnings.filter((w) => /north-2 went over its report budget/.test(w)).length, 1, JSON.stringify(warnings));
    assert.equal(warnings.filter((w) => /south-1 went over its report budget/.test(w)).length, 1, JSON.stringify(warnings));
    assert.equal(ignored.filter((i) => i.type === 'over-budget').length, 2, JSON.stringify(ignored.filter((i) => i.type === 'over-budget')));
    assert.ok(out.ignored.count >= north2.dropped + south1.dropped, JSON.stringify(out.ignored.count));
  });

  it("a job that asks for a write test or default logins is refused, with the reason at the coordinator, by an agent that does not allow them", async () => {
    // The job comes from the engine's coordinator (any holder of the coordinator's login could
    // send the same); the agent has the defaults, then allows the write test only.
    const c = northCoordinator();
    await c.start();
    for (const allow of [undefined, { writeTest: true }]) {
      const agent = new ScanAgent({ broker: hubOptions('north-1'), site: 'north', scope: NORTH, clientId: 'hostile-test-agent-options', grantWaitMs: 5000, ...(allow ? { allow } : {}) });
      const events: AgentEvent[] = [];
      agent.on('event', (e: AgentEvent) => events.push(e));
      await agent.start();
      try {
        assert.deepEqual(await c.waitForAgents(['north'], 10_000), []);
        const cases: Array<[JobMessage['options'], RegExp | null]> = [
          [{ writeTest: true }, allow?.writeTest ? null : /asks for a write test \(publishing a message on the scanned brokers\); this agent does not allow it \(mqtt-scan agent --allow-write-test/],
          [{ tryDefaults: true }, /asks for well-known default logins .*this agent does not allow it \(mqtt-scan agent --allow-default-logins/],
          [{ writeTest: false, tryDefaults: false, sniff: true, inspectTls: true }, null],
        ];
        for (const [options, refused] of cases) {
          const out = await c.scan({ targets: '127.0.60.9', ports: [closedPort], options, leaseMs: 5000, claimWaitMs: 5000, maxAttempts: 1, deadlineMs: 30_000 });
          const [shard] = out.shards;
          if (!refused) {
            assert.equal(shard.state, 'done', `${JSON.stringify(allow)} ${JSON.stringify(options)}: ${JSON.stringify(shard)}`);
            continue;
          }
          assert.equal(shard.state, 'not_done', JSON.stringify(shard));
          assert.equal(shard.refusals[0]?.code, 'option', JSON.stringify(shard));
          assert.match(shard.refusals[0].reason, refused);
          assert.ok(shard.problems.some((p) => refused.test(p)), JSON.stringify(shard.problems));
        }
        const ran = events.filter((e) => e.type === 'running').length;
        assert.equal(ran, allow ? 2 : 1, JSON.stringify(events));
      } finally {
        await agent.stop();
      }
    }
    await c.stop();
    // Its sessions go now (not in 5 s): a session that is away keeps its turn of the site's jobs.
    await forgetSessions('north-1', ['hostile-test-agent-options', 'hostile-test-agent-options-jobs-0']);
  });

  it("a job delivered twice to an agent with two jobs connections sticks neither: both take jobs afterwards", async () => {
    // The coordinator's side is a plain mqtt.js test client with the coordinator's login: it
    // publishes the same job twice (the share gives the copies to both jobs connections), grants
    // the claim once both copies reached the agent, then publishes four other jobs.
    const agent = new ScanAgent({ broker: hubOptions('north-1'), site: 'north', scope: NORTH, clientId: 'hostile-test-agent-dup', grantWaitMs: 5000, concurrency: 2 });
    const events: AgentEvent[] = [];
    agent.on('event', (e: AgentEvent) => events.push(e));
    await agent.start();
    const boss = await hostile('coordinator');
    const claims: string[] = [];
    let holdBack: ((grant: () => void) => void) | null = null;
    boss.on('message', (topic, payload) => {
      const m = /^mqttsec\/results\/([^/]+)\/(\d+)\/([^/]+)$/.exec(topic);
      const r = JSON.parse(payload.toString('utf8')) as { type: string; attempt: number };
      if (!m || r.type !== 'claim') return;
      claims.push(m[1]);
      const grant = () => void boss.publishAsync(grantsTopic(m[3]), encodeMessage({ v: 1, type: 'grant', scanId: m[1], shard: Number(m[2]), attempt: r.attempt, granted: true }), { qos: 1 });
      if (m[1] === 'twice' && holdBack) holdBack(grant);
      else grant();
    });
    await boss.subscribeAsync('mqttsec/results/#', { qos: 1 });
    const job = (scanId: string, host: string): JobMessage => ({ v: 1, type: 'job', scanId, shard: 0, attempt: 1, site: 'north', targets: [host], ports: [closedPort], options: {}, includeUnreachable: true, leaseMs: 30_000, issuedAt: Date.now() });
    const waitFor = async (ok: () => boolean) => {
      const deadline = Date.now() + 20_000;
      while (!ok() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    };
    const done = (scanId: string) => events.filter((e) => e.type === 'done' && e.scanId === scanId).length;
    // Each copy that reached the agent: a 'job' event, or (the second) a 'duplicate' one.
    const copies = () => events.filter((e) => (e.type === 'job' || e.type === 'duplicate') && e.scanId === 'twice').length;
    try {
      let granted = false;
      holdBack = (grant) => {
        void waitFor(() => copies() >= 2).then(() => {
          granted = true;
          grant();
        });
      };
      const twice = encodeMessage(job('twice', '127.0.60.20'));
      await boss.publishAsync('mqttsec/north/jobs', twice, { qos: 1 });
      await boss.publishAsync('mqttsec/north/jobs', twice, { qos: 1 });
      await waitFor(() => done('twice') > 0);
      assert.ok(granted, JSON.stringify(events));
      assert.equal(copies(), 2, JSON.stringify(events));
      assert.equal(claims.filter((id) => id === 'twice').length, 1, 'one claim for both copies');
      assert.equal(done('twice'), 1, JSON.stringify(events));
      const next = ['after-1', 'after-2', 'after-3', 'after-4'];
      for (const [i, scanId] of next.entries()) await boss.publishAsync('mqttsec/north/jobs', encodeMessage(job(scanId, `127.0.60.${21 + i}`)), { qos: 1 });
      await waitFor(() => next.every((id) => done(id) === 1));
      assert.deepEqual(next.map(done), [1, 1, 1, 1], `each later job was done once: ${JSON.stringify(events.filter((e) => e.type !== 'running'))}`);
    } finally {
      await agent.stop();
      await boss.endAsync(true).catch(() => undefined);
      await forgetSessions('north-1', ['hostile-test-agent-dup', 'hostile-test-agent-dup-jobs-0', 'hostile-test-agent-dup-jobs-1']);
    }
  });

  it("a cancelled scan's copies of its jobs, queued for an agent that was away, are dropped without a claim when it comes back", async () => {
    // The agent has a persistent session and is away; the coordinator publishes the shard again
    // every claim wait, so copies pile up in that session; then the scan is cancelled. A test
    // client with the coordinator's login watches the results topics for claims.
    const broker = { ...hubOptions('north-1'), sessionExpirySeconds: 120 };
    const ids = ['hostile-test-agent-away', 'hostile-test-agent-away-jobs-0'];
    const first = new ScanAgent({ broker, site: 'north', scope: NORTH, clientId: ids[0], grantWaitMs: 3000 });
    await first.start();
    await first.stop();
    const watcher = await hostile('coordinator');
    const claims: string[] = [];
    watcher.on('message', (topic, payload) => {
      if ((JSON.parse(payload.toString('utf8')) as { type: string }).type === 'claim') claims.push(topic);
    });
    await watcher.subscribeAsync('mqttsec/results/#', { qos: 1 });
    const c = northCoordinator();
    await c.start();
    let agent: ScanAgent | null = null;
    try {
      const stop = new AbortController();
      let published = 0;
      c.on('shard', (e: { scanId: string; shard: { attempts: number } }) => {
        if (e.scanId !== 'cancelled-scan') return;
        published = Math.max(published, e.shard.attempts);
        if (published >= 3) stop.abort();
      });
      const out = await c.scan({ scanId: 'cancelled-scan', targets: '127.0.60.30', ports: [closedPort], requireAgentStatus: false, leaseMs: 5000, claimWaitMs: 200, deadlineMs: 60_000, signal: stop.signal });
      assert.equal(out.shards[0].state, 'not_done');
      assert.ok(out.shards[0].problems.includes('the scan was cancelled'), JSON.stringify(out.shards[0].problems));
      const copies = out.shards[0].attempts;
      assert.ok(copies >= 3, `${copies} copies published`);
      // The agent comes back: its session holds the copies and the scan's end.
      agent = new ScanAgent({ broker, site: 'north', scope: NORTH, clientId: ids[0], grantWaitMs: 3000 });
      const events: AgentEvent[] = [];
      agent.on('event', (e: AgentEvent) => events.push(e));
      await agent.start();
      const deadline = Date.now() + 20_000;
      const dropped = () => events.filter((e) => e.type === 'cancelled' && e.scanId === 'cancelled-scan').length;
      while (dropped() < copies && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal(dropped(), copies, JSON.stringify(events));
      assert.ok(!events.some((e) => e.type === 'job' || e.type === 'denied'), JSON.stringify(events));
      // And it takes the next scan's job at once.
      const next = await c.scan({ targets: '127.0.60.31', ports: [closedPort], leaseMs: 5000, claimWaitMs: 5000, maxAttempts: 1, deadlineMs: 30_000 });
      assert.equal(next.shards[0].state, 'done', JSON.stringify(next.shards[0]));
      assert.deepEqual(claims.filter((t) => t.includes('/cancelled-scan/')), [], 'no claim for the cancelled scan');
    } finally {
      await c.stop();
      await agent?.stop();
      await watcher.endAsync(true).catch(() => undefined);
      await forgetSessions('north-1', ids);
    }
  });

  it("a job naming a login by a key every object has (constructor, toString) is refused: the agent holds no such login", async () => {
    const agent = new ScanAgent({
      broker: hubOptions('north-1'), site: 'north', scope: NORTH, clientId: 'hostile-test-agent',
      credentials: { lab: { username: 'scanner', password: randomPassword() } }, grantWaitMs: 5000,
    });
    const events: AgentEvent[] = [];
    agent.on('event', (e: AgentEvent) => events.push(e));
    await agent.start();
    const c = northCoordinator();
    await c.start();
    try {
      assert.deepEqual(await c.waitForAgents(['north'], 10_000), []);
      for (const name of ['constructor', 'toString', 'hasOwnProperty']) {
        const out = await c.scan({ targets: '127.0.60.9', ports: [closedPort], credentialsName: name, leaseMs: 5000, claimWaitMs: 5000, maxAttempts: 1, deadlineMs: 30_000 });
        assert.equal(out.notDone.length, 1, `${name}: the shard was not done (${JSON.stringify(out.shards.map((s) => s.state))})`);
        assert.equal(out.notDone[0].refusals[0]?.code, 'credentials', `${name}: ${JSON.stringify(out.notDone[0])}`);
        assert.match(out.notDone[0].refusals[0].reason, new RegExp(`holds no credentials named "${name}"`));
        assert.deepEqual(out.results, []);
      }
      assert.ok(!events.some((e) => e.type === 'running'), 'no shard ran');
    } finally {
      await c.stop();
      await agent.stop();
    }
  });

  it('a refusal reason with terminal escapes and bidi controls reaches the coordinator escaped, never raw', async () => {
    const evil = await hostile('north-2');
    await evil.publishAsync(statusTopic('north', 'north-2'), encodeMessage({ v: 1, type: 'status', site: 'north', state: 'online', scope: [NORTH], credentials: [], concurrency: 1, at: Date.now() }), { qos: 1, retain: true });
    const reason = 'scope \x1b]0;pwned\x07\x1b[2J\u202Egnp.exe\r\nnot done: forged line';
    evil.on('message', (topic, payload) => {
      const job: JobMessage = parseJob(payload);
      void evil.publishAsync(reportTopic(job.scanId, job.shard, 'north-2'), JSON.stringify({ v: 1, type: 'refusal', scanId: job.scanId, shard: job.shard, attempt: job.attempt, code: 'scope', reason }), { qos: 1 });
    });
    await evil.subscribeAsync(jobsSubscription('north'), { qos: 1 });
    const c = northCoordinator();
    await c.start();
    let out: CoordinatedScanOutput;
    try {
      assert.deepEqual(await c.waitForAgents(['north'], 10_000), []);
      out = await c.scan({ targets: '127.0.60.9', ports: [closedPort], leaseMs: 5000, claimWaitMs: 5000, maxAttempts: 1, deadlineMs: 30_000 });
    } finally {
      await endHostile(c, evil);
    }
    const shown = JSON.stringify(out.notDone.map((s) => [s.refusals, s.problems]));
    assert.ok(out.notDone[0]?.refusals.length, shown);
    for (const text of [...out.notDone[0].refusals.map((r) => r.reason), ...out.notDone[0].problems]) {
      assert.ok(!/[\x00-\x1f\x7f-\x9f\u202E]/.test(text), `raw control characters in ${JSON.stringify(text)}`);
    }
    assert.match(out.notDone[0].refusals[0].reason, /\\u\{1B\}\]0;pwned/);
  });

  it("another site's login (or one with no agent status) cannot make a shard fail with refusals: they count only from an agent of the shard's site", async () => {
    // north-2 says it is online in the north and takes nothing (the shard stays published);
    // south-1, which reads no north job but may write results under its own name, refuses
    // north's shard over and over, every attempt number.
    const quiet = await hostile('north-2');
    await quiet.publishAsync(statusTopic('north', 'north-2'), encodeMessage({ v: 1, type: 'status', site: 'north', state: 'online', scope: [NORTH], credentials: [], concurrency: 1, at: Date.now() }), { qos: 1, retain: true });
    const south = await hostile('south-1');
    await south.publishAsync(statusTopic('south', 'south-1'), encodeMessage({ v: 1, type: 'status', site: 'south', state: 'online', scope: ['127.0.61.0/24'], credentials: [], concurrency: 1, at: Date.now() }), { qos: 1, retain: true }).catch(() => undefined);
    const c = new ScanCoordinator({ broker: hubOptions('coordinator'), sites: { north: NORTH, south: '127.0.61.0/24' }, clientId: 'hostile-test-coordinator' });
    await c.start();
    const ignored: IgnoredReport[] = [];
    c.on('ignored', (i: IgnoredReport) => ignored.push(i));
    const scanId = 'cross-site-refusals';
    let spam: NodeJS.Timeout | null = null;
    let out: CoordinatedScanOutput;
    try {
      assert.deepEqual(await c.waitForAgents(['north'], 10_000), []);
      let sent = 0;
      spam = setInterval(() => {
        if (sent++ >= 40) return;
        for (let attempt = 1; attempt <= 3; attempt++) {
          void south.publishAsync(reportTopic(scanId, 0, 'south-1'), JSON.stringify({ v: 1, type: 'refusal', scanId, shard: 0, attempt, code: 'scope', reason: 'not mine' }), { qos: 1 }).catch(() => undefined);
        }
      }, 50);
      out = await c.scan({ scanId, sites: ['north'], targets: '127.0.60.9', ports: [closedPort], leaseMs: 5000, claimWaitMs: 1500, maxAttempts: 2, deadlineMs: 4000 });
    } finally {
      if (spam) clearInterval(spam);
      await c.stop();
      await quiet.publishAsync(statusTopic('north', 'north-2'), '', { qos: 1, retain: true });
      await south.publishAsync(statusTopic('south', 'south-1'), '', { qos: 1, retain: true }).catch(() => undefined);
      await Promise.all([quiet, south].map((x) => x.endAsync(true).catch(() => undefined)));
    }
    const [shard] = out.shards;
    assert.deepEqual(shard.refusals, [], JSON.stringify(shard.refusals));
    assert.equal(shard.failures, 0, JSON.stringify(shard.problems));
    assert.ok(shard.problems.includes('the scan deadline passed'), JSON.stringify(shard.problems));
    assert.ok(ignored.some((i) => i.login === 'south-1' && i.type === 'refusal'), JSON.stringify(ignored.slice(0, 3)));
  });

  it("a compromised coordinator's job cannot make an agent hand its login to rogue brokers in its scope (plain TCP, ws, untrusted TLS, every option a job may set)", async () => {
    const secret = `agent-held-${randomPassword()}`;
    const rightOnly = (u: string | undefined, p: string | undefined) => (u === 'scanner' && p === secret ? 'accept' : 'refuse');
    const selfSigned = generateServerCert(null, { hosts: ['127.0.0.1'], selfSigned: true });
    const rogues = await Promise.all([
      startRecordingBroker({ decide: rightOnly }),
      startRecordingBroker({ decide: rightOnly, websocket: true }),
      startRecordingBroker({ decide: rightOnly, tls: { cert: selfSigned.certPem, key: selfSigned.keyPem } }),
      startRecordingBroker({ decide: rightOnly, websocket: true, tls: { cert: selfSigned.certPem, key: selfSigned.keyPem } }),
      startRecordingBroker({ decide: () => 'accept' }),
    ]);
    const agent = new ScanAgent({
      broker: hubOptions('north-1'), site: 'north', scope: '127.0.0.1', clientId: 'hostile-test-agent-rogues',
      credentials: { lab: { username: 'scanner', password: secret } }, grantWaitMs: 5000,
      // Its operator allowed the options that act beyond reading: the job may set every option.
      allow: { writeTest: true, tryDefaults: true },
    });
    const events: AgentEvent[] = [];
    agent.on('event', (e: AgentEvent) => events.push(e));
    await agent.start();
    // The coordinator's login, driven by hand: the job asks for everything a job may ask for.
    const boss = await hostile('coordinator');
    const reports: Array<{ topic: string; payload: string }> = [];
    boss.on('message', (topic, payload) => {
      reports.push({ topic, payload: payload.toString('utf8') });
      const m = /^mqttsec\/results\/([^/]+)\/(\d+)\/([^/]+)$/.exec(topic);
      const r = JSON.parse(payload.toString('utf8')) as { type: string; attempt: number };
      if (m && r.type === 'claim') void boss.publishAsync(grantsTopic(m[3]), encodeMessage({ v: 1, type: 'grant', scanId: m[1], shard: Number(m[2]), attempt: r.attempt, granted: true }), { qos: 1 });
    });
    await boss.subscribeAsync('mqttsec/results/#', { qos: 1 });
    const scanId = 'rogue-job';
    const job: JobMessage = {
      v: 1, type: 'job', scanId, shard: 0, attempt: 1, site: 'north', targets: ['127.0.0.1'], ports: rogues.map((r) => r.port),
      options: { transport: 'auto', websocketPaths: ['/', '/mqtt'], versions: ['5.0', '3.1.1'], sniff: true, inspectTls: true, writeTest: true, tryDefaults: true, timeoutMs: 2000, listenMs: 300 },
      includeUnreachable: true, credentialsName: 'lab', leaseMs: 30_000, issuedAt: Date.now(),
    };
    try {
      await boss.publishAsync('mqttsec/north/jobs', encodeMessage(job), { qos: 1 });
      const deadline = Date.now() + 60_000;
      while (!events.some((e) => e.type === 'done' || e.type === 'refused') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    } finally {
      await agent.stop();
      await boss.endAsync(true).catch(() => undefined);
      await Promise.all(rogues.map((r) => r.stop()));
    }
    assert.ok(events.some((e) => e.type === 'done'), JSON.stringify(events));
    assert.ok(rogues.every((r) => r.connects.length > 0), `each rogue was probed: ${rogues.map((r) => r.connects.length).join(', ')}`);
    for (const [i, r] of rogues.entries()) assert.ok(!r.passwords().includes(secret), `rogue ${i} got the agent's login`);
    assert.ok(!reports.some((m) => m.payload.includes(secret) || m.payload.includes(passwords['north-1'])), 'no password in any report');
    assert.ok(reports.some((m) => m.payload.includes('"withheld"')), 'the results say the login was withheld');
  });

  it("the shipped ACL: an agent login cannot write another's status, another site's status, a job or a grant", async () => {
    const c = new ScanCoordinator({ broker: hubOptions('coordinator'), sites: { north: NORTH, south: '127.0.61.0/24' }, clientId: 'hostile-test-coordinator' });
    await c.start();
    const northOne = await hostile('north-1');
    const southOne = await hostile('south-1');
    const received: string[] = [];
    for (const x of [northOne, southOne]) x.on('message', (topic) => received.push(topic));
    await northOne.subscribeAsync(grantsTopic('north-1'), { qos: 1 });
    await southOne.subscribeAsync(jobsSubscription('south'), { qos: 1 });
    const evil = await hostile('north-2');
    const online = (site: string) => encodeMessage({ v: 1, type: 'status', site, state: 'online', scope: [NORTH], credentials: [], concurrency: 64, at: Date.now() });
    try {
      // MQTT 5: Mosquitto answers each with PUBACK 0x87 Not authorized.
      const denied = await Promise.all([
        evil.publishAsync(statusTopic('north', 'north-1'), online('north'), { qos: 1, retain: true }),
        evil.publishAsync(statusTopic('south', 'north-2'), online('south'), { qos: 1, retain: true }),
        evil.publishAsync('mqttsec/south/jobs', '{"v":1}', { qos: 1 }),
        evil.publishAsync(grantsTopic('north-1'), encodeMessage({ v: 1, type: 'grant', scanId: 's', shard: 0, attempt: 1, granted: true }), { qos: 1 }),
      ].map((p) => p.then(() => 'published', (err: Error) => err.message)));
      assert.deepEqual(denied, Array(4).fill('Publish error: Not authorized'));
      await new Promise((r) => setTimeout(r, 1000));
      // (Earlier tests' agents may have left their own retained status: only the forged ones matter.)
      assert.ok(!c.agents().some((a) => a.concurrency === 64 || (a.login === 'north-2' && a.site === 'south')), JSON.stringify(c.agents()));
      assert.deepEqual(received, []);
    } finally {
      await c.stop();
      await Promise.all([northOne, southOne, evil].map((x) => x.endAsync(true).catch(() => undefined)));
    }
  });

  it('a report left retained on the broker (before the scan, by a login now gone) does not count', async () => {
    // north-2 is an agent of the north (its status says so), leaves a retained refusal for a scan
    // id it guessed, and disconnects. When the scan starts, the broker hands it to the coordinator.
    const scanId = 'guessable-scan-1';
    const evil = await hostile('north-2');
    await evil.publishAsync(statusTopic('north', 'north-2'), encodeMessage({ v: 1, type: 'status', site: 'north', state: 'online', scope: [NORTH], credentials: [], concurrency: 1, at: Date.now() }), { qos: 1, retain: true });
    await evil.publishAsync(reportTopic(scanId, 0, 'north-2'), JSON.stringify({ v: 1, type: 'refusal', scanId, shard: 0, attempt: 1, code: 'scope', reason: 'left behind' }), { qos: 1, retain: true });
    await evil.endAsync(true);
    const c = northCoordinator();
    await c.start();
    const ignored: IgnoredReport[] = [];
    c.on('ignored', (i: IgnoredReport) => ignored.push(i));
    let out: CoordinatedScanOutput;
    try {
      assert.deepEqual(await c.waitForAgents(['north'], 10_000), []);
      out = await c.scan({ scanId, targets: '127.0.60.9', ports: [closedPort], leaseMs: 5000, claimWaitMs: 5000, maxAttempts: 1, deadlineMs: 2500 });
    } finally {
      await c.stop();
      const tidy = await hostile('north-2');
      await tidy.publishAsync(reportTopic(scanId, 0, 'north-2'), '', { qos: 1, retain: true });
      await tidy.publishAsync(statusTopic('north', 'north-2'), '', { qos: 1, retain: true });
      await tidy.endAsync(true);
    }
    const [shard] = out.shards;
    assert.deepEqual(shard.refusals, [], JSON.stringify(shard));
    assert.deepEqual(shard.problems, ['the scan deadline passed']);
    assert.ok(ignored.some((i) => i.login === 'north-2' && /retained/.test(i.reason)), JSON.stringify(ignored));
    // It still counts against north-2's report budget for the scan (counted before it is read).
    const north2 = out.reportBudget.logins.find((u) => u.login === 'north-2');
    assert.ok(north2 && north2.messages === 1 && north2.bytes > 0 && north2.held === 0, JSON.stringify(out.reportBudget));
  });

  it("an agent does not take a broker whose certificate names another address (the host is checked, not only the CA)", async function () {
    // The same config with a certificate for 127.0.0.9 only: reached at 127.0.0.1, it must be refused.
    const other = await startMosquitto('sites', { users: passwords, acl: SHIPPED_ACL, hosts: ['127.0.0.9'] });
    try {
      const agent = new ScanAgent({
        broker: { url: `mqtts://127.0.0.1:${other.port}`, username: 'north-1', password: passwords['north-1'], ca: readFileSync(other.caPath!), connectTimeoutMs: 5000 },
        site: 'north', scope: NORTH, clientId: 'hostile-test-wrong-host',
      });
      await assert.rejects(agent.start(), /cannot connect to the broker \(.*(IP: 127\.0\.0\.1 is not in the cert's list|altnames)/i);
    } finally {
      await other.stop();
    }
  });
});
