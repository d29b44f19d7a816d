// The known vulnerabilities of a broker's version (ClassifiedResult.vulnerabilities, made by
// lib/risk vulnerabilitiesOf) in the words that the dashboard's broker detail, the PDF and the CLI
// share. A result may come from any flow, so it is read defensively and bounded
// (knownVulnerabilitiesOf); the shape mirrors lib/risk's BrokerVulnerabilities, which this layer
// may not import (lib/common sits below lib/risk).
//
// What is broker text here: `said` and `from` (the version text and the $SYS topic it came on; the
// listener escaped and bounded both where they entered the result). The version is what semver
// read out of it (digits and dots); products, ids, summaries and sources come from our table.
import type { Severity } from '../types';
import { isPlainObject } from './result-guards';
import { isHttpsUrl } from './devices';

/** Most matches kept (the table's worst version has 24) and most code points of each text. */
export const VULNERABILITY_BOUNDS = {
  matches: 50,
  /** Sources per match (the table's most: 4); each URL at most `url` code points (the longest: 97). */
  sources: 5,
  id: 80,
  summary: 400,
  url: 200,
  said: 200,
  from: 300,
  /** Versions, dates, product names and CVSS vectors. */
  short: 100,
} as const;

/** A match's severity: from its CVSS base score, 'medium' when none is published. */
export type VulnerabilitySeverity = Exclude<Severity, 'info'>;

/** A CVSS base score as the table gives it (lib/risk KnownVulnerability.cvss). */
export interface CvssScore {
  /** 0.0 to 10.0. */
  score: number;
  /** "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H". */
  vector: string;
  version: string;
  /** 'nvd' or 'cna'. */
  source: string;
}

/** One known vulnerability that applies to the broker's version (lib/risk VulnerabilityMatch). */
export interface KnownVulnerabilityMatch {
  /** A CVE id, or an id of the table's own making ("MOSQUITTO-2021-08-DEFAULT-LISTENER-EXPOSED"). */
  id: string;
  severity: VulnerabilitySeverity;
  cvss?: CvssScore;
  /** The release that fixes it on the broker's branch, or null when none is released. */
  fixedIn: string | null;
  /** One sentence. */
  summary: string;
  /** 'YYYY-MM' or 'YYYY-MM-DD'. */
  published: string;
  /** Where the facts come from (URLs), at most VULNERABILITY_BOUNDS.sources. */
  sources: string[];
}

/** The newest release of a product the table knows (lib/risk ProductRelease). */
export interface KnownRelease {
  product: string;
  version: string;
  /** 'YYYY-MM-DD'. */
  released: string;
  source: string;
}

/**
 * ClassifiedResult.vulnerabilities (lib/risk BrokerVulnerabilities) as the outputs read it: typed,
 * at most VULNERABILITY_BOUNDS.matches matches (worst first, as classify sorted them), texts cut.
 */
export interface KnownVulnerabilities {
  /** 'mosquitto', 'emqx', ... (lib/risk BrokerProduct). */
  product: string;
  /** x.y.z as read from what the broker said. */
  version: string;
  /** The text the broker said (escaped by the listener). */
  said: string;
  /** Where it said it: "$SYS/broker/version", "$SYS/brokers/<node>/version", "mqtt.brokerVersion". */
  from: string;
  matches: KnownVulnerabilityMatch[];
  /** The lowest release that fixes every match; null when some have no released fix (or none match). */
  upgradeTo: string | null;
  newest: KnownRelease | null;
  /** The version is older than `newest`. */
  outdated: boolean;
  /** The day the table was last checked against its sources, 'YYYY-MM-DD'. */
  tableAsOf: string;
  /** Matches left out beyond VULNERABILITY_BOUNDS.matches (absent when none were). */
  omitted?: number;
}

/** How the products of the table are written (lib/risk BrokerProduct -> name). */
export const PRODUCT_NAMES: Readonly<Record<string, string>> = {
  mosquitto: 'Mosquitto', emqx: 'EMQX', vernemq: 'VerneMQ', nanomq: 'NanoMQ', 'hivemq-ce': 'HiveMQ CE', rabbitmq: 'RabbitMQ', aedes: 'aedes',
};

/** What every output says next to matches: the version number alone does not prove the flaw. */
export const BACKPORT_CAVEAT =
  "A distribution's package (Debian, Ubuntu, ...) may carry backported fixes under the old version number: check its security tracker before you conclude.";

const SEVERITIES: readonly VulnerabilitySeverity[] = ['critical', 'high', 'medium', 'low'];

const text = (v: unknown, max: number): string => {
  const s = typeof v === 'string' ? v : '';
  if (s.length <= max) return s;
  const points = Array.from(s);
  return points.length > max ? `${points.slice(0, max - 1).join('')}…` : s;
};
const orNull = (v: unknown, max: number): string | null => (typeof v === 'string' && v ? text(v, max) : null);

