// npm run bench [-- --only sweep16,filtered,deep,deep200,deep1000,report,dashboard,sites,memory,flow] [--repeat N] [--profile] [--run-limit S] [--strict]
// Runs the performance cases against their peers in the same run, prints a table, writes
// bench/results/latest.json and the change against the previous latest.json. See bench/README.md.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cleanupAll, installCleanupHandlers } from './lib/cleanup';
import { ROOT } from './lib/drivers';
import { hasGnuTime } from './lib/proc';
import { round } from './lib/stats';
import type { BenchContext, CaseFn, CaseResult, Row } from './lib/types';
import { sweep16 } from './cases/sweep16';
import { filtered } from './cases/filtered';
import { deep } from './cases/deep';
import { memory } from './cases/memory';
import { flow } from './cases/flow';
import { deep200, deep1000 } from './cases/scale';
import { report } from './cases/report';
import { dashboard } from './cases/dashboard';
import { sites } from './cases/sites';
import { flow1000 } from './cases/flow1000';

// Order matters: the loopback sweeps run before the deep cases start brokers on 127.0.x.x;
// report uses deep1000's results when it ran.
const CASES: Record<string, CaseFn> = { sweep16, memory, flow, filtered, deep, deep200, deep1000, flow1000, report, dashboard, sites };
const CASE_LIMIT_MS = 300_000;
/** Cases that take longer: deep1000 waits for nmap on 1,000 brokers (several minutes). */
const CASE_LIMITS_MS: Record<string, number> = { deep1000: 1_200_000 };

function usage(): never {
  console.log(`Usage: npm run bench -- [--only ${Object.keys(CASES).join(',')}] [--repeat N] [--profile] [--run-limit SECONDS]

  --only LIST       cases to run (default all)
  --repeat N        runs per measurement where a median is taken (default 3)
  --profile         also run the /16 sweep under node --cpu-prof and summarize where it spends its time
  --run-limit S     kill any measured process after S seconds (default 120)
  --strict          exit 1 when any target is missed (default: only when a case crashes)`);
  process.exit(0);
}

