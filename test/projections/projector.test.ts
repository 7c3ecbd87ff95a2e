// The projector keeps per-account and per-session read models from the store, with the domain's
// accrual, and commits them together with its checkpoint.
import t from 'tap';
import { Registry } from 'prom-client';
import { startProjector } from '../../src/projections/projector/projector.js';
import { InvalidCursorError } from '../../src/projections/read-model/read-model.js';
import type { EventStore, SubscriptionHandler } from '../../src/store/port.js';
import type { MiningRecord } from '../../src/commands/codec.js';
import { DAY0, dumpReadModel, HOUR, mine, MINUTE, world } from './helpers.js';

t.test('the incident: an hour of heartbeats then 12h44m offline is credited one hour, 0.25 tokens', async (t) => {
  const w = await world(t);
  const last = await mine(w, 'alice', 60, 'offline');
  const projector = await startProjector({ store: w.store, readModelPath: w.readModelPath });
  t.teardown(() => projector.stop());
  await projector.caughtUp;
  const account = projector.readModel.account('alice')!;
  t.equal(account.balanceUnits, 25_000_000n);
  t.equal(account.creditedMs, HOUR);
  t.equal(account.active, null);
  t.equal(account.streamRevision, 121n, 'start + 120 heartbeats + stop = revisions 0..121');
  t.equal(account.position, last);
  t.equal(account.lastEventAt, DAY0 + HOUR + 5 * MINUTE, 'the stop is recorded at the deadline');
  const [session] = projector.readModel.sessions('alice', { limit: 10 }).sessions;
  t.match(session, { creditedMs: HOUR, heartbeats: 120, reason: 'timeout', stoppedAt: DAY0 + HOUR + 5 * MINUTE });
  t.equal(projector.readModel.position(), last);
  t.equal(await projector.lag(), 0n);
});

t.test('an unknown account has no view; an active session is listed as active', async (t) => {
  const w = await world(t);
  await mine(w, 'bob', 2, 'open');
  await mine(w, 'alice', 1, 'open');
  await mine(w, 'carol', 1, 'stop');
  const projector = await startProjector({ store: w.store, readModelPath: w.readModelPath });
  t.teardown(() => projector.stop());
  await projector.caughtUp;
  t.equal(projector.readModel.account('nobody'), null);
  t.same(projector.readModel.activeSessions({ limit: 10 }).map((s) => s.accountId), ['alice', 'bob']);
  t.same(projector.readModel.activeSessions({ limit: 10, afterAccountId: 'alice' }).map((s) => s.accountId), ['bob']);
  const bob = projector.readModel.account('bob')!;
  t.match(bob.active, { accountId: 'bob', heartbeats: 4, creditedMs: 2 * MINUTE, stoppedAt: null });
  t.equal(bob.balanceUnits, (2n * 60_000n * 25_000_000n) / 3_600_000n);
});

t.test('sessions come newest first in pages whose cursor survives new sessions', async (t) => {
  const w = await world(t);
  for (let i = 0; i < 5; i++) {
    await mine(w, 'alice', i + 1, 'stop');
    w.clock.advance(HOUR);
  }
  const projector = await startProjector({ store: w.store, readModelPath: w.readModelPath });
  t.teardown(() => projector.stop());
  await projector.caughtUp;
  const first = projector.readModel.sessions('alice', { limit: 2 });
  t.same(first.sessions.map((s) => s.heartbeats), [10, 8]);
  t.type(first.nextCursor, 'string');
  const position = await mine(w, 'alice', 1, 'stop');
  t.ok(await projector.readModel.waitForPosition(position, 5000));
  const second = projector.readModel.sessions('alice', { limit: 2, cursor: first.nextCursor! });
  t.same(second.sessions.map((s) => s.heartbeats), [6, 4]);
  const third = projector.readModel.sessions('alice', { limit: 2, cursor: second.nextCursor! });
  t.same(third.sessions.map((s) => s.heartbeats), [2]);
  t.equal(third.nextCursor, null);
  t.throws(() => projector.readModel.sessions('alice', { limit: 2, cursor: 'bogus' }), InvalidCursorError);
  t.throws(() => projector.readModel.sessions('alice', { limit: 2, cursor: 'czA' }), InvalidCursorError, 'seq 0 was never issued');
});

