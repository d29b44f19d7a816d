// Secrets in payloads: say what kind, and mask the values, so no sample (and so no output: result
// JSON, CSV, PDF, dashboard, live messages, logs all show only samples) ever holds one.
//
// Found three ways, and masked once (screenSensitive):
//   1. by topic name: a topic whose last level names a secret ("…/settings/pswd", "…/api_key")
//      carries the secret itself: the whole payload is masked;
//   2. by key, in the formats devices publish, parsed by well-kept parsers: JSON, TOML (smol-toml),
//      YAML (yaml), INI and key = value lines (ini), query strings (URLSearchParams). A key is a
//      secret by its words, so compound keys count ("wifi_password", "mqttPass", "api-key",
//      "credentials" with a list under it); every value under such a key is masked wherever it
//      appears in the text;
//   3. by pattern, for text no parser reads (a cut payload, free text): "key": value and
//      key=value pairs with a secret key, URLs with user:pass@, PEM private keys, JWTs, bearer
//      tokens, long hex and base64 runs, e-mail addresses, coordinates.
// The parsers run only on a payload that holds a secret-looking word at all, so sensor readings
// (most of what a broker carries) cost one regex test.
import { parse as parseYaml } from 'yaml';
import type * as SmolToml from 'smol-toml' with { 'resolution-mode': 'import' };
import { parse as parseIni } from 'ini';

// smol-toml ships ESM typings with a CommonJS build (its "require" export): loaded through it.
const { parse: parseToml } = require('smol-toml') as typeof SmolToml;

/** Why a payload is sensitive (TopicItem.sensitive). */
export type SensitiveKind = 'credential' | 'token' | 'private_key' | 'email' | 'coordinates';

/** Topic levels that say what is done with the level before them (…/password/set). */
const TOPIC_VERBS = new Set(['set', 'get', 'cmd', 'command', 'state', 'value', 'update', 'new']);

/** What replaces every secret value in a sample. */
export const MASK = '***';

/** Words (of a key split at _ - . spaces and camelCase) that make its value a credential. */
const CREDENTIAL_WORDS = new Set(['password', 'passwd', 'passwort', 'kennwort', 'pswd', 'pwd', 'pw', 'pass', 'passphrase', 'passcode', 'secret', 'credential', 'credentials', 'creds', 'psk']);
/** Single words that are keys by themselves ("apikey"), and word pairs ending in "key". */
const KEY_WORDS = new Set(['apikey', 'privatekey', 'secretkey', 'accesskey', 'authkey', 'appkey', 'encryptionkey', 'masterkey', 'networkkey', 'linkkey', 'aeskey']);
/** "network_key" and "tc_link_key" are a Zigbee network's keys (Zigbee2MQTT's bridge/info carried
 *  its whole configuration, network_key included); "aes_key", "shared_key" likewise. */
const KEY_QUALIFIERS = new Set(['api', 'private', 'secret', 'access', 'auth', 'app', 'encryption', 'master', 'signing', 'network', 'link', 'aes', 'shared', 'hmac']);
const TOKEN_WORDS = new Set(['token', 'jwt', 'bearer', 'authorization', 'auth', 'sessionid', 'session', 'cookie', 'apitoken']);
const COORDINATE_WORDS = new Set(['lat', 'latitude', 'lon', 'lng', 'long', 'longitude']);
/** Credential words that also end a key written as one word ("wifipassword", "MQTTPASS", "adminpwd", "wpa2psk"). */
const CREDENTIAL_ENDINGS = /(?:password|passwd|passwort|passphrase|passcode|pswd|pwd|pw|pass|secret|credentials?|creds|psk)$/;
/** Words that end in "pass" and name no secret. */
const NOT_PASS = new Set(['bypass', 'compass', 'overpass', 'underpass', 'surpass', 'trespass', 'encompass']);

/** Any key word above, or a marker of a PEM key, a JWT or an e-mail address: else the parsers are not run. */
const MAYBE_SECRET = /pass|pwd|pswd|secret|cred|psk|key|token|jwt|bearer|auth|session|cookie|lat|lon|lng|-----BEGIN|eyJ|@/i;

/**
 * What a key's value is, from the key's words: 'credential' (password, passwd, pswd, secret,
 * credentials, psk, api key, private key, ...), 'token' (token, jwt, authorization, session, ...),
 * 'coordinates' (lat, lon, latitude, ...), or null. "wifi_password", "mqttPass", "API-Key",
 * "client_secret" and "auth.token" are secrets; "temperature", "passenger", "keyboard" are not.
 */
