/// <reference types="pdfkit" />
// The PDF report (pdfkit): cover, contents and how to read it, executive summary with a risk
// chart, the broker table, the broker sections (one per rated broker in a small scan; in a big
// one, one per group of brokers with the same findings: pdf-groups.ts), appendices. Header line and page
// numbers are added at the end over the buffered pages.
import PDFDocument from 'pdfkit';
import { formatDuration, formatTime, plural } from './wording';
import { DEFAULT_TITLE, endpoint, type ReportInput } from './model';
import { brokerSection, MAX_TOPICS_PER_BROKER } from './pdf-broker';
import { methodology, references, ruleCatalogue } from './pdf-appendix';
import { facts, MARGIN, Pen } from './pdf-layout';
import { brokerTable, executiveSummary } from './pdf-summary';
import { detailPlan, MAX_GROUP_ENDPOINTS, SECTION_LEVELS, type DetailPlan, type DetailSection } from './pdf-groups';
import { FONT_DIRS, registerFonts } from './pdf-text';
import { COLOR, LEVEL_COLOR, SEVERITY_COLOR } from './pdf-theme';

export interface PdfOptions {
  /** Where to look for DejaVu TTFs; null = pdfkit's built-in fonts only. */
  fontDirs?: readonly string[] | null;
  maxTopicsPerBroker?: number;
  /** One section per rated broker whatever the scan's size, as before issue 19 (about 1.6 pages a
   *  broker); by default brokers with the same findings share one in a big scan (pdf-groups.ts). */
  sectionEach?: boolean;
}

interface Chapter {
  number: string;
  title: string;
  page: number;
}

/** Brokers drawn between two pauses: a big report must not freeze the Node-RED runtime. */
const YIELD_EVERY = 8;

