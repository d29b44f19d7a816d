// Risk classifier: the rule table (lib/risk/rules.ts) turns a scan result into findings, a risk
// level and a 0-100 score (100 = best), plus the fields the seed dashboard's users know
// (security_assessment, security_summary).
//
// Only a broker, or a TLS port whose handshake failed, is rated. A closed, filtered or
// non-MQTT port gets no findings and risk null: "we could not look" is not "low risk".
export { classifyResult, isClassified, type ClassifiedResult, type SecurityAssessment, type SecuritySummary } from './classify';
export { RULES, RULE_IDS, REFERENCE_TITLES, type Rule, type RuleId } from './rules';
export { effectiveRules, policyFromList, type Policy, type RuleOverride } from './policy';
export { LEVELS, SEVERITIES, SEVERITY_WEIGHT, LEVEL_CEILING, levelFor, scoreFor, riskFor, severityRank } from './scoring';
export { summarizeScan, RiskTally, type RiskSummary, type FindingCount, type WorstFinding, type SummaryOptions } from './summary';
export { EXPIRY_WARNING_DAYS, MIN_RSA_BITS, MIN_EC_BITS, NO_ACL_MIN_ROOTS, certificateIsIdentity, openToAnyone } from './facts';
export {
  vulnerabilitiesOf, identifyBroker, isAffected, versionIn, severityOfScore, cvesMissingFrom, tableAgeDays,
  type BrokerIdentity, type BrokerVulnerabilities, type VulnerabilityMatch,
} from './vulnerabilities';
export { KNOWN_VULNERABILITIES, NEWEST_RELEASES, VULNERABILITY_TABLE_AS_OF, type KnownVulnerability, type BrokerProduct, type ProductRelease } from './known-vulnerabilities';
export { compareScans, changesOf, changesText, readChanges, endpointKey, PreviousScans, PREVIOUS_SCANS_MAX, type ResultChanges, type PreviousState } from './changes';