export function sensitiveKey(key: string): SensitiveKind | null {
  // Words split at camelCase ("mqttPass"), an acronym's end ("MQTTPassword") and digits ("Password1").
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])/g, ' ')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (CREDENTIAL_WORDS.has(w) || KEY_WORDS.has(w)) return 'credential';
    if (w.length > 4 && w.length <= 64 && CREDENTIAL_ENDINGS.test(w) && !NOT_PASS.has(w)) return 'credential';
    if (w === 'key' && i > 0 && KEY_QUALIFIERS.has(words[i - 1])) return 'credential';
  }
  if (words.some((w) => TOKEN_WORDS.has(w))) return 'token';
  if (words.length <= 2 && words.some((w) => COORDINATE_WORDS.has(w))) return 'coordinates';
  return null;
}

/** Keys whose values never become parsed sensor values either (lib/sniff sensors). */
export function isSensitiveKey(key: string): boolean {
  return sensitiveKey(key) !== null;
}

interface PatternRule {
  kind: SensitiveKind | 'by-key';
  re: RegExp;
  /** The replacement, or null to keep the match; for 'by-key' rules the first group is the key. */
  mask: (match: string, ...groups: string[]) => string | null;
}

/** A JSON string value, possibly cut off at the end of the examined prefix. */
const JSON_STRING = '"(?:[^"\\\\]|\\\\.)*"?';
/** A list or an object on one line, possibly cut off ("credentials": ["user", "pass"]). */
const BRACKETED = '\\[[^\\]\\n]*\\]?|\\{[^}\\n]*\\}?';
/** The same in JSON, over lines (pretty-printed). */
const JSON_BRACKETED = '\\[[^\\]]*\\]?|\\{[^}]*\\}?';

/** A & ; or , inside an unquoted value ("password=Ini;semi2", "a,b,c"), unless another key follows it. */
const SEPARATOR_IN_VALUE = `[&;,](?!\\s*["']?[A-Za-z_][\\w .-]{0,63}["']?\\s*[=:])`;

