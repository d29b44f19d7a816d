// Runs one scan through our nodes in a real, embedded Node-RED runtime (the `node-red` module
// itself, as lab/start.ts embeds it; not node-red-node-test-helper, which wraps every send() in a
// sinon spy that records each call and would distort the figures):
//   bench-source -> mqttsec-target-expander -> mqttsec-broker-probe -> bench-sink
// bench-source and bench-sink are two tiny nodes written into a temp nodesDir: the source lets
// this driver inject one message (like an inject node), the sink timestamps msg.complete.
// Prints one JSON line (last line of stdout): {ms, messagesOut, summary, idleRssMb, maxRssMb}.
// Usage: node -r ts-node/register/transpile-only bench/drivers/flow.ts '<json options>'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

interface Options {
  targets: string;
  ports: string;
  maxTargets: number;
  batchSize?: number;
  timeoutMs: number;
  concurrency?: number;
  probeConcurrency?: number;
  limitMs: number;
}

type Msg = Record<string, unknown>;

const ROOT = process.env.BENCH_ROOT ?? resolve(__dirname, '../..');

const BENCH_NODES_JS = `
module.exports = function (RED) {
  function BenchSource(config) {
    RED.nodes.createNode(this, config);
    globalThis.__mqttsecBenchSource = this;
  }
  RED.nodes.registerType('bench-source', BenchSource);
  function BenchSink(config) {
    RED.nodes.createNode(this, config);
    this.on('input', (msg, send, done) => {
      globalThis.__mqttsecBenchSink(msg);
      done();
    });
  }
  RED.nodes.registerType('bench-sink', BenchSink);
};
`;
const BENCH_NODES_HTML = `
<script type="text/javascript">
  RED.nodes.registerType('bench-source', { category: 'common', defaults: {}, inputs: 0, outputs: 1, label: 'bench source' });
  RED.nodes.registerType('bench-sink', { category: 'common', defaults: {}, inputs: 1, outputs: 0, label: 'bench sink' });
</script>
`;

async function main(): Promise<void> {
  const opts = JSON.parse(process.argv[2]) as Options;
  const userDir = mkdtempSync(join(tmpdir(), 'mqttsec-bench-nodered-'));
  const hardStop = setTimeout(() => {
    process.stderr.write(`flow driver: no completion within ${opts.limitMs} ms\n`);
    rmSync(userDir, { recursive: true, force: true });
    process.exit(3);
  }, opts.limitMs);
  try {
    const pkgName = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string }).name;
    const link = join(userDir, 'node_modules', ...pkgName.split('/'));
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(ROOT, link, 'dir');
    writeFileSync(join(userDir, 'package.json'), JSON.stringify({ name: 'mqttsec-bench-userdir', private: true }));
    const nodesDir = join(userDir, 'bench-nodes');
    mkdirSync(nodesDir);
    writeFileSync(join(nodesDir, 'bench-nodes.js'), BENCH_NODES_JS);
    writeFileSync(join(nodesDir, 'bench-nodes.html'), BENCH_NODES_HTML);
    const flow = [
      { id: 'tab', type: 'tab', label: 'bench' },
      { id: 'src', z: 'tab', type: 'bench-source', wires: [['exp']] },
      {
        id: 'exp', z: 'tab', type: 'mqttsec-target-expander', targets: opts.targets, ports: opts.ports,
        maxTargets: opts.maxTargets, allowPublic: false, batchSize: opts.batchSize ?? '', wires: [['probe']],
      },
      {
        id: 'probe', z: 'tab', type: 'mqttsec-broker-probe', timeout: opts.timeoutMs, concurrency: opts.concurrency ?? '',
        probeConcurrency: opts.probeConcurrency ?? '', transport: 'auto', versions: 'both', tlsPorts: '', emitUnreachable: false,
        wires: [['sink']],
      },
      { id: 'sink', z: 'tab', type: 'bench-sink', wires: [] },
    ];
    writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flow));

    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const RED = require('node-red');
    const server = createServer(); // never listens: no editor, no HTTP nodes
    RED.init(server, {
      userDir,
      nodesDir,
      flowFile: 'flows.json',
      credentialSecret: 'bench-only',
      disableEditor: true,
      httpAdminRoot: false,
      httpNodeRoot: false,
      diagnostics: { enabled: false, ui: false },
      telemetry: { enabled: false, updateNotification: false },
      externalModules: { autoInstall: false, palette: { allowInstall: false, allowUpload: false } },
      logging: { console: { level: 'warn', metrics: false, audit: false } },
      contextStorage: { default: { module: 'memory' } },
    });
    const g = globalThis as unknown as { __mqttsecBenchSource?: { send(m: Msg): void }; __mqttsecBenchSink?: (m: Msg) => void };
    let messagesOut = 0;
    const done = new Promise<{ t1: bigint; summary: Msg }>((res) => {
      g.__mqttsecBenchSink = (m) => {
        messagesOut++;
        if (m.complete === true) res({ t1: process.hrtime.bigint(), summary: m.payload as Msg });
      };
    });
    await RED.start();
    await waitFor(() => !!g.__mqttsecBenchSource, 10_000, 'the flow did not start (bench-source missing)');
    const idleRssMb = process.memoryUsage().rss / 1048576; // Node-RED started, our nodes loaded, nothing scanned
    const t0 = process.hrtime.bigint();
    g.__mqttsecBenchSource!.send({ payload: Date.now() });
    const { t1, summary } = await done;
    const ms = Number(t1 - t0) / 1e6;
    await RED.stop();
    clearTimeout(hardStop);
    process.stdout.write(
      `${JSON.stringify({ ms, messagesOut, summary, idleRssMb, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`,
    );
  } finally {
    rmSync(userDir, { recursive: true, force: true });
  }
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(what);
    await new Promise((r) => setTimeout(r, 10));
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`flow driver: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
