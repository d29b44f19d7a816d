// The shapes the lab dashboard and the HTTP API keep between messages (in the flow context, so a
// page reload, a redeploy or a restart finds them again) and the contract of a view: a message in,
// messages out on numbered outputs, with the flow context and a few runtime services at hand.
import type { AuthAttempt, Classification, DeviceExposure, Finding, MqttVersion, RiskInfo, RiskLevel, TlsCertificateInfo, TlsPskInfo, Transport, VersionSupport } from '../types';
import type { RiskSummary } from '../risk';
import type { KnownVulnerabilities } from '../common';
import type { ScanHistory } from '../history';
import type { LabControls } from './lab-controls-types';

/** One topic of a kept result: what the table and the detail view show. */
export interface KeptTopic {
  topic: string;
  messages: number;
  retained: boolean;
  sensor: string | null;
  sample: string | undefined;
  values: Record<string, number | boolean> | null;
  sensitive: string[] | null;
}

/**
 * One broker of the current scan, trimmed for the flow context (flow key `current`): the fields the
 * table, cards and detail view read, at most 100 topics (a flagged payload's parsed values are
 * not kept: its sample is masked, and so must its values be) and at most 50 known
 * vulnerabilities. `ep` is "host:port" ("[v6]:port").
 */
export interface KeptResult {
  ep: string;
  host: string;
  port: number;
  transport: Transport | null;
  /** ws and wss: the path of the WebSocket upgrade (ScanResult.websocketPath). */
  websocketPath?: string;
  classification: Classification;
  mqtt: { versions: Partial<Record<MqttVersion, VersionSupport>>; brokerVersion: string | null };
  auth: { anonymous: AuthAttempt; wrongCredentials: AuthAttempt; givenCredentials: AuthAttempt; [other: string]: AuthAttempt | undefined };
  findings: Finding[];
  risk: RiskInfo | null;
  /** Why a port that answered is not rated (ScanResult.riskNotRated); absent when rated. */
  riskNotRated?: string;
  /** The known vulnerabilities of the version the broker said (ClassifiedResult.vulnerabilities),
   *  bounded (lib/common knownVulnerabilitiesOf: at most 50 matches, texts cut); absent when it
   *  did not say which broker and version it is. */
  vulnerabilities?: KnownVulnerabilities;
  /** What changed since the previous scan of this host:port (ScanResult.changes, in words, at
   *  most 600 characters) and that scan's id; absent when the result does not say. */
  since?: { text: string; previousScan: string | null };
  /** Why the sniffer did not read this broker (msg.sniffer.skipped), or null. */
  skipped: string | null;
  /** A coordinated scan: the site and scan agent that scanned it (ScanResult.scannedBy). */
  scannedBy?: { site: string; agent: string };
  tls: {
    protocol?: string | null;
    cipher?: string | null;
    versions?: Record<string, boolean>;
    certificate: TlsCertificateInfo | null;
    clientCertRequired?: boolean;
    weakCiphers?: string[];
    score?: number;
    /** Why there is no TLS score (TlsInfo.notRated). */
    notRated?: string;
    /** The listener takes pre-shared keys (TlsInfo.psk). */
    psk?: TlsPskInfo | null;
    error: string | null;
  } | null;
  topics: {
    count: number;
    as?: string;
    listenedMs?: number;
    error: string | null;
    /** What the broker's SUBACKs said when it refused a filter (TopicsInfo.note). */
    note?: string;
    writeTest: { topic: string; accepted: boolean; evidence: string } | null;
    /** The devices behind the topics (TopicsInfo.devices), bounded (lib/common deviceExposureOf); absent when the listener made none. */
    devices?: DeviceExposure;
    items: KeptTopic[];
  } | null;
}

/** The dashboard's current (or last) scan: flow key `current`. */
export interface CurrentScan {
  scanId: string;
  target: string;
  ports: string;
  /** ISO time the form started it. */
  startedAt: string;
  withLogin: boolean;
  /** By endpoint ("127.0.0.1:1883"), in the order they arrived. */
  results: Record<string, KeptResult>;
  /** Targets (host:port pairs) the scan covers, once the probe said so; else null. */
  total: number | null;
  complete: boolean;
  cancelled?: boolean;
  /** The flows stopped while it ran (redeploy, restart): it never finished. */
  interrupted?: boolean;
  durationMs?: number;
  /** The risk classifier's scan summary, at the end. */
  summary?: RiskSummary | null;
}

