// `npm run lab:sites` (lab/start.ts --sites): the lab with two sites, one scan (issue 20). Besides
// `npm start`'s lab it runs
//   - the coordinator's broker: a real Mosquitto from brokers/sites (TLS only, a login each, the
//     shipped ACL) on 127.0.0.1 (LAB_SITES_PORT, 8886), its files in <userDir>/sites-broker;
//   - one more small lab broker, the south site's (aedes, anonymous, plain MQTT) on
//     LAB_SOUTH_ADDRESS (127.0.0.2) port LAB_SOUTH_PORT (1884), with a few retained readings;
//   - two scan agents (`mqtt-scan agent` child processes): north-1 of site north, whose scope is
//     the address of the lab's own brokers, and south-1 of site south, whose scope is the south
//     address. Their passwords reach them in environment variables, never in argv.
// The coordinator is the lab dashboard's and the HTTP API's site coordinator node, switched on by
// the launcher only in this mode (lab/start.ts), with its login put in Node-RED's credentials store.
// aedes has no MQTT 5 (shared subscriptions, OASIS MQTT 5.0 section 4.8.2; session expiry,
// section 3.1.2.11.2), so there is no embedded stand-in for the coordinator's broker: without
// Mosquitto this mode says so and the launcher exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, constants, copyFileSync, existsSync, lchownSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join, resolve } from 'node:path';
import { writeLabCerts, type LabCertPaths } from './certs';
import { LabConfigError, type LabConfig } from './lab-config';
import { randomPassword, writePasswordFile } from './passwords';
import { isLoopback } from './request-guard';

const ROOT = resolve(__dirname, '../..');
/** The shipped config and ACL of the coordinator's broker. */
const SHIPPED = join(ROOT, 'brokers', 'sites');
/** The mqtt-scan CLI the agents run (built by npm run build, as the launcher itself). */
export const CLI = join(ROOT, 'dist', 'cli', 'index.js');

/** The environment variables of this mode (all optional). */
export const SITES_ENV = {
  port: 'LAB_SITES_PORT',
  southAddress: 'LAB_SOUTH_ADDRESS',
  southPort: 'LAB_SOUTH_PORT',
} as const;

/** The login name of the scanned brokers' login that the agents hold and jobs name (credentialsName). */
export const LAB_SITES_CREDENTIALS_NAME = 'lab';
/** The logins on the coordinator's broker: the coordinator's, then one agent per site (the shipped ACL's north-1 and south-1). */
export const LAB_SITES_LOGINS = ['coordinator', 'north-1', 'south-1'] as const;
export type LabSitesLogin = (typeof LAB_SITES_LOGINS)[number];

/** Where this mode listens and what each site's agent may scan. */
export interface LabSitesConfig {
  /** The coordinator's broker: mqtts://127.0.0.1:<port>. */
  port: number;
  /** The address of the lab's own brokers, as the north agent scans them (a loopback IPv4 address). */
  northAddress: string;
  /** The south site's address (loopback IPv4, not the north one) and its broker's port. */
  southAddress: string;
  southPort: number;
}

/**
 * This mode's settings from the environment and the lab's. The north site is the address of the
 * lab's own brokers: MQTTSEC_BIND when it is a loopback IPv4 address, 127.0.0.1 when the lab
 * listens on every address (0.0.0.0, ::). Throws LabConfigError naming the variable: a bind
 * address beyond loopback (the agents scan loopback only), a south address that is not a loopback
 * IPv4 address other than the north one, a port that is no port or one of the lab's own.
 */
