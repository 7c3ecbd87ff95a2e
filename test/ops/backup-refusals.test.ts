// `backup <file>` refuses what it cannot do, creating nothing (the live backup is in backup.test.ts).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { cli } from './helpers.js';

t.test('backup refuses what it cannot do (exit 2), creating nothing', async (t) => {
  const dir = t.testdir();
  const none = await cli(['backup', join(dir, 'copy.db')], { DATA_DIR: dir, LOG_LEVEL: 'silent' });
  t.equal(none.code, 2);
  t.match(none.stderr, /no event store at/);
  t.notOk(existsSync(join(dir, 'copy.db')));
  t.equal((await cli(['backup'], { DATA_DIR: dir })).code, 2, 'missing file argument');
  const esdb = await cli(['backup', join(dir, 'x')], { DATA_DIR: dir, EVENT_STORE_URL: 'esdb://localhost:2113?tls=false' });
  t.equal(esdb.code, 2);
  t.match(esdb.stderr, /EventStoreDB .*PostgreSQL use pg_dump/);
  const missingDir = await cli(['backup', join(dir, 'nowhere', 'copy.db')], { DATA_DIR: dir });
  t.equal(missingDir.code, 2);
});

t.test('backup never overwrites a file', async (t) => {
  const dir = t.testdir();
  const data = join(dir, 'data');
  mkdirSync(data);
  const store = await openSqliteStore({ path: join(data, 'events.db') });
  await store.append('mining-x', [{ id: randomUUID(), type: 'Child', data: {}, metadata: {} }], 'no_stream');
  await store.close();
  const target = join(dir, 'copy.db');
  t.equal((await cli(['backup', target], { DATA_DIR: data })).code, 0);
  const again = await cli(['backup', target], { DATA_DIR: data });
  t.equal(again.code, 2);
  t.match(again.stderr, /exists; backup never overwrites/);
});
