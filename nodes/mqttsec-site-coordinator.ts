// Site coordinator: runs coordinated scans over the scan agents of several sites (lib/sites
// ScanCoordinator) from a flow. Input: a scan request in the shape the target expander takes
// (the lab dashboard's form: msg.payload {targets, ports}, msg.scanId, msg.sniff), plus msg.sites
// and msg.credentialsName. Output 1: the merged scan, one message per result, then one completion
// message (msg.complete, payload: the ScanSummary), as the probe / topic sniffer send them, so the
// risk classifier, report writer and dashboard take them unchanged. Output 2: how the work goes
// over the sites (agents, shards, progress per site, ignored reports, and at the end the shards
// not done and the targets in no site's scope): bounded messages, names and counts only.
import type { NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus } from 'node-red';
import {
  checkScanId, defaultClientId, ScanCoordinator, SitesMessageError, siteProgress,
  DEFAULT_CLAIM_WAIT_MS, DEFAULT_LEASE_MS, DEFAULT_SCAN_DEADLINE_MS, DEFAULT_SHARD_TARGETS, MAX_LEASE_MS, MIN_LEASE_MS,
  type AgentView, type CoordinatedScanOutput, type CoordinatedScanRequest, type IgnoredReport, type JobScanOptions, type ShardReport,
} from '../lib/sites';
import { newScanId } from '../lib/pipeline';
import { parsePorts } from '../lib/targets';
import { redactPassword } from '../lib/credentials';
import { clampOption, OPTIONS } from '../lib/options';
import { intIn, numberIn } from './shared/config';
import { defineNode } from './shared/define';
import { onInput, throttle, type Send } from './shared/handler';
import { scanRequestFrom } from './shared/scan-request';
import { parseSites, retryAfterFailedStart, SiteSettingError, statusText, wholeNumber } from './shared/site-settings';
import type { SiteBrokerNode } from './shared/types';
import type { ScanResult } from '../lib/types';

interface CoordinatorDef extends NodeDef {
  broker?: string;
  /** One "name = addresses" per line. */
  sites?: string;
  /** Default targets and ports when the message names none. */
  targets?: string;
  ports?: string;
  /** The NAME of the login agents use for the scanned brokers (blank: none). */
  credentialsName?: string;
  timeout?: string | number;
  listen?: string | number;
  shardTargets?: string | number;
  /** Seconds. */
  lease?: string | number;
  claimWait?: string | number;
  agentsWait?: string | number;
  deadline?: string | number;
  allowPublic?: boolean;
}

/** The close handler ends within this, ms (Node-RED gives a node 15 s). */
const CLOSE_WAIT_MS = 8000;
/** Progress per site: at most one message per scan this often, ms. */
const PROGRESS_MS = 500;
/** Bounds of the event messages: targets listed per shard, refusals and problems per shard,
 *  ignored reports sent per scan, shards listed as not done, addresses listed outside every scope. */
const SHOWN = { targets: 16, refusals: 5, problems: 5, ignored: 100, notDone: 50, outside: 100 } as const;
/** Connection warnings on the events output: at most one this often, ms. */
const WARNING_MS = 5000;

interface Running {
  scanId: string;
  /** Sends one result on output 1 (set once the scan's message shapes are known). */
  sendResult: (r: ScanResult) => void;
  controller: AbortController;
  shards: Map<number, ShardReport>;
  /** Shards planned in all (coordinator.check). */
  planned: number;
  ignoredSent: number;
  progress: ReturnType<typeof throttle>;
}

