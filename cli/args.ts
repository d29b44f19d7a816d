// Command-line options of mqtt-scan, checked strictly: every error names the bad option and value.
import { parseArgs } from 'node:util';
import { checkOption, describeBounds, formatDefault, OPTION_LIST, OPTIONS, parseFormats, type ReportFormat, type ScanOption } from '../lib/options';
import { DEFAULT_WEBSOCKET_PATHS, parseWebSocketPaths } from '../lib/mqtt';
import { PORT_PRESETS } from '../lib/targets';
import type { MqttVersion, Transport } from '../lib/types';

export class UsageError extends Error {}

/**
 * mqtt-scan's exit codes, the one list that cli/index.ts returns, --help prints and the README's
 * command-line section repeats (test/options checks both).
 */
export const EXIT_CODES = {
  /** The scan ran to its end, whatever it found. */
  done: { code: 0, meaning: 'the scan ran to its end, whatever it found' },
  /** An unexpected error; its message (and stack) on stderr. */
  failure: { code: 1, meaning: 'failure: an unexpected error, described on stderr' },
  /** An option, target or file was refused before anything was scanned; the message names it. */
  badInput: { code: 2, meaning: 'bad input: an option, target or file was refused, nothing was scanned' },
  /** Ctrl-C (SIGINT): the scan stopped early; the results so far are printed (128 + SIGINT's 2). */
  cancelled: { code: 130, meaning: 'cancelled by Ctrl-C (SIGINT): the results so far are printed' },
} as const;

/** Column of the option descriptions in --help, and the width lines wrap at. */
const HELP_COLUMN = 25;
const HELP_WIDTH = 96;

/** One option of --help: the flag (with its value) and the words, wrapped under the column. A
 *  word may hold spaces ("50 to 600000)"): it is never split. */
function helpLine(flag: string, words: string[]): string {
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && HELP_COLUMN + line.length + 1 + w.length > HELP_WIDTH) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  lines.push(line);
  const head = `  ${flag}`;
  const first = head.length < HELP_COLUMN - 1 ? `${head.padEnd(HELP_COLUMN)}${lines[0]}` : `${head}\n${' '.repeat(HELP_COLUMN)}${lines[0]}`;
  return [first, ...lines.slice(1).map((l) => `${' '.repeat(HELP_COLUMN)}${l}`)].join('\n');
}

/** A table option's --help entry: its help, default and bounds from lib/options. */
function optionHelp(o: ScanOption): string {
  // "(default 2000 ms; 50 to 600000)", as describeDefault says it; a number stays with its unit
  // and the bounds stay on one line.
  const value = o.default === null ? ['(default', ...`${formatDefault(o)};`.split(' ')] : [`(default ${formatDefault(o)};`];
  return helpLine(`${o.flag} ${o.flagValue}`, [...o.help.split(' '), ...value, `${o.min} to ${o.max})`]);
}

/** The options of the table that mqtt-scan takes, in table order. */
export const CLI_OPTIONS: readonly ScanOption[] = OPTION_LIST.filter((o) => o.flag);

