/// <reference types="pdfkit" />
// Fonts for the PDF, and text that every font can draw. An embedded DejaVu TTF (when the system
// has one) covers most scripts; pdfkit's built-in Helvetica only covers WinAnsi (cp1252). Either
// way a character the font lacks becomes '?': a topic name can never break the report.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type FontKind = 'body' | 'bold' | 'mono';

export const FONT_DIRS = ['/usr/share/fonts/truetype/dejavu', '/usr/share/fonts/dejavu', '/usr/share/fonts/TTF', '/usr/local/share/fonts'];
const TTF: Record<FontKind, string> = { body: 'DejaVuSans.ttf', bold: 'DejaVuSans-Bold.ttf', mono: 'DejaVuSansMono.ttf' };
const STANDARD: Record<FontKind, string> = { body: 'Helvetica', bold: 'Helvetica-Bold', mono: 'Courier' };

/** cp1252 beyond Latin-1: the characters pdfkit's standard fonts map into 0x80-0x9F. */
const WIN_ANSI_EXTRA = new Set([402, 8211, 8212, 8216, 8217, 8218, 8220, 8221, 8222, 8224, 8225, 8226, 8230, 8364, 8240, 8249, 8250, 710, 8482, 338, 339, 732, 352, 353, 376, 381, 382]);

export interface Fonts {
  embedded: boolean;
  /** Can the font of this kind draw this code point? */
  has(kind: FontKind, codePoint: number): boolean;
}

/**
 * Registers 'body', 'bold' and 'mono' on the document. fontDirs null forces the built-in fonts
 * (what a machine without DejaVu gets).
 */
export function registerFonts(doc: PDFKit.PDFDocument, fontDirs: readonly string[] | null = FONT_DIRS): Fonts {
  const dir = fontDirs?.find((d) => Object.values(TTF).every((f) => existsSync(join(d, f))));
  if (dir) {
    try {
      const checkers = {} as Record<FontKind, (cp: number) => boolean>;
      for (const kind of Object.keys(TTF) as FontKind[]) {
        doc.registerFont(kind, readFileSync(join(dir, TTF[kind])));
        doc.font(kind);
        const font = (doc as unknown as { _font: { font?: { hasGlyphForCodePoint?(cp: number): boolean } } })._font.font;
        if (typeof font?.hasGlyphForCodePoint !== 'function') throw new Error('no glyph lookup');
        checkers[kind] = cached((cp) => font.hasGlyphForCodePoint!(cp));
      }
      return { embedded: true, has: (kind, cp) => checkers[kind](cp) };
    } catch {
      // A broken or unexpected font file: fall through to the built-in fonts.
    }
  }
  for (const kind of Object.keys(STANDARD) as FontKind[]) doc.registerFont(kind, STANDARD[kind]);
  return { embedded: false, has: (_kind, cp) => isWinAnsi(cp) };
}

export function isWinAnsi(cp: number): boolean {
  return (cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xff) || WIN_ANSI_EXTRA.has(cp);
}

/**
 * Text the font can draw: control characters, lone surrogates and anything the font lacks
 * become '?'. Newlines are kept only when multiline (fixes, evidence), else become spaces.
 */
export function drawable(fonts: Fonts, kind: FontKind, text: unknown, multiline = false): string {
  const s = typeof text === 'string' ? text : text === null || text === undefined ? '' : String(text);
  let out = '';
  for (const ch of s.replace(/\r\n?/g, '\n').replace(/\t/g, ' ')) {
    const cp = ch.codePointAt(0)!;
    if (ch === '\n') out += multiline ? '\n' : ' ';
    else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0xd800 && cp <= 0xdfff)) out += '?';
    else out += fonts.has(kind, cp) ? ch : '?';
  }
  return out;
}

function cached(fn: (cp: number) => boolean): (cp: number) => boolean {
  const memo = new Map<number, boolean>();
  return (cp) => {
    let v = memo.get(cp);
    if (v === undefined) memo.set(cp, (v = fn(cp)));
    return v;
  };
}
