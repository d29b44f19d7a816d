// Issue 16, first kind: a broker that refuses the filter '#' (and '$SYS/#') but not the data
// under it, as EMQX's default ACL does. The listener reads every SUBACK code, subscribes '+/#' (and
// '$SYS/+/#') in place of a refused filter, and says so in topics.subscriptions and topics.note.
// Real brokers: aedes with an authorizeSubscribe hook (3.1.1), Mosquitto 2.0 with its dynamic
// security plugin (5.0 and 3.1.1; acl_file cannot refuse a SUBSCRIBE, see dynamicSecurityPlugin).
import { strict as assert } from 'node:assert';
import mqtt, { type MqttClient } from 'mqtt';
import { sniffBroker, type SniffResult } from '../../lib/sniff';
import { fallbackFilter, subscriptionNote } from '../../lib/sniff/subscribe';
import { classifyResult } from '../../lib/risk';
import type { ScanResult, TopicItem } from '../../lib/types';
import { startAedes, type AedesBroker } from '../support/aedes';
import { dynamicSecurityPlugin, startMosquitto, type MosquittoBroker } from '../support/mosquitto';
import { requireTool } from '../support/tools';

const LOCAL = '127.0.0.1';
const PLC_PASSWORD = 'Pl4nt-Fl00r-77';
/** Retained topics under two different first levels. */
const RETAINED: Array<[string, string]> = [
  ['factory/press1/config', JSON.stringify({ plc: '10.0.4.21', user: 'admin', password: PLC_PASSWORD })],
  ['home/kitchen/temperature', '21.5'],
];
const byTopic = (items: TopicItem[]) => new Map(items.map((i) => [i.topic, i]));
/** EMQX's default ACL: deny subscribing exactly '#' and '$SYS/#', allow everything else. */
const EMQX_DEFAULT_DENY = new Set(['#', '$SYS/#']);

async function publishRetained(port: number, protocolVersion: 4 | 5): Promise<void> {
  const pub: MqttClient = await mqtt.connectAsync({ host: LOCAL, port, reconnectPeriod: 0, connectTimeout: 5000, protocolVersion });
  try {
    for (const [topic, payload] of RETAINED) await pub.publishAsync(topic, payload, { qos: 1, retain: true });
  } finally {
    await pub.endAsync();
  }
}

/** Both retained topics listed as retained; the PLC password flagged and never in the result. */
function assertBothRetained(r: SniffResult): void {
  const t = byTopic(r.items);
  for (const [topic] of RETAINED) assert.equal(t.get(topic)?.retained, true, `${topic} listed as retained: ${JSON.stringify(r.items.map((i) => i.topic))}`);
  assert.deepEqual(t.get('factory/press1/config')!.sensitive, ['credential']);
  assert.ok(!JSON.stringify(r).includes(PLC_PASSWORD), 'the password never leaves');
}

/** The anonymous findings the topics give (retained data readable anonymously). */
function findingIds(r: SniffResult, version: '5.0' | '3.1.1'): string[] {
  const result = {
    scanId: 'x', host: LOCAL, port: 1883, reachability: 'open', transport: 'tcp', classification: 'open_or_auth_ok', mqtt: { versions: { [version]: 'supported' } },
    auth: { anonymous: { outcome: 'accepted', version }, wrongCredentials: { outcome: 'accepted' }, givenCredentials: { outcome: 'not_tested' } }, error: null,
  } as unknown as ScanResult;
  return classifyResult({ ...result, topics: r }).findings.map((f) => f.id);
}

