// The embedded store beyond the contract: what it does with bad input, a dying writer thread, close()
// with appends in flight, large batches, prefixes that are not plain ASCII.
import t, { type Test } from 'tap';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { InvalidAppendError, StoreUnavailableError, WrongExpectedRevisionError, type EventToAppend } from '../../src/store/port.js';
import { openSqliteStore, type SqliteStoreOptions } from '../../src/store/sqlite/store.js';
import { collect, idsOf, newEvents } from './contract-helpers.js';

async function open(t: Test, options: Partial<SqliteStoreOptions> = {}) {
  const path = join(t.testdir(), 'events.db');
  const store = await openSqliteStore({ path, ...options });
  t.teardown(() => store.close());
  return store;
}

t.test('a prefix with characters outside the BMP filters by the whole prefix', async (t) => {
  const store = await open(t);
  await store.append('🙂-a', newEvents(1), 'no_stream');
  await store.append('🙂x', newEvents(1), 'no_stream');
  await store.append('plain', newEvents(1), 'no_stream');
  t.same((await collect(store.readAll({ prefix: '🙂-' }))).map((e) => e.stream), ['🙂-a']);
  t.same((await collect(store.readAll({ prefix: '🙂' }))).map((e) => e.stream), ['🙂-a', '🙂x']);
});

t.test('an append that cannot be stored fails alone; the appends committed with it succeed', async (t) => {
  const store = await open(t);
  const notJson: EventToAppend = { id: 'e-undefined', type: 'Bad', data: undefined, metadata: {} };
  const withBigint: EventToAppend = { id: 'e-bigint', type: 'Bad', data: { n: 1n }, metadata: {} };
  const twice = newEvents(1);
  let appends: Promise<unknown>[] = [];
  t.doesNotThrow(() => {
    // All in one turn of the event loop: one group commit.
    appends = [
      store.append('good-1', newEvents(1), 'no_stream'),
      store.append('bad-1', [notJson], 'no_stream'),
      store.append('bad-2', [withBigint], 'no_stream'),
      store.append('bad-3', [twice[0]!, twice[0]!], 'no_stream'),
      store.append('good-2', newEvents(2), 'no_stream'),
    ];
  }, 'bad input is a rejected promise, never a synchronous throw');
  const outcomes = await Promise.allSettled(appends);
  t.same(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'rejected', 'rejected', 'fulfilled']);
  for (const outcome of outcomes.slice(1, 4)) t.type((outcome as PromiseRejectedResult).reason, InvalidAppendError);
  t.equal(await store.streamRevision('good-2'), 1n);
  t.equal(await store.streamRevision('bad-1'), 'no_stream');
});

t.test('the same event id in another stream is refused as invalid, and nothing of that append is written', async (t) => {
  const store = await open(t);
  const [event] = newEvents(1);
  await store.append('first', [event!], 'no_stream');
  await t.rejects(store.append('second', [...newEvents(1), event!], 'no_stream'), InvalidAppendError);
  t.equal(await store.streamRevision('second'), 'no_stream');
  t.same(idsOf(await collect(store.readAll())), [event!.id]);
});

