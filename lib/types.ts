// The result contract shared by the CLI (--json), the HTTP API and msg.payload of every node.
// Extend freely; never rename a field (docs/ARCHITECTURE.md, "The result contract").

export type Reachability = 'open' | 'closed' | 'filtered' | 'error';
export type Transport = 'tcp' | 'tls' | 'ws' | 'wss';
export type Classification =
  | 'open_or_auth_ok'
  | 'not_authorized'
  | 'unreachable_or_firewalled'
  | 'tls_or_ssl_error'
  | 'not_mqtt';
/**
 * What one login attempt got. accepted / rejected: a CONNACK said so; error: no verdict (no
 * CONNACK, or a code that is not about the login); not_tested: not sent.
 * closed_without_connack: the broker hung up on a well-formed CONNECT without any CONNACK, which
 * OASIS MQTT 3.1.1 §3.1.4 allows for a refused connection (amqtt's auth plugins before its fix,
 * Mosquitto over websockets, aedes' preConnect). What proves it: the transport was up (TCP
 * connected, or the TLS handshake done), the CONNECT was written, and the peer closed or reset the
 * connection without sending one byte; and the port is known to speak MQTT (another attempt got a
 * CONNACK) or keeps a connection open after only the first bytes of a CONNECT (so the close
 * answered a whole CONNECT it read). It counts as a refusal of that login; it is never an acceptance.
 */
export type AuthOutcome = 'accepted' | 'rejected' | 'closed_without_connack' | 'error' | 'not_tested';
export type MqttVersion = '3.1.1' | '5.0';
export type VersionSupport = 'supported' | 'unsupported' | 'unknown';
export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';
export type RiskLevel = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW';

export interface Target {
  host: string;
  port: number;
}

/**
 * Why the user's login was not sent to a broker (lib/credentials/policy.ts):
 * accepts_any_login: the broker accepted a random made-up login, so the real one tells nothing;
 * random_login_unanswered: no clear CONNACK to the made-up login, so it might accept anything;
 * plaintext_transport: plain TCP or ws would carry the password in clear text;
 * untrusted_certificate: the TLS certificate does not chain to a trusted CA or does not name the host.
 */
export type CredentialWithholding =
  | 'accepts_any_login'
  | 'random_login_unanswered'
  | 'plaintext_transport'
  | 'untrusted_certificate';

export interface AuthAttempt {
  outcome: AuthOutcome;
  /** Raw CONNACK return code (3.1.1) or reason code (5.0); absent when no CONNACK came. */
  code?: number;
  /** Human name of the code, e.g. "Not authorized". */
  reason?: string;
  /** Protocol version the attempt was made with. */
  version?: MqttVersion;
  /** What went wrong when outcome is error, e.g. "closed without CONNACK"; for a login that
   *  was withheld (outcome not_tested), why. */
  detail?: string;
  /** Given credentials only: the login was not sent, and why (outcome is then not_tested). */
  withheld?: CredentialWithholding;
  /** Given credentials only: they are a well-known default pair. */
  defaultPair?: boolean;
  /** Default-login check only: the username of the default pair that got in (never the password). */
  username?: string;
  /**
   * Whether this attempt presented a client certificate in its TLS handshake (the scan's
   * --tls-cert / the tls-config node's certificate): true or false on every attempt the probe made
   * over TLS, false over plain TCP; absent on attempts not made (not_tested) and on results from
   * before this field. A login accepted with the certificate tells what its holder gets, not what
   * anyone gets (auth.withoutCertificate says that).
   */
  clientCertificate?: boolean;
  /**
   * auth.withoutCertificate only: the broker ended the TLS session of this certificate-less attempt
   * (an alert such as certificate_required or handshake_failure) while the same CONNECT with the
   * certificate got a CONNACK: the missing certificate was the reason (outcome is then error).
   */
  certificateRequired?: boolean;
}

export interface MqttInfo {
  versions: Partial<Record<MqttVersion, VersionSupport>>;
  brokerVersion?: string | null;
  connackProperties?: Record<string, unknown>;
}

