// Executive summary (figures, risk chart, most serious findings, priority actions) and the
// table of all brokers.
import { isWebSocketTransport } from '../common';
import { RULES, type ClassifiedResult } from '../risk';
import type { RiskLevel } from '../types';
import { CONFIG_LINE, outcomeText, plural } from './wording';
import { endpoint, type ReportInput } from './model';
import { bars, donut, tiles, type Segment } from './pdf-chart';
import { table, type Cell, type Pen } from './pdf-layout';
import type { DetailPlan } from './pdf-groups';
import { COLOR, LEVEL_COLOR, LEVEL_LABEL, SEVERITY_COLOR } from './pdf-theme';

const LEVELS: RiskLevel[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'];


export function executiveSummary(pen: Pen, input: ReportInput): void {
  const { doc } = pen;
  const s = input.summary;
  pen.use('body', 10, COLOR.text).para(narrative(input), { lineGap: 2 });
  pen.gap(12);

  const y = doc.y;
  tiles(pen, y, [
    { value: String(input.scan?.targets ?? s.results), label: 'targets scanned' },
    { value: String(s.brokers), label: 'MQTT brokers found' },
    { value: String(s.openBrokers), label: 'open to anyone', color: s.openBrokers ? LEVEL_COLOR.CRITICAL : COLOR.brand },
    { value: String(s.authFailures), label: 'refused every login' },
    { value: s.averageScore === null ? '-' : `${s.averageScore}`, label: 'average score' },
  ]);
  doc.y = y + 64;

  heading3(pen, 'Brokers by risk level');
  const segments: Segment[] = [
    ...LEVELS.map((l) => ({ label: LEVEL_LABEL[l], value: s.byLevel[l], color: LEVEL_COLOR[l] })),
    { label: 'Not rated', value: s.results - s.assessed, color: COLOR.unrated },
  ];
  pen.ensure(5 * 22 + 10);
  const top = doc.y;
  const chartW = pen.width * 0.62;
  bars(pen, pen.left, top, chartW, segments);
  donut(pen, pen.left + chartW + (pen.width - chartW) / 2, top + 54, 50, segments.slice(0, 4), 'brokers rated');
  doc.y = top + 5 * 22 + 8;
  pen.use('body', 7.5, COLOR.muted).para('Not rated: closed, filtered or non-MQTT ports, and TLS ports that could not be assessed (chapter 3 says why). Level = the worst finding on the broker; score = 100 minus a weight per finding (Appendix B).');
  pen.gap(12);

  if (s.byFinding.length) {
    heading3(pen, 'Findings across the scan');
    table(pen, {
      columns: [
        { header: 'Finding', width: 0.43 },
        { header: 'Severity', width: 0.13 },
        { header: 'Brokers', width: 0.1, align: 'right' },
        { header: 'Id', width: 0.34, kind: 'mono' },
      ],
      rows: s.byFinding.map((f) => [f.title, { text: f.severity.toUpperCase(), badge: SEVERITY_COLOR[f.severity] }, String(f.brokers), f.id]),
      size: 8,
    });
  }

  const exposed = mostExposed(input.results, 10);
  if (exposed.length) {
    heading3(pen, 'Most exposed brokers');
    table(pen, {
      columns: [
        { header: 'Broker', width: 0.2 },
        { header: 'Risk', width: 0.13 },
        { header: 'Score', width: 0.08, align: 'right' },
        { header: 'Findings, worst first', width: 0.59 },
      ],
      rows: exposed.map((r) => [endpoint(r), { text: r.risk!.level, badge: LEVEL_COLOR[r.risk!.level] }, String(r.risk!.score), clip(r.findings.map((f) => f.title).join('; '), 240)]),
      size: 7.5,
    });
  }

  const actions = priorityActions(input);
  if (actions.length) {
    heading3(pen, 'Priority actions');
    actions.forEach((a, i) => {
      pen.ensure(40);
      const yy = doc.y;
      pen.use('bold', 9, COLOR.white);
      doc.save().circle(pen.left + 8, yy + 6, 8).fill(SEVERITY_COLOR[a.severity]).restore();
      pen.at(String(i + 1), pen.left, yy + 1.5, { width: 16, align: 'center', lineBreak: false });
      pen.use('bold', 9, COLOR.text);
      doc.text(pen.safe(a.title), pen.left + 24, yy, { width: pen.width - 24 });
      pen.use('body', 8.5, COLOR.text);
      doc.text(pen.safe(a.text), pen.left + 24, doc.y + 1, { width: pen.width - 24 });
      doc.y += 7;
    });
  }
}

/**
 * The table of all results in address order (the first plan.tableRows; a line says where the
 * others are). A small scan's last column is the main finding; a grouped report's (pdf-groups.ts)
 * is the section of chapter 3 that shows the broker's findings, or else its finding ids. Yields
 * to the event loop between pages' worth of rows: a big report must not freeze the Node-RED runtime.
 */
export async function brokerTable(pen: Pen, results: ClassifiedResult[], plan?: DetailPlan): Promise<void> {
  const shown = plan ? results.slice(0, plan.tableRows) : results;
  const last = (r: ClassifiedResult): Cell | string => {
    if (!plan?.grouped) {
      return r.findings.length ? `${r.findings[0].title}${r.findings.length > 1 ? ` (+${r.findings.length - 1} more)` : ''}` : r.risk ? 'none' : r.riskNotRated ? clip(r.riskNotRated, 160) : '';
    }
    const section = plan.sectionOf.get(r);
    if (section) return { text: `see ${section} (${plural(r.findings.length, 'finding')})`, kind: 'bold' };
    if (r.findings.length) return { text: clip(r.findings.map((f) => f.id).join(', '), 240), kind: 'mono' };
    return r.risk ? 'none' : r.riskNotRated ? clip(r.riskNotRated, 160) : '';
  };
  // A grouped report's rows stay one line where they can (about 32 a page): "connected
  // anonymously" fits its column, and the last column is a short reference or ids.
  const widths = plan?.grouped ? [0.18, 0.13, 0.23, 0.12, 0.07, 0.27] : [0.19, 0.15, 0.2, 0.12, 0.07, 0.27];
  const columns = [
    { header: 'Broker', width: widths[0] },
    { header: 'Transport', width: widths[1] },
    { header: 'Result', width: widths[2] },
    { header: 'Risk', width: widths[3] },
    { header: 'Score', width: widths[4], align: 'right' as const },
    { header: plan?.grouped ? 'Findings' : 'Main finding', width: widths[5] },
  ];
  const row = (r: ClassifiedResult): Array<Cell | string> => [
    endpoint(r),
    r.security_assessment.port_type
      ? `${r.security_assessment.port_type}${r.websocketPath && isWebSocketTransport(r.transport) ? ` ${r.websocketPath}` : ''}${r.tls?.protocol ? ` (${r.tls.protocol})` : ''}`
      : '-',
    outcomeText(r),
    r.risk ? { text: r.risk.level, badge: LEVEL_COLOR[r.risk.level] } : { text: 'not rated', color: COLOR.muted },
    r.risk ? String(r.risk.score) : '-',
    last(r),
  ];
  // Drawn in slices (one table that goes on where the last stopped) with a pause between them.
  const SLICE = 200;
  for (let i = 0; i < shown.length || i === 0; i += SLICE) {
    table(pen, { columns, rows: shown.slice(i, i + SLICE).map(row), size: 7.5, continued: i > 0, rowOffset: i, ...(i + SLICE < shown.length ? { padding: 0 } : {}) });
    if (i + SLICE < shown.length) await new Promise((resolve) => setImmediate(resolve));
  }
  if (shown.length < results.length) {
    pen.use('body', 8, COLOR.muted).para(`… and ${results.length - shown.length} more results, listed in the CSV and JSON reports.`).gap(6);
  }
}

export function heading3(pen: Pen, text: string): void {
  pen.ensure(70);
  pen.use('bold', 11, COLOR.brand).para(text);
  pen.gap(5);
}

function narrative(input: ReportInput): string {
  const s = input.summary;
  const targets = input.scan?.targets ?? s.results;
  const specs = input.meta.targets?.length ? ` (${input.meta.targets.slice(0, 6).join(', ')}${input.meta.targets.length > 6 ? ', …' : ''})` : '';
  const parts = [`This scan checked ${plural(targets, 'target')}${specs} for MQTT brokers and tested how each one authenticates clients, protects its traffic and what it exposes.`];
  const unrated = input.results.filter((r) => r.riskNotRated).length;
  const unratedText = `${plural(unrated, 'TLS port')} answered but could not be assessed, so ${unrated === 1 ? 'it is' : 'they are'} not rated (chapter 3 says why).`;
  if (!s.brokers && !s.assessed) {
    parts.push(unrated ? unratedText : 'No MQTT broker answered, so nothing was rated.');
    return parts.join(' ');
  }
  if (unrated) parts.push(unratedText);
  parts.push(`${plural(s.brokers, 'broker')} answered and ${s.assessed} ${s.assessed === 1 ? 'was' : 'were'} rated.`);
  if (s.openBrokers) parts.push(`${plural(s.openBrokers, 'broker')} let anyone connect without a valid password: whoever can reach ${s.openBrokers === 1 ? 'it' : 'them'} can read every message and send commands to the devices behind ${s.openBrokers === 1 ? 'it' : 'them'}.`);
  const bad = LEVELS.filter((l) => l !== 'LOW' && s.byLevel[l]).map((l) => `${s.byLevel[l]} ${LEVEL_LABEL[l].toLowerCase()}`);
  if (bad.length) parts.push(`Risk ratings: ${bad.join(', ')}${s.byLevel.LOW ? `, ${s.byLevel.LOW} low` : ''}.`);
  else parts.push('Every rated broker is at low risk.');
  const top = s.byFinding.find((f) => f.severity !== 'info');
  if (top) parts.push(`The most widespread problem of the highest severity is "${top.title}" (${plural(top.brokers, 'broker')}).`);
  return parts.join(' ');
}

function priorityActions(input: ReportInput): Array<{ title: string; text: string; severity: ClassifiedResult['findings'][number]['severity'] }> {
  return input.summary.byFinding
    .filter((f) => f.severity === 'critical' || f.severity === 'high' || f.severity === 'medium')
    .slice(0, 5)
    .map((f) => {
      const rule = RULES.find((r) => r.id === f.id);
      const lines = (rule?.recommendation ?? '').split('\n').filter((l) => CONFIG_LINE.test(l) && !/^(#|user|topic|pattern|openssl) /.test(l));
      const fix = lines.length ? `${lines.slice(0, 5).join('; ')}${lines.length > 5 ? '; …' : ''}` : (rule?.recommendation.split('\n')[0] ?? '');
      return { severity: f.severity, title: `${f.title}: ${plural(f.brokers, 'broker')}`, text: `Fix: ${fix} (details in each broker section).` };
    });
}

/** Lowest scores first (worst level breaks ties); brokers without findings are left out. */
function mostExposed(results: ClassifiedResult[], n: number): ClassifiedResult[] {
  return results
    .filter((r) => r.risk && r.findings.some((f) => f.severity !== 'info'))
    .sort((a, b) => a.risk!.score - b.risk!.score || LEVELS.indexOf(a.risk!.level) - LEVELS.indexOf(b.risk!.level))
    .slice(0, n);
}

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
