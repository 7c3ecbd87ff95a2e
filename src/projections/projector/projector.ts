// The projector: a checkpointed subscription that keeps the read models. Events are folded in
// memory and written with the checkpoint in one transaction, so a crash at any instant neither skips
// nor double-applies an event. It follows a `rebuild --swap` (the file renamed over its path).
import { resolve } from 'node:path';
import type { Registry } from 'prom-client';
import { silentLogger, type Logger } from '../../config/logger.js';
import { EventValidationError, STREAM_PREFIX } from '../../domain/events.js';
import type { Subscription } from '../../store/port.js';
import type { MiningRecord, MiningStore } from '../../commands/codec.js';
import { CheckpointMovedError, createEngine, type ProjectionEngine } from './engine.js';
import { lagSecondsOf, projectorMetrics } from './metrics.js';
import { createQueries, type ReadModelQueries } from '../read-model/queries.js';
import type { ReadModel } from '../read-model/read-model.js';
import { fileIdentity, isMovedError, openWritable, ReadModelVersionError } from '../read-model/schema.js';
import { describeError, StartupError } from '../../config/files.js';
import { readModelFacade } from '../read-model/sqlite-read-model.js';
import { positionWaiters } from '../read-model/waiters.js';

export interface Projector {
  readModel: ReadModel;
  /** Resolves once the backlog present at start has been committed. */
  caughtUp: Promise<void>;
  /** Events the store has beyond the checkpoint (position distance; exact for the SQLite store). */
  lag(): Promise<bigint>;
  /** Why the read model must not be served (checkpoint past the store's head), or null. */
  problem(): string | null;
  /** Commits what is applied, stops following and closes the file. */
  stop(): Promise<void>;
}

export interface ProjectorOptions {
  store: MiningStore;
  readModelPath: string;
  logger?: Logger;
  registry?: Registry;
  /** Events per subscription batch. */
  batchSize?: number;
  /** Commit at the latest after this many applied events… */
  maxPendingEvents?: number;
  /**
   * …or this long after the first uncommitted one (ms, default 200); a read-your-writes waiter
   * (?minPosition=) commits at once. Each commit rewrites every account touched since the last one
   * (with a journal fsync on this thread): at 50 ms it was ~10% of `serve`'s thread under load.
   */
  flushIntervalMs?: number;
  /** How often to look for a swapped file (ms). */
  swapCheckIntervalMs?: number;
  /** Accounts kept in memory between commits. */
  cacheLimit?: number;
  /** First retry delay after a store error (ms); doubles up to 30 s. */
  retryDelayMs?: number;
  /** How long a commit waits for another connection's lock on the file (ms, default 10,000). */
  busyTimeoutMs?: number;
  /** Wall clock for the lag-in-seconds figure (ms); default Date.now. */
  now?: () => number;
}

interface Connection {
  db: import('better-sqlite3').Database;
  identity: string;
  queries: ReadModelQueries;
  engine: ProjectionEngine;
}

function connect(path: string, cacheLimit: number, busyTimeoutMs?: number): Connection {
  const { db, identity } = openWritable(path, { busyTimeoutMs });
  return { db, identity, queries: createQueries(db), engine: createEngine(db, { cacheLimit }) };
}

