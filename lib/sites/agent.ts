// A scan agent: takes the jobs of its site from the coordinator's broker, checks each against
// its own scope, and runs the same pipeline as a local scan (runScan) on the ones it may run.
//
// How a job is acknowledged, and why it takes a connection of its own:
// - mqtt.js 5 handles incoming packets one at a time, and with `customHandleAcks` (MQTT 5 only)
//   the PUBACK of a QoS 1 PUBLISH is sent when our callback is called; until then every later
//   packet of that connection waits (mqttjs/MQTT.js issues #691, #1299, #1423; the code:
//   build/lib/handlers/publish.js and the `work` queue of client.js). So a job is held on a
//   "jobs" connection that carries nothing else: keepalive 0 (no PINGRESP to wait for; the
//   control connection has its keepalive) and Receive Maximum 1 (OASIS MQTT 5.0 section
//   3.1.2.11.3), so the broker sends it one job at a time. The agent's claims, results and
//   status go over a second, "control" connection.
// - The job is acknowledged only when its shard is done or refused. An agent that dies
//   leaves its job unacknowledged in its persistent session, and the broker sends it again
//   when the agent comes back (DUP, OASIS MQTT 5.0 section 4.4). Another agent does not get it:
//   section 4.8.2 lets the broker wait for the same client, and Mosquitto 2.0.11 does (measured:
//   an unacknowledged message of a shared subscription stays with the session that had it, and
//   a disconnected session with an unexpired session keeps its turn in the round robin; the same
//   loss is reported for 2.0.15 in eclipse-mosquitto/mosquitto issue #2662). So the
//   coordinator's lease, not the broker, gives a dead agent's shard to another agent.
import { EventEmitter } from 'node:events';
import type { IPublishPacket, ISubscriptionMap, MqttClient, OnMessageCallback } from 'mqtt';
import { runScan, type ScanOptions } from '../pipeline';
import { firstOutsideScope, intervalSpecs, planTargets, scopeAddresses, TargetError, type AddressInterval } from '../targets';
import { redactPassword } from '../credentials';
import type { Credentials, ScanResult } from '../types';
import { closeConnection, defaultClientId, firstConnect, openConnection, type SitesBrokerOptions } from './connection';
import {
  checkCredentialsName, checkLogin, checkSiteName, encodeMessage, JOB_OPTIONS_BEYOND_READING, MAX_RESULT_BYTES, parseCancel, parseGrant, parseJob,
  type AgentReport, type AgentStatusMessage, type GrantMessage, type JobMessage, type JobOptionBeyondReading, type RefusalCode,
} from './messages';
import { CANCEL_SUBSCRIPTION, grantsTopic, jobsSubscription, parseCancelTopic, reportTopic, statusTopic } from './topics';

/** Shards one agent runs at once, at most (one jobs connection each). */
export const MAX_AGENT_CONCURRENCY = 16;
/** How long an agent waits for the coordinator's answer to a claim, ms, by default. */
export const DEFAULT_GRANT_WAIT_MS = 15_000;
/** Scans known to be over (their cancel came), kept at most this many and this long, ms. */
const MAX_CANCELLED_KEPT = 1024;
const MAX_CANCELLED_MS = 7 * 24 * 3_600_000;
/** PUBACK reason codes (OASIS MQTT 5.0 section 3.4.2.1). */
const PUBACK_SUCCESS = 0;
const PUBACK_PAYLOAD_FORMAT_INVALID = 0x99;

/** The agent's own settings for the scans it runs: everything a job may not choose. */
export type AgentScanSettings = Pick<ScanOptions,
  'sweepConcurrency' | 'probeConcurrency' | 'stageConcurrency' | 'sweepThreads' | 'tls' | 'sendCredentialsPlaintext' | 'maxTargets' | 'policy'>;

