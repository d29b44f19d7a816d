// The last guard of "the scanner must never be the leak": whatever a broker sent back (a CONNACK
// that echoes our CONNECT, a topic or a payload that carries the password) passes through this
// before it becomes a result, so the user's password cannot reach a report, an answer or a log.

/** Shorter passwords are not searched for: replacing every "ab" would wreck the output, and a
 *  two-character password is no secret from anyone. */
export const MIN_REDACTED_CHARS = 3;
export const REDACTED = '[withheld: password]';

/**
 * `value` with every occurrence of `password` in its strings (object keys included) replaced by
 * REDACTED; arrays and plain objects are copied, other values returned as they are. Returns
 * `value` itself when the password is absent or shorter than MIN_REDACTED_CHARS. Never throws.
 */
export function redactPassword<T>(value: T, password: string | undefined): T {
  if (password === undefined || password.length < MIN_REDACTED_CHARS) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return v.includes(password) ? v.split(password).join(REDACTED) : v;
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object' && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [walk(k) as string, walk(x)]));
    }
    return v;
  };
  // Most results never contain it: skip the copy then.
  return JSON.stringify(value)?.includes(JSON.stringify(password).slice(1, -1)) ? (walk(value) as T) : value;
}