export async function startProjector(options: ProjectorOptions): Promise<Projector> {
  const path = resolve(options.readModelPath);
  const { store } = options;
  const logger = options.logger ?? silentLogger;
  const batchSize = options.batchSize ?? 1000;
  const maxPending = options.maxPendingEvents ?? 10_000;
  const flushIntervalMs = options.flushIntervalMs ?? 200;
  const cacheLimit = options.cacheLimit ?? 100_000;
  const retryDelayMs = options.retryDelayMs ?? 1000;

  let conn: Connection;
  try {
    conn = connect(path, cacheLimit, options.busyTimeoutMs);
  } catch (error) {
    if (error instanceof ReadModelVersionError) throw error;
    throw new StartupError(`read model ${path} cannot be opened: ${describeError(error)}`);
  }
  let subscription: Subscription | null = null;
  let restarting: Promise<void> | null = null;
  let stopping: Promise<void> | null = null;
  let flushTimer: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let failures = 0;
  // Set by a failure until the retry has re-read the checkpoint: a failed commit discarded what was
  // applied, so nothing after it may be applied on top (it would skip those events for good).
  let halted = false;
  let isCaughtUp = false;
  const waiters = positionWaiters(() => conn.engine.flushedPosition());
  let caughtUpSettle!: { resolve: () => void; reject: (error: unknown) => void };
  const caughtUp = new Promise<void>((resolve, reject) => (caughtUpSettle = { resolve, reject }));
  caughtUp.catch(() => undefined);

  async function lag(): Promise<bigint> {
    const head = await store.headPosition();
    const behind = head === 'start' ? 0n : head - conn.engine.flushedPosition();
    return behind > 0n ? behind : 0n;
  }
  const now = options.now ?? Date.now;
  const lagSeconds = async () => ((await lag()) === 0n ? 0 : lagSecondsOf(store, conn.engine.flushedPosition(), now()));
  const metrics = projectorMetrics(options.registry, { position: () => conn.engine.flushedPosition(), lag, lagSeconds });

  // A file renamed over the path (rebuild --swap), or no file at all (deleted while we run): either
  // way the connection's file is no longer the read model, and the next restart opens (or recreates
  // and rebuilds) the one at the path.
  const swapped = () => fileIdentity(path) !== conn.identity;
  // Restarts that found nothing to follow: a moved-file error that persists is retried with backoff
  // instead of resubscribing in a loop (that spun at 100 % CPU and starved SIGTERM).
  let fruitlessRestarts = 0;
  let wakeRestart: (() => void) | undefined;
  // Set while the checkpoint lies past the store's last position (a restored or truncated store):
  // nothing is projected on top and reads are refused until the file is rebuilt (SPEC §15).
  let problem: string | null = null;

  /** True when the checkpoint is within the store; otherwise sets `problem` (logged once). */
  async function checkAgainstStore(): Promise<boolean> {
    const head = await store.headPosition();
    const last = head === 'start' ? 0n : head;
    const checkpoint = conn.engine.flushedPosition();
    if (checkpoint <= last) {
      if (problem !== null) logger.info({ path }, 'read model is consistent with the store again');
      problem = null;
      return true;
    }
    if (problem === null) {
      problem = `read model ${path} is at position ${checkpoint}, past the event store's last position ${last} ` +
        '(a restored or replaced store?): it is not served; run `mining-ledger rebuild`';
      logger.error({ path, checkpoint: checkpoint.toString(), storePosition: last.toString() }, problem);
    }
    return false;
  }

  function flushNow(): void {
    clearTimeout(flushTimer);
    flushTimer = undefined;
    if (restarting || halted || conn.engine.pendingEvents() === 0) return;
    if (swapped()) return restart('swap');
    try {
      conn.engine.flush();
    } catch (error) {
      if (error instanceof CheckpointMovedError) {
        logger.warn({ err: error }, 'another process moved the read-model checkpoint; continuing from it');
        return restart('checkpoint');
      }
      if (isMovedError(error)) return restart('swap');
      return fail(error);
    }
    metrics.flushed();
    waiters.notify();
  }

  function onEvents(batch: MiningRecord[]): void {
    if (restarting || stopping || halted) return;
    metrics.eventsApplied(conn.engine.apply(batch));
    failures = 0;
    const lowest = waiters.lowestTarget();
    if (conn.engine.pendingEvents() >= maxPending || (lowest !== null && conn.engine.appliedPosition() >= lowest)) flushNow();
    else flushTimer ??= setTimeout(flushNow, flushIntervalMs);
  }

  function onCaughtUp(): void {
    if (restarting || stopping || halted) return;
    flushNow();
    if (isCaughtUp) return;
    isCaughtUp = true;
    logger.info({ position: conn.engine.flushedPosition().toString() }, 'projector caught up');
    caughtUpSettle.resolve();
  }

  function subscribe(): void {
    const from = conn.engine.appliedPosition();
    subscription = store.subscribeToAll(
      { from: from === 0n ? 'start' : from, prefix: STREAM_PREFIX, batchSize },
      { onEvents, onCaughtUp, onError: fail },
    );
  }

  /** Stops the subscription, re-reads (or reopens) the file, and follows from its checkpoint. */
  function restart(reason: 'swap' | 'checkpoint' | 'retry'): void {
    if (restarting || stopping) return;
    logger.debug({ reason }, 'projector restarting its subscription');
    restarting = (async () => {
      clearTimeout(flushTimer);
      flushTimer = undefined;
      await subscription?.stop();
      subscription = null;
      if (swapped()) {
        const gone = fileIdentity(path) === null;
        const previous = conn;
        conn = connect(path, cacheLimit, options.busyTimeoutMs);
        previous.db.close();
        metrics.swapped();
        fruitlessRestarts = 0;
        if (gone) logger.error({ path }, 'read model file was deleted while running: recreated it, rebuilding from the store');
        else logger.info({ position: conn.engine.flushedPosition().toString() }, 'read model swapped; following the new file');
      } else {
        conn.engine.reset();
        if (reason === 'swap' && ++fruitlessRestarts > 1) {
          const delay = Math.min(30_000, retryDelayMs * 2 ** (fruitlessRestarts - 2));
          logger.error({ path, retryInMs: delay }, 'read model refuses writes but its file was not replaced; retrying');
          await new Promise<void>((resolve) => {
            wakeRestart = resolve;
            retryTimer = setTimeout(resolve, delay);
          });
          wakeRestart = undefined;
        }
      }
      waiters.notify();
      return checkAgainstStore();
    })()
      .then((consistent) => {
        restarting = null;
        halted = false;
        if (!stopping && consistent) subscribe();
      })
      .catch((error: unknown) => {
        restarting = null;
        fail(error);
      });
  }

  function fail(error: unknown): void {
    if (stopping) return;
    if (error instanceof EventValidationError) {
      logger.fatal({ err: error }, 'projector stopped: an event in the store cannot be read');
      if (!isCaughtUp) caughtUpSettle.reject(error);
      void subscription?.stop();
      return;
    }
    const delay = Math.min(30_000, retryDelayMs * 2 ** failures++);
    logger.error({ err: error, retryInMs: delay }, 'projector failed; retrying from its checkpoint');
    halted = true;
    void subscription?.stop();
    retryTimer = setTimeout(() => restart('retry'), delay);
  }

  let ticks = 0;
  const swapTimer = setInterval(() => {
    if (restarting || stopping) return;
    if (swapped()) return restart('swap');
    // Every ~2 s: a store replaced under a running process (restored, truncated) stops projection.
    if (++ticks % 8 === 0 && problem === null && subscription !== null) {
      void checkAgainstStore().then((consistent) => {
        if (consistent || restarting || stopping) return;
        clearTimeout(flushTimer);
        flushTimer = undefined;
        halted = true;
        void subscription?.stop();
        subscription = null;
      }, () => undefined);
    }
  }, options.swapCheckIntervalMs ?? 250);
  swapTimer.unref();

  async function stop(): Promise<void> {
    clearInterval(swapTimer);
    clearTimeout(retryTimer);
    wakeRestart?.();
    while (restarting) await restarting;
    await subscription?.stop();
    clearTimeout(flushTimer);
    try {
      if (!swapped()) conn.engine.flush();
    } catch (error) {
      logger.warn({ err: error }, 'projector could not commit on stop; the events will be applied again on restart');
    }
    waiters.cancelAll();
    if (!isCaughtUp) caughtUpSettle.reject(new Error('projector stopped before catching up'));
    conn.db.close();
  }

  const readModel = readModelFacade({
    problem: () => problem,
    query: (run) => run(conn.queries),
    position: () => conn.engine.flushedPosition(),
    waiters,
    onWait(target) {
      if (conn.engine.appliedPosition() >= target) setImmediate(flushNow);
    },
    close() {
      void (stopping ??= stop());
    },
  });

  try {
    if (await checkAgainstStore()) subscribe();
  } catch (error) {
    clearInterval(swapTimer);
    conn.db.close();
    throw error;
  }
  return {
    readModel,
    caughtUp,
    lag,
    problem: () => problem,
    stop: () => (stopping ??= stop()),
  };
}
