// 200 whole scans in a row (probe, TLS inspection, sniffing) and 20 cancelled ones: the process
// ends with the same open descriptors and, beyond noise, the same heap.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

describe('lifecycle: 200 scans in a row', function () {
  this.timeout(240_000);
  it('leaves no descriptor open and grows no heap', () => {
    const out = execFileSync(
      process.execPath,
      ['--expose-gc', '-r', 'ts-node/register/transpile-only', resolve(__dirname, 'soak-child.ts'), '200'],
      { encoding: 'utf8', timeout: 220_000, cwd: resolve(__dirname, '../..') },
    );
    const r = JSON.parse(out.trim().split('\n').at(-1)!);
    assert.equal(r.brokers, 400, 'both brokers accepted on every scan');
    // Fewer is fine (a descriptor Node opened lazily at start may close); more would be a leak.
    assert.ok(r.after.fds <= r.before.fds, `descriptors ${r.before.fds} -> ${r.after.fds}`);
    const growth = r.after.heap - r.before.heap;
    assert.ok(growth < 3 * 1024 * 1024, `heap grew by ${(growth / 1048576).toFixed(2)} MB over 220 scans`);
  });
});
