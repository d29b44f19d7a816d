// Attacks on screenSensitive: payloads a real device (or a hostile broker) publishes that tried to
// get a secret through the masked sample, and 1 KiB inputs that tried to make it slow or throw.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { screenSensitive, sensitiveKey } from '../../lib/sniff/sensitive';

/** [payload, topic, complete, text that must not survive in the masked sample] */
type Leak = [string, string, boolean, string[]];

function assertMasked(cases: Leak[]): void {
  for (const [text, topic, complete, secrets] of cases) {
    const r = screenSensitive(text, topic, complete);
    for (const s of secrets) assert.ok(!r.masked.includes(s), `${topic} ${complete ? '' : '(cut) '}${JSON.stringify(text)} leaks ${s}: ${JSON.stringify(r.masked)}`);
    assert.ok(r.kinds.length > 0, `${JSON.stringify(text)}: no kind`);
    assert.ok(r.masked.includes('***'), r.masked);
  }
}

describe('sensitive: attacks on the masker', () => {
  it('reads secret keys written without separators, with digits or as acronyms', () => {
    const keys = ['password1', 'wifiPassword2', 'WIFIPASSWORD', 'wifipassword', 'mqttpass', 'MQTTPassword', 'adminpwd', 'wpa2psk', 'wifipsk', 'Password1', 'clientsecret', 'Passwort'];
    for (const k of keys) assert.equal(sensitiveKey(k), 'credential', k);
    for (const k of ['compass', 'bypass', 'passenger', 'temperature', 'AM2301', 'pwm', 'keyboard']) assert.equal(sensitiveKey(k), null, k);
    assertMasked(keys.map((k, i): Leak => [`{"${k}":"Sec${i}ret-${k}"}`, 'dev/cfg', true, [`Sec${i}ret`]]));
    // Tasmota's Wi-Fi passwords are commands named Password1 / Password2; Homie sets a property on …/set.
    assertMasked([
      ['Tr0ub4dor&3', 'cmnd/tasmota_A1B2C3/Password1', true, ['Tr0ub4dor']],
      ['Tr0ub4dor&3', 'dev/WIFIPASSWORD', true, ['Tr0ub4dor']],
      ['Tr0ub4dor&3', 'homie/dev/wifi/password/set', true, ['Tr0ub4dor']],
      ['Tr0ub4dor&3', 'dev/config/wifi_password/set', true, ['Tr0ub4dor']],
    ]);
  });

  it('masks JSON secrets whatever their escapes, case, separators or nesting', () => {
    assertMasked([
      ['{"pass\\u0077ord":"uniEsc111"}', 'x/y', true, ['uniEsc111']],
      ['{"password":"a\\u0041bcSecret"}', 'x/y', true, ['bcSecret']],
      ['{"password":"ab\\"cdSecret"}', 'x/y', true, ['cdSecret']],
      ['{"password":"ab\\\\cdSecret"}', 'x/y', true, ['cdSecret']],
      ['{"password":"\\u00e9-ümlautSecret"}', 'x/y', true, ['mlautSecret']],
      ['{"WIFI-PASSWORD":"Hyphen123"}', 'x/y', true, ['Hyphen123']],
      ['{"wifi.password":"Dotted123"}', 'x/y', true, ['Dotted123']],
      ['{"Wifi Password":"Spaced123"}', 'x/y', true, ['Spaced123']],
      ['{"PASSWORD_1":"Numbered1"}', 'x/y', true, ['Numbered1']],
      ['{"password"\n:\n"NL123"}', 'x/y', true, ['NL123']],
      ['{"wifi":[{"ssid":"x","password":"Arr123"}]}', 'x/y', true, ['Arr123']],
      ['{"credentials":{"user":"u","pass":"Cred123"}}', 'x/y', true, ['Cred123']],
      ['{"password":["ArrA1","ArrB1"]}', 'x/y', true, ['ArrA1', 'ArrB1']],
      // Trailing comma: not JSON, so only the patterns see it.
      ['{"wifi":{"ssid":"lab","password":"Trail1ng"},}', 'x/y', true, ['Trail1ng']],
      // A JSON document sent as a string inside JSON (a bridge that wraps payloads).
      ['{"data":"{\\"password\\":\\"Inner123\\"}"}', 'x/y', true, ['Inner123']],
      // Ruby's Hash#inspect and PHP's print_r.
      ['{"password"=>"RubyHash1"}', 'x/y', true, ['RubyHash1']],
      ['{:password=>"RubyHash2"}', 'x/y', true, ['RubyHash2']],
      ['[password] => PhpPr1', 'x/y', true, ['PhpPr1']],
    ]);
  });

  it('masks secrets in a payload cut at the examined prefix, nested ones too', () => {
    const pad = 'x'.repeat(40);
    assertMasked([
      [`{"wifi":{"password":"CutNest1","ssid":"${pad}`, 'x/y', false, ['CutNest1']],
      [`{"cfg":{"mqtt":{"user":"u","pass":"CutNest2"},"x":"${pad}`, 'x/y', false, ['CutNest2']],
      [`wifi = { ssid = "lab", password = "CutToml1", x = "${pad}`, 'x/y', false, ['CutToml1']],
      [`wifi: {ssid: lab, password: CutFlow1, x: ${pad}`, 'x/y', false, ['CutFlow1']],
      [`{\n  "credentials": [\n    "admin",\n    "CutArr1"\n  ],\n  "x": "${pad}`, 'x/y', false, ['CutArr1']],
      ['{"password":"ab\\"cdCutEsc', 'x/y', false, ['cdCutEsc']],
      [`{"password": "Dup12345", "log": "auth with Dup12345 failed", "x":"${pad}`, 'x/y', false, ['Dup12345']],
      [`password: |\n  CutBlock1\n  CutBlock2\nx: ${pad}`, 'x/y', false, ['CutBlock1', 'CutBlock2']],
      ['password=a,b,cComma', 'x/y', false, ['cComma']],
    ]);
  });

  it('masks YAML, TOML and INI secrets: block scalars, folded and multi-line values, comments', () => {
    assertMasked([
      ['password: |\n  BlockSecret1\n  BlockSecret2\n', 'x/y', true, ['BlockSecret1', 'BlockSecret2']],
      ['password: >-\n  FoldA1\n  FoldB2\n', 'x/y', true, ['FoldA1', 'FoldB2']],
      ['password: "multi\n  line1Yml"', 'x/y', true, ['line1Yml']],
      ['base: &b {password: Anch123}\ncopy: *b', 'x/y', true, ['Anch123']],
      ["'password': 'SQuotedYml1'", 'x/y', true, ['SQuotedYml1']],
      ['? password\n: ComplexKey1', 'x/y', true, ['ComplexKey1']],
      ['password = """\nTomlML1\nTomlML2"""', 'x/y', true, ['TomlML1', 'TomlML2']],
      ["password = '''\nTomlLit1\nTomlLit2'''", 'x/y', true, ['TomlLit1', 'TomlLit2']],
      ['wifi.password = "TomlDot1"', 'x/y', true, ['TomlDot1']],
      ['[[users]]\nname = "a"\npassword = "TomlAoT1"', 'x/y', true, ['TomlAoT1']],
      // A ; or , in an INI or key = value password is part of it for most readers (ini takes ; for a comment).
      ['[mqtt]\npassword = Ini;semi2', 'x/y', true, ['semi2']],
      ['password=Solo;sem1', 'x/y', true, ['sem1']],
      ['password=Solo,com1', 'x/y', true, ['com1']],
      ['password = Sp ace Val2', 'x/y', true, ['ace Val2']],
      ['password=Solo sp1', 'x/y', true, ['sp1']],
    ]);
  });

  it('masks query strings, environment files, command lines, connection strings, URLs, headers and XML', () => {
    assertMasked([
      ['pass%77ord=UrlEnc1&x=1', 'x/y', true, ['UrlEnc1']],
      ['password=a%20bUrl&x=1', 'x/y', true, ['bUrl']],
      ['http://h/p?user=a&password=QmUrl1', 'x/y', true, ['QmUrl1']],
      ['export MQTT_PASSWORD=EnvPw1', 'x/y', true, ['EnvPw1']],
      ["MQTT_PASSWORD='Env Pw3'", 'x/y', true, ['Pw3']],
      ['/usr/bin/bridge --mqtt-password=CliPw2 --verbose', 'x/y', true, ['CliPw2']],
      ['/usr/bin/bridge --password CliPw1 --verbose', 'x/y', true, ['CliPw1']],
      ['Authorization: Basic Ym9iOnNlY3JldA==', 'x/y', true, ['Ym9iOnNlY3JldA']],
      ['Server=x;User Id=sa;Password=ConnStr1;', 'x/y', true, ['ConnStr1']],
      ['host=x user=sa password=ConnStr3 dbname=d', 'x/y', true, ['ConnStr3']],
      ['redis://:RedisPw1@host:6379', 'x/y', true, ['RedisPw1']],
      ['mqtt://bob:p@ssUnenc@broker:1883', 'x/y', true, ['ssUnenc']],
      ['<password>XmlPw1</password>', 'x/y', true, ['XmlPw1']],
      ['<config><wifi_password>XmlPw2</wifi_password></config>', 'x/y', true, ['XmlPw2']],
      ['<wifi password="XmlAttr2"/>', 'x/y', true, ['XmlAttr2']],
    ]);
  });

  it('keeps the readings of sensor payloads', () => {
    const keep = [
      '{"temperature":21.5,"humidity":40,"compass":270,"bypass_valve":1,"passenger_count":4}',
      'temperature=21.5&humidity=40&pressure=1013',
      '<reading><temperature>21.5</temperature></reading>',
      '{"AM2301":{"Temperature":22.1},"pwm":512}',
    ];
    for (const text of keep) assert.deepEqual(screenSensitive(text, 'x/y'), { masked: text, kinds: [] }, text);
  });

  // Time is measured and printed, not asserted (speed targets live in npm run bench): a regex that
  // backtracked catastrophically would hang this test past mocha's timeout.
  it('never throws, and prints nothing (no parser warning quoting the payload), on hostile 1 KiB inputs', async () => {
    const K = 1024;
    const fill = (s: string) => s.repeat(Math.ceil(K / s.length)).slice(0, K);
    const ascii = Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)).join('');
    const inputs: string[] = [
      '['.repeat(K), '{'.repeat(K), fill('{"password":'), fill('{"a":'), fill('- '), fill('a: '), fill('a=['), fill('a={'),
      Array.from({ length: 40 }, (_, i) => ' '.repeat(i) + 'pw:').join('\n').slice(0, K),
      'a: &a [pw,pw,pw,pw,pw,pw,pw,pw,pw]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\npassword: x',
      fill('='), fill(':'), fill('"'), fill('\\'), fill("'"), fill('password='), fill('password: '), fill('"password":"\\'), fill('"pw":"'), fill('"a":['),
      'password' + ' '.repeat(K - 9) + 'x', 'password=' + ';'.repeat(K - 9), 'password=a' + ' ;'.repeat(500), fill('pw=a,'), fill('pw=a&'), fill('password=a;'),
      'a'.repeat(K - 1) + 'g', fill('aA'), 'aA'.repeat(511) + '!!', fill('a.'), 'a'.repeat(60) + '@' + fill('a-a.').slice(0, 900),
      fill('-----BEGIN A '), '-----BEGIN RSA PRIVATE KEY-----' + fill('x'), fill('a://b:'), fill('a://b:c@'), 'a://b:' + '@'.repeat(1000), fill('1.0000,'),
      fill('bearer '), fill('eyJ'), 'eyJ' + fill('a.'), fill(ascii), fill('pass: "a\\"b\n'), fill('a.b.c.'), 'password = """' + fill('\\'),
      fill('<password>'), fill('<a '), '<password' + ' '.repeat(1000) + '>', fill('<a><b>'), fill('a=>'), fill('--password '), fill('--password='),
      'password: |\n' + fill('  x\n'), 'password: |\n' + fill(' '), fill('{"data":"{\\"'), '"' + fill('{\\"a\\":'),
    ];
    for (let i = 0; i < 20; i++) inputs.push(randomBytes(K).toString('latin1'));
    for (let i = 0; i < 20; i++) inputs.push(Array.from(randomBytes(K), (b) => ascii[b % 128]).join(''));
    const tokens = ['password', '=', ':', ' ', '"', '\n', '{', '[', '\\', ',', ';', '&', '@', 'a', '1', '-', '}', ']', "'", '|', '<', '>', '/', '=>', '--'];
    for (let i = 0; i < 40; i++) inputs.push(Array.from(randomBytes(300), (b) => tokens[b % tokens.length]).join('').slice(0, K));
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    for (const text of inputs) screenSensitive(text, 'a/b', true); // warm up the JIT
    let worst = 0;
    let worstInput = '';
    for (const text of inputs) {
      for (const [topic, complete] of [['a/b', true], ['a/b', false], ['dev/password', true]] as const) {
        const start = process.hrtime.bigint();
        const r = screenSensitive(text, topic, complete);
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        assert.equal(typeof r.masked, 'string');
        if (ms > worst) [worst, worstInput] = [ms, text];
      }
    }
    // Process warnings are emitted on the next tick: let them arrive before looking.
    await new Promise((r) => setImmediate(r));
    process.off('warning', onWarning);
    assert.deepEqual(warnings, [], 'a parser printed a warning (it would quote the payload into stderr and logs)');
    console.log(`      worst screenSensitive call: ${worst.toFixed(2)} ms on ${JSON.stringify(worstInput.slice(0, 40))}`);
  });
});
