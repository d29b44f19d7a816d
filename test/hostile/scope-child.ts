// Child of scope.test.ts, run inside a network namespace of its own (nothing can leave it): hands
// public hosts straight to the probe, the TLS inspector and the sniffer, and prints, per input,
// what the flow produced (errors caught, results sent) as one JSON line.
import helper from 'node-red-node-test-helper';
import { collect, core, load, NODES, type FlowNode } from '../nodes/node-red';

const SNIFFER = require('../../dist/nodes/mqttsec-topic-sniffer.js');
const INSPECTOR = require('../../dist/nodes/mqttsec-tls-inspector.js');

const flow: FlowNode[] = [
  { id: 'tab', type: 'tab', label: 'scope' },
  ...[
    { id: 'probe', type: 'mqttsec-broker-probe', timeout: 500, concurrency: 8, probeConcurrency: 4, transport: 'auto', versions: 'both', tlsPorts: '', emitUnreachable: true, wires: [['out']] },
    { id: 'inspector', type: 'mqttsec-tls-inspector', timeout: 500, wires: [['out']] },
    { id: 'sniffer', type: 'mqttsec-topic-sniffer', listen: 0.2, wires: [['out']] },
    { id: 'out', type: 'helper' },
    { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper' },
  ].map((n) => ({ z: 'tab', ...n })),
];

const result = (host: string, port: number, transport: string) => ({
  scanId: 's', host, port, reachability: 'open', transport, classification: 'open_or_auth_ok',
  mqtt: { versions: { '5.0': 'supported' } },
  auth: { anonymous: { outcome: 'accepted' }, wrongCredentials: { outcome: 'accepted' }, givenCredentials: { outcome: 'not_tested' } },
  error: null,
});

const CASES: Array<{ name: string; node: string; msg: Record<string, unknown> }> = [
  { name: 'probe: "8.8.8.8:1883"', node: 'probe', msg: { payload: '8.8.8.8:1883' } },
  { name: 'probe: a hand-made batch with {host: "1.1.1.1"}', node: 'probe', msg: { payload: [{ host: '1.1.1.1', port: 1883 }], scan: { id: 'hand', total: 1, batches: 1 } } },
  { name: 'probe: a host name resolving to 8.8.4.4', node: 'probe', msg: { payload: 'public.example.test:1883' } },
  { name: 'TLS inspector: {host: "8.8.4.4"}', node: 'inspector', msg: { payload: result('8.8.4.4', 8883, 'tls') } },
  { name: 'sniffer: {host: "9.9.9.9"}', node: 'sniffer', msg: { payload: result('9.9.9.9', 1883, 'tcp') } },
];

async function main() {
  const out: Array<{ name: string; errors: string[]; sent: number }> = [];
  for (const c of CASES) {
    await load([NODES.probe, NODES.catch, INSPECTOR, SNIFFER, core('common/25-catch.js')], flow);
    const errors: string[] = [];
    let sent = 0;
    const caught = helper.getNode('caught') as unknown as { on(event: 'input', fn: (m: { error?: { message?: string } }) => void): void };
    caught.on('input', (m) => errors.push(String(m.error?.message)));
    helper.getNode('out').on('input', () => sent++);
    helper.getNode(c.node).receive(c.msg);
    // Long enough for a probe, an inspection or a listen to have produced something.
    await collect('caught', () => true, 3000).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 1500));
    out.push({ name: c.name, errors, sent });
    await helper.unload();
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
  process.exit(0);
}

void main();
