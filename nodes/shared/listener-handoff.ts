// Listening that begins at the probe's first CONNACK, in a flow. runScan starts a broker's
// listener as soon as the probe knows the transport and that anonymous clients get in (lib/pipeline
// stages.ts), so the listen window covers the rest of the auth grid. In a flow the topic sniffer
// only sees a broker once the probe's whole grid, and on TLS the inspection, are done: measured on
// the 1,000-broker bench farm (bench flow1000), the last listeners then started about a second
// after runScan's, and the flow took 1.2x the engine's time.
//
// So the probe node hands a broker that took its anonymous CONNECT straight to the topic sniffers
// its result will reach (found through the flow's wires, passing only our TLS inspectors, which
// change nothing but payload.tls and whose scope is no narrower than the probe's, and views that
// route a scan by its msg.sniff alone, as the lab's scan-route does), process-local, never in a
// message. The sniffer listens with its own settings and scope policy; when the probe's result
// arrives it takes that listener's topics if its own plan for the result is the same (anonymous,
// same transport, path and MQTT version), else it drops them and listens as before. Only
// anonymous listening is handed over: no login, no secret, ever travels this way.
import type { Node, NodeAPI } from 'node-red';
import type { MqttVersion, Target, Transport } from '../../lib/types';

/** A broker that took the probe's anonymous CONNECT (lib/probe Established), for one scan. */
export interface BrokerHandoff {
  scanId: string;
  /** The address the probe connected to (already in the probe's scope policy). */
  target: Target;
  transport: Transport;
  /** ws and wss: the HTTP path the broker upgraded. */
  websocketPath?: string;
  /** The MQTT version of the accepted CONNECT. */
  version: MqttVersion;
  /** The probe's TLS session, offered only to a sniffer with the same tls-config node. */
  tlsSession?: Buffer;
  /** The probe's tls-config node id ('' for none). */
  tlsConfigId: string;
  /** The scan's msg.sniff (a listen time for this scan) and msg.tlsCa (its own CA), as the result message will carry them. */
  sniff?: unknown;
  tlsCa?: unknown;
}

/** What a topic sniffer offers a probe upstream of it. */
export interface HandoffReceiver {
  /**
   * Starts listening to `h`'s broker, if the sniffer has a free listener slot and will listen
   * anonymously to it. Returns a promise that settles when the listener is in (its window open) or
   * has failed, or undefined when the sniffer declined (the probe then goes on as without it).
   */
  listenAtConnack(h: BrokerHandoff): Promise<void> | undefined;
  /** The listen time this sniffer would use for a scan whose messages carry `sniff`, ms. */
  listenMsFor(sniff: unknown): number;
}

/** The property a topic sniffer node instance carries its receiver under (process-local). */
const RECEIVER = Symbol.for('mqttsec.listenerHandoff');
/** The property a routing node carries its choice under: msg.sniff -> the output (0-based) a scan's results leave by. */
const ROUTE = Symbol.for('mqttsec.listenerHandoffRoute');
/** The property a node that passes every result on (a TLS inspector) carries its scope policy under. */
const PASSES = Symbol.for('mqttsec.listenerHandoffPasses');
/** Hops followed from the probe, at most (a chain of inspectors is short; a loop ends here too). */
const MAX_HOPS = 8;

/** Marks `node` (a topic sniffer) as taking handoffs through `receiver`. */
export function offerHandoff(node: Node, receiver: HandoffReceiver): void {
  (node as unknown as Record<symbol, HandoffReceiver>)[RECEIVER] = receiver;
}

/** What a node that passes results on may still refuse: addresses outside its scope policy. */
export interface PassPolicy {
  /** It connects to (so passes on results of) public addresses too. */
  allowPublic: boolean;
}

/**
 * Marks `node` (a TLS inspector) as passing every result on without changes that matter to
 * listening, except one outside `policy` (it then throws naming the host, and the result stops).
 */
export function offerPassThrough(node: Node, policy: PassPolicy): void {
  (node as unknown as Record<symbol, PassPolicy>)[PASSES] = policy;
}

/** Marks `node` as sending every result of a scan on the output `outputFor(msg.sniff)` (0-based), unchanged. */
export function offerRoute(node: Node, outputFor: (sniff: unknown) => number): void {
  (node as unknown as Record<symbol, (sniff: unknown) => number>)[ROUTE] = outputFor;
}

/**
 * The topic sniffers the results of `node` reach, for a scan whose messages carry `sniff`
 * (msg.sniff): wired to one of its outputs directly, or through TLS inspectors (offerPassThrough)
 * whose scope is at least `scope` (the probe's own: an inspector without allowPublic behind a
 * probe with it would drop a public broker's result) and routing views (offerRoute, on the output
 * they choose for `sniff`) only; at most MAX_HOPS hops, disabled and missing nodes skipped. Any
 * other node in the way (a switch, a function, a link) may drop or change a result: no handoff
 * there. Each sniffer once.
 */
export function handoffReceivers(RED: NodeAPI, node: Node, sniff: unknown, scope: PassPolicy): HandoffReceiver[] {
  const found = new Set<HandoffReceiver>();
  const seen = new Set<string>();
  const walk = (wires: unknown, hops: number) => {
    if (hops > MAX_HOPS || !Array.isArray(wires)) return;
    for (const id of wires.flat()) {
      if (typeof id !== 'string' || seen.has(id)) continue;
      seen.add(id);
      const next = RED.nodes.getNode(id) as (Node & { wires?: unknown } & Record<symbol, unknown>) | null;
      if (!next) continue;
      const receiver = next[RECEIVER] as HandoffReceiver | undefined;
      const route = next[ROUTE] as ((sniff: unknown) => number) | undefined;
      const passes = next[PASSES] as PassPolicy | undefined;
      const outputs = Array.isArray(next.wires) ? (next.wires as unknown[]) : [];
      if (receiver) found.add(receiver);
      else if (route) walk([outputs[route(sniff)] ?? []], hops + 1);
      else if (passes && (passes.allowPublic || !scope.allowPublic)) walk(outputs, hops + 1);
    }
  };
  walk((node as unknown as { wires?: unknown }).wires, 1);
  return [...found];
}
