// TLS inspection of one port: the certificate and whether it can be trusted, the protocol
// versions and weak cipher families the server accepts, and whether it demands a client
// certificate. Every probe is a bounded handshake of its own (see tls/handshake.ts); the
// broker's behaviour never makes this throw, it ends up in the result.
import { CLIENT_CERT_ALERTS, handshake, type CaInput, type HandshakeOptions, type HandshakeOutcome } from './handshake';
import { chainTrust, describeCertificate, peerChain, trustAnchors, type Trust } from './certificate';
import { probeClientCert } from './probe-cert';
import { scoreTls } from './score';
import { childSignal } from '../common';
import { describePsk, offerPsk } from '../mqtt';
import { OPTIONS } from '../options';
import type { Target, TlsInfo, TlsPskInfo } from '../types';

export { scoreTls, TLS_SCORE_RULES, type ScoreRule } from './score';
export type { CaInput } from './handshake';
export { checkScanCa, withScanCa, ScanCaError, SCAN_CA_MAX_CHARS, SCAN_CA_MAX_CERTIFICATES } from './scan-ca';

/** Timeout of each handshake: the scan's connect timeout (lib/options OPTIONS.timeoutMs). */
export const DEFAULT_TLS_TIMEOUT_MS: number = OPTIONS.timeoutMs.default;
export const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
/** Weak families tried one by one, as OpenSSL cipher strings. */
export const WEAK_CIPHER_FAMILIES: ReadonlyArray<{ name: string; ciphers: string }> = [
  { name: 'NULL', ciphers: 'eNULL' },
  { name: 'aNULL', ciphers: 'aNULL' },
  { name: 'EXPORT', ciphers: 'EXPORT' },
  { name: 'RC4', ciphers: 'RC4' },
  { name: '3DES', ciphers: '3DES' },
];
/** A TLS 1.0 handshake that ends on a CBC cipher (BEAST-era combination). */
export const CBC_TLS10 = 'CBC with TLS 1.0';
/** How long we wait after a TLS 1.3 handshake for a client-certificate alert. */
const SETTLE_MS = 300;
const HANDSHAKE_FAILURE = 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE';

export interface InspectTlsOptions {
  timeoutMs?: number;
  /** The user's CA (PEM), trusted in addition to Node's bundled roots. */
  ca?: CaInput;
  servername?: string;
  /** A client certificate to present (PEM). */
  cert?: string | Buffer;
  key?: string | Buffer;
  passphrase?: string;
  checkVersions?: boolean;
  checkCiphers?: boolean;
  signal?: AbortSignal;
}

type Failed = Extract<HandshakeOutcome, { ok: false }>;
type Base = Omit<HandshakeOptions, 'capture'>;
type ClientCert = Pick<HandshakeOptions, 'cert' | 'key' | 'passphrase'>;

export async function inspectTls(target: Target, opts: InspectTlsOptions = {}): Promise<TlsInfo> {
  // A dozen handshakes listen on the caller's signal at once: give them a child of their own.
  const { signal, dispose } = childSignal(opts.signal);
  try {
    return await inspect(target, { ...opts, signal });
  } finally {
    dispose();
  }
}

