// Work that can wait (the other logins, TLS inspection's dozen handshakes) waits while brokers
// are still being set up (first connect, listener login and subscribe). On two cores, running
// both at once slowed every broker's set-up; the deferred work still runs inside the listen
// window, so nothing finishes later.
import { performance } from 'node:perf_hooks';
export class SetupGate {
  private active = 0;
  private waiters: Array<() => void> = [];

  /** One broker starts its set-up; the function ends it (idempotent). */
  begin(): () => void {
    this.active++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.active--;
      if (this.active === 0) this.release();
    };
  }

  /** Settles when no broker is being set up, or after maxWaitMs, whichever comes first. */
  idle(maxWaitMs: number): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        const i = this.waiters.indexOf(done);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve();
      };
      const timer = setTimeout(done, maxWaitMs);
      this.waiters.push(done);
    });
  }

  /** Brokers being set up now. */
  get busy(): number {
    return this.active;
  }

  private release(): void {
    for (const w of this.waiters.slice()) w();
  }
}

/** How busy the event loop was since the last call, once at least `minMs` passed; else null. */
export function loopLoad(minMs = 20): () => number | null {
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const d = performance.eventLoopUtilization(now, last);
    if (d.idle + d.active < minMs) return null;
    last = now;
    return d.utilization;
  };
}

/**
 * How many brokers may be set up at once. Open ports come in bursts (a sweep finds a lab's
 * brokers within milliseconds); setting all of them up at once made each one wait for all the
 * others' CPU. The window starts small, doubles while the event loop has room, and halves
 * when it is busy, up to `max`: on a slow network, where set-ups wait and the CPU idles, it
 * opens fully within a few tens of milliseconds.
 */
export class SetupWindow {
  private size: number;

  constructor(
    private readonly min: number,
    private readonly max: number,
    private readonly load: () => number | null = loopLoad(),
    private readonly busyAt = 0.8,
  ) {
    this.size = Math.max(1, Math.min(min, max));
  }

  /** The number of set-ups allowed now. */
  allowed(): number {
    const u = this.load();
    if (u !== null) this.size = u >= this.busyAt ? Math.max(Math.min(this.min, this.max), this.size >> 1) : Math.min(this.max, this.size * 2);
    return this.size;
  }
}

/**
 * Slots for work that can wait (the probe's other logins, TLS inspections), as many at once as a
 * SetupWindow allows now: the window grows while the event loop has room and shrinks when it is
 * busy, so a thousand brokers' deferred work does not start at once and push every connection
 * attempt past its timeout. Waiters are served in order; all are let go when `signal` aborts
 * (they then see the abort themselves).
 */
export class WorkSlots {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly window: SetupWindow,
    private readonly signal?: AbortSignal,
  ) {
    signal?.addEventListener('abort', () => this.drain(), { once: true });
  }

  /** Work running in a slot now. */
  get busy(): number {
    return this.active;
  }

  /** Resolves with the function that gives the slot back (idempotent), once one is free. */
  acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      const grant = () => {
        this.active++;
        let given = false;
        resolve(() => {
          if (given) return;
          given = true;
          this.active--;
          this.pump();
        });
      };
      this.waiting.push(grant);
      this.pump();
    });
  }

  private pump(): void {
    if (this.signal?.aborted) return this.drain();
    const allowed = this.window.allowed();
    while (this.waiting.length && this.active < allowed) this.waiting.shift()!();
    // Held back by the window: look again shortly (the window grows when the loop has room).
    if (this.waiting.length && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, 10);
    }
  }

  private drain(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.waiting.length) this.waiting.shift()!();
  }
}
