// Turns the server's certificate chain into the contract's TlsCertificateInfo. Dates, names,
// keys and fingerprints come from node:crypto's X509Certificate; the signature algorithm,
// which Node 20 does not expose, from the certificate's DER (tls/der.ts).
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import * as tls from 'node:tls';
import { signatureAlgorithmOid } from './der';
import { brokerText } from '../common';
import type { TlsCertificateInfo } from '../types';
import type { CaInput } from './handshake';

const DAY_MS = 86_400_000;
const MAX_CHAIN = 10;
/** Code points shown of a name the certificate's owner chose (subject, issuer, SAN, chain entry). */
const CERT_FIELD_CHARS = 512;

export interface Trust {
  trusted: boolean;
  error: string | null;
}

/** The chain leaf -> root as the server sent it; Node appends the root from our trusted CAs when the
 *  server left it out. Each certificate once (Node links a root to itself). */
export function peerChain(peer: tls.DetailedPeerCertificate): X509Certificate[] {
  const out: X509Certificate[] = [];
  const seen = new Set<string>();
  for (let c: tls.DetailedPeerCertificate | undefined = peer; c?.raw && out.length < MAX_CHAIN; c = c.issuerCertificate) {
    const x = new X509Certificate(c.raw);
    if (seen.has(x.fingerprint256)) break;
    seen.add(x.fingerprint256);
    out.push(x);
  }
  return out;
}

export function describeCertificate(chain: X509Certificate[], name: string, trust: Trust, now = new Date()): TlsCertificateInfo {
  const leaf = chain[0];
  const validFrom = new Date(leaf.validFrom);
  const validTo = new Date(leaf.validTo);
  const key = keyOf(leaf);
  return {
    subject: readableName(leaf.subject),
    issuer: readableName(leaf.issuer),
    subjectAltName: leaf.subjectAltName === undefined ? null : shownName(leaf.subjectAltName),
    serialNumber: leaf.serialNumber,
    validFrom: validFrom.toISOString(),
    validTo: validTo.toISOString(),
    daysLeft: Math.floor((validTo.getTime() - now.getTime()) / DAY_MS),
    expired: now > validTo,
    notYetValid: now < validFrom,
    selfSigned: selfSigned(leaf),
    trusted: trust.trusted,
    trustError: trust.error === null ? null : brokerText(trust.error, { maxLength: CERT_FIELD_CHARS }),
    hostnameMatch: isIP(name) ? leaf.checkIP(name) !== undefined : leaf.checkHost(name) !== undefined,
    keyType: key.type,
    ...(key.bits !== undefined ? { keyBits: key.bits } : {}),
    signatureAlgorithm: signatureAlgorithm(leaf.raw),
    fingerprint256: leaf.fingerprint256,
    chain: chain.map((c) => readableName(c.subject)),
  };
}

/** "CN=x\nO=y" (Node's form) -> "CN=x, O=y", shown as brokerText. */
function readableName(multiline: string): string {
  return shownName(multiline.split('\n').filter(Boolean).join(', '));
}

/**
 * A name from the certificate as shown: Node prints names the OpenSSL way (RFC 2253 escapes:
 * a literal backslash is already `\\`, a comma in a value `\,`, ESC `\1B`) and quotes a SAN entry
 * with a backslash in it, JSON-style. Those escapes stay; bidi overrides, zero-width characters
 * and the rest brokerText escapes (OpenSSL prints them raw) become `\u{…}`.
 */
function shownName(name: string): string {
  return brokerText(name, { maxLength: CERT_FIELD_CHARS, backslashes: 'kept' });
}

/** Issuer name matches and the signature verifies with the issuer's key. */
function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false; // a key type this Node cannot verify with
  }
}

/** Issuer equals subject and the signature verifies with its own key. X509Certificate.checkIssued
 *  would say no for a leaf without the keyCertSign usage, which is how self-signed leaves look. */
function selfSigned(cert: X509Certificate): boolean {
  try {
    return cert.issuer === cert.subject && cert.verify(cert.publicKey);
  } catch {
    return false;
  }
}

