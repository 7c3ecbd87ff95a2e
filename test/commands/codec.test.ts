// Validation on write (encode) and on read (decode), also through the handler on a real store:
// an event this build does not understand stops the command with a clear error.
import t from 'tap';
import { decode, encode } from '../../src/commands/codec.js';
import type { MiningEvent } from '../../src/domain/events.js';
import type { RecordedEvent } from '../../src/store/port.js';
import { AS_USER, openStore, rig, streamEvents } from './support.js';

const store = await openStore(t);
const SESSION = '0190f0e0-0000-7000-8000-000000000001';
const EVENT_ID = '0190f0e0-0000-7000-8000-0000000000e1';
const heartbeat: MiningEvent = { type: 'Heartbeat', data: { sessionId: SESSION, at: '2026-03-01T10:00:00.000Z' } };

function recorded(overrides: Partial<RecordedEvent>): RecordedEvent {
  const appended = encode(heartbeat, EVENT_ID, '2026-03-01T10:00:00.010Z', AS_USER);
  return { id: EVENT_ID, stream: 'mining-alice', revision: 3n, position: 42n, type: appended.type, data: appended.data, metadata: appended.metadata, ...overrides };
}

t.test('encode: metadata with schemaVersion, recordedAt, correlationId and actor', async (t) => {
  t.same(encode(heartbeat, EVENT_ID, '2026-03-01T10:00:00.010Z', AS_USER), {
    id: EVENT_ID,
    type: 'Heartbeat',
    data: heartbeat.data,
    metadata: { schemaVersion: 1, recordedAt: '2026-03-01T10:00:00.010Z', correlationId: 'req-1', actor: { kind: 'user', id: 'alice' } },
  });
});

t.test('encode refuses what must never be written', async (t) => {
  t.throws(() => encode({ type: 'Heartbeat', data: { sessionId: 'nope', at: '2026-03-01T10:00:00.000Z' } }, EVENT_ID, '2026-03-01T10:00:00.000Z', AS_USER), {
    name: 'EventValidationError', message: `event ${EVENT_ID}: Heartbeat data /sessionId`,
  });
  t.throws(() => encode(heartbeat, EVENT_ID, 'now', AS_USER), { message: /metadata \/recordedAt/ });
  t.throws(() => encode(heartbeat, EVENT_ID, '2026-03-01T10:00:00.000Z', { actor: { kind: 'admin' as 'user', id: 'x' }, correlationId: 'c' }), {
    message: /metadata \/actor\/kind/,
  });
  t.throws(() => encode(heartbeat, EVENT_ID, '2026-03-01T10:00:00.000Z', { ...AS_USER, correlationId: '' }), { message: /\/correlationId/ });
});

t.test('decode: a stored event round-trips, and errors say where the bad event is', async (t) => {
  const ok = decode(recorded({}));
  t.same(ok.event, heartbeat);
  t.equal(ok.metadata.actor.kind, 'user');
  t.throws(() => decode(recorded({ type: 'MiningPaused' })), { message: 'mining-alice@3 (position 42): unknown event type "MiningPaused"' });
  t.throws(() => decode(recorded({ metadata: { schemaVersion: 2 } })), {
    message: 'mining-alice@3 (position 42): schema version 2 is newer than this build understands (1); upgrade mining-ledger',
  });
  t.throws(() => decode(recorded({ metadata: null })), { message: /^mining-alice@3 \(position 42\): metadata/ });
  t.throws(() => decode(recorded({ data: { sessionId: SESSION } })), { message: /^mining-alice@3 \(position 42\): Heartbeat data \/at/ });
});

t.test('everything the handler writes decodes on read', async (t) => {
  const { handler, clock } = rig(store);
  await handler.execute('ivy', { type: 'start' }, AS_USER);
  clock.advance(30_000);
  await handler.execute('ivy', { type: 'heartbeat' }, AS_USER);
  clock.advance(3_600_000);
  await handler.execute('ivy', { type: 'start' }, AS_USER);
  await handler.execute('ivy', { type: 'stop' }, AS_USER);
  const events = await streamEvents(store, 'mining-ivy');
  t.equal(events.length, 5, 'start, heartbeat, timeout stop, start, user stop: all valid');
  t.same(events.map((e) => e.revision), [0n, 1n, 2n, 3n, 4n]);
});

t.test('a stream holding an event of a newer schema: the command fails clearly and writes nothing', async (t) => {
  const { handler } = rig(store);
  await store.append('mining-jon', [{ id: EVENT_ID.replace('e1', 'e2'), type: 'Heartbeat', data: heartbeat.data, metadata: { schemaVersion: 2 } }], 'no_stream');
  await t.rejects(handler.execute('jon', { type: 'start' }, AS_USER), {
    name: 'EventValidationError', message: /^mining-jon@0 \(position \d+\): schema version 2 is newer than this build understands/,
  });
  const metadata = recorded({}).metadata;
  await store.append('mining-kim', [{ id: EVENT_ID.replace('e1', 'e3'), type: 'MiningResumed', data: {}, metadata }], 'no_stream');
  await t.rejects(handler.execute('kim', { type: 'heartbeat' }, AS_USER), { message: /^mining-kim@0 \(position \d+\): unknown event type "MiningResumed"/ });
  t.equal(await store.streamRevision('mining-jon'), 0n);
  t.equal(await store.streamRevision('mining-kim'), 0n);
});
