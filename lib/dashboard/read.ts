// Reading messages and stored values that may have any shape: never throws.

/** `v` when it is a non-array object, else an empty object (like `v || {}` for objects). */
export function record(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** A form field as trimmed text: strings trimmed, undefined and null as '', anything else String()ed. */
export function fieldText(v: unknown): string {
  if (typeof v === 'string') return v.trim();
  return v === undefined || v === null ? '' : String(v).trim();
}

/** An error's text for people: its message without a leading "TypeError: " and the like, at most `max` characters. */
export function errorText(error: unknown, fallback: string, max: number): string {
  const message = record(error).message;
  return String(message || fallback)
    .replace(/^[A-Za-z]*Error: /, '')
    .slice(0, max);
}

/** The type of the node an error came from (a Catch node's msg.error.source.type), or ''. */
export function errorSource(error: unknown): string {
  const type = record(record(error).source).type;
  return typeof type === 'string' ? type : '';
}