export interface ScanAgentOptions {
  /** The coordinator's broker; `broker.username` is this agent's login (its topics end in it). */
  broker: SitesBrokerOptions;
  site: string;
  /** The networks this agent may scan (IP specs); checked by the scope policy (allowPublic). */
  scope: string | string[];
  allowPublic?: boolean;
  /** The logins this agent holds for scanned brokers, by name; a job names one (never carries it). */
  credentials?: Record<string, Credentials>;
  /** Shards run at once, 1 to MAX_AGENT_CONCURRENCY (default 1). */
  concurrency?: number;
  /** How long to wait for the grant of a claim, ms (default DEFAULT_GRANT_WAIT_MS). */
  grantWaitMs?: number;
  scan?: AgentScanSettings;
  /** The job options that act beyond reading (messages.ts JOB_OPTIONS_BEYOND_READING) this agent
   *  runs: `writeTest` (publish a message on the scanned brokers), `tryDefaults` (log in with
   *  well-known default logins). Each is off by default: a job that asks for one that is off is
   *  refused (code 'option'), and the reason goes back to the coordinator. */
  allow?: Partial<Record<JobOptionBeyondReading, boolean>>;
  /** Client id prefix: the control session is `<prefix>`, the jobs sessions `<prefix>-jobs-<n>`.
   *  Keep it across restarts so held jobs come back. Default: connection.ts defaultClientId
   *  (derived from the login's password, stable and unguessable). A prefix another login can
   *  guess lets that login take the sessions over (their queued jobs with them): Mosquitto
   *  hands a session to whoever names its client id. */
  clientId?: string;
}

/** What happened to a job, for logs and views (no secrets: names and counts only). */
export type AgentEvent =
  | { type: 'connected' }
  | { type: 'offline' }
  | { type: 'job'; scanId: string; shard: number; attempt: number; redelivered: boolean }
  /** The job's scan is over (the coordinator's cancel): a queued copy acknowledged without a
   *  claim, or a running shard stopped (and acknowledged). */
  | { type: 'cancelled'; scanId: string; shard: number; attempt: number }
  /** A second copy of a job that runs here came on another jobs connection: acknowledged at once. */
  | { type: 'duplicate'; scanId: string; shard: number; attempt: number }
  | { type: 'refused'; scanId: string; shard: number; attempt: number; code: RefusalCode; reason: string }
  | { type: 'denied'; scanId: string; shard: number; attempt: number; reason: string }
  | { type: 'running'; scanId: string; shard: number; attempt: number }
  | { type: 'done'; scanId: string; shard: number; attempt: number; results: number; durationMs: number }
  | { type: 'bad-message'; topic: string; error: string }
  | { type: 'error'; error: string };

/** A report without the fields every report shares (one Omit per member of the union). */
type ReportBody = AgentReport extends infer R ? (R extends AgentReport ? Omit<R, 'v' | 'scanId' | 'shard' | 'attempt'> : never) : never;

interface Running {
  key: string;
  abort: AbortController;
  /** The PUBACK of the job's latest delivery (a redelivery after a reconnection replaces it). */
  ack: (code: number) => void;
  /** The jobs connection it came on (0 to concurrency - 1). */
  connection: number;
  /** Its scan is over: acknowledged when it stops, not left for a redelivery. */
  cancelled?: boolean;
}

/**
 * A scan agent. `start()` connects (control + `concurrency` jobs connections), publishes its
 * status (retained; last will: offline) and takes jobs; `stop()` stops taking jobs, aborts the
 * running shards without acknowledging them (their jobs come back when the agent does, or the
 * coordinator's lease re-queues them), publishes offline and disconnects.
 * Emits 'event' (AgentEvent). Throws from the constructor (SitesMessageError, TargetError) for
 * a bad site, login, scope or credentials name.
 */
export class ScanAgent extends EventEmitter {
  readonly site: string;
  readonly login: string;
  private readonly scope: AddressInterval[];
  private readonly scopeSpecs: string[];
  private readonly concurrency: number;
  private readonly grantWaitMs: number;
  private readonly clientId: string;
  private control: MqttClient | null = null;
  private jobs: MqttClient[] = [];
  private readonly running = new Map<string, Running>();
  private readonly grants = new Map<string, (g: GrantMessage) => void>();
  /** Scans that are over (cancel messages), by scan id: until when this is kept, ms since the epoch. */
  private readonly cancelled = new Map<string, number>();
  private stopping = false;

