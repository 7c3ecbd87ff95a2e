// loadState reads a stream backwards to its session boundary; over random schedules written to a
// real store, what it rebuilds is what folding the whole stream gives.
import fc from 'fast-check';
import t from 'tap';
import { encode } from '../../src/commands/codec.js';
import { loadState } from '../../src/commands/state-loader.js';
import { stateOf } from '../../src/domain/decider.js';
import { run, scheduleArb } from '../domain/schedule.js';
import { AS_USER, counting, openStore } from './support.js';

const store = await openStore(t);
let accounts = 0;
let eventIds = 0;
const eventId = () => `0190f0e0-0000-7000-8000-${(++eventIds).toString(16).padStart(12, '0')}`;

t.test('an empty stream: initial state, no revision, position 0', async (t) => {
  t.same(await loadState(store, 'mining-nobody'), { state: { lastEventAt: null, active: null, lastStopped: null }, revision: 'no_stream', position: 0n, lastHash: null });
});

t.test('over random schedules: the active session and the clock floor match the whole fold', async (t) => {
  await fc.assert(
    fc.asyncProperty(scheduleArb(true, 40), async ({ settings, steps }) => {
      const { stream: events, state } = run(settings, steps);
      const stream = `mining-p${++accounts}`;
      const reads = counting(store);
      if (events.length === 0) {
        t.equal((await loadState(reads, stream)).revision, 'no_stream');
        return;
      }
      const appended = await store.append(stream, events.map((e) => encode(e, eventId(), e.data.at, AS_USER)), 'no_stream');
      const loaded = await loadState(reads, stream);
      const whole = stateOf(events);
      t.same(loaded.state.active, whole.active, 'active session');
      t.equal(loaded.state.lastEventAt, whole.lastEventAt, 'clock floor');
      t.same(whole, state);
      t.equal(loaded.revision, appended.nextExpectedRevision);
      t.equal(loaded.position, appended.position);
      const boundary = events.findLastIndex((e) => e.type === 'MiningStarted' || e.type === 'MiningStopped');
      const expectedReads = events[boundary]!.type === 'MiningStopped' ? 1 : events.length - boundary;
      t.equal(reads.read, expectedReads, 'reads no further back than the session boundary');
    }),
    { numRuns: 40, seed: 20260301 },
  );
});
