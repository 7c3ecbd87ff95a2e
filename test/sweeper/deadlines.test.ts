import t from 'tap';
import { Registry } from 'prom-client';
import { START, T, startAll, user, world } from './helpers.js';

t.test('a session without heartbeats is stopped at start + T, recorded now, by the sweeper', async (t) => {
  const w = await world(t);
  await startAll(w, ['alice']);
  const sweeper = await w.sweeper();
  w.clock.set(START + T);
  t.equal(await sweeper.sweepOnce(), 0, 'exactly at the deadline the session is still on time');
  t.same(await w.stops('alice'), []);
  w.clock.set(START + T + 1);
  t.equal(await sweeper.sweepOnce(), 1);
  t.same(await w.stops('alice'), [{ at: START + T, reason: 'timeout', recordedAt: START + T + 1, actor: 'sweeper:sweeper-test' }]);
  t.equal(await sweeper.sweepOnce(), 0, 'a second pass finds nothing left to stop');
  t.same(sweeper.stats(), { activeSessions: 0, overdue: 0, stops: 1 });
});

t.test('a session with heartbeats is stopped at its last heartbeat + T, and keeps its balance', async (t) => {
  const w = await world(t);
  const sweeper = await w.sweeper();
  await startAll(w, ['bob']);
  for (let i = 0; i < 4; i++) {
    w.clock.advance(30_000);
    await w.api.execute('bob', { type: 'heartbeat' }, user());
  }
  const lastHeartbeat = START + 120_000;
  const balance = await w.balance('bob');
  t.equal(balance, 833_333n, '120 s credited at 0.25 tokens/h');
  w.clock.set(START + T + 1);
  t.equal(await sweeper.sweepOnce(), 0, "the start's deadline has passed, the heartbeats' has not");
  w.clock.set(lastHeartbeat + T + 1);
  t.equal(await sweeper.sweepOnce(), 1);
  t.same(await w.stops('bob'), [{ at: lastHeartbeat + T, reason: 'timeout', recordedAt: lastHeartbeat + T + 1, actor: 'sweeper:sweeper-test' }]);
  t.equal(await w.balance('bob'), balance, 'the sweep credits nothing');
});

t.test('a session that reaches its maximum length is stopped at start + M with reason max_duration', async (t) => {
  const M = 3_600_000;
  const w = await world(t, { maxSessionMs: M });
  const sweeper = await w.sweeper();
  await startAll(w, ['carol']);
  for (let at = 30_000; at <= M; at += 30_000) {
    w.clock.set(START + at);
    await w.api.execute('carol', { type: 'heartbeat' }, user());
  }
  t.equal(await sweeper.sweepOnce(), 0, 'at start + M exactly the session is still on time');
  w.clock.set(START + M + 1);
  t.equal(await sweeper.sweepOnce(), 1);
  t.same(await w.stops('carol'), [{ at: START + M, reason: 'max_duration', recordedAt: START + M + 1, actor: 'sweeper:sweeper-test' }]);
  t.equal(await w.balance('carol'), 25_000_000n, 'worked example 3: one hour credited');
});

t.test('the grace period delays the sweep, never the recorded stop', async (t) => {
  const w = await world(t, { sweepGraceMs: 2000 });
  await startAll(w, ['dave']);
  const sweeper = await w.sweeper();
  w.clock.set(START + T + 2000);
  t.equal(await sweeper.sweepOnce(), 0);
  t.equal(sweeper.stats().overdue, 1, 'past its deadline, within the grace: overdue, not yet swept');
  w.clock.set(START + T + 2001);
  t.equal(await sweeper.sweepOnce(), 1);
  t.same((await w.stops('dave')).map((s) => s.at), [START + T]);
});

t.test('sessions started while the sweeper runs are indexed from the live subscription', async (t) => {
  const w = await world(t);
  const sweeper = await w.sweeper();
  const accounts = Array.from({ length: 30 }, (_, i) => `live-${i}`);
  for (const [i, account] of accounts.entries()) {
    w.clock.set(START + i * 1000);
    await w.api.execute(account, { type: 'start' }, user());
  }
  w.clock.set(START + 9_000 + T + 1);
  t.equal(await sweeper.sweepOnce(), 10, 'the ten whose deadline passed, no more');
  t.same(sweeper.stats(), { activeSessions: 20, overdue: 0, stops: 10 });
  w.clock.set(START + 29_000 + T);
  t.equal(sweeper.stats().overdue, 19);
  for (const [i, account] of accounts.entries()) {
    const stops = await w.stops(account);
    t.same(stops.map((s) => s.at), i < 10 ? [START + i * 1000 + T] : [], account);
  }
});

t.test('metrics: active and overdue sessions, stops per reason, lag = recordedAt − at', async (t) => {
  const w = await world(t);
  const registry = new Registry();
  const sweeper = await w.sweeper({ registry });
  await startAll(w, ['a1', 'a2', 'a3']);
  w.clock.set(START + T + 1500);
  await sweeper.sweepOnce();
  await w.api.execute('a4', { type: 'start' }, user());
  // The lag is observed when the stops come back through the subscription; a pass first syncs with the store.
  t.equal(await sweeper.sweepOnce(), 0);
  const text = await registry.metrics();
  t.match(text, /mining_sweeper_stops_total\{reason="timeout"\} 3/);
  t.match(text, /mining_sweeper_stop_lag_seconds_bucket\{le="1"\} 0/);
  t.match(text, /mining_sweeper_stop_lag_seconds_bucket\{le="2"\} 3/);
  t.match(text, /mining_sweeper_stop_lag_seconds_sum 4\.5/);
  t.match(text, /mining_sweeper_active_sessions 1/);
  t.match(text, /mining_sweeper_overdue_sessions 0/);
});
