// What the sites tests (test/sites/, test/nodes/site-nodes.test.ts) compare between a coordinated
// scan and a local one: each result's verdict (how it was reached, the auth grid, risk, finding ids).
import type { ScanResult } from '../../lib/types';

/** The verdict of one result, as test/sites/sites.test.ts compares it. */
export function siteVerdict(r: ScanResult) {
  const a = r.auth;
  return {
    reachability: r.reachability, classification: r.classification, transport: r.transport,
    anonymous: a.anonymous.outcome, wrongCredentials: a.wrongCredentials.outcome,
    givenCredentials: `${a.givenCredentials.outcome}${a.givenCredentials.withheld ? ` (withheld: ${a.givenCredentials.withheld})` : ''}`,
    risk: r.risk?.level ?? null, findings: (r.findings ?? []).map((f) => f.id).sort(),
  };
}

/** host:port of each result, sorted. */
export function keysOf(results: ScanResult[]): string[] {
  return results.map((r) => `${r.host}:${r.port}`).sort();
}