export interface TlsCertificateInfo {
  subject: string;
  issuer: string;
  /** Subject alternative names as Node prints them: "DNS:localhost, IP Address:127.0.0.1". */
  subjectAltName?: string | null;
  serialNumber?: string;
  validFrom: string;
  validTo: string;
  daysLeft: number;
  expired?: boolean;
  notYetValid?: boolean;
  selfSigned: boolean;
  /** Chains to a trusted root: the system CAs, or the CA the user supplied. */
  trusted: boolean;
  /** Why it is not trusted, in OpenSSL's words (e.g. SELF_SIGNED_CERT_IN_CHAIN). */
  trustError?: string | null;
  /** Whether the name we connected with (IP or host) is in the certificate. */
  hostnameMatch?: boolean;
  keyType?: string | null;
  keyBits?: number;
  signatureAlgorithm?: string | null;
  fingerprint256: string;
  /** Subjects from leaf to root as the server sent them. */
  chain?: string[];
  [extra: string]: unknown;
}

/**
 * A TLS listener that takes pre-shared keys (RFC 4279, e.g. mosquitto psk_hint/psk_file): offered
 * only PSK cipher suites with a throwaway identity, it chose one (lib/mqtt offerPsk).
 */
export interface TlsPskInfo {
  /** The PSK identity hint the server sent (mosquitto's psk_hint), control characters as '?'; null when it sent none. */
  hint: string | null;
  /** The PSK suite the server chose, OpenSSL's name (e.g. "DHE-PSK-AES256-GCM-SHA384"). */
  cipher: string | null;
  /** The TLS version of that handshake (TLS 1.2 or older: TLS 1.3 sends no hint). */
  protocol: string | null;
  /** No certificate handshake worked: the listener takes only pre-shared keys, so neither its
   *  certificate nor its MQTT logins can be tested without the key. */
  only: boolean;
}

export interface TlsInfo {
  protocol?: string | null;
  cipher?: string | null;
  /** Which protocol versions the broker accepted: { "TLSv1": false, "TLSv1.1": false, "TLSv1.2": true, "TLSv1.3": true }. */
  versions?: Record<string, boolean>;
  certificate?: TlsCertificateInfo | null;
  /** Weak cipher families the broker accepted (NULL, aNULL, EXPORT, RC4, 3DES, CBC with TLS 1.0). */
  weakCiphers?: string[];
  clientCertRequired?: boolean;
  /** 0-100, 100 = best, with the reasons that lowered it. Absent when notRated says why. */
  score?: number;
  scoreReasons?: string[];
  /** The listener chose a pre-shared-key suite when offered only those (see TlsPskInfo). */
  psk?: TlsPskInfo | null;
  /** Why there is no score: what could not be tested (a PSK-only listener, a refused handshake).
   *  Shown as "not rated" with this reason; scoreReasons then list only what was seen. */
  notRated?: string;
  error?: string | null;
  [extra: string]: unknown;
}

export interface TopicItem {
  topic: string;
  messages: number;
  retained: boolean;
  qos?: number;
  firstSeen?: string;
  /** Messages per second while we listened. */
  rate?: number;
  sample?: string;
  sensor?: string | null;
  /** Parsed sensor values, e.g. { temperature: 28.5, humidity: 65 }. */
  values?: Record<string, number | boolean>;
  /** Why the payload looks sensitive: "credential", "token", "private_key", "email", "coordinates" (lib/sniff/sensitive.ts). */
  sensitive?: string[];
  /**
   * The largest payload seen on the topic, in bytes, whatever its length: a PUBLISH bigger than
   * the listener's packet bound (SniffOptions.maxPacketBytes) is read only in part (its topic name,
   * packet id and the payload's first maxSampleBytes, the rest skipped as it streams past), yet
   * its topic is listed with its full size, retained flag and a sample of its head.
   */
  bytes?: number;
  /** The device ecosystem the topic belongs to, by its layout and payload (lib/sniff/ecosystems.ts). */
  device?: TopicDevice;
  [extra: string]: unknown;
}

/**
 * What a topic is to a device ecosystem (lib/sniff/ecosystems.ts): 'inventory' (lists devices,
 * models, firmware, addresses or configuration), 'command' (a device acts on what is published
 * there), 'location' (positions of people or things), 'telemetry' (readings, state), 'status'
 * (online/offline, last will, bridge state).
 */
export type TopicRole = 'inventory' | 'command' | 'location' | 'telemetry' | 'status';

