// brokerText (lib/text): each class of hidden character is escaped visibly, a literal backslash
// stays distinguishable, the bound counts code points, ordinary text of any script is untouched.
import { strict as assert } from 'node:assert';
import { brokerText, isBlank } from '../../lib/common/text';

const show = (s: string, maxLength = 256) => brokerText(s, { maxLength });

describe('brokerText: hidden characters are escaped, ordinary text is kept', () => {
  it('keeps plain ASCII, accents, CJK and emoji as they are', () => {
    for (const s of ['sensors/esp32/temp', 'temperatur/küche', '温度', 'home/🌡️/wohnzimmer', 'a b+c#d$e%f', 'Ω/ç/ß/Ж']) {
      assert.equal(show(s), s);
    }
  });

  const cases: Array<[string, string, string]> = [
    ['NUL', 'a\u0000b', 'a\\u{0}b'],
    ['ESC (an ANSI colour sequence)', 'esc/\u001b[31mred', 'esc/\\u{1B}[31mred'],
    ['tab, LF and CR', 'a\tb\nc\rd', 'a\\u{9}b\\u{A}c\\u{D}d'],
    ['DEL', 'a\u007fb', 'a\\u{7F}b'],
    ['C1 (CSI U+009B)', 'a\u009bb', 'a\\u{9B}b'],
    ['RIGHT-TO-LEFT OVERRIDE U+202E', 'rtl/\u202egnp.exe', 'rtl/\\u{202E}gnp.exe'],
    ['every bidi embedding and override U+202A-202E', '\u202a\u202b\u202c\u202d\u202e', '\\u{202A}\\u{202B}\\u{202C}\\u{202D}\\u{202E}'],
    ['bidi marks LRM, RLM, ALM', '\u200e\u200f\u061c', '\\u{200E}\\u{200F}\\u{61C}'],
    ['bidi isolates U+2066-2069', '\u2066\u2067\u2068\u2069', '\\u{2066}\\u{2067}\\u{2068}\\u{2069}'],
    ['zero-width space, non-joiner, joiner, word joiner, BOM', 'a\u200bb\u200cc\u200dd\u2060e\ufefff', 'a\\u{200B}b\\u{200C}c\\u{200D}d\\u{2060}e\\u{FEFF}f'],
    ['line and paragraph separators', 'a\u2028b\u2029c', 'a\\u{2028}b\\u{2029}c'],
    ['soft hyphen and a tag character', 'a\u00adb\u{E0041}c', 'a\\u{AD}b\\u{E0041}c'],
    ['lone surrogates, high and low', 'a\ud800b\udc00c', 'a\\u{D800}b\\u{DC00}c'],
  ];
  for (const [what, input, expected] of cases) {
    it(`escapes ${what}`, () => {
      const out = show(input);
      assert.equal(out, expected);
      assert.doesNotMatch(out, /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff\u00ad]/);
    });
  }

  it('escapes a literal backslash, so broker text can never forge one of our escapes', () => {
    assert.equal(show('a\\b'), 'a\\\\b');
    // The broker sends the six characters \u{1B} as text: they come out as \\u{1B}, not as ESC's escape.
    const forged = show('x/\\u{1B}');
    const real = show('x/\u001b');
    assert.equal(forged, 'x/\\\\u{1B}');
    assert.equal(real, 'x/\\u{1B}');
    assert.notEqual(forged, real);
  });

  it("backslashes: 'kept' leaves a producer's own escapes (OpenSSL's \\, and \\1B) alone and still escapes hidden characters", () => {
    const subject = 'CN=a\\\\b, OU=Acme\\, Inc.\\1B, OU=\u202egnp.exe';
    assert.equal(brokerText(subject, { maxLength: 512, backslashes: 'kept' }), 'CN=a\\\\b, OU=Acme\\, Inc.\\1B, OU=\\u{202E}gnp.exe');
  });

  it('bounds the length in code points with the original remainder: a 5,000-character topic; exactly the bound is not cut', () => {
    const topic = `long/${'x'.repeat(4995)}`;
    const out = show(topic, 256);
    assert.equal(out, `long/${'x'.repeat(251)}…(+4744 chars)`);
    assert.equal(show('x'.repeat(256), 256), 'x'.repeat(256));
    assert.equal(show('温'.repeat(256), 256), '温'.repeat(256));
    assert.equal(show('温'.repeat(257), 256), `${'温'.repeat(256)}…(+1 chars)`);
  });

  it('never cuts a surrogate pair or an escape in half', () => {
    // 🌡 is one code point but two UTF-16 units: 3 of them fit in 3, not in 2.5.
    assert.equal(show('🌡🌡🌡🌡', 3), '🌡🌡🌡…(+1 chars)');
    assert.equal(show('ab\u202ec', 6), 'ab…(+2 chars)', 'the 8-character escape does not fit in 4: it is left out whole');
    assert.equal(show('ab\u202ec', 10), 'ab\\u{202E}…(+1 chars)');
    assert.equal(show('a\\b', 2), 'a…(+2 chars)', 'nor is the backslash pair split');
    const out = show('温'.repeat(300), 256);
    assert.equal([...out.split('…')[0]].length, 256);
    assert.match(out, /…\(\+44 chars\)$/);
  });

  it('incomplete: the marker says the broker sent more than was read', () => {
    assert.equal(brokerText('abc', { maxLength: 10, incomplete: true }), 'abc…(and more)');
    assert.equal(brokerText('abcdef', { maxLength: 4, incomplete: true }), 'abcd…(+2 chars and more)');
  });

  it('isBlank: only white space and hidden characters', () => {
    assert.equal(isBlank(''), true);
    assert.equal(isBlank(' \t\u202e\u200b\ufeff\n'), true);
    assert.equal(isBlank(' 2.0.11 '), false);
    assert.equal(isBlank('\u202eX'), false);
  });
});