// Order matters: key-based rules first, so the generic long-token rules see masked values.
const PATTERNS: PatternRule[] = [
  // "wifi_password": "…" / "lat": 48.8 / "credentials": [...] (any key; sensitiveKey decides).
  {
    kind: 'by-key',
    re: new RegExp(`"([^"\\\\]{1,64})"(\\s*(?::|=>)\\s*)(${JSON_STRING}|${JSON_BRACKETED}|[^,}\\]\\s]+)`, 'g'),
    mask: (_m, key, sep, value) => `"${key}"${sep}${value.startsWith('"') ? `"${MASK}"` : MASK}`,
  },
  // --password CliPw1 (a command line a device reports).
  {
    kind: 'by-key',
    re: /(?<![\w-])--([A-Za-z][\w-]{0,63})([ \t]+)((?!-)[^\s"']\S*|"[^"\n]*"?|'[^'\n]*'?)/g,
    mask: (_m, key, sep) => `--${key}${sep}${MASK}`,
  },
  // password: | (a YAML block scalar: the indented lines after it), also when cut.
  {
    kind: 'by-key',
    re: /(?<![\w.-])([A-Za-z_][\w.-]{0,63})([ \t]*:[ \t]*)([|>][-+0-9]{0,2}[ \t]*(?:\n[ \t]+\S[^\n]*|\n[ \t]*(?=\n))+)/g,
    mask: (_m, key, sep) => `${key}${sep}${MASK}`,
  },
  // wifi_password=… / password: … / pswd = "…" / credentials = [...] / --password=… /
  // :password=>… (key = value lines, INI, TOML, YAML, query strings, command lines, Ruby).
  {
    kind: 'by-key',
    re: new RegExp(`(?<![\\w.-])-{0,2}([A-Za-z_][\\w.-]{0,63})(\\s*(?:=>?|:)\\s*)("[^"\\n]*"?|'[^'\\n]*'?|${BRACKETED}|[^\\s&;,"'\\]}[{](?:[^\\s&;,"'\\]}]|${SEPARATOR_IN_VALUE})*)`, 'g'),
    mask: (m, key, sep) => `${m.slice(0, m.indexOf(key))}${key}${sep}${MASK}`,
  },
  // <password>…</password> (XML), also when cut.
  { kind: 'by-key', re: /<([A-Za-z_][\w.:-]{0,63})((?:\s[^<>]*)?>)([^<]+)/g, mask: (_m, key, sep) => `<${key}${sep}${MASK}` },
  // scheme://user:pass@ (the user may be empty, "redis://:pass@"; an unencoded @ stays in the password).
  { kind: 'credential', re: /(\b[a-z][a-z0-9+.-]*:\/\/[^:/\s@]*:)([^\s/]+)(?=@)/gi, mask: (_m, head) => `${head}${MASK}` },
  { kind: 'private_key', re: /-----BEGIN ((?:[A-Z]+ )*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|$)/g, mask: () => `-----BEGIN PRIVATE KEY----- ${MASK}` },
  { kind: 'token', re: /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, mask: () => MASK },
  { kind: 'token', re: /\b(bearer\s+)([A-Za-z0-9._~+/=-]{8,})/gi, mask: (_m, head) => `${head}${MASK}` },
  { kind: 'token', re: /\b[0-9a-fA-F]{32,}\b/g, mask: () => MASK },
  // Base64-ish runs of 40+ characters mixing upper, lower case and digits.
  {
    kind: 'token',
    re: /(?<![A-Za-z0-9+/_-])(?=[A-Za-z0-9+/_-]*\d)(?=[A-Za-z0-9+/_-]*[a-z])(?=[A-Za-z0-9+/_-]*[A-Z])[A-Za-z0-9+/_-]{40,}={0,2}/g,
    mask: () => MASK,
  },
  { kind: 'email', re: /\b[A-Za-z0-9._%+-]{1,64}@((?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24})\b/g, mask: (_m, domain) => `${MASK}@${domain}` },
  // "48.85837,2.29448": a latitude and a longitude with enough decimals to be a place.
  {
    kind: 'coordinates',
    re: /(?<![\d.])(-?\d{1,2}\.\d{4,}),\s*(-?\d{1,3}\.\d{4,})(?![\d.])/g,
    mask: (_m, lat, lon) => (Math.abs(+lat) <= 90 && Math.abs(+lon) <= 180 ? `${MASK},${MASK}` : null),
  },
];

/** The sample text with every secret masked, and the kinds found (in the order first found). */
export interface Screened {
  masked: string;
  kinds: SensitiveKind[];
}

/** How many values of one payload the parsers may hand over for masking (bounds the work). */
const MAX_VALUES = 64;
/** Values shorter than this are masked only where a key names them (a pattern rule), not everywhere. */
const MIN_VALUE_CHARS = 3;

/**
 * Finds secrets in a payload's text (see the file's head) and returns it with each one replaced
 * by MASK. `topic`: the topic the payload came on (rule 1). `complete`: the text is the whole
 * payload (a cut one is not parsed, only matched by pattern). Never throws.
 */
export function screenSensitive(text: string, topic = '', complete = true): Screened {
  const kinds: SensitiveKind[] = [];
  const found = (k: SensitiveKind) => {
    if (!kinds.includes(k)) kinds.push(k);
  };
  // The last level, or the one before a verb ("homie/dev/wifi/password/set").
  const levels = topic.split('/');
  const named = levels.length > 1 && TOPIC_VERBS.has(levels[levels.length - 1].toLowerCase()) ? levels[levels.length - 2] : levels[levels.length - 1];
  const byTopic = sensitiveKey(named);
  if ((byTopic === 'credential' || byTopic === 'token') && text.trim() !== '') {
    return { masked: MASK, kinds: [byTopic] };
  }
  let masked = text;
  if (complete && MAYBE_SECRET.test(text)) {
    for (const [kind, value] of parsedSecrets(text)) {
      if (value.length < MIN_VALUE_CHARS) continue;
      const before = masked;
      masked = replaceAll(masked, value, MASK);
      const escaped = JSON.stringify(value).slice(1, -1);
      if (escaped !== value) masked = replaceAll(masked, escaped, MASK);
      // Not in the text as parsed (a YAML block or folded scalar, a quoted one over lines): its words are.
      if (masked === before && /\s/.test(value.trim())) {
        for (const word of value.split(/\s+/)) if (word.length >= MIN_VALUE_CHARS) masked = replaceAll(masked, word, MASK);
      }
      if (masked !== before) found(kind);
    }
  }
  const byKey: string[] = [];
  for (const rule of PATTERNS) masked = applyRule(rule, masked, found, byKey);
  // A value a key named, wherever else it appears (a cut payload that repeats it in a log line).
  for (const value of byKey.slice(0, MAX_VALUES)) if (value.length >= MIN_VALUE_CHARS) masked = replaceAll(masked, value, MASK);
  return { masked, kinds };
}

/**
 * The text with one pattern rule's matches masked. A list or an object under a key that names no
 * secret is screened inside by the same rule: its keys were consumed with it, so the "password" of
 * {"wifi":{"password":…}} cut before its end (or not JSON) went unread.
 */
function applyRule(rule: PatternRule, text: string, found: (k: SensitiveKind) => void, values: string[]): string {
  return text.replace(rule.re, (match: string, ...rest: unknown[]) => {
    // replace() passes the groups, then the offset (a number), the input and named groups.
    const groups = rest.slice(0, rest.findIndex((x) => typeof x === 'number')).map((g) => (typeof g === 'string' ? g : ''));
    const kind = rule.kind === 'by-key' ? sensitiveKey(groups[0]) : rule.kind;
    if (kind === null) {
      const value = groups[2];
      // A strictly shorter text each time: the recursion ends, at most as deep as the brackets.
      if (rule.kind === 'by-key' && /^[[{]/.test(value)) return match.slice(0, match.length - value.length + 1) + applyRule(rule, value.slice(1), found, values);
      return match;
    }
    if (rule.kind === 'by-key' && groups[2].replace(/^["']|["']$/g, '') === MASK) return match; // masked by value already
    const replacement = rule.mask(match, ...groups);
    if (replacement === null) return match;
    found(kind);
    if (rule.kind === 'by-key') {
      const value = groups[2].replace(/^["']|["']$/g, '');
      if (!/^[[{|>]|^(?:null|true|false)$/.test(value)) values.push(value);
    }
    return replacement;
  });
}

/**
 * The values under sensitive keys in every structure the text parses as (JSON, TOML, YAML, INI,
 * query string), with their kind, at most MAX_VALUES of them. A parser that fails adds nothing.
 */
function parsedSecrets(text: string): Array<[SensitiveKind, string]> {
  const out: Array<[SensitiveKind, string]> = [];
  const seen = new Set<string>();
  const walk = (node: unknown, kind: SensitiveKind | null, depth: number) => {
    if (out.length >= MAX_VALUES || depth > 8) return;
    if (node === null || node === undefined) return;
    // A JSON document sent as a string inside another ({"data":"{\"password\":…}"}).
    if (typeof node === 'string' && !kind && /^\s*[[{]/.test(node)) {
      try {
        walk(JSON.parse(node), null, depth + 1);
      } catch {
        // not JSON
      }
      return;
    }
    if (typeof node === 'string' || typeof node === 'number' || typeof node === 'bigint') {
      const value = String(node);
      if (kind && !seen.has(value)) {
        seen.add(value);
        out.push([kind, value]);
      }
      return;
    }
    if (typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const v of node) walk(v, kind, depth + 1);
      return;
    }
    for (const [k, v] of Object.entries(node as Record<string, unknown>)) walk(v, kind ?? sensitiveKey(k), depth + 1);
  };
  for (const parse of PARSERS) {
    let tree: unknown;
    try {
      tree = parse(text);
    } catch {
      continue;
    }
    if (tree && typeof tree === 'object') walk(tree, null, 0);
  }
  return out;
}

/** The formats devices publish configuration and readings in; each gets the text only when it may be one. */
const PARSERS: Array<(text: string) => unknown> = [
  (t) => (/^\s*[[{]/.test(t) ? JSON.parse(t) : undefined),
  (t) => (/=/.test(t) ? parseToml(t) : undefined),
  // One document, no aliases expanded beyond a few (a payload is at most the examined prefix).
  // logLevel 'silent': yaml would print its warnings (with a piece of the payload) to stderr, into
  // the CLI's output and Node-RED's log.
  (t) => (/:\s/.test(t) ? parseYaml(t, { maxAliasCount: 10, uniqueKeys: false, logLevel: 'silent' }) : undefined),
  (t) => (/=/.test(t) ? parseIni(t) : undefined),
  (t) => (/^[^\s=&]+=[^\s&]*(?:&[^\s=&]+=[^\s&]*)+$/.test(t.trim()) ? Object.fromEntries(new URLSearchParams(t.trim())) : undefined),
];

function replaceAll(text: string, value: string, by: string): string {
  return text.split(value).join(by);
}
