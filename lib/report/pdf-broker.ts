// One section per rated broker: facts, findings with evidence and fix, TLS details, the known
// vulnerabilities of its version, the devices behind the topics, topics.
import { changesText, readChanges, type ClassifiedResult } from '../risk';
import type { Finding } from '../types';
import { authText, CONFIG_LINE, formatTime, mqttVersions, outcomeText, plural } from './wording';
import { endpoint } from './model';
import { brokerUrl, devicesView, scannedByText, vulnerabilitiesView } from '../common';
import { facts, factsSpec, MARGIN, table, tableHeight, type Cell, type Pen } from './pdf-layout';
import { COLOR, LEVEL_COLOR, SEVERITY_COLOR } from './pdf-theme';

export const MAX_TOPICS_PER_BROKER = 30;
const MAX_PROBE_LINES = 10;

/** `onStart` runs once the section's page is settled (for its bookmark). */
export function brokerSection(pen: Pen, r: ClassifiedResult, number: string, maxTopics = MAX_TOPICS_PER_BROKER, onStart?: () => void): void {
  const { doc } = pen;
  const a = r.security_assessment;
  const broker = r.mqtt?.brokerVersion ?? (typeof r.topics?.sys?.version === 'string' ? r.topics.sys.version : null);
  const rows: Array<[string, string]> = [
    ['Result', `${outcomeText(r)} (${r.classification})`],
    ...(r.riskNotRated ? [['Risk', `not rated: ${r.riskNotRated}`] as [string, string]] : []),
    ['Transport', `${brokerUrl(r) ?? a.port_type ?? '-'}, encryption: ${a.encryption}`],
    ...(r.scannedBy ? [['Scanned by', scannedByText(r.scannedBy)] as [string, string]] : []),
    ['MQTT versions', mqttVersions(r)],
    ...(broker ? [['Broker software', broker] as [string, string]] : []),
    ['Anonymous connect', authText(r.auth.anonymous)],
    ['Random login', authText(r.auth.wrongCredentials)],
    ['Given login', authText(r.auth.givenCredentials)],
    ...(r.auth.defaultCredentials ? [['Default logins', authText(r.auth.defaultCredentials)] as [string, string]] : []),
    ...(r.auth.withoutCertificate ? [['Without the client certificate', authText(r.auth.withoutCertificate)] as [string, string]] : []),
    ...sinceRow(r),
  ];
  // Heading, facts and the first finding start on the same page.
  const first = r.findings[0] ? findingHeight(pen, r.findings[0]) : 30;
  pen.ensure(Math.min(34 + tableHeight(pen, factsSpec(rows, ['Broker', 'Observed'])) + 24 + first, pen.bottom - MARGIN.top));
  onStart?.();
  const y = doc.y;
  doc.save().rect(pen.left, y, pen.width, 26).fill(COLOR.brandLight).restore();
  doc.save().rect(pen.left, y, 4, 26).fill(r.risk ? LEVEL_COLOR[r.risk.level] : COLOR.unrated).restore();
  pen.use('bold', 12, COLOR.brand).at(`${number}  ${endpoint(r)}`, pen.left + 12, y + 7, { width: pen.width - 170, lineBreak: false, ellipsis: true });
  if (r.risk) {
    pen.use('body', 9, COLOR.muted).at(`score ${r.risk.score}/100`, pen.left + pen.width - 72, y + 8.5, { width: 66, align: 'right', lineBreak: false });
    pen.badge(r.risk.level, pen.left + pen.width - 142, y + 6.5, LEVEL_COLOR[r.risk.level], 8.5);
  } else {
    pen.use('body', 9, COLOR.muted).at('not rated', pen.left + pen.width - 72, y + 8.5, { width: 66, align: 'right', lineBreak: false });
  }
  doc.y = y + 34;
  facts(pen, rows, ['Broker', 'Observed']);

  subheading(pen, r.findings.length ? `Findings (${r.findings.length})` : 'Findings', 24 + first);
  if (!r.findings.length) {
    pen.use('body', 9, COLOR.muted).para(r.risk ? 'No finding: nothing this scan checks for was wrong on this broker.' : 'No finding, but most checks could not run (see "Risk" above).').gap(8);
  }
  for (const f of r.findings) findingBlock(pen, f);

  if (r.tls) tlsDetails(pen, r);
  vulnerabilityDetails(pen, r);
  if (r.topics) devicesDetails(pen, r);
  if (r.topics) topicsTable(pen, r, maxTopics);
  if (r.evidence?.length) {
    subheading(pen, 'Probe log');
    pen.use('mono', 7, COLOR.muted);
    for (const line of r.evidence.slice(0, MAX_PROBE_LINES)) pen.para(line);
    if (r.evidence.length > MAX_PROBE_LINES) pen.para(`… ${r.evidence.length - MAX_PROBE_LINES} more line(s) in the JSON report`);
  }
  pen.gap(16);
}

