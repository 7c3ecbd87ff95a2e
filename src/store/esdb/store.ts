// The EventStoreDB adapter: a thin mapping of the port onto @eventstore/db-client (see docs/store.md).
import {
  BACKWARDS, END, EventStoreDBClient, FORWARDS, START,
  type AllStreamResolvedEvent, type ReadRevision, type ResolvedEvent, type StreamingRead,
} from '@eventstore/db-client';
import { ConfigError } from '../../config/config.js';
import {
  InvalidAppendError, revisionMatches, StoreUnavailableError, WrongExpectedRevisionError,
  type AppendResult, type EventStore, type EventToAppend, type ExpectedRevision, type FromPosition,
  type ReadAllOptions, type ReadStreamOptions, type RecordedEvent,
} from '../port.js';
import {
  isPartialRetry, isStreamNotFound, isSystemStream, positionOf, toEventData, toExpectedRevision, toPortError, toReadPosition, toRecorded,
} from './mapping.js';
import { subscribeEsdb } from './subscription.js';

/** How far back headPosition looks past the server's own events for the last one of ours. */
const HEAD_SEARCH = 10_000;
/** readAll asks for $all in pages of this many records (see docs/store.md: the v6 client cannot filter reads). */
export const READ_ALL_PAGE = 4096;

/**
 * One client per connection string per process, shared by every store opened on it. The v6 client
 * keeps pending batch appends in one module-global map, and a stream error on any client rejects
 * every pending append of every client in the process; with a single client an error only fails
 * appends that really went through the broken connection.
 */
const clients = new Map<string, { client: EventStoreDBClient; users: number }>();

export function acquireEsdbClient(url: string): EventStoreDBClient {
  let entry = clients.get(url);
  if (!entry) {
    try {
      entry = { client: EventStoreDBClient.connectionString(url), users: 0 };
    } catch (error) {
      throw new ConfigError(`EVENT_STORE_URL: ${error instanceof Error ? error.message : String(error)}`);
    }
    clients.set(url, entry);
  }
  entry.users++;
  return entry.client;
}

export async function releaseEsdbClient(url: string, client: EventStoreDBClient): Promise<void> {
  const entry = clients.get(url);
  if (!entry || entry.client !== client || --entry.users > 0) return;
  clients.delete(url);
  await client.dispose();
}

export interface EsdbStoreOptions {
  /** A client made by the caller (tests); it is not shared and close() leaves it open. */
  client?: EventStoreDBClient;
}

