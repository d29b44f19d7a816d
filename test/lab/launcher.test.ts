// `npm start`'s launcher as a user runs it: a child process on free loopback ports, with a temp
// user directory. No Mosquitto needed: the lab brokers are embedded.
import { strict as assert } from 'node:assert';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { runScan } from '../../lib/pipeline';
import { freePort, freePorts } from '../support/ports';
import { SENSOR_KINDS } from '../../lib/sniff/lab-device';
import type { ScanResult } from '../../lib/types';

const START = resolve(__dirname, '../../dist/lab/start.js');
const CLI = resolve(__dirname, '../../dist/cli/index.js');

interface Lab {
  child: ChildProcess;
  output: () => string;
  ports: { ui: number; insecure: number; secure: number; ws: number; wss: number };
  userDir: string;
}

async function startLab(env: Record<string, string> = {}, waitFor = /Press Ctrl-C to stop/): Promise<Lab> {
  const userDir = mkdtempSync(join(tmpdir(), 'mqttsec-lab-'));
  const [ui, insecure, secure, ws, wss] = await freePorts(5);
  const ports = { ui, insecure, secure, ws, wss };
  const child = spawn(process.execPath, [START], {
    env: { ...process.env, MQTTSEC_USERDIR: userDir, MQTTSEC_UI_PORT: String(ports.ui), LAB_INSECURE_PORT: String(ports.insecure), LAB_SECURE_PORT: String(ports.secure), LAB_WS_PORT: String(ports.ws), LAB_WSS_PORT: String(ports.wss), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`lab did not start in 30 s:\n${out}`)), 30_000);
    const check = () => {
      if (waitFor.test(out)) {
        clearTimeout(timer);
        res();
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', () => {
      clearTimeout(timer);
      waitFor.test(out) ? res() : rej(new Error(`lab exited:\n${out}`));
    });
  });
  return { child, output: () => out, ports, userDir };
}

function stopLab(lab: Lab): Promise<number | null> {
  return new Promise((res) => {
    if (lab.child.exitCode !== null) return res(lab.child.exitCode);
    const timer = setTimeout(() => lab.child.kill('SIGKILL'), 15_000);
    lab.child.once('exit', (code) => {
      clearTimeout(timer);
      rmSync(lab.userDir, { recursive: true, force: true });
      res(code);
    });
    lab.child.kill('SIGINT');
  });
}

