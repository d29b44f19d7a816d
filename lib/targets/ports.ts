// Port specs: '1883', '1883,8883', '8000-8010', a preset name ('mqtt-all'), mixtures, a number or
// an array of numbers.

import { formatCount, targetError } from './errors';

export const DEFAULT_PORTS = [1883, 8883];

/**
 * Named port lists a spec may use like a port ('mqtt-all,10000'):
 * - mqtt: MQTT's IANA ports, 1883 (plain) and 8883 (TLS), the default;
 * - mqtt-ws: the ports brokers commonly serve MQTT over WebSockets on: 80 and 443 (behind a web
 *   server), 8000 and 8884 (HiveMQ ws, wss), 8080 and 8081 (Mosquitto's usual ws, wss),
 *   8083 and 8084 (EMQX ws, wss), 9001 (Mosquitto's documented websockets example);
 * - mqtt-all: both.
 */
export const PORT_PRESETS: Readonly<Record<string, readonly number[]>> = {
  mqtt: DEFAULT_PORTS,
  'mqtt-ws': [80, 443, 8000, 8080, 8081, 8083, 8084, 8884, 9001],
  'mqtt-all': [1883, 8883, 80, 443, 8000, 8080, 8081, 8083, 8084, 8884, 9001],
};
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
    const preset = Object.hasOwn(PORT_PRESETS, token.toLowerCase()) ? PORT_PRESETS[token.toLowerCase()] : undefined;
    if (preset) {
      for (const port of preset) seen[port] = 1;
      continue;
    }
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
  if (Number.isNaN(n)) throw targetError('syntax', token, `not a port number (or a preset: ${Object.keys(PORT_PRESETS).join(', ')})`);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PORT) throw targetError('range', token, 'port must be 1-65535');
  return n;
}
