// Runs one scan through our nodes in a real, embedded Node-RED runtime (the `node-red` module
// itself, as lab/start.ts embeds it; not node-red-node-test-helper, which wraps every send() in a
// sinon spy that records each call and would distort the figures):
//   chain 'probe' (default): bench-source -> mqttsec-target-expander -> mqttsec-broker-probe -> bench-sink
//   chain 'full': bench-source -> expander -> probe -> mqttsec-tls-inspector -> mqttsec-topic-sniffer
//                 -> mqttsec-risk-classifier -> bench-sink, as flows/lab-dashboard.json wires them
//                 (a tls-config node with the CA file for the probe, the inspector and the sniffer)
// bench-source and bench-sink are two tiny nodes written into a temp nodesDir: the source lets
// this driver inject one message (like an inject node), the sink timestamps msg.complete. A catch
// node sends every error a node reports to the sink too: a message that ended in an error is
// counted, never silently lost.
// Prints one JSON line (last line of stdout): {ms, cpuMs, messagesOut, summary, idleRssMb, maxRssMb,
// arrived (when results reached the sink, by transport), errors}; with `verdicts` also {results,
// verdicts: {"host:port": "classification/LEVEL"}, duplicates}; with `trace` {t0Us, traced}.
// Usage: node -r ts-node/register/transpile-only bench/drivers/flow.ts '<json options>'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { arrivalSpread, keyOf, verdictOf } from './common';

interface Options {
  targets: string;
  ports: string;
  maxTargets: number;
  batchSize?: number;
  timeoutMs: number;
  concurrency?: number;
  probeConcurrency?: number;
  limitMs: number;
  /** Which nodes the scan goes through (default 'probe'). */
  chain?: 'probe' | 'full';
  /** chain 'full': the topic sniffer's listen time, seconds (the CLI's --listen). */
  listenSeconds?: number;
  /** chain 'full': the topic sniffer's concurrency ('' = the node's default). */
  sniffConcurrency?: number | '';
  /** chain 'full': a CA file (PEM) for the tls-config node (the CLI's --tls-ca). */
  tlsCaPath?: string;
  /** Report every result's verdict (classification/risk level per host:port). */
  verdicts?: boolean;
  /** Record when each result reached each node (ms after the inject): stage times, for finding where time goes. */
  trace?: boolean;
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
    writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flowOf(opts)));

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
    /** When each broker's result reached the sink (hrtime): when the results came, against the completion. */
    const arrivals: Array<{ at: bigint; transport: string }> = [];
    let t0 = 0n;
    const verdicts: Record<string, string> = {};
    let duplicates = 0;
    const errors: string[] = [];
    let errorCount = 0;
    const done = new Promise<{ t1: bigint; summary: Msg }>((res) => {
      g.__mqttsecBenchSink = (m) => {
        if (m.error) {
          errorCount++;
          if (errors.length < 5) errors.push(String((m.error as { message?: unknown }).message ?? m.error).slice(0, 200));
          return;
        }
        messagesOut++;
        if (m.complete === true) res({ t1: process.hrtime.bigint(), summary: m.payload as Msg });
        else if ((m.payload as Msg).reachability === 'open') arrivals.push({ at: process.hrtime.bigint(), transport: String((m.payload as Msg).transport) });
        if (m.complete !== true && opts.verdicts) {
          const key = keyOf(m.payload as Msg);
          if (key in verdicts) duplicates++;
          verdicts[key] = verdictOf(m.payload as Msg);
        }
      };
    });
    // trace: when each result reached each node (Node-RED's onReceive hook), ms after the inject.
    const trace = opts.trace ? new Map<string, Record<string, number>>() : null;
    if (trace) {
      RED.hooks.add('onReceive', (evt: { msg: Msg; destination: { id: string } }) => {
        const p = evt.msg.payload as Msg | undefined;
        if (!p || evt.msg.complete === true || typeof p.host !== 'string') return;
        const key = keyOf(p);
        const row = trace.get(key) ?? {};
        row[evt.destination.id] = Math.round(Number(process.hrtime.bigint() - t0) / 1e6);
        row.tls = p.transport === 'tls' ? 1 : 0;
        trace.set(key, row);
      });
    }
    await RED.start();
    await waitFor(() => !!g.__mqttsecBenchSource, 10_000, 'the flow did not start (bench-source missing)');
    const idleRssMb = process.memoryUsage().rss / 1048576; // Node-RED started, our nodes loaded, nothing scanned
    const cpu0 = process.cpuUsage();
    t0 = process.hrtime.bigint();
    g.__mqttsecBenchSource!.send({ payload: Date.now() });
    const { t1, summary } = await done;
    const ms = Number(t1 - t0) / 1e6;
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = Math.round((cpu.user + cpu.system) / 1000); // this process's CPU from the inject to the completion (and a little after)
    await RED.stop();
    clearTimeout(hardStop);
    const maxRssMb = process.resourceUsage().maxRSS / 1024;
    const checked = opts.verdicts ? { results: Object.keys(verdicts).length, verdicts, duplicates } : {};
    const traced = trace ? traceSummary([...trace.values()]) : undefined;
    // When the results reached the sink (ms after the inject), over all and by transport.
    const arrived = arrivalSpread(arrivals.map((x) => ({ ms: Number(x.at - t0) / 1e6, transport: x.transport })));
    process.stdout.write(`${JSON.stringify({ ...(trace ? { t0Us: Number(t0 / 1000n) } : {}), ms, cpuMs, messagesOut, summary, idleRssMb, maxRssMb, arrived, traced, ...checked, errors: errorCount, errorSamples: errors })}\n`);
  } finally {
    rmSync(userDir, { recursive: true, force: true });
  }
}

