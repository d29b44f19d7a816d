// Risk level and score from a broker's findings.
//
// Level: the worst severity decides (critical -> CRITICAL, high -> HIGH, medium -> MEDIUM,
// low / info / no finding -> LOW), the scale the lab's users already know.
// Score: 100 (best) minus a weight per finding, then capped by the level so the number never
// contradicts it (a broker with one critical finding cannot score 60).
import type { Finding, RiskInfo, RiskLevel, Severity } from '../types';

export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];
export const LEVELS: readonly RiskLevel[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'];

export const SEVERITY_WEIGHT: Record<Severity, number> = { critical: 40, high: 20, medium: 10, low: 4, info: 0 };
export const LEVEL_CEILING: Record<RiskLevel, number> = { CRITICAL: 30, HIGH: 60, MEDIUM: 85, LOW: 100 };
const LEVEL_OF: Record<Severity, RiskLevel> = { critical: 'CRITICAL', high: 'HIGH', medium: 'MEDIUM', low: 'LOW', info: 'LOW' };

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export function levelFor(findings: readonly Finding[]): RiskLevel {
  let worst: Severity = 'info';
  for (const f of findings) if (severityRank(f.severity) < severityRank(worst)) worst = f.severity;
  return LEVEL_OF[worst];
}

export function scoreFor(findings: readonly Finding[]): number {
  const penalty = findings.reduce((sum, f) => sum + SEVERITY_WEIGHT[f.severity], 0);
  return Math.max(0, Math.min(100 - penalty, LEVEL_CEILING[levelFor(findings)]));
}

export function riskFor(findings: readonly Finding[]): RiskInfo {
  return { level: levelFor(findings), score: scoreFor(findings) };
}

/** Worst first; equal severities keep the rule table's order. */
export function bySeverity<T extends { severity: Severity }>(a: T, b: T): number {
  return severityRank(a.severity) - severityRank(b.severity);
}