async function inspect(target: Target, opts: InspectTlsOptions): Promise<TlsInfo> {
  const started = Date.now();
  const userCa = opts.ca === undefined ? [] : Array.isArray(opts.ca) ? opts.ca : [opts.ca];
  const base: Base = {
    host: target.host,
    port: target.port,
    timeoutMs: opts.timeoutMs ?? DEFAULT_TLS_TIMEOUT_MS,
    signal: opts.signal,
    servername: opts.servername,
  };
  // Only the main handshake judges trust (system CAs plus the user's, in a shared context).
  const userCert: ClientCert | null = opts.cert && opts.key ? { cert: opts.cert, key: opts.key, passphrase: opts.passphrase } : null;
  // No handshake: nothing to score. Not a perfect score either: "not rated", with why.
  const failure = (error: string): TlsInfo => ({ protocol: null, cipher: null, certificate: null, error, notRated: `TLS not rated: ${error}`, durationMs: Date.now() - started });
  const checks = (creds: ClientCert | null) =>
    Promise.all([
      opts.checkVersions !== false || opts.checkCiphers !== false ? probeVersions(base, creds, opts.checkVersions !== false, mainDone) : null,
      opts.checkCiphers !== false ? Promise.all(WEAK_CIPHER_FAMILIES.map((f) => handshake({ ...base, ...creds, ciphers: `${f.ciphers}:@SECLEVEL=0`, maxVersion: 'TLSv1.2' }))) : null,
    ]);

  const mainDone = handshake({ ...base, systemCa: true, ca: userCa, ...userCert, capture: true, settleMs: SETTLE_MS });
  // Most brokers want no client certificate: start the version and cipher probes alongside the
  // main handshake (and its settle wait) instead of after it.
  const early = userCert ? null : checks(null);
  const main = await mainDone;
  if (opts.signal?.aborted) {
    await early;
    return failure('cancelled');
  }
  // No certificate seen and no handshake: unreachable, not TLS, or refused outright.
  if (!main.ok && !main.peer) {
    await early;
    // A refused certificate handshake may be a listener that takes only pre-shared keys.
    const psk = refusedByServer(main) ? await offerPsk(target.host, target.port, base.timeoutMs, opts.signal) : null;
    if (opts.signal?.aborted) return failure('cancelled');
    if (psk) return pskOnly({ ...psk, only: true }, Date.now() - started);
    return failure(explain(main, target, base.timeoutMs));
  }

  const required = userCert ? null : await certRequired(main, base);
  const creds: ClientCert | null = userCert ?? (required ? await probeClientCert() : null);
  const [[versions, families], requiredWithoutCert] = await Promise.all([
    creds ? early?.then(() => checks(creds)) ?? checks(creds) : early!,
    userCert ? handshake({ ...base, settleMs: SETTLE_MS }).then((o) => certRequired(o, base)) : null,
  ]);
  if (opts.signal?.aborted) return failure('cancelled');

  const chain = main.peer ? peerChain(main.peer) : [];
  // A handshake the server aborted never delivered OpenSSL's verdict: check the chain ourselves.
  const trust: Trust = main.ok ? { trusted: main.authorized, error: main.authorizationError } : chainTrust(chain, trustAnchors(opts.ca));
  const clientCertRequired = userCert ? requiredWithoutCert : required;
  const info: TlsInfo = {
    protocol: main.protocol,
    cipher: main.cipher,
    certificate: chain.length ? describeCertificate(chain, opts.servername ?? target.host, trust) : null,
    ...(clientCertRequired !== null ? { clientCertRequired } : {}),
    ...(userCert ? clientCertVerdict(main) : {}),
    ...(versions?.checked ? { versions: versions.accepted, ...(versions.untested.length ? { versionsUntested: versions.untested } : {}) } : {}),
    ...(families ? weakCipherVerdict(families, versions?.tls10 ?? null) : {}),
    error: null,
  };
  // The server refused us after its certificate for a reason that is not a client certificate.
  if (!main.ok && clientCertRequired !== true && !certRefused(main.code, main.negotiated)) info.error = explain(main, target, base.timeoutMs);
  Object.assign(info, scoreTls(info), { durationMs: Date.now() - started });
  if (info.error) {
    // What the handshake would have shown is unknown: the reasons seen stay, the score does not.
    delete info.score;
    info.notRated = `TLS not rated: the handshake was refused after the certificate (${info.error})`;
  }
  return info;
}

/** The server itself refused the handshake (an alert, or a close), not our settings or the network. */
function refusedByServer(o: Failed): boolean {
  return !o.local && (/^ERR_SSL_.*ALERT/.test(o.code) || o.code === 'ECONNRESET');
}

/** The inspection of a listener that takes only pre-shared keys: no certificate, no score. */
export function pskOnly(psk: TlsPskInfo, durationMs: number): TlsInfo {
  return {
    protocol: psk.protocol,
    cipher: psk.cipher,
    certificate: null,
    psk,
    notRated: `TLS not rated: ${describePsk(psk)}`,
    error: null,
    durationMs,
  };
}

/** The server picked this version and cipher, even if it then refused us (e.g. our certificate). */
function agreed(o: HandshakeOutcome): boolean {
  return o.ok || o.negotiated || CLIENT_CERT_ALERTS.has(o.code);
}

/** The server refused the certificate we presented: an alert, or (Node servers) a bare close. */
function certRefused(code: string | null, negotiated: boolean): boolean {
  return code !== null && (CLIENT_CERT_ALERTS.has(code) || (negotiated && code === 'ECONNRESET'));
}

