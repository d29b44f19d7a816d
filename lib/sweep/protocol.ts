// Messages between the main thread and its sweep threads (shards.ts, worker.ts).
import type { Reachability } from '../types';

export type ToWorker =
  | { type: 'start'; concurrency: number; timeoutMs: number }
  | { type: 'chunk'; id: number; hosts: string[]; ports: Uint16Array }
  | { type: 'end' }
  | { type: 'cancel' };

export type FromWorker =
  /** Verdicts: entry i is target `index[i]` of chunk `chunk[i]`; errno lists [i, code]. */
  | { type: 'results'; chunk: Uint32Array; index: Uint32Array; code: Uint8Array; errno: Array<[number, string]> }
  | { type: 'done'; cancelled: boolean; concurrency: number };

export const REACHABILITY_CODES: Record<Reachability, number> = { open: 0, closed: 1, filtered: 2, error: 3 };
export const REACHABILITY_BY_CODE: Reachability[] = ['open', 'closed', 'filtered', 'error'];
