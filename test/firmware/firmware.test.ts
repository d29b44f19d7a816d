// The ESP32 firmware on the host: its C++ payload unit and tests built with g++ -Werror,
// its bytes compared with lib/sniff/lab-device.ts, and the sketch itself run against fakes.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as lab from '../../lib/sniff/lab-device';
import { PLACEHOLDER, scanText, scanTree } from './secret-scan';

const FW = resolve(__dirname, '../../firmware');
const SKETCH = join(FW, 'esp32_mixed_security');
const TESTS = join(FW, 'test');
const STUBS = join(TESTS, 'stubs');
const CXXFLAGS = ['-std=c++17', '-Wall', '-Wextra', '-Werror'];
// LeakSanitizer needs ptrace, which some containers forbid; overruns are what we are after.
const RUN_ENV = { ...process.env, ASAN_OPTIONS: 'detect_leaks=0' };

interface Run { code: number | null; stdout: string; stderr: string }

function run(cmd: string, args: string[], input?: string): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { env: RUN_ENV, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
    child.stdin?.on('error', () => undefined); // a reader that exits early is reported by its exit code
    child.stdin?.end(input);
  });
}

async function gpp(args: string[]): Promise<void> {
  const r = await run('g++', args);
  if (r.code !== 0) throw new Error(`g++ ${args.join(' ')}\n${r.stderr}`);
}

function hasGpp(): boolean {
  return !spawnSync('g++', ['--version']).error;
}

/** A host without g++ skips loudly; CI must have it. */
function requireGpp(ctx: Mocha.Context): void {
  if (hasGpp()) return;
  if (process.env.CI === 'true') throw new Error('g++ is required under CI=true for the firmware tests');
  console.warn('\n  !!! g++ not found: SKIPPING the firmware host build tests (install g++ to run them) !!!\n');
  ctx.skip();
}

let sanitizers: string[] | undefined;
async function sanitizerFlags(dir: string): Promise<string[]> {
  if (sanitizers) return sanitizers;
  const src = join(dir, 'probe.cpp');
  writeFileSync(src, 'int main() { return 0; }\n');
  const flags = ['-fsanitize=address,undefined', '-fno-sanitize-recover=undefined'];
  const r = await run('g++', [...flags, src, '-o', join(dir, 'probe')]);
  sanitizers = r.code === 0 ? flags : [];
  return sanitizers;
}

