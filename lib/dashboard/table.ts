// The results table (node-red-node-ui-table): one row per topic, a broker with no readable topic
// as one row, worst risk first. Every cell is text; the table shows it with Tabulator's
// "plaintext" formatter, so a topic named like markup stays text.
import type { ScanResult } from '../types';
import { certificateIsIdentity } from '../risk';
import type { CurrentScan, KeptResult, KeptTopic, ViewMessage } from './types';

/** One row of the table. `rank` sorts (0 CRITICAL ... 3 LOW, 5 not rated); `id` is the row's position. */
export interface TableRow {
  id: number;
  ep: string;
  /** "TLS · login required", "plain TCP · anonymous", ... */
  security: string;
  /** DHT11, LDR, PIR, numeric, another sensor name, or "—". */
  sensor: string;
  /** Parsed values ("temperature 21.5 °C · humidity 40 %") or the sample (at most 60 characters + "…"). */
  data: string;
  topic: string;
  /** Messages heard on the topic; '' on a broker's placeholder row. */
  messages: number | '';
  /** CRITICAL, HIGH, MEDIUM, LOW or "not rated". */
  risk: string;
  rank: number;
}

const RANK: Record<string, number> = { CRITICAL: 0, HIGH: 1, MEDIUM: 2, LOW: 3 };
const SENSOR: Record<string, string> = { dht: 'DHT11', ldr: 'LDR', pir: 'PIR', numeric: 'numeric' };
const UNIT: Record<string, string> = { temperature: ' °C', humidity: ' %', percent: ' %', light: ' %' };
const NAME: Record<string, string> = { percent: 'light' };
const SAMPLE_CHARS = 60;

/**
 * Colours the risk cell from a fixed table of our own four levels (never from data): ui-table runs
 * this text as Tabulator's rowFormatter in the browser.
 */
export const RISK_ROW_FORMATTER =
  "function(row){var c={CRITICAL:['#c62828','#fff'],HIGH:['#ef6c00','#fff'],MEDIUM:['#f9a825','#1b1b1b'],LOW:['#2e7d32','#fff']}[row.getData().risk];var el=row.getCell('risk').getElement();el.style.fontWeight='600';if(c){el.style.background=c[0];el.style.color=c[1];}}";

/** How the table names a transport: TLS and WebSocket, plain or not. */
const TRANSPORT_TEXT: Record<string, string> = { tcp: 'plain TCP', tls: 'TLS', ws: 'plain WebSocket', wss: 'TLS WebSocket' };

/** "TLS · anonymous", "plain TCP · any login", "TLS WebSocket · login accepted", "TLS · login required", or the classification. */
export function securityText(r: Pick<KeptResult, 'transport' | 'auth' | 'classification'>): string {
  const transport = (r.transport && TRANSPORT_TEXT[r.transport]) || '—';
  const accepted = (a: { outcome?: string } | undefined) => !!a && a.outcome === 'accepted';
  const auth = r.auth || ({} as KeptResult['auth']);
  const who = certificateIsIdentity(r as unknown as ScanResult)
    ? 'client certificate'
    : accepted(auth.anonymous)
    ? 'anonymous'
    : accepted(auth.wrongCredentials)
      ? 'any login'
      : accepted(auth.givenCredentials)
        ? 'login accepted'
        : accepted(auth.defaultCredentials)
        ? 'default login'
        : r.classification === 'not_authorized'
          ? 'login required'
          : r.classification;
  return `${transport} · ${who}`;
}

/** The topic cell of a broker without topics: why there are none. */
export function noTopicsText(r: Pick<KeptResult, 'classification' | 'topics' | 'skipped'> & Partial<Pick<KeptResult, 'riskNotRated'>>): string {
  if (r.riskNotRated) return `(not rated: ${r.riskNotRated.length > 120 ? `${r.riskNotRated.slice(0, 119)}…` : r.riskNotRated})`;
  if (r.classification === 'not_authorized') return '(not readable: login required)';
  if (!r.topics) return r.skipped ? '(not read)' : '(not listened)';
  return r.topics.error ? `(error: ${String(r.topics.error).slice(0, 80)})` : '(no messages heard)';
}

/** A topic's data cell: its parsed values with units, else its sample cut at 60 characters, else "—". */
export function topicDataText(t: Pick<KeptTopic, 'values' | 'sample'>): string {
  if (t.values && typeof t.values === 'object') {
    return Object.keys(t.values)
      .filter((k) => k !== 'raw')
      .map((k) => {
        const v = t.values![k];
        return `${NAME[k] || k} ${typeof v === 'boolean' ? (v ? 'yes' : 'no') : v + (UNIT[k] || '')}`;
      })
      .join(' · ');
  }
  const s = typeof t.sample === 'string' ? t.sample : '';
  return s.length > SAMPLE_CHARS ? `${s.slice(0, SAMPLE_CHARS)}…` : s || '—';
}

