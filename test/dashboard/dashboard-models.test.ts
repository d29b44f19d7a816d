// The dashboard's view models one by one (lib/dashboard): table rows and their texts, the broker
// detail, the cards, the kept result, the history entry, the progress panel and the live values.
import { strict as assert } from 'node:assert';
import { classifyResult, KNOWN_VULNERABILITIES } from '../../lib/risk';
import {
  authText,
  brokerDetail,
  checkScanForm,
  completeScan,
  endpointOf,
  keepResult,
  liveValues,
  nextProgress,
  noTopicsText,
  portList,
  secondsText,
  riskChart,
  scanLine,
  securityText,
  summaryCards,
  tableMessage,
  tablePlaceholder,
  tableRows,
  topicDataText,
  type CurrentScan,
  type KeptResult,
} from '../../lib/dashboard';
import { anonymousPlain, DEVICE_PAYLOAD_SECRETS, deviceExposure, hardened, mosquittoSaying, result, topics, withDevices } from '../support/sample-results';
import { T0 } from './context';
import type { ScanResult, TopicsInfo } from '../../lib/types';
import type { KnownVulnerabilities } from '../../lib/common';

type TopicsInfoPatch = Partial<TopicsInfo>;

const kept = (r = classifyResult(anonymousPlain())): KeptResult => keepResult(r);
const scanOf = (results: KeptResult[], patch: Partial<CurrentScan> = {}): CurrentScan => ({
  scanId: 'scan-0001', target: '127.0.0.1', ports: '1883', startedAt: '2026-11-30T10:00:00.000Z', withLogin: false, total: null, complete: false,
  results: Object.fromEntries(results.map((r) => [r.ep, r])), ...patch,
});

describe('dashboard models: the kept result', () => {
  it('names endpoints as the table does, IPv6 in brackets', () => {
    assert.equal(endpointOf('127.0.0.1', 1883), '127.0.0.1:1883');
    assert.equal(endpointOf('::1', 8883), '[::1]:8883');
  });

  it('keeps the fields the dashboard shows and at most 100 topics', () => {
    const items = Array.from({ length: 150 }, (_, i) => ({ topic: `t/${i}`, messages: 1, retained: false, sample: 'x', qos: 0, firstSeen: 'x', rate: 1 }));
    const r = keepResult(classifyResult(anonymousPlain({ topics: topics({ items, count: 150 }) })), 'no login for this broker');
    assert.equal(r.ep, '127.0.0.1:1883');
    assert.equal(r.topics!.items.length, 100);
    assert.equal(r.topics!.count, 150);
    assert.deepEqual(r.topics!.items[0], { topic: 't/0', messages: 1, retained: false, sensor: null, sample: 'x', values: null, sensitive: null });
    assert.equal(r.skipped, 'no login for this broker');
    assert.equal(r.risk!.level, 'CRITICAL');
    assert.equal(r.tls, null);
    assert.equal('evidence' in r || 'durationMs' in r || 'security_summary' in r, false, 'not the whole result');
  });
});

