// The store contract against EventStoreDB, when a server is given in TEST_ESDB_URL (see docs/store.md):
//   docker compose up -d eventstore
//   TEST_ESDB_URL='esdb://localhost:2113?tls=false' npx tap test/store/esdb.test.ts
// Without a server, only what needs none runs: errors and the caught-up ordering of subscriptions.
import t from 'tap';
import { PassThrough } from 'node:stream';
import { randomUUID } from 'node:crypto';
import type { AllStreamResolvedEvent, EventStoreDBClient } from '@eventstore/db-client';
import { ConfigError } from '../../src/config/config.js';
import { openEsdbStore } from '../../src/store/esdb/store.js';
import { subscribeEsdb } from '../../src/store/esdb/subscription.js';
import { StoreUnavailableError, type RecordedEvent } from '../../src/store/port.js';
import { storeContract } from './contract.js';

const url = process.env.TEST_ESDB_URL;
if (url) {
  void storeContract(t, 'eventstoredb', () => ({ open: () => openEsdbStore(url) }));
} else {
  t.comment('EventStoreDB contract SKIPPED: TEST_ESDB_URL is not set. To run it: docker compose up -d eventstore; ' +
    "TEST_ESDB_URL='esdb://localhost:2113?tls=false' npx tap test/store/esdb.test.ts");
  t.skip('eventstoredb store contract (needs TEST_ESDB_URL)', () => {});
}

t.test('a malformed URL is a configuration error; an unreachable server is unavailable, not a crash', async (t) => {
  await t.rejects(openEsdbStore('esdb//nowhere'), ConfigError);
  const store = await openEsdbStore('esdb://127.0.0.1:1?tls=false');
  t.teardown(() => store.close());
  const event = { id: randomUUID(), type: 'T', data: {}, metadata: {} };
  await t.rejects(store.append('mining-x', [event], 'any'), StoreUnavailableError);
  await t.rejects(store.headPosition(), StoreUnavailableError);
  await t.rejects(store.streamRevision('mining-x'), StoreUnavailableError);
});

/** Stands in for the client's subscription stream: events and a caught-up event, under the test's control. */
function fakeFeed() {
  const feed = Object.assign(new PassThrough({ objectMode: true }), { unsubscribe: async () => undefined });
  const client = { subscribeToAll: () => feed } as unknown as EventStoreDBClient;
  let commit = 100n;
  const push = (stream: string) => {
    commit += 10n;
    const event = { streamId: stream, id: randomUUID(), revision: 0n, type: 'T', data: {}, metadata: {}, position: { commit, prepare: commit } };
    feed.write({ event } as unknown as AllStreamResolvedEvent);
  };
  return { feed, client, push };
}

t.test('caught up is delivered after exactly the events the server sent before it, even when read later', async (t) => {
  const { feed, client, push } = fakeFeed();
  const seen: string[] = [];
  let sawLive!: () => void;
  const live = new Promise<void>((resolve) => (sawLive = resolve));
  let caughtUpAt: bigint | undefined;
  const subscription = subscribeEsdb(client, { from: 'start', prefix: 'mining-', batchSize: 3 }, {
    onEvents: (events: RecordedEvent[]) => {
      seen.push(`batch:${events.map((e) => e.stream.slice(7)).join(',')}`);
      if (events.some((e) => e.stream === 'mining-live')) sawLive();
    },
    onCaughtUp: (position) => {
      seen.push('caught-up');
      caughtUpAt = position;
    },
  });
  for (let i = 0; i < 5; i++) push(`mining-${i}`);
  // The client emits this the moment it arrives, while the five events still wait in the buffer.
  feed.emit('caughtUp');
  push('mining-live');
  await live;
  await subscription.stop();
  t.same(seen, ['batch:0,1,2', 'batch:3,4', 'caught-up', 'batch:live']);
  t.equal(caughtUpAt, 150n, 'at the position of the fifth event');
});

t.test("a subscription's stream error reaches onError as unavailable", async (t) => {
  const { feed, client } = fakeFeed();
  const failed = new Promise<unknown>((resolve) => {
    subscribeEsdb(client, { from: 'start', prefix: undefined, batchSize: 10 }, { onEvents: () => undefined, onError: resolve });
  });
  feed.emit('error', new Error('connection reset'));
  t.type(await failed, StoreUnavailableError);
});
