// The rule table: every finding the classifier can raise, as data. Each row says when it fires,
// how to word the evidence from the result, the exact fix and the references.
import type { ScanResult, Severity } from '../types';
import {
  accepted, anonymousOpen, anyLoginOpen, authLine, brokerVersion, certificateIsIdentity, certOf, day, deviceExposure, ecosystemList, EXPIRY_WARNING_DAYS,
  isExpired, isNotYetValid, isSelfSigned, isWeakKey, legacyVersions, listenedAnonymously, listenedAs, listSome, locationItems, MIN_EC_BITS,
  MIN_RSA_BITS, NO_ACL_MIN_ROOTS, ownSysEvents, plainTransport, readFilters, requiresAuth, retainedItems, sensitiveItems, spokeMqtt, sysInfo,
  sysTopics, topicRoots, where,
} from './facts';
import { vulnerabilitiesOf, type BrokerVulnerabilities } from './vulnerabilities';
import { productName as productNameOf } from '../common';

export const RULE_IDS = [
  'ANONYMOUS_ACCESS', 'WRONG_CREDENTIALS_ACCEPTED', 'DEFAULT_CREDENTIALS', 'ANONYMOUS_PUBLISH',
  'PLAINTEXT_TRANSPORT', 'PLAINTEXT_CREDENTIALS', 'SENSITIVE_PAYLOAD', 'TLS_EXPIRED', 'NO_TOPIC_ACL',
  'RETAINED_DATA_EXPOSED', 'TLS_SELF_SIGNED', 'TLS_UNTRUSTED', 'TLS_NOT_YET_VALID', 'TLS_HOSTNAME_MISMATCH',
  'TLS_LEGACY_PROTOCOL', 'TLS_WEAK_CIPHER', 'TLS_WEAK_KEY', 'TLS_EXPIRES_SOON', 'SYS_TOPICS_EXPOSED',
  'BROKER_VERSION_DISCLOSED', 'CLIENT_CERT_REQUIRED', 'CLIENT_CERT_IDENTITY',
  'DEVICE_CONTROL_EXPOSED', 'LOCATION_DATA_EXPOSED', 'DEVICE_INVENTORY_EXPOSED',
  'BROKER_KNOWN_VULNERABLE', 'BROKER_OUTDATED',
] as const;
export type RuleId = (typeof RULE_IDS)[number];

export interface Rule {
  id: RuleId;
  severity: Severity;
  title: string;
  /** What the rule checks, in one sentence (the report's appendix). */
  checks: string;
  when: (r: ScanResult) => boolean;
  evidence: (r: ScanResult) => string;
  /** The exact change: mosquitto.conf lines (one per line), commands, or the firmware change. */
  recommendation: string;
  /** The change for this result, where it depends on what was found (a WebSocket listener needs
   *  other lines than a TCP one); absent: `recommendation`. */
  recommendationFor?: (r: ScanResult) => string;
  /** The severity for this result, where it depends on what was found (the worst CVSS score of
   *  the broker's known vulnerabilities); absent: `severity`. A policy's severity overrides it. */
  severityFor?: (r: ScanResult) => Severity;
  references: string[];
}

const PASSWORDS = ['allow_anonymous false', 'password_file /etc/mosquitto/passwd'];
const TLS_LISTENER = [
  'listener 8883',
  'cafile /etc/mosquitto/certs/ca.crt',
  'certfile /etc/mosquitto/certs/server.crt',
  'keyfile /etc/mosquitto/certs/server.key',
  'tls_version tlsv1.2',
];
/** The TLS listener for MQTT over WebSockets (Mosquitto; clients then use wss://host:8081/mqtt). */
const WSS_LISTENER = [
  'listener 8081',
  'protocol websockets',
  'cafile /etc/mosquitto/certs/ca.crt',
  'certfile /etc/mosquitto/certs/server.crt',
  'keyfile /etc/mosquitto/certs/server.key',
  'tls_version tlsv1.2',
];
const lines = (...parts: string[]) => parts.join('\n');
const overWebSocket = (r: ScanResult) => r.transport === 'ws';

