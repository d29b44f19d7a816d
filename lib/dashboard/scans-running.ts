// Which scans of the shipped flows are running, across flows: the dashboard's and the HTTP API's
// (global context key `mqttsecScansRunning`: scan id -> start, ms). The Lab controls refuse to
// change the lab while any of them runs, so that one scan sees one lab; each flow's own `running`
// or `pending` key is only seen by that flow.
import { record } from './read';
import type { ViewContext } from './types';

/** The global context entry that holds the marks. */
export const SCANS_RUNNING_ENTRY = 'mqttsecScansRunning';
/** A mark older than this (ms) no longer counts: its scan was lost (the dashboard's lock is as long). */
export const SCAN_MARK_MAX_MS = 15 * 60 * 1000;
/** Marks kept at most (a runaway caller cannot grow the global context). */
const MAX_MARKS = 256;

function marks(ctx: ViewContext, now: number): Record<string, number> {
  const all = record(ctx.global.get(SCANS_RUNNING_ENTRY));
  const fresh: Record<string, number> = {};
  for (const [id, at] of Object.entries(all)) if (typeof at === 'number' && now - at < SCAN_MARK_MAX_MS) fresh[id] = at;
  return fresh;
}

/** Marks scan `scanId` as running from `now` (ms). */
export function markScanRunning(ctx: ViewContext, scanId: string, now: number): void {
  const m = marks(ctx, now);
  const ids = Object.keys(m);
  if (ids.length >= MAX_MARKS) delete m[ids.sort((a, b) => m[a] - m[b])[0]];
  m[scanId] = now;
  ctx.global.set(SCANS_RUNNING_ENTRY, m);
}

/** Marks scan `scanId` as ended (done, failed, answered, interrupted). */
export function markScanDone(ctx: ViewContext, scanId: unknown, now: number): void {
  if (typeof scanId !== 'string') return;
  const m = marks(ctx, now);
  if (!(scanId in m)) return;
  delete m[scanId];
  ctx.global.set(SCANS_RUNNING_ENTRY, m);
}

/** Forgets every mark (the flows restarted: nothing they started runs any more). */
export function clearScanMarks(ctx: ViewContext): void {
  ctx.global.set(SCANS_RUNNING_ENTRY, {});
}

/** How many marked scans run at `now` (ms). */
export function scansRunning(ctx: ViewContext, now: number): number {
  return Object.keys(marks(ctx, now)).length;
}