export function labSitesConfig(lab: LabConfig, env: NodeJS.ProcessEnv = process.env): LabSitesConfig {
  let northAddress: string;
  if (lab.bind === '0.0.0.0' || lab.bind === '::') northAddress = '127.0.0.1';
  else if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(lab.bind)) northAddress = lab.bind;
  else if (isLoopback(lab.bind)) northAddress = '127.0.0.1'; // localhost, ::1: the brokers answer on 127.0.0.1 too
  else throw new LabConfigError(`npm run lab:sites scans loopback addresses only: MQTTSEC_BIND=${lab.bind.slice(0, 40)} must be a loopback address (or 0.0.0.0)`);
  const southAddress = env[SITES_ENV.southAddress] || '127.0.0.2';
  if (!/^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(southAddress) || southAddress.split('.').some((o) => Number(o) > 255)) {
    throw new LabConfigError(`${SITES_ENV.southAddress}="${southAddress.slice(0, 40)}": must be a loopback IPv4 address (127.x.y.z)`);
  }
  if (southAddress === northAddress) throw new LabConfigError(`${SITES_ENV.southAddress}=${southAddress}: must differ from the lab's own address (${northAddress}), the north site`);
  const config: LabSitesConfig = {
    port: port(env, 'port', 8886),
    northAddress,
    southAddress,
    southPort: port(env, 'southPort', 1884),
  };
  const taken = [lab.uiPort, lab.insecurePort, lab.securePort, lab.websocketPort, lab.secureWebsocketPort];
  for (const key of ['port', 'southPort'] as const) {
    if (taken.includes(config[key])) throw new LabConfigError(`${SITES_ENV[key]}=${config[key]}: the lab uses that port already; choose another`);
  }
  if (config.port === config.southPort) throw new LabConfigError(`${SITES_ENV.port} and ${SITES_ENV.southPort} must be two different ports (got ${config.port})`);
  return config;
}

function port(env: NodeJS.ProcessEnv, key: 'port' | 'southPort', fallback: number): number {
  const raw = env[SITES_ENV[key]];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n < 1 || n > 65535) throw new LabConfigError(`${SITES_ENV[key]}="${raw.slice(0, 40)}": must be a port number 1-65535`);
  return n;
}

/** The sites of the coordinator (one "name = scope" per line, as the coordinator node's Sites field reads them). */
export function sitesSetting(c: LabSitesConfig): string {
  return `north = ${c.northAddress}\nsouth = ${c.southAddress}`;
}

/** The secrets of this mode, made once per user directory and kept (as lab-secrets.ts keeps the lab's). */
export interface LabSitesSecrets {
  /** The coordinator's broker's own CA (its key is not kept), certificate and key. */
  certs: LabCertPaths;
  /** Passwords on the coordinator's broker, by login. */
  logins: Record<LabSitesLogin, string>;
}

/**
 * <userDir>/lab-secrets/sites (0700): ca.crt, server.crt, server.key (lab/certs.ts, for 127.0.0.1,
 * localhost and ::1) and logins.json (0600: a random 24-character password per login of
 * LAB_SITES_LOGINS). Read when they exist, made when any is missing.
 */
export function labSitesSecrets(userDir: string): LabSitesSecrets {
  const dir = join(userDir, 'lab-secrets', 'sites');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'logins.json');
  const certs: LabCertPaths = { ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
  const haveCerts = [certs.ca, certs.cert, certs.key].every((f) => existsSync(f));
  const written = haveCerts ? certs : writeLabCerts(dir, ['127.0.0.1', 'localhost', '::1']);
  let logins: Record<LabSitesLogin, string> | null = null;
  if (existsSync(file)) {
    const kept = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    if (LAB_SITES_LOGINS.every((l) => typeof kept[l] === 'string' && kept[l])) logins = kept as Record<LabSitesLogin, string>;
  }
  if (!logins) {
    logins = Object.fromEntries(LAB_SITES_LOGINS.map((l) => [l, randomPassword()])) as Record<LabSitesLogin, string>;
    writeFileSync(file, `${JSON.stringify(logins, null, 2)}\n`, { mode: 0o600 });
  }
  return { certs: written, logins };
}

// sbin directories are often missing from a non-root PATH, and mosquitto lives there.
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/**
 * The mosquitto executable: the one MQTTSEC_MOSQUITTO names (when set, only that one), else the
 * first on PATH or in the sbin directories; null when there is none (or it is not executable).
 */
export function findMosquitto(env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates = env.MQTTSEC_MOSQUITTO
    ? [env.MQTTSEC_MOSQUITTO]
    : [...(env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS].map((dir) => join(dir, 'mosquitto'));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** What the launcher says when this mode cannot run for want of Mosquitto (the agents share their site's jobs through an MQTT 5 shared subscription, OASIS MQTT 5.0 section 4.8.2). */
export const NO_MOSQUITTO =
  'npm run lab:sites needs Mosquitto 2 (apt-get install mosquitto): the coordinator\'s broker must speak MQTT 5 (shared subscriptions,\n' +
  'session expiry), which the embedded lab broker (aedes) does not. Nothing was started. `npm start` runs the lab without the sites\n' +
  '(MQTTSEC_MOSQUITTO=/path/to/mosquitto names a Mosquitto that is not on PATH).';

/** uid and gid of the user `mosquitto` drops to when started as root, from /etc/passwd; null when there is none. */
function mosquittoUser(): { uid: number; gid: number } | null {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === 'mosquitto' && /^\d+$/.test(f[2]) && /^\d+$/.test(f[3])) return { uid: Number(f[2]), gid: Number(f[3]) };
    }
  } catch {
    // no /etc/passwd: not a system where mosquitto drops privileges
  }
  return null;
}

