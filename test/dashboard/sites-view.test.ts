// The Sites panel's view (lib/dashboard/sites.ts) and "sites" in POST /api/scan, without Node-RED:
// the site coordinator's events folded into the panel, the button's scan (the form's lock, the
// login's name, never a login), and what both say outside `npm run lab:sites`.
import { strict as assert } from 'node:assert';
import { LAB_SITES_KEY, LAB_SITES_OFF, checkScanRequest, scanFailureAnswer, type LabSites, type LabSitesState, type SitesPanel, type ViewOutputs } from '../../lib/dashboard';
import { T0, testContext, type TestContext } from './context';

const STATE: LabSitesState = {
  broker: 'mqtts://127.0.0.1:8886',
  sites: [
    { name: 'north', scope: '127.0.0.1', agents: ['north-1'], brokers: ['mqtt://127.0.0.1:1883'] },
    { name: 'south', scope: '127.0.0.2', agents: ['south-1'], brokers: ['mqtt://127.0.0.2:1884 (anonymous)'] },
  ],
  targets: '127.0.0.1,127.0.0.2',
  ports: '1883,8883,9001,8884,1884',
  credentialsName: 'lab',
};

/** A context in `npm run lab:sites` (the launcher's LabSites in the global context), or outside it. */
function sitesContext(on: boolean): TestContext {
  const ctx = testContext();
  const lab: LabSites = { state: () => JSON.parse(JSON.stringify(STATE)) };
  const get = ctx.global.get;
  ctx.global = { get: (k) => (k === LAB_SITES_KEY && on ? lab : get(k)), set: ctx.global.set };
  return ctx;
}

const panelOf = (o: ViewOutputs | null): SitesPanel => {
  assert.ok(o && o[0] && !Array.isArray(o[0]));
  return (o[0] as { payload: SitesPanel }).payload;
};
const agent = (site: string, login: string, state: 'online' | 'offline', seenAt = T0) => ({ topic: `sites/agents/${site}/${login}`, payload: { type: 'agent', agent: { site, login, state, seenAt } } });

