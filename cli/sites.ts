// mqtt-scan agent | coordinate: the sites protocol (lib/sites) on the command line. An agent runs
// until SIGINT or SIGTERM; a coordinated scan prints what a local scan prints.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { checkOption, OPTIONS } from '../lib/options';
import { parseWebSocketPaths } from '../lib/mqtt';
import {
  ScanAgent, ScanCoordinator, SitesMessageError, checkBrokerUrl, checkCredentialsName,
  type CoordinatedScanOutput, type JobScanOptions, type SitesBrokerOptions,
} from '../lib/sites';
import type { Credentials, MqttVersion } from '../lib/types';
import { EXIT_CODES, numberOption, UsageError } from './args';
import { writeJsonArray } from './json';
import { formatSummary, formatTable } from './table';

const COMMANDS = ['agent', 'coordinate'] as const;
type SitesCommand = (typeof COMMANDS)[number];

export function isSitesCommand(word: string | undefined): word is SitesCommand {
  return (COMMANDS as readonly string[]).includes(word ?? '');
}

const BROKER_HELP = `  --broker URL           the coordinator's broker, mqtts://host:port (TLS only)
  --user LOGIN           this process's own login on that broker
  --password-env VAR     its password, from environment variable VAR
  --password-file FILE   its password, from the first line of FILE
  --ca FILE              CA certificate (PEM) the broker's certificate must chain to
  --client-id ID         MQTT client id (prefix) of the persistent session; keep it across
                         restarts. Default: derived from the password (scrypt, never the
                         password itself), stable and secret. An id another login can guess lets
                         it take the session over, queued jobs or results with it (Mosquitto
                         hands a session to any login that names its client id)
  --session-expiry S     seconds the broker keeps the session of a disconnected client
                         (default 120)`;

export const AGENT_USAGE = `Usage: mqtt-scan agent --broker mqtts://HOST:PORT --site NAME --scope SPEC --user LOGIN
                       (--password-env VAR | --password-file FILE) [options]

Takes the jobs of site NAME from the coordinator's broker ($share/mqttsec/mqttsec/NAME/jobs),
refuses (and says why) any job outside its own scope, and scans the others like mqtt-scan does.
Runs until SIGINT or SIGTERM; prints one JSON line per event on stdout (never a password).

${BROKER_HELP}
  --site NAME            this agent's site (a-z, 0-9, _ and -)
  --scope SPEC           the networks this agent may scan (IP addresses, CIDR, ranges; !SPEC
                         excludes); repeatable
  --login NAME:USER:VAR  a login for scanned brokers that jobs may name (NAME), with its
                         username USER and its password from environment variable VAR;
                         repeatable. Jobs carry the name only.
  --concurrency N        shards run at once (default 1; at most 16)
  --grant-wait MS        how long to wait for the coordinator's grant of a claim (default 15000)
  --tls-ca FILE          CA certificate (PEM) that scanned brokers' certificates are judged by
  --send-credentials-plaintext
                         also send logins over plain TCP and untrusted TLS (see mqtt-scan --help)
  --allow-public         allow public addresses in the scope and in jobs
  --allow-write-test     run jobs that ask for a write test (publishing one message on each
                         readable scanned broker); refused by default, with the reason
  --allow-default-logins run jobs that ask to try well-known default logins (admin/admin, ...);
                         refused by default, with the reason
  --max-targets N        largest job, in host:port pairs
  -h, --help             show this help`;

