// The sites protocol's contract without a broker: the strict parsers (every bad field named,
// sizes bounded), the topics (an agent's login is one topic level, never a wildcard), and the
// split of a scan's targets by site scope and into shards (lib/targets partition.ts).
import { strict as assert } from 'node:assert';
import {
  MAX_JOB_BYTES, MAX_RESULT_BYTES, SitesMessageError, checkBrokerUrl, checkLogin, checkSiteName, encodeMessage, jobsSubscription, jobsTopic,
  parseAgentReport, parseAgentStatus, parseCancel, parseCancelTopic, parseGrant, parseJob, parseReportTopic, parseStatusTopic, reportTopic, statusTopic,
  cancelTopic, type JobMessage,
} from '../../lib/sites';
import { canonicalAddress, firstOutsideScope, planTargets, scopeAddresses, splitByScope, TargetError } from '../../lib/targets';

const JOB: JobMessage = {
  v: 1, type: 'job', scanId: 'scan-1', shard: 3, attempt: 1, site: 'north', targets: ['127.0.60.0/30', '!127.0.60.2'], ports: [1883, 8883],
  options: { timeoutMs: 1000, listenMs: 500, transport: 'auto', versions: ['5.0'], sniff: true, inspectTls: false, writeTest: false, tryDefaults: false, websocketPaths: ['/mqtt'] },
  includeUnreachable: true, credentialsName: 'lab login', leaseMs: 30_000, issuedAt: 1_700_000_000_000,
};

const RESULT = {
  scanId: 'scan-1', host: '127.0.60.1', port: 1883, reachability: 'open', transport: 'tcp', classification: 'open_or_auth_ok',
  mqtt: { versions: {}, brokerVersion: null }, auth: { anonymous: { outcome: 'accepted' }, wrongCredentials: { outcome: 'accepted' }, givenCredentials: { outcome: 'not_tested' } }, error: null,
};

function field(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof SitesMessageError, `a SitesMessageError, got ${(err as Error).message}`);
    return err.field;
  }
  assert.fail('accepted');
}

