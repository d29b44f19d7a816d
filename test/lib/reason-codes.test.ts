// lib/mqtt/reason-codes.ts: every CONNACK code of OASIS MQTT 3.1.1 §3.2.2.3 and MQTT 5.0 §3.2.2.2
// mapped to what it says about the login; only the three "bad credentials" codes refuse it.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allCodes, codeMeaning, connackVerdict, v5ReasonName } from '../../lib/mqtt';
import { summarize } from '../../lib/probe';

describe('lib/mqtt reason codes: what a CONNACK says about the login', () => {
  const LOGIN_REFUSED = new Set(['3.1.1:4', '3.1.1:5', '5.0:134', '5.0:135', '5.0:140']);

  it('covers every code the two specifications define for CONNACK, and no other', () => {
    const keys = allCodes().map((c) => `${c.format}:${c.meaning.code}`).sort();
    const v3 = [0, 1, 2, 3, 4, 5].map((c) => `3.1.1:${c}`);
    // MQTT 5.0 §3.2.2.2: the CONNACK Reason Codes.
    const v5 = [0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90, 0x95, 0x97, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9f].map((c) => `5.0:${c}`);
    assert.deepEqual(keys, [...v3, ...v5].sort());
  });

  for (const { format, meaning } of allCodes()) {
    const key = `${format}:${meaning.code}`;
    it(`${format} code ${meaning.code} (${meaning.name}) is ${meaning.category}`, () => {
      const verdict = connackVerdict({ format, code: meaning.code, sessionPresent: false, properties: {} });
      if (meaning.code === 0) assert.equal(verdict, 'accepted');
      else if (LOGIN_REFUSED.has(key)) assert.equal(verdict, 'rejected', 'a refusal of the login');
      else if (meaning.category === 'version-unsupported') assert.equal(verdict, 'version-unsupported');
      else {
        assert.equal(verdict, 'error', 'never "refused" for a code that is not about the login');
        assert.match(meaning.meaning, /not a refusal of the login/);
      }
      assert.ok(meaning.name && !/^Unknown/.test(meaning.name), 'named as in the specification');
    });
  }

  it('names undefined codes as unknown, reserved in 3.1.1, and never as a refusal', () => {
    for (const [format, code] of [['3.1.1', 6], ['3.1.1', 255], ['5.0', 0x42], ['5.0', 0x8d]] as const) {
      const m = codeMeaning(format, code);
      assert.equal(m.category, 'unknown');
      assert.equal(connackVerdict({ format, code, sessionPresent: false, properties: {} }), 'error');
    }
    assert.match(codeMeaning('3.1.1', 6).meaning, /reserved in MQTT 3\.1\.1/);
    assert.equal(v5ReasonName(0x8d), 'Keep alive timeout', 'the shared MQTT 5 name table still names non-CONNACK codes');
  });
});

describe('lib/probe evidence for refusals that are not about the login', () => {
  it('an MQTT 5 redirect shows its Server Reference, not followed', () => {
    const line = summarize({ kind: 'connack', connack: { format: '5.0', code: 0x9c, sessionPresent: false, properties: { serverReference: 'mqtt.example:8883' } }, ms: 3 });
    assert.match(line, /CONNACK 156 \(Use another server\); Server Reference mqtt\.example:8883, not followed/);
    const hidden = summarize({ kind: 'connack', connack: { format: '5.0', code: 0x9d, sessionPresent: false, properties: { serverReference: 'evil\u202eexample' } }, ms: 3 });
    assert.match(hidden, /evil\\u\{202E\}example/, 'the broker chose the text: shown escaped');
  });
});

describe('docs/verdicts.md', () => {
  it('lists every code of the table with its category', () => {
    const doc = readFileSync(join(__dirname, '../../docs/verdicts.md'), 'utf8');
    for (const { format, meaning } of allCodes()) {
      const code = format === '5.0' ? `0x${meaning.code.toString(16).padStart(2, '0').toUpperCase()} (${meaning.code})` : String(meaning.code);
      const row = `| ${format} | ${code} | ${meaning.name} | \`${meaning.category}\` |`;
      assert.ok(doc.includes(row), `docs/verdicts.md lacks the row ${row}`);
    }
  });
});
