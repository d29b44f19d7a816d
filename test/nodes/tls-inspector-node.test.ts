// The TLS inspector node in a real Node-RED runtime, fed by the real broker probe and real
// mosquitto brokers: tls added, plain results and completion passed on, Catch, status, close.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import { generateClientCert } from '../../lab/certs';
import type { ScanResult, ScanSummary, TlsInfo } from '../../lib/types';
import { INSPECTION_DESCRIPTORS } from '../../lib/pipeline';
import { collect, helper, load, NODES, type FlowNode } from './node-red';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto';
import { requireTool } from '../support/tools';

const inspectorNode = require('../../dist/nodes/mqttsec-tls-inspector.js');
const ALL = [NODES.probe, inspectorNode, NODES.catch, NODES.tls];
type Msg = Record<string, unknown>;
const isComplete = (msgs: Msg[]) => msgs.some((m) => m.complete === true);
const tlsOf = (m: Msg) => (m.payload as ScanResult).tls as TlsInfo;

/** probe -> inspector -> out, with the probe also wired to `raw` (what the inspector was given). */
function flow(inspector: Partial<FlowNode> = {}, probe: Partial<FlowNode> = {}): FlowNode[] {
  const nodes: FlowNode[] = [
    { id: 'probe', type: 'mqttsec-broker-probe', timeout: 1500, concurrency: 8, probeConcurrency: 4, transport: 'auto', versions: 'both', tlsPorts: '', emitUnreachable: false, wires: [['insp', 'raw']], ...probe },
    { id: 'insp', type: 'mqttsec-tls-inspector', timeout: 1500, checkVersions: true, checkCiphers: true, wires: [['out']], ...inspector },
    { id: 'out', type: 'helper' },
    { id: 'raw', type: 'helper' },
    { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper' },
  ];
  return [{ id: 'flow1', type: 'tab', label: 'test' }, ...nodes.map((n) => ({ z: 'flow1', ...n }))];
}
const tlsConfig = (id = 'tlsconf'): FlowNode => ({ id, type: 'tls-config', z: 'flow1', cert: '', key: '', ca: '', verifyservercert: true });

describe('nodes: TLS inspector in Node-RED', function () {
  let insecure: MosquittoBroker;
  let secure: MosquittoBroker;
  let demanding: MosquittoBroker;

  before(async function () {
    requireTool(this, 'mosquitto');
    [insecure, secure, demanding] = await Promise.all([
      startMosquitto('insecure'),
      startMosquitto('secure'),
      startMosquitto('secure', { requireCertificate: true }),
    ]);
  });
  afterEach(async () => {
    await helper.unload();
  });
  after(async () => {
    await Promise.all([insecure?.stop(), secure?.stop(), demanding?.stop()]);
  });

  it('adds payload.tls to a TLS probe result, trusting the CA of its TLS config; the completion follows, its duration covering the inspection', async () => {
    await load(ALL, [...flow({ tls: 'tlsconf' }), tlsConfig()], { tlsconf: { cadata: secure.ca!.certPem } });
    const out = collect('out', isComplete);
    const raw = collect('raw', isComplete);
    const statuses: Msg[] = [];
    (helper.getNode('insp') as unknown as NodeJS.EventEmitter).on('call:status', (call: { args: Msg[] }) => statuses.push(call.args[0]));
    helper.getNode('probe').receive({ payload: `127.0.0.1:${secure.port}` });
    const [msgs, given] = await Promise.all([out, raw]);

    assert.equal(msgs.length, 2);
    const tls = tlsOf(msgs[0]);
    assert.equal((msgs[0].payload as ScanResult).transport, 'tls');
    assert.equal(tls.error, null);
    assert.equal(tls.protocol, 'TLSv1.3');
    assert.equal(tls.certificate?.trusted, true);
    assert.equal(tls.certificate?.subject, 'CN=127.0.0.1, O=MQTT Security Lab');
    assert.deepEqual(tls.versions, { TLSv1: false, 'TLSv1.1': false, 'TLSv1.2': true, 'TLSv1.3': true });
    assert.equal(tls.clientCertRequired, false);
    assert.equal(tls.score, 100);
    assert.equal((msgs[0].payload as ScanResult).classification, (given[0].payload as ScanResult).classification, 'the probe part is kept');

    assert.equal(msgs[1].complete, true, 'the completion message comes last');
    // The summary is the probe's, its duration stretched to cover the inspection (issue 18: one figure).
    const before = given[1].payload as ScanSummary;
    const after = msgs[1].payload as ScanSummary;
    const { finishedAt: _f1, durationMs: _d1, ...beforeRest } = before;
    const { finishedAt: _f2, durationMs: _d2, ...afterRest } = after;
    assert.deepEqual(afterRest, beforeRest);
    assert.equal(after.startedAt, before.startedAt);
    assert.ok(after.durationMs >= before.durationMs && Date.parse(after.finishedAt) - Date.parse(after.startedAt) === after.durationMs, JSON.stringify(after));
    assert.equal(msgs[1].scanId, given[1].scanId);
    // The test helper's RED._ returns the key itself; the catalog test below checks the keys exist.
    assert.deepEqual(statuses.map((s) => s.text), ['mqttsec-tls-inspector.status.inspecting', 'mqttsec-tls-inspector.status.done']);
  });

  it('a scan\'s own CA (msg.tlsCa: the dashboard\'s CA field, the API\'s ca) is trusted by that scan only; a bad one is refused naming it', async () => {
    const chain = [NODES.expander, ...ALL];
    const withExpander = (): FlowNode[] => [
      ...flow(),
      { id: 'exp', type: 'mqttsec-target-expander', z: 'flow1', targets: '127.0.0.1', ports: String(secure.port), maxTargets: 16, batchSize: 16, allowPublic: false, wires: [['probe']] },
    ];
    await load(chain, withExpander());
    const scanOf = async (msg: Msg) => {
      const out = collect('out', isComplete);
      helper.getNode('exp').receive(msg);
      return tlsOf((await out).find((m) => m.complete !== true)!);
    };
    // openssl prints "subject=..." lines around the PEM: only the PEM blocks are kept.
    const pasted = `subject=CN = MQTT Security Lab CA\n${secure.ca!.certPem}\n`;
    const trusted = await scanOf({ payload: { targets: '127.0.0.1', ports: String(secure.port) }, tlsCa: pasted });
    assert.equal(trusted.certificate?.trusted, true, JSON.stringify(trusted.certificate));
    const unknown = await scanOf({ payload: { targets: '127.0.0.1', ports: String(secure.port) } });
    assert.equal(unknown.certificate?.trusted, false, 'the next scan without the CA does not trust it');
    const caught = collect('caught', (m) => m.length >= 1);
    helper.getNode('exp').receive({ payload: { targets: '127.0.0.1', ports: String(secure.port) }, tlsCa: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----' });
    const [err] = await caught;
    assert.match(String((err.error as { message: string }).message), /^(Error: )?msg\.tlsCa \(CA certificate\): it holds a private key/);
  });

  it('passes a plain TCP result on with tls null and a note', async () => {
    await load(ALL, flow());
    const out = collect('out', isComplete);
    helper.getNode('probe').receive({ payload: `127.0.0.1:${insecure.port}` });
    const [result] = await out;
    assert.equal((result.payload as ScanResult).transport, 'tcp');
    assert.equal((result.payload as ScanResult).tls, null);
    assert.equal(result.note, 'mqttsec-tls-inspector.note.notTls');
  });

  it('presents the client certificate of its TLS config to a broker that demands one', async () => {
    const client = generateClientCert(demanding.ca!, { commonName: 'scanner' });
    const creds = { tlsconf: { cadata: demanding.ca!.certPem, certdata: client.certPem, keydata: client.keyPem } };
    await load(ALL, [...flow({ tls: 'tlsconf', checkCiphers: false }, { tls: 'tlsconf' }), tlsConfig()], creds);
    const out = collect('out', isComplete);
    helper.getNode('probe').receive({ payload: `127.0.0.1:${demanding.port}` });
    const tls = tlsOf((await out)[0]);
    assert.equal(tls.clientCertRequired, true);
    assert.equal(tls.clientCertAccepted, true);
    assert.equal(tls.weakCiphers, undefined, 'checkCiphers off');
  });

  it('input that is not a scan result reaches a Catch node', async () => {
    await load(ALL, flow());
    const caught = collect('caught', (m) => m.length === 1);
    helper.getNode('insp').receive({ payload: 'nonsense' });
    const [msg] = await caught;
    assert.match((msg.error as { message: string }).message, /expected a scan result from the broker probe/);
  });

  it('inspects as many brokers at once as the process can hold, not a fixed 8 (as mqtt-scan does)', async () => {
    // A stand-in for TLS ports that never finish a handshake (filtered or hung): no real broker
    // holds a handshake open, and only held handshakes show how many inspections run at once.
    const server = net.createServer((s) => s.on('error', () => undefined).resume());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const brokers = 20;
    try {
      await load(ALL, flow({ timeout: 30_000 }));
      for (let i = 0; i < brokers; i++) {
        helper.getNode('insp').receive({ payload: { scanId: 's', host: '127.0.0.1', port, transport: 'tls', reachability: 'open' } });
      }
      // Each inspection opens its main handshake, the version probes and the five weak cipher
      // families at once: at most INSPECTION_DESCRIPTORS (11) connections. Eight inspections (the
      // old fixed bound) hold at most 88; twenty hold more. The window grows while the event
      // loop idles (lib/pipeline SetupWindow), which it does here: every handshake waits.
      const held = 8 * INSPECTION_DESCRIPTORS;
      let seen = 0;
      for (let i = 0; i < 50 && seen <= held; i++) {
        await new Promise((r) => setTimeout(r, 100));
        seen = await connections(server);
      }
      assert.ok(seen > held, `${seen} connections held: more than 8 inspections must be in flight`);
    } finally {
      await helper.unload();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('closing the flow aborts every inspection in flight and sends nothing more', async () => {
    const server = net.createServer((s) => s.on('error', () => undefined).resume()); // accepts, never answers TLS
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      await load(ALL, flow({ timeout: 30_000 }));
      let sent = 0;
      helper.getNode('out').on('input', () => sent++);
      for (let i = 0; i < 3; i++) {
        helper.getNode('insp').receive({ payload: { scanId: 's', host: '127.0.0.1', port, transport: 'tls', reachability: 'open' } });
      }
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(await connections(server) >= 3, 'the inspections are connected');
      const started = Date.now();
      await helper.unload();
      assert.ok(Date.now() - started < 3000, `unload took ${Date.now() - started} ms`);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(await connections(server), 0, 'no connection left open');
      assert.equal(sent, 0);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('nodes: TLS inspector i18n', () => {
  it('every status and note key the node uses is in the en-US catalog', () => {
    const source = readFileSync(join(__dirname, '../../nodes/mqttsec-tls-inspector.ts'), 'utf8');
    const catalog = JSON.parse(readFileSync(join(__dirname, '../../nodes/locales/en-US/mqttsec-tls-inspector.json'), 'utf8'))['mqttsec-tls-inspector'];
    const keys = [...source.matchAll(/\bt\('([\w.]+)'/g)].map((m) => m[1]);
    assert.ok(keys.length >= 5, `found ${keys}`);
    for (const key of keys) {
      const text = key.split('.').reduce((o: Record<string, unknown> | undefined, k) => o?.[k] as Record<string, unknown> | undefined, catalog);
      assert.equal(typeof text, 'string', `missing ${key}`);
    }
  });
});

function connections(server: net.Server): Promise<number> {
  return new Promise((r) => server.getConnections((_e, n) => r(n)));
}
