// classifyResult: the rule table applied to one result.
import type { Finding, RiskInfo, RiskLevel, ScanResult } from '../types';
import { anonymousOpen, assessable, identityRequired, plainTransport, spokeMqtt } from './facts';
import { effectiveRules, type Policy } from './policy';
import { bySeverity, riskFor } from './scoring';
import { vulnerabilitiesOf, type BrokerVulnerabilities } from './vulnerabilities';

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
  /** The broker's product and version as it said them and the known vulnerabilities of that
   *  version (lib/risk/vulnerabilities.ts); absent when it did not say which broker it is. */
  vulnerabilities?: BrokerVulnerabilities;
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
        severity: rule.severityFor?.(result) ?? rule.severity,
        title: rule.title,
        evidence: rule.evidence(result),
        recommendation: rule.recommendationFor?.(result) ?? rule.recommendation,
        references: [...rule.references],
      });
    }
    findings.sort(bySeverity);
  }
  const notRated = assessable(result) ? notRatedReason(result, findings) : null;
  const risk = assessable(result) && !notRated ? riskFor(findings) : null;
  const { riskNotRated: _stale, vulnerabilities: _old, ...rest } = result as ScanResult & { vulnerabilities?: unknown };
  const vulnerabilities = assessable(result) ? vulnerabilitiesOf(result) : null;
  return {
    ...rest,
    findings,
    risk,
    ...(vulnerabilities ? { vulnerabilities } : {}),
    ...(notRated ? { riskNotRated: notRated } : {}),
    security_assessment: assessmentOf(result),
    security_summary: {
      risk_level: risk?.level ?? null,
      issues: findings.map((f) => `${f.severity.toUpperCase()}: ${f.title}`),
      recommendations: [...new Set(findings.filter((f) => f.severity !== 'info').map((f) => f.recommendation))],
    },
  };
}

/** Severities that rate a port even when its MQTT side could not be tested: the level is then a floor. */
const PROVEN = new Set(['critical', 'high', 'medium']);

/**
 * Why a TLS port whose handshake failed (tls_or_ssl_error) gets no risk rating, or null when it is
 * rated. Its MQTT logins could not be tried, so "nothing found" is not LOW/100: it is "not rated"
 * with this reason, unless a proven finding (medium or worse, e.g. an expired certificate) already
 * sets a floor for the level.
 */
export function notRatedReason(r: ScanResult, findings: readonly Finding[]): string | null {
  if (spokeMqtt(r) || findings.some((f) => PROVEN.has(f.severity))) return null;
  const t = r.tls;
  if (t?.psk?.only) {
    const hint = t.psk.hint === null ? 'no identity hint' : `identity hint "${t.psk.hint}"`;
    return `TLS listener takes only pre-shared keys (TLS-PSK, ${hint}): without the key no MQTT login could be tried and there is no certificate to judge`;
  }
  if (t?.clientCertRequired) return 'the listener demands a client certificate: without one no MQTT login could be tried (scan with a client certificate to rate it)';
  const why = t?.error ?? r.evidence?.find((e) => /TLS/.test(e)) ?? 'the TLS handshake failed';
  return `TLS handshake failed, so no MQTT login could be tried: ${why}`;
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
