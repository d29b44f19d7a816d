// Which brokers get a section of their own in the PDF's chapter 3, for a reader. A small scan (a
// classroom's few brokers) keeps one section per rated broker. A big one would be a book
// (1.6 pages per broker: 1,600 pages for 1,000 brokers) in which the same findings repeat: there,
// brokers rated MEDIUM or worse with the same findings (the same finding ids at the same level)
// share one section that shows one of them in full and names the others; brokers rated LOW,
// without findings or not rated are rows of the brokers table with their finding ids. The CSV and
// JSON reports keep every broker in full whatever the PDF shows.
import type { ClassifiedResult } from '../risk';
import type { RiskLevel } from '../types';

/** Up to this many brokers with a section (rated or "not rated" with a reason), each gets its own, as before. */
export const DETAILED_UP_TO = 24;
/** Sections at most in a grouped report: about 2 to 4 pages each. */
export const MAX_SECTIONS = 40;
/** Endpoints named in a group's section; the others are marked with its number in the brokers table. */
export const MAX_GROUP_ENDPOINTS = 48;
/** Rows of the brokers table at most (about 32 a page); the rest are named in the CSV and JSON reports only. */
export const MAX_TABLE_ROWS = 2500;
/** Levels that earn a section in a grouped report. */
export const SECTION_LEVELS: readonly RiskLevel[] = ['CRITICAL', 'HIGH', 'MEDIUM'];

/** One section of chapter 3: one broker, or brokers with the same findings (the first shown in full). */
export interface DetailSection {
  /** "3.1", "3.2", ... */
  number: string;
  /** In address order; the first is the one shown in full. */
  members: ClassifiedResult[];
}

/** How chapter 2 and 3 show the results. */
export interface DetailPlan {
  /** False: one section per rated broker (a small scan); true: sections per group of the same findings. */
  grouped: boolean;
  sections: DetailSection[];
  /** The section number of each result that has one (its own, or its group's). */
  sectionOf: Map<ClassifiedResult, string>;
  /** Brokers rated MEDIUM or worse without a section (their groups came after MAX_SECTIONS), and how many groups. */
  unsectioned: { brokers: number; groups: number };
  /** Results drawn as rows of the brokers table (the first MAX_TABLE_ROWS, address order). */
  tableRows: number;
}

const LEVEL_ORDER: Record<RiskLevel, number> = { CRITICAL: 0, HIGH: 1, MEDIUM: 2, LOW: 3 };

/** The key brokers share a section by: the level and the sorted set of finding ids. */
export function findingsKey(r: ClassifiedResult): string {
  return `${r.risk?.level ?? '-'}|${[...new Set(r.findings.map((f) => f.id))].sort().join(',')}`;
}

/**
 * The plan for `results` (address order, as prepareReport gives them): every rated or not-rated
 * result its own section while there are at most DETAILED_UP_TO of them (or always, with
 * `sectionEach`: the report as it was before issue 19, every result a table row); else groups of brokers
 * rated MEDIUM or worse with the same findingsKey, worst level first, then the biggest groups,
 * then address order, at most MAX_SECTIONS of them.
 */
export function detailPlan(results: readonly ClassifiedResult[], opts: { sectionEach?: boolean } = {}): DetailPlan {
  const sectionOf = new Map<ClassifiedResult, string>();
  const rated = results.filter((r) => r.risk || r.riskNotRated);
  if (rated.length <= DETAILED_UP_TO || opts.sectionEach) {
    const tableRows = results.length;
    const sections = rated.map((r, i) => ({ number: `3.${i + 1}`, members: [r] }));
    for (const s of sections) sectionOf.set(s.members[0], s.number);
    return { grouped: false, sections, sectionOf, unsectioned: { brokers: 0, groups: 0 }, tableRows };
  }
  const groups = new Map<string, ClassifiedResult[]>();
  for (const r of results) {
    if (!r.risk || !SECTION_LEVELS.includes(r.risk.level)) continue;
    const key = findingsKey(r);
    const members = groups.get(key);
    if (members) members.push(r);
    else groups.set(key, [r]);
  }
  const ordered = [...groups.values()].sort(
    (a, b) => LEVEL_ORDER[a[0].risk!.level] - LEVEL_ORDER[b[0].risk!.level] || b.length - a.length || results.indexOf(a[0]) - results.indexOf(b[0]),
  );
  const tableRows = Math.min(results.length, MAX_TABLE_ROWS);
  const sections = ordered.slice(0, MAX_SECTIONS).map((members, i) => ({ number: `3.${i + 1}`, members }));
  for (const s of sections) for (const m of s.members) sectionOf.set(m, s.number);
  const rest = ordered.slice(MAX_SECTIONS);
  return {
    grouped: true,
    sections,
    sectionOf,
    unsectioned: { brokers: rest.reduce((n, g) => n + g.length, 0), groups: rest.length },
    tableRows,
  };
}
