// Scan results as the engine, TLS inspector and topic sniffer produce them, for the risk and
// report tests. Each named sample lists exactly the findings it must get.
import type { AuthAttempt, DeviceExposure, ScanResult, TlsCertificateInfo, TlsInfo, TopicItem, TopicsInfo } from '../../lib/types';
import type { RuleId } from '../../lib/risk';

export const SCAN_ID = '3f1c2a9e-5b7d-4c1e-9a2b-0d6e8f7a1b2c';
const accepted = (version: '5.0' | '3.1.1' = '5.0'): AuthAttempt => ({ outcome: 'accepted', code: 0, reason: 'Success', version });
const rejected = (version: '5.0' | '3.1.1' = '5.0'): AuthAttempt => ({ outcome: 'rejected', code: 135, reason: 'Not authorized', version });
const untested: AuthAttempt = { outcome: 'not_tested' };

type Patch = Omit<Partial<ScanResult>, 'auth'> & { auth?: Partial<ScanResult['auth']> };

export function result(patch: Patch = {}): ScanResult {
  const base: ScanResult = {
    scanId: SCAN_ID,
    host: '127.0.0.1',
    port: 1883,
    reachability: 'open',
    transport: 'tcp',
    classification: 'not_authorized',
    mqtt: { versions: { '5.0': 'supported', '3.1.1': 'supported' }, brokerVersion: null },
    auth: { anonymous: rejected(), wrongCredentials: rejected(), givenCredentials: untested },
    evidence: ['tcp MQTT 5.0 anonymous: CONNACK 135 (Not authorized) (3 ms)'],
    durationMs: 12,
    error: null,
  };
  return { ...base, ...patch, auth: { ...base.auth, ...(patch.auth ?? {}) } } as ScanResult;
}

export function cert(patch: Partial<TlsCertificateInfo> = {}): TlsCertificateInfo {
  return {
    subject: 'CN=broker.lab.local',
    issuer: 'CN=Lab Root CA',
    subjectAltName: 'DNS:localhost, IP Address:127.0.0.1',
    validFrom: '2026-01-01T00:00:00.000Z',
    validTo: '2027-10-01T00:00:00.000Z',
    daysLeft: 300,
    expired: false,
    notYetValid: false,
    selfSigned: false,
    trusted: true,
    trustError: null,
    hostnameMatch: true,
    keyType: 'RSA',
    keyBits: 2048,
    signatureAlgorithm: 'sha256WithRSAEncryption',
    fingerprint256: 'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89',
    chain: ['CN=broker.lab.local', 'CN=Lab Root CA'],
    ...patch,
  };
}

export function tls(patch: Partial<TlsInfo> = {}, certPatch: Partial<TlsCertificateInfo> = {}): TlsInfo {
  return {
    protocol: 'TLSv1.3',
    cipher: 'TLS_AES_256_GCM_SHA384',
    versions: { TLSv1: false, 'TLSv1.1': false, 'TLSv1.2': true, 'TLSv1.3': true },
    certificate: cert(certPatch),
    weakCiphers: [],
    clientCertRequired: false,
    error: null,
    ...patch,
  };
}

export function topics(patch: Partial<TopicsInfo> = {}): TopicsInfo {
  const items: TopicItem[] = patch.items ?? [
    { topic: 'lab/secure/esp32/dht', messages: 4, retained: false, sample: '{"temp":28.5,"hum":65}', sensor: 'dht', values: { temperature: 28.5, humidity: 65 } },
  ];
  return { count: items.length, items, listenedMs: 3000, as: 'given credentials', truncated: [], writeTest: null, error: null, ...patch };
}

/** A TLS broker with passwords, a trusted certificate and a well-behaved login: no finding at all. */
export function hardened(patch: Patch = {}): ScanResult {
  return result({
    port: 8883,
    transport: 'tls',
    classification: 'open_or_auth_ok',
    auth: { givenCredentials: accepted() },
    tls: tls(),
    topics: topics(),
    ...patch,
  });
}

