// Time and identity come from outside the domain: production passes these, tests a virtual clock.
import { randomBytes } from 'node:crypto';

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to: tests and `simulate` drive it. */
export interface VirtualClock extends Clock {
  set(ms: number): void;
  advance(ms: number): number;
}

export function virtualClock(start = Date.UTC(2026, 0, 1)): VirtualClock {
  let current = start;
  return {
    now: () => current,
    set: (ms) => {
      current = ms;
    },
    advance: (ms) => (current += ms),
  };
}

export interface IdGenerator {
  /** A UUID; time-ordered (v7) so that ids index at the right edge of a B-tree. */
  next(): string;
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** UUIDv7 ids, monotonic within a process (RFC 9562 method 1: a 12-bit counter in rand_a). */
export function uuidV7Generator(clock: Clock = systemClock): IdGenerator {
  let pool = randomBytes(4096);
  let offset = 0;
  let lastMs = -1;
  let counter = 0;
  return {
    next() {
      let ms = clock.now();
      if (ms <= lastMs) {
        counter++;
        if (counter > 0xfff) {
          lastMs++;
          counter = 0;
        }
        ms = lastMs;
      } else {
        lastMs = ms;
        counter = 0;
      }
      if (offset + 8 > pool.length) {
        pool = randomBytes(4096);
        offset = 0;
      }
      const b = pool;
      const o = offset;
      offset += 8;
      const hi = Math.floor(ms / 0x10000);
      const t = hi.toString(16).padStart(8, '0') + (ms & 0xffff).toString(16).padStart(4, '0');
      const randA = (0x7000 | counter).toString(16);
      const variant = HEX[(b[o]! & 0x3f) | 0x80]! + HEX[b[o + 1]!]!;
      const tail = HEX[b[o + 2]!]! + HEX[b[o + 3]!]! + HEX[b[o + 4]!]! + HEX[b[o + 5]!]! + HEX[b[o + 6]!]! + HEX[b[o + 7]!]!;
      return `${t.slice(0, 8)}-${t.slice(8, 12)}-${randA}-${variant}-${tail}`;
    },
  };
}
