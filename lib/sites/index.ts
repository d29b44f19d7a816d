// Many sites, one scan: scan agents and a coordinator that talk through an MQTT broker (the job
// queue and the result channel). messages.ts is the contract and its strict parser, topics.ts
// the topics (and why), agent.ts the agent, coordinator.ts the coordinator, connection.ts their
// mqtt.js connection, progress.ts a scan's progress per site. docs/ARCHITECTURE.md "Many sites" describes the protocol.
export {
  SITES_PROTOCOL_VERSION, MAX_JOB_BYTES, MAX_SMALL_MESSAGE_BYTES, MAX_RESULT_BYTES, MAX_SHARDS, MAX_ATTEMPTS, MAX_JOB_SPECS, MAX_JOB_PORTS,
  MIN_LEASE_MS, MAX_LEASE_MS, RESERVED_SITE_NAMES, JOB_OPTIONS_BEYOND_READING, SitesMessageError,
  checkSiteName, checkLogin, checkCredentialsName, checkScanId, checkJobOptions,
  parseJob, parseGrant, parseCancel, parseAgentReport, parseAgentStatus, encodeMessage,
  type JobMessage, type JobScanOptions, type GrantMessage, type CancelMessage, type ClaimMessage, type ProgressMessage, type ResultMessage,
  type ShardDoneMessage, type RefusalMessage, type RefusalCode, type AgentReport, type AgentStatusMessage, type JobOptionBeyondReading,
} from './messages';
export {
  SHARE_NAME, STATUS_SUBSCRIPTION, CANCEL_SUBSCRIPTION, jobsTopic, jobsSubscription, grantsTopic, reportTopic, reportSubscription, statusTopic,
  cancelTopic, parseReportTopic, parseStatusTopic, parseCancelTopic,
} from './topics';
export { checkBrokerUrl, defaultClientId, DEFAULT_SESSION_EXPIRY_SECONDS, type SitesBrokerOptions } from './connection';
export { ScanAgent, MAX_AGENT_CONCURRENCY, DEFAULT_GRANT_WAIT_MS, type ScanAgentOptions, type AgentScanSettings, type AgentEvent } from './agent';
export {
  ScanCoordinator, DEFAULT_SHARD_TARGETS, DEFAULT_LEASE_MS, DEFAULT_CLAIM_WAIT_MS, DEFAULT_MAX_ATTEMPTS, DEFAULT_SCAN_DEADLINE_MS,
  REPORT_BYTES_PER_TARGET, REPORT_BYTES_PER_SHARD, REPORTS_PER_SHARD,
  type ScanCoordinatorOptions, type CoordinatedScanRequest, type CoordinatedScanOutput, type ShardReport, type ShardState,
  type IgnoredReport, type ReportUse, type AgentView, type CoordinatorEventName,
} from './coordinator';
export { siteProgress, type SiteProgress } from './progress';
