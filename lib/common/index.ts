// Helpers every layer may use: a child abort signal (signal.ts), text chosen by a broker made
// safe to show (text.ts), the words for the devices behind the topics (devices.ts) and for the
// known vulnerabilities of a broker's version (vulnerabilities.ts), the file descriptors a scan
// may hold (descriptors.ts).
export { childSignal } from './signal';
export { brokerText, isBlank, HIDDEN_CHARACTERS, type BrokerTextOptions } from './text';
export { isTlsTransport, isWebSocketTransport, brokerUrl, transportLabel, urlHost, scannedByText } from './transport';
export { isPlainObject, isScanResult, isScanSummary, hasBrokerAddress, scanIdOf } from './result-guards';
export { settle, type WaitEnd } from './wait';
export { devicesView, deviceExposureOf, locationText, writesText, isHttpsUrl, COMMAND_SOURCE_WORDS, DEVICE_BOUNDS, type DevicesView, type EcosystemView, type DeviceTopics } from './devices';
export {
  knownVulnerabilitiesOf, vulnerabilitiesView, vulnerabilityHeading, productName, productVersion, upgradeText, outdatedText, cvssText, fixedText, sourceLink,
  BACKPORT_CAVEAT, PRODUCT_NAMES, VULNERABILITY_BOUNDS,
  type KnownVulnerabilities, type KnownVulnerabilityMatch, type KnownRelease, type CvssScore, type VulnerabilitySeverity, type VulnerabilitiesView, type VulnerabilityRow,
} from './vulnerabilities';
export {
  DescriptorPool, DescriptorShortage, processDescriptors, openFileLimit, poolSizeFor, isDescriptorShortage, retryShortOfDescriptors, withDescriptor,
  DESCRIPTOR_RESERVE, MIN_POOL, SHORTAGE_BACKOFF_MS,
} from './descriptors';