/** The flow of `opts.chain`: the nodes configured as the CLI's options say. */
function flowOf(opts: Options): Msg[] {
  const full = opts.chain === 'full';
  const tls = opts.tlsCaPath ? 'tls' : '';
  const probeNext = full ? 'inspector' : 'sink';
  return [
    { id: 'tab', type: 'tab', label: 'bench' },
    { id: 'src', z: 'tab', type: 'bench-source', wires: [['exp']] },
    {
      id: 'exp', z: 'tab', type: 'mqttsec-target-expander', targets: opts.targets, ports: opts.ports,
      maxTargets: opts.maxTargets, allowPublic: false, batchSize: opts.batchSize ?? '', wires: [['probe']],
    },
    {
      id: 'probe', z: 'tab', type: 'mqttsec-broker-probe', tls, timeout: opts.timeoutMs, concurrency: opts.concurrency ?? '',
      probeConcurrency: opts.probeConcurrency ?? '', transport: 'auto', versions: 'both', tlsPorts: '',
      // The CLI's default (includeUnreachable 'auto'): closed ports listed for scans of up to 1,024 targets.
      emitUnreachable: opts.verdicts ? 'auto' : false,
      wires: [[probeNext]],
    },
    ...(tls
      ? [{ id: 'tls', type: 'tls-config', name: 'bench CA', cert: '', key: '', ca: opts.tlsCaPath, certname: '', keyname: '', caname: '', servername: '', verifyservercert: false, alpnprotocol: '' }]
      : []),
    ...(full
      ? [
          { id: 'inspector', z: 'tab', type: 'mqttsec-tls-inspector', tls, timeout: opts.timeoutMs, checkVersions: true, checkCiphers: true, wires: [['sniffer']] },
          {
            id: 'sniffer', z: 'tab', type: 'mqttsec-topic-sniffer', auth: '', tls, listen: opts.listenSeconds ?? '', subscriptions: '#, $SYS/#',
            sampleChars: '', maxTopics: '', concurrency: opts.sniffConcurrency ?? '', writeTest: false, live: false, outputs: 1, wires: [['classifier']],
          },
          { id: 'classifier', z: 'tab', type: 'mqttsec-risk-classifier', rules: [], wires: [['sink']] },
        ]
      : []),
    { id: 'sink', z: 'tab', type: 'bench-sink', wires: [] },
    // Every error a node reports (done(err)) reaches the sink as msg.error: counted, not lost.
    { id: 'errors', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['sink']] },
  ];
}

/** Per node, by transport: when results reached it (first, median, last, ms after the inject). */
function traceSummary(rows: Array<Record<string, number>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kind of [0, 1]) {
    const mine = rows.filter((r) => r.tls === kind);
    for (const node of ['inspector', 'sniffer', 'classifier', 'sink']) {
      const at = mine.map((r) => r[node]).filter((x) => typeof x === 'number').sort((a, b) => a - b);
      if (at.length) out[`${kind ? 'tls' : 'tcp'}.${node}`] = `${at[0]} / ${at[at.length >> 1]} / ${at[at.length - 1]}`;
    }
  }
  return out;
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
