// Races are safe by construction: the sweeper's handler appends with the expected revision, so a
// stale view (of the index or of the handler's cache) loses the race and decides again.
import t from 'tap';
import { join } from 'node:path';
import type { CommandHandler } from '../../src/commands/handler.js';
import { WrongExpectedRevisionError, type EventStore } from '../../src/store/port.js';
import type { MiningRecord } from '../../src/commands/codec.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { START, T, startAll, user, world, type World } from './helpers.js';
import { miningCodec } from '../../src/commands/codec.js';

/** The store as another process's handler sees it, counting the appends that lost a race. */
function countingConflicts(store: EventStore<MiningRecord>): EventStore<MiningRecord> & { conflicts: number } {
  const counted = Object.create(store) as EventStore<MiningRecord> & { conflicts: number };
  counted.conflicts = 0;
  counted.append = async (...args) => {
    try {
      return await store.append(...args);
    } catch (error) {
      if (error instanceof WrongExpectedRevisionError) counted.conflicts++;
      throw error;
    }
  };
  return counted;
}

/** A sweeper handler whose first expire lets `meanwhile` happen after the pass chose the session. */
function racedHandler(inner: CommandHandler, meanwhile: () => Promise<void>): CommandHandler {
  let raced = false;
  return {
    forget: (accountId) => inner.forget(accountId),
    async execute(accountId, request, context) {
      if (!raced) {
        raced = true;
        await meanwhile();
      }
      return inner.execute(accountId, request, context);
    },
  };
}

/** A sweeper whose handler has `accountId` cached as of now, as a long-running process would. */
async function primedSweeper(w: World, accountId: string, meanwhile: () => Promise<void>) {
  const store = countingConflicts(w.store);
  const handler = w.handlerFor(store);
  const primed = await handler.execute(accountId, { type: 'expire' }, user('prime'));
  t.equal(primed.written, 0);
  const sweeper = await w.sweeper({ handler: racedHandler(handler, meanwhile) });
  return { sweeper, store };
}

t.test('sweeper vs heartbeat: a heartbeat just before the deadline wins, and moves it', async (t) => {
  const w = await world(t);
  await startAll(w, ['alice']);
  const { sweeper, store } = await primedSweeper(w, 'alice', async () => {
    w.clock.set(START + T - 1);
    const answer = await w.api.execute('alice', { type: 'heartbeat' }, user());
    t.equal(answer.decision.recorded, true);
    w.clock.set(START + T + 1);
  });
  w.clock.set(START + T + 1);
  t.equal(await sweeper.sweepOnce(), 0, 'the session chosen at its old deadline is not stopped');
  t.equal(store.conflicts, 1, "the sweeper's stale append lost on the expected revision");
  t.same(await w.stops('alice'), []);
  t.equal(w.settings.heartbeatTimeoutMs, T);
  w.clock.set(START + 2 * T - 1);
  t.equal(await sweeper.sweepOnce(), 0, 'the index followed the heartbeat');
  w.clock.set(START + 2 * T);
  t.equal(await sweeper.sweepOnce(), 1);
  t.same((await w.stops('alice')).map((s) => [s.at, s.reason]), [[START + 2 * T - 1, 'timeout']]);
});

t.test('sweeper vs user stop before the deadline: one stop, the user\'s', async (t) => {
  const w = await world(t);
  await startAll(w, ['bob']);
  const { sweeper, store } = await primedSweeper(w, 'bob', async () => {
    w.clock.set(START + T - 1);
    await w.api.execute('bob', { type: 'stop' }, user());
    w.clock.set(START + T + 1);
  });
  w.clock.set(START + T + 1);
  t.equal(await sweeper.sweepOnce(), 0);
  t.equal(store.conflicts, 1);
  t.same(await w.stops('bob'), [{ at: START + T - 1, reason: 'user', recordedAt: START + T - 1, actor: 'user:app' }]);
  t.same(sweeper.stats(), { activeSessions: 0, overdue: 0, stops: 0 });
});

t.test('sweeper vs user stop after the deadline: one stop, at the deadline, written by whoever came first', async (t) => {
  const w = await world(t);
  await startAll(w, ['carol']);
  const { sweeper } = await primedSweeper(w, 'carol', async () => {
    const answer = await w.api.execute('carol', { type: 'stop' }, user());
    t.equal(answer.session?.reason, 'timeout', 'a late stop records the timeout at the deadline');
  });
  w.clock.set(START + T + 5000);
  t.equal(await sweeper.sweepOnce(), 0);
  t.same(await w.stops('carol'), [{ at: START + T, reason: 'timeout', recordedAt: START + T + 5000, actor: 'user:app' }]);
});

t.test('two sweepers on the same store, each with its own connection: every session stopped exactly once', async (t) => {
  const w = await world(t);
  const accounts = Array.from({ length: 120 }, (_, i) => `acct-${i}`);
  for (const [i, account] of accounts.entries()) {
    w.clock.set(START + i * 100);
    await w.api.execute(account, { type: 'start' }, user());
  }
  // The second sweeper opens the file again, as a second process would.
  const other = await openSqliteStore({ codec: miningCodec, path: join(w.dir, 'events.db') });
  t.teardown(() => other.close());
  const first = await w.sweeper({ sweeperId: 'sweeper-1', concurrency: 8 });
  const second = await w.sweeper({ sweeperId: 'sweeper-2', store: other, handler: w.handlerFor(other), concurrency: 8 });
  w.clock.set(START + 200_000 + T);
  const [a, b] = await Promise.all([first.sweepOnce(), second.sweepOnce()]);
  t.equal(a + b, 120, `stops split ${a} + ${b}`);
  for (const [i, account] of accounts.entries()) {
    const stops = await w.stops(account);
    t.equal(stops.length, 1, `${account}: one stop`);
    t.equal(stops[0]?.at, START + i * 100 + T, `${account}: at its deadline`);
  }
  t.same(await Promise.all([first.sweepOnce(), second.sweepOnce()]), [0, 0]);
  t.equal(first.stats().activeSessions + second.stats().activeSessions, 0);
});
