// Small waits the broker harnesses share (mosquitto.ts, rabbitmq.ts): a loopback port that accepts
// connections, a pause, and a promise given a deadline.
import { connect } from 'node:net';

/** Whether host:port (default 127.0.0.1) accepts a TCP connection within 500 ms; never rejects. */
export function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((res) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      res(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}

/** true when `p` settles within `ms` milliseconds, false when the time runs out first (p goes on). */
export async function within(p: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((res) => (timer = setTimeout(() => res(false), ms)));
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