describe('sites: the job parser', () => {
  it('reads a valid job back as it was written', () => {
    assert.deepEqual(parseJob(encodeMessage(JOB)), JOB);
    assert.deepEqual(parseJob(Buffer.from(encodeMessage(JOB))), JOB);
  });

  const bad: Array<[string, Record<string, unknown> | string, string]> = [
    ['not JSON', '{"v":1,', 'payload'],
    ['an array', '[1]', 'payload'],
    ['another protocol version', { ...JOB, v: 2 }, 'v'],
    ['another type', { ...JOB, type: 'grant' }, 'type'],
    ['a password riding along', { ...JOB, password: 'hunter2' }, 'password'],
    ['a login riding in the options', { ...JOB, options: { ...JOB.options, credentials: { username: 'a', password: 'b' } } }, 'options.credentials'],
    ['allowPublic chosen by the job', { ...JOB, options: { ...JOB.options, allowPublic: true } }, 'options.allowPublic'],
    ['a scan id with a topic level', { ...JOB, scanId: 'a/b' }, 'scanId'],
    ['a scan id that is a wildcard', { ...JOB, scanId: '#' }, 'scanId'],
    ['a negative shard', { ...JOB, shard: -1 }, 'shard'],
    ['a fractional shard', { ...JOB, shard: 1.5 }, 'shard'],
    ['attempt 0', { ...JOB, attempt: 0 }, 'attempt'],
    ['a site with a slash', { ...JOB, site: 'north/jobs' }, 'site'],
    ['a reserved site', { ...JOB, site: 'results' }, 'site'],
    ['no targets', { ...JOB, targets: [] }, 'targets'],
    ['a host name among the targets', { ...JOB, targets: ['broker.example'] }, 'targets[0]'],
    ['a shell word among the targets', { ...JOB, targets: ['127.0.0.1;reboot'] }, 'targets[0]'],
    ['port 0', { ...JOB, ports: [0] }, 'ports[0]'],
    ['port 65536', { ...JOB, ports: [65536] }, 'ports[0]'],
    ['a timeout below the bound', { ...JOB, options: { timeoutMs: 10 } }, 'options.timeoutMs'],
    ['a listen window of an hour', { ...JOB, options: { listenMs: 3_600_000 } }, 'options.listenMs'],
    ['an unknown transport', { ...JOB, options: { transport: 'carrier-pigeon' } }, 'options.transport'],
    ['MQTT 4.0', { ...JOB, options: { versions: ['4.0'] } }, 'options.versions'],
    ['a WebSocket path without /', { ...JOB, options: { websocketPaths: ['mqtt'] } }, 'options.websocketPaths'],
    ['a lease of 10 ms', { ...JOB, leaseMs: 10 }, 'leaseMs'],
    ['a credentials name with a newline', { ...JOB, credentialsName: 'lab\nx' }, 'credentialsName'],
    ['includeUnreachable as a string', { ...JOB, includeUnreachable: 'yes' }, 'includeUnreachable'],
  ];
  for (const [what, payload, expected] of bad) {
    it(`refuses ${what}, naming ${expected}`, () => {
      assert.equal(field(() => parseJob(typeof payload === 'string' ? payload : JSON.stringify(payload))), expected);
    });
  }

  it('refuses a job larger than MAX_JOB_BYTES before parsing it', () => {
    const huge = JSON.stringify({ ...JOB, targets: ['127.0.0.1'], pad: 'x'.repeat(MAX_JOB_BYTES) });
    const err = (() => {
      try {
        parseJob(huge);
      } catch (e) {
        return e as SitesMessageError;
      }
      return null;
    })();
    assert.ok(err);
    assert.equal(err.field, 'payload');
    assert.match(err.message, /more than 65536/);
  });
});

