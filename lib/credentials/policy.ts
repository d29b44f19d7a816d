// The one rule for where a user's real login may go. A scanner that sprays the password it was
// given hands it to every rogue broker and every eavesdropper it meets, so the login is sent only
// where it can tell us something and cannot leak:
//
//   1. never to a broker that accepted a random, made-up login (it accepts anything: the real
//      login adds nothing), nor to one that gave no clear answer to the made-up login;
//   2. never over plain TCP or ws, unless the user opted in (sendCredentialsPlaintext);
//   3. over TLS only when the certificate chains to the system's CAs or the user's CA and names
//      the host we connected to, judged on the very connection that carries the login (a full
//      handshake, never a resumed session); or with the same opt-in.
//
// Well-known default pairs (--try-defaults, or a given login that is such a pair) are public
// knowledge and may go anywhere in scope; rule 1 still applies to them.
// Every entry point (CLI, nodes, HTTP API, dashboard) reaches a broker through probeBroker and the
// sniffer, which both ask this module; nothing else sends a login.
import * as net from 'node:net';
import * as tls from 'node:tls';
import { sharedContext } from '../tls/context-cache';
import type { AuthAttempt, CredentialWithholding, Transport } from '../types';
import { isDefaultPair } from './defaults';

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

/** What to do with the login on one broker, before any connection carries it. */
export type CredentialPlan =
  /** Send it; on TLS, `requireTrustedTls` says the connection must pass trustProblem() first. */
  | { send: true; requireTrustedTls: boolean }
  | { send: false; withheld: CredentialWithholding; detail: string };

/**
 * Decides whether `credentials` may be offered to a broker reached over `transport`, given what
 * the broker answered to a random made-up login (`wrongLogin`, tried first, always).
 * Pure: no I/O. The TLS part of rule 3 is judged later on the socket (see trustProblem).
 */
export function planCredentials(
  transport: Transport,
  wrongLogin: AuthAttempt,
  credentials: Credentials,
  safety: CredentialSafety = {},
): CredentialPlan {
  if (wrongLogin.outcome === 'accepted') {
    return withhold('accepts_any_login', 'login not sent: the broker accepted a random made-up login, so it accepts any login and the real one would tell nothing');
  }
  if (wrongLogin.outcome !== 'rejected') {
    return withhold('random_login_unanswered', 'login not sent: the broker gave no clear answer to a random made-up login, so it might accept any login and only collect the real one');
  }
  const optIn = safety.sendCredentialsPlaintext === true;
  if (optIn || isDefaultPair(credentials)) return { send: true, requireTrustedTls: false };
  if (transport === 'tcp' || transport === 'ws') {
    return withhold('plaintext_transport', `login not sent: ${transport === 'ws' ? 'ws' : 'plain TCP'} would carry the password in clear text (opt in with --send-credentials-plaintext / "Send my login over plain text or untrusted TLS")`);
  }
  return { send: true, requireTrustedTls: true };
}

/** The AuthAttempt for a login that was not sent, with why. */
export function withheldAttempt(plan: Extract<CredentialPlan, { send: false }>): AuthAttempt {
  return { outcome: 'not_tested', withheld: plan.withheld, detail: plan.detail };
}

/** The AuthAttempt for a login withheld on the socket because the certificate is not trusted. */
export function untrustedAttempt(problem: string): AuthAttempt {
  return {
    outcome: 'not_tested',
    withheld: 'untrusted_certificate',
    detail: `login not sent: the broker's certificate is not trusted (${problem}); a rogue broker would get the password just as well (pass its CA with --tls-ca, or opt in with --send-credentials-plaintext)`,
  };
}

/** TLS options that let a client judge trust the way rule 3 wants it. */
export interface TrustInputs {
  /** The user's CA (PEM), trusted as well as the system's CAs. */
  ca?: string | Buffer | Array<string | Buffer>;
  cert?: string | Buffer;
  key?: string | Buffer;
  passphrase?: string;
}

/**
 * A secure context that trusts Node's bundled root CAs plus the user's CA, and still completes
 * handshakes with legacy brokers (TLS 1.0, SECLEVEL=0), so that a broken broker is reported as
 * untrusted instead of failing. Shared between connections (lib/tls/context-cache.ts).
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
 * used by the probe (mqtt-connect.ts) and the sniffer (sniff/session.ts).
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
 * skips the name check.
 */
export function trustProblem(socket: tls.TLSSocket): string | null {
  if (socket.isSessionReused()) return 'resumed session: the name was not checked';
  if (socket.authorized) return null;
  const error = socket.authorizationError as unknown;
  return error instanceof Error ? (error as NodeJS.ErrnoException).code ?? error.message : String(error ?? 'not authorized');
}

function withhold(withheld: CredentialWithholding, detail: string): CredentialPlan {
  return { send: false, withheld, detail };
}
