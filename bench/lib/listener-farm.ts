// Many brokers from few processes: each Mosquitto process has many `listener` lines, one per
// loopback address (127.0.0.0/8 is all loopback on Linux), plain ones on 1883 and TLS ones on
// 8883. Every listener is a broker to a scanner: its own address and port, its own connections.
// With `per_listener_settings false` the listeners of one process share its topic tree, so the
// lab device's retained messages seeded once per process are heard on each of its listeners.
// Every broker allows anonymous clients (the case the issue measures: all CRITICAL).
// Certificates come from the lab's generator (lab/certs.ts): one CA, one server certificate
// naming every TLS address.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCa, generateServerCert } from '../../lab/certs';
import { findMosquitto, publishDeviceReadings } from './brokers';
import { killGroupSync, onCleanup, stopChild, trackChild } from './cleanup';

export const PLAIN_PORT = 1883;
export const TLS_PORT = 8883;
const READY_TIMEOUT_MS = 20_000;
/** Connection checks in flight while waiting for the listeners (bounded, well under any fd limit). */
const CHECKS_AT_ONCE = 64;

export interface ListenerFarmSpec {
  /** Addresses with a plain listener on PLAIN_PORT. */
  plain: readonly string[];
  /** Addresses with a TLS listener on TLS_PORT. */
  tls: readonly string[];
  /** Mosquitto processes the listeners are spread over (round robin), at least 1. */
  processes: number;
  /** Mosquitto's sys_interval, seconds (default: mosquitto's own, 10). */
  sysIntervalS?: number;
}

export interface ListenerFarm {
  /** host:port of every listener. */
  endpoints: string[];
  caPath: string;
  dir: string;
  /** Mosquitto processes started. */
  pids: number[];
  /** Stops every broker and waits for them; then removes the temp dir. */
  stop(): Promise<void>;
}

/** `count` consecutive addresses from `first` (a.b.c.d), crossing into the next /24 as needed; never past a.b.255.254. */
export function loopbackHosts(first: string, count: number): string[] {
  const p = first.split('.').map(Number);
  if (p.length !== 4 || p[0] !== 127) throw new Error(`not a loopback address: ${first}`);
  const out: string[] = [];
  let c = p[2];
  let d = p[3];
  for (let i = 0; i < count; i++) {
    if (d > 254) {
      c++;
      d = 1;
    }
    if (c > 255) throw new Error(`${count} addresses from ${first} leave 127.${p[1]}.0.0/16`);
    out.push(`127.${p[1]}.${c}.${d}`);
    d++;
  }
  return out;
}

/** The target spec of a list of hosts made by loopbackHosts: one a.b.c.x-y range per /24. */
export function rangeSpec(hosts: readonly string[]): string {
  const byNet = new Map<string, number[]>();
  for (const h of hosts) {
    const i = h.lastIndexOf('.');
    const net = h.slice(0, i);
    if (!byNet.has(net)) byNet.set(net, []);
    byNet.get(net)!.push(Number(h.slice(i + 1)));
  }
  const parts: string[] = [];
  for (const [net, ds] of byNet) {
    ds.sort((a, b) => a - b);
    let start = ds[0];
    for (let i = 1; i <= ds.length; i++) {
      if (i === ds.length || ds[i] !== ds[i - 1] + 1) {
        const end = ds[i - 1];
        parts.push(start === end ? `${net}.${start}` : `${net}.${start}-${end}`);
        start = ds[i];
      }
    }
  }
  return parts.join(',');
}