const CURVE_BITS: Record<string, number> = { prime256v1: 256, secp256k1: 256, secp224r1: 224, secp384r1: 384, secp521r1: 521 };
const EDWARDS_BITS: Record<string, number> = { ed25519: 256, ed448: 456 };

function keyOf(cert: X509Certificate): { type: string | null; bits?: number } {
  const k = cert.publicKey;
  const type = k.asymmetricKeyType ?? null;
  const d = k.asymmetricKeyDetails ?? {};
  const bits = d.modulusLength ?? (d.namedCurve ? CURVE_BITS[d.namedCurve] : undefined) ?? (type ? EDWARDS_BITS[type] : undefined);
  return { type, bits };
}

// OpenSSL's names; anything else is shown as the dotted OID.
const SIGNATURE_NAMES: Record<string, string> = {
  '1.2.840.113549.1.1.2': 'md2WithRSAEncryption',
  '1.2.840.113549.1.1.3': 'md4WithRSAEncryption',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'RSASSA-PSS',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.113549.1.1.14': 'sha224WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10045.4.3.1': 'ecdsa-with-SHA224',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.3.101.112': 'ED25519',
  '1.3.101.113': 'ED448',
  '1.2.840.10040.4.3': 'dsa-with-SHA1',
  '2.16.840.1.101.3.4.3.2': 'dsa-with-SHA256',
};

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm AlgorithmIdentifier, signature }. */
export function signatureAlgorithm(der: Buffer): string | null {
  const oid = signatureAlgorithmOid(der);
  return oid === null ? null : (SIGNATURE_NAMES[oid] ?? oid);
}

let systemAnchors: X509Certificate[] | null = null;

/** The CAs a verdict is made against: Node's bundled roots plus the user's CA(s). */
export function trustAnchors(userCa?: CaInput): X509Certificate[] {
  systemAnchors ??= tls.rootCertificates.map((pem) => new X509Certificate(pem));
  return [...systemAnchors, ...certificatesIn(userCa)];
}

/** Every certificate in PEM text (possibly several concatenated) or DER buffers. */
export function certificatesIn(input?: CaInput): X509Certificate[] {
  if (!input) return [];
  const out: X509Certificate[] = [];
  for (const item of Array.isArray(input) ? input : [input]) {
    const text = typeof item === 'string' ? item : item.toString('latin1');
    const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
    try {
      if (pems) out.push(...pems.map((p) => new X509Certificate(p)));
      else if (Buffer.isBuffer(item)) out.push(new X509Certificate(item));
    } catch {
      // not a certificate: it cannot make anything trusted
    }
  }
  return out;
}

/**
 * Our own chain check, used only when the handshake did not complete (the server aborted it,
 * e.g. for a missing client certificate) so OpenSSL's verdict never reached us. Error names
 * follow OpenSSL's.
 */
export function chainTrust(chain: X509Certificate[], anchors: X509Certificate[], now = new Date()): Trust {
  const anchorPrints = new Set(anchors.map((a) => a.fingerprint256));
  let chainError: string | null = 'CERT_CHAIN_TOO_LONG';
  let cur = chain[0];
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    if (anchorPrints.has(cur.fingerprint256) || anchors.some((a) => issuedBy(cur, a))) {
      chainError = null;
      break;
    }
    const next = chain.find((c) => c !== cur && issuedBy(cur, c));
    if (!next) {
      chainError = selfSigned(cur)
        ? depth === 0 ? 'DEPTH_ZERO_SELF_SIGNED_CERT' : 'SELF_SIGNED_CERT_IN_CHAIN'
        : depth === 0 ? 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' : 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY';
      break;
    }
    cur = next;
  }
  if (chainError) return { trusted: false, error: chainError };
  for (const c of chain) {
    if (now > new Date(c.validTo)) return { trusted: false, error: 'CERT_HAS_EXPIRED' };
    if (now < new Date(c.validFrom)) return { trusted: false, error: 'CERT_NOT_YET_VALID' };
  }
  return { trusted: true, error: null };
}