describe('dashboard: the Sites panel (issue 20)', () => {
  it('outside npm run lab:sites: says how to start it, forgets an earlier sites lab, and its button only says so', () => {
    const ctx = sitesContext(false);
    ctx.store.set('sites', { agents: { 'north/north-1': { site: 'north', login: 'north-1', online: true, seenAt: T0 } } });
    const shown = panelOf(ctx.run('sites', { topic: 'show' }));
    assert.equal(shown.available, false);
    assert.equal(shown.unavailable, LAB_SITES_OFF);
    assert.match(LAB_SITES_OFF, /npm run lab:sites/);
    assert.equal(ctx.store.get('sites'), undefined);
    const pressed = ctx.run('sites-scan', { payload: { action: 'scan' } })!;
    assert.equal(pressed[1], null, 'no scan leaves');
    assert.deepEqual(pressed[2], { topic: 'error', payload: { message: LAB_SITES_OFF, form: true } });
    assert.equal(ctx.store.get('running'), undefined);
  });

  it('agents online and offline from the coordinator\'s events; the connection; bounded texts', () => {
    const ctx = sitesContext(true);
    let panel = panelOf(ctx.run('sites', { topic: 'show' }));
    assert.equal(panel.available, true);
    assert.equal(panel.connected, null);
    assert.deepEqual(panel.agents, []);
    ctx.run('sites', agent('south', 'south-1', 'online'));
    panel = panelOf(ctx.run('sites', agent('north', 'north-1', 'online', T0 + 1000)));
    assert.deepEqual(panel.agents.map((a) => [a.site, a.login, a.online, a.state]), [['north', 'north-1', true, 'online (10:00:01)'], ['south', 'south-1', true, 'online (10:00:00)']]);
    assert.equal(panel.connected, true, 'a status arrives only over the coordinator\'s connection');
    assert.deepEqual(panel.sites.map((s) => [s.name, s.online, s.agents]), [['north', 1, 1], ['south', 1, 1]]);
    panel = panelOf(ctx.run('sites', agent('south', 'south-1', 'offline', T0 + 2000)));
    assert.deepEqual(panel.sites.map((s) => [s.name, s.online]), [['north', 1], ['south', 0]]);
    assert.equal(panelOf(ctx.run('sites', { payload: { type: 'connection', connected: false } })).connected, false);
    panel = panelOf(ctx.run('sites', { payload: { type: 'warning', error: 'x'.repeat(1000) } }));
    assert.equal(panel.warnings.length, 1);
    assert.ok(panel.warnings[0].length <= 310);
    assert.equal(ctx.run('sites', { payload: { type: 'agent', agent: { login: 'no-site' } } }), null, 'an event it cannot read changes nothing');
    assert.equal(ctx.run('sites', { payload: { type: 'something-else' } }), null);
  });

  it('"Scan both sites": the lab\'s targets and ports to the coordinator with the login\'s name (no login), the form\'s lock, start and show', () => {
    const ctx = sitesContext(true);
    ctx.run('sites', agent('north', 'north-1', 'online'));
    const o = ctx.run('sites-scan', { payload: { action: 'scan' } })!;
    const scan = o[1] as Record<string, unknown>;
    assert.deepEqual(scan.payload, { targets: STATE.targets, ports: STATE.ports });
    assert.equal(scan.credentialsName, 'lab');
    assert.deepEqual(scan.sites, ['north', 'south']);
    assert.equal(scan.scanSource, 'dashboard');
    assert.equal('credentials' in scan, false);
    assert.deepEqual(scan.sniff, { listen: 5, writeTest: false });
    const id = scan.scanId as string;
    assert.deepEqual(o[2], { topic: 'start', payload: { scanId: id, target: STATE.targets, ports: STATE.ports, listen: 5, writeTest: false, withLogin: true } });
    assert.deepEqual(o[3], { topic: 'show' });
    assert.match(panelOf(o).notice!.text, /no agent of south is online yet/);
    assert.equal((ctx.store.get('running') as { scanId: string }).scanId, id);
    assert.equal((ctx.store.get('current') as { scanId: string; withLogin: boolean }).withLogin, true);
    // A second press while it runs: refused, as the form refuses.
    const again = ctx.run('sites-scan', { payload: { action: 'scan' } })!;
    assert.equal(again[1], null);
    assert.equal(panelOf(again).notice!.kind, 'error');
    assert.match(panelOf(again).notice!.text, /A scan is running/);
  });

  it('the browser\'s messages go to "sites-scan", which takes the button only: a tab cannot forge the coordinator\'s events or "show" for every tab; "sites" starts no scan', () => {
    // node-red-dashboard passes on whatever a tab sends (any topic and payload) to the panel's output.
    const ctx = sitesContext(true);
    ctx.run('sites', agent('north', 'north-1', 'online'));
    const id = ((ctx.run('sites-scan', { payload: { action: 'scan' } })![1]) as { scanId: string }).scanId;
    ctx.run('sites', { payload: { type: 'plan', scanId: id, shards: { north: 1 }, outsideSpecs: 0 } });
    const before = JSON.stringify(ctx.store.get('sites'));
    const forged = [
      agent('north', 'north-1', 'offline'), agent('north', 'evil-1', 'online'),
      { payload: { type: 'warning', error: 'north-1 is compromised' } }, { payload: { type: 'end', scanId: id, results: 0, cancelled: false, notDoneCount: 0 } },
      { payload: { type: 'plan', scanId: 'forged', shards: { north: 1 } } }, { payload: { type: 'connection', connected: false } },
      { topic: 'show' }, { topic: 'show', payload: { action: 'none' } },
    ];
    for (const msg of forged) assert.equal(ctx.run('sites-scan', msg), null, JSON.stringify(msg));
    assert.equal(JSON.stringify(ctx.store.get('sites')), before, 'the panel\'s state is as the coordinator left it');
    assert.equal(ctx.run('sites', { payload: { action: 'scan' } }), null, 'the events\' view starts no scan');
  });

  it('on start ("show"), the kept panel forgets agents the lab does not run and the warnings of the run before (the flow context outlives a restart)', () => {
    const ctx = sitesContext(true);
    ctx.store.set('sites', {
      agents: {
        'north/north-1': { site: 'north', login: 'north-1', online: true, seenAt: T0 },
        'north/evil-1': { site: 'north', login: 'evil-1', online: true, seenAt: T0 },
        'south/north-1': { site: 'south', login: 'north-1', online: false, seenAt: T0 },
      },
      connected: true, scan: null, warnings: [{ at: T0, text: 'north-1 is compromised' }],
    });
    const panel = panelOf(ctx.run('sites', { topic: 'show' }));
    assert.deepEqual(panel.agents.map((a) => `${a.site}/${a.login}`), ['north/north-1']);
    assert.deepEqual(panel.warnings, []);
    assert.deepEqual(Object.keys((ctx.store.get('sites') as { agents: object }).agents), ['north/north-1']);
  });

  it('plan, shards, progress per site and the end: granted, done, published again; the end of a scan restarted', () => {
    const ctx = sitesContext(true);
    const id = ((ctx.run('sites-scan', { payload: { action: 'scan' } })![1]) as { scanId: string }).scanId;
    ctx.run('sites', { payload: { type: 'plan', scanId: id, targets: 10, shards: { north: 1, south: 1 }, outside: [], outsideSpecs: 0 } });
    ctx.run('sites', { payload: { type: 'shard', scanId: id, shard: { site: 'north', shard: 0, state: 'held', attempts: 1, holder: 'north-1', size: 5 } } });
    ctx.run('sites', { payload: { type: 'shard', scanId: id, shard: { site: 'south', shard: 1, state: 'published', attempts: 2, size: 5 } } });
    assert.equal(ctx.run('sites', { payload: { type: 'shard', scanId: 'another', shard: { site: 'south', shard: 9, state: 'done', attempts: 1, size: 5 } } }), null, 'another scan\'s shard');
    let panel = panelOf(ctx.run('sites', { payload: { type: 'progress', scanId: id, sites: { north: { shards: 1, done: 0, held: 1, notDone: 0, swept: 2, total: 5 }, south: { shards: 1, done: 0, held: 0, notDone: 0, swept: 0, total: 5 } } } }));
    assert.deepEqual(panel.scan, { scanId: id, state: 'running', granted: 1, done: 0, requeued: 1, notDone: 0, outside: 0, results: null, noAgent: '' });
    assert.deepEqual(panel.sites.map((s) => [s.name, s.shards, s.held, s.swept, s.total, s.percent]), [['north', 1, 1, 2, 5, 40], ['south', 1, 0, 0, 5, 0]]);
    ctx.run('sites', { payload: { type: 'shard', scanId: id, shard: { site: 'south', shard: 1, state: 'done', attempts: 2, holder: 'south-1', size: 5 } } });
    panel = panelOf(ctx.run('sites', { payload: { type: 'end', scanId: id, results: 10, cancelled: false, notDoneCount: 0 } }));
    assert.equal(panel.scan!.state, 'done');
    assert.equal(panel.scan!.results, 10);
    // A scan still "running" when the flows start again is over.
    ctx.run('sites', { payload: { type: 'plan', scanId: 'later', shards: { north: 1 }, outsideSpecs: 0 } });
    assert.equal(panelOf(ctx.run('sites', { topic: 'show' })).scan!.state, 'interrupted');
  });
});

