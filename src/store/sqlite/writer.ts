// The write side of the embedded store: one transaction (one fsync) per batch of appends.
// Runs inside the writer worker; revisions are checked here, under SQLite's write lock, so several
// processes sharing the file serialize correctly.
import Database from 'better-sqlite3';
import { revisionMatches, type ExpectedRevision } from '../port.js';
import type { SerializedEvent } from '../serialize.js';
import { revisionTracker } from './revisions.js';
import { configureConnection, SCHEMA } from './schema.js';

export interface AppendRequest {
  stream: string;
  expected: ExpectedRevision;
  events: SerializedEvent[];
}

export type AppendOutcome =
  /** `written`: this append inserted its events now (positions position − n + 1 … position); absent for a retry found stored. */
  | { ok: true; nextExpectedRevision: bigint; position: bigint; written?: true }
  | { ok: false; conflict: true; actual: bigint | 'no_stream' }
  /** `invalid`: refused for its content; otherwise the store could not write it. */
  | { ok: false; conflict: false; invalid: boolean; message: string };

/**
 * Appends and outcomes cross to the writer thread as one string each: a structured clone costs per
 * value (an array of 30 strings ~13 µs, the same text joined ~6 µs) and there is a message per
 * group commit. A batch is a header of decimal numbers, '|', then every text field back to back:
 *   per append: eventCount, expected (-1 no_stream, -2 any, -3 stream_exists, else the revision),
 *   stream length; per event: id, type, data and metadata lengths.
 */
export type PackedBatch = string;
/** Per outcome: tag, value, value; a string of decimals when every outcome is numeric. */
export type PackedOutcomes = string | (string | bigint | number)[];

const EXPECTED_CODES: Record<string, string> = { no_stream: '-1', any: '-2', stream_exists: '-3' };

function expectedOf(code: string): ExpectedRevision {
  switch (code) {
    case '-1': return 'no_stream';
    case '-2': return 'any';
    case '-3': return 'stream_exists';
    default: return BigInt(code);
  }
}

export function packBatch(batch: readonly AppendRequest[]): PackedBatch {
  let header = '';
  let body = '';
  for (const request of batch) {
    const { expected, events, stream } = request;
    header += `${events.length},${typeof expected === 'bigint' ? expected.toString() : EXPECTED_CODES[expected]},${stream.length},`;
    body += stream;
    for (const event of events) {
      header += `${event.id.length},${event.type.length},${event.data.length},${event.metadata.length},`;
      body += event.id + event.type + event.data + event.metadata;
    }
  }
  return `${header}|${body}`;
}

export function unpackBatch(packed: PackedBatch): AppendRequest[] {
  const bar = packed.indexOf('|');
  const numbers = packed.slice(0, bar).split(',');
  let at = bar + 1;
  const take = (length: string) => packed.slice(at, (at += Number(length)));
  const batch: AppendRequest[] = [];
  // The header ends with a comma: its last token is empty.
  for (let i = 0; i < numbers.length - 1; ) {
    const n = Number(numbers[i++]);
    const expected = expectedOf(numbers[i++]!);
    const stream = take(numbers[i++]!);
    const events = new Array<SerializedEvent>(n);
    for (let k = 0; k < n; k++) {
      const id = take(numbers[i++]!);
      const type = take(numbers[i++]!);
      const data = take(numbers[i++]!);
      events[k] = { id, type, data, metadata: take(numbers[i++]!) };
    }
    batch.push({ stream, expected, events });
  }
  return batch;
}

const OK = 0;
const OK_WRITTEN = 1;
const CONFLICT = 2;
const INVALID = 3;
const FAILED = 4;

/** Three slots per outcome: a tag and two values. */
export function packOutcomes(outcomes: readonly AppendOutcome[], from = 0, to = outcomes.length): PackedOutcomes {
  const flat: (string | bigint | number)[] = [];
  let numeric = true;
  for (let i = from; i < to; i++) {
    const o = outcomes[i]!;
    if (o.ok) flat.push(o.written ? OK_WRITTEN : OK, o.nextExpectedRevision, o.position);
    else if (o.conflict) flat.push(CONFLICT, typeof o.actual === 'bigint' ? o.actual : -1, 0);
    else {
      flat.push(o.invalid ? INVALID : FAILED, o.message, 0);
      numeric = false;
    }
  }
  return numeric ? flat.join(',') : flat;
}

/** Outcomes as they arrived; a string is split once. */
export function outcomeList(packed: PackedOutcomes): (string | bigint | number)[] {
  return typeof packed === 'string' ? packed.split(',') : packed;
}

export function unpackOutcome(flat: readonly (string | bigint | number)[], index: number): AppendOutcome {
  const at = index * 3;
  const tag = Number(flat[at]);
  const a = flat[at + 1]!;
  switch (tag) {
    case OK_WRITTEN:
      return { ok: true, nextExpectedRevision: BigInt(a), position: BigInt(flat[at + 2]!), written: true };
    case OK:
      return { ok: true, nextExpectedRevision: BigInt(a), position: BigInt(flat[at + 2]!) };
    case CONFLICT:
      return { ok: false, conflict: true, actual: Number(a) === -1 ? 'no_stream' : BigInt(a) };
    default:
      return { ok: false, conflict: false, invalid: tag === INVALID, message: String(a) };
  }
}

export interface Writer {
  appendBatch(batch: AppendRequest[]): AppendOutcome[];
  /** Moves up to `limit` committed events into the per-stream index; returns how many it indexed. */
  indexTail(limit: number): number;
  close(): void;
}