/** The coordinator's broker's files, written for this run. */
export interface SitesBrokerFiles {
  dir: string;
  conf: string;
  log: string;
}

/**
 * Writes <userDir>/sites-broker: mosquitto.conf (brokers/sites/mosquitto.conf with its listener on
 * 127.0.0.1:<port> and every path in this folder; the log in a file only), the CA, certificate and
 * key, the password file (mosquitto 2.0's PBKDF2 lines for LAB_SITES_LOGINS) and the shipped ACL.
 * The persistence folder (data/) is kept from run to run; the rest is written anew. Started as
 * root, mosquitto reads these files after it has become the user `mosquitto`: the folder is then
 * given to that user, and the user directory gets o+x (enter, not list; its files stay 0600).
 * That user owns the folder between runs (and so does every process running as it, a system
 * Mosquitto too), so as root the folder is first taken back (root, 0700) before anything in it is
 * removed or written, and only the folder, data/ and the files written here are given away, each
 * by lchown on what lstat says is this very file or folder: nothing is followed through a link
 * or entered below data/ (a link left there to /etc/shadow must not be given away).
 * Throws LabConfigError when the folder or data/ is not a real folder (a link), or, as root, when
 * the machine has no user `mosquitto`.
 */
export function writeSitesBrokerFiles(userDir: string, secrets: LabSitesSecrets, config: LabSitesConfig): SitesBrokerFiles {
  const dir = join(userDir, 'sites-broker');
  const root = process.getuid?.() === 0;
  const user = root ? mosquittoUser() : null;
  if (root && !user) throw new LabConfigError('mosquitto started as root becomes the user "mosquitto", and this machine has none (the mosquitto package creates it)');
  const notFolder = (d: string) => new LabConfigError(`${d} is not a folder (a link?): remove it and start again`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!lstatSync(dir).isDirectory()) throw notFolder(dir);
  if (root) {
    // Taken back before anything in it is looked at: the user mosquitto can then no longer add,
    // rename or replace an entry here (the user directory above is not its).
    lchownSync(dir, 0, 0);
    chmodSync(dir, 0o700);
  }
  mkdirSync(join(dir, 'data'), { recursive: true, mode: 0o700 });
  if (!lstatSync(join(dir, 'data')).isDirectory()) throw notFolder(join(dir, 'data'));
  for (const name of readdirSync(dir)) if (name !== 'data') rmSync(join(dir, name), { recursive: true, force: true });
  copyFileSync(secrets.certs.ca, join(dir, 'ca.crt'));
  copyFileSync(secrets.certs.cert, join(dir, 'server.crt'));
  copyFileSync(secrets.certs.key, join(dir, 'server.key'));
  chmodSync(join(dir, 'server.key'), 0o600);
  writePasswordFile(join(dir, 'passwords'), secrets.logins);
  copyFileSync(join(SHIPPED, 'acl'), join(dir, 'acl'));
  const conf = join(dir, 'mosquitto.conf');
  const log = join(dir, 'mosquitto.log');
  writeFileSync(conf, sitesBrokerConf(readFileSync(join(SHIPPED, 'mosquitto.conf'), 'utf8'), dir, config.port, root ? 'mosquitto' : null));
  if (root && user) {
    // Only what this function made or wrote, each checked to be itself (lstat) and given by
    // lchown: nothing below data/ (mosquitto's own files, made as that user) is touched.
    for (const name of [...readdirSync(dir).filter((n) => n !== 'data'), 'data', '']) {
      const path = join(dir, name);
      const st = lstatSync(path);
      if (st.isSymbolicLink() || !(st.isDirectory() || (st.isFile() && st.nlink === 1))) throw new LabConfigError(`${path}: not a plain file or folder; remove it and start again`);
      lchownSync(path, user.uid, user.gid);
    }
    chmodSync(userDir, statSync(userDir).mode & 0o7777 | 0o001);
  }
  return { dir, conf, log };
}

