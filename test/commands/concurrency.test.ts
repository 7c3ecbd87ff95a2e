// Optimistic concurrency: two processes racing on one account never write two starts or two stops;
// a stream that keeps changing ends in UnavailableError with nothing written.
import t from 'tap';
import { UnavailableError, type CommandRequest } from '../../src/commands/handler.js';
import type { CommandContext } from '../../src/commands/codec.js';
import { StoreUnavailableError, WrongExpectedRevisionError, type EventStore } from '../../src/store/port.js';
import type { MiningRecord } from '../../src/commands/codec.js';
import { AS_SWEEPER, AS_USER, DAY, T, counting, openStore, rig, streamEvents, typesOf, type Rig } from './support.js';

const store = await openStore(t);

/**
 * Wraps one store per racer so that no racer's first append goes out before every racer has
 * decided: they all decide on the same state, and all but one must meet a conflict.
 */
function startingLine(store: EventStore<MiningRecord>, racers: number): { lanes: EventStore<MiningRecord>[]; conflicts: () => number } {
  let arrived = 0;
  let conflicts = 0;
  let go!: () => void;
  const allDecided = new Promise<void>((resolve) => (go = resolve));
  const lanes = Array.from({ length: racers }, () => {
    let first = true;
    const lane: EventStore<MiningRecord> = {
      ...store,
      async append(stream, events, expected) {
        if (first) {
          first = false;
          if (++arrived === racers) go();
          await allDecided;
        }
        try {
          return await store.append(stream, events, expected);
        } catch (error) {
          if (error instanceof WrongExpectedRevisionError) conflicts++;
          throw error;
        }
      },
    };
    return lane;
  });
  return { lanes, conflicts: () => conflicts };
}

async function race(account: string, setup: (r: Rig) => Promise<void>, moves: [CommandRequest, CommandContext][]) {
  const prepare = rig(store);
  await setup(prepare);
  const line = startingLine(store, moves.length);
  const racers = line.lanes.map((lane) => rig(lane, { clock: prepare.clock }));
  const answers = await Promise.all(moves.map(([request, context], i) => racers[i]!.handler.execute(account, request, context)));
  return { answers, conflicts: line.conflicts(), types: typesOf(await streamEvents(store, `mining-${account}`)) };
}

t.test('two processes starting at once: one session', async (t) => {
  const { answers, conflicts, types } = await race('r1', async () => {}, [[{ type: 'start' }, AS_USER], [{ type: 'start' }, AS_USER]]);
  t.equal(conflicts, 1, 'the race was real: one append met a conflict');
  t.same(types, ['MiningStarted']);
  t.same(answers.map((a) => a.decision.created).sort(), [false, true]);
  t.equal(answers[0]!.session?.sessionId, answers[1]!.session?.sessionId, 'both answer with the one session');
});

t.test('two processes stopping at once: one stop, the other finds nothing to stop', async (t) => {
  const { answers, conflicts, types } = await race('r2', async (r) => {
    await r.handler.execute('r2', { type: 'start' }, AS_USER);
    r.clock.advance(10_000);
  }, [[{ type: 'stop' }, AS_USER], [{ type: 'stop' }, AS_USER]]);
  t.equal(conflicts, 1);
  t.same(types, ['MiningStarted', 'MiningStopped:user']);
  t.same(answers.map((a) => a.decision.error ?? 'ok').sort(), ['NOT_MINING', 'ok']);
});

t.test('two sweepers expiring the same session: one stop at the deadline', async (t) => {
  const { answers, conflicts, types } = await race('r3', async (r) => {
    await r.handler.execute('r3', { type: 'start' }, AS_USER);
    r.clock.advance(T + 10_000);
  }, [[{ type: 'expire' }, AS_SWEEPER], [{ type: 'expire' }, AS_SWEEPER]]);
  t.equal(conflicts, 1);
  t.same(types, ['MiningStarted', 'MiningStopped:timeout']);
  t.same(answers.map((a) => a.written).sort(), [0, 1]);
  const events = await streamEvents(store, 'mining-r3');
  t.equal(events[1]!.event.data.at, new Date(DAY + T).toISOString());
});