/** Characters of a topic shown in its cell (a topic may be 65,535 bytes: OASIS MQTT 5.0 §1.5.4): the sniffer already shortens a long one to about 260 ("…(+N chars)"), this bounds any other. */
export const TOPIC_CELL_CHARS = 300;

/** Compares endpoints in numeric order ("127.0.0.2:1883" before "127.0.0.10:1883"); Intl.Collator: localeCompare with options builds one per call. */
const ENDPOINT_ORDER = new Intl.Collator(undefined, { numeric: true });
const TOPIC_ORDER = new Intl.Collator();

/** A broker's rows (without `id`): one per topic, or one placeholder row when it has none. */
function brokerRows(r: KeptResult): Array<Omit<TableRow, 'id'>> {
  const base = { ep: r.ep, security: securityText(r), risk: r.risk ? r.risk.level : 'not rated', rank: r.risk ? RANK[r.risk.level] : 5 };
  const items = r.topics && Array.isArray(r.topics.items) ? r.topics.items.slice().sort((a, b) => TOPIC_ORDER.compare(String(a.topic), String(b.topic))) : [];
  if (!items.length) return [{ sensor: '—', data: '—', topic: noTopicsText(r), messages: '', ...base }];
  return items.map((t) => {
    const topic = String(t.topic);
    return {
      sensor: (t.sensor && SENSOR[t.sensor]) || (t.sensor ? String(t.sensor) : '—'),
      data: topicDataText(t),
      topic: topic.length > TOPIC_CELL_CHARS ? `${topic.slice(0, TOPIC_CELL_CHARS - 1)}…` : topic,
      messages: t.messages,
      ...base,
    };
  });
}

/** The scan's brokers, worst risk first, then by endpoint (numeric order). */
function brokersInOrder(scan: Partial<Pick<CurrentScan, 'results'>> | null | undefined): KeptResult[] {
  const rank = (r: KeptResult) => (r.risk ? RANK[r.risk.level] : 5);
  return Object.values((scan && scan.results) || {}).sort((a, b) => rank(a) - rank(b) || ENDPOINT_ORDER.compare(a.ep, b.ep));
}

/** The table's rows for a scan: worst risk first, then by endpoint (numeric order), then by topic; `id` numbers them in that order. */
export function tableRows(scan: Partial<Pick<CurrentScan, 'results'>> | null | undefined): TableRow[] {
  const rows: TableRow[] = [];
  for (const r of brokersInOrder(scan)) for (const row of brokerRows(r)) rows.push({ ...row, id: rows.length });
  return rows;
}

/** Rows per page of the results table: a page is one websocket message of at most ~60 KB (cells are bounded: topic 200 characters, data 61). */
export const TABLE_PAGE_ROWS = 50;

