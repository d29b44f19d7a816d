// Writes the reports of a scan's results the way mqtt-scan --report does (lib/report buildReport,
// then writeReport into a fresh temp dir), timed in-process; counts the PDF's pages (its page
// objects). Prints one JSON line: { pdfMs, writeMs, pages, bytes, csvRows, jsonResults }.
// Usage: node bench/results/.drivers/report.js <results.json> <out dir> [each]
//   each: one section per rated broker, as before issue 19 (the peer of the report case).
import { mkdtempSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

async function main(): Promise<void> {
  const [file, outDir, mode] = process.argv.slice(2);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const report = require(resolve(process.env.BENCH_ROOT ?? resolve(__dirname, '../..'), 'dist/lib/report/index.js')) as typeof import('../../lib/report');
  const results = JSON.parse(readFileSync(file, 'utf8'));
  const t0 = process.hrtime.bigint();
  const input = report.prepareReport(results, { meta: { title: 'MQTT Security Assessment (bench)' } });
  const pdf = await report.renderPdf(input, { sectionEach: mode === 'each' });
  const pdfMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const csv = report.renderCsv(input);
  const json = report.renderJson(input);
  const dir = mkdtempSync(join(outDir, 'report-'));
  await report.writeFilesAtomically(dir, [
    { name: 'r.pdf', data: pdf },
    { name: 'r.csv', data: csv },
    { name: 'r.json', data: json },
  ]);
  const writeMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const pages = (pdf.toString('latin1').match(/\/Type \/Page\b(?!s)/g) ?? []).length;
  process.stdout.write(`${JSON.stringify({ pdfMs, writeMs, pages, bytes: pdf.length, csvRows: csv.trim().split('\r\n').length - 1, jsonResults: (JSON.parse(json) as { results: unknown[] }).results.length, dir })}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`report driver: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
