// Reports from a scan: build the chosen formats in memory, then write them atomically.
import type { ScanResult } from '../types';
import { renderCsv } from './csv';
import { reportBaseName, writeFilesAtomically } from './files';
import { renderJson } from './json';
import { prepareReport, type PrepareOptions, type ReportInput } from './model';
import { renderPdf, type PdfOptions } from './pdf';

export { prepareReport, endpoint, DEFAULT_TITLE, type ReportInput, type ReportMeta, type PrepareOptions } from './model';
export { renderCsv, neutralise, CSV_COLUMNS } from './csv';
export { renderJson, JSON_REPORT_FORMAT } from './json';
export { renderPdf, type PdfOptions } from './pdf';
export {
  detailPlan, findingsKey, DETAILED_UP_TO, MAX_SECTIONS, MAX_GROUP_ENDPOINTS, MAX_TABLE_ROWS, SECTION_LEVELS, type DetailPlan, type DetailSection,
} from './pdf-groups';
export { reportBaseName, writeFilesAtomically, type ReportFile } from './files';

import { FORMATS, type ReportFormat } from '../options';
export { FORMATS, parseFormats, type ReportFormat } from '../options';

export interface BuiltReport {
  input: ReportInput;
  pdf?: Buffer;
  csv?: string;
  json?: string;
}

export interface BuildOptions extends PrepareOptions {
  formats?: readonly ReportFormat[];
  pdf?: PdfOptions;
}

export async function buildReport(results: readonly ScanResult[], opts: BuildOptions = {}): Promise<BuiltReport> {
  const formats = opts.formats ?? FORMATS;
  const input = prepareReport(results, opts);
  return {
    input,
    ...(formats.includes('pdf') ? { pdf: await renderPdf(input, opts.pdf) } : {}),
    ...(formats.includes('csv') ? { csv: renderCsv(input) } : {}),
    ...(formats.includes('json') ? { json: renderJson(input) } : {}),
  };
}

/** Writes the built formats into dir; returns their paths by format. */
export async function writeReport(dir: string, built: BuiltReport): Promise<Partial<Record<ReportFormat, string>>> {
  const base = reportBaseName(built.input.summary.scanId, built.input.generatedAt);
  const present = FORMATS.filter((f) => built[f] !== undefined);
  const paths = await writeFilesAtomically(dir, present.map((f) => ({ name: `${base}.${f}`, data: built[f]! })));
  return Object.fromEntries(present.map((f, i) => [f, paths[i]]));
}
