// X.509 material for the lab brokers and for TLS tests: a CA, server and client
// certificates, including deliberately broken ones (expired, not yet valid, wrong
// host, weak key, self-signed leaf). RSA keys come from Node (fast, native);
// node-forge builds and signs the certificates.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import forge from 'node-forge';

export interface CertPair {
  certPem: string;
  keyPem: string;
}

export interface CaOptions {
  commonName?: string;
  keyBits?: number;
  days?: number;
}

export interface ServerCertOptions {
  /** DNS names and IP addresses; each goes into the SAN with the right type. */
  hosts: string[];
  commonName?: string;
  keyBits?: number;
  days?: number;
  notBefore?: Date;
  notAfter?: Date;
  /** Sign the leaf with its own key (no CA); the `ca` argument is then ignored. */
  selfSigned?: boolean;
}

export interface ClientCertOptions {
  commonName: string;
  keyBits?: number;
  days?: number;
}

export interface LabCertPaths {
  ca: string;
  cert: string;
  key: string;
}

const DAY_MS = 86_400_000;
// Backdate a little so a freshly issued certificate is valid despite clock skew.
const BACKDATE_MS = 5 * 60_000;

function rsaKeyPair(bits: number): { publicKeyPem: string; privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicKeyPem: publicKey, privateKeyPem: privateKey };
}

/** Random positive serial: 16 bytes, top bit clear and first byte non-zero (DER minimal). */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) | 0x01;
  return bytes.toString('hex');
}

function validity(opts: { days?: number; notBefore?: Date; notAfter?: Date }, defaultDays: number) {
  const notBefore = opts.notBefore ?? new Date(Date.now() - BACKDATE_MS);
  const notAfter = opts.notAfter ?? new Date(notBefore.getTime() + (opts.days ?? defaultDays) * DAY_MS);
  return { notBefore, notAfter };
}

function newCert(publicKeyPem: string, cn: string, notBefore: Date, notAfter: Date): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  cert.serialNumber = randomSerial();
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  cert.setSubject([{ name: 'commonName', value: cn }, { name: 'organizationName', value: 'MQTT Security Lab' }]);
  return cert;
}

/** Issuer name + key identifier + signature, from the CA (or from the cert itself when self-signed). */
function signWith(cert: forge.pki.Certificate, issuer: forge.pki.Certificate, issuerKeyPem: string): string {
  cert.setIssuer(issuer.subject.attributes);
  cert.sign(forge.pki.privateKeyFromPem(issuerKeyPem), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

function authorityKeyId(issuer: forge.pki.Certificate) {
  return { name: 'authorityKeyIdentifier', keyIdentifier: issuer.generateSubjectKeyIdentifier().getBytes() };
}

export function generateCa(opts: CaOptions = {}): CertPair {
  const keys = rsaKeyPair(opts.keyBits ?? 2048);
  const { notBefore, notAfter } = validity(opts, 3650);
  const cert = newCert(keys.publicKeyPem, opts.commonName ?? 'MQTT Security Lab CA', notBefore, notAfter);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  return { certPem: signWith(cert, cert, keys.privateKeyPem), keyPem: keys.privateKeyPem };
}

function subjectAltNames(hosts: string[]) {
  return hosts.map((h) => (isIP(h) ? { type: 7, ip: h } : { type: 2, value: h }));
}

export function generateServerCert(ca: CertPair | null, opts: ServerCertOptions): CertPair {
  if (!opts.selfSigned && !ca) throw new Error('generateServerCert: a CA is required unless selfSigned is set');
  const keys = rsaKeyPair(opts.keyBits ?? 2048);
  const { notBefore, notAfter } = validity(opts, 825);
  const cn = opts.commonName ?? opts.hosts[0] ?? 'localhost';
  const cert = newCert(keys.publicKeyPem, cn, notBefore, notAfter);
  const issuer = opts.selfSigned ? cert : forge.pki.certificateFromPem(ca!.certPem);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: subjectAltNames(opts.hosts) },
    { name: 'subjectKeyIdentifier' },
    authorityKeyId(issuer),
  ]);
  const certPem = signWith(cert, issuer, opts.selfSigned ? keys.privateKeyPem : ca!.keyPem);
  return { certPem, keyPem: keys.privateKeyPem };
}

