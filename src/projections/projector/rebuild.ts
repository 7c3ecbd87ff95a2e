// Rebuild: every event into a fresh read-model file beside the live one, then an atomic rename over
// it. The swap happens under the live file's exclusive lock, so no process is half-way through a
// transaction on the old file; followers notice the new file and continue from its checkpoint.
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type { MiningStore } from '../../commands/codec.js';
import { createEngine, type ProjectionEngine } from './engine.js';
import { pageReader } from './page-reader.js';
import { buildInParallel, ParallelBuildStopped } from './rebuild-parallel.js';
import { openScratch, removeScratch } from '../read-model/schema.js';
import { fsyncPath } from '../../config/files.js';

export interface RebuildProgress {
  phase: 'build' | 'catch-up' | 'swap';
  /** Global position reached and the store's head when the phase began (events, for the SQLite store). */
  done: number;
  total: number;
  events: number;
  elapsedMs: number;
}

export interface RebuildOptions {
  store: MiningStore;
  readModelPath: string;
  /** Catch up with events written during the build before switching (serve keeps running). */
  swap?: boolean;
  onProgress?: (progress: RebuildProgress) => void;
  progressIntervalMs?: number;
  /** Events read per page. */
  pageSize?: number;
  /** Events folded in memory between writes. */
  flushEvery?: number;
  cacheLimit?: number;
  /** How long to wait for the live file's lock (ms). */
  lockTimeoutMs?: number;
  /** Checked between pages; a rebuild that is told to stop removes its scratch file. */
  shouldStop?: () => boolean;
  /**
   * Threads folding the backlog on the embedded store, each a partition of the accounts (default:
   * 2 when the cores allow and the log has PARALLEL_FROM events or more; 1 otherwise).
   */
  workers?: number;
}

/** Below this many events, starting workers costs more than it saves. */
export const PARALLEL_FROM = 50_000n;

export interface RebuildResult {
  events: number;
  position: bigint;
  elapsedMs: number;
  path: string;
}

export class RebuildInterruptedError extends Error {
  override readonly name = 'RebuildInterruptedError';
}

const interrupted = () => new RebuildInterruptedError('rebuild interrupted; the live read model is unchanged');

/** The scratch file being built, its engine, and progress reporting. */
interface Build {
  options: RebuildOptions;
  scratch: string;
  db: Database.Database;
  engine: ProjectionEngine;
  started: number;
  report(phase: RebuildProgress['phase'], done: number, total: number, events: number, force: boolean): void;
}

function startBuild(options: RebuildOptions, scratch: string): Build {
  removeScratch(scratch);
  const db = openScratch(scratch);
  const engine = createEngine(db, { cacheLimit: options.cacheLimit ?? 250_000, guardCheckpoint: false });
  const started = performance.now();
  const interval = options.progressIntervalMs ?? 250;
  let lastReport = -Infinity;
  return {
    options, scratch, db, engine, started,
    report(phase, done, total, events, force) {
      const now = performance.now();
      if (!force && now - lastReport < interval) return;
      lastReport = now;
      options.onProgress?.({ phase, done: Math.min(done, total), total, events, elapsedMs: now - started });
    },
  };
}

/** Folds pages from the engine's position until the log ends (or `until` is reached). */
async function follow(build: Build, phase: RebuildProgress['phase'], until: bigint | null): Promise<void> {
  const { engine, options } = build;
  const readPage = pageReader(options.store);
  const head = await options.store.headPosition();
  const total = head === 'start' ? 0 : Number(head);
  const report = (force: boolean) =>
    build.report(phase, Number(engine.appliedPosition()), total, Number(engine.totalEvents()), force);
  let lastYield = performance.now();
  for (;;) {
    const page = await readPage(engine.appliedPosition(), options.pageSize ?? 2000);
    if (page.length === 0) break;
    engine.apply(page);
    if (engine.pendingEvents() >= (options.flushEvery ?? 100_000)) engine.flush();
    report(false);
    if (until !== null && engine.appliedPosition() >= until) break;
    // Under the live file's lock (phase swap) readers elsewhere wait: finish without giving way.
    if (phase !== 'swap' && performance.now() - lastYield > 50) {
      await yieldToLoop();
      lastYield = performance.now();
      if (options.shouldStop?.()) throw interrupted();
    }
  }
  engine.flush();
  report(true);
}

