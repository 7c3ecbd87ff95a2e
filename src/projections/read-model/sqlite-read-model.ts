// ReadModel over a read-model file. `readModelFacade` delegates every call to whatever connection is
// current, so a ReadModel handed out stays valid when the file is swapped underneath it.
// `openReadModel` is a read-only follower of a file another process keeps (serve --no-projector).
import { performance } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { ReadModelUnavailableError, type ReadModel } from './read-model.js';
import { createQueries, type ReadModelQueries } from './queries.js';
import { fileIdentity, isMovedError, openReadonly, openWritable, type OpenedReadModel } from './schema.js';
import { positionWaiters, type PositionWaiters } from './waiters.js';

export interface FacadeParts {
  /** Runs a query against the current connection (retrying once after following a swap). */
  query<T>(run: (queries: ReadModelQueries) => T): T;
  position(): bigint;
  waiters: PositionWaiters;
  /** Called when a waiter arrives whose target is beyond position(). */
  onWait?(target: bigint): void;
  close(): void;
  /** Why reads must be refused now (null: they may be answered). */
  problem?(): string | null;
}

export function readModelFacade(parts: FacadeParts): ReadModel {
  const query = <T>(run: (queries: ReadModelQueries) => T): T => {
    const problem = parts.problem?.() ?? null;
    if (problem !== null) throw new ReadModelUnavailableError(problem);
    return parts.query(run);
  };
  return {
    problem: () => parts.problem?.() ?? null,
    account: (accountId) => query((q) => q.account(accountId)),
    sessions: (accountId, options) => query((q) => q.sessions(accountId, options)),
    adjustments: (accountId, options) => query((q) => q.adjustments(accountId, options)),
    activeSessions: (options) => query((q) => q.activeSessions(options)),
    position: () => parts.position(),
    waitForPosition(target, timeoutMs) {
      const waiting = parts.waiters.wait(target, timeoutMs);
      if (parts.waiters.size > 0) parts.onWait?.(target);
      return waiting;
    },
    close: () => parts.close(),
  };
}

export interface FollowerOptions {
  /** How often a pending waitForPosition re-reads the checkpoint (ms). */
  pollIntervalMs?: number;
  /** How often reads check whether the file was swapped (ms). */
  swapCheckIntervalMs?: number;
}

interface Connection extends OpenedReadModel {
  queries: ReadModelQueries;
}

function connect(path: string): Connection {
  const opened = openReadonly(path);
  return { ...opened, queries: createQueries(opened.db) };
}

/** A read-only follower of a read-model file; it notices `rebuild --swap` and moves to the new file. */
export function openReadModel(path: string, options: FollowerOptions = {}): ReadModel {
  const file = resolve(path);
  const pollIntervalMs = options.pollIntervalMs ?? 10;
  const swapCheckIntervalMs = options.swapCheckIntervalMs ?? 100;
  let conn = connect(file);
  let lastSwapCheck = performance.now();
  let closed = false;
  let poller: NodeJS.Timeout | undefined;

  function followSwap(): boolean {
    lastSwapCheck = performance.now();
    const identity = fileIdentity(file);
    if (identity === null || identity === conn.identity) return false;
    const previous = conn;
    conn = connect(file);
    previous.db.close();
    return true;
  }

  function current(): ReadModelQueries {
    if (closed) throw new Error('read model is closed');
    if (performance.now() - lastSwapCheck >= swapCheckIntervalMs) followSwap();
    return conn.queries;
  }

  function query<T>(run: (queries: ReadModelQueries) => T): T {
    try {
      return run(current());
    } catch (error) {
      if (!isMovedError(error)) throw error;
      // A swapped file, or a hot journal left by a crashed projector that a read-only
      // connection may not roll back: a short-lived writable connection recovers it.
      if (!followSwap()) openWritable(file).db.close();
      return run(conn.queries);
    }
  }

  const position = () => (closed ? 0n : query((q) => q.position()));
  const waiters = positionWaiters(position);
  function poll(): void {
    if (waiters.size === 0 || closed) {
      if (poller) clearInterval(poller);
      poller = undefined;
      return;
    }
    followSwap();
    waiters.notify();
  }

  return readModelFacade({
    query,
    position,
    waiters,
    onWait() {
      poller ??= setInterval(poll, pollIntervalMs);
    },
    close() {
      if (closed) return;
      closed = true;
      waiters.cancelAll();
      if (poller) clearInterval(poller);
      conn.db.close();
    },
  });
}