/** mosquitto with allow_anonymous true and no password file: the lab's insecure broker. */
export function anonymousPlain(patch: Patch = {}): ScanResult {
  return result({
    classification: 'open_or_auth_ok',
    auth: { anonymous: accepted(), wrongCredentials: accepted() },
    topics: topics({
      as: 'anonymous',
      items: [
        { topic: 'sensors/lab/dht', messages: 4, retained: true, sample: '{"temp":28.5,"hum":65}', sensor: 'dht', values: { temperature: 28.5, humidity: 65 } },
        { topic: 'sensors/lab/light', messages: 2, retained: false, sample: '412', sensor: 'ldr' },
        { topic: 'home/door', messages: 1, retained: true, sample: 'closed' },
      ],
      sys: { version: 'mosquitto version 2.0.18', 'clients/connected': 3, uptime: '5821 seconds' },
      writeTest: { topic: 'mqttsec/canary/3f1c2a9e', accepted: true, evidence: 'PUBACK 0 (Success)' },
    }),
    ...patch,
  });
}

/**
 * The lab's insecure broker (anonymousPlain) whose $SYS says `mosquitto version <version>`, as the
 * listener records it (topics.sys.raw): what classifyResult reads the known vulnerabilities from.
 * The Debian package of this machine says "mosquitto version 2.0.11".
 */
export function mosquittoSaying(version: string, patch: Patch = {}): ScanResult {
  const said = `mosquitto version ${version}`;
  const base = anonymousPlain();
  return anonymousPlain({
    topics: { ...base.topics!, sys: { version: said, topicCount: 2, raw: { '$SYS/broker/version': said, '$SYS/broker/uptime': '5821 seconds' } } },
    ...patch,
  });
}

/** TopicsInfo.devices as the listener sums up Zigbee2MQTT and OwnTracks (the contract's example). */
export function deviceExposure(): DeviceExposure {
  return {
    ecosystems: [
      {
        id: 'zigbee2mqtt', name: 'Zigbee2MQTT',
        reveals: "Every paired Zigbee device (IEEE address, model, vendor, firmware) and the bridge's configuration; its set topics switch the devices.",
        reference: 'https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html',
        topics: 9, devices: 14, devicesAtLeast: true, inventory: ['zigbee2mqtt/bridge/devices', 'zigbee2mqtt/bridge/info'], inventoryCount: 2,
        commands: [{ topic: 'zigbee2mqtt/bridge/request/permit_join', source: 'seen' }, { topic: 'zigbee2mqtt/kitchen_lamp/set', source: 'layout' }], commandCount: 5,
        locations: 0, encryptedLocations: 0,
      },
      {
        id: 'owntracks', name: 'OwnTracks', reveals: "Where people are: each phone's position, battery and regions (home, work).", reference: 'https://owntracks.org/booklet/tech/json/',
        topics: 3, devices: 2, inventory: [], inventoryCount: 0, commands: [{ topic: 'owntracks/alice/phone/cmd', source: 'layout' }], commandCount: 2, locations: 2, encryptedLocations: 1,
      },
    ],
    devices: 16, commandCount: 7, inventoryCount: 2, locations: 2, secrets: 3, secretKinds: ['credential', 'token'],
  };
}

/** What the devices' payloads held before the listener masked them: no output may show these. */
export const DEVICE_PAYLOAD_SECRETS = { latitude: 48.85837, longitude: 2.29448, password: 'wifi-hunter2-secret' };

/**
 * The lab's insecure broker with Zigbee2MQTT and OwnTracks devices behind its topics
 * (topics.devices: deviceExposure()): positions and secrets masked in the samples as the listener
 * masks them; the position items still carry the raw coordinates in `values`, which no output
 * may repeat for a flagged payload.
 */
export function withDevices(patch: Partial<TopicsInfo> = {}): ScanResult {
  const { latitude, longitude } = DEVICE_PAYLOAD_SECRETS;
  const position = (topic: string): TopicItem => ({
    topic, messages: 2, retained: true, sample: '{"_type":"location","lat":***,"lon":***,"batt":81}', sensor: 'numeric', sensitive: ['coordinates'],
    values: { lat: latitude, lon: longitude, batt: 81 }, device: { ecosystem: 'owntracks', role: 'location', id: topic.split('/').slice(1).join('/'), location: true },
  });
  const items: TopicItem[] = [
    { topic: 'zigbee2mqtt/bridge/devices', messages: 1, retained: true, sample: '[{"ieee_address":"0x00158d0001a2b3c4","model_id":"lumi.weather"', bytes: 71_010, device: { ecosystem: 'zigbee2mqtt', role: 'inventory', devices: 14, devicesAtLeast: true } },
    { topic: 'zigbee2mqtt/bridge/request/permit_join', messages: 1, retained: false, sample: '{"value":true}', device: { ecosystem: 'zigbee2mqtt', role: 'command' } },
    position('owntracks/alice/phone'),
    position('owntracks/bob/tablet'),
    { topic: 'owntracks/carol/phone', messages: 1, retained: true, sample: '{"_type":"encrypted","data":"7mLkq1"}', device: { ecosystem: 'owntracks', role: 'location', id: 'carol/phone', encrypted: true } },
    { topic: 'gateway/config', messages: 1, retained: true, sample: '{"wifi_ssid":"lab","wifi_password":"***"}', sensitive: ['credential'] },
    { topic: 'cloud/session', messages: 1, retained: true, sample: 'Bearer ***', sensitive: ['token'] },
  ];
  return anonymousPlain({ topics: topics({ as: 'anonymous', items, devices: deviceExposure(), writeTest: { topic: 'mqttsec/canary/3f1c2a9e', accepted: true, evidence: 'PUBACK 0 (Success)' }, ...patch }) });
}

