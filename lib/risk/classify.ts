// classifyResult: the rule table applied to one result.
import type { Finding, RiskInfo, RiskLevel, ScanResult } from '../types';
import { anonymousOpen, assessable, identityRequired, plainTransport } from './facts';
import { effectiveRules, type Policy } from './policy';
import { bySeverity, riskFor } from './scoring';

export interface SecurityAssessment {
  anonymous_allowed: boolean | null;
  requires_auth: boolean | null;
  /** URL scheme of the port: mqtt (plain), mqtts (TLS), ws, wss; null when nothing answered MQTT or TLS. */
  port_type: 'mqtt' | 'mqtts' | 'ws' | 'wss' | null;
  /** Negotiated TLS version ("TLSv1.3"), "TLS" when unknown, or "none". */
  encryption: string;
}

export interface SecuritySummary {
  risk_level: RiskLevel | null;
  /** "HIGH: MQTT without TLS", worst first. */
  issues: string[];
  /** The fixes, one per finding, worst first, without repeats. */
  recommendations: string[];
}

export interface ClassifiedResult extends ScanResult {
  findings: Finding[];
  risk: RiskInfo | null;
  security_assessment: SecurityAssessment;
  security_summary: SecuritySummary;
}

/** A copy of the result with findings, risk and the seed's assessment fields; the input is not changed. */
export function classifyResult(result: ScanResult, policy?: Policy): ClassifiedResult {
  const rules = effectiveRules(policy);
  const findings: Finding[] = [];
  if (assessable(result)) {
    for (const rule of rules) {
      if (!rule.when(result)) continue;
      findings.push({
        id: rule.id,
        severity: rule.severity,
        title: rule.title,
        evidence: rule.evidence(result),
        recommendation: rule.recommendation,
        references: [...rule.references],
      });
    }
    findings.sort(bySeverity);
  }
  const risk = assessable(result) ? riskFor(findings) : null;
  return {
    ...result,
    findings,
    risk,
    security_assessment: assessmentOf(result),
    security_summary: {
      risk_level: risk?.level ?? null,
      issues: findings.map((f) => `${f.severity.toUpperCase()}: ${f.title}`),
      recommendations: [...new Set(findings.filter((f) => f.severity !== 'info').map((f) => f.recommendation))],
    },
  };
}

/** Already carries findings and risk (from classifyResult or a classifier node upstream). */
export function isClassified(r: ScanResult): r is ClassifiedResult {
  return Array.isArray(r.findings) && r.risk !== undefined;
}

function assessmentOf(r: ScanResult): SecurityAssessment {
  const answered = assessable(r);
  const tls = r.transport === 'tls' || r.transport === 'wss';
  const portType = !answered || !r.transport ? null : ({ tcp: 'mqtt', tls: 'mqtts', ws: 'ws', wss: 'wss' } as const)[r.transport];
  return {
    // A CONNECT the scan's client certificate got in is not anonymous (facts.certificateGuards).
    anonymous_allowed: answered && r.auth.anonymous.outcome !== 'not_tested' ? anonymousOpen(r) : null,
    requires_auth: answered && r.auth.anonymous.outcome !== 'not_tested' ? identityRequired(r) : null,
    port_type: portType,
    encryption: tls ? (r.tls?.protocol ?? 'TLS') : plainTransport(r) ? 'none' : answered ? 'unknown' : 'none',
  };
}
