// Credited time and earnings as the projector and the auditor replay them (SPEC §2), including
// streams the decider would never write itself (imported, or written under other settings).
import t from 'tap';
import { accrue, applyEvent, emptyAccrual } from '../../src/domain/accrual.js';
import { stateOf } from '../../src/domain/decider.js';
import { earnedUnits } from '../../src/domain/money.js';
import { intervalWhy } from '../../src/projections/ledger/interval-why.js';
import { MINUTE, OTHER_SESSION, SECOND, T, beat, beats, ms, started, stopped } from './fixtures.js';

t.test('a gap longer than T credits nothing; the gaps around it still count', async (t) => {
  const ledger = accrue([started('10:00'), beat('10:01'), beat(ms('10:01') + T + 1), beat('10:07')], { intervals: true });
  t.equal(ledger.creditedMs, MINUTE + (ms('10:07') - ms('10:01') - T - 1));
  const verdicts = ledger.sessions[0]!.intervals.map((i) => [i.ms, i.creditedMs, i.credited]);
  t.same(verdicts, [[MINUTE, MINUTE, true], [T + 1, 0, false], [MINUTE - 1, MINUTE - 1, true]]);
  const offline = ledger.sessions[0]!.intervals[1]!;
  t.same([offline.verdict, offline.end, offline.timeoutMs], ['offline', 'heartbeat', T], 'the verdict is data');
  t.match(intervalWhy(offline), /gap 5m0.001s > timeout 5m: offline, not credited/);
});

t.test('a gap of exactly T is credited in full', async (t) => {
  const ledger = accrue([started('10:00'), beat(ms('10:00') + T), stopped(ms('10:00') + 2 * T, 'user')]);
  t.equal(ledger.creditedMs, 2 * T);
});

t.test('a timeout stop credits nothing between the last heartbeat and the deadline', async (t) => {
  const ledger = accrue([started('10:00'), beat('10:02'), stopped('10:07', 'timeout')], { intervals: true });
  t.equal(ledger.creditedMs, 2 * MINUTE);
  const last = ledger.sessions[0]!.intervals.at(-1)!;
  t.same([last.from, last.to, last.ms, last.credited], [ms('10:02'), ms('10:07'), T, false]);
  t.same([last.verdict, last.end], ['timeout', 'stop']);
  t.match(intervalWhy(last), /no heartbeat within timeout 5m/);
  t.equal(ledger.sessions[0]!.session.stoppedAt, ms('10:07'));
});

t.test('a user stop is a presence point: its gap is credited when within T, not otherwise', async (t) => {
  t.equal(accrue([started('10:00'), beat('10:01'), stopped('10:04', 'user')]).creditedMs, 4 * MINUTE);
  t.equal(accrue([started('10:00'), beat('10:01'), stopped('10:06:00.001', 'user')]).creditedMs, MINUTE);
});

t.test('credited time is clipped at start + M', async (t) => {
  const m = { maxSessionMs: 10 * MINUTE };
  // A gap that straddles start + M counts only up to it.
  const ledger = accrue([started('10:00', m), ...beats('10:00', '10:09'), beat('10:11'), stopped('10:12', 'user')], { intervals: true });
  t.equal(ledger.creditedMs, 10 * MINUTE);
  const clipped = ledger.sessions[0]!.intervals.find((i) => i.to === ms('10:11'))!;
  t.same([clipped.ms, clipped.creditedMs, clipped.credited], [2 * MINUTE, MINUTE, true]);
  t.same([clipped.verdict, clipped.maxSessionMs], ['clipped', 10 * MINUTE]);
  t.match(intervalWhy(clipped), /clipped at max session length 10m/);
  const after = ledger.sessions[0]!.intervals.at(-1)!;
  t.same([after.creditedMs, after.credited], [0, false], 'nothing after start + M');
  // A max-duration stop: nothing after the last heartbeat either.
  t.equal(accrue([started('10:00', m), ...beats('10:00', '10:08'), stopped('10:10', 'max_duration')]).creditedMs, 8 * MINUTE);
});

t.test('earnings round down once per session, on its cumulative credited time', async (t) => {
  // 1 ms at 25,000,000 units/h is 6.94 units: two such sessions earn 6 + 6, not floor(13.9).
  const one = (at: string, id: string) => [started(at, {}, id), stopped(ms(at) + 1, 'user', id)];
  const ledger = accrue([one('10:00', '0190f0e0-0000-7000-8000-00000000000a'), one('11:00', '0190f0e0-0000-7000-8000-00000000000b')].flat());
  t.equal(ledger.creditedMs, 2);
  t.equal(ledger.balanceUnits, 12n);
  // Within a session, many small gaps are summed first and rounded once.
  const many = accrue([started('10:00'), ...Array.from({ length: 9 }, (_, i) => beat(ms('10:00') + (i + 1) * 1)), stopped(ms('10:00') + 10, 'user')]);
  t.equal(many.creditedMs, 10);
  t.equal(many.balanceUnits, earnedUnits(10, 25_000_000n));
  t.equal(many.balanceUnits, 69n, 'floor(10 × 25,000,000 / 3,600,000) = floor(69.4)');
});

t.test('the balance is the sum of all sessions, and the active session counts what it has so far', async (t) => {
  const events = [
    started('10:00'), beat('10:00:30'), stopped('10:01', 'user'),
    started('11:00', {}, OTHER_SESSION), beat('11:00:30', OTHER_SESSION),
  ];
  const ledger = accrue(events);
  t.equal(ledger.sessions.length, 2);
  t.equal(ledger.active?.session.sessionId, OTHER_SESSION);
  t.equal(ledger.creditedMs, MINUTE + 30 * SECOND);
  t.equal(ledger.balanceUnits, earnedUnits(MINUTE, 25_000_000n) + earnedUnits(30 * SECOND, 25_000_000n));
  t.same(ledger.active?.session, stateOf(events).active, 'the projection fold and the decider agree on the session');
});

t.test('events of a session that is not the active one credit nothing and are counted as ignored', async (t) => {
  const ledger = accrue([started('10:00'), beat('10:01'), beat('10:02', OTHER_SESSION), stopped('10:03', 'user', OTHER_SESSION)]);
  t.equal(ledger.ignored, 2);
  t.equal(ledger.events, 4);
  t.equal(ledger.creditedMs, MINUTE);
  t.equal(ledger.active?.session.sessionId, '0190f0e0-0000-7000-8000-000000000001');
});

t.test('keepSessions: false keeps totals and the active session only', async (t) => {
  const events = [started('10:00'), beat('10:01'), stopped('10:02', 'user'), started('11:00', {}, OTHER_SESSION)];
  const slim = emptyAccrual();
  for (const event of events) applyEvent(slim, event, { keepSessions: false });
  const full = accrue(events);
  t.same(slim.sessions, []);
  t.equal(slim.balanceUnits, full.balanceUnits);
  t.equal(slim.creditedMs, full.creditedMs);
  t.same(slim.active, full.active);
});
