// SPEC §2, *stop* and *expire*: a user stop is a presence point; an unattended session ends at its deadline.
import t from 'tap';
import { HOUR, MINUTE, SECOND, T, beat, beats, expire, ms, started, stop, stopped } from './fixtures.js';
import { specification } from './given.js';

t.test('stop without a session: NOT_MINING, nothing recorded', async (t) => {
  const { given } = specification(t);
  given().when(stop('10:00')).thenFails('NOT_MINING');
  given(started('09:00'), stopped('09:01', 'user')).when(stop('10:00')).thenFails('NOT_MINING');
});

t.test('user stop: recorded at the server time, and it credits its last gap', async (t) => {
  const { given } = specification(t);
  const outcome = given(started('10:00'), beat('10:01')).when(stop('10:03')).then([stopped('10:03', 'user')]);
  t.equal(outcome.state.active, null);
  t.equal(outcome.state.lastStopped?.stoppedAt, ms('10:03'));
  t.equal(outcome.replay().creditedMs, 3 * MINUTE);
  // Exactly at the deadline a stop is still the user's.
  given(started('10:00'), beat('10:01')).when(stop('10:06')).then([stopped('10:06', 'user')]);
});

t.test('stop past the deadline: the timeout stop at the deadline is recorded and returned, no error', async (t) => {
  const { given } = specification(t);
  const outcome = given(started('10:00'), beat('10:01')).when(stop('10:06:00.001')).then([stopped('10:06', 'timeout')]);
  t.equal(outcome.replay().creditedMs, MINUTE, 'nothing after the last heartbeat');
  t.equal(outcome.state.lastStopped?.reason, 'timeout');
});

t.test('stop past start + M: max_duration at start + M, nothing credited after the last heartbeat', async (t) => {
  const { given } = specification(t);
  const outcome = given(started('10:00', { maxSessionMs: 10 * MINUTE }), beats('10:00', '10:08'))
    .when(stop('10:12'))
    .then([stopped('10:10', 'max_duration')]);
  t.equal(outcome.replay().creditedMs, 8 * MINUTE, 'a max-duration stop is not a presence point');
});

t.test('a user stop exactly at start + M credits up to start + M', async (t) => {
  const { given } = specification(t);
  const outcome = given(started('10:00', { maxSessionMs: 10 * MINUTE }), beats('10:00', '10:08'))
    .when(stop('10:10'))
    .then([stopped('10:10', 'user')]);
  t.equal(outcome.replay().creditedMs, 10 * MINUTE);
});

t.test('a clock behind the stream: the stop is recorded at the last event time', async (t) => {
  const { given } = specification(t);
  const outcome = given(started('10:00'), beat('10:01')).when(stop('09:00')).then([stopped('10:01', 'user')]);
  t.equal(outcome.replay().creditedMs, MINUTE);
});

t.test('expire: nothing without a session or before deadline + SWEEP_GRACE_MS', async (t) => {
  const { given } = specification(t);
  given().when(expire('10:00')).thenNothing();
  given(started('09:00'), stopped('09:01', 'user')).when(expire('12:00')).thenNothing();
  const history = [started('10:00'), beat('10:01')];
  given(history).when(expire('10:06')).thenNothing();
  given(history).when(expire('10:06:02', 2 * SECOND)).thenNothing();
  given(history).when(expire('10:06:02.001', 2 * SECOND)).then([stopped('10:06', 'timeout')]);
  given(history).when(expire('10:06:00.001', 0)).then([stopped('10:06', 'timeout')]);
});

t.test('expire records the timeout stop at the deadline however late the sweeper is', async (t) => {
  const { given } = specification(t);
  const outcome = given(started('10:00'), beats('10:00', '10:30'))
    .when(expire('+1 10:00'))
    .then([stopped('10:35', 'timeout')]);
  t.equal(outcome.replay().creditedMs, 30 * MINUTE);
});

t.test('expire picks max_duration when the M bound binds, timeout when T does', async (t) => {
  const { given } = specification(t);
  const m = { maxSessionMs: HOUR };
  // Last heartbeat 10:50: lastPresence + T = 10:55 < 11:00 = start + M.
  given(started('10:00', m), beat('10:50')).when(expire('11:30')).then([stopped('10:55', 'timeout')]);
  // Last heartbeat 10:58: 11:03 > 11:00, so M binds.
  given(started('10:00', m), beat('10:58')).when(expire('11:30')).then([stopped('11:00', 'max_duration')]);
  // Both bounds fall on the same instant: max_duration, the bound that no heartbeat could have moved.
  given(started('10:00', m), beat(ms('11:00') - T)).when(expire('11:30')).then([stopped('11:00', 'max_duration')]);
  // A session whose M is shorter than T: ends at start + M even with no heartbeat at all.
  given(started('10:00', { maxSessionMs: MINUTE })).when(expire('10:01:02.001')).then([stopped('10:01', 'max_duration')]);
});

t.test('expire with a clock behind the stream decides as of the last event', async (t) => {
  const { given } = specification(t);
  given(started('10:00'), beat('10:01')).when(expire('09:00', 0)).thenNothing();
});
