// Issue 14, kind 5: a real mosquitto listener with psk_hint and psk_file only (no certificate).
// Every certificate handshake is refused, so nothing about it can be rated: the scan must say it
// takes only pre-shared keys (its identity hint, from a handshake that offers only PSK suites with
// a throwaway identity) and rate it "not rated" with the reason, never LOW/100. The CLI (also with
// --no-tls-inspect: the probe alone) and the flow chain probe -> TLS inspector -> risk classifier
// must give the same verdict (test/support/verdicts.ts).
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto';
import { requireTool } from '../support/tools';
import { diffVerdicts, formatDiffs } from '../support/verdicts';
import { collect, helper, load, type FlowNode, SCAN_CHAIN } from '../nodes/node-red';
import type { ScanResult } from '../../lib/types';

const CLI = resolve(__dirname, '../../dist/cli/index.js');
const CHAIN = SCAN_CHAIN;
const HOST = '127.0.0.1';
const HINT = 'meter-fleet-7';
const TIMEOUT_MS = 2000;

describe('pipeline: a mosquitto listener that takes only pre-shared keys is "not rated", never LOW/100', function () {
  this.timeout(60_000);
  let broker: MosquittoBroker | undefined;
  let pskDir = '';

  before(async function () {
    requireTool(this, 'mosquitto');
    pskDir = mkdtempSync(join(tmpdir(), 'mqttsec-psk-'));
    writeFileSync(join(pskDir, 'psk'), 'meter01:00112233445566778899aabbccddeeff\n', { mode: 0o600 });
    broker = await startMosquitto({ conf: ['listener 1883', 'allow_anonymous true', `psk_hint ${HINT}`, `psk_file ${join(pskDir, 'psk')}`, 'log_dest file mosquitto.log'].join('\n') });
  });

  afterEach(async () => {
    await helper.unload();
  });

  after(async () => {
    await broker?.stop();
    if (pskDir) rmSync(pskDir, { recursive: true, force: true });
  });

  function runCli(...extra: string[]): Promise<string> {
    const args = [CLI, '--target', HOST, '--ports', String(broker!.port), '--timeout', String(TIMEOUT_MS), '--listen', '1', ...extra];
    return new Promise((res, rej) => {
      execFile(process.execPath, args, { timeout: 30_000 }, (err, stdout, stderr) => (err ? rej(new Error(`mqtt-scan failed: ${err.message}\n${stderr}`)) : res(stdout)));
    });
  }

  async function runFlow(): Promise<ScanResult[]> {
    const flow: FlowNode[] = [
      { id: 'tab', type: 'tab', label: 'psk' },
      ...[
        { id: 'expander', type: 'mqttsec-target-expander', targets: HOST, ports: '1883', maxTargets: 16, batchSize: 16, allowPublic: false, wires: [['probe']] },
        { id: 'probe', type: 'mqttsec-broker-probe', timeout: TIMEOUT_MS, concurrency: 16, probeConcurrency: 4, transport: 'auto', versions: 'both', tlsPorts: '443,8081,8084,8443,8883-8887', emitUnreachable: true, wires: [['inspector']] },
        { id: 'inspector', type: 'mqttsec-tls-inspector', timeout: TIMEOUT_MS, checkVersions: true, checkCiphers: true, wires: [['risk']] },
        { id: 'risk', type: 'mqttsec-risk-classifier', rules: [], wires: [['out']] },
        { id: 'out', type: 'helper' },
        { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper' },
      ].map((n) => ({ z: 'tab', ...n }) as FlowNode),
    ];
    await load(CHAIN, flow);
    const errors: Array<Record<string, unknown>> = [];
    helper.getNode('caught').on('input', (m: Record<string, unknown>) => errors.push(m));
    const done = collect('out', (msgs) => msgs.some((m) => m.complete === true), 30_000);
    helper.getNode('expander').receive({ payload: { targets: HOST, ports: String(broker!.port) } });
    const msgs = await done;
    assert.deepEqual(errors, [], 'no node of the flow reported an error');
    return msgs.filter((m) => m.complete !== true).map((m) => m.payload as ScanResult);
  }

  function assertPskNotRated(r: ScanResult, side: string): void {
    assert.equal(r.classification, 'tls_or_ssl_error', side);
    assert.equal(r.risk ?? null, null, `${side}: risk must be not rated, got ${JSON.stringify(r.risk)}`);
    assert.match(r.riskNotRated ?? '', new RegExp(`only pre-shared keys.*"${HINT}"`), side);
    assert.equal(r.tls?.psk?.hint, HINT, `${side}: the identity hint`);
    assert.equal(r.tls?.psk?.only, true, side);
    assert.match(r.tls?.psk?.cipher ?? '', /PSK/, `${side}: a PSK suite was chosen`);
    assert.equal(r.tls?.score, undefined, `${side}: no TLS score`);
    assert.match(r.tls?.notRated ?? '', /pre-shared keys/, side);
    assert.ok(r.evidence?.some((e) => e.includes(`identity hint "${HINT}"`)), `${side}: the probe's evidence says so: ${JSON.stringify(r.evidence)}`);
  }

  it('the CLI (JSON, and the probe alone with --no-tls-inspect) says PSK only and not rated', async () => {
    const [full] = JSON.parse(await runCli('--json')) as ScanResult[];
    assertPskNotRated(full, 'cli');
    const [probeOnly] = JSON.parse(await runCli('--json', '--no-tls-inspect')) as ScanResult[];
    assertPskNotRated(probeOnly, 'cli --no-tls-inspect');
  });

  it('the CLI table shows "not rated" and the reason', async () => {
    const text = await runCli();
    const lines = text.split('\n');
    const row = lines.find((l) => l.startsWith(`${HOST}:${broker!.port} `))!;
    assert.match(row, /PSK only/);
    assert.match(row, /not rated\s*$/);
    assert.ok(lines.some((l) => l.startsWith(`${HOST}:${broker!.port} not rated: TLS listener takes only pre-shared keys`)), text);
  });

  it('the flow probe -> TLS inspector -> risk classifier gives the CLI\'s verdict', async () => {
    const [cli] = JSON.parse(await runCli('--json', '--no-sniff')) as ScanResult[];
    const flow = await runFlow();
    assert.equal(flow.length, 1);
    assertPskNotRated(flow[0], 'flow');
    const diffs = diffVerdicts([cli], flow, { [`${HOST}:${broker!.port}`]: 'mosquitto PSK only' });
    assert.equal(diffs.length, 0, `the CLI and the flow differ:\n${formatDiffs(diffs, ['cli ', 'flow'])}`);
  });
});
