// The projection engine's account cache is least recently used: a busy account survives eviction,
// and an idle one is the one dropped (and read back from the file when it shows up again).
import { join } from 'node:path';
import t from 'tap';
import type { MiningRecord } from '../../src/commands/codec.js';
import { createEngine } from '../../src/projections/projector/engine.js';
import { openScratch } from '../../src/projections/read-model/schema.js';
import { SECOND, world } from './helpers.js';

t.test('a busy account inserted first survives eviction; the least recently used accounts go', async (t) => {
  const w = await world(t);
  const windows: bigint[] = [];
  // Window 1: busy starts (the oldest entry). Window 2: five idle accounts start, then busy beats.
  // Window 3: busy and idle-0 beat again.
  await w.run('busy', { type: 'start' });
  windows.push(await w.store.headPosition() as bigint);
  for (let i = 0; i < 5; i++) await w.run(`idle-${i}`, { type: 'start' });
  w.clock.advance(30 * SECOND);
  await w.run('busy', { type: 'heartbeat' });
  windows.push(await w.store.headPosition() as bigint);
  w.clock.advance(30 * SECOND);
  await w.run('busy', { type: 'heartbeat' });
  await w.run('idle-0', { type: 'heartbeat' });
  windows.push(await w.store.headPosition() as bigint);

  const events: MiningRecord[] = [];
  for await (const recorded of w.store.readAll()) events.push(recorded);
  const db = openScratch(join(w.dir, 'engine.db'));
  t.teardown(() => db.close());
  // 6 accounts against a limit of 5: a flush trims the cache to 4 (90 %).
  const engine = createEngine(db, { cacheLimit: 5 });
  let from = 0n;
  const eventsOf = (account: string) => (db.prepare('SELECT events FROM accounts WHERE account_id = ?').get(account) as { events: bigint }).events;
  for (const [i, until] of windows.entries()) {
    engine.apply(events.filter((e) => e.position > from && e.position <= until));
    engine.flush();
    from = until;
    if (i === 1) {
      // Behind the engine's back: a cached account keeps its own count, a reloaded one reads this.
      db.prepare('UPDATE accounts SET events = events + 1000').run();
    }
  }
  t.equal(eventsOf('busy'), 3n, 'busy stayed cached through the eviction (its count is its own: start and two beats)');
  t.equal(eventsOf('idle-0'), 1002n, 'idle-0, the least recently used, was evicted and read back from the file');
});
