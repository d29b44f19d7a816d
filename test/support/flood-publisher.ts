// A publisher that floods a broker: QoS 0, a new topic for every message, big payloads, as fast
// as the socket takes them, for a fixed time. Run it as a child process so its busy loop cannot
// stall the test's own event loop:
//   node -r ts-node/register/transpile-only flood-publisher.ts <port> <ms> <bytes> <bigBytes> <bigEvery> <prefix>
// Loopback only. Prints {"sent":N,"bytes":B} on stdout when done.
import { connect } from 'node:net';
import { generate } from 'mqtt-packet';

const [port, durationMs, payloadBytes, bigBytes, bigEvery, prefix] = process.argv.slice(2);
const duration = Math.min(Number(durationMs), 30_000);
setTimeout(() => process.exit(2), duration + 5000).unref(); // never outlive the test by much

async function main(): Promise<void> {
  const socket = connect({ host: '127.0.0.1', port: Number(port) });
  socket.on('error', (err) => {
    console.error(err.message);
    process.exit(1);
  });
  socket.write(generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: `flood-${process.pid}`, keepalive: 60 }));
  await new Promise((resolve) => socket.once('data', resolve)); // CONNACK
  socket.resume(); // nothing else comes back at QoS 0; never let it pile up
  const small = Buffer.alloc(Number(payloadBytes), 'x');
  const big = Buffer.alloc(Number(bigBytes), 'y');
  const every = Math.max(1, Number(bigEvery));
  const end = Date.now() + duration;
  let sent = 0;
  let bytes = 0;
  while (Date.now() < end) {
    const payload = sent % every === every - 1 ? big : small;
    const ok = socket.write(generate({ cmd: 'publish', topic: `${prefix}/${sent}`, payload, qos: 0, retain: false, dup: false }));
    sent++;
    bytes += payload.length;
    if (!ok) await drainOrTimeout(socket, end - Date.now());
  }
  socket.end(generate({ cmd: 'disconnect' }));
  process.stdout.write(JSON.stringify({ sent, bytes }) + '\n');
}

function drainOrTimeout(socket: import('node:net').Socket, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.max(0, ms));
    function done() {
      clearTimeout(timer);
      socket.off('drain', done);
      resolve();
    }
    socket.once('drain', done);
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
