// A clock set back behind a stream's last event: commands use the event's time (the clamp rule of
// SPEC §2), and each such command is counted in mining_commands_clamped_total{command} on /metrics
// (issue 9 item 14), so an operator sees that the clock went backwards.
import t from 'tap';
import { decide, initialState, stateOf } from '../../src/domain/decider.js';
import { testApi, T0 } from '../api/helpers.js';

async function clamped(api: Awaited<ReturnType<typeof testApi>>): Promise<Record<string, number>> {
  const text = (await api.inject({ method: 'GET', url: '/metrics' })).body;
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^mining_commands_clamped_total\{command="(\w+)"\} (\d+)$/gm)) counts[match[1]!] = Number(match[2]);
  return counts;
}

t.test('commands behind the last event are clamped and counted by command on /metrics', async (t) => {
  const api = await testApi(t);
  t.same(await clamped(api), { start: 0, heartbeat: 0, stop: 0, expire: 0 }, 'exported at zero before any clamp');
  t.equal((await api.command('alice', 'start')).statusCode, 201);
  api.clock.advance(60_000);
  t.equal((await api.command('alice', 'heartbeat')).statusCode, 200);
  t.same(await clamped(api), { start: 0, heartbeat: 0, stop: 0, expire: 0 }, 'a clock moving forward clamps nothing');

  api.clock.set(T0 + 60_000 - 30 * 60_000); // set back 30 minutes
  const beat = await api.command('alice', 'heartbeat');
  t.equal(beat.statusCode, 200, 'a heartbeat behind the last event still answers');
  t.equal(beat.json().session.lastHeartbeatAt, new Date(T0 + 60_000).toISOString(), "it is recorded at the last event's time");
  t.equal((await api.command('alice', 'stop')).statusCode, 200);
  t.same(await clamped(api), { start: 0, heartbeat: 1, stop: 1, expire: 0 });
  t.equal((await api.command('bob', 'start')).statusCode, 201, 'another stream has no last event to be behind');
  t.same(await clamped(api), { start: 0, heartbeat: 1, stop: 1, expire: 0 });
});

t.test('decide marks a clamped decision, and only that one (src/domain stays pure)', async (t) => {
  const started = decide(initialState, {
    type: 'start', accountId: 'a', now: 10_000, sessionId: 's', rateUnitsPerHour: 1n, heartbeatTimeoutMs: 60_000, maxSessionMs: 0,
  });
  t.notOk(started.clamped);
  const state = stateOf(started.events);
  t.notOk(decide(state, { type: 'heartbeat', now: 10_000, minHeartbeatIntervalMs: 0 }).clamped, 'the same time is not behind');
  const behind = decide(state, { type: 'heartbeat', now: 9_999, minHeartbeatIntervalMs: 0 });
  t.equal(behind.clamped, true);
  t.match(behind.events, [{ type: 'Heartbeat', data: { at: new Date(10_000).toISOString() } }]);
});
