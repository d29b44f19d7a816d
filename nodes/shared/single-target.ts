// A single target given straight to the probe: {host, port} or "host:port" / "[v6]:port".
import { isIP } from 'node:net';
import type { Target } from '../../lib/types';

export function singleTarget(payload: unknown): Target | null {
  if (payload && typeof payload === 'object' && !Array.isArray(payload)) {
    const p = payload as Record<string, unknown>;
    if (typeof p.host === 'string' && p.port !== undefined) return checked(p.host, p.port);
    return null;
  }
  if (typeof payload !== 'string') return null;
  const m = /^\s*(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})\s*$/.exec(payload);
  if (!m) return null;
  return checked(m[1] ?? m[2], m[3]);
}

function checked(host: string, port: unknown): Target {
  const n = Number(port);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`"${String(port).slice(0, 20)}": port must be 1-65535`);
  if (!isIP(host) && !/^[a-zA-Z0-9.-]{1,253}$/.test(host)) throw new Error(`"${host.slice(0, 60)}": not an address or host name`);
  return { host, port: n };
}
