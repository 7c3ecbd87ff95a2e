// What `doctor` asks of an event store, opened so that nothing is created or written: the embedded
// file through its own read-only connection, any other adapter through the port.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { openEventStore } from '../store/open.js';
import { rawCodec } from '../store/port.js';

export interface LastEvent {
  position: bigint;
  /** metadata.recordedAt in ms, when the event carries it. */
  recordedAt: number | undefined;
}

export interface StoreProbe {
  /** e.g. "sqlite", "esdb" */
  readonly kind: string;
  /** Position of the last event (0n when empty). */
  head(): Promise<bigint>;
  /** The last event, or undefined when the adapter cannot read backwards (then say so). */
  lastEvent(): Promise<LastEvent | null | undefined>;
  /** recordedAt (ms) of the first event after `position`; undefined when none. */
  firstRecordedAfter(position: bigint): Promise<number | undefined>;
  streamRevision(stream: string): Promise<bigint | 'no_stream'>;
  close(): Promise<void>;
}

/** The store does not exist: a read-only tool does not create one (exit 2). */
export class NoStoreError extends Error {
  override readonly name = 'NoStoreError';
}

function recordedAtOf(metadata: string | unknown): number | undefined {
  try {
    const parsed = (typeof metadata === 'string' ? JSON.parse(metadata) : metadata) as { recordedAt?: unknown } | null;
    const at = typeof parsed?.recordedAt === 'string' ? Date.parse(parsed.recordedAt) : NaN;
    return Number.isFinite(at) ? at : undefined;
  } catch {
    return undefined;
  }
}

export function openSqliteProbe(file: string): StoreProbe {
  const path = resolve(file);
  if (!existsSync(path)) throw new NoStoreError(`no event store at ${path} (doctor never creates one; check EVENT_STORE_URL / DATA_DIR)`);
  const db = new Database(path, { readonly: true, fileMustExist: true, timeout: 5000 });
  db.defaultSafeIntegers(true);
  try {
    db.prepare("SELECT 1 FROM events LIMIT 1").get();
  } catch (error) {
    db.close();
    throw new NoStoreError(`${path} is not an event store: ${(error as Error).message}`);
  }
  const headStmt = db.prepare<[], { p: bigint | null }>('SELECT max(position) AS p FROM events');
  const lastStmt = db.prepare<[], { position: bigint; metadata: string }>('SELECT position, metadata FROM events ORDER BY position DESC LIMIT 1');
  const afterStmt = db.prepare<[bigint], { metadata: string }>('SELECT metadata FROM events WHERE position > ? ORDER BY position LIMIT 1');
  const revisionStmt = db.prepare<{ stream: string }, { revision: bigint | null }>(`
    SELECT max(revision) AS revision FROM (
      SELECT max(revision) AS revision FROM stream_index WHERE stream = :stream
      UNION ALL
      SELECT max(e.revision) FROM events e
        WHERE e.position > (SELECT value FROM store_meta WHERE key = 'indexed_position') AND e.stream = :stream)`);
  return {
    kind: 'sqlite',
    head: async () => headStmt.get()!.p ?? 0n,
    async lastEvent() {
      const row = lastStmt.get();
      return row ? { position: row.position, recordedAt: recordedAtOf(row.metadata) } : null;
    },
    async firstRecordedAfter(position) {
      const row = afterStmt.get(position);
      return row ? recordedAtOf(row.metadata) : undefined;
    },
    streamRevision: async (stream) => revisionStmt.get({ stream })?.revision ?? 'no_stream',
    close: async () => void db.close(),
  };
}

/** Any adapter through the port (EventStoreDB, PostgreSQL, …): a server store, nothing to create. */
export async function openPortProbe(url: string): Promise<StoreProbe> {
  const store = await openEventStore(url, { codec: rawCodec });
  return {
    kind: url.split(':')[0]!,
    async head() {
      const head = await store.headPosition();
      return head === 'start' ? 0n : head;
    },
    // The port reads forwards only: the last event's time comes from the read model instead.
    lastEvent: async () => undefined,
    async firstRecordedAfter(position) {
      for await (const event of store.readAll({ from: position, maxCount: 1 })) return recordedAtOf(event.metadata);
      return undefined;
    },
    streamRevision: (stream) => store.streamRevision(stream),
    close: () => store.close(),
  };
}

export async function openStoreProbe(url: string): Promise<StoreProbe> {
  return url.startsWith('sqlite:') ? openSqliteProbe(url.slice('sqlite:'.length)) : openPortProbe(url);
}
