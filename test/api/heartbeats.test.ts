// POST /v1/heartbeats (SPEC §9): one result per item in request order, each what the single route
// would answer; a body that breaks the schema writes nothing; only gateway and admin tokens.
import t from 'tap';
import type { RecordedEvent } from '../../src/store/port.js';
import { testApi, T0, type TestApi } from './helpers.js';

const iso = (ms: number) => new Date(ms).toISOString();
const OTHER_SESSION = '00000000-0000-7000-8000-000000000000';

function bulk(api: TestApi, heartbeats: unknown, headers: Record<string, string> = api.asRole('gateway')) {
  return api.inject({ method: 'POST', url: '/v1/heartbeats', headers, payload: { heartbeats } as object });
}

async function events(api: TestApi): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  for await (const event of api.store.readAll()) all.push(event);
  return all;
}

t.test('a mixed batch: each item answered as the single route would, in request order', async (t) => {
  const api = await testApi(t, { settings: { commandRateLimitPerMinute: 2 } });
  const expiring = (await api.command('expired', 'start')).json().session.sessionId as string;
  api.clock.advance(400_000);
  const alice = (await api.command('alice', 'start')).json().session.sessionId as string;
  await api.command('mismatch', 'start');
  await api.command('limited', 'start');
  await api.command('limited', 'heartbeat');
  const before = (await events(api)).length;
  api.clock.advance(30_000); // refills one of limited's two commands

  const res = await bulk(api, [
    { accountId: 'alice', sessionId: alice.toUpperCase() },
    { accountId: 'nobody' },
    { accountId: 'expired', sessionId: expiring },
    { accountId: 'mismatch', sessionId: OTHER_SESSION },
    { accountId: 'limited' },
    { accountId: 'limited' },
  ]);
  t.equal(res.statusCode, 200);
  const { results } = res.json();
  t.same(results.map((r: { accountId: string; status: number; code?: string }) => [r.accountId, r.status, r.code]), [
    ['alice', 200, undefined],
    ['nobody', 409, 'NOT_MINING'],
    ['expired', 409, 'SESSION_EXPIRED'],
    ['mismatch', 409, 'SESSION_MISMATCH'],
    ['limited', 200, undefined],
    ['limited', 429, 'RATE_LIMITED'],
  ]);
  const [ok, notMining, expired, mismatch, , limited] = results;
  t.equal(ok.recorded, true);
  t.equal(ok.session.sessionId, alice);
  t.equal(ok.session.lastHeartbeatAt, iso(T0 + 430_000), "the server's clock, not the client's");
  t.equal(ok.session.creditedMs, 30_000);
  t.notOk('session' in notMining, 'no session to report');
  t.equal(notMining.position, '0', 'an account without events');
  t.equal(expired.session.stoppedAt, iso(T0 + 300_000), 'stopped at its deadline');
  t.equal(expired.session.reason, 'timeout');
  t.equal(mismatch.session.stoppedAt, null);
  t.notOk('recorded' in mismatch);
  t.equal(limited.retryAfter, 30, 'seconds until the bucket of 2/min holds one command again');
  t.notOk('position' in limited, 'a refused item was not handled');

  const written = (await events(api)).slice(before);
  t.same(written.map((e) => [e.stream, e.type]), [['mining-alice', 'Heartbeat'], ['mining-expired', 'MiningStopped'], ['mining-limited', 'Heartbeat']],
    'heartbeats for alice and limited, and the timeout stop; nothing for the refused items');
  const positions = new Map(written.map((e) => [e.stream, e.position.toString()]));
  t.equal(ok.position, positions.get('mining-alice'));
  t.equal(expired.position, positions.get('mining-expired'), 'the stop the answer reports is in the store');
});

t.test('items of one account are applied in request order', async (t) => {
  const api = await testApi(t);
  const session = (await api.command('dup', 'start')).json().session.sessionId as string;
  api.clock.advance(1000);
  const res = await bulk(api, [
    { accountId: 'dup' },
    { accountId: 'dup', sessionId: OTHER_SESSION },
    { accountId: 'other' },
    { accountId: 'dup', sessionId: session },
  ]);
  const { results } = res.json();
  t.same(results.map((r: { status: number }) => r.status), [200, 409, 409, 200]);
  t.ok(BigInt(results[3].position) > BigInt(results[0].position), 'the later item of dup was written after the earlier one');
  const dupEvents = (await events(api)).filter((e) => e.stream === 'mining-dup');
  t.same(dupEvents.map((e) => [e.revision, e.type, e.position.toString()]), [
    [0n, 'MiningStarted', dupEvents[0]!.position.toString()],
    [1n, 'Heartbeat', results[0].position],
    [2n, 'Heartbeat', results[3].position],
  ]);

  // A late account: the first item records the stop and fails, the second finds nothing mining.
  await api.command('late', 'start');
  api.clock.advance(600_000);
  const late = (await bulk(api, [{ accountId: 'late' }, { accountId: 'late' }])).json().results;
  t.same(late.map((r: { code: string }) => r.code), ['SESSION_EXPIRED', 'NOT_MINING']);
  t.equal(late[1].position, late[0].position, "the second answers with the stream's last event: the stop");
});

t.test('duplicates under MIN_HEARTBEAT_INTERVAL_MS: the first is written, the rest acknowledged', async (t) => {
  const api = await testApi(t, { mining: { minHeartbeatIntervalMs: 10_000 } });
  await api.command('twice', 'start');
  api.clock.advance(15_000);
  const before = (await events(api)).length;
  const { results } = (await bulk(api, [{ accountId: 'twice' }, { accountId: 'twice' }, { accountId: 'twice' }])).json();
  t.same(results.map((r: { status: number; recorded: boolean }) => [r.status, r.recorded]), [[200, true], [200, false], [200, false]]);
  t.equal(results[1].position, results[0].position);
  t.equal((await events(api)).length, before + 1);
});