describe('sniff: a refused wildcard filter and its fallback', function () {
  this.timeout(30_000);

  it('the fallback of a filter whose last level is #: the same topics through a filter an ACL may not name', () => {
    const cases: Array<[string, string | null]> = [
      ['#', '+/#'],
      ['$SYS/#', '$SYS/+/#'],
      ['factory/#', 'factory/+/#'],
      ['a/+/#', 'a/+/+/#'],
      ['/#', '/+/#'],
      ['+/#', '+/+/#'],
      ['factory/+', null],
      ['factory/press1/config', null],
      ['+', null],
    ];
    for (const [filter, fallback] of cases) assert.equal(fallbackFilter(filter), fallback, filter);
    assert.equal(subscriptionNote([{ filter: '#', granted: true, code: 1 }], true), null, 'nothing refused, no note');
  });

  describe('aedes (MQTT 3.1.1) refusing what EMQX\'s default ACL refuses', () => {
    let broker: AedesBroker;
    let deny = EMQX_DEFAULT_DENY;
    before(async () => {
      broker = await startAedes({ authorizeSubscribe: (filter) => !deny.has(filter) });
      await publishRetained(broker.port, 4);
    });
    afterEach(() => {
      deny = EMQX_DEFAULT_DENY;
    });
    after(() => broker?.stop());

    it("'#' and '$SYS/#' refused with SUBACK 0x80: '+/#' and '$SYS/+/#' in their place, both retained trees listed, no error", async () => {
      const r = await sniffBroker({ host: LOCAL, port: broker.port }, { transport: 'tcp', version: '3.1.1', listenMs: 500 });
      assert.equal(r.error, null);
      assert.deepEqual(r.subscriptions, [
        { filter: '#', granted: false, code: 0x80 },
        { filter: '+/#', granted: true, code: 1, replaces: '#' },
        { filter: '$SYS/#', granted: false, code: 0x80 },
        { filter: '$SYS/+/#', granted: true, code: 1, replaces: '$SYS/#' },
      ]);
      assertBothRetained(r);
      assert.equal(r.note, "The broker's SUBACKs: '#' was refused (SUBACK 0x80 Failure); '+/#' was granted in its place (the same topics); " +
        "'$SYS/#' was refused (SUBACK 0x80 Failure); '$SYS/+/#' was granted in its place (every topic below $SYS).");
      assert.ok(findingIds(r, '3.1.1').includes('RETAINED_DATA_EXPOSED'), 'the retained data is a finding');
    });

    it("with a login: NO_TOPIC_ACL names the filter that read the data, '+/#' in place of the refused '#'", async () => {
      const r = await sniffBroker({ host: LOCAL, port: broker.port }, { transport: 'tcp', version: '3.1.1', listenMs: 300, credentials: { username: 'scanner', password: 'any' } });
      assert.equal(r.as, 'given credentials');
      assertBothRetained(r);
      const result = {
        scanId: 'x', host: LOCAL, port: broker.port, reachability: 'open', transport: 'tcp', classification: 'open_or_auth_ok', mqtt: { versions: { '3.1.1': 'supported' } },
        auth: { anonymous: { outcome: 'rejected', code: 5 }, wrongCredentials: { outcome: 'rejected', code: 4 }, givenCredentials: { outcome: 'accepted', version: '3.1.1' } }, error: null,
      } as unknown as ScanResult;
      const noAcl = classifyResult({ ...result, topics: r }).findings.find((f) => f.id === 'NO_TOPIC_ACL');
      assert.ok(noAcl, 'two unrelated trees read with one login');
      assert.match(noAcl.evidence, /^Subscribed to '\+\/#' \(in place of the refused '#'\) with the given login, we received 2 topic\(s\) across 2 unrelated trees/);
    });

    it("a user's own '#'-like filter gets the same fallback", async () => {
      deny = new Set(['factory/#']);
      const r = await sniffBroker({ host: LOCAL, port: broker.port }, { transport: 'tcp', version: '3.1.1', listenMs: 300, subscriptions: ['factory/#'] });
      assert.equal(r.error, null);
      assert.deepEqual(r.subscriptions, [
        { filter: 'factory/#', granted: false, code: 0x80 },
        { filter: 'factory/+/#', granted: true, code: 1, replaces: 'factory/#' },
      ]);
      assert.deepEqual(r.items.map((i) => [i.topic, i.retained]), [['factory/press1/config', true]]);
    });

    it('a refused fallback is reported as refused; when every filter is refused, the error says so', async () => {
      deny = new Set(['#', '+/#']);
      const some = await sniffBroker({ host: LOCAL, port: broker.port }, { transport: 'tcp', version: '3.1.1', listenMs: 300 });
      assert.deepEqual(some.subscriptions!.slice(0, 2), [
        { filter: '#', granted: false, code: 0x80 },
        { filter: '+/#', granted: false, code: 0x80, replaces: '#' },
      ]);
      assert.equal(some.subscriptions![2].granted, true, '$SYS/# granted');
      assert.equal(some.count, 0);
      assert.match(some.note!, /'#' was refused \(SUBACK 0x80 Failure\), and '\+\/#' in its place too \(SUBACK 0x80 Failure\)/);
      assert.equal(some.error, null, '$SYS/# was granted: listening worked');

      deny = new Set(['#', '+/#', '$SYS/#', '$SYS/+/#']);
      const none = await sniffBroker({ host: LOCAL, port: broker.port }, { transport: 'tcp', version: '3.1.1', listenMs: 200 });
      assert.equal(none.subscriptions!.length, 4);
      assert.ok(none.subscriptions!.every((s) => !s.granted && s.code === 0x80));
      assert.match(none.error!, /^the broker refused every subscription \('#' SUBACK 0x80 Failure, '\+\/#' SUBACK 0x80 Failure, /);
    });
  });

  describe('Mosquitto 2.0 with a dynamic security ACL that refuses exactly # and $SYS/#', () => {
    let broker: MosquittoBroker;
    before(async function () {
      requireTool(this, 'mosquitto');
      const plugin = dynamicSecurityPlugin();
      if (!plugin) {
        if (process.env.CI === 'true') throw new Error('mosquitto_dynamic_security.so is not installed (CI=true, so this is a failure): apt-get install mosquitto');
        console.warn('\n  SKIPPED: mosquitto_dynamic_security.so not found (it ships with the mosquitto package)\n');
        this.skip();
      }
      // Anonymous clients get the role "emqx-default": subscribeLiteral compares the filter as
      // sent, so only '#' and '$SYS/#' themselves are refused; everything else is allowed.
      const dynsec = {
        defaultACLAccess: { publishClientSend: true, publishClientReceive: true, subscribe: true, unsubscribe: true },
        clients: [],
        groups: [{ groupname: 'anonymous', roles: [{ rolename: 'emqx-default' }] }],
        roles: [{ rolename: 'emqx-default', acls: [...EMQX_DEFAULT_DENY].map((topic) => ({ acltype: 'subscribeLiteral', topic, priority: 0, allow: false })) }],
        anonymousGroup: 'anonymous',
      };
      broker = await startMosquitto(
        { conf: `listener 1883\nallow_anonymous true\nplugin ${plugin}\nplugin_opt_config_file dynsec.json\n` },
        { files: { 'dynsec.json': JSON.stringify(dynsec) } },
      );
      await publishRetained(broker.port, 5);
    });
    after(() => broker?.stop());

    for (const [version, code] of [['5.0', 0x87], ['3.1.1', 0x80]] as const) {
      it(`MQTT ${version}: SUBACK 0x${code.toString(16)} for '#' and '$SYS/#', the fallbacks granted, both retained trees and $SYS read`, async () => {
        const r = await sniffBroker({ host: LOCAL, port: broker.port }, { transport: 'tcp', version, listenMs: 500 });
        assert.equal(r.error, null);
        assert.deepEqual(r.subscriptions, [
          { filter: '#', granted: false, code },
          { filter: '+/#', granted: true, code: 1, replaces: '#' },
          { filter: '$SYS/#', granted: false, code },
          { filter: '$SYS/+/#', granted: true, code: 1, replaces: '$SYS/#' },
        ]);
        assertBothRetained(r);
        const name = version === '5.0' ? 'SUBACK 0x87 Not authorized' : 'SUBACK 0x80 Failure';
        assert.ok(r.note!.startsWith(`The broker's SUBACKs: '#' was refused (${name}); '+/#' was granted in its place`), r.note);
        assert.match(String((r.sys as Record<string, unknown>).version), /^mosquitto version 2\./, '$SYS read through $SYS/+/#');
        assert.ok(findingIds(r, version).includes('RETAINED_DATA_EXPOSED'));
      });
    }
  });
});
