// The verdict of a scan result, flattened to "field.path" -> value, for comparing two ways of
// running the same scan (the CLI and a Node-RED flow) field by field, and a diff that names each
// differing field with both values.
//
// Compared (verdictOf): reachability, errno, transport, websocketPath, classification, error; MQTT versions,
// broker version, CONNACK properties; every auth attempt's outcome, code, reason, version,
// withheld, defaultPair, username, detail, clientCertificate, certificateRequired (and the
// certificate-less attempt auth.withoutCertificate); TLS protocol, cipher, versions accepted, weak ciphers,
// client certificate required, score and its reasons, why it is not rated, pre-shared keys, error, and the certificate's trust, trust
// error, self-signed, host name match, subject, issuer, fingerprint (which stands for the rest of
// it), expired; topics: as whom, MQTT version, count, sorted names, per topic the message count,
// retained, QoS, sensor, values and sensitive kinds, truncation, $SYS version and topic names,
// subscription outcomes, write test verdict and evidence, error; findings (rule id and severity),
// risk level and score, why the risk is not rated, security_assessment.
//
// Left out on purpose, and why:
//   scanId                       a new id per scan, by design
//   durationMs, tls.durationMs,
//   topics.listenedMs            wall-clock timings
//   evidence[]                   free-text log lines with per-attempt timings ("(3 ms)") in the
//                                order concurrent attempts happened to finish; the verdicts they
//                                led to are compared field by field instead
//   tls.certificate validFrom/validTo/daysLeft
//                                the same certificate in both runs (its fingerprint is compared);
//                                daysLeft moves when a run crosses midnight
//   topics.items[] firstSeen, rate, sample
//                                when a message arrived, messages per second while listening, and
//                                payload samples (which change over time on a live broker)
//   topics.sys values except version
//                                $SYS counters (uptime, bytes, clients connected...) change every
//                                sys_interval; the broker version and the sorted $SYS topic names
//                                are compared, except $SYS/broker/clients/maximum: mosquitto
//                                publishes it at the first $SYS tick that sees a new maximum, so
//                                whether it exists yet depends on which clients came before (the
//                                test's own publishers, the previous scan)
//   topics.writeTest.topic       a random canary topic per write test
//   findings[] title/evidence/recommendation/references
//                                the rule id and severity are compared; the evidence text quotes
//                                the random canary topic and timings
//   mqtt.connackProperties.assignedClientIdentifier
//                                a broker-made random client id
//   security_summary issues/recommendations
//                                derived from the findings, compared by id and severity
// Absent and null mean the same in the result contract (tls?: TlsInfo | null, topics?, risk?) and
// are compared as null; a missing findings list is compared as an empty one.
import type { AuthAttempt, ScanResult, TlsInfo, TopicItem, TopicsInfo } from '../../lib/types';

export type Verdict = Record<string, unknown>;

/** $SYS topics whose existence depends on the broker's history, not on how it was scanned (above). */
const LAZY_SYS = new Set(['$SYS/broker/clients/maximum']);

const AUTH_FIELDS: Array<keyof AuthAttempt> = ['outcome', 'code', 'reason', 'version', 'withheld', 'defaultPair', 'username', 'detail', 'clientCertificate', 'certificateRequired'];

export function verdictOf(r: ScanResult & Record<string, unknown>): Verdict {
  const v: Verdict = {
    reachability: r.reachability,
    errno: r.errno ?? null,
    transport: r.transport ?? null,
    websocketPath: r.websocketPath ?? null,
    classification: r.classification,
    error: r.error ?? null,
    'mqtt.versions': sortedEntries(r.mqtt?.versions ?? {}),
    'mqtt.brokerVersion': r.mqtt?.brokerVersion ?? null,
    'mqtt.connackProperties': connackProperties(r.mqtt?.connackProperties),
  };
  for (const kind of ['anonymous', 'wrongCredentials', 'givenCredentials', 'defaultCredentials', 'withoutCertificate'] as const) {
    const a = r.auth?.[kind];
    if (!a) {
      v[`auth.${kind}`] = null;
      continue;
    }
    for (const f of AUTH_FIELDS) v[`auth.${kind}.${f}`] = a[f] ?? null;
  }
  Object.assign(v, tlsVerdict(r.tls ?? null), topicsVerdict(r.topics ?? null));
  const findings = Array.isArray(r.findings) ? r.findings : [];
  v.findings = findings.map((f) => `${f.id}:${f.severity}`).sort();
  v['risk.level'] = r.risk?.level ?? null;
  v['risk.score'] = r.risk?.score ?? null;
  v.riskNotRated = r.riskNotRated ?? null;
  const sa = r.security_assessment as Record<string, unknown> | undefined;
  for (const k of ['anonymous_allowed', 'requires_auth', 'port_type', 'encryption']) v[`security_assessment.${k}`] = sa?.[k] ?? null;
  return v;
}

