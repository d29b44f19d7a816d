// The scan coordinator: splits a scan over the sites by scope and into shards, publishes the
// jobs, grants each shard to the first agent that claims it, keeps a lease per shard, gives a
// silent agent's shard to another, and merges what the holders report into one scan in the
// shape of runScan's output (ScanOutput), so the risk classifier, the report writer and the
// history take it like a local scan.
//
// What it trusts: the broker's ACL binds each report topic's last level to the publishing login
// (topics.ts), and each status topic to one agent of one site. What it does not: any payload. A
// report counts only from the login that holds the shard, for the attempt it was granted, about
// an address and port of that shard; everything else is ignored (and counted).
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { MqttClient, OnMessageCallback } from 'mqtt';
import { listsUnreachable, ScanTally, type ScanOutput } from '../pipeline';
import { canonicalAddress, compareResults, firstOutsideScope, parsePorts, planTargets, scopeAddresses, splitByScope, type AddressInterval } from '../targets';
import { classifyResult, type Policy } from '../risk';
import type { ScanResult } from '../types';
import { closeConnection, defaultClientId, firstConnect, openConnection, type SitesBrokerOptions } from './connection';
import {
  checkCredentialsName, checkJobOptions, checkLogin, checkScanId, checkSiteName, encodeMessage, MAX_ATTEMPTS, MAX_LEASE_MS, MAX_RESULT_BYTES, MAX_SHARDS, MIN_LEASE_MS,
  parseAgentReport, parseAgentStatus, SitesMessageError,
  type AgentReport, type AgentStatusMessage, type CancelMessage, type GrantMessage, type JobMessage, type JobScanOptions, type RefusalCode,
} from './messages';
import { cancelTopic, grantsTopic, jobsTopic, parseReportTopic, parseStatusTopic, reportSubscription, STATUS_SUBSCRIPTION } from './topics';

/** Host:port pairs per shard by default: the target expander's batch (4,096). */
export const DEFAULT_SHARD_TARGETS = 4096;
export const DEFAULT_LEASE_MS = 30_000;
export const DEFAULT_CLAIM_WAIT_MS = 15_000;
export const DEFAULT_MAX_ATTEMPTS = 6;
/** A whole coordinated scan ends by then at the latest (default 6 hours). */
export const DEFAULT_SCAN_DEADLINE_MS = 6 * 3_600_000;
/** Default report budget of one login in one scan, bytes: per host:port pair of the scan (a
 *  result is a few KiB; topic samples and certificates make some tens of KiB), and per shard (room
 *  for results near MAX_RESULT_BYTES, claims, progress, done), the sum doubled (a shard done again
 *  after a lease ran out). */
export const REPORT_BYTES_PER_TARGET = 32 * 1024;
export const REPORT_BYTES_PER_SHARD = 2 * MAX_RESULT_BYTES;
/** Default report budget of one login in one scan, messages: twice (one result per host:port
 *  pair, plus claim, done and refusal per shard: 8 per shard), plus the progress an honest holder
 *  sends (3 per lease until the deadline) for at most this many shards held at once. */
export const REPORTS_PER_SHARD = 8;
const PROGRESS_SHARDS_AT_ONCE = 64;
/** Ignored reports kept for the output (the count goes on). */
const MAX_IGNORED_KEPT = 100;
/** Refusals kept per shard. */
const MAX_REFUSALS_KEPT = 20;

export interface ScanCoordinatorOptions {
  /** The coordinator's broker and its own login there (it writes jobs and grants, reads results
   *  and status). */
  broker: SitesBrokerOptions;
  /** Each site's scope: the networks its agents cover (IP specs). An address in two scopes goes
   *  to the site listed first. */
  sites: Record<string, string | string[]>;
  /** Scope policy: public addresses allowed in scopes and scans (default false). */
  allowPublic?: boolean;
  /** Client id of its persistent session. Default: connection.ts defaultClientId (derived from
   *  the login's password: stable, unguessable). A guessable id lets another login take the
   *  session over, and the results queued in it. */
  clientId?: string;
}

