// Rebuild: every event into a fresh read-model file beside the live one, then an atomic rename over
// it. The swap happens under the live file's exclusive lock, so no process is half-way through a
// transaction on the old file; followers notice the new file and continue from its checkpoint.
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type { EventStore } from '../store/port.js';
import { createEngine, type ProjectionEngine } from './engine.js';
import { pageReader } from './page-reader.js';
import { openScratch } from './schema.js';

export interface RebuildProgress {
  phase: 'build' | 'catch-up' | 'swap';
  /** Global position reached and the store's head when the phase began (events, for the SQLite store). */
  done: number;
  total: number;
  events: number;
  elapsedMs: number;
}

export interface RebuildOptions {
  store: EventStore;
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
}

export interface RebuildResult {
  events: number;
  position: bigint;
  elapsedMs: number;
  path: string;
}

export class RebuildInterruptedError extends Error {
  override readonly name = 'RebuildInterruptedError';
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function removeScratch(path: string): void {
  rmSync(path, { force: true });
  rmSync(`${path}-journal`, { force: true });
}

export async function rebuildReadModel(options: RebuildOptions): Promise<RebuildResult> {
  const path = resolve(options.readModelPath);
  const scratch = `${path}.rebuild-${process.pid}`;
  const pageSize = options.pageSize ?? 2000;
  const flushEvery = options.flushEvery ?? 100_000;
  const progressIntervalMs = options.progressIntervalMs ?? 250;
  const readPage = pageReader(options.store);
  const started = performance.now();
  removeScratch(scratch);
  const db = openScratch(scratch);
  const engine = createEngine(db, { cacheLimit: options.cacheLimit ?? 250_000, guardCheckpoint: false });
  let lastReport = -Infinity;
  let lastYield = started;

  async function follow(phase: RebuildProgress['phase'], until: bigint | null): Promise<void> {
    const head = await options.store.headPosition();
    const total = head === 'start' ? 0 : Number(head);
    const report = (force: boolean) => {
      const now = performance.now();
      if (!force && now - lastReport < progressIntervalMs) return;
      lastReport = now;
      const done = Number(engine.appliedPosition());
      options.onProgress?.({ phase, done: Math.min(done, total), total, events: Number(engine.totalEvents()), elapsedMs: now - started });
    };
    for (;;) {
      const page = await readPage(engine.appliedPosition(), pageSize);
      if (page.length === 0) break;
      engine.apply(page);
      if (engine.pendingEvents() >= flushEvery) engine.flush();
      report(false);
      if (until !== null && engine.appliedPosition() >= until) break;
      // Under the live file's lock (phase swap) readers elsewhere wait: finish without giving way.
      if (phase !== 'swap' && performance.now() - lastYield > 50) {
        await yieldToLoop();
        lastYield = performance.now();
        if (options.shouldStop?.()) throw new RebuildInterruptedError('rebuild interrupted; the live read model is unchanged');
      }
    }
    engine.flush();
    report(true);
  }

  try {
    const head = await options.store.headPosition();
    await follow('build', head === 'start' ? 0n : head);
    if (options.swap) await follow('catch-up', null);
    await switchInto(path, scratch, db, engine, options, follow);
  } catch (error) {
    if (db.open) db.close();
    removeScratch(scratch);
    throw error;
  }
  return { events: Number(engine.totalEvents()), position: engine.flushedPosition(), elapsedMs: performance.now() - started, path };
}

/**
 * Takes the live file's exclusive lock (no reader or writer is inside a transaction on it, so no
 * rollback journal of the old file exists), lets a swap fold the last events, then renames.
 */
async function switchInto(
  path: string,
  scratch: string,
  db: Database.Database,
  engine: ProjectionEngine,
  options: RebuildOptions,
  follow: (phase: RebuildProgress['phase'], until: bigint | null) => Promise<void>,
): Promise<void> {
  const live = existsSync(path) ? new Database(path, { timeout: options.lockTimeoutMs ?? 30_000 }) : null;
  try {
    try {
      live?.exec('BEGIN EXCLUSIVE');
    } catch (error) {
      // A file that is not a database cannot be in use by anyone: replacing it is the point.
      const code = (error as { code?: string }).code;
      if (code !== 'SQLITE_NOTADB' && code !== 'SQLITE_CORRUPT') throw error;
    }
    if (options.swap) await follow('swap', null);
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
