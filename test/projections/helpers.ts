// Shared setup for projection tests: a real SQLite store in the test's directory, a real command
// handler on a virtual clock, and a way to compare read-model files row by row.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, type Writable } from 'node:stream';
import Database from 'better-sqlite3';
import type { Test } from 'tap';
import { uuidV7Generator, virtualClock, type VirtualClock } from '../../src/commands/clock.js';
import { createCommandHandler, type CommandHandler, type CommandRequest, type MiningSettings } from '../../src/commands/handler.js';
import { openSqliteStore, type SqliteEventStore } from '../../src/store/sqlite/store.js';

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
  store: SqliteEventStore;
  clock: VirtualClock;
  handler: CommandHandler;
  readModelPath: string;
  eventStoreUrl: string;
  /** Runs a command for an account as that user, at the clock's current time. */
  run(accountId: string, request: CommandRequest): Promise<bigint>;
}

/** A fresh store in the test's directory; `copyOf` starts it as a copy of a closed store file. */
export async function world(t: Test, settings: Partial<MiningSettings> = {}, copyOf?: string): Promise<World> {
  const dir = t.testdir();
  const path = join(dir, 'events.db');
  if (copyOf) copyFileSync(copyOf, path);
  const store = await openSqliteStore({ path, pollIntervalMs: 5 });
  t.teardown(() => store.close());
  const clock = virtualClock(DAY0);
  const handler = createCommandHandler({
    store, clock, ids: uuidV7Generator(clock), settings: () => ({ ...SETTINGS, ...settings }), backoff: async () => undefined,
  });
  return {
    dir, store, clock, handler,
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
