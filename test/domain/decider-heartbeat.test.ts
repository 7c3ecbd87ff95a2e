// SPEC §2, *heartbeat*: a presence point; past the deadline it finds the session over.
import t from 'tap';
import { HOUR, MINUTE, OTHER_SESSION, SESSION, T, beat, heartbeat, ms, started, stopped } from './fixtures.js';
import { specification } from './given.js';

t.test('no session: NOT_MINING, nothing recorded', async (t) => {
  const { given } = specification(t);
  given().when(heartbeat('10:00')).thenFails('NOT_MINING');
  given(started('09:00'), stopped('09:10', 'user')).when(heartbeat('10:00')).thenFails('NOT_MINING');
  given(started('09:00'), stopped('09:05', 'timeout')).when(heartbeat('09:04', { sessionId: SESSION })).thenFails('NOT_MINING');
});

t.test('on time: a Heartbeat at the server time, and its gap is credited', async (t) => {
  const { given } = specification(t);
  const outcome = given(started('10:00')).when(heartbeat('10:00:30')).then([beat('10:00:30')], { recorded: true });
  t.equal(outcome.state.active?.creditedMs, 30_000);
  t.equal(outcome.state.active?.lastHeartbeatAt, ms('10:00:30'));
});

t.test('a heartbeat exactly T after the last one is on time and its whole gap is credited', async (t) => {
  const { given } = specification(t);
  const outcome = given(started('10:00'), beat('10:01'))
    .when(heartbeat(ms('10:01') + T))
    .then([beat('10:06')], { recorded: true });
  t.equal(outcome.replay().creditedMs, MINUTE + T);
});

t.test('past the deadline: the timeout stop is recorded at the deadline and the heartbeat fails SESSION_EXPIRED', async (t) => {
  const { given } = specification(t);
  const outcome = given(started('10:00'), beat('10:01'))
    .when(heartbeat(ms('10:01') + T + 1))
    .thenFails('SESSION_EXPIRED', [stopped('10:06', 'timeout')]);
  t.equal(outcome.state.active, null, 'no session is active afterwards');
  t.equal(outcome.state.lastStopped?.reason, 'timeout');
  t.equal(outcome.replay().creditedMs, MINUTE, 'a timeout stop credits nothing after the last heartbeat');
});

t.test('past start + M: the stop says max_duration and the heartbeat fails SESSION_EXPIRED', async (t) => {
  const { given } = specification(t);
  given(started('10:00', { maxSessionMs: HOUR }), beat('10:58'))
    .when(heartbeat('11:00:00.001'))
    .thenFails('SESSION_EXPIRED', [stopped('11:00', 'max_duration')]);
});

t.test('a sessionId that is not the active one: SESSION_MISMATCH, nothing recorded', async (t) => {
  const { given } = specification(t);
  given(started('10:00')).when(heartbeat('10:00:30', { sessionId: OTHER_SESSION })).thenFails('SESSION_MISMATCH');
  given(started('10:00')).when(heartbeat('10:00:30', { sessionId: SESSION })).then([beat('10:00:30')], { recorded: true });
});

t.test('an expired session with a foreign sessionId: the expiry comes first (the stop is recorded either way)', async (t) => {
  const { given } = specification(t);
  given(started('10:00'))
    .when(heartbeat('10:30', { sessionId: OTHER_SESSION }))
    .thenFails('SESSION_EXPIRED', [stopped('10:05', 'timeout')]);
});

t.test('MIN_HEARTBEAT_INTERVAL_MS: a heartbeat too soon after the last presence point is acknowledged, not written', async (t) => {
  const { given } = specification(t);
  const min = 10_000;
  given(started('10:00'), beat('10:00:30')).when(heartbeat('10:00:39.999', { minHeartbeatIntervalMs: min })).thenNothing({ recorded: false });
  given(started('10:00'), beat('10:00:30')).when(heartbeat('10:00:40', { minHeartbeatIntervalMs: min })).then([beat('10:00:40')], { recorded: true });
  // Measured from the start when there has been no heartbeat yet.
  given(started('10:00')).when(heartbeat('10:00:05', { minHeartbeatIntervalMs: min })).thenNothing({ recorded: false });
  // A coalesced heartbeat does not move the deadline: the next on-time one still credits from the last written.
  const after = given(started('10:00'), beat('10:00:30')).when(heartbeat('10:00:35', { minHeartbeatIntervalMs: min }));
  t.equal(after.state.active?.lastPresenceAt, ms('10:00:30'));
});

t.test('duplicate heartbeats: with no minimum interval both are written and the second credits 0 ms', async (t) => {
  const { given } = specification(t);
  const outcome = given(started('10:00'), beat('10:00:30')).when(heartbeat('10:00:30')).then([beat('10:00:30')], { recorded: true });
  t.equal(outcome.replay().creditedMs, 30_000);
  t.equal(outcome.state.active?.heartbeats, 2);
  given(started('10:00'), beat('10:00:30')).when(heartbeat('10:00:30', { minHeartbeatIntervalMs: 1 })).thenNothing({ recorded: false });
});

t.test('a clock that went backwards: the heartbeat is recorded at the last event time, not before it', async (t) => {
  const { given } = specification(t);
  const outcome = given(started('10:00'), beat('10:01')).when(heartbeat('09:59')).then([beat('10:01')], { recorded: true });
  t.equal(outcome.replay().creditedMs, MINUTE, 'a backwards clock credits nothing extra and takes nothing away');
  // Floored to the last event, a backwards heartbeat is 0 ms after the last presence point: coalesced.
  given(started('10:00'), beat('10:01')).when(heartbeat('08:00', { minHeartbeatIntervalMs: 1 })).thenNothing({ recorded: false });
});
