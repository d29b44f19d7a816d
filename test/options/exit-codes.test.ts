// mqtt-scan's exit codes: one list (cli/args.ts EXIT_CODES), named by --help and the README's
// command-line section, and the codes the built CLI really returns, Ctrl-C included.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EXIT_CODES, USAGE } from '../../cli/args';
import { closedPort } from '../support/fixtures';

const ROOT = resolve(__dirname, '../..');
const CLI = resolve(ROOT, 'dist/cli/index.js');

/** The README's section on the command line, up to the next section. */
function readmeCliSection(): string {
  const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## The command line');
  assert.ok(start >= 0, 'README has no "## The command line" section');
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

describe('exit codes: documented from one list', () => {
  const codes = Object.values(EXIT_CODES);

  it('are 0, 1, 2 and 130, each with its own meaning', () => {
    assert.deepEqual(codes.map((c) => c.code), [0, 1, 2, 130]);
    assert.equal(new Set(codes.map((c) => c.meaning)).size, codes.length);
  });

  it('--help names every one with its meaning (and the built CLI prints that help)', () => {
    const section = USAGE.slice(USAGE.indexOf('Exit codes:'));
    assert.ok(section.length > 'Exit codes:'.length, '--help has no "Exit codes:" section');
    const listed = [...section.matchAll(/^ {2}(\d+) +(.+)$/gm)].map((m) => ({ code: Number(m[1]), meaning: m[2] }));
    assert.deepEqual(listed, codes.map((c) => ({ code: c.code, meaning: c.meaning })));
    const r = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, EXIT_CODES.done.code);
    assert.equal(r.stdout, `${USAGE}\n`, 'dist/ is stale: run npm run build');
  });

  it("the README's command-line section has the same codes and meanings, and no other", () => {
    const rows = [...readmeCliSection().matchAll(/^\| (\d+) \| (.+?) \|$/gm)].map((m) => ({ code: Number(m[1]), meaning: m[2] }));
    assert.deepEqual(rows, codes.map((c) => ({ code: c.code, meaning: c.meaning })));
  });
});

describe('exit codes: what the CLI returns', function () {
  this.timeout(60_000);

  it('0 after a scan that ran to its end, 2 for bad input', async () => {
    const port = await closedPort();
    const done = spawnSync(process.execPath, [CLI, '--target', '127.0.0.1', '--ports', String(port), '--no-sniff', '--no-tls-inspect'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(done.status, EXIT_CODES.done.code, done.stderr);
    assert.match(done.stdout, /1 target\(s\)/);
    const bad = spawnSync(process.execPath, [CLI, '--target', '127.0.0.1', `--timeout=${49}`], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(bad.status, EXIT_CODES.badInput.code);
    assert.match(bad.stderr, /--timeout "49": must be a whole number of milliseconds from 50 to 600000/);
  });

  it('130 on Ctrl-C (SIGINT) during a scan, after printing what it found', async () => {
    // A loopback port that accepts and never answers: the probe waits for a CONNACK.
    const sockets = new Set<Socket>();
    let connected: () => void = () => undefined;
    const firstConnect = new Promise<void>((r) => (connected = r));
    const server: Server = createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
      connected();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const child = spawn(process.execPath, [CLI, '--target', '127.0.0.1', '--ports', String(port), '--timeout', '30000', '--no-sniff', '--no-tls-inspect'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
      const watchdog = setTimeout(() => child.kill('SIGKILL'), 40_000);
      try {
        await Promise.race([firstConnect, exited.then(() => assert.fail(`the CLI ended before connecting: ${stderr}`))]);
        const sentAt = Date.now();
        child.kill('SIGINT');
        const { code, signal } = await exited;
        assert.equal(signal, null, `ended by ${signal}, not by itself`);
        assert.equal(code, EXIT_CODES.cancelled.code, `exit ${code}; stderr: ${stderr}`);
        assert.ok(Date.now() - sentAt < 20_000, 'stopped well before the 30 s timeout');
        assert.match(stdout, /\(cancelled\)/, `stdout: ${stdout}`);
      } finally {
        clearTimeout(watchdog);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
