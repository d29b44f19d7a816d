// One real Node-RED runtime in a child process, for tests that need separate Node-RED processes
// (test/sites/nodes-processes.test.ts): the `node-red` module embedded as lab/start.ts and
// bench/drivers/flow.ts embed it, with this package linked into a temp user dir (so Node-RED
// loads our nodes from dist/ as an installed module), the admin API and editor on a loopback
// port, and an encrypted credentials file. The test deploys its flow through the admin API
// (POST /flows, credentials inline), as the editor does.
// Prints "READY <port>" on stdout when the runtime has started; on SIGTERM or SIGINT it stops
// the runtime (every node's close handler runs) and exits 0; it exits by itself after maxMs.
// Usage: node -r ts-node/register/transpile-only test/support/node-red-child.ts '<json options>'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join, resolve } from 'node:path';

interface Options {
  userDir: string;
  port: number;
  credentialSecret: string;
  /** The process ends by itself after this, ms (a test that died leaves nothing behind). */
  maxMs: number;
}

const ROOT = resolve(__dirname, '../..');

async function main(): Promise<void> {
  const opts = JSON.parse(process.argv[2]) as Options;
  const hardStop = setTimeout(() => {
    process.stderr.write(`node-red child: ended after ${opts.maxMs} ms\n`);
    process.exit(3);
  }, opts.maxMs);
  hardStop.unref();
  const pkgName = (require(join(ROOT, 'package.json')) as { name: string }).name;
  const link = join(opts.userDir, 'node_modules', ...pkgName.split('/'));
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(ROOT, link, 'dir');
  writeFileSync(join(opts.userDir, 'package.json'), JSON.stringify({ name: 'mqttsec-test-userdir', private: true }));

  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require('node-red');
  const server = createServer();
  RED.init(server, {
    userDir: opts.userDir,
    flowFile: 'flows.json',
    credentialSecret: opts.credentialSecret,
    httpAdminRoot: '/',
    httpNodeRoot: false,
    uiHost: '127.0.0.1',
    diagnostics: { enabled: false, ui: false },
    telemetry: { enabled: false, updateNotification: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false, allowUpload: false } },
    logging: { console: { level: 'info', metrics: false, audit: false } },
    contextStorage: { default: { module: 'memory' } },
  });
  server.on('request', RED.httpAdmin);
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(opts.port, '127.0.0.1', () => res());
  });
  await RED.start();
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    try {
      await RED.stop();
    } finally {
      server.close();
      process.exit(0);
    }
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  process.stdout.write(`READY ${opts.port}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`node-red child: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