export async function openEsdbStore(url: string, options: EsdbStoreOptions = {}): Promise<EventStore> {
  const client = options.client ?? acquireEsdbClient(url);
  let closed = false;
  const live = () => {
    if (closed) throw new StoreUnavailableError('event store is closed');
    return client;
  };

  /** Iterates a read, ending it on the server too when the caller stops early. */
  async function* drain<E>(read: StreamingRead<E>): AsyncGenerator<E> {
    let finished = false;
    try {
      for await (const item of read) yield item;
      finished = true;
    } finally {
      if (!finished) await read.cancel().catch(() => undefined);
    }
  }

  async function lastOf(stream: string): Promise<RecordedEvent | undefined> {
    for await (const event of store.readStream(stream, { direction: 'backwards', maxCount: 1 })) return event;
    return undefined;
  }

  async function eventAt(stream: string, revision: bigint): Promise<RecordedEvent | undefined> {
    for await (const event of store.readStream(stream, { fromRevision: revision, maxCount: 1 })) return event;
    return undefined;
  }

  async function emptyAppend(stream: string, expected: ExpectedRevision): Promise<AppendResult> {
    const last = await lastOf(stream);
    const actual = last ? last.revision : 'no_stream';
    if (!revisionMatches(expected, actual)) throw new WrongExpectedRevisionError(stream, expected, actual);
    return { nextExpectedRevision: last ? last.revision : -1n, position: last ? last.position : 0n };
  }

  const store: EventStore = {
    // Only the port: reads go through readAll/readStream (consumers fall back to them).
    capabilities: {},

    async append(stream: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
      const data = toEventData(stream, events);
      if (data.length === 0) return emptyAppend(stream, expected);
      let result;
      try {
        result = await live().appendToStream(stream, data, { expectedRevision: toExpectedRevision(expected) });
      } catch (error) {
        const mapped = toPortError(error, stream, expected, closed);
        if (mapped instanceof WrongExpectedRevisionError && (expected === 'no_stream' || typeof expected === 'bigint')) {
          const next = await eventAt(stream, expected === 'no_stream' ? 0n : expected + 1n).catch(() => undefined);
          if (isPartialRetry(events, next)) {
            throw new InvalidAppendError(`${stream}: a retry that matches only part of an earlier append (event ${next!.id} is already there)`);
          }
        }
        throw mapped;
      }
      // An idempotent retry may come back without a position: ask for its last event's own.
      const position = result.position?.commit ?? (await eventAt(stream, result.nextExpectedRevision))?.position ?? 0n;
      return { nextExpectedRevision: result.nextExpectedRevision, position };
    },

    async *readStream(stream: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
      const backwards = options.direction === 'backwards';
      const maxCount = options.maxCount ?? Infinity;
      if (maxCount <= 0) return;
      const from = options.fromRevision ?? (backwards ? 'end' : 'start');
      const fromRevision: ReadRevision = from === 'start' ? START : from === 'end' ? END : from;
      const read = live().readStream(stream, {
        direction: backwards ? BACKWARDS : FORWARDS,
        fromRevision,
        ...(Number.isFinite(maxCount) ? { maxCount } : {}),
      });
      try {
        for await (const resolved of drain<ResolvedEvent>(read)) {
          const recorded = toRecorded(resolved);
          if (recorded) yield recorded;
        }
      } catch (error) {
        if (isStreamNotFound(error)) return;
        throw toPortError(error, undefined, undefined, closed);
      }
    },

    async *readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
      let from = options.from ?? 'start';
      let remaining = options.maxCount ?? Infinity;
      if (remaining <= 0) return;
      // The v6 client's readAll always sends "no filter", so a prefix is applied here; reading in pages
      // keeps each server call bounded and lets a reader that stops early leave no long read open.
      for (;;) {
        const read = live().readAll({ direction: FORWARDS, fromPosition: toReadPosition(from), maxCount: READ_ALL_PAGE });
        let records = 0;
        let last: bigint | undefined;
        try {
          for await (const resolved of drain<AllStreamResolvedEvent>(read)) {
            records++;
            last = positionOf(resolved) ?? last;
            const recorded = toRecorded(resolved);
            // $all reads include their starting position; the port's positions are exclusive.
            if (!recorded || (from !== 'start' && recorded.position <= from)) continue;
            if (options.prefix && !recorded.stream.startsWith(options.prefix)) continue;
            yield recorded;
            if (--remaining <= 0) return;
          }
        } catch (error) {
          throw toPortError(error, undefined, undefined, closed);
        }
        if (records < READ_ALL_PAGE || last === undefined || (from !== 'start' && last <= from)) return;
        from = last;
      }
    },

    subscribeToAll(options, handler) {
      return subscribeEsdb(live(), { from: options.from ?? 'start', prefix: options.prefix, batchSize: options.batchSize ?? 500 }, handler);
    },

    async headPosition(): Promise<FromPosition> {
      // The server writes its own events ($stats, ...); the head is the last event of ours.
      const read = live().readAll({ direction: BACKWARDS, fromPosition: END, maxCount: HEAD_SEARCH });
      try {
        for await (const resolved of drain<AllStreamResolvedEvent>(read)) {
          const stream = resolved.event?.streamId;
          if (stream !== undefined && !isSystemStream(stream)) return positionOf(resolved) ?? 'start';
        }
      } catch (error) {
        throw toPortError(error, undefined, undefined, closed);
      }
      return 'start';
    },

    async streamRevision(stream: string): Promise<bigint | 'no_stream'> {
      return (await lastOf(stream))?.revision ?? 'no_stream';
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      // Appends still in flight are cancelled by the client and surface as StoreUnavailable.
      if (!options.client) await releaseEsdbClient(url, client);
    },
  };
  return store;
}