export const USAGE = `Usage: mqtt-scan --target SPEC [options]
       mqtt-scan agent --help        a scan agent of one site (many sites, one scan)
       mqtt-scan coordinate --help   a scan shared by the agents of several sites

  --target SPEC          addresses to scan: 127.0.0.1, 10.0.0.0/24, 10.0.0.0/255.255.255.0,
                         10.0.0.1-20, hostnames, IPv6; lists by comma or space; !SPEC excludes
${helpLine('--ports LIST', [...'ports and ranges (default 1883,8883), e.g. 1883,8883,8000-8010, or a preset:'.split(' '), ...Object.entries(PORT_PRESETS).map(([name, ports]) => `${name} (${ports.join(',')})`)])}
  --user NAME            username to test (with --password-env or --password-stdin)
  --password-env VAR     read the password from environment variable VAR
  --password-stdin       read the password from the first line of standard input
  --no-password          log in with the username alone (MQTT allows it)
  --try-defaults         also try well-known default logins (admin/admin, guest/guest, ...)
  --send-credentials-plaintext
                         also send your login over plain TCP and to TLS brokers whose
                         certificate is not trusted (off: anyone on the path, or a rogue
                         broker, could read the password). Your login never goes to a broker
                         that accepts a made-up login.
${optionHelp(OPTIONS.timeoutMs)}
${optionHelp(OPTIONS.sweepConcurrency)}
${optionHelp(OPTIONS.probeConcurrency)}
${optionHelp(OPTIONS.sweepThreads)}
  --transport MODE       auto (default: TCP and TLS, then MQTT over WebSockets on ports that
                         answer HTTP), tcp, tls, ws or wss
  --ws-paths LIST        HTTP paths tried for MQTT over WebSockets, in order
                         (default ${DEFAULT_WEBSOCKET_PATHS.join(',')})
  --mqtt-version LIST    5.0,3.1.1 (default both)
  --tls-ca FILE          CA certificate (PEM): brokers' certificates are judged trusted
                         when they chain to it (as well as to the system's CAs)
  --tls-cert FILE        client certificate (PEM), with --tls-key
  --tls-key FILE         client private key (PEM)
${optionHelp(OPTIONS.listenSeconds)}
  --no-sniff             do not subscribe to any broker's topics
  --no-tls-inspect       do not inspect certificates, TLS versions and ciphers
  --write-test           publish one non-retained message to mqttsec/canary/<random> to learn
                         whether the broker lets us write (off by default)
  --report DIR           write the report (PDF, CSV, JSON) into DIR
  --format LIST          report formats: pdf,csv,json (default all three)
  --compare FILE         a previous scan (its --json output or JSON report): say per broker what
                         changed (findings resolved and new, risk, certificate, appeared, gone)
${optionHelp(OPTIONS.maxTargets)}
  --allow-public         allow addresses outside loopback and private ranges
  --all                  list closed and filtered ports too, whatever the scan size
  --json                 print the results as a JSON array
  -h, --help             show this help

Exit codes:
${Object.values(EXIT_CODES).map((e) => `  ${String(e.code).padEnd(5)}${e.meaning}`).join('\n')}`;

export interface CliOptions {
  target: string;
  ports?: string;
  user?: string;
  passwordEnv?: string;
  passwordStdin: boolean;
  /** --no-password: log in with the username alone (never the default for --user). */
  noPassword?: boolean;
  tryDefaults: boolean;
  sendCredentialsPlaintext: boolean;
  timeoutMs?: number;
  concurrency?: number;
  probeConcurrency?: number;
  threads?: number;
  transport: 'auto' | Transport;
  websocketPaths?: string[];
  versions?: MqttVersion[];
  tlsCa?: string;
  /** --compare: a previous scan's JSON (an array of results, or a JSON report) to compare with. */
  compareFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  maxTargets?: number;
  listenMs?: number;
  sniff: boolean;
  inspectTls: boolean;
  writeTest: boolean;
  reportDir?: string;
  formats?: ReportFormat[];
  allowPublic: boolean;
  all: boolean;
  json: boolean;
  help: boolean;
}

