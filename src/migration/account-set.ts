// Which account ids a file has already named, in bounded memory: an open-addressing table of two
// 32-bit hashes per id (12 bytes a slot, at most half full), not a Set of a million strings.
// Two different ids would have to collide on 64 bits to be taken for one (about 1 in 10^7 for a
// million ids).
import { stableHash } from '../sweeper/shard.js';

export interface AccountSet {
  /** The line the id was first seen on, or 0 after recording it now. */
  firstLineOf(accountId: string, line: number): number;
  readonly size: number;
}

export function accountSet(initialCapacity = 1 << 16): AccountSet {
  let capacity = initialCapacity;
  let his = new Uint32Array(capacity);
  let los = new Uint32Array(capacity);
  let lines = new Uint32Array(capacity); // 0 = empty slot; line numbers start at 1
  let size = 0;

  function place(hi: number, lo: number, line: number): void {
    let slot = lo & (capacity - 1);
    while (lines[slot] !== 0) slot = (slot + 1) & (capacity - 1);
    his[slot] = hi;
    los[slot] = lo;
    lines[slot] = line;
  }

  function grow(): void {
    const [oldHis, oldLos, oldLines] = [his, los, lines];
    capacity *= 2;
    his = new Uint32Array(capacity);
    los = new Uint32Array(capacity);
    lines = new Uint32Array(capacity);
    for (let i = 0; i < oldLines.length; i++) if (oldLines[i] !== 0) place(oldHis[i]!, oldLos[i]!, oldLines[i]!);
  }

  return {
    firstLineOf(accountId, line) {
      const hi = stableHash(accountId);
      const lo = stableHash(accountId, 0, 0x9747b28c);
      for (let slot = lo & (capacity - 1); lines[slot] !== 0; slot = (slot + 1) & (capacity - 1)) {
        if (his[slot] === hi && los[slot] === lo) return lines[slot]!;
      }
      if ((size + 1) * 2 > capacity) grow();
      place(hi, lo, line);
      size++;
      return 0;
    },
    get size() {
      return size;
    },
  };
}
