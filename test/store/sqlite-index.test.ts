// The embedded store's deferred per-stream index: reads are whole whether an event is indexed yet or
// not, while the indexer moves, and a large unindexed store is indexed without blocking appends.
import t from 'tap';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { configureConnection, SCHEMA } from '../../src/store/sqlite/schema.js';
import { collect, newEvents, record, revisionsOf } from './contract-helpers.js';

function indexState(path: string): { indexed: bigint; head: bigint; rows: bigint } {
  const db = new Database(path, { readonly: true });
  db.defaultSafeIntegers(true);
  try {
    const one = (sql: string) => (db.prepare(sql).pluck().get() as bigint | null) ?? 0n;
    return {
      indexed: one("SELECT value FROM store_meta WHERE key = 'indexed_position'"),
      head: one('SELECT max(position) FROM events'),
      rows: one('SELECT count(*) FROM stream_index'),
    };
  } finally {
    db.close();
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => BigInt(from + i));

t.test('a stream reads whole across the indexed part and the unindexed tail, at every page size', async (t) => {
  const path = join(t.testdir(), 'events.db');
  const writer = await openSqliteStore({ path, indexIntervalMs: 0 });
  t.teardown(() => writer.close());
  const append = async (round: number) => {
    await writer.append('a', newEvents(3, 'Tested', round * 3), round === 0 ? 'no_stream' : BigInt(round * 3 - 1));
    await writer.append('b', newEvents(2), round === 0 ? 'no_stream' : BigInt(round * 2 - 1));
  };
  for (let round = 0; round < 4; round++) await append(round);
  t.equal(await writer.capabilities.index(), 20, 'the index capability moves every committed event');
  for (let round = 4; round < 7; round++) await append(round);
  const state = indexState(path);
  t.same(state, { indexed: 20n, head: 35n, rows: 20n }, 'revisions 0–11 of a are indexed, 12–20 are not');

  for (const pageSize of [1, 4, 7, 12, 13, 100]) {
    const store = await openSqliteStore({ path, pageSize, indexIntervalMs: 0 });
    t.same(revisionsOf(await collect(store.readStream('a'))), range(0, 20), `forwards, pages of ${pageSize}`);
    t.same(revisionsOf(await collect(store.readStream('a', { direction: 'backwards' }))), range(0, 20).reverse(), `backwards, pages of ${pageSize}`);
    t.same(revisionsOf(await collect(store.readStream('a', { fromRevision: 10n, maxCount: 5 }))), range(10, 14), 'straddling the boundary');
    t.same(revisionsOf(await collect(store.readStream('a', { direction: 'backwards', fromRevision: 13n, maxCount: 4 }))), [13n, 12n, 11n, 10n]);
    await store.close();
  }
});

t.test('reads stay whole while the indexer moves its checkpoint under them', async (t) => {
  const path = join(t.testdir(), 'events.db');
  const store = await openSqliteStore({ path, pageSize: 5, indexIntervalMs: 1 });
  t.teardown(() => store.close());
  let revision = -1n;
  let mismatches = 0;
  for (let round = 0; round < 60; round++) {
    const result = await store.append('s', newEvents(7), revision < 0n ? 'no_stream' : revision);
    await store.append(`noise-${round % 5}`, newEvents(3), 'any');
    revision = result.nextExpectedRevision;
    const forwards = revisionsOf(await collect(store.readStream('s')));
    const backwards = revisionsOf(await collect(store.readStream('s', { direction: 'backwards', maxCount: 9 })));
    if (forwards.length !== Number(revision) + 1 || forwards.some((r, i) => r !== BigInt(i))) mismatches++;
    if (backwards.some((r, i) => r !== revision - BigInt(i))) mismatches++;
  }
  t.equal(mismatches, 0, 'every read saw every revision once, in order');
  await store.capabilities.index();
  t.equal(indexState(path).rows, 600n, 'each event indexed once');
});

t.test('opening a large unindexed store does not hold appends until the index has caught up', async (t) => {
  const path = join(t.testdir(), 'events.db');
  // A store left by a process that appended and died before its indexer ran.
  const db = new Database(path);
  configureConnection(db);
  db.exec(SCHEMA);
  const insert = db.prepare("INSERT INTO events(stream, revision, id, type, data, metadata) VALUES (?, ?, ?, 'Tested', '{}', '{}')");
  db.transaction(() => {
    for (let i = 0; i < 150_000; i++) insert.run(`s-${i % 1000}`, Math.floor(i / 1000), `id-${i}`);
  })();
  db.close();

  const store = await openSqliteStore({ path });
  t.teardown(() => store.close());
  await store.append('fresh', newEvents(1), 'no_stream');
  t.ok(indexState(path).indexed < 150_000n, 'the append was committed while the catch-up was still under way');
  t.same(revisionsOf(await collect(store.readStream('s-7', { direction: 'backwards', maxCount: 2 }))), [149n, 148n]);
  t.equal(await store.streamRevision('s-7'), 149n);
  const stale = await store.append('s-7', newEvents(1), 148n).catch((error: unknown) => error);
  t.match(stale, { name: 'WrongExpectedRevisionError', actual: 149n }, 'revisions are checked against the unindexed tail');
  t.equal((await store.append('s-7', newEvents(1), 149n)).nextExpectedRevision, 150n);
  await store.capabilities.index();
  t.same(indexState(path), { indexed: 150_002n, head: 150_002n, rows: 150_002n }, 'then everything is indexed');
});

t.test('caught up reports the position scanned to, past events the prefix filter skipped', async (t) => {
  const store = await openSqliteStore({ path: join(t.testdir(), 'events.db') });
  t.teardown(() => store.close());
  await store.append('mining-a', newEvents(2), 'no_stream');
  const last = await store.append('other', newEvents(5), 'no_stream');
  const sub = record(store, { from: 'start', prefix: 'mining-' });
  await sub.until('caught up', () => sub.caughtUpAt >= 0);
  t.equal(sub.events.length, 2);
  t.equal(sub.caughtUpPosition, last.position, 'a checkpoint there skips the other streams next time');
  await sub.subscription.stop();
});

t.test('a writer idle while another wrote and indexed still checks revisions exactly', async (t) => {
  const path = join(t.testdir(), 'events.db');
  const idle = await openSqliteStore({ path, indexIntervalMs: 0 });
  const busy = await openSqliteStore({ path, indexIntervalMs: 0 });
  t.teardown(async () => {
    await idle.close();
    await busy.close();
  });
  await idle.append('s1', newEvents(1), 'no_stream');
  await idle.append('s4', newEvents(1), 'no_stream');
  await busy.append('s1', newEvents(1), 0n);
  await busy.append('s4', newEvents(1), 0n);
  for (let i = 0; i < 5; i++) await busy.append('s2', newEvents(2), i === 0 ? 'no_stream' : BigInt(i * 2 - 1));
  await busy.capabilities.index();
  await busy.append('s1', newEvents(1), 1n);
  await busy.append('s3', newEvents(1), 'no_stream');

  const stale = await idle.append('s1', newEvents(1), 1n).catch((error: unknown) => error);
  t.match(stale, { name: 'WrongExpectedRevisionError', actual: 2n }, "the other writer's revisions, indexed and not");
  t.equal((await idle.append('s1', newEvents(1), 2n)).nextExpectedRevision, 3n);
  t.equal((await idle.append('s2', newEvents(1), 9n)).nextExpectedRevision, 10n, 'a stream the other writer wrote and indexed');
  t.equal((await idle.append('s3', newEvents(1), 0n)).nextExpectedRevision, 1n, 'a stream only in the unindexed tail');
  const indexedSince = await idle.append('s4', newEvents(1), 0n).catch((error: unknown) => error);
  t.match(indexedSince, { name: 'WrongExpectedRevisionError', actual: 1n }, 'a stream this writer wrote, the other moved on and indexed');
  await t.rejects(busy.append('s1', newEvents(1), 2n), { name: 'WrongExpectedRevisionError' }, 'and the other way round');
});
