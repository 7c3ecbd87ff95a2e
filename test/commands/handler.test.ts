// The command handler against the real SQLite store: what it answers, what it writes, and how.
import t from 'tap';
import { toIso } from '../../src/domain/time.js';
import { AS_SWEEPER, AS_USER, DAY, T, openStore, rig, streamEvents, typesOf } from './support.js';

// One store for the file (opening one starts its writer worker); every test uses its own account.
const store = await openStore(t);

t.test('start, heartbeat, stop: each answers with the session and the position of what it wrote', async (t) => {
  const { handler, clock } = rig(store);

  const started = await handler.execute('alice', { type: 'start' }, AS_USER);
  t.equal(started.decision.created, true);
  t.equal(started.written, 1);
  t.equal(started.session?.startedAt, DAY);
  t.equal(started.session?.accountId, 'alice');
  const sessionId = started.session!.sessionId;

  clock.advance(30_000);
  const beat = await handler.execute('alice', { type: 'heartbeat', sessionId }, AS_USER);
  t.equal(beat.decision.recorded, true);
  t.equal(beat.session?.creditedMs, 30_000);
  t.ok(beat.position > started.position, 'positions grow');

  clock.advance(10_000);
  const stopped = await handler.execute('alice', { type: 'stop' }, AS_USER);
  t.equal(stopped.session?.sessionId, sessionId, 'the answer is the session that was stopped');
  t.equal(stopped.session?.stoppedAt, DAY + 40_000);
  t.equal(stopped.session?.reason, 'user');
  t.equal(stopped.session?.creditedMs, 40_000);
  t.equal(stopped.state.active, null);

  const events = await streamEvents(store, 'mining-alice');
  t.same(typesOf(events), ['MiningStarted', 'Heartbeat', 'MiningStopped:user']);
  t.same(events.map((e) => e.position), [started.position, beat.position, stopped.position]);
  t.same(events.map((e) => e.event.data.at), [toIso(DAY), toIso(DAY + 30_000), toIso(DAY + 40_000)]);
});

t.test('a command that writes nothing answers with the position of the stream\'s last event', async (t) => {
  const { handler, clock } = rig(store);
  const none = await handler.execute('bob', { type: 'heartbeat' }, AS_USER);
  t.equal(none.decision.error, 'NOT_MINING');
  t.equal(none.position, 0n, 'no stream: position 0');
  t.equal(none.session, null);

  const first = await handler.execute('bob', { type: 'start' }, AS_USER);
  clock.advance(1_000);
  const again = await handler.execute('bob', { type: 'start' }, AS_USER);
  t.equal(again.decision.created, false);
  t.equal(again.written, 0);
  t.equal(again.position, first.position);
  t.equal(again.session?.sessionId, first.session?.sessionId, 'the existing session is returned');
  t.equal((await streamEvents(store, 'mining-bob')).length, 1);
});

t.test('errors: NOT_MINING and SESSION_MISMATCH write nothing', async (t) => {
  const { handler } = rig(store);
  t.equal((await handler.execute('carol', { type: 'stop' }, AS_USER)).decision.error, 'NOT_MINING');
  await handler.execute('carol', { type: 'start' }, AS_USER);
  const mismatch = await handler.execute('carol', { type: 'heartbeat', sessionId: '0190f0e0-0000-7000-8000-000000000099' }, AS_USER);
  t.equal(mismatch.decision.error, 'SESSION_MISMATCH');
  t.equal(mismatch.written, 0);
  t.same(typesOf(await streamEvents(store, 'mining-carol')), ['MiningStarted']);
});

t.test('a heartbeat past the deadline records the stop at the deadline and answers SESSION_EXPIRED', async (t) => {
  const { handler, clock } = rig(store);
  await handler.execute('dave', { type: 'start' }, AS_USER);
  clock.advance(30_000);
  await handler.execute('dave', { type: 'heartbeat' }, AS_USER);
  clock.set(DAY + 12 * 3_600_000);
  const late = await handler.execute('dave', { type: 'heartbeat' }, AS_USER);
  t.equal(late.decision.error, 'SESSION_EXPIRED');
  t.equal(late.written, 1);
  t.equal(late.session?.reason, 'timeout');
  t.equal(late.session?.stoppedAt, DAY + 30_000 + T);
  t.equal(late.session?.creditedMs, 30_000);
  const events = await streamEvents(store, 'mining-dave');
  t.same(typesOf(events), ['MiningStarted', 'Heartbeat', 'MiningStopped:timeout']);
  t.equal(events[2]!.event.data.at, toIso(DAY + 30_000 + T));
  t.equal(events[2]!.metadata.recordedAt, toIso(DAY + 12 * 3_600_000), 'recorded when written, not at the deadline');
});