/** A heading that never sits alone at the foot of a page: `need` points must follow it. */
export function subheading(pen: Pen, text: string, need = 80): void {
  pen.ensure(need);
  pen.gap(4);
  pen.use('bold', 10, COLOR.brand).para(text);
  pen.gap(3);
}

const INDENT = 12;

function findingBlock(pen: Pen, f: Finding): void {
  const { doc } = pen;
  const w = pen.width - INDENT - 4;
  const x = pen.left + INDENT;
  const color = SEVERITY_COLOR[f.severity];
  // A finding stays on one page unless it is longer than a page.
  pen.ensure(Math.min(findingHeight(pen, f), pen.bottom - 100));
  const top = doc.y;
  const page = doc.bufferedPageRange().count;
  const badgeW = pen.badge(f.severity.toUpperCase(), x, top, color, 7);
  pen.use('bold', 9.5, COLOR.text);
  const titleH = pen.at(f.title, x + badgeW + 6, top + 0.5, { width: w - badgeW - 6 });
  doc.y = top + Math.max(titleH, 13) + 4;
  label(pen, 'EVIDENCE', x);
  pen.use('body', 8.5, COLOR.text);
  doc.text(pen.safe(f.evidence), x, doc.y, { width: w });
  doc.y += 3;
  label(pen, 'FIX', x);
  fixBox(pen, f.recommendation, x, w);
  pen.use('body', 7.5, COLOR.muted);
  doc.text(pen.safe(`References: ${f.references.join(' · ')}   ·   Finding id: ${f.id}`), x, doc.y, { width: w });
  const bottom = doc.y;
  // Severity stripe down the left of the block (only when the block did not cross a page).
  if (doc.bufferedPageRange().count === page) doc.save().rect(pen.left + 2, top, 3, bottom - top).fill(color).restore();
  doc.y = bottom + 10;
}

function findingHeight(pen: Pen, f: Finding): number {
  const w = pen.width - INDENT - 4;
  const title = pen.use('bold', 9.5).height(f.title, w - 70);
  const evidence = pen.use('body', 8.5).height(f.evidence, w);
  return title + evidence + fixHeight(pen, f.recommendation, w) + 58;
}

function label(pen: Pen, text: string, x: number): void {
  pen.use('bold', 7, COLOR.muted);
  pen.doc.text(text, x, pen.doc.y, { characterSpacing: 0.6 });
}

const FIX_PAD = 5;
const fixLines = (text: string) => text.split('\n').map((line) => ({ line, code: CONFIG_LINE.test(line) }));
const useFixFont = (pen: Pen, code: boolean) => (code ? pen.use('mono', 7.5, COLOR.brand) : pen.use('body', 8, COLOR.text));

function fixHeight(pen: Pen, text: string, w: number): number {
  return fixLines(text).reduce((h, { line, code }) => h + useFixFont(pen, code).height(line, w - 2 * FIX_PAD) + 1, 2 * FIX_PAD);
}

/** The fix: prose in the body font, mosquitto.conf lines and commands in monospace, on a grey panel. */
function fixBox(pen: Pen, text: string, x: number, w: number): void {
  const { doc } = pen;
  const h = fixHeight(pen, text, w);
  if (doc.y + h > pen.bottom) doc.addPage();
  const top = doc.y;
  doc.save().roundedRect(x, top, w, h, 3).fill(COLOR.codeBg).restore();
  doc.y = top + FIX_PAD;
  for (const { line, code } of fixLines(text)) {
    useFixFont(pen, code);
    doc.text(pen.safe(line), x + FIX_PAD, doc.y, { width: w - 2 * FIX_PAD });
    doc.y += 1;
  }
  doc.y = top + h + 4;
}