/** One topic's place in a device ecosystem, set by the listener (lib/sniff/devices.ts). */
export interface TopicDevice {
  /** Ecosystem id: 'zigbee2mqtt', 'tasmota', 'home-assistant', 'esphome', 'shelly', 'owntracks',
   *  'sparkplug-b', 'homie', 'lab-esp32' (ECOSYSTEMS in lib/sniff/ecosystems.ts). */
  ecosystem: string;
  role: TopicRole;
  /** The device the topic belongs to, from the topic's levels or the payload ("tasmota_1A2B3C",
   *  "alice/phone", "plant1/edge7/press3"); shown like any broker text (at most 128 characters). */
  id?: string;
  /** Command topics the payload names (a Home Assistant discovery config's command_topic, a
   *  Homie property that is $settable), at most 4, each at most 256 characters. */
  commands?: string[];
  /** The command topic the ecosystem gives this topic's device by its layout (a Tasmota device's
   *  cmnd/<topic>/POWER): the device listens there; no message on it needs to have been seen. */
  commandTopic?: string;
  /** The payload is a position (numeric latitude and longitude); never the position itself. */
  location?: true;
  /** The payload is encrypted (OwnTracks "_type":"encrypted"): its contents are not readable. */
  encrypted?: true;
  /** Devices an inventory payload lists (Zigbee2MQTT bridge/devices); with devicesAtLeast, a
   *  count over the head of a payload too big to read whole. */
  devices?: number;
  devicesAtLeast?: true;
  /** Sparkplug B birth certificates: how many metrics the decoded payload declares. */
  metrics?: number;
}

/** A command topic the scan knows of, and how: 'seen' (a message on it), 'announced' (a
 *  payload named it, e.g. a discovery config), 'layout' (the ecosystem's fixed command topic for
 *  a device that was seen, e.g. cmnd/<device>/POWER for Tasmota). */
export interface CommandTopic {
  topic: string;
  source: 'seen' | 'announced' | 'layout';
}

/** One ecosystem the listener recognised on a broker (lib/sniff/devices.ts summarizeDevices). */
export interface EcosystemExposure {
  id: string;
  /** "Zigbee2MQTT", "Home Assistant MQTT discovery", ... */
  name: string;
  /** What its exposure means, in one sentence. */
  reveals: string;
  /** The ecosystem's documentation of its topics. */
  reference: string;
  topics: number;
  /** Distinct devices: by the topics' device levels, or an inventory's count when larger. */
  devices: number;
  /** `devices` is a lower bound (an inventory too big to read whole). */
  devicesAtLeast?: boolean;
  /** Inventory topics (at most 5 named; inventoryCount counts them all). */
  inventory: string[];
  inventoryCount: number;
  /** Command topics (at most 8 named, seen first; commandCount counts them all). */
  commands: CommandTopic[];
  commandCount: number;
  /** Topics whose payload was a position; encryptedLocations: topics whose payload was encrypted. */
  locations: number;
  encryptedLocations: number;
}

/**
 * What the topics a listener heard say about the devices behind them: one entry per recognised
 * ecosystem, then totals over all topics. `locations` also counts topics outside any ecosystem
 * whose payload looked like coordinates; `secrets` counts topics whose payload looked like a
 * credential, token, private key or e-mail address (TopicItem.sensitive; samples masked). Counts
 * only, never a position or a secret.
 */
export interface DeviceExposure {
  ecosystems: EcosystemExposure[];
  devices: number;
  commandCount: number;
  inventoryCount: number;
  locations: number;
  secrets: number;
  /** The kinds of secrets found ('credential', 'token', 'private_key', 'email'). */
  secretKinds: string[];
}

/**
 * One SUBSCRIBE of the listener and the broker's SUBACK for it (OASIS MQTT 3.1.1 §3.9.3,
 * MQTT 5.0 §3.9.3).
 */
export interface SubscriptionOutcome {
  /** The topic filter we sent. */
  filter: string;
  /** The SUBACK code is a granted QoS (below 0x80). */
  granted: boolean;
  /**
   * The SUBACK code: the granted QoS (0-2) or a failure (0x80 and up: 3.1.1 has only 0x80
   * Failure; 5.0 reason codes such as 0x87 Not authorized); null when no SUBACK came (timeout,
   * connection ended, a filter MQTT cannot carry).
   */
  code: number | null;
  /** Set on a fallback: the refused wildcard filter this one was subscribed in place of
   *  ('+/#' for '#', 'a/+/#' for 'a/#'; see lib/sniff/subscribe.ts). */
  replaces?: string;
}

