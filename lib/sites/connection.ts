// The connection of an agent or a coordinator to the broker that carries the sites protocol:
// mqtt.js 5 over TLS, MQTT 5, a login of its own, a persistent session.
import { scryptSync } from 'node:crypto';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';

/**
 * Where and how to reach the coordinator's broker. The password is used for CONNECT only and
 * never published, logged or put in an event.
 */
export interface SitesBrokerOptions {
  /** mqtts://host:port (TLS). mqtt:// only with allowPlaintext. */
  url: string;
  /** This agent's or coordinator's own login on that broker (agents: it is the last level of
   *  their result topics, see topics.ts). */
  username: string;
  password: string;
  /** CA certificate(s) (PEM) the broker's certificate must chain to; the host name or address
   *  of the URL must be in the certificate (Node's checkServerIdentity). */
  ca?: string | Buffer | string[] | Buffer[];
  /** Client certificate and key (PEM) where the broker asks for one. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Allow a plain mqtt:// URL (the login would cross the network readable): off by default. */
  allowPlaintext?: boolean;
  /** Session Expiry Interval, s (OASIS MQTT 5.0 section 3.1.2.11.2): how long the broker keeps
   *  the session (subscriptions, queued QoS 1 messages) of a disconnected client. Default 120. */
  sessionExpirySeconds?: number;
  /** Pause between reconnection attempts, ms (default 1000). */
  reconnectPeriodMs?: number;
  /** CONNECT to CONNACK, ms (default 10,000). */
  connectTimeoutMs?: number;
}

export const DEFAULT_SESSION_EXPIRY_SECONDS = 120;

/** The fixed part of defaultClientId's salt (a label, not a secret: the password is the secret). */
const CLIENT_ID_LABEL = 'mqttsec sites client id v1';

/**
 * The default client id of an agent's or a coordinator's persistent session:
 * `mqttsec-<role>-<login>-<24 hex>`, the hex being 96 bits of scrypt (RFC 7914; Node's defaults
 * N 16384, r 8, p 1: some tens of ms and 16 MiB, once per start) of the password, salted with a
 * fixed label, the role and the login. Stable (a restart with the same login resumes the same
 * session, its held jobs and queued results with it) and unguessable without the password.
 * Why: MQTT finds a session by its client id alone, and Mosquitto 2.0.11 hands it (and the
 * messages queued in it) to any authenticated login that connects with that id, dropping the
 * owner's connection (eclipse-mosquitto/mosquitto issue #3553, still open for 2.1; OASIS MQTT 5.0
 * section 5.4.2 leaves the check to the broker). Its one binding of id to login,
 * `use_username_as_clientid`, gives every connection of a login the same id, and an agent has
 * several (control and jobs). So a client id known to another login is a way into the session:
 * the password never appears in the id, only a one-way function of it. A slow one, not an HMAC:
 * the broker logs client ids (connection_messages), and a fast function would let a reader of
 * the log test guessed passwords faster than Mosquitto's own password file does (PBKDF2-SHA512,
 * 101 iterations in 2.0).
 * `instance` (optional) goes into the salt too: two agents or coordinators that share one login
 * in one place (two coordinator nodes of one Node-RED, each its node id) get two sessions
 * instead of taking one from each other.
 */
export function defaultClientId(role: 'agent' | 'coordinator', broker: Pick<SitesBrokerOptions, 'username' | 'password'>, instance?: string): string {
  const salt = `${CLIENT_ID_LABEL}\0${role}\0${broker.username}${instance !== undefined ? `\0${instance}` : ''}`;
  const key = scryptSync(broker.password, salt, 12).toString('hex');
  return `mqttsec-${role}-${broker.username}-${key}`;
}

/**
 * A URL the sites protocol may use, or an Error naming what is wrong with it. The message never
 * repeats a text that holds an '@' (a login typed into the URL: 'mqtts://user:pass@host:99999'
 * is no URL, and its text would put the password in a log or a node status), and a URL without
 * a host ('mqtts:user:pass@host' parses with an empty one; mqtt.js would then connect to
 * localhost) is refused.
 */
export function checkBrokerUrl(url: string, allowPlaintext = false): Error | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    const shown = url.includes('@') ? 'the text (not shown: it holds an "@", like a login)' : `"${url.slice(0, 80)}"`;
    return new Error(`broker URL ${shown} is not a URL (mqtts://host:port)`);
  }
  if (parsed.username || parsed.password || url.includes('@')) return new Error('broker URL: give the login separately, never in the URL');
  if (!parsed.hostname) return new Error(`broker URL "${parsed.protocol}": no host (mqtts://host:port)`);
  if (parsed.protocol === 'mqtts:') return null;
  if (parsed.protocol === 'mqtt:' && allowPlaintext) return null;
  return new Error(`broker URL "${parsed.protocol}//${parsed.host}": the sites protocol needs TLS (mqtts://)`);
}

/**
 * Opens an MQTT 5 connection with a persistent session (Clean Start 0, a session expiry), QoS 1
 * messages resent after a reconnection (mqtt.js keeps them), reconnecting every
 * reconnectPeriodMs. `extra` adds options (clientId, will, customHandleAcks, keepalive,
 * properties). Throws (synchronously) for a URL checkBrokerUrl refuses.
 */
export function openConnection(broker: SitesBrokerOptions, extra: IClientOptions & { clientId: string }): MqttClient {
  const problem = checkBrokerUrl(broker.url, broker.allowPlaintext);
  if (problem) throw problem;
  const options: IClientOptions = {
    protocolVersion: 5,
    username: broker.username,
    password: broker.password,
    clean: false,
    reconnectPeriod: broker.reconnectPeriodMs ?? 1000,
    connectTimeout: broker.connectTimeoutMs ?? 10_000,
    rejectUnauthorized: true,
    ca: broker.ca,
    cert: broker.cert,
    key: broker.key,
    resubscribe: true,
    ...extra,
    properties: { sessionExpiryInterval: broker.sessionExpirySeconds ?? DEFAULT_SESSION_EXPIRY_SECONDS, ...(extra.properties ?? {}) },
  };
  return connect(broker.url, options);
}

/** Resolves at the first CONNACK, rejects on an error before it or after `timeoutMs`. */
export function firstConnect(client: MqttClient, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no CONNACK from the broker within ${timeoutMs} ms`)), timeoutMs);
    const onConnect = () => done(null);
    const onError = (err: Error) => done(err);
    const done = (err: Error | null) => {
      clearTimeout(timer);
      client.off('connect', onConnect);
      client.off('error', onError);
      if (err) reject(err);
      else resolve();
    };
    client.once('connect', onConnect);
    client.once('error', onError);
  });
}

/** Ends a connection: DISCONNECT and close, or a forced close after `timeoutMs`. Never rejects. */
export async function closeConnection(client: MqttClient, timeoutMs = 2000): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => client.end(true, () => resolve()), timeoutMs);
    client.end(false, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