t.test('metadata: schemaVersion, recordedAt (the handler clock), correlationId and actor', async (t) => {
  const { handler, clock } = rig(store);
  await handler.execute('erin', { type: 'start' }, AS_USER);
  clock.advance(T + 5_000);
  const swept = await handler.execute('erin', { type: 'expire' }, AS_SWEEPER);
  t.equal(swept.session?.reason, 'timeout');
  const [start, stop] = await streamEvents(store, 'mining-erin');
  const { hash: startHash, prevHash: startPrev, ...startRest } = start!.metadata;
  const { hash: stopHash, prevHash: stopPrev, ...stopRest } = stop!.metadata;
  t.same(startRest, { schemaVersion: 1, recordedAt: toIso(DAY), correlationId: 'req-1', actor: { kind: 'user', id: 'alice' } });
  t.same(stopRest, {
    schemaVersion: 1, recordedAt: toIso(DAY + T + 5_000), correlationId: 'sweep-1', actor: { kind: 'sweeper', id: 'sweeper-1' },
  });
  // The hash chain (SPEC §12): the first event links to nothing, the stop to the start.
  t.match(startHash, /^[0-9a-f]{64}$/);
  t.equal(startPrev, null);
  t.equal(stopPrev, startHash);
  t.match(stopHash, /^[0-9a-f]{64}$/);
  t.ok(stop!.metadata.recordedAt >= stop!.event.data.at, 'a sweeper stop is recorded after its deadline');
  t.not(start!.id, stop!.id);
  t.match(start!.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'event ids are UUIDv7');
});

t.test('a clock that went backwards writes at the stream\'s last time', async (t) => {
  const { handler, clock } = rig(store);
  await handler.execute('fay', { type: 'start' }, AS_USER);
  clock.advance(60_000);
  await handler.execute('fay', { type: 'heartbeat' }, AS_USER);
  clock.set(DAY - 3_600_000);
  const stopped = await handler.execute('fay', { type: 'stop' }, AS_USER);
  t.equal(stopped.session?.stoppedAt, DAY + 60_000);
  t.equal(stopped.session?.creditedMs, 60_000);
  const events = await streamEvents(store, 'mining-fay');
  t.same(events.map((e) => e.event.data.at), [toIso(DAY), toIso(DAY + 60_000), toIso(DAY + 60_000)]);
});

t.test('settings are read per command: a session keeps the rate it started with', async (t) => {
  const r = rig(store);
  await r.handler.execute('gil', { type: 'start' }, AS_USER);
  r.settings = { ...r.settings, rateUnitsPerHour: 1n, heartbeatTimeoutMs: 1_000, minHeartbeatIntervalMs: 10_000 };
  r.clock.advance(60_000);
  const beat = await r.handler.execute('gil', { type: 'heartbeat' }, AS_USER);
  t.equal(beat.decision.recorded, true, 'T of the session (5 min) still applies, not the new 1 s');
  t.equal(beat.session?.rateUnitsPerHour, 25_000_000n);
  r.clock.advance(5_000);
  const coalesced = await r.handler.execute('gil', { type: 'heartbeat' }, AS_USER);
  t.equal(coalesced.decision.recorded, false, 'MIN_HEARTBEAT_INTERVAL_MS is read at each command');
  t.equal(coalesced.written, 0);
  t.equal(coalesced.position, beat.position);
  await r.handler.execute('gil', { type: 'stop' }, AS_USER);
  const next = await r.handler.execute('gil', { type: 'start' }, AS_USER);
  t.equal(next.session?.rateUnitsPerHour, 1n);
  t.equal(next.session?.heartbeatTimeoutMs, 1_000);
});

t.test('commands for one account are serialized in the process, in arrival order', async (t) => {
  const { handler } = rig(store);
  const answers = await Promise.all([
    handler.execute('hal', { type: 'start' }, AS_USER),
    handler.execute('hal', { type: 'heartbeat' }, AS_USER),
    handler.execute('hal', { type: 'stop' }, AS_USER),
    handler.execute('hal', { type: 'heartbeat' }, AS_USER),
  ]);
  t.same(answers.map((a) => a.decision.error ?? a.written), [1, 1, 1, 'NOT_MINING']);
  t.same(typesOf(await streamEvents(store, 'mining-hal')), ['MiningStarted', 'Heartbeat', 'MiningStopped:user']);
});