interface StoredAt {
  stream: string;
  revision: bigint;
  position: bigint;
}

/** Errors that belong to one append's content; anything else (I/O, a full disk, a lock) fails the batch. */
function isRequestFault(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_TOOBIG' || code === 'SQLITE_MISMATCH';
  return error instanceof TypeError || error instanceof RangeError;
}

export function openWriter(path: string): Writer {
  const db = new Database(path);
  configureConnection(db);
  db.exec(SCHEMA);
  db.defaultSafeIntegers(true);

  const insertEvent = db.prepare('INSERT INTO events(stream, revision, id, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)');
  const eventById = db.prepare<[string], StoredAt>('SELECT stream, revision, position FROM events WHERE id = ?');
  const indexedPosition = db.prepare<[], { value: bigint }>("SELECT value FROM store_meta WHERE key = 'indexed_position'");
  const setIndexed = db.prepare("UPDATE store_meta SET value = ? WHERE key = 'indexed_position'");
  const lastPosition = db.prepare<[], { p: bigint | null }>('SELECT max(position) AS p FROM events');
  const fillIndex = db.prepare(
    'INSERT OR IGNORE INTO stream_index(stream, revision, position) SELECT stream, revision, position FROM events WHERE position > ? AND position <= ? ORDER BY stream, revision',
  );

  /** A retried append whose events are already stored, in order, where it expected them: a success. */
  function alreadyAppended(request: AppendRequest): AppendOutcome | undefined {
    const stored: StoredAt[] = [];
    for (const event of request.events) {
      const row = eventById.get(event.id);
      if (!row || row.stream !== request.stream) return undefined;
      if (stored.length > 0 && row.revision !== stored[stored.length - 1]!.revision + 1n) return undefined;
      stored.push(row);
    }
    const first = stored[0];
    const last = stored[stored.length - 1];
    if (!first || !last) return undefined;
    const { expected } = request;
    const where = typeof expected === 'bigint' ? first.revision === expected + 1n : expected === 'no_stream' ? first.revision === 0n : true;
    return where ? { ok: true, nextExpectedRevision: last.revision, position: last.position } : undefined;
  }

  /** An id that is already stored elsewhere: in another stream, or not where this append expected it. */
  function foreignIdMessage(request: AppendRequest): string {
    const taken = request.events.map((e) => ({ id: e.id, at: eventById.get(e.id) })).find((e) => e.at);
    return taken?.at
      ? `event id ${taken.id} is already stored in ${taken.at.stream} at revision ${taken.at.revision}`
      : 'an event id in this append is already stored';
  }

  const revisions = revisionTracker(db);

  function appendOne(request: AppendRequest): AppendOutcome {
    const row = revisions.head(request.stream);
    const actual: bigint | 'no_stream' = row ? row.revision : 'no_stream';
    if (!revisionMatches(request.expected, actual)) {
      return alreadyAppended(request) ?? { ok: false, conflict: true, actual };
    }
    let revision = row ? row.revision : -1n;
    let position = row ? row.position : 0n;
    if (request.events.length === 0) return { ok: true, nextExpectedRevision: revision, position };
    for (const event of request.events) {
      revision++;
      position = insertEvent.run(request.stream, revision, event.id, event.type, event.data, event.metadata).lastInsertRowid as bigint;
    }
    revisions.moved(request.stream, { revision, position });
    return { ok: true, nextExpectedRevision: revision, position, written: true };
  }

  /** The common case: every append in the batch can be written; any error rolls the whole batch back. */
  const appendAllAtOnce = db.transaction((batch: AppendRequest[]): AppendOutcome[] => {
    revisions.refresh();
    return batch.map(appendOne);
  });

  // A nested transaction is a savepoint: an append that fails rolls back alone and the batch goes on.
  const appendInSavepoint = db.transaction(appendOne);
  const appendEachAlone = db.transaction((batch: AppendRequest[]): AppendOutcome[] => {
    revisions.refresh();
    return batch.map((request) => {
      try {
        return appendInSavepoint(request);
      } catch (error) {
        if (!isRequestFault(error)) throw error;
        const message = error instanceof Error ? error.message : String(error);
        if (message.includes('events.id')) return alreadyAppended(request) ?? { ok: false, conflict: false, invalid: true, message: foreignIdMessage(request) };
        return { ok: false, conflict: false, invalid: true, message };
      }
    });
  });

  /** Runs a batch transaction and keeps the revisions it moved only if it committed. */
  function commitBatch(run: { immediate(batch: AppendRequest[]): AppendOutcome[] }, batch: AppendRequest[]): AppendOutcome[] {
    try {
      const outcomes = run.immediate(batch);
      revisions.committed();
      return outcomes;
    } catch (error) {
      revisions.rolledBack();
      throw error;
    }
  }

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
    appendBatch(batch) {
      // A savepoint is two more statements per append: pay for them only when an append failed.
      try {
        return commitBatch(appendAllAtOnce, batch);
      } catch (error) {
        if (!isRequestFault(error)) throw error;
        return commitBatch(appendEachAlone, batch);
      }
    },
    indexTail(limit) {
      // Look before taking the write lock: an idle indexer must not make other processes wait.
      const indexed = indexedPosition.get()!.value;
      revisions.indexedUpTo(indexed);
      if ((lastPosition.get()!.p ?? 0n) <= indexed) return 0;
      const count = indexBatch.immediate(limit);
      revisions.indexedUpTo(indexedPosition.get()!.value);
      return count;
    },
    close: () => db.close(),
  };
}
