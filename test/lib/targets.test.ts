// lib/targets: target specs -> host:port stream, scope policy, limits.
// No test sends a packet: hostnames go through an injected resolver (only 'localhost' is real).

import assert from 'node:assert/strict';
import {
  DEFAULT_MAX_TARGETS,
  DEFAULT_PORTS,
  checkAddressScope,
  describeScope,
  parsePorts,
  planTargets,
  scopedHost,
  TargetError,
  type TargetOptions,
  type TargetPlan,
} from '../../lib/targets';
import { cidrInterval, formatKey, parseAddress, V6_BASE } from '../../lib/targets/address';
import type { Target } from '../../lib/types';
import { collapseIPv6Number, IPv4, IPv4CidrRange, IPv4Prefix, IPv6, IPv6CidrRange, IPv6Prefix, Validator } from 'ip-num';

const fmt = (t: Target): string => (t.host.includes(':') ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`);

/** A resolver that knows a few lab names and records what it was asked. */
function fakeResolver(table: Record<string, string[]>, asked: string[] = []): (name: string) => Promise<string[]> {
  return async (name) => {
    asked.push(name);
    const found = table[name];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return found;
  };
}

const LAB: TargetOptions['resolve'] = fakeResolver({
  'broker.lab': ['127.0.0.2', '::1'],
  'twice.lab': ['127.0.0.9', '127.0.0.9'],
  'public.lab': ['8.8.8.8'],
  'empty.lab': [],
  'garbage.lab': ['not-an-ip'],
});

function first(plan: TargetPlan, n: number): string[] {
  const out: string[] = [];
  const it = plan[Symbol.iterator]();
  for (let r = it.next(); !r.done && out.length < n; r = it.next()) out.push(fmt(r.value));
  return out;
}

function all(plan: TargetPlan): string[] {
  return Array.from({ [Symbol.iterator]: () => plan[Symbol.iterator]() }, fmt);
}

async function rejection(promise: Promise<unknown>): Promise<TargetError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof TargetError, `expected a TargetError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a TargetError, got a plan');
}

