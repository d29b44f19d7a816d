// A /24 of hosts that drop every packet (in a network namespace, see lib/netns.ts) x 2 ports,
// 2 s timeout: 512 probes that each cost the full timeout unless run in parallel.
// Peers: nmap -T4 -sT -Pn -n, and the seed system's settings (10 threads, 2 s timeout) emulated
// by our own engine (--concurrency 10 --timeout 2000). The seed run would take ~100 s, so it is
// run on a 40-probe slice and scaled linearly (said so in the table) whenever the estimate
// exceeds 20 s.
import { canUseNetns, createFilteredNet, staleNamespaces, type FilteredNet } from '../lib/netns';
import { failure, runMeasured, type RunResult } from '../lib/proc';
import { fmtMb, fmtRatio, fmtS, round } from '../lib/stats';
import type { BenchContext, CaseResult, Row } from '../lib/types';
import { openFromNmapGrepable } from './sweep16';

const PORTS = '1883,8883';
const TIMEOUT_MS = 2000;
const TOTAL = 512;
const SEED_CONCURRENCY = 10;
const SLICE_HOSTS = 20; // 40 probes: 4 rounds of 10 at 2 s

function reachabilityCounts(r: RunResult): Record<string, number> | null {
  try {
    const results = JSON.parse(r.stdout) as Array<{ reachability: string }>;
    const counts: Record<string, number> = {};
    for (const x of results) counts[x.reachability] = (counts[x.reachability] ?? 0) + 1;
    return counts;
  } catch {
    return null;
  }
}

export async function filtered(ctx: BenchContext): Promise<CaseResult> {
  const why = canUseNetns();
  if (why) {
    ctx.log(`  filtered: SKIPPED (${why})`);
    return {
      name: 'filtered',
      rows: [{ case: 'filtered', what: 'filtered /24 x 2 ports, 2 s timeout', ours: '-', peer: '-', ratio: '-', memory: '-', target: '< 2.5 s', verdict: 'SKIP', notes: `skipped: ${why}` }],
      metrics: {},
      details: { skipped: why },
    };
  }
  const stale = staleNamespaces();
  if (stale.length) ctx.log(`  note: namespaces from earlier killed runs exist (not touched): ${stale.join(', ')}; remove with ip netns del <name>`);

  let net: FilteredNet | null = null;
  try {
    net = await createFilteredNet();
    ctx.log(`  filtered: ${net.cidr} drops everything (namespace ${net.ns}, guard unreachable 198.18.0.0/15)`);
    const cli = (target: string, extra: string[]) =>
      runMeasured(ctx.node, [ctx.cli, '--target', target, '--ports', PORTS, '--timeout', String(TIMEOUT_MS), '--allow-public', '--json', ...extra], {
        timeoutMs: ctx.runLimitMs,
        label: 'mqtt-scan filtered',
        cwd: ctx.root,
      });

    // Ours, default concurrency.
    const ours = await cli(net.cidr, []);
    const oursCounts = reachabilityCounts(ours);
    ctx.log(`  filtered ours: ${fmtS(ours.wallMs)} ${JSON.stringify(oursCounts)}`);

    // What the engine does with a concurrency that covers the whole /24 (INFO: not the default).
    const wide = await cli(net.cidr, ['--concurrency', '1024']);
    ctx.log(`  filtered ours --concurrency 1024: ${fmtS(wide.wallMs)} ${JSON.stringify(reachabilityCounts(wide))}`);

    // nmap on the same /24.
    let nmap: RunResult | null = null;
    if (ctx.nmap) {
      nmap = await runMeasured(ctx.nmap, ['-T4', '-sT', '-Pn', '-n', `-p${PORTS}`, '-oG', '-', net.cidr], { timeoutMs: ctx.runLimitMs, label: 'nmap filtered' });
      ctx.log(`  filtered nmap: ${fmtS(nmap.wallMs)}${nmap.timedOut ? ' (killed at the limit)' : ''}`);
    }

    // The seed's settings: whole /24 if it would finish within 20 s, else a slice, scaled.
    const estimateMs = Math.ceil(TOTAL / SEED_CONCURRENCY) * TIMEOUT_MS;
    const sliced = estimateMs > 20_000;
    const seedTarget = sliced ? `${net.prefix}1-${SLICE_HOSTS}` : net.cidr;
    const seedProbes = sliced ? SLICE_HOSTS * 2 : TOTAL;
    const seed = await cli(seedTarget, ['--concurrency', String(SEED_CONCURRENCY)]);
    const seedMs = sliced ? (seed.wallMs * TOTAL) / seedProbes : seed.wallMs;
    ctx.log(`  filtered seed settings: ${fmtS(seed.wallMs)} for ${seedProbes} probes${sliced ? ` -> ${fmtS(seedMs)} scaled to ${TOTAL}` : ''}`);

    const oursBad = failure(ours);
    const ok = !oursBad && ours.wallMs < 2500 && (oursCounts?.filtered ?? 0) === TOTAL;
    const nmapNote = nmap ? (nmap.timedOut ? `killed at ${fmtS(ctx.runLimitMs)}` : `${fmtS(nmap.wallMs)} nmap -T4 -sT`) : 'nmap not installed';
    const rows: Row[] = [
      {
        case: 'filtered',
        what: `filtered ${net.cidr} x {${PORTS}} (512 probes), --timeout 2000, default concurrency`,
        ours: fmtS(ours.wallMs),
        peer: nmapNote,
        ratio: nmap && !nmap.timedOut ? fmtRatio(ours.wallMs / nmap.wallMs) : '-',
        memory: fmtMb(ours.peakRssMb),
        target: '< 2.5 s',
        verdict: ok ? 'PASS' : 'FAIL',
        notes: [`ours saw ${JSON.stringify(oursCounts)}`, nmap ? `nmap saw ${openFromNmapGrepable(nmap.stdout)} open` : '', oursBad ? `ours: ${oursBad}` : '']
          .filter(Boolean)
          .join('; '),
      },
      {
        case: 'filtered',
        what: 'same /24, ours with --concurrency 1024 (not the default)',
        ours: fmtS(wide.wallMs),
        peer: '-',
        ratio: '-',
        memory: fmtMb(wide.peakRssMb),
        target: 'info',
        verdict: 'INFO',
        notes: failure(wide) ?? `saw ${JSON.stringify(reachabilityCounts(wide))}`,
      },
      {
        case: 'filtered',
        what: `same /24, seed settings (--concurrency 10 --timeout 2000)${sliced ? `: ${seedProbes} probes run, scaled x${TOTAL / seedProbes}` : ''}`,
        ours: fmtS(ours.wallMs),
        peer: `${fmtS(seedMs)} seed settings${sliced ? ' (extrapolated)' : ''}`,
        ratio: fmtRatio(ours.wallMs / seedMs),
        memory: fmtMb(seed.peakRssMb),
        target: 'seed: 102 s',
        verdict: 'INFO',
        notes: failure(seed) ?? `seed slice measured ${fmtS(seed.wallMs)}`,
      },
    ];
    return {
      name: 'filtered',
      rows,
      metrics: {
        'filtered.oursMs': round(ours.wallMs, 0),
        'filtered.nmapMs': nmap && !nmap.timedOut ? round(nmap.wallMs, 0) : null,
        'filtered.seedMs': round(seedMs, 0),
        'filtered.conc1024Ms': failure(wide) ? null : round(wide.wallMs, 0),
      },
      details: { cidr: net.cidr, namespace: net.ns, oursCounts, seedProbes, seedMeasuredMs: seed.wallMs, sliced },
    };
  } finally {
    net?.teardown();
  }
}
