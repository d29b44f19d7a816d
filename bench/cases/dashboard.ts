// The lab dashboard with 1,000 brokers (issue 19): 1,000 anonymous Mosquitto listeners (4
// processes, 127.4.0.1-127.4.3.238:1883) scanned from the dashboard's form in Chromium, served by
// the real launcher (`npm start`). Measured the way test/browser/dashboard-scale.test.ts measures
// it (test/support/dashboard-scale.ts): the websocket messages the page receives and how long after
// the scan's end the table shows its first page and counts every row. Targets from the issue: no
// message over 1 MB, the table usable within 2 s of the scan's end. Peer: the CLI scanning the same
// 1,000 brokers with the same settings (no listening), for the scan's own time.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { failure, runMeasured } from '../lib/proc';
import { findMosquitto } from '../lib/brokers';
import { loopbackHosts, PLAIN_PORT, rangeSpec, startListenerFarm, type ListenerFarm } from '../lib/listener-farm';
import { fmtRatio, fmtS, median, round } from '../lib/stats';
import type { BenchContext, CaseResult, Row } from '../lib/types';
import { launchChromium, loopbackOnly } from '../../test/support/browser-chromium';
import { startLab, stopLab, type LabProcess } from '../../test/support/lab-process';
import { measureDashboardScan, watchFrames, type DashboardScanMeasure } from '../../test/support/dashboard-scale';

const BROKERS = 1000;
const CHROMIUM = '/usr/bin/chromium';
const USABLE_TARGET_MS = 2000;
const MESSAGE_LIMIT_BYTES = 1024 * 1024;

export async function dashboard(ctx: BenchContext): Promise<CaseResult> {
  const what = `${BROKERS} anonymous brokers scanned from the lab dashboard in Chromium (listen 0: one row each)`;
  const target = 'table usable <= 2 s after the scan\'s end; no websocket message > 1 MB';
  const missing = !findMosquitto() ? 'mosquitto' : !existsSync(CHROMIUM) ? 'chromium' : !existsSync(join(ctx.root, 'dist/lab/start.js')) ? 'dist/lab/start.js (npm run build)' : null;
  if (missing) {
    return { name: 'dashboard', rows: [{ case: 'dashboard', what, ours: '-', peer: '-', ratio: '-', memory: '-', target, verdict: 'SKIP', notes: `${missing} not installed` }], metrics: {}, details: {} };
  }
  const hosts = loopbackHosts('127.4.0.1', BROKERS);
  const spec = rangeSpec(hosts);
  let farm: ListenerFarm | null = null;
  let lab: LabProcess | null = null;
  let browser: Browser | null = null;
  const runs: DashboardScanMeasure[] = [];
  const cli: number[] = [];
  const problems: string[] = [];
  try {
    farm = await startListenerFarm({ plain: hosts, tls: [], processes: 4 });
    lab = await startLab();
    browser = await launchChromium(CHROMIUM);
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    await loopbackOnly(page);
    const frames = watchFrames(page);
    await page.goto(lab.url('/ui/'), { waitUntil: 'networkidle' });
    for (let i = 0; i < ctx.repeat; i++) {
      const m = await measureDashboardScan(page, frames, { target: spec, ports: String(PLAIN_PORT), listen: '0' }, BROKERS, ctx.runLimitMs);
      runs.push(m);
      ctx.log(`  dashboard: scan ${fmtS(m.scanMs)}, table usable ${fmtS(m.usableAfterEndMs)} after its end, ${m.frames} messages, largest ${(m.largestBytes / 1024).toFixed(1)} KB`);
      const r = await runMeasured(ctx.node, [ctx.cli, '--target', spec, '--ports', String(PLAIN_PORT), '--listen', '0', '--json'], { timeoutMs: ctx.runLimitMs, label: 'mqtt-scan dashboard peer', cwd: ctx.root });
      const bad = failure(r);
      if (bad) problems.push(`CLI: ${bad}`);
      else cli.push(r.wallMs);
    }
  } catch (err) {
    problems.push((err as Error).message.split('\n')[0]);
  } finally {
    await browser?.close().catch(() => undefined);
    if (lab) await stopLab(lab);
    await farm?.stop();
  }
  const usable = runs.length ? Math.max(...runs.map((m) => m.usableAfterEndMs)) : NaN;
  const largest = runs.length ? Math.max(...runs.map((m) => m.largestBytes)) : NaN;
  const scan = median(runs.map((m) => m.scanMs));
  const peer = median(cli);
  const pass = runs.length === ctx.repeat && usable <= USABLE_TARGET_MS && largest < MESSAGE_LIMIT_BYTES;
  const row: Row = {
    case: 'dashboard',
    what,
    ours: runs.length ? `table usable ${fmtS(usable)} after the end (worst of ${runs.length}); largest message ${(largest / 1024).toFixed(1)} KB` : '-',
    peer: cli.length ? `CLI scan ${fmtS(peer)}; dashboard scan ${fmtS(scan)}` : '-',
    ratio: cli.length && runs.length ? `${fmtRatio(scan / peer)} (scan time)` : '-',
    memory: '-',
    target,
    verdict: pass ? 'PASS' : 'FAIL',
    notes: [
      runs.map((m) => `${m.frames} messages, ${(m.totalBytes / 1048576).toFixed(2)} MB in all, ${m.position}`).join('; '),
      'scan time = Start pressed to the completion reaching the page; the CLI time is its process wall time',
      ...problems,
    ].filter(Boolean).join('; '),
  };
  return {
    name: 'dashboard',
    rows: [row],
    metrics: {
      'dashboard.usableAfterEndMs': Number.isFinite(usable) ? round(usable, 0) : null,
      'dashboard.largestMessageBytes': Number.isFinite(largest) ? largest : null,
      'dashboard.scanMs': Number.isFinite(scan) ? round(scan, 0) : null,
    },
    details: { runs, cliMs: cli, problems },
  };
}