/** Whether a handshake made without a client certificate shows that the server demands one. */
async function certRequired(o: HandshakeOutcome, base: Base): Promise<boolean | null> {
  if (o.ok) return o.lateAlert !== null && CLIENT_CERT_ALERTS.has(o.lateAlert);
  if (CLIENT_CERT_ALERTS.has(o.code)) return true;
  // A TLS 1.2 refusal after the key exchange is a bare handshake_failure. If a throwaway
  // certificate changes the answer, the missing certificate was the issue.
  if (o.code === HANDSHAKE_FAILURE && o.negotiated) {
    const retry = await handshake({ ...base, ...(await probeClientCert()), settleMs: SETTLE_MS });
    return retry.ok || certRefused(retry.code, retry.negotiated) ? true : null;
  }
  return null;
}

function clientCertVerdict(main: HandshakeOutcome): { clientCertAccepted: boolean; clientCertError: string | null } {
  const error = main.ok ? (certRefused(main.lateAlert, true) ? main.lateAlert : null) : main.code;
  return { clientCertAccepted: error === null, clientCertError: error };
}

/**
 * Which protocol versions the server accepts, one handshake per version. TLS 1.3 is the one the
 * main handshake (`main`: offered TLS 1.0-1.3) already settles when it negotiated TLS 1.3: a
 * handshake of its own would only repeat it, a full handshake the server signs (bench flow1000:
 * 100 of them on a 2-core machine's critical path). Otherwise, after the main handshake, its own.
 */
async function probeVersions(base: Base, creds: ClientCert | null, all: boolean, main: Promise<HandshakeOutcome>) {
  const wanted = all ? TLS_VERSIONS : (['TLSv1'] as const);
  const outcomes = await Promise.all(
    wanted.map((v) =>
      v === 'TLSv1.3'
        ? main.then((m) => (m.ok && m.protocol === 'TLSv1.3' ? m : handshake({ ...base, ...creds, minVersion: v, maxVersion: v })))
        : handshake({ ...base, ...creds, minVersion: v, maxVersion: v }),
    ),
  );
  const accepted: Record<string, boolean> = {};
  const untested: string[] = [];
  wanted.forEach((v, i) => {
    accepted[v] = agreed(outcomes[i]);
    if (!outcomes[i].ok && outcomes[i].local) untested.push(v);
  });
  return { checked: all, accepted, untested, tls10: outcomes[0] };
}

function weakCipherVerdict(families: HandshakeOutcome[], tls10: HandshakeOutcome | null) {
  const weakCiphers: string[] = [];
  const weakCiphersUntested: string[] = [];
  WEAK_CIPHER_FAMILIES.forEach((f, i) => {
    const o = families[i];
    // Our OpenSSL has no cipher of this family: we cannot know, so we do not claim a refusal.
    if (!o.ok && o.local) weakCiphersUntested.push(f.name);
    else if (agreed(o)) weakCiphers.push(f.name);
  });
  if (!tls10 || (!tls10.ok && tls10.local)) weakCiphersUntested.push(CBC_TLS10);
  else if (agreed(tls10) && tls10.cipher && isCbc(tls10.cipher)) weakCiphers.push(CBC_TLS10);
  return { weakCiphers, weakCiphersUntested };
}

/** In TLS 1.0 every cipher that is not a stream cipher or NULL is a CBC block cipher. */
function isCbc(cipher: string): boolean {
  return !/GCM|CHACHA|CCM|RC4|NULL/i.test(cipher);
}

function explain(o: Failed, t: Target, timeoutMs: number): string {
  const where = `${t.host}:${t.port}`;
  // Nothing was sent: our own settings (CA, client certificate, passphrase) were refused here.
  if (o.local) return `TLS settings refused before connecting to ${where}: ${o.message} (${o.code}); check the CA and client certificate`;
  switch (o.code) {
    case 'ECONNREFUSED':
      return `connection refused: nothing listens on ${where}`;
    case 'ETIMEDOUT':
      return `no TLS handshake from ${where} within ${timeoutMs} ms (filtered, or not TLS)`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where} is unreachable (${o.code})`;
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
    case 'ERR_SSL_PACKET_LENGTH_TOO_LONG':
      return `not TLS: ${where} answered with something other than a TLS handshake`;
    case 'ECONNRESET':
      return `not TLS (or refused): ${where} closed the connection during the TLS handshake`;
    case 'ABORTED':
      return 'cancelled';
    default:
      return `TLS handshake with ${where} failed: ${o.message} (${o.code})`;
  }
}
