// The sniffer under a flood of 100,000 messages a second on '#' (issue 8), from a fake broker in a
// child process: it reads what it can, stays within its bounds, keeps the event loop free and
// ends on time.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { sniffBroker } from '../../lib/sniff';
import { watchLoop } from '../support/loop-watch';

const RATE = 100_000;
const FLOOD_MS = 2500;
const LISTEN_MS = 3000;

describe('hostile brokers: a flood of 100,000 messages a second', function () {
  this.timeout(30_000);
  let child: ChildProcess | null = null;
  after(() => {
    if (child && child.exitCode === null) child.kill('SIGTERM');
  });

  // The fake broker speaks 3.1.1 (it refuses MQTT 5 with 0x84).
  const version = '3.1.1';
  it('the sniffer reads what it can, within its bounds, and ends on time', async () => {
    child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, '../support/flood-broker-child.ts'), String(RATE), String(FLOOD_MS), '20000'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout! });
    const next = () => new Promise<Record<string, number>>((resolve, reject) => {
      lines.once('line', (l) => resolve(JSON.parse(l) as Record<string, number>));
      child!.once('exit', (code) => reject(new Error(`flood broker exited (${code})`)));
    });
    const { port } = await next();
    const done = next();

    const heapBefore = process.memoryUsage().heapUsed;
    const loop = watchLoop();
    const started = Date.now();
    const limits = { maxTopics: 500, maxTotalBytes: 1024 * 1024 };
    const r = await sniffBroker({ host: '127.0.0.1', port }, { transport: 'tcp', version, listenMs: LISTEN_MS, connectTimeoutMs: 2000, subscriptions: ['#'], ...limits })
      .finally(() => loop.stop());
    const { maxGap, peakHeap: peak } = loop;
    const elapsed = Date.now() - started;
    const flood = await done;
    const offered = Math.round(flood.sent / (flood.ms / 1000));
    const received = r.messages as number;
    console.log(`      flood: offered ${flood.sent} messages in ${flood.ms} ms (${offered}/s); received ${received} (${Math.round(received / (LISTEN_MS / 1000))}/s over the listen); ` +
      `topics ~${r.count}, kept ${r.items.length}; heap peak +${Math.round((peak - heapBefore) / 1e5) / 10} MB; max loop gap ${maxGap} ms; ended after ${elapsed} ms`);

    assert.ok(offered >= RATE * 0.9, `the fixture offered only ${offered}/s`);
    assert.equal(r.error, null);
    assert.ok(received > 10_000, `only ${received} messages read`);
    assert.equal(r.items.length, limits.maxTopics);
    assert.ok(r.truncated!.includes('topics'));
    assert.ok((r.keptBytes as number) <= limits.maxTotalBytes);
    assert.ok(maxGap < 500, `event loop stalled ${maxGap} ms`);
    assert.ok(elapsed < LISTEN_MS + 2000, `ended after ${elapsed} ms`);
  });
});
