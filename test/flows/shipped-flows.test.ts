// Every flow we ship (examples/, flows/) must parse, use only nodes that exist, and point at
// loopback only: a user who imports one and presses a button must never scan someone else.
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import jsonata from 'jsonata';
import { planTargets } from '../../lib/targets';

const ROOT = resolve(__dirname, '../..');
/** What `npm start` exports to Node-RED (lab/start.ts), with lab ports a class might set. */
const LAB_ENV: Record<string, string> = { MQTTSEC_LAB_PORTS: '18871,18872,18873,18874' };

/** A property as Node-RED loads it: a value that is exactly ${VAR} becomes the variable's value ('' when unset). */
function withEnv(value: unknown, env: Record<string, string>): unknown {
  const m = typeof value === 'string' ? /^\$\{(\w+)\}$/.exec(value) : null;
  return m ? env[m[1]] ?? '' : value;
}
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
          for (const env of [LAB_ENV, {}]) {
            const plan = await planTargets(String(withEnv(n.targets, env)), { ports: String(withEnv(n.ports ?? '', env)) });
            for (const host of { [Symbol.iterator]: () => plan.hosts() }) assert.match(host, /^127\./, `${name}: target ${host}`);
          }
        }
        const addresses = JSON.stringify(flow).match(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/g) ?? [];
        for (const a of addresses) assert.match(a, /^127\./, `${name} names ${a}`);
      });

      it('scans the lab brokers on the ports `npm start` gives them, and 1883/8883 outside the lab (issue 18)', async () => {
        // The lab dashboard's expander takes its ports from the form.
        for (const n of flow.filter((x) => x.type === 'mqttsec-target-expander' && name.startsWith('examples/') && !name.endsWith('lab-dashboard.json'))) {
          assert.equal(n.ports, '${MQTTSEC_LAB_PORTS}', `${name}: the expander reads the lab's ports from the environment`);
          const lab = await planTargets(String(n.targets), { ports: String(withEnv(n.ports, LAB_ENV)) });
          assert.deepEqual(lab.ports, [18871, 18872, 18873, 18874]);
          const outside = await planTargets(String(n.targets), { ports: String(withEnv(n.ports, {})) });
          assert.deepEqual(outside.ports, [1883, 8883]);
        }
        for (const n of flow.filter((x) => x.type === 'inject' && x.payloadType === 'jsonata')) {
          const target = async (env: Record<string, string>) => {
            const expr = jsonata(String(n.payload));
            expr.registerFunction('env', (k: string) => env[k]);
            return String(await expr.evaluate({}));
          };
          assert.match(await target(LAB_ENV), /^127\.0\.0\.1:1887[1-4]$/, `${name}: ${n.name}`);
          assert.match(await target({}), /^127\.0\.0\.1:(?:1883|8883)$/, `${name}: ${n.name}`);
        }
      });

      it('a debug node that shows part of msg.payload never gets a completion message (no "(undefined)" lines)', () => {
        for (const d of flow.filter((x) => x.type === 'debug' && /^payload\./.test(String(x.complete)))) {
          const sources = flow.filter((n) => ((n.wires as string[][] | undefined) ?? []).some((out) => out.includes(String(d.id))));
          assert.ok(sources.length > 0, `${name}: ${d.name} is wired`);
          for (const src of sources) {
            const ok = src.type === 'mqttsec-report-writer' || (src.type === 'switch' && src.property === 'complete');
            assert.ok(ok, `${name}: debug "${d.name}" (${d.complete}) gets every message of ${src.type} ${src.name ?? src.id}, completion messages too`);
          }
        }
      });

      it('carries no credentials', () => {
        const text = JSON.stringify(flow);
        assert.doesNotMatch(text, /"password"\s*:\s*"[^"]+"/);
        for (const n of flow.filter((x) => x.type === 'mqttsec-credentials')) assert.equal(n.credentials, undefined);
      });
    });
  }
});