/**
 * The shipped config rewritten for this run: `listener <port> 127.0.0.1`, cafile/certfile/keyfile/
 * password_file/acl_file/persistence_location/log file in `dir`, `user <runAs>` when given (as
 * root), the log to its file only. Every other line as shipped.
 */
export function sitesBrokerConf(shipped: string, dir: string, port: number, runAs: string | null): string {
  const out = ['# Written by lab/lab-sites.ts for npm run lab:sites from brokers/sites/mosquitto.conf; made anew at each start.'];
  if (runAs) out.push(`user ${runAs}`);
  const files: Record<string, string> = {
    cafile: 'ca.crt', certfile: 'server.crt', keyfile: 'server.key', password_file: 'passwords', acl_file: 'acl',
  };
  for (const line of shipped.split(/\r?\n/)) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const [key, ...rest] = t.split(/\s+/);
    if (key === 'listener' || key === 'port') out.push(`listener ${port} 127.0.0.1`);
    else if (Object.hasOwn(files, key)) out.push(`${key} ${join(dir, files[key])}`);
    else if (key === 'persistence_location') out.push(`persistence_location ${join(dir, 'data')}/`);
    else if (key === 'log_dest') {
      if (rest[0] === 'file') out.push(`log_dest file ${join(dir, 'mosquitto.log')}`);
    } else if (key === 'user' || key === 'bind_address' || key === 'bind_interface' || key === 'pid_file') continue;
    else out.push(t);
  }
  return `${out.join('\n')}\n`;
}

/** A child process the launcher started, stopped by its pid. */
export interface Started {
  pid: number;
  stop(): Promise<void>;
}

/**
 * The last resort for a child the launcher started: when the launcher's process exits without
 * stopping it (an uncaught error, a pipe its output went to closed), the child gets SIGTERM, so
 * no Mosquitto or agent outlives the lab. (A SIGKILL of the launcher cannot be caught.)
 */
function stopOnExit(child: ChildProcess): void {
  const guard = () => child.kill('SIGTERM');
  process.once('exit', guard);
  child.once('exit', () => process.off('exit', guard));
}

/** Stops `child` with SIGTERM (SIGKILL after `ms`) and waits for it to exit. */
function stopChild(child: ChildProcess, ms = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((res) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      res();
    });
    child.kill('SIGTERM');
  });
}