/** A coordinated scan: the targets and how to scan them. */
export interface CoordinatedScanRequest {
  /** IP specs (addresses, CIDR blocks, ranges, !exclusions); host names are refused. */
  targets: string | string[];
  ports?: string | number | number[];
  /** The sites to use (default: every site of the coordinator). */
  sites?: string[];
  options?: JobScanOptions;
  /** The NAME of the login each agent uses for the scanned brokers (its own credentials). */
  credentialsName?: string;
  includeUnreachable?: boolean | 'auto';
  maxTargets?: number;
  /** The risk rules the merged results are rated by (lib/risk; default the built-in rules), as
   *  runScan's `policy`. Each result is rated here from the facts its agent reported: the
   *  agent's own rating (findings, risk) is never taken. */
  policy?: Policy;
  scanId?: string;
  /** Host:port pairs per shard (default DEFAULT_SHARD_TARGETS); hosts per shard = this / ports. */
  shardTargets?: number;
  /** At most this many shards (default and ceiling MAX_SHARDS). */
  maxShards?: number;
  /** Lease of a granted shard, ms (default DEFAULT_LEASE_MS, MIN_LEASE_MS to MAX_LEASE_MS). */
  leaseMs?: number;
  /** How long a published job may wait for a claim before it is published again, ms. A copy
   *  may wait behind a busy agent (the broker queues a shared subscription's message for the
   *  member whose turn it is), so this does not count as a failure: a shard is published at
   *  most MAX_ATTEMPTS times in all, within the deadline. */
  claimWaitMs?: number;
  /** Failures of one shard (a refusal, a holder silent past its lease) before it is given up
   *  (default DEFAULT_MAX_ATTEMPTS). */
  maxAttempts?: number;
  /** Grant only to logins whose status (retained) names the shard's site (default true). */
  requireAgentStatus?: boolean;
  /** The scan ends by then, done or not, ms (default DEFAULT_SCAN_DEADLINE_MS). */
  deadlineMs?: number;
  /** Bytes of reports (payloads) one login may send about this scan, counted before any is read
   *  (retained, unreadable and ignored ones too). Default: 2 x (REPORT_BYTES_PER_TARGET per
   *  host:port pair + REPORT_BYTES_PER_SHARD per shard) of the scan. Past it (or maxReports), that
   *  login's further reports about this scan are dropped unread (counted in `ignored`), one
   *  'warning' and one 'ignored' event say so, and the shards it holds are published again. */
  maxReportBytes?: number;
  /** Reports one login may send about this scan. Default: 2 x (pairs + REPORTS_PER_SHARD per
   *  shard) + 3 x ceil(deadline / lease) x min(shards, 64) (the progress of held shards). */
  maxReports?: number;
  signal?: AbortSignal;
}

export type ShardState = 'queued' | 'published' | 'held' | 'done' | 'not_done';

/** One shard as the coordinator saw it. */
export interface ShardReport {
  site: string;
  shard: number;
  targets: string[];
  /** host:port pairs. */
  size: number;
  state: ShardState;
  /** Publishes so far. */
  attempts: number;
  /** Refusals and leases that ran out so far (maxAttempts bounds them). */
  failures: number;
  /** The login that holds it (held), or did it (done). */
  holder?: string;
  results: number;
  /** The last progress of its holder. */
  progress?: { swept: number; open: number; probed: number; total: number };
  refusals: Array<{ login: string; attempt: number; code: RefusalCode; reason: string }>;
  /** Why it was published again or given up (lease ran out, no claim, refused, deadline). */
  problems: string[];
}

/** A report the coordinator did not take, and why. */
export interface IgnoredReport {
  login: string;
  shard: number;
  type: string;
  reason: string;
}

/** runScan's output, and how the work went over the sites. */
export interface CoordinatedScanOutput extends ScanOutput {
  shards: ShardReport[];
  /** Shards that did not complete (never an endless wait: the deadline and attempts bound it). */
  notDone: ShardReport[];
  /** Targets in no site's scope (not scanned, never dropped silently). */
  outside: string[];
  outsideHosts: number;
  ignored: { count: number; first: IgnoredReport[] };
  /** The report budget of each login in this scan, and what each login sent (bytes and messages
   *  counted; the logins that went over it). */
  reportBudget: { bytes: number; messages: number; logins: ReportUse[] };
  /** Results that arrived twice for one host:port (from two shards), dropped. */
  duplicates: number;
}

/** What one login sent about one scan (payload bytes and messages taken into account, before
 *  the budget ran out). */
export interface ReportUse {
  login: string;
  messages: number;
  bytes: number;
  /** Payload bytes of its results the coordinator holds now (a held shard's results, until
   *  the shard is done and the scan ends, or it is published again); at most `bytes`. */
  held: number;
  /** It went over the budget: everything after was dropped unread. */
  overBudget: boolean;
  /** Reports dropped unread after that. */
  dropped: number;
}

/** An agent as its retained status shows it. */
export interface AgentView {
  site: string;
  login: string;
  state: 'online' | 'offline';
  scope?: string[];
  credentials?: string[];
  concurrency?: number;
  /** When the coordinator last heard of it, ms since the epoch. */
  seenAt: number;
}

/** Events: 'agent' (AgentView), 'shard' ({scanId, shard: ShardReport}), 'progress' ({scanId,
 *  site, shard, progress}), 'results' ({scanId, shard, results: ScanResult[]}: a shard's results,
 *  in address order, when it is done; scan() resolves with the same results merged),
 *  'ignored' ({scanId} & IgnoredReport), 'connection' (boolean: the
 *  broker connection was lost (false) or is back (true), after start() connected), 'warning'
 *  (Error: a connection problem mqtt.js recovers from, a publish that failed, an unreadable
 *  status, a login that went over its report budget for a scan: once per login and scan). Never 'error'. */
export type CoordinatorEventName = 'agent' | 'shard' | 'progress' | 'results' | 'ignored' | 'connection' | 'warning';

