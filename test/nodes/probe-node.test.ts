// Our nodes in a real Node-RED runtime: messages in and out, completion, Catch, credentials, close.
import { strict as assert } from 'node:assert';
import * as net from 'node:net';
import { collect, helper, load, NODES, type FlowNode } from './node-red';
import { requireTool } from '../support/tools';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto';
import { closedPort, startTarpit, type Fixture } from '../support/fixtures';
import { watchLoop } from '../support/loop-watch';

type Msg = Record<string, unknown>;
const ALL = [NODES.credentials, NODES.expander, NODES.probe, NODES.catch, NODES.tls];
const isComplete = (msgs: Msg[]) => msgs.some((m) => m.complete === true);

function scanFlow(expander: Partial<FlowNode> = {}, probe: Partial<FlowNode> = {}): FlowNode[] {
  return inTab([
    { id: 'exp', type: 'mqttsec-target-expander', targets: '127.0.0.1', ports: '', maxTargets: 65536, batchSize: 256, allowPublic: false, wires: [['probe']], ...expander },
    { id: 'probe', type: 'mqttsec-broker-probe', timeout: 1500, concurrency: 64, probeConcurrency: 8, transport: 'auto', versions: 'both', tlsPorts: '', emitUnreachable: false, wires: [['out']], ...probe },
    { id: 'out', type: 'helper' },
    { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper' },
  ]);
}

/** Catch nodes only see errors of their own flow tab. */
function inTab(nodes: FlowNode[]): FlowNode[] {
  return [{ id: 'flow1', type: 'tab', label: 'test' }, ...nodes.map((n) => ({ z: 'flow1', ...n }))];
}

describe('nodes: target expander + broker probe in Node-RED', function () {
  let insecure: MosquittoBroker;
  let secure: MosquittoBroker;
  /** Node-RED's own tls-config node holding the test broker's CA file. */
  const labCa = (): FlowNode => ({ id: 'labca', type: 'tls-config', z: 'flow1', cert: '', key: '', ca: secure.caPath!, verifyservercert: false });
  const fixtures: Fixture[] = [];

  before(async function () {
    requireTool(this, 'mosquitto');
    [insecure, secure] = await Promise.all([startMosquitto('insecure'), startMosquitto('secure')]);
  });
  afterEach(async () => {
    await helper.unload();
  });
  after(async () => {
    await Promise.all([insecure?.stop(), secure?.stop(), ...fixtures.map((f) => f.close())]);
  });

  it('sends one message per broker found and a completion message with the counts', async () => {
    const closed = await closedPort();
    await load(ALL, scanFlow({ ports: `${insecure.port},${secure.port},${closed}` }));
    const done = collect('out', isComplete);
    helper.getNode('exp').receive({ payload: Date.now() });
    const msgs = await done;
    const results = msgs.filter((m) => !m.complete).map((m) => m.payload as Record<string, unknown>);
    assert.equal(results.length, 2, 'the closed port is counted, not sent');
    const byPort = new Map(results.map((r) => [r.port, r]));
    assert.equal((byPort.get(insecure.port) as Msg).classification, 'open_or_auth_ok');
    assert.equal((byPort.get(secure.port) as Msg).classification, 'not_authorized');
    assert.equal((byPort.get(secure.port) as Msg).transport, 'tls');
    const summary = msgs.at(-1)!.payload as { targets: number; reachability: Msg; classification: Msg };
    assert.equal(summary.targets, 3);
    assert.deepEqual(summary.reachability, { open: 2, closed: 1, filtered: 0, error: 0 });
    assert.equal(summary.classification.unreachable_or_firewalled, 1);
    assert.equal(msgs.at(-1)!.scanId, results[0].scanId);
  });

  it('closed ports: "auto" (the default) sends them for a small scan, like the CLI; "false" counts them only; a flow from before the choice keeps its checkbox (issue 18)', async () => {
    const closed = await closedPort();
    const sent = async (emitUnreachable: unknown) => {
      await load(ALL, scanFlow({ ports: `${insecure.port},${closed}` }, emitUnreachable === undefined ? { emitUnreachable: undefined } : { emitUnreachable }));
      const done = collect('out', isComplete);
      helper.getNode('exp').receive({ payload: Date.now() });
      const msgs = await done;
      await helper.unload();
      return msgs.filter((m) => !m.complete).map((m) => [(m.payload as { port: number }).port, (m.payload as { reachability: string }).reachability]);
    };
    const both = [[insecure.port, 'open'], [closed, 'closed']].sort((a, b) => Number(a[0]) - Number(b[0]));
    for (const setting of ['auto', undefined, true, 'true']) assert.deepEqual((await sent(setting)).sort((a, b) => Number(a[0]) - Number(b[0])), both, String(setting));
    for (const setting of [false, 'false']) assert.deepEqual(await sent(setting), [[insecure.port, 'open']], String(setting));
  });

  it('msg.tryDefaults (the dashboard\'s switch, the API\'s try_defaults) makes the probe try the well-known default logins for that scan only (issue 18)', async () => {
    // A broker whose only account is admin/admin: anonymous and made-up logins are refused.
    const weak = await startMosquitto({ conf: 'listener 1883\nallow_anonymous false\npassword_file passwd\n' }, { users: { admin: 'admin' } });
    try {
      const run = async (tryDefaults: boolean) => {
        await load(ALL, scanFlow({ ports: String(weak.port) }));
        const done = collect('out', isComplete);
        helper.getNode('exp').receive({ payload: Date.now(), ...(tryDefaults ? { tryDefaults: true } : {}) });
        const msgs = await done;
        await helper.unload();
        return msgs.filter((m) => !m.complete).map((m) => m.payload as { auth: { defaultCredentials?: { outcome: string; username?: string } } })[0];
      };
      const asked = await run(true);
      assert.deepEqual([asked.auth.defaultCredentials?.outcome, asked.auth.defaultCredentials?.username], ['accepted', 'admin']);
      assert.ok(!JSON.stringify(asked).includes('"password"'), 'the pair\'s password is in no result');
      const notAsked = await run(false);
      assert.equal(notAsked.auth.defaultCredentials, undefined, 'the next scan without the switch tries none');
    } finally {
      await weak.stop();
    }
  });

  it('ports "${MQTTSEC_LAB_PORTS}" (the shipped examples) scan the ports `npm start` exports, as Node-RED loads the flow (issue 18)', async () => {
    const saved = process.env.MQTTSEC_LAB_PORTS;
    process.env.MQTTSEC_LAB_PORTS = `${insecure.port},${secure.port}`;
    try {
      await load(ALL, scanFlow({ ports: '${MQTTSEC_LAB_PORTS}' }));
      const done = collect('out', isComplete);
      helper.getNode('exp').receive({ payload: Date.now() });
      const msgs = await done;
      const ports = msgs.filter((m) => !m.complete).map((m) => (m.payload as { port: number }).port).sort((a, b) => a - b);
      assert.deepEqual(ports, [insecure.port, secure.port].sort((a, b) => a - b));
    } finally {
      if (saved === undefined) delete process.env.MQTTSEC_LAB_PORTS;
      else process.env.MQTTSEC_LAB_PORTS = saved;
    }
  });

  it('a scan big enough for sweep threads (16,448 targets in 5 batches) finds the broker among them and counts every target', async function () {
    this.timeout(30_000);
    await load(ALL, scanFlow({ targets: '127.0.1.0/24, 127.0.0.1', ports: `1-63,${insecure.port}`, batchSize: 4096 }, { concurrency: 1024 }));
    const done = collect('out', isComplete);
    helper.getNode('exp').receive({ payload: Date.now() });
    const msgs = await done;
    const summary = msgs.at(-1)!.payload as { targets: number; reachability: Record<string, number> };
    assert.equal(summary.targets, 257 * 64);
    assert.equal(Object.values(summary.reachability).reduce((a, b) => a + b, 0), 257 * 64, JSON.stringify(summary.reachability));
    assert.equal(summary.reachability.error, 0);
    const found = msgs.filter((m) => !m.complete).map((m) => m.payload as Msg);
    assert.ok(found.some((r) => r.host === '127.0.0.1' && r.port === insecure.port && r.classification === 'open_or_auth_ok'), JSON.stringify(found.map((r) => `${r.host}:${r.port}`)));
  });

  describe('the expander paces its batches on the probe\'s sweep', function () {
    this.timeout(30_000);
    // 1,024 loopback hosts x 32 closed ports = 32,768 targets in 128 batches of 256; at most 16
    // batches (4,096 targets) are sent ahead of the sweep.
    const big = { targets: '127.0.1.0/22', ports: '1-32', batchSize: 256 };
    const tapped = (extra: Partial<FlowNode> = {}) => {
      const flow = scanFlow({ ...big, wires: [['probe', 'tap']], ...extra }, { concurrency: 256 });
      flow.push({ id: 'tap', type: 'helper', z: 'flow1' });
      return flow;
    };

    it('batches go out as the sweep takes them, not all at once; every target is counted', async () => {
      await load(ALL, tapped());
      const arrivals: number[] = [];
      helper.getNode('tap').on('input', () => arrivals.push(Date.now()));
      const done = collect('out', isComplete);
      helper.getNode('exp').receive({ payload: Date.now() });
      const msgs = await done;
      const finishedAt = Date.now();
      const summary = msgs.at(-1)!.payload as { targets: number; reachability: Record<string, number> };
      assert.equal(arrivals.length, 128);
      assert.equal(summary.targets, 32_768);
      assert.equal(Object.values(summary.reachability).reduce((a, b) => a + b, 0), 32_768);
      // Sent at once, all 128 would arrive within a few ms of the first; paced, the last one
      // waits until the sweep is most of the way through.
      const spread = (arrivals.at(-1)! - arrivals[0]) / (finishedAt - arrivals[0]);
      assert.ok(spread > 0.5, `batches arrived over ${Math.round(spread * 100)}% of the scan`);
    });

    it('stops sending when the probe cancels the scan', async () => {
      await load(ALL, tapped());
      let arrived = 0;
      helper.getNode('tap').on('input', () => arrived++);
      const done = collect('out', isComplete);
      helper.getNode('exp').receive({ payload: Date.now() });
      await new Promise((r) => setTimeout(r, 30));
      helper.getNode('probe').receive({ cancel: true });
      const msgs = await done;
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((msgs.at(-1)!.payload as { cancelled?: boolean }).cancelled, true);
      assert.ok(arrived < 128, `${arrived} of 128 batches were sent`);
    });

    it('with no probe downstream it sends everything, one batch per turn of the event loop', async () => {
      await load(ALL, inTab([
        { id: 'exp', type: 'mqttsec-target-expander', ...big, maxTargets: 65536, wires: [['tap']] },
        { id: 'tap', type: 'helper' },
      ]));
      const loop = watchLoop(5);
      const got = collect('tap', (m) => m.length === 128);
      helper.getNode('exp').receive({ payload: Date.now() });
      const batches = await got.finally(() => loop.stop());
      assert.deepEqual(batches.map((b) => (b.scan as Msg).batch), Array.from({ length: 128 }, (_, i) => i));
      assert.ok(loop.maxGap < 200, `the event loop was blocked ${loop.maxGap} ms`);
    });
  });

  it('splits a big range into batches that name their scan, total and index', async () => {
    await load(ALL, [
      { id: 'exp', type: 'mqttsec-target-expander', targets: '127.1.0.0/24', ports: '1883', maxTargets: 65536, batchSize: 100, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ]);
    const got = collect('out', (m) => m.length === 3);
    helper.getNode('exp').receive({ payload: Date.now() });
    const batches = await got;
    assert.deepEqual(batches.map((b) => (b.payload as unknown[]).length), [100, 100, 56]);
    const scans = batches.map((b) => b.scan as Msg);
    assert.deepEqual(scans.map((s) => s.batch), [0, 1, 2]);
    assert.ok(scans.every((s) => s.total === 256 && s.batches === 3 && s.id === scans[0].id));
    assert.deepEqual((batches[0].payload as unknown[])[0], { host: '127.1.0.0', port: 1883 });
  });

  it('a bad target reaches a Catch node with the bad token named, and nothing is probed', async () => {
    await load(ALL, scanFlow());
    const caught = collect('caught', (m) => m.length === 1);
    let probed = 0;
    helper.getNode('out').on('input', () => probed++);
    helper.getNode('exp').receive({ payload: '10.0.0.0/33' });
    const [msg] = await caught;
    assert.match((msg.error as { message: string }).message, /"10\.0\.0\.0\/33": prefix must be 0-32/);
    assert.equal(probed, 0);
  });

  it('a public target is refused unless the node allows public addresses', async () => {
    await load(ALL, scanFlow());
    const caught = collect('caught', (m) => m.length === 1);
    helper.getNode('exp').receive({ payload: { targets: '8.8.8.8', ports: [1883] } });
    const [msg] = await caught;
    assert.match((msg.error as { message: string }).message, /"8\.8\.8\.8".*allowPublic/);
  });

  it('a message that fails (wrong payload type) reaches a Catch node without its login', async () => {
    const password = 'catch-node-must-not-see-this';
    await load(ALL, scanFlow());
    const caught = collect('caught', (m) => m.length === 2);
    helper.getNode('exp').receive({ payload: { targets: 42 }, credentials: { username: 'u', password }, sendCredentialsPlaintext: true });
    helper.getNode('probe').receive({ payload: 12345, creds: { user: 'u', pass: password } });
    const msgs = await caught;
    const errors = msgs.map((m) => (m.error as { message: string }).message).join('\n');
    assert.match(errors, /"targets": must be a string/);
    assert.match(errors, /expected a batch from the target expander/);
    assert.ok(!JSON.stringify(msgs).includes(password), 'the password reached a Catch node');
    assert.ok(msgs.every((m) => m.credentials === undefined && m.creds === undefined && m.sendCredentialsPlaintext === undefined));
  });

  it('tests the credentials of its config node; the password leaves in no message', async () => {
    const password = secure.users.student;
    // A TLS config with the broker's CA: its certificate is trusted, so the login may go (lib/credentials).
    const flow = scanFlow({ ports: String(secure.port) }, { auth: 'creds', tls: 'labca' });
    flow.push({ id: 'creds', type: 'mqttsec-credentials', name: 'lab', z: 'flow1' }, labCa());
    await load(ALL, flow, { creds: { username: 'student', password } });
    const done = collect('out', isComplete);
    helper.getNode('exp').receive({ payload: Date.now() });
    const msgs = await done;
    const result = msgs[0].payload as { auth: { givenCredentials: { outcome: string } }; classification: string };
    assert.equal(result.auth.givenCredentials.outcome, 'accepted');
    assert.equal(result.classification, 'open_or_auth_ok');
    assert.ok(!JSON.stringify(msgs).includes(password));
  });

  it('takes msg.credentials at the expander, out of every message, and still uses them', async () => {
    const password = secure.users.esp32;
    await load(ALL, [
      ...scanFlow({ ports: String(secure.port), wires: [['probe', 'batches']] }, { tls: 'labca' }),
      { id: 'batches', type: 'helper', z: 'flow1' },
      labCa(),
    ]);
    const batches = collect('batches', (m) => m.length === 1);
    const done = collect('out', isComplete);
    helper.getNode('exp').receive({ payload: '127.0.0.1', credentials: { username: 'esp32', password } });
    const [batch] = await batches;
    const msgs = await done;
    assert.equal(batch.credentials, undefined);
    assert.equal((msgs[0].payload as { auth: { givenCredentials: { outcome: string } } }).auth.givenCredentials.outcome, 'accepted');
    assert.ok(!JSON.stringify([batch, ...msgs]).includes(password));
  });

  it('answers a single "host:port" target directly, even when it is closed', async () => {
    const closed = await closedPort();
    await load(ALL, scanFlow());
    const done = collect('out', isComplete);
    helper.getNode('probe').receive({ payload: `127.0.0.1:${closed}` });
    const msgs = await done;
    assert.equal(msgs.length, 2);
    assert.equal((msgs[0].payload as Msg).reachability, 'closed');
    assert.equal((msgs[1].payload as Msg).targets, 1);
  });

  it('input that is not a target is an error on the probe, not a crash', async () => {
    await load(ALL, scanFlow());
    const caught = collect('caught', (m) => m.length === 1);
    helper.getNode('probe').receive({ payload: { nonsense: true } });
    const [msg] = await caught;
    assert.match((msg.error as { message: string }).message, /expected a batch from the target expander/);
  });

  it('msg.cancel stops a running scan and completes it as cancelled', async () => {
    const tarpit = await startTarpit();
    fixtures.push(tarpit);
    await load(ALL, scanFlow({ ports: String(tarpit.port) }, { timeout: 10_000 }));
    const done = collect('out', isComplete);
    helper.getNode('exp').receive({ payload: Date.now() });
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    helper.getNode('probe').receive({ cancel: true });
    const msgs = await done;
    assert.ok(Date.now() - started < 3000, 'cancel is prompt');
    assert.equal((msgs.at(-1)!.payload as Msg).cancelled, true);
  });

  it('closing the flow mid-scan ends every connection promptly', async () => {
    const server = net.createServer((s) => s.on('error', () => undefined).resume()); // reading, so it sees our FIN
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    fixtures.push({ host: '127.0.0.1', port, close: () => new Promise((r) => server.close(() => r())) });
    await load(ALL, scanFlow({ ports: String(port) }, { timeout: 30_000 }));
    helper.getNode('exp').receive({ payload: Date.now() });
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    await helper.unload();
    assert.ok(Date.now() - started < 5000, `unload took ${Date.now() - started} ms`);
    await new Promise((r) => setTimeout(r, 100));
    const open = await new Promise<number>((r) => server.getConnections((_e, n) => r(n)));
    assert.equal(open, 0, 'the tarpit sees no connection left open');
  });
});