function tlsVerdict(t: TlsInfo | null): Verdict {
  if (!t) return { tls: null };
  const c = t.certificate ?? null;
  return {
    tls: 'inspected',
    'tls.protocol': t.protocol ?? null,
    'tls.cipher': t.cipher ?? null,
    'tls.versions': sortedEntries(t.versions ?? {}),
    'tls.weakCiphers': [...(t.weakCiphers ?? [])].sort(),
    'tls.clientCertRequired': t.clientCertRequired ?? null,
    'tls.score': t.score ?? null,
    'tls.scoreReasons': [...(t.scoreReasons ?? [])].sort(),
    'tls.error': t.error ?? null,
    'tls.notRated': t.notRated ?? null,
    'tls.psk': t.psk ? `${t.psk.only ? 'only' : 'also'} hint=${t.psk.hint} ${t.psk.protocol} ${t.psk.cipher}` : null,
    'tls.certificate': c ? 'present' : null,
    ...(c
      ? {
          'tls.certificate.trusted': c.trusted,
          'tls.certificate.trustError': c.trustError ?? null,
          'tls.certificate.selfSigned': c.selfSigned,
          'tls.certificate.hostnameMatch': c.hostnameMatch ?? null,
          'tls.certificate.subject': c.subject,
          'tls.certificate.issuer': c.issuer,
          'tls.certificate.fingerprint256': c.fingerprint256,
          'tls.certificate.expired': c.expired ?? null,
        }
      : {}),
  };
}

function topicsVerdict(t: TopicsInfo | null): Verdict {
  if (!t) return { topics: null };
  const items = Array.isArray(t.items) ? t.items : [];
  const subs = Array.isArray(t.subscriptions) ? (t.subscriptions as Array<{ filter: string; granted: boolean; code: number | null }>) : [];
  const wt = t.writeTest ?? null;
  return {
    topics: 'read',
    'topics.as': t.as ?? null,
    'topics.version': t.version ?? null,
    'topics.count': t.count,
    'topics.names': items.map((i) => i.topic).sort(),
    'topics.items': [...items].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0)).map(itemVerdict),
    'topics.truncated': [...(t.truncated ?? [])].sort(),
    'topics.sys': t.sys && Object.keys(t.sys).length > 0 ? 'present' : null,
    'topics.sys.version': t.sys?.version ?? null,
    'topics.sys.topics': Object.keys((t.sys?.raw as Record<string, unknown> | undefined) ?? {}).filter((n) => !LAZY_SYS.has(n)).sort(),
    'topics.subscriptions': subs.map((s) => `${s.filter}:${s.granted ? 'granted' : 'refused'}:${s.code}`).sort(),
    'topics.writeTest': wt ? { accepted: wt.accepted, evidence: wt.evidence } : null,
    // "... after 1234 ms": the reason is compared, not the time.
    'topics.error': typeof t.error === 'string' ? t.error.replace(/\d+ ms/g, 'N ms') : t.error ?? null,
    'topics.cancelled': t.cancelled ?? null,
  };
}

function itemVerdict(i: TopicItem): string {
  const sensitive = Array.isArray(i.sensitive) ? [...i.sensitive].sort().join('+') : '';
  return [i.topic, `messages=${i.messages}`, `retained=${i.retained}`, `qos=${i.qos ?? '-'}`, `sensor=${i.sensor ?? '-'}`, `values=${JSON.stringify(i.values ?? null)}`, `sensitive=${sensitive || '-'}`].join(' ');
}

function connackProperties(p: Record<string, unknown> | undefined): unknown {
  if (!p) return null;
  const { assignedClientIdentifier: _random, ...rest } = p;
  return sortedEntries(rest);
}

function sortedEntries(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export interface FieldDiff {
  broker: string;
  field: string;
  a: unknown;
  b: unknown;
}

/**
 * Every field that differs between two scans' results, broker by broker (host:port); a broker
 * that only one side reported is one difference ("result").
 */
export function diffVerdicts(a: ScanResult[], b: ScanResult[], names: Record<string, string> = {}): FieldDiff[] {
  const key = (r: ScanResult) => `${r.host}:${r.port}`;
  const byA = new Map(a.map((r) => [key(r), r]));
  const byB = new Map(b.map((r) => [key(r), r]));
  const out: FieldDiff[] = [];
  for (const k of [...new Set([...byA.keys(), ...byB.keys()])].sort()) {
    const broker = names[k] ? `${k} (${names[k]})` : k;
    const ra = byA.get(k);
    const rb = byB.get(k);
    if (!ra || !rb) {
      out.push({ broker, field: 'result', a: ra ? 'reported' : 'missing', b: rb ? 'reported' : 'missing' });
      continue;
    }
    const va = verdictOf(ra as ScanResult & Record<string, unknown>);
    const vb = verdictOf(rb as ScanResult & Record<string, unknown>);
    for (const f of [...new Set([...Object.keys(va), ...Object.keys(vb)])]) {
      const x = f in va ? va[f] : '(absent)';
      const y = f in vb ? vb[f] : '(absent)';
      if (JSON.stringify(x) !== JSON.stringify(y)) out.push({ broker, field: f, a: x, b: y });
    }
  }
  return out;
}

/** One line per differing field, with both values. */
export function formatDiffs(diffs: FieldDiff[], labels: [string, string] = ['a', 'b']): string {
  return diffs.map((d) => `  ${d.broker} ${d.field}:\n      ${labels[0]}: ${JSON.stringify(d.a)}\n      ${labels[1]}: ${JSON.stringify(d.b)}`).join('\n');
}