export const COORDINATE_USAGE = `Usage: mqtt-scan coordinate --broker mqtts://HOST:PORT --user LOGIN (--password-env VAR |
                            --password-file FILE) --site NAME=SPEC ... --target SPEC [options]

Splits the scan over the sites by scope and into shards, publishes the jobs, and prints the
merged scan as mqtt-scan prints a local one (--json: the same JSON array). Targets in no site's
scope are listed on stderr, not scanned. Exit code 1 when a shard could not be done.

${BROKER_HELP}
  --site NAME=SPEC       a site and its scope (repeatable; an address in two scopes goes to the
                         site given first)
  --target SPEC          addresses to scan (IP addresses, CIDR, ranges; no host names)
  --ports LIST           ports (default 1883,8883)
  --credentials NAME     the name of the login each agent uses for scanned brokers (--login)
${optionLine(OPTIONS.timeoutMs)}
  --listen SECONDS       listen window on readable brokers (default 5)
  --no-sniff             do not subscribe to any broker's topics
  --no-tls-inspect       do not inspect certificates
  --write-test           publish one non-retained message to learn whether writes are allowed
                         (agents refuse it unless started with --allow-write-test)
  --try-defaults         also try well-known default logins (agents refuse it unless started
                         with --allow-default-logins)
  --transport MODE       auto, tcp, tls, ws or wss
  --ws-paths LIST        HTTP paths for MQTT over WebSockets
  --mqtt-version LIST    5.0,3.1.1
  --shard-targets N      host:port pairs per shard (default 4096)
  --lease SECONDS        a silent agent loses its shard after this (default 30)
  --claim-wait SECONDS   a job nobody claimed is published again after this (default 15)
  --attempts N           refusals and leases run out before a shard is given up (default 6);
                         a job nobody claimed is published again without counting
  --agents-wait SECONDS  wait this long for an online agent of each site first (default 10)
  --deadline SECONDS     the scan ends by then, done or not (default 21600)
  --max-targets N        largest scan in host:port pairs
  --allow-public         allow public addresses
  --all                  list closed and filtered ports too
  --json                 print the results as a JSON array
  -h, --help             show this help`;

function optionLine(o: typeof OPTIONS.timeoutMs): string {
  return `  ${`${o.flag} ${o.flagValue}`.padEnd(23)}${o.help} (default ${o.default})`;
}

const BROKER_OPTIONS = {
  broker: { type: 'string' },
  user: { type: 'string' },
  'password-env': { type: 'string' },
  'password-file': { type: 'string' },
  ca: { type: 'string' },
  'client-id': { type: 'string' },
  'session-expiry': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type ArgOptions = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>;

function parse(argv: string[], options: ArgOptions): Record<string, string | string[] | boolean | undefined> {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as Record<string, string | string[] | boolean | undefined>;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function readFile(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new UsageError(`${flag} "${file}": ${(err as NodeJS.ErrnoException).code ?? 'cannot read'}`);
  }
}

function wholeNumber(flag: string, raw: unknown, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const text = String(raw).trim();
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) throw new UsageError(`${flag} "${text.slice(0, 40)}": must be a whole number from ${min} to ${max}`);
  return n;
}

/** The broker connection from the flags; the password from an environment variable or a file only. */
function brokerOptions(v: Record<string, unknown>): SitesBrokerOptions {
  const url = v.broker as string | undefined;
  if (!url) throw new UsageError('--broker is required (e.g. --broker mqtts://127.0.0.1:8886)');
  const problem = checkBrokerUrl(url);
  if (problem) throw new UsageError(`--broker: ${problem.message}`);
  const user = v.user as string | undefined;
  if (!user) throw new UsageError('--user is required: this process\'s own login on the broker');
  const env = v['password-env'] as string | undefined;
  const file = v['password-file'] as string | undefined;
  if ((env === undefined) === (file === undefined)) throw new UsageError('give the password one way: --password-env VAR or --password-file FILE');
  let password: string;
  if (env !== undefined) {
    const value = process.env[env];
    if (value === undefined) throw new UsageError(`--password-env ${env}: that environment variable is not set`);
    password = value;
  } else {
    password = readFile('--password-file', file!).toString('utf8').split(/\r?\n/)[0];
  }
  return {
    url, username: user, password,
    ca: v.ca !== undefined ? readFile('--ca', v.ca as string) : undefined,
    sessionExpirySeconds: wholeNumber('--session-expiry', v['session-expiry'], 1, 7 * 24 * 3600),
  };
}

