// The shipped dashboard and API flows as files: what the browser and HTTP tests cannot see at a
// glance. The example is the same flow; broker data can only ever reach the page as text; each
// flow has its own copy of the scanner's six nodes; every step between them is a dashboard view
// of our package (lib/dashboard), not a function node.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { VIEWS, isViewName } from '../../lib/dashboard';

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
    // Scripts only where a control keeps this tab's own state (the filter and find texts being
    // typed, which a redraw must not wipe), and they work on the scope alone: no DOM, no eval.
    const scripted = new Set(['lab-history', 'lab-table-bar']);
    for (const n of dashboard.filter((x) => x.type === 'ui_template')) {
      const scripts = [...n.format.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/gi)].map((m) => m[1]);
      if (!scripted.has(n.id)) assert.equal(scripts.length, 0, `${n.name}: no script`);
      for (const code of scripts) {
        assert.doesNotMatch(code, /document|window|element|jQuery|\$\(|eval|Function|setTimeout|setInterval|\$compile|\$sce|\$http|fetch|innerHTML/, `${n.name}: the script works on the scope only`);
      }
      assert.doesNotMatch(n.format.replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, ''), /<script/i, n.name);
      assert.doesNotMatch(n.format, /ng-bind-html|innerHTML|outerHTML|\$sce|trustAs|insertAdjacentHTML|document\.write/i, n.name);
      // AngularJS drops a data- prefix: data-online="{{...}}" reads as an "online" event handler and stops the template ($compile:nodomevents).
      assert.doesNotMatch(n.format, /\s(data-|x-)?on[a-z]+="[^"]*\{\{/i, n.name);
    }
    // The views build data, never markup: no template and no HTML in lib/dashboard.
    for (const f of readdirSync(join(ROOT, 'lib/dashboard'))) {
      assert.doesNotMatch(readFileSync(join(ROOT, 'lib/dashboard', f), 'utf8'), /innerHTML|\.template\s*=|template:/, f);
    }
    assert.deepEqual(dashboard.filter((n) => n.type === 'ui_text' || n.type === 'ui_toast').map((n) => n.id), []);
  });

  it('the form is a template that keeps each tab\'s input: no password in the flow, nothing sent back to it, its output never stored for other tabs', () => {
    const form = dashboard.find((n) => n.id === 'lab-form')!;
    assert.equal(form.type, 'ui_template');
    assert.equal(form.storeOutMessages, false, 'what a tab sends (its password too) is never replayed to another tab');
    assert.equal(form.fwdInMessages, false);
    assert.match(form.format, /<input id="mqs-f-password" type="password"/);
    assert.doesNotMatch(form.format, /socketid/, 'msg.socketid comes from the browser: nothing may rely on it');
    // "check the form" (lib/dashboard scan-form; its unit tests: the password only in
    // msg.credentials) sends the scan to the target expander; its refill output is not wired: a
    // refill would reach every tab's form.
    const start = dashboard.find((n) => n.id === form.wires[0][0])!;
    assert.deepEqual([start.type, start.view], ['mqttsec-dashboard-view', 'scan-form']);
    assert.equal(dashboard.find((n) => n.id === start.wires[0][0])!.type, 'mqttsec-target-expander');
    assert.deepEqual(start.wires[1], []);
    // The form's starting values come from "restore the dashboard" (MQTTSEC_LAB_TARGET, the lab ports), without a password.
    const restore = dashboard.find((n) => n.view === 'dashboard-restore')!;
    assert.deepEqual(restore.wires[2], [form.id]);
    assert.equal(dashboard.filter((n) => n.type === 'ui_form').length, 0);
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
      // The lab CA's, and the sites CA's (the coordinator's broker, npm run lab:sites).
      const confs = flow.filter((n) => n.type === 'tls-config');
      assert.deepEqual(confs.map((c) => c.ca), ['${MQTTSEC_LAB_CA}', '${MQTTSEC_SITES_CA}'], tab.label);
      for (const c of confs) assert.equal(c.z, tab.id);
      for (const n of flow.filter((x) => ['mqttsec-broker-probe', 'mqttsec-tls-inspector', 'mqttsec-topic-sniffer'].includes(x.type))) {
        assert.equal(n.tls, confs[0].id, `${tab.label}: ${n.type} ${n.id}`);
      }
    }
  });

  it('each flow has a site coordinator, shipped switched off, whose merged scan joins the chain at the risk classifier; no login in the flow', () => {
    for (const [flow, prefix] of [[dashboard, 'lab'], [api, 'api']] as const) {
      const tab = flow.find((n) => n.type === 'tab')!;
      const byId = new Map(flow.map((n) => [n.id, n]));
      const coords = flow.filter((n) => n.type === 'mqttsec-site-coordinator');
      assert.deepEqual(coords.map((n) => n.id), [`${prefix}-sites-coord`], tab.label);
      const coord = coords[0];
      // The launcher (lab/lab-sites.ts LAB_SITES_NODES) switches it on in npm run lab:sites only.
      assert.equal(coord.d, true, 'disabled as shipped: the plain lab has no coordinator\'s broker');
      assert.equal(coord.sites, '${MQTTSEC_LAB_SITES}');
      assert.equal(coord.credentialsName, 'lab');
      assert.equal(byId.get(coord.wires[0][0])!.type, 'mqttsec-risk-classifier');
      const broker = byId.get(coord.broker)!;
      assert.equal(broker.type, 'mqttsec-site-broker');
      assert.equal(broker.url, '${MQTTSEC_SITES_URL}');
      assert.equal(byId.get(broker.tls)!.ca, '${MQTTSEC_SITES_CA}');
      assert.ok(!('credentials' in broker) && !('username' in broker) && !('password' in broker), 'the login is in the credentials store only');
      assert.ok(flow.some((n) => n.type === 'catch' && n.scope.includes(coord.id)), 'its failures reach the scan failures catch');
    }
    const panel = dashboard.find((n) => n.id === 'lab-sites')!;
    assert.equal(panel.group, 'lab-g-sites');
    // The panel's (the browser's) messages reach the button's view only, never the view of the coordinator's events.
    assert.deepEqual(panel.wires, [['lab-sites-scan']]);
    const button = dashboard.find((n) => n.id === 'lab-sites-scan')!;
    assert.equal(button.view, 'sites-scan');
    assert.deepEqual(button.wires[1], ['lab-sites-coord']);
    const view = dashboard.find((n) => n.id === 'lab-sites-fn')!;
    assert.equal(view.view, 'sites');
    assert.deepEqual(view.wires, [['lab-sites']]);
    assert.deepEqual(dashboard.find((n) => n.id === 'lab-sites-coord')!.wires[1], [view.id]);
    assert.deepEqual(dashboard.filter((n) => n.wires?.some((w: string[]) => w.includes('lab-sites-fn'))).map((n) => n.id).sort(), ['lab-sites-coord', 'lab-sites-start'], 'only the flow itself talks to the events\' view');
    assert.ok(dashboard.find((n) => n.view === 'scan-cancel')!.wires[0].includes('lab-sites-coord'), 'Cancel scan cancels a coordinated scan');
    assert.deepEqual(api.find((n) => n.view === 'api-scan')!.wires[2], ['api-sites-coord']);
    assert.deepEqual(api.find((n) => n.id === 'api-sites-coord')!.wires[1], ['api-sites-events']);
  });

  it('the two flows use disjoint HTTP routes; the API reads its body raw (exact 400/413 answers)', () => {
    const routes = (flow: FlowNode[]) => flow.filter((n) => n.type === 'http in').map((n) => `${n.method} ${n.url}`);
    assert.deepEqual(routes(dashboard), ['get /lab/reports/:file']);
    assert.deepEqual(routes(api).sort(), ['get /api/reports/:file', 'get /api/results', 'get /api/scans', 'get /api/scans/:id', 'post /api/scan']);
    assert.equal(api.find((n) => n.type === 'http in' && n.method === 'post')!.skipBodyParsing, true);
  });

  it('no function nodes: each step is a named dashboard view, with as many outputs as the view has, all wired', () => {
    const expected: Record<string, string> = {
      'lab-start': 'scan-form', 'lab-route': 'scan-route', 'lab-live': 'live-values', 'lab-results': 'scan-results',
      'lab-table-fn': 'results-table', 'lab-table-view-fn': 'table-view', 'lab-detail-fn': 'broker-detail', 'lab-cards-fn': 'summary-cards', 'lab-riskchart-fn': 'risk-chart',
      'lab-reports': 'scan-history', 'lab-history-filter': 'history-filter', 'lab-error': 'scan-error', 'lab-progress-fn': 'scan-progress', 'lab-cancel': 'scan-cancel',
      'lab-restore': 'dashboard-restore', 'lab-labctl-fn': 'lab-controls', 'lab-dl-find': 'report-file', 'lab-dl-headers': 'report-download', 'lab-dl-missing': 'report-missing',
      'api-key': 'api-key', 'api-scan': 'api-scan', 'api-route': 'scan-route', 'api-answer': 'api-answer', 'api-results-fn': 'api-results',
      'api-dl-find': 'report-file', 'api-dl-headers': 'report-download', 'api-dl-missing': 'report-missing', 'api-failed': 'api-failed',
      'api-scans-fn': 'api-scans', 'lab-sites-fn': 'sites', 'lab-sites-scan': 'sites-scan', 'api-sites-events': 'api-sites-events',
    };
    const all = [...dashboard, ...api];
    assert.deepEqual(all.filter((n) => n.type === 'function').map((n) => n.id), []);
    const views = all.filter((n) => n.type === 'mqttsec-dashboard-view');
    assert.deepEqual(Object.fromEntries(views.map((n) => [n.id, n.view])), expected);
    for (const n of views) {
      assert.ok(isViewName(n.view), n.id);
      assert.equal(n.outputs, VIEWS[n.view as keyof typeof VIEWS].outputs, n.id);
      assert.equal(n.wires.length, n.outputs, n.id);
      // The one output left open on purpose: the form's refill (the shipped form keeps its input;
      // a refill would reach every tab's form).
      const open = n.wires.map((w: string[], i: number) => (w.length ? -1 : i)).filter((i: number) => i >= 0);
      assert.deepEqual(open, n.id === 'lab-start' ? [1] : [], `${n.id}: every output is wired`);
      assert.ok(n.name, `${n.id} has a name saying what it does`);
    }
  });

  it('every API request passes the key check first; the key is compared in constant time and never stored', () => {
    const gate = api.find((n) => n.view === 'api-key')!;
    for (const n of api.filter((x) => x.type === 'http in')) assert.deepEqual(n.wires, [[gate.id]], n.name);
    const byId = new Map(api.map((n) => [n.id, n]));
    assert.deepEqual(gate.wires.map((w: string[]) => byId.get(w[0])!.view ?? byId.get(w[0])!.type), ['api-scan', 'api-results', 'report-file', 'http response', 'api-scans']);
    const source = readFileSync(join(ROOT, 'lib/dashboard/api.ts'), 'utf8');
    assert.match(source, /timingSafeEqual\(digest\(a\), digest\(b\)\)/);
    assert.doesNotMatch(source, /(?<!typeof )given\s*[!=]==|[!=]==\s*given\b|\.indexOf\(given\)|includes\(given\)/);
    for (const f of readdirSync(join(ROOT, 'lib/dashboard'))) {
      assert.doesNotMatch(readFileSync(join(ROOT, 'lib/dashboard', f), 'utf8'), /(context|flow|global)\.set\([^)]*(given|keys|KEY)/, f);
    }
  });
});
