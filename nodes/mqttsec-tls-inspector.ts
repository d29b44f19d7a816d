// TLS inspector: adds payload.tls (certificate, trust, versions, weak ciphers, client-cert
// requirement, score) to each TLS broker result from the broker probe and passes it on.
// Plain-TCP results and completion messages pass through.
import type { NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { inspectTls, withScanCa, type InspectTlsOptions } from '../lib/tls';
import type { ScanResult } from '../lib/types';
import { hasBrokerAddress, isTlsTransport } from '../lib/common';
import { scopedHost, type ScopedHost } from '../lib/targets';
import { deferredWorkSlots, summaryUntil } from '../lib/pipeline';
import { intIn, tlsOptions } from './shared/config';
import { OPTIONS } from '../lib/options';
import { defineNode } from './shared/define';
import { onInput, statusShown } from './shared/handler';
import { cancelController } from './shared/cancel';
import type { TlsConfigNode } from './shared/types';
import { offerPassThrough } from './shared/listener-handoff';

interface InspectorDef extends NodeDef {
  tls?: string;
  timeout: string | number;
  checkVersions: boolean;
  checkCiphers: boolean;
  /** Connect to addresses outside loopback and the private ranges (the expander's scope policy). */
  allowPublic?: boolean;
}

const CLOSE_WAIT_MS = 10_000;
const BAD_INPUT = 'msg.payload: expected a scan result from the broker probe ({host, port, transport, ...})';

export = (RED: NodeAPI) =>
  defineNode<InspectorDef>(RED, 'mqttsec-tls-inspector', (node, config, t) => {
    const tlsNode = config.tls ? (RED.nodes.getNode(config.tls) as TlsConfigNode | null) : null;
    const settings: InspectTlsOptions = {
      ...tlsOptions(tlsNode),
      timeoutMs: intIn(config.timeout, OPTIONS.timeoutMs),
      checkVersions: config.checkVersions !== false,
      checkCiphers: config.checkCiphers !== false,
    };
    // A broker probe upstream hands brokers to the sniffers behind this node (shared/listener-handoff.ts),
    // unless this node's scope is narrower than its own: it would stop those results here.
    offerPassThrough(node, { allowPublic: !!config.allowPublic });
    let controller = cancelController();
    /** Every inspection not yet sent, with the scan it belongs to. */
    const jobs = new Map<Promise<void>, unknown>();
    // Inspections at once (each opens up to eleven short connections to its broker): the slots
    // mqtt-scan uses, 8 at first and more while the event loop has room, up to what the process
    // holds. A fixed 8 made a burst of TLS brokers wait in line, a few handshake round trips per
    // broker each time. Measured on loopback (100 of the bench farm's TLS brokers at once): about
    // the same, 0.55-0.86 s with a fixed 8 and 0.62-0.67 s with these slots; the CPU bounds both.
    const slots = deferredWorkSlots();
    let running = 0;
    // A status per result, at most every 250 ms (statusShown).
    const status = statusShown(node);
    // The note on a result without TLS, per transport: the catalog's text with the target put in
    // (one translation per transport, not one per result).
    const notes = new Map<string, string>();
    const TARGET = '\u0000target\u0000';
    const notTls = (target: string, transport: string): string => {
      let note = notes.get(transport);
      if (note === undefined) notes.set(transport, (note = t('note.notTls', { target: TARGET, transport })));
      return note.split(TARGET).join(target);
    };

    onInput(node, async (msg, send) => {
      if (msg.complete === true) {
        // The completion message must stay last (a join node stops on it): wait for its scan's results.
        const mine = [...jobs].filter(([, scanId]) => msg.scanId === undefined || scanId === msg.scanId).map(([job]) => job);
        await Promise.allSettled(mine);
        // The scan's duration covers the inspections (the summary's finishedAt is now).
        msg.payload = summaryUntil(msg.payload);
        return send(msg);
      }
      const result = scanResultOf(msg);
      const target = `${result.host}:${result.port}`;
      if (!isTlsTransport(result.transport)) {
        result.tls ??= null;
        msg.note = notTls(target, result.transport ?? 'none');
        status.show(() => ({ fill: 'grey', shape: 'ring', text: t('status.skipped', { target }) }));
        return send(msg);
      }
      // The expander's scope policy, after name resolution; throws naming the host.
      const scoped = await scopedHost(result.host, { allowPublic: !!config.allowPublic });
      const job = inspect(result, scoped, target, msg.tlsCa, () => send(msg));
      jobs.set(job, msg.scanId);
      await job.finally(() => jobs.delete(job));
    });

    /** `scanCa`: the scan's own CA (msg.tlsCa, checked by the target expander), trusted besides the configured one. */
    function inspect(result: ScanResult, scoped: ScopedHost, target: string, scanCa: unknown, sendOn: () => void): Promise<void> {
      const signal = controller.signal;
      return slots.acquire().then(async (release) => {
        if (signal.aborted) return release(); // closing or cancelled while it waited for a slot
        running++;
        try {
          status.show(() => ({ fill: 'blue', shape: 'dot', text: t('status.inspecting', { target, count: running }) }));
          const servername = settings.servername ?? scoped.servername;
          const info = await inspectTls({ host: scoped.address, port: result.port }, { ...withScanCa(settings, scanCa)!, ...(servername ? { servername } : {}), signal });
          if (signal.aborted) return; // the flow is closing: nothing more is sent
          result.tls = info;
          status.show(() => info.error
            ? { fill: 'red', shape: 'ring', text: t('status.error', { target }) }
            : { fill: 'green', shape: 'dot', text: t('status.done', { target, protocol: info.protocol ?? '?', score: info.score ?? 'not rated' }) });
          sendOn();
        } finally {
          release();
          running--;
          // The last inspection's outcome is shown at once, not up to 250 ms later.
          if (running === 0) status.flush();
        }
      });
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      status.cancel();
      controller.abort();
      controller = cancelController();
      // Queued messages still get a slot in turn, see the abort and end at once.
      const timer = setTimeout(done, CLOSE_WAIT_MS);
      Promise.allSettled([...jobs.keys()]).then(() => {
        clearTimeout(timer);
        node.status({});
        done();
      });
    });
  });

function scanResultOf(msg: NodeMessageInFlow): ScanResult {
  if (!hasBrokerAddress(msg.payload)) throw new Error(BAD_INPUT);
  return msg.payload as ScanResult;
}