export function parseCli(argv: string[]): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        target: { type: 'string', short: 't' },
        ports: { type: 'string', short: 'p' },
        user: { type: 'string', short: 'u' },
        'password-env': { type: 'string' },
        'password-stdin': { type: 'boolean', default: false },
        'no-password': { type: 'boolean', default: false },
        'try-defaults': { type: 'boolean', default: false },
        'send-credentials-plaintext': { type: 'boolean', default: false },
        timeout: { type: 'string' },
        concurrency: { type: 'string' },
        'probe-concurrency': { type: 'string' },
        threads: { type: 'string' },
        transport: { type: 'string', default: 'auto' },
        'ws-paths': { type: 'string' },
        'mqtt-version': { type: 'string' },
        'tls-ca': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'max-targets': { type: 'string' },
        listen: { type: 'string' },
        'no-sniff': { type: 'boolean', default: false },
        'no-tls-inspect': { type: 'boolean', default: false },
        'write-test': { type: 'boolean', default: false },
        report: { type: 'string' },
        compare: { type: 'string' },
        format: { type: 'string' },
        'allow-public': { type: 'boolean', default: false },
        all: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    return { target: '', transport: 'auto', allowPublic: false, all: false, json: false, passwordStdin: false, tryDefaults: false, sendCredentialsPlaintext: false, sniff: false, inspectTls: false, writeTest: false, help: true };
  }
  if (v.target === undefined || v.target.trim() === '') throw new UsageError('--target is required (e.g. --target 127.0.0.1)');
  const transport = v.transport as string;
  if (!['auto', 'tcp', 'tls', 'ws', 'wss'].includes(transport)) throw new UsageError(`--transport "${clip(transport)}": must be auto, tcp, tls, ws or wss`);
  if (v['password-env'] !== undefined && !v.user) throw new UsageError('--password-env needs --user');
  if (v['password-stdin'] && !v.user) throw new UsageError('--password-stdin needs --user');
  if (v['no-password'] && !v.user) throw new UsageError('--no-password needs --user');
  const passwordSources = [v['password-env'] !== undefined, !!v['password-stdin'], !!v['no-password']].filter(Boolean).length;
  // A username alone would be sent with no password: never silently (issue 18).
  if (v.user !== undefined && passwordSources === 0) {
    throw new UsageError(`--user "${clip(v.user)}" needs its password: --password-env VAR or --password-stdin (or --no-password to log in with the username alone)`);
  }
  if (passwordSources > 1) throw new UsageError('give the password one way: --password-env, --password-stdin or --no-password');
  if ((v['tls-cert'] === undefined) !== (v['tls-key'] === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  return {
    target: v.target,
    ports: v.ports,
    user: v.user,
    passwordEnv: v['password-env'],
    passwordStdin: !!v['password-stdin'],
    noPassword: !!v['no-password'],
    tryDefaults: !!v['try-defaults'],
    sendCredentialsPlaintext: !!v['send-credentials-plaintext'],
    timeoutMs: numberOption(OPTIONS.timeoutMs, v.timeout),
    concurrency: numberOption(OPTIONS.sweepConcurrency, v.concurrency),
    probeConcurrency: numberOption(OPTIONS.probeConcurrency, v['probe-concurrency']),
    threads: numberOption(OPTIONS.sweepThreads, v.threads),
    transport: transport as CliOptions['transport'],
    websocketPaths: websocketPathList(v['ws-paths']),
    versions: versionList(v['mqtt-version']),
    tlsCa: v['tls-ca'],
    tlsCert: v['tls-cert'],
    tlsKey: v['tls-key'],
    maxTargets: numberOption(OPTIONS.maxTargets, v['max-targets']),
    listenMs: seconds(numberOption(OPTIONS.listenSeconds, v.listen)),
    sniff: !v['no-sniff'],
    inspectTls: !v['no-tls-inspect'],
    writeTest: !!v['write-test'],
    reportDir: v.report,
    compareFile: v.compare,
    formats: formatList(v.format, v.report),
    allowPublic: !!v['allow-public'],
    all: !!v.all,
    json: !!v.json,
    help: false,
  };
}

/**
 * The value of a table option's flag (lib/options), or undefined when the flag was not given.
 * Plain digits only (no sign, exponent or thousands separator), a decimal point where the option
 * is not whole-numbered. Throws UsageError naming the flag, the value and the bounds.
 */
export function numberOption(o: ScanOption, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const text = raw.trim();
  const pattern = o.integer ? /^\d+$/ : /^\d+(\.\d+)?$/;
  const problem = pattern.test(text) ? checkOption(o, Number(text)) : `must be ${describeBounds(o)}`;
  if (problem) throw new UsageError(`${o.flag} "${clip(raw)}": ${problem}`);
  return Number(text);
}

function seconds(s: number | undefined): number | undefined {
  return s === undefined ? undefined : Math.round(s * 1000);
}

function formatList(raw: string | undefined, dir: string | undefined): ReportFormat[] | undefined {
  if (raw === undefined) return undefined;
  if (dir === undefined) throw new UsageError('--format needs --report DIR');
  try {
    return parseFormats(raw);
  } catch (err) {
    throw new UsageError(`--format: ${(err as Error).message}`);
  }
}

function websocketPathList(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  try {
    return parseWebSocketPaths(raw);
  } catch (err) {
    throw new UsageError(`--ws-paths: ${(err as Error).message}`);
  }
}

function versionList(raw: string | undefined): MqttVersion[] | undefined {
  if (raw === undefined) return undefined;
  const out: MqttVersion[] = [];
  for (const token of raw.split(/[\s,]+/).filter(Boolean)) {
    const v = token === '5' ? '5.0' : token === '3.1.1' || token === '4' ? '3.1.1' : token;
    if (v !== '5.0' && v !== '3.1.1') throw new UsageError(`--mqtt-version "${clip(token)}": must be 5.0 or 3.1.1`);
    if (!out.includes(v)) out.push(v);
  }
  if (out.length === 0) throw new UsageError('--mqtt-version is empty: give 5.0, 3.1.1 or both');
  return out;
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}
