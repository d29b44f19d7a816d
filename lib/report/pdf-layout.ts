/// <reference types="pdfkit" />
// Drawing primitives for the PDF: a pen that knows fonts, safe text and the page box, and a
// table that breaks across pages with its header row repeated.
import { isHttpsUrl } from '../common';
import { COLOR } from './pdf-theme';
import { drawable, type FontKind, type Fonts } from './pdf-text';

export const MARGIN = { top: 70, bottom: 62, left: 50, right: 50 };

export class Pen {
  /** The font in use, whose glyphs decide what text is drawable. */
  private kind: FontKind = 'body';

  constructor(readonly doc: PDFKit.PDFDocument, readonly fonts: Fonts) {}

  get left(): number {
    return MARGIN.left;
  }
  get width(): number {
    return this.doc.page.width - MARGIN.left - MARGIN.right;
  }
  get bottom(): number {
    return this.doc.page.height - MARGIN.bottom;
  }

  use(kind: FontKind, size: number, color: string = COLOR.text): this {
    this.kind = kind;
    this.doc.font(kind).fontSize(size).fillColor(color);
    return this;
  }

  safe(text: unknown, multiline = false): string {
    return drawable(this.fonts, this.kind, text, multiline);
  }

  /** Flowing text at the cursor (pdfkit breaks pages by itself); line breaks in it become spaces. */
  para(text: unknown, opts: PDFKit.Mixins.TextOptions = {}): this {
    this.doc.text(this.safe(text), MARGIN.left, this.doc.y, { width: this.width, ...opts });
    return this;
  }

  /** Text in a box at (x, y); the cursor is left where it was. */
  at(text: unknown, x: number, y: number, opts: PDFKit.Mixins.TextOptions = {}, multiline = false): number {
    const keep = this.doc.y;
    const s = this.safe(text, multiline);
    const h = opts.width ? this.doc.heightOfString(s, opts) : this.doc.currentLineHeight();
    this.doc.text(s, x, y, opts);
    this.doc.y = keep;
    return h;
  }

  height(text: unknown, width: number, opts: PDFKit.Mixins.TextOptions = {}, multiline = false): number {
    return this.doc.heightOfString(this.safe(text, multiline), { width, ...opts });
  }

  /** Starts a new page unless `h` points still fit. */
  ensure(h: number): boolean {
    if (this.doc.y + h <= this.bottom) return false;
    this.doc.addPage();
    return true;
  }

  gap(pt: number): this {
    this.doc.y += pt;
    return this;
  }

  /** A coloured pill with white text; returns its width. */
  badge(text: string, x: number, y: number, color: string, size = 7.5): number {
    this.use('bold', size, COLOR.white);
    const label = this.safe(text);
    const w = this.doc.widthOfString(label) + 10;
    const h = size + 6;
    this.doc.save().roundedRect(x, y, w, h, 3).fill(color).restore();
    // Centre on the cap height, which differs between DejaVu and Helvetica.
    const font = (this.doc as unknown as { _font: { ascender: number; capHeight: number } })._font;
    const baseline = y + h / 2 + ((font.capHeight || 700) / 1000) * size / 2;
    this.at(label, x + 5, baseline - (font.ascender / 1000) * size, { lineBreak: false });
    return w;
  }

  hr(color: string = COLOR.rule): this {
    const y = this.doc.y;
    this.doc.save().moveTo(MARGIN.left, y).lineTo(MARGIN.left + this.width, y).lineWidth(0.6).strokeColor(color).stroke().restore();
    return this;
  }
}

export interface Cell {
  text: string;
  /** Draw as a coloured pill instead of text. */
  badge?: string;
  color?: string;
  kind?: FontKind;
  /** An https URL: the text is drawn underlined in the link colour and clicking it opens the URL
   *  (a PDF link annotation, /URI). Anything else is ignored: the text stays plain. */
  link?: string;
}

export interface Column {
  header: string;
  /** Share of the table width (they are normalised). */
  width: number;
  align?: 'left' | 'right' | 'center';
  kind?: FontKind;
}

export interface TableSpec {
  columns: Column[];
  rows: Array<Array<Cell | string>>;
  size?: number;
  /** Space left under the table. */
  padding?: number;
  /** A table shorter than this many points is not split across pages. */
  keepTogether?: number;
  /** These rows go on a table drawn just before (its slice before): no header of their own
   *  unless a page starts, and the zebra stripes carry on after `rowOffset` rows. */
  continued?: boolean;
  rowOffset?: number;
}

const PAD = 4;

