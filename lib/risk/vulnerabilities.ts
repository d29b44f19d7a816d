// Which broker a result is, which version it says it runs, and which known vulnerabilities of
// the table (lib/risk/known-vulnerabilities.ts) that version has. Offline and pure: the table is
// data reviewed like code; versions are compared with the semver package (coerce tolerates vendor
// text: "mosquitto version 2.0.11", "v5.3.0", "2.0.11-1").
import semver from 'semver';
import type { ScanResult, Severity } from '../types';
import { KNOWN_VULNERABILITIES, NEWEST_RELEASES, VULNERABILITY_TABLE_AS_OF, type BrokerProduct, type KnownVulnerability, type ProductRelease } from './known-vulnerabilities';

/** What a broker says it is: the product, its version as x.y.z, the text it said, and where. */
export interface BrokerIdentity {
  product: BrokerProduct;
  /** Plain x.y.z (semver.coerce of what the broker said). */
  version: string;
  /** The text as the broker sent it (already shown escaped and bounded by the listener). */
  said: string;
  /** Where it was said: "$SYS/broker/version", "$SYS/brokers/emqx@node1/version", "CONNACK". */
  from: string;
}

/** One known vulnerability that applies, with the severity its CVSS score gives. */
export interface VulnerabilityMatch {
  id: string;
  /** From the CVSS base score (>= 9 critical, >= 7 high, >= 4 medium, else low); 'medium' when no
   *  score is published (cvss absent), so an unscored entry never reads as harmless. */
  severity: Exclude<Severity, 'info'>;
  cvss?: KnownVulnerability['cvss'];
  /** The release that fixes it for this version: the lowest of fixedIn above it (its branch). */
  fixedIn: string | null;
  summary: string;
  published: string;
  sources: string[];
}

/** The known vulnerabilities of one broker's version (ClassifiedResult.vulnerabilities). */
export interface BrokerVulnerabilities extends BrokerIdentity {
  /** Worst first, then newest. */
  matches: VulnerabilityMatch[];
  /** The lowest release that fixes every match (null when some have no fix). */
  upgradeTo: string | null;
  /** The newest release of the product the table knows, and whether this version is older. */
  newest: ProductRelease | null;
  outdated: boolean;
  /** The day the table was last checked against its sources (VULNERABILITY_TABLE_AS_OF). */
  tableAsOf: string;
}

const PRODUCT_WORDS: Array<[RegExp, BrokerProduct]> = [
  [/\bmosquitto\b/i, 'mosquitto'],
  [/\bemq\s?x\b/i, 'emqx'],
  [/\bnanomq\b/i, 'nanomq'],
  [/\bvernemq\b/i, 'vernemq'],
  [/\bhivemq\b/i, 'hivemq-ce'],
  [/\brabbitmq\b/i, 'rabbitmq'],
  [/\baedes\b/i, 'aedes'],
];

/** CVSS base score -> severity (FIRST CVSS v3.1 §5 qualitative rating, "none" counted as low). */
export function severityOfScore(score: number | undefined): Exclude<Severity, 'info'> {
  if (typeof score !== 'number' || !Number.isFinite(score)) return 'medium';
  return score >= 9 ? 'critical' : score >= 7 ? 'high' : score >= 4 ? 'medium' : 'low';
}

/** The first dotted version number of a text ("5.8", "2.0.11"); a lone number ("1+1") is none. */
const DOTTED_VERSION = /(?<![\d.])v?(\d{1,9}\.\d{1,9}(?:\.\d{1,9})?)(?![\d.]*\.\d)/;

/**
 * "2.0.11" from "mosquitto version 2.0.11", "v5.3.0", "2.0.11-1", "5.8" (-> 5.8.0); null when no
 * dotted version is in it. Only a number with at least one dot counts, so hostile text around the
 * version ("=1+1 mosquitto version 2.0.11") cannot make it another (semver.coerce alone takes the
 * first number it meets).
 */
export function versionIn(text: string): string | null {
  const m = DOTTED_VERSION.exec(text);
  const v = m ? semver.coerce(m[1]) : null;
  return v ? v.version : null;
}

/** Whether `version` (x.y.z) lies in one of the ranges: >= introduced and < fixed (or <= lastAffected). */
export function isAffected(version: string, v: Pick<KnownVulnerability, 'affected'>): boolean {
  return v.affected.some((r) => {
    if (semver.lt(version, r.introduced)) return false;
    if (r.fixed) return semver.lt(version, r.fixed);
    if (r.lastAffected) return semver.lte(version, r.lastAffected);
    return true;
  });
}

/**
 * The broker's product and version from what it said: the version text names the product
 * ("mosquitto version 2.0.11"), or the place does (EMQX's $SYS/brokers/<node>/version, its
 * sysdescr "EMQX"). Null when no version was said or the product cannot be told: no guess.
 */