export const RULES: readonly Rule[] = [
  {
    id: 'ANONYMOUS_ACCESS',
    severity: 'critical',
    title: 'Anonymous clients are accepted',
    checks: 'A CONNECT without username and password is accepted.',
    // Not when the scan's client certificate got the CONNECT in and a client without it does not
    // get that far (CLIENT_CERT_IDENTITY): the certificate is then the login.
    when: (r) => spokeMqtt(r) && anonymousOpen(r),
    evidence: (r) => `A CONNECT without username was accepted: ${authLine(r.auth.anonymous)} on ${where(r)}. Anyone who can reach the port can read and publish.`,
    recommendation: lines(
      'In mosquitto.conf (in each listener block when per_listener_settings is true):',
      ...PASSWORDS,
      'Create each account, then restart mosquitto:',
      'mosquitto_passwd /etc/mosquitto/passwd <user>',
    ),
    references: ['CWE-306', 'OWASP IoT I1', 'OWASP IoT I9'],
  },
  {
    id: 'WRONG_CREDENTIALS_ACCEPTED',
    severity: 'critical',
    title: 'Any username and password are accepted',
    checks: 'A random username with a random password is accepted: passwords are not checked.',
    when: (r) => spokeMqtt(r) && anyLoginOpen(r),
    evidence: (r) => `A random username and password that exist nowhere were accepted: ${authLine(r.auth.wrongCredentials)}. The broker checks no password.`,
    recommendation: lines(
      'Give the broker a password file and refuse everyone else:',
      ...PASSWORDS,
      'If an auth plugin is configured, make it deny unknown users.',
    ),
    references: ['CWE-287', 'OWASP IoT I1'],
  },
  {
    id: 'DEFAULT_CREDENTIALS',
    severity: 'critical',
    title: 'A well-known default login is accepted',
    checks: 'A well-known default login got in: one the probe tried with --try-defaults (auth.defaultCredentials), or the given credentials when they are such a pair (auth.givenCredentials.defaultPair).',
    // Only the probe knows the pairs it tried; results carry at most the username, never a password.
    when: (r) => spokeMqtt(r) && (accepted(r.auth.defaultCredentials) || (accepted(r.auth.givenCredentials) && r.auth.givenCredentials.defaultPair === true)),
    evidence: (r) => accepted(r.auth.defaultCredentials)
      ? `The broker accepted the well-known default login of user "${r.auth.defaultCredentials!.username ?? '?'}" (${authLine(r.auth.defaultCredentials!)}). Such pairs are the first thing an attacker tries.`
      : `The broker accepted a well-known default username/password pair (${authLine(r.auth.givenCredentials)}). Such pairs are the first thing an attacker tries.`,
    recommendation: lines(
      'Change the password and remove the default account:',
      'mosquitto_passwd /etc/mosquitto/passwd <user>',
      'mosquitto_passwd -D /etc/mosquitto/passwd <default-user>',
      'Firmware: no hard-coded default login; provision a unique secret per device (secrets.h, never in git).',
    ),
    references: ['CWE-1392', 'CWE-798', 'OWASP IoT I1'],
  },
  {
    id: 'ANONYMOUS_PUBLISH',
    severity: 'high',
    title: 'Anonymous clients can publish',
    checks: "The sniffer's write test to its own canary topic was accepted while connected anonymously.",
    when: (r) => r.topics?.writeTest?.accepted === true && listenedAnonymously(r),
    evidence: (r) => `Anonymous publish to our canary topic "${r.topics!.writeTest!.topic}" was accepted: ${r.topics!.writeTest!.evidence}. Anyone can inject readings or commands.`,
    recommendation: lines(
      ...PASSWORDS,
      'acl_file /etc/mosquitto/acl',
      'and grant write only where a device needs it, e.g.:',
      'user esp32',
      'topic write sensors/esp32/#',
    ),
    references: ['CWE-306', 'CWE-862', 'OWASP IoT I3'],
  },
  {
    id: 'PLAINTEXT_TRANSPORT',
    severity: 'high',
    title: 'MQTT without TLS',
    checks: 'The broker speaks MQTT over plain TCP (or plain WebSocket).',
    when: plainTransport,
    evidence: (r) => `MQTT ${supported(r)} answered on unencrypted ${where(r)}: every message can be read and altered on the network.`,
    recommendation: lines(
      'Serve MQTT over TLS:',
      ...TLS_LISTENER,
      'Then delete the plain "listener 1883" line, or keep it for local clients only:',
      'listener 1883 127.0.0.1',
      'Firmware: WiFiClientSecure on port 8883 with setCACert(ca_pem).',
    ),
    recommendationFor: (r) => (overWebSocket(r)
      ? lines(
        'Serve MQTT over WebSockets with TLS (wss):',
        ...WSS_LISTENER,
        `Then delete the plain "listener ${r.port}" + "protocol websockets" block, or keep it for local clients only:`,
        `listener ${r.port} 127.0.0.1`,
        'protocol websockets',
        'Web clients connect to wss://<host>:8081/mqtt instead.',
      )
      : lines(
        'Serve MQTT over TLS:',
        ...TLS_LISTENER,
        'Then delete the plain "listener 1883" line, or keep it for local clients only:',
        'listener 1883 127.0.0.1',
        'Firmware: WiFiClientSecure on port 8883 with setCACert(ca_pem).',
      )),
    references: ['CWE-319', 'OWASP IoT I7'],
  },
  {
    id: 'PLAINTEXT_CREDENTIALS',
    severity: 'high',
    title: 'Passwords sent in clear text',
    checks: 'A plain (non-TLS) port requires a login, so every client sends its password unencrypted.',
    // From what the broker demands, never from our own login having been sent (we withhold it
    // on plain ports unless the user opted in: lib/credentials).
    when: (r) => plainTransport(r) && requiresAuth(r),
    evidence: (r) =>
      `On unencrypted ${where(r)} anonymous clients are refused (${authLine(r.auth.anonymous)}) and a made-up login was not accepted, so every client must log in with a real one: usernames and passwords cross the network in clear text in the CONNECT packet.`,
    recommendation: lines('Move the login onto TLS:', ...TLS_LISTENER, 'then delete the plain listener so no password is ever sent in clear text.'),
    recommendationFor: (r) => (overWebSocket(r)
      ? lines('Move the login onto WebSockets over TLS (wss):', ...WSS_LISTENER, `then delete the plain "listener ${r.port}" websockets block so no password is ever sent in clear text.`)
      : lines('Move the login onto TLS:', ...TLS_LISTENER, 'then delete the plain listener so no password is ever sent in clear text.')),
    references: ['CWE-523', 'CWE-319', 'OWASP IoT I7'],
  },
  {
    id: 'SENSITIVE_PAYLOAD',
    severity: 'high',
    title: 'Messages carry sensitive data',
    checks: 'Payloads seen on the broker look like credentials, tokens, private keys or e-mail addresses (positions are LOCATION_DATA_EXPOSED).',
    when: (r) => sensitiveItems(r).length > 0,
    evidence: (r) => {
      const found = sensitiveItems(r);
      const kinds = [...new Set(found.flatMap((it) => it.sensitive ?? []))].filter((k) => k !== 'coordinates').join(', ');
      return `${found.length} topic(s) carry data that looks like ${kinds}: ${listSome(found.map((it) => it.topic))}. (Samples are withheld from this report.)`;
    },
    recommendation: lines(
      'Firmware change: never publish secrets (passwords, tokens, keys) or personal data; publish only measured values.',
      'Where such data must travel, use TLS (listener 8883 + certfile/keyfile) and limit readers in acl_file:',
      'user backend',
      'topic read devices/+/private/#',
    ),
    references: ['CWE-200', 'CWE-359', 'OWASP IoT I6'],
  },
  {
    id: 'DEVICE_CONTROL_EXPOSED',
    severity: 'high',
    title: 'Device command topics are writable',
    checks: "The listener recognised command topics of device ecosystems (seen, named by a discovery payload, or the ecosystem's fixed command topic of a device that was seen), and the broker accepted the write test from the same client. The scanner never publishes to a device's command topic: without the write test, whether the commands take writes is not told.",
    when: (r) => r.topics?.writeTest?.accepted === true && (deviceExposure(r)?.commandCount ?? 0) > 0,
    evidence: (r) => {
      const e = deviceExposure(r)!;
      const commands = e.ecosystems.flatMap((x) => x.commands.map((c) => `${c.topic}${c.source === 'seen' ? '' : c.source === 'announced' ? ' (named by a payload)' : ` (${x.name}'s command topic)`}`));
      return `The broker accepted our write test ${listenedAs(r)} ("${r.topics!.writeTest!.topic}"), and it carries ${e.commandCount} command topic(s) of ${ecosystemList(e, (x) => x.commandCount > 0)}: ${listSome(commands, 4)}. Unless an ACL denies these topics in particular, a client connected like us can switch these devices. (The scanner never publishes to them.)`;
    },
    recommendation: lines(
      'Give every client its own login and let only the integration that drives the devices write their command topics:',
      ...PASSWORDS,
      'acl_file /etc/mosquitto/acl',
      'In /etc/mosquitto/acl (anything not granted is denied), e.g.:',
      'user homeassistant',
      'topic readwrite zigbee2mqtt/#',
      'topic readwrite cmnd/#',
    ),
    recommendationFor: (r) => {
      const e = deviceExposure(r);
      const roots = [...new Set((e?.ecosystems ?? []).flatMap((x) => x.commands.map((c) => c.topic.split('/')[0])))].filter((x) => x && !x.includes('+') && !x.includes('#')).slice(0, 6);
      return lines(
        'Give every client its own login and let only the integration that drives the devices write their command topics:',
        ...PASSWORDS,
        'acl_file /etc/mosquitto/acl',
        'In /etc/mosquitto/acl (anything not granted is denied), e.g.:',
        'user <integration>',
        ...(roots.length ? roots.map((x) => `topic readwrite ${x}/#`) : ['topic readwrite <device tree>/#']),
        'Other users get read access at most (topic read ...), never write on these trees.',
      );
    },
    references: ['CWE-862', 'CWE-284', 'OWASP IoT I3'],
  },
  {
    id: 'LOCATION_DATA_EXPOSED',
    severity: 'high',
    title: 'Positions of people or things are readable',
    checks: 'A payload the listener read was a position: an OwnTracks location, transition or waypoint message with latitude and longitude, or any payload that looked like coordinates. Counted, never shown.',
    when: (r) => locationItems(r).length > 0,
    evidence: (r) => {
      const found = locationItems(r);
      const e = deviceExposure(r);
      const encrypted = (e?.ecosystems ?? []).reduce((n, x) => n + x.encryptedLocations, 0);
      return `${found.length} topic(s) carried positions, read ${listenedAs(r)}: ${listSome(found.map((it) => it.topic))}. The positions are withheld from this report.${encrypted ? ` ${encrypted} other location topic(s) were encrypted (not readable).` : ''}`;
    },
    recommendation: lines(
      'Let each user read only their own positions, over TLS:',
      ...PASSWORDS,
      'acl_file /etc/mosquitto/acl',
      'In /etc/mosquitto/acl:',
      'pattern readwrite owntracks/%u/#',
      'OwnTracks app: Preferences, Connection, Security: set an encryption key (payload encryption), and use port 8883 with TLS.',
    ),
    references: ['CWE-359', 'OWASP IoT I6'],
  },
  {
    id: 'DEVICE_INVENTORY_EXPOSED',
    severity: 'medium',
    title: 'Device inventory readable',
    checks: "Topics that list devices were readable: Zigbee2MQTT's bridge/devices and info, Home Assistant discovery configs, Tasmota INFO and discovery, Shelly and ESPHome announcements, Sparkplug B births, Homie attributes.",
    when: (r) => (deviceExposure(r)?.inventoryCount ?? 0) > 0,
    evidence: (r) => {
      const e = deviceExposure(r)!;
      const topics = e.ecosystems.flatMap((x) => x.inventory);
      return `Read ${listenedAs(r)}: ${e.inventoryCount} inventory topic(s) of ${ecosystemList(e, (x) => x.inventoryCount > 0)}, e.g. ${listSome(topics, 4)}. They tell an attacker which devices exist, their models, firmware and addresses.`;
    },
    recommendation: lines(
      'Let only the integrations read their own trees:',
      ...PASSWORDS,
      'acl_file /etc/mosquitto/acl',
      'In /etc/mosquitto/acl, e.g.:',
      'user homeassistant',
      'topic readwrite homeassistant/#',
      'topic read zigbee2mqtt/bridge/#',
    ),
    references: ['CWE-200', 'OWASP IoT I3', 'OWASP IoT I9'],
  },
  {
    id: 'TLS_EXPIRED',
    severity: 'high',
    title: 'TLS certificate has expired',
    checks: 'The server certificate is past its notAfter date.',
    when: (r) => !!certOf(r) && isExpired(certOf(r)!),
    evidence: (r) => `Certificate "${certOf(r)!.subject}" expired on ${day(certOf(r)!.validTo)} (${Math.abs(certOf(r)!.daysLeft)} day(s) ago). Clients that verify refuse it; clients that connect anyway verify nothing.`,
    recommendation: lines(
      'Issue a new certificate and point mosquitto at it:',
      'certfile /etc/mosquitto/certs/server.crt',
      'keyfile /etc/mosquitto/certs/server.key',
      'then reload (mosquitto re-reads certificates on SIGHUP), automate renewal and monitor expiry:',
      'systemctl reload mosquitto',
    ),
    references: ['CWE-324', 'CWE-295', 'OWASP IoT I7'],
  },
  {
    id: 'NO_TOPIC_ACL',
    severity: 'medium',
    title: 'No per-user topic access control',
    checks: `With the given login, a '#' subscription saw ${NO_ACL_MIN_ROOTS}+ unrelated top-level topic trees (not $SYS): a per-user ACL would confine one login to its own subtree.`,
    when: (r) => r.topics?.as === 'given credentials' && (r.topics?.count ?? 0) > 0 && topicRoots(r).length >= NO_ACL_MIN_ROOTS,
    evidence: (r) => {
      const roots = topicRoots(r);
      return `Subscribed to ${readFilters(r)} with the given login, we received ${r.topics!.count} topic(s) across ${roots.length} unrelated trees (${listSome(roots.map((x) => `${x}/…`))}): this login reads other clients' data.`;
    },
    recommendation: lines(
      'acl_file /etc/mosquitto/acl',
      'with one block per user (anything not granted is denied), e.g.:',
      'user esp32',
      'topic write lab/secure/#',
      'user scanner',
      'topic read lab/secure/#',
      'pattern readwrite lab/users/%u/#',
    ),
    references: ['CWE-862', 'CWE-285', 'OWASP IoT I3'],
  },
  {
    id: 'RETAINED_DATA_EXPOSED',
    severity: 'medium',
    title: 'Retained messages readable without login',
    checks: 'Retained messages were delivered to an anonymous subscriber.',
    when: (r) => listenedAnonymously(r) && retainedItems(r).length > 0,
    evidence: (r) => {
      const found = retainedItems(r);
      return `${found.length} retained message(s) were delivered at once to an anonymous subscriber: ${listSome(found.map((it) => it.topic))}.`;
    },
    recommendation: lines(
      ...PASSWORDS,
      'acl_file /etc/mosquitto/acl',
      'Clear stale retained messages (an empty retained message deletes one):',
      "mosquitto_pub -t '<topic>' -r -n",
      'Firmware: publish with retain=false unless a late subscriber really needs the last value.',
    ),
    references: ['CWE-200', 'OWASP IoT I6'],
  },
  {
    id: 'TLS_SELF_SIGNED',
    severity: 'medium',
    title: 'Self-signed TLS certificate',
    checks: 'The certificate, or the root its chain ends in, is self-signed and not trusted by the scanner.',
    when: (r) => !!certOf(r) && certOf(r)!.trusted !== true && isSelfSigned(certOf(r)!),
    evidence: (r) => {
      const c = certOf(r)!;
      return c.selfSigned
        ? `Certificate "${c.subject}" is signed by itself (issuer "${c.issuer}"). Clients can only trust it by skipping verification or pinning it.`
        : `Certificate "${c.subject}" chains to a self-signed root that is not trusted here (${c.trustError ?? 'untrusted'}; issuer "${c.issuer}").`;
    },
    recommendation: lines(
      'Use a certificate from a CA every client trusts (an internal CA whose ca.crt is on every client, or a public CA):',
      'cafile /etc/mosquitto/certs/ca.crt',
      'certfile /etc/mosquitto/certs/server.crt',
      'Firmware: pin that CA with WiFiClientSecure::setCACert(ca_pem); never setInsecure().',
    ),
    references: ['CWE-295', 'OWASP IoT I7'],
  },
  {
    id: 'TLS_UNTRUSTED',
    severity: 'medium',
    title: 'TLS certificate not trusted',
    checks: 'The chain does not verify for a reason other than self-signing or dates (unknown issuer, missing intermediate, bad signature).',
    when: (r) => {
      const c = certOf(r);
      return !!c && c.trusted === false && !isSelfSigned(c) && !isExpired(c) && !isNotYetValid(c);
    },
    evidence: (r) => `Certificate "${certOf(r)!.subject}" from "${certOf(r)!.issuer}" does not verify: ${certOf(r)!.trustError ?? 'untrusted chain'}.`,
    recommendation: lines(
      'Serve the whole chain and give clients the root:',
      '# server certificate followed by the intermediate certificates:',
      'certfile /etc/mosquitto/certs/server-fullchain.crt',
      'cafile /etc/mosquitto/certs/ca.crt',
    ),
    references: ['CWE-295', 'CWE-296', 'OWASP IoT I7'],
  },
  {
    id: 'TLS_NOT_YET_VALID',
    severity: 'medium',
    title: 'TLS certificate not yet valid',
    checks: 'The server certificate is before its notBefore date.',
    when: (r) => !!certOf(r) && isNotYetValid(certOf(r)!),
    evidence: (r) => `Certificate "${certOf(r)!.subject}" is valid only from ${day(certOf(r)!.validFrom)}: a wrong clock or a misissued certificate.`,
    recommendation: lines('Check the broker and CA clocks (NTP), then reissue the certificate with a notBefore in the past and install it:', 'certfile /etc/mosquitto/certs/server.crt'),
    references: ['CWE-295', 'OWASP IoT I7'],
  },
  {
    id: 'TLS_HOSTNAME_MISMATCH',
    severity: 'medium',
    title: 'TLS certificate does not name this host',
    checks: 'The address we connected to is not in the certificate (subjectAltName or CN).',
    when: (r) => certOf(r)?.hostnameMatch === false,
    evidence: (r) => `Connected to ${r.host}, but the certificate names ${certOf(r)!.subjectAltName || `"${certOf(r)!.subject}"`}. Clients that verify names refuse it.`,
    recommendation: lines(
      'Reissue the certificate with every name clients use in subjectAltName (e.g. DNS:broker.lab.local, IP:192.0.2.10):',
      'certfile /etc/mosquitto/certs/server.crt',
      'Firmware: connect by that name so WiFiClientSecure can verify it.',
    ),
    references: ['CWE-297', 'OWASP IoT I7'],
  },
  {
    id: 'TLS_LEGACY_PROTOCOL',
    severity: 'medium',
    title: 'Legacy TLS versions accepted',
    checks: 'The broker completes a handshake with SSLv3, TLS 1.0 or TLS 1.1.',
    when: (r) => legacyVersions(r).length > 0,
    evidence: (r) => `The broker accepted ${legacyVersions(r).join(', ')}, deprecated by RFC 8996.`,
    recommendation: lines('In every TLS listener block:', 'tls_version tlsv1.2', '(mosquitto then refuses TLS 1.0/1.1). Update device firmware that only speaks TLS 1.0.'),
    references: ['CWE-327', 'CWE-757', 'OWASP IoT I7'],
  },
  {
    id: 'TLS_WEAK_CIPHER',
    severity: 'medium',
    title: 'Weak TLS ciphers accepted',
    checks: 'The broker accepts NULL, anonymous, EXPORT, RC4, 3DES or TLS 1.0 CBC cipher suites.',
    when: (r) => (r.tls?.weakCiphers?.length ?? 0) > 0,
    evidence: (r) => `Accepted weak cipher families: ${r.tls!.weakCiphers!.join(', ')}.`,
    recommendation: lines(
      'Allow only AEAD suites with forward secrecy:',
      'ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305',
      'tls_version tlsv1.2',
    ),
    references: ['CWE-327', 'OWASP IoT I7'],
  },
  {
    id: 'TLS_WEAK_KEY',
    severity: 'medium',
    title: 'Weak TLS key',
    checks: `The certificate key is shorter than ${MIN_RSA_BITS} bits (RSA/DSA) or ${MIN_EC_BITS} bits (EC).`,
    when: (r) => !!certOf(r) && isWeakKey(certOf(r)!),
    evidence: (r) => `The certificate key is ${[certOf(r)!.keyType, `${certOf(r)!.keyBits} bits`].filter(Boolean).join(' ')}: below today's minimum.`,
    recommendation: lines(
      'Generate a new key and certificate, e.g.:',
      'openssl req -new -newkey rsa:3072 -nodes -keyout server.key -out server.csr',
      'or, for an elliptic-curve key:',
      'openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr',
      'then, with the certificate the CA signs:',
      'keyfile /etc/mosquitto/certs/server.key',
      'certfile /etc/mosquitto/certs/server.crt',
    ),
    references: ['CWE-326', 'OWASP IoT I7'],
  },
  {
    id: 'TLS_EXPIRES_SOON',
    severity: 'low',
    title: 'TLS certificate expires soon',
    checks: `The server certificate expires within ${EXPIRY_WARNING_DAYS} days.`,
    when: (r) => {
      const c = certOf(r);
      return !!c && !isExpired(c) && !isNotYetValid(c) && typeof c.daysLeft === 'number' && c.daysLeft < EXPIRY_WARNING_DAYS;
    },
    evidence: (r) => `Certificate "${certOf(r)!.subject}" expires on ${day(certOf(r)!.validTo)}, in ${certOf(r)!.daysLeft} day(s).`,
    recommendation: lines('Renew now and automate renewal (certbot, step-ca); then reload mosquitto:', 'certfile /etc/mosquitto/certs/server.crt', 'systemctl reload mosquitto'),
    references: ['CWE-324', 'OWASP IoT I8'],
  },
  {
    id: 'SYS_TOPICS_EXPOSED',
    severity: 'low',
    title: '$SYS broker statistics readable',
    checks: "A $SYS/# subscription received $SYS messages (broker statistics, or announcements of clients' connections).",
    when: (r) => sysInfo(r) !== null,
    evidence: (r) => {
      // The topics the broker sent (topics.sys.raw), never the listener's own field names;
      // announcements of the scanner's own connections are counted there, not listed.
      const topics = sysTopics(r);
      const own = ownSysEvents(r);
      const ownNote = `${own} announcement(s) of the scanner's own connections and subscriptions (not listed)`;
      const head = `$SYS/# was readable ${listenedAs(r)}`;
      if (topics.length) {
        return `${head}: the broker sent ${topics.length} $SYS topic(s), ${listSome(topics, 6)}${own ? `, and ${ownNote}` : ''}. They tell an attacker the broker version, client counts and load.`;
      }
      if (own) {
        return `${head}, but while we listened the broker sent only ${ownNote}, no statistics. A broker that announces connections under $SYS names every client that connects (its client id).`;
      }
      return `${head}: the broker sent $SYS values. They tell an attacker the broker version, client counts and load.`;
    },
    recommendation: lines(
      'Allow $SYS to an admin account only, in acl_file (no $SYS line for other users):',
      'user admin',
      'topic read $SYS/#',
      'or stop publishing it:',
      'sys_interval 0',
    ),
    references: ['CWE-200', 'OWASP IoT I9'],
  },
  {
    id: 'BROKER_VERSION_DISCLOSED',
    severity: 'low',
    title: 'Broker version disclosed',
    checks: 'The broker software and version can be read (CONNACK or $SYS/broker/version).',
    when: (r) => brokerVersion(r) !== null,
    evidence: (r) => `The broker says it is "${brokerVersion(r)}": an attacker can look up its known vulnerabilities.`,
    recommendation: lines('Restrict $SYS (no "topic read $SYS/#" for normal users in acl_file) or stop publishing it:', 'sys_interval 0', 'and keep mosquitto updated to the current release.'),
    references: ['CWE-200', 'OWASP IoT I5'],
  },
  {
    id: 'BROKER_KNOWN_VULNERABLE',
    // The editor's default; each finding takes the worst CVSS score of its matches (severityFor).
    severity: 'high',
    title: 'Broker version has known vulnerabilities',
    checks: "The version the broker discloses (Mosquitto's $SYS/broker/version, EMQX's $SYS/brokers/<node>/version) is in an affected range of the offline vulnerability table (lib/risk/known-vulnerabilities.ts): severity from the worst CVSS base score (>= 9 critical, >= 7 high, >= 4 medium, else low; medium where no score is published).",
    when: (r) => (vulnerabilitiesOf(r)?.matches.length ?? 0) > 0,
    severityFor: (r) => vulnerabilitiesOf(r)!.matches[0].severity,
    evidence: (r) => {
      const v = vulnerabilitiesOf(r)!;
      const list = v.matches.map((m) => `${m.id}${m.cvss ? ` (CVSS ${m.cvss.score})` : ''}${m.fixedIn ? `, fixed in ${m.fixedIn}` : ', no fix released'}`);
      return `The broker says it is "${v.said}" (${v.from}): ${productName(v)} ${v.version} has ${v.matches.length} known vulnerabilit${v.matches.length === 1 ? 'y' : 'ies'}: ${list.join('; ')}. A distribution's package may carry backported fixes under the old upstream number: check its security tracker. Table as of ${v.tableAsOf}.`;
    },
    recommendation: 'Upgrade the broker to the release that fixes every listed vulnerability, or to the newest release.',
    recommendationFor: (r) => {
      const v = vulnerabilitiesOf(r)!;
      const target = v.upgradeTo ? `Upgrade ${productName(v)} to ${v.upgradeTo} or later` : `Upgrade ${productName(v)}: no release fixes ${v.matches.filter((m) => !m.fixedIn).map((m) => m.id).join(', ')} yet; restrict who can reach the port until one does`;
      return lines(
        `${target}${v.newest ? ` (the newest release the table knows is ${v.newest.version}, ${v.newest.released})` : ''}.`,
        'Distribution packages backport security fixes without changing the upstream version: on Debian or Ubuntu check the package (apt-cache policy mosquitto) against the distribution\'s security tracker before you conclude.',
        'Then hide the version from clients: restrict $SYS in acl_file, or sys_interval 0.',
      );
    },
    references: ['CWE-1395', 'OWASP IoT I5'],
  },
  {
    id: 'BROKER_OUTDATED',
    severity: 'low',
    title: 'Broker older than the newest release',
    checks: 'The version the broker discloses is older than the newest release of its product that the vulnerability table knows, and no known vulnerability of the table applies to it.',
    when: (r) => {
      const v = vulnerabilitiesOf(r);
      return !!v && v.matches.length === 0 && v.outdated;
    },
    evidence: (r) => {
      const v = vulnerabilitiesOf(r)!;
      return `The broker says it is "${v.said}" (${v.from}): the newest ${productName(v)} release the table knows is ${v.newest!.version} (${v.newest!.released}). No known vulnerability of the table (as of ${v.tableAsOf}) applies to ${v.version}, but older releases miss later fixes.`;
    },
    recommendation: 'Plan the upgrade to the newest release, and keep the broker on its maintained branch.',
    recommendationFor: (r) => {
      const v = vulnerabilitiesOf(r)!;
      return lines(`Plan the upgrade of ${productName(v)} from ${v.version} to ${v.newest!.version}.`, 'Then hide the version from clients: restrict $SYS in acl_file, or sys_interval 0.');
    },
    references: ['CWE-1104', 'OWASP IoT I5'],
  },
  {
    id: 'CLIENT_CERT_REQUIRED',
    severity: 'info',
    title: 'Client certificate required',
    checks: 'The broker demands a client certificate in the TLS handshake (good practice; listed for completeness).',
    when: (r) => r.tls?.clientCertRequired === true,
    evidence: () => 'The TLS handshake requires a client certificate (require_certificate true): only devices with a certificate from the broker CA can connect.',
    recommendation: lines('No change needed. Keep one certificate per device and revoke lost ones:', 'require_certificate true', 'crlfile /etc/mosquitto/certs/revoked.crl'),
    references: ['CWE-295'],
  },
  {
    id: 'CLIENT_CERT_IDENTITY',
    severity: 'info',
    title: 'The client certificate is the identity',
    checks: "With the scan's client certificate, a CONNECT without username (or with a made-up one) is accepted, and a client without the certificate is refused: the certificate, not the username, is the login (mosquitto use_identity_as_username, or require_certificate with anonymous clients allowed).",
    when: (r) => spokeMqtt(r) && certificateIsIdentity(r),
    evidence: (r) => {
      const { anonymous, wrongCredentials, withoutCertificate } = r.auth;
      const got = [
        accepted(anonymous) ? `a CONNECT without username (${authLine(anonymous)})` : null,
        accepted(wrongCredentials) ? `a made-up username and password (${authLine(wrongCredentials)})` : null,
      ].filter(Boolean).join(' and ');
      const without = withoutCertificate
        ? withoutCertificate.certificateRequired ? 'the broker ended the TLS session'
          : withoutCertificate.outcome === 'rejected' ? `the broker refused the CONNECT (${authLine(withoutCertificate)})`
          : `the CONNECT got no answer (${withoutCertificate.detail ?? withoutCertificate.outcome})`
        : 'the TLS handshake is refused (the TLS inspection found a client certificate required)';
      const ignored = accepted(wrongCredentials) ? 'the username is ignored; the certificate is the identity' : 'the certificate is the identity; no MQTT login is asked for';
      return `With the scan's client certificate, ${got} ${accepted(anonymous) && accepted(wrongCredentials) ? 'were' : 'was'} accepted on ${where(r)}: ${ignored}. Without the certificate, ${without}. The broker is rated by what a client without the certificate gets.`;
    },
    recommendation: lines(
      'No change needed while every device has its own certificate. Keep access per certificate and revoke lost ones:',
      'require_certificate true',
      'use_identity_as_username true',
      'acl_file /etc/mosquitto/acl',
      'crlfile /etc/mosquitto/certs/revoked.crl',
    ),
    references: ['CWE-295'],
  },
];

function productName(v: BrokerVulnerabilities): string {
  return productNameOf(v.product);
}

function supported(r: ScanResult): string {
  const v = Object.entries(r.mqtt?.versions ?? {}).filter(([, s]) => s === 'supported').map(([k]) => k);
  return v.length ? v.join('/') : '';
}

/** Names of the references the rules use, for the report's appendix. */
export const REFERENCE_TITLES: Record<string, string> = {
  'CWE-200': 'Exposure of Sensitive Information to an Unauthorized Actor',
  'CWE-285': 'Improper Authorization',
  'CWE-284': 'Improper Access Control',
  'CWE-287': 'Improper Authentication',
  'CWE-295': 'Improper Certificate Validation',
  'CWE-296': "Improper Following of a Certificate's Chain of Trust",
  'CWE-297': 'Improper Validation of Certificate with Host Mismatch',
  'CWE-306': 'Missing Authentication for Critical Function',
  'CWE-319': 'Cleartext Transmission of Sensitive Information',
  'CWE-324': 'Use of a Key Past its Expiration Date',
  'CWE-326': 'Inadequate Encryption Strength',
  'CWE-327': 'Use of a Broken or Risky Cryptographic Algorithm',
  'CWE-359': 'Exposure of Private Personal Information to an Unauthorized Actor',
  'CWE-523': 'Unprotected Transport of Credentials',
  'CWE-757': 'Selection of Less-Secure Algorithm During Negotiation',
  'CWE-798': 'Use of Hard-coded Credentials',
  'CWE-862': 'Missing Authorization',
  'CWE-1104': 'Use of Unmaintained Third Party Components',
  'CWE-1392': 'Use of Default Credentials',
  'CWE-1395': 'Dependency on Vulnerable Third-Party Component',
  'OWASP IoT I1': 'Weak, Guessable, or Hardcoded Passwords',
  'OWASP IoT I3': 'Insecure Ecosystem Interfaces',
  'OWASP IoT I5': 'Use of Insecure or Outdated Components',
  'OWASP IoT I6': 'Insufficient Privacy Protection',
  'OWASP IoT I7': 'Insecure Data Transfer and Storage',
  'OWASP IoT I8': 'Lack of Device Management',
  'OWASP IoT I9': 'Insecure Default Settings',
};
