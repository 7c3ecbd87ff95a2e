// `backup <file>`: a consistent online copy of the embedded store. `VACUUM INTO` reads one snapshot
// (a single read transaction) from a read-only connection: in WAL mode that never blocks the
// writer, and the copy holds every event committed — so every one acknowledged — before it began.
// The SQLite backup API was the other candidate; it restarts whenever another process commits
// between its steps, so under steady write load it may never finish.
import { chmodSync, closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { fsyncPath } from '../config/files.js';

export interface BackupResult {
  path: string;
  /** Last position in the copy. */
  position: bigint;
  events: bigint;
  bytes: number;
  ms: number;
}

export class BackupError extends Error {
  override readonly name = 'BackupError';
}

/** Copies the store at `source` to `target` (which must not exist); the copy is 0600 and fsynced. */
export function backupSqliteStore(source: string, target: string, now: () => number = Date.now): BackupResult {
  const from = resolve(source);
  const to = resolve(target);
  if (!existsSync(from)) throw new BackupError(`no event store at ${from}`);
  if (existsSync(to)) throw new BackupError(`${to} exists; backup never overwrites a file`);
  if (!existsSync(dirname(to))) throw new BackupError(`directory ${dirname(to)} does not exist`);
  const started = now();
  // Written aside and renamed into place: a crash leaves a .partial file, never a half backup under the name.
  const partial = join(dirname(to), `.${basename(to)}.partial-${process.pid}`);
  const db = new Database(from, { readonly: true, fileMustExist: true, timeout: 10_000 });
  try {
    db.prepare('SELECT 1 FROM events LIMIT 1').get();
    db.prepare('VACUUM INTO ?').run(partial);
  } catch (error) {
    rmSync(partial, { force: true });
    throw new BackupError(`${from}: ${(error as Error).message}`);
  } finally {
    db.close();
  }
  let position: bigint;
  let events: bigint;
  const copy = new Database(partial, { readonly: true, fileMustExist: true });
  try {
    copy.defaultSafeIntegers(true);
    const check = copy.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new BackupError(`the copy fails SQLite's quick_check: ${String(check)}`);
    const row = copy.prepare<[], { p: bigint | null; n: bigint }>('SELECT max(position) AS p, count(*) AS n FROM events').get()!;
    position = row.p ?? 0n;
    events = row.n;
  } catch (error) {
    copy.close();
    rmSync(partial, { force: true });
    throw error;
  }
  copy.close();
  // SPEC §15: store files are 0600. fsync the file, then the directory entry of the rename.
  chmodSync(partial, 0o600);
  const fd = openSync(partial, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(partial, to);
  fsyncPath(dirname(to));
  return { path: to, position, events, bytes: statSync(to).size, ms: now() - started };
}
