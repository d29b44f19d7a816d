// The options a scan takes, their defaults and bounds, shared by the CLI, the nodes and the API.
export { FORMATS, parseFormats, type ReportFormat } from './report-formats';
export {
  OPTIONS, OPTION_LIST, checkOption, clampOption, describeBounds, describeDefault, formatDefault,
  type OptionName, type OptionUnit, type ScanOption, type ScanOptionWithDefault,
} from './scan-options';
