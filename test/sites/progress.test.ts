// siteProgress: a coordinated scan's progress per site, as the coordinator node sends it and the
// lab's Sites panel shows it.
import { strict as assert } from 'node:assert';
import { siteProgress, type ShardReport } from '../../lib/sites';

const shard = (site: string, state: ShardReport['state'], size: number, swept?: number): ShardReport => ({
  site, shard: 0, targets: [], size, state, attempts: 1, failures: 0, results: 0, refusals: [], problems: [],
  ...(swept !== undefined ? { progress: { swept, open: 0, probed: 0, total: size } } : {}),
});

describe('sites: progress per site', () => {
  it('counts shards done, held and not done per site; a done shard counts whole, a held one as far as its holder swept, never past its size', () => {
    const got = siteProgress(
      [shard('north', 'done', 10, 3), shard('north', 'held', 8, 5), shard('north', 'held', 4, 99), shard('south', 'not_done', 6), shard('south', 'published', 2)],
      { north: 3, south: 2, east: 1 },
    );
    assert.deepEqual(got, {
      north: { shards: 3, done: 1, held: 2, notDone: 0, swept: 10 + 5 + 4, total: 22 },
      south: { shards: 2, done: 0, held: 0, notDone: 1, swept: 0, total: 8 },
      east: { shards: 1, done: 0, held: 0, notDone: 0, swept: 0, total: 0 },
    });
  });

  it('a site that was not planned still shows, with the shards seen', () => {
    assert.deepEqual(siteProgress([shard('west', 'done', 4)], {}), { west: { shards: 0, done: 1, held: 0, notDone: 0, swept: 4, total: 4 } });
  });
});
