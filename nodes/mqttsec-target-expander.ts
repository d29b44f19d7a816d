// Target expander: target specs -> batches of host:port for the broker probe.
import type { NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { planTargets, TargetError } from '../lib/targets';
import { OPTIONS } from '../lib/options';
import { newScanId } from '../lib/pipeline';
import { intIn } from './shared/config';
import { checkScanCa, ScanCaError } from '../lib/tls';
import { defineNode } from './shared/define';
import { onInput } from './shared/handler';
import { depositLogin } from './shared/secret-vault';
import { scanRequestFrom } from './shared/scan-request';
import { createPaceGate } from './shared/scan-pace';

/** Batches of a scan sent ahead of the probe's sweep (msg.scan.pace, shared/scan-pace.ts): 65,536 targets by default. */
const AHEAD_BATCHES = 16;
/** A probe that reports nothing for this long (every host filtered, a slow sweep) gets the next batch anyway. */
const STALL_MS = 30_000;
/** After the first batch: how long to wait for a probe to report, before going on unpaced. */
const CONSUMER_WAIT_MS = 1000;

interface ExpanderDef extends NodeDef {
  targets: string;
  ports: string;
  maxTargets: string | number;
  allowPublic: boolean;
  batchSize: string | number;
}

export = (RED: NodeAPI) =>
  defineNode<ExpanderDef>(RED, 'mqttsec-target-expander', (node, config, t) => {
    // Defaults and bounds: lib/options OPTIONS (the batch size's reasons are there too).
    const maxTargets = intIn(config.maxTargets, OPTIONS.maxTargets);
    const batchSize = intIn(config.batchSize, OPTIONS.batchSize);
    let closing = false;
    node.on('close', () => {
      closing = true;
    });

    // The login (msg.credentials, msg.sendCredentialsPlaintext) was taken out of msg before this runs.
    onInput(node, async (msg: NodeMessageInFlow, send, login) => {
      // The scan begins here: its summary's startedAt, so its duration covers every stage.
      const startedAt = Date.now();
      const request = scanRequestFrom(msg.payload, { targets: config.targets, ports: config.ports, maxTargets });
      const scanId = typeof msg.scanId === 'string' && msg.scanId ? msg.scanId : newScanId();
      // A CA for this scan's TLS connections (the dashboard's CA field, the API's `ca`): checked
      // before anything connects, then carried on every message of the scan.
      if (msg.tlsCa !== undefined) {
        try {
          (msg as { tlsCa?: string }).tlsCa = checkScanCa(msg.tlsCa) || undefined;
        } catch (err) {
          node.status({ fill: 'red', shape: 'ring', text: t('status.invalid') });
          if (err instanceof ScanCaError) throw new Error(`msg.tlsCa (CA certificate): ${err.message}`);
          throw err;
        }
      }
      let plan;
      try {
        plan = await planTargets(request.targets, {
          ports: request.ports,
          // A message may lower the configured limits, never widen them.
          maxTargets: Math.min(request.maxTargets ?? maxTargets, maxTargets),
          allowPublic: !!config.allowPublic,
        });
      } catch (err) {
        node.status({ fill: 'red', shape: 'ring', text: t(err instanceof TargetError ? 'status.invalid' : 'status.failed') });
        throw err;
      }
      depositLogin(scanId, login);
      const batches = Math.ceil(plan.count / batchSize);
      const it = plan.batches(batchSize);
      // The probe reports its progress on msg.scan.pace; we wait for room on it.
      const gate = createPaceGate();
      let sent = 0;
      let paced = true;
      let stopped = false;
      for (let index = 0, next = it.next(); !next.done && !closing; index++, next = it.next()) {
        if (index > 0 && paced) {
          const r = await gate.room(sent, { ahead: AHEAD_BATCHES * batchSize, stallMs: STALL_MS, consumerWaitMs: CONSUMER_WAIT_MS });
          if (r === 'cancelled' || closing) {
            stopped = true;
            break;
          }
          if (r === 'no-consumer') paced = false;
        }
        // Unpaced, one batch per turn of the event loop: a big expansion never blocks the runtime.
        if (!paced) await new Promise((resolve) => setImmediate(resolve));
        send({
          ...msg,
          topic: typeof msg.topic === 'string' && msg.topic ? msg.topic : `scan/${scanId}`,
          payload: next.value,
          scanId,
          scan: { id: scanId, total: plan.count, batch: index, batches, specs: plan.specs, ports: plan.ports, startedAt, pace: gate.pace },
        });
        sent += next.value.length;
        if (index % 16 === 15) node.status({ fill: 'blue', shape: 'dot', text: t('status.sending', { batch: index + 1, batches }) });
      }
      if (stopped) node.status({ fill: 'yellow', shape: 'ring', text: t('status.cancelled') });
      else node.status({ fill: 'green', shape: 'dot', text: t('status.expanded', { count: plan.count, batches }) });
    });
  });
