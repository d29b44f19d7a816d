// The editor settings of the sites nodes (mqttsec-site-broker, -site-agent, -site-coordinator),
// read into the options of lib/sites. Nothing of the protocol is here: only text to options, each
// error naming the setting it is about (`SiteSettingError.field`, the editor's property name).
import { checkBrokerUrl, checkCredentialsName, checkLogin, checkSiteName, DEFAULT_SESSION_EXPIRY_SECONDS, type SitesBrokerOptions } from '../../lib/sites';
import type { Credentials } from '../../lib/types';
import { tlsOptions } from './config';
import type { CredentialsNode, TlsConfigNode } from './types';
import type { Translate } from './define';

/** A setting of a sites node that cannot be used; `field` is the editor's property name. */
export class SiteSettingError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'SiteSettingError';
  }
}

/** Session Expiry Interval bounds, s (OASIS MQTT 5.0 section 3.1.2.11.2): 1 s to 7 days. */
export const SESSION_EXPIRY_BOUNDS = { min: 1, max: 7 * 24 * 3600 } as const;
/** A client id prefix: what Mosquitto takes in a client id, and short enough for the suffixes. */
const CLIENT_ID_RE = /^[A-Za-z0-9_.-]{1,40}$/;

/** The editor's fields of a site broker config node (the login is in its credentials). */
export interface SiteBrokerSettings {
  url?: unknown;
  sessionExpiry?: unknown;
  clientId?: unknown;
}

/**
 * The broker options of lib/sites from a site broker config node: the mqtts:// URL (lib/sites
 * checkBrokerUrl), the login (username checked as an agent login: it is the last level of the
 * agent's topics), the password (required), the CA / client certificate of a core tls-config
 * node, the session expiry in seconds (blank: DEFAULT_SESSION_EXPIRY_SECONDS) and the client id
 * prefix (blank: the engine's). Throws SiteSettingError naming the field.
 */
export function siteBrokerOptions(
  settings: SiteBrokerSettings,
  credentials: { username?: unknown; password?: unknown },
  tls: TlsConfigNode | null | undefined,
): { broker: SitesBrokerOptions; clientId?: string } {
  const url = typeof settings.url === 'string' ? settings.url.trim() : '';
  if (!url) throw new SiteSettingError('url', 'give the broker address, e.g. mqtts://127.0.0.1:8886');
  const problem = checkBrokerUrl(url);
  if (problem) throw new SiteSettingError('url', problem.message);
  let username: string;
  try {
    username = checkLogin(credentials.username, 'username');
  } catch (err) {
    throw new SiteSettingError('username', credentials.username ? (err as Error).message.replace(/^username: /, '') : 'give this node\'s own login on the broker');
  }
  const password = credentials.password;
  if (typeof password !== 'string' || password === '') throw new SiteSettingError('password', 'give the password of this login');
  if (tls === null) throw new SiteSettingError('tls', 'the TLS configuration node is missing (deleted or disabled?)');
  const fromTls = tlsOptions(tls ?? null);
  const sessionExpirySeconds = wholeNumber('sessionExpiry', settings.sessionExpiry, DEFAULT_SESSION_EXPIRY_SECONDS, SESSION_EXPIRY_BOUNDS.min, SESSION_EXPIRY_BOUNDS.max);
  const rawId = typeof settings.clientId === 'string' ? settings.clientId.trim() : '';
  if (rawId && !CLIENT_ID_RE.test(rawId)) throw new SiteSettingError('clientId', `"${rawId.slice(0, 48)}" is not a client id (1-40 of A-Z, a-z, 0-9, _, . and -)`);
  const broker: SitesBrokerOptions = {
    url, username, password, sessionExpirySeconds,
    ...(fromTls?.ca ? { ca: fromTls.ca as SitesBrokerOptions['ca'] } : {}),
    ...(fromTls?.cert ? { cert: fromTls.cert as SitesBrokerOptions['cert'] } : {}),
    ...(fromTls?.key ? { key: fromTls.key as SitesBrokerOptions['key'] } : {}),
  };
  return { broker, ...(rawId ? { clientId: rawId } : {}) };
}

/**
 * A whole number from the editor within [min, max]; `fallback` when blank. Throws
 * SiteSettingError naming `field` for anything else (never clamps silently: a lease or a shard
 * size the user typed wrong should be said, not changed).
 */
export function wholeNumber(field: string, raw: unknown, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === null || String(raw).trim() === '') return fallback;
  const text = String(raw).trim();
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= min && n <= max)) throw new SiteSettingError(field, `"${text.slice(0, 20)}" must be a whole number from ${min} to ${max}`);
  return n;
}

