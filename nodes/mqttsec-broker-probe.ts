// Broker probe: sweeps each batch from the target expander, probes every open port, emits one
// message per broker found and one completion message (msg.complete) per scan.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { assessTargets, emptyClassificationCounts, newScanId } from '../lib/pipeline';
import { DEFAULT_TLS_PORTS, type Credentials } from '../lib/probe';
import type { CredentialSafety } from '../lib/credentials';
import { checkAddressScope, parsePorts, scopedHost } from '../lib/targets';
import { isIP } from 'node:net';
import { TargetFeed, sweepThreadsFor } from '../lib/sweep';
import * as pace from './shared/scan-pace';
import type { Classification, MqttVersion, Reachability, ScanResult, ScanSummary, Target } from '../lib/types';
import { intIn, tlsOptions } from './shared/config';
import { OPTIONS } from '../lib/options';
import { limiter } from './shared/limit';
import { onInput, throttle, type Send } from './shared/handler';
import { credentialsFor, depositLogin, safetyFor, type MessageLogin } from './shared/secret-vault';
import { singleTarget } from './shared/single-target';
import type { CredentialsNode, I18nVars, TlsConfigNode } from './shared/types';

interface ProbeDef extends NodeDef {
  auth?: string;
  tls?: string;
  timeout: string | number;
  concurrency: string | number;
  probeConcurrency: string | number;
  transport: 'auto' | 'tcp' | 'tls';
  versions: 'both' | '5.0' | '3.1.1';
  tlsPorts: string;
  emitUnreachable: boolean;
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
  id: string;
  total: number;
  batches: number;
  batchesDone: number;
  swept: number;
  open: number;
  startedAt: number;
  reachability: Record<Reachability, number>;
  classification: Record<Classification, number>;
  cancelled: boolean;
  base: NodeMessageInFlow;
  /** Batches received so far. */
  received: number;
  /** The feed the scan's current sweep reads, while it still takes batches. */
  feed: TargetFeed | null;
  /** Settles when the scan's last sweep so far has ended (sweeps of one scan run one at a time). */
  runs: Promise<void>;
}

const CLOSE_WAIT_MS = 10_000;
/** Scans swept side by side; each gets its share of the sweep concurrency. */
const SCANS_IN_PARALLEL = 4;
/** A sweep waits this long for the scan's next batch before it ends (a later batch starts another). */
const FEED_IDLE_MS = 5000;
const BAD_INPUT = 'msg.payload: expected a batch from the target expander, {host, port} or "host:port"';
const BAD_BATCH = 'msg.payload: every entry of a batch must be {host, port}';

