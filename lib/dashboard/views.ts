// The views of the shipped flows (flows/lab-dashboard.json, flows/http-api.json): each takes the
// message a node of the flow receives, reads and writes the flow context where the flow keeps its
// state, and returns what goes out on each output. The node mqttsec-dashboard-view runs one of
// them; everything here is plain data in, plain data out, so it is tested without Node-RED.
//
// Flow context keys (unchanged from the function nodes these views replace): dashboard: current,
// running, reports, progress, live, historyFilter, sites (the Sites panel: sites.ts) (and
// `history`, the list of versions before the scan history store, moved into the store on
// restore); HTTP API: rate, pending, latest, reports, sitesEnd (what a coordinated scan's end warns
// about).
// The scan history itself is lib/history's store (ctx.history), shared by every flow.
import { isScanResult } from '../common';
import {
  API_PENDING_MAX_MS,
  API_REPORTS_KEPT,
  apiEndpoint,
  apiKeysFrom,
  checkApiKey,
  checkScanRequest,
  forgetRefusedScan,
  interruptedAnswer,
  latestResults,
  noResults,
  rateCheck,
  rateLimitedAnswer,
  reportLinks,
  scanFailureAnswer,
  scanTimeoutSeconds,
  timeoutAnswer,
  type RateEntry,
} from './api';
import { summaryCards, scanLine, riskChart } from './cards';
import { brokerDetail } from './detail';
import { downloadHeaders, findReport, JSON_HEADERS, missingReportAnswer, type HttpAnswer, type DownloadFormat } from './downloads';
import { checkScanForm, FALLBACK_PORTS, initialForm, startScan } from './form';
import { SCAN_ID_PATTERN, historyFilterOf, historyPanel, interruptedScan, keepNewestReports, legacyEntryScan, reportFilesFor, reportFilesOf, scansAnswer, type HistoryFilter } from './history';
import { liveSeriesReset, liveValues, type LiveTiles } from './live';
import { nextProgress, scanError } from './progress';
import { clearScanMarks, markScanDone, markScanRunning } from './scans-running';
import { record } from './read';
import { completeScan, keepResult, secondsText, worstResult } from './scan-state';
import { DEFAULT_TABLE_VIEW, tableMessages, tableViewOf, type TableView } from './table';
import { LAB_CONTROL_VIEWS } from './lab-controls';
import { SITES_VIEWS, labSitesState } from './sites';
import type { CurrentScan, KeptResult, Progress, ReportFiles, View, ViewContext, ViewMessage, ViewOutputs } from './types';

/** Puts an HTTP answer on msg (statusCode, headers, payload) for an "http response" node; returns msg. */
export function answerOn(msg: ViewMessage, a: HttpAnswer): ViewMessage {
  msg.statusCode = a.status;
  msg.headers = a.headers;
  msg.payload = a.body;
  return msg;
}

/**
 * Which sniffer a scan's messages take, from msg.sniff: 0 none (listen 0: straight to the risk
 * classifier), 1 the read-only sniffer, 2 the one with the write test. Every message of one scan
 * (its results and its completion) takes the same way, so the completion still comes last.
 */
export function sniffOutput(sniff: unknown): 0 | 1 | 2 {
  const s = record(sniff);
  if (s.listen === 0) return 0;
  return s.writeTest === true ? 2 : 1;
}

/** Sends msg on output `index` of `count`. */
function on(index: number, count: number, msg: ViewMessage): ViewOutputs {
  return Array.from({ length: count }, (_, i) => (i === index ? msg : null));
}

/** The history panel and the score chart for the flow's filter (flow key `historyFilter`). */
function historyOutputs(ctx: ViewContext): [ViewMessage, ViewMessage] {
  const shown = historyPanel(ctx.history, historyFilterOf(ctx.flow.get('historyFilter')), ctx.now());
  return [{ payload: shown.panel }, { payload: shown.chart }];
}
const current = (ctx: ViewContext): CurrentScan | undefined => {
  const c = ctx.flow.get('current');
  return c && typeof c === 'object' && record(c).results ? (c as CurrentScan) : undefined;
};
/** Least time between two redraws of a running scan (ms): "collect the results" output 1. */
export const SCAN_REDRAW_MS = 500;
/** Least time between two status lines of the progress panel while a scan runs (ms): every broker changes the nodes' status several times. */
export const PROGRESS_REDRAW_MS = 250;

