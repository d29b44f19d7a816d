// The options a scan takes, their defaults and bounds, shared by the CLI, the nodes and the API.
export { FORMATS, parseFormats, type ReportFormat } from './report-formats';