function findOnPath(bin: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function openFileLimit(): string {
  try {
    return readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'))?.split(/\s{2,}/)[1] ?? '?';
  } catch {
    return '?';
  }
}

function machine(nmap: string | null) {
  const nmapVersion = nmap ? (spawnSync(nmap, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '').trim() : null;
  const mosq = spawnSync('sh', ['-c', 'mosquitto -h 2>&1 | head -1'], { encoding: 'utf8', env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin` } }).stdout.trim();
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memGb: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    nmap: nmapVersion,
    mosquitto: mosq || null,
    openFiles: openFileLimit(),
    loadavgAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
    root: process.getuid?.() === 0,
    gnuTime: hasGnuTime(),
  };
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function printTable(rows: Row[]): void {
  const cols: Array<[keyof Row, string]> = [
    ['case', 'case'],
    ['what', 'what'],
    ['ours', 'ours'],
    ['peer', 'peer'],
    ['ratio', 'ratio'],
    ['memory', 'memory (peak RSS)'],
    ['target', 'target'],
    ['verdict', 'verdict'],
  ];
  const cell = (r: Row, k: keyof Row) => String(r[k] ?? '').replace(/\|/g, '/');
  const widths = cols.map(([k, h]) => Math.min(k === 'what' ? 70 : 40, Math.max(h.length, ...rows.map((r) => cell(r, k).length))));
  const line = (vals: string[]) => `| ${vals.map((v, i) => pad(v, widths[i])).join(' | ')} |`;
  console.log(line(cols.map(([, h]) => h)));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(cols.map(([k]) => cell(r, k))));
  const notes = rows.filter((r) => r.notes);
  if (notes.length) {
    console.log('\nNotes:');
    for (const r of notes) console.log(`  [${r.case}] ${r.what.slice(0, 60)}: ${r.notes}`);
  }
}

function printComparison(prev: { date?: string; metrics?: Record<string, number | null> } | null, now: Record<string, number | null>): void {
  if (!prev?.metrics) {
    console.log('\n(no previous bench/results/latest.json to compare with)');
    return;
  }
  console.log(`\nChange against the previous run (${prev.date ?? '?'}); lower is better for every figure:`);
  const keys = [...new Set([...Object.keys(now), ...Object.keys(prev.metrics)])].sort();
  for (const k of keys) {
    const a = prev.metrics[k];
    const b = now[k];
    if (a == null && b == null) continue;
    // Percentages of near-zero figures (heap growth ~0 MB) mean nothing: show the difference there.
    const change =
      a == null || b == null ? '' : Math.abs(a) >= 1 ? `${b >= a ? '+' : ''}${(((b - a) / a) * 100).toFixed(1)}%` : `${b >= a ? '+' : ''}${round(b - a, 3)}`;
    console.log(`  ${pad(k, 58)} ${pad(a == null ? '-' : String(a), 10)} -> ${pad(b == null ? '-' : String(b), 10)} ${change}`);
  }
}

async function withLimit<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}

async function main(): Promise<number> {
  installCleanupHandlers();
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      only: { type: 'string' },
      repeat: { type: 'string', default: '3' },
      profile: { type: 'boolean', default: false },
      'run-limit': { type: 'string', default: '120' },
      strict: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) usage();
  const only = values.only ? values.only.split(/[\s,]+/).filter(Boolean) : Object.keys(CASES);
  const unknown = only.filter((c) => !CASES[c]);
  if (unknown.length) {
    console.error(`bench: unknown case(s) ${unknown.join(', ')}; known: ${Object.keys(CASES).join(', ')}`);
    return 2;
  }
  const repeat = Math.max(1, Math.min(20, Number(values.repeat) || 3));
  const runLimitMs = Math.max(10, Math.min(600, Number(values['run-limit']) || 120)) * 1000;
  const cli = join(ROOT, 'dist', 'cli', 'index.js');
  if (!existsSync(cli)) {
    console.error('bench: dist/cli/index.js is missing; run npm run build first');
    return 2;
  }
  const resultsDir = join(ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const nmap = findOnPath('nmap');
  const info = machine(nmap);
  console.log(`mqttsec bench: ${info.cpus} x ${info.cpuModel}, ${info.memGb} GB, kernel ${info.kernel}, node ${info.node}`);
  console.log(`  ${info.nmap ?? 'nmap not installed (peers skipped)'}; ${info.mosquitto ?? 'no mosquitto'}; open files ${info.openFiles}; load ${info.loadavgAtStart.join(' ')}${info.root ? '; root' : ''}`);
  if (info.loadavgAtStart[0] > 0.7 * info.cpus) console.log('  WARNING: the machine is busy (load average); figures will be noisy');

  const ctx: BenchContext = {
    root: ROOT,
    node: process.execPath,
    cli,
    repeat,
    runLimitMs,
    nmap,
    profile: !!values.profile,
    resultsDir,
    shared: {},
    log: (m) => console.log(m),
  };
  const results: CaseResult[] = [];
  const started = Date.now();
  for (const name of Object.keys(CASES).filter((c) => only.includes(c))) {
    console.log(`\n== ${name} (load ${loadavg().map((x) => x.toFixed(2)).join(' ')})`);
    const t0 = Date.now();
    try {
      results.push(await withLimit(CASES[name](ctx), CASE_LIMITS_MS[name] ?? CASE_LIMIT_MS, `case ${name}`));
    } catch (err) {
      console.error(`bench: case ${name} failed: ${(err as Error).stack ?? err}`);
      cleanupAll(); // whatever the case left running
      results.push({
        name,
        rows: [{ case: name, what: 'case failed', ours: '-', peer: '-', ratio: '-', memory: '-', target: '-', verdict: 'FAIL', notes: (err as Error).message }],
        metrics: {},
        details: { error: (err as Error).message },
      });
    }
    console.log(`   (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }

  const rows = results.flatMap((r) => r.rows);
  const metrics = Object.assign({}, ...results.map((r) => r.metrics)) as Record<string, number | null>;
  console.log(`\nResults (${new Date().toISOString()}, repeat ${repeat}, ${((Date.now() - started) / 1000).toFixed(0)} s in all):\n`);
  printTable(rows);
  const profile = results.find((r) => r.name === 'sweep16')?.details.profile as
    | { totalMs: number; top: Array<{ fn: string; where: string; selfMs: number; pct: number }>; areas: Array<{ area: string; selfMs: number; pct: number }> }
    | null
    | undefined;
  if (profile) {
    console.log(`\nWhere the /16 sweep spends its time (node --cpu-prof, ${profile.totalMs} ms profiled, self time):`);
    for (const a of profile.areas.slice(0, 10)) console.log(`  ${pad(`${a.pct}%`, 7)} ${pad(`${a.selfMs} ms`, 9)} ${a.area}`);
    console.log('  top functions:');
    for (const f of profile.top) console.log(`  ${pad(`${f.pct}%`, 7)} ${pad(`${f.selfMs} ms`, 9)} ${f.fn} ${f.where}`);
  }

  const latest = join(resultsDir, 'latest.json');
  let prev: { date?: string; metrics?: Record<string, number | null> } | null = null;
  if (existsSync(latest)) {
    try {
      prev = JSON.parse(readFileSync(latest, 'utf8'));
      renameSync(latest, join(resultsDir, 'previous.json'));
    } catch {
      prev = null;
    }
  }
  const doc = { date: new Date().toISOString(), machine: { ...info, loadavgAtEnd: loadavg().map((x) => Math.round(x * 100) / 100) }, options: { only, repeat, runLimitMs, profile: ctx.profile }, rows, metrics, details: Object.fromEntries(results.map((r) => [r.name, r.details])) };
  writeFileSync(latest, `${JSON.stringify(doc, null, 2)}\n`);
  console.log(`\nWrote ${latest}`);
  // Compare only figures both runs measured with the same selection; others show as '-'.
  printComparison(prev, metrics);
  const crashed = results.some((r) => 'error' in r.details);
  const missed = rows.some((r) => r.verdict === 'FAIL');
  return crashed || (values.strict && missed) ? 1 : 0;
}

main().then(
  (code) => {
    cleanupAll();
    process.exit(code);
  },
  (err: Error) => {
    console.error(`bench: ${err.stack ?? err.message}`);
    cleanupAll();
    process.exit(1);
  },
);
