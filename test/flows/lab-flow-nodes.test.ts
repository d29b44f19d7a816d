// Single nodes of the shipped lab flows run in a real Node-RED runtime: the credentials opt-in
// (msg.sendCredentialsPlaintext) that the dashboard form and the API body set next to
// msg.credentials (dashboard view nodes), and the TLS configuration that reads the lab CA through
// ${MQTTSEC_LAB_CA}.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeLabCerts } from '../../lab/certs';
import { collect, core, helper, load, type FlowNode } from '../nodes/node-red';

const ROOT = resolve(__dirname, '../..');
const flowOf = (file: string): FlowNode[] => JSON.parse(readFileSync(join(ROOT, 'flows', file), 'utf8'));
const VIEW = require('../../dist/nodes/mqttsec-dashboard-view.js');
const TLS = core('network/05-tls.js');

/** One node of a shipped flow, its outputs wired to helper nodes out0, out1, ... */
function alone(flow: FlowNode[], id: string): FlowNode[] {
  const n = { ...flow.find((x) => x.id === id)!, z: 't1' } as unknown as FlowNode & { wires: string[][] };
  const outs = n.wires.map((_, i) => ({ id: `out${i}`, type: 'helper', z: 't1' }));
  return [{ id: 't1', type: 'tab' }, { ...n, wires: outs.map((o) => [o.id]) }, ...outs];
}

describe('lab flows: single nodes in Node-RED', function () {
  this.timeout(30_000);
  afterEach(async () => {
    await helper.unload();
  });

  it('API request check: send_credentials_plaintext true sets msg.sendCredentialsPlaintext next to msg.credentials; otherwise it is absent', async () => {
    await load([VIEW], alone(flowOf('http-api.json'), 'api-scan'));
    const got = collect('out0', (m) => m.length === 3);
    const send = (extra: object) => helper.getNode('api-scan').receive({ payload: Buffer.from(JSON.stringify({ target: '127.0.0.1', creds: { user: 'u', pass: 'p' }, ...extra })), req: {}, res: {}, apiKeyId: 'key0' } as never);
    send({ send_credentials_plaintext: true });
    send({ send_credentials_plaintext: false });
    send({});
    const [yes, no, absent] = await got;
    assert.equal(yes.sendCredentialsPlaintext, true);
    assert.equal(JSON.stringify(yes.credentials), JSON.stringify({ username: 'u', password: 'p' }));
    assert.equal('sendCredentialsPlaintext' in no, false);
    assert.equal('sendCredentialsPlaintext' in absent, false);
  });

  it('dashboard form: the checkbox sets msg.sendCredentialsPlaintext on the scan message, only with a login', async () => {
    await load([VIEW], alone(flowOf('lab-dashboard.json'), 'lab-start'));
    const scans = collect('out0', (m) => m.length === 3);
    const refills = collect('out1', (m) => m.length === 3);
    const form = (extra: object) => ({ target: '127.0.0.1', ports: '1883', username: 'student', password: 'pw', listen: 0, writeTest: false, ...extra });
    const node = helper.getNode('lab-start');
    for (const payload of [form({ sendCredentialsPlaintext: true }), form({ sendCredentialsPlaintext: false }), form({ username: '', password: '', sendCredentialsPlaintext: true })]) {
      node.context().flow.set('running', null);
      node.receive({ payload });
    }
    const [opted, notOpted, noLogin] = await scans;
    assert.equal(opted.sendCredentialsPlaintext, true);
    assert.equal(JSON.stringify(opted.credentials), JSON.stringify({ username: 'student', password: 'pw' }));
    assert.equal('sendCredentialsPlaintext' in notOpted, false);
    assert.equal('sendCredentialsPlaintext' in noLogin, false);
    const refilled = (await refills).map((m) => (m.payload as Record<string, unknown>).sendCredentialsPlaintext);
    assert.deepEqual(refilled, [true, false, true], 'the form keeps the box as it was');
  });

  it('the flows\' TLS configuration reads the CA file named by MQTTSEC_LAB_CA (no CA inside the flow file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mqttsec-ca-'));
    const before = process.env.MQTTSEC_LAB_CA;
    try {
      const certs = writeLabCerts(dir, ['localhost', '127.0.0.1']);
      process.env.MQTTSEC_LAB_CA = certs.ca;
      for (const [file, id] of [['http-api.json', 'api-tls-ca'], ['lab-dashboard.json', 'lab-tls-ca']]) {
        const conf = flowOf(file).find((n) => n.id === id)!;
        assert.equal(conf.ca, '${MQTTSEC_LAB_CA}');
        assert.equal(conf.verifyservercert, false, 'the scanner still connects to brokers it does not trust, to report them');
        await load([TLS], [{ id: 't1', type: 'tab' }, { ...conf, z: 't1' }]);
        const node = helper.getNode(id) as unknown as { valid: boolean; ca?: Buffer };
        assert.equal(node.valid, true);
        assert.equal(node.ca?.toString(), readFileSync(certs.ca, 'utf8'));
        await helper.unload();
      }
    } finally {
      if (before === undefined) delete process.env.MQTTSEC_LAB_CA;
      else process.env.MQTTSEC_LAB_CA = before;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
