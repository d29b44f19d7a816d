// The stages after the probe, as runScan chains them: listening starts early (while the probe
// still tries logins) and its outcome must agree with the probe's verdicts.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { runScan } from '../../lib/pipeline';
import { requireTool } from '../support/tools';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto';

describe('deep stages through runScan', function () {
  let insecure: MosquittoBroker;
  let secure: MosquittoBroker;
  before(async function () {
    requireTool(this, 'mosquitto');
    [insecure, secure] = await Promise.all([startMosquitto('insecure'), startMosquitto('secure')]);
  });
  after(async () => Promise.all([insecure?.stop(), secure?.stop()]));

  const scan = (port: number, credentials?: { username: string; password: string }) =>
    // The broker's CA is given: its certificate is trusted, so the login may go (lib/credentials).
    runScan({ targets: '127.0.0.1', ports: [port], timeoutMs: 1500, listenMs: 300, credentials, tls: { ca: readFileSync(secure.caPath!) } }).then((o) => o.results[0]);

  it('anonymous broker: topics read anonymously, findings added', async () => {
    const r = await scan(insecure.port);
    assert.equal(r.topics?.as, 'anonymous');
    assert.equal(r.topics?.error ?? null, null);
    assert.ok(r.findings!.some((f) => f.id === 'ANONYMOUS_ACCESS'));
  });

  it('a wrong password: the early listener is refused and no topics are reported', async () => {
    const r = await scan(secure.port, { username: 'scanner', password: 'wrong-password' });
    assert.equal(r.auth.givenCredentials.outcome, 'rejected');
    assert.equal(r.topics, null);
    assert.ok(r.evidence!.some((e) => /topics not read: not_authorized/.test(e)), r.evidence!.join('\n'));
    assert.ok(r.tls?.certificate, 'the TLS stage still ran');
  });

  it('the right password: topics read with it, TLS inspected, the password nowhere', async () => {
    const password = secure.users.scanner;
    const r = await scan(secure.port, { username: 'scanner', password });
    assert.equal(r.auth.givenCredentials.outcome, 'accepted');
    assert.equal(r.topics?.as, 'given credentials');
    assert.ok(r.tls?.certificate?.fingerprint256);
    assert.ok(!JSON.stringify(r).includes(password));
  });

  it('no login at all: no listener, the reason in the evidence', async () => {
    const r = await scan(secure.port);
    assert.equal(r.topics, null);
    assert.ok(r.evidence!.some((e) => /topics not read/.test(e)));
  });

  it('one probe slot: the second broker does not wait for the first one\'s listen window', async () => {
    const listenMs = 1500;
    const out = await runScan({
      targets: '127.0.0.1',
      ports: [insecure.port, secure.port],
      timeoutMs: 1500,
      listenMs,
      probeConcurrency: 1,
      credentials: { username: 'scanner', password: secure.users.scanner },
      tls: { ca: readFileSync(secure.caPath!) },
    });
    assert.deepEqual(out.results.map((r) => r.topics?.listenedMs !== undefined && r.topics.error === null), [true, true], JSON.stringify(out.results.map((r) => r.topics)));
    const wrong = (port: number) => out.results.find((r) => r.port === port)?.auth.wrongCredentials.outcome;
    assert.deepEqual([wrong(insecure.port), wrong(secure.port)], ['accepted', 'rejected'], 'the held-back logins were still tried');
    // One after the other would take two whole listen windows.
    assert.ok(out.summary.durationMs < 2 * listenMs, `${out.summary.durationMs} ms for two ${listenMs} ms windows`);
  });
});
