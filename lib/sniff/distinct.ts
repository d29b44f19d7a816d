// Counts distinct topics beyond the ones we keep, in a fixed 4 KiB (HyperLogLog, ~1.6% typical error):
// a flood of new topic names must not grow memory just to be counted.

const P = 12;
const M = 1 << P;
const ALPHA = 0.7213 / (1 + 1.079 / M);

export class DistinctCounter {
  private readonly registers = new Uint8Array(M);
  private any = false;

  add(s: string): void {
    const h = hash32(s);
    const index = h >>> (32 - P);
    const rest = (h << P) >>> 0;
    const rank = rest === 0 ? 32 - P + 1 : Math.clz32(rest) + 1;
    if (rank > this.registers[index]) this.registers[index] = rank;
    this.any = true;
  }

  estimate(): number {
    if (!this.any) return 0;
    let sum = 0;
    let zeros = 0;
    for (const r of this.registers) {
      sum += 2 ** -r;
      if (r === 0) zeros++;
    }
    const raw = (ALPHA * M * M) / sum;
    // Small counts: linear counting is far more accurate.
    return Math.round(raw <= 2.5 * M && zeros > 0 ? M * Math.log(M / zeros) : raw);
  }
}

/** FNV-1a over UTF-16 units, then murmur3's finalizer so every bit depends on every input bit. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