/** How the table can be ordered: risk (worst first, then endpoint, then topic), endpoint, topic, messages (most first). */
export const TABLE_SORTS = ['risk', 'endpoint', 'topic', 'messages'] as const;
export type TableSort = (typeof TABLE_SORTS)[number];
/** The risk filter's values: '' any, a level, or 'none' (not rated). */
export const TABLE_RISK_FILTERS = ['', 'CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'none'] as const;
/** Most characters of the "find" text. */
export const TABLE_FIND_CHARS = 200;

/** What the table shows: its page (from 1), risk filter, find text (any cell, case-insensitive) and order (flow key `tableView`). */
export interface TableView {
  page: number;
  risk: (typeof TABLE_RISK_FILTERS)[number];
  find: string;
  sort: TableSort;
  /** The scan the page belongs to: a new scan starts at page 1. */
  scanId?: string;
}

export const DEFAULT_TABLE_VIEW: TableView = { page: 1, risk: '', find: '', sort: 'risk' };

/**
 * A table view from the controls' message (anything: it comes from a browser): each part that is
 * missing or not one of its values takes its default; the page is a whole number >= 1 (pages past
 * the end show the last one); the find text is cut at TABLE_FIND_CHARS.
 */
export function tableViewOf(payload: unknown): TableView {
  const p = payload && typeof payload === 'object' ? (payload as Record<string, unknown>) : {};
  const page = typeof p.page === 'number' ? p.page : typeof p.page === 'string' ? Number(p.page) : NaN;
  return {
    page: Number.isInteger(page) && page >= 1 ? Math.min(page, 1e6) : 1,
    risk: (TABLE_RISK_FILTERS as readonly unknown[]).includes(p.risk) ? (p.risk as TableView['risk']) : '',
    find: typeof p.find === 'string' ? p.find.trim().slice(0, TABLE_FIND_CHARS) : '',
    sort: (TABLE_SORTS as readonly unknown[]).includes(p.sort) ? (p.sort as TableSort) : 'risk',
  };
}

/** One page of the table and where it stands: the controls show it. */
export interface TablePage {
  rows: TableRow[];
  /** The page shown (from 1) and how many there are (at least 1). */
  page: number;
  pages: number;
  /** Rows matching the filters, rows of the whole scan, and brokers of the whole scan. */
  matching: number;
  total: number;
  brokers: number;
  /** Position of the first and last row shown among the matching rows, from 1 (0, 0 when none). */
  from: number;
  to: number;
}

/**
 * The page `view` asks for: rows filtered by risk and find text, in its order, TABLE_PAGE_ROWS at a
 * time. Rows are made only for the page in the default orders (risk, endpoint); ordering by topic
 * or messages makes every matching row. `id` is a row's position among the matching rows.
 */
export function tablePage(scan: Partial<Pick<CurrentScan, 'results'>> | null | undefined, view: TableView): TablePage {
  const brokers = view.sort === 'endpoint' ? Object.values((scan && scan.results) || {}).sort((a, b) => ENDPOINT_ORDER.compare(a.ep, b.ep)) : brokersInOrder(scan);
  const find = view.find.toLowerCase();
  const wanted = (row: Omit<TableRow, 'id'>) =>
    !find || [row.ep, row.security, row.sensor, row.data, row.topic].some((cell) => cell.toLowerCase().includes(find));
  const rankWanted = view.risk === '' ? null : view.risk === 'none' ? 5 : RANK[view.risk];
  let total = 0;
  const matchingRows: Array<Omit<TableRow, 'id'>> = [];
  let matching = 0;
  const fullSort = view.sort === 'topic' || view.sort === 'messages';
  const first = (view.page - 1) * TABLE_PAGE_ROWS;
  for (const r of brokers) {
    const count = r.topics && Array.isArray(r.topics.items) && r.topics.items.length ? r.topics.items.length : 1;
    total += count;
    const rank = r.risk ? RANK[r.risk.level] : 5;
    if (rankWanted !== null && rank !== rankWanted) continue;
    if (!find && !fullSort) {
      // Whole brokers before or after the page are counted, never made into rows.
      if (matching + count <= first || matching >= first + TABLE_PAGE_ROWS) {
        matching += count;
        continue;
      }
    }
    for (const row of brokerRows(r)) {
      if (!wanted(row)) continue;
      if (fullSort || (matching >= first && matching < first + TABLE_PAGE_ROWS)) matchingRows.push(row);
      matching++;
    }
  }
  if (view.sort === 'topic') matchingRows.sort((a, b) => TOPIC_ORDER.compare(a.topic, b.topic) || ENDPOINT_ORDER.compare(a.ep, b.ep));
  if (view.sort === 'messages') matchingRows.sort((a, b) => (Number(b.messages) || 0) - (Number(a.messages) || 0) || a.rank - b.rank || ENDPOINT_ORDER.compare(a.ep, b.ep));
  const pages = Math.max(1, Math.ceil(matching / TABLE_PAGE_ROWS));
  const page = Math.min(view.page, pages);
  const start = (page - 1) * TABLE_PAGE_ROWS;
  // Without a full sort, matchingRows holds the requested page only; a page past the end asks again for the last.
  const slice = fullSort ? matchingRows.slice(start, start + TABLE_PAGE_ROWS) : page === view.page ? matchingRows : tablePage(scan, { ...view, page }).rows;
  const rows = slice.map((row, i) => ({ ...row, id: start + i }));
  return { rows, page, pages, matching, total, brokers: brokers.length, from: rows.length ? start + 1 : 0, to: start + rows.length };
}

/** What the empty table says: no scan yet, nothing answered, or still scanning. */
export function tablePlaceholder(scan: Partial<Pick<CurrentScan, 'scanId' | 'complete'>> | null | undefined): string {
  const s = scan || {};
  return !s.scanId ? 'No scan yet: press Start scan.' : s.complete ? 'No MQTT broker answered on these targets and ports.' : 'Scanning…';
}

/**
 * The message for the ui_table node: one page of rows (tablePage) and the Tabulator options (risk
 * colours, placeholder, fitted columns, every row of the page drawn (no virtual DOM: 50 rows), no header sorting: the order is the server's, over every
 * row, not the page's; on a narrow screen the columns with the highest `responsive` number in the
 * flow's column list hide first, so IP:PORT and Risk always show).
 */
export function tableMessage(scan: Partial<CurrentScan> | null | undefined, view: TableView = DEFAULT_TABLE_VIEW): ViewMessage {
  return tableMessages(scan, view)[0];
}

/** The table's message (tableMessage) and the controls' message: {page, pages, matching, total, brokers, from, to, view}. */
export function tableMessages(scan: Partial<CurrentScan> | null | undefined, view: TableView): [ViewMessage, ViewMessage] {
  const got = tablePage(scan, view);
  const filtered = view.risk !== '' || view.find !== '';
  const placeholder = filtered && got.total ? 'No row matches these filters.' : tablePlaceholder(scan);
  const { rows, ...where } = got;
  return [
    { payload: rows, ui_control: { tabulator: { rowFormatter: RISK_ROW_FORMATTER, placeholder, layout: 'fitColumns', responsiveLayout: 'hide', headerSort: false, virtualDom: false } } },
    { payload: { ...where, view: { page: got.page, risk: view.risk, find: view.find, sort: view.sort } } },
  ];
}
