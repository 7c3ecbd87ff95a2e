// The typed port: a store opened with a codec yields the codec's events from every read,
// subscription and capability; this process's own commits reach in-process subscribers as the
// appended objects (no JSON round trip) only when the codec vouches for them; a bad stored event is
// reported with stream@revision (position), by the read and by the subscription.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import t from 'tap';
import { encode, miningCodec, type MiningRecord } from '../../src/commands/codec.js';
import type { MiningEvent } from '../../src/domain/events.js';
import { rawCodec, type EventStore, type EventToAppend, type RecordedEvent } from '../../src/store/port.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { withCodec } from '../../src/store/with-codec.js';

const SESSION = '0190f0e0-0000-7000-8000-000000000001';
const CONTEXT = { actor: { kind: 'user' as const, id: 'alice' }, correlationId: 'req-1' };
const start: MiningEvent = { type: 'MiningStarted', data: { sessionId: SESSION, accountId: 'alice', at: '2026-03-01T10:00:00.000Z', rateUnitsPerHour: '1000', heartbeatTimeoutMs: 300_000, maxSessionMs: 3_600_000 } };
const beat = (second: number): MiningEvent => ({ type: 'Heartbeat', data: { sessionId: SESSION, at: `2026-03-01T10:00:${String(second).padStart(2, '0')}.000Z` } });

async function collect<E>(events: AsyncIterable<E>): Promise<E[]> {
  const out: E[] = [];
  for await (const event of events) out.push(event);
  return out;
}

/** Subscribes from the start and resolves with the first `count` events delivered. */
function firstDelivered<E extends RecordedEvent>(store: EventStore<E>, count: number): { events: Promise<E[]>; stop(): Promise<void> } {
  const seen: E[] = [];
  let done!: (events: E[]) => void;
  const events = new Promise<E[]>((resolve) => (done = resolve));
  const subscription = store.subscribeToAll({ from: 'start' }, {
    onEvents(batch) {
      seen.push(...batch);
      if (seen.length >= count) done(seen.slice(0, count));
    },
  });
  return { events, stop: () => subscription.stop() };
}

t.test('own commits reach in-process subscribers as the encoded objects, typed; reads yield decoded copies', async (t) => {
  const store = await openSqliteStore({ path: join(t.testdir(), 'events.db'), codec: miningCodec, indexIntervalMs: 0 });
  t.teardown(() => store.close());
  // Caught up first, so the appends below are delivered live, from memory.
  const caughtUp = new Promise<void>((resolve) => store.subscribeToAll({ from: 'start' }, { onEvents() {}, onCaughtUp: () => resolve() }));
  await caughtUp;
  const live = firstDelivered(store, 3);
  const encoded = [encode(start, randomUUID(), '2026-03-01T10:00:00.001Z', CONTEXT), encode(beat(30), randomUUID(), '2026-03-01T10:00:30.001Z', CONTEXT)];
  // An object encode did not return (a copy): the codec cannot vouch for it, so it is decoded from the stored text.
  const copy: EventToAppend = JSON.parse(JSON.stringify(encode(beat(45), randomUUID(), '2026-03-01T10:00:45.001Z', CONTEXT)));
  await store.append('mining-alice', encoded, 'no_stream');
  await store.append('mining-alice', [copy], 1n);
  const delivered = await live.events;
  await live.stop();

  t.same(delivered.map((e) => [e.stream, e.revision, e.position, e.event.type]), [
    ['mining-alice', 0n, 1n, 'MiningStarted'], ['mining-alice', 1n, 2n, 'Heartbeat'], ['mining-alice', 2n, 3n, 'Heartbeat'],
  ]);
  t.equal(delivered[0]!.event.data, encoded[0]!.data, 'an encoded event is handed over as the object appended: no JSON round trip');
  t.equal(delivered[1]!.metadata, encoded[1]!.metadata);
  t.equal(delivered[0]!.metadata.actor.id, 'alice', 'metadata is typed');
  t.not(delivered[2]!.event.data, copy.data, 'an event the codec did not encode is parsed and decoded');
  t.same(delivered[2]!.event.data, copy.data);

  const read = await collect(store.readStream('mining-alice'));
  t.same(read.map((e) => e.event), delivered.map((e) => e.event), 'a read yields what the subscriber saw');
  t.not(read[0]!.event.data, encoded[0]!.data, 'a read decodes its own copy');
  t.same(store.capabilities.pages(0n, 10).map((e) => e.event.type), ['MiningStarted', 'Heartbeat', 'Heartbeat'], 'the pages capability yields the codec\'s type too');
  t.same((await collect(store.readAll({ prefix: 'mining-' }))).map((e) => e.metadata.recordedAt), ['2026-03-01T10:00:00.001Z', '2026-03-01T10:00:30.001Z', '2026-03-01T10:00:45.001Z']);
});