describe('sites: the agents\' reports, grants and status', () => {
  const ref = { v: 1, scanId: 'scan-1', shard: 0, attempt: 2 };

  it('reads each report type', () => {
    assert.equal(parseAgentReport(JSON.stringify({ ...ref, type: 'claim' })).type, 'claim');
    assert.equal(parseAgentReport(JSON.stringify({ ...ref, type: 'progress', swept: 1, open: 1, probed: 0, total: 4 })).type, 'progress');
    assert.equal(parseAgentReport(JSON.stringify({ ...ref, type: 'result', result: RESULT })).type, 'result');
    const counts = { reachability: { open: 1, closed: 3, filtered: 0, error: 0 }, classification: { open_or_auth_ok: 1, not_authorized: 0, unreachable_or_firewalled: 3, tls_or_ssl_error: 0, not_mqtt: 0 }, cancelled: false };
    assert.equal(parseAgentReport(JSON.stringify({ ...ref, type: 'done', count: 4, summary: counts, durationMs: 10 })).type, 'done');
    assert.equal(parseAgentReport(JSON.stringify({ ...ref, type: 'refusal', code: 'scope', reason: 'outside' })).type, 'refusal');
  });

  const bad: Array<[string, Record<string, unknown>, string]> = [
    ['an unknown type', { ...ref, type: 'takeover' }, 'type'],
    ['a result that is not one', { ...ref, type: 'result', result: { host: '127.0.0.1' } }, 'result'],
    ['a result of another scan', { ...ref, type: 'result', result: { ...RESULT, scanId: 'other' } }, 'result.scanId'],
    ['a result on port 0', { ...ref, type: 'result', result: { ...RESULT, port: 0 } }, 'result.port'],
    ['negative progress', { ...ref, type: 'progress', swept: -1, open: 0, probed: 0, total: 0 }, 'swept'],
    ['a done without counts', { ...ref, type: 'done', count: 1, summary: {}, durationMs: 1 }, 'summary.reachability'],
    ['a done with an invented count', { ...ref, type: 'done', count: 1, durationMs: 1, summary: { reachability: { open: 1, closed: 0, filtered: 0, error: 0, magic: 1 }, classification: {}, cancelled: false } }, 'summary.reachability.magic'],
    ['a refusal with an unknown code', { ...ref, type: 'refusal', code: 'bored', reason: 'x' }, 'code'],
    ['a refusal of a megabyte', { ...ref, type: 'refusal', code: 'scope', reason: 'x'.repeat(501) }, 'reason'],
  ];
  for (const [what, payload, expected] of bad) {
    it(`refuses ${what}, naming ${expected}`, () => assert.equal(field(() => parseAgentReport(JSON.stringify(payload))), expected));
  }

  it('refuses a result beyond MAX_RESULT_BYTES', () => {
    const big = JSON.stringify({ ...ref, type: 'result', result: { ...RESULT, pad: 'x'.repeat(MAX_RESULT_BYTES) } });
    assert.equal(field(() => parseAgentReport(big)), 'payload');
  });

  it('reads grants and status, and refuses their bad fields', () => {
    assert.equal(parseGrant(JSON.stringify({ ...ref, type: 'grant', granted: true })).granted, true);
    assert.equal(field(() => parseGrant(JSON.stringify({ ...ref, type: 'grant', granted: 'yes' }))), 'granted');
    const online = { v: 1, type: 'status', site: 'north', state: 'online', scope: ['127.0.60.0/24'], credentials: ['lab'], concurrency: 1, at: 1 };
    assert.deepEqual(parseAgentStatus(JSON.stringify(online)), online);
    assert.equal(field(() => parseAgentStatus(JSON.stringify({ ...online, state: 'asleep' }))), 'state');
    assert.equal(field(() => parseAgentStatus(JSON.stringify({ ...online, credentials: [{ username: 'a', password: 'b' }] }))), 'credentials[0]');
  });

  it('reads a cancel and its topic, and refuses their bad fields; no site may be named "cancel"', () => {
    assert.deepEqual(parseCancel(JSON.stringify({ v: 1, type: 'cancel', scanId: 'scan-1' })), { v: 1, type: 'cancel', scanId: 'scan-1' });
    assert.equal(field(() => parseCancel(JSON.stringify({ v: 1, type: 'cancel', scanId: 'a/b' }))), 'scanId');
    assert.equal(field(() => parseCancel(JSON.stringify({ v: 1, type: 'cancel', scanId: 's', shard: 0 }))), 'shard');
    assert.equal(parseCancelTopic(cancelTopic('scan-1')), 'scan-1');
    assert.equal(parseCancelTopic('mqttsec/cancel/+'), null);
    assert.equal(parseCancelTopic('mqttsec/cancel/a/b'), null);
    assert.equal(field(() => checkSiteName('cancel')), 'site');
  });
});

describe('sites: topics', () => {
  it('puts the jobs under mqttsec/ and shares them under the name "mqttsec"', () => {
    assert.equal(jobsTopic('north'), 'mqttsec/north/jobs');
    assert.equal(jobsSubscription('north'), '$share/mqttsec/mqttsec/north/jobs');
    assert.equal(reportTopic('scan-1', 7, 'north-1'), 'mqttsec/results/scan-1/7/north-1');
    assert.equal(statusTopic('north', 'north-1'), 'mqttsec/agents/north/north-1');
  });

  it('never lets a login or a site become a wildcard or another level', () => {
    for (const login of ['a/b', '+', '#', '', 'x'.repeat(65), 'é', ' a']) assert.throws(() => checkLogin(login), SitesMessageError, JSON.stringify(login));
    for (const site of ['North', 'a/b', '+', 'agents', 'grants', '-a', 'x'.repeat(33)]) assert.throws(() => checkSiteName(site), SitesMessageError, JSON.stringify(site));
    assert.throws(() => reportTopic('scan-1', 7, 'a/b'), SitesMessageError);
  });

  it('reads the login from a report or status topic, and nothing from other topics', () => {
    assert.deepEqual(parseReportTopic('mqttsec/results/scan-1/7/north-1'), { scanId: 'scan-1', shard: 7, login: 'north-1' });
    for (const t of ['mqttsec/results/scan-1/07/north-1', 'mqttsec/results/scan-1/7', 'mqttsec/results/scan-1/7/a/b', 'mqttsec/results/scan-1/99999/a', 'x/results/s/1/a']) {
      assert.equal(parseReportTopic(t), null, t);
    }
    assert.deepEqual(parseStatusTopic('mqttsec/agents/north/north-1'), { site: 'north', login: 'north-1' });
    assert.equal(parseStatusTopic('mqttsec/agents/results/north-1'), null);
  });
});

