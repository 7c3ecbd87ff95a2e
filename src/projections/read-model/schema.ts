// The read-model file: its schema, its pragmas, and how each kind of process opens it.
// Rollback-journal mode (not WAL) on purpose: `rebuild --swap` replaces the file by rename, and only
// a rollback journal lets SQLite refuse writes to a renamed file (SQLITE_READONLY_DBMOVED) instead
// of pairing a new file with the old one's -wal/-shm. See docs/projections.md.
import { rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { ensurePrivateFile } from '../../config/files.js';

/** Bump when the tables change; a file of another version is refused with "run rebuild". */
export const READ_MODEL_SCHEMA_VERSION = 1;

export const READ_MODEL_SCHEMA = `
CREATE TABLE IF NOT EXISTS accounts (
  account_id      TEXT    PRIMARY KEY,
  balance_units   INTEGER NOT NULL,
  credited_ms     INTEGER NOT NULL,
  mining          INTEGER NOT NULL,
  active_seq      INTEGER,
  session_count   INTEGER NOT NULL,
  last_event_at   INTEGER,
  stream_revision INTEGER,
  position        INTEGER NOT NULL,
  events          INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS accounts_active ON accounts(account_id) WHERE active_seq IS NOT NULL;
CREATE TABLE IF NOT EXISTS sessions (
  account_id           TEXT    NOT NULL,
  seq                  INTEGER NOT NULL,
  session_id           TEXT    NOT NULL,
  started_at           INTEGER NOT NULL,
  rate_units_per_hour  INTEGER NOT NULL,
  heartbeat_timeout_ms INTEGER NOT NULL,
  max_session_ms       INTEGER NOT NULL,
  last_presence_at     INTEGER NOT NULL,
  last_heartbeat_at    INTEGER,
  heartbeats           INTEGER NOT NULL,
  credited_ms          INTEGER NOT NULL,
  stopped_at           INTEGER,
  reason               TEXT,
  earned_units         INTEGER NOT NULL,
  PRIMARY KEY (account_id, seq)
) WITHOUT ROWID;
-- Added with BalanceAdjusted (SPEC §10) and created on open: a file from before it held no adjustments,
-- so it needs no rebuild. Balances in accounts.balance_units already include these.
CREATE TABLE IF NOT EXISTS adjustments (
  account_id    TEXT    NOT NULL,
  seq           INTEGER NOT NULL,
  adjustment_id TEXT    NOT NULL,
  at            INTEGER NOT NULL,
  amount_units  INTEGER NOT NULL,
  reason        TEXT    NOT NULL,
  note          TEXT    NOT NULL,
  reference     TEXT,
  actor_kind    TEXT    NOT NULL,
  actor_id      TEXT    NOT NULL,
  position      INTEGER NOT NULL,
  PRIMARY KEY (account_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoint (
  id       INTEGER PRIMARY KEY CHECK (id = 1),
  position INTEGER NOT NULL,
  events   INTEGER NOT NULL
);
INSERT OR IGNORE INTO checkpoint(id, position, events) VALUES (1, 0, 0);
CREATE TABLE IF NOT EXISTS read_model_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
`;

export class ReadModelVersionError extends Error {
  override readonly name = 'ReadModelVersionError';
}

/** Identity of the file behind a path; a rename over the path changes it. */
export function fileIdentity(path: string): string | null {
  try {
    const s = statSync(path, { bigint: true });
    return `${s.dev}:${s.ino}`;
  } catch {
    return null;
  }
}

function checkVersion(db: Database.Database, path: string): void {
  const row = db.prepare<[], { value: string }>("SELECT value FROM read_model_meta WHERE key = 'schema_version'").get();
  if (row && Number(row.value) !== READ_MODEL_SCHEMA_VERSION) {
    throw new ReadModelVersionError(
      `read model ${path} has schema version ${row.value}, this build expects ${READ_MODEL_SCHEMA_VERSION}: run \`mining-ledger rebuild\``,
    );
  }
}

function createSchema(db: Database.Database, path: string): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec(READ_MODEL_SCHEMA);
    checkVersion(db, path);
    db.prepare("INSERT OR IGNORE INTO read_model_meta(key, value) VALUES ('schema_version', ?)").run(String(READ_MODEL_SCHEMA_VERSION));
    db.exec('COMMIT');
  } catch (error) {
    // A failed BEGIN (a file that is not a database, /dev/null) leaves no transaction to roll back.
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

export interface OpenedReadModel {
  db: Database.Database;
  /** fileIdentity() of the file this connection has open. */
  identity: string;
}

/**
 * Opens (creating if needed) a read-model file for writing. The identity is taken before and after
 * opening, so a swap racing the open is noticed rather than attributed to the wrong file.
 */
export function openWritable(path: string, options: { durable?: boolean; busyTimeoutMs?: number | undefined } = {}): OpenedReadModel {
  for (;;) {
    if (fileIdentity(path) === null) ensurePrivateFile(path);
    const before = fileIdentity(path);
    const db = new Database(path, { timeout: options.busyTimeoutMs ?? 10_000 });
    db.pragma('journal_mode = DELETE');
    db.pragma(`synchronous = ${options.durable === false ? 'OFF' : 'FULL'}`);
    db.pragma('cache_size = -32768');
    createSchema(db, path);
    db.defaultSafeIntegers(true);
    const after = fileIdentity(path);
    if (after !== null && (before === null || before === after)) return { db, identity: after };
    db.close();
  }
}

/** Opens an existing read-model file read-only (a follower of a file another process keeps). */
export function openReadonly(path: string): OpenedReadModel {
  for (;;) {
    const before = fileIdentity(path);
    if (before === null) {
      // Nothing projected yet: lay down the empty schema so followers can start before the projector.
      openWritable(path).db.close();
      continue;
    }
    const db = new Database(path, { readonly: true, fileMustExist: true, timeout: 10_000 });
    checkVersion(db, path);
    db.defaultSafeIntegers(true);
    if (fileIdentity(path) === before) return { db, identity: before };
    db.close();
  }
}

/** Fresh file for a rebuild: no journal, no fsync until the end (a failed build is thrown away). */
export function openScratch(path: string): Database.Database {
  ensurePrivateFile(path);
  const db = new Database(path);
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -131072');
  db.exec(READ_MODEL_SCHEMA);
  db.prepare("INSERT OR REPLACE INTO read_model_meta(key, value) VALUES ('schema_version', ?)").run(String(READ_MODEL_SCHEMA_VERSION));
  db.defaultSafeIntegers(true);
  return db;
}

export function readCheckpoint(db: Database.Database): { position: bigint; events: bigint } {
  return db.prepare<[], { position: bigint; events: bigint }>('SELECT position, events FROM checkpoint WHERE id = 1').get()!;
}

/** SQLite error codes that mean "the file under this path is no longer the one this connection has". */
export function isMovedError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_READONLY_DBMOVED' || code === 'SQLITE_READONLY_ROLLBACK';
}

/** Removes a scratch read-model file (a rebuild's or one of its parts) with its rollback journal. */
export function removeScratch(path: string): void {
  rmSync(path, { force: true });
  rmSync(`${path}-journal`, { force: true });
}
