// Reading one long stream forwards in large pages, for the auditor's replay. The port's readStream
// hands over one row per event (seven columns, two bigints, an object each); here SQLite concatenates
// a whole page into ONE string, which is several times cheaper to take out of it, and the caller
// splits it. Same events, same order and same snapshot rules as Reader.streamPage (reader.ts): the
// per-stream index plus the tail the indexer has not reached, one read transaction per page.
import Database from 'better-sqlite3';
import type { RecordedEvent } from '../port.js';
import { configureConnection } from './schema.js';

/** Fields per event in a page's text, in this order. */
export const FIELDS = 6;
export const TYPE = 0;
const ID = 1;
const REVISION = 2;
const POSITION = 3;
export const DATA = 4;
export const METADATA = 5;

/**
 * A page of a stream's events in revision order: FIELDS strings per event (type, id, revision,
 * position, data, metadata). `text` is the same joined by line breaks, as SQLite produced it; it is
 * unset when a value itself holds a line break (never in data the store wrote).
 */
export interface StreamTextPage {
  count: number;
  /** Revision of the page's last event: the next page starts after it. */
  lastRevision: bigint;
  /** Largest position in the page (a replay that stops at a position checks events one by one only past it). */
  maxPosition: bigint;
  fields: string[];
  text?: string;
}

export interface StreamScanner {
  /** Up to `limit` events of `stream` from revision `from` (inclusive); count 0 at the end. */
  page(stream: string, from: bigint, limit: number): StreamTextPage;
  close(): void;
}

const RECORD = `e.type || char(10) || e.id || char(10) || e.revision || char(10) || e.position || char(10) || e.data || char(10) || e.metadata`;
const UNINDEXED = "e.position > (SELECT value FROM store_meta WHERE key = 'indexed_position')";

type Aggregate = [count: number, lastRevision: bigint | null, maxPosition: bigint | null, text: string | null];
type RawRow = [type: string, id: string, revision: bigint, position: bigint, data: string, metadata: string];

/** Opens a connection of its own on the store's file (the schema must exist). */
export function openStreamScanner(path: string): StreamScanner {
  const db = new Database(path, { fileMustExist: true });
  configureConnection(db);
  // One pass over the stream: SQLite's page cache would only hold what is never read again.
  db.pragma('cache_size = -2048');
  db.defaultSafeIntegers(true);

  // The indexed part alone, as one string. group_concat keeps the order of its ordered subquery;
  // the split below checks it anyway.
  const indexed = db.prepare<{ stream: string; from: bigint; limit: number }, Aggregate>(`
    SELECT count(*), max(revision), max(position), group_concat(record, char(10)) FROM (
      SELECT e.revision, e.position, ${RECORD} AS record FROM stream_index i JOIN events e ON e.position = i.position
      WHERE i.stream = :stream AND i.revision >= :from ORDER BY i.revision LIMIT :limit)`).raw(true);
  // Whether the unindexed tail has events that would join this page (the first page ending at `last`).
  const tailJoins = db.prepare<{ stream: string; from: bigint; last: bigint | null }, [bigint]>(`
    SELECT EXISTS (SELECT 1 FROM events e WHERE ${UNINDEXED} AND e.stream = :stream AND e.revision >= :from
      AND (:last IS NULL OR e.revision <= :last))`).raw(true);
  // The general case, row by row: exactly Reader.streamPage's forwards statement.
  const COLUMNS = 'e.type, e.id, e.revision, e.position, e.data, e.metadata';
  const union = db.prepare<{ stream: string; from: bigint; limit: number }, RawRow>(`
    SELECT * FROM (SELECT ${COLUMNS} FROM stream_index i JOIN events e ON e.position = i.position
      WHERE i.stream = :stream AND i.revision >= :from ORDER BY i.revision ASC LIMIT :limit)
    UNION ALL
    SELECT * FROM (SELECT ${COLUMNS} FROM events e
      WHERE ${UNINDEXED} AND e.stream = :stream AND e.revision >= :from ORDER BY e.position ASC LIMIT :limit)
    ORDER BY revision ASC LIMIT :limit`).raw(true);

  function rowsPage(rows: RawRow[]): StreamTextPage {
    const fields: string[] = [];
    let maxPosition = 0n;
    for (const row of rows) {
      fields.push(row[TYPE], row[ID], String(row[REVISION]), String(row[POSITION]), row[DATA], row[METADATA]);
      if (row[POSITION] > maxPosition) maxPosition = row[POSITION];
    }
    const last = rows[rows.length - 1];
    return { count: rows.length, lastRevision: last ? last[REVISION] : -1n, maxPosition, fields };
  }

  // One snapshot for the page and the look at the tail.
  const readPage = db.transaction((stream: string, from: bigint, limit: number): StreamTextPage => {
    const [count, lastRevision, maxPosition, text] = indexed.get({ stream, from, limit })!;
    const full = Number(count) === limit;
    if (tailJoins.get({ stream, from, last: full ? lastRevision : null })![0]) return rowsPage(union.all({ stream, from, limit }));
    if (Number(count) === 0) return { count: 0, lastRevision: -1n, maxPosition: 0n, fields: [] };
    const fields = text!.split('\n');
    if (!inOrder(fields, Number(count))) return rowsPage(union.all({ stream, from, limit }));
    return { count: Number(count), lastRevision: lastRevision!, maxPosition: maxPosition!, text: text!, fields };
  });

  return {
    page: (stream, from, limit) => readPage(stream, from, limit),
    close: () => db.close(),
  };
}

