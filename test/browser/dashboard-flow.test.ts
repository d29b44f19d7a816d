// The shipped dashboard and API flows as files: what the browser and HTTP tests cannot see at a
// glance. The example is the same flow; broker data can only ever reach the page as text; each
// flow has its own copy of the scanner's six nodes; function nodes stay small and need no modules.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
type FlowNode = Record<string, any> & { id: string; type: string };
const load = (rel: string): FlowNode[] => JSON.parse(readFileSync(join(ROOT, rel), 'utf8'));
const CHAIN = ['mqttsec-target-expander', 'mqttsec-broker-probe', 'mqttsec-tls-inspector', 'mqttsec-topic-sniffer', 'mqttsec-risk-classifier', 'mqttsec-report-writer'];

describe('shipped flows: lab dashboard and HTTP API', () => {
  const dashboard = load('flows/lab-dashboard.json');
  const api = load('flows/http-api.json');

  it('examples/lab-dashboard.json is the same flow as flows/lab-dashboard.json (Import > Examples)', () => {
    assert.equal(readFileSync(join(ROOT, 'examples/lab-dashboard.json'), 'utf8'), readFileSync(join(ROOT, 'flows/lab-dashboard.json'), 'utf8'));
  });

  it('every results-table column is plaintext (Tabulator escapes it)', () => {
    const tables = dashboard.filter((n) => n.type === 'ui_table');
    assert.equal(tables.length, 1);
    for (const t of tables) {
      assert.ok(t.columns.length >= 7);
      for (const c of t.columns) assert.equal(c.formatter, 'plaintext', `column ${c.field}`);
    }
    const fields = tables[0].columns.map((c: { field: string }) => c.field);
    assert.deepEqual(fields, ['ep', 'security', 'sensor', 'data', 'topic', 'messages', 'risk']);
  });

  it('no template binds HTML: no ng-bind-html, innerHTML, $sce, msg.template; no ui_text / ui_toast (they render HTML)', () => {
    for (const n of dashboard.filter((x) => x.type === 'ui_template')) {
      assert.doesNotMatch(n.format, /ng-bind-html|innerHTML|outerHTML|\$sce|trustAs|insertAdjacentHTML|document\.write|<script/i, n.name);
    }
    for (const n of dashboard.filter((x) => x.type === 'function')) {
      assert.doesNotMatch(n.func, /innerHTML|\.template\s*=|template:/, n.name);
    }
    assert.deepEqual(dashboard.filter((n) => n.type === 'ui_text' || n.type === 'ui_toast').map((n) => n.id), []);
  });

  it('the form starts with the lab target and no password; the password goes only into msg.credentials', () => {
    const form = dashboard.find((n) => n.type === 'ui_form')!;
    assert.equal(form.formValue.target, '127.0.0.1');
    assert.equal(form.formValue.password, '');
    assert.ok(form.options.some((o: { value: string; type: string }) => o.value === 'password' && o.type === 'password'));
    const start = dashboard.find((n) => n.id === form.wires[0][0])!;
    assert.match(start.func, /scan\.credentials = \{ username: username, password: password \}/);
    assert.match(start.func, /f\.password = ''/);
    // Nothing the form sends back to itself carries the password.
    assert.match(start.func, /const refill = \{ payload: \{[^}]*password: ''/);
  });

  it('each flow has its own copy of the six scan nodes, wired in order, and no links between tabs', () => {
    for (const flow of [dashboard, api]) {
      const tab = flow.find((n) => n.type === 'tab')!;
      for (const type of CHAIN) assert.ok(flow.some((n) => n.type === type && n.z === tab.id), `${tab.label}: ${type}`);
      const byId = new Map(flow.map((n) => [n.id, n]));
      const next = (n: FlowNode): FlowNode[] => (n.wires ?? []).flat().map((id: string) => byId.get(id)!);
      const expander = flow.find((n) => n.type === 'mqttsec-target-expander')!;
      const probe = next(expander)[0];
      assert.equal(probe.type, 'mqttsec-broker-probe');
      const tls = next(probe)[0];
      assert.equal(tls.type, 'mqttsec-tls-inspector');
      const route = next(tls)[0];
      const afterRoute = next(route).map((n) => n.type).sort();
      assert.deepEqual(afterRoute, ['mqttsec-risk-classifier', 'mqttsec-topic-sniffer', 'mqttsec-topic-sniffer']);
      for (const sniffer of next(route).filter((n) => n.type === 'mqttsec-topic-sniffer')) {
        assert.equal(sniffer.wires[0][0], flow.find((n) => n.type === 'mqttsec-risk-classifier')!.id);
      }
      assert.ok(next(flow.find((n) => n.type === 'mqttsec-risk-classifier')!).some((n) => n.type === 'mqttsec-report-writer'));
      assert.deepEqual(flow.filter((n) => /^link /.test(n.type)).map((n) => n.id), []);
      assert.ok(!flow.some((n) => n.type === 'mqttsec-target-expander' && n.allowPublic), 'public targets stay refused');
    }
    const ids = new Set(dashboard.map((n) => n.id));
    assert.ok(api.every((n) => !ids.has(n.id)), 'no id is shared, so both flows load together');
  });

  it('each flow\'s probe, TLS inspector and sniffers trust the lab CA through their own tls-config (${MQTTSEC_LAB_CA})', () => {
    for (const flow of [dashboard, api]) {
      const tab = flow.find((n) => n.type === 'tab')!;
      const confs = flow.filter((n) => n.type === 'tls-config');
      assert.equal(confs.length, 1, tab.label);
      assert.equal(confs[0].z, tab.id);
      assert.equal(confs[0].ca, '${MQTTSEC_LAB_CA}');
      for (const n of flow.filter((x) => ['mqttsec-broker-probe', 'mqttsec-tls-inspector', 'mqttsec-topic-sniffer'].includes(x.type))) {
        assert.equal(n.tls, confs[0].id, `${tab.label}: ${n.type} ${n.id}`);
      }
    }
  });

  it('the two flows use disjoint HTTP routes; the API reads its body raw (exact 400/413 answers)', () => {
    const routes = (flow: FlowNode[]) => flow.filter((n) => n.type === 'http in').map((n) => `${n.method} ${n.url}`);
    assert.deepEqual(routes(dashboard), ['get /lab/reports/:file']);
    assert.deepEqual(routes(api).sort(), ['get /api/reports/:file', 'get /api/results', 'post /api/scan']);
    assert.equal(api.find((n) => n.type === 'http in' && n.method === 'post')!.skipBodyParsing, true);
  });

  it('function nodes are short, commented and need no modules', () => {
    for (const n of [...dashboard, ...api].filter((x) => x.type === 'function')) {
      const lines = n.func.trimEnd().split('\n');
      assert.ok(lines.length <= 60, `${n.name}: ${lines.length} lines`);
      assert.match(lines[0], /^\/\/ /, `${n.name} starts with a comment saying what it does`);
      assert.deepEqual(n.libs, [], n.name);
      assert.doesNotMatch(n.func, /\brequire\s*\(|\bimport\s*\(/, n.name);
    }
  });

  it('the API compares keys in constant time and never stores one', () => {
    const gate = api.find((n) => n.type === 'function' && /X-API-KEY/.test(n.func))!;
    assert.match(gate.func, /function sameSecret\(a, b\)/);
    assert.doesNotMatch(gate.func, /(?<!typeof )given\s*[!=]==|[!=]==\s*given\b|\.indexOf\(given\)|includes\(given\)/);
    for (const n of api.filter((x) => x.type === 'function')) {
      assert.doesNotMatch(n.func, /(context|flow|global)\.set\([^)]*(given|keys|KEY)/, n.name);
    }
  });
});