/** Whether a TCP connection to host:port is accepted within 500 ms. */
function accepts(host: string, port: number): Promise<boolean> {
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

const lastLines = (text: string, n = 8) => text.trim().split('\n').slice(-n).join('\n');

/**
 * Starts `mosquitto -c <conf>` and waits (at most 10 s) until it accepts connections on
 * 127.0.0.1:<port>. Throws with the end of its log when it exits first or does not listen in time
 * (a port in use names LAB_SITES_PORT). Its log holds no password (mosquitto logs client ids and
 * logins only). `onSpawn` gets its pid as soon as it is spawned (the run record, claimSitesRun).
 */
export async function startSitesBroker(bin: string, files: SitesBrokerFiles, port: number, onSpawn?: (pid: number) => void): Promise<Started> {
  const child = spawn(bin, ['-c', files.conf], { cwd: files.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  stopOnExit(child);
  if (child.pid) onSpawn?.(child.pid);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-4000)));
  const failed = new Promise<Error>((res) => {
    child.once('error', (err) => res(err));
    child.once('exit', (code, signal) => res(new Error(`mosquitto exited (${code ?? signal})`)));
  });
  const log = () => {
    let text = stderr;
    try {
      text = readFileSync(files.log, 'utf8') + stderr;
    } catch {
      // no log yet
    }
    return lastLines(text);
  };
  const deadline = Date.now() + 10_000;
  let exited: Error | null = null;
  void failed.then((e) => (exited = e));
  while (!(await accepts('127.0.0.1', port))) {
    if (exited || Date.now() > deadline) {
      await stopChild(child);
      const text = log();
      if (/address already in use/i.test(text)) throw new LabConfigError(`Port ${port} (the sites' coordinator broker) is already in use. Choose another: ${SITES_ENV.port}=<port> npm run lab:sites`);
      const hint = process.getuid?.() === 0 ? `\n(Started as root, mosquitto reads its files as the user "mosquitto": every folder above ${files.dir} must let that user enter.)` : '';
      throw new Error(`the sites' coordinator broker (mosquitto) ${exited ? (exited as Error).message : 'did not listen within 10 s'}:\n${text}${hint}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { pid: child.pid!, stop: () => stopChild(child) };
}

/** One agent of the lab: its site, login, scope and the lab's passwords it holds. */
export interface LabAgentSpec {
  site: string;
  login: LabSitesLogin;
  scope: string;
}

/** The two agents of this mode: north-1 (the lab's own address), south-1 (the south address). */
export function labAgents(c: LabSitesConfig): LabAgentSpec[] {
  return [
    { site: 'north', login: 'north-1', scope: c.northAddress },
    { site: 'south', login: 'south-1', scope: c.southAddress },
  ];
}

/**
 * Starts `mqtt-scan agent` for `spec` (node dist/cli/index.js) and waits (at most 20 s) for its
 * `ready` line. Its broker password and the scanned brokers' login (the lab's `student`, named
 * LAB_SITES_CREDENTIALS_NAME, trusted through the lab CA) are in its environment only
 * (MQTTSEC_AGENT_PASSWORD, MQTTSEC_LAB_STUDENT_PASSWORD); argv names the variables. Throws with
 * its last output (which holds no password) when it exits or is not ready in time. `opts.onSpawn`
 * gets its pid as soon as it is spawned (the run record, claimSitesRun).
 */
export async function startLabAgent(spec: LabAgentSpec, opts: { port: number; sitesCa: string; labCa: string; password: string; studentPassword: string; onSpawn?: (pid: number) => void }): Promise<Started> {
  const args = [
    CLI, 'agent', '--broker', `mqtts://127.0.0.1:${opts.port}`, '--ca', opts.sitesCa,
    '--user', spec.login, '--password-env', 'MQTTSEC_AGENT_PASSWORD',
    '--site', spec.site, '--scope', spec.scope,
    '--login', `${LAB_SITES_CREDENTIALS_NAME}:student:MQTTSEC_LAB_STUDENT_PASSWORD`, '--tls-ca', opts.labCa,
  ];
  const env: NodeJS.ProcessEnv = { ...process.env, MQTTSEC_AGENT_PASSWORD: opts.password, MQTTSEC_LAB_STUDENT_PASSWORD: opts.studentPassword };
  delete env.MQTTSEC_API_KEY; // the agent has no use for the HTTP API's key
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  stopOnExit(child);
  if (child.pid) opts.onSpawn?.(child.pid);
  let out = '';
  let ready = false;
  const onData = (d: Buffer) => {
    out = (out + d.toString('utf8')).slice(-8000);
    if (/"type"\s*:\s*"ready"/.test(out)) ready = true;
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const deadline = Date.now() + 20_000;
  while (!ready) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`the scan agent ${spec.login} (site ${spec.site}) ${child.exitCode !== null ? `exited (${child.exitCode})` : 'was not ready within 20 s'}:\n${lastLines(out)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  // From here on the agent's event lines are not needed: read and dropped, so its pipe never fills.
  child.stdout!.removeListener('data', onData);
  child.stdout!.resume();
  return { pid: child.pid!, stop: () => stopChild(child) };
}

/** One process in the run record: its pid and its start time (field 22 of /proc/<pid>/stat, clock ticks since boot), which a reused pid does not share. */
export interface RecordedProcess {
  pid: number;
  start: string;
  /** What it is, for the message: "mosquitto", "agent north-1". */
  what: string;
}

/** <userDir>/lab-sites-run.json: the launcher that runs the sites on this user directory, and what it started. */
export interface SitesRunRecord {
  launcher: RecordedProcess;
  children: RecordedProcess[];
}

/** The start time of process `pid` (field 22 of /proc/<pid>/stat), or null when it does not run, is a zombie, or there is no /proc (not Linux). */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (the state)
    if (fields[0] === 'Z' || fields[0] === 'X') return null;
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether `p` still runs: its pid with its start time. */
const stillRuns = (p: RecordedProcess): boolean => Number.isInteger(p.pid) && p.pid > 1 && processStart(p.pid) === p.start;

/** The run of the sites on one user directory, recorded so that a launcher that could not stop its children (SIGKILL) has them stopped by the next. */
export interface SitesRun {
  /** Records a child as soon as it is spawned. */
  add(pid: number, what: string): void;
  /** Removes the record (after the children are stopped). */
  release(): void;
  /** What the claim stopped that an earlier launcher left running (empty: nothing). */
  stoppedStale: string[];
}

/**
 * Claims `userDir` for this launcher's sites: when <userDir>/lab-sites-run.json names a launcher
 * that still runs (the same pid and start time), throws LabConfigError naming its pid (two labs
 * on one user directory would share the broker folder, its persistence and Node-RED's files);
 * otherwise the children it recorded that still run (each with its recorded start time: never a
 * process that only reuses the pid) get SIGTERM, then SIGKILL after 5 s, and the record is made
 * anew (0600) with this process as the launcher. Without /proc (not Linux) nothing is recorded
 * or stopped.
 */
export async function claimSitesRun(userDir: string): Promise<SitesRun> {
  const file = join(userDir, 'lab-sites-run.json');
  const me = processStart(process.pid);
  const stoppedStale: string[] = [];
  if (me === null) return { add: () => undefined, release: () => undefined, stoppedStale };
  let earlier: SitesRunRecord | null = null;
  try {
    earlier = JSON.parse(readFileSync(file, 'utf8')) as SitesRunRecord;
  } catch {
    // none, or unreadable: nothing to stop
  }
  if (earlier && earlier.launcher && earlier.launcher.pid !== process.pid && stillRuns(earlier.launcher)) {
    throw new LabConfigError(`another npm run lab:sites (pid ${earlier.launcher.pid}) uses the user directory ${userDir}: stop it first, or give this one its own (MQTTSEC_USERDIR=...)`);
  }
  const stale = (Array.isArray(earlier?.children) ? earlier!.children : []).filter((c) => c && stillRuns(c)).slice(0, 16);
  for (const c of stale) process.kill(c.pid, 'SIGTERM');
  const end = Date.now() + 5000;
  while (stale.some(stillRuns) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  for (const c of stale) {
    if (stillRuns(c)) process.kill(c.pid, 'SIGKILL');
    stoppedStale.push(`${String(c.what).slice(0, 40)} (pid ${c.pid})`);
  }
  const record: SitesRunRecord = { launcher: { pid: process.pid, start: me, what: 'npm run lab:sites' }, children: [] };
  const save = () => writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  save();
  return {
    add(pid, what) {
      const start = processStart(pid);
      if (start === null) return;
      record.children.push({ pid, start, what });
      save();
    },
    release() {
      rmSync(file, { force: true });
    },
    stoppedStale,
  };
}

/** The retained readings the south site's broker carries (a greenhouse that publishes in plain text). */
export const SOUTH_READINGS: ReadonlyArray<{ topic: string; payload: string }> = [
  { topic: 'south/greenhouse/dht', payload: '{"temp":24.1,"hum":71}' },
  { topic: 'south/greenhouse/pump', payload: '{"state":"on"}' },
];

/** The lab flows' sites nodes (flows/lab-dashboard.json, flows/http-api.json), by id: the site broker
 *  config nodes the launcher gives the coordinator's login, and the coordinators it switches on. */
export const LAB_SITES_NODES = {
  brokers: ['lab-sites-broker', 'api-sites-broker'],
  coordinators: ['lab-sites-coord', 'api-sites-coord'],
} as const;

/**
 * Before Node-RED starts: the lab's coordinator nodes in `flowsFile` are switched off (`d: true`,
 * Node-RED's disabled node), so that the plain lab, which has no coordinator's broker, never shows
 * one failing to connect. Only those ids are touched, and only when they are on. Returns how many
 * of them the file has (0: flows from before the Sites panel, or edited away).
 */
export function switchOffSitesNodes(flowsFile: string): number {
  if (!existsSync(flowsFile)) return 0;
  const flows = JSON.parse(readFileSync(flowsFile, 'utf8')) as Array<Record<string, unknown>>;
  if (!Array.isArray(flows)) return 0;
  const ids: readonly string[] = LAB_SITES_NODES.coordinators;
  let found = 0;
  let changed = false;
  for (const n of flows) {
    if (!n || !ids.includes(n.id as string)) continue;
    found++;
    if (n.d !== true) {
      n.d = true;
      changed = true;
    }
  }
  if (changed) writeFileSync(flowsFile, `${JSON.stringify(flows, null, 2)}\n`);
  return found;
}

/**
 * Before Node-RED starts: flows from before the Sites panel's button had its own view wired the
 * panel (ui_template `lab-sites`, whose output is whatever a dashboard tab sends) to the view of
 * the coordinator's events (`lab-sites-fn`), so any tab could forge them for every tab; that view
 * now ignores the button, which would leave it dead. When `flowsFile` has that wiring as shipped
 * (lab-sites -> lab-sites-fn, view "sites", no lab-sites-scan), the shipped button view
 * (`lab-sites-scan`, from `shipped`, the lab's flows/lab-dashboard.json) is added, the panel wired
 * to it and lab-sites-fn given its one output (its first wire). Nothing else is touched; flows
 * edited otherwise are left as they are. Returns whether it changed the file.
 */
export function upgradeSitesPanel(flowsFile: string, shipped = join(ROOT, 'flows', 'lab-dashboard.json')): boolean {
  if (!existsSync(flowsFile)) return false;
  const flows = JSON.parse(readFileSync(flowsFile, 'utf8')) as Array<Record<string, unknown>>;
  if (!Array.isArray(flows)) return false;
  const byId = new Map(flows.filter((n) => n && typeof n.id === 'string').map((n) => [n.id as string, n]));
  const panel = byId.get('lab-sites');
  const view = byId.get('lab-sites-fn');
  if (!panel || !view || byId.has('lab-sites-scan') || view.view !== 'sites') return false;
  if (JSON.stringify(panel.wires) !== JSON.stringify([['lab-sites-fn']])) return false;
  const button = (JSON.parse(readFileSync(shipped, 'utf8')) as Array<Record<string, unknown>>).find((n) => n.id === 'lab-sites-scan');
  if (!button) return false;
  const wires = Array.isArray(view.wires) ? (view.wires as unknown[][]) : [];
  panel.wires = [['lab-sites-scan']];
  view.outputs = 1;
  view.wires = [Array.isArray(wires[0]) ? wires[0] : []];
  flows.splice(flows.indexOf(view) + 1, 0, { ...button, z: view.z });
  writeFileSync(flowsFile, `${JSON.stringify(flows, null, 2)}\n`);
  return true;
}

/** The part of Node-RED's runtime API (RED.runtime.flows) that switchOnSitesNodes uses. */
export interface FlowsApi {
  /** null until Node-RED has loaded its flows file. */
  getFlows(opts: Record<string, unknown>): Promise<{ flows: Array<Record<string, unknown>>; rev: string } | null>;
  setFlows(opts: { flows: { flows: Array<Record<string, unknown>>; rev: string }; deploymentType: string }): Promise<unknown>;
}

/**
 * Once Node-RED runs, in sites mode: one deploy of the changed nodes (deploymentType "nodes")
 * that gives the lab's site broker config nodes the coordinator's login (`credentials`, which
 * Node-RED moves into its credentials store, flows_cred.json, encrypted with the lab's
 * credentialSecret: never into flows.json) and switches the lab's coordinators on. Returns how
 * many coordinators it switched on. Waits (at most `waitMs`, ms) for Node-RED to have loaded its
 * flows; throws when it has not by then.
 */
export async function switchOnSitesNodes(flowsApi: FlowsApi, login: { username: string; password: string }, waitMs = 30_000): Promise<number> {
  // RED.start() resolves before Node-RED has loaded the flows file (it does not wait for
  // loadFlows), and until then getFlows gives null: asked at once, a busy machine made the
  // launcher fail ("Cannot destructure property 'flows'") and stop.
  const end = Date.now() + waitMs;
  let got = await flowsApi.getFlows({});
  while (!got && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    got = await flowsApi.getFlows({});
  }
  if (!got) throw new Error(`Node-RED had not loaded its flows within ${waitMs / 1000} s: the lab's coordinators stay switched off`);
  const { flows, rev } = got;
  const brokers: readonly string[] = LAB_SITES_NODES.brokers;
  const coordinators: readonly string[] = LAB_SITES_NODES.coordinators;
  let on = 0;
  const next = flows.map((n) => {
    if (brokers.includes(n.id as string)) return { ...n, credentials: { username: login.username, password: login.password } };
    if (coordinators.includes(n.id as string)) {
      on++;
      const copy = { ...n };
      delete copy.d;
      return copy;
    }
    return n;
  });
  if (on) await flowsApi.setFlows({ flows: { flows: next, rev }, deploymentType: 'nodes' });
  return on;
}
