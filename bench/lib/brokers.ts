// Twenty Mosquitto brokers, one per loopback address 127.0.1.1-20, each with a plain listener on
// 1883 and a TLS listener on 8883. test/support/mosquitto.ts always rewrites listeners to
// 127.0.0.1 with ephemeral ports, so this small launcher binds each broker to its own address.
// Certificates and the password file come from the lab's own generators (lab/certs.ts,
// lab/passwords.ts): one CA, one server certificate naming all twenty addresses.
// Odd-numbered brokers allow anonymous clients (the lab's insecure picture), even-numbered
// ones require a password (the secure one); all of them know the lab user "scanner".
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCa, generateServerCert } from '../../lab/certs';
import { randomPassword, writePasswordFile } from '../../lab/passwords';
import { buildDhtPayload, buildLightPayload, buildMotionPayload, buildStatusPayload, deviceTopics } from '../../lib/sniff/lab-device';
import { killGroupSync, onCleanup, stopChild, trackChild } from './cleanup';

export interface BrokerFarm {
  hosts: string[];
  dir: string;
  caPath: string;
  user: string;
  password: string;
  /** Stops every broker and waits for them; then removes the temp dir. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 10_000;

export function findMosquitto(): string | null {
  for (const p of ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', '/usr/bin/mosquitto']) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return null;
}

export async function startBrokerFarm(count = 20): Promise<BrokerFarm> {
  const bin = findMosquitto();
  if (!bin) throw new Error('mosquitto is not installed (apt-get install mosquitto)');
  const hosts = Array.from({ length: count }, (_, i) => `127.0.1.${i + 1}`);
  // Something else on these addresses would be measured instead of our brokers: refuse.
  const busy = (await Promise.all(hosts.flatMap((h) => [1883, 8883].map(async (p) => ((await canConnect(h, p)) ? `${h}:${p}` : null))))).filter(Boolean);
  if (busy.length) throw new Error(`already listening (not ours; stop it first): ${busy.slice(0, 5).join(', ')}${busy.length > 5 ? ', ...' : ''}`);
  const dir = mkdtempSync(join(tmpdir(), 'mqttsec-bench-brokers-'));
  const children: ChildProcess[] = [];
  // Synchronous last resort (signals, crashes); the normal path is the async stop() below.
  const stopSync = onCleanup('mosquitto farm', () => {
    for (const c of children) if (c.pid) killGroupSync(c.pid, 2000);
    rmSync(dir, { recursive: true, force: true });
  });
  const stop = async () => {
    await Promise.all(children.map((c) => stopChild(c)));
    stopSync();
  };
  try {
    const ca = generateCa();
    const server = generateServerCert(ca, { hosts: [...hosts, 'localhost'] });
    const caPath = join(dir, 'ca.crt');
    writeFileSync(caPath, ca.certPem);
    writeFileSync(join(dir, 'server.crt'), server.certPem);
    writeFileSync(join(dir, 'server.key'), server.keyPem, { mode: 0o600 });
    const password = randomPassword();
    writePasswordFile(join(dir, 'passwords'), { scanner: password, esp32: randomPassword() });

    hosts.forEach((host, i) => {
      const conf = join(dir, `broker-${i + 1}.conf`);
      writeFileSync(conf, brokerConf(dir, host, i % 2 === 0));
      const child = spawn(bin, ['-c', conf], { cwd: dir, detached: true, stdio: ['ignore', 'ignore', 'ignore'] });
      trackChild(child, `mosquitto ${host}`);
      children.push(child);
    });
    await Promise.all(hosts.flatMap((h, i) => [waitListening(h, 1883, children[i], dir, i), waitListening(h, 8883, children[i], dir, i)]));
    await new Promise((r) => setTimeout(r, 200));
    const dead = children.filter((c) => c.exitCode !== null || c.signalCode !== null);
    if (dead.length) throw new Error(`${dead.length} mosquitto process(es) exited after start (see ${dir}/broker-N.log)`);
    await seedRetained(hosts, password);
    return { hosts, dir, caPath, user: 'scanner', password, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function brokerConf(dir: string, host: string, anonymous: boolean): string {
  const n = host.split('.')[3];
  return [
    '# mqttsec bench broker',
    ...(process.getuid?.() === 0 ? ['user root'] : []),
    'per_listener_settings false',
    `allow_anonymous ${anonymous}`,
    `password_file ${join(dir, 'passwords')}`,
    'persistence false',
    `log_dest file ${join(dir, `broker-${n}.log`)}`,
    'log_type error',
    'log_type warning',
    'set_tcp_nodelay true',
    'max_keepalive 300',
    `listener 1883 ${host}`,
    `listener 8883 ${host}`,
    `cafile ${join(dir, 'ca.crt')}`,
    `certfile ${join(dir, 'server.crt')}`,
    `keyfile ${join(dir, 'server.key')}`,
    'tls_version tlsv1.2',
    'require_certificate false',
    '',
  ].join('\n');
}

async function waitListening(host: string, port: number, child: ChildProcess, dir: string, i: number): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (await canConnect(host, port)) return;
    if (child.exitCode !== null || child.signalCode !== null) {
      let log = '';
      try {
        log = readFileSync(join(dir, `broker-${i + 1}.log`), 'utf8');
      } catch {
        // none
      }
      throw new Error(`mosquitto on ${host} exited (${child.exitCode ?? child.signalCode}) before listening on ${port}: ${log.slice(-500)}`);
    }
    if (Date.now() > deadline) throw new Error(`mosquitto on ${host} not listening on ${port} after ${READY_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      res(ok);
    };
    s.setTimeout(500, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** A few retained messages per broker, as the lab's ESP32 would leave them, so a sniffer sees topics. */
async function seedRetained(hosts: string[], password: string): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mqtt = require('mqtt') as typeof import('mqtt');
  await Promise.all(
    hosts.map(
      (host) =>
        new Promise<void>((resolve, reject) => {
          const client = mqtt.connect(`mqtt://${host}:1883`, { username: 'scanner', password, reconnectPeriod: 0, connectTimeout: 5000 });
          const timer = setTimeout(() => {
            client.end(true);
            reject(new Error(`seeding ${host} timed out`));
          }, 8000);
          client.once('error', (err) => {
            clearTimeout(timer);
            client.end(true);
            reject(err);
          });
          client.once('connect', async () => {
            try {
              await publishDeviceReadings(client, `bench${host.split('.')[3].padStart(2, '0')}`);
              clearTimeout(timer);
              await client.endAsync();
              resolve();
            } catch (err) {
              clearTimeout(timer);
              client.end(true);
              reject(err as Error);
            }
          });
        }),
    ),
  );
}

/** Publishes a lab ESP32's readings (DHT, LDR, PIR, status) as retained QoS 1 messages, as the device would. */
export async function publishDeviceReadings(client: { publishAsync(topic: string, payload: string | Buffer, opts: { retain: boolean; qos: 1 }): Promise<unknown> }, device: string): Promise<void> {
  for (const t of deviceTopics(device)) {
    const payload = t.kind === 'dht' ? buildDhtPayload(28.5, 65)
      : t.kind === 'ldr' ? buildLightPayload(2048)
      : t.kind === 'pir' ? buildMotionPayload(false)
      : buildStatusPayload(true);
    await client.publishAsync(t.topic, payload ?? '', { retain: true, qos: 1 });
  }
}
