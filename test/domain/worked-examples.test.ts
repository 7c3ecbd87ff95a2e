// The three worked examples of SPEC §2, to the base unit.
import t from 'tap';
import { accrue } from '../../src/domain/accrual.js';
import { formatTokens } from '../../src/domain/money.js';
import { sessionEarnedUnits } from '../../src/domain/session.js';
import { beat, beats, expire, heartbeat, HOUR, iso, ms, SESSION, started, stop, stopped } from './fixtures.js';
import { specification } from './given.js';

t.test('1. the incident: 12h44m offline add nothing, with or without a sweeper', async (t) => {
  const { given } = specification(t);
  const every30s = beats('08:00', '09:00');
  t.equal(every30s.length, 120, 'heartbeats every 30 s up to 09:00:00.000');
  const history = [started('08:00'), ...every30s];

  const outcome = given(history).when(heartbeat('21:44')).thenFails('SESSION_EXPIRED', [stopped('09:05', 'timeout')]);
  t.equal(iso('09:05'), '2026-03-01T09:05:00.000Z');

  const ledger = outcome.replay();
  t.equal(ledger.creditedMs, 3_600_000, 'credited 3,600,000 ms');
  t.equal(ledger.balanceUnits, 25_000_000n, 'floor(3,600,000 × 25,000,000 / 3,600,000)');
  t.equal(formatTokens(ledger.balanceUnits), '0.25000000');
  t.equal(ledger.active, null, 'the session is closed');
  const last = ledger.sessions[0]!.intervals.at(-1)!;
  t.same(
    { from: last.from, to: last.to, credited: last.credited, creditedMs: last.creditedMs },
    { from: ms('09:00'), to: ms('09:05'), credited: false, creditedMs: 0 },
    'the stretch from the last heartbeat to the deadline is shown and not credited',
  );

  // The same account when a sweeper did run: the same stop, the same balance.
  const swept = given(history).when(expire('09:05:02.001')).then([stopped('09:05', 'timeout')]);
  t.same(swept.replay().balanceUnits, 25_000_000n);
  // A sweeper that comes hours late still records the stop at the deadline.
  given(history).when(expire('21:43')).then([stopped('09:05', 'timeout')]);
});

t.test('2. user stop: 70,000 ms credited, 486,111 units', async (t) => {
  const { given } = specification(t);
  const outcome = given(started('10:00'), beat('10:00:30'), beat('10:01'))
    .when(stop('10:01:10'))
    .then([stopped('10:01:10', 'user')]);
  const ledger = outcome.replay();
  t.equal(ledger.creditedMs, 70_000);
  t.equal(ledger.balanceUnits, 486_111n, 'floor(70,000 × 25,000,000 / 3,600,000)');
  t.equal(formatTokens(ledger.balanceUnits), '0.00486111');
  t.same(
    ledger.sessions[0]!.intervals.map((i) => i.creditedMs),
    [30_000, 30_000, 10_000],
    'every gap, the last one up to the user stop included',
  );
});

t.test('3. maximum length: the sweeper stops at start + M with reason max_duration', async (t) => {
  const { given } = specification(t);
  const M = HOUR;
  // Heartbeats every 30 s from 00:00:00.000 for as long as the session accepts them.
  let outcome = given(started('00:00', { maxSessionMs: M })).when(heartbeat('00:00:30'));
  let history = outcome.stream;
  for (let at = ms('00:01'); at <= ms('01:00'); at += 30_000) {
    outcome = given(history).when(heartbeat(at)).then([beat(at)], { recorded: true });
    history = outcome.stream;
  }
  t.equal(outcome.state.active!.lastPresenceAt, ms('01:00'), 'a heartbeat exactly at start + M is on time');
  t.equal(outcome.state.active!.creditedMs, 3_600_000);

  // The next heartbeat is past the deadline (start + M) and finds the session over.
  given(history).when(heartbeat('01:00:30')).thenFails('SESSION_EXPIRED', [stopped('01:00', 'max_duration')]);

  // The sweeper: not yet within the grace, then the stop at the deadline.
  given(history).when(expire('01:00:02')).thenNothing();
  const swept = given(history).when(expire('01:00:02.001')).then([stopped('01:00', 'max_duration')]);
  const ledger = accrue(swept.stream);
  t.equal(ledger.creditedMs, 3_600_000, 'credited 3,600,000 ms');
  t.equal(sessionEarnedUnits(ledger.sessions[0]!.session), 25_000_000n);
  t.equal(ledger.sessions[0]!.session.sessionId, SESSION);
});