/**
 * Sends what `build` makes at most once per `ms` for `key`: now when the last send is that long
 * ago, else once, `ms` after the last (one pending at a time), built from the state then; `build`
 * returns null when there is nothing to send any more (the scan ended or another began).
 */
function atMostEvery(ctx: ViewContext, key: string, ms: number, build: () => ViewOutputs | null): ViewOutputs | null {
  const now = ctx.now();
  const last = (ctx.memory.get(`${key}-sent-at`) as number | undefined) ?? -Infinity;
  if (now - last >= ms) {
    ctx.memory.set(`${key}-sent-at`, now);
    return build();
  }
  if (!ctx.memory.get(`${key}-due`)) {
    ctx.memory.set(`${key}-due`, true);
    ctx.later(ms - (now - last), () => {
      ctx.memory.delete(`${key}-due`);
      const outputs = build();
      if (!outputs) return;
      ctx.memory.set(`${key}-sent-at`, ctx.now());
      ctx.send(outputs);
    });
  }
  return null;
}

/** Output 1 of "collect the results" for a running scan, at most once per SCAN_REDRAW_MS. */
function redrawSoon(ctx: ViewContext, scanId: string): ViewOutputs | null {
  return atMostEvery(ctx, 'scan-redraw', SCAN_REDRAW_MS, () => {
    const cur = current(ctx);
    return cur && cur.scanId === scanId && !cur.complete ? [{ topic: 'scan', payload: cur }, null, null] : null;
  });
}

const labPorts = (ctx: ViewContext) => ctx.env('MQTTSEC_LAB_PORTS') || FALLBACK_PORTS;

/**
 * Versions before the scan history store kept the dashboard's last 20 scans in the flow key
 * `history`: they move into the store (those it does not have yet), then the key is emptied.
 */
function moveLegacyHistory(ctx: ViewContext): void {
  const legacy = ctx.flow.get('history');
  if (!ctx.history || !Array.isArray(legacy)) return;
  for (const entry of legacy.slice(0, 100).reverse()) {
    const scan = legacyEntryScan(entry);
    if (scan && !ctx.history.get(scan.scanId)) ctx.history.add(scan);
  }
  ctx.flow.set('history', undefined);
}

/** The HTTP responses waiting for their scan, in the api-scan node's own memory (scan id -> msg.res). */
function waitingRequests(ctx: ViewContext): Map<string, unknown> {
  let waiting = ctx.memory.get('waiting') as Map<string, unknown> | undefined;
  if (!waiting) ctx.memory.set('waiting', (waiting = new Map()));
  return waiting;
}

