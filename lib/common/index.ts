// Helpers every layer may use: a child abort signal (signal.ts) and text chosen by a broker made
// safe to show (text.ts).
export { childSignal } from './signal';
export { brokerText, isBlank, HIDDEN_CHARACTERS, type BrokerTextOptions } from './text';
export { isTlsTransport, isWebSocketTransport, brokerUrl, transportLabel, urlHost } from './transport';
export { isPlainObject, isScanResult, isScanSummary, hasBrokerAddress, scanIdOf } from './result-guards';
export { settle, type WaitEnd } from './wait';
