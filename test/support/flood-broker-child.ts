// Run as a child process (so its writing costs the test process nothing): a fake broker that
// answers CONNECT and SUBSCRIBE, then floods the subscriber with small PUBLISH packets at a fixed
// rate, whatever the reader manages. Prints {"port"} when listening and {"sent", "ms"} when done.
// Usage: node -r ts-node/register/transpile-only flood-broker-child.ts <messages/s> <ms> <distinct topics>
import { rawPublish, startHostileBroker } from './hostile-broker';

const [rate, durationMs, topics] = process.argv.slice(2).map(Number);
const TICK_MS = 5;

async function main(): Promise<void> {
  const perTick = Math.ceil((rate * TICK_MS) / 1000);
  let n = 0;
  const batch = () => Buffer.concat(Array.from({ length: perTick }, () => rawPublish(Buffer.from(`flood/${n++ % topics}`), Buffer.from(`{"v":${n},"t":21.5}`))));
  const broker = await startHostileBroker((socket) => {
    const started = Date.now();
    let sent = 0;
    // Paced by the clock, not by the reader: a slow reader only fills the socket buffers.
    const timer = setInterval(() => {
      const due = Math.min(rate * ((Date.now() - started) / 1000), (rate * durationMs) / 1000);
      while (sent + perTick <= due && !socket.destroyed) {
        socket.write(batch());
        sent += perTick;
      }
      if (Date.now() - started >= durationMs || socket.destroyed) {
        clearInterval(timer);
        process.stdout.write(`${JSON.stringify({ sent, ms: Date.now() - started })}\n`);
      }
    }, TICK_MS);
  });
  process.stdout.write(`${JSON.stringify({ port: broker.port })}\n`);
  process.on('SIGTERM', () => void broker.close().then(() => process.exit(0)));
}

void main();
