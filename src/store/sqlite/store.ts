// The embedded event store: a durable SQLite file (WAL, fsync per commit) shared by every process
// on the machine. Reads run on this thread; appends go to the writer worker and are acknowledged
// after their commit's fsync.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describeError, ensurePrivateFile, StartupError } from '../../config/files.js';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Worker } from 'node:worker_threads';
import {
  InvalidAppendError, rawCodec, StoreUnavailableError, WrongExpectedRevisionError,
  type AppendResult, type EventCodec, type EventStore, type EventToAppend, type ExpectedRevision, type FromPosition,
  type ReadAllOptions, type ReadStreamOptions, type RecordedEvent, type SubscribeOptions,
  type Subscription, type SubscriptionHandler,
} from '../port.js';
import { serializeEvents } from '../serialize.js';
import type { StoreCapabilities } from '../capabilities.js';
import { siblingWorkerUrl } from '../../config/worker-url.js';
import { replayPages } from './replay-reader.js';
import { commitWatcher, committedLog } from './commit-watcher.js';
import { checkIntegrity, isCorruption, StoreDamagedError, type IntegrityResult } from './integrity.js';
import { openReader, type Reader } from './reader.js';
import { createSubscription } from './subscription.js';
import type { AppendOutcome } from './writer.js';
import { startWriterClient } from './writer-client.js';
import { pagedStream } from '../stream-pages.js';

export interface SqliteStoreOptions<E extends RecordedEvent = RecordedEvent> {
  path: string;
  /** What reads and subscriptions yield (port.ts EventCodec); default: the stored events, unchecked. */
  codec?: EventCodec<E>;
  /** How often to look for commits made by other processes while someone subscribes (ms). */
  pollIntervalMs?: number;
  /** Events per read page and per subscription batch. */
  pageSize?: number;
  /** Pause between passes of the per-stream indexer once it is caught up (ms); 0: only on capabilities.index(). */
  indexIntervalMs?: number;
  /** Open for reading only: no writer thread, nothing created; a missing file is an error (replay, verify). */
  readOnly?: boolean;
  /** Observes each writer thread as it starts (diagnostics, tests). */
  onWriterStarted?: (worker: Worker) => void;
  /** `PRAGMA quick_check` at open, bounded by `budgetMs` (src/store/sqlite/integrity.ts); absent: none. */
  integrityCheck?: { budgetMs: number; onResult?: (result: IntegrityResult, path: string) => void };
}

export interface SqliteEventStore<E extends RecordedEvent = RecordedEvent> extends EventStore<E> {
  readonly path: string;
  /** The embedded store has every capability. */
  readonly capabilities: Required<StoreCapabilities<E>>;
}

function toResult(stream: string, expected: ExpectedRevision, outcome: AppendOutcome): AppendResult {
  if (outcome.ok) return { nextExpectedRevision: outcome.nextExpectedRevision, position: outcome.position };
  if (outcome.conflict) throw new WrongExpectedRevisionError(stream, expected, outcome.actual);
  if (outcome.invalid) throw new InvalidAppendError(`${stream}: ${outcome.message}`);
  throw new StoreUnavailableError(outcome.message);
}