t.test('a sweeper racing a late heartbeat and a late stop: one stop', async (t) => {
  const { answers, types } = await race('r4', async (r) => {
    await r.handler.execute('r4', { type: 'start' }, AS_USER);
    r.clock.advance(T + 10_000);
  }, [[{ type: 'expire' }, AS_SWEEPER], [{ type: 'heartbeat' }, AS_USER], [{ type: 'stop' }, AS_USER]]);
  t.same(types, ['MiningStarted', 'MiningStopped:timeout']);
  t.equal(answers.reduce((n, a) => n + a.written, 0), 1);
  t.ok(['SESSION_EXPIRED', 'NOT_MINING'].includes(answers[1]!.decision.error!), 'the heartbeat fails either way');
});

t.test('two starts racing over an expired session: one stop, one new session', async (t) => {
  const { answers, types } = await race('r5', async (r) => {
    await r.handler.execute('r5', { type: 'start' }, AS_USER);
    r.clock.advance(T + 1);
  }, [[{ type: 'start' }, AS_USER], [{ type: 'start' }, AS_USER]]);
  t.same(types, ['MiningStarted', 'MiningStopped:timeout', 'MiningStarted']);
  t.equal(answers[0]!.session?.sessionId, answers[1]!.session?.sessionId);
});

t.test('a stream that always conflicts: UnavailableError after bounded attempts, nothing written', async (t) => {
  const attempts: number[] = [];
  const head = await store.headPosition();
  const jammed: EventStore<MiningRecord> = {
    ...store,
    append: async (stream, _events, expected) => {
      throw new WrongExpectedRevisionError(stream, expected, 41n);
    },
  };
  const { handler } = rig(jammed, { maxAttempts: 3, backoff: async (n) => void attempts.push(n) });
  await t.rejects(handler.execute('jam', { type: 'start' }, AS_USER), {
    name: 'UnavailableError',
    message: 'stream mining-jam kept changing under 3 attempts; retry later',
  });
  t.same(attempts, [1, 2], 'a backoff between attempts, none after the last');
  t.same(await streamEvents(store, 'mining-jam'), []);
  t.equal(await store.headPosition(), head, 'nothing was written anywhere');

  const defaults = rig(jammed, { backoff: async (n) => void attempts.push(n) });
  attempts.length = 0;
  await t.rejects(defaults.handler.execute('jam', { type: 'start' }, AS_USER), UnavailableError);
  t.same(attempts, [1, 2, 3, 4], 'five attempts by default');
  // The queue is not stuck behind the failure: a command that needs no write still answers.
  const after = await defaults.handler.execute('jam', { type: 'stop' }, AS_USER);
  t.equal(after.decision.error, 'NOT_MINING');
});

t.test('other store failures are not retried, and the cache is dropped', async (t) => {
  const reads = counting(store);
  let failNext = false;
  const flaky: EventStore<MiningRecord> = {
    ...reads,
    append: (stream, events, expected) =>
      failNext ? Promise.reject(new StoreUnavailableError('disk full')) : reads.append(stream, events, expected),
  };
  let backoffs = 0;
  const { handler, clock } = rig(flaky, { backoff: async () => void backoffs++ });
  await handler.execute('flo', { type: 'start' }, AS_USER);
  failNext = true;
  clock.advance(30_000);
  await t.rejects(handler.execute('flo', { type: 'heartbeat' }, AS_USER), { name: 'StoreUnavailableError', message: 'disk full' });
  t.equal(backoffs, 0);
  failNext = false;
  reads.reset();
  const beat = await handler.execute('flo', { type: 'heartbeat' }, AS_USER);
  t.ok(reads.read > 0, 'state is read again after a failure');
  t.equal(beat.written, 1);
  t.same(typesOf(await streamEvents(store, 'mining-flo')), ['MiningStarted', 'Heartbeat']);
});