describe('sites: targets split by site scope and into shards', () => {
  const north = scopeAddresses('127.0.60.0/24');
  const south = scopeAddresses('127.0.61.0/24');

  it('gives each address to the first site whose scope holds it, and reports the rest', () => {
    const split = splitByScope('127.0.60.250-127.0.61.5,127.0.62.1,!127.0.61.3', [{ site: 'north', scope: north }, { site: 'south', scope: south }], { hostsPerShard: 4, maxShards: 100 });
    assert.deepEqual(split.sites.map((s) => [s.site, s.hosts, s.shards]), [
      ['north', 6, [['127.0.60.250-127.0.60.253'], ['127.0.60.254-127.0.60.255']]],
      ['south', 5, [['127.0.61.0-127.0.61.2', '127.0.61.4'], ['127.0.61.5']]],
    ]);
    assert.deepEqual(split.outside, ['127.0.62.1']);
    assert.equal(split.outsideHosts, 1);
  });

  it('makes shards that planTargets reads back to exactly the split addresses, each once', async () => {
    const split = splitByScope('127.0.60.0/24', [{ site: 'north', scope: north }], { hostsPerShard: 7, maxShards: 100 });
    const hosts: string[] = [];
    for (const shard of split.sites[0].shards) {
      const plan = await planTargets(shard, { ports: '1883' });
      assert.ok(plan.hostCount <= 7);
      hosts.push(...Array.from({ [Symbol.iterator]: () => plan.hosts() }));
    }
    const whole = await planTargets('127.0.60.0/24', { ports: '1883' });
    assert.deepEqual(hosts, Array.from({ [Symbol.iterator]: () => whole.hosts() }));
  });

  it('refuses a split into more shards than allowed, public addresses, and host names', () => {
    assert.throws(() => splitByScope('127.0.60.0/24', [{ site: 'north', scope: north }], { hostsPerShard: 1, maxShards: 100 }), (e: unknown) => e instanceof TargetError && e.code === 'limit');
    assert.throws(() => splitByScope('8.8.8.8', [{ site: 'north', scope: north }], { hostsPerShard: 1, maxShards: 100 }), (e: unknown) => e instanceof TargetError && e.code === 'scope');
    assert.throws(() => splitByScope('broker.example', [{ site: 'north', scope: north }], { hostsPerShard: 1, maxShards: 100 }), (e: unknown) => e instanceof TargetError && /not a host name/.test(e.message));
    assert.throws(() => scopeAddresses('0.0.0.0/8'), (e: unknown) => e instanceof TargetError && e.code === 'scope');
  });

  it("says the first address of a job outside an agent's scope", () => {
    assert.equal(firstOutsideScope(['127.0.60.1-127.0.60.9'], north), null);
    assert.equal(firstOutsideScope(['127.0.60.255-127.0.61.2'], north), '127.0.61.0');
    assert.equal(firstOutsideScope(['127.0.61.0/24', '!127.0.61.0-127.0.61.9'], south.concat(north)), null);
    assert.equal(firstOutsideScope(['::1'], north), '::1');
  });
});

