// The PostgreSQL event store: one table in one schema, appends with group commit under one
// advisory lock (positions in commit order), reads in pages, catch-up subscriptions woken by
// LISTEN/NOTIFY. Several processes on several machines may share it (see docs/store.md).
import pg from 'pg';
import { ConfigError } from '../../config/config.js';
import {
  StoreUnavailableError,
  type AppendResult, type EventStore, type EventToAppend, type ExpectedRevision, type FromPosition,
  type ReadAllOptions, type ReadStreamOptions, type RecordedEvent,
} from '../port.js';
import { serializeEvents } from '../serialize.js';
import { decodeEvents, EVENT_COLUMNS, toPosition, type EventRow } from './codec.js';
import { isUnavailable, toPortError } from './errors.js';
import { commitNotifier } from './notifier.js';
import { ensureSchema, namesOf, parsePostgresUrl } from './schema.js';
import { subscribePostgres, type ScannedPage } from './subscription.js';
import { groupCommitWriter } from './writer.js';
import { pagedStream } from '../stream-pages.js';

export interface PostgresStoreOptions {
  /** Events per read page and per subscription batch (default 1000). */
  pageSize?: number;
  /** Connections in the pool (default 8); a listening connection comes on top while someone subscribes. */
  poolSize?: number;
  /** Longest a subscriber waits without a notification before it looks anyway (ms, default 1000). */
  pollIntervalMs?: number;
  /** Most events in one group-commit transaction (default 5000). */
  maxBatchEvents?: number;
}

export interface PostgresEventStore extends EventStore {
  /** The schema that holds this store's table. */
  readonly schema: string;
}

/** SQLSTATEs at start that no retry will cure: bad credentials, no such database, no right to create the schema. */
const REFUSED_AT_START = /^(28|3D|42501)/;

export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<PostgresEventStore> {
  const location = parsePostgresUrl(url);
  const names = namesOf(location.schema);
  const pageSize = options.pageSize ?? 1000;
  const pool = new pg.Pool({
    connectionString: location.connectionString,
    max: options.poolSize ?? 8,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 10_000,
    query_timeout: 30_000,
    keepAlive: true,
    application_name: 'mining-ledger',
  });
  // An idle connection that dies (a server restart) is reported here; the next checkout gets a new one.
  pool.on('error', () => undefined);
  // A checked-out connection (the writer's, mid-transaction) has no listener of the pool's: without
  // this one, the server going away would be an uncaught 'error' event; the query itself rejects.
  pool.on('connect', (client) => client.on('error', () => undefined));
  let closed = false;

  let schemaReady: Promise<void> | undefined;
  const ready = (): Promise<void> => {
    schemaReady ??= (async () => {
      const client = await pool.connect();
      try {
        await ensureSchema(client, names);
        client.release();
      } catch (error) {
        client.release(error as Error);
        throw error;
      }
    })().catch((error: unknown) => {
      schemaReady = undefined;
      throw error;
    });
    return schemaReady;
  };

  const notifier = commitNotifier({ connectionString: location.connectionString, channel: names.channel, pollIntervalMs: options.pollIntervalMs ?? 1000 });
  const writer = groupCommitWriter({ pool, names, ready, onCommitted: notifier.bump, maxBatchEvents: options.maxBatchEvents });

  async function query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<R[]> {
    if (closed) throw new StoreUnavailableError('event store is closed');
    try {
      await ready();
      return (await pool.query<R>(text, values)).rows;
    } catch (error) {
      throw toPortError(error);
    }
  }

  const streamForwards = `SELECT ${EVENT_COLUMNS} FROM ${names.events} WHERE stream = $1 AND revision >= $2 ORDER BY revision LIMIT $3`;
  const streamBackwards = `SELECT ${EVENT_COLUMNS} FROM ${names.events} WHERE stream = $1 AND revision <= $2 ORDER BY revision DESC LIMIT $3`;
  // One statement, one snapshot: the head read beside the page is safe to skip to when the page is short.
  const allPage = `SELECT h.head, e.* FROM (SELECT max(position) AS head FROM ${names.events}) h LEFT JOIN LATERAL (
      SELECT ${EVENT_COLUMNS} FROM ${names.events}
      WHERE position > $1 AND ($3::text IS NULL OR starts_with(stream, $3)) ORDER BY position LIMIT $2) e ON true`;

  async function readPage(after: bigint, limit: number, prefix: string | undefined): Promise<ScannedPage> {
    const rows = await query<EventRow & { head: string | null }>(allPage, [after.toString(), limit, prefix || null]);
    const events = decodeEvents(rows.filter((row) => row.position !== null));
    const head = toPosition(rows[0]?.head) ?? 0n;
    const scannedTo = events.length < limit ? (head > after ? head : after) : events[events.length - 1]!.position;
    return { events, scannedTo };
  }

  try {
    await ready();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && REFUSED_AT_START.test(code)) {
      await pool.end().catch(() => undefined);
      throw new ConfigError(`EVENT_STORE_URL: PostgreSQL refused the connection: ${(error as Error).message}`);
    }
    // The server is not there yet: every call answers unavailable until it is, and creates the table then.
    if (!isUnavailable(error)) {
      await pool.end().catch(() => undefined);
      throw error;
    }
  }

  const store: PostgresEventStore = {
    schema: location.schema,
    // Only the port: reads go through readAll/readStream (consumers fall back to them).
    capabilities: {},

    async append(stream: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
      if (closed) throw new StoreUnavailableError('event store is closed');
      return writer.append({ stream, expected, events: serializeEvents(stream, events) });
    },

    readStream(stream: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
      return pagedStream(options, pageSize, async (from, backwards, limit) =>
        decodeEvents(await query<EventRow>(backwards ? streamBackwards : streamForwards, [stream, from.toString(), limit])));
    },

    async *readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
      let after = options.from === undefined || options.from === 'start' ? 0n : options.from;
      let remaining = options.maxCount ?? Infinity;
      while (remaining > 0) {
        const limit = Math.min(pageSize, remaining);
        const page = await readPage(after, limit, options.prefix);
        for (const event of page.events) yield event;
        if (page.events.length < limit) return;
        remaining -= page.events.length;
        after = page.scannedTo;
      }
    },

    subscribeToAll(options, handler) {
      return subscribePostgres({
        from: options.from ?? 'start',
        batchSize: options.batchSize ?? pageSize,
        readPage: (after, limit) => readPage(after, limit, options.prefix),
        notifier,
        isClosed: () => closed,
        handler,
      });
    },

    async headPosition(): Promise<FromPosition> {
      const [row] = await query<{ head: string | null }>(`SELECT max(position) AS head FROM ${names.events}`, []);
      return toPosition(row?.head) ?? 'start';
    },

    async streamRevision(stream: string): Promise<bigint | 'no_stream'> {
      const [row] = await query<{ revision: string | null }>(`SELECT max(revision) AS revision FROM ${names.events} WHERE stream = $1`, [stream]);
      return toPosition(row?.revision) ?? 'no_stream';
    },

    async close(): Promise<void> {
      if (closed) return;
      await writer.close();
      closed = true;
      await notifier.close();
      await pool.end().catch(() => undefined);
    },
  };
  return store;
}
