// SPEC §2, *start*: one active session at most; an expired one is closed at its deadline first.
import t from 'tap';
import { accrue } from '../../src/domain/accrual.js';
import { HOUR, MINUTE, OTHER_SESSION, SESSION, THIRD_SESSION, T, beat, beats, ms, start, started, stopped } from './fixtures.js';
import { specification } from './given.js';

t.test('no session: start records MiningStarted with R, T and M as configured, at the server time', async (t) => {
  const { given } = specification(t);
  given()
    .when(start('10:00', { rateUnitsPerHour: 12_345n, heartbeatTimeoutMs: 60_000, maxSessionMs: 2 * HOUR }, SESSION))
    .then([started('10:00', { rateUnitsPerHour: 12_345n, heartbeatTimeoutMs: 60_000, maxSessionMs: 2 * HOUR })], { created: true });
});

t.test('after a stopped session, start opens a new one', async (t) => {
  const { given } = specification(t);
  const outcome = given(started('10:00'), stopped('10:05', 'user'))
    .when(start('11:00'))
    .then([started('11:00', {}, OTHER_SESSION)], { created: true });
  t.equal(outcome.state.active?.sessionId, OTHER_SESSION);
});

t.test('an active session that is not expired: start is idempotent and records nothing', async (t) => {
  const { given } = specification(t);
  const outcome = given(started('10:00'), beat('10:00:30')).when(start('10:02')).thenNothing({ created: false });
  t.equal(outcome.state.active?.sessionId, SESSION, 'the existing session is the answer');
  // Exactly at the deadline the session is still on time.
  given(started('10:00'), beat('10:00:30')).when(start(ms('10:00:30') + T)).thenNothing({ created: false });
});

t.test('an active session past its deadline: timeout stop at the deadline, then a new start', async (t) => {
  const { given } = specification(t);
  const outcome = given(started('10:00'), beat('10:00:30'))
    .when(start(ms('10:00:30') + T + 1))
    .then([stopped('10:05:30', 'timeout'), started(ms('10:05:30') + 1, {}, OTHER_SESSION)], { created: true });
  const ledger = outcome.replay();
  t.equal(ledger.sessions.length, 2);
  t.equal(ledger.sessions[0]!.session.creditedMs, 30_000, 'the old session keeps only its heartbeat gap');
  t.equal(ledger.active?.session.sessionId, OTHER_SESSION);
});

t.test('an active session past start + M: the stop says max_duration', async (t) => {
  const { given } = specification(t);
  given(started('10:00', { maxSessionMs: 10 * MINUTE }), beats('10:00', '10:10'))
    .when(start('10:10:00.001'))
    .then([stopped('10:10', 'max_duration'), started('10:10:00.001', {}, OTHER_SESSION)], { created: true });
});

t.test('a clock behind the stream: the start uses the last event time', async (t) => {
  const { given } = specification(t);
  given(started('10:00'), stopped('10:05', 'user'))
    .when(start('09:00'))
    .then([started('10:05', {}, OTHER_SESSION)], { created: true });
});

t.test('a rate change between sessions leaves the old sessions untouched', async (t) => {
  const { given } = specification(t);
  const first = [started('10:00', { rateUnitsPerHour: 25_000_000n }), beat('10:01'), stopped('10:02', 'user')];
  const outcome = given(first)
    .when(start('11:00', { rateUnitsPerHour: 100_000_000n, heartbeatTimeoutMs: 60_000 }))
    .then([started('11:00', { rateUnitsPerHour: 100_000_000n, heartbeatTimeoutMs: 60_000 }, OTHER_SESSION)]);
  const history = [...outcome.stream, beat('11:01', OTHER_SESSION), stopped('11:02', 'user', OTHER_SESSION)];
  const ledger = accrue(history);
  t.same(
    ledger.sessions.map((s) => [s.session.rateUnitsPerHour, s.session.creditedMs]),
    [[25_000_000n, 120_000], [100_000_000n, 120_000]],
  );
  t.equal(ledger.balanceUnits, 833_333n + 3_333_333n, 'each session at the rate it started with');
  t.same(accrue(first).balanceUnits, 833_333n, 'the first session replays as before the change');

  // The settings recorded at start govern the session, not those of later commands.
  const third = given(history, started('12:00', { heartbeatTimeoutMs: 60_000 }, THIRD_SESSION))
    .when(start('12:01:30', { heartbeatTimeoutMs: T }));
  third.then([stopped('12:01', 'timeout', THIRD_SESSION), started('12:01:30', {}, OTHER_SESSION)]);
});
