// Contract: reads — one stream forwards and backwards from a revision with maxCount, all events after
// an exclusive position with a stream-prefix filter, the head position.
import type { Test } from 'tap';
import type { EventStore } from '../../src/store/port.js';
import { collect, contractContext, newEvents, revisionsOf, type StoreFactory } from './contract-helpers.js';

/** Two streams written in interleaved appends, so a stream's events are not adjacent in the log. */
async function interleaved(store: EventStore, a: string, b: string, rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await store.append(a, newEvents(3, 'Tested', i * 3), i === 0 ? 'no_stream' : BigInt(i * 3 - 1));
    await store.append(b, newEvents(1, 'Other', i), i === 0 ? 'no_stream' : BigInt(i - 1));
  }
}

const range = (from: number, to: number, step = 1) =>
  Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => BigInt(from + i * step));

export function readContract(t: Test, factory: StoreFactory): void {
  t.test('readStream forwards and backwards, from a revision, with maxCount', async (t) => {
    const { store, ns } = await contractContext(t, factory);
    const a = `${ns}a`;
    await interleaved(store, a, `${ns}b`, 10);
    const read = (options: Parameters<EventStore['readStream']>[1]) => collect(store.readStream(a, options)).then(revisionsOf);

    t.same(await read(undefined), range(0, 29), 'whole stream, forwards by default');
    t.same(await read({ fromRevision: 10n, maxCount: 5 }), range(10, 14));
    t.same(await read({ fromRevision: 'start', maxCount: 1 }), [0n]);
    t.same(await read({ fromRevision: 27n }), [27n, 28n, 29n], 'up to the end');
    t.same(await read({ fromRevision: 30n }), [], 'past the end');
    t.same(await read({ direction: 'backwards' }), range(0, 29).reverse(), 'whole stream backwards');
    t.same(await read({ direction: 'backwards', maxCount: 3 }), [29n, 28n, 27n], 'newest first');
    t.same(await read({ direction: 'backwards', fromRevision: 5n }), range(0, 5).reverse());
    t.same(await read({ direction: 'backwards', fromRevision: 'end', maxCount: 2 }), [29n, 28n]);
    t.same(await read({ direction: 'backwards', fromRevision: 100n, maxCount: 2 }), [29n, 28n], 'from beyond the end');
    t.same(await read({ maxCount: 0 }), []);
    const events = await collect(store.readStream(a, { fromRevision: 12n, maxCount: 2 }));
    t.same(events.map((e) => e.data), [{ n: 12, note: 'ü ✓' }, { n: 13, note: 'ü ✓' }], 'payloads belong to their revisions');
    t.ok(events.every((e) => e.stream === a));
    t.same(await collect(store.readStream(`${ns}nothing-here`)), [], 'a missing stream reads as empty');
    t.same(await collect(store.readStream(`${ns}nothing-here`, { direction: 'backwards' })), []);
  });

  t.test('a long stream reads whole across page boundaries in both directions', async (t) => {
    const { store, ns } = await contractContext(t, factory);
    const s = `${ns}long`;
    for (let i = 0; i < 5; i++) await store.append(s, newEvents(501, 'Tested', i * 501), i === 0 ? 'no_stream' : BigInt(i * 501 - 1));
    const forwards = await collect(store.readStream(s));
    t.equal(forwards.length, 2505);
    t.ok(forwards.every((e, i) => e.revision === BigInt(i) && (e.data as { n: number }).n === i), 'every revision once, in order');
    const backwards = revisionsOf(await collect(store.readStream(s, { direction: 'backwards', maxCount: 1500 })));
    t.same(backwards, range(1005, 2504).reverse());
  });

  t.test('readAll from the start and after an exclusive position, with a prefix filter', async (t) => {
    const { store, ns } = await contractContext(t, factory);
    await interleaved(store, `${ns}a-1`, `${ns}b-1`, 4);
    await store.append(`${ns}a-2`, newEvents(2), 'no_stream');
    const all = await collect(store.readAll({ prefix: ns }));
    t.equal(all.length, 18);
    t.same(all.slice(0, 5).map((e) => e.stream.slice(ns.length)), ['a-1', 'a-1', 'a-1', 'b-1', 'a-1']);

    const fromStart = await collect(store.readAll({ from: 'start', prefix: `${ns}a-` }));
    t.same(fromStart.map((e) => `${e.stream.slice(ns.length)}@${e.revision}`),
      [...range(0, 11).map((r) => `a-1@${r}`), 'a-2@0', 'a-2@1'], 'only the prefixed streams, in order');
    const after = await collect(store.readAll({ from: all[3]!.position, prefix: ns }));
    t.same(after.map((e) => e.id), all.slice(4).map((e) => e.id), 'the given position itself is excluded');
    const page = await collect(store.readAll({ from: all[3]!.position, prefix: ns, maxCount: 2 }));
    t.same(page.map((e) => e.id), [all[4]!.id, all[5]!.id], 'maxCount');
    t.same(await collect(store.readAll({ from: all[17]!.position, prefix: ns })), [], 'nothing after the last');
    t.same(await collect(store.readAll({ prefix: `${ns}zzz` })), [], 'a prefix nobody uses');
  });

  t.test('headPosition follows the last append', async (t) => {
    const { store, ns } = await contractContext(t, factory);
    const first = await store.append(`${ns}h`, newEvents(2), 'no_stream');
    const head1 = await store.headPosition();
    t.ok(head1 !== 'start' && head1 >= first.position);
    const second = await store.append(`${ns}h`, newEvents(1), 1n);
    const head2 = await store.headPosition();
    t.ok(head2 !== 'start' && head2 >= second.position && head1 !== 'start' && head2 > head1, 'moves forward with appends');
  });
}
