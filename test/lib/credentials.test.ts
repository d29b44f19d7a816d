// The credential rule as a pure function (lib/credentials/policy.ts); the rogue-broker tests in
// test/hostile/credential-leak.test.ts check the same rule end to end against real brokers.
import { strict as assert } from 'node:assert';
import { MIN_REDACTED_CHARS, planCredentials, redactPassword } from '../../lib/credentials';
import type { AuthAttempt, Transport } from '../../lib/types';

const LOGIN = { username: 'scanner', password: 'secret' };
const rejected: AuthAttempt = { outcome: 'rejected', code: 4, version: '3.1.1' };

describe('credentials: where the given login may go', () => {
  const table: Array<[string, Transport, AuthAttempt, boolean, string]> = [
    ['a made-up login was accepted', 'tls', { outcome: 'accepted', code: 0 }, false, 'withheld:accepts_any_login'],
    ['…even with the opt-in', 'tcp', { outcome: 'accepted', code: 0 }, true, 'withheld:accepts_any_login'],
    ['the made-up login got no CONNACK', 'tls', { outcome: 'error', detail: 'no CONNACK within the timeout' }, false, 'withheld:random_login_unanswered'],
    ['…even with the opt-in', 'tcp', { outcome: 'error' }, true, 'withheld:random_login_unanswered'],
    ['the made-up login was not tried', 'tls', { outcome: 'not_tested' }, true, 'withheld:random_login_unanswered'],
    ['plain TCP', 'tcp', rejected, false, 'withheld:plaintext_transport'],
    ['plain WebSocket', 'ws', rejected, false, 'withheld:plaintext_transport'],
    ['plain TCP with the opt-in', 'tcp', rejected, true, 'send'],
    ['TLS: only on a trusted connection', 'tls', rejected, false, 'send:trusted-only'],
    ['wss: only on a trusted connection', 'wss', rejected, false, 'send:trusted-only'],
    ['TLS with the opt-in: any certificate', 'tls', rejected, true, 'send'],
  ];
  for (const [name, transport, wrong, optIn, expected] of table) {
    it(`${name} (${transport})`, () => {
      const plan = planCredentials(transport, wrong, LOGIN, { sendCredentialsPlaintext: optIn });
      const got = plan.send ? (plan.requireTrustedTls ? 'send:trusted-only' : 'send') : `withheld:${plan.withheld}`;
      assert.equal(got, expected);
      if (!plan.send) assert.match(plan.detail, /^login not sent: /);
    });
  }

  it('a well-known default pair is public knowledge: plain TCP and any certificate, but never to a broker that accepts anything', () => {
    const pair = { username: 'admin', password: 'admin' };
    assert.deepEqual(planCredentials('tcp', rejected, pair), { send: true, requireTrustedTls: false });
    assert.deepEqual(planCredentials('tls', rejected, pair), { send: true, requireTrustedTls: false });
    assert.equal(planCredentials('tcp', { outcome: 'accepted' }, pair).send, false);
  });

  it('the reason never holds the username or the password', () => {
    for (const transport of ['tcp', 'tls'] as const) {
      for (const wrong of [rejected, { outcome: 'accepted' as const }, { outcome: 'error' as const }]) {
        const plan = planCredentials(transport, wrong, LOGIN);
        assert.ok(!JSON.stringify(plan).includes('secret') && !JSON.stringify(plan).includes('scanner'));
      }
    }
  });
});

describe('credentials: the password is kept out of every result (redactPassword)', () => {
  it('replaces it in every string, keys included, and leaves everything else as it was', () => {
    const value = { evidence: ['first bytes "PW=hunter22 "'], topics: { items: [{ topic: 'leak/hunter22', n: 3 }] }, ['k-hunter22']: true, when: null };
    assert.deepEqual(redactPassword(value, 'hunter22'), {
      evidence: ['first bytes "PW=[withheld: password] "'],
      topics: { items: [{ topic: 'leak/[withheld: password]', n: 3 }] },
      'k-[withheld: password]': true,
      when: null,
    });
  });
  it('returns the very same object when the password is not in it, absent, or too short to search for', () => {
    const value = { a: 'nothing here', b: ['ab'] };
    assert.equal(redactPassword(value, 'hunter22'), value);
    assert.equal(redactPassword(value, undefined), value);
    assert.equal(redactPassword(value, 'ab'), value, `shorter than ${MIN_REDACTED_CHARS} characters`);
  });
  it('finds a password with characters JSON escapes', () => {
    assert.deepEqual(redactPassword({ s: 'x "q\\uo"te\\ y' }, '"q\\uo"te\\'), { s: 'x [withheld: password] y' });
  });
});