export = (RED: NodeAPI) =>
  defineNode<CoordinatorDef>(RED, 'mqttsec-site-coordinator', (node, config, t) => {
    let settings: ReturnType<typeof readSettings>;
    let coordinator: ScanCoordinator;
    try {
      settings = readSettings(RED, config);
      // No client id set: the secret default, this node's id in its salt (the lab's dashboard and
      // API flows each have a coordinator with one login: a session each).
      const clientId = settings.clientId ? `${settings.clientId}-coordinator` : defaultClientId('coordinator', settings.broker, config.id);
      coordinator = new ScanCoordinator({ broker: settings.broker, sites: settings.sites, allowPublic: !!config.allowPublic, clientId });
    } catch (err) {
      // The engine's own checks of the sites (a scope it cannot read) are about the Sites field.
      const message = err instanceof SiteSettingError ? err.message : `sites: ${(err as Error).message}`;
      node.status({ fill: 'red', shape: 'ring', text: `${t('status.invalid')}: ${statusText(message)}` });
      node.error(`${t('errors.invalid')}: ${message}`);
      onInput(node, async () => {
        throw new Error(`${t('errors.invalid')}: ${message}`);
      });
      return;
    }
    const password = settings.broker.password;
    let connected = false;
    let started = false;
    let closed = false;
    let retry: NodeJS.Timeout | null = null;
    let starting: Promise<void> | null = null;
    let lastWarning = 0;
    /** How the last scan ended, shown while no scan runs. */
    let outcome: NodeStatus | null = null;
    const scans = new Map<string, Running>();
    const inFlight = new Set<Promise<unknown>>();

    const status = throttle(250, () => {
      if (closed) return;
      const online = coordinator.agents().filter((a) => a.state === 'online').length;
      if (!connected) {
        node.status({ fill: 'red', shape: 'ring', text: t(started ? 'status.offline' : 'status.connecting') });
        return;
      }
      if (!scans.size) {
        node.status(outcome ?? { fill: 'green', shape: 'dot', text: t('status.ready', { agents: online }) });
        return;
      }
      let done = 0;
      let all = 0;
      for (const s of scans.values()) {
        all += s.planned;
        for (const sh of s.shards.values()) if (sh.state === 'done') done++;
      }
      node.status({ fill: 'blue', shape: 'dot', text: t('status.scanning', { done, total: all, agents: online }) });
    });

    const event = (topic: string, payload: Record<string, unknown>, scanId?: string) => {
      if (closed) return;
      node.send([null, { topic, ...(scanId ? { scanId } : {}), payload: redact(payload) } as NodeMessage]);
    };

    coordinator.on('agent', (a: AgentView) => {
      event(`sites/agents/${a.site}/${a.login}`, { type: 'agent', agent: a });
      status.run();
    });
    coordinator.on('shard', ({ scanId, shard }: { scanId: string; shard: ShardReport }) => {
      const s = scans.get(scanId);
      if (!s) return;
      s.shards.set(shard.shard, shard);
      event(`sites/${scanId}/shard`, { type: 'shard', scanId, shard: shownShard(shard) }, scanId);
      s.progress.run();
      status.run();
    });
    coordinator.on('results', ({ scanId, results }: { scanId: string; results: ScanResult[] }) => {
      const s = scans.get(scanId);
      if (s) for (const r of results) s.sendResult(r);
    });
    coordinator.on('progress', ({ scanId, shard, progress }: { scanId: string; shard: number; progress: ShardReport['progress'] }) => {
      const s = scans.get(scanId);
      const sh = s?.shards.get(shard);
      if (!s || !sh) return;
      sh.progress = progress;
      s.progress.run();
    });
    coordinator.on('ignored', (i: IgnoredReport & { scanId: string }) => {
      const s = scans.get(i.scanId);
      if (!s || s.ignoredSent >= SHOWN.ignored) return;
      s.ignoredSent++;
      event(`sites/${i.scanId}/ignored`, { type: 'ignored', scanId: i.scanId, login: i.login, shard: i.shard, report: i.type, reason: i.reason }, i.scanId);
    });
    coordinator.on('connection', (up: boolean) => {
      connected = up;
      event('sites/connection', { type: 'connection', connected: up });
      status.run();
    });
    coordinator.on('warning', (err: Error) => {
      const now = Date.now();
      if (now - lastWarning < WARNING_MS) return;
      lastWarning = now;
      event('sites/warning', { type: 'warning', error: err.message.slice(0, 300) });
    });

    function start(): void {
      if (closed) return;
      status.run();
      starting = coordinator.start().then(
        () => {
          starting = null;
          connected = started = true;
          status.run();
          if (closed) void coordinator.stop();
        },
        (err: Error) => {
          starting = null;
          if (closed) return;
          retry = retryAfterFailedStart(node, t, redact(err.message), start);
        },
      );
    }

    onInput(node, async (msg, send, login) => {
      if (msg.cancel === true || msg.payload === 'cancel') {
        for (const s of scans.values()) s.controller.abort();
        return;
      }
      if (!started) throw new Error(t('errors.notConnected'));
      // A login in the message was taken out before this ran: logins never travel in a job.
      if (login.credentials) node.warn(t('warn.messageLogin'));
      // Nor does a CA: each agent judges the scanned brokers' certificates by its own (Scanned CA).
      if (msg.tlsCa) node.warn(t('warn.messageCa'));
      const request = requestFrom(msg, config, settings);
      const work = run(msg, request, send);
      inFlight.add(work);
      try {
        await work;
      } finally {
        inFlight.delete(work);
      }
    });

    async function run(msg: NodeMessageInFlow, request: CoordinatedScanRequest & { scanId: string }, send: Send): Promise<void> {
      const { scanId } = request;
      if (scans.has(scanId)) throw new SitesMessageError('scanId', 'a scan with this id is running');
      // Checked before anything is published: a bad target, port or site is said at once.
      const plan = await coordinator.check(request);
      // The probe's message shapes: the request's message without its payload, per result
      // topic host:port and msg.scan as the expander puts it, then the completion (topic
      // scan/<id>, msg.complete, the summary). Each done shard's results go out at once.
      const base: Record<string, unknown> = { ...msg };
      delete base.payload;
      delete base._msgid;
      delete base.cancel;
      const scan = { id: scanId, total: plan.targets, batch: 1, batches: 1, specs: specsOf(request.targets), ports: parsePorts(request.ports), startedAt: Date.now() };
      const sent = new Set<string>();
      const sendResult = (r: ScanResult) => {
        const key = `${r.host}:${r.port}`;
        if (closed || sent.has(key)) return;
        sent.add(key);
        send([{ ...base, topic: key, scanId, scan, payload: r } as NodeMessage, null]);
      };
      const running: Running = {
        scanId, sendResult, controller: new AbortController(), shards: new Map(), ignoredSent: 0,
        planned: Object.values(plan.shards).reduce((a, b) => a + b, 0),
        progress: throttle(PROGRESS_MS, () => event(`sites/${scanId}/progress`, { type: 'progress', scanId, sites: siteProgress(running.shards.values(), plan.shards) }, scanId)),
      };
      scans.set(scanId, running);
      status.run();
      event(`sites/${scanId}/plan`, {
        type: 'plan', scanId, targets: plan.targets, shards: plan.shards,
        outside: plan.outside.slice(0, SHOWN.outside), outsideSpecs: plan.outside.length,
      }, scanId);
      let out: CoordinatedScanOutput;
      try {
        const missing = await coordinator.waitForAgents(Object.keys(plan.shards), settings.agentsWaitMs);
        if (missing.length) event(`sites/${scanId}/no-agent`, { type: 'no-agent', scanId, sites: missing, waitedMs: settings.agentsWaitMs }, scanId);
        out = await coordinator.scan({ ...request, signal: running.controller.signal });
      } finally {
        running.progress.flush(); // the last word on each site's progress
        scans.delete(scanId);
        status.run();
      }
      if (closed) return;
      // Any result not sent with its shard (none, unless two shards reported one host:port).
      for (const r of out.results) sendResult(r);
      send([{ ...base, topic: `scan/${scanId}`, scanId, scan, complete: true, payload: out.summary } as NodeMessage, null]);
      event(`sites/${scanId}/end`, endReport(out), scanId);
      const doneShards = out.shards.filter((s) => s.state === 'done').length;
      const counts = { done: doneShards, total: out.shards.length, brokers: out.results.length };
      outcome = out.notDone.length || out.summary.cancelled
        ? { fill: 'yellow', shape: 'ring', text: t(out.summary.cancelled ? 'status.cancelled' : 'status.notDone', counts) }
        : { fill: 'green', shape: 'dot', text: t('status.done', counts) };
      status.run();
    }

    function redact<T>(value: T): T {
      return redactPassword(value, password);
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      if (retry) clearTimeout(retry);
      status.cancel();
      for (const s of scans.values()) s.controller.abort();
      const timer = setTimeout(finish, CLOSE_WAIT_MS);
      void Promise.resolve(starting)
        .catch(() => undefined)
        .then(() => coordinator.stop())
        .catch(() => undefined)
        .then(() => Promise.allSettled([...inFlight]))
        .then(finish);
      let finished = false;
      function finish() {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        node.status({});
        done();
      }
    });

    start();
  });

