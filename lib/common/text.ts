// Text a broker chose (topic names, certificate names, $SYS values, CONNACK strings) as we show
// it: every character that could hide, reorder or fake what a reader sees is written out as a
// visible escape, and the length is bounded.
//
// Hand-written on purpose: which characters count as deceptive is a security judgement about
// hostile input, and the escape form must stay unambiguous for every report format; a generic
// "sanitize" package would decide both for us, and differently.
//
// Why MQTT lets this through: MQTT strings are UTF-8 (OASIS MQTT 3.1.1 §1.5.3, MQTT 5.0 §1.5.4).
// The spec forbids U+0000 and surrogates, but only says control characters (U+0001-001F,
// U+007F-009F) SHOULD NOT appear: a receiver MAY close the connection, so brokers differ, and
// bidirectional and zero-width characters are ordinary, valid UTF-8 that every broker passes on.
// X.509 names are the same (UTF8String), and TLS lets the server pick them.

export interface BrokerTextOptions {
  /** Most code points shown, escapes included; the rest is replaced by "…(+N chars)". */
  maxLength: number;
  /**
   * 'escape' (default): a literal backslash is shown as `\\`, so `\u{202E}` in the output is
   * always our escape and never text the broker sent.
   * 'kept': the value comes from a producer that already escapes every literal backslash
   * (OpenSSL's RFC 2253 names as Node's X509Certificate prints them: `CN=a\\b`, `O=Acme\, Inc.`,
   * `\1B`; Node's quoted subjectAltName entries). There a lone backslash always starts the
   * producer's escape, so ours stay distinguishable, and doubling would garble `\,` into `\\,`.
   */
  backslashes?: 'escape' | 'kept';
  /** The value is only the first part of the broker's text (a bounded prefix was decoded): the
   *  marker then says that more followed, "…(+N chars and more)" or "…(and more)". */
  incomplete?: boolean;
}

// Cc: C0 (NUL, ESC, ...), DEL and C1. Cf: every invisible format character: the bidi controls
// U+061C, U+200E/F, U+202A-202E, U+2066-2069; zero-width U+200B-200D, U+2060, U+FEFF; soft hyphen,
// tag characters U+E0000-E007F. Zl/Zp: U+2028/U+2029. Cs: a lone surrogate (a string built from
// a JS decoder never has one, but nothing downstream should have to care).
const HIDDEN_CLASS = '[\\p{Cc}\\p{Cf}\\p{Zl}\\p{Zp}\\p{Cs}]';
const HIDDEN = new RegExp(HIDDEN_CLASS, 'u');
/** Every character brokerText escapes (global, for replace()): text that drops them instead of
 *  showing them, the one-line payload samples (sniff/payload.ts), uses the same set. */
export const HIDDEN_CHARACTERS = new RegExp(HIDDEN_CLASS, 'gu');
/** Printable ASCII without the backslash: nothing to escape. */
const PLAIN_ASCII = /^[\x20-\x5b\x5d-\x7e]*$/;
const BLANK = new RegExp(`^(?:\\s|${HIDDEN_CLASS})*$`, 'u');

/**
 * Broker text as it may be shown anywhere (table, JSON, CSV, PDF, dashboard): a string of at
 * most `maxLength` code points plus a marker when cut.
 *
 * - Hidden characters (see HIDDEN: C0 incl. NUL and ESC, DEL, C1, bidi controls, zero-width and
 *   other format characters, U+2028/2029, lone surrogates) become `\u{HEX}`, upper-case hex
 *   without padding: ESC -> `\u{1B}`, NUL -> `\u{0}`, U+202E -> `\u{202E}`.
 * - A backslash becomes `\\` (unless `backslashes: 'kept'`, see there).
 * - Everything else (any script, emoji, accents) is kept as is: "temperatur/küche", "温度".
 * - Lengths count code points, so a surrogate pair is never cut in half, and an escape is never
 *   cut either. When the escaped text is longer than maxLength it ends in "…(+N chars)", N being
 *   the code points of `value` not shown.
 *
 * Apply it once, where the broker's text enters a result: it is not idempotent (a second pass
 * would escape its own backslashes).
 */
export function brokerText(value: string, opts: BrokerTextOptions): string {
  const escapeBackslash = opts.backslashes !== 'kept';
  if (!opts.incomplete && value.length <= opts.maxLength && PLAIN_ASCII.test(value)) return value;
  let out = '';
  let shown = 0;
  let omitted = 0;
  for (const ch of value) {
    if (omitted > 0) {
      omitted++;
      continue;
    }
    const piece = ch === '\\' && escapeBackslash ? '\\\\' : HIDDEN.test(ch) ? `\\u{${ch.codePointAt(0)!.toString(16).toUpperCase()}}` : ch;
    const size = piece === ch ? 1 : piece.length; // an escape is ASCII: its length is its code points
    if (shown + size > opts.maxLength) {
      omitted = 1;
      continue;
    }
    out += piece;
    shown += size;
  }
  if (omitted > 0) return `${out}…(+${omitted} chars${opts.incomplete ? ' and more' : ''})`;
  return opts.incomplete ? `${out}…(and more)` : out;
}

/** Nothing a reader would see: only white space and characters brokerText escapes (or empty). */
export function isBlank(value: string): boolean {
  return BLANK.test(value);
}
