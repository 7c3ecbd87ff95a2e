import t from 'tap';
import { parseShard, shardOf, ShardError, stableHash } from '../../src/sweeper/shard.js';
import { START, T, user, world } from './helpers.js';

t.test('--shard i/n: 0 <= i < n; anything else is refused with the reason', async (t) => {
  t.same(parseShard('0/1'), { index: 0, count: 1 });
  t.same(parseShard('3/4'), { index: 3, count: 4 });
  for (const bad of ['4/4', '-1/2', '1/0', 'a/b', '1', '', '1/2/3', '0.5/2', ' /2']) {
    t.throws(() => parseShard(bad), ShardError, JSON.stringify(bad));
  }
});

t.test('the account hash is stable: these assignments must never change between versions', async (t) => {
  t.equal(stableHash('alice'), 0x872213e7, '32-bit FNV-1a, as published');
  t.same(['alice', 'bob', 'fabian@bsn.com', 'acct-0', 'acct-1'].map((a) => shardOf(a, 7)), [6, 3, 2, 3, 5]);
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 4000; i++) counts[shardOf(`user-${i}`, 4)]!++;
  t.ok(counts.every((n) => n > 850 && n < 1150), `spread evenly: ${counts.join(', ')}`);
});

t.test('sweepers on shards 0/2 and 1/2 each stop only their own accounts, and together all of them', async (t) => {
  const w = await world(t);
  const accounts = Array.from({ length: 40 }, (_, i) => `acct-${i}`);
  await Promise.all(accounts.map((a) => w.api.execute(a, { type: 'start' }, user())));
  const zero = await w.sweeper({ shard: { index: 0, count: 2 }, sweeperId: 'shard-0' });
  const one = await w.sweeper({ shard: { index: 1, count: 2 }, sweeperId: 'shard-1' });
  const mine = accounts.filter((a) => shardOf(a, 2) === 0);
  t.same([zero.stats().activeSessions, one.stats().activeSessions], [mine.length, accounts.length - mine.length]);
  w.clock.set(START + T + 1);
  t.equal(await zero.sweepOnce(), mine.length);
  for (const account of accounts) {
    const stops = await w.stops(account);
    t.same(stops.map((s) => s.actor), shardOf(account, 2) === 0 ? ['sweeper:shard-0'] : [], account);
  }
  t.equal(await one.sweepOnce(), accounts.length - mine.length);
  t.same(await Promise.all(accounts.map(async (a) => (await w.stops(a)).length)), accounts.map(() => 1));
});
