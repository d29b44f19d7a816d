// Backpressure between the target expander and the broker probe, which run in one Node-RED
// runtime. Sent in one go, a /8 is 16 million target objects (~1.6 GB) queued as messages: the
// expander now keeps a bounded number of a scan's targets ahead of the probe's sweep.
// The probe says how far it got; the expander waits for room. Without a probe downstream (a
// debug node, the user's own flow) nobody reports, and the expander goes on unpaced.

interface Progress {
  /** Targets the probe has swept so far. */
  swept: number;
  cancelled: boolean;
  wake: Set<() => void>;
  touched: number;
}

const scans = new Map<string, Progress>();
/** Expanders waiting for a probe to report on a scan. */
const awaited = new Map<string, Set<() => void>>();
/** A scan nobody reported on for this long is forgotten (its probe was removed mid-scan). */
const FORGET_MS = 3_600_000;

function entry(scanId: string): Progress {
  let p = scans.get(scanId);
  if (!p) {
    forgetOld();
    p = { swept: 0, cancelled: false, wake: new Set(), touched: 0 };
    scans.set(scanId, p);
    for (const w of awaited.get(scanId) ?? []) w();
  }
  p.touched = Date.now();
  return p;
}

function notify(p: Progress): void {
  if (p.wake.size) for (const w of [...p.wake]) w();
}

function forgetOld(): void {
  const old = Date.now() - FORGET_MS;
  for (const [id, p] of scans) if (p.touched < old && p.wake.size === 0) scans.delete(id);
}

/** The probe: `n` more targets of this scan are swept (0 when its first batch arrives). */
export function took(scanId: string, n: number): void {
  const p = entry(scanId);
  p.swept += n;
  if (n > 0) notify(p);
}

/** The probe: the scan was cancelled; the expander stops sending it. */
export function cancelled(scanId: string): void {
  const p = entry(scanId);
  p.cancelled = true;
  notify(p);
}

/** The probe is done with the scan. A cancelled scan is remembered (until forgotten), so its
 *  expander stops rather than mistaking the silence for "no probe here". */
export function finished(scanId: string): void {
  const p = scans.get(scanId);
  if (!p || p.cancelled) return;
  scans.delete(scanId);
  notify(p);
}

export type Room = 'room' | 'cancelled' | 'no-consumer' | 'stalled';

export interface RoomOptions {
  /** Targets that may be sent and not yet swept. */
  ahead: number;
  /** Give up waiting when the probe reported nothing for this long. */
  stallMs: number;
  /** How long to wait for a probe's first report on the scan. */
  consumerWaitMs: number;
}

/**
 * The expander, having sent `sent` targets of the scan: 'room' at once while fewer than `ahead`
 * are unswept, else once the probe is down to half of that; 'cancelled' when the probe cancelled
 * the scan; 'no-consumer' when no probe reports on it; 'stalled' after stallMs without a report.
 */
export async function room(scanId: string, sent: number, o: RoomOptions): Promise<Room> {
  const known = scans.get(scanId);
  if (known?.cancelled) return 'cancelled';
  if (sent - (known?.swept ?? 0) < o.ahead) return 'room';
  if (!known && !(await consumer(scanId, o.consumerWaitMs))) return 'no-consumer';
  const p = scans.get(scanId);
  if (!p) return 'room'; // finished meanwhile
  if (p.cancelled) return 'cancelled';
  if (sent - p.swept < o.ahead) return 'room';
  return new Promise<Room>((resolve) => {
    // Called for every target swept: no timer work here, the stall timer looks at `last` itself.
    let last = Date.now();
    let timer: NodeJS.Timeout;
    const done = (r: Room) => {
      clearTimeout(timer);
      p.wake.delete(check);
      resolve(r);
    };
    const check = () => {
      if (scans.get(scanId) !== p) return done('room');
      if (p.cancelled) return done('cancelled');
      if (sent - p.swept <= o.ahead / 2) return done('room');
      last = Date.now();
    };
    const stall = () => {
      const idle = Date.now() - last;
      if (idle >= o.stallMs) done('stalled');
      else timer = setTimeout(stall, o.stallMs - idle);
    };
    p.wake.add(check);
    timer = setTimeout(stall, o.stallMs);
  });
}

function consumer(scanId: string, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const set = awaited.get(scanId) ?? new Set<() => void>();
    awaited.set(scanId, set);
    const done = (found: boolean) => {
      clearTimeout(timer);
      set.delete(seen);
      if (set.size === 0) awaited.delete(scanId);
      resolve(found);
    };
    const seen = () => done(true);
    const timer = setTimeout(() => done(false), ms);
    set.add(seen);
  });
}

/** For tests: scans tracked, and expanders waiting for a probe. */
export function paceState(): { scans: number; awaited: number } {
  return { scans: scans.size, awaited: awaited.size };
}
