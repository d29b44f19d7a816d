// Command-line options of mqtt-scan, checked strictly: every error names the bad option and value.
import { parseArgs } from 'node:util';
import { parseFormats, type ReportFormat } from '../lib/options';
import type { MqttVersion } from '../lib/types';

export class UsageError extends Error {}

export const USAGE = `Usage: mqtt-scan --target SPEC [options]

  --target SPEC          addresses to scan: 127.0.0.1, 10.0.0.0/24, 10.0.0.0/255.255.255.0,
                         10.0.0.1-20, hostnames, IPv6; lists by comma or space; !SPEC excludes
  --ports LIST           ports and ranges (default 1883,8883), e.g. 1883,8883,8000-8010
  --user NAME            username to test (with --password-env or --password-stdin)
  --password-env VAR     read the password from environment variable VAR
  --password-stdin       read the password from the first line of standard input
  --try-defaults         also try well-known default logins (admin/admin, guest/guest, ...)
  --send-credentials-plaintext
                         also send your login over plain TCP and to TLS brokers whose
                         certificate is not trusted (off: anyone on the path, or a rogue
                         broker, could read the password). Your login never goes to a broker
                         that accepts a made-up login.
  --timeout MS           connect and CONNACK timeout per attempt (default 2000)
  --concurrency N        parallel TCP connects while sweeping (default 1024)
  --probe-concurrency N  open ports set up at once, at most (default 64; starts at 4 and
                         grows while the CPU has room)
  --threads N            threads that sweep (default: one per core, up to 4, from 16,384
                         targets; 1 = sweep in the main thread only)
  --transport MODE       auto (default), tcp or tls
  --mqtt-version LIST    5.0,3.1.1 (default both)
  --tls-ca FILE          CA certificate (PEM): brokers' certificates are judged trusted
                         when they chain to it (as well as to the system's CAs)
  --tls-cert FILE        client certificate (PEM), with --tls-key
  --tls-key FILE         client private key (PEM)
  --listen SECONDS       how long to listen to '#' and '$SYS/#' on readable brokers (default 5)
  --no-sniff             do not subscribe to any broker's topics
  --no-tls-inspect       do not inspect certificates, TLS versions and ciphers
  --write-test           publish one non-retained message to mqttsec/canary/<random> to learn
                         whether the broker lets us write (off by default)
  --report DIR           write the report (PDF, CSV, JSON) into DIR
  --format LIST          report formats: pdf,csv,json (default all three)
  --max-targets N        refuse scans larger than N host:port pairs (default 65536)
  --allow-public         allow addresses outside loopback and private ranges
  --all                  list closed and filtered ports too, whatever the scan size
  --json                 print the results as a JSON array
  -h, --help             show this help

Exit codes: 0 done, 1 failure, 2 bad input.`;

export interface CliOptions {
  target: string;
  ports?: string;
  user?: string;
  passwordEnv?: string;
  passwordStdin: boolean;
  tryDefaults: boolean;
  sendCredentialsPlaintext: boolean;
  timeoutMs?: number;
  concurrency?: number;
  probeConcurrency?: number;
  threads?: number;
  transport: 'auto' | 'tcp' | 'tls';
  versions?: MqttVersion[];
  tlsCa?: string;
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
        'try-defaults': { type: 'boolean', default: false },
        'send-credentials-plaintext': { type: 'boolean', default: false },
        timeout: { type: 'string' },
        concurrency: { type: 'string' },
        'probe-concurrency': { type: 'string' },
        threads: { type: 'string' },
        transport: { type: 'string', default: 'auto' },
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
  if (!['auto', 'tcp', 'tls'].includes(transport)) throw new UsageError(`--transport "${transport}": must be auto, tcp or tls`);
  if (v['password-env'] !== undefined && !v.user) throw new UsageError('--password-env needs --user');
  if (v['password-stdin'] && !v.user) throw new UsageError('--password-stdin needs --user');
  if ((v['tls-cert'] === undefined) !== (v['tls-key'] === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  return {
    target: v.target,
    ports: v.ports,
    user: v.user,
    passwordEnv: v['password-env'],
    passwordStdin: !!v['password-stdin'],
    tryDefaults: !!v['try-defaults'],
    sendCredentialsPlaintext: !!v['send-credentials-plaintext'],
    timeoutMs: intOption('--timeout', v.timeout, 1, 600_000),
    concurrency: intOption('--concurrency', v.concurrency, 1, 65_536),
    probeConcurrency: intOption('--probe-concurrency', v['probe-concurrency'], 1, 4096),
    threads: intOption('--threads', v.threads, 1, 64),
    transport: transport as CliOptions['transport'],
    versions: versionList(v['mqtt-version']),
    tlsCa: v['tls-ca'],
    tlsCert: v['tls-cert'],
    tlsKey: v['tls-key'],
    maxTargets: intOption('--max-targets', v['max-targets'], 1, 2 ** 32),
    listenMs: secondsOption('--listen', v.listen, 600),
    sniff: !v['no-sniff'],
    inspectTls: !v['no-tls-inspect'],
    writeTest: !!v['write-test'],
    reportDir: v.report,
    formats: formatList(v.format, v.report),
    allowPublic: !!v['allow-public'],
    all: !!v.all,
    json: !!v.json,
    help: false,
  };
}

export function intOption(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (!/^\d+$/.test(text)) throw new UsageError(`${name} "${clip(raw)}": must be a whole number from ${min} to ${max}`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`${name} "${clip(raw)}": must be from ${min} to ${max}`);
  return n;
}

function secondsOption(name: string, raw: string | undefined, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (!/^\d+(\.\d+)?$/.test(text) || Number(text) > max) throw new UsageError(`${name} "${clip(raw)}": must be a number of seconds from 0 to ${max}`);
  return Math.round(Number(text) * 1000);
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
