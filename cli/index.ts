#!/usr/bin/env node
// mqtt-scan: the scanner engine on the command line.
import { accessSync, constants, mkdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { runScan } from '../lib/pipeline';
import { TargetError } from '../lib/targets';
import { EXIT_CODES, parseCli, UsageError, USAGE, type CliOptions } from './args';
import { formatChanges, formatSummary, formatTable } from './table';
import { writeJsonArray } from './json';
import { isSitesCommand, runSitesCommand, SitesMessageError } from './sites';
import { compareScans } from '../lib/risk';
import type * as ReportModule from '../lib/report';
import type { Credentials, ScanResult } from '../lib/types';
import type { TlsClientOptions } from '../lib/types';

async function main(argv: string[]): Promise<number> {
  if (isSitesCommand(argv[0])) return runSitesCommand(argv[0], argv.slice(1));
  const opts = parseCli(argv);
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT_CODES.done.code;
  }
  const credentials = await readCredentials(opts);
  const tls = readTls(opts);
  if (opts.reportDir) checkReportDir(opts.reportDir);
  const previous = opts.compareFile ? readPreviousScan(opts.compareFile) : null;
  const controller = new AbortController();
  // The first Ctrl-C stops the scan and prints what it found (exit 130); a second one ends the
  // process at once (Node's default for SIGINT, also 130 in a shell).
  process.once('SIGINT', () => controller.abort());
  const progress = process.stderr.isTTY && !opts.json;
  const { results: scanned, summary } = await runScan({
    targets: opts.target,
    ports: opts.ports,
    maxTargets: opts.maxTargets,
    allowPublic: opts.allowPublic,
    timeoutMs: opts.timeoutMs,
    sweepConcurrency: opts.concurrency,
    probeConcurrency: opts.probeConcurrency,
    sweepThreads: opts.threads,
    transport: opts.transport,
    websocketPaths: opts.websocketPaths,
    versions: opts.versions,
    credentials,
    tryDefaults: opts.tryDefaults,
    sendCredentialsPlaintext: opts.sendCredentialsPlaintext,
    tls,
    listenMs: opts.listenMs,
    sniff: opts.sniff,
    inspectTls: opts.inspectTls,
    writeTest: opts.writeTest,
    includeUnreachable: opts.all ? true : 'auto',
    signal: controller.signal,
    onProgress: progress
      ? (p) => process.stderr.write(`\rswept ${p.swept}/${p.total}, open ${p.open}, probed ${p.probed}   `)
      : undefined,
  });
  if (progress) process.stderr.write('\n');
  const compared = previous ? compareScans(previous, scanned) : null;
  const results: ScanResult[] = compared ? compared.results : scanned;
  // The results first: a report that cannot be written must not lose them.
  if (opts.json) {
    await writeJsonArray(results);
  } else {
    process.stdout.write(`${results.length ? formatTable(results) : 'No MQTT port found open.'}\n\n${formatSummary(summary)}\n`);
    if (compared) process.stdout.write(`\n${formatChanges(compared.results, compared.missing, opts.compareFile!)}\n`);
  }
  if (opts.reportDir) {
    const { buildReport, writeReport }: typeof ReportModule = require('../lib/report');
    try {
      const built = await buildReport(results, {
        formats: opts.formats,
        scan: summary,
        meta: { targets: [opts.target], options: { timeoutMs: opts.timeoutMs, transport: opts.transport, listenMs: opts.listenMs, writeTest: opts.writeTest } },
      });
      const files = await writeReport(opts.reportDir, built);
      for (const [format, path] of Object.entries(files)) process.stderr.write(`report (${format}): ${path}\n`);
    } catch (err) {
      process.stderr.write(`mqtt-scan: --report "${opts.reportDir}": the report could not be written (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); the results are above\n`);
      return EXIT_CODES.failure.code;
    }
  }
  return summary.cancelled ? EXIT_CODES.cancelled.code : EXIT_CODES.done.code;
}

/**
 * The results of a previous scan from FILE: mqtt-scan's --json output (an array of results) or a
 * JSON report ({results: [...]}). Throws UsageError naming the file and what is wrong with it.
 */
function readPreviousScan(file: string): ScanResult[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--compare "${file}": ${(err as NodeJS.ErrnoException).code ?? 'cannot read'}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--compare "${file}": not JSON (${(err as Error).message})`);
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { results?: unknown })?.results;
  if (!Array.isArray(list) || !list.every((r) => r && typeof r === 'object' && typeof (r as ScanResult).host === 'string' && Number.isInteger((r as ScanResult).port))) {
    throw new UsageError(`--compare "${file}": expected mqtt-scan --json output or a JSON report (results with host and port)`);
  }
  return list as ScanResult[];
}

/**
 * The report folder can be made and written, before anything is scanned: a path under a file
 * (ENOTDIR), one without permission (EACCES) or on a read-only disk (EROFS) is refused naming it.
 */
function checkReportDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new UsageError(`--report "${dir}": cannot write reports there (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

async function readCredentials(opts: CliOptions): Promise<Credentials | null> {
  if (!opts.user) return null;
  const login = await readLogin(opts, opts.user);
  // MQTT strings and binary data carry at most 65535 bytes (OASIS MQTT 3.1.1 §1.5.3).
  if (Buffer.byteLength(login.username) > 0xffff) throw new UsageError('--user: at most 65535 bytes');
  if (login.password !== undefined && Buffer.byteLength(login.password) > 0xffff) throw new UsageError('the password has more than 65535 bytes, more than MQTT can carry');
  return login;
}

async function readLogin(opts: CliOptions, user: string): Promise<Credentials> {
  if (opts.noPassword) return { username: user };
  if (opts.passwordEnv !== undefined) {
    const password = process.env[opts.passwordEnv];
    if (password === undefined) throw new UsageError(`--password-env ${opts.passwordEnv}: that environment variable is not set`);
    return { username: user, password };
  }
  if (opts.passwordStdin) return { username: user, password: await firstLine() };
  return { username: user };
}

function firstLine(): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin });
    let done = false;
    rl.once('line', (line) => {
      done = true;
      rl.close();
      resolve(line);
    });
    rl.once('close', () => {
      if (!done) resolve('');
    });
  });
}

function readTls(opts: CliOptions): TlsClientOptions | undefined {
  const read = (flag: string, file?: string) => {
    if (!file) return undefined;
    try {
      return readFileSync(file);
    } catch (err) {
      throw new UsageError(`${flag} "${file}": ${(err as NodeJS.ErrnoException).code ?? 'cannot read'}`);
    }
  };
  if (!opts.tlsCa && !opts.tlsCert) return undefined;
  return { ca: read('--tls-ca', opts.tlsCa), cert: read('--tls-cert', opts.tlsCert), key: read('--tls-key', opts.tlsKey) };
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    if (err instanceof UsageError || err instanceof TargetError || err instanceof SitesMessageError) {
      process.stderr.write(`mqtt-scan: ${err.message}\n`);
      if (err instanceof UsageError) process.stderr.write('Run mqtt-scan --help for the options.\n');
      process.exitCode = EXIT_CODES.badInput.code;
    } else {
      process.stderr.write(`mqtt-scan: ${err.stack ?? err.message}\n`);
      process.exitCode = EXIT_CODES.failure.code;
    }
  },
);
