// Decision state comes from the stream read backwards to the session boundary, or from a cache
// that is checked against the stream's revision: another process writing in between is noticed.
import t from 'tap';
import { stateCache } from '../../src/commands/state-loader.js';
import { AS_SWEEPER, AS_USER, DAY, T, counting, openStore, rig, streamEvents, typesOf } from './support.js';

// One store for the file; every test uses its own account. Two handlers on one store are two
// processes as far as the handler can tell: separate caches, separate queues.
const store = await openStore(t);

t.test('a start answered from a stale cache would say "already mining" for a session another process stopped', async (t) => {
  const a = rig(store);
  const b = rig(store, { clock: a.clock });
  const first = await a.handler.execute('ann', { type: 'start' }, AS_USER);
  a.clock.advance(10_000);
  await b.handler.execute('ann', { type: 'stop' }, AS_USER);
  a.clock.advance(10_000);
  const second = await a.handler.execute('ann', { type: 'start' }, AS_USER);
  t.equal(second.decision.created, true, 'a new session is started');
  t.not(second.session?.sessionId, first.session?.sessionId);
  t.same(typesOf(await streamEvents(store, 'mining-ann')), ['MiningStarted', 'MiningStopped:user', 'MiningStarted']);
});

t.test('a heartbeat after another process started a session is recorded, not NOT_MINING', async (t) => {
  const a = rig(store);
  const b = rig(store, { clock: a.clock });
  await a.handler.execute('ben', { type: 'start' }, AS_USER);
  await a.handler.execute('ben', { type: 'stop' }, AS_USER);
  a.clock.advance(1_000);
  await b.handler.execute('ben', { type: 'start' }, AS_USER);
  a.clock.advance(30_000);
  const beat = await a.handler.execute('ben', { type: 'heartbeat' }, AS_USER);
  t.equal(beat.decision.error, undefined);
  t.equal(beat.decision.recorded, true);
});

t.test('a sweeper whose cache saw no session still expires the one another process started', async (t) => {
  const sweeper = rig(store);
  const api = rig(store, { clock: sweeper.clock });
  const nothing = await sweeper.handler.execute('cat', { type: 'expire' }, AS_SWEEPER);
  t.equal(nothing.written, 0);
  await api.handler.execute('cat', { type: 'start' }, AS_USER);
  sweeper.clock.advance(T + 2_001);
  const swept = await sweeper.handler.execute('cat', { type: 'expire' }, AS_SWEEPER);
  t.equal(swept.written, 1);
  t.equal(swept.session?.reason, 'timeout');
  t.equal(swept.session?.stoppedAt, DAY + T);
});

t.test('a stale cache that leads to a write is caught by the expected revision and decided again', async (t) => {
  const a = rig(store);
  const b = rig(store, { clock: a.clock });
  await a.handler.execute('dan', { type: 'start' }, AS_USER);
  a.clock.advance(10_000);
  await b.handler.execute('dan', { type: 'stop' }, AS_USER);
  a.clock.advance(10_000);
  const stop = await a.handler.execute('dan', { type: 'stop' }, AS_USER);
  t.equal(stop.decision.error, 'NOT_MINING', 'the second stop finds the session already stopped');
  t.same(typesOf(await streamEvents(store, 'mining-dan')), ['MiningStarted', 'MiningStopped:user']);
});

t.test('loading reads backwards only to the session boundary', async (t) => {
  const { handler, clock } = rig(store);
  // Twenty finished sessions of ten heartbeats each, then an active one with three heartbeats.
  for (let s = 0; s < 20; s++) {
    await handler.execute('eve', { type: 'start' }, AS_USER);
    for (let h = 0; h < 10; h++) {
      clock.advance(30_000);
      await handler.execute('eve', { type: 'heartbeat' }, AS_USER);
    }
    await handler.execute('eve', { type: 'stop' }, AS_USER);
    clock.advance(60_000);
  }
  const stoppedOnly = counting(store);
  const afterStop = rig(stoppedOnly, { clock });
  const notMining = await afterStop.handler.execute('eve', { type: 'heartbeat' }, AS_USER);
  t.equal(notMining.decision.error, 'NOT_MINING');
  t.equal(stoppedOnly.read, 1, 'a stream that ends in a stop: only the stop is read');

  await handler.execute('eve', { type: 'start' }, AS_USER);
  for (let h = 0; h < 3; h++) {
    clock.advance(30_000);
    await handler.execute('eve', { type: 'heartbeat' }, AS_USER);
  }
  t.equal((await streamEvents(store, 'mining-eve')).length, 20 * 12 + 4);
  const reads = counting(store);
  const fresh = rig(reads, { clock });
  clock.advance(30_000);
  const beat = await fresh.handler.execute('eve', { type: 'heartbeat' }, AS_USER);
  t.equal(reads.read, 4, 'only the active session: its start and three heartbeats');
  t.equal(beat.session?.creditedMs, 4 * 30_000, 'and the session is whole');
  t.equal(beat.session?.heartbeats, 4);

  reads.reset();
  clock.advance(30_000);
  await fresh.handler.execute('eve', { type: 'heartbeat' }, AS_USER);
  t.equal(reads.read, 0, 'the next command is decided from the cache');
});

t.test('a cache hit that writes nothing costs no stream read', async (t) => {
  const reads = counting(store);
  const { handler, clock } = rig(reads);
  await handler.execute('fox', { type: 'start' }, AS_USER);
  reads.reset();
  clock.advance(1_000);
  const again = await handler.execute('fox', { type: 'start' }, AS_USER);
  t.equal(again.decision.created, false);
  t.equal(reads.read, 0);
});

t.test('the state cache is a bounded LRU', async (t) => {
  const cache = stateCache(2);
  const entry = (n: bigint) => ({ state: { lastEventAt: null, active: null, lastStopped: null }, revision: n, position: n, lastHash: null });
  cache.set('a', entry(1n));
  cache.set('b', entry(2n));
  t.equal(cache.get('a')?.revision, 1n, 'a is now the most recently used');
  cache.set('c', entry(3n));
  t.equal(cache.size, 2);
  t.equal(cache.get('b'), undefined, 'the least recently used entry went');
  t.equal(cache.get('a')?.revision, 1n);
  cache.set('a', entry(4n));
  t.equal(cache.get('a')?.revision, 4n, 'an entry is replaced, not duplicated');
  cache.delete('a');
  t.equal(cache.get('a'), undefined);
  t.equal(cache.size, 1);
});
