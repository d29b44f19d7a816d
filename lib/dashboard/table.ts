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

/** The table's rows for a scan: worst risk first, then by endpoint (numeric order), then by topic. */
export function tableRows(scan: Partial<Pick<CurrentScan, 'results'>> | null | undefined): TableRow[] {
  const rows: Array<Omit<TableRow, 'id'>> = [];
  for (const r of Object.values((scan && scan.results) || {})) {
    const base = { ep: r.ep, security: securityText(r), risk: r.risk ? r.risk.level : 'not rated', rank: r.risk ? RANK[r.risk.level] : 5 };
    const items = r.topics && Array.isArray(r.topics.items) ? r.topics.items : [];
    if (!items.length) rows.push({ sensor: '—', data: '—', topic: noTopicsText(r), messages: '', ...base });
    for (const t of items) rows.push({ sensor: (t.sensor && SENSOR[t.sensor]) || (t.sensor ? String(t.sensor) : '—'), data: topicDataText(t), topic: String(t.topic), messages: t.messages, ...base });
  }
  rows.sort((a, b) => a.rank - b.rank || a.ep.localeCompare(b.ep, undefined, { numeric: true }) || a.topic.localeCompare(b.topic));
  return rows.map((row, id) => ({ ...row, id }));
}

/** What the empty table says: no scan yet, nothing answered, or still scanning. */
export function tablePlaceholder(scan: Partial<Pick<CurrentScan, 'scanId' | 'complete'>> | null | undefined): string {
  const s = scan || {};
  return !s.scanId ? 'No scan yet: press Start scan.' : s.complete ? 'No MQTT broker answered on these targets and ports.' : 'Scanning…';
}

/**
 * The message for the ui_table node: the rows, and the Tabulator options (risk colours, placeholder,
 * fitted columns; on a narrow screen the columns with the highest `responsive` number in the flow's
 * column list hide first, so IP:PORT and Risk always show).
 */
export function tableMessage(scan: Partial<CurrentScan> | null | undefined): ViewMessage {
  return { payload: tableRows(scan), ui_control: { tabulator: { rowFormatter: RISK_ROW_FORMATTER, placeholder: tablePlaceholder(scan), layout: 'fitColumns', responsiveLayout: 'hide' } } };
}
