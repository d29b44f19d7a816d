// How a coordinated scan goes, per site: what the coordinator node sends on its events output
// ({type: 'progress', sites}) and the lab dashboard's Sites panel shows.
import type { ShardReport } from './coordinator';

/** One site's part of a coordinated scan: shards and host:port pairs. */
export interface SiteProgress {
  /** Shards of the site, as planned (more once published, if the plan was not known). */
  shards: number;
  done: number;
  /** Held by an agent now. */
  held: number;
  /** Given up (no agent could do them). */
  notDone: number;
  /** host:port pairs swept, summed over the shards' last progress reports (a done shard counts whole). */
  swept: number;
  /** host:port pairs of the shards published so far. */
  total: number;
}

/**
 * Per site: its shards (`planned`, shards by site, as the coordinator planned them), done, held,
 * not done, and the host:port pairs swept of the total of the shards published so far.
 */
export function siteProgress(shards: Iterable<ShardReport>, planned: Record<string, number>): Record<string, SiteProgress> {
  const out: Record<string, SiteProgress> = {};
  for (const [site, count] of Object.entries(planned)) out[site] = { shards: count, done: 0, held: 0, notDone: 0, swept: 0, total: 0 };
  for (const sh of shards) {
    const p = (out[sh.site] ??= { shards: 0, done: 0, held: 0, notDone: 0, swept: 0, total: 0 });
    if (sh.state === 'done') p.done++;
    if (sh.state === 'held') p.held++;
    if (sh.state === 'not_done') p.notDone++;
    p.total += sh.size;
    p.swept += sh.state === 'done' ? sh.size : Math.min(sh.size, sh.progress?.swept ?? 0);
  }
  return out;
}
