// POST …/mining/start | heartbeat | stop: every success and domain error, values to the base unit.
import t from 'tap';
import { testApi, T0 } from './helpers.js';

const iso = (ms: number) => new Date(ms).toISOString();

t.test('start answers 201 with a new session, then 200 with the same session while mining', async (t) => {
  const api = await testApi(t);
  const first = await api.command('alice', 'start');
  t.equal(first.statusCode, 201);
  const body = first.json();
  t.equal(body.accountId, 'alice');
  t.match(body.position, /^[1-9][0-9]*$/);
  t.match(body.session.sessionId, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.same({ ...body.session, sessionId: 'x' }, {
    sessionId: 'x',
    startedAt: iso(T0),
    lastHeartbeatAt: null,
    deadline: iso(T0 + 300_000),
    stoppedAt: null,
    reason: null,
    ratePerHour: '0.25000000',
    heartbeatIntervalMs: 30_000,
    heartbeatTimeoutMs: 300_000,
    maxSessionMs: 0,
    creditedMs: 0,
    earned: '0.00000000',
    earnedUnits: '0',
  });

  api.clock.advance(10_000);
  const again = await api.command('alice', 'start');
  t.equal(again.statusCode, 200, 'already mining');
  t.equal(again.json().session.sessionId, body.session.sessionId);
  t.equal(again.json().position, body.position, 'nothing written: the stream\'s last position');
  t.equal(await api.eventCount(), 1);
});

t.test('heartbeats extend the deadline and credit the gaps; SPEC worked example 2 to the base unit', async (t) => {
  const api = await testApi(t);
  const started = (await api.command('bob', 'start')).json();
  api.clock.advance(30_000);
  const hb1 = await api.command('bob', 'heartbeat');
  t.equal(hb1.statusCode, 200);
  t.equal(hb1.json().recorded, true);
  t.equal(hb1.json().session.lastHeartbeatAt, iso(T0 + 30_000));
  t.equal(hb1.json().session.deadline, iso(T0 + 330_000));
  t.equal(hb1.json().session.creditedMs, 30_000);
  t.ok(BigInt(hb1.json().position) > BigInt(started.position));

  api.clock.advance(30_000);
  const hb2 = await api.command('bob', 'heartbeat', { sessionId: started.session.sessionId });
  t.equal(hb2.statusCode, 200, 'a heartbeat naming the active session');
  t.equal(hb2.json().session.creditedMs, 60_000);

  api.clock.advance(10_000);
  const stop = await api.command('bob', 'stop');
  t.equal(stop.statusCode, 200);
  const session = stop.json().session;
  t.equal(session.stoppedAt, iso(T0 + 70_000));
  t.equal(session.reason, 'user');
  t.equal(session.deadline, null, 'no deadline once stopped');
  t.equal(session.creditedMs, 70_000);
  t.equal(session.earnedUnits, '486111');
  t.equal(session.earned, '0.00486111');
  t.equal(await api.eventCount(), 4);
});

t.test('a heartbeat without an active session is 409 NOT_MINING, and so is a stop', async (t) => {
  const api = await testApi(t);
  for (const command of ['heartbeat', 'stop'] as const) {
    const res = await api.command('carol', command);
    t.equal(res.statusCode, 409);
    t.same(res.json(), { statusCode: 409, code: 'NOT_MINING', error: 'Conflict', message: 'account carol is not mining' });
  }
  t.equal(await api.eventCount(), 0);
});

t.test('a late heartbeat records the stop at the deadline and fails with SESSION_EXPIRED (SPEC example 1)', async (t) => {
  const api = await testApi(t);
  await api.command('dave', 'start');
  for (let i = 0; i < 120; i++) {
    api.clock.advance(30_000);
    t.equal((await api.command('dave', 'heartbeat')).statusCode, 200);
  }
  api.clock.set(Date.UTC(2026, 0, 1, 21, 44));
  const late = await api.command('dave', 'heartbeat');
  t.equal(late.statusCode, 409);
  t.equal(late.json().code, 'SESSION_EXPIRED');
  t.match(late.json().message, iso(Date.UTC(2026, 0, 1, 9, 5)));
  const last = await lastEvent(api);
  t.equal(last.type, 'MiningStopped', 'the stop is written although the request failed');
  t.same(last.data, { sessionId: (last.data as { sessionId: string }).sessionId, at: '2026-01-01T09:05:00.000Z', reason: 'timeout' });

  const again = await api.command('dave', 'heartbeat');
  t.equal(again.json().code, 'NOT_MINING');
});

t.test('a stop past the deadline answers the timeout stop at the deadline', async (t) => {
  const api = await testApi(t);
  await api.command('erin', 'start');
  api.clock.advance(60_000);
  await api.command('erin', 'heartbeat');
  api.clock.advance(3_600_000);
  const stop = await api.command('erin', 'stop');
  t.equal(stop.statusCode, 200);
  t.equal(stop.json().session.reason, 'timeout');
  t.equal(stop.json().session.stoppedAt, iso(T0 + 360_000));
  t.equal(stop.json().session.creditedMs, 60_000);
  t.equal(stop.json().session.earnedUnits, '416666');
});

t.test('a start after an unswept expiry stops the old session at its deadline and answers 201', async (t) => {
  const api = await testApi(t);
  const old = (await api.command('fay', 'start')).json().session.sessionId;
  api.clock.advance(600_000);
  const res = await api.command('fay', 'start');
  t.equal(res.statusCode, 201);
  t.not(res.json().session.sessionId, old);
  t.equal(res.json().session.startedAt, iso(T0 + 600_000));
  t.equal(await api.eventCount(), 3);
});

t.test('a heartbeat naming another session is 409 SESSION_MISMATCH and writes nothing', async (t) => {
  const api = await testApi(t);
  await api.command('gus', 'start');
  const res = await api.command('gus', 'heartbeat', { sessionId: '00000000-0000-7000-8000-000000000000' });
  t.equal(res.statusCode, 409);
  t.equal(res.json().code, 'SESSION_MISMATCH');
  t.equal(await api.eventCount(), 1);
});

t.test('heartbeats under MIN_HEARTBEAT_INTERVAL_MS are acknowledged without writing', async (t) => {
  const api = await testApi(t, { mining: { minHeartbeatIntervalMs: 20_000 } });
  const started = (await api.command('hal', 'start')).json();
  api.clock.advance(5_000);
  const res = await api.command('hal', 'heartbeat');
  t.equal(res.statusCode, 200);
  t.equal(res.json().recorded, false);
  t.equal(res.json().position, started.position, 'the stream\'s last event');
  t.equal(res.json().session.lastHeartbeatAt, null);
  t.equal(await api.eventCount(), 1);
});

t.test('command bodies: none, empty, or {} are the same; heartbeat takes only sessionId', async (t) => {
  const api = await testApi(t);
  const headers = api.as('ivy');
  const post = (command: string, extra: object) =>
    api.inject({ method: 'POST', url: `/v1/accounts/ivy/mining/${command}`, headers: { ...headers, ...(extra as Record<string, string>) }, ...extra });
  t.equal((await post('start', { headers: { ...headers, 'content-type': 'application/json' }, payload: '' })).statusCode, 201);
  t.equal((await post('heartbeat', {})).statusCode, 200, 'no content-type, no body');
  t.equal((await post('heartbeat', { headers: { ...headers, 'content-type': 'application/json' }, payload: '' })).statusCode, 200, 'empty JSON body');
  t.equal((await post('heartbeat', { payload: {} })).statusCode, 200, '{}');
  const unknown = await post('heartbeat', { payload: { sessionId: undefined, extra: 1 } });
  t.equal(unknown.statusCode, 400);
  t.equal(unknown.json().code, 'VALIDATION_FAILED');
  const wrongType = await post('heartbeat', { payload: { sessionId: 42 } });
  t.equal(wrongType.json().code, 'VALIDATION_FAILED');
  const startField = await post('stop', { payload: { reason: 'user' } });
  t.equal(startField.statusCode, 400, 'stop takes no fields');
  t.equal((await post('stop', { payload: {} })).statusCode, 200);
});

async function lastEvent(api: Awaited<ReturnType<typeof testApi>>) {
  let last;
  for await (const event of api.store.readAll()) last = event;
  return last!;
}