/** A scope or target list from the editor: specs separated by commas, spaces or new lines. */
export function specList(field: string, raw: unknown): string[] {
  const list = typeof raw === 'string' ? raw.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean) : [];
  if (!list.length) throw new SiteSettingError(field, 'give at least one address, CIDR block or range (e.g. 127.0.60.0/24)');
  return list;
}

/**
 * The coordinator's sites: one "name = spec[, spec...]" per line (blank lines and lines starting
 * with # are skipped). Site names as lib/sites checkSiteName; each name once. The scopes
 * themselves are checked by the engine (TargetError naming the spec). Throws SiteSettingError
 * naming the field and the line.
 */
export function parseSites(field: string, raw: unknown): Record<string, string[]> {
  const sites: Record<string, string[]> = {};
  const lines = typeof raw === 'string' ? raw.split(/\r?\n/) : [];
  lines.forEach((line, i) => {
    const text = line.trim();
    if (!text || text.startsWith('#')) return;
    const eq = text.indexOf('=');
    if (eq <= 0) throw new SiteSettingError(field, `line ${i + 1} "${text.slice(0, 40)}": expected name = addresses`);
    const name = text.slice(0, eq).trim();
    try {
      checkSiteName(name);
    } catch (err) {
      throw new SiteSettingError(field, `line ${i + 1}: ${(err as Error).message.replace(/^site: /, '')}`);
    }
    if (Object.hasOwn(sites, name)) throw new SiteSettingError(field, `line ${i + 1}: site "${name}" is given twice`);
    const specs = text.slice(eq + 1).split(/[\s,]+/).filter(Boolean);
    if (!specs.length) throw new SiteSettingError(field, `line ${i + 1}: site "${name}" has no addresses`);
    sites[name] = specs;
  });
  if (!Object.keys(sites).length) throw new SiteSettingError(field, 'name at least one site: one "name = addresses" per line, e.g. north = 127.0.60.0/24');
  return sites;
}

/**
 * The logins an agent holds for the scanned brokers, by the NAME of each mqttsec-credentials
 * config node (what a job's credentialsName picks). `refs` are [editor field, config node or
 * null when the field is blank, or undefined when the node it names is missing]. Throws
 * SiteSettingError naming the field: a missing node, a node without a name or a username, a name
 * that is no credentials name, the same name twice.
 */
export function heldLogins(refs: Array<[string, CredentialsNode | null | undefined]>): Record<string, Credentials> {
  const out: Record<string, Credentials> = {};
  for (const [field, node] of refs) {
    if (node === null) continue;
    if (node === undefined) throw new SiteSettingError(field, 'the credentials node is missing (deleted or disabled?)');
    const name = typeof node.name === 'string' ? node.name.trim() : '';
    if (!name) throw new SiteSettingError(field, 'give the credentials node a name: jobs pick a login by that name');
    try {
      checkCredentialsName(name);
    } catch (err) {
      throw new SiteSettingError(field, (err as Error).message.replace(/^credentialsName: /, ''));
    }
    if (Object.hasOwn(out, name)) throw new SiteSettingError(field, `two credentials nodes are named "${name}"`);
    const credentials = node.toCredentials();
    if (!credentials) throw new SiteSettingError(field, `the credentials node "${name}" has no username`);
    out[name] = credentials;
  }
  return out;
}

/** Pause before a sites node tries its broker again after a failed start, ms. */
export const SITE_RETRY_MS = 10_000;
/** Most characters of a message shown in a node's status. */
const STATUS_CHARS = 60;

/** `text` cut to fit a node's status (60 characters with "…"). */
export function statusText(text: string): string {
  return text.length > STATUS_CHARS ? `${text.slice(0, STATUS_CHARS - 1)}…` : text;
}

/**
 * A sites node whose start failed: says so in its status and log (`message` already redacted by
 * the caller) and calls `again` after SITE_RETRY_MS. Returns the timer, for the node's close.
 */
export function retryAfterFailedStart(
  node: { status(s: { fill: 'red'; shape: 'ring'; text: string }): void; error(m: string): void },
  t: Translate,
  message: string,
  again: () => void,
): NodeJS.Timeout {
  node.status({ fill: 'red', shape: 'ring', text: `${t('status.cannotConnect')}: ${statusText(message)}` });
  node.error(`${t('errors.cannotConnect', { seconds: SITE_RETRY_MS / 1000 })}: ${message}`);
  return setTimeout(again, SITE_RETRY_MS);
}
