// GET /v1/accounts/:accountId, …/sessions, …/audit and ?minPosition= read-your-writes.
import { join } from 'node:path';
import t from 'tap';
import { Registry } from 'prom-client';
import { buildApp } from '../../src/api/app.js';
import { startProjector } from '../../src/projections/projector/projector.js';
import { openReadModel } from '../../src/projections/read-model/sqlite-read-model.js';
import { SECRET, T0, testApi, type TestApi } from './helpers.js';

const iso = (ms: number) => new Date(ms).toISOString();

async function read(api: TestApi, accountId: string, path = '', query = '') {
  return api.inject({ method: 'GET', url: `/v1/accounts/${accountId}${path}${query}`, headers: api.as(accountId) });
}

t.test('an unknown account reads as zeros', async (t) => {
  const api = await testApi(t);
  const res = await read(api, 'nobody');
  t.equal(res.statusCode, 200);
  t.same(res.json(), {
    accountId: 'nobody', balance: '0.00000000', balanceUnits: '0', creditedMs: 0, mining: false, session: null, position: '0',
  });
  const sessions = await read(api, 'nobody', '/sessions');
  t.same(sessions.json(), { sessions: [], nextCursor: null });
});

t.test('a client reads its own write with ?minPosition=, and mining follows the deadline', async (t) => {
  const api = await testApi(t);
  const started = (await api.command('alice', 'start')).json();
  api.clock.advance(30_000);
  const hb = (await api.command('alice', 'heartbeat')).json();
  const res = await read(api, 'alice', '', `?minPosition=${hb.position}`);
  t.equal(res.statusCode, 200);
  const body = res.json();
  t.equal(body.position, hb.position, 'the account\'s last applied event');
  t.equal(body.mining, true);
  t.equal(body.creditedMs, 30_000);
  t.equal(body.balanceUnits, '208333', 'floor(30,000 × 25,000,000 / 3,600,000)');
  t.equal(body.balance, '0.00208333');
  t.equal(body.session.sessionId, started.session.sessionId);
  t.equal(body.session.deadline, iso(T0 + 330_000));
  t.equal(body.session.heartbeatIntervalMs, 30_000);

  api.clock.advance(300_000);
  const onTime = (await read(api, 'alice')).json();
  t.equal(onTime.mining, true, 'exactly at the deadline is on time');
  api.clock.advance(1);
  const late = (await read(api, 'alice')).json();
  t.equal(late.mining, false, 'past the deadline, not swept yet: not mining');
  t.equal(late.session.sessionId, started.session.sessionId, 'the projection still holds the session');
});

t.test('after a stop the account has no session and keeps the balance', async (t) => {
  const api = await testApi(t);
  await api.command('bob', 'start');
  api.clock.advance(30_000);
  await api.command('bob', 'heartbeat');
  api.clock.advance(30_000);
  await api.command('bob', 'heartbeat');
  api.clock.advance(10_000);
  const stop = (await api.command('bob', 'stop')).json();
  const body = (await read(api, 'bob', '', `?minPosition=${stop.position}`)).json();
  t.same(body, {
    accountId: 'bob', balance: '0.00486111', balanceUnits: '486111', creditedMs: 70_000, mining: false, session: null, position: stop.position,
  });
});

t.test('sessions: newest first, paginated by cursor, limits 1–100', async (t) => {
  const api = await testApi(t);
  const ids: string[] = [];
  let position = '0';
  for (let i = 0; i < 5; i++) {
    ids.push((await api.command('carol', 'start')).json().session.sessionId);
    api.clock.advance(1000 * (i + 1));
    position = (await api.command('carol', 'stop')).json().position;
  }
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query: string = `?limit=2&minPosition=${position}${cursor ? `&cursor=${cursor}` : ''}`;
    const res = await read(api, 'carol', '/sessions', query);
    t.equal(res.statusCode, 200);
    const page = res.json();
    t.ok(page.sessions.length <= 2);
    for (const s of page.sessions) {
      seen.push(s.sessionId);
      t.equal(s.reason, 'user');
      t.equal(s.deadline, null);
    }
    cursor = page.nextCursor;
    pages++;
  } while (cursor !== null);
  t.equal(pages, 3);
  t.same(seen, [...ids].reverse());
  const first = (await read(api, 'carol', '/sessions')).json();
  t.equal(first.sessions.length, 5, 'default page size holds them all');
  t.equal(first.sessions[4].creditedMs, 1000);

  for (const query of ['?limit=0', '?limit=101', '?limit=abc', '?limit=1.5', '?cursor=bogus', '?cursor=', '?foo=1', '?minPosition=abc', '?minPosition=-1']) {
    const res = await read(api, 'carol', '/sessions', query);
    t.equal(res.statusCode, 400, query);
    t.equal(res.json().code, 'VALIDATION_FAILED', query);
  }
});

