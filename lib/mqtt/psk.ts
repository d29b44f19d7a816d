// Does a TLS listener take pre-shared keys (RFC 4279) instead of certificates? Mosquitto with
// psk_hint/psk_file and no certfile refuses every certificate handshake with a bare
// handshake_failure, which says nothing. Offered only PSK cipher suites (TLS 1.2: TLS 1.3 sends no
// identity hint) with a throwaway identity and key, such a listener picks a PSK suite, sends its
// identity hint, and then refuses the identity (unknown_psk_identity) or the key: nothing is
// learned about the real key, and no MQTT byte is sent.
import * as tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import { brokerText, settle, withDescriptor } from '../common';
import type { TlsPskInfo } from '../types';

/** The PSK suites offered: plain, (EC)DHE and RSA key exchange; SECLEVEL=0 so none is refused by us. */
export const PSK_CIPHERS = 'PSK:ECDHE-PSK:DHE-PSK:RSA-PSK:@SECLEVEL=0';
/** The identity we offer: it names the scanner and is known to no broker. */
export const PSK_PROBE_IDENTITY = 'mqttsec-psk-probe';
/** The longest identity hint we keep (RFC 4279 allows 65535 bytes; mosquitto's are short names). */
const MAX_HINT_CHARS = 128;

/**
 * One bounded TLS 1.2 handshake to host:port offering only PSK suites with a throwaway identity.
 * Resolves with what the server chose (TlsPskInfo, `only` false: the caller knows whether a
 * certificate handshake worked) when it picked a PSK suite, or null when it did not (no TLS, no
 * PSK, timeout, cancelled). Never rejects; the socket is always destroyed.
 */
export function offerPsk(host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<TlsPskInfo | null> {
  // One descriptor of the process's pool (lib/common), taken before the timeout starts.
  return withDescriptor(signal, () => null, () => offerOnce(host, port, timeoutMs, signal));
}

function offerOnce(host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<TlsPskInfo | null> {
  return settle<TlsPskInfo | null>(timeoutMs, signal, null, (done) => {
    let hint: string | null | undefined;
    let protocol: string | null = null;
    let cipher: string | null = null;
    let socket: tls.TLSSocket;
    const found = (): TlsPskInfo | null => (hint === undefined ? null : { hint, cipher, protocol, only: false });
    try {
      socket = tls.connect({
        host,
        port,
        minVersion: 'TLSv1',
        maxVersion: 'TLSv1.2',
        ciphers: PSK_CIPHERS,
        checkServerIdentity: () => undefined,
        // Called only when the server chose a PSK suite: that is the proof.
        pskCallback: (h: string | null) => {
          hint = typeof h === 'string' ? cleanHint(h) : null;
          protocol = socket.getProtocol() ?? null;
          return { identity: PSK_PROBE_IDENTITY, psk: randomBytes(32) };
        },
      });
    } catch {
      return done(null);
    }
    // The cipher is read while keys are derived (keylog): Node 20 crashes at exit when getCipher()
    // is called on a TLS socket whose handshake has already failed.
    socket.on('keylog', () => {
      cipher ??= socket.getCipher()?.name ?? null;
    });
    socket.once('secureConnect', () => done(found()));
    socket.on('error', () => done(found()));
    socket.on('close', () => done(found()));
    return () => {
      socket.removeAllListeners('keylog');
      socket.on('error', () => undefined);
      socket.destroy();
    };
  });
}

/**
 * One line about a PSK listener for evidence and "not rated" reasons: "the listener takes only
 * pre-shared keys (TLS-PSK, identity hint "x", chose DHE-PSK-...): ..." (psk.only), or that it
 * also takes pre-shared keys.
 */
export function describePsk(psk: TlsPskInfo): string {
  const hint = psk.hint === null ? 'no identity hint' : `identity hint "${psk.hint}"`;
  const what = `(TLS-PSK, ${hint}${psk.cipher ? `, chose ${psk.cipher}` : ''})`;
  return psk.only
    ? `the listener takes only pre-shared keys ${what}: there is no certificate to judge, and without the key no MQTT login can be tried`
    : `the listener also takes pre-shared keys ${what}`;
}

/** The hint is the broker's text: shown as brokerText shows it (hidden and bidirectional
 *  characters escaped, bounded), like every other text a broker chose. */
function cleanHint(h: string): string {
  return brokerText(h, { maxLength: MAX_HINT_CHARS });
}
