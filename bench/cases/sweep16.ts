// Closed-port sweep of 127.0.0.0/16 x {1883, 8883}: 131,072 TCP connects that the kernel answers
// with RST at once. Ours (the CLI, whole process) against nmap -T4 -sT -Pn -n, alternating, so
// both see the same machine state; medians of --repeat runs.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { failure, runMeasured, type RunResult } from '../lib/proc';
import { summarizeProfile, type ProfileSummary } from '../lib/profile';
import { fmtMb, fmtRatio, fmtS, max, median, round } from '../lib/stats';
import type { BenchContext, CaseResult, Row } from '../lib/types';

export const SWEEP_TARGET = '127.0.0.0/16';
export const SWEEP_PORTS = '1883,8883';
export const SWEEP_COUNT = 131_072;

export function cliSweepArgs(ctx: BenchContext): string[] {
  return [ctx.cli, '--target', SWEEP_TARGET, '--ports', SWEEP_PORTS, '--max-targets', String(SWEEP_COUNT), '--json'];
}

export function openFromCliJson(r: RunResult): number | null {
  try {
    const results = JSON.parse(r.stdout) as Array<{ reachability?: string }>;
    return results.filter((x) => x.reachability === 'open').length;
  } catch {
    return null;
  }
}

export function openFromNmapGrepable(out: string): number {
  return (out.match(/\/open\//g) ?? []).length;
}

export async function sweep16(ctx: BenchContext): Promise<CaseResult> {
  const ours: RunResult[] = [];
  const peer: RunResult[] = [];
  const problems: string[] = [];
  for (let i = 0; i < ctx.repeat; i++) {
    const runOurs = async () => {
      const r = await runMeasured(ctx.node, cliSweepArgs(ctx), { timeoutMs: ctx.runLimitMs, label: 'mqtt-scan /16', cwd: ctx.root });
      const bad = failure(r);
      if (bad) problems.push(`ours: ${bad}`);
      else ours.push(r);
      ctx.log(`  sweep16 ours #${i + 1}: ${fmtS(r.wallMs)}, ${fmtMb(r.peakRssMb)}, open ${openFromCliJson(r)}`);
    };
    const runPeer = async () => {
      if (!ctx.nmap) return;
      const r = await runMeasured(ctx.nmap, ['-T4', '-sT', '-Pn', '-n', `-p${SWEEP_PORTS}`, '-oG', '-', SWEEP_TARGET], {
        timeoutMs: ctx.runLimitMs,
        label: 'nmap /16',
      });
      const bad = failure(r);
      if (bad) problems.push(`nmap: ${bad}`);
      else peer.push(r);
      ctx.log(`  sweep16 nmap #${i + 1}: ${fmtS(r.wallMs)}, ${fmtMb(r.peakRssMb)}, open ${openFromNmapGrepable(r.stdout)}`);
    };
    // Alternate who goes first, so neither always runs on a warmer (or busier) machine.
    if (i % 2 === 0) {
      await runOurs();
      await runPeer();
    } else {
      await runPeer();
      await runOurs();
    }
  }

  // INFO: the same sweep on the main thread only (--threads 1), to show what the threads bring.
  const single = await runMeasured(ctx.node, [...cliSweepArgs(ctx), '--threads', '1'], { timeoutMs: ctx.runLimitMs, label: 'mqtt-scan /16 --threads 1', cwd: ctx.root });
  ctx.log(`  sweep16 ours --threads 1: ${fmtS(single.wallMs)}, ${fmtMb(single.peakRssMb)}`);

  let profile: ProfileSummary | null = null;
  if (ctx.profile) profile = await profileSweep(ctx);

  const oursMs = ours.map((r) => r.wallMs);
  const peerMs = peer.map((r) => r.wallMs);
  const oursMed = median(oursMs);
  const peerMed = peer.length ? median(peerMs) : NaN;
  const ratio = oursMed / peerMed;
  const rss = max(ours.map((r) => r.peakRssMb ?? NaN).filter(Number.isFinite));
  ctx.shared.sweep16RssMb = Number.isFinite(rss) ? rss : undefined;
  ctx.shared.sweep16CliMs = oursMs;
  const openOurs = ours.length ? openFromCliJson(ours[0]) : null;
  const openPeer = peer.length ? openFromNmapGrepable(peer[0].stdout) : null;
  const ok = ours.length > 0 && oursMed < 10_000 && (!peer.length || ratio <= 1.5);
  const row: Row = {
    case: 'sweep16',
    what: `closed-port sweep ${SWEEP_TARGET} x {${SWEEP_PORTS}} (131,072 probes), median of ${ours.length}`,
    ours: fmtS(oursMed),
    peer: peer.length ? `${fmtS(peerMed)} nmap -T4 -sT` : ctx.nmap ? 'nmap failed' : 'nmap not installed',
    ratio: fmtRatio(ratio),
    memory: `${fmtMb(rss)} (nmap ${fmtMb(max(peer.map((r) => r.peakRssMb ?? NaN).filter(Number.isFinite)))})`,
    target: '<= 1.5x nmap and < 10 s (stretch 1.0x)',
    verdict: ok ? 'PASS' : 'FAIL',
    notes: [
      `runs ours ${oursMs.map((m) => fmtS(m)).join(', ')}; nmap ${peerMs.map((m) => fmtS(m)).join(', ') || '-'}`,
      `open found: ours ${openOurs ?? '?'}, nmap ${openPeer ?? '?'}`,
      ...(Number.isFinite(ratio) && ratio <= 1.0 ? ['stretch goal (equal to nmap) met'] : []),
      ...problems,
    ].join('; '),
  };
  const singleRow: Row = {
    case: 'sweep16',
    what: 'same sweep on one thread (--threads 1; the default is one sweep thread per core, up to 4)',
    ours: failure(single) ? '-' : fmtS(single.wallMs),
    peer: peer.length ? `${fmtS(peerMed)} nmap -T4 -sT` : '-',
    ratio: failure(single) || !peer.length ? '-' : fmtRatio(single.wallMs / peerMed),
    memory: fmtMb(single.peakRssMb),
    target: 'info',
    verdict: 'INFO',
    notes: failure(single) ?? 'one run',
  };
  return {
    name: 'sweep16',
    rows: [row, singleRow],
    metrics: {
      'sweep16.oursMs': round(oursMed, 0),
      'sweep16.nmapMs': Number.isFinite(peerMed) ? round(peerMed, 0) : null,
      'sweep16.ratio': Number.isFinite(ratio) ? round(ratio, 3) : null,
      'sweep16.rssMb': Number.isFinite(rss) ? round(rss, 1) : null,
      'sweep16.oneThreadMs': failure(single) ? null : round(single.wallMs, 0),
    },
    details: { oursMs, peerMs, openOurs, openPeer, profile, problems },
  };
}

/** One more run of the CLI under --cpu-prof; returns where the process spent its time. */
async function profileSweep(ctx: BenchContext): Promise<ProfileSummary | null> {
  const dir = join(ctx.resultsDir, 'profile');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const r = await runMeasured(ctx.node, ['--cpu-prof', '--cpu-prof-dir', dir, ...cliSweepArgs(ctx)], {
    timeoutMs: ctx.runLimitMs,
    label: 'mqtt-scan /16 --cpu-prof',
    cwd: ctx.root,
  });
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (failure(r) || !file) {
    ctx.log(`  profile failed: ${failure(r) ?? 'no .cpuprofile written'}`);
    return null;
  }
  const summary = summarizeProfile(join(dir, file));
  ctx.log(`  profile (${fmtS(r.wallMs)} under the profiler) written to ${join(dir, file)}`);
  return summary;
}