t.test('read-your-writes: waitForPosition resolves once the write is projected, false when it never comes', async (t) => {
  const w = await world(t);
  const projector = await startProjector({ store: w.store, readModelPath: w.readModelPath, flushIntervalMs: 60_000 });
  t.teardown(() => projector.stop());
  await projector.caughtUp;
  const position = await w.run('alice', { type: 'start' });
  t.ok(await projector.readModel.waitForPosition(position, 5000), 'a waiter commits without waiting for the flush interval');
  t.equal(projector.readModel.account('alice')!.position, position);
  t.equal(await projector.readModel.waitForPosition(position + 10n, 30), false);
});

/** The real store, but every batch is delivered twice and each subscription starts again at the beginning. */
function redelivering(store: EventStore<MiningRecord>): EventStore<MiningRecord> {
  return Object.assign(Object.create(store) as EventStore<MiningRecord>, {
    subscribeToAll(options: Parameters<EventStore<MiningRecord>['subscribeToAll']>[0], handler: SubscriptionHandler<MiningRecord>) {
      return store.subscribeToAll({ ...options, from: 'start' }, {
        ...handler,
        async onEvents(events) {
          await handler.onEvents(events);
          await handler.onEvents(events.slice(Math.floor(events.length / 2)));
        },
      });
    },
  });
}

t.test('redelivered events are applied once: the read model equals one projected without redelivery', async (t) => {
  const w = await world(t);
  await mine(w, 'alice', 10, 'stop');
  await mine(w, 'bob', 3, 'offline');
  const plain = await startProjector({ store: w.store, readModelPath: w.readModelPath });
  await plain.caughtUp;
  await plain.stop();
  const twicePath = `${w.dir}/twice.db`;
  const twice = await startProjector({ store: redelivering(w.store), readModelPath: twicePath, batchSize: 7, maxPendingEvents: 5 });
  await twice.caughtUp;
  await twice.stop();
  const again = await startProjector({ store: redelivering(w.store), readModelPath: twicePath, batchSize: 7 });
  await again.caughtUp;
  await again.stop();
  const expected = dumpReadModel(w.readModelPath);
  t.same(dumpReadModel(twicePath), expected);
  t.equal(expected.accounts.length, 2);
});

t.test('two projectors on one file never double-apply: the loser of a commit starts again from the checkpoint', async (t) => {
  const w = await world(t);
  const one = await startProjector({ store: w.store, readModelPath: w.readModelPath, maxPendingEvents: 3 });
  const two = await startProjector({ store: w.store, readModelPath: w.readModelPath, maxPendingEvents: 5 });
  t.teardown(async () => {
    await one.stop();
    await two.stop();
  });
  let position = 0n;
  for (const id of ['a', 'b', 'c', 'd']) position = await mine(w, id, 3, 'stop');
  t.ok(await one.readModel.waitForPosition(position, 5000));
  t.ok(await two.readModel.waitForPosition(position, 5000));
  for (const id of ['a', 'b', 'c', 'd']) {
    t.equal(one.readModel.account(id)!.balanceUnits, ((3n * 60_000n + 10_000n) * 25_000_000n) / 3_600_000n, `${id} counted once`);
  }
  t.equal(dumpReadModel(w.readModelPath).sessions.length, 4);
});

t.test('with a registry it exposes position and lag gauges', async (t) => {
  const w = await world(t);
  const position = await mine(w, 'alice', 1, 'stop');
  const registry = new Registry();
  const projector = await startProjector({ store: w.store, readModelPath: w.readModelPath, registry });
  t.teardown(() => projector.stop());
  await projector.caughtUp;
  const text = await registry.metrics();
  t.match(text, new RegExp(`mining_projector_position ${position}\\b`));
  t.match(text, /mining_projector_lag_events 0\b/);
  t.match(text, /mining_projector_events_total 4\b/);
});
