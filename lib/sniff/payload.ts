// Payload bytes -> a short printable sample. Only a bounded prefix is ever decoded, so a huge
// payload costs no more than a small one.
import { HIDDEN_CHARACTERS } from '../common';

export interface Examined {
  /** Decoded text of the examined prefix, or null when the payload looks binary. */
  text: string | null;
  /** Full payload size. */
  bytes: number;
  /** Only a prefix was examined (payload longer than the limit). */
  partial: boolean;
}

// C0/C1 controls (tab/newline/CR become spaces first), bidi, zero-width and other invisible
// characters, line separators: none belongs in a one-line sample, and bidi overrides can disguise
// what a report shows. The set brokerText escapes for names (lib/text); a sample drops them.
const INVISIBLE = HIDDEN_CHARACTERS;
const LINE_BREAKS = /[\t\n\r]+/g;
const BINARY_HEX_BYTES = 16;

export function examinePayload(payload: Buffer, maxBytes: number): Examined {
  const partial = payload.length > maxBytes;
  const head = partial ? payload.subarray(0, maxBytes) : payload;
  let text = head.toString('utf8');
  if (partial) text = text.replace(/\ufffd{1,3}$/, ''); // a character cut at the limit
  return { text: looksBinary(text) ? null : text, bytes: payload.length, partial };
}

/** Invalid UTF-8, NUL bytes or mostly control characters. */
function looksBinary(text: string): boolean {
  if (text.includes('\ufffd') || text.includes('\u0000')) return true;
  let controls = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) controls++;
  }
  return controls > text.length / 10;
}

/** "<N bytes binary> 0a1b…": the size (`size`, default the buffer's length, for a payload of
 *  which only the head was read) and the first 16 bytes in hex. */
export function binarySample(payload: Buffer, size = payload.length): string {
  const hex = payload.subarray(0, BINARY_HEX_BYTES).toString('hex');
  return `<${size} bytes binary> ${hex}${size > BINARY_HEX_BYTES ? '…' : ''}`;
}

/** One line, no control characters, at most maxChars characters (plus "…" when cut). */
export function printable(text: string, maxChars: number, cut = false): string {
  let s = text.replace(LINE_BREAKS, ' ').replace(INVISIBLE, '');
  if (s.length > maxChars) {
    let end = maxChars;
    const c = s.charCodeAt(end - 1);
    if (c >= 0xd800 && c <= 0xdbff) end--; // never split a surrogate pair
    s = s.slice(0, end);
    cut = true;
  }
  // A fresh flat copy: a slice would keep the whole decoded payload alive in V8.
  return Buffer.from(cut ? `${s}…` : s, 'utf8').toString('utf8');
}
