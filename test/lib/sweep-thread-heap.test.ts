// The compiled sweep threads run with an old-space ceiling sized from their connects in flight
// (lib/sweep shards.ts sweepThreadOldSpaceMb): it keeps mqtt-scan's RSS down, and it must never
// stop a thread with "JS heap out of memory". mqtt-scan (dist/, where the ceiling applies; under
// ts-node the threads carry the compiler and have none) sweeps closed loopback ports with many
// connects per thread; every target must come back closed.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { sweepThreadOldSpaceMb } from '../../lib/sweep';
import { openFileLimit } from '../../lib/common';

const CLI = resolve(__dirname, '../../dist/cli/index.js');

describe('lib/sweep: the sweep threads\' heap ceiling', function () {
  this.timeout(120_000);

  it('grows with the connects in flight: at least twice the ~4 KB each that a thread was measured to hold, over a base', () => {
    for (const n of [1, 512, 4096, 20_000]) assert.ok(sweepThreadOldSpaceMb(n) >= 16 + (n * 8) / 1024, `${n} connects: ${sweepThreadOldSpaceMb(n)} MB`);
  });

  it('mqtt-scan on 2 threads with as many connects as the open-file limit allows (up to 8,192): every target closed, no thread out of memory', () => {
    const limit = openFileLimit() ?? 1024;
    const concurrency = Math.max(64, Math.min(8192, limit - 256));
    // 127.5.0.0-127.5.127.255 (32,768 hosts) x 2 ports that nothing listens on (loopback refuses at once): 65,536 targets.
    const r = spawnSync(process.execPath, [CLI, '--target', '127.5.0.0/17', '--ports', '1,2', '--max-targets', '65536', '--threads', '2', '--concurrency', String(concurrency), '--json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 110_000 });
    assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr.slice(0, 500)}`);
    assert.doesNotMatch(r.stderr, /out of memory|sweep thread \d+ (failed|stopped)/);
    const results = JSON.parse(r.stdout) as Array<{ reachability: string }>;
    // Over 1,024 targets mqtt-scan lists only open ports: none here.
    assert.equal(results.length, 0, `no open port expected: ${JSON.stringify(results.slice(0, 3))}`);
  });
});
