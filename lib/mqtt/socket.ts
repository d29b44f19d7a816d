// The one place a scan opens a socket to a broker: plain TCP, or TLS in one of two ways.
//   - To read (probe without a login, the listener, the sniffer): any certificate is accepted
//     and legacy brokers still answer (TLS 1.0, SECLEVEL=0); the TLS inspector judges trust.
//   - To carry the user's login (connectForLogin): the system CAs plus the user's CA, a full
//     handshake and the name check, judged by trustProblem() before anything is written
//     (the credential rule, lib/credentials/policy.ts, rule 3).
// WebSockets (issue 15) land here as a third transport.
import * as net from 'node:net';
import * as tls from 'node:tls';
import { sharedContext } from './tls-context';
import type { TlsClientOptions } from '../types';

/** TLS options that let a client judge trust the way the credential rule wants it. */
export type TrustInputs = Pick<TlsClientOptions, 'ca' | 'cert' | 'key' | 'passphrase'>;

/**
 * Opens a connection to `host`:`port`. `forLogin` (TLS only): the socket will carry the user's
 * login, so it is made by connectForLogin and the caller must check trustProblem() on
 * 'secureConnect' before writing. Errors arrive as the socket's 'error' events; throws only what
 * tls.createSecureContext throws for a bad PEM or passphrase.
 */
export function openSocket(
  host: string,
  port: number,
  transport: 'tcp' | 'tls',
  o: { tls?: TlsClientOptions; forLogin?: boolean } = {},
): net.Socket | tls.TLSSocket {
  if (transport === 'tcp') return net.connect({ host, port });
  const t = o.tls ?? {};
  if (o.forLogin) return connectForLogin(host, port, t);
  return tls.connect({
    host,
    port,
    // A scanner must talk to brokers whose certificates are broken; trust is judged separately.
    rejectUnauthorized: false,
    servername: t.servername ?? (net.isIP(host) ? undefined : host),
    // Shared between connections (tls-context.ts): a context per connection, with the scan's CA
    // parsed each time, cost 1.1 s of one core over the ~4,000 TLS connections of 1,000 brokers.
    // Legacy-only brokers must still answer, or they would look like non-TLS ports.
    secureContext: readContext(t),
    session: t.session,
  });
}

/** The shared context of sockets that only read (openSocket without forLogin): TLS 1.0 and up,
 *  SECLEVEL=0, the scan's CA and client certificate if any. Throws what createSecureContext throws. */
function readContext(t: TlsClientOptions): tls.SecureContext {
  return sharedContext({
    systemCa: false,
    ca: t.ca,
    cert: t.cert,
    key: t.key,
    passphrase: t.passphrase,
    minVersion: 'TLSv1',
    maxVersion: 'TLSv1.3',
    ciphers: 'DEFAULT@SECLEVEL=0',
  });
}

/**
 * A secure context that trusts Node's bundled root CAs plus the user's CA, and still completes
 * handshakes with legacy brokers (TLS 1.0, SECLEVEL=0), so that a broken broker is reported as
 * untrusted instead of failing. Shared between connections (tls-context.ts).
 * Throws what tls.createSecureContext throws (a bad PEM, a wrong passphrase).
 */
export function credentialContext(o: TrustInputs): tls.SecureContext {
  return sharedContext({
    systemCa: true,
    ca: o.ca,
    cert: o.cert,
    key: o.key,
    passphrase: o.passphrase,
    minVersion: 'TLSv1',
    maxVersion: 'TLSv1.3',
    ciphers: 'DEFAULT@SECLEVEL=0',
  });
}

/**
 * A TLS connection that may carry the user's login once trustProblem() says null on its
 * 'secureConnect': credentialContext() for `o` (system CAs plus the user's), a full handshake (no
 * session), and the host name (or o.servername) as the name to check. The one opener for logins,
 * used through openSocket by the probe (connect.ts) and the sniffer (lib/sniff/session.ts).
 * Throws what credentialContext throws.
 */
export function connectForLogin(host: string, port: number, o: TrustInputs & { servername?: string } = {}): tls.TLSSocket {
  return tls.connect({
    host,
    port,
    // Trust is judged on this socket, by trustProblem(), before the login is written.
    rejectUnauthorized: false,
    servername: o.servername ?? (net.isIP(host) ? undefined : host),
    secureContext: credentialContext(o),
  });
}

/**
 * Why a connected TLS socket must not carry the login, or null when it may: the chain must verify
 * against credentialContext()'s CAs and the certificate must name the host (Node's
 * checkServerIdentity, RFC 6125; IP addresses against IP SANs). Call it on 'secureConnect' of a
 * socket made with credentialContext() and without a resumed session: on a resumed session Node
 * skips the name check. A handshake without a server certificate (TLS-PSK, which Node counts as
 * verified) is never trusted.
 */
export function trustProblem(socket: tls.TLSSocket): string | null {
  if (socket.isSessionReused()) return 'resumed session: the name was not checked';
  // A pre-shared-key suite has no certificate: nothing proves who holds the other end.
  if (!socket.getPeerCertificate()?.raw) return 'no server certificate (a pre-shared-key suite): nothing proves who the broker is';
  if (socket.authorized) return null;
  const error = socket.authorizationError as unknown;
  return error instanceof Error ? (error as NodeJS.ErrnoException).code ?? error.message : String(error ?? 'not authorized');
}


/** OpenSSL messages carry a file path and line; keeps only the reason ("wrong version number"). */
export function opensslReason(message: string): string {
  const m = /routines:[^:]*:([^:]+)/.exec(message);
  return (m ? m[1] : message).trim();
}
