// End to end over a real socket: the API with the projector and the sweeper in process, on a
// virtual clock with a compressed timeout. A story of start, heartbeats, a timeout the sweeper
// closes, a second session and a user stop; balances checked to the base unit.
import { join } from 'node:path';
import t from 'tap';
import { Registry } from 'prom-client';
import { buildApp } from '../../src/api/app.js';
import { signToken } from '../../src/api/auth.js';
import { virtualClock, uuidV7Generator } from '../../src/commands/clock.js';
import { createCommandHandler } from '../../src/commands/handler.js';
import { auditAccount } from '../../src/projections/ledger/audit.js';
import { startProjector } from '../../src/projections/projector/projector.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { startSweeper } from '../../src/sweeper/sweeper.js';
import { SECRET, T0 } from './helpers.js';
import { miningCodec } from '../../src/commands/codec.js';

// 3.6 tokens per hour = 100 base units per millisecond; the timeout is 2 s.
const SETTINGS = { rateUnitsPerHour: 360_000_000n, heartbeatTimeoutMs: 2000, maxSessionMs: 0, minHeartbeatIntervalMs: 0, sweepGraceMs: 0 };

t.test('start, heartbeats, timeout closed by the sweeper, restart, user stop: over HTTP, to the base unit', async (t) => {
  const dir = t.testdir();
  const store = await openSqliteStore({ codec: miningCodec, path: join(dir, 'events.db') });
  const clock = virtualClock(T0);
  const handler = createCommandHandler({ store, clock, ids: uuidV7Generator(clock), settings: () => SETTINGS });
  const registry = new Registry();
  const projector = await startProjector({ store, readModelPath: join(dir, 'read.db'), registry });
  const sweeper = await startSweeper({ store, handler, clock, intervalMs: 0, graceMs: 0, registry });
  const readModel = projector.readModel;
  const app = await buildApp({
    settings: { heartbeatIntervalMs: 500, commandRateLimitPerMinute: 0 },
    store, handler, readModel, clock, secret: SECRET, registry, caughtUp: projector.caughtUp,
    audit: (accountId) => auditAccount({ store, readModel, accountId }),
  });
  t.teardown(async () => {
    await app.close();
    await sweeper.stop();
    await projector.stop();
    await store.close();
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const auth = { authorization: `Bearer ${signToken({ sub: 'miner-1', ttlSeconds: 3600 }, SECRET, clock.now())}` };
  const call = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
    const response = await fetch(`${base}/v1/accounts/miner-1${path}`, {
      method,
      headers: body === undefined ? auth : { ...auth, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };

  const start = await call('POST', '/mining/start');
  t.equal(start.status, 201);
  t.equal(start.body.session.heartbeatIntervalMs, 500);
  const sessionId = start.body.session.sessionId;
  for (const at of [1000, 2000, 3500]) {
    clock.set(T0 + at);
    const hb = await call('POST', '/mining/heartbeat', { sessionId });
    t.equal(hb.status, 200, `heartbeat at +${at}`);
    t.equal(hb.body.recorded, true);
  }

  // Offline. At +6000 the deadline (+5500) has passed; the sweeper records the stop at +5500.
  clock.set(T0 + 6000);
  const reading = await call('GET', '');
  t.equal(reading.body.mining, false, 'past the deadline reads as not mining before any sweep');
  await sweeper.caughtUp;
  t.equal(await sweeper.sweepOnce(), 1);
  const head = await store.headPosition();
  const afterSweep = await call('GET', `?minPosition=${head}`);
  t.same(afterSweep.body, {
    accountId: 'miner-1', balance: '0.00350000', balanceUnits: '350000', creditedMs: 3500, mining: false, session: null, position: String(head),
  });
  t.equal((await call('POST', '/mining/heartbeat')).body.code, 'NOT_MINING');

  clock.set(T0 + 7000);
  t.equal((await call('POST', '/mining/start')).status, 201);
  clock.set(T0 + 8000);
  await call('POST', '/mining/heartbeat');
  clock.set(T0 + 8500);
  const stop = await call('POST', '/mining/stop');
  t.equal(stop.status, 200);
  t.equal(stop.body.session.creditedMs, 1500);
  t.equal(stop.body.session.earnedUnits, '150000');

  const final = await call('GET', `?minPosition=${stop.body.position}`);
  t.equal(final.body.balanceUnits, '500000');
  t.equal(final.body.balance, '0.00500000');
  t.equal(final.body.creditedMs, 5000);

  const sessions = await call('GET', '/sessions');
  t.same(sessions.body.sessions.map((s: { reason: string; stoppedAt: string; earnedUnits: string }) => [s.reason, s.stoppedAt, s.earnedUnits]), [
    ['user', new Date(T0 + 8500).toISOString(), '150000'],
    ['timeout', new Date(T0 + 5500).toISOString(), '350000'],
  ]);
  const audit = await call('GET', '/audit');
  t.equal(audit.status, 200);
  t.equal(audit.body.matches, true);
  t.equal(audit.body.replayedBalanceUnits, '500000');

  const metrics = await (await fetch(`${base}/metrics`)).text();
  t.match(metrics, /mining_sweeper_stops_total\{reason="timeout"\} 1/, 'the sweeper\'s metrics share the registry');
  t.match(metrics, /mining_heartbeats_total\{recorded="true"\} 4/);
});