describe('HTTP API: "sites" in POST /api/scan', () => {
  it('true or site names; refused with creds, ca or the plain-text opt-in, or a bad name', () => {
    const check = (body: Record<string, unknown>) => checkScanRequest(JSON.stringify({ target: '127.0.0.1', ...body }), '1883');
    assert.equal((check({}) as { sites: unknown }).sites, null);
    assert.equal((check({ sites: false }) as { sites: unknown }).sites, null);
    assert.equal((check({ sites: true }) as { sites: unknown }).sites, true);
    assert.deepEqual((check({ sites: ['north'] }) as { sites: unknown }).sites, ['north']);
    assert.deepEqual((check({ sites: 'north, south' }) as { sites: unknown }).sites, ['north', 'south']);
    for (const [body, field] of [
      [{ sites: 'North!' }, 'sites'], [{ sites: [] }, 'sites'], [{ sites: 3 }, 'sites'],
      [{ sites: true, creds: { user: 'student', pass: 'x' } }, 'creds'],
      [{ sites: true, send_credentials_plaintext: true }, 'send_credentials_plaintext'],
    ] as const) {
      const r = check(body) as unknown as { ok: boolean; status: number; body: { field: string } };
      assert.equal(r.ok, false, JSON.stringify(body));
      assert.equal(r.status, 400);
      assert.equal(r.body.field, field, JSON.stringify(body));
    }
  });

  it('the api-scan view: a sites scan goes out on output 3 with the lab\'s site names and the login\'s name; outside the sites lab, 400 naming sites', () => {
    const post = (body: Record<string, unknown>) => ({ payload: JSON.stringify(body), apiKeyId: 'key0', req: { body: null }, res: {} });
    const on = sitesContext(true).run('api-scan', post({ target: '127.0.0.1,127.0.0.2', sites: true, try_defaults: true }))!;
    assert.equal(on.length, 3);
    assert.deepEqual([on[0], on[1]], [null, null]);
    const msg = on[2] as Record<string, unknown>;
    assert.deepEqual(msg.sites, ['north', 'south']);
    assert.equal(msg.credentialsName, 'lab');
    assert.equal(msg.tryDefaults, true);
    assert.equal('credentials' in msg, false);
    const local = sitesContext(true).run('api-scan', post({ target: '127.0.0.1' }))!;
    assert.ok(local[0] && !local[2], 'without "sites": the local scan, as before');
    const off = sitesContext(false).run('api-scan', post({ target: '127.0.0.1', sites: ['north'] }))!;
    assert.deepEqual([off[0], off[2]], [null, null]);
    const answer = off[1] as { statusCode: number; payload: { field: string; message: string } };
    assert.equal(answer.statusCode, 400);
    assert.equal(answer.payload.field, 'sites');
    assert.match(answer.payload.message, /npm run lab:sites/);
  });
});

