// The HTTP API obeys the credential rule (lib/credentials): the running lab scans rogue brokers
// (real aedes brokers that record every CONNECT, test/support/recording-broker.ts) with a login,
// with and without `send_credentials_plaintext`. The lab's own secure broker, whose certificate
// chains to the lab CA that the shipped flow passes, gets the student login without any opt-in.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { generateServerCert } from '../../lab/certs';
import type { ScanResult } from '../../lib/types';
import { labUsers, startLab, stopLab, type LabProcess } from '../support/lab-process';
import { startRecordingBroker, type RecordingBroker } from '../support/recording-broker';

const USER = 'scanner';
const PASSWORD = `api-rogue-${randomBytes(6).toString('hex')}`;

describe('HTTP API: rogue brokers get the login only where the credential rule allows it', function () {
  this.timeout(180_000);
  const KEY = randomBytes(24).toString('hex');
  let lab: LabProcess | undefined;
  let acceptsAll: RecordingBroker;
  let plainRightOnly: RecordingBroker;
  let untrustedTls: RecordingBroker;
  const rightOnly = (u: string | undefined, p: string | undefined) => (u === USER && p === PASSWORD ? 'accept' : 'refuse');

  before(async () => {
    lab = await startLab({ env: { MQTTSEC_API_KEY: KEY } });
    const selfSigned = generateServerCert(null, { hosts: ['127.0.0.1'], selfSigned: true });
    [acceptsAll, plainRightOnly, untrustedTls] = await Promise.all([
      startRecordingBroker({ decide: () => 'accept' }),
      startRecordingBroker({ decide: rightOnly }),
      startRecordingBroker({ decide: rightOnly, tls: { cert: selfSigned.certPem, key: selfSigned.keyPem } }),
    ]);
  });
  after(async () => {
    await Promise.all([acceptsAll, plainRightOnly, untrustedTls].map((b) => b?.stop()));
    if (lab) await stopLab(lab);
  });

  const scan = async (body: Record<string, unknown>): Promise<ScanResult[]> => {
    const res = await fetch(lab!.url('/api/scan'), {
      method: 'POST',
      headers: { 'X-API-KEY': KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ target: '127.0.0.1', listen_duration: 0.5, ...body }),
      signal: AbortSignal.timeout(120_000),
    });
    const text = await res.text();
    assert.equal(res.status, 200, text.slice(0, 300));
    assert.ok(!text.includes(PASSWORD), 'the password is in the answer');
    return JSON.parse(text).results as ScanResult[];
  };
  const given = (results: ScanResult[], port: number) => results.find((r) => r.port === port)!.auth.givenCredentials;

  it('without the opt-in: no rogue sees the password; each result says why', async () => {
    const results = await scan({ ports: [acceptsAll.port, plainRightOnly.port, untrustedTls.port].join(','), creds: { user: USER, pass: PASSWORD } });
    for (const b of [acceptsAll, plainRightOnly, untrustedTls]) {
      assert.ok(b.connects.length > 0, 'probed');
      assert.ok(!b.passwords().includes(PASSWORD), `broker on ${b.port} saw the password`);
    }
    assert.equal(given(results, acceptsAll.port).withheld, 'accepts_any_login');
    assert.equal(given(results, plainRightOnly.port).withheld, 'plaintext_transport');
    assert.equal(given(results, untrustedTls.port).withheld, 'untrusted_certificate');
    for (const port of [acceptsAll.port, plainRightOnly.port, untrustedTls.port]) assert.equal(given(results, port).outcome, 'not_tested');
  });

  it('with send_credentials_plaintext: the plain and the untrusted broker get it; the one that accepts anything still does not', async () => {
    for (const b of [acceptsAll, plainRightOnly, untrustedTls]) b.connects.length = 0;
    const results = await scan({ ports: [acceptsAll.port, plainRightOnly.port, untrustedTls.port].join(','), creds: { user: USER, pass: PASSWORD }, send_credentials_plaintext: true });
    assert.ok(!acceptsAll.passwords().includes(PASSWORD));
    assert.equal(given(results, acceptsAll.port).withheld, 'accepts_any_login');
    assert.ok(plainRightOnly.passwords().includes(PASSWORD));
    assert.ok(untrustedTls.passwords().includes(PASSWORD));
    assert.equal(given(results, plainRightOnly.port).outcome, 'accepted');
    assert.equal(given(results, untrustedTls.port).outcome, 'accepted');
  });

  it('the lab\'s secure broker (chaining to the lab CA the flow passes) gets the student login without the opt-in', async () => {
    const results = await scan({ ports: String(lab!.ports.secure), creds: { user: 'student', pass: labUsers(lab!.userDir).student } });
    assert.equal(given(results, lab!.ports.secure).outcome, 'accepted');
    assert.equal(results[0].tls?.certificate?.trusted, true, 'trusted through the lab CA');
  });
});
