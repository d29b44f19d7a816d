// More brokers than open files (issue 19): mqtt-scan in a child whose open-file limit is 256
// (`ulimit -n 256`) assesses 300 real Mosquitto listeners, every one of them, none reported closed
// or unreachable for want of descriptors; with a limit so low that connect() meets EMFILE, no
// broker gets a verdict built on it (closed, filtered, not MQTT): only "could not tell".
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { requireTool } from '../support/tools';
import { startMosquitto, type MosquittoBroker } from '../support/mosquitto';
import type { ScanResult } from '../../lib/types';

const CLI = resolve(__dirname, '../../dist/cli/index.js');
const LISTENERS = 300;

/** mqtt-scan under `ulimit -n <limit>`: its JSON results. Asynchronous: the broker's log pipe
 *  (test/support/mosquitto.ts) must keep draining while the scan runs. */
function scanUnder(limit: number, ports: number[]): Promise<{ code: number | null; results: ScanResult[]; stderr: string }> {
  const args = ['--target', '127.0.0.1', '--ports', ports.join(','), '--listen', '1', '--timeout', '2000', '--json'];
  const quoted = args.map((a) => `'${a}'`).join(' ');
  return new Promise((done, fail) => {
    const child = spawn('bash', ['-c', `ulimit -n ${limit} && exec "${process.execPath}" "${CLI}" ${quoted}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 110_000);
    child.once('error', fail);
    child.once('close', (code) => {
      clearTimeout(timer);
      let results: ScanResult[] = [];
      try {
        results = JSON.parse(Buffer.concat(out).toString('utf8')) as ScanResult[];
      } catch {
        // the assertions say what came out
      }
      done({ code, results, stderr });
    });
  });
}

describe('pipeline: more brokers than the open-file limit allows at once', function () {
  this.timeout(240_000);
  let broker: MosquittoBroker;

  before(async function () {
    requireTool(this, 'mosquitto');
    const conf = ['allow_anonymous true', 'per_listener_settings false', 'persistence false', 'log_type error', ...Array.from({ length: LISTENERS }, () => 'listener 1883')].join('\n');
    broker = await startMosquitto({ conf });
    assert.equal(broker.ports.length, LISTENERS);
  });
  after(async () => broker?.stop());

  it(`ulimit -n 256: all ${LISTENERS} brokers assessed and read, none closed or unreachable`, async function () {
    const r = await scanUnder(256, broker.ports);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.results.length, LISTENERS, r.stderr);
    const wrong = r.results.filter((x) => x.reachability !== 'open' || x.classification !== 'open_or_auth_ok' || x.error);
    assert.deepEqual(wrong.map((x) => `${x.port}: ${x.reachability} ${x.classification} ${x.error ?? ''}`), []);
    const unread = r.results.filter((x) => !x.topics || x.topics.error);
    assert.deepEqual(unread.map((x) => `${x.port}: ${x.topics?.error ?? 'no topics'}`), [], 'every broker was listened to');
    assert.ok(r.results.every((x) => x.findings?.some((f) => f.id === 'ANONYMOUS_ACCESS')));
  });

  it('ulimit -n 24 (EMFILE at connect()): no verdict is built on a missing descriptor', async function () {
    const r = await scanUnder(24, broker.ports.slice(0, 60));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.results.length, 60, r.stderr);
    for (const x of r.results) {
      const assessed = x.reachability === 'open' && x.classification === 'open_or_auth_ok';
      const couldNotTell = x.reachability === 'error' && /^could not tell: .*(EMFILE|ENFILE)/.test(x.error ?? '');
      assert.ok(assessed || couldNotTell, `${x.port}: ${x.reachability} ${x.classification} ${x.error ?? ''}`);
      // A listener that never got a descriptor says so; it never reads as a broker with no topics.
      if (x.topics?.error) assert.match(x.topics.error, /EMFILE|ENFILE|descriptor/);
    }
  });
});