/** The node's settings; throws SiteSettingError naming the field. */
function readSettings(RED: NodeAPI, config: CoordinatorDef) {
  const brokerNode = config.broker ? (RED.nodes.getNode(config.broker) as SiteBrokerNode | null) : null;
  if (!brokerNode) throw new SiteSettingError('broker', config.broker ? 'the site broker node is missing (deleted or disabled?)' : 'choose the site broker');
  const { broker, clientId } = brokerNode.brokerOptions();
  const sites = parseSites('sites', config.sites);
  const credentialsName = typeof config.credentialsName === 'string' && config.credentialsName.trim() ? config.credentialsName.trim() : undefined;
  return {
    broker, clientId, sites, credentialsName,
    timeoutMs: intIn(config.timeout, OPTIONS.timeoutMs),
    listenSeconds: numberIn(config.listen, OPTIONS.listenSeconds),
    shardTargets: wholeNumber('shardTargets', config.shardTargets, DEFAULT_SHARD_TARGETS, 1, 1 << 20),
    leaseMs: wholeNumber('lease', config.lease, DEFAULT_LEASE_MS / 1000, Math.ceil(MIN_LEASE_MS / 1000), Math.floor(MAX_LEASE_MS / 1000)) * 1000,
    claimWaitMs: wholeNumber('claimWait', config.claimWait, DEFAULT_CLAIM_WAIT_MS / 1000, 1, Math.floor(MAX_LEASE_MS / 1000)) * 1000,
    agentsWaitMs: wholeNumber('agentsWait', config.agentsWait, 10, 0, 3600) * 1000,
    deadlineMs: wholeNumber('deadline', config.deadline, DEFAULT_SCAN_DEADLINE_MS / 1000, 1, 7 * 24 * 3600) * 1000,
  };
}

