// MQTT over WebSockets on real brokers: RabbitMQ's Web MQTT plugin (3.10, as Debian ships it), on
// its default path /ws, anonymous and with logins only, over ws and wss. RabbitMQ is where the
// WebSocket listener behaves least like its TCP one, which is what a scanner must get right:
//   - a CONNECT sent to the Web MQTT port without an HTTP upgrade gets no answer for 5 s (Cowboy
//     waits for the end of a request), so the probe must try the upgrade on a silent port;
//   - it answers the upgrade offering "mqtt, mqttv3.1" by copying the whole list back, which
//     RFC 6455 clients (ws) refuse: the probe tries again offering only "mqtt";
//   - a refused login (anonymous, a wrong password) is closed without a CONNACK over WebSockets,
//     where the TCP listener answers CONNACK 4; MQTT 5 is closed the same way (3.10 has none).
// Expected verdicts are written out per broker; the CLI (mqtt-scan, a child process) and a
// deployed flow (target expander -> broker probe -> risk classifier) must both give them.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { randomPassword } from '../../lab/passwords';
import { startRabbitMq, type RabbitMqBroker } from '../support/rabbitmq';
import { requireTool } from '../support/tools';
import { diffVerdicts, formatDiffs } from '../support/verdicts';
import { collect, helper, load, NODES, type FlowNode } from '../nodes/node-red';
import type { ScanResult } from '../../lib/types';

const CLI = resolve(__dirname, '../../dist/cli/index.js');
const HOST = '127.0.0.1';
const USER = 'scanner';
const PASSWORD = randomPassword();
const TIMEOUT_MS = 2000;

type Expected = Partial<Record<'transport' | 'websocketPath' | 'classification' | 'anonymous' | 'wrong' | 'given' | 'level', unknown>>;

/** The fields the expectations name, from one result. */
function verdict(r: ScanResult | undefined): Expected {
  if (!r) return {};
  return {
    transport: r.transport,
    websocketPath: r.websocketPath ?? null,
    classification: r.classification,
    anonymous: outcome(r.auth.anonymous),
    wrong: outcome(r.auth.wrongCredentials),
    given: outcome(r.auth.givenCredentials),
    level: r.risk?.level ?? null,
  };
}

function outcome(a: ScanResult['auth']['anonymous']): string {
  if (a.withheld) return `withheld:${a.withheld}`;
  return a.code === undefined ? a.outcome : `${a.outcome}:${a.code}`;
}

