// Contract: catch-up subscriptions — the backlog, then one caught-up signal, then live events; stop,
// and restart from a checkpoint without gaps or repeats.
import type { Test } from 'tap';
import { contractContext, idsOf, newEvents, record, type StoreFactory } from './contract-helpers.js';

export function subscribeContract(t: Test, factory: StoreFactory): void {
  t.test('subscription: backlog, then caught up, then live events; restart from a checkpoint', async (t) => {
    const { store, ns } = await contractContext(t, factory);
    const backlog = newEvents(7);
    await store.append(`${ns}s-1`, backlog.slice(0, 4), 'no_stream');
    await store.append(`${ns}other`, newEvents(2), 'no_stream');
    await store.append(`${ns}s-2`, backlog.slice(4), 'no_stream');

    const first = record(store, { from: 'start', prefix: `${ns}s-`, batchSize: 3 });
    await first.until('caught up', () => first.caughtUpAt >= 0);
    t.same(idsOf(first.events), idsOf(backlog), 'the backlog in order, filtered by prefix');
    t.equal(first.caughtUpAt, 7, 'caught up after the backlog');
    t.equal(first.caughtUpPosition, first.events[6]!.position, 'caught up at the last delivered position');
    t.ok(first.batches.every((size) => size >= 1 && size <= 3), 'batches respect batchSize');

    const live = newEvents(3);
    await store.append(`${ns}s-1`, live.slice(0, 2), 3n);
    await store.append(`${ns}other`, newEvents(1), 1n);
    await store.append(`${ns}s-3`, live.slice(2), 'no_stream');
    await first.until('live events', () => first.events.length >= 10);
    t.same(idsOf(first.events.slice(7)), idsOf(live), 'live events after the backlog');
    t.equal(first.caughtUpAt, 7, 'caught up is signalled once');
    const positions = first.events.map((e) => e.position);
    t.ok(positions.every((p, i) => i === 0 || p > positions[i - 1]!), 'increasing positions');

    await first.subscription.stop();
    await first.subscription.done;
    const checkpoint = first.events[first.events.length - 1]!.position;
    const missed = newEvents(2);
    await store.append(`${ns}s-2`, missed, 2n);
    t.equal(first.events.length, 10, 'a stopped subscription delivers nothing more');

    const second = record(store, { from: checkpoint, prefix: `${ns}s-` });
    await second.until('caught up again', () => second.caughtUpAt >= 0);
    t.same(idsOf(second.events), idsOf(missed), 'restart delivers exactly what came after the checkpoint');
    t.equal(second.caughtUpPosition, second.events[1]!.position);
    await second.subscription.stop();
    t.same(first.errors, []);
    t.same(second.errors, []);
  });

  t.test('subscription on an empty prefix catches up at once, then receives live events', async (t) => {
    const { store, ns } = await contractContext(t, factory);
    const sub = record(store, { from: 'start', prefix: ns });
    await sub.until('caught up', () => sub.caughtUpAt === 0);
    const live = newEvents(2);
    await Promise.all([store.append(`${ns}p`, live.slice(0, 1), 'no_stream'), store.append(`${ns}q`, live.slice(1), 'no_stream')]);
    await sub.until('two live events', () => sub.events.length === 2);
    t.same(new Set(idsOf(sub.events)), new Set(idsOf(live)));
    await sub.subscription.stop();
  });

  t.test('a handler that throws ends its subscription with onError', async (t) => {
    const { store, ns } = await contractContext(t, factory);
    await store.append(`${ns}e`, newEvents(2), 'no_stream');
    const errors: unknown[] = [];
    const subscription = store.subscribeToAll({ from: 'start', prefix: ns }, {
      onEvents() {
        throw new Error('projection broke');
      },
      onError: (error) => errors.push(error),
    });
    await subscription.done;
    t.equal(errors.length, 1);
    t.match(errors[0], { message: 'projection broke' });
    await subscription.stop();
  });
}
