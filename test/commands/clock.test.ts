// Time and ids come from outside: a virtual clock that moves only when told, and UUIDv7 ids that
// stay ordered even when the clock stands still or goes backwards.
import t from 'tap';
import { systemClock, uuidV7Generator, virtualClock } from '../../src/commands/clock.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

t.test('a virtual clock moves only when told to', async (t) => {
  const clock = virtualClock(1_000);
  t.equal(clock.now(), 1_000);
  t.equal(clock.now(), 1_000);
  t.equal(clock.advance(500), 1_500);
  clock.set(200);
  t.equal(clock.now(), 200, 'and may be set backwards, as a real clock may jump');
  t.equal(virtualClock().now(), Date.UTC(2026, 0, 1));
  t.ok(Math.abs(systemClock.now() - Date.now()) < 1_000);
});

t.test('ids are UUIDv7 carrying the clock time, and strictly increasing', async (t) => {
  const clock = virtualClock(Date.UTC(2026, 2, 1));
  const ids = uuidV7Generator(clock);
  const seen: string[] = [];
  for (let i = 0; i < 5_000; i++) {
    if (i % 1_000 === 0) clock.advance(1);
    if (i === 2_500) clock.set(Date.UTC(2025, 0, 1));
    seen.push(ids.next());
  }
  t.same(seen.filter((id) => !UUID_V7.test(id)), [], 'every id is a UUIDv7');
  const sorted = [...seen].sort();
  t.same(seen, sorted, 'sorted as generated, also after the clock went back by a year');
  t.equal(new Set(seen).size, seen.length, 'no duplicates within a millisecond (4,096 per ms, then borrowing the next)');
  const ms = parseInt(seen[0]!.replace(/-/g, '').slice(0, 12), 16);
  t.equal(ms, Date.UTC(2026, 2, 1) + 1, 'the first 48 bits are the clock time in ms');
});

t.test('two generators on one clock give different ids', async (t) => {
  const clock = virtualClock();
  const a = uuidV7Generator(clock);
  const b = uuidV7Generator(clock);
  const ids = new Set(Array.from({ length: 1_000 }, (_, i) => (i % 2 ? a : b).next()));
  t.equal(ids.size, 1_000);
});
