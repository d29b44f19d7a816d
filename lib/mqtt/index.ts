// The MQTT layer: one codec (codec.ts), the packet guard that bounds what a broker can make us
// read (packet-guard.ts), the one socket opener for tcp and tls (socket.ts, with the trust check
// for sockets that carry a login), MQTT over WebSockets as a byte stream on that socket
// (websocket.ts), and a single CONNECT/CONNACK attempt on any of them (connect.ts).
export * from './codec';
export { codeMeaning, allCodes, isLimitRefusal, STOP_CATEGORIES, type CodeCategory, type CodeMeaning } from './reason-codes';
export { PacketGuard, type GuardEvents, type GuardOptions, type PublishHead } from './packet-guard';
export { openSocket, connectForLogin, credentialContext, trustProblem, opensslReason, type TrustInputs } from './socket';
export {
  WebSocketStream, openTransport, parseWebSocketPaths, isWebSocketPath, DEFAULT_WEBSOCKET_PATHS, MQTT_SUBPROTOCOLS, MAX_WEBSOCKET_PATHS, WEBSOCKET_ERRORS,
  type HttpAnswer, type WebSocketStreamOptions, type TransportOptions,
} from './websocket';
export { sharedContext, cachedContexts, type ContextOptions } from './tls-context';
export { attemptConnect, waitsForWholeConnect, randomClientId, strictClientId, OWN_CLIENT_ID, SHORT_KEEPALIVE_S, type AttemptOptions, type AttemptResult } from './connect';
export { offerPsk, describePsk, PSK_CIPHERS, PSK_PROBE_IDENTITY } from './psk';
