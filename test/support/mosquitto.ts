// Starts a real mosquitto from the shipped brokers/<kind>/mosquitto.conf, rewritten so
// it listens on an ephemeral 127.0.0.1 port and keeps every file (certs, passwords,
// ACL, persistence, logs) in its own temp dir. Every broker started here is stopped by
// a root `after` hook and, as a last resort, on process exit.
import { ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { CertPair, generateCa, generateServerCert } from '../../lab/certs';
import { randomPassword, writePasswordFile } from '../../lab/passwords';
import { freePorts } from './ports';
import { findTool } from './tools';
import { canConnect, delay, within } from './waiting';

export type MosquittoKind = 'insecure' | 'secure' | 'sites' | { conf: string };

export interface MosquittoCertPaths {
  ca: string;
  cert: string;
  key: string;
}

export interface MosquittoOptions {
  /** Password file contents. Default for a config with password_file: esp32, scanner, student (random). */
  users?: Record<string, string>;
  /** Existing PEM files to copy in, or 'generate' (default when the config uses TLS). */
  certs?: MosquittoCertPaths | 'generate';
  /** SAN entries of a generated server certificate. */
  hosts?: string[];
  /** ACL text to use instead of the config's acl_file. */
  acl?: string;
  /** Lines added at the end of every listener's block, so per-listener options apply to each listener. */
  extraConf?: string[];
  tlsVersion?: string;
  requireCertificate?: boolean;
  /** Fixed port for the first listener instead of an ephemeral one. */
  port?: number;
  /** Fixed ports, one per listener line (instead of ephemeral ones; with listenerHosts several
   *  listeners may share a port on different loopback addresses). */
  ports?: number[];
  /** The loopback address of each listener line, in config order (default 127.0.0.1 for all). */
  listenerHosts?: string[];
  /** More files written into the broker's temp dir before it starts (file name: contents), for
   *  config lines that name a file relative to it, e.g. `plugin_opt_config_file dynsec.json`
   *  (mosquitto runs in that dir). Names are plain file names, no directories. */
  files?: Record<string, string>;
}

export interface MosquittoBroker {
  host: '127.0.0.1';
  port: number;
  /** One port per listener line, in config order (port === ports[0]). */
  ports: number[];
  pid: number;
  dir: string;
  confPath: string;
  caPath?: string;
  /** The generated CA (with key), to sign client certificates; absent when certs were given. */
  ca?: CertPair;
  users: Record<string, string>;
  /** The address of each listener (port i listens on hosts[i]). */
  hosts: string[];
  stop(): Promise<void>;
  /** Stops the process (SIGTERM: mosquitto saves its persistence file) and starts it again with
   *  the same config, files and ports; `pid` is the new process's afterwards. */
  restart(): Promise<void>;
  log(): string;
}

const BROKERS_DIR = resolve(__dirname, '../../brokers');
const READY_TIMEOUT_MS = 5000;
const STOP_TIMEOUT_MS = 3000;
const MAX_LOG_CHARS = 1_000_000;
const MAX_START_ATTEMPTS = 3;

const running = new Map<number, { child: ChildProcess; dir: string; stop: () => Promise<void> }>();

export async function startMosquitto(kind: MosquittoKind, opts: MosquittoOptions = {}): Promise<MosquittoBroker> {
  const bin = findTool('mosquitto');
  if (!bin) throw new Error('mosquitto is not installed (apt-get install mosquitto); call requireTool() in before()');
  const source = typeof kind === 'string'
    ? { text: readFileSync(join(BROKERS_DIR, kind, 'mosquitto.conf'), 'utf8'), base: join(BROKERS_DIR, kind) }
    : { text: kind.conf, base: process.cwd() };

  const dir = mkdtempSync(join(tmpdir(), 'mqttsec-mosquitto-'));
  try {
    const files = prepareFiles(dir, source.text, source.base, opts);
    for (let attempt = 1; ; attempt++) {
      const ports = opts.ports ?? (await listenerPorts(source.text, opts.port));
      const hosts = ports.map((_, i) => opts.listenerHosts?.[i] ?? '127.0.0.1');
      const confPath = join(dir, 'mosquitto.conf');
      writeFileSync(confPath, rewriteConf(source.text, dir, ports, files, opts));
      try {
        return await launch(bin, confPath, dir, ports, hosts, files);
      } catch (err) {
        const portRace = /address already in use/i.test((err as Error).message);
        if (!portRace || opts.port !== undefined || attempt >= MAX_START_ATTEMPTS) throw err;
      }
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

const PLUGIN_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib/arm-linux-gnueabihf', '/usr/lib/mosquitto', '/usr/local/lib', '/usr/lib64', '/usr/lib'];

/**
 * The path of Mosquitto 2's dynamic security plugin (mosquitto_dynamic_security.so, shipped in
 * Debian's and Ubuntu's mosquitto package), or null when it is not installed. Unlike acl_file,
 * whose subscribe check always allows (mosquitto 2.0 checks reads when it delivers), its
 * subscribeLiteral / subscribePattern ACLs refuse a SUBSCRIBE in the SUBACK.
 */
export function dynamicSecurityPlugin(): string | null {
  for (const dir of PLUGIN_DIRS) {
    const path = join(dir, 'mosquitto_dynamic_security.so');
    try {
      accessSync(path, constants.R_OK);
      return path;
    } catch {
      // not here
    }
  }
  return null;
}

/** Stops every broker this module started (the root after hook calls it). */
export async function stopAllMosquitto(): Promise<void> {
  await Promise.all([...running.values()].map((b) => b.stop()));
}

interface PreparedFiles {
  users: Record<string, string>;
  caPath?: string;
  ca?: CertPair;
  tls: boolean;
  hasPasswordFile: boolean;
}

function directives(text: string): string[][] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => l.split(/\s+/));
}

/** Writes certs, password file and ACL into dir, according to what the config uses. */
function prepareFiles(dir: string, text: string, base: string, opts: MosquittoOptions): PreparedFiles {
  const keys = new Set(directives(text).map((d) => d[0]));
  const tls = keys.has('certfile') || keys.has('keyfile');
  const prepared: PreparedFiles = { users: {}, tls, hasPasswordFile: keys.has('password_file') };
  mkdirSync(join(dir, 'data'));

  if (tls) {
    if (opts.certs && opts.certs !== 'generate') {
      copyFileSync(opts.certs.ca, join(dir, 'ca.crt'));
      copyFileSync(opts.certs.cert, join(dir, 'server.crt'));
      copyFileSync(opts.certs.key, join(dir, 'server.key'));
    } else {
      const ca = generateCa();
      const server = generateServerCert(ca, { hosts: opts.hosts ?? ['127.0.0.1', 'localhost', '::1'] });
      writeFileSync(join(dir, 'ca.crt'), ca.certPem);
      writeFileSync(join(dir, 'server.crt'), server.certPem);
      writeFileSync(join(dir, 'server.key'), server.keyPem, { mode: 0o600 });
      prepared.ca = ca;
    }
    prepared.caPath = join(dir, 'ca.crt');
  }

  if (prepared.hasPasswordFile || opts.users) {
    prepared.users = opts.users ?? { esp32: randomPassword(), scanner: randomPassword(), student: randomPassword() };
    writePasswordFile(join(dir, 'passwords'), prepared.users);
  }

  for (const [name, contents] of Object.entries(opts.files ?? {})) {
    if (!/^\w[\w.-]*$/.test(name) || name === 'acl' || name === 'passwords') throw new Error(`files: ${JSON.stringify(name)} is not a plain file name of its own`);
    writeFileSync(join(dir, name), contents);
  }

  const aclLine = directives(text).find((d) => d[0] === 'acl_file');
  if (opts.acl !== undefined) writeFileSync(join(dir, 'acl'), opts.acl);
  else if (aclLine) copyFileSync(resolvePath(base, aclLine.slice(1).join(' ')), join(dir, 'acl'));
  return prepared;
}

function resolvePath(base: string, p: string): string {
  return isAbsolute(p) ? p : resolve(base, p);
}

async function listenerPorts(text: string, fixed?: number): Promise<number[]> {
  const count = directives(text).filter((d) => d[0] === 'listener' || d[0] === 'port').length;
  if (count === 0) throw new Error('mosquitto config has no listener line');
  const ports: number[] = [];
  const fresh = await freePorts(count);
  for (let i = 0; i < count; i++) ports.push(i === 0 && fixed !== undefined ? fixed : fresh[i]);
  return ports;
}

function rewriteConf(text: string, dir: string, ports: number[], files: PreparedFiles, opts: MosquittoOptions): string {
  const out: string[] = ['# rewritten by test/support/mosquitto.ts'];
  // As root, mosquitto would switch to user "mosquitto", which cannot read our temp dir.
  if (process.getuid?.() === 0) out.push('user root');
  const keys = new Set(directives(text).map((d) => d[0]));
  // Per-listener options the caller adds (tls_version, require_certificate when the config has
  // none, and extraConf such as ciphers) go at the end of every listener's block, so they apply to
  // each listener (the secure config's TLS and wss listeners load the same certificate).
  const perListener: string[] = [];
  if (opts.tlsVersion && !keys.has('tls_version')) perListener.push(`tls_version ${opts.tlsVersion}`);
  if (opts.requireCertificate !== undefined && !keys.has('require_certificate')) {
    perListener.push(`require_certificate ${opts.requireCertificate}`);
  }
  perListener.push(...(opts.extraConf ?? []));
  let listener = 0;
  for (const d of directives(text)) {
    const [key, ...rest] = d;
    switch (key) {
      case 'listener':
      case 'port':
        if (listener > 0) out.push(...perListener);
        out.push(`listener ${ports[listener]} ${opts.listenerHosts?.[listener] ?? '127.0.0.1'}`);
        listener++;
        break;
      case 'bind_address':
      case 'bind_interface':
      case 'user':
        break; // would undo the loopback binding / our user choice
      case 'persistence_location':
        out.push(`persistence_location ${join(dir, 'data')}/`);
        break;
      case 'pid_file':
        out.push(`pid_file ${join(dir, 'mosquitto.pid')}`);
        break;
      case 'log_dest':
        if (rest[0] === 'file') out.push(`log_dest file ${join(dir, 'mosquitto.log')}`);
        else if (rest[0] === 'stdout' || rest[0] === 'stderr' || rest[0] === 'topic') out.push(d.join(' '));
        break; // syslog/dlt: keep the host's logs clean
      case 'cafile':
        out.push(`cafile ${join(dir, 'ca.crt')}`);
        break;
      case 'certfile':
        out.push(`certfile ${join(dir, 'server.crt')}`);
        break;
      case 'keyfile':
        out.push(`keyfile ${join(dir, 'server.key')}`);
        break;
      case 'password_file':
        out.push(`password_file ${join(dir, 'passwords')}`);
        break;
      case 'acl_file':
        out.push(`acl_file ${join(dir, 'acl')}`);
        break;
      case 'tls_version':
        out.push(`tls_version ${opts.tlsVersion ?? rest.join(' ')}`);
        break;
      case 'require_certificate':
        out.push(`require_certificate ${opts.requireCertificate ?? rest.join(' ')}`);
        break;
      default:
        out.push(d.join(' '));
    }
  }
  out.push(...perListener);
  if (opts.users && !files.hasPasswordFile) out.push(`password_file ${join(dir, 'passwords')}`);
  if (opts.acl !== undefined && !keys.has('acl_file')) out.push(`acl_file ${join(dir, 'acl')}`);
  return out.join('\n') + '\n';
}

async function launch(bin: string, confPath: string, dir: string, ports: number[], hosts: string[], files: PreparedFiles): Promise<MosquittoBroker> {
  const captured = { stdout: '', stderr: '' };
  // mosquitto's stdout is block-buffered into a pipe, so prefer its log file (flushed per line).
  const logText = () => {
    let file = '';
    try {
      file = readFileSync(join(dir, 'mosquitto.log'), 'utf8');
    } catch {
      // no log_dest file in this config, or already removed
    }
    return (file || captured.stdout) + captured.stderr;
  };

  /** Starts one mosquitto process on the config and waits for its ports. */
  const spawnOne = async (): Promise<{ child: ChildProcess; exited: Promise<void> }> => {
    const child = spawn(bin, ['-c', confPath], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const capture = (name: 'stdout' | 'stderr') => (chunk: Buffer) => {
      captured[name] = (captured[name] + chunk.toString('utf8')).slice(-MAX_LOG_CHARS);
    };
    child.stdout!.on('data', capture('stdout'));
    child.stderr!.on('data', capture('stderr'));
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    const spawnError = new Promise<never>((_, rej) => child.once('error', rej));
    spawnError.catch(() => undefined);
    try {
      await Promise.race([spawnError, waitForPorts(ports, hosts, child, logText)]);
    } catch (err) {
      child.kill('SIGKILL');
      await within(exited, STOP_TIMEOUT_MS);
      throw err;
    }
    return { child, exited };
  };

  const killOne = async (one: { child: ChildProcess; exited: Promise<void> }): Promise<void> => {
    const { child, exited } = one;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      if (!(await within(exited, STOP_TIMEOUT_MS))) {
        child.kill('SIGKILL');
        await within(exited, STOP_TIMEOUT_MS);
      }
    }
  };

  let current = await spawnOne();
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await killOne(current);
      running.delete(current.child.pid!);
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  const broker: MosquittoBroker = {
    host: '127.0.0.1', port: ports[0], ports, hosts, pid: current.child.pid!, dir, confPath,
    caPath: files.caPath, ca: files.ca, users: files.users,
    stop, log: logText,
    restart: async () => {
      if (stopping) throw new Error('mosquitto was stopped');
      await killOne(current);
      running.delete(current.child.pid!);
      current = await spawnOne();
      broker.pid = current.child.pid!;
      running.set(current.child.pid!, { child: current.child, dir, stop });
    },
  };
  running.set(current.child.pid!, { child: current.child, dir, stop });
  return broker;
}

/** Polls until every port accepts a TCP connection; fails early with the log if mosquitto exits. */
async function waitForPorts(ports: number[], hosts: string[], child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (const [i, port] of ports.entries()) {
    while (!(await canConnect(port, hosts[i]))) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`mosquitto exited (${child.exitCode ?? child.signalCode}) before listening:\n${log()}`);
      }
      if (Date.now() > deadline) throw new Error(`mosquitto not listening on ${port} after ${READY_TIMEOUT_MS} ms:\n${log()}`);
      await delay(50);
    }
  }
}

// Root-level hook: registered once, when the first test file imports this module.
if (typeof after === 'function') after(stopAllMosquitto);
// Last resort (mocha's --exit, a crash): synchronous kill and cleanup.
process.on('exit', () => {
  for (const { child, dir } of running.values()) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
