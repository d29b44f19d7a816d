// The scan-level view: totals, open brokers, auth failures, counts by risk level, worst findings
// first. A tally takes results one at a time and keeps only counts and the worst few findings,
// so a node can follow a scan of any size in bounded memory.
import type { ScanResult, ScanSummary, RiskLevel, Severity } from '../types';
import { classifyResult, isClassified } from './classify';
import type { Policy } from './policy';
import { RULES } from './rules';
import { openToAnyone, spokeMqtt } from './facts';
import { LEVELS, severityRank, SEVERITIES } from './scoring';

export interface FindingCount {
  id: string;
  severity: Severity;
  title: string;
  /** Brokers with this finding. */
  brokers: number;
}

export interface WorstFinding {
  host: string;
  port: number;
  id: string;
  severity: Severity;
  title: string;
  evidence: string;
}

export interface RiskSummary {
  scanId: string | null;
  generatedAt: string;
  /** Results given (reachable or not). */
  results: number;
  /** Results that got a risk rating (brokers and TLS ports whose handshake failed). */
  assessed: number;
  /** Ports that answered MQTT. */
  brokers: number;
  /** Brokers that let anyone in: anonymous clients or any login accepted (a client certificate the scan presented does not count: facts.openToAnyone). */
  openBrokers: number;
  /** Brokers that refused every login we tried (classification not_authorized). */
  authFailures: number;
  unreachable: number;
  byLevel: Record<RiskLevel, number>;
  /** Worst level of the scan; null when nothing was rated. */
  worstLevel: RiskLevel | null;
  averageScore: number | null;
  bySeverity: Record<Severity, number>;
  /** Every finding id seen, worst first, then the most widespread. */
  byFinding: FindingCount[];
  /** The worst individual findings across the scan (at most `top`), worst first. */
  worstFindings: WorstFinding[];
  scan?: ScanSummary;
}

export interface SummaryOptions {
  policy?: Policy;
  /** How many findings worstFindings keeps (default 10). */
  top?: number;
  now?: Date;
}

const tableOrder = (id: string) => RULES.findIndex((rule) => rule.id === id);
type Ranked = WorstFinding & { score: number };
const worse = (a: Ranked, b: Ranked) => severityRank(a.severity) - severityRank(b.severity) || a.score - b.score || tableOrder(a.id) - tableOrder(b.id);

export class RiskTally {
  private results = 0;
  private assessed = 0;
  private brokers = 0;
  private openBrokers = 0;
  private authFailures = 0;
  private unreachable = 0;
  private scoreSum = 0;
  private scanId: string | null = null;
  private readonly byLevel = Object.fromEntries(LEVELS.map((l) => [l, 0])) as Record<RiskLevel, number>;
  private readonly bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  private readonly counts = new Map<string, FindingCount>();
  private worst: Ranked[] = [];

  constructor(private readonly opts: SummaryOptions = {}) {}

  /** Adds one result (classified with the policy first if it carries no findings). */
  add(result: ScanResult): void {
    const r = isClassified(result) ? result : classifyResult(result, this.opts.policy);
    this.results++;
    this.scanId ??= r.scanId ?? null;
    if (r.reachability !== 'open') this.unreachable++;
    if (spokeMqtt(r)) {
      this.brokers++;
      if (openToAnyone(r)) this.openBrokers++;
    }
    if (r.classification === 'not_authorized') this.authFailures++;
    if (r.risk) {
      this.assessed++;
      this.byLevel[r.risk.level]++;
      this.scoreSum += r.risk.score;
    }
    const top = this.opts.top ?? 10;
    for (const f of r.findings) {
      this.bySeverity[f.severity]++;
      const c = this.counts.get(f.id) ?? { id: f.id, severity: f.severity, title: f.title, brokers: 0 };
      c.brokers++;
      this.counts.set(f.id, c);
      const ranked: Ranked = { host: r.host, port: r.port, id: f.id, severity: f.severity, title: f.title, evidence: f.evidence, score: r.risk?.score ?? 100 };
      if (this.worst.length < top || worse(ranked, this.worst[this.worst.length - 1]) < 0) {
        this.worst.push(ranked);
        this.worst.sort(worse);
        if (this.worst.length > top) this.worst.pop();
      }
    }
  }

  summary(scanSummary?: ScanSummary | null): RiskSummary {
    return {
      scanId: scanSummary?.scanId ?? this.scanId,
      generatedAt: (this.opts.now ?? new Date()).toISOString(),
      results: this.results,
      assessed: this.assessed,
      brokers: this.brokers,
      openBrokers: this.openBrokers,
      authFailures: this.authFailures,
      unreachable: this.unreachable,
      byLevel: { ...this.byLevel },
      worstLevel: LEVELS.find((l) => this.byLevel[l] > 0) ?? null,
      averageScore: this.assessed ? Math.round(this.scoreSum / this.assessed) : null,
      bySeverity: { ...this.bySeverity },
      byFinding: [...this.counts.values()]
        .map((c) => ({ ...c }))
        .sort((a, b) => severityRank(a.severity) - severityRank(b.severity) || b.brokers - a.brokers || tableOrder(a.id) - tableOrder(b.id)),
      worstFindings: this.worst.map(({ score: _score, ...f }) => f),
      ...(scanSummary ? { scan: scanSummary } : {}),
    };
  }
}

/** Results that carry no findings yet are classified with the policy first. */
export function summarizeScan(results: readonly ScanResult[], scanSummary?: ScanSummary | null, opts: SummaryOptions = {}): RiskSummary {
  const tally = new RiskTally(opts);
  for (const r of results) tally.add(r);
  return tally.summary(scanSummary);
}
