// Flow pieces for the listener-handoff tests (listener-handoff*.test.ts): a probe and sniffers with
// short timeouts, the helper sinks and a catch, on one tab.
import type { HandoffReceiver } from '../../nodes/shared/listener-handoff';
import { helper, type FlowNode } from './node-red';

/** A broker probe (1.5 s timeouts, 4 set-ups at once) wired to `wires`; `extra` overrides. */
export const probeNode = (wires: string[][], extra: Partial<FlowNode> = {}): FlowNode => ({
  id: 'probe', type: 'mqttsec-broker-probe', timeout: 1500, concurrency: 8, probeConcurrency: 4, transport: 'auto', versions: 'both', tlsPorts: '', emitUnreachable: false, wires, ...extra,
});

/** A topic sniffer listening 1 s to '#' and '$SYS/#', wired to `wires`; `extra` overrides. */
export const snifferNode = (id: string, wires: string[][], extra: Partial<FlowNode> = {}): FlowNode => ({
  id, type: 'mqttsec-topic-sniffer', listen: 1, subscriptions: '#, $SYS/#', sampleChars: 100, maxTopics: 500, concurrency: 8, writeTest: false, live: false, outputs: 1, wires, ...extra,
});

/** The helper node 'out', and a catch node that sends every node error to the helper 'caught'. */
export const sinks = (): FlowNode[] => [
  { id: 'out', type: 'helper' },
  { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
  { id: 'caught', type: 'helper' },
];

/** `nodes` on one tab, 'flow1'. */
export const tab = (nodes: FlowNode[]): FlowNode[] => [{ id: 'flow1', type: 'tab', label: 'test' }, ...nodes.map((n) => ({ z: 'flow1', ...n }))];

/** The handoff receiver a loaded topic sniffer offers (shared/listener-handoff.ts); throws when it offers none. */
export function receiverOf(id: string): HandoffReceiver {
  const r = (helper.getNode(id) as unknown as Record<symbol, HandoffReceiver | undefined>)[Symbol.for('mqttsec.listenerHandoff')];
  if (!r) throw new Error(`node ${id} offers no handoff receiver`);
  return r;
}