function tlsDetails(pen: Pen, r: ClassifiedResult): void {
  const t = r.tls!;
  const c = t.certificate;
  subheading(pen, 'TLS');
  const versions = Object.entries(t.versions ?? {});
  const rows: Array<[string, string]> = [
    ['Negotiated', [t.protocol, t.cipher].filter(Boolean).join(', ') || '-'],
  ];
  if (versions.length) {
    const yes = versions.filter(([, ok]) => ok).map(([v]) => v);
    const no = versions.filter(([, ok]) => !ok).map(([v]) => v);
    rows.push(['Versions', `accepted: ${yes.join(', ') || 'none'}${no.length ? `; refused: ${no.join(', ')}` : ''}`]);
  }
  if (t.weakCiphers) rows.push(['Weak ciphers', t.weakCiphers.length ? t.weakCiphers.join(', ') : 'none accepted']);
  if (t.psk) rows.push(['Pre-shared keys', `${t.psk.only ? 'only pre-shared keys (TLS-PSK)' : 'also pre-shared keys (TLS-PSK)'}; identity hint: ${t.psk.hint ?? 'none'}`]);
  rows.push(['TLS score', t.score !== undefined ? `${t.score}/100` : t.notRated ?? '-']);
  if (t.clientCertRequired !== undefined) rows.push(['Client certificate', t.clientCertRequired ? 'required' : 'not required']);
  if (c) {
    rows.push(['Subject', c.subject], ['Issuer', c.issuer]);
    if (c.subjectAltName) rows.push(['Names (SAN)', c.subjectAltName]);
    rows.push(['Valid', `${formatTime(c.validFrom)} to ${formatTime(c.validTo)} (${c.daysLeft < 0 ? `expired ${-c.daysLeft} day(s) ago` : `${c.daysLeft} day(s) left`})`]);
    rows.push(['Key', [c.keyType, c.keyBits ? `${c.keyBits} bits` : null, c.signatureAlgorithm].filter(Boolean).join(', ') || '-']);
    rows.push(['Trust', c.trusted ? 'chains to a trusted root' : `not trusted${c.trustError ? ` (${c.trustError})` : ''}${c.selfSigned ? ', self-signed' : ''}`]);
    if (c.hostnameMatch !== undefined) rows.push(['Host name', c.hostnameMatch ? `matches ${r.host}` : `does not match ${r.host}`]);
    if (Array.isArray(c.chain) && c.chain.length) rows.push(['Chain', c.chain.join('  >  ')]);
    rows.push(['SHA-256', c.fingerprint256]);
  }
  if (t.error) rows.push(['Inspector error', t.error]);
  facts(pen, rows, ['TLS', 'Observed']);
}

/**
 * "Known vulnerabilities": the product and version the broker said and where, a table of the
 * matches worst first (id linked to its first https source, severity, CVSS base score, the fix on
 * its branch, the summary), then the upgrade, the table's date and the backport caveat; an
 * outdated version without matches in one line (lib/common vulnerabilitiesView). Nothing when
 * the broker did not say its version.
 */
function vulnerabilityDetails(pen: Pen, r: ClassifiedResult): void {
  const v = vulnerabilitiesView(r.vulnerabilities);
  if (!v) return;
  const rows = v.rows.map((m): Array<Cell | string> => [
    { text: m.id, kind: 'mono', ...(m.link ? { link: m.link } : {}) },
    { text: m.severity.toUpperCase(), badge: SEVERITY_COLOR[m.severity] },
    m.score ?? '-',
    m.fixedIn ?? 'no fix released',
    m.summary,
  ]);
  subheading(pen, 'Known vulnerabilities', rows.length ? 110 : 60);
  pen.use('bold', 9, COLOR.text).para(v.heading).gap(4);
  if (rows.length) {
    table(pen, {
      columns: [
        { header: 'Id', width: 0.25, kind: 'mono' },
        { header: 'Severity', width: 0.11 },
        { header: 'CVSS', width: 0.07, align: 'right' },
        { header: 'Fixed in', width: 0.1 },
        { header: 'Summary', width: 0.47 },
      ],
      rows,
      size: 7.5,
      padding: 4,
    });
    if (v.more) pen.use('body', 8, COLOR.muted).para(`… ${v.more}.`).gap(2);
  }
  if (v.status) pen.use('body', 8.5, COLOR.text).para(`${v.status}.`).gap(2);
  if (v.upgrade) pen.use('bold', 8.5, COLOR.text).para(`${v.upgrade}.`).gap(2);
  pen.use('body', 8, COLOR.muted).para(`${v.asOf}.${v.caveat ? ` ${v.caveat}` : ''}`).gap(8);
}

/**
 * "Devices and data": per recognised ecosystem what it reveals, its devices, inventory and command
 * topics, positions (counted), its reference; then the totals. Counts and topic names only
 * (lib/common devicesView): never a position or a secret. Nothing without a summary to show.
 */
function devicesDetails(pen: Pen, r: ClassifiedResult): void {
  const d = devicesView(r.topics);
  if (!d) return;
  const label = (text: string): Cell => ({ text, kind: 'bold', color: COLOR.muted });
  const mono = (text: string): Cell => ({ text, kind: 'mono' });
  subheading(pen, 'Devices and data', 120);
  pen.use('body', 8.5, COLOR.muted).para('What the topics tell about the devices behind them. Positions and secrets are only counted: no report shows them.').gap(4);
  for (const e of d.ecosystems) {
    const rows: Array<Array<Cell | string>> = [[label('Reveals'), e.reveals]];
    if (e.inventory) rows.push([label('Inventory'), e.inventory], ...e.inventoryTopics.map((t) => ['', mono(t)]));
    if (e.commands) rows.push([label('Command topics'), e.commands], ...e.commandTopics.map((c) => ['', mono(`${c.topic} (${c.source})`)]));
    if (e.locations) rows.push([label('Locations'), e.locations]);
    if (e.reference) rows.push([label('Reference'), e.reference]);
    table(pen, { ...factsSpec([], [e.name, e.devices]), rows });
  }
  facts(pen, d.totals, ['Totals', 'Observed']);
}