function cvssOf(v: unknown): CvssScore | undefined {
  if (!isPlainObject(v) || typeof v.score !== 'number' || !Number.isFinite(v.score) || v.score < 0 || v.score > 10) return undefined;
  const short = VULNERABILITY_BOUNDS.short;
  return { score: v.score, vector: text(v.vector, short), version: text(v.version, short), source: text(v.source, short) };
}

function matchOf(m: Record<string, unknown>): KnownVulnerabilityMatch {
  const b = VULNERABILITY_BOUNDS;
  const cvss = cvssOf(m.cvss);
  return {
    id: text(m.id, b.id),
    severity: SEVERITIES.includes(m.severity as VulnerabilitySeverity) ? (m.severity as VulnerabilitySeverity) : 'medium',
    ...(cvss ? { cvss } : {}),
    fixedIn: orNull(m.fixedIn, b.short),
    summary: text(m.summary, b.summary),
    published: text(m.published, b.short),
    sources: (Array.isArray(m.sources) ? m.sources : []).filter((s): s is string => typeof s === 'string').slice(0, b.sources).map((s) => text(s, b.url)),
  };
}

function releaseOf(v: unknown): KnownRelease | null {
  if (!isPlainObject(v) || typeof v.version !== 'string' || !v.version) return null;
  const short = VULNERABILITY_BOUNDS.short;
  return { product: text(v.product, short), version: text(v.version, short), released: text(v.released, short), source: text(v.source, VULNERABILITY_BOUNDS.url) };
}

/**
 * A well-typed, bounded copy of a result's `vulnerabilities`: at most VULNERABILITY_BOUNDS.matches
 * matches (the rest counted in `omitted`), texts cut to their bounds with "…", a severity outside
 * critical/high/medium/low read as medium, a CVSS score outside 0-10 dropped; null when it is not
 * an object naming a product and a version.
 */
export function knownVulnerabilitiesOf(v: unknown): KnownVulnerabilities | null {
  if (!isPlainObject(v) || typeof v.product !== 'string' || !v.product || typeof v.version !== 'string' || !v.version) return null;
  const b = VULNERABILITY_BOUNDS;
  const all = Array.isArray(v.matches) ? v.matches.filter(isPlainObject).filter((m) => typeof m.id === 'string' && m.id) : [];
  const matches = all.slice(0, b.matches).map(matchOf);
  // A copy read again keeps the count its first reading left out.
  const before = typeof v.omitted === 'number' && Number.isInteger(v.omitted) && v.omitted > 0 ? Math.min(v.omitted, 1_000_000) : 0;
  const omitted = before + all.length - matches.length;
  return {
    product: text(v.product, b.short),
    version: text(v.version, b.short),
    said: text(v.said, b.said),
    from: text(v.from, b.from),
    matches,
    upgradeTo: orNull(v.upgradeTo, b.short),
    newest: releaseOf(v.newest),
    outdated: v.outdated === true,
    tableAsOf: text(v.tableAsOf, b.short),
    ...(omitted ? { omitted } : {}),
  };
}

/** "Mosquitto", "EMQX"; a product the table does not know is written as given. */
export function productName(product: string): string {
  return Object.prototype.hasOwnProperty.call(PRODUCT_NAMES, product) ? PRODUCT_NAMES[product] : product;
}

/** "said on $SYS/broker/version", "said in its CONNACK", else "said by the broker". */
function saidWhere(from: string): string {
  if (from.startsWith('$SYS/')) return `said on ${from}`;
  if (from === 'CONNACK') return 'said in its CONNACK';
  return 'said by the broker';
}

/** "Mosquitto 2.0.11 (said on $SYS/broker/version)". */
export function vulnerabilityHeading(v: Pick<KnownVulnerabilities, 'product' | 'version' | 'from'>): string {
  return `${productName(v.product)} ${v.version} (${saidWhere(v.from)})`;
}

/** "Mosquitto 2.0.11" (the product and the version it said). */
export function productVersion(v: Pick<KnownVulnerabilities, 'product' | 'version'>): string {
  return `${productName(v.product)} ${v.version}`;
}

/** "newest known 2.1.2 (2026-02-09)", or "" without a newest release. */
function newestText(v: Pick<KnownVulnerabilities, 'newest'>): string {
  return v.newest ? `newest known ${v.newest.version}${v.newest.released ? ` (${v.newest.released})` : ''}` : '';
}

/**
 * What to do about the matches: "Upgrade to 2.0.21 or later; newest known 2.1.2 (2026-02-09)", or
 * when some have no released fix "No released fix for CVE-2026-110486 yet; newest known 2.1.2
 * (2026-02-09)"; null without matches.
 */
