// The bounded integrity check (src/store/sqlite/integrity.ts) on real files: a healthy store, a file
// that is not a store, and a budget too small to finish.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { checkIntegrity, isCorruption, StoreDamagedError } from '../../src/store/sqlite/integrity.js';
import { StoreUnavailableError } from '../../src/store/port.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { newEvents } from './contract-helpers.js';

t.test('a healthy store passes; a file that is not a store is reported with SQLite\'s reason', async (t) => {
  const dir = t.testdir();
  const store = await openSqliteStore({ path: join(dir, 'events.db') });
  await store.append('s', newEvents(3), 'no_stream');
  await store.close();
  t.match(await checkIntegrity(join(dir, 'events.db'), { budgetMs: 60_000 }), { kind: 'ok' });
  writeFileSync(join(dir, 'garbage.db'), Buffer.alloc(8192, 0x41));
  const garbage = await checkIntegrity(join(dir, 'garbage.db'), { budgetMs: 60_000 });
  t.match(garbage, { kind: 'damaged', errors: [/file is not a database/] });
});

t.test('a budget it cannot meet: cut short, the child killed', async (t) => {
  const dir = t.testdir();
  const result = await checkIntegrity(join(dir, 'whatever.db'), { budgetMs: 1 });
  t.match(result, { kind: 'cut-short', reason: 'not finished within 1 ms' });
});

t.test('a store opened with the check reports its result and, when damaged, its problem', async (t) => {
  const dir = t.testdir();
  const seen: string[] = [];
  const store = await openSqliteStore({ path: join(dir, 'events.db'), integrityCheck: { budgetMs: 60_000, onResult: (r) => seen.push(r.kind) } });
  t.teardown(() => store.close());
  t.same(seen, ['ok']);
  t.equal(store.capabilities.damage(), null);
});

t.test('what counts as corruption, and what the operator is told', async (t) => {
  t.ok(isCorruption(Object.assign(new Error('database disk image is malformed'), { code: 'SQLITE_CORRUPT' })));
  t.ok(isCorruption(Object.assign(new Error('x'), { code: 'SQLITE_CORRUPT_INDEX' })));
  t.ok(isCorruption(new Error('event store write failed: database disk image is malformed (SQLITE_CORRUPT)')));
  t.notOk(isCorruption(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })));
  const error = new StoreDamagedError('/var/lib/mining-ledger/events.db', 'database disk image is malformed');
  t.type(error, StoreUnavailableError, 'answered as 503 like any unavailable store');
  t.equal(error.file, '/var/lib/mining-ledger/events.db', 'the full path for the log');
  t.notMatch(error.message, /var\/lib/, 'the message names the file, not the path');
  t.match(error.message, /events\.db is damaged .*mining-ledger verify.*restore a backup/);
});
