// A binary min-heap of session slots keyed by deadline, kept in typed arrays so that a million
// active sessions cost a few dozen bytes each and no garbage. Each slot is in the heap at most once
// (a position array finds it), so insert, lower, remove and pop are O(log n).
//
// Keys may be lazy: the heap only promises that a slot's key is not later than its true deadline.
// A heartbeat (which only ever moves a deadline later) then costs nothing here; the owner repairs
// a stale key when it reaches the top (see session-index.ts).

export interface DeadlineHeap {
  readonly size: number;
  /** Makes room for slots 0 .. capacity-1. */
  reserve(capacity: number): void;
  contains(slot: number): boolean;
  insert(slot: number, key: number): void;
  /** The slot's key, or NaN when it is not in the heap. */
  keyOf(slot: number): number;
  /** Lowers a slot's key (its deadline moved earlier). */
  lower(slot: number, key: number): void;
  /** Sets the top's key to a later value and restores the order. */
  raiseTop(key: number): void;
  remove(slot: number): void;
  /** The slot with the smallest key, or -1 when empty. */
  topSlot(): number;
  topKey(): number;
  pop(): number;
  /** Calls visit for every entry whose key is < bound, pruning whole subtrees at or above it. */
  forEachBelow(bound: number, visit: (slot: number, key: number) => void): void;
}

const ABSENT = -1;

export function createDeadlineHeap(initialCapacity = 1024): DeadlineHeap {
  let slots = new Int32Array(initialCapacity);
  let keys = new Float64Array(initialCapacity);
  let positions = new Int32Array(initialCapacity).fill(ABSENT);
  let size = 0;

  function place(index: number, slot: number, key: number): void {
    slots[index] = slot;
    keys[index] = key;
    positions[slot] = index;
  }

  function siftUp(index: number): void {
    const slot = slots[index]!;
    const key = keys[index]!;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (keys[parent]! <= key) break;
      place(index, slots[parent]!, keys[parent]!);
      index = parent;
    }
    place(index, slot, key);
  }

  function siftDown(index: number): void {
    const slot = slots[index]!;
    const key = keys[index]!;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= size) break;
      if (child + 1 < size && keys[child + 1]! < keys[child]!) child++;
      if (keys[child]! >= key) break;
      place(index, slots[child]!, keys[child]!);
      index = child;
    }
    place(index, slot, key);
  }

  function removeAt(index: number): void {
    const slot = slots[index]!;
    positions[slot] = ABSENT;
    size--;
    if (index === size) return;
    place(index, slots[size]!, keys[size]!);
    if (index > 0 && keys[index]! < keys[(index - 1) >> 1]!) siftUp(index);
    else siftDown(index);
  }

  function grow(capacity: number): void {
    const nextSlots = new Int32Array(capacity);
    nextSlots.set(slots.subarray(0, size));
    const nextKeys = new Float64Array(capacity);
    nextKeys.set(keys.subarray(0, size));
    const nextPositions = new Int32Array(capacity).fill(ABSENT);
    nextPositions.set(positions);
    slots = nextSlots;
    keys = nextKeys;
    positions = nextPositions;
  }

  return {
    get size() {
      return size;
    },
    reserve(capacity) {
      if (capacity > positions.length) grow(capacity);
    },
    contains: (slot) => slot < positions.length && positions[slot] !== ABSENT,
    insert(slot, key) {
      if (slot >= positions.length) grow(Math.max(slot + 1, positions.length * 2));
      if (positions[slot] !== ABSENT) throw new Error(`slot ${slot} is already in the deadline heap`);
      place(size, slot, key);
      size++;
      siftUp(size - 1);
    },
    keyOf(slot) {
      const index = slot < positions.length ? positions[slot]! : ABSENT;
      return index === ABSENT ? NaN : keys[index]!;
    },
    lower(slot, key) {
      const index = positions[slot]!;
      if (key >= keys[index]!) return;
      keys[index] = key;
      siftUp(index);
    },
    raiseTop(key) {
      if (key <= keys[0]!) return;
      keys[0] = key;
      siftDown(0);
    },
    remove(slot) {
      const index = slot < positions.length ? positions[slot]! : ABSENT;
      if (index !== ABSENT) removeAt(index);
    },
    topSlot: () => (size > 0 ? slots[0]! : ABSENT),
    topKey: () => (size > 0 ? keys[0]! : Infinity),
    pop() {
      if (size === 0) return ABSENT;
      const slot = slots[0]!;
      removeAt(0);
      return slot;
    },
    forEachBelow(bound, visit) {
      if (size === 0) return;
      const stack: number[] = [0];
      while (stack.length > 0) {
        const index = stack.pop()!;
        if (keys[index]! >= bound) continue;
        visit(slots[index]!, keys[index]!);
        const child = 2 * index + 1;
        if (child < size) stack.push(child);
        if (child + 1 < size) stack.push(child + 1);
      }
    },
  };
}
