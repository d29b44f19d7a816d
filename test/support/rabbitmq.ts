// Starts a private, throwaway RabbitMQ node with the MQTT and Web MQTT (MQTT over
// WebSockets) plugins, every listener on 127.0.0.1 and on ports picked here:
// AMQP, MQTT, Web MQTT (ws and optionally wss), the Erlang distribution port and an
// epmd of its own (so it never touches an epmd on 4369). Everything it writes (config,
// definitions, certificates, Mnesia, logs, Erlang cookie) stays in its own temp dir.
// Every node started here is stopped by a root `after` hook and, as a last resort, on
// process exit.
//
// The Debian package's /usr/sbin/rabbitmq-server is a wrapper that, as root, su's to the
// "rabbitmq" user, cd's to /var/lib/rabbitmq and redirects output to /var/log/rabbitmq;
// so we run the real script it wraps. That script runs fine as root (and as any user):
// nothing here needs the "rabbitmq" user.
import { ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { generateCa, generateServerCert } from '../../lab/certs';
import { freePorts } from './ports';
import { findTool } from './tools';
import { canConnect, delay, within } from './waiting';

export interface RabbitMqOptions {
  /** true (default): mqtt.allow_anonymous = true, and a client without a login acts as
   *  guest/guest (RabbitMQ's default user, which may only log in from loopback).
   *  false: mqtt.allow_anonymous = false, and no guest user unless `users` names one. */
  anonymous?: boolean;
  /** Users to create, name → password, each with configure/write/read ".*" on vhost "/". */
  users?: Record<string, string>;
  /** Also serve MQTT over secure WebSockets, with a generated CA and a server certificate
   *  for 127.0.0.1, localhost and ::1. Default false. */
  wss?: boolean;
  /** web_mqtt.ws_path, the HTTP path of the WebSocket endpoint. Default '/ws'. */
  wsPath?: string;
}

export interface RabbitMqBroker {
  host: '127.0.0.1';
  /** MQTT over TCP (mqtt.listeners.tcp.default). */
  mqttPort: number;
  /** MQTT over WebSockets (web_mqtt.tcp.port), at ws://127.0.0.1:<wsPort><wsPath>. */
  wsPort: number;
  /** MQTT over secure WebSockets (web_mqtt.ssl.port); only with `wss: true`. */
  wssPort?: number;
  /** AMQP 0-9-1 (listeners.tcp.default). */
  amqpPort: number;
  /** The private epmd's port (ERL_EPMD_PORT). */
  epmdPort: number;
  /** The Erlang distribution port (RABBITMQ_DIST_PORT). */
  distPort: number;
  /** WebSocket path, starting with '/'. */
  wsPath: string;
  /** PEM file of the CA that signed the wss server certificate; only with `wss: true`. */
  caPath?: string;
  /** Every login that works: the `users` option, plus guest/guest when anonymous. */
  users: Record<string, string>;
  /** Erlang node name, mqttsec-<hex>@localhost. */
  nodeName: string;
  /** pid of the rabbitmq-server script we spawned (the Erlang VM is its child, in its process group). */
  pid: number;
  /** The node's temp dir (removed by stop()). */
  dir: string;
  /** Stops the node and its epmd (SIGTERM, then SIGKILL after a timeout) and removes dir. Idempotent. */
  stop(): Promise<void>;
  /** The node's console output (stdout and stderr interleaved), its last 1 MB at most. */
  log(): string;
}

const READY_TIMEOUT_MS = 60_000;
const EPMD_READY_TIMEOUT_MS = 5000;
const STOP_TIMEOUT_MS = 20_000;
const MAX_LOG_CHARS = 1_000_000;
const MAX_START_ATTEMPTS = 3;
const DEFAULT_WS_PATH = '/ws';
/** Logged once every plugin and listener has started. */
const STARTUP_COMPLETE = /Server startup complete/;
const PORT_IN_USE = /eaddrinuse|address already in use/i;

/** A node being started or running: its epmd, then (once spawned) the server script. */
interface Running {
  epmd: ChildProcess;
  server?: ChildProcess;
  dir: string;
  stop?: () => Promise<void>;
}

const running = new Set<Running>();

/**
 * Starts a RabbitMQ node and resolves once it has logged "Server startup complete" and its
 * MQTT and Web MQTT ports accept TCP connections (at most 60 s; typically 10-15 s, of which
 * ~3-6 s are the MQTT plugin waiting for cluster peers before its Raft election). Retries
 * with fresh ports (up to 3 times) if a port was taken meanwhile.
 */
export async function startRabbitMq(opts: RabbitMqOptions = {}): Promise<RabbitMqBroker> {
  const found = findTool('rabbitmq-server');
  if (!found) throw new Error('rabbitmq-server is not installed (apt-get install rabbitmq-server); call requireTool() in before()');
  const epmdBin = findTool('epmd');
  if (!epmdBin) throw new Error('epmd (Erlang) is not installed; it comes with rabbitmq-server\'s dependencies');
  const script = serverScript(found);

  const wsPath = opts.wsPath ?? DEFAULT_WS_PATH;
  if (!wsPath.startsWith('/')) throw new Error(`wsPath must start with '/': ${JSON.stringify(wsPath)}`);
  const users = { ...(opts.anonymous ?? true ? { guest: 'guest' } : {}), ...opts.users };

  const dir = mkdtempSync(join(tmpdir(), 'mqttsec-rabbitmq-'));
  try {
    const files = writeStaticFiles(dir, users, opts.wss ?? false);
    for (let attempt = 1; ; attempt++) {
      const [amqp, mqtt, ws, epmd, dist, wss] = await freePorts(opts.wss ? 6 : 5);
      const ports: Ports = { amqp, mqtt, ws, epmd, dist, wss };
      const nodeName = `mqttsec-${randomBytes(6).toString('hex')}@localhost`;
      writeFileSync(files.conf, rabbitConf(ports, wsPath, opts.anonymous ?? true, files));
      try {
        return await launch(script, epmdBin, dir, nodeName, ports, files, { wsPath, users });
      } catch (err) {
        if (!PORT_IN_USE.test((err as Error).message) || attempt >= MAX_START_ATTEMPTS) throw err;
        for (const sub of ['mnesia', 'log', 'home']) rmSync(join(dir, sub), { recursive: true, force: true });
      }
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Stops every node this module started (the root after hook calls it). */
export async function stopAllRabbitMq(): Promise<void> {
  await Promise.all([...running].map((r) => r.stop?.()));
}

/**
 * A password_hash for a RabbitMQ definitions file, algorithm rabbit_password_hashing_sha256:
 * base64(salt ‖ SHA-256(salt ‖ UTF-8 password)) with a random 4-byte salt.
 */
export function rabbitPasswordHash(password: string): string {
  const salt = randomBytes(4);
  const hash = createHash('sha256').update(salt).update(password, 'utf8').digest();
  return Buffer.concat([salt, hash]).toString('base64');
}

/** The Debian wrapper (rabbitmq-script-wrapper) → the real script next to it; else as found. */
function serverScript(found: string): string {
  const real = realpathSync(found);
  return basename(real) === 'rabbitmq-script-wrapper' ? join(dirname(real), 'rabbitmq-server') : found;
}

interface Ports {
  amqp: number;
  mqtt: number;
  ws: number;
  epmd: number;
  dist: number;
  wss?: number;
}

interface StaticFiles {
  conf: string;
  enabledPlugins: string;
  definitions: string;
  tls?: { ca: string; cert: string; key: string };
}

/** Writes what does not depend on the ports: plugins, definitions (users), certificates. */
function writeStaticFiles(dir: string, users: Record<string, string>, wss: boolean): StaticFiles {
  const files: StaticFiles = {
    conf: join(dir, 'rabbitmq.conf'),
    enabledPlugins: join(dir, 'enabled_plugins'),
    definitions: join(dir, 'definitions.json'),
  };
  writeFileSync(files.enabledPlugins, '[rabbitmq_mqtt,rabbitmq_web_mqtt].\n');
  // With definitions to load, RabbitMQ seeds neither the default vhost nor guest: list both.
  const definitions = {
    vhosts: [{ name: '/' }],
    users: Object.entries(users).map(([name, password]) => ({
      name, password_hash: rabbitPasswordHash(password), hashing_algorithm: 'rabbit_password_hashing_sha256', tags: [],
    })),
    permissions: Object.keys(users).map((user) => ({ user, vhost: '/', configure: '.*', write: '.*', read: '.*' })),
  };
  writeFileSync(files.definitions, JSON.stringify(definitions, null, 2), { mode: 0o600 });
  if (wss) {
    const ca = generateCa();
    const server = generateServerCert(ca, { hosts: ['127.0.0.1', 'localhost', '::1'] });
    files.tls = { ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
    writeFileSync(files.tls.ca, ca.certPem);
    writeFileSync(files.tls.cert, server.certPem);
    writeFileSync(files.tls.key, server.keyPem, { mode: 0o600 });
  }
  return files;
}

/** rabbitmq.conf (new-style, cuttlefish). */
function rabbitConf(ports: Ports, wsPath: string, anonymous: boolean, files: StaticFiles): string {
  const lines = [
    '# written by test/support/rabbitmq.ts',
    `listeners.tcp.default = 127.0.0.1:${ports.amqp}`,
    `load_definitions = ${files.definitions}`,
    'log.file = false',
    'log.console = true',
    'log.console.level = info',
    'log.console.use_colors = off',
    `mqtt.listeners.tcp.default = 127.0.0.1:${ports.mqtt}`,
    `mqtt.allow_anonymous = ${anonymous}`,
    `web_mqtt.tcp.ip = 127.0.0.1`,
    `web_mqtt.tcp.port = ${ports.ws}`,
    `web_mqtt.ws_path = ${wsPath}`,
  ];
  if (files.tls && ports.wss !== undefined) {
    lines.push(
      'web_mqtt.ssl.ip = 127.0.0.1',
      `web_mqtt.ssl.port = ${ports.wss}`,
      `web_mqtt.ssl.cacertfile = ${files.tls.ca}`,
      `web_mqtt.ssl.certfile = ${files.tls.cert}`,
      `web_mqtt.ssl.keyfile = ${files.tls.key}`,
    );
  }
  return lines.join('\n') + '\n';
}

/** The environment of the node: nothing RabbitMQ or Erlang related is inherited. */
function nodeEnv(dir: string, nodeName: string, ports: Ports, files: StaticFiles): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('RABBITMQ_') && !key.startsWith('ERL_')) env[key] = value;
  }
  return {
    ...env,
    HOME: join(dir, 'home'), // the Erlang cookie goes to $HOME/.erlang.cookie
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'), // absent: /etc/rabbitmq's is not read
    RABBITMQ_CONFIG_FILE: files.conf,
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'), // absent on purpose
    RABBITMQ_ENABLED_PLUGINS_FILE: files.enabledPlugins,
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_DIST_PORT: String(ports.dist),
    // The distribution listener on loopback only (it would listen on every interface).
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    ERL_EPMD_PORT: String(ports.epmd),
    ERL_EPMD_ADDRESS: '127.0.0.1',
  };
}

/** Captures a child's stdout and stderr into one bounded string. */
function captureOutput(child: ChildProcess): () => string {
  let text = '';
  const append = (chunk: Buffer) => {
    text = (text + chunk.toString('utf8')).slice(-MAX_LOG_CHARS);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  return () => text;
}

/** Sends a signal to a process group, ignoring ESRCH (already gone). */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the whole group has exited
  }
}

function exitedPromise(child: ChildProcess): Promise<void> {
  return new Promise((res) => {
    if (child.exitCode !== null || child.signalCode !== null) res();
    else child.once('exit', () => res());
  });
}

async function launch(
  script: string, epmdBin: string, dir: string, nodeName: string, ports: Ports, files: StaticFiles,
  result: { wsPath: string; users: Record<string, string> },
): Promise<RabbitMqBroker> {
  for (const sub of ['mnesia', 'log', 'home']) mkdirSync(join(dir, sub), { recursive: true });

  // Our own epmd, in the foreground so we know its pid (erl would start a daemon we could not track).
  const epmd = spawn(epmdBin, ['-port', String(ports.epmd), '-address', '127.0.0.1'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const entry: Running = { epmd, dir };
  running.add(entry);
  const epmdLog = captureOutput(epmd);
  const epmdExited = exitedPromise(epmd);
  const stopEpmd = async () => {
    if (epmd.exitCode !== null || epmd.signalCode !== null) return;
    epmd.kill('SIGTERM');
    if (!(await within(epmdExited, STOP_TIMEOUT_MS))) epmd.kill('SIGKILL');
  };
  try {
    await waitUntil(() => canConnect(ports.epmd), epmd, EPMD_READY_TIMEOUT_MS, `epmd on ${ports.epmd}`, epmdLog);
    // epmd exits (status 0) when its port is taken, so the port answering may be someone else's.
    await delay(200);
    if (epmd.exitCode !== null || epmd.signalCode !== null) {
      throw new Error(`epmd port ${ports.epmd}: address already in use (epmd exited):\n${epmdLog()}`);
    }
  } catch (err) {
    epmd.kill('SIGKILL');
    running.delete(entry);
    throw err;
  }

  // Its own process group (detached), so the Erlang VM and its helpers can be killed together.
  const server = spawn(script, [], {
    cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: nodeEnv(dir, nodeName, ports, files),
  });
  entry.server = server;
  const log = captureOutput(server);
  const serverExited = exitedPromise(server);
  const spawnError = new Promise<never>((_, rej) => server.once('error', rej));
  spawnError.catch(() => undefined);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (server.pid !== undefined) {
        // The script traps SIGTERM and stops the VM gracefully, then exits.
        if (server.exitCode === null && server.signalCode === null) {
          server.kill('SIGTERM');
          await within(serverExited, STOP_TIMEOUT_MS);
        }
        killGroup(server.pid, 'SIGKILL'); // anything of the group still alive
      }
      await stopEpmd();
      running.delete(entry);
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };

  const listenerPorts = [ports.mqtt, ports.ws, ...(ports.wss !== undefined ? [ports.wss] : [])];
  try {
    await Promise.race([spawnError, waitUntil(async () => {
      if (!STARTUP_COMPLETE.test(log())) return false;
      for (const port of listenerPorts) if (!(await canConnect(port))) return false;
      return true;
    }, server, READY_TIMEOUT_MS, `RabbitMQ on ${listenerPorts.join(', ')}`, log)]);
  } catch (err) {
    if (server.pid !== undefined) killGroup(server.pid, 'SIGKILL');
    await within(serverExited, STOP_TIMEOUT_MS);
    epmd.kill('SIGKILL');
    running.delete(entry);
    throw err;
  }
  entry.stop = stop;
  return {
    host: '127.0.0.1',
    mqttPort: ports.mqtt, wsPort: ports.ws, wssPort: ports.wss, amqpPort: ports.amqp,
    epmdPort: ports.epmd, distPort: ports.dist,
    wsPath: result.wsPath, caPath: files.tls?.ca, users: result.users,
    nodeName, pid: server.pid!, dir, stop, log,
  };
}

/** Polls `ready` every 100 ms until it is true; fails early with the log if `child` exits. */
async function waitUntil(
  ready: () => Promise<boolean>, child: ChildProcess, timeoutMs: number, what: string, log: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what}: exited (${child.exitCode ?? child.signalCode}) before ready:\n${log()}`);
    }
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${timeoutMs} ms:\n${log()}`);
    await delay(100);
  }
}

// Root-level hook: registered once, when the first test file imports this module.
if (typeof after === 'function') after(stopAllRabbitMq);
// Last resort (mocha's --exit, a crash): synchronous kill and cleanup.
process.on('exit', () => {
  for (const { server, epmd, dir } of running) {
    if (server?.pid !== undefined) killGroup(server.pid, 'SIGKILL');
    epmd.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
