// One TLS handshake, bounded by a timeout and an AbortSignal, that always destroys its socket.
// It never judges the certificate itself (rejectUnauthorized:false, no hostname check): it
// reports what the server did, and the peer certificate even when the handshake fails later.
import * as net from 'node:net';
import * as tls from 'node:tls';
import { opensslReason, sharedContext } from '../mqtt';
import { isDescriptorShortage, retryShortOfDescriptors, settle, withDescriptor } from '../common';

export type CaInput = string | Buffer | Array<string | Buffer>;

export interface HandshakeOptions {
  host: string;
  port: number;
  timeoutMs: number;
  signal?: AbortSignal;
  minVersion?: tls.SecureVersion;
  maxVersion?: tls.SecureVersion;
  /** OpenSSL cipher list for TLS <= 1.2 (TLS 1.3 suites are not affected). */
  ciphers?: string;
  ca?: CaInput;
  /** Trust Node's bundled root CAs as well as `ca`. */
  systemCa?: boolean;
  cert?: string | Buffer;
  key?: string | Buffer;
  passphrase?: string;
  servername?: string;
  /** Read the peer certificate chain (also mid-handshake, for a handshake that fails later).
   *  Protocol and cipher are always recorded, also mid-handshake. */
  capture?: boolean;
  /**
   * After a TLS 1.3 handshake, wait up to this long for the server's verdict on our Finished:
   * a session ticket (accepted) or an alert such as certificate_required. TLS 1.3 servers
   * reject a missing client certificate only after the client already considers itself connected.
   */
  settleMs?: number;
}

interface Negotiated {
  /** The server chose a version and cipher (its ServerHello came and keys were derived), whatever
   *  happened after: the version and cipher are accepted. */
  negotiated: boolean;
  protocol: string | null;
  cipher: string | null;
  peer: tls.DetailedPeerCertificate | null;
  ms: number;
}

export type HandshakeOutcome =
  | (Negotiated & {
      ok: true;
      authorized: boolean;
      authorizationError: string | null;
      /** Alert (or ECONNRESET for a bare close) that came right after a TLS 1.3 handshake, e.g. the
       *  server refusing our client certificate. */
      lateAlert: string | null;
    })
  | (Negotiated & {
      ok: false;
      code: string;
      message: string;
      /** Our own OpenSSL refused before anything was sent (cipher or version not available here). */
      local: boolean;
    });

/** Alerts a server sends when it has checked (or missed) our client certificate: by then the
 *  protocol version and cipher were already agreed. */
export const CLIENT_CERT_ALERTS = new Set([
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED',
]);

const SESSION_GRACE_MS = 25;

/** Errors our own OpenSSL raises before sending a ClientHello. */
const LOCAL_CODES = new Set(['ERR_SSL_NO_CIPHER_MATCH', 'ERR_SSL_NO_PROTOCOLS_AVAILABLE', 'ERR_SSL_NO_CIPHERS_AVAILABLE']);

/**
 * One TLS handshake with the given versions, ciphers and certificates (RFC 8446 / RFC 5246):
 * resolves with what was negotiated and seen (the peer chain when o.capture), or why it failed,
 * within o.timeoutMs; never rejects. The socket is always destroyed when it resolves. A socket
 * this process could not open for want of a descriptor (EMFILE) is opened again after a pause
 * (lib/common retryShortOfDescriptors); only if that lasts is the outcome code EMFILE.
 */
export function handshake(o: HandshakeOptions): Promise<HandshakeOutcome> {
  // One descriptor of the process's pool (lib/common), taken before the handshake's timeout starts.
  const aborted = (): HandshakeOutcome => ({ ok: false, code: 'ABORTED', message: 'cancelled', local: false, negotiated: false, protocol: null, cipher: null, peer: null, ms: 0 });
  const once = () => withDescriptor(o.signal, aborted, () => handshakeOnce(o));
  return retryShortOfDescriptors(once, (r) => !r.ok && isDescriptorShortage(r.code), o.signal);
}