describe('lab launcher (npm start)', function () {
  this.timeout(60_000);
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  after(async () => {
    if (lab) await stopLab(lab);
  });

  it('prints the dashboard address and the lab brokers', () => {
    const out = lab.output();
    assert.match(out, new RegExp(`Dashboard: +http://127\\.0\\.0\\.1:${lab.ports.ui}/ui`));
    assert.match(out, new RegExp(`mqtt://127\\.0\\.0\\.1:${lab.ports.insecure}`));
    assert.match(out, new RegExp(`mqtts://127\\.0\\.0\\.1:${lab.ports.secure}`));
    assert.match(out, new RegExp(`ws://127\\.0\\.0\\.1:${lab.ports.ws}/mqtt`));
    assert.match(out, new RegExp(`wss://127\\.0\\.0\\.1:${lab.ports.wss}/mqtt`));
    assert.match(out, /Student password: \S+ +\(shown once/);
  });

  it('serves the Node-RED editor on loopback', async () => {
    const res = await fetch(`http://127.0.0.1:${lab.ports.ui}/`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /MQTT security lab|Node-RED/);
  });

  it('the scanner sees the lab as designed: insecure anonymous over TCP and ws, secure TLS and wss refusing strangers', async () => {
    const { results } = await runScan({ targets: '127.0.0.1', ports: [lab.ports.insecure, lab.ports.secure, lab.ports.ws, lab.ports.wss], timeoutMs: 2000, listenMs: 1000 });
    const at = (port: number) => results.find((r) => r.port === port)!;
    const seen = (port: number) => [at(port).transport, at(port).websocketPath ?? null, at(port).classification];
    assert.deepEqual(seen(lab.ports.insecure), ['tcp', null, 'open_or_auth_ok']);
    assert.deepEqual(seen(lab.ports.secure), ['tls', null, 'not_authorized']);
    assert.deepEqual(seen(lab.ports.ws), ['ws', '/mqtt', 'open_or_auth_ok']);
    assert.deepEqual(seen(lab.ports.wss), ['wss', '/mqtt', 'not_authorized']);
  });

  // The issue's own check: mqtt-scan against the running lab's two WebSocket listeners, with the
  // student login and the lab CA (so the login may go over wss).
  it('mqtt-scan on the WebSocket ports: ws open to anyone and CRITICAL, wss takes only the student login', () => {
    const secrets = { users: JSON.parse(readFileSync(join(lab.userDir, 'lab-secrets', 'users.json'), 'utf8')) as Record<string, string> };
    const out = execFileSync(process.execPath, [
      CLI, '--target', '127.0.0.1', '--ports', `${lab.ports.ws},${lab.ports.wss}`, '--json', '--listen', '4',
      '--user', 'student', '--password-env', 'LAB_STUDENT_PASSWORD', '--tls-ca', join(lab.userDir, 'lab-secrets', 'ca.crt'),
    ], { env: { ...process.env, LAB_STUDENT_PASSWORD: secrets.users.student }, timeout: 60_000 }).toString();
    const results = JSON.parse(out) as ScanResult[];
    const ws = results.find((r) => r.port === lab.ports.ws)!;
    const wss = results.find((r) => r.port === lab.ports.wss)!;
    assert.deepEqual([ws.transport, ws.websocketPath, ws.classification, ws.auth.anonymous.outcome, ws.risk?.level], ['ws', '/mqtt', 'open_or_auth_ok', 'accepted', 'CRITICAL']);
    assert.ok(ws.findings!.some((f) => f.id === 'PLAINTEXT_TRANSPORT'));
    assert.ok(ws.topics!.items.some((i) => i.topic.startsWith('lab/')), 'the listener heard the simulated ESP32 over the WebSocket');
    assert.deepEqual(
      [wss.transport, wss.websocketPath, wss.classification, wss.auth.anonymous.outcome, wss.auth.wrongCredentials.outcome, wss.auth.givenCredentials.outcome],
      ['wss', '/mqtt', 'open_or_auth_ok', 'rejected', 'rejected', 'accepted'],
    );
    assert.equal(wss.tls?.certificate?.trusted, true);
    assert.ok(!wss.findings!.some((f) => f.id.startsWith('PLAINTEXT')));
    assert.ok(!out.includes(secrets.users.student), 'the password is in no result');
  });

  it('the simulated ESP32 publishes retained PIR readings on the insecure broker', async () => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${lab.ports.insecure}`, { reconnectPeriod: 0, connectTimeout: 5000 }, false);
    try {
      const next = () =>
        Promise.race([
          new Promise<{ topic: string; payload: string; retain: boolean }>((res) =>
            client.once('message', (topic, payload, packet) => res({ topic, payload: payload.toString(), retain: packet.retain })),
          ),
          new Promise<never>((_, rej) => setTimeout(() => rej(new Error('no PIR message in 8 s')), 8000)),
        ]);
      const first = next();
      await client.subscribeAsync(SENSOR_KINDS.pir.topicFilter);
      const m = await first;
      assert.match(m.topic, /^lab\/insecure\/esp32-sim01\/pir$/);
      assert.match(m.payload, SENSOR_KINDS.pir.payloadPattern);
      // Once published, a new subscriber gets it at once, flagged retained.
      await client.unsubscribeAsync(SENSOR_KINDS.pir.topicFilter);
      const again = next();
      await client.subscribeAsync(SENSOR_KINDS.pir.topicFilter);
      assert.equal((await again).retain, true);
    } finally {
      await client.endAsync(true);
    }
  });

  it('keeps its generated secrets private to the user', () => {
    const mode = statSync(join(lab.userDir, 'lab-secrets', 'users.json')).mode & 0o777;
    assert.equal(mode, 0o600);
  });

  it('stops cleanly on Ctrl-C and frees its ports', async () => {
    const code = await stopLab(lab);
    assert.equal(code, 0);
    const server = createServer();
    await new Promise<void>((res, rej) => server.once('error', rej).listen(lab.ports.ui, '127.0.0.1', () => res()));
    await new Promise((res) => server.close(res));
    lab = undefined as unknown as Lab;
  });
});

describe('lab launcher: a port already in use', function () {
  this.timeout(60_000);
  it('says which port and which variable to change, and exits 1', async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((res) => blocker.listen(port, '127.0.0.1', () => res()));
    try {
      const lab = await startLab({ LAB_INSECURE_PORT: String(port) }, /already in use/);
      const code = await stopLab(lab).catch(() => null);
      assert.match(lab.output(), new RegExp(`Port ${port} \\(insecure lab broker\\) is already in use.*LAB_INSECURE_PORT=<port> npm start`, 's'));
      assert.equal(code, 1);
    } finally {
      blocker.close();
    }
  });
});
