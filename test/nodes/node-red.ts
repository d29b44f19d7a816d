// Loads our built nodes (dist/) into a real Node-RED runtime through node-red-node-test-helper.
import helper from 'node-red-node-test-helper';

// MQTTSEC_NODE_RED_DIR points at another node_modules (Node-RED 5 in CI's compatibility step).
const from = process.env.MQTTSEC_NODE_RED_DIR ? { paths: [process.env.MQTTSEC_NODE_RED_DIR] } : undefined;
helper.init(require.resolve('node-red', from));
export const core = (path: string) => require(require.resolve(`@node-red/nodes/core/${path}`, from));

export const NODES = {
  credentials: require('../../dist/nodes/mqttsec-credentials.js'),
  expander: require('../../dist/nodes/mqttsec-target-expander.js'),
  probe: require('../../dist/nodes/mqttsec-broker-probe.js'),
  catch: core('common/25-catch.js'),
  tls: core('network/05-tls.js'),
  tlsInspector: require('../../dist/nodes/mqttsec-tls-inspector.js'),
  sniffer: require('../../dist/nodes/mqttsec-topic-sniffer.js'),
  classifier: require('../../dist/nodes/mqttsec-risk-classifier.js'),
};

/** The scan chain's node modules, expander to risk classifier, with credentials, tls-config and catch. */
export const SCAN_CHAIN = [NODES.credentials, NODES.expander, NODES.probe, NODES.tlsInspector, NODES.sniffer, NODES.classifier, NODES.tls, NODES.catch];

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
