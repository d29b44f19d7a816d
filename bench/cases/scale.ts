// Deep assessment at scale (issue 19): many brokers in one listen window.
//   deep200:  200 anonymous brokers, one Mosquitto with 200 listeners on 127.0.7.1-200:1883,
//             `mqtt-scan --target 127.0.7.1-200 --ports 1883 --listen 3 --json` (the issue's
//             measurement), against nmap mqtt-subscribe + ssl-cert listening 3 s on the same 200.
//   deep1000: 1,000 anonymous brokers from 4 Mosquitto processes: 900 plain listeners (1883) on
//             127.1.0.1-127.1.3.138 and 100 TLS listeners (8883, the farm's CA given with
//             --tls-ca) on 127.1.4.1-100, scanned on both ports (2,000 targets), --listen 3;
//             peak RSS; against nmap on the same targets (run once: it takes minutes). Then the
//             growth rows: the same kind of brokers (9 plain to 1 TLS) at 20, 200 and 1,000.
// Per-broker cost beyond the listen window: each result's durationMs (from the start of its
// set-up) minus topics.listenedMs, as in the deep case.
import { failure, runMeasured, type RunResult } from '../lib/proc';
import { findMosquitto } from '../lib/brokers';
import { loopbackHosts, rangeSpec, startListenerFarm, type ListenerFarm } from '../lib/listener-farm';
import { fmtMb, fmtRatio, fmtS, median, percentile, round } from '../lib/stats';
import type { BenchContext, CaseResult, Row } from '../lib/types';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LISTEN_MS = 3000;
/** nmap at 1,000 brokers runs for minutes (its NSE listens on about ten hosts at a time). */
const NMAP_1000_LIMIT_MS = 900_000;

interface ScaleResult {
  host: string;
  port: number;
  reachability: string;
  classification: string;
  durationMs?: number;
  error?: string | null;
  tls?: { certificate?: unknown } | null;
  topics?: { count?: number; listenedMs?: number; error?: string | null } | null;
}

interface Measured {
  run: RunResult;
  results: ScaleResult[];
}

function parse(run: RunResult): ScaleResult[] {
  try {
    return JSON.parse(run.stdout) as ScaleResult[];
  } catch {
    return [];
  }
}

/** Per-broker cost beyond the listen window, ms: durationMs - topics.listenedMs of every result that has them. */
function beyondWindow(results: ScaleResult[]): number[] {
  return results.filter((r) => typeof r.durationMs === 'number').map((r) => (r.durationMs as number) - (r.topics?.listenedMs ?? 0));
}

/** What the results say in one line: classifications, how many were listened to, TLS inspected. */
function verdicts(results: ScaleResult[]): string {
  const classes: Record<string, number> = {};
  for (const r of results) classes[`${r.reachability}/${r.classification}`] = (classes[`${r.reachability}/${r.classification}`] ?? 0) + 1;
  const read = results.filter((r) => r.topics && !r.topics.error && typeof r.topics.listenedMs === 'number').length;
  const inspected = results.filter((r) => r.tls && typeof r.tls === 'object' && r.tls.certificate).length;
  return `${JSON.stringify(classes)}, listened to ${read}, TLS inspected ${inspected}`;
}

async function ours(ctx: BenchContext, args: string[], label: string): Promise<Measured> {
  const run = await runMeasured(ctx.node, [ctx.cli, ...args, '--json'], { timeoutMs: ctx.runLimitMs, label, cwd: ctx.root });
  return { run, results: parse(run) };
}

/** `repeat` runs, stopping at the first failure. */
async function repeated(ctx: BenchContext, args: string[], label: string, times = ctx.repeat): Promise<Measured[]> {
  const runs: Measured[] = [];
  for (let i = 0; i < times; i++) {
    const m = await ours(ctx, args, label);
    runs.push(m);
    ctx.log(`  ${label} #${i + 1}: ${fmtS(m.run.wallMs)}, ${fmtMb(m.run.peakRssMb)} ${failure(m.run) ?? ''}`);
    if (failure(m.run)) break;
  }
  return runs;
}

