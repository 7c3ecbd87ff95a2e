// The embedded event store: a durable SQLite file (WAL, fsync per commit) shared by every process
// on the machine. Reads run on this thread; appends go to the writer worker and are acknowledged
// after their commit's fsync.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import {
  StoreUnavailableError, WrongExpectedRevisionError,
  type AppendResult, type EventStore, type EventToAppend, type ExpectedRevision, type FromPosition,
  type ReadAllOptions, type ReadStreamOptions, type RecordedEvent, type SubscribeOptions,
  type Subscription, type SubscriptionHandler,
} from '../port.js';
import { configureConnection, SCHEMA } from './schema.js';
import { createSubscription } from './subscription.js';
import type { AppendOutcome, AppendRequest } from './writer.js';

export interface SqliteStoreOptions {
  path: string;
  /** How often to look for commits made by other processes (ms). */
  pollIntervalMs?: number;
  pageSize?: number;
}

interface Row {
  position: bigint;
  stream: string;
  revision: bigint;
  id: string;
  type: string;
  data: string;
  metadata: string;
}

const MAX_REVISION = 9_223_372_036_854_775_807n;
const COLUMNS = 'e.position, e.stream, e.revision, e.id, e.type, e.data, e.metadata';

function toRecorded(row: Row): RecordedEvent {
  return {
    id: row.id, stream: row.stream, revision: row.revision, position: row.position, type: row.type,
    data: JSON.parse(row.data), metadata: JSON.parse(row.metadata),
  };
}