function topicsTable(pen: Pen, r: ClassifiedResult, maxTopics: number): void {
  const t = r.topics!;
  const items = Array.isArray(t.items) ? t.items : [];
  const how = [t.listenedMs ? `in ${(t.listenedMs / 1000).toFixed(1)} s` : '', t.as ? `as ${t.as}` : ''].filter(Boolean).join(' ');
  subheading(pen, `Topics (${plural(t.count ?? items.length, 'topic')} seen${how ? ` ${how}` : ''})`);
  if (t.error) pen.use('body', 8.5, COLOR.muted).para(`Listening failed: ${t.error}`).gap(4);
  if (t.truncated?.length) pen.use('body', 8.5, COLOR.muted).para(`Incomplete: the ${t.truncated.join(' and ')} limit was reached.`).gap(4);
  if (typeof t.note === 'string' && t.note) pen.use('body', 8.5, COLOR.text).para(t.note).gap(4);
  if (t.writeTest) pen.use('body', 8.5, COLOR.text).para(`Write test on "${t.writeTest.topic}": ${t.writeTest.accepted ? 'accepted' : 'refused'} (${t.writeTest.evidence}).`).gap(4);
  if (items.length) {
    table(pen, {
      columns: [
        { header: 'Topic', width: 0.32 },
        { header: 'Msgs', width: 0.07, align: 'right' },
        { header: 'Size', width: 0.09, align: 'right' },
        { header: 'Retained', width: 0.1 },
        { header: 'Sensor', width: 0.1 },
        { header: 'Sample', width: 0.32, kind: 'mono' },
      ],
      rows: items.slice(0, maxTopics).map((it) => [
        clip(String(it.topic), 120),
        String(it.messages ?? ''),
        typeof it.bytes === 'number' ? byteSize(it.bytes) : '',
        it.retained ? 'yes' : 'no',
        it.sensor ?? '',
        it.sensitive?.length ? { text: String(it.sample ?? `[withheld: ${it.sensitive.join(', ')}]`), color: SEVERITY_COLOR.high, kind: 'mono' as const } : clip(String(it.sample ?? ''), 160),
      ]),
      size: 7.5,
    });
    if (items.length > maxTopics) pen.use('body', 8, COLOR.muted).para(`… and ${items.length - maxTopics} more topic(s) in the JSON report.`).gap(6);
  }
  // The $SYS topics the broker sent (sys.raw), never the listener's own field names; announcements
  // of the scanner's own connections are only counted.
  const raw = t.sys && typeof t.sys.raw === 'object' && t.sys.raw ? Object.entries(t.sys.raw as Record<string, unknown>) : [];
  const own = typeof t.sys?.ownConnectionEvents === 'number' ? t.sys.ownConnectionEvents : 0;
  if (raw.length || own) {
    subheading(pen, '$SYS topics the broker sent');
    if (raw.length) facts(pen, raw.slice(0, 12).map(([k, v]) => [k, clip(typeof v === 'string' ? v : JSON.stringify(v), 200)]), ['$SYS topic', 'Value']);
    if (raw.length > 12) pen.use('body', 8, COLOR.muted).para(`… and ${raw.length - 12} more in the JSON report.`).gap(6);
    if (own) pen.use('body', 8, COLOR.muted).para(`${own} $SYS message(s) announced the scanner's own connections and subscriptions; they are not listed${raw.length ? '' : ', and the broker sent no statistics while we listened'}.`).gap(6);
  }
}

/** "512 B", "71 KB", "5.2 MB": a payload's size for the topics table. */
function byteSize(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${Math.round(n / 1000)} KB`;
  return `${(n / 1e6).toFixed(1)} MB`;
}

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** "Since the previous scan": what changed (ScanResult.changes, lib/risk compareScans), when the result carries it and its host:port was scanned before. */
function sinceRow(r: ClassifiedResult): Array<[string, string]> {
  const c = readChanges((r as ClassifiedResult & { changes?: unknown }).changes);
  // Never scanned before (a flow's first scan): nothing to say "since", as in the dashboard.
  if (!c || !c.previous) return [];
  const previous = c.previous?.scanId ? ` (scan ${c.previous.scanId.slice(0, 8)})` : '';
  return [[`Since the previous scan${previous}`, changesText(c)]];
}
