// Loads our built nodes (dist/) into a real Node-RED runtime through node-red-node-test-helper.
import helper from 'node-red-node-test-helper';

helper.init(require.resolve('node-red'));

export const NODES = {
  credentials: require('../../dist/nodes/mqttsec-credentials.js'),
  expander: require('../../dist/nodes/mqttsec-target-expander.js'),
  probe: require('../../dist/nodes/mqttsec-broker-probe.js'),
  catch: require('@node-red/nodes/core/common/25-catch.js'),
  tls: require('@node-red/nodes/core/network/05-tls.js'),
};

export type FlowNode = Record<string, unknown> & { id: string; type: string };

export function load(nodes: unknown[], flow: FlowNode[], credentials: Record<string, unknown> = {}): Promise<void> {
  return new Promise((resolve) => helper.load(nodes as never, flow, credentials, () => resolve()));
}

/** Collects every message a helper node receives until `until` says stop (or the time runs out). */
export function collect(
  nodeId: string,
  until: (msgs: Array<Record<string, unknown>>) => boolean,
  timeoutMs = 15_000,
): Promise<Array<Record<string, unknown>>> {
  const node = helper.getNode(nodeId);
  const msgs: Array<Record<string, unknown>> = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out with ${msgs.length} message(s): ${JSON.stringify(msgs).slice(0, 500)}`)), timeoutMs);
    node.on('input', (msg: Record<string, unknown>) => {
      msgs.push(msg);
      if (until(msgs)) {
        clearTimeout(timer);
        resolve(msgs);
      }
    });
  });
}

export { helper };
