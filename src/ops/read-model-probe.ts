// A read model opened read-only for `doctor`: its checkpoint, its active sessions, its newest event.
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { createQueries, type ReadModelQueries } from '../projections/read-model/queries.js';
import { readCheckpoint } from '../projections/read-model/schema.js';

export interface ReadModelProbe {
  readonly path: string;
  checkpoint(): bigint;
  queries: ReadModelQueries;
  /** The newest `at` the read model has seen (ms), or null. */
  lastEventAt(): number | null;
  activeCount(): number;
  close(): void;
}

/** Undefined when there is no read-model file (nothing is created). */
export function openReadModelProbe(path: string): ReadModelProbe | undefined {
  if (!existsSync(path)) return undefined;
  const db = new Database(path, { readonly: true, fileMustExist: true, timeout: 5000 });
  try {
    db.defaultSafeIntegers(true);
    const queries = createQueries(db);
    const lastStmt = db.prepare<[], { at: bigint | null }>('SELECT max(last_event_at) AS at FROM accounts');
    const activeStmt = db.prepare<[], { n: bigint }>('SELECT count(*) AS n FROM accounts WHERE active_seq IS NOT NULL');
    return {
      path,
      checkpoint: () => readCheckpoint(db).position,
      queries,
      lastEventAt() {
        const at = lastStmt.get()!.at;
        return at === null ? null : Number(at);
      },
      activeCount: () => Number(activeStmt.get()!.n),
      close: () => db.close(),
    };
  } catch (error) {
    db.close();
    throw error;
  }
}
