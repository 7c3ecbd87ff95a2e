// The doctor's checks one by one, and the generic (port) store probe that EventStoreDB and
// PostgreSQL get — exercised here on the embedded store through the port.
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import t from 'tap';
import { loadConfig } from '../../src/config/config.js';
import { checkClock, checkConfiguration, checkDataDir, checkReadModel, checkStore, checkSweeper, runDoctor, sweeperSlackMs } from '../../src/ops/doctor.js';
import { cachedOverdueCount } from '../../src/ops/overdue.js';
import { openReadModelProbe } from '../../src/ops/read-model-probe.js';
import { meterAppends } from '../../src/ops/store-metrics.js';
import { openPortProbe, openStoreProbe, type StoreProbe } from '../../src/ops/store-probe.js';
import type { SessionAccrual } from '../../src/domain/session.js';
import { StoreUnavailableError, WrongExpectedRevisionError, type EventStore } from '../../src/store/port.js';
import { cli, user, writer } from './helpers.js';

const HOUR = 3_600_000;

t.test('through the port: store, lag, sweeper and a clock read from the read model', async (t) => {
  const dir = t.testdir();
  const w = await writer(t, dir, Date.now() - HOUR);
  await w.handler.execute('dead', { type: 'start' }, user());
  t.equal((await cli(['rebuild'], { DATA_DIR: dir, LOG_LEVEL: 'silent' })).code, 0);
  const config = loadConfig({ DATA_DIR: dir }, { readOnly: true });
  const store = await openPortProbe(config.eventStoreUrl);
  t.teardown(() => store.close());
  const readModel = openReadModelProbe(config.readModelPath)!;
  t.teardown(() => readModel.close());
  const input = { config, store, readModel, now: () => Date.now() };
  const results = await runDoctor(input);
  t.match(results.find((r) => r.name === 'store'), { status: 'ok', reason: /^sqlite store answers: last position 1$/ });
  t.match(results.find((r) => r.name === 'read model'), { status: 'ok', reason: /caught up at position 1/ });
  t.match(results.find((r) => r.name === 'clock'), { status: 'ok', reason: /read model's newest event \(this store is not read backwards\) is 3\d{3} s old/ });
  t.match(results.find((r) => r.name === 'sweeper'), { status: 'fail', reason: /^1 session is past/ });
  t.equal(await store.firstRecordedAfter(1n), undefined);
  t.type(await store.firstRecordedAfter(0n), 'number');
});

t.test('a stream newer in the store than in the read model is not counted overdue', async (t) => {
  const dir = t.testdir();
  const w = await writer(t, dir, Date.now() - HOUR);
  await w.handler.execute('a', { type: 'start' }, user());
  await w.handler.execute('b', { type: 'start' }, user());
  t.equal((await cli(['rebuild'], { DATA_DIR: dir, LOG_LEVEL: 'silent' })).code, 0);
  w.clock.set(Date.now());
  await w.handler.execute('a', { type: 'start' }, user()); // stops the old session, starts a new one
  const config = loadConfig({ DATA_DIR: dir }, { readOnly: true });
  const store = await openStoreProbe(config.eventStoreUrl);
  t.teardown(() => store.close());
  const readModel = openReadModelProbe(config.readModelPath)!;
  t.teardown(() => readModel.close());
  const result = await checkSweeper({ config, store, readModel, now: () => Date.now() });
  t.match(result, { status: 'fail', reason: /^1 session is past/ }, 'only b');
  const stopped = await checkSweeper({ config, store, readModel, now: () => Date.now() - HOUR });
  t.match(stopped, { status: 'ok', reason: /no session is past .* \(2 active\)/ }, 'an hour ago nothing was overdue yet');
});

t.test('checks that fail or warn on their own', async (t) => {
  const dir = t.testdir();
  const config = loadConfig({ DATA_DIR: dir, HEARTBEAT_INTERVAL_MS: '200000' }, { readOnly: true });
  t.match(checkConfiguration(config), { status: 'warn', reason: /more than half of HEARTBEAT_TIMEOUT_MS/ });
  t.equal(sweeperSlackMs(config), 2000 + 10 * 1000);
  const down: StoreProbe = {
    kind: 'esdb', head: () => new Promise(() => undefined), lastEvent: async () => undefined, firstRecordedAfter: async () => undefined,
    streamRevision: async () => 'no_stream', close: async () => undefined,
  };
  t.match((await checkStore({ config, store: down, readModel: undefined, now: Date.now, storeTimeoutMs: 20 })).result,
    { status: 'fail', reason: /esdb store does not answer: no answer within 20 ms/ });
  t.match((await checkStore({ config, store: new Error('ECONNREFUSED'), readModel: undefined, now: Date.now })).result,
    { status: 'fail', reason: /ECONNREFUSED/, action: /EVENT_STORE_URL/ });
  t.match(await checkReadModel({ config, store: new Error('down'), readModel: new Error('file is not a database'), now: Date.now }, undefined),
    { status: 'fail', reason: /cannot be read: file is not a database/, action: /rebuild/ });
  t.match(await checkClock({ config, store: down, readModel: undefined, now: Date.now }), { status: 'warn', reason: /cannot compare/ });

  const locked = join(dir, 'locked');
  mkdirSync(locked, { mode: 0o700 });
  t.match(checkDataDir({ ...config, dataDir: locked }), { status: 'ok', reason: /mode 700/ });
  chmodSync(locked, 0o755);
  t.match(checkDataDir({ ...config, dataDir: locked }), { status: 'warn', action: /chmod 700/ });
  t.match(checkDataDir({ ...config, dataDir: join(dir, 'absent') }), { status: 'fail', reason: /is not writable/ });
});

t.test('the overdue gauge without a sweeper counts from the read model and caches for maxAgeMs', async (t) => {
  let now = 10 * HOUR;
  const session = (accountId: string, lastPresenceAt: number): SessionAccrual => ({
    sessionId: `s-${accountId}`, accountId, startedAt: lastPresenceAt, rateUnitsPerHour: 1n, heartbeatTimeoutMs: 300_000, maxSessionMs: 0,
    lastPresenceAt, lastHeartbeatAt: null, heartbeats: 0, creditedMs: 0, stoppedAt: null, reason: null,
  });
  let sessions = Array.from({ length: 4500 }, (_, i) => session(`a${String(i).padStart(5, '0')}`, i < 3000 ? now - HOUR : now));
  let reads = 0;
  const pages = ({ afterAccountId, limit }: { afterAccountId?: string; limit: number }) => {
    reads++;
    return sessions.filter((s) => afterAccountId === undefined || s.accountId > afterAccountId).slice(0, limit);
  };
  const count = cachedOverdueCount({ pages, now: () => now, graceMs: 2000, maxAgeMs: 5000 });
  t.equal(await count(), 3000, 'paged over 4500 active sessions');
  t.equal(reads, 3);
  sessions = [];
  now += 1000;
  t.equal(await count(), 3000, 'cached');
  now += 5000;
  t.equal(await count(), 0, 'counted again');
});

t.test('store appends are timed by outcome', async (t) => {
  const registry = new Registry();
  let next: 'ok' | 'conflict' | 'unavailable' | 'boom' = 'ok';
  const fake = {
    async append() {
      if (next === 'conflict') throw new WrongExpectedRevisionError('mining-a', 'no_stream', 0n);
      if (next === 'unavailable') throw new StoreUnavailableError('disk full');
      if (next === 'boom') throw new Error('bug');
      return { nextExpectedRevision: 0n, position: 1n };
    },
  } as unknown as EventStore;
  const store = meterAppends(fake, registry);
  t.equal(meterAppends(store, registry), store, 'metering twice reuses the histogram');
  for (const outcome of ['ok', 'conflict', 'unavailable', 'boom'] as const) {
    next = outcome;
    await store.append('mining-a', [], 'any').catch(() => undefined);
  }
  const text = await registry.metrics();
  for (const outcome of ['ok', 'conflict', 'unavailable', 'error']) {
    t.match(text, new RegExp(`mining_store_append_duration_seconds_count\\{outcome="${outcome}"\\} [12]`), outcome);
  }
});
