// Broker probe: sweeps each batch from the target expander, probes every open port, emits one
// message per broker found and one completion message (msg.complete) per scan.
import type { NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { BatchedScan, listsUnreachable, newScanId, MIN_DEFER_MS, type StageHooks } from '../lib/pipeline';
import { DEFAULT_TLS_PORTS, type Credentials } from '../lib/probe';
import type { CredentialSafety } from '../lib/credentials';
import { checkAddressScope, parsePorts, scopedHost } from '../lib/targets';
import { isIP } from 'node:net';
import { sweepThreadsFor, type TargetFeed } from '../lib/sweep';
import { paceOf, type ScanPace } from './shared/scan-pace';
import type { MqttVersion, ScanResult, Target, Transport } from '../lib/types';
import { parseWebSocketPaths } from '../lib/mqtt';
import { intIn, tlsOptions } from './shared/config';
import { withScanCa } from '../lib/tls';
import { OPTIONS } from '../lib/options';
import { limiter } from './shared/limit';
import { defineNode } from './shared/define';
import { onInput, throttle, type Send } from './shared/handler';
import { credentialsFor, depositLogin, safetyFor, type MessageLogin } from './shared/secret-vault';
import { singleTarget } from './shared/single-target';
import { handoffReceivers, type BrokerHandoff } from './shared/listener-handoff';
import type { CredentialsNode, TlsConfigNode } from './shared/types';

interface ProbeDef extends NodeDef {
  auth?: string;
  tls?: string;
  timeout: string | number;
  concurrency: string | number;
  probeConcurrency: string | number;
  transport: 'auto' | Transport;
  versions: 'both' | '5.0' | '3.1.1';
  tlsPorts: string;
  /** HTTP paths tried for MQTT over WebSockets, comma-separated (lib/mqtt parseWebSocketPaths); empty: the defaults. */
  wsPaths?: string;
  /** Closed and filtered ports as messages too: always (true, 'true'), never (false, 'false'), or
   *  'auto' (the default): for scans of up to LIST_UNREACHABLE_UP_TO (1024) targets, as the CLI lists them. */
  emitUnreachable: boolean | 'true' | 'false' | 'auto';
  tryDefaults?: boolean;
  /** Also send the login over plain TCP or TLS whose certificate is not trusted (lib/credentials). */
  sendCredentialsPlaintext?: boolean;
  /** Connect to addresses outside loopback and the private ranges (the expander's scope policy). */
  allowPublic?: boolean;
}

/** How one job logs in and where its single target really is. */
interface JobLogin {
  credentials: Credentials | null;
  safety: CredentialSafety;
  /** A single target given by name: the TLS server name, and the name to report. */
  servername?: string;
}

interface ScanState {
  /** The scan's batches, sweeps and counts (lib/pipeline). */
  scan: BatchedScan;
  /** The expander's pace handle (msg.scan.pace), if the batches carry one. */
  pace?: ScanPace;
  /** The scan's first message without its payload: what every message of the scan carries on. */
  base: NodeMessageInFlow;
  /** The scan asked for the well-known default logins (msg.tryDefaults: the dashboard's switch,
   *  the API's try_defaults), on top of the node's own setting. */
  tryDefaults: boolean;
}

const CLOSE_WAIT_MS = 10_000;
/** Scans swept side by side; each gets its share of the sweep concurrency. */
const SCANS_IN_PARALLEL = 4;
const BAD_INPUT = 'msg.payload: expected a batch from the target expander, {host, port} or "host:port"';
const BAD_BATCH = 'msg.payload: every entry of a batch must be {host, port}';

export = (RED: NodeAPI) =>
  defineNode<ProbeDef>(RED, 'mqttsec-broker-probe', (node, config, t) => {
    const authNode = config.auth ? (RED.nodes.getNode(config.auth) as CredentialsNode | null) : null;
    const tls = tlsOptions(config.tls ? (RED.nodes.getNode(config.tls) as TlsConfigNode | null) : null);
    const settings = {
      timeoutMs: intIn(config.timeout, OPTIONS.timeoutMs),
      sweepConcurrency: intIn(config.concurrency, OPTIONS.sweepConcurrency),
      probeConcurrency: intIn(config.probeConcurrency, OPTIONS.probeConcurrency),
      transport: config.transport || 'auto',
      versions: (config.versions && config.versions !== 'both' ? [config.versions] : undefined) as MqttVersion[] | undefined,
      tlsPorts: config.tlsPorts ? parsePorts(config.tlsPorts) : DEFAULT_TLS_PORTS,
      // Throws naming the bad path: the node then fails to start, as for a bad port list.
      websocketPaths: parseWebSocketPaths(config.wsPaths || undefined),
      tryDefaults: !!config.tryDefaults,
    };
    const allowPublic = !!config.allowPublic;
    const sendPlaintext = !!config.sendCredentialsPlaintext;
    const scans = new Map<string, ScanState>();
    let controller = new AbortController();
    const inFlight = new Set<Promise<void>>();
    const scanSlot = limiter(SCANS_IN_PARALLEL);
    let sweeping = 0;
    let current: ScanState | null = null;
    const status = throttle(250, () => {
      if (current) node.status({ fill: 'blue', shape: 'dot', text: t('status.probing', { done: current.scan.swept, total: current.scan.total, open: current.scan.open }) });
    });

    // The login (msg.credentials, msg.sendCredentialsPlaintext) was taken out of msg before this runs.
    onInput(node, async (msg, send, login) => {
      if (msg.cancel === true || msg.payload === 'cancel') return cancelAll(send);
      const job = await toJob(msg, login);
      const run = feedBatch(job, controller.signal, send);
      const tracked = run.catch(() => undefined);
      inFlight.add(tracked);
      try {
        await run;
      } finally {
        inFlight.delete(tracked);
      }
    });

    /** The batch joins the scan's running sweep, or starts the scan's next one (lib/pipeline BatchedScan). */
    function feedBatch(job: Awaited<ReturnType<typeof toJob>>, signal: AbortSignal, send: Send): Promise<void> {
      const s = job.state;
      return s.scan.add(job.targets, (feed) => scanSlot(() => runFeed(s, feed, job.emitAll, job.login, signal, send)));
    }

    /** The targets of one message, in scope (lib/targets scopedHost), and how to log in. Throws
     *  for a bad payload or a target outside the scope policy, naming it. */
    async function toJob(msg: NodeMessageInFlow, login: MessageLogin) {
      const scanMeta = msg.scan as { id?: string; total?: number; batches?: number; startedAt?: number } | undefined;
      const optIn = sendPlaintext || login.sendCredentialsPlaintext;
      if (scanMeta && typeof scanMeta.id === 'string' && Array.isArray(msg.payload)) {
        const targets = (msg.payload as unknown[]).map((x) => singleTarget(x));
        if (targets.some((x) => x === null)) throw new Error(BAD_BATCH);
        // Addresses (all an expander sends) are checked on the spot; a name is resolved first.
        // A batch is host-major (every port of a host in a row): a host is checked once.
        const inScope: Target[] = [];
        let last = null as { host: string; address: string } | null;
        for (const x of targets as Target[]) {
          if (last?.host !== x.host) {
            last = { host: x.host, address: isIP(x.host) ? checkAddressScope(x.host, allowPublic) : (await scopedHost(x.host, { allowPublic })).address };
          }
          inScope.push(last.address === x.host ? x : { host: last.address, port: x.port });
        }
        const state = scanFor(scanMeta.id, Number(scanMeta.total) || targets.length, Number(scanMeta.batches) || 1, msg, paceOf(scanMeta), scanMeta.startedAt);
        // Nodes downstream (the sniffer) log in with the same credentials and rule, found by scan id.
        depositLogin(scanMeta.id, { credentials: login.credentials, sendCredentialsPlaintext: optIn });
        const jobLogin: JobLogin = { credentials: login.credentials ?? credentialsFor(scanMeta.id) ?? authNode?.toCredentials() ?? null, safety: safetyFor(scanMeta.id) };
        return { state, targets: inScope, emitAll: listsUnreachable(config.emitUnreachable ?? 'auto', state.scan.total), login: jobLogin };
      }
      const single = singleTarget(msg.payload);
      if (!single) throw new Error(BAD_INPUT);
      const scoped = await scopedHost(single.host, { allowPublic });
      const id = typeof msg.scanId === 'string' && msg.scanId ? msg.scanId : newScanId();
      depositLogin(id, { credentials: login.credentials, sendCredentialsPlaintext: optIn });
      const jobLogin: JobLogin = {
        credentials: login.credentials ?? authNode?.toCredentials() ?? null,
        safety: optIn ? { sendCredentialsPlaintext: true } : {},
        ...(scoped.servername ? { servername: scoped.servername } : {}),
      };
      // Asked about one target directly: answer for it even when it is closed.
      return { state: scanFor(id, 1, 1, msg), targets: [{ host: scoped.address, port: single.port }], emitAll: true, login: jobLogin };
    }

    function scanFor(id: string, total: number, batches: number, msg: NodeMessageInFlow, pace?: ScanPace, startedAt?: unknown): ScanState {
      let s = scans.get(id);
      if (!s) {
        // When the expander began the scan (msg.scan.startedAt), if it is a sane time not in the future.
        const now = Date.now();
        const began = typeof startedAt === 'number' && Number.isFinite(startedAt) && startedAt <= now && now - startedAt < 86_400_000 ? startedAt : now;
        const base = { ...msg };
        delete base.payload;
        // The pace handle is between the expander and us: results do not carry it on.
        if (pace) base.scan = { ...(base.scan as object), pace: undefined };
        s = { scan: new BatchedScan(id, total, batches, undefined, began), pace, base, tryDefaults: msg.tryDefaults === true };
        scans.set(id, s);
        // The expander paces its batches on our progress (msg.scan.pace).
        s.pace?.took(0);
      }
      return s;
    }

    async function runFeed(s: ScanState, feed: TargetFeed, emitAll: boolean, login: JobLogin, signal: AbortSignal, send: Send) {
      current = s;
      status.run();
      sweeping++;
      try {
        await s.scan.sweep(feed, {
          ...settings,
          tryDefaults: settings.tryDefaults || s.tryDefaults,
          sweepConcurrency: Math.max(1, Math.ceil(settings.sweepConcurrency / sweeping)),
          // A big scan sweeps on one thread per core, as the CLI does.
          sweepThreads: sweepThreadsFor(s.scan.total),
          credentials: login.credentials,
          ...login.safety,
          // A target given by name is connected to by its checked address, with the name for TLS.
          tls: withScanCa(login.servername ? { ...tls, servername: tls?.servername ?? login.servername } : tls, s.base.tlsCa),
          signal,
          includeUnreachable: emitAll,
          ...listenersAtConnack(s, login),
          onResult: (r: ScanResult) => send(resultMessage(s, login.servername ? { ...r, host: login.servername } : r)),
          onProgress: (newlySwept) => {
            if (newlySwept > 0) s.pace?.took(newlySwept);
            status.run();
          },
        });
      } finally {
        sweeping--;
      }
      // The scan is complete when this sweep's batches were its last, or it was cancelled.
      if (scans.get(s.scan.id) === s && s.scan.complete) complete(s, send);
    }

    /**
     * With topic sniffers downstream (nodes/shared/listener-handoff.ts): each broker that takes the
     * anonymous CONNECT is handed at once to the first of them that takes it (one listener, as in
     * runScan), and the rest of its auth grid waits until that listener is in, then runs as work
     * that can wait (lib/pipeline assess.ts).
     * The result itself is unchanged and sent when the grid is done. Without sniffers (or for a
     * target given by name), nothing changes.
     */
    function listenersAtConnack(s: ScanState, login: JobLogin): { stages?: StageHooks } {
      const receivers = login.servername ? [] : handoffReceivers(RED, node, s.base.sniff, { allowPublic });
      if (receivers.length === 0) return {};
      const listenMs = Math.min(...receivers.map((r) => r.listenMsFor(s.base.sniff)));
      return {
        stages: {
          start: (target, e) => {
            if (!e.anonymousAccepted) return { work: {} };
            const handoff: BrokerHandoff = {
              scanId: s.scan.id,
              target,
              transport: e.transport,
              ...(e.websocketPath !== undefined ? { websocketPath: e.websocketPath } : {}),
              version: e.version,
              ...(e.tlsSession ? { tlsSession: e.tlsSession } : {}),
              tlsConfigId: config.tls ?? '',
              sniff: s.base.sniff,
              tlsCa: s.base.tlsCa,
            };
            // One listener per broker while the grid runs, as runScan: a second one next to the
            // probe's round two made a broker that takes 3 clients at once cut off the made-up
            // login. The first sniffer that takes it listens; the others listen after the result.
            let hold: Promise<void> | undefined;
            for (const r of receivers) if ((hold = r.listenAtConnack(handoff))) break;
            return { work: {}, ...(hold ? { hold } : {}) };
          },
          finish: async (result) => result,
          deferMaxMs: Math.max(MIN_DEFER_MS, listenMs / 2),
        },
      };
    }

    function resultMessage(s: ScanState, r: ScanResult) {
      return { ...s.base, topic: `${r.host}:${r.port}`, scanId: s.scan.id, payload: r };
    }

    function complete(s: ScanState, send: Send) {
      const { scan } = s;
      scans.delete(scan.id);
      if (scan.tally.cancelled) s.pace?.cancelled();
      s.pace?.finished();
      // The scan's credentials stay in the vault (until it expires them) for the sniffer downstream.
      if (current === s) current = null;
      status.cancel();
      send({ ...s.base, topic: `scan/${scan.id}`, scanId: scan.id, complete: true, payload: scan.tally.summary() });
      node.status(scan.tally.cancelled
        ? { fill: 'yellow', shape: 'ring', text: t('status.cancelled') }
        : { fill: 'green', shape: 'dot', text: t('status.done', { brokers: scan.tally.brokers, total: scan.total }) });
    }

    async function cancelAll(send: Send) {
      controller.abort();
      controller = new AbortController();
      for (const s of scans.values()) {
        s.scan.cancel();
        s.pace?.cancelled();
      }
      await Promise.all(inFlight);
      for (const s of [...scans.values()]) complete(s, send);
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      controller.abort();
      for (const s of scans.values()) {
        s.scan.close();
        s.pace?.cancelled();
      }
      status.cancel();
      const timer = setTimeout(done, CLOSE_WAIT_MS);
      Promise.all(inFlight).then(() => {
        clearTimeout(timer);
        scans.clear();
        node.status({});
        done();
      });
    });
  });
