// A real embedded store in the test's directory, a virtual clock, the real command handler, and
// sweepers started the way `serve` and `sweeper` start them.
import { join } from 'node:path';
import { Registry } from 'prom-client';
import type { Test } from 'tap';
import { uuidV7Generator, virtualClock, type VirtualClock } from '../../src/commands/clock.js';
import { decode, type MiningRecord, miningCodec } from '../../src/commands/codec.js';
import { createCommandHandler, type CommandHandler, type MiningSettings } from '../../src/commands/handler.js';
import { accrue } from '../../src/domain/accrual.js';
import { streamOf } from '../../src/domain/events.js';
import { parseIso } from '../../src/domain/time.js';
import type { EventStore } from '../../src/store/port.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { startSweeper, type Sweeper, type SweeperOptions } from '../../src/sweeper/sweeper.js';

export const T = 300_000;
export const START = Date.UTC(2026, 0, 1, 8);
export const user = (id = 'app') => ({ actor: { kind: 'user' as const, id }, correlationId: 'test' });

export interface World {
  dir: string;
  store: EventStore<MiningRecord>;
  clock: VirtualClock;
  settings: MiningSettings;
  /** The API's handler: what users' commands go through. */
  api: CommandHandler;
  handlerFor(store?: EventStore<MiningRecord>): CommandHandler;
  sweeper(options?: Partial<SweeperOptions>): Promise<Sweeper>;
  events(accountId: string, store?: EventStore<MiningRecord>): Promise<MiningRecord[]>;
  stops(accountId: string): Promise<{ at: number; reason: string; recordedAt: number; actor: string }[]>;
  balance(accountId: string): Promise<bigint>;
}

export async function world(t: Test, overrides: Partial<MiningSettings> = {}): Promise<World> {
  const dir = t.testdir();
  const store = await openSqliteStore({ codec: miningCodec, path: join(dir, 'events.db') });
  t.teardown(() => store.close());
  const clock = virtualClock(START);
  const settings: MiningSettings = {
    rateUnitsPerHour: 25_000_000n, heartbeatTimeoutMs: T, maxSessionMs: 0, minHeartbeatIntervalMs: 0, sweepGraceMs: 0,
    ...overrides,
  };
  const handlerFor = (on: EventStore<MiningRecord> = store) =>
    createCommandHandler({ store: on, clock, ids: uuidV7Generator(clock), settings: () => settings, backoff: async () => undefined });
  const events = async (accountId: string, on: EventStore<MiningRecord> = store) => {
    const out: MiningRecord[] = [];
    for await (const recorded of on.readStream(streamOf(accountId))) out.push(decode(recorded));
    return out;
  };
  const w: World = {
    dir, store, clock, settings, handlerFor, events,
    api: handlerFor(),
    async sweeper(options = {}) {
      const sweeper = await startSweeper({
        store, handler: handlerFor(), clock, intervalMs: 0, graceMs: settings.sweepGraceMs,
        registry: new Registry(), sweeperId: 'sweeper-test', ...options,
      });
      t.teardown(() => sweeper.stop());
      await sweeper.caughtUp;
      return sweeper;
    },
    async stops(accountId) {
      return (await events(accountId))
        .filter((e) => e.event.type === 'MiningStopped')
        .map((e) => ({
          at: parseIso(e.event.data.at)!,
          reason: (e.event.data as { reason: string }).reason,
          recordedAt: parseIso(e.metadata.recordedAt)!,
          actor: `${e.metadata.actor.kind}:${e.metadata.actor.id}`,
        }));
    },
    async balance(accountId) {
      return accrue((await events(accountId)).map((e) => e.event)).balanceUnits;
    },
  };
  return w;
}

/** Starts a session for each account at the clock's current time. */
export async function startAll(w: World, accounts: string[]): Promise<void> {
  await Promise.all(accounts.map((a) => w.api.execute(a, { type: 'start' }, user())));
}