describe('sites: canonicalAddress (what a result host must be)', () => {
  it('takes one address as the scanner writes it, nothing else', () => {
    for (const a of ['127.0.60.1', '::1', 'fe80::1', '::ffff:127.0.60.1', '2001:db8::7']) assert.equal(canonicalAddress(a), a, a);
    for (const a of ['127.0.60.0/30', '127.0.60.1-127.0.60.2', '127.0.60.1-2', '8.8.8.8,!8.8.8.8,127.0.60.1', '127.0.60.1 127.0.60.2', '127.0.60.1/32',
      '!127.0.60.1', '[::1]', '::FFFF:7F00:3C01', '::ffff:7f00:3c01', '0:0:0:0:0:0:0:1', '127.000.060.001', '2130721793', 'fe80::1%lo', '', 'broker.example']) {
      assert.equal(canonicalAddress(a), null, a);
    }
  });
});

describe('sites: text from an agent arrives with its hidden characters written out', () => {
  const ref = { v: 1, scanId: 'scan-1', shard: 0, attempt: 1 };
  it('a refusal reason: ESC, BEL, CR LF and a bidi override become \\u{HEX}', () => {
    const r = parseAgentReport(JSON.stringify({ ...ref, type: 'refusal', code: 'scope', reason: 'x\x1b[2J\x07\r\nforged\u202Eexe' }));
    assert.equal(r.type === 'refusal' && r.reason, 'x\\u{1B}[2J\\u{7}\\u{D}\\u{A}forged\\u{202E}exe');
  });
  it("a result's strings and keys, however deep; an honest result comes through unchanged", () => {
    const hostile = { ...RESULT, error: 'e\x1b]0;t\x07', mqtt: { versions: {}, brokerVersion: 'v\u200B1', extra: { 'k\x1b': ['\x9b31m'] } } };
    const r = parseAgentReport(JSON.stringify({ ...ref, type: 'result', result: hostile }));
    assert.ok(r.type === 'result');
    const text = JSON.stringify(r.result);
    assert.ok(!/\\u001b|\\u0007|\u200B|\x9b/.test(text), text);
    assert.equal(r.result.error, 'e\\u{1B}]0;t\\u{7}');
    assert.equal(r.result.mqtt.brokerVersion, 'v\\u{200B}1');
    const honest = parseAgentReport(JSON.stringify({ ...ref, type: 'result', result: { ...RESULT, error: 'a \\ b, "ü", 温度' } }));
    assert.deepEqual(honest.type === 'result' && honest.result, { ...RESULT, error: 'a \\ b, "ü", 温度' });
  });
});

describe('sites: checkBrokerUrl never repeats a login typed into the URL', () => {
  const secret = 'S3cret-Pass';
  for (const url of [`mqtts://north-1:${secret}@127.0.0.1:99999`, `mqtts://north-1:${secret}/x@127.0.0.1:8886`, `mqtts://north-1:${secret}@127.0.0.1:8886`,
    `mqtts:north-1:${secret}@127.0.0.1`, `north-1:${secret}@127.0.0.1:8886`, `mqtts://127.0.0.1:8886/${secret}@x`]) {
    it(url.replace(secret, '<password>'), () => {
      const problem = checkBrokerUrl(url);
      assert.ok(problem, 'refused');
      assert.ok(!problem.message.includes(secret), problem.message);
    });
  }
  it('takes mqtts://host:port, refuses a URL without a host', () => {
    assert.equal(checkBrokerUrl('mqtts://127.0.0.1:8886'), null);
    assert.equal(checkBrokerUrl('mqtts://[::1]:8886'), null);
    assert.match(String(checkBrokerUrl('mqtts:127.0.0.1')), /no host/);
  });
});

