// Known vulnerabilities of MQTT brokers, by product and version, for offline matching.
//
// What this is: a hand-kept table that lets the scanner say, from a version string a broker
// disclosed (e.g. `$SYS/broker/version` = "mosquitto version 2.0.11"), which published
// vulnerabilities apply and which release fixes them. It is data, reviewed like code: every row
// names where its facts come from, and a wrong affected range is treated as worse than a missing
// row.
//
// How it is kept (the sources read for VULNERABILITY_TABLE_AS_OF):
//  - Mosquitto: www/pages/security.md ("Past vulnerabilities") and ChangeLog.txt of
//    eclipse-mosquitto/mosquitto (master up to 2.1.x, plus the ChangeLog of the release/1.5 and
//    release/1.6 branches: 1.5.11, 1.6.14, 1.6.15), the release posts under www/posts, and the git
//    history where a range had to be checked (cited in the row's sources).
//  - CVE records: CVEProject/cvelistV5 (the CNA's affected versions and metrics) and the NVD
//    records (as mirrored in fkie-cad/nvd-json-data-feeds) for NVD's own scores.
//  - EMQX: emqx/emqx `changes/` and the Synopsys CyRC advisory; VerneMQ: changelog.md; NanoMQ: the
//    GitHub security advisories as published in the CVE records (GitHub is the CNA); RabbitMQ:
//    release-notes/ of rabbitmq/rabbitmq-server (only MQTT / Web MQTT plugin issues); aedes: the
//    GitHub advisories and release notes of moscajs/aedes; HiveMQ CE: its git history (no own
//    advisory found, so no rows).
//
// Conventions:
//  - Versions are plain x.y.z ('1.5' is written '1.5.0'). A range covers every version
//    >= introduced and < fixed, or <= lastAffected when no fixed release is known.
//    introduced '0.0.0' means the source names no first affected version (all earlier releases
//    are assumed affected).
//  - `published` is the CVE's publication date for CVE rows, and the fixing release's date for
//    rows without a CVE (ids of our own making, explained in `summary`).
//  - `cvss`: the CNA's CVSS 3.x score from the CVE record when it has one, otherwise NVD's primary
//    score. Scores published only as CVSS 4.0 (the type has no slot for them) or not at all are
//    left out; no number here is estimated.
//  - Every `summary` is written in our own words; none is copied from a vendor or a CVE record.
//  - Rows are sorted by product (alphabetically), then newest `published` first.

/** Broker products whose version a scan can read. */
export type BrokerProduct = 'mosquitto' | 'emqx' | 'vernemq' | 'nanomq' | 'hivemq-ce' | 'rabbitmq' | 'aedes';

/** One range of affected versions: every version >= introduced and < fixed (or <= lastAffected when no fix is known). Versions are plain x.y.z. */
export interface AffectedRange { introduced: string; fixed?: string; lastAffected?: string }

/** One known vulnerability of one product: which versions it affects, which releases fix it, how bad it is and where that is written. */
export interface KnownVulnerability {
  product: BrokerProduct;
  /** The CVE id, or the vendor's advisory id where there is no CVE (then a stable id of our own making like 'MOSQUITTO-2022-08-DYNSEC-ANON-GROUP', and say so in `summary`). */
  id: string;
  affected: AffectedRange[];
  /** Releases that fix it (one per maintained branch), e.g. ['2.0.12'] or ['1.6.6', '1.5.9']. */
  fixedIn: string[];
  /** CVSS base score and vector as published (NVD, or the CNA's score in the CVE record); absent when none is published. */
  cvss?: { score: number; vector: string; version: '3.1' | '3.0' | '2.0'; source: 'nvd' | 'cna' };
  /** One plain sentence in OUR OWN words (never copy the vendor's text): what an attacker can do. */
  summary: string;
  /** When it was published: 'YYYY-MM' (or 'YYYY-MM-DD'). */
  published: string;
  /** Where each fact comes from: the vendor's security page or changelog, the CVE record. At least one URL. */
  sources: string[];
  /** What the flaw is in: the broker (the default), or the client library shipped in the same
   *  release ('client-library': a broker running that version is not affected by it, so a scan of
   *  the broker never reports it). */
  component?: 'broker' | 'client-library';
}

/** The newest release of each product this table knows (for "outdated" when no CVE applies), with the date and a source. */
export interface ProductRelease { product: BrokerProduct; version: string; released: string; source: string }

export const VULNERABILITY_TABLE_AS_OF = '2026-11-30'; // the day the sources were checked

const MOSQ_SECURITY = 'https://mosquitto.org/security/';
const MOSQ_CHANGELOG = 'https://github.com/eclipse-mosquitto/mosquitto/blob/master/ChangeLog.txt';
const cve = (id: string): string => `https://www.cve.org/CVERecord?id=${id}`;
const nvd = (id: string): string => `https://nvd.nist.gov/vuln/detail/${id}`;

const NET_DOS_31 = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H';
const AUTH_DOS_31 = 'CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H';
const NET_DOS_30 = 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H';