interface Shard extends ShardReport {
  intervals: AddressInterval[];
  ports: number[];
  /** Deadline of the current state, ms since the epoch: the claim wait or the lease. */
  until: number;
  /** The attempt the holder was granted. */
  grantedAttempt: number;
  /** The holder's results for the granted attempt, by host:port. */
  buffer: Map<string, ScanResult>;
  /** Payload bytes of the reports behind `buffer`, by host:port, their sum, and who sent them. */
  bufferBytes: Map<string, number>;
  bufferTotal: number;
  bufferLogin?: string;
  /** The holder said done with this count, more results still due. */
  doneCount?: number;
  doneSummary?: import('../pipeline').StageCounts;
}

interface ActiveScan {
  scanId: string;
  shards: Shard[];
  request: Required<Pick<CoordinatedScanRequest, 'leaseMs' | 'claimWaitMs' | 'maxAttempts' | 'requireAgentStatus'>>;
  job: Omit<JobMessage, 'shard' | 'attempt' | 'site' | 'targets' | 'issuedAt'>;
  policy?: Policy;
  deadline: number;
  ignored: { count: number; first: IgnoredReport[] };
  budget: { bytes: number; messages: number };
  /** Its end was published (announceEnd). */
  ended?: boolean;
  /** By login (at most one per login of the broker: the ACL binds the topic's last level). */
  use: Map<string, ReportUse>;
  finish: () => void;
}

/**
 * A coordinator over one broker connection. `start()` connects and reads the agents' status;
 * `scan(request)` runs one coordinated scan (several may run at once); `stop()` disconnects.
 * Constructor throws SitesMessageError / TargetError for a bad site name or scope.
 */
export class ScanCoordinator extends EventEmitter {
  private readonly scopes: Array<{ site: string; scope: AddressInterval[] }>;
  private client: MqttClient | null = null;
  private readonly agentViews = new Map<string, AgentView>();
  private readonly scans = new Map<string, ActiveScan>();
  private timer: NodeJS.Timeout | null = null;
  private offlineSince: number | null = null;

  constructor(private readonly opts: ScanCoordinatorOptions) {
    super();
    checkLogin(opts.broker.username, 'broker.username');
    const entries = Object.entries(opts.sites);
    if (entries.length === 0) throw new SitesMessageError('sites', 'name at least one site and its scope');
    this.scopes = entries.map(([site, scope]) => ({ site: checkSiteName(site, `sites.${site}`), scope: scopeAddresses(scope, opts.allowPublic === true) }));
  }

  /** Connects, subscribes to the agents' status; rejects (closing the connection) when the
   *  broker does not answer within connectTimeoutMs or refuses the login. */
  async start(): Promise<void> {
    const client = openConnection(this.opts.broker, { clientId: this.opts.clientId ?? defaultClientId('coordinator', this.opts.broker) });
    this.client = client;
    client.on('message', ((topic, payload, packet) => this.onMessage(topic, payload, packet.retain === true)) as OnMessageCallback);
    // mqtt.js reconnects by itself: a connection error is a warning, never an unhandled 'error'.
    client.on('error', (err) => this.emit('warning', err));
    client.on('offline', () => {
      if (this.offlineSince === null && this.timer) this.emit('connection', false);
      this.offlineSince ??= Date.now();
    });
    client.on('connect', () => {
      // Leases stand still while the coordinator cannot hear the agents: nobody's silence counts.
      if (this.offlineSince !== null) {
        const down = Date.now() - this.offlineSince;
        this.offlineSince = null;
        for (const s of this.scans.values()) for (const sh of s.shards) if (sh.state === 'held' || sh.state === 'published') sh.until += down;
        if (this.timer) this.emit('connection', true);
      }
    });
    try {
      await firstConnect(client, this.opts.broker.connectTimeoutMs ?? 10_000);
      await client.subscribeAsync(STATUS_SUBSCRIPTION, { qos: 1 });
    } catch (err) {
      // Nothing left reconnecting behind a start that failed.
      await closeConnection(client, 500);
      this.client = null;
      throw new Error(`cannot connect to the broker (${(err as Error).message})`);
    }
    this.timer = setInterval(() => this.tick(), 200);
  }

  /** True while the broker connection is up (false before start() and after stop()). */
  get connected(): boolean {
    return this.client?.connected === true;
  }