describe('HTTP API: a coordinated scan\'s end and failures', () => {
  it('api-sites-events keeps what the answer warns about (targets in no scope, shards not done); api-answer adds it to warnings', () => {
    const ctx = sitesContext(true);
    assert.equal(ctx.run('api-sites-events', { payload: { type: 'progress', scanId: 's1' } }), null);
    ctx.run('api-sites-events', { payload: { type: 'end', scanId: 's1', outside: ['127.0.0.9'], outsideSpecs: 1, notDoneCount: 2, notDone: [
      { site: 'north', shard: 0, refusals: [{ login: 'north-1', attempt: 3, code: 'option', reason: 'this agent does not run write tests (--allow-write-test)' }], problems: ['attempt 3: refused'] },
      { site: 'south', shard: 1, refusals: [], problems: ['the scan deadline passed'] },
    ] } });
    ctx.store.set('pending', { s1: T0 });
    const o = ctx.run('api-answer', { scanId: 's1', res: {}, payload: { files: {} }, report: {} })!;
    const body = (o[0] as { payload: { warnings: string[] } }).payload;
    assert.deepEqual(body.warnings, [
      'target: 127.0.0.9: in no site\'s scope, not scanned',
      'sites: 2 shards not done: their targets are missing from the results (north shard 0: north-1 refused (option): this agent does not run write tests (--allow-write-test); south shard 1: the scan deadline passed)',
    ]);
    assert.deepEqual(ctx.store.get('sitesEnd'), {}, 'used once');
  });

  it('the site coordinator refusing a request: 400 naming sites or target, not counted; anything else from it: 500', () => {
    const source = { type: 'mqttsec-site-coordinator', id: 'api-sites-coord' };
    const site = scanFailureAnswer({ message: 'sites: "west" is not a site of this coordinator (north, south)', source }, 's');
    assert.deepEqual([site.status, site.refused, (site.body as { field: string }).field], [400, true, 'sites']);
    const host = scanFailureAnswer({ message: '"localhost": cannot resolve hostname localhost (host names are not taken in a coordinated scan (localhost); give addresses)', source }, 's');
    assert.deepEqual([host.status, host.refused, (host.body as { field: string }).field], [400, true, 'target']);
    const other = scanFailureAnswer({ message: 'not connected to the coordinator\'s broker', source }, 's');
    assert.deepEqual([other.status, other.refused], [500, false]);
  });
});
