// The read side of the embedded store, on the calling thread. Stream reads combine the per-stream
// index with the tail of the log the worker has not indexed yet, in one statement (one snapshot).
import Database from 'better-sqlite3';
import type { RecordedEvent } from '../port.js';
import { configureConnection } from './schema.js';

export interface ScannedPage<E extends RecordedEvent = RecordedEvent> {
  events: E[];
  /** Every event up to here was looked at (matching or not): the next page may start after it. */
  scannedTo: bigint;
}

export interface Reader {
  streamPage(stream: string, from: bigint, backwards: boolean, limit: number): RecordedEvent[];
  allPage(after: bigint, limit: number, prefix?: string): ScannedPage;
  head(): bigint | null;
  streamRevision(stream: string): bigint | 'no_stream';
  /** Changes when another connection (another process, or our writer) commits. */
  dataVersion(): unknown;
  close(): void;
}

/** An `events` row as SQLite returns it (safe integers on). */
export interface Row {
  position: bigint;
  stream: string;
  revision: bigint;
  id: string;
  type: string;
  data: string;
  metadata: string;
}

const COLUMNS = 'e.position, e.stream, e.revision, e.id, e.type, e.data, e.metadata';
const UNINDEXED = "e.position > (SELECT value FROM store_meta WHERE key = 'indexed_position')";

export function toRecorded(row: Row): RecordedEvent {
  return {
    id: row.id, stream: row.stream, revision: row.revision, position: row.position, type: row.type,
    data: JSON.parse(row.data), metadata: JSON.parse(row.metadata),
  };
}

/** Opens the read connection; the schema must exist (the writer creates it before it is ready). */
export function openReader(path: string, options: { readOnly?: boolean } = {}): Reader {
  const db = new Database(path, options.readOnly ? { readonly: true, fileMustExist: true } : {});
  if (options.readOnly) {
    db.pragma('busy_timeout = 10000');
    // Fails here, with SQLite's words, on a file that is not a store.
    db.prepare("SELECT value FROM store_meta WHERE key = 'indexed_position'").get();
  } else {
    configureConnection(db);
  }
  db.defaultSafeIntegers(true);

  const streamPage = (order: 'ASC' | 'DESC', compare: '>=' | '<=') =>
    db.prepare<{ stream: string; from: bigint; limit: number }, Row>(`
      SELECT * FROM (SELECT ${COLUMNS} FROM stream_index i JOIN events e ON e.position = i.position
        WHERE i.stream = :stream AND i.revision ${compare} :from ORDER BY i.revision ${order} LIMIT :limit)
      UNION ALL
      SELECT * FROM (SELECT ${COLUMNS} FROM events e
        WHERE ${UNINDEXED} AND e.stream = :stream AND e.revision ${compare} :from ORDER BY e.position ${order} LIMIT :limit)
      ORDER BY revision ${order} LIMIT :limit`);
  const forwards = streamPage('ASC', '>=');
  const backwards = streamPage('DESC', '<=');
  const allPage = db.prepare<[bigint, number], Row>(`SELECT ${COLUMNS} FROM events e WHERE e.position > ? ORDER BY e.position LIMIT ?`);
  // length() and substr() both count characters, so any prefix compares whole.
  const allPagePrefixed = db.prepare<{ after: bigint; prefix: string; limit: number }, Row>(
    `SELECT ${COLUMNS} FROM events e WHERE e.position > :after AND substr(e.stream, 1, length(:prefix)) = :prefix ORDER BY e.position LIMIT :limit`,
  );
  const headStatement = db.prepare<[], { p: bigint | null }>('SELECT max(position) AS p FROM events');
  const revisionStatement = db.prepare<{ stream: string }, { revision: bigint | null }>(`
    SELECT max(revision) AS revision FROM (
      SELECT max(revision) AS revision FROM stream_index WHERE stream = :stream
      UNION ALL
      SELECT max(e.revision) FROM events e WHERE ${UNINDEXED} AND e.stream = :stream)`);

  // A read transaction: the page and the head come from one snapshot.
  const scannedPage = db.transaction((after: bigint, limit: number, prefix: string | undefined): ScannedPage => {
    const rows = prefix === undefined ? allPage.all(after, limit) : allPagePrefixed.all({ after, prefix, limit });
    const events = rows.map(toRecorded);
    const last = events[events.length - 1];
    if (events.length === limit) return { events, scannedTo: last!.position };
    const head = headStatement.get()!.p ?? 0n;
    return { events, scannedTo: head > after ? head : after };
  });

  return {
    streamPage(stream, from, isBackwards, limit) {
      return (isBackwards ? backwards : forwards).all({ stream, from, limit }).map(toRecorded);
    },
    allPage: (after, limit, prefix) => scannedPage(after, limit, prefix || undefined),
    head: () => headStatement.get()!.p,
    streamRevision: (stream) => revisionStatement.get({ stream })?.revision ?? 'no_stream',
    dataVersion: () => db.pragma('data_version', { simple: true }),
    close: () => db.close(),
  };
}