  /** Disconnects; running scans end with their unfinished shards not done. */
  async stop(): Promise<void> {
    const ends: Promise<void>[] = [];
    for (const s of this.scans.values()) {
      for (const sh of s.shards) if (sh.state !== 'done') this.giveUp(s, sh, 'the coordinator stopped');
      s.finish();
      ends.push(this.announceEnd(s));
    }
    await Promise.all(ends);
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.client) await closeConnection(this.client);
    this.client = null;
  }

  /**
   * Waits up to `timeoutMs` until each of `sites` has an agent whose status says online;
   * resolves with the sites that still have none (empty: all have one).
   */
  async waitForAgents(sites: readonly string[], timeoutMs: number): Promise<string[]> {
    const deadline = Date.now() + Math.max(0, timeoutMs);
    const missing = () => sites.filter((site) => ![...this.agentViews.values()].some((a) => a.site === site && a.state === 'online'));
    while (missing().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    return missing();
  }

  /** What each login sent about a running scan so far (counted against its report budget; see
   *  CoordinatedScanRequest.maxReportBytes), or [] when no such scan runs. */
  reportUse(scanId: string): ReportUse[] {
    return [...(this.scans.get(scanId)?.use.values() ?? [])].map((u) => ({ ...u }));
  }

  /** The agents heard of (retained status), by login. */
  agents(): AgentView[] {
    return [...this.agentViews.values()].map((a) => ({ ...a }));
  }

  /**
   * One coordinated scan. Rejects before publishing anything for a bad request (TargetError for
   * targets, ports or scope; SitesMessageError for an option, site or name). Resolves when every
   * shard is done or given up (attempts, deadline, signal), with the merged results in address
   * order and the summary of the shards that were done.
   */
  async scan(request: CoordinatedScanRequest): Promise<CoordinatedScanOutput> {
    const prepared = await this.prepare(request);
    const client = this.client;
    if (!client) throw new Error('the coordinator is not started');
    const { scanId, shards, split, targets, started } = prepared;
    if (this.scans.has(scanId)) throw new SitesMessageError('scanId', 'a scan with this id is running');
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const active: ActiveScan = { ...prepared.active, finish };
    const onAbort = () => {
      for (const sh of shards) if (sh.state !== 'done') this.giveUp(active, sh, 'the scan was cancelled');
      finish();
    };
    this.scans.set(scanId, active);
    try {
      await client.subscribeAsync(reportSubscription(scanId), { qos: 1 });
      request.signal?.addEventListener('abort', onAbort, { once: true });
      if (request.signal?.aborted) onAbort();
      else if (shards.length === 0) finish();
      else this.publishDue(active);
      await finished;
    } finally {
      request.signal?.removeEventListener('abort', onAbort);
      this.scans.delete(scanId);
      await this.announceEnd(active);
      if (client.connected) await client.unsubscribeAsync(reportSubscription(scanId)).catch(() => undefined);
    }
    return this.output(active, targets, started, split, request.signal?.aborted === true);
  }

  /**
   * Checks a request as scan() would, without the broker: resolves with the number of host:port
   * pairs, the shards per site and the targets in no site's scope; rejects like scan() for a bad
   * request. The CLI calls it before it connects.
   */
  async check(request: CoordinatedScanRequest): Promise<{ targets: number; shards: Record<string, number>; outside: string[] }> {
    const p = await this.prepare(request);
    const shards: Record<string, number> = {};
    for (const sh of p.shards) shards[sh.site] = (shards[sh.site] ?? 0) + 1;
    return { targets: p.targets, shards, outside: p.split.outside };
  }

  private async prepare(request: CoordinatedScanRequest) {
    const scanId = request.scanId !== undefined ? checkScanId(request.scanId) : randomUUID();
    const leaseMs = bounded('leaseMs', request.leaseMs ?? DEFAULT_LEASE_MS, MIN_LEASE_MS, MAX_LEASE_MS);
    const claimWaitMs = bounded('claimWaitMs', request.claimWaitMs ?? DEFAULT_CLAIM_WAIT_MS, 100, MAX_LEASE_MS);
    const maxAttempts = bounded('maxAttempts', request.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, 1, MAX_ATTEMPTS);
    const deadlineMs = bounded('deadlineMs', request.deadlineMs ?? DEFAULT_SCAN_DEADLINE_MS, 1000, 7 * 24 * 3_600_000);
    const maxShards = bounded('maxShards', request.maxShards ?? MAX_SHARDS, 1, MAX_SHARDS);
    const options = checkJobOptions(request.options ?? {});
    if (request.credentialsName !== undefined) checkCredentialsName(request.credentialsName);
    const sites = request.sites ?? this.scopes.map((s) => s.site);
    const scopes = sites.map((name) => {
      const found = this.scopes.find((s) => s.site === name);
      if (!found) throw new SitesMessageError('sites', `"${String(name).slice(0, 40)}" is not a site of this coordinator (${this.scopes.map((s) => s.site).join(', ')})`);
      return found;
    });
    const ports = parsePorts(request.ports);
    const started = Date.now();
    // The whole scan through the scope policy and the target limit, as a local scan.
    const plan = await planTargets(request.targets, { ports, maxTargets: request.maxTargets, allowPublic: this.opts.allowPublic === true, resolve: noNames });
    const hostsPerShard = Math.max(1, Math.floor(bounded('shardTargets', request.shardTargets ?? DEFAULT_SHARD_TARGETS, 1, 1 << 20) / ports.length));
    const split = splitByScope(request.targets, scopes, { hostsPerShard, maxShards, allowPublic: this.opts.allowPublic === true });
    const shards: Shard[] = [];
    for (const share of split.sites) {
      for (const targets of share.shards) {
        const intervals = scopeAddresses(targets, true);
        const hosts = intervals.reduce((n, iv) => n + Number(iv.end - iv.start + 1n), 0);
        shards.push({
          site: share.site, shard: shards.length, targets, size: hosts * ports.length, state: 'queued', attempts: 0, failures: 0, results: 0,
          refusals: [], problems: [], intervals, ports, until: 0, grantedAttempt: 0, buffer: new Map(), bufferBytes: new Map(), bufferTotal: 0,
        });
      }
    }
    const job: ActiveScan['job'] = {
      v: 1, type: 'job', scanId, ports, options, leaseMs,
      includeUnreachable: listsUnreachable(request.includeUnreachable ?? 'auto', plan.count),
      ...(request.credentialsName !== undefined ? { credentialsName: request.credentialsName } : {}),
    };
    const pairs = shards.reduce((n, sh) => n + sh.size, 0);
    const budget = {
      bytes: request.maxReportBytes !== undefined ? bounded('maxReportBytes', request.maxReportBytes, 1, Number.MAX_SAFE_INTEGER)
        : 2 * (pairs * REPORT_BYTES_PER_TARGET + shards.length * REPORT_BYTES_PER_SHARD),
      messages: request.maxReports !== undefined ? bounded('maxReports', request.maxReports, 1, Number.MAX_SAFE_INTEGER)
        : 2 * (pairs + shards.length * REPORTS_PER_SHARD) + 3 * Math.ceil(deadlineMs / leaseMs) * Math.min(shards.length, PROGRESS_SHARDS_AT_ONCE),
    };
    const active: Omit<ActiveScan, 'finish'> = {
      scanId, shards, job, policy: request.policy, deadline: started + deadlineMs, ignored: { count: 0, first: [] }, budget, use: new Map(),
      request: { leaseMs, claimWaitMs, maxAttempts, requireAgentStatus: request.requireAgentStatus !== false },
    };
    return { scanId, shards, split, targets: plan.count, started, active };
  }

  private output(active: ActiveScan, targets: number, started: number, split: { outside: string[]; outsideHosts: number }, cancelled: boolean): CoordinatedScanOutput {
    const tally = new ScanTally(active.scanId, targets, started);
    const merged = new Map<string, ScanResult>();
    let duplicates = 0;
    for (const sh of active.shards) {
      if (sh.state !== 'done') continue;
      tally.add(sh.doneSummary!);
      for (const [key, r] of sh.buffer) {
        if (merged.has(key)) duplicates++;
        else merged.set(key, r);
      }
    }
    if (cancelled) tally.cancelled = true;
    const results = [...merged.values()].sort(compareResults);
    const shards = active.shards.map(reportOf);
    return {
      results, summary: tally.summary(), shards, notDone: shards.filter((s) => s.state !== 'done'),
      outside: split.outside, outsideHosts: split.outsideHosts, ignored: active.ignored, duplicates,
      reportBudget: { ...active.budget, logins: [...active.use.values()].map((u) => ({ ...u })) },
    };
  }

  /** Agents of `site` online now, and the shards they run at once. */
  private capacity(site: string): number {
    let n = 0;
    for (const a of this.agentViews.values()) if (a.site === site && a.state === 'online') n += a.concurrency ?? 1;
    return Math.max(1, n);
  }

  /**
   * Says once that the scan is over (messages.ts CancelMessage on `mqttsec/cancel/<scanId>`), when
   * any of its jobs was published: a copy nobody claimed may still wait in an agent's session (the
   * broker drops it at its Message Expiry, the scan's deadline), and an agent acknowledges it then
   * without a claim nobody would answer. Never rejects: a failure is a 'warning'.
   */
  private async announceEnd(active: ActiveScan): Promise<void> {
    if (active.ended || !active.shards.some((sh) => sh.attempts > 0)) return;
    active.ended = true;
    const client = this.client;
    if (!client?.connected) return;
    const expiry = Math.max(1, Math.ceil((active.deadline - Date.now()) / 1000));
    const message: CancelMessage = { v: 1, type: 'cancel', scanId: active.scanId };
    await client.publishAsync(cancelTopic(active.scanId), encodeMessage(message), { qos: 1, properties: { messageExpiryInterval: expiry } })
      .then(() => undefined, (err: Error) => this.emit('warning', new Error(`scan ${active.scanId}: publishing its end: ${err.message}`)));
  }

  /** Publishes queued shards while their site has room (one outstanding shard per agent slot). */
  private publishDue(active: ActiveScan): void {
    const outstanding = new Map<string, number>();
    for (const sh of active.shards) if (sh.state === 'published' || sh.state === 'held') outstanding.set(sh.site, (outstanding.get(sh.site) ?? 0) + 1);
    for (const sh of active.shards) {
      if (sh.state !== 'queued') continue;
      const n = outstanding.get(sh.site) ?? 0;
      if (n >= this.capacity(sh.site)) continue;
      outstanding.set(sh.site, n + 1);
      this.publish(active, sh);
    }
  }

  private publish(active: ActiveScan, sh: Shard): void {
    sh.attempts++;
    sh.state = 'published';
    sh.holder = undefined;
    this.clearBuffer(active, sh);
    sh.doneCount = undefined;
    sh.until = Date.now() + active.request.claimWaitMs;
    const message: JobMessage = { ...active.job, shard: sh.shard, attempt: sh.attempts, site: sh.site, targets: sh.targets, issuedAt: Date.now() };
    // A copy nobody took by the end of the scan is of no use: the broker drops it then
    // (Message Expiry Interval, OASIS MQTT 5.0 section 3.3.2.3.3).
    const expiry = Math.max(1, Math.ceil((active.deadline - Date.now()) / 1000));
    this.client?.publishAsync(jobsTopic(sh.site), encodeMessage(message), { qos: 1, properties: { messageExpiryInterval: expiry } })
      .catch((err: Error) => this.emit('warning', new Error(`publishing shard ${sh.shard}: ${err.message}`)));
    this.emitShard(active, sh);
  }

  /** Publishes the shard again, or gives it up: after maxAttempts failures, or MAX_ATTEMPTS
   *  publishes. `failed`: a refusal or a lease that ran out (not a claim that did not come). */
  private requeue(active: ActiveScan, sh: Shard, why: string, failed: boolean): void {
    if (sh.problems.length < MAX_REFUSALS_KEPT) sh.problems.push(why);
    if (failed) sh.failures++;
    if (sh.failures >= active.request.maxAttempts) {
      this.giveUp(active, sh, `given up after ${sh.failures} failure${sh.failures > 1 ? 's' : ''} in ${sh.attempts} attempt${sh.attempts > 1 ? 's' : ''}`);
      return;
    }
    if (sh.attempts >= MAX_ATTEMPTS) {
      this.giveUp(active, sh, `given up after ${sh.attempts} attempts`);
      return;
    }
    sh.state = 'queued';
    sh.holder = undefined;
    this.clearBuffer(active, sh);
    this.publishDue(active);
  }

  private giveUp(active: ActiveScan, sh: Shard, why: string): void {
    if (sh.state === 'done' || sh.state === 'not_done') return;
    sh.state = 'not_done';
    this.clearBuffer(active, sh);
    if (sh.problems.length < MAX_REFUSALS_KEPT + 1) sh.problems.push(why);
    this.emitShard(active, sh);
    this.checkFinished(active);
  }

  private checkFinished(active: ActiveScan): void {
    if (active.shards.every((s) => s.state === 'done' || s.state === 'not_done')) active.finish();
  }

  private emitShard(active: ActiveScan, sh: Shard): void {
    this.emit('shard', { scanId: active.scanId, shard: reportOf(sh) });
  }

  private tick(): void {
    const now = Date.now();
    for (const active of this.scans.values()) {
      // The deadline holds whatever happens: a broker that never comes back ends the scan too.
      if (now > active.deadline) {
        for (const sh of active.shards) this.giveUp(active, sh, 'the scan deadline passed');
        continue;
      }
      if (this.offlineSince !== null) continue; // leases stand still while the broker is out of reach
      for (const sh of active.shards) {
        if (sh.until > now) continue;
        if (sh.state === 'published') this.requeue(active, sh, `attempt ${sh.attempts}: no agent claimed it within ${active.request.claimWaitMs} ms`, false);
        else if (sh.state === 'held') this.requeue(active, sh, `attempt ${sh.attempts}: ${sh.holder} was silent past its lease (${active.request.leaseMs} ms)`, true);
      }
    }
  }

  /** `retained`: the broker sent it from its retained store (OASIS MQTT 5.0 section 3.3.1.3). */
  private onMessage(topic: string, payload: Buffer, retained = false): void {
    const status = parseStatusTopic(topic);
    if (status) {
      this.onStatus(status.site, status.login, payload);
      return;
    }
    const ref = parseReportTopic(topic);
    if (!ref) return;
    const active = this.scans.get(ref.scanId);
    if (!active) return;
    if (!this.withinBudget(active, ref.login, ref.shard, payload.length)) return;
    // Agents never retain a report: a retained one was left on the broker before this scan
    // subscribed (any login may retain on its own results topics), e.g. a refusal for a scan id
    // it guessed, which would count as a failure of the shard.
    if (retained) {
      this.ignore(active, { login: ref.login, shard: ref.shard, type: 'retained', reason: 'a retained report (left on the broker before the scan) never counts' });
      return;
    }
    let report: AgentReport;
    try {
      report = parseAgentReport(payload);
    } catch (err) {
      this.ignore(active, { login: ref.login, shard: ref.shard, type: 'unreadable', reason: (err as Error).message });
      return;
    }
    if (report.scanId !== ref.scanId || report.shard !== ref.shard) {
      this.ignore(active, { login: ref.login, shard: ref.shard, type: report.type, reason: 'its scan or shard differs from its topic' });
      return;
    }
    const sh = active.shards[ref.shard];
    if (!sh) {
      this.ignore(active, { login: ref.login, shard: ref.shard, type: report.type, reason: 'no such shard' });
      return;
    }
    this.onReport(active, sh, ref.login, report, payload.length);
  }

  private onStatus(site: string, login: string, payload: Buffer): void {
    if (payload.length === 0) {
      this.agentViews.delete(login);
      return;
    }
    let status: AgentStatusMessage;
    try {
      status = parseAgentStatus(payload);
    } catch (err) {
      this.emit('warning', new Error(`status of ${login}: ${(err as Error).message}`));
      return;
    }
    if (status.site !== site) return; // the topic (bound by the ACL) is the truth
    const view: AgentView = { site, login, state: status.state, scope: status.scope, credentials: status.credentials, concurrency: status.concurrency, seenAt: Date.now() };
    this.agentViews.set(login, view);
    this.emit('agent', { ...view });
    if (status.state === 'online') for (const active of this.scans.values()) this.publishDue(active);
  }

  /**
   * Counts one report of `login` about `active` (before it is read) against the scan's budget:
   * false when it is past it (dropped unread). The first report past it says so (one 'warning',
   * one 'ignored') and the shards the login holds are published again: their buffered results go,
   * so what one login's reports keep in memory stays within the budget.
   */
  private withinBudget(active: ActiveScan, login: string, shard: number, bytes: number): boolean {
    let use = active.use.get(login);
    if (!use) active.use.set(login, (use = { login, messages: 0, bytes: 0, held: 0, overBudget: false, dropped: 0 }));
    if (use.overBudget) {
      use.dropped++;
      active.ignored.count++;
      return false;
    }
    if (use.messages + 1 <= active.budget.messages && use.bytes + bytes <= active.budget.bytes) {
      use.messages++;
      use.bytes += bytes;
      return true;
    }
    use.overBudget = true;
    use.dropped++;
    const why = `${login} went over its report budget for this scan (${active.budget.messages} reports, ${active.budget.bytes} bytes; it sent ${use.messages} reports, ${use.bytes} bytes, then one of ${bytes} bytes): its further reports about it are ignored`;
    this.ignore(active, { login, shard, type: 'over-budget', reason: why });
    this.emit('warning', new Error(`scan ${active.scanId}: ${why}`));
    for (const sh of active.shards) {
      if (sh.state === 'held' && sh.holder === login) this.requeue(active, sh, `attempt ${sh.attempts}: ${login} went over its report budget`, true);
    }
    return false;
  }

  /** Drops a shard's buffered results (and their bytes from the use of the login that sent them). */
  private clearBuffer(active: ActiveScan, sh: Shard): void {
    const use = sh.bufferLogin ? active.use.get(sh.bufferLogin) : undefined;
    if (use) use.held -= sh.bufferTotal;
    sh.buffer.clear();
    sh.bufferBytes.clear();
    sh.bufferTotal = 0;
    sh.bufferLogin = undefined;
  }

  private ignore(active: ActiveScan, what: IgnoredReport): void {
    active.ignored.count++;
    if (active.ignored.first.length < MAX_IGNORED_KEPT) active.ignored.first.push(what);
    this.emit('ignored', { scanId: active.scanId, ...what });
  }

  private grant(login: string, message: Omit<GrantMessage, 'v' | 'type'>): void {
    this.client?.publishAsync(grantsTopic(login), encodeMessage({ v: 1, type: 'grant', ...message }), { qos: 1 })
      .catch((err: Error) => this.emit('warning', new Error(`grant to ${login}: ${err.message}`)));
  }

  private onReport(active: ActiveScan, sh: Shard, login: string, report: AgentReport, bytes: number): void {
    const ref = { scanId: active.scanId, shard: sh.shard, attempt: report.attempt };
    if (report.type === 'claim') {
      const agent = this.agentViews.get(login);
      let refusal: string | null = null;
      if (sh.state !== 'published') refusal = sh.state === 'held' ? 'another agent holds this shard' : `the shard is ${sh.state}`;
      else if (report.attempt > sh.attempts) refusal = 'no such attempt';
      // The status topic (bound to the login by the ACL) says which site a login serves. Not
      // whether it is online now: after a broker restart the agents' claims can arrive before
      // their new status, and their last wills (sent when the broker went down) say offline.
      else if (active.request.requireAgentStatus && !(agent && agent.site === sh.site)) refusal = `no agent of site ${sh.site} has this login`;
      if (refusal) {
        this.grant(login, { ...ref, granted: false, reason: refusal });
        return;
      }
      sh.state = 'held';
      sh.holder = login;
      sh.grantedAttempt = report.attempt;
      sh.until = Date.now() + active.request.leaseMs;
      this.clearBuffer(active, sh);
      this.grant(login, { ...ref, granted: true });
      this.emitShard(active, sh);
      return;
    }
    if (report.type === 'refusal') {
      // A refusal counts from an agent that may have had this copy: while nobody holds the shard,
      // or from its holder.
      // And only from a login whose status names the shard's site, as a claim: every login may
      // write results under its own name (the ACL's pattern), so without this another site's
      // agent, or any login of the broker, could make each shard of a site fail maxAttempts times.
      const fromHolder = sh.state === 'held' && sh.holder === login && sh.grantedAttempt === report.attempt;
      if (sh.state !== 'published' && !fromHolder) {
        this.ignore(active, { login, shard: sh.shard, type: report.type, reason: `the shard is ${sh.state}` });
        return;
      }
      const agent = this.agentViews.get(login);
      if (active.request.requireAgentStatus && !(agent && agent.site === sh.site)) {
        this.ignore(active, { login, shard: sh.shard, type: report.type, reason: `no agent of site ${sh.site} has this login` });
        return;
      }
      if (sh.refusals.length < MAX_REFUSALS_KEPT) sh.refusals.push({ login, attempt: report.attempt, code: report.code, reason: report.reason });
      this.requeue(active, sh, `attempt ${report.attempt}: refused by ${login} (${report.code}): ${report.reason}`, true);
      return;
    }
    if (sh.state !== 'held' || sh.holder !== login || sh.grantedAttempt !== report.attempt) {
      this.ignore(active, { login, shard: sh.shard, type: report.type, reason: sh.state === 'held' ? 'this login does not hold the shard (or not this attempt)' : `the shard is ${sh.state}` });
      return;
    }
    sh.until = Date.now() + active.request.leaseMs;
    if (report.type === 'progress') {
      sh.progress = { swept: report.swept, open: report.open, probed: report.probed, total: report.total };
      this.emit('progress', { scanId: active.scanId, site: sh.site, shard: sh.shard, progress: sh.progress });
      return;
    }
    if (report.type === 'result') {
      const r = report.result;
      // One address as the scanner writes it: firstOutsideScope alone takes any spec whose
      // addresses are in the shard ('127.0.60.1-127.0.60.2', '8.8.8.8,!8.8.8.8,127.0.60.1'), which
      // would put a broker that is nowhere into the merged scan.
      if (canonicalAddress(r.host) !== r.host) {
        this.ignore(active, { login, shard: sh.shard, type: report.type, reason: 'its host is not one IP address (as the scanner writes it)' });
        return;
      }
      if (!sh.ports.includes(r.port) || firstOutsideScope([r.host], sh.intervals) !== null) {
        this.ignore(active, { login, shard: sh.shard, type: report.type, reason: 'its host:port is not a target of this shard' });
        return;
      }
      const key = `${r.host}:${r.port}`;
      if (!sh.buffer.has(key) && sh.buffer.size >= sh.size) {
        this.ignore(active, { login, shard: sh.shard, type: report.type, reason: 'more results than the shard has targets' });
        return;
      }
      // Rated here, from the facts: a holder's "findings: [], risk low" on an anonymous open
      // broker would otherwise reach the report writer, which keeps a result's rating. The parser
      // checked what the rules read; anything else they trip on is ignored, never thrown (this
      // runs in mqtt.js's message handler: a throw would end the process, Node-RED with it).
      let rated: ScanResult;
      try {
        // Who scanned it: the shard's site and the login the topic belongs to (the ACL binds
        // it), whatever the report said.
        rated = { ...classifyResult(r, active.policy), scannedBy: { site: sh.site, agent: login } };
      } catch (err) {
        this.ignore(active, { login, shard: sh.shard, type: report.type, reason: `the risk rules cannot read it (${String((err as Error)?.message).slice(0, 100)})` });
        return;
      }
      sh.buffer.set(key, rated);
      const use = active.use.get(login)!;
      const before = sh.bufferBytes.get(key) ?? 0;
      sh.bufferBytes.set(key, bytes);
      sh.bufferTotal += bytes - before;
      sh.bufferLogin = login;
      use.held += bytes - before;
      sh.results = sh.buffer.size;
    } else if (report.type === 'done') {
      const swept = Object.values(report.summary.reachability).reduce((a, b) => a + b, 0);
      if (swept > sh.size || report.count > sh.size) {
        this.ignore(active, { login, shard: sh.shard, type: report.type, reason: 'its counts exceed the shard' });
        return;
      }
      sh.doneCount = report.count;
      sh.doneSummary = report.summary;
    }
    if (sh.doneCount !== undefined && sh.buffer.size >= sh.doneCount) {
      // Every result it announced is here (a result that went missing would leave the shard held
      // until its lease runs out, and then it is scanned again).
      sh.state = 'done';
      this.emitShard(active, sh);
      // Its results at once, for a flow that shows them as they come (the merged output holds them too).
      this.emit('results', { scanId: active.scanId, shard: sh.shard, results: [...sh.buffer.values()].sort(compareResults) });
      this.publishDue(active);
      this.checkFinished(active);
    }
  }
}

function reportOf(sh: Shard): ShardReport {
  return {
    site: sh.site, shard: sh.shard, targets: [...sh.targets], size: sh.size, state: sh.state, attempts: sh.attempts, failures: sh.failures,
    ...(sh.holder ? { holder: sh.holder } : {}), results: sh.buffer.size,
    ...(sh.progress ? { progress: { ...sh.progress } } : {}),
    refusals: sh.refusals.map((r) => ({ ...r })), problems: [...sh.problems],
  };
}

function bounded(field: string, value: number, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) throw new SitesMessageError(field, `must be a whole number from ${min} to ${max}`);
  return value;
}

/** A coordinated scan takes addresses only: a name would be resolved by each machine apart. */
async function noNames(name: string): Promise<string[]> {
  throw new Error(`host names are not taken in a coordinated scan (${name}); give addresses`);
}
