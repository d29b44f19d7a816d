// The package as a user gets it: `npm pack` of the built repository, installed into a temporary
// folder next to a fresh Node-RED, then used four ways: require() (and import), the mqtt-scan bin,
// the nodes in that Node-RED's own runtime, and the .d.ts with the repository's tsc.
//
// The folder is in the system's temp dir, not in the repository: Node looks for modules in every
// parent's node_modules, so inside the repository a dependency missing from our package.json
// would still be found in the repository's node_modules and this test could not see it.
//
// The install runs without the network: the repository's lockfile, cut down to our dependencies
// and node-red (./lockfile.ts), lets `npm ci` take every package from the npm cache, which holds
// them all because the repository's own `npm ci` put them there.
// Under CI that is required (--offline); on a developer machine whose cache misses something, npm
// may fetch it (--prefer-offline). Install scripts run as for a user (none of these packages has
// one today; `prepare` is not run for a package installed from a tarball).
//
// Node-RED is started from the temporary install with that folder as its userDir, the layout of
// `npm install <package>` in ~/.node-red: it finds our package in userDir/node_modules and loads the
// files named under "node-red".nodes itself. No node-red-node-test-helper here: the helper is
// handed node constructors by the test and so skips the discovery this test is about.
import { strict as assert } from 'node:assert';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto';
import { randomPassword } from '../../lab/passwords';
import { requireTool } from '../support/tools';
import { subsetLockfile, type LockEntry, type Lockfile } from './lockfile';

const ROOT = resolve(__dirname, '../..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string; version: string; license: string; main: string; types: string; bin: Record<string, string>;
  exports: Record<string, unknown>; dependencies: Record<string, string>; engines: Record<string, string>;
  'node-red': { nodes: Record<string, string> };
};
// The npm that runs these tests (npm test, npx mocha), else the first on PATH. Never the `npm` in
// node_modules/.bin that npm puts first on PATH for scripts: that is node-red's own npm 10 (a
// dependency of @node-red/registry), and it packs this repository in 25 s instead of 2.
const OUTER_NPM = process.env.npm_execpath && /npm-cli\.js$/.test(process.env.npm_execpath) ? process.env.npm_execpath : undefined;
const CHILD_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  PATH: (process.env.PATH ?? '').split(delimiter).filter((dir) => !/[\\/]node_modules[\\/]\.bin$/.test(dir)).join(delimiter),
};
function npm(args: string[], cwd: string, timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  return OUTER_NPM ? run(process.execPath, [OUTER_NPM, ...args], { cwd, timeoutMs }) : run('npm', args, { cwd, timeoutMs });
}
const LISTEN_S = 1;

/** One result, reduced to what the scan judged: the same broker must give the same verdict. */
interface Verdict {
  port: number;
  classification: string;
  level: string;
  findings: string[];
}

/** Runs a command to its end (bounded); rejects with its output when it fails. */
function run(cmd: string, args: string[], opts: { cwd: string; timeoutMs: number }): Promise<{ stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    execFile(cmd, args, { cwd: opts.cwd, timeout: opts.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, env: CHILD_ENV }, (err, stdout, stderr) => {
      if (err) rej(new Error(`in ${opts.cwd}: ${err.message}\n${stdout}`.slice(0, 8000))); // the message has the command and its stderr
      else res({ stdout, stderr });
    });
  });
}

function verdicts(results: Array<{ port: number; classification: string; risk?: { level: string }; findings?: Array<{ id: string }> }>): Verdict[] {
  return results
    .map((r) => ({ port: r.port, classification: r.classification, level: r.risk?.level ?? '(none)', findings: (r.findings ?? []).map((f) => f.id).sort() }))
    .sort((a, b) => a.port - b.port);
}

