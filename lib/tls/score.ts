// The TLS score: 100 minus the points of every rule that applies. The rules are a table so the
// weights can be read, tested and changed in one place; ids follow the finding ids of DESIGN.md.
import type { TlsCertificateInfo, TlsInfo } from '../types';

export interface ScoreRule {
  id: string;
  points: number;
  /** Evidence when the rule applies, null when it does not. */
  check(t: TlsInfo, c: TlsCertificateInfo | null): string | null;
}

/** Validity problems have their own rules; "untrusted" must not count them twice. */
const VALIDITY_ERRORS = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
const WEAK_SIGNATURE = /^(md5|sha1|md2)|with-SHA1$/i;

function weakKey(c: TlsCertificateInfo | null): string | null {
  if (!c || c.keyBits === undefined || !c.keyType) return null;
  const minimum = c.keyType === 'ec' ? 224 : /^(rsa|rsa-pss|dsa|dh)$/.test(c.keyType) ? 2048 : 0;
  return c.keyBits < minimum ? `${c.keyType.toUpperCase()} key of ${c.keyBits} bits (at least ${minimum} expected)` : null;
}

export const TLS_SCORE_RULES: readonly ScoreRule[] = [
  { id: 'TLS_EXPIRED', points: 40, check: (_, c) => (c?.expired ? `certificate expired on ${c.validTo}` : null) },
  { id: 'TLS_NOT_YET_VALID', points: 40, check: (_, c) => (c?.notYetValid ? `certificate is valid only from ${c.validFrom}` : null) },
  {
    id: 'TLS_UNTRUSTED',
    points: 20,
    check: (_, c) => (c && !c.trusted && !VALIDITY_ERRORS.has(c.trustError ?? '') ? `certificate does not chain to a trusted CA (${c.trustError ?? 'unknown'})` : null),
  },
  { id: 'TLS_SELF_SIGNED', points: 15, check: (_, c) => (c?.selfSigned && !c.trusted ? 'self-signed certificate, trusted by nobody' : null) },
  // Pinned by the user (given as CA): known, but still without revocation or rotation.
  { id: 'TLS_SELF_SIGNED', points: 5, check: (_, c) => (c?.selfSigned && c.trusted ? 'self-signed certificate, trusted only as the CA you supplied' : null) },
  {
    id: 'TLS_HOSTNAME_MISMATCH',
    points: 15,
    check: (_, c) => (c && c.hostnameMatch === false ? `the name we connected with is not in the certificate (${c.subjectAltName ?? c.subject})` : null),
  },
  { id: 'TLS_WEAK_KEY', points: 25, check: (_, c) => weakKey(c) },
  { id: 'TLS_WEAK_SIGNATURE', points: 10, check: (_, c) => (c?.signatureAlgorithm && WEAK_SIGNATURE.test(c.signatureAlgorithm) ? `signed with ${c.signatureAlgorithm}` : null) },
  {
    id: 'TLS_EXPIRES_SOON',
    points: 10,
    check: (_, c) => (c && !c.expired && !c.notYetValid && c.daysLeft < 30 ? `certificate expires in ${c.daysLeft} day(s) (${c.validTo})` : null),
  },
  { id: 'TLS_LEGACY_PROTOCOL', points: 15, check: (t) => (t.versions?.['TLSv1'] ? 'TLS 1.0 accepted' : null) },
  { id: 'TLS_LEGACY_PROTOCOL', points: 15, check: (t) => (t.versions?.['TLSv1.1'] ? 'TLS 1.1 accepted' : null) },
  {
    id: 'TLS_NO_MODERN_PROTOCOL',
    points: 30,
    check: (t) => (t.versions && !t.versions['TLSv1.2'] && !t.versions['TLSv1.3'] ? 'neither TLS 1.2 nor TLS 1.3 accepted' : null),
  },
  { id: 'TLS_WEAK_CIPHER', points: 20, check: (t) => (t.weakCiphers?.length ? `weak cipher families accepted: ${t.weakCiphers.join(', ')}` : null) },
];

export function scoreTls(t: TlsInfo, rules: readonly ScoreRule[] = TLS_SCORE_RULES): { score: number; scoreReasons: string[] } {
  let score = 100;
  const scoreReasons: string[] = [];
  const cert = t.certificate ?? null;
  for (const rule of rules) {
    const evidence = rule.check(t, cert);
    if (evidence === null) continue;
    score -= rule.points;
    scoreReasons.push(`${rule.id} -${rule.points}: ${evidence}`);
  }
  return { score: Math.max(0, score), scoreReasons };
}
