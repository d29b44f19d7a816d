// A throwaway self-signed client certificate. Against a broker that demands client certificates
// a TLS 1.2 handshake without one ends in a bare handshake_failure, which looks the same as
// "version or cipher refused". With this certificate the broker answers unknown_ca/bad_certificate
// instead: proof that it agreed on version and cipher and only refused who we are.
import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import type * as Forge from 'node-forge';

export interface ProbeCert {
  cert: string;
  key: string;
}

let cached: Promise<ProbeCert> | null = null;

export function probeClientCert(): Promise<ProbeCert> {
  cached ??= make().catch((err) => {
    cached = null;
    throw err;
  });
  return cached;
}

async function make(): Promise<ProbeCert> {
  // Only brokers that demand a client certificate need it: forge costs ~18 ms to load.
  const forge = require('node-forge') as typeof Forge;
  const { publicKey, privateKey } = await promisify(generateKeyPair)('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.now() - 3_600_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  const name = [{ name: 'commonName', value: 'mqttsec TLS inspector probe (not a real identity)' }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([{ name: 'extKeyUsage', clientAuth: true }]);
  cert.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: privateKey };
}