/** Draws a table from the cursor; a row never splits, and each new page repeats the header. */
export function table(pen: Pen, spec: TableSpec): void {
  const { doc } = pen;
  const size = spec.size ?? 8;
  const total = spec.columns.reduce((s, c) => s + c.width, 0);
  const widths = spec.columns.map((c) => (c.width / total) * pen.width);
  const xs = widths.map((_, i) => pen.left + widths.slice(0, i).reduce((a, b) => a + b, 0));

  const headerHeight = () => {
    pen.use('bold', size);
    return Math.max(...spec.columns.map((c, i) => pen.height(c.header, widths[i] - 2 * PAD))) + 2 * PAD;
  };
  const drawHeader = () => {
    const h = headerHeight();
    const y = doc.y;
    doc.save().rect(pen.left, y, pen.width, h).fill(COLOR.tableHead).restore();
    pen.use('bold', size, COLOR.white);
    spec.columns.forEach((c, i) => pen.at(c.header, xs[i] + PAD, y + PAD, { width: widths[i] - 2 * PAD, align: c.align ?? 'left' }));
    doc.y = y + h;
  };
  const cellOf = (c: Cell | string): Cell => (typeof c === 'string' ? { text: c } : c);
  const rowHeight = (row: Array<Cell | string>) => {
    let h = 0;
    row.forEach((raw, i) => {
      const cell = cellOf(raw);
      if (cell.badge) h = Math.max(h, size + 6);
      else {
        pen.use(cell.kind ?? spec.columns[i].kind ?? 'body', size);
        h = Math.max(h, pen.height(cell.text, widths[i] - 2 * PAD));
      }
    });
    return h + 2 * PAD;
  };

  const heights = spec.rows.map(rowHeight);
  const whole = headerHeight() + heights.reduce((a, b) => a + b, 0);
  if (!spec.continued) {
    // Never a header alone at the foot of a page: keep a short table whole, else start with 3 rows.
    pen.ensure(whole <= (spec.keepTogether ?? 0) ? whole : headerHeight() + heights.slice(0, 3).reduce((a, b) => a + b, 0));
    drawHeader();
  }
  const offset = spec.rowOffset ?? 0;
  spec.rows.forEach((row, r) => {
    const h = heights[r];
    if (doc.y + h > pen.bottom) {
      doc.addPage();
      drawHeader();
    }
    const y = doc.y;
    if ((r + offset) % 2 === 1) doc.save().rect(pen.left, y, pen.width, h).fill(COLOR.zebra).restore();
    row.forEach((raw, i) => {
      const cell = cellOf(raw);
      const col = spec.columns[i];
      if (cell.badge) {
        pen.badge(cell.text, xs[i] + PAD, y + PAD - 1, cell.badge, size - 0.5);
        return;
      }
      const link = cell.link && isHttpsUrl(cell.link) ? cell.link : undefined;
      pen.use(cell.kind ?? col.kind ?? 'body', size, cell.color ?? (link ? COLOR.link : COLOR.text));
      pen.at(cell.text, xs[i] + PAD, y + PAD, { width: widths[i] - 2 * PAD, align: col.align ?? 'left', ...(link ? { link, underline: true } : {}) });
    });
    doc.save().moveTo(pen.left, y + h).lineTo(pen.left + pen.width, y + h).lineWidth(0.4).strokeColor(COLOR.rule).stroke().restore();
    doc.y = y + h;
  });
  doc.y += spec.padding ?? 10;
}

/** Height the table will take if drawn whole (no page break). */
export function tableHeight(pen: Pen, spec: TableSpec): number {
  const size = spec.size ?? 8;
  const total = spec.columns.reduce((s, c) => s + c.width, 0);
  const widths = spec.columns.map((c) => (c.width / total) * pen.width);
  pen.use('bold', size);
  let h = Math.max(...spec.columns.map((c, i) => pen.height(c.header, widths[i] - 2 * PAD))) + 2 * PAD;
  for (const row of spec.rows) {
    let rh = 0;
    row.forEach((raw, i) => {
      const cell = typeof raw === 'string' ? { text: raw } : raw;
      if (cell.badge) rh = Math.max(rh, size + 6);
      else rh = Math.max(rh, pen.use(cell.kind ?? spec.columns[i].kind ?? 'body', size).height(cell.text, widths[i] - 2 * PAD));
    });
    h += rh + 2 * PAD;
  }
  return h + (spec.padding ?? 10);
}

/** Two-column label/value list (facts about a broker or the scan). */
export function factsSpec(rows: Array<[string, string]>, headers: [string, string] = ['Property', 'Observed'], labelShare = 0.28, size = 8.5): TableSpec {
  return {
    columns: [
      { header: headers[0], width: labelShare, kind: 'bold' },
      { header: headers[1], width: 1 - labelShare },
    ],
    rows: rows.map(([k, v]) => [{ text: k, kind: 'bold', color: COLOR.muted }, v]),
    size,
    keepTogether: 260,
  };
}

export function facts(pen: Pen, rows: Array<[string, string]>, headers?: [string, string], labelShare?: number, size?: number): void {
  table(pen, factsSpec(rows, headers, labelShare, size));
}
