// The auditor's ledger: replayed from the store with the domain's accrual, interval by interval,
// and set beside the projection.
import t, { type Test } from 'tap';
import Database from 'better-sqlite3';
import { encode } from '../../src/commands/codec.js';
import { streamOf, type MiningEvent } from '../../src/domain/events.js';
import { toIso } from '../../src/domain/time.js';
import { auditAccount, ProjectionLagError } from '../../src/projections/ledger/audit.js';
import { startProjector } from '../../src/projections/projector/projector.js';
import { openReadModel } from '../../src/projections/read-model/sqlite-read-model.js';
import { DAY0, HOUR, mine, MINUTE, SECOND, world, type World } from './helpers.js';

async function projected(t: Test, w: World) {
  const projector = await startProjector({ store: w.store, readModelPath: w.readModelPath });
  t.teardown(() => projector.stop());
  await projector.caughtUp;
  return projector;
}

t.test('the incident ledger: 120 credited heartbeat gaps, then the offline stretch to the deadline uncredited', async (t) => {
  const w = await world(t);
  await mine(w, 'alice', 60, 'offline');
  const { readModel } = await projected(t, w);
  const ledger = await auditAccount({ store: w.store, readModel, accountId: 'alice' });
  t.match(ledger, {
    accountId: 'alice', streamRevision: '121', events: 122, creditedMs: HOUR,
    replayedBalanceUnits: '25000000', projectedBalanceUnits: '25000000', matches: true, differences: [],
  });
  t.equal(ledger.sessions.length, 1);
  const [session] = ledger.sessions;
  t.match(session, {
    startedAt: toIso(DAY0), stoppedAt: toIso(DAY0 + HOUR + 5 * MINUTE), reason: 'timeout', ratePerHour: '0.25000000',
    heartbeatTimeoutMs: 300_000, maxSessionMs: 0, heartbeats: 120, creditedMs: HOUR, earnedUnits: '25000000',
  });
  t.equal(session!.intervals.length, 121);
  t.same(session!.intervals[0], {
    from: toIso(DAY0), to: toIso(DAY0 + 30 * SECOND), ms: 30_000, credited: true, creditedMs: 30_000, why: 'heartbeat within timeout 5m',
  });
  t.same(session!.intervals[120], {
    from: toIso(DAY0 + HOUR), to: toIso(DAY0 + HOUR + 5 * MINUTE), ms: 300_000, credited: false, creditedMs: 0,
    why: 'no heartbeat within timeout 5m: offline until the deadline, not credited',
  });
});

t.test('a user stop credits its last gap: worked example 2 earns 0.00486111', async (t) => {
  const w = await world(t);
  await w.run('alice', { type: 'start' });
  w.clock.advance(30 * SECOND);
  await w.run('alice', { type: 'heartbeat' });
  w.clock.advance(30 * SECOND);
  await w.run('alice', { type: 'heartbeat' });
  w.clock.advance(10 * SECOND);
  await w.run('alice', { type: 'stop' });
  const { readModel } = await projected(t, w);
  const ledger = await auditAccount({ store: w.store, readModel, accountId: 'alice' });
  t.equal(ledger.sessions[0]!.creditedMs, 70_000);
  t.equal(ledger.sessions[0]!.earnedUnits, '486111');
  t.same(ledger.sessions[0]!.intervals.map((i) => [i.ms, i.credited, i.why]), [
    [30_000, true, 'heartbeat within timeout 5m'],
    [30_000, true, 'heartbeat within timeout 5m'],
    [10_000, true, 'user stop within timeout 5m'],
  ]);
  t.equal(ledger.replayedBalanceUnits, '486111');
});

/** Appends events straight to the store, as a legacy import could have written them. */
async function appendRaw(w: World, accountId: string, events: MiningEvent[]): Promise<void> {
  const context = { actor: { kind: 'gateway' as const, id: 'import' }, correlationId: 'import' };
  const encoded = events.map((event, i) => encode(event, `0190f0e0-0000-7000-8000-${String(i).padStart(12, '0')}`, event.data.at, context));
  await w.store.append(streamOf(accountId), encoded, 'no_stream');
}

t.test('a gap longer than the timeout is explained and credits nothing', async (t) => {
  const w = await world(t);
  const sessionId = '0190f0e0-0000-7000-8000-0000000000aa';
  await appendRaw(w, 'bob', [
    { type: 'MiningStarted', data: { sessionId, accountId: 'bob', at: toIso(DAY0), rateUnitsPerHour: '25000000', heartbeatTimeoutMs: 300_000, maxSessionMs: 0 } },
    { type: 'Heartbeat', data: { sessionId, at: toIso(DAY0 + 30 * SECOND) } },
    { type: 'Heartbeat', data: { sessionId, at: toIso(DAY0 + 30 * SECOND + 12 * HOUR + 44 * MINUTE) } },
    { type: 'MiningStopped', data: { sessionId, at: toIso(DAY0 + 60 * SECOND + 12 * HOUR + 44 * MINUTE), reason: 'user' } },
  ]);
  const { readModel } = await projected(t, w);
  const ledger = await auditAccount({ store: w.store, readModel, accountId: 'bob' });
  t.same(ledger.sessions[0]!.intervals.map((i) => [i.ms, i.credited, i.why]), [
    [30_000, true, 'heartbeat within timeout 5m'],
    [45_840_000, false, 'gap 12h44m > timeout 5m: offline, not credited'],
    [30_000, true, 'user stop within timeout 5m'],
  ]);
  t.equal(ledger.sessions[0]!.creditedMs, 60_000);
  t.equal(ledger.matches, true);
});

t.test('an unknown account replays as no sessions and balance 0, matching', async (t) => {
  const w = await world(t);
  await mine(w, 'alice', 1, 'stop');
  const { readModel } = await projected(t, w);
  const ledger = await auditAccount({ store: w.store, readModel, accountId: 'nobody' });
  t.same(ledger, {
    accountId: 'nobody', streamRevision: null, events: 0, sessions: [], adjustments: [], adjustedUnits: '0', creditedMs: 0,
    replayedBalanceUnits: '0', projectedBalanceUnits: '0', projectedPosition: '0', matches: true, differences: [],
    chain: { chained: 0, unchained: 0, broken: null },
  });
});

t.test('a read model that was tampered with does not match, and says where', async (t) => {
  const w = await world(t);
  await mine(w, 'alice', 2, 'stop');
  const { readModel } = await projected(t, w);
  const db = new Database(w.readModelPath);
  db.prepare("UPDATE accounts SET balance_units = balance_units + 1 WHERE account_id = 'alice'").run();
  db.close();
  const ledger = await auditAccount({ store: w.store, readModel, accountId: 'alice' });
  t.equal(ledger.matches, false);
  t.equal(BigInt(ledger.projectedBalanceUnits) - BigInt(ledger.replayedBalanceUnits), 1n);
  t.same(ledger.differences, [`balanceUnits: replayed ${ledger.replayedBalanceUnits}, projected ${ledger.projectedBalanceUnits}`]);
});

t.test('a projection that stays behind is a ProjectionLagError, not a mismatch', async (t) => {
  const w = await world(t);
  const projector = await projected(t, w);
  await projector.stop();
  await mine(w, 'alice', 1, 'stop');
  const follower = openReadModel(w.readModelPath);
  t.teardown(() => follower.close());
  await t.rejects(auditAccount({ store: w.store, readModel: follower, accountId: 'alice', catchUpTimeoutMs: 20 }), ProjectionLagError);
});