/** --login NAME:USER:VAR: the name, then the user (which may hold colons), then the variable. */
function logins(values: string[] | undefined): Record<string, Credentials> {
  const out: Record<string, Credentials> = {};
  for (const raw of values ?? []) {
    const first = raw.indexOf(':');
    const last = raw.lastIndexOf(':');
    if (first <= 0 || last === first || last === raw.length - 1) throw new UsageError(`--login "${raw.slice(0, 60)}": expected NAME:USER:ENV_VAR`);
    const name = raw.slice(0, first);
    const username = raw.slice(first + 1, last);
    const variable = raw.slice(last + 1);
    try {
      checkCredentialsName(name);
    } catch (err) {
      throw new UsageError(`--login: ${(err as Error).message}`);
    }
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable)) throw new UsageError(`--login ${name}: "${variable.slice(0, 40)}" is not an environment variable name`);
    const password = process.env[variable];
    if (password === undefined) throw new UsageError(`--login ${name}: environment variable ${variable} is not set`);
    if (Object.hasOwn(out, name)) throw new UsageError(`--login ${name}: given twice`);
    out[name] = { username, password };
  }
  return out;
}

export async function runSitesCommand(command: SitesCommand, argv: string[]): Promise<number> {
  return command === 'agent' ? runAgent(argv) : runCoordinate(argv);
}