export const KNOWN_VULNERABILITIES: readonly KnownVulnerability[] = [
  // ---------------------------------------------------------------------------------------- aedes
  {
    product: 'aedes',
    id: 'GHSA-52qw-whmv-87c5',
    affected: [{ introduced: '0.0.0', fixed: '1.1.3' }],
    fixedIn: ['1.1.3'],
    summary: 'GitHub advisory, no CVE seen: an unauthenticated client that uses a built-in JavaScript object property name (such as "constructor") as its client id or as a topic filter crashes the broker process and so drops every client; the release notes name only the fix (1.1.3, the 2.0.0 betas stay affected), and the plain-object lookups it replaces are already in 0.x.',
    published: '2026-09-15',
    sources: [
      'https://github.com/moscajs/aedes/releases/tag/v1.1.3',
      'https://github.com/moscajs/aedes/security/advisories/GHSA-52qw-whmv-87c5',
    ],
  },
  {
    product: 'aedes',
    id: 'CVE-2018-3778',
    affected: [{ introduced: '0.0.0', fixed: '0.35.1' }],
    fixedIn: ['0.35.1'],
    cvss: { score: 5.3, vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:L/A:N', version: '3.1', source: 'nvd' },
    summary: 'A client can get a Last Will message published to a topic it is not authorised to publish to, because the broker skipped its publish authorisation for wills.',
    published: '2018-08-08',
    sources: [
      cve('CVE-2018-3778'), nvd('CVE-2018-3778'),
      'https://github.com/advisories/GHSA-4cmx-hrq9-c23p',
      'https://github.com/nodejs/security-wg/blob/master/vuln/npm/457.json',
    ],
  },

  // ----------------------------------------------------------------------------------------- emqx
  {
    product: 'emqx',
    id: 'CVE-2021-33175',
    affected: [{ introduced: '0.0.0', fixed: '4.2.8' }],
    fixedIn: ['4.2.8'],
    cvss: { score: 7.5, vector: NET_DOS_31, version: '3.1', source: 'nvd' },
    summary: 'An unauthenticated network client can send crafted input that makes the broker allocate so much memory that the operating system kills it.',
    published: '2021-06-08',
    sources: [cve('CVE-2021-33175'), nvd('CVE-2021-33175'), 'https://www.synopsys.com/blogs/software-security/cyrc-advisory-rabbitmq-emqx-vernemq'],
  },

  // ------------------------------------------------------------------------------------ mosquitto
  {
    product: 'mosquitto',
    id: 'CVE-2026-110486',
    affected: [{ introduced: '2.1.0', lastAffected: '2.1.2' }],
    fixedIn: [],
    summary: 'A remote peer can make the 2.1 broker read and write outside its heap buffers (the record names an integer underflow and use of uninitialised data), which can at least crash it; the record we read names no fixed release.',
    published: '2026-11-18',
    sources: [cve('CVE-2026-110486'), 'https://raw.githubusercontent.com/CVEProject/cvelistV5/main/cves/2026/110xxx/CVE-2026-110486.json'],
  },
  {
    product: 'mosquitto',
    id: 'CVE-2026-129705',
    affected: [{ introduced: '2.1.0', lastAffected: '2.1.2' }],
    fixedIn: [],
    summary: 'On a listener that accepts the PROXY protocol v2, whoever can talk to it directly or through an untrusted proxy can forge the TLS and client-certificate details the broker trusts and so get past certificate-based policy; only trusted proxies may reach such a listener, and the record we read names no fixed release.',
    published: '2026-11-18',
    sources: [cve('CVE-2026-129705'), 'https://raw.githubusercontent.com/CVEProject/cvelistV5/main/cves/2026/129xxx/CVE-2026-129705.json'],
  },
  {
    product: 'mosquitto',
    id: 'MOSQUITTO-2025-03-QOS2-QUEUE-LEAK',
    affected: [{ introduced: '2.0.16', fixed: '2.0.21' }],
    fixedIn: ['2.0.21'],
    summary: 'No CVE (our id for the "further fix for CVE-2023-28366" in 2.0.21): a client can still leak broker memory once its outgoing queue is full, because the packet-dropping path added by the 2.0.16 fix did not free dropped packets.',
    published: '2025-03-06',
    sources: [
      MOSQ_CHANGELOG,
      'https://mosquitto.org/blog/2025/03/version-2-0-21-released/',
      'https://github.com/eclipse-mosquitto/mosquitto/commit/664ca4eb16c81f37f4a50f15ec33404bf2edd2e6',
    ],
  },
  {
    product: 'mosquitto',
    id: 'MOSQUITTO-2025-03-SUBSCRIBE-LEAK',
    affected: [{ introduced: '0.0.0', fixed: '2.0.21' }],
    fixedIn: ['2.0.21'],
    summary: 'No CVE (our id for Eclipse vulnerability report #248, fixed in 2.0.21): an authenticated client can make the broker leak memory with malicious SUBSCRIBE packets, and so exhaust it; the vendor names no first affected version.',
    published: '2025-03-06',
    sources: [MOSQ_CHANGELOG, 'https://mosquitto.org/blog/2025/03/version-2-0-21-released/', 'https://gitlab.eclipse.org/security/vulnerability-reports/-/issues/248'],
  },
  {
    product: 'mosquitto',
    id: 'CVE-2024-10525',
    affected: [{ introduced: '1.3.2', fixed: '2.0.19' }],
    fixedIn: ['2.0.19'],
    cvss: { score: 9.8, vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', version: '3.1', source: 'nvd' },
    summary: 'A malicious broker can answer a subscription with a SUBACK that carries no reason codes and make libmosquitto clients (mosquitto_sub, mosquitto_rr) access memory out of bounds; this is a client-library flaw shipped with the same release, not a flaw of the broker.',
    published: '2024-10-30',
    sources: [cve('CVE-2024-10525'), nvd('CVE-2024-10525'), 'https://mosquitto.org/blog/2024/10/version-2-0-19-released/'],
    component: 'client-library',
  },
  {
    product: 'mosquitto',
    id: 'CVE-2024-3935',
    affected: [{ introduced: '2.0.0', fixed: '2.0.19' }],
    fixedIn: ['2.0.19'],
    cvss: { score: 6.5, vector: AUTH_DOS_31, version: '3.1', source: 'nvd' },
    summary: 'When the broker runs an outgoing bridge with a remapped incoming topic, the remote side of the bridge can send a crafted PUBLISH that causes a double free and crashes the broker.',
    published: '2024-10-30',
    sources: [cve('CVE-2024-3935'), nvd('CVE-2024-3935'), 'https://mosquitto.org/blog/2024/10/version-2-0-19-released/'],
  },
  {
    product: 'mosquitto',
    id: 'CVE-2024-8376',
    affected: [{ introduced: '0.0.0', fixed: '2.0.19' }],
    fixedIn: ['2.0.19'],
    cvss: { score: 7.5, vector: NET_DOS_31, version: '3.1', source: 'nvd' },
    summary: 'A client can send particular sequences of CONNECT, DISCONNECT, SUBSCRIBE, UNSUBSCRIBE and PUBLISH packets (mixing shared and normal subscriptions) that leak memory, crash the broker or use freed memory.',
    published: '2024-10-11',
    sources: [
      cve('CVE-2024-8376'), nvd('CVE-2024-8376'), MOSQ_CHANGELOG,
      'https://github.com/eclipse-mosquitto/mosquitto/commit/1914b3ee2a18102d0a94cbdbbfeae1afa03edd17',
    ],
  },
  {
    product: 'mosquitto',
    id: 'CVE-2023-5632',
    affected: [{ introduced: '2.0.0', fixed: '2.0.6' }],
    fixedIn: ['2.0.6'],
    cvss: { score: 7.5, vector: NET_DOS_31, version: '3.1', source: 'cna' },
    summary: 'Anyone who can open a TCP connection can pin the broker\'s CPU at 100% by connecting and sending nothing (the fixed code, the epoll "mux" layer, first appeared in 2.0.0, although the record says "0 to 2.0.5").',
    published: '2023-10-18',
    sources: [
      cve('CVE-2023-5632'),
      'https://github.com/eclipse/mosquitto/pull/2053',
      'https://github.com/eclipse/mosquitto/commit/18bad1ff32435e523d7507e9b2ce0010124a8f2d',
    ],
  },
  {
    product: 'mosquitto',
    id: 'CVE-2023-0809',
    affected: [{ introduced: '1.5.0', fixed: '2.0.16' }],
    fixedIn: ['2.0.16'],
    // The CNA first scored it 10.0 (C:H/I:H/A:H) and revised it to 5.8 in January 2024; NVD: 5.3.
    cvss: { score: 5.8, vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:N/A:L', version: '3.1', source: 'cna' },
    summary: 'An unauthenticated client can make the broker reserve large amounts of memory by opening with a packet other than CONNECT, and so exhaust it.',
    published: '2023-10-02',
    sources: [cve('CVE-2023-0809'), MOSQ_SECURITY, 'https://mosquitto.org/blog/2023/08/version-2-0-16-released/', nvd('CVE-2023-0809')],
  },
  {
    product: 'mosquitto',
    id: 'CVE-2023-3592',
    affected: [{ introduced: '1.6.0', fixed: '2.0.16' }],
    fixedIn: ['2.0.16'],
    cvss: { score: 5.8, vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:N/A:L', version: '3.1', source: 'cna' },
    summary: 'A client can leak broker memory by sending MQTT v5 CONNECT packets whose will message carries properties of the wrong type.',
    published: '2023-10-02',
    sources: [cve('CVE-2023-3592'), MOSQ_SECURITY, 'https://mosquitto.org/blog/2023/08/version-2-0-16-released/'],
  },
  {
    product: 'mosquitto',
    id: 'CVE-2023-28366',
    affected: [{ introduced: '1.3.2', fixed: '2.0.16' }],
    fixedIn: ['2.0.16'],
    cvss: { score: 7.5, vector: NET_DOS_31, version: '3.1', source: 'nvd' },
    summary: 'A client can leak broker memory, until it stops responding, by sending many QoS 2 messages with a reused message id and never answering the broker\'s PUBREC.',
    published: '2023-09-01',
    sources: [cve('CVE-2023-28366'), nvd('CVE-2023-28366'), MOSQ_SECURITY, 'https://mosquitto.org/blog/2023/08/version-2-0-16-released/'],
  },
  {
    product: 'mosquitto',
    id: 'MOSQUITTO-2023-08-LIB-WILDCARD-CERT',
    affected: [{ introduced: '0.0.0', fixed: '2.0.16' }],
    fixedIn: ['2.0.16'],
    summary: 'No CVE (our id for a 2.0.16 security item): a server holding a certificate for a single-level wildcard such as *.com is accepted by libmosquitto clients and bridges, which eases impersonation; client-library and bridge side, and the vendor names no first affected version.',
    published: '2023-08-16',
    sources: [MOSQ_CHANGELOG, 'https://mosquitto.org/blog/2023/08/version-2-0-16-released/'],
  },
  {
    product: 'mosquitto',
    id: 'MOSQUITTO-2023-08-PERSISTENCE-CRASH',
    affected: [{ introduced: '0.0.0', fixed: '2.0.16' }],
    fixedIn: ['2.0.16'],
    summary: 'No CVE (our id for a 2.0.16 security item): someone who can write the persistence file can crash the broker when it loads an invalid one; local, and the vendor names no first affected version.',
    published: '2023-08-16',
    sources: [MOSQ_CHANGELOG, 'https://mosquitto.org/blog/2023/08/version-2-0-16-released/'],
  },
  {
    product: 'mosquitto',
    id: 'MOSQUITTO-2023-08-TLS-USERNAME-UTF8',
    affected: [{ introduced: '0.0.0', fixed: '2.0.16' }],
    fixedIn: ['2.0.16'],
    summary: 'No CVE (our id for a 2.0.16 security item): a client authenticating with a TLS certificate or TLS-PSK identity can get a username that is not valid UTF-8 accepted, which plugins and ACLs do not expect; the vendor names no first affected version.',
    published: '2023-08-16',
    sources: [MOSQ_CHANGELOG, 'https://github.com/eclipse-mosquitto/mosquitto/commit/02d36f99467dfe468055372c2d65c11213a92d14'],
  },
  {
    product: 'mosquitto',
    id: 'MOSQUITTO-2023-08-WILL-CONTROL-TOPIC',
    affected: [{ introduced: '2.0.0', fixed: '2.0.16' }],
    fixedIn: ['2.0.16'],
    summary: 'No CVE (our id for a 2.0.16 security item): a client can set its will message on a $CONTROL/ topic, so that commands reach broker plugins such as dynamic security when it disconnects ($CONTROL topics exist since 2.0.0).',
    published: '2023-08-16',
    sources: [MOSQ_CHANGELOG, 'https://github.com/eclipse-mosquitto/mosquitto/commit/9bb805857899079be986e5af026ae8c68b29d120'],
  },
  {
    product: 'mosquitto',
    id: 'MOSQUITTO-2022-08-DYNSEC-ANON-GROUP',
    affected: [{ introduced: '2.0.0', fixed: '2.0.15' }],
    fixedIn: ['2.0.15'],
    summary: 'No CVE (our id; the vendor lists it on its security page): an administrator of the dynamic security plugin who deletes the group set as the anonymous group leaves a dangling pointer that can crash the broker once.',
    published: '2022-08-16',
    sources: [MOSQ_SECURITY, MOSQ_CHANGELOG],
  },
  {
    product: 'mosquitto',
    id: 'CVE-2021-41039',
    affected: [{ introduced: '1.6.0', fixed: '2.0.12' }],
    fixedIn: ['2.0.12'],
    cvss: { score: 7.5, vector: NET_DOS_31, version: '3.1', source: 'nvd' },
    summary: 'An MQTT v5 client can slow the broker to a halt by connecting with a very large number of user properties, which costs it excessive CPU.',
    published: '2021-12-01',
    sources: [cve('CVE-2021-41039'), nvd('CVE-2021-41039'), MOSQ_CHANGELOG],
  },
  {
    product: 'mosquitto',
    id: 'MOSQUITTO-2021-08-DEFAULT-LISTENER-EXPOSED',
    affected: [{ introduced: '2.0.0', fixed: '2.0.12' }],
    fixedIn: ['2.0.12'],
    summary: 'No CVE (our id for a 2.0.12 security item): when listener options such as cafile were set without a `listener` line, the broker opened a listener reachable from the network with anonymous access, instead of the documented local-only one, so anyone could connect without credentials.',
    published: '2021-08-31',
    sources: [MOSQ_CHANGELOG, 'https://github.com/eclipse/mosquitto/issues/2283'],
  },
  {
    product: 'mosquitto',
    id: 'MOSQUITTO-2021-08-QOS2-RECONNECT-ACL',
    affected: [{ introduced: '0.0.0', fixed: '2.0.12' }],
    fixedIn: ['2.0.12'],
    summary: 'No CVE (our id for a 2.0.12 security item): a persistent (clean session false) client can have unfinished incoming QoS 2 messages delivered after it reconnects without the ACL check being applied, so it can publish where it may no longer; the vendor names no first affected version.',
    published: '2021-08-31',
    sources: [MOSQ_CHANGELOG],
  },
  {
    product: 'mosquitto',
    id: 'CVE-2021-34434',
    affected: [{ introduced: '2.0.0', fixed: '2.0.12' }],
    fixedIn: ['2.0.12'],
    cvss: { score: 5.3, vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N', version: '3.1', source: 'nvd' },
    summary: 'A durable client keeps receiving messages on a subscription after a plugin such as dynamic security has revoked its right to subscribe there while it was offline.',
    published: '2021-08-30',
    sources: [cve('CVE-2021-34434'), nvd('CVE-2021-34434'), MOSQ_SECURITY],
  },
  {
    product: 'mosquitto',
    id: 'CVE-2021-34432',
    affected: [{ introduced: '0.0.0', fixed: '2.0.8' }],
    fixedIn: ['2.0.8'],
    cvss: { score: 7.5, vector: NET_DOS_31, version: '3.1', source: 'nvd' },
    summary: 'A client can crash the broker with a PUBLISH whose topic has length zero (the record gives no first affected version, and NVD counts every release up to 2.0.7).',
    published: '2021-07-27',
    sources: [cve('CVE-2021-34432'), nvd('CVE-2021-34432'), 'https://bugs.eclipse.org/bugs/show_bug.cgi?id=574141'],
  },
  {
    product: 'mosquitto',
    id: 'CVE-2021-34431',
    affected: [{ introduced: '1.6.0', fixed: '1.6.15' }, { introduced: '2.0.0', fixed: '2.0.11' }],
    fixedIn: ['2.0.11', '1.6.15'],
    cvss: { score: 6.5, vector: AUTH_DOS_31, version: '3.1', source: 'nvd' },
    summary: 'An MQTT v5 client can leak broker memory with crafted CONNECT packets and so exhaust it.',
    published: '2021-07-22',
    sources: [cve('CVE-2021-34431'), nvd('CVE-2021-34431'), MOSQ_CHANGELOG, 'https://github.com/eclipse-mosquitto/mosquitto/blob/v1.6.15/ChangeLog.txt'],
  },
  {
    product: 'mosquitto',
    id: 'CVE-2021-28166',
    affected: [{ introduced: '2.0.0', fixed: '2.0.10' }],
    fixedIn: ['2.0.10'],
    cvss: { score: 6.5, vector: AUTH_DOS_31, version: '3.1', source: 'cna' },
    summary: 'An authenticated MQTT v5 client can crash the broker by sending it a malformed CONNACK packet (a NULL pointer dereference).',
    published: '2021-04-07',
    sources: [cve('CVE-2021-28166'), nvd('CVE-2021-28166'), MOSQ_SECURITY],
  },
  {
    product: 'mosquitto',
    id: 'MOSQUITTO-2021-03-EMPTY-CAFILE',
    affected: [{ introduced: '0.0.0', fixed: '1.5.11' }, { introduced: '1.6.0', fixed: '1.6.14' }, { introduced: '2.0.0', fixed: '2.0.9' }],
    fixedIn: ['2.0.9', '1.6.14', '1.5.11'],
    summary: 'No CVE (our id for the 2.0.9, 1.6.14 and 1.5.11 security items): with an empty or invalid CA file, an outgoing bridge (and libmosquitto clients) stops verifying the remote certificate after the first failed connection, so a man in the middle can pose as the remote broker; the vendor names no first affected version.',
    published: '2021-03-11',
    sources: [
      MOSQ_CHANGELOG,
      'https://github.com/eclipse-mosquitto/mosquitto/blob/v1.6.14/ChangeLog.txt',
      'https://github.com/eclipse-mosquitto/mosquitto/blob/v1.5.11/ChangeLog.txt',
      'https://github.com/eclipse/mosquitto/issues/2130',
    ],
  },
  {
    product: 'mosquitto',
    id: 'MOSQUITTO-2020-12-PASSWD-B-USERNAME',
    affected: [{ introduced: '2.0.0', fixed: '2.0.3' }],
    fixedIn: ['2.0.3'],
    summary: 'No CVE (our id; the vendor lists it on its security page): passwords set with `mosquitto_passwd -b file user password` became the username, so anyone who knows the username can log in with it as the password.',
    published: '2020-12-17',
    sources: [MOSQ_SECURITY, MOSQ_CHANGELOG],
  },
  {
    product: 'mosquitto',
    id: 'MOSQUITTO-2020-08-QOS2-PERSIST-LEAK',
    affected: [{ introduced: '0.0.0', fixed: '1.5.10' }, { introduced: '1.6.0', fixed: '1.6.12' }],
    fixedIn: ['1.6.12', '1.5.10'],
    summary: 'No CVE (our id for the 1.6.12 and 1.5.10 security item): with persistence on, a durable client that reconnects after a broker restart and floods QoS 2 messages until its queue overflows makes the broker leak memory; the vendor names no first affected version.',
    published: '2020-08-19',
    sources: [MOSQ_CHANGELOG, 'https://github.com/eclipse/mosquitto/issues/1793'],
  },
  {
    product: 'mosquitto',
    id: 'MOSQUITTO-2020-08-WINDOWS-SERVICE-PATH',
    affected: [{ introduced: '0.0.0', fixed: '1.6.11' }],
    fixedIn: ['1.6.11'],
    summary: 'No CVE (our id for a 1.6.11 security item): on Windows the service was installed with an unquoted path, so a local user who can write to a directory on that path can have their program run by the service; the vendor names no first affected version, and no 1.5 release carries the fix.',
    published: '2020-08-11',
    sources: [MOSQ_CHANGELOG],
  },
  {
    product: 'mosquitto',
    id: 'CVE-2020-13849',
    affected: [{ introduced: '0.0.0', fixed: '2.0.12' }],
    fixedIn: ['2.0.12'],
    cvss: { score: 7.5, vector: NET_DOS_31, version: '3.1', source: 'nvd' },
    summary: 'A flaw of MQTT 3.1.1 itself ("SlowITe"): clients that claim a very long keepalive can hold connection slots until no new client can connect; from 2.0.12 the broker can refuse them, but only when max_keepalive is configured.',
    published: '2020-06-04',
    sources: [cve('CVE-2020-13849'), nvd('CVE-2020-13849'), MOSQ_CHANGELOG],
  },
  {
    product: 'mosquitto',
    id: 'CVE-2019-11779',
    affected: [{ introduced: '1.5.0', fixed: '1.5.9' }, { introduced: '1.6.0', fixed: '1.6.6' }],
    fixedIn: ['1.6.6', '1.5.9'],
    cvss: { score: 6.5, vector: AUTH_DOS_31, version: '3.1', source: 'nvd' },
    summary: 'A client can crash the broker with a stack overflow by subscribing to a topic made of tens of thousands of "/" separators.',
    published: '2019-09-19',
    sources: [cve('CVE-2019-11779'), nvd('CVE-2019-11779'), MOSQ_SECURITY, 'https://mosquitto.org/blog/2019/09/version-1-6-6-released/'],
  },
  {
    product: 'mosquitto',
    id: 'CVE-2019-11778',
    affected: [{ introduced: '1.6.0', fixed: '1.6.5' }],
    fixedIn: ['1.6.5'],
    cvss: { score: 5.4, vector: 'CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:N/I:L/A:L', version: '3.1', source: 'nvd' },
    summary: 'An MQTT v5 client whose will delay is longer than its session expiry triggers a use-after-free in the broker that can crash it.',
    published: '2019-09-18',
    sources: [cve('CVE-2019-11778'), nvd('CVE-2019-11778'), MOSQ_SECURITY, 'https://mosquitto.org/blog/2019/09/version-1-6-6-released/'],
  },
  {
    product: 'mosquitto',
    id: 'MOSQUITTO-2019-04-V5-WILL-UAF',
    affected: [{ introduced: '1.6.0', fixed: '1.6.2' }],
    fixedIn: ['1.6.2'],
    summary: 'No CVE (our id; the vendor lists it on its security page as "no CVE assigned"): an MQTT v5 client whose will message starts with certain properties makes the broker use freed memory when it disconnects, which can crash it.',
    published: '2019-04-30',
    sources: [MOSQ_SECURITY, 'https://mosquitto.org/blog/2019/04/version-1-6-2-released/', MOSQ_CHANGELOG],
  },
  {
    product: 'mosquitto',
    id: 'CVE-2017-7655',
    affected: [{ introduced: '1.0.0', fixed: '1.5.0' }],
    fixedIn: ['1.5.0'],
    cvss: { score: 7.5, vector: NET_DOS_31, version: '3.1', source: 'nvd' },
    summary: 'A NULL pointer dereference in the Mosquitto library lets crafted input crash the programs that use it.',
    published: '2019-03-27',
    sources: [cve('CVE-2017-7655'), nvd('CVE-2017-7655'), MOSQ_SECURITY],
  },
  {
    product: 'mosquitto',
    id: 'CVE-2018-12546',
    affected: [{ introduced: '1.0.0', fixed: '1.5.6' }],
    fixedIn: ['1.5.6'],
    cvss: { score: 6.5, vector: 'CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:N/I:H/A:N', version: '3.1', source: 'nvd' },
    summary: 'A retained message published by a client stays delivered to new subscribers after that client has lost the right to publish on the topic (1.5.6 adds the check_retain_source option to stop this).',
    published: '2019-03-27',
    sources: [cve('CVE-2018-12546'), nvd('CVE-2018-12546'), MOSQ_CHANGELOG],
  },
  {
    product: 'mosquitto',
    id: 'CVE-2018-12550',
    affected: [{ introduced: '1.0.0', fixed: '1.5.6' }],
    fixedIn: ['1.5.6'],
    cvss: { score: 8.1, vector: 'CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H', version: '3.0', source: 'nvd' },
    summary: 'An ACL file that is empty or holds only comments is treated as no ACL at all, so every client may read and write every topic.',
    published: '2019-03-27',
    sources: [cve('CVE-2018-12550'), nvd('CVE-2018-12550'), MOSQ_CHANGELOG],
  },
  {
    product: 'mosquitto',
    id: 'CVE-2018-12551',
    affected: [{ introduced: '1.0.0', fixed: '1.5.6' }],
    fixedIn: ['1.5.6'],
    cvss: { score: 8.1, vector: 'CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H', version: '3.0', source: 'nvd' },
    summary: 'Malformed lines in a hand-edited password file (a blank line, for instance) become usernames without a password, so a client can log in with them and skip authentication.',
    published: '2019-03-27',
    sources: [cve('CVE-2018-12551'), nvd('CVE-2018-12551'), MOSQ_CHANGELOG],
  },
  {
    product: 'mosquitto',
    id: 'CVE-2018-20145',
    affected: [{ introduced: '1.5.0', fixed: '1.5.5' }],
    fixedIn: ['1.5.5'],
    cvss: { score: 7.5, vector: 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N', version: '3.0', source: 'nvd' },
    summary: 'With per_listener_settings true, the acl_file of the default listener is ignored, so clients on that listener are not restricted by it.',
    published: '2018-12-13',
    sources: [cve('CVE-2018-20145'), nvd('CVE-2018-20145'), MOSQ_SECURITY, 'https://mosquitto.org/blog/2018/11/version-155-released/'],
  },
  {
    product: 'mosquitto',
    id: 'CVE-2018-12543',
    affected: [{ introduced: '1.5.0', fixed: '1.5.3' }],
    fixedIn: ['1.5.3'],
    cvss: { score: 7.5, vector: NET_DOS_30, version: '3.0', source: 'nvd' },
    summary: 'A client can stop the broker by publishing to a topic that starts with "$" but is not $SYS, which trips an assertion.',
    published: '2018-11-15',
    sources: [cve('CVE-2018-12543'), nvd('CVE-2018-12543'), MOSQ_SECURITY],
  },
  {
    product: 'mosquitto',
    id: 'MOSQUITTO-2018-11-WEBSOCKETS-CLIENT-CERT',
    affected: [{ introduced: '1.4.0', fixed: '1.5.4' }],
    fixedIn: ['1.5.4'],
    summary: 'No CVE (our id; the vendor lists it on its security page as "no CVE assigned"): on a TLS WebSockets listener with require_certificate, the broker did not verify client certificates properly, so a client can connect without a valid one.',
    published: '2018-11-08',
    sources: [MOSQ_SECURITY, 'https://mosquitto.org/blog/2018/11/version-154-released/', MOSQ_CHANGELOG],
  },
  {
    product: 'mosquitto',
    id: 'CVE-2017-7653',
    affected: [{ introduced: '1.0.0', fixed: '1.5.0' }],
    fixedIn: ['1.5.0'],
    cvss: { score: 5.3, vector: 'CVSS:3.0/AV:N/AC:H/PR:L/UI:N/S:U/C:N/I:N/A:H', version: '3.0', source: 'nvd' },
    summary: 'The broker passes on topics that are not valid UTF-8, so a client can make stricter subscribers disconnect themselves.',
    published: '2018-06-05',
    sources: [cve('CVE-2017-7653'), nvd('CVE-2017-7653'), MOSQ_SECURITY],
  },
  {
    product: 'mosquitto',
    id: 'CVE-2017-7654',
    affected: [{ introduced: '1.0.0', fixed: '1.5.0' }],
    fixedIn: ['1.5.0'],
    cvss: { score: 7.5, vector: NET_DOS_30, version: '3.0', source: 'nvd' },
    summary: 'An unauthenticated client can leak broker memory with crafted CONNECT packets and so exhaust it.',
    published: '2018-06-05',
    sources: [cve('CVE-2017-7654'), nvd('CVE-2017-7654'), MOSQ_SECURITY, MOSQ_CHANGELOG],
  },
  {
    product: 'mosquitto',
    id: 'CVE-2017-7652',
    affected: [{ introduced: '1.0.0', fixed: '1.4.15' }],
    fixedIn: ['1.4.15'],
    cvss: { score: 7.5, vector: 'CVSS:3.0/AV:N/AC:H/PR:L/UI:N/S:U/C:H/I:H/A:H', version: '3.0', source: 'nvd' },
    summary: 'If the broker is reloaded (SIGHUP) while clients have used up all file descriptors, it fails to read its configuration and falls back to default, open security settings.',
    published: '2018-04-25',
    sources: [cve('CVE-2017-7652'), nvd('CVE-2017-7652'), MOSQ_SECURITY, 'https://mosquitto.org/blog/2018/02/security-advisory-cve-2017-7651-cve-2017-7652/'],
  },
  {
    product: 'mosquitto',
    id: 'CVE-2017-7651',
    affected: [{ introduced: '0.15.0', fixed: '1.4.15' }],
    fixedIn: ['1.4.15'],
    cvss: { score: 7.5, vector: NET_DOS_30, version: '3.0', source: 'nvd' },
    summary: 'Unauthenticated clients can exhaust the broker\'s memory by announcing huge packet lengths while connecting.',
    published: '2018-04-24',
    sources: [cve('CVE-2017-7651'), nvd('CVE-2017-7651'), MOSQ_SECURITY, 'https://mosquitto.org/blog/2018/02/security-advisory-cve-2017-7651-cve-2017-7652/'],
  },
  {
    product: 'mosquitto',
    id: 'CVE-2017-7650',
    affected: [{ introduced: '0.15.0', fixed: '1.4.12' }],
    fixedIn: ['1.4.12'],
    cvss: { score: 6.5, vector: 'CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N', version: '3.0', source: 'nvd' },
    summary: 'A client whose username or client id is "#" or "+" slips past pattern-based ACLs (and some auth plugins) and can reach topics it should not.',
    published: '2017-09-11',
    sources: [cve('CVE-2017-7650'), nvd('CVE-2017-7650'), MOSQ_SECURITY, 'https://mosquitto.org/blog/2017/05/security-advisory-cve-2017-7650/'],
  },
  {
    product: 'mosquitto',
    id: 'CVE-2017-9868',
    affected: [{ introduced: '0.15.0', fixed: '1.4.13' }],
    fixedIn: ['1.4.13'],
    cvss: { score: 5.5, vector: 'CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N', version: '3.0', source: 'nvd' },
    summary: 'Any local user can read the world-readable persistence file (mosquitto.db) and the topics and messages it holds.',
    published: '2017-06-25',
    sources: [cve('CVE-2017-9868'), nvd('CVE-2017-9868'), MOSQ_SECURITY, 'https://mosquitto.org/blog/2017/06/security-advisory-cve-2017-9868/'],
  },
  {
    product: 'mosquitto',
    id: 'MOSQUITTO-2016-02-MOUNT-POINT-WILL',
    affected: [{ introduced: '0.0.0', fixed: '1.4.8' }],
    fixedIn: ['1.4.8'],
    summary: 'No CVE (our id for a 1.4.8 change the changelog calls a potential security risk): a client on a listener with a mount_point can publish outside its mount point through its will message; the vendor names no first affected version.',
    published: '2016-02-14',
    sources: [MOSQ_CHANGELOG],
  },

  // --------------------------------------------------------------------------------------- nanomq
  {
    product: 'nanomq',
    id: 'CVE-2026-45151',
    affected: [{ introduced: '0.0.0', lastAffected: '0.24.8' }],
    fixedIn: [],
    summary: 'A peer on a QUIC connection can crash the broker through a NULL pointer dereference when a QUIC substream is being reopened (QUIC transport only; the advisory names no fixed release).',
    published: '2026-05-29',
    sources: [cve('CVE-2026-45151'), 'https://github.com/nanomq/nanomq/security/advisories/GHSA-9qhf-wgp4-p7w5'],
  },
  {
    product: 'nanomq',
    id: 'CVE-2026-25627',
    affected: [{ introduced: '0.0.0', fixed: '0.24.8' }],
    fixedIn: ['0.24.8'],
    cvss: { score: 6.5, vector: AUTH_DOS_31, version: '3.1', source: 'cna' },
    summary: 'Over the MQTT-over-WebSocket listener, a client can crash the broker with a packet that announces a much larger remaining length than it carries (an out-of-bounds read).',
    published: '2026-03-30',
    sources: [cve('CVE-2026-25627'), 'https://github.com/nanomq/nanomq/security/advisories/GHSA-w4rh-v3h2-j29x', 'https://github.com/nanomq/nanomq/releases/tag/0.24.8'],
  },
  {
    product: 'nanomq',
    id: 'CVE-2026-21888',
    affected: [{ introduced: '0.0.0', lastAffected: '0.24.6' }],
    fixedIn: [],
    cvss: { score: 7.5, vector: NET_DOS_31, version: '3.1', source: 'cna' },
    summary: 'An unauthenticated client can send an MQTT v5 packet with a five-byte variable-length integer that the parser reads past its buffer, which can crash the broker (the advisory names no fixed release).',
    published: '2026-03-11',
    sources: [cve('CVE-2026-21888'), 'https://github.com/nanomq/nanomq/security/advisories/GHSA-cggc-6m7w-j7x5', 'https://github.com/nanomq/nanomq/issues/2192'],
  },
  {
    product: 'nanomq',
    id: 'CVE-2026-22040',
    affected: [{ introduced: '0.24.6', lastAffected: '0.24.6' }],
    fixedIn: [],
    cvss: { score: 5.3, vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:N/I:N/A:H', version: '3.1', source: 'cna' },
    summary: 'Heavy publishing combined with rapid reconnects under one client id and subscribe/unsubscribe churn corrupts the heap and aborts the broker (only 0.24.6 is named, and no fixed release was known when published).',
    published: '2026-03-04',
    sources: [cve('CVE-2026-22040'), 'https://github.com/nanomq/nanomq/security/advisories/GHSA-v57q-w88m-424r'],
  },
  {
    product: 'nanomq',
    id: 'CVE-2025-59946',
    affected: [{ introduced: '0.0.0', fixed: '0.24.4' }],
    fixedIn: ['0.24.4'],
    cvss: { score: 7.5, vector: 'CVSS:3.1/AV:N/AC:H/PR:L/UI:N/S:U/C:H/I:H/A:H', version: '3.1', source: 'cna' },
    summary: 'A race on the broker\'s subscription list lets clients trigger a use-after-free that crashes it (the advisory text names 0.24.2 as the fix, its affected field everything before 0.24.4; this row uses the latter).',
    published: '2025-12-27',
    sources: [cve('CVE-2025-59946'), 'https://github.com/nanomq/nanomq/security/advisories/GHSA-xg37-23w7-72p5', 'https://github.com/nanomq/nanomq/issues/1863'],
  },
  {
    product: 'nanomq',
    id: 'CVE-2025-59947',
    affected: [{ introduced: '0.0.0', fixed: '0.24.4' }],
    fixedIn: ['0.24.4'],
    summary: 'A PUBLISH that matches both a shared and a normal subscription overflows a buffer in the broker, which can crash it or corrupt memory (disabling shared subscriptions avoids it).',
    published: '2025-12-15',
    sources: [
      cve('CVE-2025-59947'),
      'https://github.com/nanomq/nanomq/security/advisories/GHSA-98f4-cmg8-x7f3',
      'https://github.com/nanomq/nanomq/commit/5f5581054bb92f102cf99251e8af2f43763d457b',
    ],
  },

  // ------------------------------------------------------------------------------------- rabbitmq
  {
    product: 'rabbitmq',
    id: 'CVE-2016-9877',
    affected: [{ introduced: '3.0.0', fixed: '3.5.8' }, { introduced: '3.6.0', fixed: '3.6.6' }],
    fixedIn: ['3.6.6', '3.5.8'],
    cvss: { score: 9.8, vector: 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', version: '3.0', source: 'nvd' },
    summary: 'In the MQTT plugin, a client that gives an existing username and leaves out the password is let in, unless it authenticates with a TLS client certificate.',
    published: '2016-12-29',
    sources: [
      cve('CVE-2016-9877'), nvd('CVE-2016-9877'),
      'https://github.com/rabbitmq/rabbitmq-server/blob/main/release-notes/3.6.6.md',
      'https://github.com/rabbitmq/rabbitmq-server/blob/main/release-notes/3.5.8.md',
    ],
  },
  {
    product: 'rabbitmq',
    id: 'RABBITMQ-2014-04-MQTT-TLS-HANDSHAKE-DOS',
    affected: [{ introduced: '3.0.0', fixed: '3.3.1' }],
    fixedIn: ['3.3.1'],
    summary: 'No CVE (our id for a 3.3.1 "Security Fixes" item of the MQTT plugin, bug 26109): failing TLS handshakes on the MQTT listener could be used for a denial of service.',
    published: '2014-04-29',
    sources: ['https://github.com/rabbitmq/rabbitmq-server/blob/main/release-notes/README-3.3.1.txt'],
  },

  // -------------------------------------------------------------------------------------- vernemq
  {
    product: 'vernemq',
    id: 'CVE-2021-33176',
    affected: [{ introduced: '0.0.0', fixed: '1.12.0' }],
    fixedIn: ['1.12.0'],
    cvss: { score: 7.5, vector: NET_DOS_31, version: '3.1', source: 'nvd' },
    summary: 'An unauthenticated client can make the broker use so much memory (deep topic hierarchies, limited from 1.12.0 by topic_max_depth) that the operating system kills it.',
    published: '2021-06-08',
    sources: [
      cve('CVE-2021-33176'), nvd('CVE-2021-33176'),
      'https://github.com/vernemq/vernemq/blob/main/changelog.md',
      'https://www.synopsys.com/blogs/software-security/cyrc-advisory-rabbitmq-emqx-vernemq',
    ],
  },
];

export const NEWEST_RELEASES: readonly ProductRelease[] = [
  { product: 'aedes', version: '1.1.3', released: '2026-09-15', source: 'https://github.com/moscajs/aedes/releases/tag/v1.1.3' },
  { product: 'emqx', version: '6.3.1', released: '2026-09-17', source: 'https://docs.emqx.com/en/emqx/latest/release-notes/all-changes-ee.md' },
  { product: 'hivemq-ce', version: '2026.5.0', released: '2026-05-27', source: 'https://github.com/hivemq/hivemq-community-edition/releases/tag/2026.5' },
  { product: 'mosquitto', version: '2.1.2', released: '2026-02-09', source: 'https://mosquitto.org/blog/2026/02/version-2-1-2-released/' },
  { product: 'nanomq', version: '0.25.6', released: '2026-08-19', source: 'https://github.com/nanomq/nanomq/releases/tag/0.25.6' },
  { product: 'rabbitmq', version: '4.3.5', released: '2026-08-13', source: 'https://github.com/rabbitmq/rabbitmq-server/releases/tag/v4.3.5' },
  { product: 'vernemq', version: '2.2.0', released: '2026-08-09', source: 'https://github.com/vernemq/vernemq/releases/tag/2.2.0' },
];
