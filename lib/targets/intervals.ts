// Closed intervals of address keys (see address.ts): all counting and scope checks work on
// these, so a /8 costs one interval, never 16 million addresses.
//
// Hand-written, because ip-num 1.6.2 has no correct set algebra for arbitrary ranges
// (bench/targets-ipnum.ts prints each case):
// - Pool.aggregate() merges only CIDR-aligned ranges and throws on others ("Given size can't be
//   created via cidr prefix" for 10.0.0.1-10.0.0.20 with 10.0.0.15-10.0.0.30);
// - Pool.removeOverlapping() leaves 10.0.0.1-10.0.0.20 whole when 10.0.0.15-10.0.0.30 is removed,
//   and given a list, puts the removed range into the pool;
// - RangedSet.difference() takes only a range inside this one, and has no intersection;
// - nothing gives each address to the first of several lists (assignOwners).
// Where it does work it is slower and bigger: 10.0.0.0/8 minus 5,000 addresses, chaining
// RangedSet.difference over the sorted exclusions, takes 26-32 ms against 1-2 ms here, and a
// RangedSet of two IPv4s holds 695 bytes of heap against 90-104 for {start, end}.

export interface Interval {
  start: bigint;
  end: bigint; // inclusive
}

function byStart(a: Interval, b: Interval): number {
  return a.start < b.start ? -1 : a.start > b.start ? 1 : 0;
}

/** Sorted, disjoint, non-adjacent copy of `list`. */
export function mergeIntervals(list: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  for (const iv of [...list].sort(byStart)) {
    const last = out[out.length - 1];
    if (last && iv.start <= last.end + 1n) {
      if (iv.end > last.end) last.end = iv.end;
    } else {
      out.push({ start: iv.start, end: iv.end });
    }
  }
  return out;
}

/** a minus b; both merged. */
export function subtractIntervals(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  let j = a.length > 0 ? firstEndingAtOrAfter(b, a[0].start) : 0;
  for (const iv of a) {
    let start = iv.start;
    while (j < b.length && b[j].end < start) j++;
    for (let k = j; k < b.length && b[k].start <= iv.end && start <= iv.end; k++) {
      if (b[k].start > start) out.push({ start, end: b[k].start - 1n });
      if (b[k].end + 1n > start) start = b[k].end + 1n;
    }
    if (start <= iv.end) out.push({ start, end: iv.end });
  }
  return out;
}

// Binary search: a single address checked against thousands of exclusions stays cheap.
function firstEndingAtOrAfter(list: readonly Interval[], key: bigint): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].end < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** a ∩ b; both merged. */
export function intersectIntervals(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    const start = a[i].start > b[j].start ? a[i].start : b[j].start;
    const end = a[i].end < b[j].end ? a[i].end : b[j].end;
    if (start <= end) out.push({ start, end });
    if (a[i].end < b[j].end) i++;
    else j++;
  }
  return out;
}

export function intervalsSize(list: readonly Interval[]): bigint {
  let n = 0n;
  for (const iv of list) n += iv.end - iv.start + 1n;
  return n;
}

/**
 * Gives every key to the earliest group that contains it, unless `blocked` contains it.
 * Returns, per group, the merged intervals it owns. One sweep over the sorted endpoints with a
 * min-heap of active groups: O(m log m) in the number of intervals, whatever their sizes.
 */
export function assignOwners(groups: readonly (readonly Interval[])[], blocked: readonly Interval[]): Interval[][] {
  const BLOCKED = -1;
  const events: { at: bigint; owner: number; delta: number }[] = [];
  const add = (iv: Interval, owner: number): void => {
    events.push({ at: iv.start, owner, delta: 1 }, { at: iv.end + 1n, owner, delta: -1 });
  };
  blocked.forEach((iv) => add(iv, BLOCKED));
  groups.forEach((list, owner) => list.forEach((iv) => add(iv, owner)));
  events.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));

  const out: Interval[][] = groups.map(() => []);
  const active = new Int32Array(groups.length + 1); // index owner + 1
  const heap = new MinHeap();
  for (let e = 0; e < events.length; ) {
    const at = events[e].at;
    for (; e < events.length && events[e].at === at; e++) {
      const { owner, delta } = events[e];
      if (delta > 0 && active[owner + 1]++ === 0) heap.push(owner);
      if (delta < 0) active[owner + 1]--;
    }
    while (heap.size > 0 && active[heap.peek() + 1] === 0) heap.pop();
    if (heap.size === 0 || heap.peek() === BLOCKED || e === events.length) continue;
    const owned = out[heap.peek()];
    const last = owned[owned.length - 1];
    const end = events[e].at - 1n;
    if (last && last.end + 1n === at) last.end = end;
    else owned.push({ start: at, end });
  }
  return out;
}

class MinHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): number {
    return this.items[0];
  }

  push(value: number): void {
    const a = this.items;
    let i = a.push(value) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent] <= value) break;
      a[i] = a[parent];
      i = parent;
    }
    a[i] = value;
  }

  pop(): void {
    const a = this.items;
    const last = a.pop() as number;
    if (a.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= a.length) break;
      const c = l + 1 < a.length && a[l + 1] < a[l] ? l + 1 : l;
      if (a[c] >= last) break;
      a[i] = a[c];
      i = c;
    }
    a[i] = last;
  }
}