function handshakeOnce(o: HandshakeOptions): Promise<HandshakeOutcome> {
  const started = Date.now();
  const ms = () => Date.now() - started;
  if (o.signal?.aborted) {
    return Promise.resolve({ ok: false, code: 'ABORTED', message: 'cancelled', local: false, negotiated: false, protocol: null, cipher: null, peer: null, ms: 0 });
  }
  let socket: tls.TLSSocket;
  try {
    const minVersion = o.minVersion ?? 'TLSv1';
    const maxVersion = o.maxVersion ?? 'TLSv1.3';
    // SECLEVEL=0: legacy versions, small keys and weak ciphers must be seen, not refused by us.
    const ciphers = o.ciphers ?? 'DEFAULT@SECLEVEL=0';
    // Every handshake takes a context shared between brokers (lib/mqtt/tls-context.ts): one per
    // CA and certificate set, version range and cipher list, so an inspection's dozen handshakes
    // reuse the dozen contexts of the broker before (a context of its own cost each ~0.3 ms).
    socket = tls.connect({
      host: o.host,
      port: o.port,
      rejectUnauthorized: false,
      // Trust is the chain only; the hostname is judged separately (hostnameMatch).
      checkServerIdentity: () => undefined,
      servername: o.servername ?? (net.isIP(o.host) ? undefined : o.host),
      secureContext: sharedContext({ systemCa: !!o.systemCa, ca: o.ca, cert: o.cert, key: o.key, passphrase: o.passphrase, minVersion, maxVersion, ciphers }),
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const code = e.code ?? 'ERROR';
    return Promise.resolve({ ok: false, code, message: opensslReason(e.message), local: true, negotiated: false, protocol: null, cipher: null, peer: null, ms: 0 });
  }

  const seen: Negotiated = { negotiated: false, protocol: null, cipher: null, peer: null, ms: 0 };
  let secure: { authorized: boolean; authorizationError: string | null } | null = null;
  const succeeded = (lateAlert: string | null): HandshakeOutcome => ({ ok: true, ...secure!, lateAlert, ...seen, ms: ms() });
  // A failure after the handshake completed is a late alert on a handshake that succeeded.
  const failed = (code: string, message: string): HandshakeOutcome =>
    secure ? succeeded(code.startsWith('ERR_SSL') || code === 'ECONNRESET' ? code : null) : { ok: false, code, message, local: false, ...seen, ms: ms() };
  return settle<HandshakeOutcome>(
    o.timeoutMs,
    o.signal,
    (why) => (why === 'abort' ? failed('ABORTED', 'cancelled') : failed('ETIMEDOUT', `no TLS handshake within ${o.timeoutMs} ms`)),
    (finish) => {
      let settleTimer: NodeJS.Timeout | undefined;
      const succeed = (lateAlert: string | null) => finish(succeeded(lateAlert));
      const fail = (code: string, message: string) => finish(failed(code, message));

      const note = () => {
        seen.negotiated = true;
        seen.protocol = socket.getProtocol() ?? seen.protocol;
        seen.cipher = socket.getCipher()?.name ?? seen.cipher;
        // keylog fires several times per handshake; the chain is read once it has arrived.
        if (!o.capture || seen.peer) return;
        const peer = socket.getPeerCertificate(true);
        if (peer && peer.raw) seen.peer = peer;
      };
      // keylog fires inside the handshake once keys exist, i.e. after the server's Certificate:
      // the one moment we can read it when the server then aborts (TLS 1.2 client-cert refusal).
      socket.on('keylog', note);
      socket.once('secureConnect', () => {
        note();
        secure = { authorized: socket.authorized, authorizationError: socket.authorizationError ? String(socket.authorizationError) : null };
        if (!o.settleMs || socket.getProtocol() !== 'TLSv1.3') return succeed(null);
        // A ticket: the server accepted our Finished. A short grace lets an alert or close that
        // came in the same flight win (Node servers send tickets, then drop a refused client).
        settleTimer = setTimeout(() => succeed(null), o.settleMs);
        socket.once('session', () => {
          clearTimeout(settleTimer);
          settleTimer = setTimeout(() => succeed(null), SESSION_GRACE_MS);
        });
      });
      if (o.settleMs) socket.on('session', () => undefined); // enables session callbacks before the handshake
      socket.on('error', (err: NodeJS.ErrnoException) => {
        const code = err.code ?? 'ERROR';
        if (LOCAL_CODES.has(code) && !secure) {
          return finish({ ok: false, code, message: opensslReason(err.message), local: true, ...seen, ms: ms() });
        }
        fail(code, opensslReason(err.message));
      });
      socket.on('close', () => fail('ECONNRESET', 'connection closed during the TLS handshake'));
      return () => {
        clearTimeout(settleTimer);
        socket.removeAllListeners('keylog');
        socket.on('error', () => undefined); // late errors after we hang up are not ours to report
        socket.destroy();
      };
    },
  );
}
