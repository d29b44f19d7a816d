// Topic sniffer: for each broker result from the probe (or TLS inspector) that we can log in to,
// listens to '#' and '$SYS/#' for a while and adds payload.topics. Unreadable results and
// msg.complete pass on; msg.complete waits for that scan's sniffs, so a join still ends last.
import type { NodeAPI, NodeDef, NodeStatus } from 'node-red';
import { checkedSniffPlan, sniffBroker, sniffPlanFor, SNIFF_DEFAULTS, type LiveMessage, type SniffOptions } from '../lib/sniff';
import type { ScanResult, Target, TopicsInfo } from '../lib/types';
import { scanCapacity, summaryUntil, withTopics } from '../lib/pipeline';
import { childSignal, isScanResult, isScanSummary } from '../lib/common';
import { checkAddressScope, scopedHost } from '../lib/targets';
import { withScanCa } from '../lib/tls';
import { redactPassword } from '../lib/credentials';
import { intIn, numberIn, tlsOptions } from './shared/config';
import { OPTIONS, clampOption } from '../lib/options';
import { limiter } from './shared/limit';
import { cancelController } from './shared/cancel';
import { defineNode } from './shared/define';
import { onInput, statusShown, type Send } from './shared/handler';
import { credentialsFor, safetyFor } from './shared/secret-vault';
import type { CredentialsNode, TlsConfigNode } from './shared/types';
import { offerHandoff, type BrokerHandoff } from './shared/listener-handoff';

interface SnifferDef extends NodeDef {
  auth?: string;
  tls?: string;
  listen: string | number;
  subscriptions: string;
  sampleChars: string | number;
  maxTopics: string | number;
  concurrency: string | number;
  writeTest: boolean;
  live: boolean;
  /** Also log in over plain TCP or TLS whose certificate is not trusted (lib/credentials). */
  sendCredentialsPlaintext?: boolean;
  /** Connect to addresses outside loopback and the private ranges (the expander's scope policy). */
  allowPublic?: boolean;
}

interface Active {
  target: Target;
  started: number;
  listenMs: number;
}

/** A listener started on a probe's handoff (shared/listener-handoff.ts), until its result claims it. */
interface Handed {
  scanId: string;
  transport: string;
  websocketPath?: string;
  version: string;
  /** The listening's outcome, settled (never rejects): claimed by the result message. */
  outcome: Promise<{ topics: TopicsInfo } | { error: unknown }>;
  /** Stops the listening (cancel, an unclaimed handoff at the scan's end or expiry). */
  stop: () => void;
  expiry: NodeJS.Timeout;
}

/** A handed-over listener that no result claimed this long after its window ends is dropped, ms. */
const HANDOFF_CLAIM_MS = 120_000;

const CLOSE_WAIT_MS = 5000;
/** Live output per broker: at most this many messages a second; the rest are counted, not sent. */
const LIVE_PER_SECOND = 20;
/** Scans remembered as cut short by a cancel until their completion comes. */
const MAX_CUT_SHORT = 64;
const BAD_INPUT = 'msg.payload: expected a scan result from the broker probe or TLS inspector ({host, port, classification, auth})';

