// Each stream's last revision, as the writer needs it to check expected revisions, without a table
// that every append would update at a random place (a page per append per distinct stream: ~6× the
// WAL bytes of the event itself with 100,000 streams).
//
// Invariant, for every stream S and `lastSeen` (a position this writer has looked at the log up to):
// if S is in `recent`, `recent[S]` is S's last event at or before `lastSeen`; otherwise every event of
// S at or before `lastSeen` is in `stream_index`. Inside each write transaction, holding SQLite's
// write lock, `refresh()` reads what other processes committed after `lastSeen`, so the check is
// exact whichever process wrote last.
import type Database from 'better-sqlite3';

export interface StreamHead {
  revision: bigint;
  position: bigint;
}

export interface RevisionTracker {
  /** Inside a write transaction: take in what other connections committed since we last looked. */
  refresh(): void;
  /** The stream's last event as the current transaction sees it, or undefined for no stream. */
  head(stream: string): StreamHead | undefined;
  /** An append of the current transaction; kept only if the transaction commits. */
  moved(stream: string, head: StreamHead): void;
  committed(): void;
  rolledBack(): void;
  /** Every event at or before `position` is in the per-stream index now: forget those streams. */
  indexedUpTo(position: bigint): void;
}

export function revisionTracker(db: Database.Database): RevisionTracker {
  const lastPosition = db.prepare<[], { p: bigint | null }>('SELECT max(position) AS p FROM events');
  const committedAfter = db.prepare<[bigint, bigint], { stream: string; revision: bigint; position: bigint }>(
    'SELECT stream, revision, position FROM events WHERE position > ? AND position <= ? ORDER BY position',
  );
  const lastIndexed = db.prepare<[string], StreamHead>(
    'SELECT revision, position FROM stream_index WHERE stream = ? ORDER BY revision DESC LIMIT 1',
  );
  const indexedPosition = db.prepare<[], { value: bigint }>("SELECT value FROM store_meta WHERE key = 'indexed_position'");

  const recent = new Map<string, StreamHead>();
  const pending = new Map<string, StreamHead>();
  let lastSeen = indexedPosition.get()!.value;
  let pendingLast = 0n;
  let prunedAt = lastSeen;

  /** Everything at or before `position` is indexed: forget those streams, and read on from there. */
  function indexedUpTo(position: bigint): void {
    if (position <= prunedAt) return;
    prunedAt = position;
    for (const [stream, head] of recent) if (head.position <= position) recent.delete(stream);
    // A writer idle while others wrote and indexed need not read their events one by one.
    if (position > lastSeen) lastSeen = position;
  }

  return {
    refresh() {
      indexedUpTo(indexedPosition.get()!.value);
      const head = lastPosition.get()!.p ?? 0n;
      if (head <= lastSeen) return;
      for (const row of committedAfter.iterate(lastSeen, head)) recent.set(row.stream, { revision: row.revision, position: row.position });
      lastSeen = head;
    },
    head: (stream) => pending.get(stream) ?? recent.get(stream) ?? lastIndexed.get(stream),
    moved(stream, head) {
      pending.set(stream, head);
      if (head.position > pendingLast) pendingLast = head.position;
    },
    committed() {
      for (const [stream, head] of pending) recent.set(stream, head);
      if (pendingLast > lastSeen) lastSeen = pendingLast;
      pending.clear();
      pendingLast = 0n;
    },
    rolledBack() {
      pending.clear();
      pendingLast = 0n;
    },
    indexedUpTo,
  };
}
