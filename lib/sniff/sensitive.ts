// Secrets in payloads: flag what kind, and mask the value so no sample ever stores it.

export type SensitiveKind = 'credential' | 'token' | 'email' | 'coordinates';

export const MASK = '***';

const SECRET_WORDS = 'password|passwd|passphrase|pass|pwd|secret|client[_-]?secret|api[_-]?key|apikey|access[_-]?key|secret[_-]?key|private[_-]?key';
const TOKEN_WORDS = 'token|access[_-]?token|refresh[_-]?token|auth[_-]?token|id[_-]?token|session[_-]?id|sessionid|authorization';
const COORD_WORDS = 'lat|latitude|lon|lng|long|longitude';
/** A JSON string value, possibly cut off at the end of the examined prefix. */
const JSON_VALUE = '"(?:[^"\\\\]|\\\\.)*"?';

/** Keys whose values never go into parsed sensor values either. */
export const SENSITIVE_KEY = new RegExp(`^(?:${SECRET_WORDS}|${TOKEN_WORDS}|${COORD_WORDS})$`, 'i');

interface Rule {
  kind: SensitiveKind;
  re: RegExp;
  mask: (match: string, ...groups: string[]) => string | null;
}

const keepKey = (_m: string, key: string) => `${key}${MASK}`;
const keepKeyQuoted = (_m: string, key: string) => `${key}"${MASK}"`;

// Order matters: key-based rules first, so the generic long-token rules see masked values.
const RULES: Rule[] = [
  { kind: 'credential', re: new RegExp(`("(?:${SECRET_WORDS})"\\s*:\\s*)(${JSON_VALUE}|[^,}\\s]+)`, 'gi'), mask: keepKeyQuoted },
  { kind: 'credential', re: new RegExp(`\\b((?:${SECRET_WORDS})\\s*[=:]\\s*)([^\\s&;,"']+)`, 'gi'), mask: keepKey },
  { kind: 'credential', re: /(\b[a-z][a-z0-9+.-]*:\/\/[^:/\s@]+:)([^@\s/]+)(?=@)/gi, mask: keepKey },
  { kind: 'token', re: new RegExp(`("(?:${TOKEN_WORDS})"\\s*:\\s*)(${JSON_VALUE})`, 'gi'), mask: keepKeyQuoted },
  { kind: 'token', re: /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, mask: () => MASK },
  { kind: 'token', re: /\b(bearer\s+)([A-Za-z0-9._~+/=-]{8,})/gi, mask: keepKey },
  { kind: 'token', re: /\b[0-9a-fA-F]{32,}\b/g, mask: () => MASK },
  // Base64-ish runs of 40+ characters mixing upper, lower case and digits.
  {
    kind: 'token',
    re: /(?<![A-Za-z0-9+/_-])(?=[A-Za-z0-9+/_-]*\d)(?=[A-Za-z0-9+/_-]*[a-z])(?=[A-Za-z0-9+/_-]*[A-Z])[A-Za-z0-9+/_-]{40,}={0,2}/g,
    mask: () => MASK,
  },
  { kind: 'email', re: /\b[A-Za-z0-9._%+-]{1,64}@((?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24})\b/g, mask: (_m, domain) => `${MASK}@${domain}` },
  {
    kind: 'coordinates',
    re: new RegExp(`("(?:${COORD_WORDS})"\\s*:\\s*)("?-?\\d{1,3}(?:\\.\\d+)?"?)`, 'gi'),
    mask: keepKey,
  },
  { kind: 'coordinates', re: new RegExp(`\\b((?:${COORD_WORDS})\\s*=\\s*)(-?\\d{1,3}(?:\\.\\d+)?)`, 'gi'), mask: keepKey },
  // "48.85837,2.29448": a latitude and a longitude with enough decimals to be a place.
  {
    kind: 'coordinates',
    re: /(?<![\d.])(-?\d{1,2}\.\d{4,}),\s*(-?\d{1,3}\.\d{4,})(?![\d.])/g,
    mask: (_m, lat, lon) => (Math.abs(+lat) <= 90 && Math.abs(+lon) <= 180 ? `${MASK},${MASK}` : null),
  },
];

export interface Screened {
  masked: string;
  kinds: SensitiveKind[];
}

/** Finds secrets in text and returns it with every matched value replaced by ***. */
export function screenSensitive(text: string): Screened {
  const kinds: SensitiveKind[] = [];
  let masked = text;
  for (const rule of RULES) {
    masked = masked.replace(rule.re, (match: string, ...rest: unknown[]) => {
      // replace() passes the groups, then the offset (a number), the input and named groups.
      const groups = rest.slice(0, rest.findIndex((x) => typeof x === 'number')).map((g) => (typeof g === 'string' ? g : ''));
      const replacement = rule.mask(match, ...groups);
      if (replacement === null) return match;
      if (!kinds.includes(rule.kind)) kinds.push(rule.kind);
      return replacement;
    });
  }
  return { masked, kinds };
}
