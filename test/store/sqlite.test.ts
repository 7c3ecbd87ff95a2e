// The store contract against the embedded SQLite store, with pages small enough that every read
// crosses page boundaries.
import t from 'tap';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { storeContract } from './contract.js';

void storeContract(t, 'sqlite', (t) => {
  const path = join(t.testdir(), 'events.db');
  return { open: () => openSqliteStore({ path, pageSize: 7 }) };
});
