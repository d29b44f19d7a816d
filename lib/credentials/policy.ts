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
// sniffer, which both ask this module; nothing else sends a login. The socket that carries a login
// over TLS, and the trust check on it, are lib/mqtt/socket.ts (connectForLogin, trustProblem).
import type { AuthAttempt, CredentialSafety, Credentials, CredentialWithholding, Transport } from '../types';
import { isDefaultPair } from './defaults';

/** What to do with the login on one broker, before any connection carries it. */
export type CredentialPlan =
  /** Send it; on TLS, `requireTrustedTls` says the connection must pass trustProblem() first. */
  | { send: true; requireTrustedTls: boolean }
  | { send: false; withheld: CredentialWithholding; detail: string };

/**
 * Decides whether `credentials` may be offered to a broker reached over `transport`, given what
 * the broker answered to a random made-up login (`wrongLogin`, tried first, always).
 * Pure: no I/O. The TLS part of rule 3 is judged later on the socket (lib/mqtt trustProblem).
 */
export type { Credentials, CredentialSafety };

export function planCredentials(
  transport: Transport,
  wrongLogin: AuthAttempt,
  credentials: Credentials,
  safety: CredentialSafety = {},
): CredentialPlan {
  if (wrongLogin.outcome === 'accepted') {
    return withhold('accepts_any_login', 'login not sent: the broker accepted a random made-up login, so it accepts any login and the real one would tell nothing');
  }
  // A hang-up on the made-up login (closed_without_connack: the transport was up, the CONNECT was
  // written, the broker closed without a byte) is a refusal as clear as code 5: MQTT 3.1.1 §3.1.4
  // lets a server refuse that way, and it is not "no answer" (a timeout stays one). Is it safe,
  // seen from a rogue broker that wants the real login? The made-up login looks like a real one
  // (lib/probe madeUpLogin), so a broker that hangs up on it cannot have told it apart from the
  // real one; hanging up gains such a broker nothing a refusing CONNACK would not already gain;
  // and rules 2 and 3 below still decide where the login may travel (trusted TLS or the opt-in).
  // The guard is the proof itself: a close with bytes, a close before the transport was up, or a
  // wait counts as no answer, a port that never sent a CONNACK must also wait after half a CONNECT (lib/probe
  // hangsUpOnConnect), and a login accepted after it is followed by a second made-up login.
  if (wrongLogin.outcome !== 'rejected' && wrongLogin.outcome !== 'closed_without_connack') {
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

function withhold(withheld: CredentialWithholding, detail: string): CredentialPlan {
  return { send: false, withheld, detail };
}
