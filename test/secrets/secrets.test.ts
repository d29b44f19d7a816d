// A scan with a password, then a search for that password in everything we produce: the flow
// export and the files Node-RED keeps, the Node-RED log, every message leaving our nodes, the
// reports, the API's answers and the dashboard's HTML. It must appear nowhere. Nor may the secrets
// that devices publish on the broker (retained payloads, issue 16 kind 3): the scan reads them,
// and every output shows them masked.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { apiKeyFromBanner, labUsers, startLab, stopLab, type LabProcess } from '../support/lab-process';
import { requireTool } from '../support/tools';
import mqtt from 'mqtt';
import { ALL_PAYLOAD_SECRETS as PAYLOAD_ONLY_SECRETS, ECOSYSTEM_FIXTURES, ECOSYSTEM_MESSAGES, ECOSYSTEM_SECRETS, PAYLOAD_SECRETS } from '../support/payload-secrets';

/** Devices' secrets and the fixtures' position: none may appear in any output. */
const ALL_PAYLOAD_SECRETS = [...PAYLOAD_ONLY_SECRETS, ...ECOSYSTEM_SECRETS];



/** Every file under dir, except the lab's own store of the passwords it generated. */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'lab-secrets') return [];
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

describe('secrets: the password appears nowhere', function () {
  this.timeout(120_000);
  let lab: LabProcess;
  let password: string;
  let key: string;
  const seen: Array<{ where: string; text: string }> = [];
  const see = (where: string, text: string) => seen.push({ where, text });

  before(async function () {
    requireTool(this, 'pdftotext');
    lab = await startLab();
    key = apiKeyFromBanner(lab.output())!;
    // The board's password: the launcher never prints it, unlike the student's.
    password = labUsers(lab.userDir).esp32;
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${lab.ports.insecure}`, { reconnectPeriod: 0, connectTimeout: 5000 }, false);
    for (const p of PAYLOAD_SECRETS) await client.publishAsync(p.topic, p.payload, { qos: 1, retain: true });
    // Every device ecosystem's fixture (Sparkplug B births too, retained here so the scan reads them).
    for (const m of ECOSYSTEM_MESSAGES) await client.publishAsync(m.topic, m.payload, { qos: 1, retain: true });
    await client.endAsync();
  });
  after(async () => {
    if (lab) await stopLab(lab); // removes the user directory, also when the lab already stopped
  });

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(lab.url(path), {
      method,
      headers: { 'X-API-KEY': key, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const buf = Buffer.from(await res.arrayBuffer());
    return { status: res.status, buf, text: buf.toString('utf8') };
  };

  it('scans through the HTTP API with the password, and through a deployed flow with a credentials node', async () => {
    const { insecure, secure } = lab.ports;
    const scan = await api('POST', '/api/scan', { target: '127.0.0.1', ports: [insecure, secure], creds: { user: 'esp32', pass: password }, listen_duration: 1 });
    assert.equal(scan.status, 200, scan.text.slice(0, 300));
    const body = JSON.parse(scan.text);
    assert.equal(body.results.find((r: { port: number }) => r.port === secure).auth.givenCredentials.outcome, 'accepted', 'the password was really used');
    // The retained secrets were read, flagged, and masked.
    const items = (body.results.find((r: { port: number }) => r.port === insecure).topics?.items ?? []) as Array<{ topic: string; sensitive?: string[]; sample?: string }>;
    for (const p of PAYLOAD_SECRETS) {
      const item = items.find((i) => i.topic === p.topic);
      assert.ok(item, `${p.topic} was read: ${items.map((i) => i.topic).join(', ')}`);
      assert.ok(item.sensitive?.length, `${p.topic} is flagged sensitive (${JSON.stringify(item)})`);
      assert.match(item.sample ?? '', /\*\*\*|^\[withheld: /, `${p.topic}: the sample is masked or withheld: ${JSON.stringify(item)}`);
    }
    // Every ecosystem's fixture was read and recognised (so the leak checks below cover them).
    const devices = body.results.find((r: { port: number }) => r.port === insecure).topics?.devices as { ecosystems: Array<{ id: string }> } | undefined;
    assert.deepEqual(devices?.ecosystems.map((e) => e.id).sort(), Object.keys(ECOSYSTEM_FIXTURES).sort(), JSON.stringify(devices));
    see('POST /api/scan answer', scan.text);
    see('GET /api/results', (await api('GET', '/api/results')).text);
    for (const [format, path] of Object.entries(body.reports as Record<string, string>)) {
      const file = await api('GET', path);
      assert.equal(file.status, 200, `${path}: ${file.text.slice(0, 200)}`);
      if (format === 'pdf') {
        // PDF text streams are compressed: search the extracted text.
        const text = spawnSync('pdftotext', ['-', '-'], { input: file.buf, encoding: 'utf8' }).stdout;
        assert.match(text, /MQTT Security Assessment/);
        see('PDF report (text)', text);
      } else {
        see(`${format} report`, file.text);
      }
    }

    // A flow of our nodes whose credentials node holds the password; every message any of our
    // nodes sends is written to the Node-RED log by a function node, so the log holds them all.
    const logAll = (id: string) => ({ id, type: 'function', z: 'sec-tab', name: 'log', func: 'node.warn("MSG " + JSON.stringify(msg)); return null;', outputs: 1, wires: [[]] });
    const flow = [
      { id: 'sec-tab', type: 'tab', label: 'secrets' },
      { id: 'sec-creds', type: 'mqttsec-credentials', name: 'board', credentials: { username: 'esp32', password } },
      // The lab CA (the launcher exports its path): the secure broker is trusted, so the login may go.
      { id: 'sec-ca', type: 'tls-config', name: 'lab CA', cert: '', key: '', ca: '${MQTTSEC_LAB_CA}', verifyservercert: false },
      { id: 'sec-inject', type: 'inject', z: 'sec-tab', props: [{ p: 'payload' }], payload: '', payloadType: 'date', wires: [['sec-exp']] },
      { id: 'sec-exp', type: 'mqttsec-target-expander', z: 'sec-tab', targets: '127.0.0.1', ports: `${insecure},${secure}`, maxTargets: 65536, batchSize: 256, allowPublic: false, wires: [['sec-probe', 'sec-log1']] },
      { id: 'sec-probe', type: 'mqttsec-broker-probe', z: 'sec-tab', auth: 'sec-creds', tls: 'sec-ca', timeout: 2000, concurrency: 64, probeConcurrency: 8, transport: 'auto', versions: 'both', tlsPorts: '', emitUnreachable: false, wires: [['sec-sniff', 'sec-log2']] },
      // Live mode: every message heard goes out the second output too (and into the log).
      { id: 'sec-sniff', type: 'mqttsec-topic-sniffer', z: 'sec-tab', auth: 'sec-creds', tls: 'sec-ca', listen: 1, live: true, outputs: 2, wires: [['sec-risk', 'sec-log3'], ['sec-log3']] },
      { id: 'sec-risk', type: 'mqttsec-risk-classifier', z: 'sec-tab', wires: [['sec-log4']] },
      logAll('sec-log1'), logAll('sec-log2'), logAll('sec-log3'), logAll('sec-log4'),
    ];
    const deploy = await fetch(lab.url('/flows'), { method: 'POST', headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify(flow) });
    assert.ok(deploy.ok, `deploy: ${deploy.status} ${await deploy.text()}`);
    // The new flows start a moment after the deploy answers.
    let fire = await fetch(lab.url('/inject/sec-inject'), { method: 'POST' });
    for (let i = 0; i < 40 && fire.status === 404; i++) {
      await new Promise((r) => setTimeout(r, 250));
      fire = await fetch(lab.url('/inject/sec-inject'), { method: 'POST' });
    }
    assert.equal(fire.status, 200, `inject: ${await fire.text()}`);
    const deadline = Date.now() + 30_000;
    while (!/MSG .*"classification":"open_or_auth_ok".*"risk"/.test(lab.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    assert.match(lab.output(), /MSG .*"givenCredentials":\{"outcome":"accepted"/, 'the probe used the credentials node, and its messages were logged');
    assert.match(lab.output(), /MSG .*"as":"given credentials"/, 'the sniffer logged in with it too');

    see('GET /flows (flow export)', await (await fetch(lab.url('/flows'))).text());
    see('dashboard HTML', await (await fetch(lab.url('/ui/'))).text());
  });

  it('…in the API answers, the reports, the flow export and the dashboard', () => {
    assert.ok(seen.length >= 7);
    for (const { where, text } of seen) {
      assert.ok(!text.includes(password), `the password is in: ${where}`);
      for (const secret of ALL_PAYLOAD_SECRETS) assert.ok(!text.includes(secret), `a device's secret (${secret.slice(0, 4)}…) is in: ${where}`);
    }
  });

  it('…in the Node-RED log, which holds every message our nodes sent (the live output too)', () => {
    assert.ok(lab.output().includes('MSG '), 'messages were logged');
    assert.match(lab.output(), /MSG .*"topic":"lab\/fixtures\/esp32-07\/config"/, 'the live output logged the fixture topics');
    assert.ok(!lab.output().includes(password), 'the password is in the Node-RED log');
    for (const secret of ALL_PAYLOAD_SECRETS) assert.ok(!lab.output().includes(secret), `a device's secret (${secret.slice(0, 4)}…) is in the Node-RED log`);
  });

  it('…in any file Node-RED or our nodes keep (flows, context, reports); flows_cred.json is encrypted', () => {
    const all = files(lab.userDir);
    assert.ok(all.some((f) => f.endsWith('flows_cred.json')), 'the credentials were stored (encrypted)');
    assert.ok(all.some((f) => /\.pdf$/.test(f)), 'reports were written');
    for (const f of all) {
      const bytes = readFileSync(f);
      assert.ok(!bytes.includes(password), `the password is in ${relative(lab.userDir, f)}`);
      for (const secret of ALL_PAYLOAD_SECRETS) assert.ok(!bytes.includes(secret), `a device's secret (${secret.slice(0, 4)}…) is in ${relative(lab.userDir, f)}`);
    }
  });

  it('…and every file and folder the lab keeps (flows, context with results and history, reports) is its owner\'s only', async () => {
    // Node-RED writes its context files (results, topic samples, history) at the latest when it stops.
    await stopLab(lab, { keepUserDir: true });
    const all = files(lab.userDir);
    assert.ok(all.some((f) => /\.pdf$/.test(f)) && all.some((f) => f.endsWith('flows.json')) && all.some((f) => f.includes(`${sep}context${sep}`)), all.join(', '));
    for (const f of all) {
      assert.equal(statSync(f).mode & 0o077, 0, `${relative(lab.userDir, f)} is mode ${(statSync(f).mode & 0o777).toString(8)}`);
      assert.equal(statSync(dirname(f)).mode & 0o077, 0, `${relative(lab.userDir, dirname(f))}/ is open to others`);
    }
  });
});
