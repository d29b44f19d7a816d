// What the lab's web server lets in, decided once for every request and every websocket upgrade
// before Node-RED, the dashboard or a flow sees it. Pure functions: no sockets, no clocks.
//
// - Host: must name an address the lab listens on (DNS rebinding sends a foreign name).
// - Origin: when a browser sends one, it must be the lab's own (another page must not drive
//   the editor's admin API, the HTTP API or the dashboard's socket).
// - Sec-Fetch-Site: a browser's sub-request from another site or port (an <img>, a <script>, a
//   no-cors fetch, none of which carries an Origin) is refused too; a top-level navigation is not.
// - URL: bad % escapes or an unreadable request target get 400 here, as JSON, never a stack trace.
// - Body: at most BODY_CAP_BYTES, except the editor's deploy routes (DEPLOY_BODY_CAP_BYTES).
// - Class password (when the lab is exposed): /ui, /lab and /api, HTTP Basic, checked by the
//   caller's verifier; /api also keeps its own X-API-KEY. The editor has Node-RED's adminAuth.
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';

/** Every request body, in bytes, unless a deploy route below allows more. */
export const BODY_CAP_BYTES = 64 * 1024;
/** The editor's deploy routes (POST /flows, POST /flow, PUT /flow/<id>): whole flows, and the
 *  lab's dashboard flow alone is ~100 KB. Node-RED's own JSON parser stops at 5 MB (apiMaxLength). */
export const DEPLOY_BODY_CAP_BYTES = 5 * 1024 * 1024;

export interface GuardPolicy {
  /** Lower-case Host header values that name this server, e.g. "127.0.0.1:1880", "[::1]:1880". */
  hosts: ReadonlySet<string>;
  /** Origins allowed to make requests: "http://" + each of hosts. */
  origins: ReadonlySet<string>;
  /** When set, /ui, /lab and /api need HTTP Basic credentials that this returns true for. */
  classAuth?: (user: string, password: string) => boolean;
}

export type GuardVerdict =
  | { ok: true; /** normalised path (see normalisePath) */ path: string; /** body limit in bytes */ bodyCap: number }
  | { ok: false; status: 400 | 401 | 403 | 413; error: string; message: string; headers?: Record<string, string> };

/** The request parts the guard reads (an http.IncomingMessage fits). */
export interface GuardedRequest {
  method?: string;
  url?: string;
  headers: IncomingHttpHeaders;
}

/**
 * The Host values that name a server bound to `bind` on `port`. Loopback binds also answer to
 * localhost, 127.0.0.1 and [::1]; a wildcard bind (0.0.0.0, ::) to `interfaceAddresses` (pass the
 * machine's addresses, e.g. from os.networkInterfaces()) and `hostNames` (e.g. os.hostname()).
 * Port 80 also allows the name without a port. Throws on a port outside 1-65535.
 */
export function guardPolicy(
  bind: string,
  port: number,
  opts: { interfaceAddresses?: string[]; hostNames?: string[]; classAuth?: GuardPolicy['classAuth'] } = {},
): GuardPolicy {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`port must be 1-65535, got ${port}`);
  const names = new Set<string>([bind]);
  const loopback = isLoopback(bind);
  const wildcard = bind === '0.0.0.0' || bind === '::';
  if (loopback || wildcard) for (const n of ['localhost', '127.0.0.1', '::1']) names.add(n);
  if (wildcard) {
    for (const a of opts.interfaceAddresses ?? []) if (bind === '::' || isIP(a) === 4) names.add(a.replace(/%.*$/, ''));
    for (const h of opts.hostNames ?? []) if (h) names.add(h);
    names.delete(bind); // nobody browses to 0.0.0.0
  }
  const hosts = new Set<string>();
  for (const n of names) {
    const h = (isIP(n) === 6 ? `[${n}]` : n).toLowerCase();
    hosts.add(`${h}:${port}`);
    if (port === 80) hosts.add(h);
  }
  const origins = new Set([...hosts].map((h) => `http://${h}`));
  return { hosts, origins, classAuth: opts.classAuth };
}

/** True for an address or name that only this machine can reach. */
export function isLoopback(bind: string): boolean {
  return /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/i.test(bind);
}

/**
 * The path of a request target as routing sees it, for deciding: absolute-form
 * ("http://host:port/p") reduced to its path, the query dropped, % escapes decoded, repeated
 * slashes collapsed, a trailing slash dropped and letters lower-cased (express matches routes
 * case-insensitively). Returns null for a target that is not a path (e.g. "*", "host:443") or
 * whose % escapes are malformed.
 */
