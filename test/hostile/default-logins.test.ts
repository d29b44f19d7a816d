// Default logins (--try-defaults) against a broker that throttles failed logins: a real aedes
// broker whose authenticate hook answers return code 3 (Server unavailable) to everyone once four
// logins failed within a minute, as lockout plug-ins do. The pairs go one at a time and stop at
// the first answer that is not a refusal of the login; the result says the test was cut short,
// never "all refused". The CLI's engine (runScan) and the broker probe node give the same verdict.
import { strict as assert } from 'node:assert';
import { createServer, type Server, type Socket } from 'node:net';
import { runScan } from '../../lib/pipeline';
import { collect, helper, load, NODES } from '../nodes/node-red';
import type { ScanResult } from '../../lib/types';

interface Throttled {
  port: number;
  /** Logins the broker saw, in order (user names only). */
  seen: string[];
  stop(): Promise<void>;
}

/** aedes: refuses every login with 5 (Not authorized) except mqtt/mqtt; after 4 failures, 3 to all. */
async function startThrottledAedes(failuresAllowed = 4): Promise<Throttled> {
  const { Aedes } = await import('aedes');
  const failures: number[] = [];
  const seen: string[] = [];
  const broker = await Aedes.createBroker({
    authenticate: (_client, username, password, done) => {
      seen.push(username ?? '(anonymous)');
      const now = Date.now();
      while (failures.length && now - failures[0] > 60_000) failures.shift();
      if (failures.length >= failuresAllowed) return done(Object.assign(new Error('throttled'), { returnCode: 3 }), false);
      if (username === 'mqtt' && password?.toString() === 'mqtt') return done(null, true);
      failures.push(now);
      return done(Object.assign(new Error('not authorized'), { returnCode: 5 }), false);
    },
  });
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.once('close', () => sockets.delete(s));
    broker.handle(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    seen,
    stop: () => new Promise<void>((r) => broker.close(() => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    })),
  };
}

function check(r: ScanResult, seen: string[]): void {
  const d = r.auth.defaultCredentials!;
  assert.ok(d, 'the default-login test ran');
  assert.equal(d.outcome, 'error', `never "refused" when the broker stopped answering about logins: ${JSON.stringify(d)}`);
  assert.equal(d.code, 3);
  assert.match(d.detail ?? '', /cut short after \d of 8 pairs/);
  assert.match(d.detail ?? '', /not a refusal of the login/);
  assert.equal(r.classification, 'not_authorized');
  assert.ok((r.evidence ?? []).some((e) => /default logins: cut short/.test(e)), JSON.stringify(r.evidence));
  // The first answer of 3 ended the test: no burst of the remaining pairs.
  const defaults = seen.filter((u) => ['admin', 'guest', 'mosquitto', 'mqtt', 'user', 'test'].includes(u));
  assert.ok(defaults.length < 8, `${defaults.length} default pairs were sent: ${defaults.join(', ')}`);
}

describe('default logins against a broker that throttles failed logins (aedes authenticate hook)', function () {
  this.timeout(60_000);
  let broker: Throttled;
  beforeEach(async () => {
    broker = await startThrottledAedes();
  });
  afterEach(async () => {
    await broker.stop();
    await helper.unload();
  });

  it('the CLI engine stops at the first throttle answer and says the test was cut short', async () => {
    const { results } = await runScan({ targets: '127.0.0.1', ports: String(broker.port), tryDefaults: true, sniff: false, inspectTls: false });
    assert.equal(results.length, 1);
    check(results[0], broker.seen);
  });

  it('the broker probe node gives the same verdict', async () => {
    await load([NODES.expander, NODES.probe], [
      { id: 'exp', type: 'mqttsec-target-expander', targets: '127.0.0.1', ports: String(broker.port), maxTargets: 16, wires: [['probe']] },
      { id: 'probe', type: 'mqttsec-broker-probe', timeout: 2000, concurrency: 16, probeConcurrency: 4, transport: 'auto', versions: 'both', tlsPorts: '', emitUnreachable: true, tryDefaults: true, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ]);
    const done = collect('out', (m) => m.some((x) => x.complete === true), 30_000);
    helper.getNode('exp').receive({ payload: Date.now() });
    const found = (await done).filter((m) => !m.complete).map((m) => m.payload as ScanResult);
    assert.equal(found.length, 1);
    check(found[0], broker.seen);
  });
});
