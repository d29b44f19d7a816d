// The order results are listed in, everywhere: the CLI table, the reports, the dashboard.

/** Address order (numeric for IPv4, else by text), then port; for Array.prototype.sort. */
export function compareResults(a: { host: string; port: number }, b: { host: string; port: number }): number {
  return hostKey(a.host).localeCompare(hostKey(b.host)) || a.port - b.port;
}

function hostKey(host: string): string {
  const parts = host.split('.');
  if (parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p))) {
    return parts.map((p) => p.padStart(3, '0')).join('.');
  }
  return host;
}
