// The incident: the job that should stop sessions did not run. Here the sweeper is down across
// many deadlines; when it starts, every overdue session is stopped at its own deadline, however
// long ago, and no balance moves.
import t from 'tap';
import { START, T, user, world } from './helpers.js';

t.test('worked example 1: offline since 09:00, the sweeper starts at 21:44 and stops the session at 09:05', async (t) => {
  const w = await world(t);
  await w.api.execute('fabian', { type: 'start' }, user());
  for (let at = 30_000; at <= 3_600_000; at += 30_000) {
    w.clock.set(START + at);
    await w.api.execute('fabian', { type: 'heartbeat' }, user());
  }
  const before = await w.balance('fabian');
  w.clock.set(START + 13 * 3_600_000 + 44 * 60_000);
  const sweeper = await w.sweeper();
  t.equal(sweeper.stats().overdue, 1);
  t.equal(await sweeper.sweepOnce(), 1);
  t.same((await w.stops('fabian')).map((s) => [new Date(s.at).toISOString(), s.reason]), [['2026-01-01T09:05:00.000Z', 'timeout']]);
  t.equal(before, 25_000_000n, '"0.25000000"');
  t.equal(await w.balance('fabian'), before, 'the 12 h 44 min offline add nothing');
});

t.test('down across many deadlines: every stop at its own deadline, no balance changed by the sweep', async (t) => {
  const w = await world(t);
  const expected = new Map<string, { at: number; reason: string } | null>();
  const byUser = (account: string) => Number(account.slice('miner-'.length)) % 5 === 0;
  // 60 accounts: some never heartbeat, some heartbeat a while, some stop themselves, some run into M.
  for (let i = 0; i < 60; i++) {
    const account = `miner-${i}`;
    const startedAt = START + i * 61_000;
    w.settings.maxSessionMs = i % 4 === 3 ? 600_000 : 0;
    w.clock.set(startedAt);
    await w.api.execute(account, { type: 'start' }, user());
    // Within M: a heartbeat after start + M would itself record the stop.
    const heartbeats = Math.min((i * 7) % 23, i % 4 === 3 ? 20 : 22);
    for (let k = 1; k <= heartbeats; k++) {
      w.clock.set(startedAt + k * 30_000);
      await w.api.execute(account, { type: 'heartbeat' }, user());
    }
    const lastPresence = startedAt + heartbeats * 30_000;
    if (byUser(account)) {
      w.clock.set(lastPresence + 10_000);
      const answer = await w.api.execute(account, { type: 'stop' }, user());
      expected.set(account, answer.session!.reason === 'user' ? null : { at: answer.session!.stoppedAt!, reason: answer.session!.reason! });
      continue;
    }
    const maxEnd = i % 4 === 3 ? startedAt + 600_000 : Infinity;
    const deadline = Math.min(lastPresence + T, maxEnd);
    expected.set(account, { at: deadline, reason: deadline === maxEnd ? 'max_duration' : 'timeout' });
  }
  // One more account keeps mining throughout: it must not be touched.
  w.settings.maxSessionMs = 0;
  const outageEnd = START + 30 * 86_400_000;
  w.clock.set(outageEnd - 1000);
  await w.api.execute('still-here', { type: 'start' }, user());

  const balances = new Map<string, bigint>();
  for (const account of expected.keys()) balances.set(account, await w.balance(account));
  w.clock.set(outageEnd);
  const sweeper = await w.sweeper();
  const overdue = [...expected.keys()].filter((a) => !byUser(a)).length;
  t.same(sweeper.stats(), { activeSessions: overdue + 1, overdue, stops: 0 });
  t.equal(await sweeper.sweepOnce(), overdue);

  for (const [account, stop] of expected) {
    const stops = await w.stops(account);
    if (byUser(account)) {
      t.equal(stops.length, 1, `${account}: stopped by its user, not again by the sweeper`);
      t.not(stops[0]!.actor, 'sweeper:sweeper-test');
      continue;
    }
    t.same(stops.map((s) => ({ at: s.at, reason: s.reason })), [stop], `${account}: one stop at its deadline`);
    t.equal(stops[0]!.recordedAt, outageEnd, `${account}: recorded when the sweeper ran`);
    t.equal(await w.balance(account), balances.get(account), `${account}: balance unchanged by the sweep`);
  }
  t.same(await w.stops('still-here'), []);
  t.same(sweeper.stats(), { activeSessions: 1, overdue: 0, stops: overdue });
});