export interface TopicsInfo {
  count: number;
  items: TopicItem[];
  sys?: Record<string, unknown>;
  /** How long we listened and as whom. */
  listenedMs?: number;
  as?: 'anonymous' | 'given credentials';
  /**
   * Bounds that were hit: 'topics' (maxTopics: more topics were counted than kept), 'bytes'
   * (maxTotalBytes), 'sys' (the $SYS copies), 'sampleBytes' (a payload longer than maxSampleBytes
   * was examined only in its first bytes, e.g. the head of a PUBLISH bigger than maxPacketBytes),
   * 'packetSize' (a PUBLISH bigger than maxPacketBytes was dropped unread: its topic name was
   * over 1 KiB). With 'topics', 'bytes' or 'packetSize' the list is incomplete.
   */
  truncated?: string[];
  /** The safe write test: whether a message to our own canary topic was accepted. */
  writeTest?: { topic: string; accepted: boolean; evidence: string } | null;
  /** Every filter we subscribed and its SUBACK code, fallbacks after the filter they replace. */
  subscriptions?: SubscriptionOutcome[];
  /** What the broker's SUBACKs say, in a sentence, when it refused a filter (and what we
   *  subscribed instead); absent when every filter was granted. */
  note?: string;
  /** Why listening failed (also: every subscription was refused); null when it worked, including
   *  when a refused filter's fallback was granted. */
  error?: string | null;
  /** The devices behind the topics: ecosystems, devices, commands, locations, secrets (counts). */
  devices?: DeviceExposure;
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
  /**
   * ws and wss only: the HTTP path the broker upgraded to MQTT over WebSockets ('/mqtt'), so the
   * broker's address is ws://host:port/path (lib/common brokerUrl). Absent on tcp and tls.
   */
  websocketPath?: string;
  classification: Classification;
  mqtt: MqttInfo;
  auth: {
    anonymous: AuthAttempt;
    wrongCredentials: AuthAttempt;
    givenCredentials: AuthAttempt;
    /** With tryDefaults: whether a well-known default login (admin/admin, ...) got in. */
    defaultCredentials?: AuthAttempt;
    /**
     * Only when the scan was given a client certificate and the broker speaks MQTT over TLS: an
     * anonymous CONNECT over a fresh TLS connection (no resumed session) without the certificate,
     * i.e. what a client that lacks it gets. The other attempts were made with the certificate
     * (their clientCertificate is true).
     */
    withoutCertificate?: AuthAttempt;
  };
  tls?: TlsInfo | null;
  topics?: TopicsInfo | null;
  findings?: Finding[];
  /** null (or absent) when the port could not be rated; riskNotRated then says why if the port answered. */
  risk?: RiskInfo | null;
  /**
   * Why a port that answered has no risk rating (risk null, shown as "not rated"): what could not
   * be tested, e.g. a TLS listener that takes only pre-shared keys or demands a client certificate,
   * so no MQTT login could be tried (lib/risk classifyResult). Absent when risk is rated.
   */
  riskNotRated?: string;
  /** What we saw that led to the classification (first bytes of a non-MQTT answer, TLS error...). */
  evidence?: string[];
  /** Milliseconds spent on this target (reachability + probe). */
  durationMs?: number;
  /**
   * A coordinated scan only (lib/sites): the site whose scan agent scanned this host:port, and
   * that agent's login on the coordinator's broker. Set by the coordinator from the shard it
   * granted and the topic the result came on (the broker's ACL binds that topic to the login),
   * never taken from the agent's report. Absent in a local scan.
   */
  scannedBy?: { site: string; agent: string };
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

/** A login to try: from the CLI, a credentials config node, the dashboard form or the HTTP API. */
export interface Credentials {
  username: string;
  password?: string;
}

/** The user's explicit choices about where their login may go. */
export interface CredentialSafety {
  /**
   * Also send the login over plain TCP/ws and over TLS whose certificate is not trusted
   * (CLI --send-credentials-plaintext; off by default). Anyone on the path, or a rogue broker,
   * can then read the password.
   */
  sendCredentialsPlaintext?: boolean;
}

/** TLS client settings a scan is given (CLI --tls-*, a Node-RED tls-config node). */
export interface TlsClientOptions {
  /** The user's CA (PEM), trusted as well as the system's CAs where trust is judged. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Client certificate and key (PEM) for brokers that require one. */
  cert?: string | Buffer;
  key?: string | Buffer;
  passphrase?: string;
  /** The name to send (SNI) and check; default: the target's host when it is a name. */
  servername?: string;
  /** A TLS session from an earlier connection to the same broker, resumed to skip the full handshake. */
  session?: Buffer;
}