export async function renderPdf(input: ReportInput, opts: PdfOptions = {}): Promise<Buffer> {
  const title = clip(input.meta.title?.trim() || DEFAULT_TITLE, 70);
  const doc = new PDFDocument({
    size: 'A4',
    margins: MARGIN,
    bufferPages: true,
    info: {
      Title: clean(title),
      Author: clean(input.meta.preparedBy ?? 'MQTT security scanner'),
      Subject: clean(`MQTT broker security scan ${input.summary.scanId ?? ''}`.trim()),
      Keywords: 'MQTT, security, mosquitto, TLS, IoT',
      Creator: 'node-red-contrib-mqtt-security-scanner',
      CreationDate: input.generatedAt,
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const finished = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const pen = new Pen(doc, registerFonts(doc, opts.fontDirs === undefined ? FONT_DIRS : opts.fontDirs));
  const chapters: Chapter[] = [];
  const chapter = (number: string, name: string) => {
    doc.addPage();
    chapters.push({ number, title: name, page: doc.bufferedPageRange().count });
    doc.outline.addItem(clean(`${number} ${name}`));
    pen.use('bold', 18, COLOR.brand).para(`${number}  ${name}`);
    pen.gap(2).hr(COLOR.brand).gap(12);
  };

  cover(pen, input, title);
  doc.addPage();
  const contentsTop = aboutPage(pen, input);

  chapter('1', 'Executive summary');
  executiveSummary(pen, input);

  // Which brokers get a section in chapter 3 (pdf-groups.ts): each rated one in a small scan;
  // in a big one, brokers rated MEDIUM or worse with the same findings share one.
  const plan = detailPlan(input.results, { sectionEach: opts.sectionEach });
  chapter('2', 'Brokers');
  pen.use('body', 9, COLOR.text).para(brokersIntro(input, plan)).gap(8);
  await brokerTable(pen, input.results, plan);

  // Rated brokers, and ports that answered but could not be rated (with why).
  chapter('3', 'Broker details');
  const details = doc.outline.children.at(-1)!;
  if (plan.grouped) groupedIntro(pen, input, plan);
  else if (!plan.sections.length) pen.use('body', 9, COLOR.muted).para('No broker was rated.');
  const maxTopics = opts.maxTopicsPerBroker ?? MAX_TOPICS_PER_BROKER;
  for (let i = 0; i < plan.sections.length; i++) {
    const { number, members } = plan.sections[i];
    const r = members[0];
    const level = r.risk ? r.risk.level : 'not rated';
    // A bookmark points at the current page: add it once the section has its page.
    const bookmark = () => details.addItem(clean(members.length > 1 ? `${number} ${members.length} brokers with the same findings (${level})` : `${number} ${endpoint(r)} (${level})`));
    if (members.length > 1) {
      groupHeader(pen, plan.sections[i], bookmark);
      brokerSection(pen, r, number, maxTopics);
    } else {
      brokerSection(pen, r, number, maxTopics, bookmark);
    }
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((resolve) => setImmediate(resolve));
  }

  chapter('A', 'Rule catalogue');
  ruleCatalogue(pen);
  chapter('B', 'Method and scoring');
  methodology(pen);
  chapter('C', 'References');
  references(pen);

  contents(pen, contentsTop, chapters);
  headersAndFooters(pen, input, title);
  doc.end();
  return finished;
}

/** The line above the brokers table: what it holds and where the details are. */
function brokersIntro(input: ReportInput, plan: DetailPlan): string {
  const all = `All ${plural(input.results.length, 'result')} of the scan in address order.`;
  if (!plan.grouped) return `${all} Each rated broker has its own section in chapter 3.`;
  const beyond = input.results.length > plan.tableRows
    ? ` The first ${plan.tableRows} are listed here; the other ${input.results.length - plan.tableRows} are listed in the CSV and JSON reports.`
    : '';
  return `${all.replace('All', plan.tableRows < input.results.length ? 'The' : 'All')}${beyond} Brokers rated ${SECTION_LEVELS.join(', ')} point to the section of chapter 3 that shows their findings (brokers with the same findings share one); the others show their finding ids here. Every broker's full detail is in the CSV and JSON reports.`;
}

/** How chapter 3 of a grouped report reads, and what it leaves to the table. */
function groupedIntro(pen: Pen, input: ReportInput, plan: DetailPlan): void {
  const sectioned = plan.sections.reduce((n, s) => n + s.members.length, 0);
  const rest = input.results.length - sectioned;
  const parts = [
    `This scan found too many brokers for a section each. Brokers rated ${SECTION_LEVELS.join(', ')} with the same findings (the same finding ids at the same level) share one section: ${plural(sectioned, 'broker')} in ${plural(plan.sections.length, 'section')}. Each section names its brokers and shows the first of them in full; evidence, topics and certificates differ from broker to broker, and every broker's own are in the CSV and JSON reports.`,
  ];
  if (plan.unsectioned.brokers) parts.push(`${plural(plan.unsectioned.brokers, 'more broker')} rated ${SECTION_LEVELS.join(', ')} (${plural(plan.unsectioned.groups, 'other combination')} of findings) have no section here: they are rows of the table in chapter 2 with their finding ids.`);
  if (rest - plan.unsectioned.brokers > 0) parts.push(`The other ${plural(rest - plan.unsectioned.brokers, 'result')} (rated LOW, without findings, not rated, or not MQTT brokers) are rows of the table in chapter 2, with their finding ids or why they were not rated.`);
  pen.use('body', 9, COLOR.text).para(parts.join(' '), { lineGap: 1.5 }).gap(12);
}

/** The head of a section that stands for several brokers: how many, which (the first
 *  MAX_GROUP_ENDPOINTS), and that the first is shown in full below. */
function groupHeader(pen: Pen, section: DetailSection, onStart: () => void): void {
  const { doc } = pen;
  const { members, number } = section;
  const first = members[0];
  const level = first.risk ? first.risk.level : null;
  const named = members.slice(0, MAX_GROUP_ENDPOINTS).map(endpoint).join(', ');
  const more = members.length - Math.min(members.length, MAX_GROUP_ENDPOINTS);
  const list = `${named}${more ? `, and ${more} more: marked ${number} in the table of chapter 2, and every one is listed in the CSV and JSON reports` : ''}.`;
  pen.ensure(Math.min(60 + pen.use('mono', 7.5).height(list, pen.width), pen.bottom - MARGIN.top));
  onStart();
  const y = doc.y;
  doc.save().rect(pen.left, y, pen.width, 26).fill(COLOR.brand).restore();
  doc.save().rect(pen.left, y, 4, 26).fill(level ? LEVEL_COLOR[level] : COLOR.unrated).restore();
  pen.use('bold', 12, COLOR.white).at(`${number}  ${plural(members.length, 'broker')} with the same findings`, pen.left + 12, y + 7, { width: pen.width - 170, lineBreak: false, ellipsis: true });
  if (level) pen.badge(level, pen.left + pen.width - 142, y + 6.5, LEVEL_COLOR[level], 8.5);
  doc.y = y + 34;
  pen.use('body', 9, COLOR.text).para(`${plural(first.findings.length, 'finding')} on each of these ${members.length} brokers (${[...new Set(first.findings.map((f) => f.id))].join(', ') || 'none'}). The first of them is shown in full below; the evidence of the others differs in its details (addresses, topics, certificates).`, { lineGap: 1.5 }).gap(4);
  pen.use('bold', 7, COLOR.muted).para('THE BROKERS', { characterSpacing: 0.6 }).gap(2);
  pen.use('mono', 7.5, COLOR.text).para(list, { lineGap: 1 }).gap(10);
}

function cover(pen: Pen, input: ReportInput, title: string): void {
  const { doc } = pen;
  const w = doc.page.width;
  const s = input.summary;
  doc.save().rect(0, 0, w, 270).fill(COLOR.brand).restore();
  doc.save().rect(0, 270, w, 5).fill(s.worstLevel ? LEVEL_COLOR[s.worstLevel] : COLOR.unrated).restore();
  pen.use('bold', 8, '#9fb6cf').at('CONFIDENTIAL  ·  SECURITY ASSESSMENT', MARGIN.left, 56, { characterSpacing: 1.5, lineBreak: false });
  const titleH = pen.use('bold', 30, COLOR.white).at(title, MARGIN.left, 96, { width: w - 2 * MARGIN.left, height: 80, ellipsis: true });
  pen.use('body', 13, '#c9d7e6').at('Security assessment of MQTT brokers: authentication, transport encryption and exposed data', MARGIN.left, 96 + Math.min(titleH, 80) + 14, { width: w - 2 * MARGIN.left - 60 });
  if (input.meta.preparedFor) pen.use('body', 11, COLOR.white).at(`Prepared for ${input.meta.preparedFor}`, MARGIN.left, 236, { width: w - 2 * MARGIN.left, lineBreak: false, ellipsis: true });

  const y = 305;
  pen.use('bold', 9, COLOR.muted).at('OVERALL RISK', MARGIN.left, y, { characterSpacing: 1, lineBreak: false });
  if (s.worstLevel) pen.badge(s.worstLevel, MARGIN.left, y + 16, LEVEL_COLOR[s.worstLevel], 16);
  else pen.badge('NOT RATED', MARGIN.left, y + 16, COLOR.unrated, 16);
  const figures = s.assessed
    ? `${plural(s.assessed, 'broker')} rated · average score ${s.averageScore}/100 · ${s.openBrokers} open to anyone`
    : input.results.some((r) => r.riskNotRated)
      ? `${plural(input.results.filter((r) => r.riskNotRated).length, 'TLS port')} answered but could not be assessed (chapter 3 says why).`
      : 'No MQTT broker answered.';
  pen.use('body', 10, COLOR.text).at(figures, MARGIN.left + 160, y + 22, { width: pen.width - 160 });

  doc.y = y + 70;
  const scan = input.scan;
  const credentialsTested = input.results.some((r) => r.auth.givenCredentials.outcome !== 'not_tested');
  const rows: Array<[string, string]> = [
    ['Scan id', s.scanId ?? '-'],
    ['Targets', input.meta.targets?.length ? listed(input.meta.targets, 20) : targetsFromResults(input)],
  ];
  if (input.meta.ports?.length) rows.push(['Ports', compactPorts(input.meta.ports)]);
  rows.push(
    ['Started', formatTime(scan?.startedAt)],
    ['Finished', formatTime(scan?.finishedAt)],
    ['Duration', formatDuration(scan?.durationMs)],
    ['Targets scanned', String(scan?.targets ?? input.results.length) + (scan?.cancelled ? ' (scan cancelled before the end)' : '')],
    ['Brokers found', `${s.brokers} (${s.openBrokers} open to anyone, ${s.authFailures} refused every login)`],
    ['Login tested', credentialsTested ? 'yes; the username and password are not recorded anywhere' : 'no (anonymous and random-login tests only)'],
  );
  const options = Object.entries(input.meta.options ?? {});
  if (options.length) rows.push(['Options', options.map(([k, v]) => `${k}: ${String(v)}`).join(', ')]);
  if (input.meta.preparedBy) rows.push(['Prepared by', input.meta.preparedBy]);
  rows.push(['Report generated', formatTime(input.generatedAt)]);
  facts(pen, rows, ['Scan', 'Details'], 0.24, 9);

  // Findings at a glance: one pill per severity with its count.
  const sev = (['critical', 'high', 'medium', 'low', 'info'] as const).filter((k) => s.bySeverity[k] > 0);
  if (!sev.length) return;
  pen.ensure(60);
  pen.gap(6).use('bold', 9, COLOR.muted).para('FINDINGS AT A GLANCE', { characterSpacing: 1 });
  pen.gap(6);
  const yy = doc.y;
  let x = MARGIN.left;
  for (const k of sev) x += pen.badge(`${s.bySeverity[k]}  ${k.toUpperCase()}`, x, yy, SEVERITY_COLOR[k], 10) + 8;
  doc.y = yy + 24;
  pen.use('body', 8.5, COLOR.muted).para(`${plural(s.byFinding.length, 'kind')} of finding on ${plural(s.assessed, 'rated broker')}; details from page 3 on.`);
}

/** Page 2: contents (filled in at the end) and how to read the report. Returns the contents' top. */
function aboutPage(pen: Pen, input: ReportInput): number {
  const { doc } = pen;
  pen.use('bold', 18, COLOR.brand).para('Contents');
  pen.gap(2).hr(COLOR.brand).gap(10);
  const top = doc.y;
  doc.y = top + 7 * 18 + 24;
  pen.use('bold', 13, COLOR.brand).para('How to read this report').gap(6);
  pen.use('body', 9.5, COLOR.text).para(
    'Every broker found gets a risk level and a score from 0 to 100 (100 = nothing found). Each finding names its severity, the evidence the scanner saw, the exact change that fixes it (mosquitto.conf lines, a command, or a firmware change) and references (CWE, OWASP IoT Top 10 2018).',
    { lineGap: 1.5 },
  ).gap(10);
  const legend: Array<[keyof typeof SEVERITY_COLOR, string]> = [
    ['critical', 'Anyone on the network can connect, read everything and send commands. Fix immediately.'],
    ['high', 'Logins or data can be read or altered on the network. Fix before the system is used again.'],
    ['medium', 'A protection is weakened or misconfigured. Fix in the next planned change.'],
    ['low', 'Information that helps an attacker. Fix when convenient.'],
    ['info', 'An observation; no action needed.'],
  ];
  for (const [sev, text] of legend) {
    const y = doc.y;
    pen.badge(sev.toUpperCase(), MARGIN.left, y, SEVERITY_COLOR[sev], 8);
    const h = pen.use('body', 9, COLOR.text).at(text, MARGIN.left + 80, y + 1.5, { width: pen.width - 80 });
    doc.y = y + Math.max(20, h + 8);
  }
  pen.gap(10);
  pen.use('bold', 13, COLOR.brand).para('Scope').gap(6);
  pen.use('body', 9.5, COLOR.text).para(
    `The scan covered ${plural(input.scan?.targets ?? input.results.length, 'target')}. It only observes what a client on the network can see; it changes nothing on the brokers except one publish to its own canary topic where the topic sniffer's write test is enabled. This report contains no password.`,
    { lineGap: 1.5 },
  );
  return top;
}

function contents(pen: Pen, top: number, chapters: Chapter[]): void {
  const { doc } = pen;
  doc.switchToPage(1);
  chapters.forEach((c, i) => {
    const y = top + i * 18;
    const label = c.number.length === 1 && /[A-Z]/.test(c.number) ? `Appendix ${c.number}` : c.number;
    pen.use('bold', 10.5, COLOR.brand).at(label, MARGIN.left, y, { width: 80, lineBreak: false });
    pen.use('body', 10.5, COLOR.text).at(c.title, MARGIN.left + 80, y, { width: pen.width - 130, lineBreak: false });
    pen.use('body', 10.5, COLOR.muted).at(String(c.page), MARGIN.left + pen.width - 40, y, { width: 40, align: 'right', lineBreak: false });
    doc.save().moveTo(MARGIN.left, y + 14).lineTo(MARGIN.left + pen.width, y + 14).lineWidth(0.3).dash(1, { space: 2 }).strokeColor(COLOR.rule).stroke().undash().restore();
  });
}

function headersAndFooters(pen: Pen, input: ReportInput, title: string): void {
  const { doc } = pen;
  const range = doc.bufferedPageRange();
  const scan = input.summary.scanId ? `Scan ${input.summary.scanId.slice(0, 8)}` : 'Scan';
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    // Writing in the margins must not make pdfkit start a new page.
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    const w = doc.page.width;
    const h = doc.page.height;
    if (i > range.start) {
      pen.use('bold', 8, COLOR.brand).at(title, MARGIN.left, 34, { width: 300, lineBreak: false, ellipsis: true });
      pen.use('body', 8, COLOR.muted).at(`${scan} · ${formatTime(input.scan?.startedAt ?? input.generatedAt)}`, w - MARGIN.right - 220, 34, { width: 220, align: 'right', lineBreak: false });
      doc.save().moveTo(MARGIN.left, 48).lineTo(w - MARGIN.right, 48).lineWidth(0.8).strokeColor(COLOR.brand).stroke().restore();
    }
    doc.save().moveTo(MARGIN.left, h - 44).lineTo(w - MARGIN.right, h - 44).lineWidth(0.4).strokeColor(COLOR.rule).stroke().restore();
    pen.use('body', 7.5, COLOR.muted).at('Confidential · MQTT security scanner · contains no passwords', MARGIN.left, h - 36, { width: 300, lineBreak: false });
    pen.use('body', 7.5, COLOR.muted).at(`Page ${i - range.start + 1} of ${range.count}`, w - MARGIN.right - 120, h - 36, { width: 120, align: 'right', lineBreak: false });
    doc.page.margins.bottom = bottom;
  }
}

function targetsFromResults(input: ReportInput): string {
  return listed([...new Set(input.results.map((r) => r.host))], 8) || '-';
}

function listed(items: readonly string[], max: number): string {
  return items.length > max ? `${items.slice(0, max).join(', ')} and ${items.length - max} more` : items.join(', ');
}

function compactPorts(ports: readonly number[]): string {
  const sorted = [...new Set(ports)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    out.push(j > i ? `${sorted[i]}-${sorted[j]}` : String(sorted[i]));
    i = j;
  }
  return out.join(', ');
}

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** Outline and metadata strings: any Unicode, but no control characters or broken surrogates. */
function clean(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '?');
}
