// A CA that comes with one scan (the dashboard's "CA certificate" field, the API's `ca`,
// msg.tlsCa in a flow): PEM text checked before anything connects, then added to the trust of
// that scan's TLS connections (probe, TLS inspector, topic sniffer).
import { X509Certificate } from 'node:crypto';
import type { CaInput } from './handshake';

/** The most PEM text a scan's CA may have, in characters (a chain of a few certificates fits). */
export const SCAN_CA_MAX_CHARS = 64 * 1024;
/** The most certificates in it. */
export const SCAN_CA_MAX_CERTIFICATES = 20;
const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** A scan's CA that cannot be used; the message says what is wrong with it. */
export class ScanCaError extends Error {}

/**
 * Checks a scan's CA: one or more PEM certificates ("-----BEGIN CERTIFICATE-----") and no private
 * key, at most
 * SCAN_CA_MAX_CHARS characters and SCAN_CA_MAX_CERTIFICATES certificates, each one X.509 that
 * Node's crypto reads. Returns the PEM blocks joined by newlines (anything around them, such as
 * openssl's "subject=" lines, dropped); '' for blank input (no CA given). Throws ScanCaError.
 */
export function checkScanCa(input: unknown): string {
  if (input === undefined || input === null) return '';
  if (typeof input !== 'string') throw new ScanCaError('expected PEM text');
  const text = input.trim();
  if (!text) return '';
  if (text.length > SCAN_CA_MAX_CHARS) throw new ScanCaError(`at most ${SCAN_CA_MAX_CHARS / 1024} KiB of PEM`);
  // A key pasted with the certificate (a combined PEM) is refused, not silently dropped: it must
  // not travel with the scan, and its owner should know it was pasted into a form.
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text)) throw new ScanCaError('it holds a private key: paste only the CA certificate (a key must never leave its owner)');
  const blocks = text.match(PEM_BLOCK) ?? [];
  if (!blocks.length) throw new ScanCaError('expected a PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----); a private key or a DER file is not one');
  if (blocks.length > SCAN_CA_MAX_CERTIFICATES) throw new ScanCaError(`at most ${SCAN_CA_MAX_CERTIFICATES} certificates`);
  blocks.forEach((block, i) => {
    try {
      new X509Certificate(block);
    } catch {
      throw new ScanCaError(`certificate ${i + 1} of ${blocks.length} is not a readable X.509 certificate`);
    }
  });
  return blocks.join('\n');
}

/**
 * TLS options with a scan's CA added to the CA they already trust (a configured one, the lab
 * CA): the scan's connections trust either. `scanCa` as checkScanCa returns it; '' or undefined
 * leaves `tls` as it is.
 */
export function withScanCa<T extends { ca?: CaInput }>(tls: T | undefined, scanCa: unknown): T | undefined {
  if (typeof scanCa !== 'string' || !scanCa) return tls;
  const have = tls?.ca === undefined ? [] : Array.isArray(tls.ca) ? tls.ca : [tls.ca];
  return { ...(tls ?? ({} as T)), ca: [...have, scanCa] };
}
