// The EventStoreDB adapter's defects from the review (docs/store.md), each pinned through the v6
// client's own classes with no server: its error classes and its error conversion, its
// subscription stream (a Transform with a 16-object buffer) fed real protobuf ReadResp messages,
// and its event encoding rules.
import t from 'tap';
import { createRequire } from 'node:module';
import { PassThrough, Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import {
  CancelledError, convertToCommandError, EventStoreDBClient, MaxAppendSizeExceededError, UnknownError, WrongExpectedVersionError,
  type AllStreamResolvedEvent,
} from '@eventstore/db-client';
import { Metadata, status } from '@grpc/grpc-js';
import { isPartialRetry, MAX_APPEND_BYTES, toEventData, toPortError } from '../../src/store/esdb/mapping.js';
import { acquireEsdbClient, openEsdbStore, READ_ALL_PAGE, releaseEsdbClient } from '../../src/store/esdb/store.js';
import { subscribeEsdb } from '../../src/store/esdb/subscription.js';
import { InvalidAppendError, StoreUnavailableError, WrongExpectedRevisionError, type RecordedEvent } from '../../src/store/port.js';

const require = createRequire(import.meta.url);
const { Subscription } = require('@eventstore/db-client/dist/streams/utils/Subscription.js') as {
  Subscription: new (create: () => Promise<unknown>, convert: unknown, options: object) => PassThrough & { unsubscribe(): Promise<void> };
};
const { convertGrpcEvent } = require('@eventstore/db-client/dist/utils/convertGrpcEvent.js') as { convertGrpcEvent: unknown };
const streamsPb = require('@eventstore/db-client/generated/streams_pb.js');
const sharedPb = require('@eventstore/db-client/generated/shared_pb.js');
const { ReadResp } = streamsPb;

/** A gRPC error as @grpc/grpc-js delivers it. */
const serviceError = (code: number, details: string) =>
  Object.assign(new Error(`${code} ${details}`), { code, details, metadata: new Metadata() });

const event = (id = randomUUID()) => ({ id, type: 'Heartbeat', data: { n: 1 }, metadata: { schemaVersion: 1 } });

t.test('1. a server restart, "not ready" and "too busy" and a store closed mid-call are StoreUnavailable (503), not 500', async (t) => {
  const cancelled = convertToCommandError(serviceError(status.CANCELLED, 'Server restart'));
  t.type(cancelled, CancelledError, 'the client calls a server-side cancel CancelledError');
  t.type(toPortError(cancelled), StoreUnavailableError);
  // Batch appends: the v6 client wraps statuses it does not know like this.
  t.type(toPortError(new UnknownError(undefined, 'Could not recognize Server Is Not Ready')), StoreUnavailableError);
  t.type(toPortError(new UnknownError(undefined, 'Could not recognize Server Is Too Busy')), StoreUnavailableError);
  t.type(toPortError(convertToCommandError(serviceError(status.UNAVAILABLE, 'No connection established'))), StoreUnavailableError);
  const other = new UnknownError(undefined, 'Could not recognize something else');
  t.equal(toPortError(other), other, 'an unknown error that is not about readiness passes unchanged');
  const clientCancel = serviceError(status.CANCELLED, 'Cancelled on client');
  t.type(toPortError(clientCancel, 'mining-a', 'any', true), StoreUnavailableError, 'cancelled because close() ran: unavailable');
});

/** A client whose calls the test controls; only what the adapter uses. */
function scriptedClient(script: {
  append?: (stream: string) => Promise<unknown>;
  readStream?: (stream: string, options: { fromRevision: unknown }) => AllStreamResolvedEvent[];
}) {
  const appended: string[] = [];
  const client = {
    appendToStream: (stream: string) => {
      appended.push(stream);
      return script.append?.(stream) ?? Promise.resolve({ success: true, nextExpectedRevision: 0n, position: { commit: 1n, prepare: 1n } });
    },
    readStream: (stream: string, options: { fromRevision: unknown }) => {
      const read = Object.assign(Readable.from(script.readStream?.(stream, options) ?? [], { objectMode: true }), { cancel: async () => undefined });
      return read;
    },
    dispose: async () => undefined,
  };
  return { client: client as unknown as EventStoreDBClient, appended };
}

t.test('1. an append in flight when close() runs fails as StoreUnavailable', async (t) => {
  let cancel!: (error: Error) => void;
  const { client } = scriptedClient({ append: () => new Promise((_, reject) => (cancel = reject)) });
  const store = await openEsdbStore('esdb://localhost:2113?tls=false', { client });
  const pending = store.append('mining-a', [event()], 'no_stream');
  await store.close();
  // What the client does to calls in flight when it is disposed.
  cancel(serviceError(status.CANCELLED, 'Cancelled on client'));
  await t.rejects(pending, StoreUnavailableError);
  await t.rejects(store.append('mining-a', [event()], 'no_stream'), StoreUnavailableError);
});

t.test('6. content errors are InvalidAppend, before anything is sent where the adapter can tell', async (t) => {
  const { client, appended } = scriptedClient({});
  const store = await openEsdbStore('esdb://localhost:2113?tls=false', { client });
  t.teardown(() => store.close());
  await t.rejects(store.append('mining-a', [{ ...event(), id: 'not-a-uuid' }], 'no_stream'), InvalidAppendError);
  const big = { ...event(), data: { blob: 'x'.repeat(MAX_APPEND_BYTES) } };
  await t.rejects(store.append('mining-a', [big], 'no_stream'), InvalidAppendError);
  t.same(appended, [], 'neither was sent');
  t.type(toPortError(MaxAppendSizeExceededError.fromMaxAppendSize(512 * 1024)), InvalidAppendError, "the server's own limit too");
});

t.test('6. a retry that matches only part of an earlier append is InvalidAppend, a real race stays a conflict', async (t) => {
  const mine = [event(), event()];
  const theirs = randomUUID();
  const wrongVersion = () => new WrongExpectedVersionError(undefined, { streamName: 'mining-a', expected: 0n, current: 2n });
  let atNext = mine[0]!.id;
  const recorded = (id: string) => ({
    event: { streamId: 'mining-a', id, revision: 1n, type: 'Heartbeat', data: {}, metadata: {}, isJson: true, created: new Date(0), position: { commit: 9n, prepare: 9n } },
  }) as unknown as AllStreamResolvedEvent;
  const { client } = scriptedClient({ append: () => Promise.reject(wrongVersion()), readStream: () => [recorded(atNext)] });
  const store = await openEsdbStore('esdb://localhost:2113?tls=false', { client });
  t.teardown(() => store.close());
  await t.rejects(store.append('mining-a', [mine[0]!, event()], 0n), InvalidAppendError, 'its first event is there, the rest differ');
  atNext = theirs;
  await t.rejects(store.append('mining-a', mine, 0n), WrongExpectedRevisionError, 'someone else wrote next: a conflict');
  t.equal(isPartialRetry(mine, undefined), false);
});

t.test('7. metadata goes as bytes, so falsy values the client would drop survive', async (t) => {
  for (const metadata of [null, 0, false, '']) {
    const [data] = toEventData('mining-a', [{ ...event(), metadata }]);
    // The client sends metadata only `if (event.metadata)`, and passes a Uint8Array as it is.
    t.ok(data!.metadata, `${JSON.stringify(metadata)} is sent`);
    t.equal(data!.metadata!.constructor, Uint8Array);
    t.same(JSON.parse(Buffer.from(data!.metadata as Uint8Array).toString('utf8')), metadata, 'and reads back as itself');
  }
});

t.test('8. one client per connection string per process, disposed when the last store closes', async (t) => {
  const url = 'esdb://127.0.0.1:1?tls=false&x=shared';
  const first = acquireEsdbClient(url);
  const second = acquireEsdbClient(url);
  t.equal(first, second, 'the same client');
  let disposed = 0;
  const dispose = first.dispose.bind(first);
  first.dispose = async () => {
    disposed++;
    await dispose();
  };
  await releaseEsdbClient(url, first);
  t.equal(disposed, 0, 'still in use');
  await releaseEsdbClient(url, second);
  t.equal(disposed, 1);
  const third = acquireEsdbClient(url);
  t.not(third, first, 'a fresh client after the last release');
  await releaseEsdbClient(url, third);
  t.throws(() => acquireEsdbClient('esdb//nowhere'), { name: 'ConfigError' });
});

/** ReadResp messages as the server sends them, into the client's own Subscription transform. */
function serverFeed() {
  const grpc = Object.assign(new PassThrough({ objectMode: true }), { cancel: () => undefined });
  const feed = new Subscription(async () => grpc, convertGrpcEvent, {});
  const client = { subscribeToAll: () => feed } as unknown as EventStoreDBClient;
  let commit = 1000n;
  const send = (stream: string) => {
    commit += 100n;
    const recorded = new ReadResp.ReadEvent.RecordedEvent();
    const id = new sharedPb.UUID();
    id.setString(randomUUID());
    recorded.setId(id);
    const identifier = new sharedPb.StreamIdentifier();
    identifier.setStreamName(Buffer.from(stream));
    recorded.setStreamIdentifier(identifier);
    recorded.setStreamRevision('0');
    recorded.setCommitPosition(commit.toString());
    recorded.setPreparePosition(commit.toString());
    recorded.getMetadataMap().set('type', 'Heartbeat');
    recorded.getMetadataMap().set('content-type', 'application/json');
    recorded.setData(Buffer.from('{}'));
    const read = new ReadResp.ReadEvent();
    read.setEvent(recorded);
    read.setCommitPosition(commit.toString());
    const resp = new ReadResp();
    resp.setEvent(read);
    grpc.write(resp);
    return commit;
  };
  const caughtUp = () => {
    const resp = new ReadResp();
    resp.setCaughtUp(new ReadResp.CaughtUp());
    grpc.write(resp);
  };
  return { grpc, feed, client, send, caughtUp };
}

t.test('2. caught up comes after exactly the backlog, also when it is far larger than the client buffer', async (t) => {
  for (const batchSize of [7, 16, 500]) {
    const server = serverFeed();
    const backlog = Array.from({ length: 100 }, (_, i) => server.send(`mining-${i}`));
    server.caughtUp();
    server.send('mining-live');
    const seen: string[] = [];
    let caughtUpAt: bigint | undefined;
    let eventsBeforeCaughtUp = -1;
    let done!: () => void;
    const live = new Promise<void>((resolve) => (done = resolve));
    const subscription = subscribeEsdb(server.client, { from: 'start', prefix: 'mining-', batchSize }, {
      onEvents: async (events: RecordedEvent[]) => {
        seen.push(...events.map((e) => e.stream));
        await new Promise((r) => setImmediate(r));
        if (events.some((e) => e.stream === 'mining-live')) done();
      },
      onCaughtUp: (position) => {
        eventsBeforeCaughtUp = seen.length;
        caughtUpAt = position;
      },
    });
    await live;
    await subscription.stop();
    t.equal(eventsBeforeCaughtUp, 100, `batch size ${batchSize}: caught up after the 100 backlog events`);
    t.equal(caughtUpAt, backlog[99], 'at the position of the last of them');
    t.equal(seen.length, 101);
  }
});

t.test('3. a subscription the server ends without being asked is a failure (resubscribe), a stop is not', async (t) => {
  const server = serverFeed();
  server.send('mining-a');
  const failed = new Promise<unknown>((resolve) => {
    subscribeEsdb(server.client, { from: 'start', prefix: undefined, batchSize: 10 }, { onEvents: () => undefined, onError: resolve });
  });
  server.grpc.end();
  const error = await failed;
  t.type(error, StoreUnavailableError);
  t.match(String(error), /ended without being stopped/);

  const other = serverFeed();
  let errors = 0;
  const subscription = subscribeEsdb(other.client, { from: 'start', prefix: undefined, batchSize: 10 }, { onEvents: () => undefined, onError: () => errors++ });
  await subscription.stop();
  t.equal(errors, 0);
});

t.test('4. readAll reads $all in pages and applies the prefix on the client (the v6 client cannot filter reads)', async (t) => {
  const pages: unknown[] = [];
  let commit = 0n;
  const page = (n: number) => Array.from({ length: n }, (_, i) => {
    commit += 10n;
    const stream = i % 3 === 0 ? '$stats-node' : i % 3 === 1 ? 'mining-a' : 'other-b';
    return { event: { streamId: stream, id: randomUUID(), revision: BigInt(i), type: 'T', data: {}, metadata: {}, position: { commit, prepare: commit } } };
  });
  const first = page(READ_ALL_PAGE);
  const second = [first[first.length - 1]!, ...page(10)];
  const client = {
    readAll: (options: unknown) => {
      pages.push(options);
      const records = pages.length === 1 ? first : second;
      return Object.assign(Readable.from(records, { objectMode: true }), { cancel: async () => undefined });
    },
    dispose: async () => undefined,
  } as unknown as EventStoreDBClient;
  const store = await openEsdbStore('esdb://localhost:2113?tls=false', { client });
  const read: RecordedEvent[] = [];
  for await (const e of store.readAll({ prefix: 'mining-' })) read.push(e);
  t.equal(pages.length, 2, 'two pages');
  t.match(pages[0], { maxCount: READ_ALL_PAGE });
  t.match(pages[1], { fromPosition: { commit: first[first.length - 1]!.event.position.commit } });
  const expected = [...first, ...second.slice(1)].filter((r) => r.event.streamId.startsWith('mining-')).map((r) => r.event.position.commit);
  t.same(read.map((e) => e.position), expected, 'every mining- event once, in order');
  await store.close();
});
