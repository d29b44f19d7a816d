// The node mqttsec-dashboard-view in a real Node-RED runtime: views of one tab share the flow
// context, a view's outputs go to the wires, an unknown view fails at input (Catch sees it), a
// redeploy answers a waiting API request 503 through its response; the editor's list of views and
// the help and labels are in step with lib/dashboard.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { VIEWS } from '../../lib/dashboard';
import { collect, helper, load, NODES, type FlowNode } from './node-red';

const ROOT = resolve(__dirname, '../..');
const VIEW = require('../../dist/nodes/mqttsec-dashboard-view.js');

function tab(nodes: Array<Record<string, unknown>>): FlowNode[] {
  return [
    { id: 't1', type: 'tab', label: 'test' },
    ...nodes.map((n) => ({ z: 't1', ...n }) as unknown as FlowNode),
    { id: 'catcher', type: 'catch', z: 't1', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 't1' },
  ];
}

const helpers = (...ids: string[]) => ids.map((id) => ({ id, type: 'helper' }));

describe('nodes: dashboard view', function () {
  this.timeout(20_000);
  afterEach(() => helper.unload());

  it('the form view starts a scan; the results view of the same tab finds it in the flow context', async () => {
    await load([VIEW, NODES.catch], tab([
      { id: 'form', type: 'mqttsec-dashboard-view', view: 'scan-form', outputs: 4, wires: [['scan'], ['refill'], ['progress'], ['results']] },
      { id: 'results', type: 'mqttsec-dashboard-view', view: 'scan-results', outputs: 3, wires: [['scanOut'], [], ['detail']] },
      ...helpers('scan', 'refill', 'progress', 'scanOut', 'detail'),
    ]));
    const scans = collect('scan', (m) => m.length === 1);
    const refills = collect('refill', (m) => m.length === 1);
    const shown = collect('scanOut', (m) => m.length === 1);
    helper.getNode('form').receive({ payload: { target: '127.0.0.1', ports: '1883', username: 'student', password: 'pw-node', listen: 0 } } as never);
    const [scan] = await scans;
    assert.match(String(scan.scanId), /^[0-9a-f]{16}$/, 'Node-RED\'s id');
    assert.deepEqual(scan.credentials, { username: 'student', password: 'pw-node' });
    const [refill] = await refills;
    assert.equal((refill.payload as Record<string, unknown>).password, '');
    assert.equal((refill.payload as Record<string, unknown>).username, 'student');
    const [redraw] = await shown;
    assert.equal((redraw.payload as { scanId: string }).scanId, scan.scanId, 'the scan the form started, from the flow context');
    const flow = helper.getNode('results').context().flow;
    assert.equal((flow.get('running') as { scanId: string }).scanId, scan.scanId);
    assert.ok(!JSON.stringify(flow.get('current')).includes('pw-node'));
  });

  it('several messages on one output (the live chart points) and nothing sent for null', async () => {
    await load([VIEW], tab([{ id: 'live', type: 'mqttsec-dashboard-view', view: 'live-values', outputs: 2, wires: [['points'], ['tiles']] }, ...helpers('points', 'tiles')]));
    const points = collect('points', (m) => m.length === 2);
    const tiles = collect('tiles', (m) => m.length === 1);
    const node = helper.getNode('live');
    node.receive({ payload: { topic: 'no values' } } as never);
    node.receive({ payload: { topic: 'dht', sensor: 'dht', values: { temperature: 20, humidity: 30 } } } as never);
    assert.deepEqual((await points).map((m) => [m.topic, m.payload]), [['Temperature °C', 20], ['Humidity %', 30]]);
    assert.deepEqual(Object.keys((await tiles)[0].payload as object), ['temperature', 'humidity']);
  });

  it('an unknown view fails each message, which a Catch node receives', async () => {
    await load([VIEW, NODES.catch], tab([{ id: 'bad', type: 'mqttsec-dashboard-view', view: 'no-such-view', outputs: 1, wires: [[]] }]));
    const caught = collect('caught', (m) => m.length === 1);
    helper.getNode('bad').receive({ payload: 1 } as never);
    const [c] = await caught;
    // The test runtime has no message catalogue: the key stands for "Unknown view "no-such-view": ...".
    assert.match(String((c.error as { message: string }).message), /no-such-view|errors\.unknownView/);
    assert.equal((c.error as { source: { id: string } }).source.id, 'bad');
  });

  it('a redeploy answers the API request still waiting for its scan 503 interrupted, through its response', async () => {
    process.env.MQTTSEC_API_SCAN_TIMEOUT = '60';
    try {
      await load([VIEW], tab([{ id: 'api', type: 'mqttsec-dashboard-view', view: 'api-scan', outputs: 2, wires: [['toScan'], ['answer']] }, ...helpers('toScan', 'answer')]));
      const started = collect('toScan', (m) => m.length === 1);
      const sent: Array<{ status: number; headers: Record<string, string>; body: string }> = [];
      const res = {
        _res: {
          headersSent: false,
          status: (status: number) => ({ set: (headers: Record<string, string>) => ({ send: (body: string) => void sent.push({ status, headers, body }) }) }),
        },
      };
      helper.getNode('api').receive({ payload: Buffer.from('{"target":"127.0.0.1","listen_duration":30}'), req: { body: 'x' }, res, apiKeyId: 'key0' } as never);
      const [scan] = await started;
      await helper.clearFlows(); // stops the flows as a redeploy does (unload would drop the flow context first)
      assert.equal(sent.length, 1);
      assert.equal(sent[0].status, 503);
      assert.deepEqual(JSON.parse(sent[0].body), { scanId: scan.scanId, error: 'interrupted', message: 'the flows were redeployed during the scan' });
      assert.equal(sent[0].headers['Cache-Control'], 'no-store');
    } finally {
      delete process.env.MQTTSEC_API_SCAN_TIMEOUT;
    }
  });
});

describe('nodes: dashboard view in the editor', () => {
  const html = readFileSync(join(ROOT, 'nodes/mqttsec-dashboard-view.html'), 'utf8');
  const locale = JSON.parse(readFileSync(join(ROOT, 'nodes/locales/en-US/mqttsec-dashboard-view.json'), 'utf8'))['mqttsec-dashboard-view'];
  const help = readFileSync(join(ROOT, 'nodes/locales/en-US/mqttsec-dashboard-view.html'), 'utf8');

  it('lists every view of lib/dashboard with its number of outputs, and no other', () => {
    const listed = [...html.matchAll(/\['(dashboard|both|api)', '([a-z-]+)', (\d+)\]/g)].map((m) => [m[2], Number(m[3])]);
    assert.deepEqual(Object.fromEntries(listed), Object.fromEntries(Object.entries(VIEWS).map(([name, v]) => [name, v.outputs])));
    assert.equal(listed.length, Object.keys(VIEWS).length);
  });

  it('has a name, a label for every output and a help entry for every view', () => {
    for (const [name, v] of Object.entries(VIEWS)) {
      assert.ok(locale.views[name], `views.${name}`);
      assert.deepEqual(Object.keys(locale.outputs[name] ?? {}), Array.from({ length: v.outputs }, (_, i) => String(i)), `outputs.${name}`);
      assert.ok(help.includes(name), `the help names ${name}`);
    }
  });
});
