// The write side of the embedded store: one transaction (one fsync) per batch of appends.
// Runs inside the writer worker; revisions are checked here, under SQLite's write lock, so several
// processes sharing the file serialize correctly.
import Database from 'better-sqlite3';
import { configureConnection, SCHEMA } from './schema.js';

export interface SerializedEvent {
  id: string;
  type: string;
  data: string;
  metadata: string;
}

export interface AppendRequest {
  stream: string;
  /** 'no_stream' | 'any' | 'stream_exists' | exact revision. */
  expected: string | bigint;
  events: SerializedEvent[];
}

export type AppendOutcome =
  | { ok: true; nextExpectedRevision: bigint; position: bigint }
  | { ok: false; conflict: true; actual: bigint | 'no_stream' }
  | { ok: false; conflict: false; message: string };

export interface Writer {
  appendBatch(batch: AppendRequest[]): AppendOutcome[];
  /** Moves committed events into the per-stream index; returns how many it indexed. */
  indexTail(limit?: number): number;
  close(): void;
}

function matches(expected: string | bigint, actual: bigint | 'no_stream'): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return actual === 'no_stream';
  if (expected === 'stream_exists') return actual !== 'no_stream';
  return actual === expected;
}

export function openWriter(path: string): Writer {
  const db = new Database(path);
  configureConnection(db);
  db.exec(SCHEMA);
  db.defaultSafeIntegers(true);

  const streamRow = db.prepare<[string], { revision: bigint; position: bigint }>(
    'SELECT revision, position FROM streams WHERE stream = ?',
  );
  const upsertStream = db.prepare('INSERT INTO streams(stream, revision, position) VALUES (?, ?, ?) ON CONFLICT(stream) DO UPDATE SET revision = excluded.revision, position = excluded.position');
  const insertEvent = db.prepare('INSERT INTO events(stream, revision, id, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)');
  const eventById = db.prepare<[string], { stream: string; revision: bigint; position: bigint }>(
    'SELECT stream, revision, position FROM events WHERE id = ?',
  );
  const indexedPosition = db.prepare<[], { value: bigint }>("SELECT value FROM store_meta WHERE key = 'indexed_position'");
  const setIndexed = db.prepare("UPDATE store_meta SET value = ? WHERE key = 'indexed_position'");
  const lastPosition = db.prepare<[], { p: bigint | null }>('SELECT max(position) AS p FROM events');
  const fillIndex = db.prepare(
    'INSERT OR IGNORE INTO stream_index(stream, revision, position) SELECT stream, revision, position FROM events WHERE position > ? AND position <= ? ORDER BY stream, revision',
  );

  /** A retried append whose events are already stored, in order, is a success, not a conflict. */
  function alreadyAppended(request: AppendRequest): AppendOutcome | undefined {
    let previous: { stream: string; revision: bigint; position: bigint } | undefined;
    for (const event of request.events) {
      const row = eventById.get(event.id);
      if (!row || row.stream !== request.stream) return undefined;
      if (previous && row.revision !== previous.revision + 1n) return undefined;
      previous = row;
    }
    if (!previous) return undefined;
    const first = eventById.get(request.events[0]!.id)!;
    const expectedOk =
      typeof request.expected === 'bigint' ? first.revision === request.expected + 1n
      : request.expected === 'no_stream' ? first.revision === 0n
      : true;
    return expectedOk ? { ok: true, nextExpectedRevision: previous.revision, position: previous.position } : undefined;
  }

  const appendOne = db.transaction((request: AppendRequest): AppendOutcome => {
    const row = streamRow.get(request.stream);
    const actual: bigint | 'no_stream' = row ? row.revision : 'no_stream';
    if (!matches(request.expected, actual)) {
      return alreadyAppended(request) ?? { ok: false, conflict: true, actual };
    }
    let revision = row ? row.revision : -1n;
    let position = row ? row.position : 0n;
    if (request.events.length === 0) return { ok: true, nextExpectedRevision: revision, position };
    for (const event of request.events) {
      revision++;
      position = insertEvent.run(request.stream, revision, event.id, event.type, event.data, event.metadata).lastInsertRowid as bigint;
    }
    upsertStream.run(request.stream, revision, position);
    return { ok: true, nextExpectedRevision: revision, position };
  });

  const appendAll = db.transaction((batch: AppendRequest[]): AppendOutcome[] =>
    batch.map((request) => {
      try {
        return appendOne(request);
      } catch (error) {
        // A nested transaction is a savepoint: this append rolled back alone, the batch goes on.
        const message = error instanceof Error ? error.message : String(error);
        if (message.includes('UNIQUE constraint failed: events.id')) {
          return alreadyAppended(request) ?? { ok: false, conflict: false, message: 'an event id in this append is already stored' };
        }
        throw error;
      }
    }),
  );

  const indexBatch = db.transaction((limit: number): number => {
    const from = indexedPosition.get()!.value;
    const last = lastPosition.get()!.p ?? 0n;
    if (last <= from) return 0;
    const to = last - from > BigInt(limit) ? from + BigInt(limit) : last;
    fillIndex.run(from, to);
    setIndexed.run(to);
    return Number(to - from);
  });

  return {
    appendBatch: (batch) => appendAll.immediate(batch),
    indexTail: (limit = 50_000) => indexBatch.immediate(limit),
    close: () => db.close(),
  };
}
