// inspectTls against real mosquitto brokers started from brokers/secure with certificates made
// here by lab/certs.ts; a Node TLS server only where mosquitto 2.0 cannot serve the case.
import { strict as assert } from 'node:assert';
import { X509Certificate } from 'node:crypto';
import * as tls from 'node:tls';
import { generateCa, generateClientCert, generateServerCert, type CertPair } from '../../lab/certs';
import { checkScanCa as check, inspectTls, scoreTls, withScanCa as withCa, SCAN_CA_MAX_CHARS as MAX, WEAK_CIPHER_FAMILIES, CBC_TLS10, type InspectTlsOptions } from '../../lib/tls';
import type { TlsCertificateInfo, TlsInfo } from '../../lib/types';
import { closedPort, startTarpit, type Fixture } from '../support/fixtures';
import { startMosquitto, type MosquittoBroker, type MosquittoOptions } from '../support/mosquitto';
import { startTlsServer, writeCertFiles } from '../support/tls-fixtures';
import { requireTool } from '../support/tools';

const DAY_MS = 86_400_000;
const ALL_VERSIONS_MODERN = { TLSv1: false, 'TLSv1.1': false, 'TLSv1.2': true, 'TLSv1.3': true };
const ids = (r: TlsInfo) => (r.scoreReasons ?? []).map((s) => s.split(' ')[0]);
const cert = (r: TlsInfo) => r.certificate as TlsCertificateInfo;