export = (RED: NodeAPI) =>
  defineNode<SnifferDef>(RED, 'mqttsec-topic-sniffer', (node, config, t) => {
    const authNode = config.auth ? (RED.nodes.getNode(config.auth) as CredentialsNode | null) : null;
    const tls = tlsOptions(config.tls ? (RED.nodes.getNode(config.tls) as TlsConfigNode | null) : null);
    const live = !!config.live;
    const sendPlaintext = !!config.sendCredentialsPlaintext;
    const settings: Partial<SniffOptions> = {
      listenMs: Math.round(numberIn(config.listen, OPTIONS.listenSeconds) * 1000),
      subscriptions: parseSubscriptions(config.subscriptions),
      sampleChars: intIn(config.sampleChars, OPTIONS.sampleChars),
      maxTopics: intIn(config.maxTopics, OPTIONS.maxTopics),
      writeTest: !!config.writeTest,
    };
    // Brokers listened to at once: the setting, never more than the process can hold (as runScan's stages).
    const slot = limiter(Math.min(intIn(config.concurrency, OPTIONS.sniffConcurrency), scanCapacity().listeners));
    let controller = cancelController();
    const active = new Set<Active>();
    const running = new Set<Promise<unknown>>();
    const byScan = new Map<string, Set<Promise<unknown>>>();
    /** Scans whose listening a cancel cut short: their completion says cancelled (bounded). */
    const cutShort = new Set<string>();
    let ticker: NodeJS.Timeout | null = null;
    const progress = statusShown(node);
    /** Listeners started on a probe's handoff, by scan id, host and port (handoffKey), until a result claims them. */
    const handed = new Map<string, Handed>();
    /** Stops every handed-over listener still listening, claimed or not (a cancel, the close). */
    const listening = new Set<() => void>();
    let closing = false;
    offerHandoff(node, { listenAtConnack, listenMsFor: (sniff) => perMessage(sniff).listenMs ?? settings.listenMs ?? SNIFF_DEFAULTS.listenMs });

    onInput(node, async (msg, send, login) => {
      const scanId = typeof msg.scanId === 'string' ? msg.scanId : undefined;
      if (msg.complete === true) {
        // Every result of the scan came before its completion: a handed-over listener none claimed
        // belongs to a result that went elsewhere.
        for (const [key, h] of handed) if (scanId === undefined || h.scanId === scanId) dropHandoff(key, h);
        await Promise.allSettled([...(scanId ? byScan.get(scanId) ?? [] : running)]);
        // The scan's duration covers the listening (the summary's finishedAt is now). A scan whose
        // listening was cancelled is a cancelled scan, though the probe had finished its part.
        msg.payload = summaryUntil(msg.payload);
        if (scanId && cutShort.delete(scanId) && isScanSummary(msg.payload)) msg.payload = { ...msg.payload, cancelled: true };
        send(live ? [msg, null] : msg);
        return;
      }
      if (msg.cancel === true) {
        for (const id of [...byScan.keys(), ...[...handed.values()].map((h) => h.scanId)]) if (cutShort.size < MAX_CUT_SHORT) cutShort.add(id);
        controller.abort();
        for (const stop of [...listening]) stop();
        controller = cancelController();
        return;
      }
      const result = asScanResult(msg.payload);
      // The same credential rule as the probe's (lib/credentials), with the scan's opt-in.
      const safety = { sendCredentialsPlaintext: sendPlaintext || login.sendCredentialsPlaintext || !!safetyFor(scanId).sendCredentialsPlaintext };
      const credentials = login.credentials ?? credentialsFor(scanId) ?? authNode?.toCredentials() ?? null;
      // Nothing to do for this result: pass it on before any scope check or connection.
      const unread = sniffPlanFor(result, credentials, safety);
      let skipped = unread.reason;
      // The probe handed this broker over at its first CONNACK: its listener runs already.
      const claimed = unread.options && !unread.options.credentials ? claimHandoff(scanId, result, unread.options) : null;
      if (unread.options) {
        // A cancel also stops results still waiting for a slot. Each result's waits hang on a
        // signal of its own (as assess.ts does per broker): a thousand listens' waits on the one
        // signal made every add and remove of an abort listener walk a list of thousands.
        // A claimed listener has its own stop (listenAtConnack): nothing more to hang on the signal.
        const own = claimed ? null : childSignal(controller.signal);
        const signal = own?.signal;
        // Tracked from the start, so this scan's completion message waits for the checks too.
        const work = (async () => {
          if (claimed) {
            const outcome = await claimed;
            if ('error' in outcome) throw outcome.error;
            return { read: true as const, topics: outcome.topics, password: undefined };
          }
          // The expander's scope policy, after name resolution; throws naming the host.
          const scoped = await scopedHost(result.host, { allowPublic: !!config.allowPublic });
          const tlsFor = withScanCa(scoped.servername && !tls?.servername ? { ...tls, servername: scoped.servername } : tls, msg.tlsCa);
          // The result came in a message: the broker gets a made-up login of our own before the real one.
          const plan = await checkedSniffPlan({ ...result, host: scoped.address }, credentials, safety, { tls: tlsFor, signal });
          if (!plan.options) return { read: false as const, skipped: plan.reason };
          const options = plan.options;
          const topics = await slot(() => sniff(liveSource(result), plan.target, { ...settings, ...perMessage(msg.sniff), ...options, tls: tlsFor ?? options.tls, signal }, send));
          return { read: true as const, topics, password: options.credentials?.password };
        })().finally(() => own?.dispose());
        track(work, scanId);
        const done = await work;
        if (done.read) {
          // A topic or a sample may carry the password itself: it never leaves in a message.
          msg.payload = redactPassword(withTopics(result, { topics: done.topics }), done.password);
          send(live ? [msg, null] : msg);
          return;
        }
        skipped = done.skipped;
      }
      msg.payload = { ...result, topics: null };
      msg.sniffer = { skipped };
      progress.show(() => ({ fill: 'yellow', shape: 'ring', text: t('status.skipped', { host: result.host, port: result.port }) }));
      send(live ? [msg, null] : msg);
    });

    /**
     * A probe upstream hands over a broker that took its anonymous CONNECT (shared/listener-handoff.ts):
     * listen now, with this node's settings and scope policy, when a listener slot is free. The
     * result message claims the listener later (claimHandoff). Undefined: declined.
     */
    function listenAtConnack(h: BrokerHandoff): Promise<void> | undefined {
      const key = handoffKey(h.scanId, h.target);
      if (closing || !slot.free() || handed.has(key) || !h.scanId) return undefined;
      try {
        // The probe checked the address against its own policy; this node applies its own too.
        checkAddressScope(h.target.host, !!config.allowPublic);
      } catch {
        return undefined; // the result message, when it comes, gets the error naming the host
      }
      // Stopped by a cancel or close through `listening` (one Set entry each), not by an abort
      // listener on the node's controller: a thousand of those made each add and remove walk a
      // list of thousands (measured: 90 ms of one core in bench flow1000).
      const own = new AbortController();
      const stop = () => own.abort();
      listening.add(stop);
      // The probe's TLS session only where it was made with the same TLS settings (tls-config node).
      const sameTls = h.tlsSession && h.tlsConfigId === (config.tls ?? '');
      const tlsFor = withScanCa(sameTls ? { ...tls, session: h.tlsSession } : tls, h.tlsCa);
      let opened: () => void = () => undefined;
      const window = new Promise<void>((resolve) => (opened = resolve));
      const options: SniffOptions = {
        ...settings,
        ...perMessage(h.sniff),
        transport: h.transport,
        ...(h.websocketPath !== undefined ? { websocketPath: h.websocketPath } : {}),
        version: h.version,
        credentials: null,
        ...(tlsFor ? { tls: tlsFor } : {}),
        signal: own.signal,
        onListening: opened,
      };
      const heard = slot(() => sniff({ host: h.target.host, port: h.target.port, scanId: h.scanId }, h.target, options, (m) => node.send(m)));
      const outcome = heard.then((topics) => ({ topics }), (error: unknown) => ({ error })).finally(() => {
        listening.delete(stop);
        opened();
      });
      running.add(outcome);
      void outcome.then(() => running.delete(outcome));
      const listenMs = options.listenMs ?? SNIFF_DEFAULTS.listenMs;
      const entry: Handed = {
        scanId: h.scanId,
        transport: h.transport,
        ...(h.websocketPath !== undefined ? { websocketPath: h.websocketPath } : {}),
        version: h.version,
        outcome,
        stop,
        expiry: setTimeout(() => dropHandoff(key, entry), listenMs + HANDOFF_CLAIM_MS),
      };
      handed.set(key, entry);
      return window;
    }

    /** The handed-over listener of this result, if its plan is the one this node would listen with now. */
    function claimHandoff(scanId: string | undefined, result: ScanResult, plan: SniffOptions): Handed['outcome'] | null {
      if (!scanId) return null;
      const key = handoffKey(scanId, result);
      const h = handed.get(key);
      if (!h) return null;
      handed.delete(key);
      clearTimeout(h.expiry);
      if (h.transport !== plan.transport || h.websocketPath !== plan.websocketPath || h.version !== plan.version) {
        h.stop(); // listened another way than the result says: listen again, as without a handoff
        return null;
      }
      return h.outcome;
    }

    function dropHandoff(key: string, h: Handed) {
      if (handed.get(key) !== h) return;
      handed.delete(key);
      clearTimeout(h.expiry);
      h.stop();
    }

    /** Where live messages say they come from. */
    function liveSource(result: ScanResult): LiveSource {
      return { host: result.host, port: result.port, scanId: result.scanId };
    }

    async function sniff(result: LiveSource, target: Target, options: SniffOptions, send: Send): Promise<TopicsInfo> {
      const entry: Active = { target, started: Date.now(), listenMs: options.listenMs ?? SNIFF_DEFAULTS.listenMs };
      active.add(entry);
      showProgress();
      const gate = live ? liveGate(result, send, options.credentials?.password) : null;
      try {
        const topics = await sniffBroker(target, { ...options, onMessage: gate?.offer });
        if (gate?.dropped()) topics.liveDropped = gate.dropped();
        return topics;
      } finally {
        active.delete(entry);
        showProgress();
      }
    }

    /** Live messages for a dashboard: at most LIVE_PER_SECOND per broker, extras only counted. */
    function liveGate(result: LiveSource, send: Send, password: string | undefined) {
      let windowStart = 0;
      let inWindow = 0;
      let dropped = 0;
      return {
        offer: (m: LiveMessage) => {
          const now = Date.now();
          if (now - windowStart >= 1000) {
            windowStart = now;
            inWindow = 0;
          }
          if (inWindow >= LIVE_PER_SECOND) {
            dropped++;
            return;
          }
          inWindow++;
          const payload = redactPassword({ host: result.host, port: result.port, topic: m.topic, sample: m.payload, sensor: m.sensor, values: m.values ?? null, retained: m.retained }, password);
          send([null, { topic: payload.topic, scanId: result.scanId, payload }]);
        },
        dropped: () => dropped,
      };
    }

    function track(work: Promise<unknown>, scanId: string | undefined) {
      const settled = work.catch(() => undefined);
      running.add(settled);
      let set: Set<Promise<unknown>> | undefined;
      if (scanId) {
        set = byScan.get(scanId) ?? new Set();
        byScan.set(scanId, set);
        set.add(settled);
      }
      void settled.then(() => {
        running.delete(settled);
        set?.delete(settled);
        if (scanId && set?.size === 0) byScan.delete(scanId);
      });
    }

    /** Called as each listen starts and ends: what is listened to now, at most every 250 ms (statusShown). */
    function showProgress() {
      if (active.size === 0) {
        if (ticker) clearInterval(ticker);
        ticker = null;
        progress.now(() => ({ fill: 'green', shape: 'dot', text: t('status.done') }));
        return;
      }
      ticker ??= setInterval(showProgress, 1000);
      progress.show(listeningStatus);
    }

    function listeningStatus(): NodeStatus {
      const first = active.values().next().value as Active | undefined;
      if (!first) return { fill: 'green', shape: 'dot', text: t('status.done') };
      const elapsed = Math.min(Math.floor((Date.now() - first.started) / 1000), Math.ceil(first.listenMs / 1000));
      return {
        fill: 'blue', shape: 'dot',
        text: active.size === 1
          ? t('status.listening', { elapsed, total: Math.ceil(first.listenMs / 1000), host: first.target.host, port: first.target.port })
          : t('status.listeningMany', { count: active.size }),
      };
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      for (const [key, h] of handed) dropHandoff(key, h);
      controller.abort();
      for (const stop of [...listening]) stop();
      const timer = setTimeout(finish, CLOSE_WAIT_MS);
      void Promise.allSettled([...running]).then(finish);
      function finish() {
        clearTimeout(timer);
        if (ticker) clearInterval(ticker);
        ticker = null;
        progress.cancel();
        byScan.clear();
        node.status({});
        done();
      }
    });
  });