describe('dashboard models: the results table', () => {
  it('says how a broker is secured', () => {
    const cases: Array<[Partial<KeptResult>, string]> = [
      [kept(), 'plain TCP · anonymous'],
      [kept(classifyResult(hardened())), 'TLS · login accepted'],
      [kept(classifyResult(result())), 'plain TCP · login required'],
      [kept(classifyResult(result({ transport: 'wss', websocketPath: '/mqtt', auth: { wrongCredentials: { outcome: 'accepted' } }, classification: 'open_or_auth_ok' }))), 'TLS WebSocket · any login'],
      [{ transport: null, auth: kept().auth && { anonymous: { outcome: 'error' }, wrongCredentials: { outcome: 'error' }, givenCredentials: { outcome: 'not_tested' } }, classification: 'not_mqtt' }, '— · not_mqtt'],
    ];
    for (const [r, text] of cases) assert.equal(securityText(r as KeptResult), text);
  });

  it('says why a broker has no topic rows', () => {
    assert.equal(noTopicsText({ classification: 'not_authorized', topics: null, skipped: null }), '(not readable: login required)');
    assert.equal(noTopicsText({ classification: 'open_or_auth_ok', topics: null, skipped: 'x' }), '(not read)');
    assert.equal(noTopicsText({ classification: 'open_or_auth_ok', topics: null, skipped: null }), '(not listened)');
    const t = (error: string | null) => ({ count: 0, error, writeTest: null, items: [] });
    assert.equal(noTopicsText({ classification: 'open_or_auth_ok', topics: t(`boom ${'e'.repeat(200)}`), skipped: null }), `(error: boom ${'e'.repeat(75)})`);
    assert.equal(noTopicsText({ classification: 'open_or_auth_ok', topics: t(null), skipped: null }), '(no messages heard)');
  });

  it('shows sensor values with units, else the sample cut at 60 characters', () => {
    assert.equal(topicDataText({ values: { temperature: 21.5, humidity: 40 }, sample: '' }), 'temperature 21.5 °C · humidity 40 %');
    assert.equal(topicDataText({ values: { raw: 812, percent: 40 }, sample: '' }), 'light 40 %');
    assert.equal(topicDataText({ values: { motion: false }, sample: '' }), 'motion no');
    assert.equal(topicDataText({ values: null, sample: 'y'.repeat(61) }), `${'y'.repeat(60)}…`);
    assert.equal(topicDataText({ values: null, sample: '{{7*7}}' }), '{{7*7}}');
    assert.equal(topicDataText({ values: null, sample: undefined }), '—');
  });

  it('sorts worst risk first, then endpoints in numeric order, then topics; unrated last', () => {
    const low = keepResult({ ...classifyResult(hardened({ host: '127.0.0.10', topics: null })), risk: { level: 'LOW', score: 96 } });
    const crit2 = kept(classifyResult(anonymousPlain({ host: '127.0.0.2', topics: null })));
    const crit10 = kept(classifyResult(anonymousPlain({ host: '127.0.0.10', topics: null })));
    const unrated = keepResult({ ...result({ host: '127.0.0.3', classification: 'not_mqtt' }), risk: null });
    const rows = tableRows(scanOf([low, unrated, crit10, crit2]));
    assert.deepEqual(rows.map((r) => `${r.ep} ${r.risk}`), ['127.0.0.2:1883 CRITICAL', '127.0.0.10:1883 CRITICAL', '127.0.0.10:8883 LOW', '127.0.0.3:1883 not rated']);
    assert.deepEqual(rows.map((r) => r.messages), ['', '', '', '']);
  });

  it('tells an empty table apart: no scan yet, nothing answered, still scanning; colours only from its own table', () => {
    assert.equal(tablePlaceholder(undefined), 'No scan yet: press Start scan.');
    assert.equal(tablePlaceholder({ scanId: 'x', complete: true }), 'No MQTT broker answered on these targets and ports.');
    assert.equal(tablePlaceholder({ scanId: 'x', complete: false }), 'Scanning…');
    const msg = tableMessage({ scanId: 'x', results: {} }) as { payload: unknown[]; ui_control: { tabulator: Record<string, string> } };
    assert.deepEqual(msg.payload, []);
    assert.equal(msg.ui_control.tabulator.layout, 'fitColumns');
    assert.match(msg.ui_control.tabulator.rowFormatter, /^function\(row\)\{var c=\{CRITICAL:\['#c62828','#fff'\]/);
    assert.doesNotMatch(msg.ui_control.tabulator.rowFormatter, /innerHTML|getData\(\)\.(topic|data)/);
  });
});

describe('dashboard models: broker detail', () => {
  it('words each login attempt', () => {
    assert.equal(authText({ outcome: 'rejected', code: 135, reason: 'Not authorized' }), 'rejected (Not authorized)');
    assert.equal(authText({ outcome: 'rejected', code: 5 }), 'rejected (code 5)');
    assert.equal(authText({ outcome: 'error', detail: 'closed without CONNACK' }), 'error');
    assert.equal(authText({ outcome: 'not_tested', withheld: 'plaintext_transport', detail: 'login not sent: plain TCP would carry the password in clear text' }), 'not sent: plain TCP would carry the password in clear text');
    assert.equal(authText({ outcome: 'not_tested' }), 'not tested');
    assert.equal(authText(undefined), 'not tested');
  });

  it('a broker that was not rated, read or listened to', () => {
    const r = keepResult({ ...result({ classification: 'not_authorized', mqtt: { versions: { '3.1.1': 'supported', '5.0': 'unsupported' }, brokerVersion: 'mosquitto 2.0.18' } }), risk: null }, 'login required');
    const d = brokerDetail(r);
    assert.deepEqual([d.level, d.levelClass, d.score], ['NOT RATED', 'none', null]);
    assert.equal(d.versions, '3.1.1');
    assert.equal(d.brokerVersion, 'mosquitto 2.0.18');
    assert.deepEqual([d.topics, d.topicCount, d.listened, d.writeTest, d.skipped], [[], null, null, null, 'login required']);
    assert.deepEqual(d.findings, []);
  });

  it('a broker of a coordinated scan says which agent of which site scanned it; a local one says nothing; a forged shape is dropped', () => {
    const d = brokerDetail(keepResult({ ...classifyResult(anonymousPlain()), scannedBy: { site: 'north', agent: 'north-1' } }));
    assert.equal(d.scannedBy, 'agent north-1 of site north');
    assert.equal(brokerDetail(kept()).scannedBy, null);
    const forged = { ...classifyResult(anonymousPlain()), scannedBy: { site: ['<b>'], agent: 7 } } as unknown as ScanResult;
    assert.equal(keepResult(forged).scannedBy, undefined);
    assert.equal(keepResult({ ...classifyResult(anonymousPlain()), scannedBy: { site: 's'.repeat(500), agent: 'a' } }).scannedBy!.site.length, 64);
  });

  it('the listening line carries what the broker\'s SUBACKs said (issue 16)', () => {
    const note = "The broker's SUBACKs: '#' was refused (0x80 Failure); '+/#' was granted in its place (the same topics).";
    const d = brokerDetail(keepResult(classifyResult(anonymousPlain({ topics: topics({ as: 'anonymous', listenedMs: 3000, note }) }))));
    assert.equal(d.listened, `3.0 s as anonymous. ${note}`);
  });

  it('lists at most 50 topics and rounds long listening to whole seconds', () => {
    const items = Array.from({ length: 80 }, (_, i) => ({ topic: `t/${i}`, messages: 1, retained: false }));
    const d = brokerDetail(keepResult(classifyResult(anonymousPlain({ topics: topics({ items, count: 80, listenedMs: 12_400, as: 'anonymous', writeTest: { topic: 'c', accepted: false, evidence: '' } }) }))));
    assert.equal(d.topics.length, 50);
    assert.equal(d.listened, '12 s as anonymous');
    assert.equal(d.writeTest, 'refused');
  });
});

describe('dashboard models: devices and data', () => {
  const detailOf = (r = withDevices()) => brokerDetail(keepResult(classifyResult(r)));

  it('each ecosystem: devices (14+ for a lower bound), inventory, command topics with their source in words, positions as counts, what it reveals, the reference as a link', () => {
    const d = detailOf().devices!;
    assert.deepEqual(d.ecosystems, [
      {
        id: 'zigbee2mqtt', name: 'Zigbee2MQTT', devices: '14+ devices',
        reveals: "Every paired Zigbee device (IEEE address, model, vendor, firmware) and the bridge's configuration; its set topics switch the devices.",
        inventory: '2 topics', inventoryTopics: ['zigbee2mqtt/bridge/devices', 'zigbee2mqtt/bridge/info'],
        commands: '5 topics, 2 listed',
        commandTopics: [{ topic: 'zigbee2mqtt/bridge/request/permit_join', source: 'seen' }, { topic: 'zigbee2mqtt/kitchen_lamp/set', source: "the ecosystem's command topic" }],
        locations: null, reference: 'https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html', link: true,
      },
      {
        id: 'owntracks', name: 'OwnTracks', devices: '2 devices', reveals: "Where people are: each phone's position, battery and regions (home, work).",
        inventory: null, inventoryTopics: [], commands: '2 topics, 1 listed', commandTopics: [{ topic: 'owntracks/alice/phone/cmd', source: "the ecosystem's command topic" }],
        locations: '2 topics with positions (positions withheld), 1 encrypted', reference: 'https://owntracks.org/booklet/tech/json/', link: true,
      },
    ]);
  });

  it('the totals: devices, command topics, whether writes were accepted and as whom, positions and secrets as counts', () => {
    assert.deepEqual(detailOf().devices!.totals, [
      ['Devices', '16+'],
      ['Command topics', '7'],
      ['Writes', 'write test accepted (as anonymous)'],
      ['Locations', '2 topics with positions (positions withheld)'],
      ['Secrets', '3 topics carry credential, token (masked)'],
    ]);
    const writes = (writeTest: TopicsInfoPatch['writeTest'], as?: 'anonymous' | 'given credentials') => detailOf(withDevices({ writeTest, as })).devices!.totals.find(([k]) => k === 'Writes')![1];
    assert.equal(writes({ topic: 'c', accepted: false, evidence: 'PUBACK 135' }, 'given credentials'), 'write test refused (as given credentials)');
    assert.equal(writes(null), 'not run: whether the commands accept writes was not tested');
    assert.equal(writes(undefined), 'not run: whether the commands accept writes was not tested');
  });

  it('shows nothing without a summary, or with one that found no ecosystem, position or secret; positions or secrets alone are shown', () => {
    const none = { ecosystems: [], devices: 0, commandCount: 0, inventoryCount: 0, locations: 0, secrets: 0, secretKinds: [] };
    assert.equal(detailOf(anonymousPlain()).devices, null);
    assert.equal(detailOf(withDevices({ devices: none })).devices, null);
    assert.equal(detailOf(withDevices({ devices: 'zigbee' as never })).devices, null);
    assert.equal(brokerDetail(keepResult({ ...result(), risk: null })).devices, null, 'not listened to');
    assert.deepEqual(detailOf(withDevices({ devices: { ...none, secrets: 1, secretKinds: ['private_key'] } })).devices, { ecosystems: [], totals: [['Secrets', '1 topic carries private key (masked)']] });
    assert.deepEqual(detailOf(withDevices({ devices: { ...none, locations: 1 } })).devices!.totals, [['Locations', '1 topic with a position (position withheld)']]);
  });

  it('a reference is a link only when it is an https URL; "1 device", "no device identified"; a command of an unknown source is left out', () => {
    const d = deviceExposure();
    d.ecosystems[0] = { ...d.ecosystems[0], reference: 'javascript:alert(1)', devices: 1, devicesAtLeast: undefined, commands: [{ topic: 'a/set', source: 'guessed' as never }, { topic: 'b/set', source: 'announced' }] };
    d.ecosystems[1] = { ...d.ecosystems[1], reference: 'http://owntracks.org/booklet/', devices: 0 };
    const [z, o] = detailOf(withDevices({ devices: d })).devices!.ecosystems;
    assert.deepEqual([z.reference, z.link, o.reference, o.link], ['javascript:alert(1)', false, 'http://owntracks.org/booklet/', false]);
    assert.deepEqual([z.devices, o.devices], ['1 device', 'no device identified']);
    assert.deepEqual(z.commandTopics, [{ topic: 'b/set', source: 'named by a payload' }]);
  });

  it('the kept result holds the summary bounded: 16 ecosystems, 5 inventory and 8 command topics each, 300 characters a text', () => {
    const d = deviceExposure();
    const long = `zigbee2mqtt/${'x'.repeat(5000)}`;
    d.ecosystems = Array.from({ length: 40 }, () => ({ ...d.ecosystems[0], inventory: Array(20).fill(long), commands: Array(20).fill({ topic: long, source: 'seen' }), commandCount: 20, inventoryCount: 20 }));
    const k = keepResult(classifyResult(withDevices({ devices: d })));
    const kept = k.topics!.devices!;
    assert.equal(kept.ecosystems.length, 16);
    assert.deepEqual([kept.ecosystems[0].inventory.length, kept.ecosystems[0].commands.length, kept.ecosystems[0].commandCount], [5, 8, 20]);
    assert.equal(Array.from(kept.ecosystems[0].inventory[0]).length, 300);
    assert.ok(kept.ecosystems[0].inventory[0].endsWith('…'));
    assert.ok(JSON.stringify(k).length < 100_000, `kept result ${JSON.stringify(k).length} characters`);
    assert.equal(brokerDetail(k).devices!.ecosystems[0].commands, '20 topics, 8 listed');
  });

  it('neither the detail nor the table shows a position or a secret: flagged payloads keep only their masked samples', () => {
    const k = keepResult(classifyResult(withDevices()));
    const alice = k.topics!.items.find((i) => i.topic === 'owntracks/alice/phone')!;
    assert.deepEqual([alice.values, alice.sample], [null, '{"_type":"location","lat":***,"lon":***,"batt":81}']);
    const shown = JSON.stringify([brokerDetail(k), tableRows(scanOf([k]))]);
    for (const v of Object.values(DEVICE_PAYLOAD_SECRETS)) assert.ok(!shown.includes(String(v)), `${v} is shown`);
    assert.ok(shown.includes('2 topics with positions (positions withheld)'));
  });
});

describe('dashboard models: known vulnerabilities', () => {
  const cve = (id: string) => `https://www.cve.org/CVERecord?id=${id}`;
  const summaryOf = (id: string) => KNOWN_VULNERABILITIES.find((v) => v.product === 'mosquitto' && v.id === id)!.summary;
  const caveat = "A distribution's package (Debian, Ubuntu, ...) may carry backported fixes under the old version number: check its security tracker before you conclude.";
  /** A vulnerabilities field as a flow might have written it (the classifier's shape). */
  const written = (patch: Record<string, unknown> = {}) => ({
    product: 'mosquitto', version: '2.1.2', said: 'mosquitto version 2.1.2', from: '$SYS/broker/version',
    matches: [{ id: 'CVE-2099-0001', severity: 'high', cvss: { score: 7.5, vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', version: '3.1', source: 'nvd' }, fixedIn: null, summary: 'A test flaw.', published: '2099-01', sources: ['https://example.org/a'] }],
    upgradeTo: null, newest: { product: 'mosquitto', version: '2.1.2', released: '2026-02-09', source: 'https://example.org/r' }, outdated: false, tableAsOf: '2026-11-30', ...patch,
  });
  const detailWith = (vulnerabilities: unknown) => brokerDetail(keepResult({ ...classifyResult(hardened()), vulnerabilities } as ScanResult));

  it('Mosquitto 2.0.11: where it said so, one row per match worst first (id linked to its source, severity, CVSS, fix, summary), the upgrade, the table\'s date, the caveat', () => {
    const classified = classifyResult(mosquittoSaying('2.0.11'));
    // The classifier's type is the shape lib/common reads (the type checker says so), and its
    // result is kept whole: no bound cuts a real entry of the table.
    const shape: KnownVulnerabilities = classified.vulnerabilities!;
    assert.deepEqual(keepResult(classified).vulnerabilities, shape);
    const v = brokerDetail(keepResult(classified)).vulnerabilities!;
    assert.equal(v.heading, 'Mosquitto 2.0.11 (said on $SYS/broker/version)');
    assert.equal(v.rows.length, classified.vulnerabilities!.matches.length);
    assert.deepEqual(v.rows[0], {
      id: 'CVE-2024-8376', link: cve('CVE-2024-8376'), severity: 'high', cvss: 'CVSS 7.5', score: '7.5', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', fixed: 'fixed in 2.0.19', fixedIn: '2.0.19', summary: summaryOf('CVE-2024-8376'),
    });
    assert.deepEqual(v.rows.find((r) => r.id === 'CVE-2023-0809'), {
      id: 'CVE-2023-0809', link: cve('CVE-2023-0809'), severity: 'medium', cvss: 'CVSS 5.8', score: '5.8', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:N/A:L', fixed: 'fixed in 2.0.16', fixedIn: '2.0.16', summary: summaryOf('CVE-2023-0809'),
    });
    assert.deepEqual(v.rows.find((r) => r.id === 'CVE-2021-34434'), {
      id: 'CVE-2021-34434', link: cve('CVE-2021-34434'), severity: 'medium', cvss: 'CVSS 5.3', score: '5.3', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N', fixed: 'fixed in 2.0.12', fixedIn: '2.0.12', summary: summaryOf('CVE-2021-34434'),
    });
    // An entry without a published score, and one whose source is the ChangeLog (an https link too).
    assert.deepEqual(v.rows.find((r) => r.id === 'MOSQUITTO-2021-08-DEFAULT-LISTENER-EXPOSED'), {
      id: 'MOSQUITTO-2021-08-DEFAULT-LISTENER-EXPOSED', link: 'https://github.com/eclipse-mosquitto/mosquitto/blob/master/ChangeLog.txt', severity: 'medium',
      cvss: 'no CVSS score published', score: null, vector: null, fixed: 'fixed in 2.0.12', fixedIn: '2.0.12', summary: summaryOf('MOSQUITTO-2021-08-DEFAULT-LISTENER-EXPOSED'),
    });
    assert.deepEqual([v.upgrade, v.status, v.asOf, v.caveat, v.more], ['Upgrade to 2.0.21 or later; newest known 2.1.2 (2026-02-09)', null, 'Table as of 2026-11-30', caveat, null]);
  });

  it('an outdated Mosquitto without matches: one line that it is older than the newest release known; no upgrade line, no caveat', () => {
    const v = brokerDetail(keepResult(classifyResult(mosquittoSaying('2.0.22')))).vulnerabilities!;
    assert.deepEqual(v, {
      heading: 'Mosquitto 2.0.22 (said on $SYS/broker/version)', rows: [], more: null, upgrade: null,
      status: 'Mosquitto 2.0.22 is older than the newest release known (2.1.2, 2026-02-09)', asOf: 'Table as of 2026-11-30', caveat: null,
    });
  });

  it('nothing when the broker did not say its version; the kept result then has no vulnerabilities', () => {
    const k = keepResult(classifyResult(hardened()));
    assert.equal('vulnerabilities' in k, false);
    assert.equal(brokerDetail(k).vulnerabilities, null);
    assert.equal(detailWith('mosquitto 2.0.11').vulnerabilities, null, 'not an object');
    assert.equal(detailWith(written({ version: '' })).vulnerabilities, null, 'no version');
  });

  it('a match without a released fix or score, a source that is not https, an unknown severity; the version said elsewhere than $SYS', () => {
    const v = detailWith(written({
      from: 'mqtt.brokerVersion',
      matches: [
        { id: 'CVE-2099-0002', severity: 'bogus', fixedIn: null, summary: 'No score.', published: '2099-02', sources: ['http://example.org/plain', 'javascript:alert(1)'] },
        { ...written().matches[0], cvss: { score: 11, vector: 'x', version: '3.1', source: 'nvd' } },
      ],
    })).vulnerabilities!;
    assert.equal(v.heading, 'Mosquitto 2.1.2 (said by the broker)');
    assert.deepEqual(v.rows, [
      { id: 'CVE-2099-0002', link: null, severity: 'medium', cvss: 'no CVSS score published', score: null, vector: null, fixed: 'no fix released', fixedIn: null, summary: 'No score.' },
      { id: 'CVE-2099-0001', link: 'https://example.org/a', severity: 'high', cvss: 'no CVSS score published', score: null, vector: null, fixed: 'no fix released', fixedIn: null, summary: 'A test flaw.' },
    ]);
    assert.equal(v.upgrade, 'No released fix for CVE-2099-0002, CVE-2099-0001 yet; newest known 2.1.2 (2026-02-09)');
    assert.equal(detailWith(written({ matches: [], product: 'aedes', version: '1.1.3', newest: { product: 'aedes', version: '1.1.3', released: '2026-09-15', source: 'https://example.org/' } })).vulnerabilities!.status,
      'No known vulnerability of the table applies to aedes 1.1.3; newest known 1.1.3 (2026-09-15)');
  });

  it('the kept result holds them bounded: 50 matches (the rest counted, also when read again), 400 characters a summary, 5 sources', () => {
    const long = 'x'.repeat(5000);
    const matches = Array.from({ length: 80 }, (_, i) => ({ ...written().matches[0], id: `CVE-2099-${1000 + i}`, summary: long, sources: Array(10).fill(`https://example.org/${long}`) }));
    const k = keepResult({ ...classifyResult(hardened()), vulnerabilities: written({ matches, said: long, from: `$SYS/${long}` }) } as ScanResult);
    const kept = k.vulnerabilities!;
    assert.deepEqual([kept.matches.length, kept.omitted, kept.matches[0].sources.length], [50, 30, 5]);
    assert.equal(Array.from(kept.matches[0].summary).length, 400);
    assert.ok(kept.matches[0].summary.endsWith('…'));
    assert.deepEqual([Array.from(kept.said).length, Array.from(kept.from).length, Array.from(kept.matches[0].sources[0]).length], [200, 300, 200]);
    assert.ok(JSON.stringify(k).length < 100_000, `kept result ${JSON.stringify(k).length} characters`);
    const v = brokerDetail(k).vulnerabilities!;
    assert.deepEqual([v.rows.length, v.more], [50, '30 more in the JSON report']);
    assert.equal(keepResult(k as unknown as ScanResult).vulnerabilities!.omitted, 30, 'a kept copy kept again');
  });
});

describe('dashboard models: cards and chart', () => {
  it('at the end the classifier\'s summary gives brokers, open, refused and levels; TLS issues and plain text are counted', () => {
    const scan = scanOf([kept()], {
      total: 5, complete: true, cancelled: true, durationMs: 2345,
      summary: { brokers: 3, openBrokers: 2, authFailures: 1, byLevel: { CRITICAL: 2, HIGH: 1, MEDIUM: 0, LOW: 0 } } as unknown as CurrentScan['summary'],
    });
    assert.deepEqual(summaryCards(scan), { scanned: 5, brokers: 3, open: 2, authFailures: 1, tlsIssues: 0, plaintext: 1, critical: 2, high: 1, critHigh: 3 });
    assert.deepEqual(scanLine(scan), { target: '127.0.0.1', ports: '1883', startedAt: '2026-11-30T10:00:00.000Z', complete: true, cancelled: true, interrupted: false, seconds: '2.3', withLogin: false });
    assert.equal(scanLine({}), null);
    assert.deepEqual(summaryCards({}), { scanned: 0, brokers: 0, open: 0, authFailures: 0, tlsIssues: 0, plaintext: 0, critical: 0, high: 0, critHigh: 0 });
  });

  it('the chart is empty until a broker is rated', () => {
    assert.deepEqual(riskChart({ results: {} }), []);
    const unrated = keepResult({ ...result(), risk: null });
    assert.deepEqual(riskChart(scanOf([unrated])), []);
  });
});

describe('dashboard models: history, form, progress, live', () => {
  it('durations: one decimal, two below 0.1 s so a 40 ms scan does not read "0.0"', () => {
    assert.deepEqual([4200, 950, 100, 94, 40, 3, 0].map(secondsText), ['4.2', '0.9', '0.1', '0.09', '0.04', '0.01', '0.01']);
  });

  it('long port lists are shortened in the history panel', () => {
    assert.equal(portList([1, 2, 3, 4, 5, 6]), '1,2,3,4,5,6');
    assert.equal(portList([1, 2, 3, 4, 5, 6, 7, 8, 9]), '1,2,3,4,5,6,… (9)');
  });

  it('the form check takes numbers as text and trims; a stale lock does not block', () => {
    const c = checkScanForm({ target: 127, ports: ' 1883 ', listen: '0', username: ' u ', password: ' p ' }, { defaultPorts: '', running: { scanId: 'old', at: T0 - 20 * 60 * 1000 }, now: T0 });
    assert.ok(c.ok);
    if (c.ok) assert.deepEqual(c.request, { target: '127', ports: '1883', username: 'u', password: ' p ', listen: 0, writeTest: false, sendCredentialsPlaintext: false, tryDefaults: false, ca: '' });
    const none = checkScanForm(null, { defaultPorts: '', now: T0 });
    assert.deepEqual(none, { ok: false, message: 'Target: enter an address, a range or a network, e.g. 127.0.0.1 or 127.0.0.0/29.', refill: { target: '', ports: '1883,8883', username: '', password: '', listen: 10, writeTest: false, sendCredentialsPlaintext: false, tryDefaults: false, ca: '' } });
  });

  it('progress: start, complete and reports of the running scan only; never changes the stored state it was given', () => {
    const start = nextProgress(undefined, { topic: 'start', payload: { scanId: 'a', target: 't', ports: 'p', listen: 3, writeTest: true, withLogin: false } }, T0)!;
    assert.deepEqual(start, { state: 'running', phase: 0, text: 'Expanding targets…', scanId: 'a', target: 't', ports: 'p', listen: 3, writeTest: true, withLogin: false, startedAt: T0 });
    const frozen = Object.freeze({ ...start, notice: 'old' });
    const other = nextProgress(frozen, { topic: 'complete', payload: { scanId: 'b' } }, T0);
    assert.equal(other, null, 'another scan\'s completion is not an event of this panel');
    assert.equal(frozen.notice, 'old');
    const complete = nextProgress(start, { topic: 'complete', payload: { scanId: 'a', cancelled: false, brokers: 0, worst: null } }, T0)!;
    assert.deepEqual([complete.phase, complete.text, complete.brokers, complete.worst], [5, 'Writing the reports…', 0, null]);
    const done = nextProgress(complete, { topic: 'reports', payload: { scanId: 'a' } }, T0 + 61_060)!;
    assert.deepEqual([done.state, done.seconds], ['done', '61.1']);
    assert.equal(nextProgress(done, { topic: 'cancel' }, T0), null, 'no cancel after the end');
    // One figure (issue 18): the completion's durationMs (the whole scan, what the PDF and the
    // overview say), not the time the reports took on top of it.
    const timed = nextProgress(start, { topic: 'complete', payload: { scanId: 'a', cancelled: false, brokers: 1, worst: 'LOW', durationMs: 10_140 } }, T0)!;
    assert.equal(nextProgress(timed, { topic: 'reports', payload: { scanId: 'a' } }, T0 + 10_600)!.seconds, '10.1');
  });

  it('the detail says what changed since the previous scan of the broker (issue 18), from payload.changes, bounded', () => {
    const r = { ...classifyResult(hardened()), changes: { status: 'changed', previous: { scanId: '3f1c2a9e-aaaa' }, resolved: ['ANONYMOUS_ACCESS', 'PLAINTEXT_TRANSPORT'], unchecked: [], new: [], riskBefore: 'CRITICAL', riskAfter: 'LOW', scoreBefore: 0, scoreAfter: 100, certificateChanged: false } } as unknown as ScanResult;
    assert.equal(brokerDetail(keepResult(r)).since, 'Since the previous scan (3f1c2a9e): resolved ANONYMOUS_ACCESS, PLAINTEXT_TRANSPORT; risk CRITICAL 0 -> LOW 100');
    assert.equal(brokerDetail(keepResult(classifyResult(hardened()))).since, null, 'no previous scan known');
    const forged = { ...classifyResult(hardened()), changes: { status: 'changed', previous: { scanId: 'x' }, resolved: Array.from({ length: 500 }, (_, i) => `X${i}`.repeat(20)), new: 'x' } } as unknown as ScanResult;
    assert.ok(brokerDetail(keepResult(forged)).since!.length <= 640);
    assert.equal(brokerDetail(keepResult({ ...classifyResult(hardened()), changes: { status: '<b>' } } as unknown as ScanResult)).since, null);
    // The first scan of a broker has nothing to compare with: no line (not "new broker").
    assert.equal(brokerDetail(keepResult({ ...classifyResult(hardened()), changes: { status: 'appeared', previous: null, resolved: [], new: [], unchecked: [] } } as unknown as ScanResult)).since, null);
  });

  it('the scan\'s duration is its summary\'s (expander to the end of listening), else the time since the form was sent', () => {
    const scan = { scanId: 'a', startedAt: new Date(T0).toISOString(), results: {}, complete: false } as unknown as CurrentScan;
    const e = completeScan(scan, { scanId: 'a', targets: 2, durationMs: 10_140 }, T0 + 10_600);
    assert.equal(scan.durationMs, 10_140);
    assert.equal(e.payload.durationMs, 10_140);
    const old = { scanId: 'b', startedAt: new Date(T0).toISOString(), results: {}, complete: false } as unknown as CurrentScan;
    completeScan(old, { scanId: 'b', targets: 2 }, T0 + 10_600);
    assert.equal(old.durationMs, 10_600, 'a summary without durationMs (a flow without a probe upstream)');
  });

  it('live values: an LDR\'s percent is its light; other sensors\' percent is not', () => {
    const other = liveValues({ topic: 'x', sensor: 'numeric', values: { percent: 12 } }, {}, T0);
    assert.equal(other, null);
    const prev = { humidity: { value: '40 %', topic: 'h', at: 'then' } };
    const got = liveValues({ topic: 'l', sensor: 'x', values: { light: 7 } }, prev, T0)!;
    assert.deepEqual(Object.keys(got.tiles), ['humidity', 'light']);
    assert.deepEqual(Object.keys(prev), ['humidity'], 'the tiles given are not changed');
  });
});
