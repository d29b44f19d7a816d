// Backpressure between the target expander and the broker probe. Sent in one go, a /8 is 16
// million target objects (~1.6 GB) queued as messages: the expander keeps a bounded number of a
// scan's targets ahead of the probe's sweep instead.
//
// The channel is in the messages, not in module state: the expander puts a pace handle in every
// batch it sends (msg.scan.pace, three functions); a probe reports on it how far its sweep got.
// Node-RED's message cloning keeps functions by reference, so a cloned batch reports to the same
// scan. Without a probe downstream (a debug node, the user's own flow), or when the message
// crossed something that drops functions (MQTT, a file), nobody reports and the expander goes on
// unpaced after consumerWaitMs. Both nodes' help describes msg.scan.pace.

/** What a probe may call on msg.scan.pace. */
export interface ScanPace {
  /** `n` more targets of this scan were swept (0 when the probe takes the scan's first batch). */
  took(n: number): void;
  /** The scan was cancelled: the expander stops sending it. */
  cancelled(): void;
  /** The probe is done with the scan: the expander need not wait any more. */
  finished(): void;
}

export type Room = 'room' | 'cancelled' | 'no-consumer' | 'stalled';

export interface RoomOptions {
  /** Targets that may be sent and not yet swept. */
  ahead: number;
  /** Give up waiting when the probe reported nothing for this long (ms). */
  stallMs: number;
  /** How long to wait for a probe's first report on the scan (ms). */
  consumerWaitMs: number;
}

/** The expander's side of one scan's pacing: the handle to send, and the wait for room. */
export interface PaceGate {
  /** Put this in msg.scan.pace of every batch. */
  readonly pace: ScanPace;
  /**
   * Having sent `sent` targets: 'room' at once while fewer than `ahead` are unswept, else once the
   * probe is down to half of that; 'cancelled' when the probe cancelled the scan; 'no-consumer'
   * when no probe reported within consumerWaitMs; 'stalled' after stallMs without a report.
   */
  room(sent: number, o: RoomOptions): Promise<Room>;
}

/** A new scan's pacing (one per scan, made by the expander). */
export function createPaceGate(): PaceGate {
  let swept = 0;
  let reported = false;
  let cancelled = false;
  let finished = false;
  const wake = new Set<() => void>();
  const notify = () => {
    for (const w of [...wake]) w();
  };
  const pace: ScanPace = {
    took(n) {
      reported = true;
      swept += Math.max(0, n);
      notify();
    },
    cancelled() {
      reported = true;
      cancelled = true;
      notify();
    },
    finished() {
      reported = true;
      finished = true;
      notify();
    },
  };

  /** Settles with `decide()`'s answer once it has one, or `timeout` after ms without a report. */
  const wait = (ms: number, timeout: Room, decide: () => Room | null, progressRestarts: boolean): Promise<Room> =>
    new Promise<Room>((resolve) => {
      let last = Date.now();
      let timer: NodeJS.Timeout;
      const done = (r: Room) => {
        clearTimeout(timer);
        wake.delete(check);
        resolve(r);
      };
      // Called for every report: no timer work here, the timer looks at `last` itself.
      const check = () => {
        const r = decide();
        if (r) return done(r);
        if (progressRestarts) last = Date.now();
      };
      const expire = () => {
        const idle = Date.now() - last;
        if (idle >= ms) done(timeout);
        else timer = setTimeout(expire, ms - idle);
      };
      wake.add(check);
      timer = setTimeout(expire, ms);
    });

  const state = (hasRoom: () => boolean): Room | null => (cancelled ? 'cancelled' : finished || hasRoom() ? 'room' : null);

  return {
    pace,
    async room(sent, o) {
      if (cancelled) return 'cancelled';
      if (sent - swept < o.ahead) return 'room';
      if (!reported && (await wait(o.consumerWaitMs, 'no-consumer', () => (reported ? 'room' : null), false)) === 'no-consumer') {
        return 'no-consumer';
      }
      const now = state(() => sent - swept < o.ahead);
      if (now) return now;
      return wait(o.stallMs, 'stalled', () => state(() => sent - swept <= o.ahead / 2), true);
    },
  };
}

/** The pace handle of a batch message, if it carries a usable one. */
export function paceOf(scan: unknown): ScanPace | undefined {
  const p = (scan as { pace?: Partial<ScanPace> } | null | undefined)?.pace;
  return p && typeof p.took === 'function' && typeof p.cancelled === 'function' && typeof p.finished === 'function' ? (p as ScanPace) : undefined;
}
