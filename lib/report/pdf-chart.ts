// Vector charts for the executive summary: horizontal bars and a donut, drawn with pdfkit paths.
import { COLOR } from './pdf-theme';
import type { Pen } from './pdf-layout';

export interface Segment {
  label: string;
  value: number;
  color: string;
}

/** Labelled horizontal bars with count and share; returns the height used. */
export function bars(pen: Pen, x: number, y: number, width: number, segments: Segment[]): number {
  const { doc } = pen;
  const total = segments.reduce((s, d) => s + d.value, 0);
  const max = Math.max(1, ...segments.map((d) => d.value));
  const labelW = 66;
  const valueW = 62;
  const barMax = width - labelW - valueW;
  const rowH = 22;
  segments.forEach((d, i) => {
    const top = y + i * rowH;
    pen.use('bold', 8.5, COLOR.text).at(d.label, x, top + 5, { width: labelW - 6, lineBreak: false });
    doc.save().roundedRect(x + labelW, top + 3, barMax, 14, 2).fill(COLOR.zebra).restore();
    const w = d.value > 0 ? Math.max(3, (d.value / max) * barMax) : 0;
    if (w > 0) doc.save().roundedRect(x + labelW, top + 3, w, 14, 2).fill(d.color).restore();
    const share = total ? Math.round((d.value / total) * 100) : 0;
    pen.use('body', 8.5, COLOR.text).at(`${d.value}  (${share}%)`, x + labelW + barMax + 6, top + 5, { width: valueW - 6, lineBreak: false });
  });
  return segments.length * rowH;
}

/** A ring split by value, with the total in its hole. */
export function donut(pen: Pen, cx: number, cy: number, radius: number, segments: Segment[], caption: string): void {
  const { doc } = pen;
  const inner = radius * 0.64;
  const shown = segments.filter((d) => d.value > 0);
  const total = shown.reduce((s, d) => s + d.value, 0);
  if (shown.length <= 1) {
    doc.save().circle(cx, cy, radius).fill(shown[0]?.color ?? COLOR.zebra).restore();
  } else {
    let a0 = -Math.PI / 2;
    for (const d of shown) {
      const a1 = a0 + (d.value / total) * Math.PI * 2;
      const large = a1 - a0 > Math.PI ? 1 : 0;
      const p = (r: number, a: number) => `${(cx + r * Math.cos(a)).toFixed(2)} ${(cy + r * Math.sin(a)).toFixed(2)}`;
      const path = `M ${p(radius, a0)} A ${radius} ${radius} 0 ${large} 1 ${p(radius, a1)} L ${p(inner, a1)} A ${inner} ${inner} 0 ${large} 0 ${p(inner, a0)} Z`;
      doc.save().path(path).fill(d.color).restore();
      a0 = a1;
    }
  }
  doc.save().circle(cx, cy, inner).fill(COLOR.white).restore();
  pen.use('bold', 18, COLOR.brand).at(String(total), cx - inner, cy - 13, { width: inner * 2, align: 'center', lineBreak: false });
  pen.use('body', 7.5, COLOR.muted).at(caption, cx - inner, cy + 7, { width: inner * 2, align: 'center', lineBreak: false });
}

/** Small figure tiles in one row: big number, label under it. */
export function tiles(pen: Pen, y: number, items: Array<{ value: string; label: string; color?: string }>): number {
  const { doc } = pen;
  const gapW = 8;
  const w = (pen.width - gapW * (items.length - 1)) / items.length;
  const h = 50;
  items.forEach((it, i) => {
    const x = pen.left + i * (w + gapW);
    doc.save().roundedRect(x, y, w, h, 4).fill(COLOR.brandLight).restore();
    doc.save().rect(x, y, 3, h).fill(it.color ?? COLOR.brand).restore();
    pen.use('bold', 18, it.color ?? COLOR.brand).at(it.value, x + 10, y + 8, { width: w - 14, lineBreak: false });
    pen.use('body', 7.5, COLOR.muted).at(it.label, x + 10, y + 32, { width: w - 14, lineBreak: false });
  });
  return h;
}
