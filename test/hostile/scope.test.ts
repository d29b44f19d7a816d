// Every node that opens connections applies the expander's scope policy itself: public hosts
// handed straight to the probe, the TLS inspector or the sniffer are refused with an error that
// names them. Run inside a network namespace the test makes (only loopback, and an unreachable
// default route), with /etc/hosts bind-mounted so a name resolves to a public address: even if a
// check failed, nothing could leave this machine.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { requireTool } from '../support/tools';

describe('hostile: public hosts handed straight to the nodes are refused (in an empty network namespace)', function () {
  this.timeout(120_000);
  let report: Array<{ name: string; errors: string[]; sent: number }> = [];

  before(function () {
    requireTool(this, 'unshare');
    if (process.getuid?.() !== 0) {
      if (process.env.CI === 'true') throw new Error('this test needs root for its own network namespace');
      console.warn('      SKIPPED LOUDLY: not root, cannot make a network namespace');
      this.skip();
    }
    const dir = mkdtempSync(join(tmpdir(), 'mqttsec-scope-'));
    try {
      const hosts = join(dir, 'hosts');
      writeFileSync(hosts, '127.0.0.1 localhost\n8.8.4.4 public.example.test\n');
      const child = resolve(__dirname, 'scope-child.ts');
      const script = [
        'set -e',
        'ip link set lo up',
        'ip route add unreachable default',
        `mount --bind ${hosts} /etc/hosts`,
        `exec ${process.execPath} -r ts-node/register/transpile-only ${child}`,
      ].join('\n');
      const r = spawnSync('unshare', ['--net', '--mount', 'sh', '-c', script], { encoding: 'utf8', timeout: 90_000, cwd: resolve(__dirname, '../..') });
      assert.equal(r.status, 0, `${r.stderr}\n${r.stdout}`);
      report = JSON.parse(r.stdout.trim().split('\n').pop()!);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const CASES = [
    ['probe: "8.8.8.8:1883"', /"8\.8\.8\.8".*public address.*allowPublic/],
    ['probe: a hand-made batch with {host: "1.1.1.1"}', /"1\.1\.1\.1".*public address.*allowPublic/],
    ['probe: a host name resolving to 8.8.4.4', /"public\.example\.test".*8\.8\.4\.4.*allowPublic/],
    ['TLS inspector: {host: "8.8.4.4"}', /"8\.8\.4\.4".*public address.*allowPublic/],
    ['sniffer: {host: "9.9.9.9"}', /"9\.9\.9\.9".*public address.*allowPublic/],
  ] as const;

  for (const [name, error] of CASES) {
    it(`${name}: refused with an error naming it, nothing sent on`, () => {
      const c = report.find((x) => x.name === name);
      assert.ok(c, `no report for ${name}: ${JSON.stringify(report)}`);
      assert.equal(c.errors.length, 1, JSON.stringify(c));
      assert.match(c.errors[0], error);
      assert.equal(c.sent, 0, `a result was sent: ${JSON.stringify(c)}`);
    });
  }
});