t.test('a stored event that does not decode: the read and the subscription both name stream@revision (position)', async (t) => {
  const path = join(t.testdir(), 'events.db');
  const raw = await openSqliteStore({ path, indexIntervalMs: 0 });
  t.teardown(() => raw.close());
  await raw.append('mining-bob', [encode(start, randomUUID(), '2026-03-01T10:00:00.001Z', CONTEXT)], 'no_stream');
  const teleported = encode(beat(1), randomUUID(), '2026-03-01T10:00:01.001Z', CONTEXT);
  await raw.append('mining-bob', [{ ...teleported, type: 'Teleported' }], 0n);
  t.same((await collect(raw.readStream('mining-bob'))).map((e) => e.type), ['MiningStarted', 'Teleported'], 'the raw codec yields what is stored, unchecked');

  const typed = await openSqliteStore({ path, codec: miningCodec, readOnly: true });
  t.teardown(() => typed.close());
  const message = /^mining-bob@1 \(position 2\): unknown event type "Teleported"$/;
  const before: MiningRecord[] = [];
  await t.rejects(async () => {
    for await (const event of typed.readStream('mining-bob')) before.push(event);
  }, { name: 'EventValidationError', message });
  t.same(before.map((e) => e.event.type), ['MiningStarted'], 'the events before the bad one are yielded first');
  const failed = await new Promise<unknown>((resolve) => typed.subscribeToAll({ from: 'start' }, { onEvents() {}, onError: resolve }));
  t.match(failed, { name: 'EventValidationError', message });
});

t.test('withCodec: an adapter that yields stored events, decoded by the codec in every read', async (t) => {
  const raw = await openSqliteStore({ path: join(t.testdir(), 'events.db'), indexIntervalMs: 0 });
  t.teardown(() => raw.close());
  t.equal(withCodec(raw, rawCodec), raw, 'the raw codec needs no wrapper');
  const typed = withCodec(raw, miningCodec);
  const live = firstDelivered(typed, 2);
  await typed.append('mining-carol', [encode(start, randomUUID(), '2026-03-01T10:00:00.001Z', CONTEXT), encode(beat(30), randomUUID(), '2026-03-01T10:00:30.001Z', CONTEXT)], 'no_stream');
  t.same((await live.events).map((e) => e.event.type), ['MiningStarted', 'Heartbeat']);
  await live.stop();
  t.same((await collect(typed.readStream('mining-carol'))).map((e) => e.event.type), ['MiningStarted', 'Heartbeat']);
  t.same((await collect(typed.readAll())).map((e) => e.metadata.actor.id), ['alice', 'alice']);
  t.same(typed.capabilities!.pages!(0n, 10).map((e) => e.event.data.at), ['2026-03-01T10:00:00.000Z', '2026-03-01T10:00:30.000Z']);
  t.same(Object.keys(withCodec({ ...raw, capabilities: {} }, miningCodec).capabilities!), [], 'a store without pages gets none');
  t.equal(await typed.headPosition(), 2n);
  t.equal(await typed.streamRevision('mining-carol'), 1n);

  // A bad event ends a wrapped subscription through onError, as on the embedded store.
  await raw.append('mining-carol', [{ id: randomUUID(), type: 'Teleported', data: {}, metadata: { schemaVersion: 1 } }], 1n);
  const caught = new Promise<void>((resolve) => typed.subscribeToAll({ from: 2n }, { onEvents() {}, onCaughtUp: () => resolve(), onError: () => resolve() }));
  const failed = await new Promise<unknown>((resolve) => typed.subscribeToAll({ from: 'start' }, { onEvents() {}, onError: resolve }));
  t.match(failed, { name: 'EventValidationError', message: /^mining-carol@2 \(position 3\)/ });
  await caught;
  await typed.close();
});

t.test('the embedded store declares every capability; the others declare none', async (t) => {
  const store = await openSqliteStore({ path: join(t.testdir(), 'events.db'), codec: miningCodec, indexIntervalMs: 0 });
  t.teardown(() => store.close());
  t.same(Object.keys(store.capabilities).sort(), ['damage', 'index', 'pages', 'partitions', 'streamPages']);
  t.equal(store.capabilities.damage(), null, 'a healthy store reports no damage');
  await store.append('mining-dan', [encode(start, randomUUID(), '2026-03-01T10:00:00.001Z', CONTEXT)], 'no_stream');
  t.equal(await store.capabilities.index(), 1, 'index moves the committed event into the per-stream index');
  t.match(store.capabilities.partitions, { location: store.path, module: /partition-reader\.(ts|js)$/ });
});