/** nmap's closest work: mqtt-subscribe listening LISTEN_MS (anonymous), ssl-cert on TLS ports. */
async function nmapDeep(ctx: BenchContext, target: string, ports: string, limitMs: number): Promise<{ ms: number | null; note: string; run: RunResult | null }> {
  if (!ctx.nmap) return { ms: null, note: 'nmap not installed', run: null };
  const run = await runMeasured(
    ctx.nmap,
    // nmap takes one range per argument (our spec joins them with commas).
    ['-sT', '-Pn', '-n', `-p${ports}`, '--script', 'mqtt-subscribe,ssl-cert', '--script-args', `mqtt-subscribe.listen-time=${LISTEN_MS / 1000}s`, ...target.split(',')],
    { timeoutMs: limitMs, label: 'nmap deep scale' },
  );
  const hosts = (run.stdout.match(/mqtt-subscribe:/g) ?? []).length;
  // An nmap that listened to no broker did not do the work: no figure to compare with.
  const bad = failure(run) ?? (hosts === 0 ? `mqtt-subscribe answered on no port: ${run.stdout.trim().split('\n').slice(-2).join(' | ').slice(0, 200)}` : null);
  ctx.log(`  nmap: ${fmtS(run.wallMs)} ${bad ?? `(mqtt-subscribe answered on ${hosts} ports)`}`);
  return { ms: bad ? null : run.wallMs, note: bad ? `nmap: ${bad}` : `${fmtS(run.wallMs)} nmap NSE mqtt-subscribe,ssl-cert (${hosts} ports listened to)`, run };
}

export function skipRow(name: string, what: string, target: string, why: string): CaseResult {
  return { name, rows: [{ case: name, what, ours: '-', peer: '-', ratio: '-', memory: '-', target, verdict: 'SKIP', notes: why }], metrics: {}, details: {} };
}

/** The rows of one deep measurement: the total against its target, and the per-broker cost. */
function deepRows(
  name: string,
  what: string,
  runs: Measured[],
  peer: { ms: number | null; note: string },
  targetMs: number,
  rssLimitMb: number | null,
): { rows: Row[]; wall: number; p99: number; p50: number; peakRss: number | null } {
  const good = runs.filter((m) => !failure(m.run));
  const last = good[good.length - 1] ?? runs[runs.length - 1];
  const wall = good.length ? median(good.map((m) => m.run.wallMs)) : NaN;
  const rss = good.map((m) => m.run.peakRssMb).filter((x): x is number => x !== null);
  const peakRss = rss.length ? Math.max(...rss) : null;
  const costs = beyondWindow(last?.results ?? []);
  const p99 = costs.length ? percentile(costs, 99) : NaN;
  const p50 = costs.length ? median(costs) : NaN;
  const okTime = Number.isFinite(wall) && wall <= targetMs;
  const okRss = rssLimitMb === null || (peakRss !== null && peakRss <= rssLimitMb);
  const target = `<= ${(targetMs / 1000).toFixed(1)} s${rssLimitMb === null ? '' : `, peak RSS <= ${rssLimitMb} MB`}`;
  const rows: Row[] = [
    {
      case: name,
      what,
      ours: fmtS(wall),
      peer: peer.note,
      ratio: peer.ms ? fmtRatio(wall / peer.ms) : '-',
      memory: fmtMb(peakRss),
      target,
      verdict: okTime && okRss ? 'PASS' : 'FAIL',
      notes: [
        `runs ${runs.map((m) => fmtS(m.run.wallMs)).join(', ')}`,
        `peak RSS of each run ${runs.map((m) => fmtMb(m.run.peakRssMb)).join(', ')} (the largest is shown)`,
        last ? `results ${last.results.length}: ${verdicts(last.results)}` : '',
        last && failure(last.run) ? failure(last.run)! : '',
      ].filter(Boolean).join('; '),
    },
    {
      case: name,
      what: `per-broker cost beyond the listen window (durationMs - topics.listenedMs), ${costs.length} results`,
      ours: Number.isFinite(p99) ? `p99 ${round(p99, 0)} ms, p50 ${round(p50, 0)} ms` : '-',
      peer: '-',
      ratio: '-',
      memory: '-',
      target: 'reported',
      verdict: 'INFO',
      notes: Number.isFinite(wall) ? `the whole run beyond one listen window: ${round(wall - LISTEN_MS, 0)} ms (process start, sweep, every set-up, the output)` : '',
    },
  ];
  return { rows, wall, p99, p50, peakRss };
}