export async function openSqliteStore<E extends RecordedEvent = RecordedEvent>(options: SqliteStoreOptions<E>): Promise<SqliteEventStore<E>> {
  const codec = options.codec ?? (rawCodec as unknown as EventCodec<E>);
  const path = resolve(options.path);
  if (options.readOnly) {
    if (!existsSync(path)) throw new StartupError(`event store ${path} does not exist`);
  } else {
    try {
      ensurePrivateFile(path);
    } catch (error) {
      throw new StartupError(`event store ${path} cannot be created: ${describeError(error)}`);
    }
  }
  const pageSize = options.pageSize ?? 1000;
  let closed = false;

  const commits = commitWatcher(options.pollIntervalMs ?? 20);
  // Our own commits, for in-process subscribers (only kept while someone subscribes).
  const recent = committedLog(codec);
  let subscribers = 0;
  // The writer creates the schema; start it first so the reader finds the tables.
  const writer = options.readOnly ? readOnlyWriter(path) : await startWriterClient({
    path, indexIntervalMs: options.indexIntervalMs ?? 100, onCommitted: commits.notify, onWriterStarted: options.onWriterStarted,
  }).catch((error: unknown) => {
    commits.close();
    throw new StartupError(`event store ${path} cannot be opened: ${describeError(error).replace(/^event store writer could not start: /, '')}`);
  });
  // Each event is decoded once, as it is handed out: a read yields the events before a bad one first.
  const decode = codec.decode;
  const decodeAll = (events: RecordedEvent[]): E[] => (codec === (rawCodec as unknown) ? (events as E[]) : events.map(decode));
  /** Set once the file is known to be damaged; every later failure names it the same way. */
  let damage: StoreDamagedError | undefined;
  const damaged = (reason: string): StoreDamagedError => (damage ??= new StoreDamagedError(path, reason));
  /** A corruption error becomes StoreDamagedError (503, readiness fails); others pass unchanged. */
  const translate = (error: unknown): unknown => {
    if (!isCorruption(error)) return error;
    const reason = (error instanceof Error ? error.message : String(error)).replace(/^event store write failed: /, '');
    return damaged(reason);
  };
  let reader: Reader;
  try {
    reader = guardReader(openReader(path, { readOnly: options.readOnly === true }), translate);
  } catch (error) {
    await writer.close();
    commits.close();
    throw new StartupError(`event store ${path} cannot be read: ${describeError(error)}`);
  }
  commits.watch(() => reader.dataVersion());
  if (options.integrityCheck) {
    const result = await checkIntegrity(path, { budgetMs: options.integrityCheck.budgetMs });
    if (result.kind === 'damaged') damaged(`quick_check: ${result.errors.slice(0, 3).join('; ')}`);
    options.integrityCheck.onResult?.(result, path);
  }

  function open(): Reader {
    if (closed) throw new StoreUnavailableError('event store is closed');
    return reader;
  }

  const store: SqliteEventStore<E> = {
    path,
    capabilities: {
      pages: (after, limit, prefix) => decodeAll(open().allPage(after, limit, prefix).events),
      // Workers open the file themselves (partition-reader.ts).
      partitions: { module: siblingWorkerUrl('partition-reader', import.meta.url).href, location: path },
      streamPages: (stream, from, chain, options) => replayPages(path, stream, from, chain, options),
      index: () => writer.indexNow(),
      damage: () => damage?.message ?? null,
    },

    async append(stream: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
      if (closed) throw new StoreUnavailableError('event store is closed');
      const serialized = serializeEvents(stream, events);
      const request = { stream, expected, events: serialized };
      let outcome: AppendOutcome;
      try {
        outcome = await writer.append(request, subscribers === 0 ? undefined : (done) => {
          if (done.ok && done.written) recent.record(stream, serialized, events, done);
        });
        return toResult(stream, expected, outcome);
      } catch (error) {
        throw translate(error);
      }
    },

    async *readStream(stream: string, options: ReadStreamOptions = {}): AsyncIterable<E> {
      for await (const event of pagedStream(options, pageSize, (from, backwards, limit) => open().streamPage(stream, from, backwards, limit))) {
        yield decode(event);
      }
    },

    async *readAll(options: ReadAllOptions = {}): AsyncIterable<E> {
      let after = options.from === undefined || options.from === 'start' ? 0n : options.from;
      let remaining = options.maxCount ?? Infinity;
      while (remaining > 0) {
        const limit = Math.min(pageSize, remaining);
        const page = open().allPage(after, limit, options.prefix);
        for (const event of page.events) yield decode(event);
        // A short page scanned to the end of the log.
        if (page.events.length < limit) return;
        remaining -= page.events.length;
        after = page.scannedTo;
        await yieldToLoop();
      }
    },

    subscribeToAll(options: SubscribeOptions, handler: SubscriptionHandler<E>): Subscription {
      const prefix = options.prefix || undefined;
      subscribers++;
      const subscription = createSubscription({
        from: options.from ?? 'start',
        batchSize: options.batchSize ?? pageSize,
        readPage: (after, limit) => {
          const page = open().allPage(after, limit, prefix);
          return { events: decodeAll(page.events), scannedTo: page.scannedTo };
        },
        livePage: (after, limit) => recent.page(after, limit, prefix),
        foreignCount: commits.foreignCount,
        commitCount: commits.count,
        waitForCommit: commits.wait,
        isClosed: () => closed,
        handler,
      });
      const ended = () => void subscribers--;
      subscription.done.then(ended, ended);
      return subscription;
    },

    async headPosition(): Promise<FromPosition> {
      return open().head() ?? 'start';
    },

    async streamRevision(stream: string): Promise<bigint | 'no_stream'> {
      return open().streamRevision(stream);
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      commits.close();
      await writer.close();
      reader.close();
    },
  };
  return store;
}

/** The writer of a store opened read-only: every append is refused, nothing is started. */
function readOnlyWriter(path: string): Pick<Awaited<ReturnType<typeof startWriterClient>>, 'append' | 'indexNow' | 'close'> {
  const refuse = () => Promise.reject(new StoreUnavailableError(`event store ${path} is open read-only`));
  return { append: refuse, indexNow: refuse, close: async () => undefined };
}

/** Every read of `reader` with its errors passed through `translate` (a damaged page → StoreDamagedError). */
function guardReader(reader: Reader, translate: (error: unknown) => unknown): Reader {
  const guard = <A extends unknown[], R>(f: (...args: A) => R) => (...args: A): R => {
    try {
      return f(...args);
    } catch (error) {
      throw translate(error);
    }
  };
  return {
    streamPage: guard(reader.streamPage),
    allPage: guard(reader.allPage),
    head: guard(reader.head),
    streamRevision: guard(reader.streamRevision),
    dataVersion: guard(reader.dataVersion),
    close: () => reader.close(),
  };
}
