// The package's public API: `require('@mqttsec/node-red-mqtt-security-scanner')`.
// A scan in one call (runScan), or its stages one by one (planTargets, probeBroker, inspectTls,
// sniffBroker, classifyResult), then reports (buildReport, writeReport); one scan over several
// sites' agents through an MQTT broker (ScanAgent, ScanCoordinator). The result contract is
// lib/types.ts (ScanResult, ScanSummary); docs/ARCHITECTURE.md describes the layers.
// Loading this module loads every stage and the PDF renderer (pdfkit); the CLI and the nodes
// import only the layers they use.
export * from './types';
export { runScan, newScanId, type ScanOptions, type ScanOutput } from './pipeline';
export { planTargets, parsePorts, scopedHost, compareResults, TargetError, DEFAULT_PORTS, PORT_PRESETS, DEFAULT_MAX_TARGETS, type TargetOptions, type TargetPlan, type TargetErrorCode } from './targets';
export { probeBroker, DEFAULT_TLS_PORTS, type ProbeOptions, type ProbeOutcome } from './probe';
export { parseWebSocketPaths, DEFAULT_WEBSOCKET_PATHS, MAX_WEBSOCKET_PATHS } from './mqtt';
export { brokerUrl, transportLabel } from './common';
export { inspectTls, scoreTls, type InspectTlsOptions } from './tls';
export { sniffBroker, SNIFF_DEFAULTS, type SniffOptions, type SniffResult } from './sniff';
export { classifyResult, summarizeScan, policyFromList, RULES, RULE_IDS, type ClassifiedResult, type Policy, type RiskSummary, type Rule, type RuleId } from './risk';
export { buildReport, writeReport, renderCsv, renderJson, renderPdf, FORMATS, parseFormats, type BuildOptions, type BuiltReport, type ReportFormat } from './report';
export { redactPassword, planCredentials } from './credentials';
export { OPTIONS, OPTION_LIST, type ScanOption } from './options';
export {
  ScanAgent, ScanCoordinator, SitesMessageError,
  type ScanAgentOptions, type ScanCoordinatorOptions, type CoordinatedScanRequest, type CoordinatedScanOutput, type SitesBrokerOptions,
  type AgentEvent, type AgentView, type ShardReport, type JobScanOptions,
} from './sites';