/** Flow key `running`: the scan that holds the form, and when it started (ms since the epoch). */
export interface RunningScan {
  scanId: string;
  at: number;
}

/** Flow key `reports`: by scan id, the files the report writer wrote (API: also when, ms). */
export type ReportFiles = Record<string, { pdf?: string; csv?: string; json?: string; at?: number }>;

/** The progress panel (flow key `progress`). */
export interface Progress {
  state: 'idle' | 'running' | 'done' | 'cancelled' | 'error' | 'interrupted';
  /** 0 targets, 1 probe, 2 TLS, 3 topics, 4 risk, 5 report, 6 finished. */
  phase?: number;
  text?: string;
  scanId?: string;
  target?: string;
  ports?: string;
  listen?: number;
  writeTest?: boolean;
  withLogin?: boolean;
  /** ms since the epoch. */
  startedAt?: number;
  cancelled?: boolean;
  cancelRequested?: boolean;
  brokers?: number | null;
  worst?: RiskLevel | null;
  /** The whole scan's duration (ms) from its completion message: the figure "Done in" shows. */
  durationMs?: number;
  /** Seconds the scan took, one decimal, as text ("3.2"). */
  seconds?: string;
  error?: string;
  warning?: string;
  /** A message about the form (refused input, nothing to cancel), shown once. */
  notice?: string;
}

/** A message as a view sees it: any properties. */
export type ViewMessage = Record<string, unknown>;

/** What a view sends: one entry per output, each a message, several messages, or nothing. */
export type ViewOutputs = Array<ViewMessage | ViewMessage[] | null>;

/** A key-value store: the flow context of the node that runs the view. */
export interface ContextStore {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
}

/** What a view may use besides its message. The node (nodes/mqttsec-dashboard-view.ts) provides it. */
export interface ViewContext {
  /** The flow context: shared by every view of the same flow (tab), saved with it. */
  flow: ContextStore;
  /** The global context: shared by every flow of the runtime (which scans run: scans-running.ts). */
  global: ContextStore;
  /** An environment variable as Node-RED resolves it for the node (flow, group, global, process). */
  env(name: string): string | undefined;
  /** ms since the epoch. */
  now(): number;
  /** A new scan id (Node-RED's: 16 hex digits). */
  newId(): string;
  /** Calls fn after ms, unless the node closes first. */
  later(ms: number, fn: () => void): void;
  /** Sends outputs later (from a timer). */
  send(outputs: ViewOutputs): void;
  /** This node's memory: never saved, emptied when the node closes (e.g. HTTP responses waiting). */
  memory: Map<string, unknown>;
  /** The embedded lab's brokers to change (Lab controls): `npm start`'s, else undefined. */
  labControls(): LabControls | undefined;
  /** Answers an HTTP request (msg.res of an "http in" node) at once, outside the flow. */
  respond(res: unknown, status: number, headers: Record<string, string>, body: unknown): void;
  /**
   * The runtime's scan history (lib/history), shared with the report writers; undefined when it
   * could not be opened (the views then say so instead of listing scans).
   */
  history?: ScanHistory;
}

/** One view: how many outputs it has, what it does with a message, and what it does on close. */
export interface View {
  outputs: number;
  /** Reads or writes the scan history (ctx.history): the node waits for it to be open first. */
  usesHistory?: boolean;
  /** The outputs to send, or null to send nothing. May change `msg` and return it. */
  input(msg: ViewMessage, ctx: ViewContext): ViewOutputs | null;
  /** The flows stop (redeploy, shutdown): settle what cannot wait. */
  close?(ctx: ViewContext): void;
  /**
   * For a view that sends every broker result of a scan on one output chosen from msg.sniff alone
   * (scan-route): that output's index (0-based), for the scan's msg.sniff. Lets a broker probe
   * upstream find the topic sniffer its results will reach (nodes/shared/listener-handoff.ts).
   */
  outputForSniff?(sniff: unknown): number;
}
