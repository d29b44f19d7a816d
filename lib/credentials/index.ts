// Where the user's login may go (policy.ts), the well-known default pairs (defaults.ts), and the
// password kept out of every result (redact.ts).
export * from './policy';
export { MIN_REDACTED_CHARS, REDACTED, redactPassword } from './redact';
export { DEFAULT_PAIRS, isDefaultPair } from './defaults';