export async function deep200(ctx: BenchContext): Promise<CaseResult> {
  const what = '200 anonymous brokers (1 Mosquitto, 200 listeners, 127.0.7.1-200:1883), --listen 3';
  if (!findMosquitto()) return skipRow('deep200', what, '<= 4.0 s', 'mosquitto not installed');
  let farm: ListenerFarm | null = null;
  try {
    farm = await startListenerFarm({ plain: loopbackHosts('127.0.7.1', 200), tls: [], processes: 1 });
    ctx.log(`  deep200: ${farm.endpoints.length} listeners up (mosquitto pid ${farm.pids.join(', ')})`);
    const args = ['--target', '127.0.7.1-200', '--ports', '1883', '--listen', String(LISTEN_MS / 1000)];
    const runs = await repeated(ctx, args, 'mqtt-scan deep200');
    const peer = await nmapDeep(ctx, '127.0.7.1-200', '1883', Math.max(ctx.runLimitMs, 300_000));
    const d = deepRows('deep200', what, runs, peer, 4000, null);
    return {
      name: 'deep200',
      rows: d.rows,
      metrics: {
        'deep200.oursMs': Number.isFinite(d.wall) ? round(d.wall, 0) : null,
        'deep200.p99Ms': Number.isFinite(d.p99) ? round(d.p99, 0) : null,
        'deep200.nmapMs': peer.ms === null ? null : round(peer.ms, 0),
      },
      details: { runsMs: runs.map((m) => round(m.run.wallMs, 0)), perBrokerMs: beyondWindow(runs[runs.length - 1]?.results ?? []) },
    };
  } finally {
    await farm?.stop();
  }
}

/** The 1,000-broker farm: 9 plain listeners to 1 TLS one; `sizes` are taken from it in that ratio. */
const PLAIN = loopbackHosts('127.1.0.1', 900);
const TLS = loopbackHosts('127.1.4.1', 100);

/** The first n brokers of the farm, 9 plain to 1 TLS: the target spec (both ports on every host). */
export function subset(n: number): { spec: string; plain: number; tls: number } {
  const tls = Math.round(n / 10);
  const plain = n - tls;
  return { spec: rangeSpec([...PLAIN.slice(0, plain), ...TLS.slice(0, tls)]), plain, tls };
}

/** The ports deep1000 scans on every host of the farm. */
export const FARM_PORTS = '1883,8883';

/** Starts the 1,000-broker farm (4 Mosquitto processes), as deep1000 and flow1000 use it. */
export function startFarm1000(sysIntervalS?: number): Promise<ListenerFarm> {
  return startListenerFarm({ plain: PLAIN, tls: TLS, processes: 4, sysIntervalS });
}

/** The same hosts on ports where nothing listens: what a scan costs that finds no broker. */
const EMPTY_PORTS = '1884,8884';