/** On a store with the `partitions` capability, folds the log up to `head` in partitions on worker threads. */
async function foldInParallel(build: Build, head: bigint): Promise<void> {
  const { options } = build;
  const source = options.store.capabilities?.partitions;
  const workers = options.workers ?? (head >= PARALLEL_FROM ? Math.min(2, availableParallelism()) : 1);
  if (workers < 2 || !source) return;
  try {
    await buildInParallel(build.db, {
      source, upTo: head, partitions: workers, scratch: build.scratch,
      pageSize: options.pageSize ?? 2000, flushEvery: options.flushEvery ?? 100_000, cacheLimit: options.cacheLimit ?? 250_000,
      onProgress: (events) => build.report('build', events, Number(head), events, false),
      shouldStop: options.shouldStop,
    });
  } catch (error) {
    throw error instanceof ParallelBuildStopped ? interrupted() : error;
  }
  build.engine.reset();
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Scratch files of rebuilds whose process is gone (killed with -9 in any phase): `<read.db>.rebuild-<pid>`,
 * its journal and its `.part-N` files. Those of a rebuild still running are left alone.
 */
export function removeAbandonedScratch(path: string): string[] {
  const prefix = `${basename(path)}.rebuild-`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)/.exec(name.slice(prefix.length))?.[1]);
    if (!Number.isSafeInteger(pid) || pid === process.pid || isRunning(pid)) continue;
    rmSync(join(dirname(path), name), { force: true });
    removed.push(name);
  }
  return removed;
}

export async function rebuildReadModel(options: RebuildOptions): Promise<RebuildResult> {
  const path = resolve(options.readModelPath);
  removeAbandonedScratch(path);
  const build = startBuild(options, `${path}.rebuild-${process.pid}`);
  try {
    const headPosition = await options.store.headPosition();
    const head = headPosition === 'start' ? 0n : headPosition;
    await foldInParallel(build, head);
    await follow(build, 'build', head);
    if (options.swap) await follow(build, 'catch-up', null);
    // The last moment to back out: after this the live file is replaced.
    if (options.shouldStop?.()) throw interrupted();
    await switchInto(path, build);
  } catch (error) {
    if (build.db.open) build.db.close();
    removeScratch(build.scratch);
    throw error;
  }
  const { engine } = build;
  return { events: Number(engine.totalEvents()), position: engine.flushedPosition(), elapsedMs: performance.now() - build.started, path };
}

/**
 * Takes the live file's exclusive lock (no reader or writer is inside a transaction on it, so no
 * rollback journal of the old file exists), lets a swap fold the last events, then renames.
 */
async function switchInto(path: string, build: Build): Promise<void> {
  const { options, db, engine, scratch } = build;
  const live = existsSync(path) ? new Database(path, { timeout: options.lockTimeoutMs ?? 30_000 }) : null;
  try {
    try {
      live?.exec('BEGIN EXCLUSIVE');
    } catch (error) {
      // A file that is not a database cannot be in use by anyone: replacing it is the point.
      const code = (error as { code?: string }).code;
      if (code !== 'SQLITE_NOTADB' && code !== 'SQLITE_CORRUPT') throw error;
    }
    if (options.swap) await follow(build, 'swap', null);
    engine.flush();
    db.close();
    fsyncPath(scratch);
    renameSync(scratch, path);
    fsyncPath(dirname(path));
  } finally {
    if (live?.inTransaction) live.exec('ROLLBACK');
    live?.close();
  }
}