export function generateClientCert(ca: CertPair, opts: ClientCertOptions): CertPair {
  const keys = rsaKeyPair(opts.keyBits ?? 2048);
  const { notBefore, notAfter } = validity(opts, 825);
  const cert = newCert(keys.publicKeyPem, opts.commonName, notBefore, notAfter);
  const issuer = forge.pki.certificateFromPem(ca.certPem);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
    { name: 'subjectKeyIdentifier' },
    authorityKeyId(issuer),
  ]);
  return { certPem: signWith(cert, issuer, ca.keyPem), keyPem: keys.privateKeyPem };
}

/**
 * The lab's other server certificates, which Lab controls swap in on the secure lab broker: one
 * signed by the lab CA that expired 30 days ago (valid for a year before that), one signed by
 * itself, and one signed by the lab CA for another host name only (WRONG_HOST). The same names as
 * the lab's own certificate otherwise.
 */
export const LAB_CERT_VARIANTS = ['expired', 'self-signed', 'wrong-host'] as const;
export type LabCertVariant = (typeof LAB_CERT_VARIANTS)[number];
/** Where each variant's certificate and key (0600) are: <dir>/server-<variant>.crt and .key. */
export type LabCertVariantPaths = Record<LabCertVariant, { cert: string; key: string }>;
/** The only name in the wrong-host certificate: a reserved name (RFC 2606) that no lab address is. */
export const WRONG_HOST = 'broker.lab.invalid';

/** ca.crt, server.crt and server.key, and with the CA's key still at hand the variants too. */
export interface LabCertSet extends LabCertPaths {
  variants: LabCertVariantPaths;
}

/** Writes ca.crt, server.crt and server.key (0600) into dir. The CA key is not kept. */
export function writeLabCerts(dir: string, hosts: string[]): LabCertPaths {
  const { paths } = writeCaAndServer(dir, hosts);
  return paths;
}

/**
 * writeLabCerts plus the variants of LAB_CERT_VARIANTS (server-expired.crt, server-self-signed.crt,
 * server-wrong-host.crt, each with its .key, 0600), signed while the CA's key is in memory. The CA
 * key is not kept, so variants signed by the same CA can only be made together with it.
 */
export function writeLabCertSet(dir: string, hosts: string[]): LabCertSet {
  const { ca, paths } = writeCaAndServer(dir, hosts);
  const day = 86_400_000;
  const now = Date.now();
  const pairs: Record<LabCertVariant, CertPair> = {
    expired: generateServerCert(ca, { hosts, notBefore: new Date(now - 395 * day), notAfter: new Date(now - 30 * day) }),
    'self-signed': generateServerCert(null, { hosts, selfSigned: true }),
    'wrong-host': generateServerCert(ca, { hosts: [WRONG_HOST] }),
  };
  const variants = Object.fromEntries(LAB_CERT_VARIANTS.map((v) => {
    const where = { cert: join(dir, `server-${v}.crt`), key: join(dir, `server-${v}.key`) };
    writeFileSync(where.cert, pairs[v].certPem, { mode: 0o644 });
    writeKey(where.key, pairs[v].keyPem);
    return [v, where];
  })) as LabCertVariantPaths;
  return { ...paths, variants };
}

function writeCaAndServer(dir: string, hosts: string[]): { ca: CertPair; paths: LabCertPaths } {
  mkdirSync(dir, { recursive: true });
  const ca = generateCa();
  const server = generateServerCert(ca, { hosts });
  const paths: LabCertPaths = { ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
  writeFileSync(paths.ca, ca.certPem, { mode: 0o644 });
  writeFileSync(paths.cert, server.certPem, { mode: 0o644 });
  writeKey(paths.key, server.keyPem);
  return { ca, paths };
}

function writeKey(path: string, pem: string): void {
  writeFileSync(path, pem, { mode: 0o600 });
  chmodSync(path, 0o600); // writeFileSync's mode only applies when the file is created
}