t.test('appends committed together with a refused one keep exact revisions afterwards', async (t) => {
  const store = await open(t);
  const [taken] = newEvents(1);
  await store.append('owner', [taken!], 'no_stream');
  const outcomes = await Promise.allSettled([
    store.append('fresh-1', newEvents(2), 'no_stream'),
    store.append('thief', [taken!], 'no_stream'),
    store.append('fresh-2', newEvents(1), 'no_stream'),
    store.append('fresh-1', newEvents(1), 1n),
  ]);
  t.same(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'], 'in one group commit, one refused');
  t.equal(await store.streamRevision('fresh-1'), 2n);
  t.equal((await store.append('fresh-1', newEvents(1), 2n)).nextExpectedRevision, 3n, 'the writer did not count the rolled-back attempt');
  await t.rejects(store.append('fresh-2', newEvents(1), 'no_stream'), WrongExpectedRevisionError);
  t.equal((await store.append('thief', newEvents(1), 'no_stream')).nextExpectedRevision, 0n, 'the refused append left no trace');
});

t.test('when the writer thread dies, its appends fail as unavailable and the next append gets a new writer', async (t) => {
  const writers: Worker[] = [];
  const store = await open(t, { onWriterStarted: (worker) => writers.push(worker) });
  await store.append('s', newEvents(1), 'no_stream');
  const inFlight = store.append('s', newEvents(1), 0n);
  await new Promise((resolve) => setImmediate(resolve));
  await writers[0]!.terminate();
  // Answered either way, never left hanging: committed just before the end, or unavailable.
  const [outcome] = await Promise.allSettled([inFlight]);
  if (outcome!.status === 'rejected') t.type(outcome!.reason, StoreUnavailableError, 'the in-flight append is unavailable');
  const revision = await store.streamRevision('s');
  const next = await store.append('s', newEvents(1), revision);
  t.equal(next.nextExpectedRevision, (revision as bigint) + 1n, 'a new writer took over');
  t.equal(writers.length, 2);
});

t.test('a writer whose answer arrives after terminate() still exits, and every append settles', async (t) => {
  // The race behind a flaky "test unfinished": the writer commits and posts its answer, terminate()
  // is called before the main thread has read it, and the answer (delivered before 'exit') used to
  // unref the worker, undoing terminate()'s ref, so nothing kept the process alive until 'exit'.
  // Spinning on microtasks only, the main thread cannot read the answer before terminate().
  const writers: Worker[] = [];
  const store = await open(t, { onWriterStarted: (worker) => writers.push(worker), indexIntervalMs: 0 });
  for (let i = 0; i < 5; i++) {
    const before = await store.headPosition();
    const inFlight = store.append(`race-${i}`, newEvents(1), 'no_stream');
    await new Promise((resolve) => setImmediate(resolve));
    const deadline = Date.now() + 10_000;
    while ((await store.headPosition()) === before && Date.now() < deadline) {
      // microtasks only: the writer's answer waits in the port until terminate() below
    }
    t.not(await store.headPosition(), before, `round ${i}: the writer committed before terminate()`);
    await writers[writers.length - 1]!.terminate();
    t.same(await inFlight.then((r) => r.nextExpectedRevision), 0n, `round ${i}: the answer posted before the end is kept`);
    const next = await store.append(`after-${i}`, newEvents(1), 'no_stream');
    t.equal(next.nextExpectedRevision, 0n, `round ${i}: a new writer took over`);
  }
  t.equal(writers.length, 6);
});

t.test('close() with appends in flight commits them before it returns', async (t) => {
  const path = join(t.testdir(), 'events.db');
  const store = await openSqliteStore({ path });
  const early = Array.from({ length: 20 }, (_, i) => store.append(`early-${i}`, newEvents(2), 'no_stream'));
  await new Promise((resolve) => setImmediate(resolve));
  const late = Array.from({ length: 20 }, (_, i) => store.append(`late-${i}`, newEvents(1), 'no_stream'));
  const closing = store.close();
  await t.rejects(store.append('after-close', newEvents(1), 'no_stream'), StoreUnavailableError);
  const outcomes = await Promise.allSettled([...early, ...late]);
  await closing;
  t.same(outcomes.filter((o) => o.status === 'rejected'), [], 'every append issued before close() succeeded');
  await t.rejects(collect(store.readAll()), StoreUnavailableError, 'reads after close are refused clearly');
  const again = await openSqliteStore({ path });
  t.teardown(() => again.close());
  t.equal((await collect(again.readAll())).length, 60);
});

t.test('a very large append and many small ones in the same commit', async (t) => {
  const store = await open(t);
  const big = newEvents(20_000);
  const small = Array.from({ length: 300 }, (_, i) => store.append(`small-${i}`, newEvents(1), 'no_stream'));
  const result = await store.append('big', big, 'no_stream');
  await Promise.all(small);
  t.equal(result.nextExpectedRevision, 19_999n);
  const read = await collect(store.readStream('big', { direction: 'backwards', maxCount: 3 }));
  t.same(idsOf(read), idsOf(big.slice(-3).reverse()));
  t.equal((await collect(store.readAll())).length, 20_300);
});

t.test("the embedded store also recognises a retry with expected 'any', which the contract does not require", async (t) => {
  const store = await open(t);
  const batch = newEvents(2);
  const first = await store.append('mining-any', batch, 'no_stream');
  t.same(await store.append('mining-any', batch, 'any'), first);
  t.equal(await store.streamRevision('mining-any'), 1n);
});
