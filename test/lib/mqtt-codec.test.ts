import { strict as assert } from 'node:assert';
import { generate, parser } from 'mqtt-packet';
import { connackReason, connackVerdict, encodeConnect, parseConnack } from '../../lib/mqtt';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('lib/mqtt codec: CONNECT encoding', () => {
  for (const version of ['5.0', '3.1.1'] as const) {
    it(`encodes a CONNECT that a standard parser reads back (MQTT ${version})`, () => {
      const buf = encodeConnect({ version, clientId: 'c1', username: 'u', password: 'p' });
      const p = parser({ protocolVersion: version === '5.0' ? 5 : 4 });
      let packet: Record<string, unknown> | null = null;
      p.on('packet', (x) => (packet = x as unknown as Record<string, unknown>));
      p.parse(buf);
      assert.ok(packet);
      const got = packet as Record<string, unknown>;
      assert.equal(got.cmd, 'connect');
      assert.equal(got.protocolVersion, version === '5.0' ? 5 : 4);
      assert.equal(got.clientId, 'c1');
      assert.equal(got.username, 'u');
      assert.equal(String(got.password), 'p');
    });
  }

  it('is byte for byte what mqtt-packet generates (versions, logins, lengths up to multi-byte remaining lengths)', () => {
    const logins: Array<{ username?: string; password?: string }> = [
      {},
      { username: 'u' },
      { username: 'scanner', password: 'pässwört-✓' },
      { username: '', password: '' },
      { username: 'x'.repeat(200), password: 'y'.repeat(20_000) },
    ];
    let compared = 0;
    for (const version of ['5.0', '3.1.1'] as const) {
      for (const login of logins) {
        for (const clientId of ['', 'mqttsec-0123456789abcdef', 'ü'.repeat(70)]) {
          const protocolVersion = version === '5.0' ? 5 : 4;
          const expected = generate(
            {
              cmd: 'connect', protocolId: 'MQTT', protocolVersion, clientId, clean: true, keepalive: 30,
              username: login.username,
              password: login.password === undefined ? undefined : Buffer.from(login.password, 'utf8'),
              properties: protocolVersion === 5 ? { sessionExpiryInterval: 0 } : undefined,
            },
            { protocolVersion },
          );
          assert.deepEqual(encodeConnect({ version, clientId, ...login }), expected, `${version} ${JSON.stringify(login).slice(0, 60)} ${clientId.slice(0, 10)}`);
          compared++;
        }
      }
    }
    assert.equal(compared, 30);
  });

  it('refuses what MQTT cannot carry, naming it', () => {
    assert.throws(() => encodeConnect({ version: '3.1.1', clientId: 'c', password: 'p' }), /Username is required/);
    assert.throws(() => encodeConnect({ version: '5.0', clientId: 'c', username: 'u'.repeat(70_000) }), /username is 70000 bytes/);
    assert.throws(() => encodeConnect({ version: '5.0', clientId: 'c', keepalive: 70_000 }), /keepalive 70000/);
  });

  it('leaves out username and password for an anonymous CONNECT', () => {
    const buf = encodeConnect({ version: '3.1.1', clientId: 'anon' });
    const flags = buf[2 + 6 + 1]; // fixed header (2) + "MQTT" string (6) + level (1)
    assert.equal(flags & 0xc0, 0);
  });
});