/** What a live message names as its source. */
interface LiveSource {
  host: string;
  port: number;
  scanId?: string;
}

/**
 * The key of a handed-over listener: its scan, host and port, as JSON, so no scan id or host (a
 * result message may name any string) can run into another's, as 'a|b' + 'c' would into 'a' + 'b|c'.
 */
function handoffKey(scanId: string, target: { host: string; port: number }): string {
  return JSON.stringify([scanId, target.host, target.port]);
}

function asScanResult(payload: unknown): ScanResult {
  if (!isScanResult(payload)) throw new Error(BAD_INPUT);
  return payload;
}

function parseSubscriptions(raw: unknown): string[] {
  const list = typeof raw === 'string' ? raw.split(/[,\n]/).map((s) => s.trim()).filter(Boolean) : [];
  return list.length ? list : SNIFF_DEFAULTS.subscriptions;
}

/** msg.sniff = {listen: seconds} overrides the listen time for one scan (the dashboard's form, the API). */
function perMessage(raw: unknown): Partial<SniffOptions> {
  const listen = (raw as { listen?: unknown } | null)?.listen;
  return typeof listen === 'number' && Number.isFinite(listen) && listen >= 0 ? { listenMs: Math.round(clampOption(OPTIONS.listenSeconds, listen) * 1000) } : {};
}