/** The text split into exactly FIELDS lines per event, and revisions rise line by line. */
function inOrder(fields: string[], count: number): boolean {
  if (fields.length !== count * FIELDS) return false;
  let previous = -1;
  for (let i = REVISION; i < fields.length; i += FIELDS) {
    const revision = Number(fields[i]);
    // Past 2^53 two revisions may read alike: the row-by-row read takes those pages.
    if (!(revision > previous) || revision > Number.MAX_SAFE_INTEGER) return false;
    previous = revision;
  }
  return true;
}

/** A stored event whose revision and position are turned into bigints only if someone asks. */
class PageEvent implements RecordedEvent {
  constructor(
    readonly stream: string,
    readonly id: string,
    readonly type: string,
    private readonly revisionText: string,
    private readonly positionText: string,
    readonly data: unknown,
    readonly metadata: unknown,
  ) {}

  get revision(): bigint {
    return BigInt(this.revisionText);
  }

  get position(): bigint {
    return BigInt(this.positionText);
  }
}

/** Event `i` of a page, data and metadata parsed (a SyntaxError, as from the port's read, when they are not JSON). */
export function pageEvent(stream: string, fields: string[], i: number): RecordedEvent {
  const f = i * FIELDS;
  return new PageEvent(
    stream, fields[f + ID]!, fields[f + TYPE]!, fields[f + REVISION]!, fields[f + POSITION]!,
    JSON.parse(fields[f + DATA]!), JSON.parse(fields[f + METADATA]!),
  );
}

/** Revision and position of event `i` of a page, as bigints. */
export function pagePlace(fields: string[], i: number): { revision: bigint; position: bigint } {
  return { revision: BigInt(fields[i * FIELDS + REVISION]!), position: BigInt(fields[i * FIELDS + POSITION]!) };
}

/** An event's stored fields, as text. */
export interface RawEvent {
  type: string;
  id: string;
  revision: string;
  position: string;
  data: string;
  metadata: string;
}

export function rawFields(fields: string[], i: number): RawEvent {
  const f = i * FIELDS;
  return {
    type: fields[f + TYPE]!, id: fields[f + ID]!, revision: fields[f + REVISION]!, position: fields[f + POSITION]!,
    data: fields[f + DATA]!, metadata: fields[f + METADATA]!,
  };
}

/** The stored event of `rawFields`, data and metadata parsed as the port's read does. */
export function rawEvent(stream: string, raw: RawEvent): RecordedEvent {
  return new PageEvent(stream, raw.id, raw.type, raw.revision, raw.position, JSON.parse(raw.data), JSON.parse(raw.metadata));
}
