// What a message may ask of a scan: msg.payload as a target string, or {targets, ports, maxTargets}.
// Anything else (an inject timestamp, an empty string) means "use the node's settings".
import { TargetError } from '../../lib/targets';

export interface ScanRequest {
  targets: string | string[];
  ports?: string | number | number[];
  maxTargets?: number;
}

export function scanRequestFrom(payload: unknown, defaults: ScanRequest): ScanRequest {
  if (typeof payload === 'string' && payload.trim() !== '') return { ...defaults, targets: payload };
  if (payload && typeof payload === 'object' && !Array.isArray(payload) && !Buffer.isBuffer(payload)) {
    const p = payload as Record<string, unknown>;
    const out: ScanRequest = { ...defaults };
    if (p.targets !== undefined || p.target !== undefined) out.targets = asTargets(p.targets ?? p.target);
    if (p.ports !== undefined) out.ports = asPorts(p.ports);
    if (p.maxTargets !== undefined) {
      const n = Number(p.maxTargets);
      if (!Number.isInteger(n) || n < 1) throw new TargetError(`"maxTargets": must be a positive whole number`, String(p.maxTargets), 'syntax');
      out.maxTargets = n;
    }
    return out;
  }
  return defaults;
}

function asTargets(v: unknown): string | string[] {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw new TargetError(`"targets": must be a string or an array of strings, got ${describe(v)}`, 'targets', 'syntax');
}

function asPorts(v: unknown): string | number | number[] {
  if (typeof v === 'string' || typeof v === 'number') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return v as number[];
  throw new TargetError(`"ports": must be a string, a number or an array of numbers, got ${describe(v)}`, 'ports', 'syntax');
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array of mixed values' : typeof v;
}