describe('sites: a parse error repeats no raw control character of the message', () => {
  const raw = /[\x00-\x1f\x7f-\x9f\u202E]/;
  const cases: Array<[string, () => unknown]> = [
    ['an unknown key in a status', () => parseAgentStatus(JSON.stringify({ v: 1, type: 'status', site: 'north', state: 'online', 'x\x1b]0;pwn\x07\u202E': 1 }))],
    ['an unknown key in a report', () => parseAgentReport(JSON.stringify({ v: 1, type: 'claim', scanId: 's', shard: 0, attempt: 1, '\r\nforged line': 1 }))],
    ['a bad site name', () => parseAgentStatus(JSON.stringify({ v: 1, type: 'status', site: 'n\x1b[2J', state: 'online' }))],
    ['a bad type', () => parseAgentReport(JSON.stringify({ v: 1, type: '\x1b[31mred', scanId: 's', shard: 0, attempt: 1 }))],
  ];
  for (const [what, fn] of cases) {
    it(what, () => {
      assert.throws(fn, (err: Error) => err instanceof SitesMessageError && !raw.test(err.message) && !raw.test(err.field));
    });
  }
});

describe('sites: a result the risk rules or a view could not read is refused at parse', () => {
  const ref = { v: 1, scanId: 'scan-1', shard: 0, attempt: 1, type: 'result' };
  const bad: Array<[string, Record<string, unknown>, string]> = [
    ['no anonymous attempt', { auth: { wrongCredentials: { outcome: 'rejected' }, givenCredentials: { outcome: 'not_tested' } } }, 'result.auth.anonymous'],
    ['an attempt without outcome', { auth: { ...RESULT.auth, wrongCredentials: {} } }, 'result.auth.wrongCredentials'],
    ['a made-up outcome', { auth: { ...RESULT.auth, givenCredentials: { outcome: 'maybe' } } }, 'result.auth.givenCredentials'],
    ['a default-login attempt that is no attempt', { auth: { ...RESULT.auth, defaultCredentials: 'yes' } }, 'result.auth.defaultCredentials'],
    ['a made-up classification', { classification: '<b>safe</b>' }, 'result.classification'],
    ['a made-up reachability', { reachability: 'maybe' }, 'result.reachability'],
    ['a made-up transport', { transport: 'carrier-pigeon' }, 'result.transport'],
    ['no mqtt object', { mqtt: null }, 'result.mqtt'],
  ];
  for (const [what, change, name] of bad) it(what, () => assert.equal(field(() => parseAgentReport(JSON.stringify({ ...ref, result: { ...RESULT, ...change } }))), name));
  it('takes the results the scanner writes (closed port: transport null)', () => {
    const closed = { ...RESULT, reachability: 'closed', transport: null, classification: 'unreachable_or_firewalled', auth: { anonymous: { outcome: 'not_tested' }, wrongCredentials: { outcome: 'not_tested' }, givenCredentials: { outcome: 'not_tested' } } };
    const r = parseAgentReport(JSON.stringify({ ...ref, result: closed }));
    assert.deepEqual(r.type === 'result' && r.result, closed);
  });
});

describe('sites: a result nested without end is refused by name, never a stack overflow', () => {
  it('300,000 nested arrays (600 kB) in a result', () => {
    const depth = 300_000;
    const payload = `{"v":1,"type":"result","scanId":"scan-1","shard":0,"attempt":1,"result":${JSON.stringify(RESULT).slice(0, -1)},"topics":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
    assert.ok(payload.length < MAX_RESULT_BYTES);
    assert.throws(() => parseAgentReport(payload), (err: Error) => err instanceof SitesMessageError && err.field === 'result' && /nested deeper than 32/.test(err.message));
  });
  it('a real result is far from the bound', () => {
    const nested = { ...RESULT, tls: { certificate: { chain: [{ subject: { CN: ['a'] } }] } } };
    assert.doesNotThrow(() => parseAgentReport(JSON.stringify({ v: 1, type: 'result', scanId: 'scan-1', shard: 0, attempt: 1, result: nested })));
  });
});