  constructor(private readonly opts: ScanAgentOptions) {
    super();
    this.site = checkSiteName(opts.site);
    this.login = checkLogin(opts.broker.username, 'broker.username');
    this.scope = scopeAddresses(opts.scope, opts.allowPublic === true);
    this.scopeSpecs = intervalSpecs(this.scope);
    for (const name of Object.keys(opts.credentials ?? {})) checkCredentialsName(name, 'credentials');
    this.concurrency = opts.concurrency ?? 1;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1 || this.concurrency > MAX_AGENT_CONCURRENCY) {
      throw new RangeError(`concurrency must be a whole number from 1 to ${MAX_AGENT_CONCURRENCY}`);
    }
    this.grantWaitMs = opts.grantWaitMs ?? DEFAULT_GRANT_WAIT_MS;
    this.clientId = opts.clientId ?? defaultClientId('agent', opts.broker);
  }

  /**
   * Connects and starts taking jobs. Rejects (with every connection closed, nothing left
   * reconnecting) when a first CONNACK does not come within the broker's connectTimeoutMs or the
   * broker refuses; once started, lost connections are reconnected.
   */
  async start(): Promise<void> {
    try {
      await this.connect();
    } catch (err) {
      await this.stop();
      throw new Error(`cannot connect to the broker (${(err as Error).message})`);
    }
  }

  private async connect(): Promise<void> {
    const connectMs = this.opts.broker.connectTimeoutMs ?? 10_000;
    const offline: AgentStatusMessage = { v: 1, type: 'status', site: this.site, state: 'offline' };
    const control = openConnection(this.opts.broker, {
      clientId: this.clientId,
      will: { topic: statusTopic(this.site, this.login), payload: Buffer.from(encodeMessage(offline)), qos: 1, retain: true },
    });
    this.control = control;
    control.on('connect', () => {
      this.emitEvent({ type: 'connected' });
      void this.publishStatus('online');
    });
    control.on('offline', () => this.emitEvent({ type: 'offline' }));
    control.on('error', (err) => this.emitEvent({ type: 'error', error: `control connection: ${err.message}` }));
    control.on('message', ((topic, payload, packet) => {
      if (parseCancelTopic(topic) !== null) this.onCancel(topic, payload, packet.properties?.messageExpiryInterval);
      else this.onGrant(topic, payload);
    }) as OnMessageCallback);
    await firstConnect(control, connectMs);
    // The cancels before the jobs: a persistent session that was away gets the cancels queued for
    // it right after its CONNACK, before any jobs connection is open.
    await control.subscribeAsync([grantsTopic(this.login), CANCEL_SUBSCRIPTION], { qos: 1 });
    for (let i = 0; i < this.concurrency; i++) {
      const jobs = openConnection(this.opts.broker, {
        clientId: `${this.clientId}-jobs-${i}`,
        keepalive: 0,
        properties: { receiveMaximum: 1 },
        customHandleAcks: (topic, payload, packet, done) => this.onJob(i, topic, payload, packet, (code) => done(code)),
      });
      jobs.on('error', (err) => this.emitEvent({ type: 'error', error: `jobs connection: ${err.message}` }));
      this.jobs.push(jobs);
      await firstConnect(jobs, connectMs);
      await jobs.subscribeAsync(jobsSubscription(this.site), { qos: 1 });
      // Subscribed again at every reconnection, session or not: Mosquitto 2.0.11 restores a
      // persistent session's plain subscriptions after a restart but not its shared ones
      // (measured: CONNACK Session Present 1, and no job came until the SUBSCRIBE was sent
      // again), and mqtt.js resubscribes only when the session is gone. A SUBSCRIBE of a filter
      // the session has replaces it (OASIS MQTT 5.0 section 3.8.4). `resubscribe: true`, or
      // mqtt.js skips a filter it already subscribed (client.js subscribe, parseSub). Not
      // awaited: a job held on this connection holds its SUBACK back too.
      jobs.on('connect', () => {
        if (!this.stopping) jobs.subscribe({ [jobsSubscription(this.site)]: { qos: 1 }, resubscribe: true } as unknown as ISubscriptionMap);
      });
    }
  }

  /** Stops: no new job, running shards aborted and left unacknowledged, status offline. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const r of this.running.values()) r.abort.abort();
    await Promise.all(this.jobs.map((c) => closeConnection(c)));
    this.jobs = [];
    if (this.control) {
      if (this.control.connected) await this.publishStatus('offline');
      await closeConnection(this.control);
      this.control = null;
    }
  }

  /** The status this agent publishes (names and specs; never a secret). */
  status(state: 'online' | 'offline'): AgentStatusMessage {
    if (state === 'offline') return { v: 1, type: 'status', site: this.site, state };
    return {
      // The scope is shown, not trusted (each job is checked here): its first 64 specs keep the
      // status far below MAX_SMALL_MESSAGE_BYTES.
      v: 1, type: 'status', site: this.site, state, scope: this.scopeSpecs.slice(0, 64),
      credentials: Object.keys(this.opts.credentials ?? {}).slice(0, 64), concurrency: this.concurrency, at: Date.now(),
    };
  }

  private async publishStatus(state: 'online' | 'offline'): Promise<void> {
    try {
      await this.control?.publishAsync(statusTopic(this.site, this.login), encodeMessage(this.status(state)), { qos: 1, retain: true });
    } catch (err) {
      this.emitEvent({ type: 'error', error: `status: ${(err as Error).message}` });
    }
  }

  private emitEvent(e: AgentEvent): void {
    this.emit('event', e);
  }

  private onGrant(topic: string, payload: Buffer): void {
    if (topic !== grantsTopic(this.login)) return;
    let grant: GrantMessage;
    try {
      grant = parseGrant(payload);
    } catch (err) {
      this.emitEvent({ type: 'bad-message', topic, error: (err as Error).message });
      return;
    }
    this.grants.get(`${grant.scanId}/${grant.shard}/${grant.attempt}`)?.(grant);
  }

  /** A scan is over: its queued copies will be acknowledged without a claim, its running shards
   *  stop, and a claim waiting for its grant ends. `expirySeconds`: what is left of the message's
   *  Message Expiry Interval (the scan's deadline; OASIS MQTT 5.0 section 3.3.2.3.3). */
  private onCancel(topic: string, payload: Buffer, expirySeconds: number | undefined): void {
    let scanId: string;
    try {
      scanId = parseCancel(payload).scanId;
      if (parseCancelTopic(topic) !== scanId) throw new Error('its scan differs from its topic');
    } catch (err) {
      this.emitEvent({ type: 'bad-message', topic, error: (err as Error).message });
      return;
    }
    const now = Date.now();
    for (const [id, until] of this.cancelled) if (until <= now) this.cancelled.delete(id);
    if (this.cancelled.size >= MAX_CANCELLED_KEPT && !this.cancelled.has(scanId)) this.cancelled.delete(this.cancelled.keys().next().value!);
    this.cancelled.set(scanId, now + Math.min(MAX_CANCELLED_MS, (expirySeconds ?? MAX_CANCELLED_MS / 1000) * 1000));
    for (const r of this.running.values()) {
      if (!r.key.startsWith(`${scanId}/`) || r.cancelled) continue;
      r.cancelled = true;
      r.abort.abort();
      const [, shard, attempt] = r.key.split('/');
      this.emitEvent({ type: 'cancelled', scanId, shard: Number(shard), attempt: Number(attempt) });
    }
    for (const [key, answer] of this.grants) {
      const [id, shard, attempt] = key.split('/');
      if (id === scanId) answer({ v: 1, type: 'grant', scanId, shard: Number(shard), attempt: Number(attempt), granted: false, reason: 'the scan is over' });
    }
  }

  private isCancelled(scanId: string): boolean {
    const until = this.cancelled.get(scanId);
    return until !== undefined && until > Date.now();
  }

  /** One delivery of a job on jobs connection `connection`: `ack` sends its PUBACK and lets the
   *  next come on that connection (Receive Maximum 1: until then it gets nothing else). */
  private onJob(connection: number, topic: string, payload: Buffer, packet: IPublishPacket, ack: (code: number) => void): void {
    if (this.stopping) return; // left unacknowledged: it comes back with the session
    let job: JobMessage;
    try {
      job = parseJob(payload);
    } catch (err) {
      // Nothing to answer to (the scan or shard may be what is wrong): say so here, and take it
      // off the queue, since a redelivery would be just as bad.
      this.emitEvent({ type: 'bad-message', topic, error: (err as Error).message });
      ack(PUBACK_PAYLOAD_FORMAT_INVALID);
      return;
    }
    const key = `${job.scanId}/${job.shard}/${job.attempt}`;
    const already = this.running.get(key);
    if (!already && this.isCancelled(job.scanId)) {
      // A copy that waited in this session after its scan ended: nobody would answer its claim.
      ack(PUBACK_SUCCESS);
      this.emitEvent({ type: 'cancelled', scanId: job.scanId, shard: job.shard, attempt: job.attempt });
      return;
    }
    if (already && already.connection === connection) {
      // The broker sent it again on the same connection after a reconnection (DUP): the PUBACK
      // goes to this delivery (the earlier one's connection is gone).
      already.ack = ack;
      this.emitEvent({ type: 'job', scanId: job.scanId, shard: job.shard, attempt: job.attempt, redelivered: true });
      return;
    }
    if (already) {
      // The same job on another jobs connection (published twice, or two copies of one attempt):
      // it runs already, so this copy is acknowledged now. Taking its PUBACK over instead would
      // leave the first connection's PUBACK unsent, and that connection would take no job again.
      ack(PUBACK_SUCCESS);
      this.emitEvent({ type: 'duplicate', scanId: job.scanId, shard: job.shard, attempt: job.attempt });
      return;
    }
    this.emitEvent({ type: 'job', scanId: job.scanId, shard: job.shard, attempt: job.attempt, redelivered: !!packet.dup });
    const running: Running = { key, abort: new AbortController(), ack, connection };
    this.running.set(key, running);
    void this.handle(job, running).then(
      (acknowledge) => {
        this.running.delete(key);
        if (acknowledge || running.cancelled) running.ack(PUBACK_SUCCESS);
      },
      (err: Error) => {
        this.running.delete(key);
        this.emitEvent({ type: 'error', error: `job ${key}: ${err.message}` });
        // Not acknowledged: the job comes back when this agent reconnects, and the lease covers it.
      },
    );
  }

  /** Why this agent will not run `job`, or null when it may. */
  private async refusal(job: JobMessage): Promise<{ code: RefusalCode; reason: string } | null> {
    if (job.site !== this.site) return { code: 'site', reason: `job for site "${job.site}" reached an agent of site "${this.site}"` };
    let outside: string | null;
    try {
      outside = firstOutsideScope(job.targets, this.scope);
    } catch (err) {
      return { code: 'targets', reason: (err as Error).message };
    }
    for (const option of JOB_OPTIONS_BEYOND_READING) {
      if (job.options[option] === true && this.opts.allow?.[option] !== true) {
        return { code: 'option', reason: `the job asks for ${OPTION_WORDS[option]}; this agent does not allow it (${OPTION_SETTING[option]})` };
      }
    }
    if (outside) return { code: 'scope', reason: `${outside} is outside this agent's scope (${this.scopeSpecs.slice(0, 8).join(', ')}${this.scopeSpecs.length > 8 ? ', …' : ''})` };
    // Own names only: "constructor" or "toString" would find Object.prototype's, and the shard
    // would run as if it had a login.
    if (job.credentialsName !== undefined && !Object.hasOwn(this.opts.credentials ?? {}, job.credentialsName)) {
      return { code: 'credentials', reason: `this agent holds no credentials named "${job.credentialsName}"` };
    }
    try {
      await planTargets(job.targets, { ports: job.ports, allowPublic: this.opts.allowPublic === true, maxTargets: this.opts.scan?.maxTargets });
    } catch (err) {
      if (err instanceof TargetError) return { code: 'targets', reason: err.message };
      throw err;
    }
    return null;
  }

  /** Publishes one report about the job's shard on this agent's topic, QoS 1. */
  private report(job: JobMessage, body: ReportBody): Promise<unknown> {
    const message = { v: 1, scanId: job.scanId, shard: job.shard, attempt: job.attempt, ...body } as AgentReport;
    if (!this.control) return Promise.reject(new Error('not connected'));
    return this.control.publishAsync(reportTopic(job.scanId, job.shard, this.login), encodeMessage(message), { qos: 1 });
  }

  /** Waits for the coordinator's grant of a claim: true when granted. */
  private async claim(job: JobMessage): Promise<{ granted: boolean; reason?: string }> {
    const key = `${job.scanId}/${job.shard}/${job.attempt}`;
    const answer = new Promise<GrantMessage | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), this.grantWaitMs);
      this.grants.set(key, (g) => {
        clearTimeout(timer);
        resolve(g);
      });
    });
    try {
      await this.report(job, { type: 'claim' });
      const grant = await answer;
      if (!grant) return { granted: false, reason: `no answer from the coordinator within ${this.grantWaitMs} ms` };
      return { granted: grant.granted, reason: grant.reason };
    } finally {
      this.grants.delete(key);
    }
  }

  /** Runs one job to its end; resolves true when the job may be acknowledged. */
  private async handle(job: JobMessage, running: Running): Promise<boolean> {
    const ref = { scanId: job.scanId, shard: job.shard, attempt: job.attempt };
    const refused = await this.refusal(job);
    if (refused) {
      await this.report(job, { type: 'refusal', ...refused });
      this.emitEvent({ type: 'refused', ...ref, ...refused });
      return true;
    }
    const claim = await this.claim(job);
    if (!claim.granted) {
      this.emitEvent({ type: 'denied', ...ref, reason: claim.reason ?? 'not granted' });
      return true;
    }
    if (running.abort.signal.aborted) return false;
    this.emitEvent({ type: 'running', ...ref });
    const credentials = job.credentialsName !== undefined ? this.opts.credentials![job.credentialsName] : null;
    const started = Date.now();
    const sent: Promise<unknown>[] = [];
    let count = 0;
    // Progress renews the lease: at least every third of it, whatever the scan does.
    const renewEvery = Math.max(250, Math.floor(job.leaseMs / 3));
    let last = { swept: 0, open: 0, probed: 0, total: 0 };
    // Each publish is awaited below (Promise.all); the no-op catch only keeps a rejection that
    // comes before that from counting as unhandled, which would end the process.
    const track = (p: Promise<unknown>) => {
      p.catch(() => undefined);
      sent.push(p);
    };
    const heartbeat = setInterval(() => track(this.report(job, { type: 'progress', ...last })), renewEvery);
    let summary;
    try {
      ({ summary } = await runScan({
        ...this.opts.scan,
        ...job.options,
        targets: job.targets,
        ports: job.ports,
        allowPublic: this.opts.allowPublic === true,
        maxTargets: this.opts.scan?.maxTargets,
        credentials,
        scanId: job.scanId,
        includeUnreachable: job.includeUnreachable,
        signal: running.abort.signal,
        onProgress: (p) => {
          last = { swept: p.swept, open: p.open, probed: p.probed, total: p.total };
        },
        onResult: (r) => {
          count++;
          track(this.report(job, { type: 'result', result: boundedResult(redactPassword(r, credentials?.password)) }));
        },
      }));
    } catch (err) {
      if (running.abort.signal.aborted) return false;
      const reason = redactPassword(`the scan failed: ${(err as Error)?.message ?? String(err)}`, credentials?.password).slice(0, 500);
      await this.report(job, { type: 'refusal', code: 'failed', reason });
      this.emitEvent({ type: 'refused', ...ref, code: 'failed', reason });
      return true;
    } finally {
      clearInterval(heartbeat);
    }
    if (running.abort.signal.aborted || summary.cancelled) return false;
    await Promise.all(sent);
    const durationMs = Date.now() - started;
    await this.report(job, {
      type: 'done', count, durationMs,
      summary: { reachability: summary.reachability, classification: summary.classification, cancelled: false },
    });
    this.emitEvent({ type: 'done', ...ref, results: count, durationMs });
    return true;
  }
}

/** What each option beyond reading does, and the agent setting that allows it (CLI flag). */
const OPTION_WORDS: Record<JobOptionBeyondReading, string> = {
  writeTest: 'a write test (publishing a message on the scanned brokers)',
  tryDefaults: 'well-known default logins (admin/admin, ...) on the scanned brokers',
};
const OPTION_SETTING: Record<JobOptionBeyondReading, string> = {
  writeTest: 'mqtt-scan agent --allow-write-test; the agent node: Allow write tests',
  tryDefaults: 'mqtt-scan agent --allow-default-logins; the agent node: Allow default logins',
};

/** A result whose JSON fits MAX_RESULT_BYTES: the topic samples go first, then the topic items. */
function boundedResult(r: ScanResult): ScanResult {
  const fits = (x: ScanResult) => Buffer.byteLength(JSON.stringify(x)) < MAX_RESULT_BYTES - 4096;
  if (fits(r) || !r.topics) return r;
  const withoutSamples: ScanResult = { ...r, topics: { ...r.topics, items: r.topics.items.map((t) => ({ ...t, sample: undefined })) } };
  if (fits(withoutSamples)) return withoutSamples;
  return { ...r, topics: { ...r.topics, items: [] } };
}
