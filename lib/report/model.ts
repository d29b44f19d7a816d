// What every report format is built from: classified results in address order, the scan
// summary, and metadata for the cover. Built once, so PDF, CSV and JSON always agree.
import { classifyResult, isClassified, summarizeScan, type ClassifiedResult, type Policy, type RiskSummary } from '../risk';
import { compareResults } from '../targets';
import type { ScanResult, ScanSummary } from '../types';

export interface ReportMeta {
  /** Cover title; default "MQTT Security Assessment". */
  title?: string;
  /** Who the report is for (a class, a site, a client). */
  preparedFor?: string;
  /** Who ran the scan. */
  preparedBy?: string;
  /** Target specs as entered, e.g. ["127.0.0.1", "192.0.2.0/28"]. */
  targets?: readonly string[];
  ports?: readonly number[];
  /** Scan options worth recording (timeouts, transport...). Keys that look secret are dropped. */
  options?: Record<string, unknown>;
}

export interface ReportInput {
  results: ClassifiedResult[];
  summary: RiskSummary;
  scan: ScanSummary | null;
  meta: ReportMeta;
  generatedAt: Date;
}

export interface PrepareOptions {
  scan?: ScanSummary | null;
  meta?: ReportMeta;
  policy?: Policy;
  now?: Date;
}

export const DEFAULT_TITLE = 'MQTT Security Assessment';
/** Option names that may hold a secret never reach a report, whatever a caller passes. */
const SECRET_KEY = /pass|secret|token|credential|auth|key|cert|user/i;

export function prepareReport(results: readonly ScanResult[], opts: PrepareOptions = {}): ReportInput {
  const generatedAt = opts.now ?? new Date();
  const classified = results.map((r) => withheldSamples(isClassified(r) ? r : classifyResult(r, opts.policy))).sort(compareResults);
  return {
    results: classified,
    summary: summarizeScan(classified, opts.scan ?? null, { now: generatedAt }),
    scan: opts.scan ?? null,
    meta: cleanMeta(opts.meta ?? {}),
    generatedAt,
  };
}

/** A payload the sniffer flagged as sensitive may hold someone's password: reports never repeat it. */
function withheldSamples(r: ClassifiedResult): ClassifiedResult {
  const items = r.topics?.items;
  if (!Array.isArray(items) || !items.some((it) => it.sensitive?.length && it.sample !== undefined)) return r;
  return {
    ...r,
    topics: {
      ...r.topics!,
      items: items.map((it) => (it.sensitive?.length && it.sample !== undefined ? { ...it, sample: `[withheld: ${it.sensitive.join(', ')}]`, values: undefined } : it)),
    },
  };
}

function cleanMeta(meta: ReportMeta): ReportMeta {
  const options: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(meta.options ?? {})) {
    if (SECRET_KEY.test(k) || v === undefined || typeof v === 'function' || (typeof v === 'object' && v !== null)) continue;
    options[k] = v;
  }
  return { ...meta, options };
}

/** host:port, with brackets for IPv6. */
export function endpoint(r: { host: string; port: number }): string {
  return r.host.includes(':') ? `[${r.host}]:${r.port}` : `${r.host}:${r.port}`;
}