t.test('minPosition beyond the store\'s last position is 400; behind after the wait is 503', async (t) => {
  const api = await testApi(t);
  const started = (await api.command('dave', 'start')).json();
  const beyond = await read(api, 'dave', '', `?minPosition=${BigInt(started.position) + 1n}`);
  t.equal(beyond.statusCode, 400);
  t.equal(beyond.json().code, 'VALIDATION_FAILED');
  t.equal((await read(api, 'dave', '', '?minPosition=0')).statusCode, 200);
  t.equal((await read(api, 'dave', '', '?minPosition=99999999999999999999')).statusCode, 400);

  // A follower of a read model that no projector moves any more: it can never catch up.
  const stalePath = join(api.dir, 'stale.db');
  const stale = await startProjector({ store: api.store, readModelPath: stalePath });
  await stale.caughtUp;
  await stale.stop();
  const follower = openReadModel(stalePath);
  const frozen = await buildApp({
    settings: { heartbeatIntervalMs: 30_000, commandRateLimitPerMinute: 0, readWaitMs: 50 },
    store: api.store, handler: api.handler, readModel: follower, audit: async () => ({}), clock: api.clock,
    secret: SECRET, registry: new Registry(),
  });
  t.teardown(async () => {
    await frozen.close();
    follower.close();
  });
  api.clock.advance(1000);
  const hb = (await api.command('dave', 'heartbeat')).json();
  const behind = await frozen.inject({ method: 'GET', url: `/v1/accounts/dave?minPosition=${hb.position}`, headers: api.as('dave') });
  t.equal(behind.statusCode, 503);
  t.equal(behind.json().code, 'UNAVAILABLE');
  t.equal(behind.headers['retry-after'], '1');
  const ready = await frozen.inject({ method: 'GET', url: '/readyz' });
  t.equal(ready.statusCode, 200, 'a lag of one event is within the readiness bound');
});

t.test('audit: the ledger replayed from the stream, interval by interval, beside the projection', async (t) => {
  const api = await testApi(t);
  await api.command('erin', 'start');
  api.clock.advance(30_000);
  await api.command('erin', 'heartbeat');
  api.clock.advance(400_000);
  t.equal((await api.command('erin', 'heartbeat')).json().code, 'SESSION_EXPIRED');
  const res = await api.inject({ method: 'GET', url: '/v1/accounts/erin/audit', headers: api.asRole('auditor') });
  t.equal(res.statusCode, 200);
  const ledger = res.json();
  t.equal(ledger.accountId, 'erin');
  t.equal(ledger.streamRevision, '2');
  t.equal(ledger.replayedBalanceUnits, '208333');
  t.equal(ledger.projectedBalanceUnits, '208333');
  t.equal(ledger.matches, true);
  t.equal(ledger.sessions.length, 1);
  const [session] = ledger.sessions;
  t.equal(session.reason, 'timeout');
  t.equal(session.stoppedAt, iso(T0 + 330_000));
  t.same(session.intervals.map((i: { from: string; to: string; credited: boolean; ms: number }) => [i.from, i.to, i.ms, i.credited]), [
    [iso(T0), iso(T0 + 30_000), 30_000, true],
    [iso(T0 + 30_000), iso(T0 + 330_000), 300_000, false],
  ]);
  t.ok(session.intervals.every((i: { why: string }) => i.why.length > 0), 'each interval says why');

  const unknown = await api.inject({ method: 'GET', url: '/v1/accounts/nobody/audit', headers: api.asRole('auditor') });
  t.equal(unknown.statusCode, 200);
  t.same({ ...unknown.json(), differences: [] }, {
    ...unknown.json(), sessions: [], replayedBalanceUnits: '0', projectedBalanceUnits: '0', matches: true, differences: [],
  });
});
