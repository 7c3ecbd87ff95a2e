import t from 'tap';
import { join } from 'node:path';
import { createCommandHandler } from '../../src/commands/handler.js';
import { uuidV7Generator, virtualClock } from '../../src/commands/clock.js';
import { sqliteCheckpoint } from '../../src/relay/checkpoint.js';
import { startRelay, type Publisher, type RelayMessage } from '../../src/relay/relay.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import type { EventStore, SubscribeOptions, SubscriptionHandler } from '../../src/store/port.js';
import { miningCodec } from '../../src/commands/codec.js';

const settings = () => ({ rateUnitsPerHour: 25_000_000n, heartbeatTimeoutMs: 300_000, maxSessionMs: 0, minHeartbeatIntervalMs: 0, sweepGraceMs: 0 });
const actor = { actor: { kind: 'user' as const, id: 'test' }, correlationId: 'c-1' };

/** A bus that keeps what it acknowledged and can be told to refuse the next publishes. */
function memoryBus() {
  const acknowledged: RelayMessage[] = [];
  let refuse = 0;
  let publishes = 0;
  const bus: Publisher & { acknowledged: RelayMessage[]; refuseNext(n: number): void; publishes(): number } = {
    acknowledged,
    refuseNext: (n) => (refuse = n),
    publishes: () => publishes,
    async publish(messages) {
      publishes++;
      if (refuse > 0) {
        refuse--;
        throw new Error('broker unavailable');
      }
      acknowledged.push(...messages);
    },
    async close() {},
  };
  return bus;
}

async function seed(dir: string) {
  const store = await openSqliteStore({ codec: miningCodec, path: join(dir, 'events.db') });
  const clock = virtualClock(Date.UTC(2026, 0, 1, 8));
  const handler = createCommandHandler({ store, clock, ids: uuidV7Generator(clock), settings });
  for (const account of ['alice', 'bob']) {
    await handler.execute(account, { type: 'start' }, actor);
    clock.advance(30_000);
    await handler.execute(account, { type: 'heartbeat' }, actor);
  }
  await handler.execute('alice', { type: 'stop' }, actor);
  return { store, handler, clock };
}

t.test('publishes every event in order, keyed by account, with id, type and position headers', async (t) => {
  const dir = t.testdir();
  const { store } = await seed(dir);
  const bus = memoryBus();
  const relay = startRelay({ store, publisher: bus, checkpoint: sqliteCheckpoint(join(dir, 'relay.db')) });
  await relay.caughtUp;
  t.equal(bus.acknowledged.length, 5);
  t.same(bus.acknowledged.map((m) => m.key), ['alice', 'alice', 'bob', 'bob', 'alice']);
  t.same(bus.acknowledged.map((m) => m.headers.position), ['1', '2', '3', '4', '5']);
  t.same(bus.acknowledged.map((m) => m.headers['event-type']), ['MiningStarted', 'Heartbeat', 'MiningStarted', 'Heartbeat', 'MiningStopped']);
  const first = JSON.parse(bus.acknowledged[0]!.value);
  t.equal(first.id, bus.acknowledged[0]!.headers['event-id']);
  t.equal(first.data.accountId, 'alice');
  await relay.stop();
  await store.close();
});

t.test('a restart continues from the checkpoint and follows live appends', async (t) => {
  const dir = t.testdir();
  const { store, handler } = await seed(dir);
  const first = memoryBus();
  const relay = startRelay({ store, publisher: first, checkpoint: sqliteCheckpoint(join(dir, 'relay.db')) });
  await relay.caughtUp;
  await relay.stop();

  const second = memoryBus();
  const again = startRelay({ store, publisher: second, checkpoint: sqliteCheckpoint(join(dir, 'relay.db')) });
  await again.caughtUp;
  t.equal(second.acknowledged.length, 0, 'nothing acknowledged is sent again');
  await handler.execute('bob', { type: 'stop' }, actor);
  while (second.acknowledged.length < 1) await new Promise((r) => setImmediate(r));
  t.equal(second.acknowledged[0]!.headers.position, '6');
  t.equal(second.acknowledged[0]!.headers['event-type'], 'MiningStopped');
  await again.stop();
  await store.close();
});

t.test('a refused publish is retried and the checkpoint does not move past it (at least once)', async (t) => {
  const dir = t.testdir();
  const { store } = await seed(dir);
  const bus = memoryBus();
  bus.refuseNext(3);
  const attempts: number[] = [];
  const relay = startRelay({
    store, publisher: bus, checkpoint: sqliteCheckpoint(join(dir, 'relay.db')),
    backoff: async (attempt) => void attempts.push(attempt),
  });
  await relay.caughtUp;
  t.same(attempts, [1, 2, 3]);
  t.equal(bus.acknowledged.length, 5);
  t.equal(relay.published(), 5);
  await relay.stop();
  const checkpoint = sqliteCheckpoint(join(dir, 'relay.db'));
  t.equal(checkpoint.load(), 5n);
  checkpoint.close();
  await store.close();
});

t.test('a subscription that fails is started again from the checkpoint, and nothing is skipped', async (t) => {
  const dir = t.testdir();
  const { store } = await seed(dir);
  let failuresLeft = 2;
  const flaky: EventStore = Object.create(store, {
    subscribeToAll: {
      value: (options: SubscribeOptions, handler: SubscriptionHandler) => {
        if (failuresLeft-- > 0) {
          queueMicrotask(() => handler.onError?.(new Error('disk I/O error')));
          return { stop: async () => undefined, done: Promise.resolve() };
        }
        return store.subscribeToAll(options, handler);
      },
    },
  });
  const bus = memoryBus();
  const waits: number[] = [];
  const relay = startRelay({
    store: flaky, publisher: bus, checkpoint: sqliteCheckpoint(join(dir, 'relay.db')),
    backoff: async (attempt) => void waits.push(attempt),
  });
  await relay.caughtUp;
  t.same(waits, [1, 2], 'backed off before each new subscription');
  t.same(bus.acknowledged.map((m) => m.headers.position), ['1', '2', '3', '4', '5']);
  await relay.stop();
  await store.close();
});

t.test('stop() gives up on a publish that never returns after its grace period, and checkpoints nothing of it', async (t) => {
  const dir = t.testdir();
  const { store } = await seed(dir);
  let attempts = 0;
  const stuck: Publisher = { publish: () => (attempts++, new Promise<void>(() => undefined)), close: () => new Promise<void>(() => undefined) };
  const relay = startRelay({ store, publisher: stuck, checkpoint: sqliteCheckpoint(join(dir, 'relay.db')), stopGraceMs: 50 });
  while (attempts === 0) await new Promise((r) => setImmediate(r));
  await relay.stop();
  t.equal(relay.published(), 0);
  const checkpoint = sqliteCheckpoint(join(dir, 'relay.db'));
  t.equal(checkpoint.load(), 'start', 'the batch in flight will be sent again');
  checkpoint.close();
  await store.close();
});

t.test('a stop during a long backoff returns at once and leaves no timer behind', async (t) => {
  const dir = t.testdir();
  const { store } = await seed(dir);
  const bus = memoryBus();
  bus.refuseNext(100);
  const relay = startRelay({ store, publisher: bus, checkpoint: sqliteCheckpoint(join(dir, 'relay.db')) });
  while (bus.publishes() < 3) await new Promise((r) => setTimeout(r, 10));
  await relay.stop();
  const after = bus.publishes();
  await new Promise((r) => setTimeout(r, 1000));
  t.equal(bus.publishes(), after, 'no retry after stop');
  t.equal(bus.acknowledged.length, 0);
  await store.close();
});
