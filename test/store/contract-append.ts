// Contract: appends — revisions from 0, global positions in commit order, every expected-revision
// case, idempotent retries, and optimistic concurrency between racing appenders.
import type { Test } from 'tap';
import { chainMetadata, ChainFollower } from '../../src/audit/chain.js';
import { WrongExpectedRevisionError, type ExpectedRevision } from '../../src/store/port.js';
import { collect, contractContext, idsOf, newEvents, revisionsOf, type StoreFactory } from './contract-helpers.js';

async function conflictOf(promise: Promise<unknown>): Promise<WrongExpectedRevisionError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof WrongExpectedRevisionError) return error;
    throw error;
  }
  throw new Error('expected a WrongExpectedRevisionError, the append succeeded');
}

export function appendContract(t: Test, factory: StoreFactory): void {
  t.test('revisions start at 0 and positions increase in commit order across streams', async (t) => {
    const { store, ns } = await contractContext(t, factory);
    const a = `${ns}acct-a`;
    const b = `${ns}acct-b`;
    const first = await store.append(a, newEvents(2), 'no_stream');
    const second = await store.append(b, newEvents(1), 'no_stream');
    const third = await store.append(a, newEvents(3), 1n);
    t.equal(first.nextExpectedRevision, 1n);
    t.equal(second.nextExpectedRevision, 0n);
    t.equal(third.nextExpectedRevision, 4n);
    t.ok(first.position < second.position && second.position < third.position, 'positions follow commit order');

    const all = await collect(store.readAll({ prefix: ns }));
    t.same(all.map((e) => `${e.stream.slice(ns.length)}@${e.revision}`),
      ['acct-a@0', 'acct-a@1', 'acct-b@0', 'acct-a@2', 'acct-a@3', 'acct-a@4']);
    t.ok(all.every((e, i) => i === 0 || e.position > all[i - 1]!.position), 'strictly increasing positions');
    t.equal(all[1]!.position, first.position, 'append returns the position of its last event');
    t.equal(all[5]!.position, third.position);
  });

  t.test('an event comes back with its id, type, data and metadata intact', async (t) => {
    const { store, ns } = await contractContext(t, factory);
    const [event] = newEvents(1, 'MiningStarted');
    await store.append(`${ns}x`, [event!], 'any');
    const [read] = await collect(store.readStream(`${ns}x`));
    t.match(read, { id: event!.id, stream: `${ns}x`, revision: 0n, type: 'MiningStarted' });
    t.same(read!.data, event!.data);
    t.same(read!.metadata, event!.metadata);
    t.equal(typeof read!.position, 'bigint');
  });

  t.test('the hash chain (SPEC §12): hash and prevHash come back unchanged, and the stored events still hash to them', async (t) => {
    const { store, ns } = await contractContext(t, factory);
    const stream = `${ns}chained`;
    let prevHash: string | null = null;
    const events = newEvents(3).map((event, i) => {
      const metadata = chainMetadata(stream, BigInt(i), event.type, event.data, event.metadata as object, prevHash);
      prevHash = metadata.hash;
      return { ...event, metadata };
    });
    await store.append(stream, events, 'no_stream');
    const read = await collect(store.readStream(stream));
    t.same(read.map((e) => e.metadata), events.map((e) => e.metadata));
    const follower = new ChainFollower(stream);
    for (const recorded of read) follower.follow(recorded);
    t.same(follower.summary(), { chained: 3, unchained: 0, broken: null }, 'recomputed from what the adapter returns');
  });

  t.test('expected revision: each case accepts the right state and rejects the rest', async (t) => {
    const { store, ns } = await contractContext(t, factory);
    const s = `${ns}s`;
    const reject = async (expected: ExpectedRevision, actual: bigint | 'no_stream') => {
      const error = await conflictOf(store.append(s, newEvents(1), expected));
      t.equal(error.stream, s, `conflict names the stream (${String(expected)})`);
      t.equal(error.actual, actual, `conflict carries the actual revision (${String(expected)})`);
      t.equal(error.expected, expected);
    };
    await reject('stream_exists', 'no_stream');
    await reject(0n, 'no_stream');
    t.equal((await store.append(s, newEvents(1), 'no_stream')).nextExpectedRevision, 0n, 'no_stream on a new stream');
    await reject('no_stream', 0n);
    await reject(1n, 0n);
    t.equal((await store.append(s, newEvents(1), 'stream_exists')).nextExpectedRevision, 1n);
    t.equal((await store.append(s, newEvents(1), 'any')).nextExpectedRevision, 2n);
    t.equal((await store.append(s, newEvents(2), 2n)).nextExpectedRevision, 4n, 'exact revision');
    await reject(2n, 4n);
    t.equal((await store.append(`${ns}fresh`, newEvents(1), 'any')).nextExpectedRevision, 0n, 'any on a new stream');
    t.same(revisionsOf(await collect(store.readStream(s))), [0n, 1n, 2n, 3n, 4n], 'conflicts wrote nothing');
    t.equal(await store.streamRevision(s), 4n);
    t.equal(await store.streamRevision(`${ns}missing`), 'no_stream');
  });

  t.test('an empty append checks the expected revision and writes nothing', async (t) => {
    const { store, ns } = await contractContext(t, factory);
    const s = `${ns}empty`;
    t.same(await store.append(s, [], 'no_stream'), { nextExpectedRevision: -1n, position: 0n }, 'nothing to point at yet');
    t.equal(await store.streamRevision(s), 'no_stream');
    t.equal((await conflictOf(store.append(s, [], 'stream_exists'))).actual, 'no_stream');
    const written = await store.append(s, newEvents(2), 'no_stream');
    t.same(await store.append(s, [], 1n), written, 'the stream as it is');
    t.equal((await conflictOf(store.append(s, [], 0n))).actual, 1n);
    t.equal((await collect(store.readStream(s))).length, 2);
  });

  t.test('a retried append with the same event ids is recognised, not duplicated', async (t) => {
    const { store, ns } = await contractContext(t, factory);
    const s = `${ns}retry`;
    const batch = newEvents(2);
    const first = await store.append(s, batch, 'no_stream');
    t.same(await store.append(s, batch, 'no_stream'), first, 'same expected revision: same answer');
    // Only exact revisions and no_stream: EventStoreDB does not promise to recognise a retry with 'any'
    // or 'stream_exists' (after a restart it may write it again). The command handler uses neither.
    const next = newEvents(1);
    const second = await store.append(s, next, 1n);
    const third = newEvents(1);
    await store.append(s, third, 2n);
    t.same(await store.append(s, batch, 'no_stream'), first, 'recognised after the stream moved on');
    t.same(await store.append(s, next, 1n), second);
    t.same(idsOf(await collect(store.readStream(s))), [...idsOf(batch), ...idsOf(next), ...idsOf(third)]);
    t.equal(await store.streamRevision(s), 3n, 'nothing was written twice');
  });

  t.test('concurrent appends with the same expected revision: exactly one wins', async (t) => {
    const { store, ns } = await contractContext(t, factory);
    const s = `${ns}race`;
    await store.append(s, newEvents(1), 'no_stream');
    const racers = Array.from({ length: 8 }, () => newEvents(2));
    const outcomes = await Promise.allSettled(racers.map((events) => store.append(s, events, 0n)));
    const winners = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
    t.equal(winners.length, 1, 'one winner');
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled') continue;
      t.type(outcome.reason, WrongExpectedRevisionError);
      t.equal((outcome.reason as WrongExpectedRevisionError).actual, 2n, 'losers see the winner');
    }
    const stored = await collect(store.readStream(s));
    t.same(idsOf(stored.slice(1)), idsOf(racers[winners[0]!]!), "only the winner's events are stored");

    const fresh = `${ns}race-new`;
    const creations = await Promise.allSettled([1, 2, 3, 4].map(() => store.append(fresh, newEvents(1), 'no_stream')));
    t.equal(creations.filter((o) => o.status === 'fulfilled').length, 1, 'one creator of a new stream');
    t.equal(await store.streamRevision(fresh), 0n);
  });

  t.test('reopening after close keeps every event, revision and position', async (t) => {
    const { store, reopen, ns } = await contractContext(t, factory);
    const s = `${ns}durable`;
    await store.append(s, newEvents(3), 'no_stream');
    const last = await store.append(`${ns}other`, newEvents(1), 'no_stream');
    const before = await collect(store.readAll({ prefix: ns }));
    await store.close();
    const again = await reopen();
    t.same(await collect(again.readAll({ prefix: ns })), before);
    t.equal(await again.streamRevision(s), 2n);
    const head = await again.headPosition();
    t.ok(head !== 'start' && head >= last.position, 'head is at least the last append');
    t.equal((await again.append(s, newEvents(1), 2n)).nextExpectedRevision, 3n, 'revisions go on');
  });
}