/**
 * The coordinated scan a message asks for: msg.payload as the target expander takes it (a target
 * string, or {targets, ports, maxTargets}; anything else: the node's targets and ports),
 * msg.scanId (else a new one), msg.sites (names, an array or a comma list), msg.credentialsName,
 * msg.sniff {listen (s), writeTest}, msg.tryDefaults. Throws naming the bad field.
 */
function requestFrom(msg: NodeMessageInFlow, config: CoordinatorDef, settings: ReturnType<typeof readSettings>): CoordinatedScanRequest & { scanId: string } {
  const asked = scanRequestFrom(msg.payload, { targets: config.targets ?? '', ports: config.ports || undefined });
  if (!(Array.isArray(asked.targets) ? asked.targets.length : String(asked.targets).trim())) throw new SiteSettingError('targets', 'no targets: give msg.payload.targets or the node\'s targets');
  const scanId = typeof msg.scanId === 'string' && msg.scanId ? checkScanId(msg.scanId, 'msg.scanId') : newScanId();
  let sites: string[] | undefined;
  if (msg.sites !== undefined) {
    const raw = msg.sites as unknown;
    const list = typeof raw === 'string' ? raw.split(/[\s,]+/).filter(Boolean) : Array.isArray(raw) && raw.every((s) => typeof s === 'string') ? (raw as string[]) : null;
    if (!list || !list.length) throw new SitesMessageError('msg.sites', 'must name at least one site (an array of names or a comma list)');
    sites = list;
  }
  const named = (msg as { credentialsName?: unknown }).credentialsName;
  if (named !== undefined && typeof named !== 'string') throw new SitesMessageError('msg.credentialsName', 'must be the name of a login the agents hold');
  const sniff = (msg.sniff ?? {}) as { listen?: unknown; writeTest?: unknown };
  const listen = typeof sniff.listen === 'number' && Number.isFinite(sniff.listen) && sniff.listen >= 0 ? clampOption(OPTIONS.listenSeconds, sniff.listen) : settings.listenSeconds;
  const options: JobScanOptions = { timeoutMs: settings.timeoutMs, listenMs: Math.round(listen * 1000) };
  if (sniff.writeTest === true) options.writeTest = true;
  if ((msg as { tryDefaults?: unknown }).tryDefaults === true) options.tryDefaults = true;
  const credentialsName = (named as string | undefined) || settings.credentialsName;
  return {
    scanId, targets: asked.targets, ports: asked.ports, options,
    ...(asked.maxTargets !== undefined ? { maxTargets: asked.maxTargets } : {}),
    ...(sites ? { sites } : {}),
    ...(credentialsName ? { credentialsName } : {}),
    shardTargets: settings.shardTargets, leaseMs: settings.leaseMs, claimWaitMs: settings.claimWaitMs, deadlineMs: settings.deadlineMs,
  };
}

/** A shard for the events output: its first targets, last problems and first refusals. */
function shownShard(sh: ShardReport) {
  return {
    ...sh,
    targets: sh.targets.slice(0, SHOWN.targets), targetSpecs: sh.targets.length,
    refusals: sh.refusals.slice(0, SHOWN.refusals), problems: sh.problems.slice(-SHOWN.problems),
  };
}

/** The end of a scan for the events output: per site, the shards not done, outside every scope. */
function endReport(out: CoordinatedScanOutput): Record<string, unknown> {
  const sites: Record<string, { shards: number; done: number; agents: string[] }> = {};
  for (const sh of out.shards) {
    const e = (sites[sh.site] ??= { shards: 0, done: 0, agents: [] });
    e.shards++;
    if (sh.state === 'done') {
      e.done++;
      if (sh.holder && !e.agents.includes(sh.holder)) e.agents.push(sh.holder);
    }
  }
  return {
    type: 'end', scanId: out.summary.scanId, results: out.results.length, cancelled: out.summary.cancelled === true, sites,
    notDone: out.notDone.slice(0, SHOWN.notDone).map(shownShard), notDoneCount: out.notDone.length,
    outside: out.outside.slice(0, SHOWN.outside), outsideSpecs: out.outside.length, outsideHosts: out.outsideHosts,
    ignored: { count: out.ignored.count, first: out.ignored.first.slice(0, 20) }, duplicates: out.duplicates,
  };
}

function specsOf(targets: string | string[]): string[] {
  return (Array.isArray(targets) ? targets : [targets]).flatMap((t) => t.split(/[\s,]+/)).filter(Boolean);
}

