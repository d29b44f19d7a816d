// `npm start`'s launcher as a user runs it: a child process on free loopback ports, with a temp
// user directory. No Mosquitto needed: the lab brokers are embedded.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { runScan } from '../../lib/pipeline';
import { freePort, freePorts } from '../support/ports';
import { SENSOR_KINDS } from '../../lib/sniff/lab-device';

const START = resolve(__dirname, '../../dist/lab/start.js');

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
    assert.match(out, /Student password: \S+ +\(shown once/);
  });

  it('serves the Node-RED editor on loopback', async () => {
    const res = await fetch(`http://127.0.0.1:${lab.ports.ui}/`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /MQTT security lab|Node-RED/);
  });

  it('the scanner sees the lab as designed: insecure anonymous over TCP, secure TLS refusing strangers', async () => {
    const { results } = await runScan({ targets: '127.0.0.1', ports: [lab.ports.insecure, lab.ports.secure], timeoutMs: 2000, listenMs: 1000 });
    const insecure = results.find((r) => r.port === lab.ports.insecure)!;
    const secure = results.find((r) => r.port === lab.ports.secure)!;
    assert.equal(insecure.classification, 'open_or_auth_ok');
    assert.equal(insecure.transport, 'tcp');
    assert.equal(secure.classification, 'not_authorized');
    assert.equal(secure.transport, 'tls');
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
