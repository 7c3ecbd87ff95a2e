// A real SQLite store in a test directory, handlers on a virtual clock, and store wrappers that
// count reads or force conflicts.
import { join } from 'node:path';
import type { Test } from 'tap';
import { uuidV7Generator, virtualClock, type VirtualClock } from '../../src/commands/clock.js';
import { decode, type CommandContext, miningCodec, type MiningRecord } from '../../src/commands/codec.js';
import { createCommandHandler, type CommandHandler, type CommandHandlerOptions, type MiningSettings } from '../../src/commands/handler.js';
import type { EventStore } from '../../src/store/port.js';
import { openSqliteStore, type SqliteEventStore } from '../../src/store/sqlite/store.js';

export const DAY = Date.UTC(2026, 2, 1);
export const T = 300_000;
export const SETTINGS: MiningSettings = {
  rateUnitsPerHour: 25_000_000n,
  heartbeatTimeoutMs: T,
  maxSessionMs: 0,
  minHeartbeatIntervalMs: 0,
  sweepGraceMs: 2_000,
};
export const AS_USER: CommandContext = { actor: { kind: 'user', id: 'alice' }, correlationId: 'req-1' };
export const AS_SWEEPER: CommandContext = { actor: { kind: 'sweeper', id: 'sweeper-1' }, correlationId: 'sweep-1' };

/** Opens a store in this test's directory and closes it when the test ends. */
export async function openStore(t: Test): Promise<SqliteEventStore<MiningRecord>> {
  const store = await openSqliteStore({ codec: miningCodec, path: join(t.testdir(), 'events.db') });
  t.teardown(() => store.close());
  return store;
}

export interface Rig {
  handler: CommandHandler;
  clock: VirtualClock;
  /** Change the settings later commands see (a configuration change). */
  settings: MiningSettings;
}

export function rig(store: EventStore<MiningRecord>, options: Partial<CommandHandlerOptions> & { clock?: VirtualClock } = {}): Rig {
  const clock = options.clock ?? virtualClock(DAY);
  const r: Rig = {
    clock,
    settings: { ...SETTINGS },
    handler: createCommandHandler({
      store, clock, ids: uuidV7Generator(clock), settings: () => r.settings, backoff: async () => {}, ...options,
    }),
  };
  return r;
}

/** Every event of a stream, decoded (so validated) as a reader would see it. */
export async function streamEvents(store: EventStore<MiningRecord>, stream: string): Promise<MiningRecord[]> {
  const events: MiningRecord[] = [];
  for await (const recorded of store.readStream(stream)) events.push(decode(recorded));
  return events;
}

export const typesOf = (events: MiningRecord[]): string[] =>
  events.map((e) => (e.event.type === 'MiningStopped' ? `MiningStopped:${e.event.data.reason}` : e.event.type));

export interface Counting extends EventStore<MiningRecord> {
  /** Events handed out by readStream since the last reset. */
  readonly read: number;
  readonly appends: number;
  reset(): void;
}

/** Wraps a store to count what readStream hands out and how often append is called. */
export function counting(store: EventStore<MiningRecord>): Counting {
  let read = 0;
  let appends = 0;
  return {
    ...store,
    async *readStream(stream, options) {
      for await (const event of store.readStream(stream, options)) {
        read++;
        yield event;
      }
    },
    append(stream, events, expected) {
      appends++;
      return store.append(stream, events, expected);
    },
    get read() {
      return read;
    },
    get appends() {
      return appends;
    },
    reset() {
      read = 0;
      appends = 0;
    },
  };
}