function workerUrl(): URL {
  // Under a TypeScript loader (tests) this module is .ts and so is its worker.
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./writer-worker${ext}`, import.meta.url);
}

type Pending = { resolve: (outcomes: AppendOutcome[]) => void; reject: (error: Error) => void };

export interface SqliteEventStore extends EventStore {
  readonly path: string;
  /** Reads a page of all events after a position synchronously (projector rebuilds). */
  readAllPage(after: bigint, limit: number, prefix?: string): RecordedEvent[];
}

export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteEventStore> {
  const path = resolve(options.path);
  mkdirSync(dirname(path), { recursive: true });
  const pageSize = options.pageSize ?? 1000;
  const pollIntervalMs = options.pollIntervalMs ?? 20;

  // The worker creates the schema; start it first so readers find the tables.
  const worker = new Worker(workerUrl(), { workerData: { path } });
  const pendings = new Map<number, Pending>();
  let failure: Error | undefined;
  let closed = false;
  let seq = 0;
  await new Promise<void>((ready, fail) => {
    const onMessage = (m: { kind: string }) => {
      if (m.kind === 'ready') {
        worker.off('error', fail);
        worker.off('message', onMessage);
        ready();
      }
    };
    worker.on('message', onMessage);
    worker.once('error', fail);
  });
  worker.unref();

  const db = new Database(path);
  configureConnection(db);
  db.exec(SCHEMA);
  db.defaultSafeIntegers(true);

  const streamPageForwards = db.prepare<[string, bigint, number, string, bigint, number, number], Row>(`
    SELECT * FROM (SELECT ${COLUMNS} FROM stream_index i JOIN events e ON e.position = i.position
      WHERE i.stream = ? AND i.revision >= ? ORDER BY i.revision LIMIT ?)
    UNION ALL
    SELECT * FROM (SELECT ${COLUMNS} FROM events e
      WHERE e.position > (SELECT value FROM store_meta WHERE key = 'indexed_position') AND e.stream = ? AND e.revision >= ?
      ORDER BY e.position LIMIT ?)
    ORDER BY revision LIMIT ?`);
  const streamPageBackwards = db.prepare<[string, bigint, number, string, bigint, number, number], Row>(`
    SELECT * FROM (SELECT ${COLUMNS} FROM stream_index i JOIN events e ON e.position = i.position
      WHERE i.stream = ? AND i.revision <= ? ORDER BY i.revision DESC LIMIT ?)
    UNION ALL
    SELECT * FROM (SELECT ${COLUMNS} FROM events e
      WHERE e.position > (SELECT value FROM store_meta WHERE key = 'indexed_position') AND e.stream = ? AND e.revision <= ?
      ORDER BY e.position DESC LIMIT ?)
    ORDER BY revision DESC LIMIT ?`);
  const allPage = db.prepare<[bigint, number], Row>(`SELECT ${COLUMNS} FROM events e WHERE e.position > ? ORDER BY e.position LIMIT ?`);
  const allPagePrefixed = db.prepare<[bigint, number, string, number], Row>(
    `SELECT ${COLUMNS} FROM events e WHERE e.position > ? AND substr(e.stream, 1, ?) = ? ORDER BY e.position LIMIT ?`,
  );
  const headStatement = db.prepare<[], { p: bigint | null }>('SELECT max(position) AS p FROM events');
  const revisionStatement = db.prepare<[string], { revision: bigint }>('SELECT revision FROM streams WHERE stream = ?');

  // Commit notifications: our own appends wake subscribers at once; other processes' commits are
  // noticed through SQLite's data_version, polled only while someone subscribes.
  let commitCount = 0;
  const waiters = new Set<() => void>();
  function notifyCommit(): void {
    commitCount++;
    for (const wake of [...waiters]) wake();
  }
  let dataVersion = db.pragma('data_version', { simple: true });
  let poller: NodeJS.Timeout | undefined;
  function ensurePolling(): void {
    if (poller || closed) return;
    poller = setInterval(() => {
      if (waiters.size === 0) return;
      const version = db.pragma('data_version', { simple: true });
      if (version !== dataVersion) {
        dataVersion = version;
        notifyCommit();
      }
    }, pollIntervalMs);
    poller.unref();
  }
  function waitForCommit(after: number, signal: { stopped: boolean; wake?: () => void }): Promise<void> {
    if (commitCount !== after || signal.stopped) return Promise.resolve();
    ensurePolling();
    return new Promise((wake) => {
      const done = () => {
        waiters.delete(done);
        wake();
      };
      signal.wake = done;
      waiters.add(done);
    });
  }

  worker.on('message', (message: { kind: string; seq: number; outcomes?: AppendOutcome[]; message?: string }) => {
    const pending = pendings.get(message.seq);
    if (!pending) return;
    pendings.delete(message.seq);
    if (message.kind === 'appended') pending.resolve(message.outcomes!);
    else pending.reject(new StoreUnavailableError(`append failed: ${message.message}`));
    notifyCommit();
  });
  const onWorkerGone = (error?: unknown) => {
    failure = new StoreUnavailableError(`event store writer stopped${error instanceof Error ? `: ${error.message}` : ''}`);
    for (const pending of pendings.values()) pending.reject(failure);
    pendings.clear();
  };
  worker.on('error', onWorkerGone);
  worker.on('exit', () => {
    if (!closed) onWorkerGone();
  });

  // Appends issued in the same turn of the event loop travel to the writer as one message.
  let outgoing: { request: AppendRequest; resolve: (o: AppendOutcome) => void; reject: (e: Error) => void }[] = [];
  function flushOutgoing(): void {
    const items = outgoing;
    outgoing = [];
    if (failure) {
      for (const item of items) item.reject(failure);
      return;
    }
    const id = ++seq;
    pendings.set(id, {
      resolve: (outcomes) => items.forEach((item, i) => item.resolve(outcomes[i]!)),
      reject: (error) => items.forEach((item) => item.reject(error)),
    });
    if (pendings.size === 1) worker.ref();
    worker.postMessage({ kind: 'append', seq: id, batch: items.map((i) => i.request) });
  }

  function readStreamPage(stream: string, from: bigint, backwards: boolean, limit: number): RecordedEvent[] {
    const statement = backwards ? streamPageBackwards : streamPageForwards;
    return statement.all(stream, from, limit, stream, from, limit, limit).map(toRecorded);
  }

  function readAllPage(after: bigint, limit: number, prefix?: string): RecordedEvent[] {
    const rows = prefix ? allPagePrefixed.all(after, prefix.length, prefix, limit) : allPage.all(after, limit);
    return rows.map(toRecorded);
  }

  const store: SqliteEventStore = {
    path,
    readAllPage,

    append(stream: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
      if (closed) return Promise.reject(new StoreUnavailableError('event store is closed'));
      const request: AppendRequest = {
        stream,
        expected,
        events: events.map((e) => ({ id: e.id, type: e.type, data: JSON.stringify(e.data), metadata: JSON.stringify(e.metadata) })),
      };
      return new Promise<AppendOutcome>((resolveOutcome, reject) => {
        if (outgoing.length === 0) setImmediate(flushOutgoing);
        outgoing.push({ request, resolve: resolveOutcome, reject });
      }).then((outcome) => {
        if (pendings.size === 0) worker.unref();
        if (outcome.ok) return { nextExpectedRevision: outcome.nextExpectedRevision, position: outcome.position };
        if (outcome.conflict) throw new WrongExpectedRevisionError(stream, expected, outcome.actual);
        throw new StoreUnavailableError(outcome.message);
      });
    },

    async *readStream(stream: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
      const backwards = options.direction === 'backwards';
      const start = options.fromRevision ?? (backwards ? 'end' : 'start');
      let from = start === 'start' ? 0n : start === 'end' ? MAX_REVISION : start;
      let remaining = options.maxCount ?? Infinity;
      while (remaining > 0 && from >= 0n) {
        const page = readStreamPage(stream, from, backwards, Math.min(pageSize, remaining));
        for (const event of page) yield event;
        if (page.length < Math.min(pageSize, remaining)) return;
        remaining -= page.length;
        const last = page[page.length - 1]!.revision;
        from = backwards ? last - 1n : last + 1n;
      }
    },

    async *readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
      let after = options.from === undefined || options.from === 'start' ? 0n : options.from;
      let remaining = options.maxCount ?? Infinity;
      while (remaining > 0) {
        const page = readAllPage(after, Math.min(pageSize, remaining), options.prefix);
        for (const event of page) yield event;
        if (page.length === 0) return;
        remaining -= page.length;
        after = page[page.length - 1]!.position;
        await yieldToLoop();
      }
    },

    subscribeToAll(options: SubscribeOptions, handler: SubscriptionHandler): Subscription {
      return createSubscription({
        from: options.from ?? 'start',
        batchSize: options.batchSize ?? pageSize,
        readPage: (after, limit) => readAllPage(after, limit, options.prefix),
        commitCount: () => commitCount,
        waitForCommit,
        isClosed: () => closed,
        handler,
      });
    },

    async headPosition(): Promise<FromPosition> {
      return headStatement.get()!.p ?? 'start';
    },

    async streamRevision(stream: string): Promise<bigint | 'no_stream'> {
      return revisionStatement.get(stream)?.revision ?? 'no_stream';
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (poller) clearInterval(poller);
      for (const wake of [...waiters]) wake();
      if (outgoing.length) flushOutgoing();
      if (!failure) {
        worker.ref();
        await new Promise<void>((done) => {
          worker.on('message', (m: { kind: string }) => m.kind === 'closed' && done());
          worker.once('exit', () => done());
          worker.postMessage({ kind: 'close' });
        });
      }
      await worker.terminate();
      db.close();
    },
  };
  return store;
}
