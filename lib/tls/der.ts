// Just enough DER to read a certificate's signature algorithm, which Node's X509Certificate does
// not expose (before Node 22). A hand-walk of three headers instead of node-forge: forge costs
// ~18 ms to load and parses the whole certificate. Every read is bounds-checked; bad input is null.

interface Element {
  tag: number;
  /** First content byte. */
  start: number;
  /** One past the last content byte. */
  end: number;
}

function element(b: Buffer, pos: number, limit = b.length): Element | null {
  if (pos + 2 > limit) return null;
  const tag = b[pos];
  let len = b[pos + 1];
  let start = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > limit) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[start + i];
    start += n;
  }
  const end = start + len;
  return end <= limit ? { tag, start, end } : null;
}

const SEQUENCE = 0x30;
const OID = 0x06;

/** Certificate ::= SEQUENCE { tbsCertificate SEQUENCE, signatureAlgorithm SEQUENCE { OID, ... }, ... }. */
export function signatureAlgorithmOid(der: Buffer): string | null {
  const cert = element(der, 0);
  if (!cert || cert.tag !== SEQUENCE) return null;
  const tbs = element(der, cert.start, cert.end);
  if (!tbs || tbs.tag !== SEQUENCE) return null;
  const alg = element(der, tbs.end, cert.end);
  if (!alg || alg.tag !== SEQUENCE) return null;
  const oid = element(der, alg.start, alg.end);
  if (!oid || oid.tag !== OID) return null;
  return decodeOid(der.subarray(oid.start, oid.end));
}

/** Dotted form of an OID's content bytes (X.690 8.19). */
export function decodeOid(b: Buffer): string | null {
  if (b.length === 0 || b[b.length - 1] & 0x80) return null;
  const arcs: number[] = [];
  let value = 0;
  let bytes = 0;
  for (const byte of b) {
    // Seven bytes of seven bits stay within Number's exact integers.
    if (++bytes > 7) return null;
    value = value * 128 + (byte & 0x7f);
    if (byte & 0x80) continue;
    if (arcs.length === 0) {
      const first = value < 80 ? Math.floor(value / 40) : 2;
      arcs.push(first, value - first * 40);
    } else {
      arcs.push(value);
    }
    value = 0;
    bytes = 0;
  }
  return arcs.join('.');
}
