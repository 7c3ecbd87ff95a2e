// Start-up from the read model: the index is seeded with its active sessions and follows the store
// from its checkpoint, so a year of heartbeats is not replayed; events the pages already include
// are applied again, harmlessly.
import t from 'tap';
import { accrue } from '../../src/domain/accrual.js';
import type { SessionAccrual } from '../../src/domain/session.js';
import type { EventStore, SubscribeOptions } from '../../src/store/port.js';
import type { MiningRecord } from '../../src/commands/codec.js';
import type { ActiveSessionSource } from '../../src/sweeper/follower.js';
import { START, T, user, world, type World } from './helpers.js';

/** The read model as the projector would have it at `position`, computed from the streams. */
async function readModelAt(w: World, accounts: string[], position: bigint): Promise<ActiveSessionSource & { pages: number }> {
  const active: SessionAccrual[] = [];
  for (const account of [...accounts].sort()) {
    const events = (await w.events(account)).filter((e) => e.position <= position).map((e) => e.event);
    const session = accrue(events).active?.session;
    if (session) active.push(session);
  }
  const source = {
    pages: 0,
    position: () => position,
    activeSessions({ afterAccountId, limit }: { afterAccountId?: string; limit: number }) {
      source.pages++;
      return active.filter((s) => afterAccountId === undefined || s.accountId > afterAccountId).slice(0, limit);
    },
  };
  return source;
}

function recordingFrom(store: EventStore<MiningRecord>): EventStore<MiningRecord> & { froms: SubscribeOptions['from'][] } {
  const recording = Object.create(store) as EventStore<MiningRecord> & { froms: SubscribeOptions['from'][] };
  recording.froms = [];
  recording.subscribeToAll = (options, handler) => {
    recording.froms.push(options.from);
    return store.subscribeToAll(options, handler);
  };
  return recording;
}

t.test('seeded from the read model, then followed from its checkpoint: deadlines as if replayed from the start', async (t) => {
  const w = await world(t);
  const accounts = ['ann', 'ben', 'cat', 'dan'];
  await Promise.all(accounts.map((a) => w.api.execute(a, { type: 'start' }, user())));
  w.clock.set(START + 60_000);
  await w.api.execute('ann', { type: 'heartbeat' }, user());
  await w.api.execute('dan', { type: 'stop' }, user());
  const head = await w.store.headPosition();
  const readModel = await readModelAt(w, accounts, head === 'start' ? 0n : head);
  // After the checkpoint: ben heartbeats, cat stops, eve starts.
  w.clock.set(START + 120_000);
  await w.api.execute('ben', { type: 'heartbeat' }, user());
  await w.api.execute('cat', { type: 'stop' }, user());
  await w.api.execute('eve', { type: 'start' }, user());

  const store = recordingFrom(w.store);
  const sweeper = await w.sweeper({ store, readModel });
  t.same(store.froms, [head], 'followed from the checkpoint, not from the start');
  t.equal(readModel.pages, 1);
  t.same(sweeper.stats(), { activeSessions: 3, overdue: 0, stops: 0 }, 'ann, ben, eve');
  w.clock.set(START + 120_000 + T + 1);
  t.equal(await sweeper.sweepOnce(), 3);
  t.same((await w.stops('ann')).map((s) => s.at), [START + 60_000 + T]);
  t.same((await w.stops('ben')).map((s) => s.at), [START + 120_000 + T]);
  t.same((await w.stops('eve')).map((s) => s.at), [START + 120_000 + T]);
  t.same((await w.stops('cat')).map((s) => s.reason), ['user']);
});

t.test('a read model whose pages are ahead of its checkpoint converges once the backlog is applied', async (t) => {
  const w = await world(t);
  await w.api.execute('fay', { type: 'start' }, user());
  const checkpoint = await w.store.headPosition();
  w.clock.set(START + 200_000);
  await w.api.execute('fay', { type: 'heartbeat' }, user());
  const head = await w.store.headPosition();
  // Pages read after the projector applied the heartbeat, checkpoint read before it.
  const readModel = await readModelAt(w, ['fay'], head === 'start' ? 0n : head);
  readModel.position = () => (checkpoint === 'start' ? 0n : checkpoint);
  const sweeper = await w.sweeper({ readModel });
  w.clock.set(START + 200_000 + T);
  t.equal(await sweeper.sweepOnce(), 0);
  t.equal(sweeper.stats().overdue, 0);
  w.clock.set(START + 200_000 + T + 1);
  t.equal(await sweeper.sweepOnce(), 1);
  t.same((await w.stops('fay')).map((s) => s.at), [START + 200_000 + T]);
});