export function identifyBroker(r: ScanResult): BrokerIdentity | null {
  const raw = sysRaw(r);
  const candidates: Array<{ said: string; from: string }> = [];
  // EMQX says only "5.3.0" under $SYS/brokers/<node>/version; its sysdescr names it.
  let sysdescr: string | undefined;
  let described = false;
  // One pass, the regular expressions only on names that end right: the risk rules ask several
  // times per broker, and Mosquitto sends some fifty $SYS topics.
  for (const topic of Object.keys(raw)) {
    if (topic.endsWith('/version')) {
      const value = raw[topic];
      if (/^\$SYS\/brokers?(?:\/[^/]+)?\/version$/.test(topic) && typeof value === 'string' && value.trim()) candidates.push({ said: value.trim(), from: topic });
    } else if (!described && topic.endsWith('/sysdescr') && /^\$SYS\/brokers\/[^/]+\/sysdescr$/.test(topic)) {
      described = true;
      sysdescr = raw[topic];
    }
  }
  // The result's own field (a CONNACK property, or $SYS's version copied there by the pipeline).
  const field = r.mqtt?.brokerVersion ?? r.topics?.sys?.version;
  if (typeof field === 'string' && field.trim()) candidates.push({ said: field.trim(), from: 'mqtt.brokerVersion' });
  sysdescr ??= '';
  for (const c of candidates) {
    const version = versionIn(c.said);
    if (!version) continue;
    const product = productOf(c.said) ?? (/^\$SYS\/brokers\//.test(c.from) ? productOf(sysdescr) ?? 'emqx' : null);
    if (product) return { product, version, said: c.said, from: c.from };
  }
  return null;
}

function productOf(text: string): BrokerProduct | null {
  return PRODUCT_WORDS.find(([re]) => re.test(text))?.[1] ?? null;
}

function sysRaw(r: ScanResult): Record<string, string> {
  const raw = r.topics?.sys?.raw;
  return raw && typeof raw === 'object' ? (raw as Record<string, string>) : {};
}

/**
 * The known vulnerabilities of the broker's version, or null when the result does not say which
 * broker and version it is. `table`/`releases` default to the shipped table (tests pass their own).
 */
export function vulnerabilitiesOf(
  r: ScanResult,
  table: readonly KnownVulnerability[] = KNOWN_VULNERABILITIES,
  releases: readonly ProductRelease[] = NEWEST_RELEASES,
): BrokerVulnerabilities | null {
  const id = identifyBroker(r);
  if (!id) return null;
  const found = versionFacts(id, table, releases);
  // Fresh objects per call: a caller that edits its result never edits another broker's.
  return { ...id, ...found, matches: found.matches.map((m) => ({ ...m, sources: [...m.sources] })) };
}

type VersionFacts = Omit<BrokerVulnerabilities, keyof BrokerIdentity>;

/**
 * What the table says about one product and version, worked out once per table and version: the
 * risk rules ask about every broker several times (rules.ts), and a scan of a thousand brokers of
 * one version paid ~1 ms of semver comparisons per question (measured: 1.2 s of one core for
 * 1,000 Mosquitto listeners). At most MEMO_VERSIONS versions per table are kept; a scan that meets
 * more (brokers saying made-up versions) starts the memo afresh.
 */
const memo = new WeakMap<readonly KnownVulnerability[], WeakMap<readonly ProductRelease[], Map<string, VersionFacts>>>();
const MEMO_VERSIONS = 256;

function versionFacts(id: BrokerIdentity, table: readonly KnownVulnerability[], releases: readonly ProductRelease[]): VersionFacts {
  let byReleases = memo.get(table);
  if (!byReleases) memo.set(table, (byReleases = new WeakMap()));
  let known = byReleases.get(releases);
  if (!known) byReleases.set(releases, (known = new Map()));
  const key = `${id.product}\0${id.version}`;
  const hit = known.get(key);
  if (hit) return hit;
  const matches = table
    .filter((v) => v.product === id.product && (v.component ?? 'broker') === 'broker' && isAffected(id.version, v))
    .map((v): VulnerabilityMatch => ({
      id: v.id,
      severity: severityOfScore(v.cvss?.score),
      ...(v.cvss ? { cvss: v.cvss } : {}),
      fixedIn: lowestAbove(v.fixedIn, id.version),
      summary: v.summary,
      published: v.published,
      sources: [...v.sources],
    }))
    .sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || (a.published < b.published ? 1 : a.published > b.published ? -1 : 0));
  const fixes = matches.map((m) => m.fixedIn);
  const upgradeTo = fixes.length && fixes.every((f): f is string => f !== null) ? fixes.reduce((a, b) => (semver.gt(b, a) ? b : a)) : null;
  const newest = releases.find((x) => x.product === id.product) ?? null;
  const facts: VersionFacts = {
    matches,
    upgradeTo,
    newest,
    outdated: !!newest && semver.lt(id.version, newest.version),
    tableAsOf: VULNERABILITY_TABLE_AS_OF,
  };
  if (known.size >= MEMO_VERSIONS) known.clear();
  known.set(key, facts);
  return facts;
}

const SEVERITY_ORDER: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3 };

/** The lowest release of `fixedIn` above `version` (the fix on its branch), or null. */
function lowestAbove(fixedIn: readonly string[], version: string): string | null {
  const above = fixedIn.filter((f) => semver.valid(f) && semver.gt(f, version)).sort(semver.compare);
  return above[0] ?? null;
}

/** Days from the table's as-of date to `now` (whole days, at least 0). */
export function tableAgeDays(now: Date = new Date(), asOf: string = VULNERABILITY_TABLE_AS_OF): number {
  const t = Date.parse(`${asOf}T00:00:00Z`);
  return Number.isNaN(t) ? Number.NaN : Math.max(0, Math.floor((now.getTime() - t) / 86_400_000));
}

/**
 * The CVE ids a vendor page or changelog names (its text, a local copy) that the table lacks, in
 * the order they first appear, each once. `product`: only entries of that product count as known.
 */
export function cvesMissingFrom(text: string, product?: BrokerProduct, table: readonly KnownVulnerability[] = KNOWN_VULNERABILITIES): string[] {
  const known = new Set(table.filter((v) => !product || v.product === product).map((v) => v.id.toUpperCase()));
  const seen = new Set<string>();
  for (const m of text.matchAll(/\bCVE-\d{4}-\d{4,7}\b/gi)) {
    const id = m[0].toUpperCase();
    if (!known.has(id)) seen.add(id);
  }
  return [...seen];
}
