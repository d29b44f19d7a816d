// Port specs: '1883', '1883,8883', '8000-8010', mixtures, a number or an array of numbers.

import { formatCount, targetError } from './errors';

export const DEFAULT_PORTS = [1883, 8883];
export const MAX_PORTS_CHARS = 10_000;
const MAX_PORT = 65_535;

/** Sorted, deduplicated ports; empty or undefined gives DEFAULT_PORTS. Throws TargetError. */
export function parsePorts(spec: string | number | number[] | undefined): number[] {
  if (spec === undefined || spec === null) return [...DEFAULT_PORTS];
  // A bitmap makes '1-65535' as cheap as '1883' and sorts and deduplicates for free.
  const seen = new Uint8Array(MAX_PORT + 1);
  if (typeof spec === 'number') {
    seen[checkPort(spec, String(spec))] = 1;
  } else if (Array.isArray(spec)) {
    if (spec.length === 0) return [...DEFAULT_PORTS];
    for (const port of spec as unknown[]) seen[checkPort(port, String(port))] = 1;
  } else if (typeof spec === 'string') {
    if (!markPortString(spec, seen)) return [...DEFAULT_PORTS];
  } else {
    throw targetError('syntax', String(spec), 'ports must be a string, a number or an array of numbers');
  }
  const ports: number[] = [];
  for (let p = 1; p <= MAX_PORT; p++) if (seen[p]) ports.push(p);
  return ports;
}

/** Marks the ports of a string spec; false when it holds no token at all. */
function markPortString(spec: string, seen: Uint8Array): boolean {
  if (spec.length > MAX_PORTS_CHARS) {
    throw targetError('limit', spec, `ports spec too long (${formatCount(spec.length)} characters; at most ${formatCount(MAX_PORTS_CHARS)})`);
  }
  const tokens = spec.split(/[\s,]+/).filter((t) => t !== '');
  for (const token of tokens) {
    const range = /^(\d+)-(\d+)$/.exec(token);
    if (range) {
      const [first, last] = [checkPort(range[1], token), checkPort(range[2], token)];
      if (first > last) throw targetError('range', token, 'range start is after its end');
      seen.fill(1, first, last + 1);
    } else {
      seen[checkPort(token, token)] = 1;
    }
  }
  return tokens.length > 0;
}

function checkPort(value: unknown, token: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (Number.isNaN(n)) throw targetError('syntax', token, 'not a port number');
  if (!Number.isInteger(n) || n < 1 || n > MAX_PORT) throw targetError('range', token, 'port must be 1-65535');
  return n;
}
