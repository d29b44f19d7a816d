// Summarizes a V8 .cpuprofile (node --cpu-prof): self time per function and per area.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  totalMs: number;
  top: Array<{ fn: string; where: string; selfMs: number; pct: number }>;
  areas: Array<{ area: string; selfMs: number; pct: number }>;
}

function area(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(idle)') return 'idle (waiting for the kernel)';
  if (fn === '(program)') return 'V8/native (program)';
  if (url.includes('/dist/lib/targets')) return 'our engine: targets';
  if (url.includes('/dist/lib/sweep')) return 'our engine: sweep';
  if (url.includes('/dist/')) return 'our code: other (cli, pipeline, probe)';
  if (url.startsWith('node:net') || url.includes('internal/net') || url.includes('stream_base_commons') || url.startsWith('node:internal/dns')) return 'node net/socket';
  if (url.startsWith('node:') ) return `node other (${url.replace('node:', '').split('/').slice(0, 2).join('/')})`;
  if (url === '') return `native: ${fn || '(anonymous)'}`;
  return 'other';
}

export function summarizeProfile(path: string, topN = 15): ProfileSummary {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000; // delta i+1 is the duration of sample i
    self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + dt);
  }
  const totalMs = (p.endTime - p.startTime) / 1000;
  const fns = new Map<string, { fn: string; where: string; selfMs: number }>();
  const areas = new Map<string, number>();
  for (const [id, ms] of self) {
    const n = byId.get(id)!;
    const { functionName, url, lineNumber } = n.callFrame;
    const fn = functionName || '(anonymous)';
    const where = url ? `${url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${fn}@${where}`;
    const e = fns.get(key) ?? { fn, where, selfMs: 0 };
    e.selfMs += ms;
    fns.set(key, e);
    const a = area(url, fn);
    areas.set(a, (areas.get(a) ?? 0) + ms);
  }
  const pct = (ms: number) => Math.round((1000 * ms) / totalMs) / 10;
  return {
    totalMs: Math.round(totalMs),
    top: [...fns.values()]
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, topN)
      .map((e) => ({ ...e, selfMs: Math.round(e.selfMs), pct: pct(e.selfMs) })),
    areas: [...areas]
      .sort((a, b) => b[1] - a[1])
      .map(([a, ms]) => ({ area: a, selfMs: Math.round(ms), pct: pct(ms) })),
  };
}
