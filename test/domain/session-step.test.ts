// The one step the decider, the accrual fold and the sweeper's index share: which session an event
// belongs to, what a start opens, and an event's time.
import t from 'tap';
import { accrue } from '../../src/domain/accrual.js';
import { stateOf } from '../../src/domain/decider.js';
import type { MiningEvent } from '../../src/domain/events.js';
import { deadlineOf, openSession } from '../../src/domain/session.js';
import { belongsTo, eventTimeOf, sessionIdOf, sessionStartOf, stepSession } from '../../src/domain/session-step.js';
import { createSessionIndex } from '../../src/sweeper/session-index.js';
import { ACCOUNT, MINUTE, OTHER_SESSION, SESSION, T, beat, iso, ms, started, stopped } from './fixtures.js';

const adjusted: MiningEvent = {
  type: 'BalanceAdjusted',
  data: {
    adjustmentId: '0190f0e0-0000-7000-8000-0000000000aa', accountId: ACCOUNT, at: iso('10:03'),
    amountUnits: '5', reason: 'goodwill', note: 'thanks',
  },
};

t.test('a start opens a session with the R, T and M it names, at its own time', async (t) => {
  const event = started('10:00', { maxSessionMs: 3_600_000, rateUnitsPerHour: 7n });
  const step = stepSession(null, event, eventTimeOf(event));
  t.equal(step.kind, 'opened');
  t.same(step.session, openSession({
    sessionId: SESSION, accountId: ACCOUNT, at: ms('10:00'), rateUnitsPerHour: 7n, heartbeatTimeoutMs: T, maxSessionMs: 3_600_000,
  }));
  t.equal(step.interval, null);
  if (event.type !== 'MiningStarted') throw new Error('fixture');
  t.same(sessionStartOf(event.data, 1), { sessionId: SESSION, accountId: ACCOUNT, at: 1, rateUnitsPerHour: 7n, heartbeatTimeoutMs: T, maxSessionMs: 3_600_000 });
});

t.test('a start replaces another active session', async (t) => {
  const first = stepSession(null, started('10:00'), ms('10:00')).session;
  const second = stepSession(first, started('10:01', {}, OTHER_SESSION), ms('10:01'));
  t.same([second.kind, second.session?.sessionId, second.session?.startedAt], ['opened', OTHER_SESSION, ms('10:01')]);
});

t.test('a heartbeat of the active session moves it on and says why the gap counted', async (t) => {
  const active = stepSession(null, started('10:00'), ms('10:00')).session;
  const step = stepSession(active, beat('10:01'), ms('10:01'));
  t.equal(step.kind, 'heartbeat');
  t.same([step.session?.creditedMs, step.session?.lastPresenceAt, step.session?.heartbeats], [MINUTE, ms('10:01'), 1]);
  t.same([step.interval?.verdict, step.interval?.creditedMs], ['within', MINUTE]);
  t.equal(deadlineOf(step.session!), ms('10:01') + T);
});

t.test('a stop of the active session closes it; the closed session is the step\'s session', async (t) => {
  const active = stepSession(null, started('10:00'), ms('10:00')).session;
  const step = stepSession(active, stopped('10:02', 'user'), ms('10:02'));
  t.same([step.kind, step.session?.stoppedAt, step.session?.reason, step.session?.creditedMs], ['closed', ms('10:02'), 'user', 2 * MINUTE]);
  t.equal(step.interval?.end, 'user stop');
});

t.test('a heartbeat or stop of another session, or with none active, is ignored', async (t) => {
  const active = stepSession(null, started('10:00'), ms('10:00')).session;
  for (const [label, from, event] of [
    ['beat of another session', active, beat('10:01', OTHER_SESSION)],
    ['stop of another session', active, stopped('10:01', 'user', OTHER_SESSION)],
    ['beat with none active', null, beat('10:01')],
    ['stop with none active', null, stopped('10:01', 'timeout')],
  ] as const) {
    t.same(stepSession(from, event, ms('10:01')), { kind: 'ignored', session: null, interval: null }, label);
  }
  t.equal(belongsTo(active, SESSION), true);
  t.equal(belongsTo(active, OTHER_SESSION), false);
  t.equal(belongsTo(null, SESSION), false);
});

t.test('an adjustment touches no session and names none', async (t) => {
  const active = stepSession(null, started('10:00'), ms('10:00')).session;
  t.same(stepSession(active, adjusted, ms('10:03')), { kind: 'untouched', session: null, interval: null });
  t.equal(sessionIdOf(adjusted), null);
  t.equal(sessionIdOf(beat('10:01')), SESSION);
});

t.test('an event time that is not a strict ISO instant is refused', async (t) => {
  t.equal(eventTimeOf(beat('10:01')), ms('10:01'));
  t.throws(() => eventTimeOf({ type: 'Heartbeat', data: { sessionId: SESSION, at: '2026-03-01T10:01:00Z' } }), /invalid time/);
});

t.test('the decider, the accrual fold and the sweeper index agree on one stream with strays', async (t) => {
  // A stray beat and stop of another session, an adjustment, then the real stop.
  const events = [
    started('10:00'), beat('10:01'), beat('10:02', OTHER_SESSION), adjusted, stopped('10:02:30', 'timeout', OTHER_SESSION),
    beat('10:04'),
  ];
  const state = stateOf(events);
  const accrual = accrue(events);
  const index = createSessionIndex();
  for (const event of events) index.apply(`mining-${ACCOUNT}`, event);
  t.equal(state.active?.creditedMs, 4 * MINUTE);
  t.equal(accrual.creditedMs, 4 * MINUTE);
  t.equal(accrual.ignored, 2, 'the two strays are counted as ignored');
  t.equal(index.deadlineOf(`mining-${ACCOUNT}`), deadlineOf(state.active!));
  const stop = stopped('10:05', 'user');
  index.apply(`mining-${ACCOUNT}`, stop);
  t.equal(index.deadlineOf(`mining-${ACCOUNT}`), undefined, 'the index forgets a stopped session');
  t.equal(stateOf([stop], state).active, null);
  t.equal(stateOf([stop], state).lastStopped?.creditedMs, 5 * MINUTE);
});