describe('package: the npm tarball, installed next to a fresh Node-RED', function () {
  this.timeout(60_000);
  let tmp: string;
  let app: string;
  let packed: { filename: string; integrity: string; size: number; unpackedSize: number; entryCount: number; files: Array<{ path: string }> };
  let open: MosquittoBroker;
  let locked: MosquittoBroker;
  let nodeRed: ChildProcess | undefined;
  let fromRequire: Verdict[];
  // Last resort (mocha's --exit, a crash): the Node-RED child is killed with this process.
  const killNodeRed = () => {
    if (nodeRed && nodeRed.exitCode === null && nodeRed.signalCode === null) nodeRed.kill('SIGKILL');
  };

  before(async function () {
    this.timeout(150_000);
    requireTool(this, 'mosquitto');
    process.on('exit', killNodeRed);
    for (const file of [PKG.main, PKG.types, ...Object.values(PKG['node-red'].nodes), ...Object.values(PKG.bin)]) {
      assert.ok(existsSync(join(ROOT, file)), `${file} is missing: run \`npm run build\` first (npm test does)`);
    }
    tmp = mkdtempSync(join(tmpdir(), 'mqttsec-pack-'));
    app = join(tmp, 'app');
    mkdirSync(app);
    // The brokers start while npm works: one anonymous, one that wants a password.
    const brokers = Promise.all([
      startMosquitto('insecure'),
      startMosquitto({ conf: 'listener 1883\nallow_anonymous false\n' }, { users: { student: randomPassword() } }),
    ]);
    brokers.catch(() => undefined);

    // --ignore-scripts: no `prepare` rebuild; the build npm test did is what gets packed.
    const { stdout } = await npm(['pack', '--ignore-scripts', '--no-update-notifier', '--json', '--pack-destination', tmp], ROOT, 60_000);
    packed = JSON.parse(stdout)[0];

    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as Lockfile;
    const tarball = `file:../${packed.filename}`;
    const deps = { [PKG.name]: tarball, 'node-red': lock.packages['node_modules/node-red'].version! };
    const ours: LockEntry = {
      version: PKG.version, resolved: tarball, integrity: packed.integrity, license: PKG.license,
      dependencies: PKG.dependencies, bin: PKG.bin, engines: PKG.engines,
    };
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'mqttsec-pack-test', version: '1.0.0', private: true, dependencies: deps }, null, 2));
    writeFileSync(join(app, 'package-lock.json'), JSON.stringify(subsetLockfile(lock, 'mqttsec-pack-test', deps, { [`node_modules/${PKG.name}`]: ours }), null, 2));
    const offline = process.env.CI === 'true' ? '--offline' : '--prefer-offline';
    await npm(['ci', offline, '--no-update-notifier', '--no-audit', '--no-fund', '--loglevel=error'], app, 120_000);

    [open, locked] = await brokers;
  });

  after(async function () {
    this.timeout(60_000); // removing ~10,000 installed files takes seconds, more on a busy disk
    if (nodeRed && nodeRed.exitCode === null && nodeRed.signalCode === null) {
      const exited = new Promise((res) => nodeRed!.once('exit', res));
      nodeRed.kill('SIGTERM');
      const timer = setTimeout(killNodeRed, 5000);
      await exited;
      clearTimeout(timer);
    }
    process.removeListener('exit', killNodeRed);
    await Promise.all([open?.stop(), locked?.stop()]);
    if (tmp) await rm(tmp, { recursive: true, force: true, maxRetries: 3 });
  });

  it('the tarball holds the build, the declarations, the nodes and the bin; nothing from test/, bench/ or lib/ sources', () => {
    const files = packed.files.map((f) => f.path);
    for (const file of [PKG.main, PKG.types, ...Object.values(PKG['node-red'].nodes), ...Object.values(PKG.bin), 'package.json', 'README.md']) {
      assert.ok(files.includes(file), `${file} is in the tarball`);
    }
    for (const node of Object.values(PKG['node-red'].nodes)) {
      assert.ok(files.includes(node.replace(/\.js$/, '.html')), `the editor HTML of ${node} is in the tarball`);
    }
    const stray = files.filter((f) => /^(test|bench|lib|nodes|cli|lab|scripts|docker|firmware)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')));
    assert.deepEqual(stray, [], 'no test, bench or TypeScript source in the tarball');
    assert.ok(packed.size < 1_000_000, `tarball is ${packed.size} bytes`);
  });

  it('require() and import give the API from the install; only "." and "./package.json" are exported', async () => {
    const script = `
      const api = require(${JSON.stringify(PKG.name)});
      let deep;
      try { require(${JSON.stringify(`${PKG.name}/dist/lib/targets`)}); deep = 'loaded'; } catch (e) { deep = e.code; }
      console.log(JSON.stringify({
        from: require.resolve(${JSON.stringify(PKG.name)}),
        runScan: typeof api.runScan, planTargets: typeof api.planTargets, classifyResult: typeof api.classifyResult, buildReport: typeof api.buildReport,
        version: require(${JSON.stringify(`${PKG.name}/package.json`)}).version,
        deep,
      }));`;
    const got = JSON.parse((await run(process.execPath, ['-e', script], { cwd: app, timeoutMs: 20_000 })).stdout);
    assert.equal(got.from, join(app, 'node_modules', PKG.name, PKG.main), 'resolved from the temporary install');
    assert.deepEqual([got.runScan, got.planTargets, got.classifyResult, got.buildReport], ['function', 'function', 'function', 'function']);
    assert.equal(got.version, PKG.version);
    assert.equal(got.deep, 'ERR_PACKAGE_PATH_NOT_EXPORTED', 'layer folders are not part of the API');
    const esm = `import { runScan, RULES } from ${JSON.stringify(PKG.name)}; console.log(typeof runScan, RULES.length > 0);`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', esm], { cwd: app, timeoutMs: 20_000 });
    assert.equal(stdout.trim(), 'function true', 'named imports from ESM');
  });

  it('runScan through require() gives each broker its verdict, and the mqtt-scan bin gives the same', async () => {
    const script = `
      const { runScan } = require(${JSON.stringify(PKG.name)});
      runScan({ targets: '127.0.0.1', ports: [${open.port}, ${locked.port}], timeoutMs: 2000, listenMs: ${LISTEN_S * 1000} })
        .then((out) => console.log(JSON.stringify(out.results)), (err) => { console.error(err); process.exit(1); });`;
    fromRequire = verdicts(JSON.parse((await run(process.execPath, ['-e', script], { cwd: app, timeoutMs: 30_000 })).stdout));
    assert.deepEqual(fromRequire.map((v) => v.port), [open.port, locked.port].sort((a, b) => a - b), 'one result per broker');
    const anonymous = fromRequire.find((v) => v.port === open.port)!;
    assert.equal(anonymous.classification, 'open_or_auth_ok', JSON.stringify(anonymous));
    assert.equal(anonymous.level, 'CRITICAL');
    assert.ok(anonymous.findings.includes('ANONYMOUS_ACCESS') && anonymous.findings.includes('PLAINTEXT_TRANSPORT'), JSON.stringify(anonymous));
    const refusing = fromRequire.find((v) => v.port === locked.port)!;
    assert.equal(refusing.classification, 'not_authorized', JSON.stringify(refusing));
    assert.ok(!refusing.findings.includes('ANONYMOUS_ACCESS') && refusing.level !== 'CRITICAL', JSON.stringify(refusing));

    const bin = join(app, 'node_modules', '.bin', 'mqtt-scan');
    const { stdout } = await run(bin, ['--target', '127.0.0.1', '--ports', `${open.port},${locked.port}`, '--listen', String(LISTEN_S), '--json'], { cwd: app, timeoutMs: 30_000 });
    assert.deepEqual(verdicts(JSON.parse(stdout)), fromRequire, 'mqtt-scan from the install');
  });

  it("Node-RED from the install loads our nodes, and a flow from the expander to the risk classifier gives runScan's verdicts", async function () {
    this.timeout(60_000);
    assert.ok(fromRequire, 'needs the runScan verdicts of the test before');
    const out = join(tmp, 'flow-output.jsonl');
    // Ids differ from every type name, and every node has x/y: Node-RED takes a node without a
    // position for a configuration node, and a property equal to a node's id for a reference.
    const wired = [
      { id: 'n-start', type: 'inject', once: true, onceDelay: 0.1, repeat: '', props: [{ p: 'payload' }], payload: '', payloadType: 'date', wires: [['n-exp']] },
      { id: 'n-exp', type: 'mqttsec-target-expander', targets: '127.0.0.1', ports: `${open.port},${locked.port}`, maxTargets: 16, batchSize: 256, allowPublic: false, wires: [['n-probe']] },
      { id: 'n-probe', type: 'mqttsec-broker-probe', auth: '', timeout: 2000, concurrency: 8, probeConcurrency: 4, transport: 'auto', versions: 'both', tlsPorts: '443,8081,8084,8443,8883-8887', emitUnreachable: false, wires: [['n-tls']] },
      { id: 'n-tls', type: 'mqttsec-tls-inspector', timeout: 2000, checkVersions: true, checkCiphers: true, wires: [['n-sniff']] },
      { id: 'n-sniff', type: 'mqttsec-topic-sniffer', auth: '', listen: LISTEN_S, subscriptions: '#, $SYS/#', sampleChars: 100, maxTopics: 500, concurrency: 8, writeTest: false, live: false, outputs: 1, wires: [['n-risk']] },
      { id: 'n-risk', type: 'mqttsec-risk-classifier', rules: [], wires: [['n-record']] },
      { id: 'n-record', type: 'function', func: 'msg.payload = { complete: msg.complete === true, payload: msg.payload, error: msg.error ? String(msg.error.message) : undefined };\nreturn msg;', outputs: 1, libs: [], wires: [['n-file']] },
      { id: 'n-file', type: 'file', filename: out, filenameType: 'str', appendNewline: true, createDir: false, overwriteFile: 'false', encoding: 'utf8', wires: [] },
      { id: 'n-catch', type: 'catch', scope: null, uncaught: false, wires: [['n-record']] },
    ];
    const flow = [{ id: 'n-tab', type: 'tab', label: 'pack test' }, ...wired.map((n, i) => ({ ...n, z: 'n-tab', x: 100 + 150 * i, y: 100 }))];
    writeFileSync(join(app, 'flows.json'), JSON.stringify(flow, null, 2));
    // Headless (no HTTP at all, so no port), no telemetry; userDir is the install folder.
    writeFileSync(join(app, 'settings.js'), `module.exports = ${JSON.stringify({
      flowFile: 'flows.json', credentialSecret: false, httpAdminRoot: false, httpNodeRoot: false,
      telemetry: { enabled: false }, logging: { console: { level: 'info', metrics: false, audit: false } },
    }, null, 2)};\n`);

    let log = '';
    nodeRed = spawn(process.execPath, [join(app, 'node_modules', 'node-red', 'red.js'), '--userDir', app], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => { log = (log + chunk.toString('utf8')).slice(-200_000); };
    nodeRed.stdout!.on('data', keep);
    nodeRed.stderr!.on('data', keep);

    // Only whole lines: the file node may be half-way through writing the last one.
    const lines = (): Array<{ complete: boolean; payload: Record<string, unknown>; error?: string }> => {
      const text = existsSync(out) ? readFileSync(out, 'utf8') : '';
      return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    };
    // A node file that fails to load is a warning naming the module, and a flow using its type
    // waits for it forever: both end the wait at once.
    const failed = /\[error\]|\[warn\].*(mqttsec|[Mm]issing)|Waiting for missing types/;
    for (const deadline = Date.now() + 45_000; !lines().some((l) => l.complete); await new Promise((r) => setTimeout(r, 200))) {
      assert.doesNotMatch(log, failed, `Node-RED did not load or run every node:\n${log}`);
      if (nodeRed.exitCode !== null) assert.fail(`Node-RED exited (${nodeRed.exitCode}):\n${log}`);
      if (Date.now() > deadline) assert.fail(`no completion from the flow within 45 s; output ${JSON.stringify(lines()).slice(0, 2000)}\nlog:\n${log}`);
    }
    assert.doesNotMatch(log, failed, `Node-RED did not load or run every node:\n${log}`);
    const got = lines();
    assert.deepEqual(got.filter((l) => l.error !== undefined).map((l) => l.error), [], 'nothing reached the Catch node');
    const results = got.filter((l) => !l.complete).map((l) => l.payload as unknown as { port: number; classification: string; risk?: { level: string }; findings?: Array<{ id: string }> });
    assert.deepEqual(verdicts(results), fromRequire, 'the flow and runScan agree on both brokers');
    const done = got.find((l) => l.complete)!.payload as { riskSummary?: { results: number } };
    assert.equal(done.riskSummary?.results, 2, 'the classifier summarised both results');
  });

  it('the declarations resolve: a TypeScript file importing the package type-checks with the repository\'s tsc', async () => {
    writeFileSync(join(app, 'consumer.ts'), [
      `import { runScan, classifyResult, type ScanOutput, type ScanResult } from '${PKG.name}';`,
      '',
      'export async function worst(): Promise<string> {',
      "  const out: ScanOutput = await runScan({ targets: '127.0.0.1', ports: [1883], timeoutMs: 1000 });",
      '  const first: ScanResult | undefined = out.results[0];',
      "  return first ? classifyResult(first).risk?.level ?? 'none' : 'none';",
      '}',
      '',
      'export async function misspelt(): Promise<void> {',
      '  // @ts-expect-error: an unknown option is refused, so the types are real and not `any`',
      "  await runScan({ target: '127.0.0.1' });",
      '}',
      '',
    ].join('\n'));
    // node16 resolution reads "exports" (its "types" condition); skipLibCheck off checks our .d.ts too.
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, skipLibCheck: false, target: 'ES2022', module: 'node16', moduleResolution: 'node16',
        types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')],
      },
      files: ['consumer.ts'],
    }, null, 2));
    await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(app, 'tsconfig.json')], { cwd: app, timeoutMs: 60_000 });
    assert.equal((PKG.exports['.'] as { types: string }).types, `./${PKG.types}`, '"types" and exports["."].types name the same file');
  });
});
