// Where the user's login may go (policy.ts) and the well-known default pairs (defaults.ts).
export * from './policy';
export { DEFAULT_PAIRS, isDefaultPair } from './defaults';