export function upgradeText(v: Pick<KnownVulnerabilities, 'matches' | 'upgradeTo' | 'newest'>): string | null {
  if (!v.matches.length) return null;
  const newest = newestText(v);
  if (v.upgradeTo) return `Upgrade to ${v.upgradeTo} or later${newest ? `; ${newest}` : ''}`;
  const unfixed = v.matches.filter((m) => !m.fixedIn).map((m) => m.id);
  return `No released fix for ${unfixed.join(', ') || 'every listed vulnerability'} yet${newest ? `; ${newest}` : ''}`;
}

/** "Mosquitto 2.0.22 is older than the newest release known (2.1.2, 2026-02-09)" for an outdated
 *  version ("(2.1.2)" with `withDate` false); null when it is not outdated or the newest release is unknown. */
export function outdatedText(v: Pick<KnownVulnerabilities, 'product' | 'version' | 'newest' | 'outdated'>, withDate = true): string | null {
  if (!v.outdated || !v.newest) return null;
  return `${productVersion(v)} is older than the newest release known (${v.newest.version}${withDate && v.newest.released ? `, ${v.newest.released}` : ''})`;
}

/** "CVSS 9.8" (one decimal), or "no CVSS score published". */
export function cvssText(m: Pick<KnownVulnerabilityMatch, 'cvss'>): string {
  return m.cvss ? `CVSS ${m.cvss.score.toFixed(1)}` : 'no CVSS score published';
}

/** "fixed in 2.0.12", or "no fix released". */
export function fixedText(m: Pick<KnownVulnerabilityMatch, 'fixedIn'>): string {
  return m.fixedIn ? `fixed in ${m.fixedIn}` : 'no fix released';
}

/** The first https source of a match (the id links there), or null. */
export function sourceLink(m: Pick<KnownVulnerabilityMatch, 'sources'>): string | null {
  return m.sources.find(isHttpsUrl) ?? null;
}

/** One match as a row: id, its link (https only, else null), severity, CVSS, fix, summary. */
export interface VulnerabilityRow {
  id: string;
  /** The first https source; null: the id is shown as text. */
  link: string | null;
  severity: VulnerabilitySeverity;
  /** "CVSS 10.0", or "no CVSS score published". */
  cvss: string;
  /** The base score with one decimal ("10.0"), or null when none is published (for tables). */
  score: string | null;
  /** The CVSS vector, or null. */
  vector: string | null;
  /** "fixed in 2.0.16", or "no fix released". */
  fixed: string;
  /** The release that fixes it on the broker's branch ("2.0.16"), or null (for tables). */
  fixedIn: string | null;
  summary: string;
}

/** The "Known vulnerabilities" block of one broker. */
export interface VulnerabilitiesView {
  /** "Mosquitto 2.0.11 (said on $SYS/broker/version)". */
  heading: string;
  /** Worst first; [] when none applies. */
  rows: VulnerabilityRow[];
  /** "12 more in the JSON report" when the bounded copy left some out; else null. */
  more: string | null;
  /** upgradeText: "Upgrade to 2.0.21 or later; newest known 2.1.2 (2026-02-09)"; null without matches. */
  upgrade: string | null;
  /** Without matches: "Mosquitto 2.0.22 is older than the newest release known (2.1.2, 2026-02-09)",
   *  or "No known vulnerability of the table applies to aedes 1.1.3; newest known 1.1.3 (2026-09-15)". */
  status: string | null;
  /** "Table as of 2026-11-30". */
  asOf: string;
  /** BACKPORT_CAVEAT when there are matches; else null. */
  caveat: string | null;
}

/**
 * The block for a result's `vulnerabilities` (read through knownVulnerabilitiesOf), or null when
 * it has none: the broker did not say which broker and version it is.
 */
export function vulnerabilitiesView(value: unknown): VulnerabilitiesView | null {
  const v = knownVulnerabilitiesOf(value);
  if (!v) return null;
  const rows = v.matches.map((m): VulnerabilityRow => ({
    id: m.id, link: sourceLink(m), severity: m.severity, cvss: cvssText(m), score: m.cvss ? m.cvss.score.toFixed(1) : null, vector: m.cvss?.vector || null,
    fixed: fixedText(m), fixedIn: m.fixedIn, summary: m.summary,
  }));
  const newest = newestText(v);
  const clean = `No known vulnerability of the table applies to ${productVersion(v)}${newest ? `; ${newest}` : ''}`;
  return {
    heading: vulnerabilityHeading(v),
    rows,
    more: v.omitted ? `${v.omitted} more in the JSON report` : null,
    upgrade: upgradeText(v),
    status: rows.length ? null : outdatedText(v) ?? clean,
    asOf: `Table as of ${v.tableAsOf}`,
    caveat: rows.length ? BACKPORT_CAVEAT : null,
  };
}