function sync(fn: () => unknown): TargetError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TargetError, `expected a TargetError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a TargetError');
}

/** The message starts with the quoted token, cut to 60 characters + '…' when long, control characters escaped. */
function assertNamesToken(err: TargetError, token: string): void {
  assert.equal(err.token, token);
  const cut = token.length > 64 ? `${token.slice(0, 60)}…` : token;
  // eslint-disable-next-line no-control-regex
  const shown = cut.replace(/[\u0000-\u001f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  assert.ok(err.message.startsWith(`"${shown}": `), `message should start with the token: ${err.message}`);
}

describe('lib/targets', () => {
  describe('planTargets: good specs', () => {
    // Address arithmetic only: planTargets sends no packet, so private ranges appear here as
    // strings; nothing in this file connects anywhere.
    const P1 = { ports: 1883 };
    const cases: {
      spec: string | string[];
      opts?: TargetOptions;
      count: number;
      first: string[];
      last?: string;
      specs?: string[];
    }[] = [
      { spec: '127.0.0.1', count: 2, first: ['127.0.0.1:1883', '127.0.0.1:8883'], last: '127.0.0.1:8883' },
      { spec: '127.0.0.1', opts: P1, count: 1, first: ['127.0.0.1:1883'], last: '127.0.0.1:1883' },
      { spec: '127.0.0.1', opts: { ports: '1883-1885' }, count: 3, first: ['127.0.0.1:1883', '127.0.0.1:1884'], last: '127.0.0.1:1885' },
      {
        spec: '192.168.1.0/30',
        count: 8,
        first: ['192.168.1.0:1883', '192.168.1.0:8883', '192.168.1.1:1883'],
        last: '192.168.1.3:8883',
      },
      { spec: '10.0.0.5/24', opts: P1, count: 256, first: ['10.0.0.0:1883', '10.0.0.1:1883'], last: '10.0.0.255:1883', specs: ['10.0.0.0/24'] },
      { spec: '10.0.0.0/255.255.255.0', opts: P1, count: 256, first: ['10.0.0.0:1883'], last: '10.0.0.255:1883', specs: ['10.0.0.0/24'] },
      { spec: '10.0.0.1/255.255.255.255', opts: P1, count: 1, first: ['10.0.0.1:1883'], specs: ['10.0.0.1/32'] },
      { spec: '10.0.0.1-10.0.0.20', opts: P1, count: 20, first: ['10.0.0.1:1883', '10.0.0.2:1883'], last: '10.0.0.20:1883' },
      { spec: '10.0.0.1-254', opts: P1, count: 254, first: ['10.0.0.1:1883'], last: '10.0.0.254:1883', specs: ['10.0.0.1-10.0.0.254'] },
      { spec: '10.0.0.250-10.0.1.2', opts: P1, count: 9, first: ['10.0.0.250:1883'], last: '10.0.1.2:1883' },
      { spec: '127.0.0.1/32', opts: P1, count: 1, first: ['127.0.0.1:1883'] },
      {
        spec: '172.16.0.0/12',
        opts: { ports: 1883, maxTargets: 2 ** 20 },
        count: 1_048_576,
        first: ['172.16.0.0:1883', '172.16.0.1:1883'],
      },
      { spec: '::1', count: 2, first: ['[::1]:1883', '[::1]:8883'], last: '[::1]:8883', specs: ['::1'] },
      { spec: '[::1]', opts: P1, count: 1, first: ['[::1]:1883'], specs: ['::1'] },
      { spec: 'fd00::/120', opts: P1, count: 256, first: ['[fd00::]:1883', '[fd00::1]:1883'], last: '[fd00::ff]:1883' },
      { spec: '[fd00::]/112', opts: P1, count: 65_536, first: ['[fd00::]:1883'], last: '[fd00::ffff]:1883', specs: ['fd00::/112'] },
      {
        spec: 'FD00:0:0:0:0:0:0:0010-fd00::12',
        opts: P1,
        count: 3,
        first: ['[fd00::10]:1883', '[fd00::11]:1883', '[fd00::12]:1883'],
        specs: ['fd00::10-fd00::12'],
      },
      { spec: 'fd00::ffff-fd00::1:1', opts: P1, count: 3, first: ['[fd00::ffff]:1883', '[fd00::1:0]:1883', '[fd00::1:1]:1883'] },
      { spec: 'fe80::1', opts: P1, count: 1, first: ['[fe80::1]:1883'] },
      { spec: '::ffff:127.0.0.1', opts: P1, count: 1, first: ['[::ffff:127.0.0.1]:1883'] },
      {
        spec: '127.0.0.0/30, !127.0.0.1',
        opts: P1,
        count: 3,
        first: ['127.0.0.0:1883', '127.0.0.2:1883', '127.0.0.3:1883'],
        specs: ['127.0.0.0/30', '!127.0.0.1'],
      },
      { spec: '!127.0.0.1 127.0.0.0/30', opts: P1, count: 3, first: ['127.0.0.0:1883', '127.0.0.2:1883'] },
      { spec: '127.0.0.0/29 !127.0.0.0/30', opts: P1, count: 4, first: ['127.0.0.4:1883'], last: '127.0.0.7:1883' },
      { spec: '127.0.0.1-5 !127.0.0.2-3', opts: P1, count: 3, first: ['127.0.0.1:1883', '127.0.0.4:1883', '127.0.0.5:1883'] },
      {
        spec: '127.0.0.4/30, 127.0.0.0/29',
        opts: P1,
        count: 8,
        first: ['127.0.0.4:1883', '127.0.0.5:1883', '127.0.0.6:1883', '127.0.0.7:1883', '127.0.0.0:1883'],
        last: '127.0.0.3:1883',
      },
      { spec: '127.0.0.1 127.0.0.1,127.0.0.1', opts: P1, count: 1, first: ['127.0.0.1:1883'], specs: ['127.0.0.1'] },
      { spec: '127.0.0.1\n127.0.0.2,\t127.0.0.3\r\n', opts: P1, count: 3, first: ['127.0.0.1:1883', '127.0.0.2:1883'], last: '127.0.0.3:1883' },
      { spec: ['127.0.0.1', '127.0.0.2 127.0.0.3'], opts: P1, count: 3, first: ['127.0.0.1:1883'], last: '127.0.0.3:1883' },
      { spec: '::1, 127.0.0.1', opts: P1, count: 2, first: ['[::1]:1883', '127.0.0.1:1883'] },
      { spec: '100.64.0.1', opts: P1, count: 1, first: ['100.64.0.1:1883'] },
      { spec: '169.254.1.1', opts: P1, count: 1, first: ['169.254.1.1:1883'] },
      { spec: '10.0.0.1', opts: P1, count: 1, first: ['10.0.0.1:1883'] },
      {
        spec: 'broker.lab',
        opts: { resolve: LAB },
        count: 4,
        first: ['127.0.0.2:1883', '127.0.0.2:8883', '[::1]:1883'],
        last: '[::1]:8883',
        specs: ['broker.lab'],
      },
      { spec: 'twice.lab', opts: { ports: 1883, resolve: LAB }, count: 1, first: ['127.0.0.9:1883'] },
      { spec: 'broker.lab, !::1', opts: { ports: 1883, resolve: LAB }, count: 1, first: ['127.0.0.2:1883'] },
      { spec: '8.8.8.8', opts: { ports: 1883, allowPublic: true }, count: 1, first: ['8.8.8.8:1883'] },
      // Multicast inside a larger range is skipped (allowPublic), not refused.
      {
        spec: '223.255.255.254-224.0.0.1',
        opts: { ports: 1883, allowPublic: true },
        count: 2,
        first: ['223.255.255.254:1883', '223.255.255.255:1883'],
        last: '223.255.255.255:1883',
      },
      {
        spec: '0.0.0.0/0',
        opts: { ports: 1883, allowPublic: true, maxTargets: Infinity },
        count: 2 ** 32 - 2 ** 24 - 2 ** 28 - 2 ** 28,
        first: ['1.0.0.0:1883', '1.0.0.1:1883'],
      },
      {
        spec: '10.0.0.0/8',
        opts: { maxTargets: 2 ** 26 },
        count: 2 ** 25,
        first: ['10.0.0.0:1883', '10.0.0.0:8883', '10.0.0.1:1883'],
      },
      // Edges of the parser (ip-num) and of the block and interval arithmetic (ours).
      { spec: '::1/128', opts: P1, count: 1, first: ['[::1]:1883'], last: '[::1]:1883', specs: ['::1/128'] },
      { spec: '127.0.0.9/32', opts: P1, count: 1, first: ['127.0.0.9:1883'], specs: ['127.0.0.9/32'] },
      {
        spec: '10.0.0.0/0.0.0.0',
        opts: { ports: 1883, allowPublic: true, maxTargets: Infinity },
        count: 2 ** 32 - 2 ** 24 - 2 ** 28 - 2 ** 28,
        first: ['1.0.0.0:1883'],
        specs: ['0.0.0.0/0'],
      },
      {
        spec: '::ffff:127.0.0.0/120',
        opts: P1,
        count: 256,
        first: ['[::ffff:127.0.0.0]:1883', '[::ffff:127.0.0.1]:1883'],
        last: '[::ffff:127.0.0.255]:1883',
        specs: ['::ffff:127.0.0.0/120'],
      },
      { spec: '::ffff:7f00:2', opts: P1, count: 1, first: ['[::ffff:127.0.0.2]:1883'], specs: ['::ffff:127.0.0.2'] },
      { spec: 'fd00::0001', opts: P1, count: 1, first: ['[fd00::1]:1883'], specs: ['fd00::1'] },
      { spec: '10.0.255.255-10.1.0.1', opts: P1, count: 3, first: ['10.0.255.255:1883', '10.1.0.0:1883'], last: '10.1.0.1:1883' },
      { spec: '10.0.0.0/23 !10.0.0.255-10.0.1.0', opts: P1, count: 510, first: ['10.0.0.0:1883'], last: '10.0.1.255:1883' },
      {
        spec: '223.255.255.250-255.255.255.255',
        opts: { ports: 1883, allowPublic: true },
        count: 6,
        first: ['223.255.255.250:1883'],
        last: '223.255.255.255:1883',
      },
      { spec: 'fd00::-fd00::ffff', opts: P1, count: 65_536, first: ['[fd00::]:1883'], last: '[fd00::ffff]:1883' },
      { spec: 'fd00::/112 !fd00::8000/113', opts: P1, count: 32_768, first: ['[fd00::]:1883'], last: '[fd00::7fff]:1883' },
      // Exclusions may be any size, up to all of IPv6.
      { spec: '127.0.0.1 fd00::/120 !fd00::/8', opts: P1, count: 1, first: ['127.0.0.1:1883'], last: '127.0.0.1:1883' },
      { spec: '127.0.0.1 ::1 !::/0', opts: P1, count: 1, first: ['127.0.0.1:1883'], last: '127.0.0.1:1883' },
    ];

    for (const c of cases) {
      it(`${JSON.stringify(c.spec)} ${c.opts ? JSON.stringify({ ...c.opts, resolve: undefined }) : ''} -> ${c.count}`, async () => {
        const plan = await planTargets(c.spec, c.opts);
        assert.equal(plan.count, c.count);
        assert.equal(plan.count, plan.hostCount * plan.ports.length);
        assert.deepEqual(first(plan, c.first.length), c.first);
        if (c.specs) assert.deepEqual(plan.specs, c.specs);
        if (c.last !== undefined) {
          const everything = all(plan);
          assert.equal(everything.length, c.count, 'count matches what iteration produces');
          assert.equal(everything[everything.length - 1], c.last);
          assert.equal(new Set(everything).size, everything.length, 'no duplicates');
        }
      });
    }

    it('uses DEFAULT_PORTS and DEFAULT_MAX_TARGETS by default', async () => {
      const plan = await planTargets('127.0.0.1');
      assert.deepEqual(plan.ports, DEFAULT_PORTS);
      assert.deepEqual(DEFAULT_PORTS, [1883, 8883]);
      assert.equal(DEFAULT_MAX_TARGETS, 65536);
      await planTargets('127.0.0.0/17', { ports: 1883 }); // exactly 32,768
      const err = await rejection(planTargets('127.0.0.0/16')); // 131,072 > 65,536
      assert.equal(err.code, 'limit');
    });

    it('reports normalized specs, deduplicated, in input order', async () => {
      const plan = await planTargets('127.0.0.7/24 !127.0.0.5 [::1] 127.0.0.0/24', { ports: 1883 });
      assert.deepEqual(plan.specs, ['127.0.0.0/24', '!127.0.0.5', '::1']);
      assert.equal(plan.hostCount, 256);
      assert.deepEqual(JSON.parse(JSON.stringify(plan)), { count: 256, hostCount: 256, ports: [1883], specs: plan.specs });
    });
  });

  describe('planTargets: bad specs', () => {
    const broker = { resolve: LAB };
    const longInput = '127.0.0.1,'.repeat(10_001);
    const cases: { spec: string | string[]; code: TargetError['code']; token: string; opts?: TargetOptions }[] = [
      { spec: '', code: 'empty', token: '' },
      { spec: '   ', code: 'empty', token: '' },
      { spec: ' ,\n\t, ', code: 'empty', token: '' },
      { spec: [], code: 'empty', token: '' },
      { spec: '/0', code: 'syntax', token: '/0' },
      { spec: '0.0.0.0/0', code: 'scope', token: '0.0.0.0/0' },
      { spec: '999.1.1.1', code: 'range', token: '999.1.1.1' },
      { spec: '1.2.3', code: 'syntax', token: '1.2.3' },
      { spec: '1.2.3.4.5', code: 'syntax', token: '1.2.3.4.5' },
      { spec: '1..2.3', code: 'syntax', token: '1..2.3' },
      { spec: '010.0.0.1', code: 'syntax', token: '010.0.0.1' },
      { spec: '10.0.0.0/33', code: 'range', token: '10.0.0.0/33' },
      { spec: '10.0.0.0/-1', code: 'range', token: '10.0.0.0/-1' },
      { spec: '10.0.0.0/abc', code: 'syntax', token: '10.0.0.0/abc' },
      { spec: '10.0.0.0/', code: 'syntax', token: '10.0.0.0/' },
      { spec: '10.0.0.1/24/8', code: 'syntax', token: '10.0.0.1/24/8' },
      { spec: '10.0.0.0/255.0.255.0', code: 'syntax', token: '10.0.0.0/255.0.255.0' },
      { spec: '10.0.0.0/255.255.256.0', code: 'range', token: '10.0.0.0/255.255.256.0' },
      { spec: 'fd00::/129', code: 'range', token: 'fd00::/129' },
      { spec: '10.0.0.9-10.0.0.1', code: 'range', token: '10.0.0.9-10.0.0.1' },
      { spec: '10.0.0.5-2', code: 'range', token: '10.0.0.5-2' },
      { spec: '10.0.0.1-256', code: 'range', token: '10.0.0.1-256' },
      { spec: '10.0.0.1-10.0.1', code: 'syntax', token: '10.0.0.1-10.0.1' },
      { spec: '10.0.0.1-::1', code: 'syntax', token: '10.0.0.1-::1' },
      { spec: '::1-10.0.0.1', code: 'syntax', token: '::1-10.0.0.1' },
      { spec: '-', code: 'syntax', token: '-' },
      { spec: 'fd00::/64', code: 'limit', token: 'fd00::/64' },
      { spec: 'fd00::1-fd00::1:1', code: 'limit', token: 'fd00::1-fd00::1:1' },
      { spec: '1::2::3', code: 'syntax', token: '1::2::3' },
      { spec: '1:2:3:4:5:6:7', code: 'syntax', token: '1:2:3:4:5:6:7' },
      { spec: 'fd00::12345', code: 'syntax', token: 'fd00::12345' },
      { spec: '[::1', code: 'syntax', token: '[::1' },
      { spec: '[127.0.0.1]', code: 'syntax', token: '[127.0.0.1]' },
      { spec: 'fe80::1%eth0', code: 'syntax', token: 'fe80::1%eth0' },
      { spec: '127.0.0.1:1883', code: 'syntax', token: '127.0.0.1:1883' },
      { spec: '8.8.8.8', code: 'scope', token: '8.8.8.8' },
      { spec: '172.32.0.1', code: 'scope', token: '172.32.0.1' },
      { spec: '127.0.0.1, 10.0.0.0/8, 192.169.0.1', code: 'scope', token: '192.169.0.1', opts: { maxTargets: 2 ** 26 } },
      { spec: '2001:db8::1', code: 'scope', token: '2001:db8::1' },
      { spec: '::ffff:8.8.8.8', code: 'scope', token: '::ffff:8.8.8.8' },
      { spec: '0.0.0.0', code: 'scope', token: '0.0.0.0', opts: { allowPublic: true } },
      { spec: '224.0.0.1', code: 'scope', token: '224.0.0.1', opts: { allowPublic: true } },
      { spec: '239.0.0.0/8', code: 'scope', token: '239.0.0.0/8', opts: { allowPublic: true } },
      { spec: '255.255.255.255', code: 'scope', token: '255.255.255.255', opts: { allowPublic: true } },
      { spec: '::', code: 'scope', token: '::', opts: { allowPublic: true } },
      { spec: 'ff02::1', code: 'scope', token: 'ff02::1', opts: { allowPublic: true } },
      { spec: '127.0.0.1;rm -rf /', code: 'syntax', token: '127.0.0.1;rm' },
      { spec: "' OR 1=1 --", code: 'syntax', token: "'" },
      { spec: '$(reboot)', code: 'syntax', token: '$(reboot)' },
      { spec: '`reboot`', code: 'syntax', token: '`reboot`' },
      { spec: '<script>', code: 'syntax', token: '<script>' },
      { spec: '127.0.0.1|nc', code: 'syntax', token: '127.0.0.1|nc' },
      { spec: 'a\u0000b', code: 'syntax', token: 'a\u0000b' },
      { spec: 'ｌｏｃａｌｈｏｓｔ', code: 'syntax', token: 'ｌｏｃａｌｈｏｓｔ' },
      { spec: 'x'.repeat(10_000), code: 'syntax', token: 'x'.repeat(10_000) },
      { spec: `${'a'.repeat(60)}.${'b'.repeat(70)}.lab`, code: 'syntax', token: `${'a'.repeat(60)}.${'b'.repeat(70)}.lab` },
      { spec: 'host..lab', code: 'syntax', token: 'host..lab' },
      { spec: '-bad.lab', code: 'syntax', token: '-bad.lab' },
      { spec: 'a.123', code: 'syntax', token: 'a.123' },
      { spec: '!', code: 'syntax', token: '!' },
      { spec: '!!127.0.0.1', code: 'syntax', token: '!!127.0.0.1' },
      { spec: '!127.0.0.1', code: 'empty', token: '!127.0.0.1' },
      { spec: '!127.0.0.1 !127.0.0.2', code: 'empty', token: '!127.0.0.1' },
      { spec: '127.0.0.1, !127.0.0.0/8', code: 'empty', token: '127.0.0.1' },
      { spec: '!10.0.0.0/33, 127.0.0.1', code: 'range', token: '!10.0.0.0/33' },
      { spec: longInput, code: 'limit', token: longInput },
      { spec: '10.0.0.0/8', code: 'limit', token: '10.0.0.0/8' },
      { spec: '10.0.0.01', code: 'syntax', token: '10.0.0.01' },
      { spec: '::ffff:127.0.0.01', code: 'syntax', token: '::ffff:127.0.0.01' },
      { spec: '::ffff:1.2.3.256', code: 'range', token: '::ffff:1.2.3.256' },
      { spec: '10.0.0.1-010', code: 'syntax', token: '10.0.0.1-010' },
      { spec: '10.0.0.0/255.255.255.1', code: 'syntax', token: '10.0.0.0/255.255.255.1' },
      { spec: '10.0.0.0/0.255.255.255', code: 'syntax', token: '10.0.0.0/0.255.255.255' },
      { spec: '10.0.0.0/255.255.255.0.0', code: 'syntax', token: '10.0.0.0/255.255.255.0.0' },
      { spec: '10.0.0.0/255.255.255.01', code: 'syntax', token: '10.0.0.0/255.255.255.01' },
      { spec: '256.0.0.0/8', code: 'range', token: '256.0.0.0/8' },
      { spec: '[fe80::1]/129', code: 'range', token: '[fe80::1]/129' },
      { spec: 'fd00::/111', code: 'limit', token: 'fd00::/111' },
      { spec: 'fd00::-fd00::1:0', code: 'limit', token: 'fd00::-fd00::1:0' },
      { spec: '::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', code: 'limit', token: '::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff' },
      { spec: '::/0', code: 'limit', token: '::/0' },
      { spec: '255.255.255.0/24', code: 'scope', token: '255.255.255.0/24', opts: { allowPublic: true } },
      { spec: ':::', code: 'syntax', token: ':::' },
      { spec: '1.2.3.4::', code: 'syntax', token: '1.2.3.4::' },
      { spec: '1:2:3:4:5:6:7:8::', code: 'syntax', token: '1:2:3:4:5:6:7:8::' },
      { spec: '1:2:3:4:5:6:7:1.2.3.4', code: 'syntax', token: '1:2:3:4:5:6:7:1.2.3.4' },
      { spec: '127.0.0.1', code: 'limit', token: '0', opts: { maxTargets: 0 } },
      { spec: '127.0.0.0/24', code: 'limit', token: '127.0.0.0/24', opts: { maxTargets: 511 } },
      { spec: '127.0.0.1', code: 'range', token: '70000', opts: { ports: '70000' } },
      { spec: 'nowhere.lab', code: 'resolve', token: 'nowhere.lab', opts: broker },
      { spec: '127.0.0.1 !gone.lab', code: 'resolve', token: '!gone.lab', opts: broker },
      { spec: 'empty.lab', code: 'resolve', token: 'empty.lab', opts: broker },
      { spec: 'garbage.lab', code: 'resolve', token: 'garbage.lab', opts: broker },
      { spec: 'public.lab', code: 'scope', token: 'public.lab', opts: broker },
    ];

    for (const c of cases) {
      const label = JSON.stringify(c.spec).slice(0, 50);
      it(`${label} -> ${c.code}`, async () => {
        const err = await rejection(planTargets(c.spec, { resolve: LAB, ...c.opts }));
        assert.equal(err.code, c.code, err.message);
        assertNamesToken(err, c.token);
        assert.equal(err.name, 'TargetError');
      });
    }

    it('says why, in words a user can act on', async () => {
      const msg = async (spec: string, opts?: TargetOptions): Promise<string> =>
        (await rejection(planTargets(spec, { resolve: LAB, ...opts }))).message;
      assert.equal(await msg('10.0.0.0/33'), '"10.0.0.0/33": prefix must be 0-32');
      assert.equal(await msg('999.1.1.1'), '"999.1.1.1": octet 999 out of 0-255');
      assert.equal(await msg('10.0.0.9-10.0.0.1'), '"10.0.0.9-10.0.0.1": range start is after its end');
      assert.equal(await msg('', {}), '"": no target was given');
      assert.match(await msg('010.0.0.1'), /leading zero/);
      assert.match(await msg('10.0.0.0/255.0.255.0'), /not contiguous/);
      assert.match(await msg('10.0.0.1-::1'), /IPv4 and IPv6/);
      assert.match(await msg('fd00::/64'), /65,536/);
      assert.match(await msg('8.8.8.8'), /allowPublic \(--allow-public\)/);
      assert.match(await msg('224.0.0.1', { allowPublic: true }), /multicast/);
      assert.match(await msg('255.255.255.255', { allowPublic: true }), /broadcast/);
      assert.match(await msg('127.0.0.1;rm'), /";" is not allowed/);
      assert.match(await msg('nowhere.lab'), /ENOTFOUND/);
      assert.match(await msg('!127.0.0.1'), /only exclusions/);
      assert.equal(
        await msg('10.0.0.0/8'),
        '"10.0.0.0/8": 16,777,216 hosts x 2 ports = 33,554,432 targets, more than maxTargets (65,536); ' +
          'raise maxTargets (--max-targets) to scan it',
      );
    });

    it('says why ip-num refused an address, in our words (ip-num only says "not a valid IPv6")', async () => {
      const why: [string, TargetError['code'], string][] = [
        ['1::2::3', 'syntax', 'not a valid IPv6 address: "::" may appear only once'],
        ['1:2:3:4:5:6:7', 'syntax', 'not a valid IPv6 address: 8 groups expected, found 7'],
        ['fd00::12345', 'syntax', 'not a valid IPv6 address: group "12345" is not 1-4 hex digits'],
        ['1:2:3:4:5:6:7:8::', 'syntax', 'not a valid IPv6 address: "::" must stand for at least one group'],
        ['fd00::1:2:3:4:5:6:7', 'syntax', 'not a valid IPv6 address: "::" must stand for at least one group'],
        ['::ffff:1.2.3.4:5', 'syntax', 'not a valid IPv6 address: an embedded IPv4 address must come last'],
        ['1.2.3.4::', 'syntax', 'not a valid IPv6 address: an embedded IPv4 address must come last'],
        [':1::', 'syntax', 'not a valid IPv6 address: empty group'],
        [':::', 'syntax', 'not a valid IPv6 address: empty group'],
        ['gggg::1', 'syntax', 'not a valid IPv6 address: unexpected character in "gggg::1"'],
        ['::ffff:1.2.3.256', 'range', 'octet 256 out of 0-255'],
        ['::ffff:127.0.0.01', 'syntax', 'octet 01 has a leading zero (octal or decimal?); write it without'],
        ['1.2.3', 'syntax', 'an IPv4 address has 4 octets, "1.2.3" has 3'],
        ['1..2.3', 'syntax', 'empty octet in "1..2.3"'],
        ['10.0.0.01', 'syntax', 'octet 01 has a leading zero (octal or decimal?); write it without'],
        ['10.0.0.1-010', 'syntax', 'octet 010 has a leading zero (octal or decimal?); write it without'],
        ['10.0.0.1-999', 'range', 'octet 999 out of 0-255'],
        ['10.0.0.0/255.255.256.0', 'range', 'octet 256 out of 0-255'],
        ['10.0.0.0/255.255.255.1', 'syntax', 'mask 255.255.255.1 is not contiguous (ones then zeros)'],
        ['10.0.0.0/0.255.255.255', 'syntax', 'mask 0.255.255.255 is not contiguous (ones then zeros)'],
        ['10.0.0.0/255.255.255.0.0', 'syntax', 'an IPv4 address has 4 octets, "255.255.255.0.0" has 5'],
        ['fd00::/111', 'limit', 'prefix /111 is too large for IPv6: at most 65,536 addresses (/112 or longer)'],
        ['fd00::-fd00::1:0', 'limit', 'this range is too large for IPv6: at most 65,536 addresses (/112 or longer)'],
      ];
      for (const [spec, code, detail] of why) {
        const err = await rejection(planTargets(spec));
        assert.deepEqual([err.code, err.message], [code, `"${spec}": ${detail}`], spec);
      }
    });

    it('refuses IPv6 zone ids, which ip-num would take', async () => {
      const zoned = 'fe80::1%eth0'; // node:net's isIP() takes it too, so scopedHost gets this far
      const detail = `"${zoned}": not a valid IPv6 address: zone ids (%...) are not supported`;
      assert.equal(sync(() => checkAddressScope(zoned, true)).message, detail);
      assert.equal((await rejection(scopedHost(zoned, { allowPublic: true }))).message, detail);
      assert.equal(sync(() => describeScope(zoned)).code, 'syntax');
    });

    it('names the spec that crosses the limit', async () => {
      const err = await rejection(planTargets('10.0.0.0/16, 192.168.0.0/16', { ports: 1883, maxTargets: 100_000 }));
      assertNamesToken(err, '192.168.0.0/16');
      assert.match(err.message, /131,072 hosts \(with 1 other spec\) x 1 port = 131,072 targets/);
    });

    it('escapes control characters in messages', async () => {
      const err = await rejection(planTargets('a\u001b[2Jb'));
      assert.equal(err.token, 'a\u001b[2Jb');
      assert.ok(err.message.startsWith('"a\\u001b[2Jb": '), err.message);
    });
  });

  describe('parsePorts', () => {
    const good: [Parameters<typeof parsePorts>[0], number[]][] = [
      [undefined, [1883, 8883]],
      ['', [1883, 8883]],
      ['  \n', [1883, 8883]],
      [[], [1883, 8883]],
      [1883, [1883]],
      ['1883', [1883]],
      ['8883,1883', [1883, 8883]],
      ['8000-8003', [8000, 8001, 8002, 8003]],
      [' 1883 , 8000-8002\n9001 ', [1883, 8000, 8001, 8002, 9001]],
      ['1883 1883,1883-1883', [1883]],
      [[8883, 1883, 1883], [1883, 8883]],
      // Presets (PORT_PRESETS), alone, mixed with ports, in any case.
      ['mqtt', [1883, 8883]],
      ['mqtt-ws', [80, 443, 8000, 8080, 8081, 8083, 8084, 8884, 9001]],
      ['MQTT-ALL', [80, 443, 1883, 8000, 8080, 8081, 8083, 8084, 8883, 8884, 9001]],
      ['mqtt-ws,1883 10000', [80, 443, 1883, 8000, 8080, 8081, 8083, 8084, 8884, 9001, 10000]],
      ['1', [1]],
      ['65535', [65535]],
      ['65534-65535', [65534, 65535]],
    ];
    for (const [spec, ports] of good) {
      it(`${JSON.stringify(spec)} -> ${JSON.stringify(ports)}`, () => assert.deepEqual(parsePorts(spec), ports));
    }

    it('"1-65535" gives every port, sorted', () => {
      const ports = parsePorts('1-65535, 1883');
      assert.equal(ports.length, 65535);
      assert.equal(ports[0], 1);
      assert.equal(ports[65534], 65535);
    });

    it('never hands out DEFAULT_PORTS itself', () => {
      parsePorts(undefined).push(1);
      assert.deepEqual(DEFAULT_PORTS, [1883, 8883]);
    });

    const bad: [Parameters<typeof parsePorts>[0], TargetError['code'], string][] = [
      ['70000', 'range', '70000'],
      ['0', 'range', '0'],
      ['9-1', 'range', '9-1'],
      ['1-70000', 'range', '1-70000'],
      ['abc', 'syntax', 'abc'],
      ['-5', 'syntax', '-5'],
      ['1883-', 'syntax', '1883-'],
      ['1.5', 'syntax', '1.5'],
      ['1883;8883', 'syntax', '1883;8883'],
      ['1883,$(reboot)', 'syntax', '$(reboot)'],
      [70000, 'range', '70000'],
      [0, 'range', '0'],
      [1.5, 'range', '1.5'],
      [NaN, 'syntax', 'NaN'],
      [[1883, 0], 'range', '0'],
      [[1883, 65536], 'range', '65536'],
      ['1'.repeat(10_001), 'limit', '1'.repeat(10_001)],
    ];
    for (const [spec, code, token] of bad) {
      it(`${JSON.stringify(spec)?.slice(0, 40)} -> ${code}`, () => {
        const err = sync(() => parsePorts(spec));
        assert.equal(err.code, code);
        assertNamesToken(err, token);
      });
    }

    it('says why', () => {
      assert.equal(sync(() => parsePorts('70000')).message, '"70000": port must be 1-65535');
      assert.equal(sync(() => parsePorts('9-1')).message, '"9-1": range start is after its end');
      assert.equal(sync(() => parsePorts('abc')).message, '"abc": not a port number (or a preset: mqtt, mqtt-ws, mqtt-all)');
    });
  });

  describe('scope', () => {
    const scopes: [string, ReturnType<typeof describeScope>][] = [
      ['127.0.0.1', 'loopback'],
      ['127.255.255.255', 'loopback'],
      ['::1', 'loopback'],
      ['[::1]', 'loopback'],
      ['10.1.2.3', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['172.32.0.1', 'public'],
      ['172.15.255.255', 'public'],
      ['192.168.0.1', 'private'],
      ['192.169.0.1', 'public'],
      ['169.254.0.1', 'link-local'],
      ['fe80::1', 'link-local'],
      ['100.64.0.1', 'cgnat'],
      ['100.127.255.255', 'cgnat'],
      ['100.128.0.0', 'public'],
      ['fc00::1', 'unique-local'],
      ['fd12:3456::1', 'unique-local'],
      ['::ffff:10.0.0.1', 'private'],
      ['8.8.8.8', 'public'],
      ['2001:db8::1', 'public'],
    ];
    for (const [address, scope] of scopes) {
      it(`describeScope(${address}) = ${scope}`, () => assert.equal(describeScope(address), scope));
    }

    it('describeScope refuses what is not an address', () => {
      assert.equal(sync(() => describeScope('broker.lab')).code, 'syntax');
    });

    it('8.8.8.8 is refused, then allowed with allowPublic', async () => {
      assert.equal((await rejection(planTargets('8.8.8.8'))).code, 'scope');
      assert.equal((await planTargets('8.8.8.8', { allowPublic: true })).count, 2);
    });

    it('private ranges need nothing', async () => {
      assert.equal((await planTargets('10.0.0.0/8', { maxTargets: 2 ** 26 })).hostCount, 2 ** 24);
      assert.equal((await planTargets('100.64.0.1')).hostCount, 1);
      assert.equal((await planTargets('172.16.0.0/12', { maxTargets: 2 ** 21 })).hostCount, 2 ** 20);
    });

    it('checks scope after exclusions', async () => {
      const plan = await planTargets('127.0.0.1, 8.8.8.8, !8.8.8.0/24', { ports: 1883 });
      assert.deepEqual(all(plan), ['127.0.0.1:1883']);
    });

    it('a CIDR straddling public space is refused as a whole, without iterating it', async () => {
      const err = await rejection(planTargets('0.0.0.0/1'));
      assert.equal(err.code, 'scope');
      assert.match(err.message, /e\.g\. 1\.0\.0\.0/);
    });
  });

  describe('hostnames', () => {
    it('resolves each distinct name once, through the injected resolver', async () => {
      const asked: string[] = [];
      const resolve = fakeResolver({ 'broker.lab': ['127.0.0.2', '::1'] }, asked);
      const plan = await planTargets('broker.lab, BROKER.lab., 127.0.0.2', { ports: 1883, resolve });
      assert.deepEqual(asked, ['broker.lab']);
      assert.deepEqual(all(plan), ['127.0.0.2:1883', '[::1]:1883']);
    });

    it('a resolver rejection is a resolve error naming the host', async () => {
      const resolve = async (): Promise<string[]> => {
        throw Object.assign(new Error('queryA ETIMEOUT broker.lab'), { code: 'ETIMEOUT' });
      };
      const err = await rejection(planTargets('127.0.0.1 broker.lab', { resolve }));
      assert.equal(err.code, 'resolve');
      assertNamesToken(err, 'broker.lab');
      assert.match(err.message, /ETIMEOUT/);
    });

    it('exclusions accept hostnames', async () => {
      const plan = await planTargets('127.0.0.0/30 !broker.lab', { ports: 1883, resolve: LAB });
      assert.deepEqual(all(plan), ['127.0.0.0:1883', '127.0.0.1:1883', '127.0.0.3:1883']);
    });

    it("'localhost' resolves with the real resolver to loopback only", async () => {
      const plan = await planTargets('localhost', { ports: 1883 });
      assert.ok(plan.hostCount >= 1);
      for (const host of { [Symbol.iterator]: () => plan.hosts() }) assert.equal(describeScope(host), 'loopback');
    });
  });

  describe('iteration', () => {
    it('batches() gives consecutive chunks of at most size', async () => {
      const plan = await planTargets('127.0.0.0/28'); // 16 hosts x 2 ports
      const batches = Array.from({ [Symbol.iterator]: () => plan.batches(5) });
      assert.deepEqual(
        batches.map((b) => b.length),
        [5, 5, 5, 5, 5, 5, 2],
      );
      assert.deepEqual(batches.flat().map(fmt), all(plan));
      assert.equal(Array.from({ [Symbol.iterator]: () => plan.batches(1000) }).length, 1);
      assert.throws(() => plan.batches(0), RangeError);
      assert.throws(() => plan.batches(1.5), RangeError);
    });

    it('hosts() streams addresses only, and every iteration starts over', async () => {
      const plan = await planTargets('127.0.0.0/30 ::1');
      const hosts = (): string[] => Array.from({ [Symbol.iterator]: () => plan.hosts() });
      assert.deepEqual(hosts(), ['127.0.0.0', '127.0.0.1', '127.0.0.2', '127.0.0.3', '::1']);
      assert.deepEqual(hosts(), hosts());
      assert.deepEqual(all(plan), all(plan));
    });

    it('127.0.0.0/16 x 2 ports streams 131,072 distinct targets in order', async () => {
      const plan = await planTargets('127.0.0.0/16', { maxTargets: 131_072 });
      let n = 0;
      let last: Target | undefined;
      for (const target of { [Symbol.iterator]: () => plan[Symbol.iterator]() }) {
        n++;
        last = target;
      }
      assert.equal(n, 131_072);
      assert.deepEqual(last, { host: '127.0.255.255', port: 8883 });
    });

    it('formats IPv6 hosts in RFC 5952 canonical form', async () => {
      const forms: [string, string][] = [
        ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
        ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
        ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
        ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
        ['fd00:0:0:0:1:0:0:0', 'fd00::1:0:0:0'],
        ['fe80:0:0:0:0:0:0:0', 'fe80::'],
        ['1:0:1:0:1:0:1:0', '1:0:1:0:1:0:1:0'],
        ['0:0:0:0:0:0:0:1', '::1'],
        ['::ffff:7f00:1', '::ffff:127.0.0.1'],
        ['fd00::1.2.3.4', 'fd00::102:304'],
      ];
      for (const [input, canonical] of forms) {
        const plan = await planTargets(input, { ports: 1883, allowPublic: true });
        assert.deepEqual(Array.from({ [Symbol.iterator]: () => plan.hosts() }), [canonical], input);
        assert.deepEqual(plan.specs, [canonical]);
      }
    });
  });

  describe('interval arithmetic against a brute-force model', () => {
    // Seeded, so a failure always reproduces; the spec list is in the assertion message.
    let seed = 12345;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };

    /** Random ranges in 127.0.0.0/26, and what planTargets must produce for them. */
    function randomCase(): { spec: string; expected: string[] } {
      const ranges = Array.from({ length: 1 + random(6) }, () => {
        const lo = random(64);
        return { exclude: random(4) === 0, lo, hi: Math.min(63, lo + random(20)) };
      });
      const excluded = new Set<number>();
      for (const r of ranges) if (r.exclude) for (let a = r.lo; a <= r.hi; a++) excluded.add(a);
      const expected = new Set<number>(); // insertion order = first spec naming the host
      for (const r of ranges) if (!r.exclude) for (let a = r.lo; a <= r.hi; a++) if (!excluded.has(a)) expected.add(a);
      return {
        spec: ranges.map((r) => `${r.exclude ? '!' : ''}127.0.0.${r.lo}-${r.hi}`).join(' '),
        expected: [...expected].map((a) => `127.0.0.${a}`),
      };
    }

    it('300 random spec lists: same hosts, order and count as the model', async () => {
      for (let round = 0; round < 300; round++) {
        const { spec, expected } = randomCase();
        if (expected.length === 0) {
          assert.equal((await rejection(planTargets(spec))).code, 'empty', spec);
          continue;
        }
        const plan = await planTargets(spec, { ports: 1883 });
        assert.equal(plan.count, expected.length, spec);
        assert.deepEqual(Array.from({ [Symbol.iterator]: () => plan.hosts() }), expected, spec);
      }
    });
  });

  describe('memory and cost', () => {
    it('plans 10.0.0.0/8 without iterating or allocating per address', async () => {
      const gc = (globalThis as unknown as { gc?: () => void }).gc;
      gc?.();
      const before = process.memoryUsage().heapUsed;
      const plan = await planTargets('10.0.0.0/8, !10.1.0.0/16', { maxTargets: 2 ** 26 });
      const grown = process.memoryUsage().heapUsed - before;
      assert.equal(plan.hostCount, 2 ** 24 - 2 ** 16);
      assert.equal(plan.count, 2 * (2 ** 24 - 2 ** 16));
      assert.ok(grown < 5 * 1024 * 1024, `heap grew by ${grown} bytes`);
      assert.deepEqual(first(plan, 2), ['10.0.0.0:1883', '10.0.0.0:8883']);
    });

    it('counts thousands of overlapping specs by interval arithmetic', async () => {
      const specs = Array.from({ length: 5000 }, (_, i) => `10.0.${i % 256}.0/24`);
      const plan = await planTargets(specs.join(','), { ports: 1883 });
      assert.equal(plan.hostCount, 65_536);
      assert.deepEqual(plan.specs.length, 256);
    });
  });
});

describe('targets: the scope check of one address (checkAddressScope, scopedHost) agrees with planTargets', () => {
  // Every edge of every range in the scope tables, and a step inside each.
  const edges = [
    '0.0.0.0', '0.255.255.255', '1.0.0.0', '9.255.255.255', '10.0.0.0', '10.255.255.255', '11.0.0.0',
    '100.63.255.255', '100.64.0.0', '100.127.255.255', '100.128.0.0', '126.255.255.255', '127.0.0.0', '127.255.255.255',
    '128.0.0.0', '169.253.255.255', '169.254.0.0', '169.254.255.255', '169.255.0.0', '172.15.255.255', '172.16.0.0',
    '172.31.255.255', '172.32.0.0', '192.167.255.255', '192.168.0.0', '192.168.255.255', '192.169.0.0',
    '223.255.255.255', '224.0.0.0', '239.255.255.255', '240.0.0.0', '255.255.255.254', '255.255.255.255',
    '::', '::1', '::2', 'fe80::', 'febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'fec0::', 'fc00::', 'fdff::1', 'fe00::',
    'ff00::', '2001:db8::1', '::ffff:10.0.0.1', '::ffff:8.8.8.8',
  ];
  const verdict = async (f: () => unknown) => {
    try {
      await f();
      return 'ok';
    } catch (err) {
      return (err as TargetError).code;
    }
  };
  for (const allowPublic of [false, true]) {
    it(`same verdict for ${edges.length} edge addresses${allowPublic ? ' with allowPublic' : ''}`, async () => {
      for (const address of edges) {
        const planned = await verdict(() => planTargets(address, { ports: '1883', allowPublic }));
        assert.equal(await verdict(() => checkAddressScope(address, allowPublic)), planned, address);
        assert.equal(await verdict(() => scopedHost(address, { allowPublic })), planned, address);
      }
    });
  }

  it('a host name is resolved first, every address it resolves to must be in scope, and the first is the one to connect to', async () => {
    const resolve = async (name: string) => (name === 'lab.test' ? ['127.0.0.7', '::1'] : name === 'mixed.test' ? ['127.0.0.1', '8.8.8.8'] : []);
    assert.deepEqual(await scopedHost('lab.test', { resolve }), { address: '127.0.0.7', servername: 'lab.test' });
    await assert.rejects(scopedHost('mixed.test', { resolve }), /"mixed\.test".*8\.8\.8\.8.*allowPublic/);
    await assert.rejects(scopedHost('nothing.test', { resolve }), /"nothing\.test".*no address/);
    await assert.rejects(scopedHost('10.0.0.0/8', { resolve }), /"10\.0\.0\.0\/8".*one address or host name/);
  });
});

describe('targets: the hand-written paths agree with ip-num', () => {
  // ip-num parses; these parts stay ours for speed (see the comments in lib/targets), so ip-num
  // is the reference they are checked against.
  let seed = 4242;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return Math.floor((seed / 2 ** 31) * n);
  };
  const pick = <T>(list: readonly T[]): T => list[random(list.length)];

  it("the block of a CIDR token is ip-num's, at every prefix length from /0 to /32 and /128", () => {
    for (const text of ['0.0.0.0', '255.255.255.255', '10.1.2.3', '127.0.0.1', '192.168.77.200']) {
      for (let prefix = 0; prefix <= 32; prefix++) {
        const block = new IPv4CidrRange(new IPv4(text), new IPv4Prefix(BigInt(prefix)));
        const ours = cidrInterval(parseAddress(text, text), prefix);
        assert.deepEqual([ours.start, ours.end], [block.getFirst().getValue(), block.getLast().getValue()], `${text}/${prefix}`);
      }
    }
    for (const text of ['::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'fd00:1234:5678:9abc:def0:1:2:3', '::ffff:10.1.2.3', 'fe80::1']) {
      for (let prefix = 0; prefix <= 128; prefix++) {
        const block = new IPv6CidrRange(new IPv6(text), new IPv6Prefix(BigInt(prefix)));
        const ours = cidrInterval(parseAddress(text, text), prefix);
        const theirs = [V6_BASE + block.getFirst().getValue(), V6_BASE + block.getLast().getValue()];
        assert.deepEqual([ours.start, ours.end], theirs, `${text}/${prefix}`);
      }
    }
  });

  it("formats IPv6 as ip-num's collapsed form, except IPv4-mapped addresses (::ffff:a.b.c.d), and parses it back", () => {
    const values: bigint[] = [0n, 1n, 0xffffn << 32n, (0xffffn << 32n) | 0x7f000001n, (1n << 128n) - 1n];
    for (let i = 0; i < 3000; i++) {
      // Mostly zero groups, so that runs of zeros (and ties between runs) are common.
      const groups = Array.from({ length: 8 }, () => (random(3) === 0 ? pick([1, 0xffff, random(65536)]) : 0));
      if (random(10) === 0) groups.splice(0, 6, 0, 0, 0, 0, 0, 0xffff);
      values.push(groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n));
    }
    for (const value of values) {
      const mapped = value >> 32n === 0xffffn;
      const expected = mapped ? `::ffff:${IPv4.fromNumber(value & 0xffffffffn).toString()}` : collapseIPv6Number(IPv6.fromBigInt(value).toString());
      const text = formatKey(V6_BASE + value);
      assert.equal(text, expected, value.toString(16));
      assert.equal(parseAddress(text, text).key, V6_BASE + value, text);
    }
  });

  it("the dotted-quad fast path of checkAddressScope takes exactly what ip-num takes, with the same verdict as planTargets", async () => {
    const octets = ['0', '1', '9', '10', '99', '100', '126', '127', '128', '169', '172', '192', '223', '224', '239', '240', '254', '255', '256', '999', '1000', '00', '01', '010', '', '+1'];
    const verdict = async (f: () => unknown): Promise<string> => {
      try {
        await f();
        return 'ok';
      } catch (err) {
        return (err as TargetError).code;
      }
    };
    for (let i = 0; i < 3000; i++) {
      const count = pick([4, 4, 4, 4, 3, 5]);
      const text = Array.from({ length: count }, () => (random(4) === 0 ? String(random(256)) : pick(octets))).join('.');
      if (!/^[\d.]+$/.test(text)) continue; // '+' is refused earlier, by the character check
      const fast = await verdict(() => checkAddressScope(text, true));
      if (Validator.isValidIPv4String(text)[0]) assert.ok(fast === 'ok' || fast === 'scope', `${text}: ${fast}`);
      else assert.ok(fast === 'syntax' || fast === 'range', `${text}: ${fast}`);
      const planned = await verdict(() => planTargets(text, { ports: '1883' }));
      assert.equal(await verdict(() => checkAddressScope(text, false)), planned, text);
    }
  });
});
