// lib/tls/der.ts against node-forge's full ASN.1 parser: the same signature OID for every root
// CA Node ships and for certificates of every key type we generate; null, never a throw, for
// truncated or corrupted DER.
import { strict as assert } from 'node:assert';
import { X509Certificate, randomBytes } from 'node:crypto';
import * as tls from 'node:tls';
import forge from 'node-forge';
import { decodeOid, signatureAlgorithmOid } from '../../lib/tls/der';
import { signatureAlgorithm } from '../../lib/tls/certificate';
import { generateCa, generateServerCert } from '../../lab/certs';

function forgeOid(der: Buffer): string {
  const cert = forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
  const algorithm = (cert.value as forge.asn1.Asn1[])[1];
  return forge.asn1.derToOid((algorithm.value as forge.asn1.Asn1[])[0].value as string);
}

describe('lib/tls/der: the signature algorithm without node-forge', function () {
  it('agrees with node-forge on every bundled root CA', () => {
    const seen = new Set<string>();
    for (const pem of tls.rootCertificates) {
      const der = new X509Certificate(pem).raw;
      const oid = signatureAlgorithmOid(der);
      assert.equal(oid, forgeOid(der));
      seen.add(signatureAlgorithm(der)!);
    }
    assert.ok(tls.rootCertificates.length > 50);
    // The bundle mixes RSA and ECDSA signatures with several hashes.
    for (const name of ['sha256WithRSAEncryption', 'ecdsa-with-SHA384', 'sha1WithRSAEncryption']) assert.ok(seen.has(name), `${name} among ${[...seen].join(', ')}`);
  });

  it('reads the lab generator\'s certificates', () => {
    const ca = generateCa();
    const server = generateServerCert(ca, { hosts: ['127.0.0.1'] });
    for (const pem of [ca.certPem, server.certPem]) assert.equal(signatureAlgorithm(new X509Certificate(pem).raw), 'sha256WithRSAEncryption');
  });

  it('returns null for every truncation and for corrupted headers, and never throws', () => {
    const der = new X509Certificate(tls.rootCertificates[0]).raw;
    for (let n = 0; n < 200; n++) assert.equal(signatureAlgorithmOid(der.subarray(0, n)), null, `first ${n} bytes`);
    let parsed = 0;
    for (let i = 0; i < 2000; i++) {
      const bad = Buffer.from(der);
      for (let k = 0; k < 3; k++) bad[Math.floor(Math.random() * 40)] = randomBytes(1)[0];
      const oid = signatureAlgorithmOid(bad);
      if (oid !== null) {
        parsed++;
        assert.match(oid, /^[0-2](\.\d+)+$/);
      }
    }
    assert.ok(parsed < 2000, 'corruption was noticed at least sometimes');
    assert.equal(signatureAlgorithmOid(Buffer.alloc(0)), null);
    assert.equal(signatureAlgorithmOid(randomBytes(64)), null);
  });

  it('decodes OIDs with multi-byte arcs and the joint-iso arc 2', () => {
    assert.equal(decodeOid(Buffer.from('2a864886f70d01010b', 'hex')), '1.2.840.113549.1.1.11');
    assert.equal(decodeOid(Buffer.from('608648016503040302', 'hex')), '2.16.840.1.101.3.4.3.2');
    assert.equal(decodeOid(Buffer.from('2b6570', 'hex')), '1.3.101.112');
    assert.equal(decodeOid(Buffer.from('8837', 'hex')), '2.999');
    assert.equal(decodeOid(Buffer.from('2a86', 'hex')), null, 'ends inside an arc');
    assert.equal(decodeOid(Buffer.from('2affffffffffffffff01', 'hex')), null, 'an arc too long to be exact');
  });
});