/** The sketch folder in dir, with secrets.h made from the committed example. */
function copySketch(dir: string, tlsInsecure: boolean): string {
  const out = mkdtempSync(join(dir, 'sketch-'));
  for (const f of readdirSync(SKETCH)) if (f !== 'secrets.h') copyFileSync(join(SKETCH, f), join(out, f));
  const example = readFileSync(join(SKETCH, 'secrets.example.h'), 'utf8');
  const secrets = example.replace(/#define LAB_TLS_INSECURE 0/, `#define LAB_TLS_INSECURE ${tlsInsecure ? 1 : 0}`);
  assert.notEqual(secrets.includes('LAB_TLS_INSECURE 1'), !tlsInsecure, 'secrets.example.h lost LAB_TLS_INSECURE');
  writeFileSync(join(out, 'secrets.h'), secrets);
  return out;
}

// Exact text for a double that strtod reads back to the same value.
const num = (v: number): string => (Object.is(v, -0) ? '-0' : String(v));

interface DumpLine { cmd: string; rc: number; out: string | null }

function orNull<T>(f: () => T): T | null {
  try {
    return f();
  } catch {
    return null;
  }
}

function seeded(seed: number): lab.Rng {
  // mulberry32: small, deterministic, good enough for test data.
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('firmware: C++ payload unit (g++ host build)', function () {
  this.timeout(120000);
  let dir = '';
  let dumpBin = '';
  let testBin = '';

  before(async function () {
    requireGpp(this);
    dir = mkdtempSync(join(tmpdir(), 'lab-fw-'));
    const san = await sanitizerFlags(dir);
    const common = [...CXXFLAGS, ...san, '-I', SKETCH, join(SKETCH, 'lab_payloads.cpp')];
    testBin = join(dir, 'test_lab_payloads');
    dumpBin = join(dir, 'dump_payloads');
    await Promise.all([
      gpp([...common, join(TESTS, 'test_lab_payloads.cpp'), '-o', testBin]),
      gpp([...common, join(TESTS, 'dump_payloads.cpp'), '-o', dumpBin]),
    ]);
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the C++ builders for each case and lists every byte difference from lib/sniff/lab-device. */
  async function compare(cases: { cmd: string; want: string | null }[]): Promise<DumpLine[]> {
    const r = await run(dumpBin, [], cases.map((c) => c.cmd).join('\n') + '\n');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as DumpLine);
    assert.equal(lines.length, cases.length);
    const diffs: string[] = [];
    cases.forEach((c, i) => {
      const got = lines[i];
      const rcOk = got.out === null ? got.rc === -1 : got.rc === Buffer.byteLength(got.out);
      if (got.cmd !== c.cmd || got.out !== c.want || !rcOk)
        diffs.push(`${c.cmd}: C++ ${JSON.stringify(got.out)} (rc ${got.rc}), TS ${JSON.stringify(c.want)}`);
    });
    assert.deepEqual(diffs.slice(0, 20), [], `${diffs.length} of ${cases.length} differ`);
    return lines;
  }

  it('passes its own C++ tests', async () => {
    const r = await run(testBin, []);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /lab_payloads: [1-9]\d* passed, 0 failed/);
  });

  it('has the same constants as lib/sniff/lab-device', async () => {
    const r = await run(dumpBin, [], 'consts\n');
    assert.deepEqual(JSON.parse(r.stdout), {
      interval_ms: lab.PUBLISH_INTERVAL_MS,
      qos: lab.PUBLISH_QOS,
      will_qos: lab.STATUS_WILL_QOS,
      retain: lab.PUBLISH_RETAIN,
      secure_port: lab.BROKER_PORTS.secure,
      insecure_port: lab.BROKER_PORTS.insecure,
      pin_dht: lab.PINS.dht,
      pin_ldr: lab.PINS.ldr,
      pin_pir: lab.PINS.pir,
      adc_max: lab.ADC_MAX,
      temp_min: lab.DHT11_LIMITS.temperature.min,
      temp_max: lab.DHT11_LIMITS.temperature.max,
      hum_min: lab.DHT11_LIMITS.humidity.min,
      hum_max: lab.DHT11_LIMITS.humidity.max,
      device_id_max: lab.DEVICE_ID_MAX,
    });
  });

  it('formats one decimal like formatTenths: ties, negatives, limits, non-finite', async () => {
    const edge = [
      0, -0, 0.05, 0.15, 0.25, 0.35, 0.45, -0.05, -0.15, -0.25, -0.04, 0.04, 28.15, 28.25, 1.005, 2.675,
      0.049999999999999996, 12.349999999999998, -12.25, 999999.95, 1e6, -1e6, 1e6 + 0.1, -1e6 - 0.1, 1e-300,
      5e-324, NaN, Infinity, -Infinity,
    ];
    const rng = seeded(7);
    const random = Array.from({ length: 2000 }, () => (rng() - 0.5) * 200);
    const hundredths = Array.from({ length: 2001 }, (_, i) => (i - 1000) / 100); // every x.x5 in -10..10
    const values = [...edge, ...random, ...hundredths];
    await compare(values.map((v) => ({ cmd: `tenths ${num(v)}`, want: lab.formatTenths(v) })));
  });

  it('builds DHT payloads like buildDhtPayload: rounding, limits, NaN rejected', async () => {
    const table: [number, number][] = [
      [28.5, 65], [28.15, 65], [28.05, 40], [28.25, 55.55], [0.05, 20.15], [0.15, 20.25], [0.25, 20.35],
      [12.35, 33.65], [0, 20], [50, 90], [49.95, 89.95], [49.96, 89.96], [Math.fround(28.1), Math.fround(64)],
      [50.04, 65], [-0.1, 65], [-5, 65], [-0, 20], [25, 19.9], [25, 90.01], [NaN, 65], [25, NaN], [NaN, NaN],
      [Infinity, 65], [-Infinity, 65],
    ];
    // Every temperature and humidity step of 0.05 across (and just beyond) the DHT11 range.
    for (let i = -2; i <= 1002; i++) table.push([i / 20, 20 + ((i * 7) % 1400) / 20]);
    for (let i = 0; i <= 1000; i++) table.push([i * 0.05, 90 - i * 0.05]);
    const lines = await compare(table.map(([t, h]) => ({ cmd: `dht ${num(t)} ${num(h)}`, want: lab.buildDhtPayload(t, h) })));
    assert.ok(lines.some((l) => l.out === null) && lines.some((l) => l.out !== null));
  });

  it('builds light payloads like buildLightPayload for every ADC value, and rejects out of range', async () => {
    const raws = [-1, -4096, 4096, 65535, ...Array.from({ length: 4096 }, (_, i) => i)];
    await compare(raws.map((r) => ({ cmd: `ldr ${r}`, want: lab.buildLightPayload(r) })));
  });

  it('builds motion and status payloads like lib/sniff/lab-device', async () => {
    await compare([
      { cmd: 'pir 1', want: lab.buildMotionPayload(true) },
      { cmd: 'pir 0', want: lab.buildMotionPayload(false) },
      { cmd: 'status 1', want: lab.buildStatusPayload(true) },
      { cmd: 'status 0', want: lab.buildStatusPayload(false) },
    ]);
  });

  it('returns -1 (and writes nothing past n) when the buffer is too small', async () => {
    const payloads: [string, string][] = [
      ['dht', '28.5 65'], ['dht', '50 90'], ['ldr', '4095'], ['pir', '0'], ['status', '0'], ['tenths', '-1000000'],
    ];
    const cases: { cmd: string; want: string | null }[] = [];
    for (const [kind, args] of payloads) {
      const [a, b] = args.split(' ').map(Number);
      const full = kind === 'dht' ? lab.buildDhtPayload(a, b)
        : kind === 'ldr' ? lab.buildLightPayload(a)
        : kind === 'pir' ? lab.buildMotionPayload(a === 1)
        : kind === 'status' ? lab.buildStatusPayload(a === 1)
        : lab.formatTenths(a);
      assert.ok(full);
      for (const n of [0, 1, full.length - 1, full.length, full.length + 1, 128])
        cases.push({ cmd: `${kind}@${n} ${args}`, want: n > full.length ? full : null });
    }
    await compare(cases);
  });

  it('builds device ids, client ids and topics like lib/sniff/lab-device', async () => {
    const macs = [0n, 1n, 0xf0e1d2c3b4a5n, 0xffffffffffffn, 0xabcd00000000beefn];
    const ids = ['esp32-a5b4c3d2e1f0', 'lab01', 'a', 'x'.repeat(21), 'x'.repeat(22), 'a/b', '+', '#', 'é', 'bad$'];
    const cases: { cmd: string; want: string | null }[] = macs.map((m) => ({
      cmd: `devid ${m.toString(16)}`, want: lab.deviceIdFromMac(m),
    }));
    for (const id of ids) {
      for (const b of ['secure', 'insecure'] as const) {
        cases.push({ cmd: `client ${b} ${id}`, want: orNull(() => lab.clientId(id, b)) });
        cases.push({ cmd: `status_topic ${b} ${id}`, want: orNull(() => lab.statusTopic(b, id)) });
      }
      for (const k of ['dht', 'ldr', 'pir'] as const)
        cases.push({ cmd: `topic ${k} ${id}`, want: orNull(() => lab.sensorTopic(k, id)) });
    }
    await compare(cases);
  });

  it('the simulated device publishes exactly the topics and payload bytes the firmware builds', async () => {
    const id = lab.deviceIdFromMac(0xf0e1d2c3b4a5n);
    const rng = seeded(42);
    const cases: { cmd: string; want: string | null }[] = [];
    const topics = new Set<string>();
    let prev: Partial<Record<lab.SensorKind, lab.SensorReading>> = {};
    for (let tick = 0; tick < 300; tick++) {
      const next: Partial<Record<lab.SensorKind, lab.SensorReading>> = {};
      for (const kind of ['dht', 'ldr', 'pir'] as const) {
        const r = lab.simulateReading(kind, rng, prev[kind]);
        next[kind] = r;
        const msg = lab.readingMessage(id, r);
        assert.ok(msg, `simulator produced a reading the board would drop: ${JSON.stringify(r)}`);
        assert.match(msg.payload, lab.SENSOR_KINDS[kind].payloadPattern);
        topics.add(msg.topic);
        cases.push({ cmd: `topic ${kind} ${id}`, want: msg.topic });
        const args = r.kind === 'dht' ? `${num(r.temperature)} ${num(r.humidity)}` : r.kind === 'ldr' ? `${r.raw}` : r.motion ? '1' : '0';
        cases.push({ cmd: `${kind} ${args}`, want: msg.payload });
      }
      prev = next;
    }
    for (const b of ['secure', 'insecure'] as const)
      for (const online of [true, false]) {
        const msg = lab.statusMessage(b, id, online);
        topics.add(msg.topic);
        cases.push({ cmd: `status_topic ${b} ${id}`, want: msg.topic }, { cmd: `status ${online ? 1 : 0}`, want: msg.payload });
      }
    await compare(cases);
    assert.deepEqual([...topics].sort(), lab.deviceTopics(id).map((t) => t.topic).sort());
  });
});

interface Ev {
  ev: string;
  t: number;
  [k: string]: unknown;
}

describe('firmware: the sketch on the host (stub headers + fake hardware)', function () {
  this.timeout(120000);
  const id = lab.deviceIdFromMac(0xf0e1d2c3b4a5n); // the harness's fake eFuse MAC
  const port = lab.BROKER_PORTS;
  let dir = '';
  const logs: Record<'ca' | 'insecure', Ev[]> = { ca: [], insecure: [] };
  let log: Ev[] = [];

  before(async function () {
    requireGpp(this);
    dir = mkdtempSync(join(tmpdir(), 'lab-sketch-'));
    const san = await sanitizerFlags(dir);
    await Promise.all((['ca', 'insecure'] as const).map(async (mode) => {
      const src = copySketch(dir, mode === 'insecure');
      const bin = join(dir, `harness-${mode}`);
      await gpp([...CXXFLAGS.map((f) => (f === '-std=c++17' ? '-std=gnu++17' : f)), ...san, '-I', STUBS, '-I', src,
        '-include', 'Arduino.h', '-x', 'c++', join(src, 'esp32_mixed_security.ino'), '-x', 'none',
        join(TESTS, 'sketch_harness.cpp'), join(src, 'lab_payloads.cpp'), '-o', bin]);
      const r = await run(bin, []);
      assert.equal(r.code, 0, r.stderr);
      logs[mode] = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Ev);
    }));
    log = logs.ca;
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const of = (ev: string, evs = log): Ev[] => evs.filter((e) => e.ev === ev);
  const serial = (evs = log): string[] => of('serial', evs).map((e) => e.line as string);

  it('compiles with g++ -fsyntax-only against the stub headers, with and without LAB_TLS_INSECURE', async () => {
    for (const insecure of [false, true]) {
      const src = copySketch(dir, insecure);
      await gpp(['-std=gnu++17', '-fsyntax-only', '-Wall', '-Wextra', '-Werror', '-I', STUBS, '-I', src,
        '-include', 'Arduino.h', '-x', 'c++', join(src, 'esp32_mixed_security.ino')]);
    }
  });

  it('connects with a per-board client id, credentials only over TLS, and a retained offline will', () => {
    const connects = of('connect');
    assert.ok(connects.length >= 4);
    for (const c of connects) {
      const broker = c.port === port.secure ? 'secure' : 'insecure';
      const will = lab.statusMessage(broker, id, false);
      assert.equal(c.client, lab.clientId(id, broker));
      assert.deepEqual([c.willTopic, c.will, c.willQos, c.willRetain], [will.topic, will.payload, will.qos, will.retain]);
      if (broker === 'secure') assert.deepEqual([c.user, c.pass], ['your-mqtt-username', 'your-mqtt-password']);
      else assert.deepEqual([c.user, c.pass], [null, null], 'the insecure broker is the anonymous one');
      assert.equal(c.host, 'your-broker-host');
    }
    assert.deepEqual(new Set(connects.map((c) => c.port)), new Set([port.secure, port.insecure]));
  });

  it('publishes online (retained) first after every successful connect', () => {
    for (const c of of('connect').filter((e) => e.ok)) {
      const first = log.slice(log.indexOf(c) + 1).find((e) => e.ev === 'publish' && e.port === c.port);
      const online = lab.statusMessage(c.port === port.secure ? 'secure' : 'insecure', id, true);
      assert.deepEqual(first && [first.topic, first.payload, first.retain], [online.topic, online.payload, online.retain]);
    }
  });

  it('publishes exactly readingMessage() for each reading, and nothing for NaN or out of range', () => {
    const reads = [...of('dht_read'), ...of('adc_read')];
    assert.ok(reads.length >= 10);
    let dropped = 0;
    for (const r of reads) {
      const reading: lab.SensorReading = r.ev === 'dht_read'
        ? { kind: 'dht', temperature: (r.temperature as number | null) ?? NaN, humidity: (r.humidity as number | null) ?? NaN }
        : { kind: 'ldr', raw: r.raw as number };
      const want = lab.readingMessage(id, reading);
      const sent = of('publish').filter((p) => p.t === r.t && p.topic === lab.sensorTopic(reading.kind, id));
      if (want === null) {
        dropped++;
        assert.deepEqual(sent, [], `published an invalid reading at ${r.t}`);
      } else if (sent.length) {
        assert.deepEqual(sent.map((p) => [p.port, p.topic, p.payload, p.retain]),
          [[port[want.broker], want.topic, want.payload, want.retain]]);
      } else {
        assert.ok(serial().includes(`SECURE broker not connected, ${want.topic} not sent`), `no publish at ${r.t}`);
      }
    }
    assert.equal(dropped, 2, 'the script has one NaN and one out-of-range DHT read');
    assert.ok(serial().includes('DHT11 read failed (NaN), nothing published'));
    assert.ok(serial().includes('DHT11 reading out of range, nothing published'));
  });

  it('sends every message retained, to the broker of its topic, in the shape of its kind', () => {
    const topics = new Map(lab.deviceTopics(id).map((t) => [t.topic, t]));
    const pubs = of('publish');
    assert.ok(pubs.length > 40);
    for (const p of pubs) {
      const t = topics.get(p.topic as string);
      assert.ok(t, `unknown topic ${p.topic}`);
      assert.equal(p.port, port[t.broker]);
      assert.equal(p.retain, t.retain);
      const pattern = t.kind === 'status' ? lab.STATUS_PAYLOAD_PATTERN : lab.SENSOR_KINDS[t.kind].payloadPattern;
      assert.match(p.payload as string, pattern);
      assert.equal(p.connected, true, `published to ${p.topic} while disconnected`);
    }
    assert.deepEqual(new Set(pubs.map((p) => p.topic)), new Set(topics.keys()));
  });

  it('reads every 3000 ms and sends motion as soon as it changes', () => {
    const times = of('dht_read').map((e) => e.t);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    assert.ok(gaps.every((g) => g >= lab.PUBLISH_INTERVAL_MS), `gaps ${gaps}`);
    assert.equal(gaps.filter((g) => g === lab.PUBLISH_INTERVAL_MS).length, gaps.length - 1, 'only the Wi-Fi outage stretches a gap');
    const motion = of('publish').filter((p) => p.topic === lab.sensorTopic('pir', id));
    const at = (t: number) => motion.filter((p) => p.t === t).map((p) => p.payload);
    assert.deepEqual(at(4600), [lab.buildMotionPayload(true)], 'PIR rising edge at 4.6 s');
    assert.deepEqual(at(9200), [lab.buildMotionPayload(false)], 'PIR falling edge at 9.2 s');
  });

  it('retries Wi-Fi and each broker with growing backoff, never blocking loop()', () => {
    assert.deepEqual(of('delay').filter((e) => e.inLoop), [], 'delay() inside loop()');
    const insecure = of('connect').filter((c) => c.port === port.insecure && c.t >= 20000 && c.t < 40000);
    assert.deepEqual(insecure.map((c) => [c.t, c.ok]), [[20000, false], [22000, false], [26000, true]]);
    const secure = of('connect').filter((c) => c.port === port.secure);
    assert.deepEqual(secure.slice(0, 2).map((c) => [c.t, c.ok]), [[1500, false], [3500, true]]);
    assert.deepEqual(of('wifi_begin').map((e) => e.t), [0, 40000]);
  });

  it('prints the Serial messages of the lesson, in order', () => {
    const want = [
      'Device id: ' + id,
      'Connecting to WiFi... (your-wifi-ssid)',
      'WiFi connected!',
      'IP address: 192.0.2.10',
      'Connecting to SECURE broker (TLS)...',
      'SECURE connection failed (state 5), retrying in 2 s',
      'Connecting to INSECURE broker (plain TCP)...',
      'INSECURE connection established!',
      'SECURE connection established!',
      'Published temperature: 28.1 C, humidity: 64.0 % (SECURE, TLS)',
      'Published light: 2048 (50 %) (SECURE, TLS)',
      'Published motion: true (INSECURE, plain text)',
      'INSECURE connection lost (state -3)',
      'WiFi connection lost',
    ];
    const lines = serial();
    let from = 0;
    for (const w of want) {
      const i = lines.indexOf(w, from);
      assert.ok(i >= 0, `missing (in order): ${w}`);
      from = i + 1;
    }
  });

  it('pins the lab CA with setCACert; setInsecure only with LAB_TLS_INSECURE 1, and says so', () => {
    const example = readFileSync(join(SKETCH, 'secrets.example.h'), 'utf8');
    const ca = /LAB_CA_CERT\[\] = R"PEM\(([\s\S]*?)\)PEM"/.exec(example)?.[1];
    assert.deepEqual(of('tls', logs.ca).map((e) => [e.mode, e.ca]), [['ca', ca]]);
    assert.ok(serial(logs.ca).some((l) => l.includes('LAB_CA_CERT is still the placeholder')));
    assert.deepEqual(of('tls', logs.insecure).map((e) => e.mode), ['insecure']);
    assert.ok(serial(logs.insecure).some((l) => l.startsWith('WARNING: LAB_TLS_INSECURE')));
  });
});

describe('firmware: no committed credentials', () => {
  it('has no private key, PEM content or non-placeholder credential anywhere in firmware/', () => {
    assert.deepEqual(scanTree(FW), []);
  });

  it('secrets.example.h holds only placeholders for every setting the sketch reads', () => {
    const example = readFileSync(join(SKETCH, 'secrets.example.h'), 'utf8');
    for (const name of ['WIFI_SSID', 'WIFI_PASSWORD', 'BROKER_HOST', 'MQTT_USERNAME', 'MQTT_PASSWORD']) {
      const value = new RegExp(`^#define ${name} "([^"]*)"`, 'm').exec(example)?.[1];
      assert.ok(value !== undefined, `${name} missing`);
      assert.match(value, PLACEHOLDER, `${name} is not a placeholder`);
    }
    assert.match(example, /-----BEGIN CERTIFICATE-----\nPASTE [^\n]*\n-----END CERTIFICATE-----/);
    assert.match(example, /^#define LAB_TLS_INSECURE 0$/m);
  });

  it('secrets.h is ignored by git and not tracked', function () {
    const inRepo = spawnSync('git', ['-C', FW, 'rev-parse', '--is-inside-work-tree'], { encoding: 'utf8' });
    if (inRepo.status !== 0) this.skip();
    const ignored = spawnSync('git', ['-C', FW, 'check-ignore', '-q', 'esp32_mixed_security/secrets.h']);
    assert.equal(ignored.status, 0, 'firmware/**/secrets.h must be in .gitignore');
    const tracked = spawnSync('git', ['-C', FW, 'ls-files', '--', '.'], { encoding: 'utf8' });
    assert.deepEqual(tracked.stdout.split('\n').filter((f) => /(^|\/)secrets\.h$/.test(f)), []);
  });

  it('the scan catches planted credentials (so an empty result means something)', () => {
    const planted = [
      '#define MQTT_PASSWORD "hunter2"',
      'const char* wifi_pass = "correct horse";',
      '{"password": "s3cret"}',
      'mosquitto_pub --password \'student123\'',
      'WiFi.begin("HomeNet", WIFI_PASSWORD);',
      '-----BEGIN RSA PRIVATE KEY-----',
      '-----BEGIN CERTIFICATE-----\nMIIDazCCAlOgAwIBAgIUe0E3Q1Z3pE0a1V2b3c4d5e6f7g8wDQYJKoZIhvcNAQEL\n-----END CERTIFICATE-----',
    ];
    for (const text of planted) assert.equal(scanText('x', text).length, 1, text);
    const fine = ['#define MQTT_PASSWORD "your-mqtt-password"', 'mqtt-scan --password \'<password>\'', 'MQTT_PASSWORD,'];
    for (const text of fine) assert.deepEqual(scanText('x', text), [], text);
  });
});
