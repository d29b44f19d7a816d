// The lab dashboard's and the HTTP API's logic, out of the shipped flows' function nodes: view
// models (cards, table rows, broker detail, history, progress, live values), the scan form and the
// API request checks, and the views that tie them to messages and the flow context. The node
// mqttsec-dashboard-view (nodes/) runs a view; nothing here knows Node-RED.
export { VIEWS, isViewName, sniffOutput, answerOn, SCAN_REDRAW_MS, PROGRESS_REDRAW_MS, type ViewName } from './views';
export type { View, ViewContext, ViewMessage, ViewOutputs, ContextStore, CurrentScan, RunningScan, KeptResult, KeptTopic, ReportFiles, Progress } from './types';
export { LAB_CONTROLS_KEY, LAB_CONTROLS_UNAVAILABLE, LAB_CONTROL_VIEWS, isLabControls, labControlsPanel, readLabRequest, type LabControlsPanel, type LabControlRequest, type PanelBroker, type PanelControl } from './lab-controls';
export { LAB_SITES_KEY, LAB_SITES_OFF, SITES_LISTEN_S, SITES_VIEWS, isLabSites, labSitesState, sitesPanel, foldSitesEvent, type LabSites, type LabSitesState, type LabSite, type SitesPanel, type PanelAgent, type PanelSite, type SitesKept } from './sites';
export type { LabControls, LabControlsState, LabBrokerState, LabControl, LabControlChange, LabControlOutcome, LabControlOption, LabControlValue } from './lab-controls-types';
export { checkScanForm, initialForm, startScan, FALLBACK_PORTS, FALLBACK_TARGET, DEFAULT_LISTEN_S, RUNNING_LOCK_MS, type ScanFormValues, type FormScanRequest, type FormCheck, type StartedScan } from './form';
export { keepResult, completeScan, worstResult, endpointOf, riskRank, secondsText, RISK_LEVELS, KEPT_TOPICS, type CompletionEvent } from './scan-state';
export { tableRows, tableMessage, tableMessages, tablePage, tableViewOf, tablePlaceholder, TABLE_PAGE_ROWS, TABLE_SORTS, TABLE_RISK_FILTERS, TABLE_FIND_CHARS, TOPIC_CELL_CHARS, DEFAULT_TABLE_VIEW, type TableView, type TablePage, type TableSort, securityText, noTopicsText, topicDataText, RISK_ROW_FORMATTER, type TableRow } from './table';
export { brokerDetail, authText, certificateRows, tlsRows, transportText, type BrokerDetail, type DetailFinding } from './detail';
export { summaryCards, scanLine, riskChart, type SummaryCards, type ScanLine } from './cards';
export {
  historyPanel,
  historyFilterOf,
  historyRow,
  scoreChart,
  interruptedScan,
  legacyEntryScan,
  scansAnswer,
  reportFilesFor,
  keepNewestReports,
  reportFilesOf,
  portList,
  HISTORY_PAGE_SIZE,
  HISTORY_PERIODS,
  SCAN_ID_PATTERN,
  type HistoryFilter,
  type HistoryPanel,
  type HistoryRow,
} from './history';
export type { HistoryEntry } from '../history';
export { nextProgress, scanError, PHASES, FATAL_SOURCES } from './progress';
export { liveValues, liveSeriesReset, LIVE_SERIES, type LiveTile, type LiveTiles } from './live';
export { findReport, downloadHeaders, missingReportAnswer, REPORT_NAME, JSON_HEADERS, type HttpAnswer, type FoundReport, type DownloadFormat } from './downloads';
export {
  apiKeysFrom,
  sameSecret,
  checkApiKey,
  apiEndpoint,
  checkScanRequest,
  API_DEFAULT_LISTEN_S,
  API_MAX_LISTEN_S,
  rateCheck,
  rateLimitedAnswer,
  forgetRefusedScan,
  scanTimeoutSeconds,
  timeoutAnswer,
  interruptedAnswer,
  latestResults,
  noResults,
  reportLinks,
  scanFailureAnswer,
  API_KEY_MIN_LENGTH,
  API_BODY_MAX_BYTES,
  API_RATE_LIMIT,
  API_RATE_WINDOW_MS,
  type ApiScanRequest,
  type ApiScanCheck,
  type RateEntry,
  type LatestResults,
} from './api';