/** The lab's secure broker: TLS + passwords + ACL, certificate from its own (self-signed) CA. */
export function tlsPasswordSelfSignedCa(patch: Patch = {}): ScanResult {
  return hardened({ tls: tls({}, { trusted: false, trustError: 'SELF_SIGNED_CERT_IN_CHAIN' }), ...patch });
}

function tlsWith(tlsPatch: Partial<TlsInfo>, certPatch: Partial<TlsCertificateInfo> = {}): ScanResult {
  return hardened({ tls: tls(tlsPatch, certPatch) });
}

export interface Sample {
  name: string;
  result: ScanResult;
  /** Exactly the findings it must get. */
  expect: RuleId[];
}

const ANON_PLAIN: RuleId[] = [
  'ANONYMOUS_ACCESS', 'WRONG_CREDENTIALS_ACCEPTED', 'PLAINTEXT_TRANSPORT', 'ANONYMOUS_PUBLISH',
  'RETAINED_DATA_EXPOSED', 'SYS_TOPICS_EXPOSED', 'BROKER_VERSION_DISCLOSED',
  // mosquitto 2.0.18: CVE-2024-8376 and CVE-2024-3935 are fixed in 2.0.19 (issue 17).
  'BROKER_KNOWN_VULNERABLE',
];

export const SAMPLES: Sample[] = [
  { name: 'hardened TLS broker', result: hardened(), expect: [] },
  { name: 'anonymous plaintext broker', result: anonymousPlain(), expect: ANON_PLAIN },
  { name: 'TLS + password, self-signed CA', result: tlsPasswordSelfSignedCa(), expect: ['TLS_SELF_SIGNED'] },
  { name: 'anonymous but checks passwords', result: result({ classification: 'open_or_auth_ok', auth: { anonymous: accepted() } }), expect: ['ANONYMOUS_ACCESS', 'PLAINTEXT_TRANSPORT'] },
  { name: 'plain port requiring a login', result: result(), expect: ['PLAINTEXT_TRANSPORT', 'PLAINTEXT_CREDENTIALS'] },
  { name: 'plain port, anonymous 3.1.1 refused, our login ok', result: result({ classification: 'open_or_auth_ok', auth: { anonymous: rejected('3.1.1'), givenCredentials: accepted('3.1.1') } }), expect: ['PLAINTEXT_TRANSPORT', 'PLAINTEXT_CREDENTIALS'] },
  { name: 'plain port that hangs up on anonymous and made-up logins, our login ok', result: result({ classification: 'open_or_auth_ok', auth: { anonymous: { outcome: 'closed_without_connack', version: '3.1.1' } as AuthAttempt, wrongCredentials: { outcome: 'closed_without_connack', version: '3.1.1' } as AuthAttempt, givenCredentials: accepted('3.1.1') } }), expect: ['PLAINTEXT_TRANSPORT', 'PLAINTEXT_CREDENTIALS'] },
  { name: 'plain WebSocket requiring a login', result: result({ transport: 'ws', port: 9001 }), expect: ['PLAINTEXT_TRANSPORT', 'PLAINTEXT_CREDENTIALS'] },
  { name: 'TLS broker refusing every login', result: hardened({ classification: 'not_authorized', auth: { givenCredentials: rejected() }, topics: null }), expect: [] },
  { name: 'default credentials accepted', result: hardened({ auth: { givenCredentials: { ...accepted(), defaultPair: true } as AuthAttempt } }), expect: ['DEFAULT_CREDENTIALS'] },
  { name: 'defaultPair on a rejected login', result: hardened({ classification: 'not_authorized', topics: null, auth: { givenCredentials: { ...rejected(), defaultPair: true } as AuthAttempt } }), expect: [] },
  { name: 'self-signed leaf', result: tlsWith({}, { selfSigned: true, trusted: false, issuer: 'CN=broker.lab.local', trustError: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), expect: ['TLS_SELF_SIGNED'] },
  { name: 'private CA supplied by the user (trusted)', result: tlsWith({}, { trusted: true }), expect: [] },
  { name: 'untrusted issuer', result: tlsWith({}, { trusted: false, trustError: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' }), expect: ['TLS_UNTRUSTED'] },
  { name: 'expired certificate', result: tlsWith({}, { expired: true, daysLeft: -12, validTo: '2026-11-15T00:00:00.000Z', trusted: false, trustError: 'CERT_HAS_EXPIRED' }), expect: ['TLS_EXPIRED'] },
  { name: 'expired (daysLeft only)', result: tlsWith({}, { expired: undefined, daysLeft: -1 }), expect: ['TLS_EXPIRED'] },
  { name: 'not yet valid', result: tlsWith({}, { notYetValid: true, validFrom: '2027-06-01T00:00:00.000Z', daysLeft: 700, trusted: false, trustError: 'CERT_NOT_YET_VALID' }), expect: ['TLS_NOT_YET_VALID'] },
  { name: 'expires in 29 days', result: tlsWith({}, { daysLeft: 29 }), expect: ['TLS_EXPIRES_SOON'] },
  { name: 'expires in 0 days', result: tlsWith({}, { daysLeft: 0 }), expect: ['TLS_EXPIRES_SOON'] },
  { name: 'expires in 30 days', result: tlsWith({}, { daysLeft: 30 }), expect: [] },
  { name: 'hostname mismatch', result: tlsWith({}, { hostnameMatch: false, subjectAltName: 'DNS:broker.example.org' }), expect: ['TLS_HOSTNAME_MISMATCH'] },
  { name: 'hostname unknown', result: tlsWith({}, { hostnameMatch: undefined }), expect: [] },
  { name: 'TLS 1.0 and 1.1 accepted', result: tlsWith({ versions: { TLSv1: true, 'TLSv1.1': true, 'TLSv1.2': true, 'TLSv1.3': false } }), expect: ['TLS_LEGACY_PROTOCOL'] },
  { name: 'negotiated TLS 1.1, no version map', result: tlsWith({ protocol: 'TLSv1.1', versions: undefined }), expect: ['TLS_LEGACY_PROTOCOL'] },
  { name: 'weak ciphers', result: tlsWith({ weakCiphers: ['3DES', 'RC4'] }), expect: ['TLS_WEAK_CIPHER'] },
  { name: 'RSA 1024 key', result: tlsWith({}, { keyBits: 1024 }), expect: ['TLS_WEAK_KEY'] },
  { name: 'EC P-256 key', result: tlsWith({}, { keyType: 'EC', keyBits: 256 }), expect: [] },
  { name: 'EC 192-bit key', result: tlsWith({}, { keyType: 'EC', keyBits: 192 }), expect: ['TLS_WEAK_KEY'] },
  { name: 'client certificate required (handshake failed)', result: result({ port: 8884, transport: 'tls', classification: 'tls_or_ssl_error', auth: { anonymous: untested, wrongCredentials: untested }, tls: tls({ clientCertRequired: true }) }), expect: ['CLIENT_CERT_REQUIRED'] },
  { name: 'login reads several trees ($SYS not counted)', result: hardened({ topics: topics({ items: [
    { topic: 'lab/secure/esp32/dht', messages: 3, retained: false },
    { topic: 'factory/line1/plc', messages: 9, retained: false },
    { topic: '$SYS/broker/uptime', messages: 1, retained: false },
  ] }) }), expect: ['NO_TOPIC_ACL'] },
  { name: 'login confined to one tree', result: hardened({ topics: topics({ items: [
    { topic: 'lab/secure/esp32/dht', messages: 3, retained: false },
    { topic: 'lab/users/scanner/note', messages: 1, retained: false },
    { topic: '$SYS/broker/uptime', messages: 1, retained: false },
  ] }) }), expect: [] },
  { name: 'sensitive payload', result: hardened({ topics: topics({ items: [
    { topic: 'devices/esp32/config', messages: 1, retained: false, sample: '{"wifi_pass":"hunter2"}', sensitive: ['credential'] },
    { topic: 'devices/esp32/owner', messages: 1, retained: false, sample: 'ana@example.org', sensitive: ['email'] },
  ] }) }), expect: ['SENSITIVE_PAYLOAD'] },
  // The devices behind the topics (issue 16, kind 4): items as the listener tags them.
  { name: 'device command topics, write test accepted with a login', result: hardened({ topics: topics({ items: [
    { topic: 'tele/tasmota_1A2B3C/LWT', messages: 1, retained: true, device: { ecosystem: 'tasmota', role: 'status', id: 'tasmota_1A2B3C', commandTopic: 'cmnd/tasmota_1A2B3C/POWER' } },
  ], writeTest: { topic: 'mqttsec/canary/x', accepted: true, evidence: 'PUBACK 0' } }) }), expect: ['DEVICE_CONTROL_EXPOSED'] },
  { name: 'device command topics, write test refused', result: hardened({ topics: topics({ items: [
    { topic: 'cmnd/tasmota_1A2B3C/POWER', messages: 1, retained: true, device: { ecosystem: 'tasmota', role: 'command', id: 'tasmota_1A2B3C' } },
  ], writeTest: { topic: 'mqttsec/canary/x', accepted: false, evidence: 'PUBACK 135' } }) }), expect: [] },
  { name: 'device command topics, write test not run', result: hardened({ topics: topics({ items: [
    { topic: 'cmnd/tasmota_1A2B3C/POWER', messages: 1, retained: true, device: { ecosystem: 'tasmota', role: 'command', id: 'tasmota_1A2B3C' } },
  ] }) }), expect: [] },
  { name: 'device inventory', result: hardened({ topics: topics({ items: [
    { topic: 'zigbee2mqtt/bridge/devices', messages: 1, retained: true, device: { ecosystem: 'zigbee2mqtt', role: 'inventory', devices: 14 } },
  ] }) }), expect: ['DEVICE_INVENTORY_EXPOSED'] },
  { name: 'an OwnTracks position', result: hardened({ topics: topics({ items: [
    { topic: 'owntracks/alice/phone', messages: 1, retained: true, sample: '{"_type":"location","lat":***,"lon":***}', sensitive: ['coordinates'], device: { ecosystem: 'owntracks', role: 'location', id: 'alice/phone', location: true } },
  ] }) }), expect: ['LOCATION_DATA_EXPOSED'] },
  { name: 'an encrypted OwnTracks position', result: hardened({ topics: topics({ items: [
    { topic: 'owntracks/bob/tablet', messages: 1, retained: true, device: { ecosystem: 'owntracks', role: 'location', id: 'bob/tablet', encrypted: true } },
  ] }) }), expect: [] },
  { name: 'coordinates outside any ecosystem', result: hardened({ topics: topics({ items: [
    { topic: 'fleet/van7/gps', messages: 1, retained: false, sample: '{"lat":***,"lon":***}', sensitive: ['coordinates'] },
  ] }) }), expect: ['LOCATION_DATA_EXPOSED'] },
  { name: 'retained data read with a login only', result: hardened({ topics: topics({ items: [{ topic: 'lab/secure/state', messages: 1, retained: true }] }) }), expect: [] },
  { name: 'write test accepted with a login', result: hardened({ topics: topics({ writeTest: { topic: 'mqttsec/canary/x', accepted: true, evidence: 'PUBACK 0' } }) }), expect: [] },
  { name: 'write test refused anonymously', result: anonymousPlain({ topics: topics({ as: 'anonymous', items: [], writeTest: { topic: 'mqttsec/canary/x', accepted: false, evidence: 'PUBACK 135' } }) }), expect: ['ANONYMOUS_ACCESS', 'WRONG_CREDENTIALS_ACCEPTED', 'PLAINTEXT_TRANSPORT'] },
  // EMQX 5.3.0: no entry of the table applies, but it is older than the newest EMQX the table knows.
  { name: 'version in CONNACK only', result: hardened({ mqtt: { versions: { '5.0': 'supported' }, brokerVersion: 'EMQX 5.3.0' } }), expect: ['BROKER_VERSION_DISCLOSED', 'BROKER_OUTDATED'] },
  { name: 'a version its product does not name', result: hardened({ mqtt: { versions: { '5.0': 'supported' }, brokerVersion: '2.0.11' } }), expect: ['BROKER_VERSION_DISCLOSED'] },
  // mosquitto require_certificate + use_identity_as_username, scanned with a client certificate:
  // what the certificate gets is its holder's, not anyone's (issue 14, kind 2).
  { name: 'client certificate is the identity', result: hardened({
    auth: {
      anonymous: { ...accepted(), clientCertificate: true }, wrongCredentials: { ...accepted(), clientCertificate: true }, givenCredentials: untested,
      withoutCertificate: { outcome: 'error', version: '5.0', clientCertificate: false, certificateRequired: true, detail: 'the broker ended the TLS session without the client certificate' },
    },
    tls: tls({ clientCertRequired: true }),
    topics: topics({ as: 'anonymous', items: [{ topic: 'lab/state', messages: 1, retained: true }], writeTest: { topic: 'mqttsec/canary/x', accepted: true, evidence: 'PUBACK 0' } }),
  }), expect: ['CLIENT_CERT_REQUIRED', 'CLIENT_CERT_IDENTITY'] },
  // The same from a result without the certificate-less attempt: the TLS inspector's verdict decides.
  { name: 'client certificate is the identity (TLS inspection only)', result: hardened({
    auth: { anonymous: { ...accepted(), clientCertificate: true }, givenCredentials: untested },
    tls: tls({ clientCertRequired: true }),
  }), expect: ['CLIENT_CERT_REQUIRED', 'CLIENT_CERT_IDENTITY'] },
  // A certificate presented to a broker that lets anyone in without one: still anonymous access.
  { name: 'client certificate presented, not required', result: hardened({
    auth: { anonymous: { ...accepted(), clientCertificate: true }, withoutCertificate: { ...accepted(), clientCertificate: false } },
  }), expect: ['ANONYMOUS_ACCESS'] },
  { name: '$SYS without a version', result: hardened({ topics: topics({ sys: { 'clients/connected': 2 } }) }), expect: ['SYS_TOPICS_EXPOSED'] },
  { name: 'closed port', result: result({ reachability: 'closed', transport: null, classification: 'unreachable_or_firewalled', auth: { anonymous: untested, wrongCredentials: untested } }), expect: [] },
  { name: 'not MQTT', result: result({ port: 8080, transport: null, classification: 'not_mqtt', auth: { anonymous: untested, wrongCredentials: untested } }), expect: [] },
  { name: 'unreachable with stale TLS data', result: result({ reachability: 'filtered', transport: null, classification: 'unreachable_or_firewalled', tls: tls({}, { expired: true }) }), expect: [] },
];

export function sample(name: string): ScanResult {
  const s = SAMPLES.find((x) => x.name === name);
  if (!s) throw new Error(`no sample "${name}"`);
  return structuredClone(s.result);
}

/** Awkward topic names: a report must render or replace them, never crash or run them. */
export const HOSTILE_TOPICS = [
  '<img src=x onerror=alert(1)>',
  '=HYPERLINK("http://evil.example","click")',
  '+cmd|" /C calc"!A0',
  '-2+3',
  '@SUM(A1:A2)',
  '\tindented',
  '\rcarriage',
  'capteurs/température/salle-été',
  'датчики/влажность',
  '传感器/温度/実験室',
  'sensors/🔥/🌡️',
  'עברית/חיישן',
  'zero\u200bwidth\u0000nul\u0007bell',
  'lone\ud800surrogate',
  `very/long/${'x'.repeat(300)}`,
];

/** A big scan with every kind of broker, deterministic. */
export function manyResults(n: number): ScanResult[] {
  const makers: Array<(i: number) => ScanResult> = [
    () => anonymousPlain(),
    () => tlsPasswordSelfSignedCa(),
    () => result(),
    () => hardened(),
    () => tlsWith({ versions: { TLSv1: true, 'TLSv1.1': true, 'TLSv1.2': true }, weakCiphers: ['3DES'] }, { expired: true, daysLeft: -40, trusted: false, trustError: 'CERT_HAS_EXPIRED' }),
    (i) => anonymousPlain({ topics: topics({ as: 'anonymous', items: HOSTILE_TOPICS.map((t, k) => ({ topic: t, messages: k + 1, retained: k % 3 === 0, sample: t })), sys: { version: `mosquitto version 1.${i % 7}.0` } }) }),
    () => tlsWith({}, { hostnameMatch: false, daysLeft: 12 }),
    () => result({ reachability: 'closed', transport: null, classification: 'unreachable_or_firewalled', auth: { anonymous: untested, wrongCredentials: untested } }),
  ];
  const out: ScanResult[] = [];
  for (let i = 0; i < n; i++) {
    const r = makers[i % makers.length](i);
    r.host = `127.0.${Math.floor(i / 250)}.${(i % 250) + 1}`;
    r.port = [1883, 8883, 1884, 8884][i % 4];
    out.push(r);
  }
  return out;
}
