// Child process for the soak test: N whole scans in a row against an embedded plain broker and a
// TLS one, then prints open file descriptors and heap, measured after a forced GC.
import { readdirSync } from 'node:fs';
import { runScan } from '../../lib/pipeline';
import { startAedes } from '../../lab/aedes-broker';
import { generateCa, generateServerCert } from '../../lab/certs';

const gc = (global as { gc?: () => void }).gc!;
const fds = () => readdirSync('/proc/self/fd').length;
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

async function main() {
  const rounds = Number(process.argv[2] ?? 200);
  const ca = generateCa();
  const cert = generateServerCert(ca, { hosts: ['127.0.0.1'] });
  const plain = await startAedes();
  const secure = await startAedes({ tls: { cert: cert.certPem, key: cert.keyPem }, authenticate: (u, p) => u === 'lab' && p === 'lab-pass' });
  const scan = (signal?: AbortSignal) =>
    runScan({ targets: '127.0.0.1', ports: [plain.port, secure.port], timeoutMs: 1000, listenMs: 20, credentials: { username: 'lab', password: 'lab-pass' }, tls: { ca: ca.certPem }, signal });

  // Warm up: first scans load modules and fill caches that are not leaks.
  for (let i = 0; i < 5; i++) await scan();
  const before = { fds: fds(), heap: heap() };
  let brokers = 0;
  for (let i = 0; i < rounds; i++) {
    const { results } = await scan();
    brokers += results.filter((r) => r.classification === 'open_or_auth_ok').length;
  }
  // Cancelled mid-scan, many times: everything it opened must close too.
  for (let i = 0; i < 20; i++) {
    const c = new AbortController();
    setTimeout(() => c.abort(), 5 + (i % 10));
    await scan(c.signal);
  }
  await new Promise((r) => setTimeout(r, 200));
  const after = { fds: fds(), heap: heap() };
  await plain.stop();
  await secure.stop();
  process.stdout.write(`${JSON.stringify({ rounds, brokers, before, after })}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
