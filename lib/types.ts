// The result contract shared by the CLI (--json), the HTTP API and msg.payload of every node.
// Extend freely; never rename a field (see ../shared/DESIGN.md).

export type Reachability = 'open' | 'closed' | 'filtered' | 'error';
export type Transport = 'tcp' | 'tls' | 'ws' | 'wss';
export type Classification =
  | 'open_or_auth_ok'
  | 'not_authorized'
  | 'unreachable_or_firewalled'
  | 'tls_or_ssl_error'
  | 'not_mqtt';
export type AuthOutcome = 'accepted' | 'rejected' | 'error' | 'not_tested';
export type MqttVersion = '3.1.1' | '5.0';
export type VersionSupport = 'supported' | 'unsupported' | 'unknown';
export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';
export type RiskLevel = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW';

export interface Target {
  host: string;
  port: number;
}

export interface AuthAttempt {
  outcome: AuthOutcome;
  /** Raw CONNACK return code (3.1.1) or reason code (5.0); absent when no CONNACK came. */
  code?: number;
  /** Human name of the code, e.g. "Not authorized". */
  reason?: string;
  /** Protocol version the attempt was made with. */
  version?: MqttVersion;
  /** What went wrong when outcome is error, e.g. "closed without CONNACK". */
  detail?: string;
}

export interface MqttInfo {
  versions: Partial<Record<MqttVersion, VersionSupport>>;
  brokerVersion?: string | null;
  connackProperties?: Record<string, unknown>;
}

export interface TlsCertificateInfo {
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  daysLeft: number;
  selfSigned: boolean;
  trusted: boolean;
  fingerprint256: string;
  keyBits?: number;
  [extra: string]: unknown;
}

export interface TlsInfo {
  protocol?: string | null;
  cipher?: string | null;
  versions?: Record<string, boolean>;
  certificate?: TlsCertificateInfo | null;
  [extra: string]: unknown;
}

export interface TopicItem {
  topic: string;
  messages: number;
  retained: boolean;
  sample?: string;
  sensor?: string | null;
  [extra: string]: unknown;
}

export interface TopicsInfo {
  count: number;
  items: TopicItem[];
  sys?: Record<string, unknown>;
  [extra: string]: unknown;
}

export interface Finding {
  id: string;
  severity: Severity;
  title: string;
  evidence: string;
  recommendation: string;
  references: string[];
}

export interface RiskInfo {
  level: RiskLevel;
  score: number;
}

export interface ScanResult {
  scanId: string;
  host: string;
  port: number;
  reachability: Reachability;
  /** errno for reachability 'error' (EMFILE, EHOSTUNREACH, ...). */
  errno?: string;
  transport: Transport | null;
  classification: Classification;
  mqtt: MqttInfo;
  auth: {
    anonymous: AuthAttempt;
    wrongCredentials: AuthAttempt;
    givenCredentials: AuthAttempt;
  };
  tls?: TlsInfo | null;
  topics?: TopicsInfo | null;
  findings?: Finding[];
  risk?: RiskInfo | null;
  /** What we saw that led to the classification (first bytes of a non-MQTT answer, TLS error...). */
  evidence?: string[];
  /** Milliseconds spent on this target (reachability + probe). */
  durationMs?: number;
  error: string | null;
}

export interface ScanSummary {
  scanId: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  targets: number;
  reachability: Record<Reachability, number>;
  classification: Record<Classification, number>;
  cancelled?: boolean;
}