describe('lib/tls: inspectTls against real brokers', function () {
  const running: Array<MosquittoBroker | Fixture> = [];
  let ca: CertPair;
  let standard: MosquittoBroker;
  let standardCert: CertPair;

  async function broker(server: CertPair, opts: MosquittoOptions = {}, caPem = ca.certPem): Promise<MosquittoBroker> {
    const files = writeCertFiles(caPem, server);
    try {
      const b = await startMosquitto('secure', { ...opts, certs: files });
      running.push(b);
      return b;
    } finally {
      files.remove(); // mosquitto's harness copied them into its own dir
    }
  }
  async function nodeServer(options: tls.TlsOptions) {
    const s = await startTlsServer(options);
    running.push(s);
    return s;
  }
  const inspect = (t: { port: number }, o?: InspectTlsOptions) => inspectTls({ host: '127.0.0.1', port: t.port }, o);

  before(async function () {
    requireTool(this, 'mosquitto');
    ca = generateCa({ commonName: 'mqttsec lab CA' });
    standardCert = generateServerCert(ca, { hosts: ['127.0.0.1', 'localhost'] });
    standard = await broker(standardCert);
  });
  after(async () => {
    await Promise.all(running.map((r) => ('stop' in r ? r.stop() : r.close())));
  });

  describe('certificate and trust', () => {
    it('reads the certificate of a CA-signed broker; untrusted without the CA', async () => {
      const r = await inspect(standard);
      const x = new X509Certificate(standardCert.certPem);
      const c = cert(r);
      assert.equal(r.error, null);
      assert.equal(r.protocol, 'TLSv1.3');
      assert.equal(c.subject, 'CN=127.0.0.1, O=MQTT Security Lab');
      assert.equal(c.issuer, 'CN=mqttsec lab CA, O=MQTT Security Lab');
      assert.match(String(c.subjectAltName), /IP Address:127\.0\.0\.1/);
      assert.equal(c.serialNumber, x.serialNumber);
      assert.equal(c.validFrom, new Date(x.validFrom).toISOString());
      assert.equal(c.validTo, new Date(x.validTo).toISOString());
      assert.ok(c.daysLeft >= 823 && c.daysLeft <= 825, `daysLeft ${c.daysLeft}`);
      assert.equal(c.fingerprint256, x.fingerprint256);
      assert.deepEqual([c.keyType, c.keyBits, c.signatureAlgorithm], ['rsa', 2048, 'sha256WithRSAEncryption']);
      assert.deepEqual(c.chain, ['CN=127.0.0.1, O=MQTT Security Lab', 'CN=mqttsec lab CA, O=MQTT Security Lab']);
      assert.equal(c.selfSigned, false, 'a CA-signed leaf is not self-signed');
      assert.equal(c.hostnameMatch, true, '127.0.0.1 is an IP SAN');
      assert.equal(c.trusted, false);
      assert.equal(c.trustError, 'SELF_SIGNED_CERT_IN_CHAIN'); // mosquitto sends its private CA along
      assert.deepEqual(ids(r), ['TLS_UNTRUSTED']);
      assert.equal(r.score, 80);
    });

    it('trusts the same broker once the user supplies its CA', async () => {
      const r = await inspect(standard, { ca: ca.certPem });
      assert.equal(cert(r).trusted, true);
      assert.equal(cert(r).trustError, null);
      assert.equal(r.score, 100);
      assert.deepEqual(r.scoreReasons, []);
    });

    it('a leaf that signs itself is self-signed; given as CA it is trusted but still scored', async () => {
      const leaf = generateServerCert(null, { hosts: ['127.0.0.1'], selfSigned: true });
      const b = await broker(leaf, {}, leaf.certPem);
      const untrusted = await inspect(b);
      assert.equal(cert(untrusted).selfSigned, true);
      assert.equal(cert(untrusted).trusted, false);
      assert.equal(cert(untrusted).trustError, 'DEPTH_ZERO_SELF_SIGNED_CERT');
      assert.deepEqual(cert(untrusted).chain, ['CN=127.0.0.1, O=MQTT Security Lab']);
      assert.deepEqual(ids(untrusted), ['TLS_UNTRUSTED', 'TLS_SELF_SIGNED']);
      const pinned = await inspect(b, { ca: leaf.certPem });
      assert.equal(cert(pinned).trusted, true);
      assert.deepEqual(pinned.scoreReasons?.map((s) => s.split(':')[0]), ['TLS_SELF_SIGNED -5']);
    });

    it('hostnameMatch: the name we connected with, not the chain, decides', async () => {
      const b = await broker(generateServerCert(ca, { hosts: ['broker.invalid'] }));
      const r = await inspect(b, { ca: ca.certPem });
      assert.equal(cert(r).hostnameMatch, false);
      assert.equal(cert(r).trusted, true, 'trust is about the chain only');
      assert.deepEqual(ids(r), ['TLS_HOSTNAME_MISMATCH']);
      assert.equal(cert(await inspect(b, { servername: 'broker.invalid' })).hostnameMatch, true);
      assert.equal(cert(await inspect(standard, { servername: 'localhost' })).hostnameMatch, true);
      assert.equal(cert(await inspect(standard, { servername: 'other.invalid' })).hostnameMatch, false);
    });
  });

  describe('validity and key strength', () => {
    const now = Date.now();
    const cases = [
      { name: 'expired', cert: { notBefore: new Date(now - 40 * DAY_MS), notAfter: new Date(now - 2 * DAY_MS) }, flag: 'expired', trustError: 'CERT_HAS_EXPIRED', id: 'TLS_EXPIRED' },
      { name: 'not yet valid', cert: { notBefore: new Date(now + 10 * DAY_MS), notAfter: new Date(now + 400 * DAY_MS) }, flag: 'notYetValid', trustError: 'CERT_NOT_YET_VALID', id: 'TLS_NOT_YET_VALID' },
      { name: 'expiring in 10 days', cert: { days: 10 }, flag: null, trustError: null, id: 'TLS_EXPIRES_SOON' },
      // Debian's OpenSSL (security level 2) refuses to load a 1024-bit key ("ee key too small"),
      // so this listener lowers the level, as a real broker with such a key must.
      { name: '1024-bit key', cert: { keyBits: 1024 }, conf: ['ciphers DEFAULT:@SECLEVEL=0'], flag: null, trustError: null, id: 'TLS_WEAK_KEY' },
    ];
    for (const c of cases) {
      it(`${c.name}: flagged, and only that reason lowers the score`, async () => {
        const b = await broker(generateServerCert(ca, { hosts: ['127.0.0.1'], ...c.cert }), { extraConf: c.conf });
        const r = await inspect(b, { ca: ca.certPem });
        const info = cert(r);
        assert.equal(r.error, null);
        assert.equal(info.expired, c.flag === 'expired');
        assert.equal(info.notYetValid, c.flag === 'notYetValid');
        assert.equal(info.trustError, c.trustError);
        assert.deepEqual(ids(r), [c.id], 'a validity problem is not also counted as "untrusted"');
        if (c.flag === 'expired') assert.ok(info.daysLeft < 0);
        if (c.id === 'TLS_EXPIRES_SOON') assert.ok(info.daysLeft >= 9 && info.daysLeft <= 10, `daysLeft ${info.daysLeft}`);
        if (c.id === 'TLS_WEAK_KEY') assert.equal(info.keyBits, 1024);
      });
    }
  });

  describe('protocol versions', () => {
    it('the default listener: TLS 1.2 and 1.3, not 1.0 or 1.1', async () => {
      const r = await inspect(standard);
      assert.deepEqual(r.versions, ALL_VERSIONS_MODERN);
      assert.ok(!ids(r).includes('TLS_LEGACY_PROTOCOL'));
    });

    it('a listener with tls_version tlsv1.1 also accepts TLS 1.1', async () => {
      const b = await broker(standardCert, { tlsVersion: 'tlsv1.1', extraConf: ['ciphers DEFAULT:@SECLEVEL=0'] });
      const r = await inspect(b, { ca: ca.certPem });
      assert.deepEqual(r.versions, { ...ALL_VERSIONS_MODERN, 'TLSv1.1': true });
      assert.ok(r.scoreReasons?.includes('TLS_LEGACY_PROTOCOL -15: TLS 1.1 accepted'), String(r.scoreReasons));
    });

    it('a TLS 1.3-only listener refuses TLS 1.2', async () => {
      const b = await broker(standardCert, { tlsVersion: 'tlsv1.3' });
      const r = await inspect(b, { ca: ca.certPem });
      assert.deepEqual(r.versions, { TLSv1: false, 'TLSv1.1': false, 'TLSv1.2': false, 'TLSv1.3': true });
      assert.equal(r.score, 100);
    });

    it('a TLS 1.0-only server: legacy, no modern version, CBC with TLS 1.0 (Node server: mosquitto 2.0 stops at 1.1)', async () => {
      const s = await nodeServer({ cert: standardCert.certPem, key: standardCert.keyPem, minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' });
      const r = await inspect(s, { ca: ca.certPem });
      assert.equal(r.protocol, 'TLSv1');
      assert.deepEqual(r.versions, { TLSv1: true, 'TLSv1.1': false, 'TLSv1.2': false, 'TLSv1.3': false });
      assert.ok(r.weakCiphers?.includes(CBC_TLS10), String(r.weakCiphers));
      assert.deepEqual(ids(r), ['TLS_LEGACY_PROTOCOL', 'TLS_NO_MODERN_PROTOCOL', 'TLS_WEAK_CIPHER']);
      assert.equal(r.score, 100 - 15 - 30 - 20);
    });
  });

  describe('weak ciphers', () => {
    // Families our own OpenSSL has no cipher for: they can only be reported as untested.
    const locallyMissing = WEAK_CIPHER_FAMILIES.filter((f) => {
      try {
        tls.createSecureContext({ ciphers: `${f.ciphers}:@SECLEVEL=0` });
        return false;
      } catch {
        return true;
      }
    }).map((f) => f.name);

    it('the default listener accepts none; families Node cannot offer are untested, not refused', async () => {
      const r = await inspect(standard);
      assert.deepEqual(r.weakCiphers, []);
      assert.deepEqual(r.weakCiphersUntested, locallyMissing);
    });

    it('a listener that allows NULL ciphers is caught', async () => {
      const b = await broker(standardCert, { extraConf: ['ciphers ALL:eNULL:@SECLEVEL=0'] });
      const r = await inspect(b, { ca: ca.certPem });
      for (const family of ['NULL', 'aNULL']) assert.ok(r.weakCiphers?.includes(family), `${family} in ${r.weakCiphers}`);
      assert.ok(r.scoreReasons?.some((s) => s.startsWith('TLS_WEAK_CIPHER -20: weak cipher families accepted: NULL')), String(r.scoreReasons));
    });

    it('checkVersions / checkCiphers false skip those handshakes and say nothing about them', async () => {
      const r = await inspect(standard, { checkVersions: false, checkCiphers: false });
      assert.equal(r.versions, undefined);
      assert.equal(r.weakCiphers, undefined);
      assert.equal(cert(r).subject, 'CN=127.0.0.1, O=MQTT Security Lab');
    });
  });

  describe('client certificates', () => {
    let demanding: MosquittoBroker;
    before(async () => {
      demanding = await startMosquitto('secure', { requireCertificate: true });
      running.push(demanding);
    });

    it('require_certificate: detected after the TLS 1.3 handshake; certificate and versions still read', async () => {
      const r = await inspect(demanding);
      assert.equal(r.error, null);
      assert.equal(r.clientCertRequired, true);
      assert.equal(r.protocol, 'TLSv1.3');
      assert.equal(cert(r).subject, 'CN=127.0.0.1, O=MQTT Security Lab');
      assert.deepEqual(r.versions, ALL_VERSIONS_MODERN, 'a throwaway certificate shows TLS 1.2 is agreed before the refusal');
    });

    it("a client certificate signed by the broker's CA is accepted", async () => {
      const client = generateClientCert(demanding.ca!, { commonName: 'esp32' });
      const r = await inspect(demanding, { ca: demanding.ca!.certPem, cert: client.certPem, key: client.keyPem });
      assert.equal(r.clientCertRequired, true);
      assert.equal(r.clientCertAccepted, true);
      assert.equal(r.clientCertError, null);
      assert.equal(cert(r).trusted, true);
    });

    it('a client certificate from another CA is refused, and said so', async () => {
      const client = generateClientCert(generateCa(), { commonName: 'intruder' });
      const r = await inspect(demanding, { cert: client.certPem, key: client.keyPem });
      assert.equal(r.clientCertRequired, true);
      assert.equal(r.clientCertAccepted, false);
      assert.match(String(r.clientCertError), /UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN/);
    });

    it('the default listener does not demand one', async () => {
      assert.equal((await inspect(standard)).clientCertRequired, false);
    });

    it('TLS 1.2 only: the refusal is inside the handshake, the certificate is still read and judged', async () => {
      // mosquitto 2.0 always offers TLS 1.3, so this case is a Node server.
      const s = await nodeServer({ cert: standardCert.certPem, key: standardCert.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true, maxVersion: 'TLSv1.2' });
      const r = await inspect(s);
      assert.equal(r.error, null);
      assert.equal(r.clientCertRequired, true);
      assert.equal(r.protocol, 'TLSv1.2');
      assert.equal(cert(r).subject, 'CN=127.0.0.1, O=MQTT Security Lab');
      assert.equal(cert(r).trusted, false);
      assert.equal(cert(r).trustError, 'SELF_SIGNED_CERT_IN_CHAIN');
      assert.deepEqual(r.versions, { TLSv1: false, 'TLSv1.1': false, 'TLSv1.2': true, 'TLSv1.3': false });
      const withCa = await inspect(s, { ca: ca.certPem, checkVersions: false, checkCiphers: false });
      assert.equal(cert(withCa).trusted, true);
      const client = generateClientCert(ca, { commonName: 'esp32' });
      const ok = await inspect(s, { ca: ca.certPem, cert: client.certPem, key: client.keyPem, checkCiphers: false });
      assert.deepEqual([ok.clientCertRequired, ok.clientCertAccepted], [true, true]);
    });
  });

  describe('ports that are not TLS', () => {
    it('a plain MQTT listener: error, no certificate, no throw', async () => {
      const plain = await startMosquitto('insecure');
      running.push(plain);
      const r = await inspect(plain);
      assert.match(String(r.error), /^not TLS/);
      assert.deepEqual([r.protocol, r.cipher, r.certificate, r.score], [null, null, null, undefined]);
    });

    it('a closed port: connection refused', async () => {
      const r = await inspect({ port: await closedPort() });
      assert.match(String(r.error), /^connection refused: nothing listens on 127\.0\.0\.1:\d+$/);
      assert.equal(r.certificate, null);
    });

    it('a silent port: ends at the timeout', async () => {
      const tarpit = await startTarpit();
      running.push(tarpit);
      const r = await inspect(tarpit, { timeoutMs: 300 });
      assert.match(String(r.error), /no TLS handshake .* within 300 ms/);
    });

    it('an abort ends the inspection at once', async () => {
      const tarpit = await startTarpit();
      running.push(tarpit);
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const started = Date.now();
      const r = await inspect(tarpit, { timeoutMs: 15_000, signal: controller.signal });
      assert.equal(r.error, 'cancelled');
      assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    });
  });
});

describe('lib/tls: the score table', () => {
  const perfectCert: TlsCertificateInfo = {
    subject: 'CN=broker', issuer: 'CN=ca', validFrom: '2024-01-01T00:00:00.000Z', validTo: '2030-01-01T00:00:00.000Z', daysLeft: 400,
    expired: false, notYetValid: false, selfSigned: false, trusted: true, trustError: null, hostnameMatch: true,
    keyType: 'rsa', keyBits: 2048, signatureAlgorithm: 'sha256WithRSAEncryption', fingerprint256: 'AA',
  };
  const perfect = (): TlsInfo => ({ protocol: 'TLSv1.3', certificate: { ...perfectCert }, versions: { ...ALL_VERSIONS_MODERN }, weakCiphers: [], error: null });
  const rows: Array<[string, (t: TlsInfo, c: TlsCertificateInfo) => void, string, number]> = [
    ['expired', (_, c) => Object.assign(c, { expired: true, daysLeft: -3, trusted: false, trustError: 'CERT_HAS_EXPIRED' }), 'TLS_EXPIRED', 40],
    ['not yet valid', (_, c) => Object.assign(c, { notYetValid: true, trusted: false, trustError: 'CERT_NOT_YET_VALID' }), 'TLS_NOT_YET_VALID', 40],
    ['untrusted', (_, c) => Object.assign(c, { trusted: false, trustError: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' }), 'TLS_UNTRUSTED', 20],
    ['self-signed, pinned', (_, c) => Object.assign(c, { selfSigned: true }), 'TLS_SELF_SIGNED', 5],
    ['hostname mismatch', (_, c) => Object.assign(c, { hostnameMatch: false }), 'TLS_HOSTNAME_MISMATCH', 15],
    ['RSA 1024', (_, c) => Object.assign(c, { keyBits: 1024 }), 'TLS_WEAK_KEY', 25],
    ['EC P-256 is fine, EC 160 is not', (_, c) => Object.assign(c, { keyType: 'ec', keyBits: 160 }), 'TLS_WEAK_KEY', 25],
    ['SHA-1 signature', (_, c) => Object.assign(c, { signatureAlgorithm: 'sha1WithRSAEncryption' }), 'TLS_WEAK_SIGNATURE', 10],
    ['expires in 12 days', (_, c) => Object.assign(c, { daysLeft: 12 }), 'TLS_EXPIRES_SOON', 10],
    ['TLS 1.0', (t) => Object.assign(t.versions!, { TLSv1: true }), 'TLS_LEGACY_PROTOCOL', 15],
    ['TLS 1.1', (t) => Object.assign(t.versions!, { 'TLSv1.1': true }), 'TLS_LEGACY_PROTOCOL', 15],
    ['weak cipher', (t) => (t.weakCiphers = ['RC4']), 'TLS_WEAK_CIPHER', 20],
  ];

  it('a clean result scores 100 with no reasons', () => {
    assert.deepEqual(scoreTls(perfect()), { score: 100, scoreReasons: [] });
  });
  for (const [name, mutate, id, points] of rows) {
    it(`${name}: ${id} -${points}`, () => {
      const t = perfect();
      mutate(t, t.certificate!);
      const { score, scoreReasons } = scoreTls(t);
      assert.equal(scoreReasons.length, 1, scoreReasons.join(' | '));
      assert.ok(scoreReasons[0].startsWith(`${id} -${points}: `), scoreReasons[0]);
      assert.equal(score, 100 - points);
    });
  }
  it('self-signed and untrusted costs both; no TLS 1.2/1.3 costs 30; the score stops at 0', () => {
    const t = perfect();
    Object.assign(t.certificate!, { selfSigned: true, trusted: false, trustError: 'DEPTH_ZERO_SELF_SIGNED_CERT', expired: true, keyBits: 512, hostnameMatch: false });
    t.versions = { TLSv1: true, 'TLSv1.1': true, 'TLSv1.2': false, 'TLSv1.3': false };
    assert.equal(scoreTls(t).score, 0);
    assert.deepEqual(scoreTls(t).scoreReasons.map((s) => s.split(':')[0]), [
      'TLS_EXPIRED -40', 'TLS_UNTRUSTED -20', 'TLS_SELF_SIGNED -15', 'TLS_HOSTNAME_MISMATCH -15', 'TLS_WEAK_KEY -25',
      'TLS_LEGACY_PROTOCOL -15', 'TLS_LEGACY_PROTOCOL -15', 'TLS_NO_MODERN_PROTOCOL -30',
    ]);
  });
});

describe('TLS: a scan\'s own CA (checkScanCa, withScanCa)', () => {
  const ca = generateCa({ commonName: 'Scan CA', keyBits: 2048 });
  const other = generateCa({ commonName: 'Other CA', keyBits: 2048 });

  it('keeps the PEM blocks of one or more certificates; blank means none', () => {
    assert.equal(check(`  ${ca.certPem}  `), ca.certPem.trim());
    assert.equal(check(`subject=CN = Scan CA\n${ca.certPem}\nissuer=...\n${other.certPem}`), `${ca.certPem.trim()}\n${other.certPem.trim()}`);
    for (const blank of [undefined, null, '', '   \n']) assert.equal(check(blank), '');
  });

  it('refuses what is not PEM certificates, saying what is wrong', () => {
    const cases: Array<[unknown, RegExp]> = [
      [42, /expected PEM text/],
      ['just some text', /expected a PEM certificate/],
      [ca.keyPem, /it holds a private key: paste only the CA certificate/],
      [`${ca.certPem}\n${ca.keyPem}`, /it holds a private key/],
      ['-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----', /it holds a private key/],
      ['-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----', /a private key or a DER file is not one/],
      ['-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----', /certificate 1 of 1 is not a readable X\.509 certificate/],
      [ca.certPem.repeat(21), /at most 20 certificates/],
      [`${ca.certPem}${' '.repeat(MAX)}x`, /at most 64 KiB/],
    ];
    for (const [input, message] of cases) assert.throws(() => check(input), message, String(input).slice(0, 40));
  });

  it('adds the scan\'s CA to the CA already trusted, never replacing it', () => {
    assert.deepEqual(withCa({ ca: 'LAB', servername: 'x' }, 'SCAN'), { ca: ['LAB', 'SCAN'], servername: 'x' });
    assert.deepEqual(withCa({ ca: ['A', 'B'] }, 'SCAN'), { ca: ['A', 'B', 'SCAN'] });
    assert.deepEqual(withCa(undefined, 'SCAN'), { ca: ['SCAN'] });
    const tls = { ca: 'LAB' };
    assert.equal(withCa(tls, ''), tls);
    assert.equal(withCa(undefined, undefined), undefined);
  });
});
