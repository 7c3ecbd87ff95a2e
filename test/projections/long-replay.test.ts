// Streams longer than the port's first read replay through the embedded store's large pages on a
// worker thread; the ledger must be the same, call for call, as through the port alone.
import t from 'tap';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { uuidV7Generator, virtualClock } from '../../src/commands/clock.js';
import { encode, miningCodec, type MiningRecord } from '../../src/commands/codec.js';
import { streamOf, type MiningEvent } from '../../src/domain/events.js';
import { toIso } from '../../src/domain/time.js';
import { intervalWhy } from '../../src/projections/ledger/interval-why.js';
import { replayStream, type LedgerSink } from '../../src/projections/ledger/ledger.js';
import type { EventStore } from '../../src/store/port.js';
import { openSqliteStore, type SqliteEventStore } from '../../src/store/sqlite/store.js';

const json = (value: unknown) => JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));

/** Records every call a sink receives, so two replays can be compared exactly. */
async function ledgerOf(store: Pick<EventStore<MiningRecord>, 'readStream'>, account: string, until: bigint | null = null): Promise<string> {
  const calls: unknown[] = [];
  const sink: LedgerSink = {
    sessionStarted: (s) => calls.push(['start', json(s)]),
    interval: (i) => calls.push(['interval', i.from, i.to, i.ms, i.creditedMs, i.credited, intervalWhy(i)]),
    sessionEnded: (s) => calls.push(['end', json(s)]),
  };
  try {
    const totals = await replayStream(store as EventStore<MiningRecord>, account, sink, until);
    return json({ calls, totals });
  } catch (error) {
    return json({ calls: calls.length, error: (error as Error).message });
  }
}

/** The same store seen only through the port: no path, so no fast path. */
const portOnly = (store: EventStore<MiningRecord>): Pick<EventStore<MiningRecord>, 'readStream'> => ({ readStream: store.readStream.bind(store) });

async function history(dir: string) {
  const store = await openSqliteStore({ codec: miningCodec, path: join(dir, 'events.db') });
  const clock = virtualClock(Date.UTC(2024, 0, 1));
  const ids = uuidV7Generator(clock);
  const context = { actor: { kind: 'user' as const, id: 'test' }, correlationId: 'long-replay' };
  const revisions = new Map<string, bigint>();
  const sessions = new Map<string, { id: string; beats: number }>();
  // Sessions of `beats` heartbeats; every fifth gap is longer than the timeout, every seventh session times out.
  async function add(account: string, count: number, beats: number): Promise<bigint> {
    const batch = [];
    for (let i = 0; i < count; i++) {
      const step = i % 5 === 4 ? 90_000 : 30_000;
      const at = toIso(clock.advance(step));
      const open = sessions.get(account);
      let event: MiningEvent;
      if (!open) {
        const id = ids.next();
        sessions.set(account, { id, beats: 0 });
        event = { type: 'MiningStarted', data: { sessionId: id, accountId: account, at, rateUnitsPerHour: '25000000', heartbeatTimeoutMs: 60_000, maxSessionMs: 0 } };
      } else if (open.beats === beats) {
        sessions.delete(account);
        const reason = (revisions.get(account) ?? 0n) % 7n === 0n ? 'timeout' : 'user';
        event = { type: 'MiningStopped', data: { sessionId: open.id, at, reason } };
      } else {
        open.beats++;
        event = { type: 'Heartbeat', data: { sessionId: open.id, at } };
      }
      batch.push(encode(event, ids.next(), at, context));
    }
    const result = await store.append(streamOf(account), batch, revisions.get(account) ?? 'no_stream');
    revisions.set(account, result.nextExpectedRevision);
    return result.position;
  }
  return { store, add };
}

t.test('a long stream replays the same through large pages as through the port', async (t) => {
  const { store, add } = await history(t.testdir());
  await add('exact', 1000, 40);
  await add('one-more', 1001, 40);
  const positions: bigint[] = [];
  for (let round = 0; round < 12; round++) {
    positions.push(await add('long', 250, 90));
    await add('other', 11, 4);
  }
  for (const account of ['exact', 'one-more', 'long', 'other', 'nobody']) {
    t.equal(await ledgerOf(store, account), await ledgerOf(portOnly(store), account), account);
  }
  for (const until of [positions[4]!, positions[7]! - 3n, positions[11]!]) {
    t.equal(await ledgerOf(store, 'long', until), await ledgerOf(portOnly(store), 'long', until), `until ${until}`);
  }
  const full = JSON.parse(await ledgerOf(store, 'long'));
  t.equal(full.totals.events, 3000);
  t.ok(full.calls.some((c: unknown[]) => c[0] === 'interval' && c[5] === false), 'gaps past the timeout are in the ledger, not credited');
  await store.close();
});

t.test('a tampered event deep in a long stream fails the replay with the same error as the port', async (t) => {
  const dir = t.testdir();
  const { store, add } = await history(dir);
  await add('long', 2600, 50);
  const db = new Database(join(dir, 'events.db'));
  db.prepare("UPDATE events SET data = json_set(data, '$.at', 'yesterday') WHERE stream = 'mining-long' AND revision = 1700").run();
  db.prepare("UPDATE events SET metadata = json_set(metadata, '$.schemaVersion', 2) WHERE stream = 'mining-long' AND revision = 2300").run();
  db.close();
  const fast = JSON.parse(await ledgerOf(store as SqliteEventStore<MiningRecord>, 'long'));
  const port = JSON.parse(await ledgerOf(portOnly(store), 'long'));
  t.match(fast.error, /mining-long@1700/);
  t.equal(fast.error, port.error);
  t.equal(JSON.parse(await ledgerOf(store, 'long', 1650n)).totals.events, 1650, 'a replay that stops before the damage succeeds');
  await store.close();
});
