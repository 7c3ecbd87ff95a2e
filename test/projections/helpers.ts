// Shared setup for projection tests: a real SQLite store in the test's directory, a real command
// handler on a virtual clock, and a way to compare read-model files row by row.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, type Writable } from 'node:stream';
import Database from 'better-sqlite3';
import type { Test } from 'tap';
import { uuidV7Generator, virtualClock, type VirtualClock } from '../../src/commands/clock.js';
import { createCommandHandler, type CommandHandler, type CommandRequest, type MiningSettings } from '../../src/commands/handler.js';
import { openSqliteStore, type SqliteEventStore } from '../../src/store/sqlite/store.js';
import { miningCodec, type MiningRecord } from '../../src/commands/codec.js';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY0 = Date.UTC(2026, 2, 1, 8);

export const SETTINGS: MiningSettings = {
  rateUnitsPerHour: 25_000_000n,
  heartbeatTimeoutMs: 5 * MINUTE,
  maxSessionMs: 0,
  minHeartbeatIntervalMs: 0,
  sweepGraceMs: 2 * SECOND,
};

export interface World {
  dir: string;
  store: SqliteEventStore<MiningRecord>;
  clock: VirtualClock;
  handler: CommandHandler;
  /** The settings commands decide with; assign to reconfigure. */
  settings: MiningSettings;
  readModelPath: string;
  eventStoreUrl: string;
  /** Runs a command for an account as that user, at the clock's current time. */
  run(accountId: string, request: CommandRequest): Promise<bigint>;
}

export interface WorldOptions {
  settings?: Partial<MiningSettings>;
  /** Start the store as a copy of this (closed) store file. */
  copyOf?: string;
  /** A directory of its own (default: the test's directory). */
  dir?: string;
}

/** A fresh store with a command handler on a virtual clock; settings may be changed while it runs. */
export async function world(t: Test, options: WorldOptions = {}): Promise<World> {
  const dir = options.dir ?? t.testdir();
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'events.db');
  if (options.copyOf) copyFileSync(options.copyOf, path);
  const store = await openSqliteStore({ codec: miningCodec, path, pollIntervalMs: 5 });
  t.teardown(() => store.close());
  const clock = virtualClock(DAY0);
  const settings: MiningSettings = { ...SETTINGS, ...options.settings };
  const handler = createCommandHandler({
    store, clock, ids: uuidV7Generator(clock), settings: () => settings, backoff: async () => undefined,
  });
  return {
    dir, store, clock, handler, settings,
    readModelPath: join(dir, 'read.db'),
    eventStoreUrl: `sqlite:${path}`,
    async run(accountId, request) {
      const result = await handler.execute(accountId, request, { actor: { kind: 'user', id: accountId }, correlationId: 'test' });
      return result.position;
    },
  };
}

/** Incident-like history for one account: start, heartbeats every 30 s for `minutes`, then `end`. */
export async function mine(w: World, accountId: string, minutes: number, end: 'stop' | 'offline' | 'open'): Promise<bigint> {
  let position = await w.run(accountId, { type: 'start' });
  for (let i = 0; i < minutes * 2; i++) {
    w.clock.advance(30 * SECOND);
    position = await w.run(accountId, { type: 'heartbeat' });
  }
  if (end === 'stop') {
    w.clock.advance(10 * SECOND);
    position = await w.run(accountId, { type: 'stop' });
  } else if (end === 'offline') {
    w.clock.advance(12 * HOUR + 44 * MINUTE);
    position = await w.run(accountId, { type: 'expire' });
  }
  return position;
}

/** Every row of the read model's domain tables, in key order (the checkpoint and meta excluded). */
export function dumpReadModel(path: string): { accounts: unknown[]; sessions: unknown[]; position: bigint } {
  const db = new Database(path, { readonly: true });
  db.defaultSafeIntegers(true);
  try {
    return {
      accounts: db.prepare('SELECT * FROM accounts ORDER BY account_id').all(),
      sessions: db.prepare('SELECT * FROM sessions ORDER BY account_id, seq').all(),
      position: (db.prepare('SELECT position FROM checkpoint').get() as { position: bigint }).position,
    };
  } finally {
    db.close();
  }
}

/** A Writable that keeps what is written, for runCli. */
export function capture(): { stream: Writable & NodeJS.WritableStream; text(): string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}
