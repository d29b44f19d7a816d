// Plain-text results table for terminals, in the seed dashboard's spirit: one row per broker.
import { knownVulnerabilitiesOf, outdatedText, productVersion, transportLabel } from '../lib/common';
import type { AuthAttempt, ScanResult, ScanSummary } from '../lib/types';
import { changesText, type ResultChanges } from '../lib/risk';

const COLUMNS: Array<[string, (r: ScanResult) => string]> = [
  ['TARGET', (r) => (r.host.includes(':') ? `[${r.host}]:${r.port}` : `${r.host}:${r.port}`)],
  ['REACH', (r) => r.reachability + (r.errno && r.reachability !== 'filtered' ? ` (${r.errno})` : '')],
  ['TRANSPORT', (r) => transportLabel(r) || '-'],
  ['CLASSIFICATION', (r) => r.classification],
  ['MQTT', (r) => versions(r)],
  ['ANONYMOUS', (r) => auth(r.auth.anonymous)],
  ['WRONG CREDS', (r) => auth(r.auth.wrongCredentials)],
  ['GIVEN CREDS', (r) => auth(r.auth.givenCredentials)],
  ['TLS', (r) => tlsCell(r)],
  ['TOPICS', (r) => (r.topics ? String(r.topics.count) : '-')],
  ['SENSORS', (r) => sensors(r)],
  ['RISK', (r) => (r.risk ? `${r.risk.level} ${r.risk.score}` : r.riskNotRated ? 'not rated' : '-')],
];

function tlsCell(r: ScanResult): string {
  const t = r.tls;
  if (!t) return '-';
  if (t.psk?.only) return `${t.protocol ?? 'TLS'} PSK only`;
  if (t.error) return 'error';
  const c = t.certificate;
  const state = !c ? '' : c.expired ? 'expired' : c.notYetValid ? 'not yet valid' : c.selfSigned ? 'self-signed' : c.trusted ? 'trusted' : 'untrusted';
  return [t.protocol, state].filter(Boolean).join(' ');
}

function sensors(r: ScanResult): string {
  const kinds = new Set((r.topics?.items ?? []).map((i) => i.sensor).filter((s): s is string => !!s));
  return kinds.size ? [...kinds].sort().join(',') : '-';
}

function versions(r: ScanResult): string {
  const ok = Object.entries(r.mqtt.versions).filter(([, s]) => s === 'supported').map(([v]) => v);
  return ok.length ? ok.join(',') : '-';
}

function auth(a: AuthAttempt): string {
  if (a.outcome === 'not_tested') return a.withheld ? `withheld: ${a.withheld}` : '-';
  return a.code === undefined ? a.outcome : `${a.outcome} (${a.code})`;
}

export function formatTable(results: ScanResult[]): string {
  const rows = results.map((r) => COLUMNS.map(([, get]) => get(r)));
  const header = COLUMNS.map(([h]) => h);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  const table = [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  return [...table, ...notRatedLines(results), ...deviceLines(results), ...vulnerabilityLines(results)].join('\n');
}

/**
 * Below the table: the known vulnerabilities of each broker's version (the classifier's
 * `vulnerabilities`), one line per broker with matches, worst first:
 * "127.0.0.1:1883 known vulnerabilities: Mosquitto 2.0.11: CVE-2023-0809 (critical), ...; upgrade
 * to 2.0.21 or later" ("no released fix for CVE-… yet" when some have none); and for an outdated
 * version without matches "127.0.0.1:1883 Mosquitto 2.0.22 is older than the newest release known (2.1.2)".
 */
function vulnerabilityLines(results: ScanResult[]): string[] {
  const lines = results.flatMap((r) => {
    const v = knownVulnerabilitiesOf((r as ScanResult & { vulnerabilities?: unknown }).vulnerabilities);
    if (!v) return [];
    const where = COLUMNS[0][1](r);
    if (!v.matches.length) {
      const outdated = outdatedText(v, false);
      return outdated ? [`${where} ${outdated}`] : [];
    }
    const ids = v.matches.map((m) => `${m.id} (${m.severity})`).join(', ') + (v.omitted ? `, and ${v.omitted} more` : '');
    const unfixed = v.matches.filter((m) => !m.fixedIn).map((m) => m.id);
    const fix = v.upgradeTo ? `upgrade to ${v.upgradeTo} or later` : `no released fix for ${unfixed.join(', ') || 'every listed vulnerability'} yet`;
    return [`${where} known vulnerabilities: ${productVersion(v)}: ${ids}; ${fix}`];
  });
  return lines.length ? ['', ...lines] : [];
}

/**
 * Below the table: the devices behind each broker's topics (TopicsInfo.devices), counts only:
 * "127.0.0.1:1883 devices: Zigbee2MQTT 3, Tasmota 1 (an ecosystem without a device seen: its name only);
 * 4 command topic(s) (write test accepted);
 * 1 topic with positions; 2 topics with secrets (masked)".
 */
function deviceLines(results: ScanResult[]): string[] {
  const lines = results.flatMap((r) => {
    const d = r.topics?.devices;
    if (!d) return [];
    const parts: string[] = [];
    if (d.ecosystems.length) parts.push(d.ecosystems.map((e) => (e.devices ? `${e.name} ${e.devices}${e.devicesAtLeast ? '+' : ''}` : e.name)).join(', '));
    if (d.commandCount) {
      const w = r.topics?.writeTest;
      parts.push(`${d.commandCount} command topic(s) (${w ? `write test ${w.accepted ? 'accepted' : 'refused'}` : 'writes not tested'})`);
    }
    if (d.locations) parts.push(`${d.locations} topic(s) with positions`);
    if (d.secrets) parts.push(`${d.secrets} topic(s) with secrets (masked)`);
    return parts.length ? [`${COLUMNS[0][1](r)} devices: ${parts.join('; ')}`] : [];
  });
  return lines.length ? ['', ...lines] : [];
}

/** Below the table: why each port that answered was not rated ("not rated" in RISK or TLS). */
function notRatedLines(results: ScanResult[]): string[] {
  const lines = results.flatMap((r) => {
    const where = COLUMNS[0][1](r);
    if (r.riskNotRated) return [`${where} not rated: ${r.riskNotRated}`];
    return r.risk && r.tls?.notRated ? [`${where} ${r.tls.notRated}`] : [];
  });
  return lines.length ? ['', ...lines] : [];
}

/**
 * "Changes since <file>:" and one line per host:port that changed, appeared or is gone
 * (ScanResult.changes, lib/risk compareScans); "no changes" when nothing did.
 */
export function formatChanges(results: ScanResult[], missing: string[], file: string): string {
  const lines = results.flatMap((r) => {
    const c = (r as ScanResult & { changes?: ResultChanges }).changes;
    return c && c.status !== 'unchanged' ? [`${COLUMNS[0][1](r)}  ${changesText(c)}`] : [];
  });
  for (const ep of missing) lines.push(`${ep}  not in this scan (it answered MQTT in the previous one)`);
  return [`Changes since ${file}:`, ...(lines.length ? lines : ['no changes'])].join('\n');
}

export function formatSummary(s: ScanSummary): string {
  const reach = Object.entries(s.reachability).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`);
  const cls = Object.entries(s.classification).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`);
  return [
    `${s.targets} target(s) in ${(s.durationMs / 1000).toFixed(2)} s${s.cancelled ? ' (cancelled)' : ''}`,
    `reachability: ${reach.join(', ') || 'none'}`,
    `classification: ${cls.join(', ') || 'none'}`,
  ].join('\n');
}
