// Every flow we ship (examples/, flows/) must parse, use only nodes that exist, and point at
// loopback only: a user who imports one and presses a button must never scan someone else.
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { planTargets } from '../../lib/targets';

const ROOT = resolve(__dirname, '../..');
const OUR_TYPES = Object.keys(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))['node-red'].nodes);
const CORE_TYPES = ['tab', 'inject', 'debug', 'catch', 'status', 'complete', 'switch', 'change', 'function', 'template', 'join', 'split', 'delay', 'trigger', 'comment', 'link in', 'link out', 'link call', 'http in', 'http response', 'tls-config', 'file', 'file in', 'group', 'junction', 'json', 'rbe', 'filter'];

function shippedFlows(): string[] {
  return ['examples', 'flows']
    .map((d) => join(ROOT, d))
    .filter(existsSync)
    .flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.json')).map((f) => join(d, f)));
}

describe('shipped flows', () => {
  const files = shippedFlows();

  it('there is an example per node we have built so far', () => {
    const names = files.map((f) => f.split('/').pop());
    assert.ok(names.includes('target-expander.json'));
    assert.ok(names.includes('broker-probe.json'));
  });

  for (const file of files) {
    const name = file.slice(ROOT.length + 1);
    describe(name, () => {
      const flow = JSON.parse(readFileSync(file, 'utf8')) as Array<Record<string, unknown>>;

      it('uses only core nodes, dashboard nodes and ours', () => {
        for (const n of flow) {
          const t = String(n.type);
          assert.ok(CORE_TYPES.includes(t) || OUR_TYPES.includes(t) || t.startsWith('ui_') || t === 'ui_group' || t === 'ui_tab' || t === 'ui_base', `${name}: unknown node type ${t}`);
        }
      });

      it('wires only to nodes that exist', () => {
        const ids = new Set(flow.map((n) => n.id));
        for (const n of flow) {
          for (const out of (n.wires as string[][] | undefined) ?? []) for (const id of out) assert.ok(ids.has(id), `${name}: ${n.id} wires to missing ${id}`);
        }
      });

      it('every target it can scan is loopback', async () => {
        for (const n of flow.filter((x) => x.type === 'mqttsec-target-expander')) {
          const plan = await planTargets(String(n.targets), { ports: String(n.ports ?? '') });
          for (const host of { [Symbol.iterator]: () => plan.hosts() }) assert.match(host, /^127\./, `${name}: target ${host}`);
        }
        const addresses = JSON.stringify(flow).match(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/g) ?? [];
        for (const a of addresses) assert.match(a, /^127\./, `${name} names ${a}`);
      });

      it('carries no credentials', () => {
        const text = JSON.stringify(flow);
        assert.doesNotMatch(text, /"password"\s*:\s*"[^"]+"/);
        for (const n of flow.filter((x) => x.type === 'mqttsec-credentials')) assert.equal(n.credentials, undefined);
      });
    });
  }
});