export async function startListenerFarm(spec: ListenerFarmSpec): Promise<ListenerFarm> {
  const bin = findMosquitto();
  if (!bin) throw new Error('mosquitto is not installed (apt-get install mosquitto)');
  const endpoints = [...spec.plain.map((h) => `${h}:${PLAIN_PORT}`), ...spec.tls.map((h) => `${h}:${TLS_PORT}`)];
  // Something else on these addresses would be measured instead of our brokers: refuse.
  const busy = (await mapLimited(endpoints, CHECKS_AT_ONCE, async (e) => ((await canConnect(e)) ? e : null))).filter(Boolean);
  if (busy.length) throw new Error(`already listening (not ours; stop it first): ${busy.slice(0, 5).join(', ')}${busy.length > 5 ? ', ...' : ''}`);
  const processes = Math.max(1, Math.min(spec.processes, endpoints.length));
  const dir = mkdtempSync(join(tmpdir(), 'mqttsec-bench-listeners-'));
  const children: ChildProcess[] = [];
  const stopSync = onCleanup('mosquitto listener farm', () => {
    for (const c of children) if (c.pid) killGroupSync(c.pid, 2000);
    rmSync(dir, { recursive: true, force: true });
  });
  const stop = async () => {
    await Promise.all(children.map((c) => stopChild(c)));
    stopSync();
  };
  try {
    const ca = generateCa();
    const caPath = join(dir, 'ca.crt');
    writeFileSync(caPath, ca.certPem);
    if (spec.tls.length) {
      const server = generateServerCert(ca, { hosts: [...spec.tls, 'localhost'] });
      writeFileSync(join(dir, 'server.crt'), server.certPem);
      writeFileSync(join(dir, 'server.key'), server.keyPem, { mode: 0o600 });
    }
    // Round robin over the processes, plain and TLS mixed in each.
    const groups: Array<{ plain: string[]; tls: string[] }> = Array.from({ length: processes }, () => ({ plain: [], tls: [] }));
    spec.plain.forEach((h, i) => groups[i % processes].plain.push(h));
    spec.tls.forEach((h, i) => groups[(spec.plain.length + i) % processes].tls.push(h));
    // As root, mosquitto drops to user mosquitto unless told `user root` (as bench/lib/brokers.ts
    // does): the files in `dir` stay readable to it.
    const root = process.getuid?.() === 0;
    groups.forEach((g, i) => {
      const conf = join(dir, `broker-${i + 1}.conf`);
      writeFileSync(conf, farmConf(dir, i + 1, g, root, spec.sysIntervalS));
      const child = spawn(bin, ['-c', conf], { cwd: dir, detached: true, stdio: ['ignore', 'ignore', 'ignore'] });
      trackChild(child, `mosquitto listener farm ${i + 1}`);
      children.push(child);
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    const pending = new Set(endpoints);
    for (let round = 0; pending.size && round < 400; round++) {
      const up = await mapLimited([...pending], CHECKS_AT_ONCE, async (e) => ((await canConnect(e)) ? e : null));
      for (const e of up) if (e) pending.delete(e);
      const dead = children.findIndex((c) => c.exitCode !== null || c.signalCode !== null);
      if (dead >= 0) throw new Error(`mosquitto ${dead + 1} exited before listening: ${logTail(dir, dead + 1)}`);
      if (!pending.size) break;
      if (Date.now() > deadline) throw new Error(`${pending.size} listeners not up after ${READY_TIMEOUT_MS} ms (e.g. ${[...pending][0]})`);
      await new Promise((r) => setTimeout(r, 100));
    }
    if (pending.size) throw new Error(`${pending.size} listeners never came up`);
    await seedRetained(groups.map((g) => g.plain[0] ?? null), groups.map((g) => g.tls[0] ?? null), ca.certPem);
    return { endpoints, caPath, dir, pids: children.map((c) => c.pid!).filter(Boolean), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function farmConf(dir: string, n: number, g: { plain: string[]; tls: string[] }, root: boolean, sysIntervalS?: number): string {
  const lines = [
    '# mqttsec bench listener farm',
    ...(root ? ['user root'] : []),
    'per_listener_settings false',
    'allow_anonymous true',
    'persistence false',
    `log_dest file ${join(dir, `broker-${n}.log`)}`,
    'log_type error',
    'log_type warning',
    'set_tcp_nodelay true',
    'max_keepalive 300',
    ...(sysIntervalS !== undefined ? [`sys_interval ${sysIntervalS}`] : []),
  ];
  for (const h of g.plain) lines.push(`listener ${PLAIN_PORT} ${h}`);
  for (const h of g.tls) {
    // certfile, keyfile and tls_version belong to the listener line before them.
    lines.push(`listener ${TLS_PORT} ${h}`, `certfile ${join(dir, 'server.crt')}`, `keyfile ${join(dir, 'server.key')}`, 'tls_version tlsv1.2');
  }
  lines.push('');
  return lines.join('\n');
}

function logTail(dir: string, n: number): string {
  try {
    return readFileSync(join(dir, `broker-${n}.log`), 'utf8').slice(-400);
  } catch {
    return '(no log)';
  }
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function canConnect(endpoint: string): Promise<boolean> {
  const i = endpoint.lastIndexOf(':');
  return new Promise((res) => {
    const s = connect({ host: endpoint.slice(0, i), port: Number(endpoint.slice(i + 1)) });
    const done = (ok: boolean) => {
      s.destroy();
      res(ok);
    };
    s.setTimeout(500, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** The lab device's retained messages, published once per process (its listeners share them). */
async function seedRetained(plain: Array<string | null>, tls: Array<string | null>, caPem: string): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mqtt = require('mqtt') as typeof import('mqtt');
  await Promise.all(
    plain.map((p, i) => {
      const url = p ? `mqtt://${p}:${PLAIN_PORT}` : `mqtts://${tls[i]}:${TLS_PORT}`;
      return new Promise<void>((resolve, reject) => {
        const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ca: caPem, rejectUnauthorized: false });
        const timer = setTimeout(() => {
          client.end(true);
          reject(new Error(`seeding ${url} timed out`));
        }, 8000);
        client.once('error', (err) => {
          clearTimeout(timer);
          client.end(true);
          reject(err);
        });
        client.once('connect', async () => {
          try {
            await publishDeviceReadings(client, `farm${String(i + 1).padStart(2, '0')}`);
            clearTimeout(timer);
            await client.endAsync();
            resolve();
          } catch (err) {
            clearTimeout(timer);
            client.end(true);
            reject(err as Error);
          }
        });
      });
    }),
  );
}
