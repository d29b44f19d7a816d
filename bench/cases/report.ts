// The reports of 1,000 brokers (issue 19): the PDF in at most 200 pages and 15 s, CSV and JSON
// with every broker. The results are deep1000's (its last run, written to bench/results/); when
// deep1000 did not run, the case starts the same farm and scans it once itself. Peer: the same
// results with one PDF section per rated broker (PdfOptions.sectionEach), the report as it was.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { failure, runMeasured } from '../lib/proc';
import { driverEnv, driverPaths } from '../lib/drivers';
import { findMosquitto } from '../lib/brokers';
import { loopbackHosts, rangeSpec, startListenerFarm } from '../lib/listener-farm';
import { fmtMb, fmtRatio, fmtS, round } from '../lib/stats';
import type { BenchContext, CaseResult, Row } from '../lib/types';

const PAGE_LIMIT = 200;
const WRITE_LIMIT_MS = 15_000;

interface Written {
  pdfMs: number;
  writeMs: number;
  pages: number;
  bytes: number;
  csvRows: number;
  jsonResults: number;
  dir: string;
}

/** deep1000's results, or a scan of its farm made here. */
async function results(ctx: BenchContext): Promise<string | null> {
  if (ctx.shared.deep1000Results && existsSync(ctx.shared.deep1000Results)) return ctx.shared.deep1000Results;
  if (!findMosquitto()) return null;
  const plain = loopbackHosts('127.1.0.1', 900);
  const tls = loopbackHosts('127.1.4.1', 100);
  const farm = await startListenerFarm({ plain, tls, processes: 4 });
  try {
    const r = await runMeasured(ctx.node, [ctx.cli, '--target', rangeSpec([...plain, ...tls]), '--ports', '1883,8883', '--listen', '3', '--tls-ca', farm.caPath, '--json'], {
      timeoutMs: ctx.runLimitMs,
      label: 'mqtt-scan for the report case',
      cwd: ctx.root,
    });
    if (failure(r)) throw new Error(`the scan for the report failed: ${failure(r)}`);
    const path = join(ctx.resultsDir, 'deep1000-results.json');
    writeFileSync(path, r.stdout);
    return path;
  } finally {
    await farm.stop();
  }
}

export async function report(ctx: BenchContext): Promise<CaseResult> {
  const file = await results(ctx);
  if (!file) {
    return {
      name: 'report',
      rows: [{ case: 'report', what: 'reports of 1,000 brokers', ours: '-', peer: '-', ratio: '-', memory: '-', target: `<= ${PAGE_LIMIT} pages, <= 15 s`, verdict: 'SKIP', notes: 'no results: mosquitto not installed' }],
      metrics: {},
      details: {},
    };
  }
  const out = mkdtempSync(join(ctx.resultsDir, 'reports-'));
  try {
    const driver = driverPaths().report;
    const write = async (mode: 'grouped' | 'each') => {
      const r = await runMeasured(ctx.node, [driver, file, out, mode], { timeoutMs: ctx.runLimitMs, label: `report driver ${mode}`, cwd: ctx.root, env: driverEnv() });
      const bad = failure(r);
      if (bad) throw new Error(`report driver (${mode}): ${bad}`);
      const w = JSON.parse(r.stdout.trim().split('\n').pop()!) as Written;
      ctx.log(`  report ${mode}: ${w.pages} pages, PDF ${fmtS(w.pdfMs)}, all three written in ${fmtS(w.writeMs)}, ${fmtMb(r.peakRssMb)}`);
      return { w, rssMb: r.peakRssMb };
    };
    const ours = await write('grouped');
    const peer = await write('each');
    const okPages = ours.w.pages <= PAGE_LIMIT;
    const okTime = ours.w.writeMs <= WRITE_LIMIT_MS;
    const rows: Row[] = [
      {
        case: 'report',
        what: `PDF of ${ours.w.jsonResults} brokers (deep1000's results): pages`,
        ours: `${ours.w.pages} pages`,
        peer: `${peer.w.pages} pages with a section per broker`,
        ratio: fmtRatio(ours.w.pages / peer.w.pages),
        memory: fmtMb(ours.rssMb),
        target: `<= ${PAGE_LIMIT} pages`,
        verdict: okPages ? 'PASS' : 'FAIL',
        notes: `PDF ${round(ours.w.bytes / 1024, 0)} KB (a section per broker: ${round(peer.w.bytes / 1024, 0)} KB)`,
      },
      {
        case: 'report',
        what: 'PDF, CSV and JSON of the same results written (prepare, render, write atomically)',
        ours: fmtS(ours.w.writeMs),
        peer: `${fmtS(peer.w.writeMs)} with a section per broker`,
        ratio: fmtRatio(ours.w.writeMs / peer.w.writeMs),
        memory: fmtMb(peer.rssMb),
        target: '<= 15 s',
        verdict: okTime ? 'PASS' : 'FAIL',
        notes: `the PDF alone ${fmtS(ours.w.pdfMs)} (a section per broker: ${fmtS(peer.w.pdfMs)}); CSV ${ours.w.csvRows} rows, JSON ${ours.w.jsonResults} results: every broker`,
      },
    ];
    return {
      name: 'report',
      rows,
      metrics: {
        'report.pages': ours.w.pages,
        'report.writeMs': round(ours.w.writeMs, 0),
        'report.pdfMs': round(ours.w.pdfMs, 0),
        'report.eachPages': peer.w.pages,
        'report.eachWriteMs': round(peer.w.writeMs, 0),
      },
      details: { ours: ours.w, peer: peer.w },
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
