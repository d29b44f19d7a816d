// Report writer: collects the results of one scan until its completion message (or takes an array
// of results at once), writes PDF / CSV / JSON atomically into the reports directory, adds the scan
// to the runtime's scan history (lib/history; the dashboard and GET /api/scans read it) and sends
// the paths, the summary and the reports themselves on (for an HTTP response).
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { buildReport, parseFormats, writeReport, type ReportFormat, type ReportMeta } from '../lib/report';
import { isScanResult, isScanSummary, scanIdOf } from '../lib/common';
import type { ScanResult, ScanSummary } from '../lib/types';
import { DEFAULT_MAX_SCANS, HISTORY_SCAN_ID, MAX_SCANS_LIMIT, SCAN_SOURCES, scanFromReport, type ScanSource } from '../lib/history';
import { defineNode } from './shared/define';
import { historyOf } from './shared/history';
import { onInput } from './shared/handler';

interface WriterDef extends NodeDef {
  directory?: string;
  pdf?: boolean;
  csv?: boolean;
  json?: boolean;
  title?: string;
  preparedFor?: string;
  attach?: boolean;
  /** Add each scan to the scan history (default true). */
  history?: boolean;
  /** Scans the history keeps (1..MAX_SCANS_LIMIT), as text from the editor; default DEFAULT_MAX_SCANS. */
  historyMax?: string | number;
}

interface Collected {
  results: ScanResult[];
  meta: Pick<ReportMeta, 'targets' | 'ports'>;
}

/** Scans collected at once; the oldest is dropped beyond this (a scan that never completed). */
const MAX_SCANS = 16;
const BAD_INPUT = 'msg.payload: expected a scan result, an array of scan results or a completion message (msg.complete)';

export = (RED: NodeAPI) =>
  defineNode<WriterDef>(RED, 'mqttsec-report-writer', (node, config, t) => {
    const userDir = (RED.settings as { userDir?: string }).userDir;
    const directory = config.directory?.trim() || process.env.MQTTSEC_REPORTS_DIR || join(userDir ?? tmpdir(), 'mqttsec-reports');
    const chosen = (['pdf', 'csv', 'json'] as const).filter((f) => config[f] !== false);
    const formats: ReportFormat[] = parseFormats(chosen);
    const scans = new Map<string, Collected>();
    const keepHistory = config.history !== false;
    const maxScans = historyMaxOf(config.historyMax);
    if (keepHistory && maxScans === null) throw new Error(t('errors.historyMax', { max: MAX_SCANS_LIMIT }));

    onInput(node, async (msg: NodeMessageInFlow, send) => {
      const scanId = scanIdOf(msg);
      if (msg.complete === true) {
        const collected = scans.get(scanId) ?? { results: [], meta: metaOf(msg) };
        scans.delete(scanId);
        const scan = isScanSummary(msg.payload) ? (({ riskSummary: _r, ...s }) => s)(msg.payload as ScanSummary & { riskSummary?: unknown }) : null;
        await write(msg, collected.results, scan, { ...metaOf(msg), ...collected.meta }, send);
        return;
      }
      if (Array.isArray(msg.payload)) {
        if (!msg.payload.every(isScanResult)) throw new Error(BAD_INPUT);
        await write(msg, msg.payload as ScanResult[], null, metaOf(msg), send);
        return;
      }
      if (!isScanResult(msg.payload)) throw new Error(BAD_INPUT);
      const collected = collectFor(scanId, msg);
      collected.results.push(msg.payload);
      node.status({ fill: 'blue', shape: 'ring', text: t('status.collecting', { count: collected.results.length }) });
    });

    async function write(msg: NodeMessageInFlow, results: ScanResult[], scan: ScanSummary | null, meta: ReportMeta, send: (m: NodeMessageInFlow) => void) {
      node.status({ fill: 'blue', shape: 'dot', text: t('status.writing', { count: results.length }) });
      try {
        const built = await buildReport(results, { formats, scan, meta: { ...meta, title: config.title || undefined, preparedFor: config.preparedFor || undefined } });
        const files = await writeReport(directory, built);
        if (keepHistory) await remember(msg, built.input, files);
        msg.payload = { files, summary: built.input.summary };
        if (config.attach !== false) (msg as Record<string, unknown>).report = { pdf: built.pdf, csv: built.csv, json: built.json };
        node.status({ fill: 'green', shape: 'dot', text: t('status.written', { count: Object.keys(files).length, results: results.length }) });
        send(msg);
      } catch (err) {
        node.status({ fill: 'red', shape: 'ring', text: t('status.failed') });
        throw err;
      }
    }

    /** Adds the scan to the history; a history that cannot be written is a warning, not a lost report. */
    async function remember(msg: NodeMessageInFlow, input: Parameters<typeof scanFromReport>[0], files: Partial<Record<ReportFormat, string>>) {
      try {
        const history = await historyOf(RED);
        const source = SCAN_SOURCES.includes((msg as { scanSource?: unknown }).scanSource as ScanSource) ? ((msg as { scanSource?: unknown }).scanSource as ScanSource) : 'flow';
        const given = scanIdOf(msg) || input.summary.scanId || '';
        const scanId = HISTORY_SCAN_ID.test(given) ? given : RED.util.generateId();
        history.add(scanFromReport(input, { scanId, source, files, at: Date.now() }), { maxScans: maxScans ?? DEFAULT_MAX_SCANS });
      } catch (err) {
        node.warn(t('warn.history', { message: (err as Error).message }));
      }
    }

    function collectFor(scanId: string, msg: NodeMessageInFlow): Collected {
      let c = scans.get(scanId);
      if (!c) {
        if (scans.size >= MAX_SCANS) scans.delete(scans.keys().next().value as string);
        c = { results: [], meta: metaOf(msg) };
        scans.set(scanId, c);
      }
      return c;
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      scans.clear();
      node.status({});
      done();
    });
  });

/** Target specs and ports as the target expander put them in msg.scan. */
function metaOf(msg: NodeMessageInFlow): Pick<ReportMeta, 'targets' | 'ports'> {
  const scan = msg.scan as { specs?: unknown; ports?: unknown } | undefined;
  const out: Pick<ReportMeta, 'targets' | 'ports'> = {};
  if (Array.isArray(scan?.specs) && scan.specs.every((s) => typeof s === 'string')) out.targets = scan.specs as string[];
  if (Array.isArray(scan?.ports) && scan.ports.every((p) => typeof p === 'number')) out.ports = scan.ports as number[];
  return out;
}

/** The editor's "keep" setting: blank -> the default; a whole number 1..MAX_SCANS_LIMIT; else null. */
function historyMaxOf(v: unknown): number | null {
  if (v === undefined || v === null || String(v).trim() === '') return DEFAULT_MAX_SCANS;
  const s = String(v).trim();
  if (!/^\d{1,6}$/.test(s)) return null;
  const n = Number(s);
  return n >= 1 && n <= MAX_SCANS_LIMIT ? n : null;
}