describe('lib/mqtt codec: CONNACK parsing', () => {
  const ok: Array<[string, string, { format: string; code: number; props?: Record<string, unknown> }]> = [
    ['3.1.1 accepted', '20 02 00 00', { format: '3.1.1', code: 0 }],
    ['3.1.1 not authorized', '20 02 00 05', { format: '3.1.1', code: 5 }],
    ['3.1.1 bad version', '20 02 00 01', { format: '3.1.1', code: 1 }],
    ['5.0 success, no properties', '20 03 00 00 00', { format: '5.0', code: 0, props: {} }],
    ['5.0 not authorized', '20 03 00 87 00', { format: '5.0', code: 0x87, props: {} }],
    [
      '5.0 with receiveMaximum, topicAliasMaximum and retainAvailable',
      '20 0b 00 00 08 21 00 14 22 00 0a 25 01',
      { format: '5.0', code: 0, props: { receiveMaximum: 20, topicAliasMaximum: 10, retainAvailable: 1 } },
    ],
    [
      '5.0 with a user property and a reason string',
      '20 13 00 86 10 26 00 01 6b 00 01 76 1f 00 06 6e 6f 70 65 2e 2e',
      { format: '5.0', code: 0x86, props: { userProperties: [['k', 'v']], reasonString: 'nope..' } },
    ],
  ];
  for (const [name, bytes, want] of ok) {
    it(`reads ${name}`, () => {
      const r = parseConnack(hex(bytes));
      assert.equal(r.state, 'ok', JSON.stringify(r));
      if (r.state !== 'ok') return;
      assert.equal(r.connack.format, want.format);
      assert.equal(r.connack.code, want.code);
      if (want.props) assert.deepEqual(r.connack.properties, want.props);
    });
  }

  const partial = ['', '20', '20 02', '20 02 00', '20 0a 00 00 07 21'];
  for (const bytes of partial) {
    it(`waits for more after "${bytes}"`, () => assert.equal(parseConnack(hex(bytes)).state, 'need-more'));
  }

  const invalid: Array<[string, string, RegExp]> = [
    ['an HTTP answer', Buffer.from('HTTP/1.1 400 Bad Request\r\n').toString('hex'), /not a CONNACK/],
    ['a TLS alert', '15 03 01 00 02 02 46', /not a CONNACK/],
    ['a PUBLISH', '30 05 00 01 61 68 69', /not a CONNACK/],
    ['a 256 MB announcement', '20 ff ff ff 7f', /announces/],
    ['a five-byte length', '20 ff ff ff ff 01', /malformed remaining length/],
    ['a too short body', '20 01 00', /too short/],
    ['reserved flag bits', '20 02 02 00', /reserved bits/],
    ['an unknown property', '20 05 00 00 02 7f 00', /unknown CONNACK property 0x7f/],
    ['a truncated property', '20 05 00 00 02 21 00', /truncated/],
    ['a property length past the packet', '20 04 00 00 05 00', /does not match/],
  ];
  for (const [name, bytes, re] of invalid) {
    it(`rejects ${name}`, () => {
      const r = parseConnack(hex(bytes));
      assert.equal(r.state, 'invalid');
      if (r.state === 'invalid') assert.match(r.reason, re);
    });
  }

  it('keeps at most 32 user properties and clips long strings', () => {
    const pairs: Buffer[] = [];
    for (let i = 0; i < 40; i++) pairs.push(hex('26 00 01 6b 00 01 76'));
    const long = Buffer.concat([hex('1f 01 f4'), Buffer.alloc(500, 0x41)]);
    const props = Buffer.concat([...pairs, long]);
    const body = Buffer.concat([hex('00 00'), Buffer.from([0x80 | (props.length & 0x7f), props.length >> 7]), props]);
    const packet = Buffer.concat([Buffer.from([0x20, 0x80 | (body.length & 0x7f), body.length >> 7]), body]);
    const r = parseConnack(packet);
    assert.equal(r.state, 'ok', JSON.stringify(r));
    if (r.state !== 'ok') return;
    assert.equal((r.connack.properties.userProperties as unknown[]).length, 32);
    assert.ok((r.connack.properties.reasonString as string).length <= 257);
  });
});

describe('lib/mqtt codec: what a CONNACK code means', () => {
  const table: Array<['3.1.1' | '5.0', number, string, RegExp]> = [
    ['3.1.1', 0, 'accepted', /accepted/],
    ['3.1.1', 1, 'version-unsupported', /protocol version/],
    ['3.1.1', 2, 'error', /Identifier/],
    ['3.1.1', 4, 'rejected', /user name or password/],
    ['3.1.1', 5, 'rejected', /Not authorized/],
    ['5.0', 0, 'accepted', /Success/],
    ['5.0', 0x84, 'version-unsupported', /Unsupported protocol/],
    ['5.0', 0x86, 'rejected', /user name or password/],
    ['5.0', 0x87, 'rejected', /Not authorized/],
    ['5.0', 0x8a, 'error', /Banned/],
    ['5.0', 0x8c, 'rejected', /authentication method/],
    ['3.1.1', 3, 'error', /Server unavailable/],
    ['3.1.1', 6, 'error', /Unknown code 6/],
    ['5.0', 0x97, 'error', /Quota/],
    ['5.0', 0x9f, 'error', /Connection rate/],
    ['5.0', 0x9c, 'error', /another server/],
    ['5.0', 0x89, 'error', /busy/],
    ['5.0', 0x42, 'error', /Unknown code 66/],
  ];
  for (const [format, code, verdict, reason] of table) {
    it(`${format} code ${code} is ${verdict}`, () => {
      const c = { format, code, sessionPresent: false, properties: {} };
      assert.equal(connackVerdict(c), verdict);
      assert.match(connackReason(c), reason);
    });
  }
});