/** The views by name. Output order is the order of the wires in the shipped flows. */
export const VIEWS = {
  ...LAB_CONTROL_VIEWS,
  ...SITES_VIEWS,
  /**
   * The scan form -> a scan. Outputs: 1 the scan (target expander), 2 the form refilled without the
   * password (for a ui_form, which empties itself on submit), 3 'start' or a refusal for the progress
   * panel, 4 'show' (the results redraw). The shipped form is a template that keeps what each tab
   * typed, so output 2 is not wired there: node-red-dashboard sends a widget's update to every tab
   * (msg.socketid comes from the browser, so it cannot choose the tab that asked), and a refill would
   * put one tab's target and ports into every other tab's form.
   */
  'scan-form': {
    outputs: 4,
    input(msg, ctx) {
      const form = record(msg.payload);
      const check = checkScanForm(form, { defaultPorts: labPorts(ctx), running: ctx.flow.get('running'), now: ctx.now() });
      if ('password' in form) form.password = '';
      delete msg.payload;
      const refill = { payload: check.refill };
      if (!check.ok) return [null, refill, { topic: 'error', payload: { message: check.message, form: true } }, null];
      const started = startScan(check.request, ctx.newId(), ctx.now());
      started.scan.scanSource = 'dashboard'; // the scan history records where each scan came from
      ctx.flow.set('running', started.running);
      markScanRunning(ctx, started.running.scanId, ctx.now());
      ctx.flow.set('current', started.current);
      return [started.scan, refill, started.started, { topic: 'show' }];
    },
  },
  /** Listen? Write test? Outputs: 1 no sniffing (risk classifier), 2 the sniffer, 3 the sniffer with the write test. */
  'scan-route': {
    outputs: 3,
    input(msg) {
      return on(sniffOutput(msg.sniff), 3, msg);
    },
    outputForSniff: sniffOutput,
  },
  /** The sniffers' live messages. Outputs: 1 chart points (several messages), 2 the tiles. */
  'live-values': {
    outputs: 2,
    input(msg, ctx) {
      const got = liveValues(msg.payload, ctx.flow.get('live') as LiveTiles | undefined, ctx.now());
      if (!got) return null;
      ctx.flow.set('live', got.tiles);
      return [got.points, { payload: got.tiles }];
    },
  },
  /**
   * Keeps the current scan's rated results and passes the whole scan on. In: rated results, the
   * completion (msg.complete), or topic 'show' (redraw). Outputs: 1 the scan (table, cards, chart),
   * 2 'complete' for the progress panel, 3 the broker to select in the detail view.
   * While results arrive, output 1 is sent at most once per SCAN_REDRAW_MS (the last change always
   * follows within that time; the completion at once): each send is cloned for every wire and redrawn
   * by every browser, and a thousand brokers would otherwise cost a million row copies.
   */
  'scan-results': {
    outputs: 3,
    input(msg, ctx) {
      const cur = current(ctx);
      if (msg.topic === 'show') {
        const c = cur || { results: {} };
        const first = cur && cur.complete ? worstResult(cur) : null;
        return [{ topic: 'scan', payload: c }, null, { payload: first ? { ep: first.ep } : null }];
      }
      if (!cur || msg.scanId !== cur.scanId) return null; // from an older scan
      if (msg.complete === true) {
        const done = completeScan(cur, msg.payload, ctx.now());
        ctx.flow.set('current', cur);
        const worst = worstResult(cur);
        ctx.memory.set('scan-redraw-sent-at', ctx.now());
        return [{ topic: 'scan', payload: cur }, { ...done }, worst ? { payload: { ep: worst.ep } } : null];
      }
      if (!isScanResult(msg.payload)) return null;
      const total = record(msg.scan).total;
      if (total) cur.total = total as number;
      const kept = keepResult(msg.payload, record(msg.sniffer).skipped);
      cur.results[kept.ep] = kept;
      ctx.flow.set('current', cur);
      return redrawSoon(ctx, cur.scanId);
    },
  },
  /** The scan (topic 'scan', from "collect the results") -> one page of the results table (output 1) and where it stands (output 2, the table's controls). */
  'results-table': {
    outputs: 2,
    input(msg, ctx) {
      const scan = record(msg.payload) as Partial<CurrentScan>;
      const saved = ctx.flow.get('tableView') as TableView | undefined;
      const view = saved ? tableViewOf(saved) : { ...DEFAULT_TABLE_VIEW };
      if (!saved || saved.scanId !== scan.scanId) view.page = 1;
      ctx.flow.set('tableView', { ...view, scanId: scan.scanId });
      return tableMessages(scan, view);
    },
  },
  /**
   * The table's controls (a browser: anything) -> the page they ask for, of the scan kept in the
   * flow (never one the message carries). In: {page, risk, find, sort}. Outputs as results-table.
   */
  'table-view': {
    outputs: 2,
    input(msg, ctx) {
      const scan = (current(ctx) || { results: {} }) as Partial<CurrentScan>;
      const view = tableViewOf(msg.payload);
      ctx.flow.set('tableView', { ...view, scanId: scan.scanId });
      return tableMessages(scan, view);
    },
  },
  /** A selected broker (payload.ep: a table row, or the worst at the end of a scan) -> the detail panel (payload null: none). */
  'broker-detail': {
    outputs: 1,
    input(msg, ctx) {
      const ep = record(msg.payload).ep;
      const results = record(record(ctx.flow.get('current')).results);
      const r = typeof ep === 'string' && Object.prototype.hasOwnProperty.call(results, ep) ? (results[ep] as KeptResult) : null;
      return [{ payload: r ? brokerDetail(r) : null }];
    },
  },
  /** The scan -> the summary cards and the scan line. */
  'summary-cards': {
    outputs: 1,
    input(msg) {
      const scan = record(msg.payload) as Partial<CurrentScan>;
      return [{ payload: { cards: summaryCards(scan), scan: scanLine(scan) } }];
    },
  },
  /** The scan -> brokers by risk level for the doughnut chart. */
  'risk-chart': {
    outputs: 1,
    input(msg) {
      return [{ payload: riskChart(record(msg.payload) as Partial<CurrentScan>) }];
    },
  },
  /**
   * The report writer's message (the scan is in the scan history now) -> the history panel and the
   * report files by scan id for the downloads (the newest 50); frees the form. Outputs: 1 the
   * history panel, 2 'reports' for the progress panel, 3 the score chart.
   */
  'scan-history': {
    outputs: 3,
    usesHistory: true,
    input(msg, ctx) {
      const id = msg.scanId;
      if (typeof id !== 'string' || !SCAN_ID_PATTERN.test(id)) return null;
      const reports = record(ctx.flow.get('reports')) as ReportFiles;
      reports[id] = { ...reportFilesOf(msg.payload), at: ctx.now() };
      ctx.flow.set('reports', keepNewestReports(reports, API_REPORTS_KEPT));
      if (record(ctx.flow.get('running')).scanId === id) ctx.flow.set('running', null);
      markScanDone(ctx, id, ctx.now());
      const [panel, chart] = historyOutputs(ctx);
      return [panel, { topic: 'reports', payload: { scanId: id } }, chart];
    },
  },
  /**
   * The history panel's filters or page changed (msg.payload {target, worst, period, page}) -> the
   * panel and the score chart for them; the filter is kept for the next visit. Outputs: 1 the
   * history panel, 2 the score chart.
   */
  'history-filter': {
    outputs: 2,
    usesHistory: true,
    input(msg, ctx) {
      const filter: HistoryFilter = historyFilterOf(msg.payload);
      ctx.flow.set('historyFilter', filter);
      return historyOutputs(ctx);
    },
  },
  /**
   * A scan node failed (from a Catch node) -> 'error' for the progress panel. The target expander
   * refusing the input, or the report writer failing, ends the scan: the form is free again.
   */
  'scan-error': {
    outputs: 1,
    input(msg, ctx) {
      const { message, fatal } = scanError(msg.error);
      const running = ctx.flow.get('running');
      if (fatal && running && (!msg.scanId || msg.scanId === record(running).scanId)) {
        ctx.flow.set('running', null);
        markScanDone(ctx, record(running).scanId, ctx.now());
      }
      return [{ topic: 'error', payload: { scanId: msg.scanId, message, fatal } }];
    },
  },
  /**
   * Events (start, status, complete, reports, cancel, error, interrupted, idle) -> the progress panel.
   * Status lines (msg.status) are sent at most every PROGRESS_REDRAW_MS, the latest one; the others at once.
   */
  'scan-progress': {
    outputs: 1,
    input(msg, ctx) {
      const p = nextProgress(ctx.flow.get('progress') as Progress | undefined, msg, ctx.now());
      if (!p) return null;
      ctx.flow.set('progress', p);
      if (!msg.status) return [{ payload: p }];
      // A status line: the latest one, at most every PROGRESS_REDRAW_MS.
      return atMostEvery(ctx, 'progress', PROGRESS_REDRAW_MS, () => {
        const now = ctx.flow.get('progress') as Progress | undefined;
        return now && now.state === 'running' ? [{ payload: now }] : null;
      });
    },
  },
  /**
   * The Cancel button. Outputs: 1 {cancel: true} for the probe and the sniffers, 2 'cancel' (or
   * "No scan is running.") for the progress panel.
   */
  'scan-cancel': {
    outputs: 2,
    input(_msg, ctx) {
      if (!ctx.flow.get('running')) return [null, { topic: 'error', payload: { message: 'No scan is running.', form: true } }];
      const cur = current(ctx);
      if (cur) {
        cur.cancelled = true;
        ctx.flow.set('current', cur);
      }
      return [{ cancel: true }, { topic: 'cancel' }];
    },
  },
  /**
   * On deploy and start: marks a scan that was running when the flows stopped interrupted (its
   * results, the history, the progress panel), frees the form and shows everything again.
   * Outputs: 1 'show' (results), 2 the history panel, 3 the form (MQTTSEC_LAB_TARGET,
   * MQTTSEC_LAB_PORTS), 4 'idle' or 'interrupted' (progress), 5 the tiles, 6 the live chart's series
   * reset, 7 the score chart.
   */
  'dashboard-restore': {
    outputs: 7,
    usesHistory: true,
    input(_msg, ctx) {
      const running = ctx.flow.get('running');
      const cur = current(ctx);
      let progress: ViewMessage = { topic: 'idle' };
      moveLegacyHistory(ctx);
      if (running && cur && cur.scanId === record(running).scanId && !cur.complete) {
        const scan = interruptedScan(cur, ctx.now());
        ctx.flow.set('current', cur);
        ctx.history?.add(scan);
        progress = { topic: 'interrupted', payload: { scanId: cur.scanId, seconds: secondsText(cur.durationMs ?? 0) } };
      }
      ctx.flow.set('running', null);
      clearScanMarks(ctx); // the flows (re)started: no scan they had started runs any more
      const form = { payload: initialForm({ target: ctx.env('MQTTSEC_LAB_TARGET'), ports: ctx.env('MQTTSEC_LAB_PORTS') }) };
      const [panel, chart] = historyOutputs(ctx);
      return [{ topic: 'show' }, panel, form, progress, { payload: ctx.flow.get('live') || {} }, liveSeriesReset(), chart];
    },
  },
  /**
   * GET .../reports/:file -> the file the report writer reported for that scan. Outputs: 1 msg.filename
   * and msg.report for a "file in" node, 2 a 404 answer.
   */
  'report-file': {
    outputs: 2,
    usesHistory: true,
    input(msg, ctx) {
      const name = record(record(msg.req).params).file;
      const found = findReport(name, reportFilesFor(name, ctx.flow.get('reports') as ReportFiles | undefined, ctx.history));
      if (!found.ok) return [null, answerOn(msg, found)];
      msg.filename = found.path;
      msg.report = { scanId: found.scanId, format: found.format };
      delete msg.payload;
      return [msg, null];
    },
  },
  /** The file read -> the download answer: its type, as an attachment, never sniffed or cached. */
  'report-download': {
    outputs: 1,
    input(msg) {
      const r = record(msg.report);
      delete msg.filename;
      delete msg.report;
      if (typeof r.scanId !== 'string' || !['pdf', 'csv', 'json'].includes(r.format as string)) return [answerOn(msg, missingReportAnswer())];
      msg.statusCode = 200;
      msg.headers = downloadHeaders({ scanId: r.scanId, format: r.format as DownloadFormat });
      return [msg];
    },
  },
  /** The report file is gone from disk (a Catch on the "file in" node) -> 404, not a hanging request. */
  'report-missing': {
    outputs: 1,
    input(msg) {
      if (!msg.res) return null;
      answerOn(msg, missingReportAnswer());
      delete msg.filename;
      delete msg.report;
      return [msg];
    },
  },
  /**
   * Every API request: X-API-KEY against MQTTSEC_API_KEY. Outputs: 1 POST /api/scan, 2 GET
   * /api/results, 3 GET /api/reports/..., 4 the refusal (401, 503), 5 GET /api/scans and
   * /api/scans/<id> (added last, so a flow wired for four outputs keeps its wiring).
   */
  'api-key': {
    outputs: 5,
    input(msg, ctx) {
      const headers = record(record(msg.req).headers);
      const check = checkApiKey(apiKeysFrom(ctx.env('MQTTSEC_API_KEY')), headers['x-api-key']);
      if (!check.ok) return on(3, 5, answerOn(msg, check));
      msg.apiKeyId = check.keyId; // the rate limit counts per key without storing the key itself
      delete headers['x-api-key']; // the request travels with the scan: not the key
      const endpoint = apiEndpoint(record(record(msg.req).route).path);
      return on({ scan: 0, results: 1, reports: 2, scans: 4 }[endpoint], 5, msg);
    },
  },
  /**
   * POST /api/scan: checks the body, applies the rate limit (10 accepted scans a minute per key)
   * and starts the scan; the request then waits for its scan (api-answer), at most
   * MQTTSEC_API_SCAN_TIMEOUT s (default 90 + listen_duration: then 504, and the scan goes on), and
   * is answered 503 "interrupted" if the flows stop first. Outputs: 1 the scan (target expander,
   * with msg.credentials), 2 an answer (400, 413, 429, 504), 3 a coordinated scan (`sites` in the
   * body: the site coordinator, with msg.sites and msg.credentialsName, the login the lab's agents
   * hold; only in `npm run lab:sites`, else 400 naming `sites`). Output 3 came last, so a flow
   * wired for two outputs keeps its wiring.
   */
  'api-scan': {
    outputs: 3,
    input(msg, ctx) {
      const check = checkScanRequest(msg.payload, labPorts(ctx));
      const req = msg.req;
      if (req && typeof req === 'object') (req as Record<string, unknown>).body = null; // the body may hold a password: keep it nowhere else
      if (!check.ok) return [null, answerOn(msg, check), null];
      const lab = check.sites ? labSitesState(ctx) : undefined;
      if (check.sites && !lab) {
        return [null, answerOn(msg, { status: 400, headers: { ...JSON_HEADERS }, body: { error: 'invalid_field', field: 'sites', message: 'sites: this Node-RED runs no sites lab; start it with npm run lab:sites (or scan without "sites")' } }), null];
      }
      const now = ctx.now();
      const keyId = String(msg.apiKeyId);
      const rate = record(ctx.flow.get('rate')) as Record<string, RateEntry[]>;
      const limit = rateCheck(rate[keyId], now);
      if (!limit.allowed) return [null, answerOn(msg, rateLimitedAnswer(limit.retryAfter)), null];
      const scanId = ctx.newId();
      rate[keyId] = [...limit.recent, { at: now, scanId }];
      ctx.flow.set('rate', rate);
      const pending = record(ctx.flow.get('pending')) as Record<string, number>;
      for (const id of Object.keys(pending)) if (now - pending[id] > API_PENDING_MAX_MS) delete pending[id];
      pending[scanId] = now;
      ctx.flow.set('pending', pending);
      markScanRunning(ctx, scanId, now);
      // The response itself stays in this node's memory: a response cannot go into the context
      // store, which is saved to disk. close() answers the ones still pending.
      const waiting = waitingRequests(ctx);
      for (const id of waiting.keys()) if (!pending[id]) waiting.delete(id);
      waiting.set(scanId, msg.res);
      const timeoutS = scanTimeoutSeconds(ctx.env('MQTTSEC_API_SCAN_TIMEOUT'), check.request.listen_duration);
      const res = msg.res;
      ctx.later(timeoutS * 1000, () => {
        const p = record(ctx.flow.get('pending'));
        waiting.delete(scanId);
        if (!p[scanId]) return;
        delete p[scanId];
        ctx.flow.set('pending', p);
        ctx.send([null, answerOn({ req, res }, timeoutAnswer(scanId, timeoutS)), null]);
      });
      const a = check.request;
      Object.assign(msg, { apiRequest: a, scanId, topic: `scan/${scanId}`, payload: { targets: a.target, ports: a.ports }, sniff: { listen: a.listen_duration, writeTest: a.write_test } });
      if (check.credentials) msg.credentials = check.credentials;
      // The opt-in travels next to msg.credentials into the target expander, which takes both out.
      if (check.sendCredentialsPlaintext) msg.sendCredentialsPlaintext = true;
      if (check.warnings.length) msg.apiWarnings = check.warnings;
      if (a.try_defaults) msg.tryDefaults = true;
      if (check.ca) msg.tlsCa = check.ca; // the target expander checks it again and carries it to the TLS stages
      msg.scanSource = 'api'; // the scan history records where each scan came from
      if (lab) {
        // Through the coordinator: the agents scan with the login they hold, by its name.
        msg.sites = check.sites === true ? lab.sites.map((site) => site.name) : check.sites;
        msg.credentialsName = lab.credentialsName;
        return [null, null, msg];
      }
      return [msg, null, null];
    },
    close(ctx) {
      // The scan nodes stop too, so a request still waiting would never be answered: 503 now,
      // straight through the HTTP response (the "http response" node may be closed already).
      const pending = record(ctx.flow.get('pending'));
      const waiting = waitingRequests(ctx);
      for (const [scanId, res] of waiting) {
        if (!pending[scanId]) continue; // answered already (results, 400/500, 504)
        delete pending[scanId];
        markScanDone(ctx, scanId, ctx.now());
        const a = interruptedAnswer(scanId);
        ctx.respond(res, a.status, a.headers, a.body);
      }
      waiting.clear();
      ctx.flow.set('pending', pending);
    },
  },
  /**
   * The report is written: keeps the scan as the latest (GET /api/results) and its report files
   * (the newest 50), then answers the POST that started it (200 with results, summary and report
   * links), unless that already got its answer.
   */
  'api-answer': {
    outputs: 1,
    input(msg, ctx) {
      const id = msg.scanId;
      if (typeof id !== 'string' || !id) return null;
      const now = ctx.now();
      const latest = latestResults(id, record(msg.report).json, msg.payload, msg.apiRequest, now);
      markScanDone(ctx, id, now); // its reports are written: the scan is over, answered or not
      delete msg.report;
      ctx.flow.set('latest', latest);
      const files = record(record(msg.payload).files);
      const reports = record(ctx.flow.get('reports')) as ReportFiles;
      reports[id] = { ...reportFilesOf(msg.payload), at: now };
      ctx.flow.set('reports', keepNewestReports(reports, API_REPORTS_KEPT));
      const pending = record(ctx.flow.get('pending'));
      if (!msg.res || !pending[id]) return null; // timed out: the 504 has been sent
      delete pending[id];
      ctx.flow.set('pending', pending);
      // A coordinated scan: what its coordinator said at the end (targets in no site's scope, shards not done).
      const ends = record(ctx.flow.get('sitesEnd'));
      const siteWarnings = Array.isArray(record(ends[id]).warnings) ? (record(ends[id]).warnings as string[]) : [];
      if (id in ends) {
        delete ends[id];
        ctx.flow.set('sitesEnd', ends);
      }
      const all = [...(Array.isArray(msg.apiWarnings) ? (msg.apiWarnings as string[]) : []), ...siteWarnings];
      const warnings = all.length ? { warnings: all } : {};
      return [answerOn(msg, { status: 200, headers: { ...JSON_HEADERS }, body: { ...latest, reports: reportLinks(id, files), ...warnings } })];
    },
  },
  /**
   * The API flow's site coordinator's second output: keeps, by scan id, what its 'end' event says
   * the answer should warn about (targets in no site's scope, not scanned; shards not done, each
   * with why: the last refusal or problem of at most 5 of them), for
   * api-answer (flow key `sitesEnd`, the newest 20 scans). No output.
   */
  'api-sites-events': {
    outputs: 0,
    input(msg, ctx) {
      const e = record(msg.payload);
      if (e.type !== 'end' || typeof e.scanId !== 'string') return null;
      const warnings: string[] = [];
      const outside = Array.isArray(e.outside) ? e.outside.slice(0, 20).map((t) => String(t).slice(0, 60)) : [];
      const outsideSpecs = typeof e.outsideSpecs === 'number' ? e.outsideSpecs : outside.length;
      if (outsideSpecs) warnings.push(`target: ${outside.join(', ')}${outsideSpecs > outside.length ? ` and ${outsideSpecs - outside.length} more` : ''}: in no site's scope, not scanned`);
      const notDone = typeof e.notDoneCount === 'number' ? e.notDoneCount : 0;
      if (notDone) {
        // Why, per shard (at most 5): an agent's refusal (e.g. a write test it does not allow) is not "no agent in time".
        const why = (Array.isArray(e.notDone) ? e.notDone : []).slice(0, 5).map((raw) => {
          const sh = record(raw);
          const refusals = Array.isArray(sh.refusals) ? sh.refusals : [];
          const problems = Array.isArray(sh.problems) ? sh.problems : [];
          const last = record(refusals[refusals.length - 1]);
          const reason = typeof last.reason === 'string'
            ? `${String(last.login).slice(0, 64)} refused (${String(last.code).slice(0, 20)}): ${last.reason}`
            : typeof problems[problems.length - 1] === 'string' ? (problems[problems.length - 1] as string) : 'no agent finished it in time';
          return `${String(sh.site).slice(0, 40)} shard ${Number(sh.shard)}: ${reason.slice(0, 300)}`;
        });
        warnings.push(`sites: ${notDone} shard${notDone === 1 ? '' : 's'} not done: their targets are missing from the results${why.length ? ` (${why.join('; ')})` : ''}`);
      }
      const ends = record(ctx.flow.get('sitesEnd')) as Record<string, { at: number; warnings: string[] }>;
      ends[e.scanId.slice(0, 64)] = { at: ctx.now(), warnings };
      const newest = Object.entries(ends).sort((a, b) => b[1].at - a[1].at).slice(0, 20);
      ctx.flow.set('sitesEnd', Object.fromEntries(newest));
      return null;
    },
  },
  /**
   * GET /api/scans (a page of the scan history: ?target=&worst=&since=&until=&source=&page=&per_page=)
   * and GET /api/scans/<id> (one whole scan), from lib/history's store, whichever flow ran the scan.
   */
  'api-scans': {
    outputs: 1,
    usesHistory: true,
    input(msg, ctx) {
      const req = record(msg.req);
      return [answerOn(msg, scansAnswer(ctx.history, record(req.params), record(req.query)))];
    },
  },
  /** GET /api/results: the latest finished API scan (none yet: scanId null, no results). */
  'api-results': {
    outputs: 1,
    input(msg, ctx) {
      return [answerOn(msg, { status: 200, headers: { ...JSON_HEADERS }, body: record(ctx.flow.get('latest') || noResults()) })];
    },
  },
  /**
   * A scan node failed (from a Catch node) -> the waiting POST's answer: 400 naming the field when
   * the target expander refused the target (that scan no longer counts towards the rate limit),
   * else 500.
   */
  'api-failed': {
    outputs: 1,
    input(msg, ctx) {
      const id = msg.scanId;
      const pending = record(ctx.flow.get('pending'));
      if (!msg.res || typeof id !== 'string' || !id || !pending[id]) return null; // answered already (or not an API request)
      delete pending[id];
      ctx.flow.set('pending', pending);
      const a = scanFailureAnswer(msg.error, id);
      if (a.refused) {
        ctx.flow.set('rate', forgetRefusedScan(record(ctx.flow.get('rate')) as Record<string, RateEntry[]>, id));
        markScanDone(ctx, id, ctx.now()); // the target expander refused it: it never started
      }
      answerOn(msg, a);
      delete msg.report;
      return [msg];
    },
  },
} satisfies Record<string, View>;

/** A view's name, e.g. 'scan-form', 'api-key'. */
export type ViewName = keyof typeof VIEWS;

/** Whether `name` names a view. */
export function isViewName(name: unknown): name is ViewName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(VIEWS, name);
}
