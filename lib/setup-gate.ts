// Work that can wait (the other logins, TLS inspection's dozen handshakes) waits while brokers
// are still being set up (first connect, listener login and subscribe). On two cores, running
// both at once slowed every broker's set-up; the deferred work still runs inside the listen
// window, so nothing finishes later.
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