async function runAgent(argv: string[]): Promise<number> {
  const v = parse(argv, {
    ...BROKER_OPTIONS,
    site: { type: 'string' },
    scope: { type: 'string', multiple: true },
    login: { type: 'string', multiple: true },
    concurrency: { type: 'string' },
    'grant-wait': { type: 'string' },
    'tls-ca': { type: 'string' },
    'send-credentials-plaintext': { type: 'boolean', default: false },
    'allow-public': { type: 'boolean', default: false },
    'allow-write-test': { type: 'boolean', default: false },
    'allow-default-logins': { type: 'boolean', default: false },
    'max-targets': { type: 'string' },
  });
  if (v.help) {
    process.stdout.write(`${AGENT_USAGE}\n`);
    return EXIT_CODES.done.code;
  }
  if (!v.site) throw new UsageError('--site is required (e.g. --site north)');
  if (!(v.scope as string[] | undefined)?.length) throw new UsageError('--scope is required: the networks this agent may scan (e.g. --scope 127.0.60.0/24)');
  const broker = brokerOptions(v);
  const agent = new ScanAgent({
    broker,
    clientId: v['client-id'] as string | undefined,
    site: v.site as string,
    scope: v.scope as string[],
    allowPublic: !!v['allow-public'],
    credentials: logins(v.login as string[] | undefined),
    concurrency: wholeNumber('--concurrency', v.concurrency, 1, 16),
    grantWaitMs: wholeNumber('--grant-wait', v['grant-wait'], 100, 600_000),
    allow: { writeTest: !!v['allow-write-test'], tryDefaults: !!v['allow-default-logins'] },
    scan: {
      sendCredentialsPlaintext: !!v['send-credentials-plaintext'],
      tls: v['tls-ca'] !== undefined ? { ca: readFile('--tls-ca', v['tls-ca'] as string) } : undefined,
      maxTargets: numberOption(OPTIONS.maxTargets, v['max-targets'] as string | undefined),
    },
  });
  const line = (e: object) => process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), ...e })}\n`);
  agent.on('event', line);
  try {
    await agent.start();
  } catch (err) {
    process.stderr.write(`mqtt-scan agent: ${(err as Error).message}\n`);
    return EXIT_CODES.failure.code;
  }
  line({ type: 'ready', site: agent.site, login: agent.login });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await agent.stop();
  line({ type: 'stopped' });
  return EXIT_CODES.done.code;
}

function versionsOf(raw: unknown): MqttVersion[] | undefined {
  if (raw === undefined) return undefined;
  const out = String(raw).split(/[\s,]+/).filter(Boolean).map((t) => (t === '5' ? '5.0' : t === '4' ? '3.1.1' : t));
  for (const t of out) if (t !== '5.0' && t !== '3.1.1') throw new UsageError(`--mqtt-version "${t.slice(0, 20)}": must be 5.0 or 3.1.1`);
  if (!out.length) throw new UsageError('--mqtt-version is empty');
  return [...new Set(out)] as MqttVersion[];
}

async function runCoordinate(argv: string[]): Promise<number> {
  const v = parse(argv, {
    ...BROKER_OPTIONS,
    site: { type: 'string', multiple: true },
    target: { type: 'string' },
    ports: { type: 'string' },
    credentials: { type: 'string' },
    timeout: { type: 'string' },
    listen: { type: 'string' },
    'no-sniff': { type: 'boolean', default: false },
    'no-tls-inspect': { type: 'boolean', default: false },
    'write-test': { type: 'boolean', default: false },
    'try-defaults': { type: 'boolean', default: false },
    transport: { type: 'string' },
    'ws-paths': { type: 'string' },
    'mqtt-version': { type: 'string' },
    'shard-targets': { type: 'string' },
    lease: { type: 'string' },
    'claim-wait': { type: 'string' },
    attempts: { type: 'string' },
    'agents-wait': { type: 'string' },
    deadline: { type: 'string' },
    'max-targets': { type: 'string' },
    'allow-public': { type: 'boolean', default: false },
    all: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  if (v.help) {
    process.stdout.write(`${COORDINATE_USAGE}\n`);
    return EXIT_CODES.done.code;
  }
  const siteArgs = (v.site as string[] | undefined) ?? [];
  if (!siteArgs.length) throw new UsageError('--site NAME=SPEC is required (e.g. --site north=127.0.60.0/24)');
  const sites: Record<string, string> = {};
  for (const s of siteArgs) {
    const eq = s.indexOf('=');
    if (eq <= 0 || eq === s.length - 1) throw new UsageError(`--site "${s.slice(0, 60)}": expected NAME=SPEC`);
    const name = s.slice(0, eq);
    if (Object.hasOwn(sites, name)) throw new UsageError(`--site ${name.slice(0, 40)}: given twice`);
    sites[name] = s.slice(eq + 1);
  }
  if (!v.target || !String(v.target).trim()) throw new UsageError('--target is required (e.g. --target 127.0.60.0/24)');
  const transport = v.transport as string | undefined;
  if (transport !== undefined && !['auto', 'tcp', 'tls', 'ws', 'wss'].includes(transport)) throw new UsageError(`--transport "${transport.slice(0, 20)}": must be auto, tcp, tls, ws or wss`);
  const listen = numberOption(OPTIONS.listenSeconds, v.listen as string | undefined);
  const options: JobScanOptions = {
    timeoutMs: numberOption(OPTIONS.timeoutMs, v.timeout as string | undefined),
    listenMs: listen === undefined ? undefined : Math.round(listen * 1000),
    sniff: v['no-sniff'] ? false : undefined,
    inspectTls: v['no-tls-inspect'] ? false : undefined,
    writeTest: v['write-test'] ? true : undefined,
    tryDefaults: v['try-defaults'] ? true : undefined,
    transport: transport as JobScanOptions['transport'],
    versions: versionsOf(v['mqtt-version']),
  };
  if (v['ws-paths'] !== undefined) {
    try {
      options.websocketPaths = parseWebSocketPaths(v['ws-paths'] as string);
    } catch (err) {
      throw new UsageError(`--ws-paths: ${(err as Error).message}`);
    }
  }
  for (const k of Object.keys(options) as Array<keyof JobScanOptions>) if (options[k] === undefined) delete options[k];
  const seconds = (flag: string, raw: unknown, min: number, max: number) => {
    const n = wholeNumber(flag, raw, min, max);
    return n === undefined ? undefined : n * 1000;
  };
  const broker = brokerOptions(v);
  const coordinator = new ScanCoordinator({ broker, sites, allowPublic: !!v['allow-public'], clientId: v['client-id'] as string | undefined });
  const agentsWaitMs = seconds('--agents-wait', v['agents-wait'], 0, 3600) ?? 10_000;
  const request = {
    targets: v.target as string,
    ports: v.ports as string | undefined,
    credentialsName: v.credentials as string | undefined,
    options,
    includeUnreachable: v.all ? true : ('auto' as const),
    maxTargets: numberOption(OPTIONS.maxTargets, v['max-targets'] as string | undefined),
    shardTargets: wholeNumber('--shard-targets', v['shard-targets'], 1, 1 << 20),
    leaseMs: seconds('--lease', v.lease, 1, 3600),
    claimWaitMs: seconds('--claim-wait', v['claim-wait'], 1, 3600),
    maxAttempts: wholeNumber('--attempts', v.attempts, 1, 100),
    deadlineMs: seconds('--deadline', v.deadline, 1, 7 * 24 * 3600),
  };
  if (checkOption(OPTIONS.maxTargets, request.maxTargets ?? OPTIONS.maxTargets.default)) throw new UsageError('--max-targets: out of bounds');
  // A bad target is refused before anything connects.
  const checked = await coordinator.check(request);
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  coordinator.on('warning', (err: Error) => process.stderr.write(`mqtt-scan: ${err.message}\n`));
  try {
    await coordinator.start();
  } catch (err) {
    process.stderr.write(`mqtt-scan coordinate: ${(err as Error).message}\n`);
    return EXIT_CODES.failure.code;
  }
  let output: CoordinatedScanOutput;
  try {
    const missing = await coordinator.waitForAgents(Object.keys(checked.shards), agentsWaitMs);
    for (const site of missing) process.stderr.write(`mqtt-scan: no agent of site ${site} is online (waited ${agentsWaitMs / 1000} s); its shards wait for one\n`);
    output = await coordinator.scan({ ...request, signal: controller.signal });
  } finally {
    await coordinator.stop();
  }
  if (v.json) await writeJsonArray(output.results);
  else process.stdout.write(`${output.results.length ? formatTable(output.results) : 'No MQTT port found open.'}\n\n${formatSummary(output.summary)}\n`);
  for (const line of shardLines(output)) process.stderr.write(`${line}\n`);
  if (output.summary.cancelled) return EXIT_CODES.cancelled.code;
  return output.notDone.length ? EXIT_CODES.failure.code : EXIT_CODES.done.code;
}

/** What stderr says about the work over the sites: per site the shards done, and every problem. */
export function shardLines(output: CoordinatedScanOutput): string[] {
  const lines: string[] = [];
  const bySite = new Map<string, { done: number; all: number; holders: Set<string> }>();
  for (const s of output.shards) {
    const e = bySite.get(s.site) ?? { done: 0, all: 0, holders: new Set<string>() };
    e.all++;
    if (s.state === 'done') {
      e.done++;
      if (s.holder) e.holders.add(s.holder);
    }
    bySite.set(s.site, e);
  }
  for (const [site, e] of bySite) lines.push(`site ${site}: ${e.done}/${e.all} shards done (agents: ${[...e.holders].sort().join(', ') || 'none'})`);
  for (const s of output.notDone) {
    lines.push(`not done: site ${s.site} shard ${s.shard} (${s.targets.join(' ')}) after ${s.attempts} attempt(s)`);
    for (const p of s.problems) lines.push(`  ${p}`);
  }
  if (output.outsideHosts) lines.push(`not scanned: ${output.outsideHosts} address(es) in no site's scope: ${output.outside.slice(0, 20).join(' ')}${output.outside.length > 20 ? ' …' : ''}`);
  if (output.ignored.count) lines.push(`ignored: ${output.ignored.count} report(s) from agents that did not hold the shard or were out of bounds`);
  return lines;
}

export { SitesMessageError };
