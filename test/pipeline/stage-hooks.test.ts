// assessTargets' stage hooks (lib/pipeline assess.ts), which runScan and, since the listener
// handoff, the broker probe node use: a hook that throws when a broker is established must not
// leave the scan waiting for ever. Against the lab's aedes broker (real, in-process).
import { strict as assert } from 'node:assert';
import { assessTargets, type StageHooks } from '../../lib/pipeline';
import { startAedes, type AedesBroker } from '../support/aedes';
import type { ScanResult, Target } from '../../lib/types';

/** Settles with `p`'s value, or 'still waiting' after `ms`: a hang shows as a failed assertion, not a mocha timeout. */
const within = <T>(p: Promise<T>, ms: number): Promise<T | 'still waiting'> =>
  Promise.race([p, new Promise<'still waiting'>((r) => setTimeout(() => r('still waiting'), ms).unref())]);

describe('pipeline: stage hooks of assessTargets', function () {
  this.timeout(30_000);
  let broker: AedesBroker;

  before(async () => {
    broker = await startAedes();
  });
  after(async () => {
    await broker.stop();
  });

  it('a start hook that throws: the broker is still assessed, its stages run after the probe (finish), and the scan ends', async () => {
    const finished: ScanResult[] = [];
    const stages: StageHooks = {
      start: () => {
        throw new Error('stage start failed');
      },
      finish: async (result, _signal, work) => {
        assert.equal(work, undefined, 'nothing was started for this broker');
        finished.push(result);
        return result;
      },
    };
    const results: ScanResult[] = [];
    const targets: Target[] = [{ host: '127.0.0.1', port: broker.port }];
    const run = assessTargets(targets[Symbol.iterator](), { scanId: 'stage-hooks', timeoutMs: 2000, stages, onResult: (r) => results.push(r) });
    const stats = await within(run, 15_000);
    assert.notEqual(stats, 'still waiting', 'the scan ended');
    assert.equal(results.length, 1);
    assert.equal(results[0].classification, 'open_or_auth_ok');
    assert.equal(finished.length, 1, 'finish ran once, after the probe');
  });
});