export = function (RED: NodeAPI) {
  function BrokerProbe(this: Node, config: ProbeDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const t = (key: string, vars?: I18nVars) => RED._(`mqttsec-broker-probe.${key}`, vars);
    const authNode = config.auth ? (RED.nodes.getNode(config.auth) as CredentialsNode | null) : null;
    const tls = tlsOptions(config.tls ? (RED.nodes.getNode(config.tls) as TlsConfigNode | null) : null);
    const settings = {
      timeoutMs: intIn(config.timeout, OPTIONS.timeoutMs),
      sweepConcurrency: intIn(config.concurrency, OPTIONS.sweepConcurrency),
      probeConcurrency: intIn(config.probeConcurrency, OPTIONS.probeConcurrency),
      transport: config.transport || 'auto',
      versions: (config.versions && config.versions !== 'both' ? [config.versions] : undefined) as MqttVersion[] | undefined,
      tlsPorts: config.tlsPorts ? parsePorts(config.tlsPorts) : DEFAULT_TLS_PORTS,
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
      if (current) node.status({ fill: 'blue', shape: 'dot', text: t('status.probing', { done: current.swept, total: current.total, open: current.open }) });
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

    /** The batch joins the scan's running sweep, so all batches of a scan are one continuous
     *  sweep (no draining at every batch boundary); or it starts the scan's next sweep. */
    function feedBatch(job: Awaited<ReturnType<typeof toJob>>, signal: AbortSignal, send: Send): Promise<void> {
      const s = job.state;
      s.received++;
      const last = s.received >= s.batches;
      if (s.feed?.push(job.targets)) {
        if (last) s.feed.close();
        return s.runs;
      }
      const feed = new TargetFeed(FEED_IDLE_MS);
      feed.push(job.targets);
      if (last) feed.close();
      s.feed = feed;
      const run = s.runs.then(() => scanSlot(() => runFeed(s, feed, job.emitAll, job.login, signal, send)));
      s.runs = run.catch(() => undefined);
      return run;
    }

    /** The targets of one message, in scope (lib/targets scopedHost), and how to log in. Throws
     *  for a bad payload or a target outside the scope policy, naming it. */
    async function toJob(msg: NodeMessageInFlow, login: MessageLogin) {
      const scanMeta = msg.scan as { id?: string; total?: number; batches?: number } | undefined;
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
        const state = scanFor(scanMeta.id, Number(scanMeta.total) || targets.length, Number(scanMeta.batches) || 1, msg);
        // Nodes downstream (the sniffer) log in with the same credentials and rule, found by scan id.
        depositLogin(scanMeta.id, { credentials: login.credentials, sendCredentialsPlaintext: optIn });
        const jobLogin: JobLogin = { credentials: login.credentials ?? credentialsFor(scanMeta.id) ?? authNode?.toCredentials() ?? null, safety: safetyFor(scanMeta.id) };
        return { state, targets: inScope, emitAll: !!config.emitUnreachable, login: jobLogin };
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

    function scanFor(id: string, total: number, batches: number, msg: NodeMessageInFlow): ScanState {
      let s = scans.get(id);
      if (!s) {
        const base = { ...msg };
        delete base.payload;
        s = {
          id, total, batches, batchesDone: 0, swept: 0, open: 0, startedAt: Date.now(), reachability: { open: 0, closed: 0, filtered: 0, error: 0 },
          classification: emptyClassificationCounts(), cancelled: false, base, received: 0, feed: null, runs: Promise.resolve(),
        };
        scans.set(id, s);
        // The expander paces its batches on our progress (scan-pace.ts).
        pace.took(id, 0);
      }
      return s;
    }

    async function runFeed(s: ScanState, feed: TargetFeed, emitAll: boolean, login: JobLogin, signal: AbortSignal, send: Send) {
      if (s.cancelled || signal.aborted) {
        feed.close();
        return endRun(s, feed, send);
      }
      current = s;
      status.run();
      let swept = 0;
      let open = 0;
      sweeping++;
      let stats: Awaited<ReturnType<typeof assessTargets>>;
      try {
        stats = await assessTargets(feed.iterator, {
          ...settings,
          sweepConcurrency: Math.max(1, Math.ceil(settings.sweepConcurrency / sweeping)),
          more: feed.more,
          // A big scan sweeps on one thread per core, as the CLI does.
          sweepThreads: sweepThreadsFor(s.total),
          scanId: s.id,
          credentials: login.credentials,
          ...login.safety,
          // A target given by name is connected to by its checked address, with the name for TLS.
          tls: login.servername ? { ...tls, servername: tls?.servername ?? login.servername } : tls,
          signal,
          includeUnreachable: emitAll,
          onResult: (r: ScanResult) => send(resultMessage(s, login.servername ? { ...r, host: login.servername } : r)),
          onProgress: (p) => {
            if (p.swept > swept) pace.took(s.id, p.swept - swept);
            s.swept += p.swept - swept;
            s.open += p.open - open;
            swept = p.swept;
            open = p.open;
            status.run();
          },
        });
      } finally {
        sweeping--;
        feed.close();
        if (s.feed === feed) s.feed = null;
      }
      for (const k of Object.keys(stats.reachability) as Reachability[]) s.reachability[k] += stats.reachability[k];
      for (const k of Object.keys(stats.classification) as Classification[]) s.classification[k] += stats.classification[k];
      if (stats.cancelled) s.cancelled = true;
      endRun(s, feed, send);
    }

    /** A run's batches are done: the scan is complete when they were its last, or it was cancelled. */
    function endRun(s: ScanState, feed: TargetFeed, send: Send) {
      s.batchesDone += feed.received;
      if (scans.has(s.id) && (s.batchesDone >= s.batches || s.cancelled)) complete(s, send);
    }

    function resultMessage(s: ScanState, r: ScanResult) {
      return { ...s.base, topic: `${r.host}:${r.port}`, scanId: s.id, payload: r };
    }

    function complete(s: ScanState, send: Send) {
      scans.delete(s.id);
      if (s.cancelled) pace.cancelled(s.id);
      pace.finished(s.id);
      // The scan's credentials stay in the vault (until it expires them) for the sniffer downstream.
      if (current === s) current = null;
      status.cancel();
      const finished = Date.now();
      const summary: ScanSummary = {
        scanId: s.id,
        startedAt: new Date(s.startedAt).toISOString(),
        finishedAt: new Date(finished).toISOString(),
        durationMs: finished - s.startedAt,
        targets: s.total,
        reachability: s.reachability,
        classification: s.classification,
        ...(s.cancelled ? { cancelled: true } : {}),
      };
      send({ ...s.base, topic: `scan/${s.id}`, scanId: s.id, complete: true, payload: summary });
      const found = s.classification.open_or_auth_ok + s.classification.not_authorized;
      node.status(s.cancelled
        ? { fill: 'yellow', shape: 'ring', text: t('status.cancelled') }
        : { fill: 'green', shape: 'dot', text: t('status.done', { brokers: found, total: s.total }) });
    }

    async function cancelAll(send: Send) {
      controller.abort();
      controller = new AbortController();
      for (const s of scans.values()) {
        s.cancelled = true;
        s.feed?.close();
        pace.cancelled(s.id);
      }
      await Promise.all(inFlight);
      for (const s of [...scans.values()]) complete(s, send);
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      controller.abort();
      for (const s of scans.values()) {
        s.feed?.close();
        pace.cancelled(s.id);
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
  }

  RED.nodes.registerType('mqttsec-broker-probe', BrokerProbe);
};