export async function deep1000(ctx: BenchContext): Promise<CaseResult> {
  const what = '1,000 anonymous brokers (4 Mosquitto processes: 900 plain :1883, 100 TLS :8883), 2,000 targets, --listen 3';
  if (!findMosquitto()) return skipRow('deep1000', what, '<= 6.0 s, peak RSS <= 250 MB', 'mosquitto not installed');
  let farm: ListenerFarm | null = null;
  try {
    const t0 = Date.now();
    farm = await startFarm1000();
    ctx.log(`  deep1000: ${farm.endpoints.length} listeners up in ${Date.now() - t0} ms (mosquitto pids ${farm.pids.join(', ')})`);
    const base = (spec: string, ports: string) => ['--target', spec, '--ports', ports, '--listen', String(LISTEN_MS / 1000), '--tls-ca', farm!.caPath];

    // The growth rows: 20, 200, 1,000 brokers of the same kind, each against a scan of the same
    // hosts that finds nothing (process start, planning, the sweep of as many targets).
    const sizes = [20, 200, 1000];
    const growth: Array<{ n: number; wall: number; empty: number; perBroker: number; p99: number; runs: Measured[] }> = [];
    for (const n of sizes) {
      const s = subset(n);
      const runs = await repeated(ctx, base(s.spec, FARM_PORTS), `mqtt-scan deep ${n}`);
      const empties = await repeated(ctx, base(s.spec, EMPTY_PORTS), `mqtt-scan nothing on ${n} hosts`);
      const good = runs.filter((m) => !failure(m.run));
      const wall = good.length ? median(good.map((m) => m.run.wallMs)) : NaN;
      const empty = median(empties.filter((m) => !failure(m.run)).map((m) => m.run.wallMs));
      const costs = beyondWindow(good[good.length - 1]?.results ?? []);
      growth.push({ n, wall, empty, perBroker: (wall - LISTEN_MS - empty) / n, p99: costs.length ? percentile(costs, 99) : NaN, runs });
    }
    const full = growth[growth.length - 1];
    // Kept for the report case: the results of the last 1,000-broker run.
    const last = full.runs.filter((m) => !failure(m.run)).at(-1);
    if (last) {
      const path = join(ctx.resultsDir, 'deep1000-results.json');
      writeFileSync(path, last.run.stdout);
      ctx.shared.deep1000Results = path;
    }

    const peer = await nmapDeep(ctx, subset(1000).spec, FARM_PORTS, NMAP_1000_LIMIT_MS);
    const d = deepRows('deep1000', what, full.runs, peer, 6000, 250);

    const first = growth[0];
    const ratio = full.perBroker / first.perBroker;
    const growthRows: Row[] = growth.map((g) => ({
      case: 'deep1000',
      what: `growth: ${g.n} brokers (${subset(g.n).plain} plain, ${subset(g.n).tls} TLS)`,
      ours: Number.isFinite(g.perBroker) ? `${round(g.perBroker, 2)} ms/broker` : '-',
      peer: '-',
      ratio: '-',
      memory: fmtMb(Math.max(...g.runs.map((m) => m.run.peakRssMb ?? 0))),
      target: 'info',
      verdict: 'INFO',
      notes: `whole run ${fmtS(g.wall)} - listen window ${fmtS(LISTEN_MS)} - a scan of the same hosts that finds nothing ${fmtS(g.empty)}, per broker; (whole run - listen window) / brokers: ${round((g.wall - LISTEN_MS) / g.n, 2)} ms; per-broker p99 beyond the window ${round(g.p99, 0)} ms`,
    }));
    growthRows.push({
      case: 'deep1000',
      what: 'growth: time per broker beyond the listen window, 1,000 against 20',
      ours: `${round(full.perBroker, 2)} / ${round(first.perBroker, 2)} ms`,
      peer: '-',
      ratio: fmtRatio(ratio),
      memory: '-',
      target: '<= 2x',
      verdict: Number.isFinite(ratio) && ratio <= 2 ? 'PASS' : 'FAIL',
      notes: 'per broker = (median whole run - listen window - median run of a scan finding nothing on the same hosts) / brokers; at 20 brokers the loading of the probe, TLS and listener modules (about 0.1 s, the empty scan never loads them) is in it',
    });
    return {
      name: 'deep1000',
      rows: [...d.rows, ...growthRows],
      metrics: {
        'deep1000.oursMs': Number.isFinite(d.wall) ? round(d.wall, 0) : null,
        'deep1000.peakRssMb': d.peakRss === null ? null : round(d.peakRss, 0),
        'deep1000.p99Ms': Number.isFinite(d.p99) ? round(d.p99, 0) : null,
        'deep1000.nmapMs': peer.ms === null ? null : round(peer.ms, 0),
        ...Object.fromEntries(growth.map((g) => [`growth.${g.n}.msPerBroker`, Number.isFinite(g.perBroker) ? round(g.perBroker, 2) : null])),
      },
      details: {
        growth: growth.map((g) => ({ n: g.n, wallMs: round(g.wall, 0), emptyMs: round(g.empty, 0), msPerBroker: round(g.perBroker, 3), p99Ms: round(g.p99, 0), runsMs: g.runs.map((m) => round(m.run.wallMs, 0)) })),
        perBrokerMs: beyondWindow(last?.results ?? []),
      },
    };
  } finally {
    await farm?.stop();
  }
}
