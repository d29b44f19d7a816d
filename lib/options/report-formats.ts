// Report formats, apart from the renderers so that checking a --format option loads no PDF code.
export const FORMATS = ['pdf', 'csv', 'json'] as const;
export type ReportFormat = (typeof FORMATS)[number];

/** "pdf,csv" / ["pdf"] -> formats; unknown names are an error, none means all. */
export function parseFormats(raw: unknown): ReportFormat[] {
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(/[\s,]+/) : [];
  const names = list.map((x) => String(x).trim().toLowerCase()).filter(Boolean);
  for (const n of names) if (!(FORMATS as readonly string[]).includes(n)) throw new Error(`report format "${n}": expected pdf, csv or json`);
  return names.length ? [...new Set(names)] as ReportFormat[] : [...FORMATS];
}
