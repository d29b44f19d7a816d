// Risk classifier: adds findings, risk level and score to each scan result, and the scan-level
// risk summary to the completion message (payload.riskSummary). A lab policy from the editor
// raises, lowers or switches off rules.
import type { NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { classifyResult, effectiveRules, policyFromList, PreviousScans, RiskTally, type Policy, type RiskSummary } from '../lib/risk';
import { isPlainObject, isScanResult, isScanSummary, scanIdOf } from '../lib/common';
import type { ScanResult } from '../lib/types';
import { defineNode } from './shared/define';
import { onInput, statusShown } from './shared/handler';

interface ClassifierDef extends NodeDef {
  /** Editable list: [{id, severity: critical|high|medium|low|info|off}]. */
  rules?: unknown;
}

/** Scans followed at once; the oldest is dropped beyond this (a scan that never completed). */
const MAX_SCANS = 64;
const BAD_INPUT = 'msg.payload: expected a scan result, an array of scan results or a completion message (msg.complete)';

export = (RED: NodeAPI) =>
  defineNode<ClassifierDef>(RED, 'mqttsec-risk-classifier', (node, config, t) => {
    let policy: Policy = {};
    let policyError: Error | null = null;
    try {
      policy = policyFromList(config.rules);
      effectiveRules(policy);
    } catch (err) {
      policyError = err as Error;
      node.status({ fill: 'red', shape: 'ring', text: t('status.badPolicy') });
    }
    // Each rated result's status, at most every 250 ms; the scan's summary at once.
    const status = statusShown(node);
    const tallies = new Map<string, RiskTally>();
    // The last result of each host:port, for payload.changes (the fix-and-rescan loop); kept in
    // the node's context, so a persistent context store carries it over a restart.
    const context = node.context();
    let previous = PreviousScans.from(safeGet('previousResults'));
    function safeGet(key: string): unknown {
      try {
        return context.get(key);
      } catch {
        return undefined;
      }
    }
    function remember(): void {
      try {
        context.set('previousResults', previous.toJSON());
      } catch {
        // A context store that cannot take it: the comparison works until the next restart.
      }
    }

    onInput(node, async (msg: NodeMessageInFlow, send) => {
      if (policyError) throw policyError;
      const scanId = scanIdOf(msg);
      if (msg.complete === true) {
        const tally = tallies.get(scanId) ?? new RiskTally({ policy });
        tallies.delete(scanId);
        const summary = tally.summary(isScanSummary(msg.payload) ? msg.payload : null);
        msg.payload = isPlainObject(msg.payload) ? { ...msg.payload, riskSummary: summary } : { riskSummary: summary };
        showDone(summary);
        remember();
        send(msg);
        return;
      }
      if (Array.isArray(msg.payload)) {
        if (!msg.payload.every(isScanResult)) throw new Error(BAD_INPUT);
        const results = (msg.payload as ScanResult[]).map((r) => previous.compare(classifyResult(r, policy)));
        remember();
        const tally = new RiskTally({ policy });
        results.forEach((r) => tally.add(r));
        msg.payload = results;
        const summary = tally.summary();
        (msg as Record<string, unknown>).riskSummary = summary;
        showDone(summary);
        send(msg);
        return;
      }
      if (!isScanResult(msg.payload)) throw new Error(BAD_INPUT);
      const classified = previous.compare(classifyResult(msg.payload, policy));
      tallyFor(scanId).add(classified);
      msg.payload = classified;
      const { host, port, risk } = classified;
      status.show(() => risk
        ? { fill: 'blue', shape: 'dot', text: t('status.rated', { target: `${host}:${port}`, level: risk.level, score: risk.score }) }
        : { fill: 'grey', shape: 'ring', text: t('status.unrated', { target: `${host}:${port}` }) });
      send(msg);
    });

    function tallyFor(scanId: string): RiskTally {
      let tally = tallies.get(scanId);
      if (!tally) {
        if (tallies.size >= MAX_SCANS) tallies.delete(tallies.keys().next().value as string);
        tally = new RiskTally({ policy });
        tallies.set(scanId, tally);
      }
      return tally;
    }

    function showDone(s: RiskSummary) {
      const fill = s.worstLevel === 'CRITICAL' || s.worstLevel === 'HIGH' ? 'red' : s.worstLevel === 'MEDIUM' ? 'yellow' : 'green';
      status.now(() => ({ fill, shape: 'dot', text: t('status.done', { brokers: s.assessed, critical: s.byLevel.CRITICAL, high: s.byLevel.HIGH, medium: s.byLevel.MEDIUM, low: s.byLevel.LOW }) }));
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      status.cancel();
      remember();
      previous = new PreviousScans();
      tallies.clear();
      node.status({});
      done();
    });
  });

