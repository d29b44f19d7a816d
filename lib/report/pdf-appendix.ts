// Appendices: the rule catalogue, how levels and scores are computed, and the references.
import { EXPIRY_WARNING_DAYS, LEVEL_CEILING, MIN_EC_BITS, MIN_RSA_BITS, NO_ACL_MIN_ROOTS, REFERENCE_TITLES, RULES, SEVERITY_WEIGHT } from '../risk';
import { table, type Pen } from './pdf-layout';
import { COLOR, LEVEL_COLOR, SEVERITY_COLOR } from './pdf-theme';
import { heading3 } from './pdf-summary';

export function ruleCatalogue(pen: Pen): void {
  pen.use('body', 9, COLOR.text).para('Every check this scanner makes, with its default severity. A lab policy may raise, lower or switch off a rule; the findings in this report carry the severity that applied.');
  pen.gap(8);
  table(pen, {
    columns: [
      { header: 'Id', width: 0.24, kind: 'mono' },
      { header: 'Severity', width: 0.11 },
      { header: 'Checks', width: 0.47 },
      { header: 'References', width: 0.18 },
    ],
    rows: RULES.map((r) => [r.id, { text: r.severity.toUpperCase(), badge: SEVERITY_COLOR[r.severity] }, `${r.title}. ${r.checks}`, r.references.join(', ')]),
    size: 7,
  });
}

export function methodology(pen: Pen): void {
  const p = (t: string) => pen.use('body', 9, COLOR.text).para(t, { lineGap: 1.5 }).gap(6);
  heading3(pen, 'What was tested');
  p('For every open port the scanner connects as an MQTT client (MQTT 5.0, then 3.1.1; plain TCP or TLS): once without a username, once with a random username and password that exist nowhere, and once with the login supplied for the scan, if any. The login itself is never recorded: no report, message or log contains a password. Where enabled, the TLS inspector records the certificate, the protocol versions and ciphers the broker accepts, and the topic sniffer subscribes to "#" and "$SYS/#" for a short, bounded time and tries one publish to its own canary topic.');
  heading3(pen, 'Risk level and score');
  p('The risk level is the worst severity among a broker\'s findings: critical gives CRITICAL, high gives HIGH, medium gives MEDIUM; low, info or no finding give LOW. Ports that did not answer MQTT are not rated (risk null), since nothing could be checked. A TLS port whose handshake failed (one that takes only pre-shared keys, or demands a client certificate) is not rated either, with the reason, unless a finding of medium or worse (an expired certificate, say) already sets a floor for its level: no MQTT login could be tried there, so "nothing found" is not a low risk.');
  table(pen, {
    columns: [
      { header: 'Severity', width: 0.25 },
      { header: 'Score weight per finding', width: 0.4, align: 'right' },
      { header: 'Level', width: 0.15 },
      { header: 'Highest score at that level', width: 0.2, align: 'right' },
    ],
    rows: (['critical', 'high', 'medium', 'low', 'info'] as const).map((s) => {
      const level = ({ critical: 'CRITICAL', high: 'HIGH', medium: 'MEDIUM', low: 'LOW', info: 'LOW' } as const)[s];
      return [{ text: s.toUpperCase(), badge: SEVERITY_COLOR[s] }, SEVERITY_WEIGHT[s] ? `-${SEVERITY_WEIGHT[s]}` : '0', { text: level, badge: LEVEL_COLOR[level] }, String(LEVEL_CEILING[level])];
    }),
    size: 8,
  });
  p('Score = 100 minus the weights of all findings, at least 0, and never above the ceiling of the broker\'s level, so the number cannot contradict the level (100 = nothing found).');
  heading3(pen, 'Heuristics');
  p(`No topic ACL: with the given login, a "#" subscription received topics from ${NO_ACL_MIN_ROOTS} or more unrelated top-level trees (not counting $SYS). A per-user ACL normally confines one login to its own subtree, so one login reading several trees most likely has no ACL or one that grants "#". Brokers read anonymously are covered by the anonymous findings instead.`);
  p('Default credentials: with --try-defaults (or the probe node\'s option) the probe tries a few well-known default logins such as admin/admin; the finding names the user that got in, never a password. Given credentials that are such a pair fire it too.');
  p(`Self-signed: the certificate is self-signed, or its chain ends in a self-signed root the scanner does not trust (a private lab CA). When the scan was given that CA, the chain is trusted and nothing is reported. Other limits: certificates expiring within ${EXPIRY_WARNING_DAYS} days; keys under ${MIN_RSA_BITS} bits (RSA/DSA) or ${MIN_EC_BITS} bits (EC).`);
  p('Retained data exposed: retained messages were delivered to the sniffer while it was connected anonymously. Sensitive payloads: the sniffer flags samples that look like credentials, tokens, private keys or e-mail addresses; such samples are withheld from every report format.');
  p('Devices: the sniffer recognises the topic layouts and payloads of Zigbee2MQTT, Tasmota, Home Assistant MQTT discovery, ESPHome, Shelly, OwnTracks, Sparkplug B, Homie and the lab ESP32. Inventory topics list devices; positions (OwnTracks, or any payload that looks like coordinates) are counted, never shown, and encrypted OwnTracks payloads do not count; command topics are called writable only when the write test was accepted, because the scanner never publishes to a device\'s command topic.');
  heading3(pen, 'Limits');
  p('A scan shows what the network could see at one moment, from one place. A broker that looks safe from here may be open from another network segment; devices may behave differently later. Re-scan after every change.');
}

export function references(pen: Pen): void {
  table(pen, {
    columns: [
      { header: 'Reference', width: 0.18 },
      { header: 'Title', width: 0.5 },
      { header: 'Where', width: 0.32 },
    ],
    rows: Object.entries(REFERENCE_TITLES).map(([id, title]) => [id, title, id.startsWith('CWE-') ? `cwe.mitre.org/data/definitions/${id.slice(4)}.html` : 'owasp.org/www-project-internet-of-things (IoT Top 10, 2018)']),
    size: 7.5,
  });
}
