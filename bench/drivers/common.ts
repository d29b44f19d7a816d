// What the scan and flow drivers report alike (transpiled with them, bench/lib/drivers.ts): each
// result's verdict, and when the results were done.

/** "classification/LEVEL" of one result ("-" when it has no risk): what the bench compares. */
export function verdictOf(r: { classification?: unknown; risk?: { level?: unknown } | null }): string {
  return `${String(r.classification)}/${String(r.risk?.level ?? '-')}`;
}

/** "host:port" of one result. */
export function keyOf(r: { host?: unknown; port?: unknown }): string {
  return `${String(r.host)}:${String(r.port)}`;
}

export interface Spread {
  n: number;
  first: number;
  median: number;
  last: number;
}

/**
 * When results were done, ms after the start: first / median / last over all of them and by
 * transport ({all, tcp, tls, ...}); null where there were none.
 */
export function arrivalSpread(done: ReadonlyArray<{ ms: number; transport: string }>): Record<string, Spread | null> {
  const spread = (xs: ReadonlyArray<{ ms: number }>): Spread | null => {
    const at = xs.map((x) => Math.round(x.ms)).sort((a, b) => a - b);
    return at.length ? { n: at.length, first: at[0], median: at[at.length >> 1], last: at[at.length - 1] } : null;
  };
  const transports = [...new Set(done.map((x) => x.transport))];
  return { all: spread(done), ...Object.fromEntries(transports.map((t) => [t, spread(done.filter((x) => x.transport === t))])) };
}
