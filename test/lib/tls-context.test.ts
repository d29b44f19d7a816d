// The shared trust contexts of lib/mqtt/tls-context.ts: one per CA/client-certificate set,
// and the CAs they carry really decide the handshake's trust verdict.
import { strict as assert } from 'node:assert';
import { generateCa, generateServerCert, type CertPair } from '../../lab/certs';
import { cachedContexts, MAX_CONTEXTS, sharedContext, type ContextOptions } from '../../lib/mqtt/tls-context';
import { handshake } from '../../lib/tls/handshake';
import { startTlsServer, type TlsServerFixture } from '../support/tls-fixtures';

const base: ContextOptions = { systemCa: true, minVersion: 'TLSv1', maxVersion: 'TLSv1.3', ciphers: 'DEFAULT@SECLEVEL=0' };

describe('lib/mqtt/tls-context: shared trust contexts', function () {
  let ca: CertPair;
  let otherCa: CertPair;
  let server: TlsServerFixture;

  before(async function () {
    ca = generateCa();
    otherCa = generateCa();
    const cert = generateServerCert(ca, { hosts: ['127.0.0.1'] });
    server = await startTlsServer({ key: cert.keyPem, cert: cert.certPem });
  });
  after(async () => server?.close());

  it('gives the same context for the same CA set, another for another', function () {
    const a = sharedContext({ ...base, ca: [ca.certPem] });
    assert.equal(sharedContext({ ...base, ca: [Buffer.from(ca.certPem)] }), a, 'same PEM as string or Buffer');
    assert.notEqual(sharedContext({ ...base, ca: [otherCa.certPem] }), a);
    assert.notEqual(sharedContext({ ...base, systemCa: false, ca: [ca.certPem] }), a);
    assert.notEqual(sharedContext({ ...base, ca: [ca.certPem], maxVersion: 'TLSv1.2' }), a);
  });

  it(`keeps at most MAX_CONTEXTS (${MAX_CONTEXTS}) contexts`, function () {
    for (let i = 0; i < MAX_CONTEXTS + 4; i++) sharedContext({ ...base, systemCa: false, ciphers: `DEFAULT:@SECLEVEL=${i % 3}:!aNULL${'!eNULL:'.repeat(i)}` });
    assert.ok(cachedContexts() <= MAX_CONTEXTS, `${cachedContexts()} contexts kept`);
  });

  it('throws the same error again for inputs that failed, without building them again', function () {
    const bad = { ...base, systemCa: false, ciphers: 'NO-SUCH-CIPHER-FAMILY' };
    let first: unknown;
    assert.throws(() => sharedContext(bad), (err: unknown) => ((first = err), true));
    assert.throws(() => sharedContext(bad), (err: unknown) => err === first);
  });

  it('trusts the user CA it was built with, and only that one', async function () {
    const h = (caPem: string) => handshake({ host: '127.0.0.1', port: server.port, timeoutMs: 2000, systemCa: true, ca: [caPem] });
    const [good, bad] = await Promise.all([h(ca.certPem), h(otherCa.certPem)]);
    assert.ok(good.ok && bad.ok, 'both handshakes complete');
    assert.equal(good.ok && good.authorized, true, JSON.stringify(good));
    assert.equal(bad.ok && bad.authorized, false);
    assert.match(bad.ok ? String(bad.authorizationError) : '', /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER|SELF_SIGNED/);
  });

  it('a client key that is no key is our own failure, named, with nothing sent', async function () {
    const before = server.connections();
    const r = await handshake({ host: '127.0.0.1', port: server.port, timeoutMs: 2000, systemCa: true, cert: ca.certPem, key: 'not a key' });
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.local, true, JSON.stringify(r));
    assert.match(r.ok ? '' : r.code, /^ERR_OSSL/);
    assert.equal(server.connections(), before);
  });
});