export function normalisePath(url: string): string | null {
  let path = url;
  if (!path.startsWith('/')) {
    if (!/^https?:\/\//i.test(path)) return null;
    try {
      path = new URL(path).pathname;
    } catch {
      return null;
    }
  }
  path = path.replace(/[?#].*$/s, '');
  try {
    path = decodeURIComponent(path);
  } catch {
    return null;
  }
  path = path.replace(/\/{2,}/g, '/').toLowerCase();
  return path.length > 1 ? path.replace(/\/$/, '') : path;
}

/** The authority of an absolute-form target ("http://a:1/x" -> "a:1"), lower-case; null otherwise. */
function absoluteFormHost(url: string): string | null {
  const m = /^https?:\/\/([^/?#]*)/i.exec(url);
  return m ? m[1].toLowerCase() : null;
}

/** The body limit in bytes for a method and a path from normalisePath. */
export function bodyCapFor(method: string, path: string): number {
  const m = method.toUpperCase();
  if ((m === 'POST' && (path === '/flows' || path === '/flow')) || (m === 'PUT' && /^\/flow\/[^/]+$/.test(path))) return DEPLOY_BODY_CAP_BYTES;
  return BODY_CAP_BYTES;
}

/** Routes behind the class password when the lab is exposed: the dashboard, its downloads and
 *  the HTTP API (which also wants its X-API-KEY). */
function needsClassAuth(path: string): boolean {
  return /^\/(ui|lab|api)(\/|$)/.test(path);
}

/**
 * The verdict for one request or websocket upgrade: ok with the normalised path and its body limit,
 * or the status to refuse it with (400 malformed target, 403 foreign Host/Origin/site, 401 no class
 * password, 413 a Content-Length over the limit) and a message naming the refused part. The message
 * never repeats a header's value beyond 80 characters and never a password.
 */
export function checkRequest(req: GuardedRequest, policy: GuardPolicy): GuardVerdict {
  const url = req.url ?? '';
  const method = (req.method ?? 'GET').toUpperCase();
  const host = single(req.headers.host)?.toLowerCase();
  if (!host || !policy.hosts.has(host)) {
    return refuse(403, 'forbidden_host', `Host ${host ? quote(host) : '(missing)'} is not an address of this lab; open it as ${first(policy.hosts)}`);
  }
  const authority = absoluteFormHost(url);
  if (authority !== null && !policy.hosts.has(authority)) return refuse(403, 'forbidden_host', `request target names host ${quote(authority)}, not this lab`);
  const origin = single(req.headers.origin);
  if (origin !== undefined && !policy.origins.has(origin.toLowerCase())) {
    return refuse(403, 'forbidden_origin', `Origin ${quote(origin)} may not use this lab; only pages of the lab itself may`);
  }
  const site = single(req.headers['sec-fetch-site']);
  const mode = single(req.headers['sec-fetch-mode']);
  if ((site === 'cross-site' || site === 'same-site') && mode !== 'navigate') {
    return refuse(403, 'forbidden_origin', `a ${site} ${mode ?? ''} request from another page may not use this lab`);
  }
  const path = normalisePath(url);
  if (path === null) return refuse(400, 'bad_request', 'the request path is malformed (a bad % escape, or not a path)');
  if (policy.classAuth && needsClassAuth(path) && method !== 'OPTIONS') {
    const cred = basicCredentials(single(req.headers.authorization));
    if (!cred || !policy.classAuth(cred.user, cred.password)) {
      return refuse(401, 'unauthorized', 'the dashboard and the HTTP API need the class login (user "class" and the password the teacher was given)', {
        'WWW-Authenticate': 'Basic realm="MQTT security lab", charset="UTF-8"',
      });
    }
  }
  const bodyCap = bodyCapFor(method, path);
  const lengthHeader = single(req.headers['content-length']);
  if (lengthHeader !== undefined && Number(lengthHeader) > bodyCap) {
    return refuse(413, 'payload_too_large', `the body has ${Number(lengthHeader)} bytes; at most ${bodyCap} are accepted here`);
  }
  return { ok: true, path, bodyCap };
}

/** user and password of an "Authorization: Basic ..." header, or null. */
export function basicCredentials(header: string | undefined): { user: string; password: string } | null {
  const m = /^Basic +([A-Za-z0-9+/=]{1,1024})$/i.exec(header ?? '');
  if (!m) return null;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? null : { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

function refuse(status: 400 | 401 | 403 | 413, error: string, message: string, headers?: Record<string, string>): GuardVerdict {
  return { ok: false, status, error, message, ...(headers ? { headers } : {}) };
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);
}

function first(set: ReadonlySet<string>): string {
  return `http://${set.values().next().value ?? ''}/`;
}
