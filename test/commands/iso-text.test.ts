// The shell's remembered-prefix ISO formatter gives exactly toIso's text, for any millisecond.
import fc from 'fast-check';
import t from 'tap';
import { isoFormatter } from '../../src/commands/iso-text.js';
import { toIso } from '../../src/domain/time.js';

t.test('isoFormatter: the same text as toIso, across seconds, years and the cache being cleared', async (t) => {
  const iso = isoFormatter(4);
  fc.assert(fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (ms) => iso(ms) === toIso(ms)), { numRuns: 5000 });
  const base = Date.UTC(2026, 0, 1, 23, 59, 59, 990);
  for (let ms = base; ms < base + 30; ms++) t.equal(iso(ms), toIso(ms), `${ms}: across a midnight`);
  t.equal(iso(5), '1970-01-01T00:00:00.005Z');
  t.equal(iso(-1), '1969-12-31T23:59:59.999Z');
  t.throws(() => iso(Number.NaN), RangeError, 'what toIso refuses, it refuses');
  t.equal(iso(1.5), toIso(1.5), 'a fraction goes to toIso');
});