describe('brokers: MQTT over WebSockets on RabbitMQ Web MQTT (ws and wss)', function () {
  this.timeout(120_000);
  let open: RabbitMqBroker | undefined;
  let closed: RabbitMqBroker | undefined;
  const names: Record<string, string> = {};
  let ports: number[] = [];
  let expected: Record<number, Expected> = {};

  before(async function () {
    this.timeout(90_000);
    requireTool(this, 'rabbitmq-server');
    [open, closed] = await Promise.all([
      startRabbitMq({ anonymous: true }),
      startRabbitMq({ anonymous: false, users: { [USER]: PASSWORD }, wss: true }),
    ]);
    names[`${HOST}:${open.wsPort}`] = 'RabbitMQ ws, anonymous';
    names[`${HOST}:${closed.mqttPort}`] = 'RabbitMQ tcp, logins only';
    names[`${HOST}:${closed.wsPort}`] = 'RabbitMQ ws, logins only';
    names[`${HOST}:${closed.wssPort}`] = 'RabbitMQ wss, logins only';
    ports = [open.wsPort, closed.mqttPort, closed.wsPort, closed.wssPort!].sort((a, b) => a - b);
    expected = {
      // Anonymous clients are guest; a made-up login is refused by hanging up.
      [open.wsPort]: { transport: 'ws', websocketPath: '/ws', classification: 'open_or_auth_ok', anonymous: 'accepted:0', wrong: 'closed_without_connack', given: 'withheld:plaintext_transport', level: 'CRITICAL' },
      [closed.mqttPort]: { transport: 'tcp', websocketPath: null, classification: 'not_authorized', anonymous: 'rejected:4', wrong: 'rejected:4', given: 'withheld:plaintext_transport', level: 'HIGH' },
      // Every CONNECT is closed without a CONNACK, a partial one is waited for: a broker refusing.
      [closed.wsPort]: { transport: 'ws', websocketPath: '/ws', classification: 'not_authorized', anonymous: 'closed_without_connack', wrong: 'closed_without_connack', given: 'withheld:plaintext_transport', level: 'HIGH' },
      // The CA is given (--tls-ca): the login may go, and gets in.
      [closed.wssPort!]: { transport: 'wss', websocketPath: '/ws', classification: 'open_or_auth_ok', anonymous: 'closed_without_connack', wrong: 'closed_without_connack', given: 'accepted:0', level: 'LOW' },
    };
  });

  afterEach(async () => {
    await helper.unload();
  });

  after(async () => {
    await Promise.all([open?.stop(), closed?.stop()]);
  });

  function runCli(): Promise<ScanResult[]> {
    const args = [
      CLI, '--target', HOST, '--ports', ports.join(','), '--json', '--no-sniff', '--no-tls-inspect',
      '--user', USER, '--password-env', 'MQTTSEC_WS_PASSWORD', '--tls-ca', closed!.caPath!, '--timeout', String(TIMEOUT_MS),
    ];
    return new Promise((res, rej) => {
      execFile(process.execPath, args, { env: { ...process.env, MQTTSEC_WS_PASSWORD: PASSWORD }, timeout: 60_000 }, (err, stdout, stderr) => {
        if (err) return rej(new Error(`mqtt-scan failed: ${err.message}\n${stderr}`));
        res(JSON.parse(stdout) as ScanResult[]);
      });
    });
  }

  async function runFlow(): Promise<ScanResult[]> {
    const flow: FlowNode[] = [
      { id: 'tab', type: 'tab', label: 'websocket brokers' },
      ...[
        { id: 'creds', type: 'mqttsec-credentials', name: 'scan login' },
        { id: 'ca', type: 'tls-config', name: 'RabbitMQ CA', cert: '', key: '', ca: closed!.caPath!, certname: '', keyname: '', caname: '', servername: '', verifyservercert: false },
        { id: 'expander', type: 'mqttsec-target-expander', targets: HOST, ports: '1883', maxTargets: 4096, batchSize: 4096, allowPublic: false, wires: [['probe']] },
        {
          id: 'probe', type: 'mqttsec-broker-probe', auth: 'creds', tls: 'ca', timeout: TIMEOUT_MS, concurrency: 64, probeConcurrency: 8,
          transport: 'auto', versions: 'both', tlsPorts: '443,8081,8084,8443,8883-8887', wsPaths: '/mqtt,/,/ws,/mqtt-ws', emitUnreachable: true, wires: [['risk']],
        },
        { id: 'risk', type: 'mqttsec-risk-classifier', rules: [], wires: [['out']] },
        { id: 'out', type: 'helper' },
      ].map((n) => ({ z: 'tab', ...n }) as FlowNode),
    ];
    await load([NODES.credentials, NODES.expander, NODES.probe, NODES.classifier, NODES.tls], flow, { creds: { username: USER, password: PASSWORD } });
    const done = collect('out', (msgs) => msgs.some((m) => m.complete === true), 60_000);
    helper.getNode('expander').receive({ payload: { targets: HOST, ports: ports.join(',') } });
    return (await done).filter((m) => m.complete !== true).map((m) => m.payload as ScanResult);
  }

  it('the CLI gives each listener its verdict: found on /ws (the third path tried), logins where the rule lets them go', async () => {
    const results = await runCli();
    for (const port of ports) {
      assert.deepEqual(verdict(results.find((r) => r.port === port)), expected[port], names[`${HOST}:${port}`]);
    }
    const ws = results.find((r) => r.port === closed!.wsPort)!;
    const lines = ws.evidence!.join('\n');
    assert.match(lines, /ws \/mqtt MQTT 5\.0 anonymous: HTTP 404 Not Found \(Server: Cowboy\): no WebSocket upgrade/);
    assert.match(lines, /ws \/ws: the server upgraded naming a subprotocol that was not one of those offered; tried again offering only "mqtt"/);
    assert.match(lines, /ws \/ws: a connection given only the first bytes of a CONNECT stayed open/);
    // Never the password, anywhere in the output.
    assert.ok(!JSON.stringify(results).includes(PASSWORD));
  });

  it('the probe node in a deployed flow gives the same verdicts, field by field', async () => {
    const cli = await runCli();
    const flow = await runFlow();
    const diffs = diffVerdicts(cli, flow, names);
    assert.equal(diffs.length, 0, `the CLI and the flow differ in ${diffs.length} field(s):\n${formatDiffs(diffs, ['cli ', 'flow'])}`);
    assert.deepEqual(flow.map((r) => r.port).sort((a, b) => a - b), ports, 'every listener is in the results');
  });
});
